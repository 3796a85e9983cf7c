//! The urgency norms' tables: each workspace's norms and its channels' (`workspace`,
//! `channel/<id>`), one record per flagged message (`<instant in ms>-<channel>-<n>`), and
//! per phrase the nudges it gave and the "Not a demand" marks (keyed by the phrase). Their
//! keys are written and read here only.

use std::collections::BTreeMap;

use super::{Store, StoreError, Table};
use crate::ids::{ChannelId, TeamId};
use crate::norms::feedback::PhraseFeedback;
use crate::norms::{ChannelNorms, FindingRecord, WorkspaceNorms};

/// Workspace and channel norms.
pub(crate) const NORMS_TABLE: &str = "norms";
/// One record per flagged message, keyed by instant.
pub(crate) const FINDINGS_TABLE: &str = "findings";
/// Per phrase, how many nudges it gave and how many were marked "Not a demand". No text,
/// channel or person.
pub(crate) const FEEDBACK_TABLE: &str = "phrase_feedback";

const WORKSPACE_KEY: &str = "workspace";

fn channel_key(channel: &ChannelId) -> String {
    format!("channel/{channel}")
}

/// The norms tables, opened together.
pub(crate) struct NormsTables {
    /// The `norms` table read as the workspace's record…
    workspace: Table<WorkspaceNorms>,
    /// …and as its channels' records.
    channels: Table<ChannelNorms>,
    findings: Table<FindingRecord>,
    feedback: Table<PhraseFeedback>,
}

impl NormsTables {
    pub(crate) fn open(store: &Store) -> Result<Self, StoreError> {
        Ok(NormsTables {
            workspace: store.table(NORMS_TABLE)?,
            channels: store.table(NORMS_TABLE)?,
            findings: store.table(FINDINGS_TABLE)?,
            feedback: store.table(FEEDBACK_TABLE)?,
        })
    }

    /// The workspace's norms, if they were ever set.
    pub(crate) fn workspace(&self, team: &TeamId) -> Result<Option<WorkspaceNorms>, StoreError> {
        self.workspace.get(team, WORKSPACE_KEY)
    }

    pub(crate) fn save_workspace(
        &self,
        team: &TeamId,
        norms: &WorkspaceNorms,
    ) -> Result<(), StoreError> {
        self.workspace.put(team, WORKSPACE_KEY, norms)
    }

    /// One channel's norms, if they were ever set.
    pub(crate) fn channel(
        &self,
        team: &TeamId,
        channel: &ChannelId,
    ) -> Result<Option<ChannelNorms>, StoreError> {
        self.channels.get(team, &channel_key(channel))
    }

    pub(crate) fn save_channel(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        norms: &ChannelNorms,
    ) -> Result<(), StoreError> {
        self.channels.put(team, &channel_key(channel), norms)
    }

    /// Stores one flagged message's record, beside any other of the same instant and channel.
    pub(crate) fn record_finding(
        &self,
        team: &TeamId,
        record: &FindingRecord,
    ) -> Result<(), StoreError> {
        let stamp = record.at.timestamp_millis().max(0);
        for n in 0u32.. {
            let key = format!("{stamp:013}-{}-{n}", record.channel);
            if self.findings.insert_if_absent(team, &key, record)? {
                break;
            }
        }
        Ok(())
    }

    /// Every finding record of a workspace, oldest first.
    pub(crate) fn findings(&self, team: &TeamId) -> Result<Vec<FindingRecord>, StoreError> {
        Ok(self
            .findings
            .scan(team, "")?
            .into_iter()
            .map(|(_, record)| record)
            .collect())
    }

    /// Every phrase's feedback in a workspace.
    pub(crate) fn feedback(
        &self,
        team: &TeamId,
    ) -> Result<BTreeMap<String, PhraseFeedback>, StoreError> {
        Ok(self.feedback.scan(team, "")?.into_iter().collect())
    }

    /// Changes one phrase's feedback atomically (a missing one starts empty), so two presses
    /// at once both count. Returns the record written.
    pub(crate) fn update_feedback(
        &self,
        team: &TeamId,
        phrase: &str,
        change: impl Fn(&mut PhraseFeedback),
    ) -> Result<PhraseFeedback, StoreError> {
        self.feedback
            .insert_if_absent(team, phrase, &PhraseFeedback::default())?;
        let written = self.feedback.update(team, phrase, |mut record| {
            change(&mut record);
            record
        })?;
        Ok(written.unwrap_or_default())
    }

    /// Deletes one phrase's feedback; returns what it was.
    pub(crate) fn remove_feedback(
        &self,
        team: &TeamId,
        phrase: &str,
    ) -> Result<Option<PhraseFeedback>, StoreError> {
        let Some(record) = self.feedback.get(team, phrase)? else {
            return Ok(None);
        };
        self.feedback.remove(team, phrase)?;
        Ok(Some(record))
    }
}

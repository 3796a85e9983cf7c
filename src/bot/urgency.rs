//! The urgency norms in the running bot: each workspace's norms and word list in the `norms`
//! table (its lexicon compiled once and kept in memory until the words change), the
//! per-sender cooldown that keeps a nudge from turning into nagging, and the records of
//! findings behind `/async stats`.
//!
//! Privacy: a finding record names the channel, the instant and the rules, never the sender
//! nor any text. The sender appears only in a cooldown entry, which is deleted once the
//! cooldown is over (when read, and in a sweep whenever a new one starts).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tracing::warn;

use crate::bot::Bot;
use crate::ids::{ChannelId, TeamId, UserId};
use crate::norms::feedback::{self, PhraseFeedback};
use crate::norms::settings::NUDGE_COOLDOWN;
use crate::norms::{ChannelNorms, Finding, FindingRecord, RuleId, UrgencyLexicon, WorkspaceNorms};
use crate::store::StoreError;
use crate::store::cooldowns::Cooldowns;
use crate::store::norms::NormsTables;

/// Each workspace's compiled lexicon. Compiling takes far longer than scanning a message,
/// so it happens once per workspace and again only when its words change.
#[derive(Default)]
pub(crate) struct LexiconCache {
    lexicons: Mutex<HashMap<TeamId, Arc<UrgencyLexicon>>>,
}

impl LexiconCache {
    fn get(&self, team: &TeamId) -> Option<Arc<UrgencyLexicon>> {
        self.lock().get(team).cloned()
    }

    fn put(&self, team: &TeamId, lexicon: Arc<UrgencyLexicon>) {
        self.lock().insert(team.clone(), lexicon);
    }

    /// Forgets a workspace's lexicon: the next message compiles its new list.
    pub(crate) fn forget(&self, team: &TeamId) {
        self.lock().remove(team);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TeamId, Arc<UrgencyLexicon>>> {
        self.lexicons.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Bot {
    fn norms_tables(&self) -> Result<NormsTables, StoreError> {
        NormsTables::open(&self.store)
    }

    /// The norms every channel of the workspace shares (defaults when none were set).
    pub(crate) fn workspace_norms(&self, team: &TeamId) -> Result<WorkspaceNorms, StoreError> {
        Ok(self.norms_tables()?.workspace(team)?.unwrap_or_default())
    }

    /// One channel's norms (defaults when none were set).
    pub(crate) fn channel_norms(
        &self,
        team: &TeamId,
        channel: &ChannelId,
    ) -> Result<ChannelNorms, StoreError> {
        Ok(self
            .norms_tables()?
            .channel(team, channel)?
            .unwrap_or_default())
    }

    /// Saves the workspace's norms and waits until they are on disk; a changed word list is
    /// compiled on the next message.
    pub(crate) async fn save_workspace_norms(
        &self,
        team: &TeamId,
        norms: &WorkspaceNorms,
    ) -> Result<(), StoreError> {
        self.norms_tables()?.save_workspace(team, norms)?;
        self.lexicons.forget(team);
        self.store.flush().await
    }

    /// Saves a channel's norms and waits until they are on disk.
    pub(crate) async fn save_channel_norms(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        norms: &ChannelNorms,
    ) -> Result<(), StoreError> {
        self.norms_tables()?.save_channel(team, channel, norms)?;
        self.store.flush().await
    }

    /// The workspace's compiled lexicon, from memory or compiled once from its word list.
    pub(crate) fn lexicon(&self, team: &TeamId) -> Result<Arc<UrgencyLexicon>, StoreError> {
        if let Some(lexicon) = self.lexicons.get(team) {
            return Ok(lexicon);
        }
        let norms = self.workspace_norms(team)?;
        let lexicon = match norms.lexicon() {
            Ok(lexicon) => lexicon,
            Err(e) => {
                // Lists are checked before they are saved; an import could still bring a bad one.
                warn!(team = %team, error = %e, "the workspace's urgency words do not compile; using the shipped list");
                UrgencyLexicon::with_defaults().unwrap_or_else(|_| {
                    unreachable!("the shipped word list is checked by the unit tests")
                })
            }
        };
        let lexicon = Arc::new(lexicon);
        self.lexicons.put(team, lexicon.clone());
        Ok(lexicon)
    }

    /// Whether `user` was nudged in `channel` less than [`NUDGE_COOLDOWN`] ago. An entry
    /// whose time is over is deleted here.
    pub(crate) fn nudge_cooling_down(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let cooldowns = Cooldowns::open(&self.store)?;
        match cooldowns.until(team, channel, user)? {
            Some(until) if until > now => Ok(true),
            Some(_) => {
                cooldowns.remove(team, channel, user)?;
                Ok(false)
            }
            None => Ok(false),
        }
    }

    /// Starts a cooldown for `user` in `channel`, and deletes the workspace's entries whose
    /// time is over, so senders are kept no longer than their cooldown.
    pub(crate) fn start_nudge_cooldown(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let cooldowns = Cooldowns::open(&self.store)?;
        cooldowns.remove_ended(team, now)?;
        cooldowns.start(team, channel, user, now + NUDGE_COOLDOWN)
    }

    /// Stores one flagged message's record.
    pub(crate) fn record_finding(
        &self,
        team: &TeamId,
        record: &FindingRecord,
    ) -> Result<(), StoreError> {
        self.norms_tables()?.record_finding(team, record)
    }

    /// Every phrase's nudges and "Not a demand" marks in a workspace.
    pub(crate) fn phrase_feedback(
        &self,
        team: &TeamId,
    ) -> Result<BTreeMap<String, PhraseFeedback>, StoreError> {
        self.norms_tables()?.feedback(team)
    }

    /// Counts a nudge about the phrase its button names.
    pub(crate) fn count_nudge(
        &self,
        team: &TeamId,
        findings: &[Finding],
    ) -> Result<(), StoreError> {
        if let Some((_, phrase)) = feedback::button_finding(findings) {
            self.norms_tables()?
                .update_feedback(team, &phrase, |f| f.nudged = f.nudged.saturating_add(1))?;
        }
        Ok(())
    }

    /// Records one press of "Not a demand" and waits until it is on disk. Returns whether
    /// the phrase is now muted in the workspace.
    pub(crate) async fn mark_not_a_demand(
        &self,
        team: &TeamId,
        rule: RuleId,
        phrase: &str,
    ) -> Result<bool, StoreError> {
        let record = self.norms_tables()?.update_feedback(team, phrase, |f| {
            let count = f.marked_wrong.entry(rule).or_default();
            *count = count.saturating_add(1);
        })?;
        self.store.flush().await?;
        Ok(record.is_muted())
    }

    /// Forgets the marks of these phrases, so a muted one nudges again
    /// (`/async norms keywords add`). Returns the phrases that were muted.
    pub(crate) fn restore_phrases(
        &self,
        team: &TeamId,
        phrases: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let tables = self.norms_tables()?;
        let mut restored = Vec::new();
        for phrase in phrases {
            let phrase = crate::norms::words::normalise(phrase);
            if tables
                .remove_feedback(team, &phrase)?
                .is_some_and(|record| record.is_muted())
            {
                restored.push(phrase);
            }
        }
        Ok(restored)
    }

    /// Every finding record of a workspace, oldest first.
    pub(crate) fn finding_records(&self, team: &TeamId) -> Result<Vec<FindingRecord>, StoreError> {
        self.norms_tables()?.findings(team)
    }
}

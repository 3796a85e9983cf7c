//! A workspace's and a member's data, as a whole: everything of a workspace is deleted when
//! the app is uninstalled or its token revoked; a member can see what the bot holds about
//! them (`/async my data`) and have it deleted (`/async forget me`); check-in answers are
//! deleted once their retention period after the report is over.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::bot::roles::{ManagerGrant, ROLES_TABLE};
use crate::bot::{Bot, HandleError};
use crate::ids::{TeamId, UserId};
use crate::metrics::Counter;
use crate::store::StoreError;
use crate::store::checkins::CheckinTables;
use crate::store::cooldowns::Cooldowns;
use crate::store::digests::DigestMarks;
use crate::store::reminders::Reminders;

/// How often answers past their retention are looked for.
const RETENTION_SWEEP_EVERY: TimeDelta = TimeDelta::hours(1);

/// What `/async forget me` deleted (or would delete).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MemberRecords {
    /// Working hours, time off and focus time (one record).
    pub(crate) hours: bool,
    pub(crate) manager_role: bool,
    pub(crate) answers: usize,
    /// "Remind me when they are back" reminders the member set, or that are about them.
    pub(crate) reminders: usize,
    /// Nudge cooldowns, digest marks and opt-out, the open DM check-in: small records that
    /// name the member.
    pub(crate) other: usize,
}

impl MemberRecords {
    pub(crate) fn is_empty(&self) -> bool {
        *self == MemberRecords::default()
    }
}

impl Bot {
    /// Deletes every record of `team` and what is cached of it in memory. Its check-ins and
    /// digests stop with their records: the runner finds no check-in to open, the digest no
    /// finding to report.
    pub(crate) fn forget_team(&self, team: &TeamId, why: &str) -> Result<(), HandleError> {
        // An organisation's org-wide install served its workspaces: they go with it.
        let mut scopes = vec![team.clone()];
        scopes.extend(self.installations.workspaces_of(team));
        let mut removed = 0;
        for scope in &scopes {
            removed += self.store.delete_team(scope)?;
            self.lexicons.forget(scope);
            self.directory.forget_team(scope);
            self.groups.forget_team(scope);
        }
        self.slack.remove_team(team);
        self.installations.uninstall(team);
        self.outbox.recount();
        self.store.flush_soon();
        info!(team = %team, workspaces = scopes.len(), records = removed, "{why}: every record of the workspace was deleted");
        Ok(())
    }

    /// Everything the store holds that names `user`, as JSON.
    pub(crate) fn member_data(&self, team: &TeamId, user: &UserId) -> Result<Value, StoreError> {
        let tables = CheckinTables::open(&self.store)?;
        let answers: Vec<Value> = tables
            .answers_of_member(team, user)?
            .into_iter()
            .map(|(occurrence, answer)| json!({ "occurrence": occurrence, "answer": answer }))
            .collect();
        let cooldowns: Vec<Value> = Cooldowns::open(&self.store)?
            .of_member(team, user)?
            .into_iter()
            .map(|(key, until)| json!({ "channel_and_user": key, "until": until }))
            .collect();
        let digests: Vec<Value> = DigestMarks::open(&self.store)?
            .of_member(team, user)?
            .into_iter()
            .map(|(key, sent)| json!({ "digest": key, "sent_at": sent }))
            .collect();
        let reminders: Vec<Value> = Reminders::open(&self.store)?
            .naming(team, user)?
            .into_iter()
            .map(|r| json!(r))
            .collect();
        let managed: Vec<Value> = tables
            .checkins
            .scan(team, "")?
            .into_iter()
            .filter(|(_, checkin)| checkin.manager == *user)
            .map(|(id, checkin)| json!({ "id": id, "channel": checkin.channel }))
            .collect();
        Ok(json!({
            "team": team,
            "user": user,
            "hours": self.stored_hours(team, user)?,
            "manager_role": self.store.table::<ManagerGrant>(ROLES_TABLE)?.get(team, user.as_str())?,
            "checkin_answers": answers,
            "checkin_asked_by_dm_in": tables.asked_by_dm(team, user)?,
            "checkins_managed": managed,
            "reminders": reminders,
            "nudge_cooldowns": cooldowns,
            "norms_digests_sent": digests,
            "norms_digest_off": self.workspace_norms(team)?.digest_opt_outs.contains(user),
        }))
    }

    /// What [`forget_member`](Self::forget_member) would delete.
    pub(crate) fn member_records(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<MemberRecords, StoreError> {
        self.member_records_and(team, user, false)
    }

    /// Deletes the member's hours (with time off and focus), manager role, check-in answers
    /// and the small records that name them, and waits until that is on disk. Check-ins they
    /// created stay: they belong to the channel.
    pub(crate) async fn forget_member(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<MemberRecords, StoreError> {
        let records = self.member_records_and(team, user, true)?;
        let mut workspace = self.workspace_norms(team)?;
        if workspace.digest_opt_outs.contains(user) {
            workspace.digest_opt_outs.retain(|u| u != user);
            self.save_workspace_norms(team, &workspace).await?;
        }
        self.store.flush().await?;
        info!(team = %team, answers = records.answers, "a member's data was deleted at their request");
        Ok(records)
    }

    fn member_records_and(
        &self,
        team: &TeamId,
        user: &UserId,
        delete: bool,
    ) -> Result<MemberRecords, StoreError> {
        let tables = CheckinTables::open(&self.store)?;
        let hours = self.hours_table()?;
        let roles = self.store.table::<ManagerGrant>(ROLES_TABLE)?;
        let cooldowns = Cooldowns::open(&self.store)?;
        let digests = DigestMarks::open(&self.store)?;
        let mut records = MemberRecords {
            hours: hours.get(team, user.as_str())?.is_some(),
            manager_role: roles.get(team, user.as_str())?.is_some(),
            ..MemberRecords::default()
        };
        records.answers = tables.answers_of_member(team, user)?.len();
        let cooldown_keys: Vec<String> = cooldowns
            .of_member(team, user)?
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        let reminders = Reminders::open(&self.store)?;
        records.reminders = reminders.naming(team, user)?.len();
        let digest_marks = digests.of_member(team, user)?.len();
        let dm_open = tables.asked_by_dm(team, user)?.is_some();
        let opted_out = self.workspace_norms(team)?.digest_opt_outs.contains(user);
        records.other =
            cooldown_keys.len() + digest_marks + usize::from(dm_open) + usize::from(opted_out);
        if !delete {
            return Ok(records);
        }
        hours.remove(team, user.as_str())?;
        roles.remove(team, user.as_str())?;
        tables.remove_answers_of_member(team, user)?;
        cooldowns.remove_stored(team, &cooldown_keys)?;
        reminders.remove_naming(team, user)?;
        digests.remove_of_member(team, user)?;
        tables.forget_dm(team, user)?;
        Ok(records)
    }

    /// Deletes the answers of every occurrence reported (or skipped) longer ago than its
    /// workspace's retention, and answers whose occurrence is gone; returns how many.
    pub(crate) fn delete_expired_answers(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut retention: HashMap<TeamId, TimeDelta> = HashMap::new();
        CheckinTables::open(&self.store)?.remove_answers_where(|team, occurrence| {
            let keep_for = match retention.get(team) {
                Some(keep_for) => *keep_for,
                None => {
                    let keep_for = self.workspace_norms(team)?.answer_retention();
                    retention.insert(team.clone(), keep_for);
                    keep_for
                }
            };
            Ok(match occurrence {
                // Kept until the report, then for the retention period.
                Some(record) => record.state.is_final() && record.close_at + keep_for <= now,
                None => true,
            })
        })
    }
}

/// Deletes answers past their retention once an hour, by the bot's clock, until `shutdown`.
pub(crate) async fn run_retention(bot: Arc<Bot>, shutdown: CancellationToken) {
    loop {
        let now = bot.clock.now();
        match bot.delete_expired_answers(now) {
            Ok(0) => {}
            Ok(deleted) => {
                bot.store.flush_soon();
                for _ in 0..deleted {
                    bot.metrics.inc(Counter::AnswersExpired, &[]);
                }
                info!(
                    deleted,
                    "check-in answers past their retention were deleted"
                );
            }
            Err(e) => warn!(error = %e, "could not delete check-in answers past their retention"),
        }
        bot.metrics.inc(Counter::RetentionSweeps, &[]);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = bot.clock.sleep_until(now + RETENTION_SWEEP_EVERY) => {}
        }
    }
}

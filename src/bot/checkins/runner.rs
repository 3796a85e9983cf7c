//! The check-in runner: one task, one timer. It keeps a queue of the next instant each
//! check-in opens and each open occurrence takes its next step, sleeps on the clock until
//! the earliest, and carries out what [`plan::next_action`] decides. Every step is written
//! and flushed before the runner relies on it, and every post goes through
//! [`Bot::post_once`], so a restart resumes where it stopped and never posts twice.
//!
//! Commands that create or change a check-in send a [`Change`]; nothing polls.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use slack_morphism::prelude::*;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::bot::checkins::post::Target;
use crate::bot::{Bot, HandleError};
use crate::checkins::occurrence::{
    CheckinId, MissedAction, OccurrenceEvent, OccurrenceKey, SkipReason, advance, missed_action,
};
use crate::checkins::plan::{self, Action, Candidate};
use crate::checkins::record::{Checkin, DmPurpose, OccurrenceRecord, PlannedDm};
use crate::checkins::schedule::{DueQueue, ScheduleZone};
use crate::checkins::texts;
use crate::hours::availability;
use crate::ids::{ChannelId, TeamId, UserId};
use crate::metrics::Counter;
use crate::slack::api::ApiError;
use crate::slack::blocks;
use crate::store::StoreError;
use crate::store::checkins::CheckinTables;

/// After a failed step (Slack unreachable, store error), the runner tries again this much
/// later by its clock.
const RETRY_AFTER: TimeDelta = TimeDelta::minutes(1);
/// Occurrences missed by more than this while the bot was down are passed over without a
/// record each (they would all be "skipped" anyway).
const HISTORY_HORIZON: TimeDelta = TimeDelta::days(7);

/// A change the runner must hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A check-in was created, resumed or changed: plan its next occurrence.
    Checkin(TeamId, CheckinId),
    /// An occurrence was created outside the schedule (`/async checkin run`).
    Occurrence(TeamId, OccurrenceKey),
}

/// The line from commands to the runner. It lives on the `Bot`; the runner takes the
/// receiving end once at start.
pub(crate) struct CheckinSignal {
    sender: mpsc::UnboundedSender<Change>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Change>>>,
}

impl Default for CheckinSignal {
    fn default() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        CheckinSignal {
            sender,
            receiver: Mutex::new(Some(receiver)),
        }
    }
}

impl CheckinSignal {
    pub(crate) fn send(&self, change: Change) {
        // With no runner (one-shot CLI commands) the change is simply read at next start.
        let _ = self.sender.send(change);
    }

    fn take_receiver(&self) -> Option<mpsc::UnboundedReceiver<Change>> {
        self.receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

/// What the queue holds: a check-in to open, or an occurrence to step.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Job {
    Open(TeamId, CheckinId),
    Step(TeamId, OccurrenceKey),
}

/// Runs check-ins until `shutdown` is cancelled.
pub(crate) async fn run(bot: Arc<Bot>, shutdown: CancellationToken) {
    let Some(mut changes) = bot.checkins.take_receiver() else {
        warn!("the check-in runner was started twice; this one stops");
        return;
    };
    let mut runner = match Runner::load(bot.clone()) {
        Ok(runner) => runner,
        Err(e) => {
            warn!(error = %e, "could not load check-ins; they will not run until a restart");
            return;
        }
    };
    info!(queued = runner.queue.len(), "check-in runner started");
    loop {
        // Like the event worker, the step in flight is finished at shutdown (each is short:
        // a few store writes and Slack calls); no new one starts.
        runner.run_due(&shutdown).await;
        if shutdown.is_cancelled() {
            return;
        }
        let wake = runner.queue.peek().map(|(_, at)| at);
        let clock = bot.clock.clone();
        let timer = async move {
            match wake {
                Some(at) => clock.sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            change = changes.recv() => match change {
                Some(change) => runner.hear(change),
                None => return,
            },
            _ = timer => {}
        }
    }
}

/// The runner's state: the tables and the queue.
pub(crate) struct Runner {
    bot: Arc<Bot>,
    tables: CheckinTables,
    queue: DueQueue<Job>,
}

impl Runner {
    /// Reads every check-in and every open occurrence, and queues each at its next instant.
    pub(crate) fn load(bot: Arc<Bot>) -> Result<Self, HandleError> {
        let tables = CheckinTables::open(&bot.store)?;
        let queue = load_queue(&tables, bot.clock.now())?;
        Ok(Runner { bot, tables, queue })
    }

    fn hear(&mut self, change: Change) {
        let now = self.bot.clock.now();
        match change {
            Change::Checkin(team, id) => self.queue.push(Job::Open(team, id), now),
            Change::Occurrence(team, key) => self.queue.push(Job::Step(team, key), now),
        }
    }

    /// Runs every job due now, including those that become due while running, until
    /// `shutdown` is cancelled.
    async fn run_due(&mut self, shutdown: &CancellationToken) {
        while !shutdown.is_cancelled() {
            let now = self.bot.clock.now();
            let Some((job, _)) = self.queue.pop_due(now) else {
                return;
            };
            let outcome = match &job {
                Job::Open(team, id) => self.open(team, id, now).await,
                Job::Step(team, key) => self.step(team, key).await,
            };
            if let Err(e) = outcome {
                warn!(job = ?job, error = %e, "a check-in step failed; trying again in a minute");
                self.queue.push(job, now + RETRY_AFTER);
            }
        }
    }

    /// Opens every occurrence of a check-in whose time has come, and queues the next.
    async fn open(
        &mut self,
        team: &TeamId,
        id: &CheckinId,
        now: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        let Some(mut checkin) = self.tables.checkins.get(team, id.as_str())? else {
            return Ok(());
        };
        if checkin.paused {
            return Ok(());
        }
        while let Some(next) = checkin.next_occurrence() {
            if next.at > now {
                self.queue
                    .push(Job::Open(team.clone(), id.clone()), next.at);
                break;
            }
            checkin.next_after = next.at;
            if now - next.at > HISTORY_HORIZON {
                continue;
            }
            let key = OccurrenceKey::new(id.clone(), next.date);
            let record = OccurrenceRecord::due(&checkin, key.clone(), next.at);
            // A `run` may already have made today's occurrence: it stands.
            self.tables.create_occurrence(team, &record)?;
            self.advance_checkin(team, id, checkin.next_after).await?;
            self.queue.push(Job::Step(team.clone(), key), now);
        }
        self.advance_checkin(team, id, checkin.next_after).await
    }

    /// Records that the check-in's runs up to `next_after` are opened, flushed. Only that
    /// field is touched, in one atomic step: a pause, an edit or a deletion made by a
    /// command meanwhile stands.
    async fn advance_checkin(
        &self,
        team: &TeamId,
        id: &CheckinId,
        next_after: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        self.tables
            .checkins
            .update(team, id.as_str(), |mut stored| {
                stored.next_after = stored.next_after.max(next_after);
                stored
            })?;
        self.bot.store.flush().await?;
        Ok(())
    }

    /// Takes the steps an occurrence is due for, then queues it at its next instant.
    async fn step(&mut self, team: &TeamId, key: &OccurrenceKey) -> Result<(), HandleError> {
        loop {
            let Some(mut record) = self.tables.occurrence(team, key)? else {
                return Ok(());
            };
            let checkin = self.tables.checkins.get(team, key.checkin.as_str())?;
            let now = self.bot.clock.now();
            let Some(checkin) = checkin else {
                if !record.state.is_final() {
                    self.skip(team, &mut record, SkipReason::Deleted).await?;
                }
                return Ok(());
            };
            let action = plan::next_action(&record, now, checkin.grace());
            debug!(occurrence = %key, action = ?action, "check-in step");
            match action {
                Action::Done => return Ok(()),
                Action::Wait(at) => {
                    self.queue.push(Job::Step(team.clone(), key.clone()), at);
                    return Ok(());
                }
                Action::Skip(reason) => {
                    info!(team = %team, occurrence = %key, reason = %reason, "check-in occurrence skipped");
                    self.skip(team, &mut record, reason).await?;
                }
                Action::Prompt { late } => {
                    if checkin.paused {
                        self.skip(team, &mut record, SkipReason::Paused).await?;
                        continue;
                    }
                    record.late = late;
                    self.prompt(team, &checkin, &mut record, now).await?;
                }
                Action::PlanLocal => {
                    if checkin.paused {
                        self.skip(team, &mut record, SkipReason::Paused).await?;
                        continue;
                    }
                    self.plan_local(team, &checkin, &mut record, now).await?;
                }
                Action::SendDms => {
                    self.send_dms(team, &mut record, now, checkin.grace())
                        .await?
                }
                Action::Remind => self.plan_reminders(team, &mut record, now).await?,
                Action::Report => self.report(team, &mut record).await?,
            }
        }
    }

    /// Ends an occurrence as skipped, for `reason`.
    async fn skip(
        &self,
        team: &TeamId,
        record: &mut OccurrenceRecord,
        reason: SkipReason,
    ) -> Result<(), HandleError> {
        self.advance_and_save(team, record, OccurrenceEvent::Skipped(reason))
            .await
    }

    /// Moves an occurrence to its next state and writes it, flushed.
    async fn advance_and_save(
        &self,
        team: &TeamId,
        record: &mut OccurrenceRecord,
        event: OccurrenceEvent,
    ) -> Result<(), HandleError> {
        let step = event.name();
        match advance(&record.state, event) {
            Ok(state) => record.state = state,
            Err(e) => warn!(occurrence = %record.key, error = %e, "check-in step refused"),
        }
        self.save(team, record).await?;
        self.bot
            .metrics
            .inc(Counter::CheckinSteps, &[("step", step)]);
        Ok(())
    }

    /// Writes an occurrence and waits until it is on disk: every step is recorded before
    /// anything relies on it.
    async fn save(&self, team: &TeamId, record: &OccurrenceRecord) -> Result<(), HandleError> {
        self.tables.save_occurrence(team, record)?;
        self.bot.store.flush().await?;
        Ok(())
    }

    /// Who the occurrence asks, with their hours: channel members who are people and not
    /// away on the occurrence's day.
    async fn participants(
        &self,
        team: &TeamId,
        checkin: &Checkin,
        record: &OccurrenceRecord,
        now: DateTime<Utc>,
    ) -> Result<Vec<Candidate>, HandleError> {
        let Some(members) = self.bot.channel_members(team, &checkin.channel, now).await else {
            return Err(HandleError::Slack(ApiError::Unavailable {
                method: "conversations.members",
                attempts: 1,
                detail: format!("the members of {} could not be read", checkin.channel),
            }));
        };
        let mut candidates = Vec::new();
        for user in members.iter() {
            if *user == self.bot.identity_in(team).user_id {
                continue;
            }
            if let Some(reached) = self.bot.reach(team, user, now).await? {
                candidates.push(Candidate {
                    user: reached.user,
                    is_person: reached.is_person,
                    hours: reached.hours,
                });
            }
        }
        let asked = plan::participants(&candidates, |candidate| match checkin.schedule.zone {
            ScheduleZone::Local => record.key.date,
            ScheduleZone::Fixed(_) => record
                .prompt_at
                .with_timezone(&candidate.hours.tz)
                .date_naive(),
        });
        candidates.retain(|candidate| asked.contains(&candidate.user));
        Ok(candidates)
    }

    /// Local time: who takes part, and when each is asked. The occurrence then opens (its
    /// report thread is posted) when the first of them is asked, and closes after the last.
    async fn plan_local(
        &self,
        team: &TeamId,
        checkin: &Checkin,
        record: &mut OccurrenceRecord,
        now: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        let people = self.participants(team, checkin, record, now).await?;
        let zones: Vec<(UserId, chrono_tz::Tz)> = people
            .iter()
            .map(|c| (c.user.clone(), c.hours.tz))
            .collect();
        let dms = plan::local_prompts(
            &checkin.schedule,
            record.key.date,
            &zones,
            record.prompt_at,
            now,
            checkin.grace(),
        );
        let (Some(first), Some(last)) = (
            dms.iter().map(|dm| dm.at).min(),
            dms.iter().map(|dm| dm.at).max(),
        ) else {
            return self.skip(team, record, SkipReason::NoParticipants).await;
        };
        record.asked = dms.iter().map(|dm| dm.user.clone()).collect();
        record.dms = dms;
        let close_after = checkin.close_after();
        record.prompt_at = first;
        record.close_at = last + close_after;
        record.remind_at = record.close_at - close_after / 2;
        self.save(team, record).await
    }

    /// The prompt: a channel message with the questions (fixed zone), or the report thread
    /// the DMs' answers gather under (local time).
    async fn prompt(
        &self,
        team: &TeamId,
        checkin: &Checkin,
        record: &mut OccurrenceRecord,
        now: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        let content = match checkin.schedule.zone {
            ScheduleZone::Fixed(tz) => {
                let people = self.participants(team, checkin, record, now).await?;
                if people.is_empty() {
                    return self.skip(team, record, SkipReason::NoParticipants).await;
                }
                record.asked = people.iter().map(|c| c.user.clone()).collect();
                texts::channel_prompt(record, tz)
            }
            ScheduleZone::Local => texts::local_thread_root(record, checkin),
        };
        let name = format!("{}/prompt", record.key);
        let target = Target {
            channel: &record.channel,
            thread: None,
        };
        let Some(ts) = self
            .bot
            .post_once(&self.tables, team, &name, target, blocks::prompt(&content))
            .await?
        else {
            return Ok(());
        };
        self.tables
            .remember_thread(team, &record.channel, &ts, &record.key)?;
        self.advance_and_save(team, record, OccurrenceEvent::Prompted(ts))
            .await?;
        info!(team = %team, occurrence = %record.key, asked = record.asked.len(), late = record.late, "check-in prompted");
        Ok(())
    }

    /// Sends the DMs whose time has come: local-time prompts and reminders. A reminder to
    /// someone who has answered meanwhile is dropped; one to someone not working now waits
    /// for their next working window, if it comes before the close.
    async fn send_dms(
        &self,
        team: &TeamId,
        record: &mut OccurrenceRecord,
        now: DateTime<Utc>,
        grace: TimeDelta,
    ) -> Result<(), HandleError> {
        let answered = self.answered(team, &record.key)?;
        let due: Vec<usize> = (0..record.dms.len())
            .filter(|&i| !record.dms[i].done && record.dms[i].at <= now)
            .collect();
        for index in due {
            let dm: PlannedDm = record.dms[index].clone();
            if dm.purpose == DmPurpose::Prompt
                && missed_action(dm.at, now, grace) == MissedAction::Skip
            {
                info!(team = %team, occurrence = %record.key, user = %dm.user, "a check-in DM missed its grace window; not sent");
                record.dms[index].done = true;
                continue;
            }
            let hours = self.bot.me(team, &dm.user, now).await?.hours;
            if dm.purpose == DmPurpose::Reminder {
                if answered.contains(&dm.user) {
                    record.dms[index].done = true;
                    continue;
                }
                let state = availability(&hours, now);
                match plan::reminder_time(&state, now, record.close_at) {
                    Some(at) if at > now => {
                        record.dms[index].at = at;
                        continue;
                    }
                    Some(_) => {}
                    None => {
                        record.dms[index].done = true;
                        continue;
                    }
                }
            }
            let channel = self.open_dm(team, &dm.user).await?;
            let content = match dm.purpose {
                DmPurpose::Prompt => texts::dm_prompt(record, hours.tz),
                DmPurpose::Reminder => texts::dm_reminder(record, hours.tz),
            };
            let name = format!("{}/dm/{}/{}", record.key, dm.user, dm.purpose.word());
            let target = Target {
                channel: &channel,
                thread: None,
            };
            // Written before the DM goes: a reply is recognised as an answer when it arrives
            // (at intake, where only an answer's text is kept), however quickly it comes.
            self.tables.ask_by_dm(team, &dm.user, &record.key)?;
            if let Some(ts) = self
                .bot
                .post_once(&self.tables, team, &name, target, blocks::prompt(&content))
                .await?
            {
                self.tables
                    .remember_thread(team, &channel, &ts, &record.key)?;
            }
            record.dms[index].done = true;
            self.save(team, record).await?;
        }
        self.save(team, record).await
    }

    /// Plans the one reminder of each participant who has not answered.
    async fn plan_reminders(
        &self,
        team: &TeamId,
        record: &mut OccurrenceRecord,
        now: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        let answered = self.answered(team, &record.key)?;
        let prompted_later: Vec<UserId> = record
            .dms
            .iter()
            .filter(|dm| dm.purpose == DmPurpose::Prompt && dm.at > now)
            .map(|dm| dm.user.clone())
            .collect();
        for user in record.asked.clone() {
            // Someone whose own prompt is still to come is not reminded before it.
            if answered.contains(&user) || prompted_later.contains(&user) {
                continue;
            }
            let hours = self.bot.me(team, &user, now).await?.hours;
            if let Some(at) = plan::reminder_time(&availability(&hours, now), now, record.close_at)
            {
                record.dms.push(PlannedDm {
                    user,
                    at,
                    purpose: DmPurpose::Reminder,
                    done: false,
                });
            }
        }
        self.advance_and_save(team, record, OccurrenceEvent::Reminded)
            .await
    }

    /// The report, in the thread: who answered and their blockers; nobody else is named.
    async fn report(
        &self,
        team: &TeamId,
        record: &mut OccurrenceRecord,
    ) -> Result<(), HandleError> {
        let Some(thread) = record.state.prompt_ts().map(str::to_string) else {
            return Ok(());
        };
        let answers = self.tables.answers_to(team, &record.key)?;
        let text = plan::report_text(&record.asked, &answers, &record.questions);
        let name = format!("{}/report", record.key);
        let target = Target {
            channel: &record.channel,
            thread: Some(&thread),
        };
        self.bot
            .post_once(
                &self.tables,
                team,
                &name,
                target,
                SlackMessageContent::new().with_text(text),
            )
            .await?;
        record.answered = answers.into_iter().map(|a| a.user).collect();
        self.advance_and_save(team, record, OccurrenceEvent::Reported)
            .await?;
        info!(team = %team, occurrence = %record.key, answered = record.answered.len(), asked = record.asked.len(), "check-in reported");
        Ok(())
    }

    fn answered(&self, team: &TeamId, key: &OccurrenceKey) -> Result<Vec<UserId>, HandleError> {
        Ok(self
            .tables
            .answers_to(team, key)?
            .into_iter()
            .map(|a| a.user)
            .collect())
    }

    async fn open_dm(&self, team: &TeamId, user: &UserId) -> Result<ChannelId, HandleError> {
        let opened = self
            .bot
            .slack
            .team(team)
            .conversations_open(
                SlackApiConversationsOpenRequest::new()
                    .with_users(vec![SlackUserId::new(user.as_str().into())]),
            )
            .await?;
        Ok(ChannelId::new(opened.channel.id.0))
    }
}

/// The runner's queue at start-up: each running check-in at the instant its next occurrence
/// opens, and each open occurrence now (its next step is worked out when it is popped).
pub fn load_queue(tables: &CheckinTables, now: DateTime<Utc>) -> Result<DueQueue<Job>, StoreError> {
    let mut queue = DueQueue::default();
    for entry in tables.checkins.scan_all() {
        let (team, _, checkin) = entry?;
        if checkin.paused {
            continue;
        }
        if let Some(next) = checkin.next_occurrence() {
            queue.push(Job::Open(team, checkin.id), next.at);
        }
    }
    for entry in tables.all_open() {
        let (team, key) = entry?;
        queue.push(Job::Step(team, key), now);
    }
    Ok(queue)
}

//! What the store keeps about check-ins: each check-in's definition, each occurrence with its
//! state and the times of its steps, the answers people gave (the only message content the
//! bot keeps), and a mark for every post so that none is ever made twice. All tables are
//! scoped by team like every other table, and appear in `export`.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::checkins::occurrence::{CheckinId, OccurrenceKey, OccurrenceState};
use crate::checkins::schedule::{Occurrence, Schedule, ScheduleZone};
use crate::ids::{ChannelId, TeamId, UserId};
use crate::store::{Store, StoreError, Table};

/// Check-ins by id.
pub const CHECKINS_TABLE: &str = "checkins";
/// Occurrences by `<checkin>/<YYYY-MM-DD>`, kept after they end: their history.
pub const OCCURRENCES_TABLE: &str = "checkin_occurrences";
/// The keys of occurrences not yet reported or skipped, so start-up never reads history.
pub const OPEN_TABLE: &str = "checkin_open";
/// Answers by `<checkin>/<YYYY-MM-DD>/<user>`.
pub const ANSWERS_TABLE: &str = "checkin_answers";
/// One mark per post the runner makes, by a name that says what the post is for.
pub const POSTS_TABLE: &str = "checkin_posts";
/// Which occurrence a prompt (or a prompt sent by DM) belongs to, by `<channel>/<ts>`, so a
/// thread reply under it is taken as an answer.
pub const THREADS_TABLE: &str = "checkin_threads";
/// The latest occurrence each member was asked in by DM, by user id: a plain DM reply
/// answers it.
pub const DM_OPEN_TABLE: &str = "checkin_dm_open";
/// The last check-in id handed out.
pub const SEQUENCE_TABLE: &str = "checkin_sequence";

/// How long an occurrence stays open for answers after its (last) prompt, unless set.
pub const DEFAULT_CLOSE_AFTER: TimeDelta = TimeDelta::hours(8);

/// The zone furthest ahead of UTC (UTC+14). A local-time occurrence of a date opens when that
/// date's wall time comes there, which is no later than for any participant anywhere.
pub const EARLIEST_ZONE: Tz = chrono_tz::Etc::GMTMinus14;

/// How far apart the same wall time falls across the world's zones (UTC+14 to UTC-12): a
/// local-time occurrence of one date reaches its last participant up to this long after
/// its first.
pub const LOCAL_SPREAD: TimeDelta = TimeDelta::hours(26);

/// The questions a check-in asks when none are given.
pub fn default_questions() -> Vec<String> {
    vec![
        "What did you get done?".to_string(),
        "What is next?".to_string(),
        "Anything blocking you?".to_string(),
    ]
}

/// Who is asked at each occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Participants {
    /// The channel's members at the time of the prompt, minus bots and people away.
    ChannelMembers,
}

/// One recurring check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkin {
    pub id: CheckinId,
    pub channel: ChannelId,
    pub schedule: Schedule,
    pub questions: Vec<String>,
    pub participants: Participants,
    /// Who created it: they see its participation on their Home tab.
    pub manager: UserId,
    pub paused: bool,
    /// Minutes from the (last) prompt to the report.
    pub close_after_minutes: i64,
    /// Minutes an occurrence missed while the bot was down may still be posted late.
    pub grace_minutes: i64,
    pub created_at: DateTime<Utc>,
    /// Occurrences that open strictly after this instant are still to come; the ones at or
    /// before it have been taken care of. Moving it forward and writing it is how an
    /// occurrence is claimed, so each is opened once, across restarts.
    pub next_after: DateTime<Utc>,
}

impl Checkin {
    pub fn close_after(&self) -> TimeDelta {
        TimeDelta::minutes(self.close_after_minutes.max(1))
    }

    pub fn grace(&self) -> TimeDelta {
        TimeDelta::minutes(self.grace_minutes.max(0))
    }

    pub fn is_local(&self) -> bool {
        self.schedule.zone == ScheduleZone::Local
    }

    /// Where the search for the next occurrence starts when a check-in is created or resumed
    /// at `now`: now for a fixed zone; for local time, far enough back that today's date,
    /// which may still be ahead for people west of here, is not passed over.
    pub fn watermark_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.is_local() {
            now - LOCAL_SPREAD
        } else {
            now
        }
    }

    /// The next occurrence still to open: its date and the instant it opens (for a
    /// local-time check-in, when the date's wall time comes in the earliest zone).
    pub fn next_occurrence(&self) -> Option<Occurrence> {
        self.schedule
            .next_occurrence_after(self.next_after, EARLIEST_ZONE)
    }
}

/// Why a DM is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmPurpose {
    /// A local-time check-in's questions, at the member's own time.
    Prompt,
    /// The one reminder, inside the member's working hours.
    Reminder,
}

impl DmPurpose {
    pub fn word(self) -> &'static str {
        match self {
            DmPurpose::Prompt => "prompt",
            DmPurpose::Reminder => "reminder",
        }
    }
}

/// A DM the occurrence will send at `at`, unless it closes first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedDm {
    pub user: UserId,
    pub at: DateTime<Utc>,
    pub purpose: DmPurpose,
    /// Sent, or given up (the member answered meanwhile).
    pub done: bool,
}

/// One run of a check-in, as stored after every step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OccurrenceRecord {
    pub key: OccurrenceKey,
    pub channel: ChannelId,
    pub state: OccurrenceState,
    /// When it opens: the prompt (fixed zone) or the report thread and first DMs (local).
    pub prompt_at: DateTime<Utc>,
    pub remind_at: DateTime<Utc>,
    pub close_at: DateTime<Utc>,
    pub local: bool,
    /// Posted after its time, inside the grace window.
    #[serde(default)]
    pub late: bool,
    /// The questions as they were when it opened.
    pub questions: Vec<String>,
    /// Who was asked (set when prompted).
    #[serde(default)]
    pub asked: Vec<UserId>,
    #[serde(default)]
    pub dms: Vec<PlannedDm>,
    /// Who answered (set at the report), for the participation history.
    #[serde(default)]
    pub answered: Vec<UserId>,
}

impl OccurrenceRecord {
    /// A due occurrence of `checkin` opening at `prompt_at`; its reminder halfway to the close.
    /// A local-time one stays open until its last participant's time has come and gone (the
    /// times are narrowed to the real participants when they are known).
    pub fn due(checkin: &Checkin, key: OccurrenceKey, prompt_at: DateTime<Utc>) -> Self {
        let close_after = checkin.close_after();
        let last_prompt = if checkin.is_local() {
            prompt_at + LOCAL_SPREAD
        } else {
            prompt_at
        };
        OccurrenceRecord {
            key,
            channel: checkin.channel.clone(),
            state: OccurrenceState::Due,
            prompt_at,
            remind_at: last_prompt + close_after / 2,
            close_at: last_prompt + close_after,
            local: checkin.is_local(),
            late: false,
            questions: checkin.questions.clone(),
            asked: Vec::new(),
            dms: Vec::new(),
            answered: Vec::new(),
        }
    }
}

/// One member's answer to one occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub user: UserId,
    /// Answers to each question, from the modal (empty strings for skipped questions).
    #[serde(default)]
    pub fields: Vec<String>,
    /// Free-text replies (in the thread or by DM), by message ts, in order.
    #[serde(default)]
    pub replies: Vec<(String, String)>,
    /// The copy posted in the report thread, updated on each change.
    #[serde(default)]
    pub copy_ts: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Answer {
    /// No answer yet from `user`.
    pub fn empty(user: UserId) -> Self {
        Answer {
            user,
            fields: Vec::new(),
            replies: Vec::new(),
            copy_ts: None,
            updated_at: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
            && self.replies.iter().all(|(_, text)| text.trim().is_empty())
    }
}

/// What is known of one post: it was about to be made, or it was made with this ts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "post", rename_all = "snake_case")]
pub enum PostMark {
    /// Written (and flushed) just before the call; if no ts follows, the call's fate is
    /// unknown and Slack is asked before posting again.
    Attempted {
        at: DateTime<Utc>,
    },
    Posted {
        channel: ChannelId,
        ts: String,
    },
}

/// The key of an occurrence's answers: `<checkin>/<date>/`.
pub fn answers_prefix(key: &OccurrenceKey) -> String {
    format!("{key}/")
}

/// The key of the threads table: a prompt's channel and timestamp.
fn thread_key(channel: &ChannelId, ts: &str) -> String {
    format!("{channel}/{ts}")
}

/// Every check-in table, opened once.
#[derive(Clone)]
pub struct CheckinTables {
    pub checkins: Table<Checkin>,
    pub occurrences: Table<OccurrenceRecord>,
    pub open: Table<OccurrenceKey>,
    pub answers: Table<Answer>,
    pub posts: Table<PostMark>,
    pub threads: Table<OccurrenceKey>,
    pub dm_open: Table<OccurrenceKey>,
    pub sequence: Table<u64>,
}

impl CheckinTables {
    pub fn open(store: &Store) -> Result<Self, StoreError> {
        Ok(CheckinTables {
            checkins: store.table(CHECKINS_TABLE)?,
            occurrences: store.table(OCCURRENCES_TABLE)?,
            open: store.table(OPEN_TABLE)?,
            answers: store.table(ANSWERS_TABLE)?,
            posts: store.table(POSTS_TABLE)?,
            threads: store.table(THREADS_TABLE)?,
            dm_open: store.table(DM_OPEN_TABLE)?,
            sequence: store.table(SEQUENCE_TABLE)?,
        })
    }

    /// The occurrence whose prompt started the thread `thread_ts` in `channel`.
    pub fn occurrence_in_thread(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        thread_ts: &str,
    ) -> Result<Option<OccurrenceKey>, StoreError> {
        self.threads.get(team, &thread_key(channel, thread_ts))
    }

    /// Remembers that `key`'s prompt started the thread `ts` in `channel`.
    pub fn remember_thread(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        ts: &str,
        key: &OccurrenceKey,
    ) -> Result<(), StoreError> {
        self.threads.put(team, &thread_key(channel, ts), key)
    }

    /// A fresh check-in id: 1, 2, 3… per workspace, never reused.
    pub fn next_id(&self, team: &TeamId) -> Result<CheckinId, StoreError> {
        // One compare-and-swap: two check-ins created at the same moment get two ids.
        let next = self
            .sequence
            .upsert(team, "last", |last| last.unwrap_or(0) + 1)?;
        Ok(CheckinId::new(next.to_string()))
    }

    /// Writes an occurrence and keeps the index of open ones in step with its state.
    pub fn save_occurrence(
        &self,
        team: &TeamId,
        record: &OccurrenceRecord,
    ) -> Result<(), StoreError> {
        let key = record.key.to_string();
        self.occurrences.put(team, &key, record)?;
        if record.state.is_final() {
            self.open.remove(team, &key)?;
        } else {
            self.open.put(team, &key, &record.key)?;
        }
        Ok(())
    }

    /// The answers given to an occurrence, in user order.
    pub fn answers_to(
        &self,
        team: &TeamId,
        key: &OccurrenceKey,
    ) -> Result<Vec<Answer>, StoreError> {
        Ok(self
            .answers
            .scan(team, &answers_prefix(key))?
            .into_iter()
            .map(|(_, answer)| answer)
            .filter(|answer| !answer.is_empty())
            .collect())
    }

    /// The latest `count` occurrences of a check-in, newest first.
    pub fn recent_occurrences(
        &self,
        team: &TeamId,
        id: &CheckinId,
        count: usize,
    ) -> Result<Vec<OccurrenceRecord>, StoreError> {
        let mut all = self.occurrences.scan(team, &format!("{id}/"))?;
        all.reverse();
        Ok(all
            .into_iter()
            .take(count)
            .map(|(_, record)| record)
            .collect())
    }
}

//! What the store keeps about check-ins: each check-in's definition, each occurrence with its
//! state and the times of its steps, the answers people gave (the only message content the
//! bot keeps), and a mark for every post so that none is ever made twice. The tables and
//! their keys are in [`crate::store::checkins`].

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::checkins::occurrence::{CheckinId, OccurrenceKey, OccurrenceState};
use crate::checkins::schedule::{Occurrence, Schedule, ScheduleZone};
use crate::ids::{ChannelId, UserId};

/// How long an occurrence stays open for answers after its (last) prompt, unless set.
pub(crate) const DEFAULT_CLOSE_AFTER: TimeDelta = TimeDelta::hours(8);

/// The zone furthest ahead of UTC (UTC+14). A local-time occurrence of a date opens when that
/// date's wall time comes there, which is no later than for any participant anywhere.
pub(crate) const EARLIEST_ZONE: Tz = chrono_tz::Etc::GMTMinus14;

/// How far apart the same wall time falls across the world's zones (UTC+14 to UTC-12): a
/// local-time occurrence of one date reaches its last participant up to this long after
/// its first.
pub(crate) const LOCAL_SPREAD: TimeDelta = TimeDelta::hours(26);

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
    pub(crate) fn close_after(&self) -> TimeDelta {
        TimeDelta::minutes(self.close_after_minutes.max(1))
    }

    pub(crate) fn grace(&self) -> TimeDelta {
        TimeDelta::minutes(self.grace_minutes.max(0))
    }

    pub(crate) fn is_local(&self) -> bool {
        self.schedule.zone == ScheduleZone::Local
    }

    /// Where the search for the next occurrence starts when a check-in is created or resumed
    /// at `now`: now for a fixed zone; for local time, far enough back that today's date,
    /// which may still be ahead for people west of here, is not passed over.
    pub(crate) fn watermark_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.is_local() {
            now - LOCAL_SPREAD
        } else {
            now
        }
    }

    /// The next occurrence still to open: its date and the instant it opens (for a
    /// local-time check-in, when the date's wall time comes in the earliest zone).
    pub(crate) fn next_occurrence(&self) -> Option<Occurrence> {
        self.schedule
            .next_occurrence_after(self.next_after, EARLIEST_ZONE)
    }
}

/// Why a DM is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DmPurpose {
    /// A local-time check-in's questions, at the member's own time.
    Prompt,
    /// The one reminder, inside the member's working hours.
    Reminder,
}

impl DmPurpose {
    pub(crate) fn word(self) -> &'static str {
        match self {
            DmPurpose::Prompt => "prompt",
            DmPurpose::Reminder => "reminder",
        }
    }
}

/// A DM the occurrence will send at `at`, unless it closes first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PlannedDm {
    pub(crate) user: UserId,
    pub(crate) at: DateTime<Utc>,
    pub(crate) purpose: DmPurpose,
    /// Sent, or given up (the member answered meanwhile).
    pub(crate) done: bool,
}

/// One run of a check-in, as stored after every step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OccurrenceRecord {
    pub(crate) key: OccurrenceKey,
    pub(crate) channel: ChannelId,
    pub(crate) state: OccurrenceState,
    /// When it opens: the prompt (fixed zone) or the report thread and first DMs (local).
    pub(crate) prompt_at: DateTime<Utc>,
    pub(crate) remind_at: DateTime<Utc>,
    pub(crate) close_at: DateTime<Utc>,
    pub(crate) local: bool,
    /// Posted after its time, inside the grace window.
    #[serde(default)]
    pub(crate) late: bool,
    /// The questions as they were when it opened.
    pub(crate) questions: Vec<String>,
    /// Who was asked (set when prompted).
    #[serde(default)]
    pub(crate) asked: Vec<UserId>,
    #[serde(default)]
    pub(crate) dms: Vec<PlannedDm>,
    /// Who answered (set at the report), for the participation history.
    #[serde(default)]
    pub(crate) answered: Vec<UserId>,
}

impl OccurrenceRecord {
    /// A due occurrence of `checkin` opening at `prompt_at`; its reminder halfway to the close.
    /// A local-time one stays open until its last participant's time has come and gone (the
    /// times are narrowed to the real participants when they are known).
    pub(crate) fn due(checkin: &Checkin, key: OccurrenceKey, prompt_at: DateTime<Utc>) -> Self {
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
pub(crate) struct Answer {
    pub(crate) user: UserId,
    /// Answers to each question, from the modal (empty strings for skipped questions).
    #[serde(default)]
    pub(crate) fields: Vec<String>,
    /// Free-text replies (in the thread or by DM), by message ts, in order.
    #[serde(default)]
    pub(crate) replies: Vec<(String, String)>,
    /// The copy posted in the report thread, updated on each change.
    #[serde(default)]
    pub(crate) copy_ts: Option<String>,
    pub(crate) updated_at: Option<DateTime<Utc>>,
}

impl Answer {
    /// No answer yet from `user`.
    pub(crate) fn empty(user: UserId) -> Self {
        Answer {
            user,
            fields: Vec::new(),
            replies: Vec::new(),
            copy_ts: None,
            updated_at: None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
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

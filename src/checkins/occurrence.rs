//! One run of a check-in, as a state machine the runner persists after every step. Each step
//! (prompt, remind, report, skip) may happen once and only in order, so a runner that restarts
//! and replays its last decision gets an error instead of posting a second time. The occurrence
//! key names a run, so "nothing is ever posted twice" can be enforced by key in the store, and
//! the grace window decides whether a run missed while the bot was down is still worth posting.

use std::fmt;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// A check-in's id, as users see it in `/async checkin list` and type it in `pause <id>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckinId(pub String);

impl CheckinId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CheckinId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CheckinId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CheckinId({})", self.0)
    }
}

impl From<&str> for CheckinId {
    fn from(id: &str) -> Self {
        Self(id.to_string())
    }
}

/// The stable name of one occurrence: the check-in and the local date it belongs to.
///
/// In a fixed zone the date is read in that zone. In local-time mode every participant whose
/// own local date is `date` shares the one key, so the date's answers gather in one report
/// thread however many zones they span. The date comes from
/// `Schedule::next_occurrence_after` or the date given to `fan_out`, never from the UTC
/// instant, which a gap across midnight can push onto the next day.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OccurrenceKey {
    pub(crate) checkin: CheckinId,
    pub(crate) date: NaiveDate,
}

impl OccurrenceKey {
    pub(crate) fn new(checkin: CheckinId, date: NaiveDate) -> Self {
        OccurrenceKey { checkin, date }
    }
}

/// Written `<checkin>/<YYYY-MM-DD>`, which sorts by check-in and then by date.
impl fmt::Display for OccurrenceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.checkin, self.date.format("%Y-%m-%d"))
    }
}

/// Why an occurrence was skipped rather than reported. Kept for the log and the Home tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SkipReason {
    /// The bot was down past the grace window, or past the close of the occurrence.
    Missed,
    /// The check-in was paused when the occurrence came due.
    Paused,
    /// The check-in was deleted while the occurrence was under way.
    Deleted,
    /// Nobody was there to ask: every participant was away, or there were none.
    NoParticipants,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::Missed => "missed: the bot was not running within the grace window",
            SkipReason::Paused => "the check-in was paused",
            SkipReason::Deleted => "the check-in was deleted",
            SkipReason::NoParticipants => "no participant was available",
        })
    }
}

/// Where one occurrence stands. Persisted after every step, so a restart resumes from it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum OccurrenceState {
    /// Its time has come (or will); nothing has been posted.
    Due,
    /// The prompt was posted; `prompt_ts` is its Slack message ts, the thread the report
    /// goes into. Slack ts values are compared as strings, never as numbers.
    Prompted { prompt_ts: String },
    /// Non-responders were reminded, once. The prompt's ts is kept for the report.
    Reminded { prompt_ts: String },
    /// The report was posted into the prompt's thread. Final.
    Reported { prompt_ts: String },
    /// The occurrence will not be (further) posted. Final.
    Skipped { reason: SkipReason },
}

impl OccurrenceState {
    /// A one-word name for messages and logs.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            OccurrenceState::Due => "due",
            OccurrenceState::Prompted { .. } => "prompted",
            OccurrenceState::Reminded { .. } => "reminded",
            OccurrenceState::Reported { .. } => "reported",
            OccurrenceState::Skipped { .. } => "skipped",
        }
    }

    /// Whether no further step can follow.
    pub(crate) fn is_final(&self) -> bool {
        matches!(
            self,
            OccurrenceState::Reported { .. } | OccurrenceState::Skipped { .. }
        )
    }

    /// Whether the occurrence is still taking answers.
    pub(crate) fn is_open(&self) -> bool {
        matches!(
            self,
            OccurrenceState::Prompted { .. } | OccurrenceState::Reminded { .. }
        )
    }

    /// The prompt's Slack ts, once the prompt has been posted.
    pub(crate) fn prompt_ts(&self) -> Option<&str> {
        match self {
            OccurrenceState::Prompted { prompt_ts }
            | OccurrenceState::Reminded { prompt_ts }
            | OccurrenceState::Reported { prompt_ts } => Some(prompt_ts),
            OccurrenceState::Due | OccurrenceState::Skipped { .. } => None,
        }
    }
}

/// Something that happened to an occurrence, recorded once it has been done in Slack.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", content = "value", rename_all = "snake_case")]
pub(crate) enum OccurrenceEvent {
    /// The prompt was posted with this Slack message ts.
    Prompted(String),
    Reminded,
    Reported,
    Skipped(SkipReason),
}

impl OccurrenceEvent {
    /// A one-word name for messages and logs.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            OccurrenceEvent::Prompted(_) => "prompted",
            OccurrenceEvent::Reminded => "reminded",
            OccurrenceEvent::Reported => "reported",
            OccurrenceEvent::Skipped(_) => "skipped",
        }
    }
}

/// A step that may not be taken from the state the occurrence is in. The runner logs it and
/// takes no action: the step it wanted has either been done already or cannot be done yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TransitionError {
    #[error(
        "this occurrence is already {state}; nothing more is posted for it (a restart replaying `{event}` is safe to drop)"
    )]
    Finished {
        state: &'static str,
        event: &'static str,
    },
    #[error(
        "this occurrence was already {event}; each step happens once, so drop the repeated `{event}`"
    )]
    Repeated { event: &'static str },
    #[error(
        "an occurrence that is {state} cannot be {event} yet: prompt first, then remind, then report"
    )]
    OutOfOrder {
        state: &'static str,
        event: &'static str,
    },
}

/// The state after `event`, or why `event` cannot happen now.
///
/// Legal: due → prompted | skipped; prompted → reminded | reported | skipped;
/// reminded → reported | skipped. Reported and skipped are final. Anything else is an
/// error, in particular every repeat of a step, so a replayed step is never posted twice.
pub(crate) fn advance(
    state: &OccurrenceState,
    event: OccurrenceEvent,
) -> Result<OccurrenceState, TransitionError> {
    use OccurrenceEvent as E;
    use OccurrenceState as S;
    match (state, event) {
        (S::Reported { .. } | S::Skipped { .. }, event) => Err(TransitionError::Finished {
            state: state.name(),
            event: event.name(),
        }),
        (_, E::Skipped(reason)) => Ok(S::Skipped { reason }),
        (S::Due, E::Prompted(prompt_ts)) => Ok(S::Prompted { prompt_ts }),
        (S::Prompted { prompt_ts }, E::Reminded) => Ok(S::Reminded {
            prompt_ts: prompt_ts.clone(),
        }),
        (S::Prompted { prompt_ts } | S::Reminded { prompt_ts }, E::Reported) => Ok(S::Reported {
            prompt_ts: prompt_ts.clone(),
        }),
        (S::Prompted { .. } | S::Reminded { .. }, event @ E::Prompted(_))
        | (S::Reminded { .. }, event @ E::Reminded) => Err(TransitionError::Repeated {
            event: event.name(),
        }),
        (S::Due, event @ (E::Reminded | E::Reported)) => Err(TransitionError::OutOfOrder {
            state: state.name(),
            event: event.name(),
        }),
    }
}

/// What the runner should do next for an occurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Step {
    /// Post the prompt (after asking [`missed_action`] whether it is still worth posting).
    Prompt,
    /// Remind those who have not answered (each only inside their working hours).
    Remind,
    /// Post the report into the prompt's thread.
    Report,
    /// Give the occurrence up: its close passed before it was ever prompted.
    Skip(SkipReason),
}

/// The step due at `now`, or `None` when there is nothing to do until a later instant.
///
/// The times are the occurrence's: `prompt_at` (its run time), `remind_at` and `close_at`
/// (when the report is posted). A due occurrence whose close has passed is skipped rather
/// than prompted and reported in the same breath; a prompted one whose reminder time and close
/// have both passed goes straight to the report, since a reminder after the close is useless.
pub(crate) fn next_step(
    state: &OccurrenceState,
    now: DateTime<Utc>,
    prompt_at: DateTime<Utc>,
    remind_at: DateTime<Utc>,
    close_at: DateTime<Utc>,
) -> Option<Step> {
    match state {
        OccurrenceState::Due if now < prompt_at => None,
        OccurrenceState::Due if now >= close_at => Some(Step::Skip(SkipReason::Missed)),
        OccurrenceState::Due => Some(Step::Prompt),
        OccurrenceState::Prompted { .. } | OccurrenceState::Reminded { .. } if now >= close_at => {
            Some(Step::Report)
        }
        OccurrenceState::Prompted { .. } if now >= remind_at => Some(Step::Remind),
        OccurrenceState::Prompted { .. } | OccurrenceState::Reminded { .. } => None,
        OccurrenceState::Reported { .. } | OccurrenceState::Skipped { .. } => None,
    }
}

/// What to do with an occurrence found due at `now`, e.g. after a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum MissedAction {
    /// Its time has not come.
    NotDue,
    /// Run it: it is on time, give or take [`ON_TIME_TOLERANCE`].
    RunNow,
    /// Run it, saying it is late: it was missed but is still inside the grace window.
    RunLate,
    /// Do not run it, and log that it was skipped: the grace window has passed.
    Skip,
}

/// How late a run may start and still count as on time: a timer wakes a little after its
/// instant, and that is not worth a "posted late" note.
pub(crate) const ON_TIME_TOLERANCE: TimeDelta = TimeDelta::seconds(60);

/// The grace window DESIGN.md sets as the default: a run missed by up to two hours is
/// posted late; one missed by more is skipped.
pub(crate) const DEFAULT_GRACE: TimeDelta = TimeDelta::hours(2);

/// Whether an occurrence due at `due` should run at `now`, given the grace window `grace`.
///
/// Before `due`: not due. From `due` to `due + ON_TIME_TOLERANCE`: run now. After that and up
/// to and including `due + grace`: run late. Beyond: skip. A negative grace counts as zero,
/// and a grace shorter than the tolerance still gives an on-time run within it.
pub(crate) fn missed_action(
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    grace: TimeDelta,
) -> MissedAction {
    if now < due {
        return MissedAction::NotDue;
    }
    let lateness = now - due;
    if lateness > grace.max(TimeDelta::zero()) {
        MissedAction::Skip
    } else if lateness <= ON_TIME_TOLERANCE {
        MissedAction::RunNow
    } else {
        MissedAction::RunLate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test instants are valid RFC 3339")
            .with_timezone(&Utc)
    }

    fn prompted(ts: &str) -> OccurrenceState {
        OccurrenceState::Prompted {
            prompt_ts: ts.into(),
        }
    }

    fn reminded(ts: &str) -> OccurrenceState {
        OccurrenceState::Reminded {
            prompt_ts: ts.into(),
        }
    }

    fn reported(ts: &str) -> OccurrenceState {
        OccurrenceState::Reported {
            prompt_ts: ts.into(),
        }
    }

    fn skipped() -> OccurrenceState {
        OccurrenceState::Skipped {
            reason: SkipReason::Paused,
        }
    }

    const TS: &str = "1774861200.000100";

    fn all_states() -> Vec<OccurrenceState> {
        vec![
            OccurrenceState::Due,
            prompted(TS),
            reminded(TS),
            reported(TS),
            skipped(),
        ]
    }

    fn all_events() -> Vec<OccurrenceEvent> {
        vec![
            OccurrenceEvent::Prompted("1774861300.000200".into()),
            OccurrenceEvent::Reminded,
            OccurrenceEvent::Reported,
            OccurrenceEvent::Skipped(SkipReason::Deleted),
        ]
    }

    /// The whole transition table: the expected outcome of every event in every state.
    fn expected(
        state: &OccurrenceState,
        event: &OccurrenceEvent,
    ) -> Result<OccurrenceState, TransitionError> {
        use OccurrenceEvent as E;
        use OccurrenceState as S;
        let finished = |state: &S| TransitionError::Finished {
            state: state.name(),
            event: event.name(),
        };
        match (state, event) {
            (S::Due, E::Prompted(ts)) => Ok(prompted(ts)),
            (S::Due, E::Reminded) => Err(TransitionError::OutOfOrder {
                state: "due",
                event: "reminded",
            }),
            (S::Due, E::Reported) => Err(TransitionError::OutOfOrder {
                state: "due",
                event: "reported",
            }),
            (S::Prompted { .. }, E::Prompted(_)) | (S::Reminded { .. }, E::Prompted(_)) => {
                Err(TransitionError::Repeated { event: "prompted" })
            }
            (S::Prompted { .. }, E::Reminded) => Ok(reminded(TS)),
            (S::Reminded { .. }, E::Reminded) => {
                Err(TransitionError::Repeated { event: "reminded" })
            }
            (S::Prompted { .. } | S::Reminded { .. }, E::Reported) => Ok(reported(TS)),
            (S::Due | S::Prompted { .. } | S::Reminded { .. }, E::Skipped(reason)) => {
                Ok(S::Skipped { reason: *reason })
            }
            (S::Reported { .. } | S::Skipped { .. }, _) => Err(finished(state)),
        }
    }

    #[test]
    fn every_event_in_every_state_follows_the_transition_table() {
        let mut legal = 0;
        for state in all_states() {
            for event in all_events() {
                let outcome = advance(&state, event.clone());
                assert_eq!(outcome, expected(&state, &event), "{state:?} + {event:?}");
                legal += usize::from(outcome.is_ok());
            }
        }
        // due: prompt, skip; prompted: remind, report, skip; reminded: report, skip.
        assert_eq!(legal, 7);
    }

    #[test]
    fn a_whole_occurrence_keeps_its_prompt_thread_to_the_report() {
        let steps = [
            OccurrenceEvent::Prompted(TS.into()),
            OccurrenceEvent::Reminded,
            OccurrenceEvent::Reported,
        ];
        let end = steps
            .into_iter()
            .try_fold(OccurrenceState::Due, |state, event| advance(&state, event))
            .unwrap();
        assert_eq!(end, reported(TS));
        assert_eq!(end.prompt_ts(), Some(TS));
        assert!(end.is_final());
    }

    #[test]
    fn a_replayed_step_after_a_restart_is_refused() {
        let state = advance(&OccurrenceState::Due, OccurrenceEvent::Prompted(TS.into())).unwrap();
        let again = advance(&state, OccurrenceEvent::Prompted(TS.into()));
        assert_eq!(again, Err(TransitionError::Repeated { event: "prompted" }));
        let done = advance(&state, OccurrenceEvent::Reported).unwrap();
        let error = advance(&done, OccurrenceEvent::Reported).unwrap_err();
        assert!(error.to_string().contains("already reported"), "{error}");
        let early = advance(&OccurrenceState::Due, OccurrenceEvent::Reminded).unwrap_err();
        assert!(early.to_string().contains("prompt first"), "{early}");
    }

    #[test]
    fn states_are_stored_as_tagged_json() {
        for state in all_states() {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(
                serde_json::from_str::<OccurrenceState>(&json).unwrap(),
                state
            );
        }
        assert_eq!(
            serde_json::to_string(&prompted(TS)).unwrap(),
            r#"{"state":"prompted","prompt_ts":"1774861200.000100"}"#
        );
        assert_eq!(
            serde_json::to_string(&skipped()).unwrap(),
            r#"{"state":"skipped","reason":"paused"}"#
        );
    }

    // ---- next step ----

    #[test]
    fn the_next_step_follows_the_clock() {
        let prompt_at = utc("2026-03-02T09:30:00Z");
        let remind_at = utc("2026-03-02T13:30:00Z");
        let close_at = utc("2026-03-02T17:30:00Z");
        let before = "2026-03-02T09:29:59Z";
        let at_prompt = "2026-03-02T09:30:00Z";
        let at_remind = "2026-03-02T13:30:00Z";
        let at_close = "2026-03-02T17:30:00Z";
        let cases = [
            (OccurrenceState::Due, before, None),
            (OccurrenceState::Due, at_prompt, Some(Step::Prompt)),
            (OccurrenceState::Due, at_remind, Some(Step::Prompt)),
            (
                OccurrenceState::Due,
                at_close,
                Some(Step::Skip(SkipReason::Missed)),
            ),
            (prompted(TS), at_prompt, None),
            (prompted(TS), "2026-03-02T13:29:59Z", None),
            (prompted(TS), at_remind, Some(Step::Remind)),
            (prompted(TS), at_close, Some(Step::Report)),
            (reminded(TS), at_remind, None),
            (reminded(TS), "2026-03-02T17:29:59Z", None),
            (reminded(TS), at_close, Some(Step::Report)),
            (reported(TS), at_close, None),
            (skipped(), at_close, None),
        ];
        for (state, now, step) in cases {
            assert_eq!(
                next_step(&state, utc(now), prompt_at, remind_at, close_at),
                step,
                "{state:?} at {now}"
            );
        }
    }

    #[test]
    fn a_reminder_set_after_the_close_is_never_sent() {
        let prompt_at = utc("2026-03-02T09:00:00Z");
        let close_at = utc("2026-03-02T12:00:00Z");
        let remind_at = utc("2026-03-02T15:00:00Z");
        let step = |now: &str| next_step(&prompted(TS), utc(now), prompt_at, remind_at, close_at);
        assert_eq!(step("2026-03-02T11:59:59Z"), None);
        assert_eq!(step("2026-03-02T12:00:00Z"), Some(Step::Report));
        assert_eq!(step("2026-03-02T15:00:00Z"), Some(Step::Report));
    }

    // ---- grace window ----

    #[test]
    fn the_grace_window_decides_late_runs_at_its_edges() {
        let due = utc("2026-03-02T09:30:00Z");
        let cases = [
            ("2026-03-02T09:29:59Z", DEFAULT_GRACE, MissedAction::NotDue),
            ("2026-03-02T09:30:00Z", DEFAULT_GRACE, MissedAction::RunNow),
            ("2026-03-02T09:31:00Z", DEFAULT_GRACE, MissedAction::RunNow),
            ("2026-03-02T09:31:01Z", DEFAULT_GRACE, MissedAction::RunLate),
            ("2026-03-02T11:30:00Z", DEFAULT_GRACE, MissedAction::RunLate),
            ("2026-03-02T11:30:01Z", DEFAULT_GRACE, MissedAction::Skip),
            ("2026-03-05T09:30:00Z", DEFAULT_GRACE, MissedAction::Skip),
            // No grace: only an on-time run, at the very instant.
            (
                "2026-03-02T09:30:00Z",
                TimeDelta::zero(),
                MissedAction::RunNow,
            ),
            (
                "2026-03-02T09:30:01Z",
                TimeDelta::zero(),
                MissedAction::Skip,
            ),
            (
                "2026-03-02T09:30:00Z",
                TimeDelta::minutes(-5),
                MissedAction::RunNow,
            ),
            (
                "2026-03-02T09:30:01Z",
                TimeDelta::minutes(-5),
                MissedAction::Skip,
            ),
            // A grace shorter than the tolerance: on time within it, skipped after.
            (
                "2026-03-02T09:30:30Z",
                TimeDelta::seconds(30),
                MissedAction::RunNow,
            ),
            (
                "2026-03-02T09:30:31Z",
                TimeDelta::seconds(30),
                MissedAction::Skip,
            ),
        ];
        for (now, grace, action) in cases {
            assert_eq!(
                missed_action(due, utc(now), grace),
                action,
                "now {now}, grace {grace}"
            );
        }
        let just_after_tolerance = due + ON_TIME_TOLERANCE + TimeDelta::nanoseconds(1);
        assert_eq!(
            missed_action(due, just_after_tolerance, DEFAULT_GRACE),
            MissedAction::RunLate
        );
    }

    // ---- keys ----

    #[test]
    fn occurrence_keys_name_a_checkin_and_a_date_and_sort_by_both() {
        let key = |id: &str, date: &str| OccurrenceKey::new(id.into(), date.parse().unwrap());
        assert_eq!(key("ck7", "2026-03-02").to_string(), "ck7/2026-03-02");
        assert_eq!(key("ck7", "2026-03-02"), key("ck7", "2026-03-02"));
        let mut keys = [
            key("ck8", "2026-01-01"),
            key("ck7", "2026-03-02"),
            key("ck7", "2025-12-31"),
        ];
        keys.sort();
        let written: Vec<String> = keys.iter().map(ToString::to_string).collect();
        assert_eq!(
            written,
            ["ck7/2025-12-31", "ck7/2026-03-02", "ck8/2026-01-01"]
        );
        let json = serde_json::to_string(&key("ck7", "2026-03-02")).unwrap();
        assert_eq!(json, r#"{"checkin":"ck7","date":"2026-03-02"}"#);
    }
}

//! The runner's decisions as pure functions of what is stored and the time: which step an
//! occurrence takes now (or until when it waits), who is asked, when each non-responder is
//! reminded, and what the report says. The runner only carries them out, so every rule here
//! is tested without Slack, a store or a clock.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::checkins::occurrence::{
    MissedAction, OccurrenceState, SkipReason, Step, missed_action, next_step,
};
use crate::checkins::record::{Answer, DmPurpose, OccurrenceRecord, PlannedDm};
use crate::checkins::schedule::{Schedule, fan_out};
use crate::hours::{Availability, MemberHours};
use crate::ids::UserId;
use crate::norms::markup::{escape, neutralise};

/// What the runner does for one occurrence now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing until this instant.
    Wait(DateTime<Utc>),
    /// Local time: read who takes part and plan their DMs, each at their own time.
    PlanLocal,
    /// Post the prompt (or, for local time, open the report thread); `late` inside the grace
    /// window.
    Prompt {
        late: bool,
    },
    /// Send the DMs whose time has come.
    SendDms,
    /// Plan the one reminder of each non-responder.
    Remind,
    Report,
    Skip(SkipReason),
    /// The occurrence is reported or skipped: nothing more, ever.
    Done,
}

/// The DMs of `record` due at `now` and not yet sent.
pub(crate) fn due_dms(
    record: &OccurrenceRecord,
    now: DateTime<Utc>,
) -> impl Iterator<Item = &PlannedDm> {
    record.dms.iter().filter(move |dm| !dm.done && dm.at <= now)
}

/// The step an occurrence takes at `now`, given the grace window for a late first post.
///
/// The order of the occurrence model is kept (prompt, remind, report; a prompt never after
/// the close). DMs due come before a reminder step and never after the close.
pub(crate) fn next_action(
    record: &OccurrenceRecord,
    now: DateTime<Utc>,
    grace: chrono::TimeDelta,
) -> Action {
    if record.state.is_final() {
        return Action::Done;
    }
    if record.local && record.state == OccurrenceState::Due {
        // Grace applies to each participant's DM, not to the thread that gathers them: a
        // bot down at Auckland's time still asks New York on time.
        return if now >= record.close_at {
            Action::Skip(SkipReason::Missed)
        } else if now < record.prompt_at {
            Action::Wait(record.prompt_at)
        } else if record.dms.is_empty() {
            Action::PlanLocal
        } else {
            let late = missed_action(record.prompt_at, now, grace) != MissedAction::RunNow;
            Action::Prompt { late }
        };
    }
    let step = next_step(
        &record.state,
        now,
        record.prompt_at,
        record.remind_at,
        record.close_at,
    );
    match step {
        Some(Step::Prompt) => match missed_action(record.prompt_at, now, grace) {
            MissedAction::Skip => Action::Skip(SkipReason::Missed),
            MissedAction::RunLate => Action::Prompt { late: true },
            MissedAction::NotDue | MissedAction::RunNow => Action::Prompt { late: false },
        },
        Some(Step::Skip(reason)) => Action::Skip(reason),
        Some(Step::Report) => Action::Report,
        Some(Step::Remind) if due_dms(record, now).next().is_some() => Action::SendDms,
        Some(Step::Remind) => Action::Remind,
        None if due_dms(record, now).next().is_some() => Action::SendDms,
        None => {
            let mut wake = match record.state {
                OccurrenceState::Due => record.prompt_at,
                OccurrenceState::Prompted { .. } => record.remind_at.min(record.close_at),
                _ => record.close_at,
            };
            for dm in record.dms.iter().filter(|dm| !dm.done) {
                wake = wake.min(dm.at);
            }
            Action::Wait(wake.max(now))
        }
    }
}

/// A channel member as the prompt step sees them.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) user: UserId,
    pub(crate) is_person: bool,
    pub(crate) hours: MemberHours,
}

/// Who is asked: people (not bots), and not those away on the occurrence's day in their own
/// zone. `at` is when the occurrence reaches them.
pub(crate) fn participants(
    candidates: &[Candidate],
    date_of: impl Fn(&Candidate) -> NaiveDate,
) -> Vec<UserId> {
    candidates
        .iter()
        .filter(|c| c.is_person)
        .filter(|c| {
            let date = date_of(c);
            !c.hours.away.iter().any(|period| period.contains(date))
        })
        .map(|c| c.user.clone())
        .collect()
}

/// The prompt DMs of a local-time occurrence of `date`: each participant at the schedule's
/// wall time in their own zone, but not before `opens` (a `run` now asks at once those whose
/// time has passed today). A participant whose time passed more than `grace` before `now`
/// (the bot was down, or the check-in was created after it) is not asked.
pub(crate) fn local_prompts(
    schedule: &Schedule,
    date: NaiveDate,
    people: &[(UserId, Tz)],
    opens: DateTime<Utc>,
    now: DateTime<Utc>,
    grace: chrono::TimeDelta,
) -> Vec<PlannedDm> {
    fan_out(schedule, date, people)
        .into_iter()
        .map(|(user, at)| (user, at.max(opens)))
        .filter(|(_, at)| missed_action(*at, now, grace) != MissedAction::Skip)
        .map(|(user, at)| PlannedDm {
            user,
            at,
            purpose: DmPurpose::Prompt,
            done: false,
        })
        .collect()
}

/// When a non-responder is reminded: now if they are working, else when they are next back,
/// provided that is before the close; `None` means no reminder at all (never at night, never
/// after the close, never while away).
pub(crate) fn reminder_time(
    state: &Availability,
    now: DateTime<Utc>,
    close_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let at = match state {
        Availability::Available { .. } => now,
        other => other.back_at()?,
    };
    (at < close_at).then_some(at)
}

/// Whether a question asks about blockers, so its answers are highlighted in the report.
pub(crate) fn is_blocker_question(question: &str) -> bool {
    let lower = question.to_lowercase();
    lower.contains("block") || lower.contains("imped") || lower.contains("stuck")
}

/// Whether an answer says "nothing" (no blocker worth highlighting).
fn says_nothing(text: &str) -> bool {
    let words = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    matches!(
        words.as_str(),
        "" | "no" | "none" | "nope" | "nothing" | "n/a" | "na" | "-" | "no blockers" | "not really"
    )
}

/// What one answer says about blockers: the modal's answer to a blocker question, or the
/// lines of a free-text reply that speak of being blocked.
pub(crate) fn blockers_in(answer: &Answer, questions: &[String]) -> Vec<String> {
    let mut found: Vec<String> = questions
        .iter()
        .zip(&answer.fields)
        .filter(|(question, text)| is_blocker_question(question) && !says_nothing(text))
        .map(|(_, text)| escape(text.trim()).into_owned())
        .collect();
    for (_, reply) in &answer.replies {
        for line in reply.lines() {
            if is_blocker_question(line) && !says_nothing(line) {
                found.push(neutralise(line.trim()));
            }
        }
    }
    found
}

/// The body of an answer as posted in the report thread: each question with its answer,
/// then the free-text replies.
pub(crate) fn answer_text(answer: &Answer, questions: &[String]) -> String {
    let mut lines = vec![format!("*Answer from <@{}>*", answer.user)];
    for (question, text) in questions.iter().zip(&answer.fields) {
        if text.trim().is_empty() {
            continue;
        }
        lines.push(format!("*{}*\n{}", escape(question), escape(text.trim())));
    }
    for (_, reply) in &answer.replies {
        if !reply.trim().is_empty() {
            lines.push(neutralise(reply.trim()));
        }
    }
    lines.join("\n")
}

/// The report posted at the close. It names those who answered (and quotes their blockers);
/// those who did not are only counted, never mentioned.
pub(crate) fn report_text(asked: &[UserId], answers: &[Answer], questions: &[String]) -> String {
    let answered: Vec<&UserId> = answers.iter().map(|a| &a.user).collect();
    let from_asked = asked.iter().filter(|u| answered.contains(u)).count();
    let mut lines = vec![format!(
        "*Check-in report:* {from_asked} of {} answered.",
        asked.len()
    )];
    if answered.is_empty() {
        lines.push("No answers this time.".to_string());
        return lines.join("\n");
    }
    let names: Vec<String> = answered.iter().map(|u| format!("<@{u}>")).collect();
    lines.push(format!("*Answered:* {}", names.join(", ")));
    let blockers: Vec<String> = answers
        .iter()
        .flat_map(|answer| {
            blockers_in(answer, questions).into_iter().map(move |text| {
                format!(":warning: <@{}>: {}", answer.user, text.replace('\n', " "))
            })
        })
        .collect();
    if blockers.is_empty() {
        lines.push("*Blockers:* none reported.".to_string());
    } else {
        lines.push("*Blockers:*".to_string());
        lines.extend(blockers);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::checkins::occurrence::OccurrenceKey;
    use crate::hours::{AwayPeriod, WeeklySchedule};

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn record(state: OccurrenceState) -> OccurrenceRecord {
        OccurrenceRecord {
            key: OccurrenceKey::new("1".into(), "2026-03-02".parse().unwrap()),
            channel: "C1".into(),
            state,
            prompt_at: utc("2026-03-02T09:30:00Z"),
            remind_at: utc("2026-03-02T13:30:00Z"),
            close_at: utc("2026-03-02T17:30:00Z"),
            local: false,
            late: false,
            questions: vec![],
            asked: vec![],
            dms: vec![],
            answered: vec![],
        }
    }

    fn prompted() -> OccurrenceState {
        OccurrenceState::Prompted {
            prompt_ts: "1.1".into(),
        }
    }

    fn reminded() -> OccurrenceState {
        OccurrenceState::Reminded {
            prompt_ts: "1.1".into(),
        }
    }

    fn dm(user: &str, at: &str, done: bool) -> PlannedDm {
        PlannedDm {
            user: user.into(),
            at: utc(at),
            purpose: DmPurpose::Reminder,
            done,
        }
    }

    #[test]
    fn the_runner_steps_through_an_occurrence_by_the_clock() {
        let grace = TimeDelta::hours(2);
        let mut with_dm = record(reminded());
        with_dm.dms = vec![dm("U1", "2026-03-02T15:00:00Z", false)];
        let mut sent = with_dm.clone();
        sent.dms[0].done = true;
        let cases = [
            (
                record(OccurrenceState::Due),
                "2026-03-02T08:00:00Z",
                Action::Wait(utc("2026-03-02T09:30:00Z")),
            ),
            (
                record(OccurrenceState::Due),
                "2026-03-02T09:30:00Z",
                Action::Prompt { late: false },
            ),
            (
                record(OccurrenceState::Due),
                "2026-03-02T10:30:00Z",
                Action::Prompt { late: true },
            ),
            (
                record(OccurrenceState::Due),
                "2026-03-02T11:30:01Z",
                Action::Skip(SkipReason::Missed),
            ),
            (
                record(OccurrenceState::Due),
                "2026-03-02T18:00:00Z",
                Action::Skip(SkipReason::Missed),
            ),
            (
                record(prompted()),
                "2026-03-02T09:31:00Z",
                Action::Wait(utc("2026-03-02T13:30:00Z")),
            ),
            (record(prompted()), "2026-03-02T13:30:00Z", Action::Remind),
            (record(prompted()), "2026-03-02T17:30:00Z", Action::Report),
            (
                record(reminded()),
                "2026-03-02T13:31:00Z",
                Action::Wait(utc("2026-03-02T17:30:00Z")),
            ),
            (
                with_dm.clone(),
                "2026-03-02T13:31:00Z",
                Action::Wait(utc("2026-03-02T15:00:00Z")),
            ),
            (with_dm.clone(), "2026-03-02T15:00:00Z", Action::SendDms),
            (
                sent,
                "2026-03-02T15:00:00Z",
                Action::Wait(utc("2026-03-02T17:30:00Z")),
            ),
            // A reminder whose time comes after the close is never sent: the report goes first.
            (with_dm, "2026-03-02T17:30:00Z", Action::Report),
            (
                record(OccurrenceState::Reported {
                    prompt_ts: "1.1".into(),
                }),
                "2026-03-02T18:00:00Z",
                Action::Done,
            ),
        ];
        for (record, now, expected) in cases {
            assert_eq!(
                next_action(&record, utc(now), grace),
                expected,
                "{:?} at {now}",
                record.state
            );
        }
    }

    #[test]
    fn a_local_occurrence_plans_first_then_opens_at_its_first_dm_and_never_skips_by_grace() {
        let grace = TimeDelta::hours(2);
        let mut due = record(OccurrenceState::Due);
        due.local = true;
        due.prompt_at = utc("2026-03-01T19:00:00Z"); // Monday 09:00 at UTC+14
        due.close_at = utc("2026-03-03T05:00:00Z");
        let mut planned = due.clone();
        planned.prompt_at = utc("2026-03-02T09:00:00Z");
        planned.dms = vec![PlannedDm {
            purpose: DmPurpose::Prompt,
            ..dm("U1", "2026-03-02T09:00:00Z", false)
        }];
        let cases = [
            (
                &due,
                "2026-03-01T18:00:00Z",
                Action::Wait(utc("2026-03-01T19:00:00Z")),
            ),
            (&due, "2026-03-01T19:00:00Z", Action::PlanLocal),
            // Hours past the earliest zone's time: still planned, not skipped.
            (&due, "2026-03-02T02:00:00Z", Action::PlanLocal),
            (
                &planned,
                "2026-03-02T08:59:00Z",
                Action::Wait(utc("2026-03-02T09:00:00Z")),
            ),
            (
                &planned,
                "2026-03-02T09:00:00Z",
                Action::Prompt { late: false },
            ),
            (
                &planned,
                "2026-03-02T12:00:00Z",
                Action::Prompt { late: true },
            ),
            (
                &planned,
                "2026-03-03T05:00:00Z",
                Action::Skip(SkipReason::Missed),
            ),
        ];
        for (record, now, expected) in cases {
            assert_eq!(next_action(record, utc(now), grace), expected, "at {now}");
        }
    }

    #[test]
    fn a_restart_after_the_prompt_never_prompts_again() {
        // Whatever the time after a restart, a prompted occurrence never gets `Prompt`.
        let grace = TimeDelta::hours(2);
        let mut now = utc("2026-03-02T09:00:00Z");
        while now < utc("2026-03-03T09:00:00Z") {
            for state in [prompted(), reminded()] {
                let action = next_action(&record(state), now, grace);
                assert!(
                    !matches!(action, Action::Prompt { .. }),
                    "{action:?} at {now}"
                );
            }
            now += TimeDelta::minutes(7);
        }
    }

    fn candidate(user: &str, away: Option<&str>, is_person: bool) -> Candidate {
        let mut hours =
            MemberHours::new(WeeklySchedule::default_hours(), chrono_tz::Europe::London);
        if let Some(day) = away {
            let day = day.parse().unwrap();
            hours.away.push(AwayPeriod::new(day, day).unwrap());
        }
        Candidate {
            user: user.into(),
            is_person,
            hours,
        }
    }

    #[test]
    fn people_away_that_day_and_bots_are_not_asked() {
        let candidates = [
            candidate("U1", None, true),
            candidate("U2", Some("2026-03-02"), true),
            candidate("U3", Some("2026-03-03"), true),
            candidate("B1", None, false),
        ];
        let monday: NaiveDate = "2026-03-02".parse().unwrap();
        let asked = participants(&candidates, |_| monday);
        assert_eq!(asked, [UserId::from("U1"), UserId::from("U3")]);
    }

    #[test]
    fn reminders_come_only_inside_working_hours_and_before_the_close() {
        let now = utc("2026-03-02T13:30:00Z");
        let close = utc("2026-03-02T17:30:00Z");
        let working = Availability::Available { until: None };
        assert_eq!(reminder_time(&working, now, close), Some(now));
        let back_soon = Availability::OutsideHours {
            back_at: Some(utc("2026-03-02T14:00:00Z")),
        };
        assert_eq!(
            reminder_time(&back_soon, now, close),
            Some(utc("2026-03-02T14:00:00Z"))
        );
        let back_after_close = Availability::OutsideHours {
            back_at: Some(utc("2026-03-03T08:00:00Z")),
        };
        assert_eq!(reminder_time(&back_after_close, now, close), None);
        let away = Availability::Away { back_at: None };
        assert_eq!(reminder_time(&away, now, close), None);
    }

    #[test]
    fn the_report_names_who_answered_highlights_blockers_and_mentions_nobody_else() {
        let questions = vec![
            "What did you get done?".to_string(),
            "What is next?".to_string(),
            "Anything blocking you?".to_string(),
        ];
        let asked: Vec<UserId> = ["U1", "U2", "U3"].map(UserId::from).to_vec();
        let answers = vec![
            Answer {
                fields: vec![
                    "shipped".into(),
                    "docs".into(),
                    "waiting on the API keys".into(),
                ],
                ..Answer::empty("U1".into())
            },
            Answer {
                replies: vec![("1.2".into(), "did reviews\nno blockers".into())],
                ..Answer::empty("U2".into())
            },
        ];
        let text = report_text(&asked, &answers, &questions);
        assert!(text.contains("2 of 3 answered"), "{text}");
        assert!(text.contains("<@U1>, <@U2>"), "{text}");
        assert!(
            text.contains(":warning: <@U1>: waiting on the API keys"),
            "{text}"
        );
        assert!(!text.contains("U3"), "{text}");
        assert_eq!(text.matches(":warning:").count(), 1, "{text}");
        let nobody = report_text(&asked, &[], &questions);
        assert!(
            nobody.contains("0 of 3") && !nobody.contains("<@"),
            "{nobody}"
        );
    }

    #[test]
    fn a_local_occurrence_plans_one_prompt_per_participant_at_their_time() {
        let schedule = Schedule::from_parts("mon-fri", "09:00", "local").unwrap();
        let people = [
            (UserId::from("ULON"), chrono_tz::Europe::London),
            (UserId::from("UNY"), chrono_tz::America::New_York),
        ];
        let monday = "2026-03-02".parse().unwrap();
        let grace = TimeDelta::hours(2);
        let opens = utc("2026-03-01T19:00:00Z"); // Monday 09:00 at UTC+14
        let dms = local_prompts(&schedule, monday, &people, opens, opens, grace);
        assert_eq!(dms.len(), 2);
        assert_eq!(dms[0].at, utc("2026-03-02T09:00:00Z"));
        assert_eq!(dms[1].at, utc("2026-03-02T14:00:00Z"));
        assert!(
            dms.iter()
                .all(|d| d.purpose == DmPurpose::Prompt && !d.done)
        );
        // Planned at 12:30 (London's time long past, New York's still ahead): London is not
        // asked; a `run` at 12:30 asks London at once instead.
        let late = utc("2026-03-02T12:30:00Z");
        let dms = local_prompts(&schedule, monday, &people, opens, late, grace);
        assert_eq!(
            dms.iter().map(|d| d.user.as_str()).collect::<Vec<_>>(),
            ["UNY"]
        );
        let run = local_prompts(&schedule, monday, &people, late, late, grace);
        assert_eq!(run[0].at, late);
        assert_eq!(run[1].at, utc("2026-03-02T14:00:00Z"));
    }
}

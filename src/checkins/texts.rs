//! The words of check-ins: prompts, reminders and the answer modal's ids, as plain data that
//! `slack::blocks` turns into Block Kit. Nothing here @-mentions anyone but the author of an
//! answer: prompts and reminders are quiet by design.

use crate::checkins::occurrence::OccurrenceKey;
use crate::checkins::record::{Checkin, OccurrenceRecord};
use crate::checkins::schedule::ScheduleZone;
use crate::norms::markup::escape;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// The `action_id` of the "Answer" button on prompts and reminders; its value is the
/// occurrence key.
pub(crate) const ANSWER_ACTION: &str = "checkin_answer";
/// The `callback_id` of the answer modal; its private metadata is the occurrence key.
pub(crate) const ANSWER_MODAL: &str = "checkin_answer_modal";
/// The `action_id` of each answer field in the modal (block ids are `q0`, `q1`, …).
pub(crate) const ANSWER_FIELD: &str = "answer";

/// A check-in message: its words (mrkdwn), an "Answer" button for the occurrence when it
/// takes answers, and a line under the button on how to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prompt {
    pub(crate) head: String,
    pub(crate) foot: Option<String>,
    pub(crate) answer: Option<OccurrenceKey>,
}

impl Prompt {
    fn with_answer(head: String, foot: Option<String>, key: &OccurrenceKey) -> Self {
        Prompt {
            head,
            foot,
            answer: Some(key.clone()),
        }
    }
}

/// Reads an occurrence key written by `OccurrenceKey`'s `Display` (`<checkin>/<date>`).
pub(crate) fn parse_key(text: &str) -> Option<OccurrenceKey> {
    let (checkin, date) = text.rsplit_once('/')?;
    let date: NaiveDate = date.parse().ok()?;
    (!checkin.is_empty()).then(|| OccurrenceKey::new(checkin.into(), date))
}

/// A schedule as people read it: `mon-fri at 09:30 (Europe/London)`.
pub(crate) fn schedule_text(checkin: &Checkin) -> String {
    let zone = match checkin.schedule.zone {
        ScheduleZone::Fixed(tz) => tz.name().to_string(),
        ScheduleZone::Local => "each person's local time".to_string(),
    };
    format!(
        "{} at {} ({zone})",
        checkin.schedule.days,
        checkin.schedule.at.format("%H:%M")
    )
}

fn question_list(questions: &[String]) -> String {
    questions
        .iter()
        .enumerate()
        .map(|(index, question)| format!("{}. {}", index + 1, escape(question)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An instant each reader's Slack shows in their own zone; `tz` only for the fallback text
/// of clients that cannot.
fn when(at: DateTime<Utc>, tz: Tz) -> String {
    crate::norms::markup::slack_date(
        at,
        "{date_short_pretty} {time}",
        &at.with_timezone(&tz)
            .format("%a %-d %b %H:%M %Z")
            .to_string(),
    )
}

/// The channel prompt of a fixed-zone check-in: the questions and an "Answer" button.
pub(crate) fn channel_prompt(record: &OccurrenceRecord, tz: Tz) -> Prompt {
    let late = if record.late {
        "\n_Posted late: I was not running at its time._"
    } else {
        ""
    };
    let head = format!(
        "*Check-in for {}*{late}\n{}",
        record.key.date.format("%a %-d %b"),
        question_list(&record.questions)
    );
    let foot = format!(
        "Answer with the button or reply in this thread, until {}. The report follows here.",
        when(record.close_at, tz)
    );
    Prompt::with_answer(head, Some(foot), &record.key)
}

/// The channel message a local-time check-in's answers gather under.
pub(crate) fn local_thread_root(record: &OccurrenceRecord, checkin: &Checkin) -> Prompt {
    let late = if record.late {
        " _(late: I was not running at its time)_"
    } else {
        ""
    };
    let head = format!(
        "*Check-in for {}*{late}: I am asking each of you by DM at {} your time. Answers gather in this thread; the report follows at the close.",
        record.key.date.format("%a %-d %b"),
        checkin.schedule.at.format("%H:%M"),
    );
    Prompt {
        head,
        foot: None,
        answer: None,
    }
}

/// The DM of a local-time check-in: the questions, an "Answer" button, and "or reply here".
pub(crate) fn dm_prompt(record: &OccurrenceRecord, tz: Tz) -> Prompt {
    let head = format!(
        "*Check-in for <#{}>*\n{}",
        record.channel,
        question_list(&record.questions)
    );
    let foot = format!(
        "Answer with the button, or just reply here, until {}.",
        when(record.close_at, tz)
    );
    Prompt::with_answer(head, Some(foot), &record.key)
}

/// The one reminder, by DM.
pub(crate) fn dm_reminder(record: &OccurrenceRecord, tz: Tz) -> Prompt {
    let text = format!(
        "A gentle reminder: the check-in in <#{}> is open until {}. Answer with the button, or just reply here.",
        record.channel,
        when(record.close_at, tz)
    );
    Prompt::with_answer(text, None, &record.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrence_keys_read_back_from_buttons_and_modals() {
        let key = OccurrenceKey::new("12".into(), "2026-03-02".parse().unwrap());
        assert_eq!(parse_key(&key.to_string()), Some(key));
        for bad in ["", "12", "/2026-03-02", "12/2026-13-40", "12/soon"] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
    }
}

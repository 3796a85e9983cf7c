//! The messages and the modal of check-ins, in Block Kit. Nothing here @-mentions anyone but
//! the author of an answer: prompts and reminders are quiet by design.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use slack_morphism::prelude::*;

use crate::checkins::occurrence::OccurrenceKey;
use crate::checkins::record::{Answer, Checkin, OccurrenceRecord};
use crate::checkins::schedule::ScheduleZone;
use crate::norms::markup::escape;

/// The `action_id` of the "Answer" button on prompts and reminders; its value is the
/// occurrence key.
pub(crate) const ANSWER_ACTION: &str = "checkin_answer";
/// The `callback_id` of the answer modal; its private metadata is the occurrence key.
pub(crate) const ANSWER_MODAL: &str = "checkin_answer_modal";
/// The `action_id` of each answer field in the modal (block ids are `q0`, `q1`, …).
pub(crate) const ANSWER_FIELD: &str = "answer";
/// Longest answer Slack's plain-text input accepts.
const MAX_ANSWER_CHARS: u64 = 3000;

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

fn answer_button(key: &OccurrenceKey) -> SlackBlock {
    SlackActionsBlock::new(vec![
        SlackBlockButtonElement::new(pt!("Answer"))
            .with_action_id(ANSWER_ACTION.into())
            .with_value(key.to_string())
            .with_style(SlackBlockButtonStyle::Primary)
            .into(),
    ])
    .into()
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
pub(crate) fn channel_prompt(record: &OccurrenceRecord, tz: Tz) -> SlackMessageContent {
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
    questions_with_answer_button(head, foot, &record.key)
}

/// The questions (`head`), an "Answer" button for the occurrence, and how to answer (`foot`).
fn questions_with_answer_button(
    head: String,
    foot: String,
    key: &OccurrenceKey,
) -> SlackMessageContent {
    SlackMessageContent::new()
        .with_text(format!("{head}\n{foot}"))
        .with_blocks(vec![
            SlackSectionBlock::new().with_text(md!(head)).into(),
            answer_button(key),
            SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
                SlackBlockMarkDownText::new(foot),
            )])
            .into(),
        ])
}

/// The channel message a local-time check-in's answers gather under.
pub(crate) fn local_thread_root(
    record: &OccurrenceRecord,
    checkin: &Checkin,
) -> SlackMessageContent {
    let late = if record.late {
        " _(late: I was not running at its time)_"
    } else {
        ""
    };
    SlackMessageContent::new().with_text(format!(
        "*Check-in for {}*{late}: I am asking each of you by DM at {} your time. Answers gather in this thread; the report follows at the close.",
        record.key.date.format("%a %-d %b"),
        checkin.schedule.at.format("%H:%M"),
    ))
}

/// The DM of a local-time check-in: the questions, an "Answer" button, and "or reply here".
pub(crate) fn dm_prompt(record: &OccurrenceRecord, tz: Tz) -> SlackMessageContent {
    let head = format!(
        "*Check-in for <#{}>*\n{}",
        record.channel,
        question_list(&record.questions)
    );
    let foot = format!(
        "Answer with the button, or just reply here, until {}.",
        when(record.close_at, tz)
    );
    questions_with_answer_button(head, foot, &record.key)
}

/// The one reminder, by DM.
pub(crate) fn dm_reminder(record: &OccurrenceRecord, tz: Tz) -> SlackMessageContent {
    let text = format!(
        "A gentle reminder: the check-in in <#{}> is open until {}. Answer with the button, or just reply here.",
        record.channel,
        when(record.close_at, tz)
    );
    SlackMessageContent::new()
        .with_text(text.clone())
        .with_blocks(vec![
            SlackSectionBlock::new().with_text(md!(text)).into(),
            answer_button(&record.key),
        ])
}

/// The modal to answer (or change an answer), one field per question.
pub(crate) fn answer_modal(record: &OccurrenceRecord, previous: Option<&Answer>) -> SlackView {
    let blocks: Vec<SlackBlock> = record
        .questions
        .iter()
        .enumerate()
        .map(|(index, question)| {
            let mut input = SlackBlockPlainTextInputElement::new()
                .with_action_id(ANSWER_FIELD.into())
                .with_multiline(true)
                .with_max_length(MAX_ANSWER_CHARS);
            if let Some(text) = previous
                .and_then(|answer| answer.fields.get(index))
                .filter(|text| !text.is_empty())
            {
                input = input.with_initial_value(text.clone());
            }
            SlackInputBlock::new(pt!(question.clone()), input.into())
                .with_block_id(format!("q{index}").into())
                .with_optional(true)
                .into()
        })
        .collect();
    SlackView::Modal(
        SlackModalView::new(pt!("Check-in"), blocks)
            .with_callback_id(ANSWER_MODAL.into())
            .with_private_metadata(record.key.to_string())
            .with_submit(pt!("Save"))
            .with_close(pt!("Cancel")),
    )
}

/// The answers typed in the modal, one per question (empty when left blank).
pub(crate) fn read_answer_modal(state: Option<&SlackViewState>, questions: usize) -> Vec<String> {
    (0..questions)
        .map(|index| {
            state
                .and_then(|state| {
                    state
                        .values
                        .get(&SlackBlockId::new(format!("q{index}")))
                        .and_then(|actions| actions.get(&SlackActionId::new(ANSWER_FIELD.into())))
                        .and_then(|value| value.value.clone())
                })
                .unwrap_or_default()
        })
        .collect()
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

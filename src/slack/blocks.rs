//! Block Kit, built from what the core decided to say: the core (`decision`, `checkins`)
//! writes the words as plain data (lines of mrkdwn, a button's label and value), and this is
//! the one place that turns them into Slack's wire types.

use slack_morphism::prelude::*;

use crate::checkins::record::{Answer, OccurrenceRecord};
use crate::checkins::texts::{ANSWER_ACTION, ANSWER_FIELD, ANSWER_MODAL, Prompt};
use crate::decision::note::{Note, NoteButton};

/// Slack's limit for the text of one section block, with room to spare.
const SECTION_CHARS: usize = 2900;
/// Longest answer Slack's plain-text input accepts.
const MAX_ANSWER_CHARS: u64 = 3000;
/// The footer of every note.
const NOTE_FOOTER: &str =
    "Only you can see this. Nothing to undo: they will read it when they are back.";

/// Lines of mrkdwn as section blocks, each under Slack's size limit.
pub(crate) fn sections(lines: &[String]) -> Vec<SlackBlock> {
    let mut texts: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in lines {
        let line: String = line.chars().take(SECTION_CHARS).collect();
        if !current.is_empty() && current.chars().count() + line.chars().count() + 1 > SECTION_CHARS
        {
            texts.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&line);
    }
    if !current.is_empty() {
        texts.push(current);
    }
    texts
        .into_iter()
        .map(|text| SlackSectionBlock::new().with_text(md!(text)).into())
        .collect()
}

/// Lines of mrkdwn as a message: the lines as its text, and as section blocks.
pub(crate) fn lines_message(lines: &[String]) -> SlackMessageContent {
    SlackMessageContent::new()
        .with_text(lines.join("\n"))
        .with_blocks(sections(lines))
}

fn context(text: String) -> SlackBlock {
    SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
        SlackBlockMarkDownText::new(text),
    )])
    .into()
}

fn button(button: &NoteButton, style: Option<SlackBlockButtonStyle>) -> SlackBlock {
    let mut element = SlackBlockButtonElement::new(pt!(button.label.clone()))
        .with_action_id(button.action_id.clone().into())
        .with_value(button.value.clone());
    element.style = style;
    SlackActionsBlock::new(vec![element.into()]).into()
}

/// The note as a message: its plain text (for notifications and screen readers), and its
/// sections (split to respect Slack's size limit) with dividers between them, each with its
/// button, and a footer saying only the sender sees it.
pub fn note(note: &Note) -> SlackMessageContent {
    let mut blocks: Vec<SlackBlock> = Vec::new();
    for (index, section) in note.sections.iter().enumerate() {
        if index > 0 {
            blocks.push(SlackDividerBlock::new().into());
        }
        blocks.extend(sections(&section.lines));
        if let Some(note_button) = &section.button {
            blocks.push(button(note_button, None));
        }
    }
    blocks.push(context(NOTE_FOOTER.into()));
    SlackMessageContent::new()
        .with_text(note.text())
        .with_blocks(blocks)
}

/// A check-in prompt or reminder: its words, the "Answer" button, and how to answer.
pub(crate) fn prompt(prompt: &Prompt) -> SlackMessageContent {
    let Some(key) = &prompt.answer else {
        return SlackMessageContent::new().with_text(prompt.head.clone());
    };
    let answer = NoteButton {
        label: "Answer".into(),
        action_id: ANSWER_ACTION.into(),
        value: key.to_string(),
    };
    let mut blocks = vec![
        SlackSectionBlock::new()
            .with_text(md!(prompt.head.clone()))
            .into(),
        button(&answer, Some(SlackBlockButtonStyle::Primary)),
    ];
    let mut text = prompt.head.clone();
    if let Some(foot) = &prompt.foot {
        blocks.push(context(foot.clone()));
        text = format!("{text}\n{foot}");
    }
    SlackMessageContent::new()
        .with_text(text)
        .with_blocks(blocks)
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
    use crate::checkins::occurrence::OccurrenceKey;
    use crate::decision::note::NoteSection;

    fn kinds(message: &SlackMessageContent) -> Vec<String> {
        serde_json::to_value(message.blocks.as_ref().unwrap())
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|block| block["type"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn sections_of_a_note_are_divided_and_end_with_the_footer() {
        let mut note = Note::default();
        note.push(NoteSection {
            lines: vec!["*Ana* is outside their working hours.".into()],
            button: Some(NoteButton {
                label: "Remind me when they are back".into(),
                action_id: "remind_when_back".into(),
                value: "C1|1.2|U1".into(),
            }),
        });
        note.push(NoteSection {
            lines: vec!["Is it urgent? Real emergencies go to #incidents.".into()],
            button: None,
        });
        let message = self::note(&note);
        assert_eq!(
            kinds(&message),
            ["section", "actions", "divider", "section", "context"]
        );
        assert_eq!(message.text.as_deref(), Some(note.text().as_str()));
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["blocks"][1]["elements"][0]["value"], "C1|1.2|U1");
        assert_eq!(json["blocks"][4]["elements"][0]["text"], NOTE_FOOTER);
    }

    #[test]
    fn long_lines_are_split_within_slacks_limits() {
        let lines: Vec<String> = (0..40)
            .map(|n| format!("{n} {}", "x".repeat(400)))
            .collect();
        let blocks = sections(&lines);
        assert!(blocks.len() > 1 && blocks.len() <= 50, "{}", blocks.len());
        let mut joined = Vec::new();
        for block in &blocks {
            let text = serde_json::to_value(block).unwrap()["text"]["text"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(text.chars().count() <= 3000);
            joined.extend(text.lines().map(str::to_string));
        }
        assert_eq!(joined, lines, "every line kept, in order");
        let long = sections(&["y".repeat(5000)]);
        assert_eq!(long.len(), 1, "a line over the limit is cut, not dropped");
    }

    #[test]
    fn a_prompt_has_the_answer_button_for_its_occurrence() {
        let key = OccurrenceKey::new("12".into(), "2026-03-02".parse().unwrap());
        let message = prompt(&Prompt {
            head: "*Check-in*\n1. What did you do?".into(),
            foot: Some("Answer until Tuesday.".into()),
            answer: Some(key.clone()),
        });
        assert_eq!(kinds(&message), ["section", "actions", "context"]);
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["blocks"][1]["elements"][0]["action_id"], ANSWER_ACTION);
        assert_eq!(json["blocks"][1]["elements"][0]["value"], key.to_string());
        assert_eq!(json["blocks"][1]["elements"][0]["style"], "primary");
        assert_eq!(
            message.text.as_deref(),
            Some("*Check-in*\n1. What did you do?\nAnswer until Tuesday.")
        );
        let plain = prompt(&Prompt {
            head: "Answers gather here.".into(),
            foot: None,
            answer: None,
        });
        assert!(plain.blocks.is_none());
    }
}

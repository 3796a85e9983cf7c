//! What a person asks when they mention the bot: `@async-norms hours @alice @bob`, or
//! `@async-norms who is around?`. Read loosely, because people type to a bot as they talk;
//! anything else gets the introduction.

use serde::{Deserialize, Serialize};

use crate::decision::note::Mentions;
use crate::ids::UserId;

/// A question put to the bot in a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    /// The availability of these members (the asker's own when the list is empty).
    HoursOf(Vec<UserId>),
    /// The availability of the channel's members.
    WhoIsAround,
    /// Anything else.
    Other,
}

/// Reads the text of an `app_mention` event; `bot` is the bot's own user id.
pub fn read_question(text: &str, bot: &UserId) -> Question {
    let mut people = Mentions::in_text(text).users;
    people.retain(|user| user != bot);
    let words: Vec<String> = strip_markup(text)
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
        .collect();
    let has = |word: &str| words.iter().any(|w| w == word);
    if !people.is_empty() {
        return Question::HoursOf(people);
    }
    if has("around") || has("available") || has("online") || has("here") && has("who") {
        return Question::WhoIsAround;
    }
    if has("hours") || has("hour") {
        return Question::HoursOf(Vec::new());
    }
    Question::Other
}

/// The text without Slack's `<…>` markup.
fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_read_as_people_ask_them() {
        let bot = UserId::new("UBOT");
        let cases = [
            (
                "<@UBOT> hours <@U1> <@U2|bob>",
                Question::HoursOf(vec![UserId::new("U1"), UserId::new("U2")]),
            ),
            (
                "<@UBOT> is <@U1> working?",
                Question::HoursOf(vec![UserId::new("U1")]),
            ),
            ("<@UBOT> who is around?", Question::WhoIsAround),
            ("<@UBOT> Who’s around", Question::WhoIsAround),
            ("<@UBOT> who is here", Question::WhoIsAround),
            ("<@UBOT> anyone available?", Question::WhoIsAround),
            ("<@UBOT> my hours", Question::HoursOf(vec![])),
            ("<@UBOT> hi there!", Question::Other),
            ("<@UBOT>", Question::Other),
        ];
        for (text, expected) in cases {
            assert_eq!(read_question(text, &bot), expected, "{text}");
        }
    }
}

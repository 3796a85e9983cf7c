//! Slack message text ("mrkdwn") read as markup: who is mentioned, whether the message is a
//! broadcast, which channels it points at, and the prose a person actually wrote. The urgency
//! rules must only look at that prose — a stack trace in a code block, a URL or a quoted
//! message is not the sender asking for anything — so this module separates the two without
//! copying the text.
//!
//! Slack sends text with `&`, `<` and `>` escaped as `&amp;`, `&lt;` and `&gt;`, so every raw
//! `<` opens markup (`<@U123|name>`, `<!here>`, `<#C123|name>`, `<https://…|label>`). Prose
//! pieces are returned still escaped; [`unescape`] turns a piece back into what was typed.
//!
//! This is the one place that knows Slack's text conventions: the three-character escape
//! ([`escape`], [`unescape`]), what one `<…>` stands for ([`entity`], read the same way for a
//! message and for slash-command text) and how user text is made safe to post again
//! ([`escape`], [`neutralise`]). [`escape_html`] is the different escape of the pages and
//! reports the bot writes as HTML; it lives here so no one writes a fourth.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Slack's date token for `at`: each reader's Slack shows it in their own zone as `format`
/// says (`{date_short_pretty}`, `{time}`, …); clients that cannot, show `fallback`.
pub fn slack_date(at: chrono::DateTime<chrono::Utc>, format: &str, fallback: &str) -> String {
    format!("<!date^{}^{format}|{fallback}>", at.timestamp())
}

/// A byte range of the message text. Both ends always fall on `char` boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// The text this span covers in `text`, or `""` if the span does not belong to `text`.
    pub fn of<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.end).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A special mention that notifies many people at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Broadcast {
    /// `<!here>`: the channel's members who are active now.
    Here,
    /// `<!channel>`: every member of the channel.
    Channel,
    /// `<!everyone>`: every member of the workspace (only possible in #general).
    Everyone,
}

impl Broadcast {
    /// The name a person sees in Slack, with its `@`.
    pub fn as_display(self) -> &'static str {
        match self {
            Broadcast::Here => "@here",
            Broadcast::Channel => "@channel",
            Broadcast::Everyone => "@everyone",
        }
    }

    /// `here`, `channel` or `everyone`, in any case: the keyword of `<!here>` or of a typed
    /// `@here`.
    pub(crate) fn from_keyword(keyword: &str) -> Option<Self> {
        [Broadcast::Here, Broadcast::Channel, Broadcast::Everyone]
            .into_iter()
            .find(|b| b.as_display()[1..].eq_ignore_ascii_case(keyword))
    }
}

impl std::fmt::Display for Broadcast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_display())
    }
}

/// One piece of a message, in the order it appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// Text a person wrote, outside code, quotes and URLs; still Slack-escaped. `start` is
    /// its byte offset in the message.
    Prose { text: &'a str, start: usize },
    /// `<@U123>` or `<@U123|name>`: the mentioned user's id.
    User(&'a str),
    /// `<!here>`, `<!channel>`, `<!everyone>`, with or without a `|label`.
    Broadcast(Broadcast),
    /// `<#C123>` or `<#C123|name>`: the referenced channel's id.
    Channel(&'a str),
    /// `<!subteam^S123>` or `<!subteam^S123|@handle>`: the mentioned user group's id. Slack
    /// notifies every member of the group.
    Subteam(&'a str),
}

/// What one `<…>` of Slack markup stands for, with its `|label` when it has one (still
/// escaped, untrimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity<'a> {
    /// `<@U123>` or `<@U123|name>`.
    User { id: &'a str, label: Option<&'a str> },
    /// `<#C123>`, `<#C123|>` or `<#C123|name>`.
    Channel { id: &'a str, label: Option<&'a str> },
    /// `<!subteam^S123>` or `<!subteam^S123|@handle>`: a user group.
    Subteam { id: &'a str, label: Option<&'a str> },
    /// `<!here>`, `<!channel>`, `<!everyone>`, with or without a `|label`.
    Broadcast(Broadcast),
    /// Any other `<!…>`, such as `<!date^…|fallback>`: Slack renders it itself.
    Special { label: Option<&'a str> },
    /// `<https://…>`, `<https://…|label>`, `<mailto:…|label>`: a link (its address still
    /// escaped).
    Link {
        url: &'a str,
        label: Option<&'a str>,
    },
}

/// Reads the inside of one `<…>` (without the angle brackets). `None` when it is not an
/// entity Slack writes: an id that is not 1 to 32 letters and digits, or a link target
/// without a scheme.
///
/// Read byte by byte and inlined: the message scan meets one at every mention.
#[inline]
pub fn entity(inner: &str) -> Option<Entity<'_>> {
    // `|` is ASCII, so the byte found is a char boundary.
    let (target, label) = match inner.bytes().position(|b| b == b'|') {
        Some(bar) => (&inner[..bar], Some(&inner[bar + 1..])),
        None => (inner, None),
    };
    match target.as_bytes().first() {
        Some(b'@') => {
            let id = &target[1..];
            is_slack_id(id).then_some(Entity::User { id, label })
        }
        Some(b'#') => {
            let id = &target[1..];
            is_slack_id(id).then_some(Entity::Channel { id, label })
        }
        Some(b'!') => {
            let keyword = &target[1..];
            if let Some(id) = keyword.strip_prefix("subteam^") {
                return is_slack_id(id).then_some(Entity::Subteam { id, label });
            }
            Some(match Broadcast::from_keyword(keyword) {
                Some(broadcast) => Entity::Broadcast(broadcast),
                None => Entity::Special { label },
            })
        }
        _ => {
            let is_link = target.contains(':')
                && !target.trim().is_empty()
                && !target.contains(char::is_whitespace);
            is_link.then_some(Entity::Link { url: target, label })
        }
    }
}

/// Slack's ids (`U123`, `C042`, `S7`) are letters and digits, at most 32 of them.
#[inline]
fn is_slack_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Splits Slack message text into [`Token`]s without allocating.
///
/// What is left out of the prose:
/// - code blocks (```` ```…``` ````) and inline code (`` `…` `` on one line), mentions inside
///   them included: Slack shows them as literal text;
/// - block quotes: a line starting with `>` or `&gt;`, and everything after a line starting
///   with `>>>` or `&gt;&gt;&gt;`. Mentions and broadcasts inside a quote are still returned,
///   because Slack still notifies those people;
/// - URLs: `<https://…|label>` keeps only the label, and only when the label is not itself a
///   URL; `<https://…>` leaves nothing;
/// - other markup such as `<!date^…|fallback>`, and a user group's `|@handle` label.
///
/// An unmatched backtick or `<` is dropped and the text after it read as prose.
pub fn tokens(text: &str) -> Tokens<'_> {
    Tokens {
        text,
        pos: 0,
        quote_end: 0,
    }
}

/// The iterator returned by [`tokens`].
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    text: &'a str,
    pos: usize,
    /// Prose before this byte offset belongs to a block quote and is skipped.
    quote_end: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let text = self.text;
        let bytes = text.as_bytes();
        loop {
            if self.pos >= bytes.len() {
                return None;
            }
            if self.pos >= self.quote_end && (self.pos == 0 || bytes[self.pos - 1] == b'\n') {
                self.enter_quote();
                if self.pos >= bytes.len() {
                    return None;
                }
            }
            let in_quote = self.pos < self.quote_end;
            let stop = if in_quote {
                self.quote_end
            } else {
                bytes.len()
            };
            // A newline only ends a piece of prose when the next line is a quote, so phrases
            // read across line breaks and a long message is a few pieces, not one per line.
            let mut special = find_first_of(bytes, self.pos, stop, PROSE_ENDS);
            while special < stop && bytes[special] == b'\n' && !starts_quote(&text[special + 1..]) {
                special = find_first_of(bytes, special + 1, stop, PROSE_ENDS);
            }
            if special > self.pos {
                let start = self.pos;
                self.pos = special;
                if in_quote {
                    continue;
                }
                return Some(Token::Prose {
                    text: &text[start..special],
                    start,
                });
            }
            match bytes[special] {
                b'\n' => self.pos = special + 1,
                b'`' => self.skip_code(special),
                _ => {
                    if let Some(token) = self.read_angle(special, in_quote) {
                        return Some(token);
                    }
                }
            }
        }
    }
}

impl<'a> Tokens<'a> {
    /// At a line start: if the line opens a block quote, remember where the quote ends and
    /// step over its marker.
    fn enter_quote(&mut self) {
        let rest = &self.text[self.pos..];
        let Some((marker, to_end_of_message)) = QUOTE_MARKERS
            .into_iter()
            .find(|(marker, _)| rest.starts_with(marker))
        else {
            return;
        };
        self.quote_end = match (to_end_of_message, rest.find('\n')) {
            (false, Some(line_end)) => self.pos + line_end,
            _ => self.text.len(),
        };
        self.pos += marker.len();
    }

    /// Steps over a code block or inline code starting at `at`; an unmatched fence is
    /// dropped on its own.
    fn skip_code(&mut self, at: usize) {
        let rest = &self.text[at..];
        if let Some(after_fence) = rest.strip_prefix("```") {
            self.pos = match after_fence.find("```") {
                Some(i) => at + 3 + i + 3,
                None => at + 3,
            };
            return;
        }
        let line = rest[1..].split('\n').next().unwrap_or("");
        self.pos = match line.find('`') {
            Some(i) => at + 1 + i + 1,
            None => at + 1,
        };
    }

    /// Reads `<…>` starting at `at`. Returns the token it stands for, or `None` when it
    /// yields nothing (unknown markup, a bare URL, or a label inside a quote).
    fn read_angle(&mut self, at: usize, in_quote: bool) -> Option<Token<'a>> {
        let text = self.text;
        let inner_start = at + 1;
        let bytes = text.as_bytes();
        let close = Some(find_first_of(
            bytes,
            inner_start,
            bytes.len(),
            [b'>', b'<', b'\n'],
        ))
        .filter(|&i| i < bytes.len() && bytes[i] == b'>');
        let Some(close) = close else {
            self.pos = inner_start;
            return None;
        };
        self.pos = close + 1;
        let inner = &text[inner_start..close];
        let label = match entity(inner) {
            Some(Entity::User { id, .. }) => return Some(Token::User(id)),
            Some(Entity::Channel { id, .. }) => return Some(Token::Channel(id)),
            Some(Entity::Subteam { id, .. }) => return Some(Token::Subteam(id)),
            Some(Entity::Broadcast(broadcast)) => return Some(Token::Broadcast(broadcast)),
            Some(Entity::Special { .. }) => return None,
            Some(Entity::Link { label, .. }) => label,
            // Markup Slack does not write: its label, if any, is still what the person wrote.
            None => inner.split_once('|').map(|(_, label)| label),
        };
        let target = &inner[..inner.len() - label.map_or(0, |l| l.len() + 1)];
        match label {
            Some(label) if !in_quote && !label_is_url(target, label) => Some(Token::Prose {
                text: label,
                start: close - label.len(),
            }),
            _ => None,
        }
    }
}

/// What opens a block quote at the start of a line, and whether it quotes the rest of the
/// message (`>>>`) rather than one line. Longest first.
const QUOTE_MARKERS: [(&str, bool); 4] = [
    ("&gt;&gt;&gt;", true),
    (">>>", true),
    ("&gt;", false),
    (">", false),
];

fn starts_quote(line: &str) -> bool {
    line.starts_with('>') || line.starts_with("&gt;")
}

/// The bytes where a piece of prose may end: markup, code, or a line that may be a quote.
const PROSE_ENDS: [u8; 3] = [b'<', b'`', b'\n'];

/// The offset of the first byte of `set` in `bytes[from..to]`, or `to`. Reads eight bytes at
/// a time: most of a message is plain prose, and this search is most of reading it.
pub(crate) fn find_first_of<const N: usize>(
    bytes: &[u8],
    from: usize,
    to: usize,
    set: [u8; N],
) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = from;
    while let Some(chunk) = bytes[at..to].first_chunk::<8>() {
        let word = u64::from_le_bytes(*chunk);
        // The high bit of each byte equal to a byte of `set`; exact for the lowest such byte
        // (a borrow can only mark bytes above a real match), which is the only one used.
        let found = set.iter().fold(0, |found, &byte| {
            let x = word ^ (ONES * u64::from(byte));
            found | (x.wrapping_sub(ONES) & !x & HIGHS)
        });
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    bytes[at..to]
        .iter()
        .position(|b| set.contains(b))
        .map_or(to, |offset| at + offset)
}

/// Whether a link's label is just the address again (Slack writes autolinked text as
/// `<http://example.com/asap|example.com/asap>`), so it is not the sender's words.
fn label_is_url(target: &str, label: &str) -> bool {
    let label = label.trim();
    label.contains("://")
        || target.ends_with(label)
        || (!label.contains(char::is_whitespace)
            && label.contains('.')
            && (label.contains('/') || label.contains('@')))
}

/// Slack's three escapes and the characters they stand for.
const ESCAPES: [(&str, char); 3] = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')];

/// The escape (`&amp;`, `&lt;` or `&gt;`) `text` starts with, if any.
pub fn escape_at(text: &str) -> Option<&'static str> {
    ESCAPES
        .into_iter()
        .map(|(escape, _)| escape)
        .find(|escape| text.starts_with(escape))
}

/// Turns Slack's `&amp;`, `&lt;` and `&gt;` back into `&`, `<` and `>`; borrows when there
/// is nothing to replace.
pub fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (decoded, len) = ESCAPES
            .into_iter()
            .find(|(escape, _)| rest.starts_with(escape))
            .map_or(('&', 1), |(escape, c)| (c, escape.len()));
        out.push(decoded);
        rest = &rest[len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Escapes `&`, `<` and `>` the way Slack does: so words can be matched against escaped
/// text, and so any text a person typed can be shown back (`<!channel>`, `<@U…>` or
/// `<http://…|a disguise>` then read as typed and ping or hide nothing).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

/// Escapes text for HTML and SVG (both XML-shaped): `&`, `<`, `>` and both quotes. Not
/// Slack's escape ([`escape`]): for the pages the bot serves and the reports it writes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Makes the text of a Slack message (already in Slack's markup, `&lt;` for a typed `<`)
/// safe to post again: its `<…>` mentions and links read as typed and notify nobody.
pub fn neutralise(message_text: &str) -> String {
    message_text.replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prose(text: &str) -> String {
        tokens(text)
            .filter_map(|t| match t {
                Token::Prose { text, .. } => Some(text),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn mentions_broadcasts_and_channels_are_extracted() {
        let text = "hi <@U123> and <@W9|bob>, <!here|here> <!channel> <!everyone> see <#C42|ops> \
                    <!subteam^S7|@backend> <!subteam^S8>";
        let found: Vec<Token<'_>> = tokens(text)
            .filter(|t| !matches!(t, Token::Prose { .. }))
            .collect();
        assert_eq!(
            found,
            vec![
                Token::User("U123"),
                Token::User("W9"),
                Token::Broadcast(Broadcast::Here),
                Token::Broadcast(Broadcast::Channel),
                Token::Broadcast(Broadcast::Everyone),
                Token::Channel("C42"),
                Token::Subteam("S7"),
                Token::Subteam("S8"),
            ]
        );
    }

    #[test]
    fn each_entity_is_read_with_its_label() {
        let cases = [
            (
                "@U123",
                Some(Entity::User {
                    id: "U123",
                    label: None,
                }),
            ),
            (
                "@W9|bob",
                Some(Entity::User {
                    id: "W9",
                    label: Some("bob"),
                }),
            ),
            (
                "#C1|",
                Some(Entity::Channel {
                    id: "C1",
                    label: Some(""),
                }),
            ),
            (
                "#C2|general",
                Some(Entity::Channel {
                    id: "C2",
                    label: Some("general"),
                }),
            ),
            (
                "!subteam^S7|@devs",
                Some(Entity::Subteam {
                    id: "S7",
                    label: Some("@devs"),
                }),
            ),
            ("!here|here", Some(Entity::Broadcast(Broadcast::Here))),
            ("!CHANNEL", Some(Entity::Broadcast(Broadcast::Channel))),
            ("!everyone", Some(Entity::Broadcast(Broadcast::Everyone))),
            (
                "!date^1700000000^{time}|9:00",
                Some(Entity::Special {
                    label: Some("9:00"),
                }),
            ),
            (
                "https://a.b/c?x=1&amp;y=2",
                Some(Entity::Link {
                    url: "https://a.b/c?x=1&amp;y=2",
                    label: None,
                }),
            ),
            (
                "mailto:a@b.c|a@b.c",
                Some(Entity::Link {
                    url: "mailto:a@b.c",
                    label: Some("a@b.c"),
                }),
            ),
            // Not what Slack writes: no id, an id that is not letters and digits, no scheme.
            ("@", None),
            ("@U 1", None),
            ("#C-1", None),
            ("!subteam^", None),
            (&*format!("@{}", "U".repeat(33)), None),
            ("b c", None),
            ("plain|label", None),
        ];
        for (inner, expected) in cases {
            assert_eq!(entity(inner), expected, "{inner}");
        }
    }

    #[test]
    fn prose_leaves_out_code_quotes_urls_and_markup() {
        let cases = [
            ("plain words", "plain words"),
            ("run `urgent --now` please", "run | please"),
            ("before ```\nurgent\n``` after", "before | after"),
            ("&gt; urgent quote\nmine", "\nmine"),
            ("&gt;", ""),
            ("&gt;\n&gt;", ""),
            ("> urgent quote\nmine", "\nmine"),
            ("mine\n&gt;&gt;&gt; quoted\nstill quoted", "mine"),
            ("see <https://example.com/asap|the doc>", "see |the doc"),
            ("see <https://example.com/asap>", "see "),
            ("see <http://example.com/asap|example.com/asap>", "see "),
            ("mail <mailto:asap@example.com|asap@example.com>", "mail "),
            ("team <!subteam^S1|@oncall> go", "team | go"),
            ("<#C1|urgent-requests> is the place", " is the place"),
            ("a &lt;b&gt; c", "a &lt;b&gt; c"),
            (
                "line one\nline two\n&gt; quoted\nthree",
                "line one\nline two|\nthree",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(prose(text), expected, "{text}");
        }
    }

    #[test]
    fn a_mention_inside_a_quote_is_still_returned() {
        let found: Vec<Token<'_>> = tokens("&gt; <!here> urgent <@U1>").collect();
        assert_eq!(
            found,
            vec![Token::Broadcast(Broadcast::Here), Token::User("U1")]
        );
    }

    #[test]
    fn a_mention_inside_code_is_ignored() {
        assert_eq!(tokens("`<@U1>` ```<!here>```").count(), 1);
    }

    #[test]
    fn unmatched_markers_are_dropped_and_the_rest_is_prose() {
        assert_eq!(prose("a ``` b"), "a | b");
        assert_eq!(prose("a ` b\nc ` d"), "a | b\nc | d");
        assert_eq!(prose("a <b c"), "a |b c");
    }

    #[test]
    fn prose_offsets_point_into_the_message() {
        let text = "x <https://a.b|label> y";
        for token in tokens(text) {
            if let Token::Prose { text: piece, start } = token {
                assert_eq!(&text[start..start + piece.len()], piece);
            }
        }
    }

    #[test]
    fn special_bytes_are_found_at_any_offset() {
        let mut text = vec![b'a'; 40];
        for at in 0..40 {
            for special in [b'<', b'`', b'\n'] {
                text[at] = special;
                assert_eq!(find_first_of(&text, 0, 40, PROSE_ENDS), at);
                assert_eq!(find_first_of(&text, 0, at, PROSE_ENDS), at);
                text[at] = b'a';
            }
        }
        assert_eq!(find_first_of(b"<a`b\n", 1, 5, PROSE_ENDS), 2);
        assert_eq!(find_first_of(b"abcdefghijklmnop!", 0, 17, [b'!']), 16);
    }

    #[test]
    fn escaping_round_trips() {
        assert_eq!(unescape("R&amp;D &lt;now&gt; &x"), "R&D <now> &x");
        assert_eq!(escape("R&D <now>"), "R&amp;D &lt;now&gt;");
        assert!(matches!(unescape("plain"), Cow::Borrowed(_)));
        assert_eq!(unescape("&amp;lt; &lt;&amp;"), "&lt; <&");
        assert_eq!(escape_at("&gt;&amp;"), Some("&gt;"));
        assert_eq!(escape_at("&g"), None);
    }

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(escape_html("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}

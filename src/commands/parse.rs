//! The `/async` slash command, read strictly. Slack hands us one line of text; this module
//! turns it into a [`Command`] or a [`ParseError`] whose message tells the person exactly what
//! to type instead. It is pure (no clock, no store, no network) so every form and every mistake
//! can be tested as a table, and the handler only ever sees validated values.
//!
//! Parsing runs in two stages. [`tokenize`] splits the text into words, quoted strings,
//! Slack's escaped entities (`<@U123|name>`, `<#C123|name>`, `<!here>`) and the separators
//! `;` and `|`. The second stage reads those tokens per subcommand into the [`Command`] enum,
//! whose variant doc comments are the help text ([`help_text`]).

use std::fmt;
use std::ops::Range;

use chrono::{NaiveDate, NaiveTime, TimeDelta, Timelike, Weekday};
use chrono_tz::Tz;

use crate::hours::dates::{DateError, away_range, parse_date};
use crate::hours::days::{DaysError, Weekdays};
use crate::hours::zone::{ZoneError, abbreviation_examples};
pub use crate::hours::zone::{parse_zone, suggest_zones};
use crate::hours::{HoursError, TimeRange, parse_time_of_day};
use crate::ids::{ChannelId, UserId};
use crate::norms::NudgeAction;
use crate::norms::markup::{self, Entity, escape, unescape};
use crate::typed::{edit_distance, shown};

/// Longest command text accepted, in characters (Slack's own limit is about the same).
pub const MAX_INPUT_CHARS: usize = 4000;
/// Most people one command may name.
pub const MAX_USERS: usize = 20;
/// Most channels one command may name.
pub const MAX_CHANNELS: usize = 10;
/// Most questions one check-in may ask.
pub const MAX_QUESTIONS: usize = 10;
/// Longest question, in characters.
pub const MAX_QUESTION_CHARS: usize = 300;
/// Most urgency keywords one command may add or remove.
pub const MAX_KEYWORDS: usize = 20;
/// Longest urgency keyword or phrase, in characters.
pub const MAX_KEYWORD_CHARS: usize = 50;
/// Most time ranges one `hours set` may give, over all its groups.
pub const MAX_RANGES: usize = 24;
pub use crate::hours::dates::MAX_AWAY_DAYS;

// ---------------------------------------------------------------------------------------------
// Stage 1: tokens
// ---------------------------------------------------------------------------------------------

/// A broadcast that notifies a whole channel or workspace: the one type the message rules
/// use too.
pub use crate::norms::Broadcast;

/// Something a token points at: a person, a channel, a broadcast, a group or a link.
///
/// Escaped entities carry Slack's ids; plain `@name` and `#name` words are kept as names the
/// handler may try to resolve (or explain why it cannot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `<@U123|name>` or `<@U123>`.
    User { id: UserId, name: Option<String> },
    /// `<#C123|name>`, `<#C123|>` or `<#C123>`.
    Channel { id: ChannelId, name: Option<String> },
    /// A plain `@name` that Slack did not turn into a mention.
    UnresolvedUser(String),
    /// A plain `#name` that Slack did not turn into a channel link.
    UnresolvedChannel(String),
    /// `<!here>`, `<!channel>`, `<!everyone>` (or the plain `@here` forms).
    Broadcast(Broadcast),
    /// A user group, `<!subteam^S123|@team>`.
    UserGroup { id: String, handle: Option<String> },
    /// A link Slack detected, `<https://example.com|example.com>`.
    Link { url: String, label: Option<String> },
}

/// What one token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A bare word, with Slack's `&amp;`, `&lt;` and `&gt;` decoded.
    Word(String),
    /// The text between straight or curly double quotes, decoded like a word.
    Quoted(String),
    /// A mention, channel, broadcast, group or link.
    Target(Target),
    /// `|`, which separates check-in questions.
    Pipe,
    /// `;`, which separates groups of working hours.
    Semicolon,
}

/// One token and where it sits in the original text (a byte range), so that free text such
/// as an unquoted question can be taken back exactly as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Range<usize>,
}

fn is_open_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

fn is_close_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}')
}

/// Whitespace, plus the zero-width characters that copy and paste tends to smuggle in.
fn is_separator_space(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

fn ends_word(c: char) -> bool {
    is_separator_space(c) || is_open_quote(c) || matches!(c, '|' | ';' | '<')
}

/// Rejects text no person typed on purpose before any work is done on it.
fn check_input(text: &str) -> Result<(), ParseError> {
    let mut chars = 0;
    for c in text.chars() {
        chars += 1;
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
            return Err(ParseError::ControlCharacter { code: u32::from(c) });
        }
    }
    if chars > MAX_INPUT_CHARS {
        return Err(ParseError::TooLong {
            chars,
            max: MAX_INPUT_CHARS,
        });
    }
    Ok(())
}

/// Splits command text into tokens (stage 1).
///
/// Fails only on input no person meant: more than [`MAX_INPUT_CHARS`] characters, control
/// characters, or a quote that is never closed.
pub fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    check_input(text)?;
    let mut tokens = Vec::new();
    let mut pos = 0;
    while let Some(c) = text[pos..].chars().next() {
        let start = pos;
        let width = c.len_utf8();
        if is_separator_space(c) {
            pos += width;
            continue;
        }
        if c == '|' || c == ';' {
            let kind = if c == '|' {
                TokenKind::Pipe
            } else {
                TokenKind::Semicolon
            };
            pos += width;
            tokens.push(Token {
                kind,
                span: start..pos,
            });
            continue;
        }
        if is_open_quote(c) {
            let body_start = start + width;
            let Some((close, quote)) = text[body_start..]
                .char_indices()
                .find(|(_, q)| is_close_quote(*q))
            else {
                return Err(ParseError::UnterminatedQuote {
                    fragment: shown(&text[start..]),
                });
            };
            let body_end = body_start + close;
            pos = body_end + quote.len_utf8();
            let body = render_plain(&text[body_start..body_end]);
            tokens.push(Token {
                kind: TokenKind::Quoted(body),
                span: start..pos,
            });
            continue;
        }
        if c == '<'
            && let Some((target, len)) = entity_at(&text[start..])
        {
            pos = start + len;
            tokens.push(Token {
                kind: TokenKind::Target(target),
                span: start..pos,
            });
            continue;
        }
        // A word runs to the next separator; a `<` that opened no entity is part of it.
        pos += width;
        while let Some(next) = text[pos..].chars().next() {
            // Slack writes `&` as `&amp;`: that `;` ends an escape, not a group of hours.
            let ends_escape = next == ';'
                && text[start..pos].rfind('&').is_some_and(|amp| {
                    let escape = markup::escape_at(&text[start + amp..]);
                    escape.map(str::len) == Some(pos + 1 - start - amp)
                });
            if ends_word(next) && !ends_escape {
                break;
            }
            pos += next.len_utf8();
        }
        let word = &text[start..pos];
        if word.chars().all(|w| w == ',') {
            // A lone comma between mentions (`<@U1>, <@U2>`) carries no meaning.
            continue;
        }
        tokens.push(Token {
            kind: classify_word(&unescape(word)),
            span: start..pos,
        });
    }
    Ok(tokens)
}

/// Reads a Slack entity at the start of `text` (which begins with `<`), returning it and its
/// length in bytes.
fn entity_at(text: &str) -> Option<(Target, usize)> {
    let close = text.find('>')?;
    let inner = &text[1..close];
    if inner.contains('<') {
        return None;
    }
    Some((parse_entity(inner)?, close + 1))
}

fn non_empty(label: Option<&str>) -> Option<String> {
    label
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| unescape(l).into_owned())
}

fn parse_entity(inner: &str) -> Option<Target> {
    Some(match markup::entity(inner)? {
        Entity::User { id, label } => Target::User {
            id: UserId::new(id),
            name: non_empty(label),
        },
        Entity::Channel { id, label } => Target::Channel {
            id: ChannelId::new(id),
            name: non_empty(label),
        },
        Entity::Subteam { id, label } => Target::UserGroup {
            id: id.to_string(),
            handle: non_empty(label),
        },
        Entity::Broadcast(broadcast) => Target::Broadcast(broadcast),
        Entity::Special { .. } => return None,
        Entity::Link { url, label } => Target::Link {
            url: unescape(url).into_owned(),
            label: non_empty(label),
        },
    })
}

/// Turns a plain word into a word or, for `@name` / `#name`, an unresolved target.
fn classify_word(word: &str) -> TokenKind {
    let name_of = |rest: &str| rest.trim_end_matches(',').to_string();
    if let Some(rest) = word.strip_prefix('@') {
        let name = name_of(rest);
        if let Some(broadcast) = Broadcast::from_keyword(&name) {
            return TokenKind::Target(Target::Broadcast(broadcast));
        }
        if !name.is_empty() {
            return TokenKind::Target(Target::UnresolvedUser(name));
        }
    }
    if let Some(rest) = word.strip_prefix('#') {
        let name = name_of(rest);
        if !name.is_empty() {
            return TokenKind::Target(Target::UnresolvedChannel(name));
        }
    }
    TokenKind::Word(word.to_string())
}

/// Slack-formatted text as a person reads it: mentions become `@name`, channels `#name`,
/// links their label, and escaped characters are decoded. Entities without a name are kept
/// as Slack wrote them, so posting the text back still shows the person or channel.
fn render_plain(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        match entity_at(tail) {
            Some((target, len)) => {
                let shown = match target {
                    Target::User {
                        name: Some(name), ..
                    } => format!("@{name}"),
                    Target::Channel {
                        name: Some(name), ..
                    } => format!("#{name}"),
                    Target::Broadcast(b) => b.to_string(),
                    Target::UserGroup {
                        handle: Some(handle),
                        ..
                    } => handle,
                    Target::Link {
                        label: Some(label), ..
                    } => label,
                    Target::Link { url, label: None } => url,
                    _ => tail[..len].to_string(),
                };
                out.push_str(&shown);
                rest = &tail[len..];
            }
            None => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    unescape(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Stage 2: commands
// ---------------------------------------------------------------------------------------------

/// A person named in a command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserRef {
    /// An escaped mention: Slack already resolved it.
    Id { id: UserId, name: Option<String> },
    /// A plain `@name`: the handler resolves it against the workspace or explains.
    Unresolved(String),
}

/// A channel named in a command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChannelRef {
    /// An escaped channel link: Slack already resolved it.
    Id { id: ChannelId, name: Option<String> },
    /// A plain `#name`: the handler resolves it or explains.
    Unresolved(String),
}

/// Working hours as typed in `/async hours set`: groups of days with their ranges, and at most
/// one time zone for the whole week.
///
/// A range with `end <= start` runs overnight into the next day (`22:00-06:00`); an end typed
/// as `24:00` is stored as `00:00`, so `00:00-24:00` is the only range whose ends are equal
/// and it means the whole day. No two ranges overlap on any day, counting overnight spill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursSpec {
    pub groups: Vec<(Weekdays, Vec<(NaiveTime, NaiveTime)>)>,
    /// `None` keeps the member's current zone (or their Slack profile's).
    pub zone: Option<Tz>,
}

/// Whose clock a check-in follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckinZone {
    /// `in Europe/Berlin`: one IANA zone for everyone.
    Fixed(Tz),
    /// `local` or `in local`: each participant's own zone.
    Local,
    /// Nothing said: the handler picks the default (e.g. the creator's zone).
    Default,
}

/// The span a stats report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatsPeriod {
    #[default]
    SevenDays,
    ThirtyDays,
}

impl StatsPeriod {
    /// The number of days covered.
    pub fn days(self) -> i64 {
        match self {
            StatsPeriod::SevenDays => 7,
            StatsPeriod::ThirtyDays => 30,
        }
    }
}

/// A subcommand family, used to pick the usage line an error shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Help,
    Hours,
    Away,
    Focus,
    Overlap,
    Norms,
    Checkin,
    Stats,
    Role,
    My,
    Forget,
}

/// Each topic's word, the other words people type for it, and the form whose example ends
/// its usage line; in the order of [`Topic`]'s variants.
const TOPICS: [(Topic, &str, &[&str], Form); 11] = [
    (Topic::Help, "help", &["?"], Form::Help),
    (Topic::Hours, "hours", &["hour"], Form::HoursSet),
    (Topic::Away, "away", &[], Form::Away),
    (Topic::Focus, "focus", &[], Form::Focus),
    (Topic::Overlap, "overlap", &[], Form::Overlap),
    (Topic::Norms, "norms", &["norm"], Form::NormsResponseTime),
    (
        Topic::Checkin,
        "checkin",
        &["check-in", "checkins", "check-ins"],
        Form::CheckinCreate,
    ),
    (Topic::Stats, "stats", &[], Form::Stats),
    (Topic::Role, "role", &["roles"], Form::RoleManager),
    (Topic::My, "my", &[], Form::MyData),
    (Topic::Forget, "forget", &[], Form::ForgetMe),
];

impl Topic {
    /// The word that starts the subcommand.
    pub fn word(self) -> &'static str {
        TOPICS[self as usize].1
    }

    /// The form whose example ends the topic's usage line.
    fn example(self) -> Form {
        TOPICS[self as usize].3
    }

    /// The topic `word` starts, by its word or an alias, in any case.
    fn from_word(word: &str) -> Option<Topic> {
        let word = word.to_lowercase();
        TOPICS
            .iter()
            .find(|(_, name, aliases, _)| *name == word || aliases.contains(&word.as_str()))
            .map(|&(topic, ..)| topic)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// How one [`Form`] is typed and what it does.
pub struct FormRow {
    pub topic: Topic,
    /// The word after the topic's that picks the form, then its aliases; none when what
    /// follows is a value (a person, a date, a duration) or the form shares the word of the
    /// form before it.
    pub words: &'static [&'static str],
    /// The form, with `<placeholders>`, `[optional parts]` and `a|b` choices.
    pub syntax: &'static str,
    /// What it does, in a line; `{example}` stands for the form's example.
    pub help: &'static str,
    /// A whole command that works as typed.
    pub example: &'static str,
}

/// Declares [`Command`] from the command table written on its variants, and with it
/// [`Form`], one field-less twin per variant whose [`Form::row`] is that variant's row: its
/// `#[form(..)]` (topic, words, syntax, example) and the first line of its doc comment (the help).
/// The help, each topic's usage and the examples in [`ParseError`]s are all made from these
/// rows, so a form's syntax is written once.
macro_rules! command_table {
    (
        $(#[$meta:meta])*
        pub enum Command {
            $(
                #[form(
                    topic = $topic:ident,
                    words = [$($word:literal),*],
                    syntax = $syntax:literal,
                    example = $example:literal
                )]
                #[doc = $help:literal]
                $(#[doc = $more:literal])*
                $variant:ident $(( $($tuple:tt)* ))? $({ $($record:tt)* })?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum Command {
            $(
                #[doc = $help]
                $(#[doc = $more])*
                $variant $(( $($tuple)* ))? $({ $($record)* })?
            ),*
        }

        /// One form of `/async`: a [`Command`] variant without its values.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Form {
            $($variant),*
        }

        impl Form {
            /// Every form, in the order of the help.
            pub const ALL: &'static [Form] = &[$(Form::$variant),*];

            /// The form's row of the command table.
            pub const fn row(self) -> FormRow {
                match self {
                    $(Form::$variant => FormRow {
                        topic: Topic::$topic,
                        words: &[$($word),*],
                        syntax: $syntax,
                        help: $help,
                        example: $example,
                    }),*
                }
            }
        }

        impl Command {
            /// The form this command was typed in.
            pub fn form(&self) -> Form {
                match self {
                    $(Command::$variant { .. } => Form::$variant),*
                }
            }
        }
    };
}

impl Form {
    /// The form of `topic` that `word` picks, by its word or an alias, in any case.
    fn named(topic: Topic, word: &str) -> Option<Form> {
        let word = word.to_lowercase();
        Form::ALL.iter().copied().find(|form| {
            let row = form.row();
            row.topic == topic && row.words.contains(&word.as_str())
        })
    }

    /// A whole command of this form, for an error to end with.
    pub const fn example(self) -> &'static str {
        self.row().example
    }

    /// The form's line in the help: its syntax, then what it does.
    fn help_line(self) -> String {
        let row = self.row();
        let help = row.help.trim().replace("{example}", row.example);
        format!("`{}` — {help}", row.syntax)
    }
}

/// The usage of one subcommand on one line, ending in an example, for error messages: its
/// forms, then its example.
pub fn usage(topic: Topic) -> String {
    let forms: Vec<&str> = Form::ALL
        .iter()
        .map(|form| form.row())
        .filter(|row| row.topic == topic)
        .map(|row| row.syntax)
        .collect();
    format!("{}, e.g. {}", forms.join(" | "), topic.example().example())
}

command_table! {
    /// A validated `/async` command. Each variant carries its row of the command table: the
    /// `#[form(..)]` and the first line of its doc comment, the help.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Command {
        #[form(topic = Help, words = [],
            syntax = "/async help [topic]", example = "/async help hours")]
        /// this list, or the usage of one subcommand.
        Help(Option<Topic>),
        #[form(topic = Hours, words = [], syntax = "/async hours", example = "/async hours")]
        /// my working hours and local time.
        Hours,
        #[form(topic = Hours, words = [],
            syntax = "/async hours @user [@user …]", example = "/async hours @alice @bob")]
        /// their hours, local time now and next available.
        HoursOf(Vec<UserRef>),
        #[form(topic = Hours, words = ["set"],
            syntax = "/async hours set <days> <HH:MM>-<HH:MM>[,…] [<zone>] [; <days> <ranges> …]",
            example = "/async hours set mon-fri 09:00-17:00 Europe/Berlin")]
        /// set my hours, e.g. `{example}`.
        HoursSet(HoursSpec),
        #[form(topic = Hours, words = ["clear", "reset"],
            syntax = "/async hours clear", example = "/async hours clear")]
        /// back to the default, Mon–Fri 09:00–17:00 in my profile's zone.
        HoursClear,
        #[form(topic = Hours, words = ["signals", "signal"],
            syntax = "/async hours signals on|off", example = "/async hours signals off")]
        /// whether my Slack status (holiday, sick, out of office) counts as away and Do Not Disturb as focus time.
        HoursSignals(bool),
        #[form(topic = Away, words = [],
            syntax = "/async away <YYYY-MM-DD> [<YYYY-MM-DD>]",
            example = "/async away 2026-12-24 2027-01-02")]
        /// I am away those days (inclusive).
        ///
        /// `to >= from` always holds; a single date gives `to == from`.
        Away { from: NaiveDate, to: NaiveDate },
        #[form(topic = Away, words = ["clear", "off"],
            syntax = "/async away clear", example = "/async away clear")]
        /// I am back.
        AwayClear,
        #[form(topic = Focus, words = [],
            syntax = "/async focus <90m|2h|1h30m>", example = "/async focus 90m")]
        /// focus time from now, between 1m and 12h.
        Focus(TimeDelta),
        #[form(topic = Focus, words = ["off"],
            syntax = "/async focus off", example = "/async focus off")]
        /// end focus time now.
        FocusOff,
        #[form(topic = Overlap, words = [],
            syntax = "/async overlap @a @b [#channel …]",
            example = "/async overlap @alice @bob #team")]
        /// our shared working window this week, in my time zone.
        Overlap {
            users: Vec<UserRef>,
            channels: Vec<ChannelRef>,
        },
        #[form(topic = Norms, words = [], syntax = "/async norms", example = "/async norms")]
        /// this channel's norms.
        Norms,
        #[form(topic = Norms, words = ["urgent-channel", "urgent_channel", "urgentchannel", "urgent"],
            syntax = "/async norms urgent-channel #channel",
            example = "/async norms urgent-channel #incidents")]
        /// where real emergencies go (managers and admins).
        NormsUrgentChannel(ChannelRef),
        #[form(topic = Norms, words = [],
            syntax = "/async norms urgent-channel remove #channel",
            example = "/async norms urgent-channel remove #incidents")]
        /// the channel is no longer for emergencies; urgency there is flagged again.
        NormsUrgentChannelRemove(ChannelRef),
        #[form(topic = Norms, words = ["response-time", "response_time", "responsetime", "reply-time"],
            syntax = "/async norms response-time <24h|4h|2d|30m>",
            example = "/async norms response-time 24h")]
        /// the reply time this channel expects.
        NormsResponseTime(TimeDelta),
        #[form(topic = Norms, words = ["keywords", "keyword"],
            syntax = "/async norms keywords add|remove <word …>",
            example = "/async norms keywords add urgent asap")]
        /// urgency words, any language; quote phrases.
        NormsKeywords { add: bool, words: Vec<String> },
        #[form(topic = Norms, words = ["away-words", "away-word"],
            syntax = "/async norms away-words add|remove <word …>",
            example = "/async norms away-words add vacaciones")]
        /// words of a Slack status that mean away (managers and admins).
        NormsAwayWords { add: bool, words: Vec<String> },
        #[form(topic = Norms, words = ["nudges", "nudge"],
            syntax = "/async norms nudges on|off", example = "/async norms nudges off")]
        /// private nudges about urgency in this channel.
        NormsNudges(bool),
        #[form(topic = Norms, words = ["digest", "digests"],
            syntax = "/async norms digest on|off", example = "/async norms digest off")]
        /// my weekly norms digest (managers and admins): a DM on Monday at 09:00 my time.
        NormsDigest(bool),
        #[form(topic = Norms, words = ["retention", "retain"],
            syntax = "/async norms retention <90d|30d|…>", example = "/async norms retention 90d")]
        /// how long check-in answers are kept after their report (admins), 1d to 3650d.
        NormsRetention(TimeDelta),
        #[form(topic = Norms, words = ["action", "actions"],
            syntax = "/async norms action ephemeral|reaction [:emoji:]|thread",
            example = "/async norms action reaction :eyes:")]
        /// how this channel's nudges arrive: a private note, a reaction on the message, or a reply in its thread.
        NormsAction(NudgeAction),
        #[form(topic = Checkin, words = ["create"],
            syntax = "/async checkin create #channel at <HH:MM> on <days> [in <zone>|local] [questions \"Q1\" | \"Q2\" …]",
            example = "/async checkin create #team at 09:30 on mon-fri in Europe/London")]
        /// a recurring check-in.
        CheckinCreate {
            channel: ChannelRef,
            at: NaiveTime,
            days: Weekdays,
            zone: CheckinZone,
            /// Empty when none were given; the handler then uses its default questions.
            questions: Vec<String>,
        },
        #[form(topic = Checkin, words = ["new"],
            syntax = "/async checkin new", example = "/async checkin new")]
        /// create a check-in in a form.
        CheckinNew,
        #[form(topic = Checkin, words = ["list", "ls"],
            syntax = "/async checkin list", example = "/async checkin list")]
        /// check-ins and their ids.
        CheckinList,
        #[form(topic = Checkin, words = ["pause"],
            syntax = "/async checkin pause <id>", example = "/async checkin pause 3")]
        /// stop a check-in for now.
        CheckinPause(String),
        #[form(topic = Checkin, words = ["resume"],
            syntax = "/async checkin resume <id>", example = "/async checkin resume 3")]
        /// start a paused check-in again.
        CheckinResume(String),
        #[form(topic = Checkin, words = ["delete", "remove", "rm"],
            syntax = "/async checkin delete <id>", example = "/async checkin delete 3")]
        /// remove a check-in.
        CheckinDelete(String),
        #[form(topic = Checkin, words = ["run"],
            syntax = "/async checkin run <id>", example = "/async checkin run 3")]
        /// run a check-in now, once.
        CheckinRun(String),
        #[form(topic = Stats, words = [],
            syntax = "/async stats [#channel] [7d|30d]", example = "/async stats #general 30d")]
        /// urgency and check-in figures per channel, never per person.
        Stats {
            channel: Option<ChannelRef>,
            period: StatsPeriod,
        },
        #[form(topic = Role, words = ["manager", "managers"],
            syntax = "/async role manager [remove] @user", example = "/async role manager @alice")]
        /// grant or revoke the manager role (admins).
        RoleManager { grant: bool, user: UserRef },
        #[form(topic = My, words = ["data"], syntax = "/async my data", example = "/async my data")]
        /// everything the bot keeps about me, sent privately as JSON.
        MyData,
        #[form(topic = Forget, words = ["me"],
            syntax = "/async forget me [confirm]", example = "/async forget me")]
        /// delete my hours, time off, focus, role and check-in answers (asks first).
        ForgetMe { confirmed: bool },
    }
}

/// The whole help, in Slack mrkdwn ready to post (`<`, `>` and `&` escaped): every form with
/// a one-line description.
pub fn help_text() -> String {
    let mut text = String::from("*`/async` — working hours, urgency norms and check-ins*\n");
    for form in Form::ALL.iter() {
        text.push_str("• ");
        text.push_str(&escape(&form.help_line()));
        text.push('\n');
    }
    text.push_str(
        "_Days:_ `mon-fri`, `mon,wed,fri`, `weekdays`, `daily`. \
         _Zones:_ IANA names such as `Europe/Berlin` or `America/New_York`.",
    );
    text
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a command could not be read. Every message names the fix and ends with an example.
///
/// Quoted input in messages is cut to 40 characters and has backticks replaced, but is not
/// Slack-escaped: whoever posts the message escapes `&`, `<` and `>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(
        "That command is {chars} characters long; keep it under {max}, e.g. {}",
        Form::HoursSet.example()
    )]
    TooLong { chars: usize, max: usize },
    #[error(
        "The command contains an invisible control character (U+{code:04X}); type it again instead of pasting it, e.g. {}",
        Form::Hours.example()
    )]
    ControlCharacter { code: u32 },
    #[error(
        "The quote at `{fragment}` is never closed; end each quoted text with a quote, e.g. questions \"What did you finish?\" | \"What is next?\""
    )]
    UnterminatedQuote { fragment: String },
    #[error("`/async {got}` is not a command.{} Type /async help for the list, e.g. {}", did_you_mean(.suggestion), Form::Hours.example())]
    UnknownCommand {
        got: String,
        suggestion: Option<&'static str>,
    },
    #[error("`{got}` is not something /async {topic} understands.")]
    UnknownSubcommand { topic: Topic, got: String },
    #[error("`{got}` was not expected there.")]
    UnexpectedArgument { topic: Topic, got: String },
    #[error("Missing {what}.")]
    MissingArgument { topic: Topic, what: &'static str },
    #[error("`{0}` is not a time range; try 09:00-17:00")]
    BadTimeRange(String),
    #[error(
        "`{0}` starts and ends at the same time; give a range such as 09:00-17:00 (or 22:00-06:00 overnight)"
    )]
    EmptyTimeRange(String),
    #[error("`{0}` is not a time; use 24-hour HH:MM, e.g. at 09:30")]
    BadTime(String),
    #[error(transparent)]
    Days(#[from] DaysError),
    #[error(
        "Each group of hours starts with its days, before `{got}`; e.g. {}",
        Form::HoursSet.example()
    )]
    MissingDays { got: String },
    #[error("Give the times after `{days}`, e.g. /async hours set {days} 09:00-17:00")]
    MissingRanges { days: String },
    #[error(
        "`{first}` and `{second}` overlap; give each day ranges that do not overlap, e.g. mon-thu 08:00-12:00,13:00-16:00"
    )]
    OverlappingRanges { first: String, second: String },
    #[error("That is more than {max} time ranges; use fewer, e.g. mon-fri 09:00-12:00,13:00-17:00")]
    TooManyRanges { max: usize },
    #[error(
        "The hours name two time zones, {first} and {second}; give one zone for the whole week, e.g. mon-thu 08:00-12:00; fri 08:00-12:00 America/New_York"
    )]
    TwoZones { first: String, second: String },
    #[error(transparent)]
    Zone(#[from] ZoneError),
    #[error(transparent)]
    Date(#[from] DateError),
    #[error("`{got}` is not a duration; try {}", .rule.example())]
    BadDuration {
        got: String,
        rule: &'static DurationRule,
    },
    #[error("{} must be between {}; `{got}` is not, so try {}", .rule.what, .rule.range, .rule.example())]
    DurationOutOfRange {
        got: String,
        rule: &'static DurationRule,
    },
    #[error("`{got}` is not a person; mention people with @ so Slack links them.")]
    NotAUser { topic: Topic, got: String },
    #[error("`{got}` is not a channel; pick one with # so Slack links it.")]
    NotAChannel { topic: Topic, got: String },
    #[error(
        "That names more than {max} people; ask about at most {max} at a time, e.g. {}",
        Form::HoursOf.example()
    )]
    TooManyUsers { max: usize },
    #[error(
        "That names more than {max} channels; name at most {max}, e.g. {}",
        Form::Overlap.example()
    )]
    TooManyChannels { max: usize },
    #[error(
        "That is {count} questions; a check-in asks at most {max}, e.g. questions \"What did you finish?\" | \"What is next?\""
    )]
    TooManyQuestions { count: usize, max: usize },
    #[error(
        "Question {number} is {chars} characters long; keep each under {max}, e.g. \"What is blocking you?\""
    )]
    QuestionTooLong {
        number: usize,
        chars: usize,
        max: usize,
    },
    #[error(
        "Question {number} is empty; write each question between quotes, e.g. questions \"What did you finish?\" | \"What is next?\""
    )]
    EmptyQuestion { number: usize },
    #[error(
        "That is more than {max} keywords; add at most {max} at a time, e.g. {}",
        Form::NormsKeywords.example()
    )]
    TooManyKeywords { max: usize },
    #[error(
        "`{got}` is longer than {max} characters; keywords are words or short phrases, e.g. /async norms keywords add \"right now\""
    )]
    KeywordTooLong { got: String, max: usize },
    #[error("`{got}` is not on or off; try {}", .form.example())]
    BadOnOff { form: Form, got: String },
    #[error(
        "`{0}` is not a way to nudge; use ephemeral, reaction or thread, e.g. {example}",
        example = Form::NormsAction.example()
    )]
    BadNudgeAction(String),
    #[error(
        "`{0}` is not an emoji name; type the name between colons as Slack suggests it, e.g. {example}",
        example = Form::NormsAction.example()
    )]
    BadEmoji(String),
    #[error(
        "`{0}` is not a check-in id; {list} shows them, e.g. {example}",
        list = Form::CheckinList.example(),
        example = Form::CheckinPause.example()
    )]
    BadCheckinId(String),
    #[error(
        "`{0}` is not a report period; use 7d or 30d, e.g. {example}",
        example = Form::Stats.example()
    )]
    BadPeriod(String),
    #[error(
        "`{clause}` is given twice; give it once, e.g. {}",
        Form::CheckinCreate.example()
    )]
    DuplicateClause { clause: &'static str },
}

fn did_you_mean(suggestion: &Option<&'static str>) -> String {
    match suggestion {
        Some(command) => format!(" Did you mean `/async {command}`?"),
        None => String::new(),
    }
}

impl ParseError {
    /// The subcommand the error belongs to, when one is known, so the handler can add its usage.
    pub fn topic(&self) -> Option<Topic> {
        use ParseError::*;
        match self {
            UnknownSubcommand { topic, .. }
            | UnexpectedArgument { topic, .. }
            | MissingArgument { topic, .. }
            | NotAUser { topic, .. }
            | NotAChannel { topic, .. } => Some(*topic),
            BadOnOff { form, .. } => Some(form.row().topic),
            BadTimeRange(_)
            | EmptyTimeRange(_)
            | MissingDays { .. }
            | MissingRanges { .. }
            | OverlappingRanges { .. }
            | TooManyRanges { .. }
            | TwoZones { .. } => Some(Topic::Hours),
            Date(_) => Some(Topic::Away),
            BadTime(_)
            | TooManyQuestions { .. }
            | QuestionTooLong { .. }
            | EmptyQuestion { .. }
            | BadCheckinId(_)
            | DuplicateClause { .. } => Some(Topic::Checkin),
            TooManyKeywords { .. } | KeywordTooLong { .. } | BadNudgeAction(_) | BadEmoji(_) => {
                Some(Topic::Norms)
            }
            BadPeriod(_) => Some(Topic::Stats),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parser
// ---------------------------------------------------------------------------------------------

/// Parses `/async` command text (what Slack sends after the command name).
///
/// Keywords are case-insensitive and extra whitespace is ignored; empty text is
/// [`Command::Help`]. Any input, however absurd, yields a value or an error, never a panic.
pub fn parse(text: &str) -> Result<Command, ParseError> {
    let tokens = tokenize(text)?;
    let args = Args {
        text,
        tokens: &tokens,
    };
    let Some((first, rest)) = tokens.split_first() else {
        return Ok(Command::Help(None));
    };
    let rest = Args {
        tokens: rest,
        ..args
    };
    let TokenKind::Word(word) = &first.kind else {
        return Err(unknown_command(&args.source(first)));
    };
    let Some(topic) = Topic::from_word(word) else {
        return Err(unknown_command(word));
    };
    match topic {
        Topic::Help => parse_help(rest),
        Topic::Hours => parse_hours(rest),
        Topic::Away => parse_away(rest),
        Topic::Focus => parse_focus(rest),
        Topic::Overlap => parse_overlap(rest),
        Topic::Norms => parse_norms(rest),
        Topic::Checkin => parse_checkin(rest),
        Topic::Stats => parse_stats(rest),
        Topic::Role => parse_role(rest),
        Topic::My => parse_my(rest),
        Topic::Forget => parse_forget(rest),
    }
}

fn unknown_command(got: &str) -> ParseError {
    let lower = got.to_lowercase();
    let suggestion = TOPICS
        .iter()
        .map(|&(_, word, ..)| (edit_distance(&lower, word), word))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, word)| word);
    ParseError::UnknownCommand {
        got: shown(got),
        suggestion,
    }
}

/// The tokens left to read, with the text they came from.
#[derive(Clone, Copy)]
struct Args<'a> {
    text: &'a str,
    tokens: &'a [Token],
}

impl<'a> Args<'a> {
    /// The token as typed, with Slack's markup shown as a person reads it.
    fn source(&self, token: &Token) -> String {
        render_plain(&self.text[token.span.clone()])
    }

    /// `token` was not expected there; the error quotes it as typed.
    fn unexpected(&self, token: &Token, topic: Topic) -> ParseError {
        ParseError::UnexpectedArgument {
            topic,
            got: shown(&self.source(token)),
        }
    }

    fn first(&self) -> Option<&'a Token> {
        self.tokens.first()
    }

    fn skip(&self, n: usize) -> Args<'a> {
        Args {
            tokens: self.tokens.get(n..).unwrap_or(&[]),
            ..*self
        }
    }

    /// The first token as a lower-case keyword, when it is a word.
    fn keyword(&self) -> Option<String> {
        match &self.first()?.kind {
            TokenKind::Word(word) => Some(word.to_lowercase()),
            _ => None,
        }
    }

    /// Fails on any token left over.
    fn end(&self, topic: Topic) -> Result<(), ParseError> {
        match self.first() {
            None => Ok(()),
            Some(token) => Err(self.unexpected(token, topic)),
        }
    }

    /// The rest as one string without spaces, for values people sometimes space out (`1h 30m`).
    fn joined(&self, topic: Topic) -> Result<String, ParseError> {
        let mut joined = String::new();
        for token in self.tokens {
            match &token.kind {
                TokenKind::Word(word) => joined.push_str(word),
                _ => {
                    return Err(self.unexpected(token, topic));
                }
            }
        }
        Ok(joined)
    }
}

fn parse_help(args: Args<'_>) -> Result<Command, ParseError> {
    let Some(word) = args.keyword() else {
        args.end(Topic::Help)?;
        return Ok(Command::Help(None));
    };
    args.skip(1).end(Topic::Help)?;
    match Topic::from_word(&word) {
        Some(topic) => Ok(Command::Help(Some(topic))),
        None => Err(unknown_command(&word)),
    }
}

// --- people and channels ---

fn user_ref(target: &Target) -> Option<UserRef> {
    match target {
        Target::User { id, name } => Some(UserRef::Id {
            id: id.clone(),
            name: name.clone(),
        }),
        Target::UnresolvedUser(name) => Some(UserRef::Unresolved(name.clone())),
        _ => None,
    }
}

fn channel_ref(target: &Target) -> Option<ChannelRef> {
    match target {
        Target::Channel { id, name } => Some(ChannelRef::Id {
            id: id.clone(),
            name: name.clone(),
        }),
        Target::UnresolvedChannel(name) => Some(ChannelRef::Unresolved(name.clone())),
        _ => None,
    }
}

fn same_user(a: &UserRef, b: &UserRef) -> bool {
    match (a, b) {
        (UserRef::Id { id: x, .. }, UserRef::Id { id: y, .. }) => x == y,
        (UserRef::Unresolved(x), UserRef::Unresolved(y)) => x.to_lowercase() == y.to_lowercase(),
        _ => false,
    }
}

fn same_channel(a: &ChannelRef, b: &ChannelRef) -> bool {
    match (a, b) {
        (ChannelRef::Id { id: x, .. }, ChannelRef::Id { id: y, .. }) => x == y,
        (ChannelRef::Unresolved(x), ChannelRef::Unresolved(y)) => {
            x.to_lowercase() == y.to_lowercase()
        }
        _ => false,
    }
}

/// Reads people and (when `channels_allowed`) channels, without duplicates and within the caps.
fn people_and_channels(
    args: Args<'_>,
    topic: Topic,
    channels_allowed: bool,
) -> Result<(Vec<UserRef>, Vec<ChannelRef>), ParseError> {
    let mut users: Vec<UserRef> = Vec::new();
    let mut channels: Vec<ChannelRef> = Vec::new();
    // Counted before duplicates are dropped: 500 mentions of one person is not a request.
    let mut named = 0;
    for token in args.tokens {
        named += 1;
        if named > MAX_USERS + MAX_CHANNELS {
            return Err(ParseError::TooManyUsers { max: MAX_USERS });
        }
        let got = || shown(&args.source(token));
        let TokenKind::Target(target) = &token.kind else {
            return Err(ParseError::NotAUser { topic, got: got() });
        };
        if let Some(user) = user_ref(target) {
            if !users.iter().any(|u| same_user(u, &user)) {
                users.push(user);
            }
            if users.len() > MAX_USERS {
                return Err(ParseError::TooManyUsers { max: MAX_USERS });
            }
            continue;
        }
        match channel_ref(target) {
            Some(channel) if channels_allowed => {
                if !channels.iter().any(|c| same_channel(c, &channel)) {
                    channels.push(channel);
                }
                if channels.len() > MAX_CHANNELS {
                    return Err(ParseError::TooManyChannels { max: MAX_CHANNELS });
                }
            }
            _ => return Err(ParseError::NotAUser { topic, got: got() }),
        }
    }
    Ok((users, channels))
}

/// Reads exactly one channel as the whole of `args`.
fn one_channel(args: Args<'_>, topic: Topic) -> Result<ChannelRef, ParseError> {
    let Some(token) = args.first() else {
        return Err(ParseError::MissingArgument {
            topic,
            what: "the channel",
        });
    };
    let channel = match &token.kind {
        TokenKind::Target(target) => channel_ref(target),
        _ => None,
    };
    let Some(channel) = channel else {
        return Err(ParseError::NotAChannel {
            topic,
            got: shown(&args.source(token)),
        });
    };
    args.skip(1).end(topic)?;
    Ok(channel)
}

// --- hours ---

fn parse_hours(args: Args<'_>) -> Result<Command, ParseError> {
    let Some(first) = args.first() else {
        return Ok(Command::Hours);
    };
    match &first.kind {
        TokenKind::Target(_) => {
            let (users, _) = people_and_channels(args, Topic::Hours, false)?;
            Ok(Command::HoursOf(users))
        }
        TokenKind::Word(word) => match Form::named(Topic::Hours, word) {
            Some(Form::HoursSet) => Ok(Command::HoursSet(parse_hours_spec(args.skip(1))?)),
            Some(Form::HoursClear) => {
                args.skip(1).end(Topic::Hours)?;
                Ok(Command::HoursClear)
            }
            Some(Form::HoursSignals) => Ok(Command::HoursSignals(on_off(
                args.skip(1),
                Form::HoursSignals,
            )?)),
            _ => Err(ParseError::UnknownSubcommand {
                topic: Topic::Hours,
                got: shown(word),
            }),
        },
        _ => Err(args.unexpected(first, Topic::Hours)),
    }
}

/// Closes up spaces around `,` and `-` (and reads dashes as `-`), so `mon - fri` and
/// `08:00-12:00, 13:00-16:00` read like `mon-fri` and `08:00-12:00,13:00-16:00`.
fn close_up_separators(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut skip_space = false;
    for c in text.chars() {
        let c = if matches!(c, '\u{2013}' | '\u{2014}' | '\u{2212}') {
            '-'
        } else {
            c
        };
        if is_separator_space(c) {
            if !skip_space {
                out.push(' ');
            }
            continue;
        }
        if c == ',' || c == '-' {
            out.truncate(out.trim_end().len());
            out.push(c);
            skip_space = true;
            continue;
        }
        skip_space = false;
        out.push(c);
    }
    out
}

fn starts_with_digit(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// Reads `HH:MM-HH:MM`. Ends before starts run overnight; equal ends are an error except
/// `00:00-24:00`, the whole day.
fn parse_time_range(text: &str) -> Result<(NaiveTime, NaiveTime), ParseError> {
    let range = text.parse::<TimeRange>().map_err(|e| match e {
        HoursError::EmptyRange(_) => ParseError::EmptyTimeRange(shown(text)),
        _ => ParseError::BadTimeRange(shown(text)),
    })?;
    Ok((range.start, range.end))
}

fn looks_like_zone(word: &str) -> bool {
    word.contains('/') || parse_zone(word).is_ok() || abbreviation_examples(word).is_some()
}

/// One group, `<days> <ranges> [<zone>]`, already closed up and split into words.
struct HoursGroup {
    days: Weekdays,
    ranges: Vec<(NaiveTime, NaiveTime, String)>,
    zone: Option<Tz>,
}

fn parse_hours_group(words: &[&str]) -> Result<HoursGroup, ParseError> {
    let mut days: Option<Weekdays> = None;
    let mut ranges = Vec::new();
    let mut zone: Option<Tz> = None;
    for word in words {
        if zone.is_some() {
            return Err(ParseError::UnexpectedArgument {
                topic: Topic::Hours,
                got: shown(word),
            });
        }
        if starts_with_digit(word) {
            let Some(group_days) = days else {
                return Err(ParseError::MissingDays { got: shown(word) });
            };
            let parts: Vec<&str> = word.split(',').filter(|p| !p.is_empty()).collect();
            for (index, part) in parts.iter().enumerate() {
                if !starts_with_digit(part) && index + 1 == parts.len() && index > 0 {
                    // `09:00-17:00,Europe/Berlin`: a zone after a stray comma.
                    zone = Some(parse_zone(part)?);
                    continue;
                }
                let (start, end) = parse_time_range(part)?;
                ranges.push((start, end, format!("{group_days} {part}")));
                if ranges.len() > MAX_RANGES {
                    return Err(ParseError::TooManyRanges { max: MAX_RANGES });
                }
            }
            continue;
        }
        if !ranges.is_empty() {
            zone = Some(parse_zone(word)?);
            continue;
        }
        match word.parse::<Weekdays>() {
            Ok(more) => days = Some(days.map_or(more, |d| d.union(more))),
            Err(_) if looks_like_zone(word) => {
                return Err(match days {
                    Some(days) => ParseError::MissingRanges {
                        days: days.to_string(),
                    },
                    None => ParseError::MissingDays { got: shown(word) },
                });
            }
            Err(err) => return Err(err.into()),
        }
    }
    let Some(days) = days else {
        return Err(ParseError::MissingArgument {
            topic: Topic::Hours,
            what: "the days and times",
        });
    };
    if ranges.is_empty() {
        return Err(ParseError::MissingRanges {
            days: days.to_string(),
        });
    }
    Ok(HoursGroup { days, ranges, zone })
}

fn parse_hours_spec(args: Args<'_>) -> Result<HoursSpec, ParseError> {
    let mut groups: Vec<HoursGroup> = Vec::new();
    for group in args.tokens.split(|t| t.kind == TokenKind::Semicolon) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        if let Some(token) = group.iter().find(|t| !matches!(t.kind, TokenKind::Word(_))) {
            return Err(args.unexpected(token, Topic::Hours));
        }
        let text = close_up_separators(&args.text[first.span.start..last.span.end]);
        let words: Vec<&str> = text.split_whitespace().collect();
        groups.push(parse_hours_group(&words)?);
    }
    if groups.is_empty() {
        return Err(ParseError::MissingArgument {
            topic: Topic::Hours,
            what: "the days and times",
        });
    }
    // Each group stops at the limit by itself; this is the limit over all of them.
    if groups.iter().map(|g| g.ranges.len()).sum::<usize>() > MAX_RANGES {
        return Err(ParseError::TooManyRanges { max: MAX_RANGES });
    }
    let mut zone: Option<Tz> = None;
    for group_zone in groups.iter().filter_map(|g| g.zone) {
        match zone {
            Some(first) if first != group_zone => {
                return Err(ParseError::TwoZones {
                    first: first.name().to_string(),
                    second: group_zone.name().to_string(),
                });
            }
            _ => zone = Some(group_zone),
        }
    }
    check_no_overlap(&groups)?;
    let groups = groups
        .into_iter()
        .map(|g| {
            (
                g.days,
                g.ranges
                    .into_iter()
                    .map(|(start, end, _)| (start, end))
                    .collect(),
            )
        })
        .collect();
    Ok(HoursSpec { groups, zone })
}

const MINUTES_PER_DAY: i64 = 24 * 60;
const MINUTES_PER_WEEK: i64 = 7 * MINUTES_PER_DAY;

fn minute_of_day(time: NaiveTime) -> i64 {
    i64::from(time.hour()) * 60 + i64::from(time.minute())
}

/// Fails when two ranges share any minute of the week, counting overnight ranges into the
/// next day and Sunday night into Monday.
fn check_no_overlap(groups: &[HoursGroup]) -> Result<(), ParseError> {
    let mut spans: Vec<(i64, i64, String)> = Vec::new();
    for group in groups {
        for day in group.days.iter() {
            for (start, end, label) in &group.ranges {
                let from =
                    i64::from(day.num_days_from_monday()) * MINUTES_PER_DAY + minute_of_day(*start);
                let mut length =
                    (minute_of_day(*end) - minute_of_day(*start)).rem_euclid(MINUTES_PER_DAY);
                if length == 0 {
                    length = MINUTES_PER_DAY;
                }
                let label = label_for_day(label, day, group.days);
                spans.push((from, length, label));
            }
        }
    }
    for (i, (a_from, a_len, a_label)) in spans.iter().enumerate() {
        for (b_from, b_len, b_label) in &spans[i + 1..] {
            let clash = [-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK]
                .into_iter()
                .any(|shift| {
                    let b_from = b_from + shift;
                    *a_from < b_from + b_len && b_from < a_from + a_len
                });
            if clash {
                return Err(ParseError::OverlappingRanges {
                    first: a_label.clone(),
                    second: b_label.clone(),
                });
            }
        }
    }
    Ok(())
}

/// `mon-fri 09:00-17:00` on a Tuesday is shown as `tue 09:00-17:00` when the group has
/// several days, so the error names the day where the clash is.
fn label_for_day(label: &str, day: Weekday, days: Weekdays) -> String {
    if days == Weekdays::only(day) {
        return label.to_string();
    }
    let range = label.rsplit(' ').next().unwrap_or(label);
    format!("{} {range}", Weekdays::only(day))
}

// --- away ---

fn parse_away(args: Args<'_>) -> Result<Command, ParseError> {
    let mut words: Vec<String> = Vec::new();
    for token in args.tokens {
        match &token.kind {
            TokenKind::Word(word) => words.push(word.clone()),
            _ => {
                return Err(args.unexpected(token, Topic::Away));
            }
        }
    }
    // `2026-12-24 to 2027-01-02` and `2026-12-24 - 2027-01-02` read like the bare pair.
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| {
            !matches!(
                w.to_lowercase().as_str(),
                "to" | "-" | "until" | "through" | "till"
            )
        })
        .collect();
    match words.as_slice() {
        [] => Err(ParseError::MissingArgument {
            topic: Topic::Away,
            what: "the dates",
        }),
        [word] if Form::named(Topic::Away, word) == Some(Form::AwayClear) => Ok(Command::AwayClear),
        [day] => {
            let day = parse_date(day)?;
            Ok(Command::Away { from: day, to: day })
        }
        [from, to] => {
            let (from, to) = away_range(parse_date(from)?, parse_date(to)?)?;
            Ok(Command::Away { from, to })
        }
        [_, _, extra, ..] => Err(ParseError::UnexpectedArgument {
            topic: Topic::Away,
            got: shown(extra),
        }),
    }
}

// --- durations ---

/// Reads `90m`, `2h`, `1h30m`, `2d` (units largest first, each once). `None` when it is not
/// a duration; bounds are checked by the caller.
fn parse_duration(text: &str) -> Option<TimeDelta> {
    let lower = text.to_lowercase();
    let mut rest = lower.as_str();
    let mut total: i64 = 0;
    let mut last_rank = u8::MAX;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 5 {
            return None;
        }
        let number: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (rank, minutes) = match &rest[..letters] {
            "d" | "day" | "days" => (3, MINUTES_PER_DAY),
            "h" | "hr" | "hrs" | "hour" | "hours" => (2, 60),
            "m" | "min" | "mins" | "minute" | "minutes" => (1, 1),
            _ => return None,
        };
        if rank >= last_rank {
            return None;
        }
        last_rank = rank;
        total += number * minutes;
        rest = &rest[letters..];
    }
    Some(TimeDelta::minutes(total))
}

/// The bounds of one duration a command takes, and how to say them in an error.
#[derive(Debug, PartialEq, Eq)]
pub struct DurationRule {
    what: &'static str,
    min: TimeDelta,
    max: TimeDelta,
    range: &'static str,
    /// The form that takes it, whose example the error ends with.
    form: Form,
    /// Other values to try, after the example.
    others: &'static str,
}

impl DurationRule {
    fn example(&self) -> String {
        format!("{} (or {})", self.form.example(), self.others)
    }
}

const FOCUS_RULE: DurationRule = DurationRule {
    what: "Focus time",
    min: TimeDelta::minutes(1),
    max: TimeDelta::hours(12),
    range: "1m and 12h",
    form: Form::Focus,
    others: "2h, 1h30m",
};

const RETENTION_RULE: DurationRule = DurationRule {
    what: "The retention of check-in answers",
    min: TimeDelta::days(1),
    max: TimeDelta::days(3650),
    range: "1d and 3650d",
    form: Form::NormsRetention,
    others: "30d, 365d",
};

const RESPONSE_TIME_RULE: DurationRule = DurationRule {
    what: "The expected response time",
    min: TimeDelta::minutes(1),
    max: TimeDelta::days(30),
    range: "1m and 30d",
    form: Form::NormsResponseTime,
    others: "4h, 2d, 30m",
};

fn bounded_duration(text: &str, rule: &'static DurationRule) -> Result<TimeDelta, ParseError> {
    let Some(duration) = parse_duration(text) else {
        return Err(ParseError::BadDuration {
            got: shown(text),
            rule,
        });
    };
    if duration < rule.min || duration > rule.max {
        return Err(ParseError::DurationOutOfRange {
            got: shown(text),
            rule,
        });
    }
    Ok(duration)
}

fn parse_focus(args: Args<'_>) -> Result<Command, ParseError> {
    if args.first().is_none() {
        return Err(ParseError::MissingArgument {
            topic: Topic::Focus,
            what: "how long",
        });
    }
    if args.keyword().and_then(|w| Form::named(Topic::Focus, &w)) == Some(Form::FocusOff) {
        args.skip(1).end(Topic::Focus)?;
        return Ok(Command::FocusOff);
    }
    let text = args.joined(Topic::Focus)?;
    Ok(Command::Focus(bounded_duration(&text, &FOCUS_RULE)?))
}

// --- overlap ---

fn parse_overlap(args: Args<'_>) -> Result<Command, ParseError> {
    let (users, channels) = people_and_channels(args, Topic::Overlap, true)?;
    if users.is_empty() && channels.is_empty() {
        return Err(ParseError::MissingArgument {
            topic: Topic::Overlap,
            what: "the people (or channels) to compare with",
        });
    }
    Ok(Command::Overlap { users, channels })
}

// --- norms ---

fn parse_norms(args: Args<'_>) -> Result<Command, ParseError> {
    let Some(first) = args.first() else {
        return Ok(Command::Norms);
    };
    let Some(word) = args.keyword() else {
        return Err(ParseError::UnknownSubcommand {
            topic: Topic::Norms,
            got: shown(&args.source(first)),
        });
    };
    let rest = args.skip(1);
    match Form::named(Topic::Norms, &word) {
        Some(Form::NormsUrgentChannel) => match rest.keyword().as_deref() {
            Some("remove" | "rm" | "delete") => Ok(Command::NormsUrgentChannelRemove(one_channel(
                rest.skip(1),
                Topic::Norms,
            )?)),
            _ => Ok(Command::NormsUrgentChannel(one_channel(
                rest,
                Topic::Norms,
            )?)),
        },
        Some(Form::NormsResponseTime) => {
            if rest.first().is_none() {
                return Err(ParseError::MissingArgument {
                    topic: Topic::Norms,
                    what: "the response time",
                });
            }
            let text = rest.joined(Topic::Norms)?;
            Ok(Command::NormsResponseTime(bounded_duration(
                &text,
                &RESPONSE_TIME_RULE,
            )?))
        }
        Some(Form::NormsKeywords) => parse_keywords(rest),
        Some(Form::NormsAwayWords) => match parse_keywords(rest)? {
            Command::NormsKeywords { add, words } => Ok(Command::NormsAwayWords { add, words }),
            other => Ok(other),
        },
        Some(Form::NormsNudges) => Ok(Command::NormsNudges(on_off(rest, Form::NormsNudges)?)),
        Some(Form::NormsDigest) => Ok(Command::NormsDigest(on_off(rest, Form::NormsDigest)?)),
        Some(Form::NormsAction) => parse_nudge_action(rest),
        Some(Form::NormsRetention) => {
            if rest.first().is_none() {
                return Err(ParseError::MissingArgument {
                    topic: Topic::Norms,
                    what: "how long answers are kept",
                });
            }
            let text = rest.joined(Topic::Norms)?;
            Ok(Command::NormsRetention(bounded_duration(
                &text,
                &RETENTION_RULE,
            )?))
        }
        _ => Err(ParseError::UnknownSubcommand {
            topic: Topic::Norms,
            got: shown(&word),
        }),
    }
}

// --- a member's own data ---

/// The words of `args` must be exactly `words` (any case); otherwise the usage of `topic`.
fn exact_words(args: Args<'_>, words: &[&'static str], topic: Topic) -> Result<(), ParseError> {
    let mut rest = args;
    for word in words {
        let Some(first) = rest.first() else {
            return Err(ParseError::MissingArgument { topic, what: word });
        };
        if rest.keyword().as_deref() != Some(*word) {
            return Err(ParseError::UnknownSubcommand {
                topic,
                got: shown(&rest.source(first)),
            });
        }
        rest = rest.skip(1);
    }
    rest.end(topic)
}

fn parse_my(args: Args<'_>) -> Result<Command, ParseError> {
    exact_words(args, Form::MyData.row().words, Topic::My)?;
    Ok(Command::MyData)
}

fn parse_forget(args: Args<'_>) -> Result<Command, ParseError> {
    let confirmed = args.skip(1).keyword().as_deref() == Some("confirm");
    let mut words = Form::ForgetMe.row().words.to_vec();
    if confirmed {
        words.push("confirm");
    }
    exact_words(args, &words, Topic::Forget)?;
    Ok(Command::ForgetMe { confirmed })
}

/// Reads `on` or `off`, the last word of `form`; mistakes show `form`'s example and its
/// topic's usage.
fn on_off(args: Args<'_>, form: Form) -> Result<bool, ParseError> {
    let topic = form.row().topic;
    let Some(token) = args.first() else {
        return Err(ParseError::MissingArgument {
            topic,
            what: "on or off",
        });
    };
    let on = match args.keyword().as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => {
            return Err(ParseError::BadOnOff {
                form,
                got: shown(&args.source(token)),
            });
        }
    };
    args.skip(1).end(topic)?;
    Ok(on)
}

/// The reaction a nudge adds when none is named.
pub const DEFAULT_NUDGE_EMOJI: &str = "hourglass_flowing_sand";
/// Slack's emoji names are at most this long.
const MAX_EMOJI_CHARS: usize = 100;

fn parse_nudge_action(args: Args<'_>) -> Result<Command, ParseError> {
    let Some(token) = args.first() else {
        return Err(ParseError::MissingArgument {
            topic: Topic::Norms,
            what: "the action (ephemeral, reaction or thread)",
        });
    };
    let rest = args.skip(1);
    let action = match args.keyword().as_deref() {
        Some("ephemeral" | "private" | "note") => NudgeAction::Ephemeral,
        Some("thread" | "thread-reply" | "reply") => NudgeAction::ThreadReply,
        Some("reaction" | "react" | "emoji") => {
            let emoji = match rest.first() {
                None => DEFAULT_NUDGE_EMOJI.to_string(),
                Some(token) => emoji_name(&rest.source(token))?,
            };
            rest.skip(1).end(Topic::Norms)?;
            return Ok(Command::NormsAction(NudgeAction::Reaction { emoji }));
        }
        _ => return Err(ParseError::BadNudgeAction(shown(&args.source(token)))),
    };
    rest.end(Topic::Norms)?;
    Ok(Command::NormsAction(action))
}

/// An emoji as typed, `:eyes:` or `eyes` (a skin tone such as `:+1::skin-tone-2:` included),
/// as the name `reactions.add` takes.
fn emoji_name(typed: &str) -> Result<String, ParseError> {
    let bad = || ParseError::BadEmoji(shown(typed));
    let inner = typed.strip_prefix(':').unwrap_or(typed);
    let inner = inner.strip_suffix(':').unwrap_or(inner).to_lowercase();
    let name = inner.replace("::", ":");
    let valid_part = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+-'".contains(c))
    };
    let parts: Vec<&str> = name.split(':').collect();
    let tone_ok = match parts.as_slice() {
        [_] => true,
        [_, tone] => tone.starts_with("skin-tone-"),
        _ => false,
    };
    if name.chars().count() > MAX_EMOJI_CHARS || !tone_ok || !parts.iter().all(|p| valid_part(p)) {
        return Err(bad());
    }
    Ok(inner)
}

fn parse_keywords(args: Args<'_>) -> Result<Command, ParseError> {
    let add = match args.keyword().as_deref() {
        Some("add") => true,
        Some("remove" | "delete" | "rm") => false,
        Some(other) => {
            return Err(ParseError::UnknownSubcommand {
                topic: Topic::Norms,
                got: shown(other),
            });
        }
        None => {
            return Err(ParseError::MissingArgument {
                topic: Topic::Norms,
                what: "add or remove",
            });
        }
    };
    let rest = args.skip(1);
    let mut words: Vec<String> = Vec::new();
    for token in rest.tokens {
        let found: Vec<String> = match &token.kind {
            TokenKind::Quoted(phrase) => vec![phrase.trim().to_string()],
            TokenKind::Word(_) | TokenKind::Target(_) => rest
                .source(token)
                .split(',')
                .map(|w| w.trim().to_string())
                .filter(|w| !w.is_empty())
                .collect(),
            TokenKind::Pipe | TokenKind::Semicolon => {
                return Err(rest.unexpected(token, Topic::Norms));
            }
        };
        for word in found {
            if word.is_empty() {
                continue;
            }
            if word.chars().count() > MAX_KEYWORD_CHARS {
                return Err(ParseError::KeywordTooLong {
                    got: shown(&word),
                    max: MAX_KEYWORD_CHARS,
                });
            }
            if !words
                .iter()
                .any(|w| w.to_lowercase() == word.to_lowercase())
            {
                words.push(word);
            }
            if words.len() > MAX_KEYWORDS {
                return Err(ParseError::TooManyKeywords { max: MAX_KEYWORDS });
            }
        }
    }
    if words.is_empty() {
        return Err(ParseError::MissingArgument {
            topic: Topic::Norms,
            what: "the keywords",
        });
    }
    Ok(Command::NormsKeywords { add, words })
}

// --- check-ins ---

fn parse_checkin(args: Args<'_>) -> Result<Command, ParseError> {
    let Some(first) = args.first() else {
        return Err(ParseError::MissingArgument {
            topic: Topic::Checkin,
            what: "what to do (create, new, list, pause, resume, delete or run)",
        });
    };
    let Some(word) = args.keyword() else {
        return Err(ParseError::UnknownSubcommand {
            topic: Topic::Checkin,
            got: shown(&args.source(first)),
        });
    };
    let rest = args.skip(1);
    let simple = |command: Command| rest.end(Topic::Checkin).map(|()| command);
    match Form::named(Topic::Checkin, &word) {
        Some(Form::CheckinCreate) => parse_checkin_create(rest),
        Some(Form::CheckinNew) => simple(Command::CheckinNew),
        Some(Form::CheckinList) => simple(Command::CheckinList),
        Some(Form::CheckinPause) => Ok(Command::CheckinPause(checkin_id(rest)?)),
        Some(Form::CheckinResume) => Ok(Command::CheckinResume(checkin_id(rest)?)),
        Some(Form::CheckinDelete) => Ok(Command::CheckinDelete(checkin_id(rest)?)),
        Some(Form::CheckinRun) => Ok(Command::CheckinRun(checkin_id(rest)?)),
        _ => Err(ParseError::UnknownSubcommand {
            topic: Topic::Checkin,
            got: shown(&word),
        }),
    }
}

/// A check-in id: 1 to 32 letters, digits, `-` or `_` (a `#` in front is allowed).
fn checkin_id(args: Args<'_>) -> Result<String, ParseError> {
    let Some(token) = args.first() else {
        return Err(ParseError::MissingArgument {
            topic: Topic::Checkin,
            what: "the check-in id",
        });
    };
    let id = match &token.kind {
        TokenKind::Word(word) => word.clone(),
        TokenKind::Target(Target::UnresolvedChannel(name)) => name.clone(),
        _ => return Err(ParseError::BadCheckinId(shown(&args.source(token)))),
    };
    let valid = (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(ParseError::BadCheckinId(shown(&id)));
    }
    args.skip(1).end(Topic::Checkin)?;
    Ok(id)
}

fn is_clause_word(word: &str) -> bool {
    matches!(
        word,
        "at" | "on" | "in" | "local" | "questions" | "question" | "q"
    )
}

fn parse_checkin_create(args: Args<'_>) -> Result<Command, ParseError> {
    let topic = Topic::Checkin;
    let Some(first) = args.first() else {
        return Err(ParseError::MissingArgument {
            topic,
            what: "the channel",
        });
    };
    let channel = match &first.kind {
        TokenKind::Target(target) => channel_ref(target),
        _ => None,
    };
    let Some(channel) = channel else {
        return Err(ParseError::NotAChannel {
            topic,
            got: shown(&args.source(first)),
        });
    };
    let mut at: Option<NaiveTime> = None;
    let mut days: Option<Weekdays> = None;
    let mut zone: Option<CheckinZone> = None;
    let mut questions: Vec<String> = Vec::new();
    let mut rest = args.skip(1);
    while let Some(token) = rest.first() {
        let Some(word) = rest.keyword() else {
            return Err(rest.unexpected(token, topic));
        };
        rest = rest.skip(1);
        match word.as_str() {
            "at" => {
                if at.is_some() {
                    return Err(ParseError::DuplicateClause { clause: "at" });
                }
                let Some(time) = rest.first() else {
                    return Err(ParseError::MissingArgument {
                        topic,
                        what: "the time after `at`",
                    });
                };
                let typed = rest.source(time);
                at = Some(
                    parse_time_of_day(&typed).ok_or_else(|| ParseError::BadTime(shown(&typed)))?,
                );
                rest = rest.skip(1);
            }
            "on" => {
                if days.is_some() {
                    return Err(ParseError::DuplicateClause { clause: "on" });
                }
                let count = rest
                    .tokens
                    .iter()
                    .take_while(|t| matches!(&t.kind, TokenKind::Word(w) if !is_clause_word(&w.to_lowercase())))
                    .count();
                if count == 0 {
                    return Err(ParseError::MissingArgument {
                        topic,
                        what: "the days after `on`",
                    });
                }
                let (first_day, last_day) = (&rest.tokens[0], &rest.tokens[count - 1]);
                let text = close_up_separators(&rest.text[first_day.span.start..last_day.span.end]);
                let mut parsed = Weekdays::NONE;
                for part in text.split_whitespace() {
                    parsed = parsed.union(part.parse::<Weekdays>()?);
                }
                days = Some(parsed);
                rest = rest.skip(count);
            }
            "in" | "local" => {
                if zone.is_some() {
                    return Err(ParseError::DuplicateClause { clause: "in" });
                }
                if word == "local" {
                    zone = Some(CheckinZone::Local);
                    continue;
                }
                let Some(name) = rest.first() else {
                    return Err(ParseError::MissingArgument {
                        topic,
                        what: "the time zone after `in`",
                    });
                };
                let typed = rest.source(name);
                zone = Some(if typed.eq_ignore_ascii_case("local") {
                    CheckinZone::Local
                } else {
                    CheckinZone::Fixed(parse_zone(&typed)?)
                });
                rest = rest.skip(1);
            }
            "questions" | "question" | "q" => {
                questions = parse_questions(rest)?;
                rest = rest.skip(rest.tokens.len());
            }
            _ => {
                return Err(ParseError::UnexpectedArgument {
                    topic,
                    got: shown(&word),
                });
            }
        }
    }
    let Some(at) = at else {
        return Err(ParseError::MissingArgument {
            topic,
            what: "the time, e.g. `at 09:30`",
        });
    };
    let Some(days) = days else {
        return Err(ParseError::MissingArgument {
            topic,
            what: "the days, e.g. `on mon-fri`",
        });
    };
    Ok(Command::CheckinCreate {
        channel,
        at,
        days,
        zone: zone.unwrap_or(CheckinZone::Default),
        questions,
    })
}

/// Reads questions: quoted (`"Q1" | "Q2"` or `"Q1" "Q2"`) or unquoted text separated by `|`.
fn parse_questions(args: Args<'_>) -> Result<Vec<String>, ParseError> {
    let mut questions: Vec<String> = Vec::new();
    let mut run: Option<Range<usize>> = None;
    let flush = |run: &mut Option<Range<usize>>, questions: &mut Vec<String>| {
        if let Some(span) = run.take() {
            questions.push(render_plain(&args.text[span]).trim().to_string());
        }
    };
    for token in args.tokens {
        match &token.kind {
            TokenKind::Quoted(text) => {
                flush(&mut run, &mut questions);
                questions.push(text.trim().to_string());
            }
            TokenKind::Pipe => flush(&mut run, &mut questions),
            _ => {
                run = Some(match run {
                    Some(span) => span.start..token.span.end,
                    None => token.span.clone(),
                });
            }
        }
        if questions.len() > MAX_QUESTIONS {
            break;
        }
    }
    flush(&mut run, &mut questions);
    if questions.is_empty() {
        return Err(ParseError::MissingArgument {
            topic: Topic::Checkin,
            what: "the questions, in quotes",
        });
    }
    check_questions(questions)
}

/// A check-in's questions as every entry path must give them (the command and the modal): at
/// most [`MAX_QUESTIONS`], none empty, each at most [`MAX_QUESTION_CHARS`] characters.
pub(crate) fn check_questions(questions: Vec<String>) -> Result<Vec<String>, ParseError> {
    if questions.len() > MAX_QUESTIONS {
        return Err(ParseError::TooManyQuestions {
            count: questions.len(),
            max: MAX_QUESTIONS,
        });
    }
    for (index, question) in questions.iter().enumerate() {
        let chars = question.chars().count();
        if chars == 0 {
            return Err(ParseError::EmptyQuestion { number: index + 1 });
        }
        if chars > MAX_QUESTION_CHARS {
            return Err(ParseError::QuestionTooLong {
                number: index + 1,
                chars,
                max: MAX_QUESTION_CHARS,
            });
        }
    }
    Ok(questions)
}

// --- stats and roles ---

fn parse_stats(args: Args<'_>) -> Result<Command, ParseError> {
    let mut channel: Option<ChannelRef> = None;
    let mut period: Option<StatsPeriod> = None;
    for token in args.tokens {
        let got = || shown(&args.source(token));
        match &token.kind {
            TokenKind::Target(target) => match channel_ref(target) {
                Some(found) if channel.is_none() => channel = Some(found),
                Some(_) => return Err(args.unexpected(token, Topic::Stats)),
                None => {
                    return Err(ParseError::NotAChannel {
                        topic: Topic::Stats,
                        got: got(),
                    });
                }
            },
            TokenKind::Word(word) if period.is_none() => {
                period = Some(match word.to_lowercase().as_str() {
                    "7d" | "week" => StatsPeriod::SevenDays,
                    "30d" | "month" => StatsPeriod::ThirtyDays,
                    _ if starts_with_digit(word) => return Err(ParseError::BadPeriod(got())),
                    _ => return Err(args.unexpected(token, Topic::Stats)),
                });
            }
            _ => return Err(args.unexpected(token, Topic::Stats)),
        }
    }
    Ok(Command::Stats {
        channel,
        period: period.unwrap_or_default(),
    })
}

fn parse_role(args: Args<'_>) -> Result<Command, ParseError> {
    let topic = Topic::Role;
    match args.keyword() {
        Some(word) if Form::named(topic, &word) == Some(Form::RoleManager) => {}
        Some(other) => {
            return Err(ParseError::UnknownSubcommand {
                topic,
                got: shown(&other),
            });
        }
        None => {
            return Err(ParseError::MissingArgument {
                topic,
                what: "the role (manager) and the person",
            });
        }
    }
    let rest = args.skip(1);
    let (grant, rest) = match rest.keyword().as_deref() {
        Some("remove" | "revoke") => (false, rest.skip(1)),
        Some("add" | "grant") => (true, rest.skip(1)),
        Some(other) => {
            return Err(ParseError::UnknownSubcommand {
                topic,
                got: shown(other),
            });
        }
        // The person comes straight after `manager`: a grant.
        None => (true, rest),
    };
    let Some(token) = rest.first() else {
        return Err(ParseError::MissingArgument {
            topic,
            what: "the person",
        });
    };
    let user = match &token.kind {
        TokenKind::Target(target) => user_ref(target),
        _ => None,
    };
    let Some(user) = user else {
        return Err(ParseError::NotAUser {
            topic,
            got: shown(&rest.source(token)),
        });
    };
    rest.skip(1).end(topic)?;
    Ok(Command::RoleManager { grant, user })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(hour: u32, minute: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(hour, minute, 0).unwrap()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn days(text: &str) -> Weekdays {
        text.parse().unwrap()
    }

    fn user(id: &str, name: Option<&str>) -> UserRef {
        UserRef::Id {
            id: UserId::new(id),
            name: name.map(str::to_string),
        }
    }

    fn channel(id: &str, name: Option<&str>) -> ChannelRef {
        ChannelRef::Id {
            id: ChannelId::new(id),
            name: name.map(str::to_string),
        }
    }

    fn spec(groups: &[(&str, &[(NaiveTime, NaiveTime)])], zone: Option<Tz>) -> Command {
        Command::HoursSet(HoursSpec {
            groups: groups
                .iter()
                .map(|(d, ranges)| (days(d), ranges.to_vec()))
                .collect(),
            zone,
        })
    }

    #[test]
    fn every_documented_form_parses_to_the_expected_command() {
        let cases: Vec<(&str, Command)> = vec![
            ("", Command::Help(None)),
            ("   ", Command::Help(None)),
            ("help", Command::Help(None)),
            ("help hours", Command::Help(Some(Topic::Hours))),
            ("help check-in", Command::Help(Some(Topic::Checkin))),
            ("hours", Command::Hours),
            (
                "hours <@U1|alice>",
                Command::HoursOf(vec![user("U1", Some("alice"))]),
            ),
            (
                "hours <@U1|alice> <@W2> @carol",
                Command::HoursOf(vec![
                    user("U1", Some("alice")),
                    user("W2", None),
                    UserRef::Unresolved("carol".into()),
                ]),
            ),
            (
                "hours set mon-fri 09:00-17:30 Europe/Berlin",
                spec(
                    &[("mon-fri", &[(t(9, 0), t(17, 30))])],
                    Some(chrono_tz::Europe::Berlin),
                ),
            ),
            (
                "hours set mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00 America/New_York",
                spec(
                    &[
                        ("mon-thu", &[(t(8, 0), t(12, 0)), (t(13, 0), t(16, 0))]),
                        ("fri", &[(t(8, 0), t(12, 0))]),
                    ],
                    Some(chrono_tz::America::New_York),
                ),
            ),
            (
                "hours set mon-thu 08:00-12:00 America/New_York; fri 08:00-12:00",
                spec(
                    &[
                        ("mon-thu", &[(t(8, 0), t(12, 0))]),
                        ("fri", &[(t(8, 0), t(12, 0))]),
                    ],
                    Some(chrono_tz::America::New_York),
                ),
            ),
            (
                "hours set weekdays 9:00-17:00",
                spec(&[("weekdays", &[(t(9, 0), t(17, 0))])], None),
            ),
            (
                "hours set mon,wed,fri 10:00-14:00",
                spec(&[("mon,wed,fri", &[(t(10, 0), t(14, 0))])], None),
            ),
            (
                "hours set daily 22:00-06:00",
                spec(&[("daily", &[(t(22, 0), t(6, 0))])], None),
            ),
            (
                "hours set fri 18:00-24:00",
                spec(&[("fri", &[(t(18, 0), t(0, 0))])], None),
            ),
            (
                "hours set sat 00:00-24:00",
                spec(&[("sat", &[(t(0, 0), t(0, 0))])], None),
            ),
            (
                "hours set mon 08:00-12:00,12:00-16:00",
                spec(
                    &[("mon", &[(t(8, 0), t(12, 0)), (t(12, 0), t(16, 0))])],
                    None,
                ),
            ),
            (
                "hours set mon-thu 08:00-12:00 UTC; fri 08:00-12:00 utc",
                spec(
                    &[
                        ("mon-thu", &[(t(8, 0), t(12, 0))]),
                        ("fri", &[(t(8, 0), t(12, 0))]),
                    ],
                    Some(Tz::UTC),
                ),
            ),
            ("hours clear", Command::HoursClear),
            (
                "away 2026-12-24 2027-01-02",
                Command::Away {
                    from: date("2026-12-24"),
                    to: date("2027-01-02"),
                },
            ),
            (
                "away 2026-12-24",
                Command::Away {
                    from: date("2026-12-24"),
                    to: date("2026-12-24"),
                },
            ),
            (
                "away 2026-12-24 to 2026-12-26",
                Command::Away {
                    from: date("2026-12-24"),
                    to: date("2026-12-26"),
                },
            ),
            ("away clear", Command::AwayClear),
            ("focus 90m", Command::Focus(TimeDelta::minutes(90))),
            ("focus 2h", Command::Focus(TimeDelta::hours(2))),
            ("focus 1h30m", Command::Focus(TimeDelta::minutes(90))),
            ("focus 1h 30m", Command::Focus(TimeDelta::minutes(90))),
            ("focus 12h", Command::Focus(TimeDelta::hours(12))),
            ("focus 1m", Command::Focus(TimeDelta::minutes(1))),
            ("focus off", Command::FocusOff),
            (
                "overlap <@U1|a> <@U2|b>",
                Command::Overlap {
                    users: vec![user("U1", Some("a")), user("U2", Some("b"))],
                    channels: vec![],
                },
            ),
            (
                "overlap <@U1|a> <@U2|b> <#C1|team> <#C2>",
                Command::Overlap {
                    users: vec![user("U1", Some("a")), user("U2", Some("b"))],
                    channels: vec![channel("C1", Some("team")), channel("C2", None)],
                },
            ),
            ("norms", Command::Norms),
            (
                "norms urgent-channel <#C9|incidents>",
                Command::NormsUrgentChannel(channel("C9", Some("incidents"))),
            ),
            (
                "norms urgent-channel #incidents",
                Command::NormsUrgentChannel(ChannelRef::Unresolved("incidents".into())),
            ),
            (
                "norms urgent-channel remove <#C9|incidents>",
                Command::NormsUrgentChannelRemove(channel("C9", Some("incidents"))),
            ),
            (
                "norms urgent-channel <#C9|remove>",
                Command::NormsUrgentChannel(channel("C9", Some("remove"))),
            ),
            (
                "norms response-time 24h",
                Command::NormsResponseTime(TimeDelta::hours(24)),
            ),
            (
                "norms response-time 4h",
                Command::NormsResponseTime(TimeDelta::hours(4)),
            ),
            (
                "norms response-time 2d",
                Command::NormsResponseTime(TimeDelta::days(2)),
            ),
            (
                "norms response-time 30m",
                Command::NormsResponseTime(TimeDelta::minutes(30)),
            ),
            (
                "norms keywords add urgent asap",
                Command::NormsKeywords {
                    add: true,
                    words: vec!["urgent".into(), "asap".into()],
                },
            ),
            (
                "norms keywords remove dringend 至急 \"right now\" срочно",
                Command::NormsKeywords {
                    add: false,
                    words: vec![
                        "dringend".into(),
                        "至急".into(),
                        "right now".into(),
                        "срочно".into(),
                    ],
                },
            ),
            (
                "norms keywords add !!!, R&amp;D",
                Command::NormsKeywords {
                    add: true,
                    words: vec!["!!!".into(), "R&D".into()],
                },
            ),
            ("norms nudges on", Command::NormsNudges(true)),
            ("norms nudges off", Command::NormsNudges(false)),
            ("norms digest off", Command::NormsDigest(false)),
            ("hours signals off", Command::HoursSignals(false)),
            ("hours signals ON", Command::HoursSignals(true)),
            (
                "norms away-words add offsite \"auf Reisen\"",
                Command::NormsAwayWords {
                    add: true,
                    words: vec!["offsite".into(), "auf Reisen".into()],
                },
            ),
            ("norms Digest ON", Command::NormsDigest(true)),
            (
                "norms action ephemeral",
                Command::NormsAction(NudgeAction::Ephemeral),
            ),
            (
                "norms action Thread",
                Command::NormsAction(NudgeAction::ThreadReply),
            ),
            (
                "norms action reaction",
                Command::NormsAction(NudgeAction::Reaction {
                    emoji: "hourglass_flowing_sand".into(),
                }),
            ),
            (
                "norms action reaction :eyes:",
                Command::NormsAction(NudgeAction::Reaction {
                    emoji: "eyes".into(),
                }),
            ),
            (
                "norms action reaction :+1::skin-tone-2:",
                Command::NormsAction(NudgeAction::Reaction {
                    emoji: "+1::skin-tone-2".into(),
                }),
            ),
            (
                "checkin create <#C1|team> at 09:30 on mon-fri",
                Command::CheckinCreate {
                    channel: channel("C1", Some("team")),
                    at: t(9, 30),
                    days: Weekdays::WEEKDAYS,
                    zone: CheckinZone::Default,
                    questions: vec![],
                },
            ),
            (
                "checkin create <#C1|team> at 09:30 on mon,wed,fri in Europe/London questions \"What did you finish?\" | \"What is next?\"",
                Command::CheckinCreate {
                    channel: channel("C1", Some("team")),
                    at: t(9, 30),
                    days: days("mon,wed,fri"),
                    zone: CheckinZone::Fixed(chrono_tz::Europe::London),
                    questions: vec!["What did you finish?".into(), "What is next?".into()],
                },
            ),
            (
                "checkin create <#C1|team> at 16:00 on daily local questions \"Q1\" | \"Q2\" | \"Q3\"",
                Command::CheckinCreate {
                    channel: channel("C1", Some("team")),
                    at: t(16, 0),
                    days: Weekdays::DAILY,
                    zone: CheckinZone::Local,
                    questions: vec!["Q1".into(), "Q2".into(), "Q3".into()],
                },
            ),
            (
                "checkin create <#C1> at 08:15 on weekdays in local",
                Command::CheckinCreate {
                    channel: channel("C1", None),
                    at: t(8, 15),
                    days: Weekdays::WEEKDAYS,
                    zone: CheckinZone::Local,
                    questions: vec![],
                },
            ),
            ("checkin new", Command::CheckinNew),
            ("checkin list", Command::CheckinList),
            ("checkin pause 3", Command::CheckinPause("3".into())),
            ("checkin resume 3", Command::CheckinResume("3".into())),
            ("checkin delete 3", Command::CheckinDelete("3".into())),
            ("checkin run ck-7f2", Command::CheckinRun("ck-7f2".into())),
            ("checkin run #3", Command::CheckinRun("3".into())),
            (
                "stats",
                Command::Stats {
                    channel: None,
                    period: StatsPeriod::SevenDays,
                },
            ),
            (
                "stats <#C1|general>",
                Command::Stats {
                    channel: Some(channel("C1", Some("general"))),
                    period: StatsPeriod::SevenDays,
                },
            ),
            (
                "stats 30d",
                Command::Stats {
                    channel: None,
                    period: StatsPeriod::ThirtyDays,
                },
            ),
            (
                "stats <#C1> 7d",
                Command::Stats {
                    channel: Some(channel("C1", None)),
                    period: StatsPeriod::SevenDays,
                },
            ),
            (
                "stats 30d <#C1>",
                Command::Stats {
                    channel: Some(channel("C1", None)),
                    period: StatsPeriod::ThirtyDays,
                },
            ),
            (
                "role manager <@U1|alice>",
                Command::RoleManager {
                    grant: true,
                    user: user("U1", Some("alice")),
                },
            ),
            (
                "role manager remove <@U1|alice>",
                Command::RoleManager {
                    grant: false,
                    user: user("U1", Some("alice")),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn keywords_are_case_insensitive_and_extra_whitespace_is_ignored() {
        let cases = [
            "HOURS SET MON-FRI 09:00-17:30 EUROPE/BERLIN",
            "  hours   set   mon-fri\t09:00-17:30   Europe/Berlin  ",
            "hours set mon - fri 09:00 - 17:30 Europe/Berlin",
            "hours set mon–fri 09:00–17:30 Europe/Berlin",
            "Hours Set mon-fri 09:00-17:30 europe/berlin",
        ];
        let expected = spec(
            &[("mon-fri", &[(t(9, 0), t(17, 30))])],
            Some(chrono_tz::Europe::Berlin),
        );
        for text in cases {
            assert_eq!(parse(text), Ok(expected.clone()), "{text}");
        }
        assert_eq!(
            parse("hours set mon-thu 08:00-12:00 , 13:00-16:00 ;fri 08:00-12:00"),
            Ok(spec(
                &[
                    ("mon-thu", &[(t(8, 0), t(12, 0)), (t(13, 0), t(16, 0))]),
                    ("fri", &[(t(8, 0), t(12, 0))])
                ],
                None
            ))
        );
        assert_eq!(parse("CHECKIN LIST"), Ok(Command::CheckinList));
        assert_eq!(parse("Focus OFF"), Ok(Command::FocusOff));
    }

    #[test]
    fn escaped_mentions_are_read_with_and_without_a_name() {
        let tokens = tokenize("<@U123|alice> <@U456> <#C1|general> <#C2|> <#C3> <!here> <!channel|@channel> <!subteam^S9|@devs>").unwrap();
        let targets: Vec<Target> = tokens
            .into_iter()
            .map(|t| match t.kind {
                TokenKind::Target(target) => target,
                other => panic!("not a target: {other:?}"),
            })
            .collect();
        assert_eq!(
            targets,
            vec![
                Target::User {
                    id: UserId::new("U123"),
                    name: Some("alice".into())
                },
                Target::User {
                    id: UserId::new("U456"),
                    name: None
                },
                Target::Channel {
                    id: ChannelId::new("C1"),
                    name: Some("general".into())
                },
                Target::Channel {
                    id: ChannelId::new("C2"),
                    name: None
                },
                Target::Channel {
                    id: ChannelId::new("C3"),
                    name: None
                },
                Target::Broadcast(Broadcast::Here),
                Target::Broadcast(Broadcast::Channel),
                Target::UserGroup {
                    id: "S9".into(),
                    handle: Some("@devs".into())
                },
            ]
        );
    }

    #[test]
    fn plain_names_become_unresolved_targets() {
        let kinds: Vec<TokenKind> = tokenize("@alice, #general @here @ #")
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Target(Target::UnresolvedUser("alice".into())),
                TokenKind::Target(Target::UnresolvedChannel("general".into())),
                TokenKind::Target(Target::Broadcast(Broadcast::Here)),
                TokenKind::Word("@".into()),
                TokenKind::Word("#".into()),
            ]
        );
    }

    #[test]
    fn mentions_separated_by_commas_or_nothing_are_all_read() {
        assert_eq!(
            parse("hours <@U1|a>,<@U2|b>, <@U3>"),
            Ok(Command::HoursOf(vec![
                user("U1", Some("a")),
                user("U2", Some("b")),
                user("U3", None)
            ]))
        );
        assert_eq!(
            parse("hours <@U1|a> <@U1|a>"),
            Ok(Command::HoursOf(vec![user("U1", Some("a"))]))
        );
    }

    #[test]
    fn straight_and_curly_quotes_both_delimit_questions() {
        let expected = vec![
            "What did you ship?".to_string(),
            "What’s blocking you?".to_string(),
        ];
        for text in [
            "checkin create <#C1> at 09:00 on mon questions “What did you ship?” | “What’s blocking you?”",
            "checkin create <#C1> at 09:00 on mon questions \"What did you ship?\" \"What’s blocking you?\"",
            "checkin create <#C1> at 09:00 on mon questions „What did you ship?“|\"What’s blocking you?\"",
            "checkin create <#C1> at 09:00 on mon questions What did you ship? | What’s blocking you?",
        ] {
            match parse(text) {
                Ok(Command::CheckinCreate { questions, .. }) => {
                    assert_eq!(questions, expected, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn slack_markup_inside_questions_reads_as_plain_text() {
        let text = "checkin create <#C1> at 09:00 on mon questions \"Anything for <@U1|alice> or <#C2|ops>? &lt;none&gt; is fine &amp; ok\"";
        match parse(text) {
            Ok(Command::CheckinCreate { questions, .. }) => {
                assert_eq!(
                    questions,
                    vec!["Anything for @alice or #ops? <none> is fine & ok".to_string()]
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clauses_of_checkin_create_may_come_in_any_order() {
        let expected = parse("checkin create <#C1> at 09:30 on mon-fri in Asia/Tokyo").unwrap();
        for text in [
            "checkin create <#C1> on mon-fri at 09:30 in Asia/Tokyo",
            "checkin create <#C1> in asia/tokyo on mon, tue, wed, thu, fri at 9:30",
            "checkin create <#C1> in Asia/Tokyo on mon - fri at 09:30",
        ] {
            assert_eq!(parse(text), Ok(expected.clone()), "{text}");
        }
    }

    type Check = fn(&ParseError) -> bool;

    #[test]
    fn bad_input_gets_an_error_that_names_the_fix() {
        let many_users: String = (0..=MAX_USERS).map(|i| format!("<@U{i}> ")).collect();
        let many_mentions: String = format!("overlap {}", "<@U1> ".repeat(500));
        let many_distinct: String = format!(
            "hours {}",
            (0..500)
                .map(|i| format!("<@U{i}>"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let long_keyword = format!("norms keywords add {}", "x".repeat(MAX_KEYWORD_CHARS + 1));
        let long_question = format!(
            "checkin create <#C1> at 09:00 on mon questions \"{}\"",
            "q".repeat(MAX_QUESTION_CHARS + 1)
        );
        let many_questions = format!(
            "checkin create <#C1> at 09:00 on mon questions {}",
            (0..=MAX_QUESTIONS)
                .map(|i| format!("\"Q{i}\""))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let too_long = "a".repeat(10_000);
        let hours_of_many = format!("hours {many_users}");
        let cases: Vec<(&str, Check, &str)> = vec![
            (
                "frobnicate",
                |e| {
                    matches!(
                        e,
                        ParseError::UnknownCommand {
                            suggestion: None,
                            ..
                        }
                    )
                },
                "/async help",
            ),
            (
                "huors",
                |e| {
                    matches!(
                        e,
                        ParseError::UnknownCommand {
                            suggestion: Some("hours"),
                            ..
                        }
                    )
                },
                "Did you mean `/async hours`?",
            ),
            (
                "<@U1> hours",
                |e| matches!(e, ParseError::UnknownCommand { .. }),
                "/async help",
            ),
            (
                "help frob",
                |e| matches!(e, ParseError::UnknownCommand { .. }),
                "/async help",
            ),
            (
                "hours set mon-fri 9-5",
                |e| matches!(e, ParseError::BadTimeRange(_)),
                "`9-5` is not a time range; try 09:00-17:00",
            ),
            (
                "hours set mon-fri 9am-5pm",
                |e| matches!(e, ParseError::BadTimeRange(_)),
                "09:00-17:00",
            ),
            (
                "hours set mon-fri 0900-1700",
                |e| matches!(e, ParseError::BadTimeRange(_)),
                "09:00-17:00",
            ),
            (
                "hours set mon-fri 25:00-26:00",
                |e| matches!(e, ParseError::BadTimeRange(_)),
                "09:00-17:00",
            ),
            (
                "hours set mon-fri 24:00-08:00",
                |e| matches!(e, ParseError::BadTimeRange(_)),
                "09:00-17:00",
            ),
            (
                "hours set mon-fri 09:60-17:00",
                |e| matches!(e, ParseError::BadTimeRange(_)),
                "09:00-17:00",
            ),
            (
                "hours set mon-fri 09:00-09:00",
                |e| matches!(e, ParseError::EmptyTimeRange(_)),
                "09:00-17:00",
            ),
            (
                "hours set mon-fri 09:00-17:00 Europe/Berln",
                |e| matches!(e, ParseError::Zone(ZoneError::Unknown { .. })),
                "Did you mean Europe/Berlin?",
            ),
            (
                "hours set mon-fri 09:00-17:00 berlin",
                |e| matches!(e, ParseError::Zone(ZoneError::Unknown { .. })),
                "Europe/Berlin",
            ),
            (
                "hours set mon-fri 09:00-17:00 Atlantis/Nowhere",
                |e| matches!(e, ParseError::Zone(ZoneError::Unknown { .. })),
                "Europe/Berlin",
            ),
            (
                "hours set mon-fri 09:00-17:00 EST",
                |e| matches!(e, ParseError::Zone(ZoneError::Abbreviated { .. })),
                "America/New_York",
            ),
            (
                "hours set mon-fri 09:00-17:00 pst",
                |e| matches!(e, ParseError::Zone(ZoneError::Abbreviated { .. })),
                "America/Los_Angeles",
            ),
            (
                "hours set mon-fri 09:00-17:00 CET",
                |e| matches!(e, ParseError::Zone(ZoneError::Abbreviated { .. })),
                "Europe/Berlin",
            ),
            (
                "hours set mon-fri 09:00-17:00 UTC+2",
                |e| matches!(e, ParseError::Zone(ZoneError::Offset { .. })),
                "Europe/Berlin",
            ),
            (
                "hours set mon-fry 09:00-17:00",
                |e| matches!(e, ParseError::Days(DaysError::UnknownDay(_))),
                "mon-fri",
            ),
            (
                "hours set 09:00-17:00",
                |e| matches!(e, ParseError::MissingDays { .. }),
                "mon-fri 09:00-17:00",
            ),
            (
                "hours set Europe/Berlin mon-fri 09:00-17:00",
                |e| matches!(e, ParseError::MissingDays { .. }),
                "mon-fri 09:00-17:00",
            ),
            (
                "hours set mon-fri",
                |e| matches!(e, ParseError::MissingRanges { .. }),
                "mon-fri 09:00-17:00",
            ),
            (
                "hours set mon-fri Europe/Berlin",
                |e| matches!(e, ParseError::MissingRanges { .. }),
                "mon-fri 09:00-17:00",
            ),
            (
                "hours set",
                |e| {
                    matches!(
                        e,
                        ParseError::MissingArgument {
                            topic: Topic::Hours,
                            ..
                        }
                    )
                },
                "hours set mon-fri 09:00-17:00",
            ),
            (
                "hours set mon-fri 09:00-12:00,11:00-13:00",
                |e| matches!(e, ParseError::OverlappingRanges { .. }),
                "mon 09:00-12:00",
            ),
            (
                "hours set mon 22:00-06:00; tue 05:00-09:00",
                |e| matches!(e, ParseError::OverlappingRanges { .. }),
                "08:00-12:00,13:00-16:00",
            ),
            (
                "hours set sun 22:00-06:00; mon 05:00-09:00",
                |e| matches!(e, ParseError::OverlappingRanges { .. }),
                "sun 22:00-06:00",
            ),
            (
                "hours set mon-fri 09:00-17:00; wed 10:00-11:00",
                |e| matches!(e, ParseError::OverlappingRanges { .. }),
                "wed 10:00-11:00",
            ),
            (
                "hours set mon-thu 09:00-17:00 Europe/Berlin; fri 09:00-12:00 America/New_York",
                |e| matches!(e, ParseError::TwoZones { .. }),
                "one zone for the whole week",
            ),
            (
                "hours set mon-fri 09:00-17:00 Europe/Berlin extra",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "hours set mon-fri 09:00-17:00",
            ),
            (
                "hours set mon-fri \"09:00-17:00\"",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "hours set mon-fri 09:00-17:00",
            ),
            (
                "hours alice",
                |e| {
                    matches!(
                        e,
                        ParseError::UnknownSubcommand {
                            topic: Topic::Hours,
                            ..
                        }
                    )
                },
                "/async hours set mon-fri 09:00-17:00",
            ),
            (
                "hours <!here>",
                |e| matches!(e, ParseError::NotAUser { .. }),
                "mention people with @",
            ),
            (
                "hours <@U1> bob",
                |e| matches!(e, ParseError::NotAUser { .. }),
                "mention people with @",
            ),
            (
                "hours clear now",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "/async hours",
            ),
            (
                &hours_of_many,
                |e| matches!(e, ParseError::TooManyUsers { .. }),
                "/async hours @alice @bob",
            ),
            (
                &many_distinct,
                |e| matches!(e, ParseError::TooManyUsers { .. }),
                "/async hours @alice @bob",
            ),
            (
                "away 12/24",
                |e| matches!(e, ParseError::Date(DateError::BadDate(_))),
                "YYYY-MM-DD, e.g. /async away 2026-12-24",
            ),
            (
                "away 2026-02-30",
                |e| matches!(e, ParseError::Date(DateError::BadDate(_))),
                "2026-12-24",
            ),
            (
                "away tomorrow",
                |e| matches!(e, ParseError::Date(DateError::BadDate(_))),
                "2026-12-24",
            ),
            (
                "away 2027-01-02 2026-12-24",
                |e| matches!(e, ParseError::Date(DateError::DatesReversed { .. })),
                "/async away 2026-12-24 2027-01-02",
            ),
            (
                "away 2026-01-01 2027-06-01",
                |e| matches!(e, ParseError::Date(DateError::AwayTooLong { .. })),
                "/async away 2026-07-01",
            ),
            (
                "away",
                |e| {
                    matches!(
                        e,
                        ParseError::MissingArgument {
                            topic: Topic::Away,
                            ..
                        }
                    )
                },
                "/async away 2026-12-24 2027-01-02",
            ),
            (
                "away 2026-12-24 2026-12-25 2026-12-26",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "/async away 2026-12-24",
            ),
            (
                "focus 90",
                |e| matches!(e, ParseError::BadDuration { .. }),
                "/async focus 90m",
            ),
            (
                "focus 1.5h",
                |e| matches!(e, ParseError::BadDuration { .. }),
                "1h30m",
            ),
            (
                "focus 30m1h",
                |e| matches!(e, ParseError::BadDuration { .. }),
                "1h30m",
            ),
            (
                "focus 13h",
                |e| matches!(e, ParseError::DurationOutOfRange { .. }),
                "12h",
            ),
            (
                "focus 0m",
                |e| matches!(e, ParseError::DurationOutOfRange { .. }),
                "/async focus 90m",
            ),
            (
                "focus 99999999999h",
                |e| matches!(e, ParseError::BadDuration { .. }),
                "/async focus 90m",
            ),
            (
                "focus",
                |e| {
                    matches!(
                        e,
                        ParseError::MissingArgument {
                            topic: Topic::Focus,
                            ..
                        }
                    )
                },
                "/async focus 90m",
            ),
            (
                "overlap",
                |e| {
                    matches!(
                        e,
                        ParseError::MissingArgument {
                            topic: Topic::Overlap,
                            ..
                        }
                    )
                },
                "/async overlap @alice @bob",
            ),
            (
                "overlap alice",
                |e| matches!(e, ParseError::NotAUser { .. }),
                "/async overlap @alice @bob",
            ),
            (
                "overlap <!everyone>",
                |e| matches!(e, ParseError::NotAUser { .. }),
                "/async overlap @alice @bob",
            ),
            (
                &many_mentions,
                |e| {
                    matches!(
                        e,
                        ParseError::TooLong { .. } | ParseError::TooManyUsers { .. }
                    )
                },
                "e.g.",
            ),
            (
                "norms urgent-channel",
                |e| {
                    matches!(
                        e,
                        ParseError::MissingArgument {
                            topic: Topic::Norms,
                            ..
                        }
                    )
                },
                "urgent-channel #channel",
            ),
            (
                "norms urgent-channel incidents",
                |e| matches!(e, ParseError::NotAChannel { .. }),
                "pick one with #",
            ),
            (
                "norms urgent-channel remove",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "urgent-channel remove #channel",
            ),
            (
                "norms urgent-channel remove <#C1> <#C2>",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "urgent-channel remove #channel",
            ),
            (
                "norms urgent-channel <#C1> <#C2>",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "urgent-channel #channel",
            ),
            (
                "norms response-time soon",
                |e| matches!(e, ParseError::BadDuration { .. }),
                "/async norms response-time 24h",
            ),
            (
                "norms response-time 60d",
                |e| matches!(e, ParseError::DurationOutOfRange { .. }),
                "/async norms response-time 24h",
            ),
            (
                "norms nudges maybe",
                |e| matches!(e, ParseError::BadOnOff { .. }),
                "/async norms nudges off",
            ),
            (
                "norms nudges",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "nudges on|off",
            ),
            (
                "norms keywords",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "keywords add|remove",
            ),
            (
                "norms digest weekly",
                |e| matches!(e, ParseError::BadOnOff { .. }),
                "/async norms digest off",
            ),
            (
                "norms digest off now",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "digest on|off",
            ),
            (
                "norms action",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "action ephemeral|reaction [:emoji:]|thread",
            ),
            (
                "norms action shout",
                |e| matches!(e, ParseError::BadNudgeAction(_)),
                "use ephemeral, reaction or thread",
            ),
            (
                "norms action reaction 👀",
                |e| matches!(e, ParseError::BadEmoji(_)),
                "/async norms action reaction :eyes:",
            ),
            (
                "norms action reaction :Eyes Wide:",
                |e| {
                    matches!(
                        e,
                        ParseError::UnexpectedArgument { .. } | ParseError::BadEmoji(_)
                    )
                },
                "e.g.",
            ),
            (
                "norms action thread :eyes:",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "action ephemeral|reaction [:emoji:]|thread",
            ),
            (
                "norms keywords add",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "keywords add|remove",
            ),
            (
                "norms keywords add urgent | asap",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "keywords add|remove",
            ),
            (
                &long_keyword,
                |e| matches!(e, ParseError::KeywordTooLong { .. }),
                "keywords add \"right now\"",
            ),
            (
                "norms frob",
                |e| {
                    matches!(
                        e,
                        ParseError::UnknownSubcommand {
                            topic: Topic::Norms,
                            ..
                        }
                    )
                },
                "response-time 24h",
            ),
            (
                "checkin",
                |e| {
                    matches!(
                        e,
                        ParseError::MissingArgument {
                            topic: Topic::Checkin,
                            ..
                        }
                    )
                },
                "/async checkin create #team at 09:30 on mon-fri",
            ),
            (
                "checkin create",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "/async checkin create #team at 09:30 on mon-fri",
            ),
            (
                "checkin create team at 09:30 on mon-fri",
                |e| matches!(e, ParseError::NotAChannel { .. }),
                "/async checkin create #team",
            ),
            (
                "checkin create <#C1> on mon-fri",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "at 09:30",
            ),
            (
                "checkin create <#C1> at 09:30",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "on mon-fri",
            ),
            (
                "checkin create <#C1> at 09:30 on",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "on mon-fri",
            ),
            (
                "checkin create <#C1> at 9am on mon-fri",
                |e| matches!(e, ParseError::BadTime(_)),
                "at 09:30",
            ),
            (
                "checkin create <#C1> at on mon-fri",
                |e| matches!(e, ParseError::BadTime(_)),
                "at 09:30",
            ),
            (
                "checkin create <#C1> at 09:30 on funday",
                |e| matches!(e, ParseError::Days(_)),
                "mon-fri",
            ),
            (
                "checkin create <#C1> at 09:30 on mon-fri in EST",
                |e| matches!(e, ParseError::Zone(ZoneError::Abbreviated { .. })),
                "America/New_York",
            ),
            (
                "checkin create <#C1> at 09:30 on mon-fri in Europe/Lundon",
                |e| matches!(e, ParseError::Zone(ZoneError::Unknown { .. })),
                "Europe/London",
            ),
            (
                "checkin create <#C1> at 09:30 at 10:00 on mon-fri",
                |e| matches!(e, ParseError::DuplicateClause { clause: "at" }),
                "at 09:30 on mon-fri",
            ),
            (
                "checkin create <#C1> at 09:30 on mon-fri local in Europe/Paris",
                |e| matches!(e, ParseError::DuplicateClause { .. }),
                "in Europe/London",
            ),
            (
                "checkin create <#C1> at 09:30 on mon-fri every week",
                |e| matches!(e, ParseError::Days(_)),
                "mon-fri",
            ),
            (
                "checkin create <#C1> at 09:30 on mon-fri <@U1>",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "/async checkin create #team at 09:30 on mon-fri",
            ),
            (
                "checkin create <#C1> at 09:30 on mon questions \"Q1",
                |e| matches!(e, ParseError::UnterminatedQuote { .. }),
                "questions \"What did you finish?\"",
            ),
            (
                "checkin create <#C1> at 09:30 on mon questions",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "questions \"Q1\"",
            ),
            (
                "checkin create <#C1> at 09:30 on mon questions \"\" | \"Q2\"",
                |e| matches!(e, ParseError::EmptyQuestion { number: 1 }),
                "questions \"What did you finish?\"",
            ),
            (
                &many_questions,
                |e| matches!(e, ParseError::TooManyQuestions { .. }),
                "questions \"What did you finish?\" | \"What is next?\"",
            ),
            (
                &long_question,
                |e| matches!(e, ParseError::QuestionTooLong { .. }),
                "\"What is blocking you?\"",
            ),
            (
                "checkin pause",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "/async checkin pause <id>",
            ),
            (
                "checkin pause a/b",
                |e| matches!(e, ParseError::BadCheckinId(_)),
                "/async checkin list",
            ),
            (
                "checkin pause 3 4",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "/async checkin pause <id>",
            ),
            (
                "checkin frob",
                |e| {
                    matches!(
                        e,
                        ParseError::UnknownSubcommand {
                            topic: Topic::Checkin,
                            ..
                        }
                    )
                },
                "/async checkin create #team",
            ),
            (
                "stats 14d",
                |e| matches!(e, ParseError::BadPeriod(_)),
                "use 7d or 30d",
            ),
            (
                "stats <@U1|a>",
                |e| matches!(e, ParseError::NotAChannel { .. }),
                "/async stats #general 30d",
            ),
            (
                "stats <#C1> <#C2>",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "/async stats #general 30d",
            ),
            (
                "role",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "/async role manager @alice",
            ),
            (
                "role manager",
                |e| matches!(e, ParseError::MissingArgument { .. }),
                "/async role manager @alice",
            ),
            (
                "role admin <@U1>",
                |e| {
                    matches!(
                        e,
                        ParseError::UnknownSubcommand {
                            topic: Topic::Role,
                            ..
                        }
                    )
                },
                "/async role manager @alice",
            ),
            (
                "role manager <#C1|x>",
                |e| matches!(e, ParseError::NotAUser { .. }),
                "/async role manager @alice",
            ),
            (
                "role manager <@U1> <@U2>",
                |e| matches!(e, ParseError::UnexpectedArgument { .. }),
                "/async role manager @alice",
            ),
            (
                &too_long,
                |e| matches!(e, ParseError::TooLong { chars: 10_000, .. }),
                "keep it under 4000",
            ),
            (
                "hours\u{7}",
                |e| matches!(e, ParseError::ControlCharacter { code: 7 }),
                "U+0007",
            ),
            (
                "hours set mon-fri 09:00-17:00\u{0}",
                |e| matches!(e, ParseError::ControlCharacter { .. }),
                "type it again",
            ),
        ];
        assert!(cases.len() >= 40);
        for (text, is_expected, fix) in cases {
            let shown_text: String = text.chars().take(80).collect();
            match parse(text) {
                Ok(command) => panic!("{shown_text:?} parsed as {command:?}"),
                Err(err) => {
                    assert!(
                        is_expected(&err),
                        "{shown_text:?}: unexpected error {err:?}"
                    );
                    // What the member reads: the error, then the topic's usage if it has one.
                    let message = err.to_string();
                    let answer =
                        crate::norms::markup::unescape(&crate::commands::error_answer(&err))
                            .into_owned();
                    assert!(
                        answer.contains(fix) || message.contains(fix),
                        "{shown_text:?}: {answer:?} does not contain {fix:?}"
                    );
                    assert!(
                        message.chars().count() < 600,
                        "{shown_text:?}: message too long"
                    );
                }
            }
        }
    }

    #[test]
    fn hours_with_a_zone_after_a_stray_comma_still_parse() {
        assert_eq!(
            parse("hours set mon-fri 09:00-17:00, Europe/Berlin"),
            Ok(spec(
                &[("mon-fri", &[(t(9, 0), t(17, 0))])],
                Some(chrono_tz::Europe::Berlin)
            ))
        );
    }

    #[test]
    fn quoted_input_is_cut_short_in_errors() {
        let text = format!("hours set mon-fri 9-{}", "5".repeat(200));
        let message = parse(&text).unwrap_err().to_string();
        assert!(message.contains('…'));
        assert!(message.len() < 200);
    }

    #[test]
    fn help_lists_every_form_with_a_description() {
        let help = help_text()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        assert!(
            !help_text().contains("<days>"),
            "help must be escaped for Slack"
        );
        for form in [
            "/async help",
            "/async hours`",
            "/async hours @user",
            "/async hours set <days>",
            "/async hours clear",
            "/async away <YYYY-MM-DD>",
            "/async away clear",
            "/async focus <90m",
            "/async focus off",
            "/async overlap @a @b [#channel …]",
            "/async norms`",
            "/async norms urgent-channel #channel",
            "/async norms urgent-channel remove #channel",
            "/async norms response-time",
            "/async norms keywords add|remove",
            "/async norms nudges on|off",
            "/async norms action ephemeral|reaction [:emoji:]|thread",
            "/async norms digest on|off",
            "/async checkin create #channel at <HH:MM> on <days>",
            "/async checkin new",
            "/async checkin list",
            "/async checkin pause <id>",
            "/async checkin resume <id>",
            "/async checkin delete <id>",
            "/async checkin run <id>",
            "/async stats [#channel] [7d|30d]",
            "/async role manager",
        ] {
            assert!(help.contains(form), "help lacks {form}");
        }
        for form in Form::ALL {
            let line = form.help_line();
            assert!(
                line.contains("` — "),
                "help line without a description: {line}"
            );
        }
    }

    #[test]
    fn each_form_is_typed_as_its_syntax_says_and_its_words_pick_only_it() {
        for &form in Form::ALL {
            let row = form.row();
            let typed = format!("/async {}", row.topic.word());
            assert!(row.syntax.starts_with(&typed), "{form:?}: {}", row.syntax);
            assert!(row.example.starts_with(&typed), "{form:?}: {}", row.example);
            if let Some(word) = row.words.first() {
                let syntax = format!("{typed} {word}");
                assert!(row.syntax.starts_with(&syntax), "{form:?}: {}", row.syntax);
            }
            for word in row.words {
                assert_eq!(Form::named(row.topic, word), Some(form), "{word}");
                assert_eq!(Form::named(row.topic, &word.to_uppercase()), Some(form));
            }
        }
    }

    #[test]
    fn every_example_is_a_command_of_its_form() {
        for &form in Form::ALL {
            let example = form.example();
            let text = example.strip_prefix("/async ").unwrap_or(example);
            assert_eq!(parse(text).map(|c| c.form()), Ok(form), "{example}");
        }
    }

    #[test]
    fn topics_are_listed_in_the_order_of_their_variants() {
        for (index, (topic, ..)) in TOPICS.iter().enumerate() {
            assert_eq!(*topic as usize, index, "{topic}");
        }
    }

    #[test]
    fn every_usage_line_ends_with_an_example() {
        for (topic, ..) in TOPICS {
            let line = usage(topic);
            assert!(line.contains(", e.g. /async "), "{topic}: {line}");
            assert!(!line.contains('\n'), "{topic}: {line}");
        }
    }

    #[test]
    fn errors_name_their_topic() {
        assert_eq!(
            parse("hours set mon 9-5").unwrap_err().topic(),
            Some(Topic::Hours)
        );
        assert_eq!(parse("away 12/24").unwrap_err().topic(), Some(Topic::Away));
        assert_eq!(parse("frob").unwrap_err().topic(), None);
    }

    /// `hours signals maybe` answered with the usage of `/async norms`: the usage shown is
    /// the topic's whose command was mistyped.
    #[test]
    fn an_on_off_mistake_shows_the_usage_of_its_own_topic() {
        for (text, topic) in [
            ("hours signals maybe", Topic::Hours),
            ("hours signals", Topic::Hours),
            ("hours signals on please", Topic::Hours),
            ("norms nudges maybe", Topic::Norms),
            ("norms digest", Topic::Norms),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.topic(), Some(topic), "{text}: {error}");
        }
        let error = parse("hours signals maybe").unwrap_err();
        assert!(usage(error.topic().unwrap()).contains("/async hours signals on|off"));
        assert!(
            error.to_string().contains("try /async hours signals off"),
            "{error}"
        );
    }

    #[test]
    fn words_break_at_entities_and_separators() {
        let tokens = tokenize("a<@U1>b;c|d \"e f\"g").unwrap();
        let kinds: Vec<TokenKind> = tokens.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Word("a".into()),
                TokenKind::Target(Target::User {
                    id: UserId::new("U1"),
                    name: None
                }),
                TokenKind::Word("b".into()),
                TokenKind::Semicolon,
                TokenKind::Word("c".into()),
                TokenKind::Pipe,
                TokenKind::Word("d".into()),
                TokenKind::Quoted("e f".into()),
                TokenKind::Word("g".into()),
            ]
        );
        assert_eq!(tokens[7].span, 12..17);
        // A `<` that opens no entity stays in its word.
        let kinds: Vec<TokenKind> = tokenize("a <b c>")
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Word("a".into()),
                TokenKind::Word("<b".into()),
                TokenKind::Word("c>".into())
            ]
        );
    }

    fn word_soup() -> impl Strategy<Value = String> {
        let words = vec![
            "hours",
            "set",
            "clear",
            "mon-fri",
            "mon,wed,fri",
            "daily",
            "09:00-17:00",
            "22:00-06:00",
            "24:00",
            "00:00-24:00",
            ";",
            "|",
            ",",
            "-",
            "Europe/Berlin",
            "EST",
            "berlin",
            "<@U1|a>",
            "<@U2>",
            "<#C1|x>",
            "<#C2|>",
            "<!here>",
            "@bob",
            "#team",
            "away",
            "2026-12-24",
            "2027-01-02",
            "focus",
            "90m",
            "1h30m",
            "off",
            "overlap",
            "norms",
            "urgent-channel",
            "response-time",
            "keywords",
            "add",
            "remove",
            "nudges",
            "on",
            "checkin",
            "create",
            "at",
            "in",
            "local",
            "questions",
            "\"Q?\"",
            "“Q”",
            "\"",
            "stats",
            "7d",
            "30d",
            "role",
            "manager",
            "help",
            "<",
            ">",
            "&amp;",
            "\u{200B}",
            "至急",
        ];
        prop::collection::vec(prop::sample::select(words), 0..16).prop_map(|w| w.join(" "))
    }

    proptest! {
        #![proptest_config(crate::property_test_config())]
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn arbitrary_text_after_each_command_never_panics(
            head in prop::sample::select(vec![
                "hours ", "hours set ", "away ", "focus ", "overlap ", "norms ", "norms keywords add ",
                "norms response-time ", "checkin create <#C1> ", "checkin create <#C1> at 09:00 on mon questions ",
                "stats ", "role manager ",
            ]),
            tail in "\\PC{0,60}",
        ) {
            let _ = parse(&format!("{head}{tail}"));
        }

        #[test]
        fn command_shaped_word_soup_gives_a_command_or_a_sentence(text in word_soup()) {
            match parse(&text) {
                Ok(_) => {}
                Err(err) => prop_assert!(!err.to_string().is_empty()),
            }
        }

        #[test]
        fn any_valid_range_is_read_back(start in 0u32..1440, end in 0u32..1440) {
            prop_assume!(start != end);
            let text = format!(
                "hours set mon {:02}:{:02}-{:02}:{:02}",
                start / 60, start % 60, end / 60, end % 60
            );
            let expected = spec(&[("mon", &[(t(start / 60, start % 60), t(end / 60, end % 60))])], None);
            prop_assert_eq!(parse(&text), Ok(expected));
        }
    }
}

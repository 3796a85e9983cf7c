//! Target 1: the `/async` command parser (`tokenize`, `parse`, `parse_zone`,
//! `suggest_zones`), and the looser reader of what people ask the bot in a mention.
//!
//! Inputs: arbitrary text; "word soup" from the real grammar (subcommands, days, times,
//! ranges, zones, durations, dates, Slack's escaped mentions and channels, quotes) glued with
//! junk, control characters, direction marks and emoji; well-formed `hours set` commands
//! with many groups; and very long repetitions around the length limit.

use async_norms::bot::ask::read_question;
use async_norms::commands::parse::{
    ChannelRef, Command, MAX_AWAY_DAYS, MAX_CHANNELS, MAX_INPUT_CHARS, MAX_KEYWORD_CHARS,
    MAX_KEYWORDS, MAX_QUESTION_CHARS, MAX_QUESTIONS, MAX_RANGES, MAX_USERS, Token, TokenKind,
    UserRef, parse, parse_zone, suggest_zones, tokenize,
};
use async_norms::hours::ZoneError;
use async_norms::ids::UserId;
use async_norms::norms::NudgeAction;
use chrono::{NaiveTime, TimeDelta, Timelike};
use chrono_tz::{TZ_VARIANTS, Tz};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::strategies::junk;

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

const KEYWORDS: &[&str] = &[
    "help",
    "?",
    "hours",
    "hour",
    "set",
    "clear",
    "reset",
    "away",
    "off",
    "to",
    "until",
    "focus",
    "overlap",
    "norms",
    "norm",
    "urgent-channel",
    "remove",
    "response-time",
    "keywords",
    "add",
    "nudges",
    "on",
    "digest",
    "action",
    "ephemeral",
    "reaction",
    "thread",
    "checkin",
    "check-ins",
    "create",
    "new",
    "list",
    "pause",
    "resume",
    "delete",
    "run",
    "at",
    "in",
    "local",
    "questions",
    "q",
    "stats",
    "7d",
    "30d",
    "week",
    "month",
    "role",
    "manager",
    "revoke",
    "grant",
    "HOURS",
    "Set",
    "ÄWAY",
];

const DAYS: &[&str] = &[
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "mon-fri",
    "fri-mon",
    "sun-sat",
    "weekdays",
    "workdays",
    "daily",
    "everyday",
    "weekend",
    "mon,wed,fri",
    "Mon-Fri",
    "MONDAY",
    "monday",
    "mo",
    "mon-",
    "-fri",
    ",",
    ",,",
    "mon,,tue",
    "mon - fri",
    "mon–fri",
    "mon-tue-wed",
    "lun",
];

const ODD_TIMES: &[&str] = &[
    "9",
    "9-5",
    "24:00",
    "00:00",
    "23:59",
    "24:01",
    "9:00am",
    "0900",
    "09.00",
    "09:00:00",
    "99999:00",
    "-1:00",
    "９:００",
    "٠٩:٠٠",
    "9:0",
    "09:",
    ":30",
    "1:60",
    "00:00-24:00",
    "22:00-06:00",
    "09:00-09:00",
    "24:00-24:00",
    "09:00-",
    "-17:00",
    "09:00--17:00",
    "09:00-17:00,",
    ",09:00-17:00",
    "09:00-12:00,,13:00-17:00",
];

const ODD_ZONES: &[&str] = &[
    "EST",
    "CET",
    "PST",
    "IST",
    "GMT",
    "BST",
    "UTC",
    "utc",
    "Etc/GMT+5",
    "etc/gmt-14",
    "UTC+2",
    "GMT-05:00",
    "+02:00",
    "-",
    "+",
    "+:",
    "Europe/",
    "/Berlin",
    "/",
    "Europe/Berlinn",
    "berlin",
    "new york",
    "America/New_York/Extra",
    "Mars/Olympus",
    "Europe/Kyiv",
    "Asia/Calcutta",
    "Etc/Unknown",
    "ＵＴＣ",
];

const MENTIONS: &[&str] = &[
    "<@U123|alice>",
    "<@U456>",
    "<@W1|>",
    "<#C1|general>",
    "<#C2|>",
    "<#C3>",
    "<!here>",
    "<!channel|@channel>",
    "<!everyone>",
    "<!subteam^S1|@devs>",
    "<!subteam^>",
    "<https://x.y|x>",
    "<mailto:a@b.c>",
    "<@>",
    "<#>",
    "<!>",
    "<>",
    "<@U1",
    "<#C1|x",
    "<@U1|<@U2>>",
    "<@U-1>",
    "@alice",
    "@alice,",
    "@here",
    "@",
    "#general",
    "#",
    "<@U1|a|b>",
    "<#C1|&lt;b&gt;>",
];

const DURATIONS: &[&str] = &[
    "90m",
    "2h",
    "1h30m",
    "1h 30m",
    "2d",
    "12h",
    "12h1m",
    "0m",
    "1m",
    "30d",
    "31d",
    "99999d",
    "999999m",
    "1h1h",
    "30m1h",
    "1.5h",
    "-1h",
    "h",
    "1",
    "1x",
    "1hours30minutes",
    "٣h",
];

const DATES: &[&str] = &[
    "2026-12-24",
    "2027-01-02",
    "2026-2-3",
    "0000-01-01",
    "9999-12-31",
    "2026-02-29",
    "2024-02-29",
    "2026-13-01",
    "2026-00-10",
    "26-12-24",
    "2026/12/24",
    "2026-12-24-01",
    "-2026-01-01",
    "２０２６-０１-０１",
];

const JOINERS: &[&str] = &[
    " ", " ", " ", "", "\t", "  ", "\u{200b}", "\n", "\u{3000}", ", ",
];

fn time_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..=25u32, 0..=61u32).prop_map(|(h, m)| format!("{h:02}:{m:02}")),
        (0..=25u32, 0..=61u32).prop_map(|(h, m)| format!("{h}:{m:02}")),
        prop::sample::select(ODD_TIMES).prop_map(str::to_string),
    ]
}

fn range_text() -> impl Strategy<Value = String> {
    (
        time_text(),
        prop::sample::select(&["-", "-", "–", " - ", "—", "−", " to ", ""][..]),
        time_text(),
    )
        .prop_map(|(a, sep, b)| format!("{a}{sep}{b}"))
}

fn zone_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(TZ_VARIANTS.as_slice()).prop_map(|tz| tz.name().to_string()),
        1 => prop::sample::select(TZ_VARIANTS.as_slice())
            .prop_map(|tz| tz.name().to_ascii_lowercase()),
        2 => prop::sample::select(ODD_ZONES).prop_map(str::to_string),
        1 => junk(12).prop_map(|j| format!("{j}/{j}")),
    ]
}

fn mention_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(MENTIONS).prop_map(str::to_string),
        1 => ("[A-Z0-9]{0,40}", junk(10)).prop_map(|(id, label)| format!("<@{id}|{label}>")),
        1 => ("[A-Z0-9]{0,40}", junk(10)).prop_map(|(id, label)| format!("<#{id}|{label}>")),
        1 => junk(10).prop_map(|inside| format!("<{inside}>")),
    ]
}

fn quoted_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["\"", "\u{201c}", "\u{201e}", "\u{201d}"][..]),
        junk(30),
        prop::sample::select(&["\"", "\u{201d}", "\u{201c}", ""][..]),
    )
        .prop_map(|(open, body, close)| format!("{open}{body}{close}"))
}

/// One word-ish piece of a command.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(KEYWORDS).prop_map(str::to_string),
        3 => prop::sample::select(DAYS).prop_map(str::to_string),
        3 => range_text(),
        1 => time_text(),
        3 => zone_text(),
        4 => mention_text(),
        2 => prop::sample::select(DURATIONS).prop_map(str::to_string),
        1 => (0..200_000u32, prop::sample::select(&["m", "h", "d", "days", "mins", ""][..]))
            .prop_map(|(n, unit)| format!("{n}{unit}")),
        2 => prop::sample::select(DATES).prop_map(str::to_string),
        1 => (-1..10_001i32, 0..14u32, 0..33u32).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        2 => quoted_text(),
        2 => prop::sample::select(&[";", "|", ",", "-", "&amp;", "&lt;", "&gt;", "&amp", "<", ">", ":eyes:", ":+1::skin-tone-2:", "::", "#3", "a_b-1"][..])
            .prop_map(str::to_string),
        3 => junk(8),
    ]
}

/// A command made of grammar pieces and junk.
fn word_soup() -> impl Strategy<Value = String> {
    prop::collection::vec((piece(), prop::sample::select(JOINERS)), 0..24).prop_map(|pieces| {
        pieces
            .into_iter()
            .map(|(piece, joiner)| format!("{piece}{joiner}"))
            .collect()
    })
}

/// A real subcommand followed by soup: reaches deep into each subcommand's reader.
fn command_shaped() -> impl Strategy<Value = String> {
    let heads = prop::sample::select(
        &[
            "hours ",
            "hours set ",
            "hours set mon-fri ",
            "away ",
            "focus ",
            "overlap ",
            "norms ",
            "norms urgent-channel ",
            "norms keywords add ",
            "norms keywords remove ",
            "norms response-time ",
            "norms action reaction ",
            "norms nudges ",
            "checkin ",
            "checkin create <#C1> ",
            "checkin create <#C1|team> at 09:30 on mon-fri ",
            "checkin create <#C1> at 09:00 on mon questions ",
            "checkin pause ",
            "stats ",
            "role manager ",
            "role manager remove ",
            "help ",
        ][..],
    );
    (heads, word_soup()).prop_map(|(head, soup)| format!("{head}{soup}"))
}

/// A well-formed `hours set` with several groups of disjoint ranges: the parser must accept
/// it or name what is wrong, and whatever it accepts must keep the documented limits.
fn hours_set_text() -> impl Strategy<Value = String> {
    let group = (
        prop::sample::select(DAYS),
        prop::collection::btree_set(0..48u32, 1..=20),
    )
        .prop_map(|(days, slots)| {
            let ranges: Vec<String> = slots
                .into_iter()
                .map(|slot| {
                    let start = slot * 30;
                    let end = start + 20;
                    format!(
                        "{:02}:{:02}-{:02}:{:02}",
                        start / 60,
                        start % 60,
                        end / 60,
                        end % 60
                    )
                })
                .collect();
            format!("{days} {}", ranges.join(","))
        });
    (
        prop::collection::vec(group, 1..=5),
        prop::option::of(zone_text()),
    )
        .prop_map(|(groups, zone)| {
            let mut text = format!("hours set {}", groups.join("; "));
            if let Some(zone) = zone {
                text.push(' ');
                text.push_str(&zone);
            }
            text
        })
}

/// Text around the length limit: one piece repeated.
fn long_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(
            &[
                "a",
                "<",
                "<@U1> ",
                "\"",
                "\u{201c}",
                "😀",
                "e\u{301}",
                "&amp;",
                "09:00-10:00,",
                "mon ",
                "; ",
                "| ",
                "@a ",
                "<#C1> ",
                "<!here>",
                "\u{200b}",
                "x<",
            ][..],
        ),
        prop_oneof![
            1..200usize,
            (MAX_INPUT_CHARS - 10)..(MAX_INPUT_CHARS + 10),
            20_000..20_001usize
        ],
        prop::sample::select(
            &[
                "",
                "hours ",
                "hours set ",
                "norms keywords add ",
                "overlap ",
                "checkin create <#C1> at 09:00 on mon questions ",
            ][..],
        ),
    )
        .prop_map(|(unit, chars, head)| {
            let count = chars / unit.chars().count().max(1) + 1;
            format!("{head}{}", unit.repeat(count))
        })
}

fn command_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        4 => word_soup(),
        6 => command_shaped(),
        2 => hours_set_text(),
        1 => long_text(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

/// Tokens cover the text in order, on character boundaries, never overlapping.
fn check_tokens(text: &str, tokens: &[Token]) -> Result<(), TestCaseError> {
    let mut end = 0;
    for token in tokens {
        let span = &token.span;
        if span.start < end || span.end <= span.start || span.end > text.len() {
            return Err(fail(format!("bad span {span:?} after {end} in {text:?}")));
        }
        if text.get(span.clone()).is_none() {
            return Err(fail(format!(
                "span {span:?} is not on char boundaries in {text:?}"
            )));
        }
        if matches!(token.kind, TokenKind::Pipe | TokenKind::Semicolon) && span.len() != 1 {
            return Err(fail(format!("separator token of {} bytes", span.len())));
        }
        end = span.end;
    }
    Ok(())
}

fn is_slack_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn check_user(user: &UserRef) -> Result<(), TestCaseError> {
    match user {
        UserRef::Id { id, .. } if !is_slack_id(id.as_str()) => {
            Err(fail(format!("user id {id:?} is not a Slack id")))
        }
        UserRef::Unresolved(name) if name.is_empty() => Err(fail("an empty @name".into())),
        _ => Ok(()),
    }
}

fn check_channel(channel: &ChannelRef) -> Result<(), TestCaseError> {
    match channel {
        ChannelRef::Id { id, .. } if !is_slack_id(id.as_str()) => {
            Err(fail(format!("channel id {id:?} is not a Slack id")))
        }
        ChannelRef::Unresolved(name) if name.is_empty() => Err(fail("an empty #name".into())),
        _ => Ok(()),
    }
}

fn minute_of_day(time: NaiveTime) -> usize {
    (time.hour() * 60 + time.minute()) as usize
}

/// The hours' promises, checked independently of the parser: at most [`MAX_RANGES`] ranges
/// over all groups, every group with days and ranges, and no minute of the week covered
/// twice (overnight ranges spill into the next day, Sunday night into Monday).
fn check_hours(
    groups: &[(async_norms::hours::Weekdays, Vec<(NaiveTime, NaiveTime)>)],
) -> Result<(), TestCaseError> {
    const WEEK: usize = 7 * 24 * 60;
    let total: usize = groups.iter().map(|(_, ranges)| ranges.len()).sum();
    if groups.is_empty() || total > MAX_RANGES {
        return Err(fail(format!(
            "{} groups with {total} ranges in all",
            groups.len()
        )));
    }
    let mut covered = vec![false; WEEK];
    for (days, ranges) in groups {
        if days.is_empty() || ranges.is_empty() {
            return Err(fail("a group without days or ranges".into()));
        }
        for day in days.iter() {
            for (start, end) in ranges {
                let from = day.num_days_from_monday() as usize * 1440 + minute_of_day(*start);
                let length = match (minute_of_day(*end) + 1440 - minute_of_day(*start)) % 1440 {
                    0 => 1440,
                    n => n,
                };
                for minute in from..from + length {
                    let slot = &mut covered[minute % WEEK];
                    if *slot {
                        return Err(fail(format!(
                            "two ranges cover minute {minute} of the week"
                        )));
                    }
                    *slot = true;
                }
            }
        }
    }
    Ok(())
}

fn check_duration(what: &str, got: TimeDelta, max: TimeDelta) -> Result<(), TestCaseError> {
    if got < TimeDelta::minutes(1) || got > max {
        return Err(fail(format!("{what} of {got} is out of bounds")));
    }
    Ok(())
}

/// What a parsed command promises its handler.
fn check_command(command: &Command) -> Result<(), TestCaseError> {
    match command {
        Command::HoursOf(users) => {
            if users.is_empty() || users.len() > MAX_USERS {
                return Err(fail(format!("hours of {} people", users.len())));
            }
            users.iter().try_for_each(check_user)
        }
        Command::HoursSet(spec) => check_hours(&spec.groups),
        Command::Away { from, to } => {
            let days = (*to - *from).num_days() + 1;
            if to < from || days > MAX_AWAY_DAYS {
                return Err(fail(format!("away from {from} to {to}")));
            }
            Ok(())
        }
        Command::Focus(time) => check_duration("focus", *time, TimeDelta::hours(12)),
        Command::NormsResponseTime(time) => {
            check_duration("response time", *time, TimeDelta::days(30))
        }
        Command::Overlap { users, channels } => {
            if users.is_empty() && channels.is_empty()
                || users.len() > MAX_USERS
                || channels.len() > MAX_CHANNELS
            {
                return Err(fail(format!(
                    "overlap of {} people, {} channels",
                    users.len(),
                    channels.len()
                )));
            }
            users.iter().try_for_each(check_user)?;
            channels.iter().try_for_each(check_channel)
        }
        Command::NormsUrgentChannel(channel) | Command::NormsUrgentChannelRemove(channel) => {
            check_channel(channel)
        }
        Command::NormsKeywords { words, .. } => {
            if words.is_empty() || words.len() > MAX_KEYWORDS {
                return Err(fail(format!("{} keywords", words.len())));
            }
            match words
                .iter()
                .find(|w| w.trim().is_empty() || w.chars().count() > MAX_KEYWORD_CHARS)
            {
                Some(word) => Err(fail(format!("keyword {word:?}"))),
                None => Ok(()),
            }
        }
        Command::NormsAction(NudgeAction::Reaction { emoji }) => {
            let fine = !emoji.is_empty()
                && emoji.chars().count() <= 101
                && emoji.chars().all(|c| c.is_ascii_graphic());
            match fine {
                true => Ok(()),
                false => Err(fail(format!("emoji {emoji:?}"))),
            }
        }
        Command::CheckinCreate {
            channel,
            days,
            questions,
            ..
        } => {
            check_channel(channel)?;
            if days.is_empty() || questions.len() > MAX_QUESTIONS {
                return Err(fail(format!(
                    "check-in on {days} with {} questions",
                    questions.len()
                )));
            }
            match questions
                .iter()
                .find(|q| q.is_empty() || q.chars().count() > MAX_QUESTION_CHARS)
            {
                Some(question) => Err(fail(format!("question {question:?}"))),
                None => Ok(()),
            }
        }
        Command::CheckinPause(id)
        | Command::CheckinResume(id)
        | Command::CheckinDelete(id)
        | Command::CheckinRun(id) => {
            let fine = (1..=32).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            match fine {
                true => Ok(()),
                false => Err(fail(format!("check-in id {id:?}"))),
            }
        }
        Command::Stats {
            channel: Some(channel),
            ..
        } => check_channel(channel),
        Command::RoleManager { user, .. } => check_user(user),
        _ => Ok(()),
    }
}

/// Everything the parser promises about one text.
pub fn check_command_text(text: &str) -> Result<(), TestCaseError> {
    let tokens = tokenize(text);
    if let Ok(tokens) = &tokens {
        check_tokens(text, tokens)?;
    }
    let parsed = parse(text);
    match (&tokens, &parsed) {
        (Err(token_error), Err(parse_error)) if token_error != parse_error => {
            return Err(fail(format!(
                "tokenize said {token_error:?}, parse {parse_error:?}"
            )));
        }
        (Err(token_error), Ok(command)) => {
            return Err(fail(format!(
                "tokenize said {token_error:?}, parse gave {command:?}"
            )));
        }
        _ => {}
    }
    match &parsed {
        Ok(command) => check_command(command)?,
        Err(error) => {
            let message = error.to_string();
            if message.trim().is_empty() {
                return Err(fail(format!("an empty message for {error:?}")));
            }
        }
    }
    // Space and zero-width characters around a command change nothing.
    if text.chars().count() + 4 <= MAX_INPUT_CHARS {
        let padded = format!(" \u{200b}{text} \t");
        let again = parse(&padded);
        if again != parsed {
            return Err(fail(format!("padding changed {parsed:?} into {again:?}")));
        }
    }
    let _ = read_question(text, &UserId::new("UBOT"));
    Ok(())
}

/// What `parse_zone` and `suggest_zones` promise about one word.
pub fn check_zone_word(word: &str) -> Result<(), TestCaseError> {
    match parse_zone(word) {
        Ok(tz) if !tz.name().eq_ignore_ascii_case(word.trim()) => {
            return Err(fail(format!("{word:?} read as {}", tz.name())));
        }
        Ok(_) => {}
        Err(error) if error.to_string().trim().is_empty() => {
            return Err(fail(format!("an empty message for {error:?}")));
        }
        Err(_) => {}
    }
    let suggestions = suggest_zones(word);
    if suggestions.len() > 3 {
        return Err(fail(format!("{} suggestions", suggestions.len())));
    }
    if let Some(bad) = suggestions.iter().find(|s| s.parse::<Tz>().is_err()) {
        return Err(fail(format!("suggested {bad:?}, which is no zone")));
    }
    Ok(())
}

fn random_case(name: &str, flips: &[bool]) -> String {
    name.chars()
        .zip(flips.iter().cycle())
        .map(|(c, flip)| match flip {
            true => c.to_ascii_uppercase(),
            false => c.to_ascii_lowercase(),
        })
        .collect()
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn command_parser_answers_any_text_with_a_command_or_a_sentence(text in command_text()) {
        crate::keep_failing_bytes("parse-failure.txt", text.as_bytes(), || check_command_text(&text))?;
    }

    #[test]
    fn zone_reader_knows_every_iana_name_in_any_case_and_nothing_else(
        tz in prop::sample::select(TZ_VARIANTS.as_slice()),
        flips in prop::collection::vec(any::<bool>(), 1..8),
        word in prop_oneof![zone_text(), junk(50), any::<String>()],
    ) {
        let typed = random_case(tz.name(), &flips);
        match parse_zone(&typed) {
            Ok(read) => prop_assert_eq!(read, tz),
            // Abbreviations that happen to be zone names are refused on purpose.
            Err(ZoneError::Abbreviated { .. }) => {}
            Err(other) => return Err(fail(format!("{typed:?}: {other}"))),
        }
        crate::keep_failing_bytes("zone-failure.txt", typed.as_bytes(), || check_zone_word(&typed))?;
        crate::keep_failing_bytes("zone-failure.txt", word.as_bytes(), || check_zone_word(&word))?;
    }
}

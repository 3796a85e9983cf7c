//! Every entry path that reads a typed input, side by side: the `/async` command, the hours
//! and check-in modals, the command line, the audit's settings and the bot's own settings.
//! One test per input runs all of them on the same text, so a path that reads an input its
//! own way shows up as a disagreement here rather than in front of a person.

use std::collections::HashMap;

use slack_morphism::prelude::SlackViewState;

use crate::audit::settings::AuditSettings;
use crate::checkins::schedule::Schedule;
use crate::commands::checkin::read_new_checkin;
use crate::commands::parse::{MAX_QUESTION_CHARS, MAX_QUESTIONS, parse};
use crate::config::{RawServeSettings, ServeConfig};
use crate::views::read_hours_modal;

/// What one entry path made of the text: accepted, or refused with the message a person sees.
type Outcome = Result<(), String>;

fn outcome<T, E: ToString>(result: Result<T, E>) -> Outcome {
    result.map(|_| ()).map_err(|e| e.to_string())
}

/// A modal's errors, one a block, as a single message.
fn modal_outcome<T>(result: Result<T, HashMap<String, String>>) -> Outcome {
    result.map(|_| ()).map_err(|errors| {
        let mut messages: Vec<String> = errors.into_values().collect();
        messages.sort();
        messages.join(" / ")
    })
}

fn view_state(values: serde_json::Value) -> SlackViewState {
    serde_json::from_value(serde_json::json!({ "values": values })).expect("view state")
}

/// A picked option as Slack submits it.
fn option(value: &str) -> serde_json::Value {
    serde_json::json!({ "text": { "type": "plain_text", "text": value }, "value": value })
}

/// Checkboxes as Slack submits them: one selected option per day of a comma-separated list.
fn checkboxes(days: &str) -> serde_json::Value {
    let options: Vec<_> = days.split(',').map(str::trim).map(option).collect();
    serde_json::json!({ "type": "checkboxes", "selected_options": options })
}

/// The hours form as Slack submits it: the days ticked, the range's ends in two time
/// pickers, the zone picked, and the time off's first and last day.
fn hours_form(days: &str, range: &str, zone: &str, time_off: (&str, &str)) -> SlackViewState {
    let (start, end) = range.split_once('-').unwrap_or((range, ""));
    fn date(day: &str) -> Option<&str> {
        (!day.is_empty()).then_some(day)
    }
    view_state(serde_json::json!({
        "days": { "picked": checkboxes(days) },
        "start": { "picked": { "type": "timepicker", "selected_time": start } },
        "end": { "picked": { "type": "timepicker", "selected_time": end } },
        "zone": { "zone": { "type": "external_select", "selected_option": option(zone) } },
        "away_from": { "picked": { "type": "datepicker", "selected_date": date(time_off.0) } },
        "away_to": { "picked": { "type": "datepicker", "selected_date": date(time_off.1) } },
    }))
}

/// The hours form with Monday to Friday ticked and no time off.
fn hours_modal(range: &str, zone: &str) -> SlackViewState {
    hours_form("mon,tue,wed,thu,fri", range, zone, ("", ""))
}

/// The "new check-in" form as Slack submits it.
fn checkin_modal(at: &str, days: &str, zone: &str, questions: &str) -> SlackViewState {
    view_state(serde_json::json!({
        "channel": { "value": { "type": "conversations_select", "selected_conversation": "C0123" } },
        "time": { "value": { "type": "timepicker", "selected_time": at } },
        "days": { "value": checkboxes(days) },
        "zone": { "zone_or_local": { "type": "external_select", "selected_option": option(zone) } },
        "questions": { "value": { "type": "plain_text_input", "value": questions } },
    }))
}

/// A zone, typed into every path that takes one.
fn zone_paths(zone: &str) -> Vec<(&'static str, Outcome)> {
    vec![
        (
            "/async hours set",
            outcome(parse(&format!("hours set mon-fri 09:00-17:00 {zone}"))),
        ),
        (
            "/async checkin create",
            outcome(parse(&format!(
                "checkin create <#C0123|team> at 09:30 on mon-fri in {zone}"
            ))),
        ),
        (
            "hours modal",
            modal_outcome(read_hours_modal(Some(&hours_modal("09:00-17:00", zone)))),
        ),
        (
            "check-in modal",
            modal_outcome(read_new_checkin(Some(&checkin_modal(
                "09:30",
                "mon-fri",
                zone,
                "What is next?",
            )))),
        ),
        (
            "schedule-preview --tz",
            outcome(Schedule::from_parts("mon-fri", "09:30", zone)),
        ),
        (
            "audit --tz",
            outcome(AuditSettings::defaults().unwrap().with_zone(zone)),
        ),
        (
            "audit --hours file",
            outcome(
                AuditSettings::defaults()
                    .unwrap()
                    .with_hours(&format!("U1 = \"mon-fri 09:00-17:00 {zone}\"")),
            ),
        ),
        (
            "serve --default-tz",
            outcome(ServeConfig::from_raw(RawServeSettings {
                bot_token: Some("xoxb-1-2-abc".into()),
                signing_secret: Some("8f742231b10e8888abcd99yyyzzz85a5".into()),
                default_tz: Some(zone.into()),
                ..Default::default()
            })),
        ),
    ]
}

/// A time range, typed into every path that takes one.
fn time_range_paths(range: &str) -> Vec<(&'static str, Outcome)> {
    vec![
        (
            "/async hours set",
            outcome(parse(&format!("hours set mon-fri {range}"))),
        ),
        (
            "hours modal",
            modal_outcome(read_hours_modal(Some(&hours_modal(range, "Europe/Berlin")))),
        ),
        (
            "audit --hours file",
            outcome(
                AuditSettings::defaults()
                    .unwrap()
                    .with_hours(&format!("U1 = \"mon-fri {range}\"")),
            ),
        ),
    ]
}

/// A check-in's time of day, typed into every path that takes one.
fn checkin_time_paths(at: &str) -> Vec<(&'static str, Outcome)> {
    vec![
        (
            "/async checkin create",
            outcome(parse(&format!(
                "checkin create <#C0123|team> at {at} on mon-fri"
            ))),
        ),
        (
            "check-in modal",
            modal_outcome(read_new_checkin(Some(&checkin_modal(
                at,
                "mon-fri",
                "UTC",
                "What is next?",
            )))),
        ),
        (
            "schedule-preview --at",
            outcome(Schedule::from_parts("mon-fri", at, "UTC")),
        ),
    ]
}

/// A check-in's questions, given to every path that takes them (one a line in the modal,
/// quoted and separated by `|` in the command).
fn questions_paths(questions: &[String]) -> Vec<(&'static str, Outcome)> {
    let quoted: Vec<String> = questions.iter().map(|q| format!("\"{q}\"")).collect();
    vec![
        (
            "/async checkin create",
            outcome(parse(&format!(
                "checkin create <#C0123|team> at 09:30 on mon-fri questions {}",
                quoted.join(" | ")
            ))),
        ),
        (
            "check-in modal",
            modal_outcome(read_new_checkin(Some(&checkin_modal(
                "09:30",
                "mon-fri",
                "UTC",
                &questions.join("\n"),
            )))),
        ),
    ]
}

/// A list of days, given to every path that takes one (ticked checkboxes in the forms).
fn days_paths(days: &str) -> Vec<(&'static str, Outcome)> {
    vec![
        (
            "/async hours set",
            outcome(parse(&format!("hours set {days} 09:00-17:00"))),
        ),
        (
            "/async checkin create",
            outcome(parse(&format!(
                "checkin create <#C0123|team> at 09:30 on {days}"
            ))),
        ),
        (
            "hours form",
            modal_outcome(read_hours_modal(Some(&hours_form(
                days,
                "09:00-17:00",
                "UTC",
                ("", ""),
            )))),
        ),
        (
            "check-in form",
            modal_outcome(read_new_checkin(Some(&checkin_modal(
                "09:30",
                days,
                "UTC",
                "What is next?",
            )))),
        ),
        (
            "schedule-preview --days",
            outcome(Schedule::from_parts(days, "09:30", "UTC")),
        ),
    ]
}

/// A period of time off, given to every path that takes one.
fn time_off_paths(from: &str, to: &str) -> Vec<(&'static str, Outcome)> {
    vec![
        ("/async away", outcome(parse(&format!("away {from} {to}")))),
        (
            "hours form",
            modal_outcome(read_hours_modal(Some(&hours_form(
                "mon",
                "09:00-17:00",
                "UTC",
                (from, to),
            )))),
        ),
    ]
}

#[test]
fn every_entry_path_reads_days_alike() {
    for days in ["mon,wed,fri", "sat,sun", "mon,tue,wed,thu,fri,sat,sun"] {
        for (path, outcome) in days_paths(days) {
            assert_eq!(outcome, Ok(()), "{path} refused {days}");
        }
    }
    for (path, outcome) in days_paths("mon,funday") {
        let message = outcome.expect_err(path);
        assert!(
            message.contains("`funday` is not a day"),
            "{path}: {message}"
        );
    }
}

#[test]
fn every_entry_path_reads_time_off_alike() {
    for (from, to) in [("2026-12-24", "2027-01-02"), ("2026-12-24", "2026-12-24")] {
        for (path, outcome) in time_off_paths(from, to) {
            assert_eq!(outcome, Ok(()), "{path} refused {from} {to}");
        }
    }
    for (from, to, expected) in [
        ("2027-01-02", "2026-12-24", "before it starts"),
        ("2026-01-01", "2027-06-01", "set at most 366 days"),
        ("2026-12-24", "24/12/2026", "`24/12/2026` is not a date"),
    ] {
        for (path, outcome) in time_off_paths(from, to) {
            let message = outcome.expect_err(path);
            assert!(
                message.contains(expected),
                "{path} on {from} {to}: {message}"
            );
        }
    }
}

/// The check-in modal stored any number of questions of any length, past the command's
/// limits: a bug.
#[test]
fn every_entry_path_holds_questions_to_the_same_limits() {
    let question = |n: usize| format!("What is next on item {n}?");
    let most: Vec<String> = (1..=MAX_QUESTIONS).map(question).collect();
    for (path, outcome) in questions_paths(&most) {
        assert_eq!(outcome, Ok(()), "{path} refused {MAX_QUESTIONS} questions");
    }
    let longest = vec!["x".repeat(MAX_QUESTION_CHARS)];
    for (path, outcome) in questions_paths(&longest) {
        assert_eq!(outcome, Ok(()), "{path} refused the longest question");
    }
    let too_many: Vec<String> = (1..=MAX_QUESTIONS + 1).map(question).collect();
    for (path, outcome) in questions_paths(&too_many) {
        let message = outcome.expect_err(path);
        assert!(
            message.contains("a check-in asks at most"),
            "{path}: {message}"
        );
    }
    let too_long = vec!["x".repeat(MAX_QUESTION_CHARS + 1)];
    for (path, outcome) in questions_paths(&too_long) {
        let message = outcome.expect_err(path);
        assert!(message.contains("characters long"), "{path}: {message}");
    }
}

#[test]
fn every_entry_path_reads_day_overnight_and_whole_day_ranges() {
    for range in [
        "09:00-17:30",
        "9:00-17:00",
        "22:00-06:00",
        "18:00-24:00",
        "00:00-24:00",
    ] {
        for (path, outcome) in time_range_paths(range) {
            assert_eq!(outcome, Ok(()), "{path} refused {range}");
        }
    }
}

/// The hours modal read `09:00-09:00` as 24 hours where `/async hours set` refused it: a bug.
#[test]
fn every_entry_path_refuses_a_range_that_starts_and_ends_at_the_same_time() {
    for range in ["09:00-09:00", "00:00-00:00"] {
        for (path, outcome) in time_range_paths(range) {
            let message = outcome.expect_err(path);
            assert!(
                message.contains("starts and ends at the same time"),
                "{path} on {range}: {message}"
            );
        }
    }
    for range in ["9-5", "09:00-25:00", "24:00-06:00", "09:0-17:00"] {
        for (path, outcome) in time_range_paths(range) {
            let message = outcome.expect_err(path);
            assert!(message.contains(range), "{path} on {range}: {message}");
        }
    }
}

/// The check-in modal and schedule-preview took `09:30:00` where `/async checkin create`
/// refused it.
#[test]
fn every_entry_path_reads_a_checkin_time_alike() {
    for at in ["09:30", "9:30", "00:00", "23:59"] {
        for (path, outcome) in checkin_time_paths(at) {
            assert_eq!(outcome, Ok(()), "{path} refused {at}");
        }
    }
    for at in ["9.30", "24:00", "09:30:00", "25:00", "9:5"] {
        for (path, outcome) in checkin_time_paths(at) {
            let message = outcome.expect_err(path);
            assert!(message.contains(at), "{path} on {at}: {message}");
        }
    }
}

#[test]
fn every_entry_path_reads_an_iana_zone_in_any_case() {
    for zone in [
        "Europe/Berlin",
        "europe/berlin",
        "America/Port-au-Prince",
        "UTC",
    ] {
        for (path, outcome) in zone_paths(zone) {
            assert_eq!(outcome, Ok(()), "{path} refused {zone}");
        }
    }
}

#[test]
fn every_entry_path_refuses_an_abbreviation_naming_the_city_zones_meant() {
    for (path, outcome) in zone_paths("EST") {
        let message = outcome.expect_err(path);
        assert!(
            message.contains("`EST` is an abbreviation") && message.contains("America/New_York"),
            "{path}: {message}"
        );
    }
}

#[test]
fn every_entry_path_refuses_an_offset_and_an_unknown_name_with_a_hint() {
    for (zone, expected) in [
        ("UTC+2", "is a fixed offset"),
        ("Europe/Berln", "Did you mean Europe/Berlin?"),
    ] {
        for (path, outcome) in zone_paths(zone) {
            let message = outcome.expect_err(path);
            assert!(message.contains(expected), "{path} on {zone}: {message}");
        }
    }
}

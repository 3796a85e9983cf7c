//! Every entry path that reads a typed input, side by side: the `/async` command, the hours
//! and check-in modals, the command line, the audit's settings and the bot's own settings.
//! One test per input runs all of them on the same text, so a path that reads an input its
//! own way shows up as a disagreement here rather than in front of a person.

use std::collections::HashMap;

use slack_morphism::prelude::SlackViewState;

use crate::audit::settings::AuditSettings;
use crate::checkins::schedule::Schedule;
use crate::commands::checkin::read_new_checkin;
use crate::commands::parse::parse;
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

/// The hours modal as Slack submits it: Monday's ranges and the zone picked.
fn hours_modal(ranges: &str, zone: &str) -> SlackViewState {
    view_state(serde_json::json!({
        "day_mon": { "ranges": { "type": "plain_text_input", "value": ranges } },
        "zone": { "zone": { "type": "static_select", "selected_option": {
            "text": { "type": "plain_text", "text": zone }, "value": zone } } },
    }))
}

/// The "new check-in" modal as Slack submits it.
fn checkin_modal(at: &str, days: &str, zone: &str, questions: &str) -> SlackViewState {
    let text = |value: &str| serde_json::json!({ "value": { "type": "plain_text_input", "value": value } });
    view_state(serde_json::json!({
        "channel": { "value": { "type": "conversations_select", "selected_conversation": "C0123" } },
        "time": text(at),
        "days": text(days),
        "zone": text(zone),
        "questions": text(questions),
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
            modal_outcome(read_hours_modal(&hours_modal("09:00-17:00", zone))),
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

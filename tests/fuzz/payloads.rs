//! Target 2: what Slack sends (`read_envelope`, `read_event_callback`, `read_command`,
//! `read_interaction`) and the lenient message model the worker reads `message` events
//! with (`MessageEvent`, `classify`).
//!
//! Inputs: arbitrary bytes; Slack's real payloads from `tests/fixtures/` with JSON-level
//! edits (values swapped for other types, fields dropped or added) and byte-level edits
//! (flips, cuts, copies, deep nesting); form bodies whose `payload=` holds an edited
//! interaction; and message events built field by field from odd values.

use std::path::Path;
use std::sync::LazyLock;

use async_norms::ids::UserId;
use async_norms::slack::messages::{BotIdentity, MessageEvent, MessageKind, classify};
use async_norms::slack::payloads::{
    EventBody, read_command, read_envelope, read_event_callback, read_interaction,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};

use crate::strategies::{
    apply_byte_edits, apply_json_edits, byte_edits, json_edits, junk, odd_json_value,
};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// The `payload` of a Socket Mode envelope: the same JSON the HTTP routes receive.
fn socket_payload(name: &str) -> Value {
    fixture(&format!("socket-mode/{name}"))["payload"].take()
}

/// Event callbacks, as `POST /slack/events` receives them.
static EVENTS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    let mut events: Vec<Value> = [
        "app_home_opened.json",
        "app_mention.json",
        "bot_message.json",
        "function_executed.json",
        "message.json",
        "message_changed.json",
        "message_deleted.json",
        "url_verification.json",
    ]
    .into_iter()
    .map(fixture)
    .collect();
    events.push(socket_payload(
        "envelope1__events_api__event_callback.app_mention.json",
    ));
    events.push(socket_payload(
        "envelope3__events_api__event_callback.message.json",
    ));
    events
});

/// Interaction payloads, the JSON inside `payload=`.
static INTERACTIONS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    vec![
        fixture("block_actions.json"),
        fixture("view_submission.json"),
        socket_payload("envelope2__interactive__shortcut.json"),
        socket_payload("envelope4__interactive__block_actions.json"),
    ]
});

/// Slash command forms, as `POST /slack/commands` receives them.
static COMMANDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slash_command.txt");
    let http = std::fs::read(path).expect("the slash command fixture");
    let socket = socket_payload("envelope0__slash_commands__slash_command.json");
    let pairs: Vec<(String, String)> = socket
        .as_object()
        .expect("the socket command is an object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let socket = serde_urlencoded::to_string(pairs)
        .expect("a form")
        .into_bytes();
    vec![http, socket]
});

fn interaction_form(payload: &str) -> Vec<u8> {
    serde_urlencoded::to_string([("payload", payload)])
        .expect("a form")
        .into_bytes()
}

fn me() -> BotIdentity {
    BotIdentity {
        user_id: UserId::new("UBOT"),
        bot_id: Some("BBOT".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

fn check_message(event: &MessageEvent) -> Result<(), TestCaseError> {
    match classify(event, &me()) {
        MessageKind::New(message) => {
            prop_assert_eq!(Some(message.channel.as_str()), event.channel.as_deref());
            prop_assert_eq!(Some(message.user.as_str()), event.body.user.as_deref());
            prop_assert_eq!(Some(message.ts.as_str()), event.body.ts.as_deref());
            prop_assert!(event.body.bot_id.is_none() && message.user.as_str() != "UBOT");
            prop_assert!(matches!(
                event.subtype.as_deref(),
                None | Some("thread_broadcast" | "file_share" | "me_message")
            ));
        }
        MessageKind::Edited {
            message,
            previous_text,
        } => {
            prop_assert_eq!(event.subtype.as_deref(), Some("message_changed"));
            prop_assert_ne!(&message.text, &previous_text, "an edit without a change");
            prop_assert!(message.user.as_str() != "UBOT");
        }
        MessageKind::FromBot | MessageKind::Deleted(_) | MessageKind::System(_) => {}
    }
    Ok(())
}

/// A `message` event's JSON, read the way the worker reads it, then sorted.
pub fn check_message_json(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(event) = serde_json::from_slice::<MessageEvent>(bytes) {
        check_message(&event)?;
    }
    Ok(())
}

/// The first string of `field`s present, as `read_event_callback` picks the team.
fn team_of(value: &Value) -> Option<&str> {
    ["team_id", "enterprise_id"]
        .iter()
        .find_map(|field| value.get(*field).and_then(Value::as_str))
}

/// One body through every reader: each gives a value or an error with a message.
pub fn check_body(body: &[u8]) -> Result<(), TestCaseError> {
    let nonempty = |error: &dyn std::fmt::Display| -> Result<(), TestCaseError> {
        match error.to_string().trim().is_empty() {
            true => Err(fail("an error without a message".into())),
            false => Ok(()),
        }
    };
    if let Err(error) = read_envelope(body) {
        nonempty(&error)?;
    }
    match read_event_callback(body) {
        Ok(incoming) => {
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| fail(format!("read an event from text that is not JSON: {e}")))?;
            prop_assert_eq!(Some(incoming.team.as_str()), team_of(&value));
            if let EventBody::Message(message) = &incoming.body {
                check_message(message)?;
            }
        }
        Err(error) => nonempty(&error)?,
    }
    if let Err(error) = read_command(body) {
        nonempty(&error)?;
    }
    if let Err(error) = read_interaction(body) {
        nonempty(&error)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// A fixture picked by index, with JSON edits and, sometimes, byte edits after encoding.
fn edited(fixtures: &'static LazyLock<Vec<Value>>) -> impl Strategy<Value = Vec<u8>> {
    (
        0..fixtures.len(),
        json_edits(),
        prop::option::weighted(0.3, byte_edits()),
    )
        .prop_map(move |(index, edits, bytes)| {
            let mut value = fixtures[index].clone();
            apply_json_edits(&mut value, &edits);
            let mut body = serde_json::to_vec(&value).expect("JSON encodes");
            if let Some(bytes) = bytes {
                apply_byte_edits(&mut body, &bytes);
            }
            body
        })
}

/// A form whose `payload` holds an edited interaction; sometimes the form itself is edited.
fn interaction_body() -> impl Strategy<Value = Vec<u8>> {
    (
        edited(&INTERACTIONS),
        prop::option::weighted(0.3, byte_edits()),
    )
        .prop_map(|(payload, form_edits)| {
            let mut form = interaction_form(&String::from_utf8_lossy(&payload));
            if let Some(edits) = form_edits {
                apply_byte_edits(&mut form, &edits);
            }
            form
        })
}

/// A slash command form with edited bytes, or rebuilt from odd field values.
fn command_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0..COMMANDS.len(), byte_edits()).prop_map(|(index, edits)| {
            let mut body = COMMANDS[index].clone();
            apply_byte_edits(&mut body, &edits);
            body
        }),
        prop::collection::vec(
            (
                prop::sample::select(
                    &[
                        "token",
                        "team_id",
                        "channel_id",
                        "user_id",
                        "command",
                        "text",
                        "response_url",
                        "trigger_id",
                        "enterprise_id",
                        "api_app_id",
                        "payload",
                    ][..]
                ),
                junk(30),
            ),
            0..14
        )
        .prop_map(|pairs| serde_urlencoded::to_string(pairs)
            .expect("a form")
            .into_bytes()),
    ]
}

/// A `message` event built field by field: each field absent, typed right, or typed wrong.
fn message_event() -> impl Strategy<Value = Value> {
    let text_field = || {
        prop_oneof![
            3 => junk(20).prop_map(Value::String),
            2 => prop::sample::select(&["U1", "UBOT", "C1", "1.1", "2.2", ""][..]).prop_map(Value::from),
            1 => odd_json_value(),
        ]
    };
    let subtype = prop_oneof![
        Just(Value::Null),
        prop::sample::select(
            &[
                "message_changed",
                "message_deleted",
                "bot_message",
                "thread_broadcast",
                "file_share",
                "me_message",
                "channel_join",
                "",
                "MESSAGE_CHANGED",
            ][..]
        )
        .prop_map(Value::from),
        odd_json_value(),
    ];
    let body = || {
        prop::collection::vec(
            (
                prop::sample::select(
                    &[
                        "user",
                        "bot_id",
                        "bot_profile",
                        "text",
                        "ts",
                        "thread_ts",
                        "subtype",
                    ][..],
                ),
                text_field(),
            ),
            0..7,
        )
        .prop_map(|fields| {
            Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect::<Map<_, _>>(),
            )
        })
    };
    (
        body(),
        subtype,
        prop::option::of(text_field()),
        prop::option::of(body()),
        prop::option::of(body()),
    )
        .prop_map(|(mut event, subtype, channel, message, previous)| {
            let map = event.as_object_mut().expect("an object");
            map.insert("type".into(), "message".into());
            if !subtype.is_null() {
                map.insert("subtype".into(), subtype);
            }
            if let Some(channel) = channel {
                map.insert("channel".into(), channel);
            }
            if let Some(message) = message {
                map.insert("message".into(), message);
            }
            if let Some(previous) = previous {
                map.insert("previous_message".into(), previous);
            }
            event
        })
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..600),
        1 => odd_json_value().prop_map(|v| serde_json::to_vec(&v).expect("JSON encodes")),
        1 => odd_json_value().prop_map(|v| interaction_form(&v.to_string())),
        4 => edited(&EVENTS),
        4 => interaction_body(),
        2 => command_body(),
        2 => message_event().prop_map(|event| {
            let envelope = serde_json::json!({
                "type": "event_callback", "team_id": "T1", "event_id": "Ev1", "event": event,
            });
            serde_json::to_vec(&envelope).expect("JSON encodes")
        }),
    ]
}

#[test]
fn every_fixture_reads_before_it_is_mutated() {
    for event in EVENTS.iter() {
        let body = serde_json::to_vec(event).expect("JSON encodes");
        read_envelope(&body).expect("an envelope");
        if event["type"] == "event_callback" {
            read_event_callback(&body).expect("an event callback");
        }
    }
    for interaction in INTERACTIONS.iter() {
        read_interaction(&interaction_form(&interaction.to_string())).expect("an interaction");
    }
    for command in COMMANDS.iter() {
        read_command(command).expect("a slash command");
    }
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn payload_readers_answer_any_body_with_a_value_or_an_error(body in any_body()) {
        crate::keep_failing_bytes("payload-failure.txt", &body, || check_body(&body))?;
    }

    #[test]
    fn message_events_of_any_shape_are_sorted_without_panicking(event in message_event()) {
        let json = serde_json::to_vec(&event).expect("JSON encodes");
        crate::keep_failing_bytes("message-failure.json", &json, || check_message_json(&json))?;
    }
}

//! Every real Slack payload in `../shared/slack-reference/` (copied from Slack's own SDK
//! test suites) goes through the bot's own parsing. Runs where that folder exists beside
//! the project; says it skipped where it does not (a fresh clone).

mod common;

use std::path::Path;

use async_norms::slack::payloads::{
    read_command, read_envelope, read_event_callback, read_interaction,
};
use serde_json::Value;

fn files(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(folder)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

fn form_of(object: &Value) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in object.as_object().expect("an object") {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Null => continue,
            other => other.to_string(),
        };
        form.append_pair(key, &text);
    }
    form.finish()
}

/// Files that are not whole Slack payloads but fragments the SDK's own tests build:
/// bodies already filtered by the SDK (`filtered_body`), a two-field stub of
/// `block_actions`, one without its `container`, an empty form used to test signatures,
/// and the retired workflow-step payloads.
fn is_sdk_fragment(name: &str) -> bool {
    name.contains("filtered_body")
        || name.starts_with("block_actions__test_builtins__")
        || name.starts_with("block_actions__test_error_handler__")
        || name.starts_with("form_payload__")
        // Workflow Steps from apps, retired by Slack; this app declares none.
        || name.contains("test_workflow_steps")
}

/// Interaction types the bot receives (it never sends legacy attachments or dialogs).
const HANDLED_INTERACTIONS: [&str; 5] = [
    "block_actions",
    "block_suggestion",
    "view_submission",
    "view_closed",
    "shortcut",
];

#[test]
fn every_real_payload_reads_through_the_bots_own_parsing() {
    let Some(reference) = common::shared_reference() else {
        eprintln!("skipped: ../shared/slack-reference is not beside this checkout");
        return;
    };
    let payloads = reference.join("payloads");
    let mut checked = 0;
    let mut failures = Vec::new();
    for folder in files(&payloads).into_iter().filter(|p| p.is_dir()) {
        let kind = folder.file_name().unwrap().to_string_lossy().into_owned();
        for file in files(&folder) {
            let text = std::fs::read_to_string(&file).unwrap();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if is_sdk_fragment(&name) {
                eprintln!("an SDK test fragment, not a Slack payload: {kind}/{name}");
                continue;
            }
            let outcome: Result<(), String> = match kind.as_str() {
                "event_callback" => read_envelope(text.as_bytes())
                    .map_err(|e| e.to_string())
                    .and_then(|envelope| {
                        (envelope.kind == "event_callback"
                            && envelope.event_id.is_some()
                            && envelope.scope().is_some())
                        .then_some(())
                        .ok_or_else(|| format!("envelope read as {envelope:?}"))
                    })
                    .and_then(|()| {
                        read_event_callback(text.as_bytes())
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    }),
                "url_verification" => read_envelope(text.as_bytes())
                    .map_err(|e| e.to_string())
                    .and_then(|e| e.challenge.map(|_| ()).ok_or_else(|| "no challenge".into())),
                "slash_command_form" | "form_payload" => read_command(text.trim().as_bytes())
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                "slash_command_dict" => {
                    let dict: Value = serde_json::from_str(&text).unwrap();
                    read_command(form_of(&dict).as_bytes())
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
                interaction if HANDLED_INTERACTIONS.contains(&interaction) => {
                    let form = url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("payload", &text)
                        .finish();
                    read_interaction(form.as_bytes())
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
                "jsonstr" => {
                    let form = url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("payload", &text)
                        .finish();
                    read_interaction(form.as_bytes())
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
                _ => {
                    eprintln!("not a payload the bot receives: {kind}/{name}");
                    continue;
                }
            };
            checked += 1;
            if let Err(e) = outcome {
                failures.push(format!("{kind}/{name}: {e}"));
            }
        }
    }
    let envelopes = reference.join("socket-mode");
    for file in files(&envelopes) {
        let envelope: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let outcome = match envelope["type"].as_str() {
            Some("events_api") => read_event_callback(envelope["payload"].to_string().as_bytes())
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Some("slash_commands") => read_command(form_of(&envelope["payload"]).as_bytes())
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Some("interactive") => {
                let form = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("payload", &envelope["payload"].to_string())
                    .finish();
                read_interaction(form.as_bytes())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            _ => continue,
        };
        checked += 1;
        if let Err(e) = outcome {
            failures.push(format!("socket-mode/{name}: {e}"));
        }
    }
    eprintln!("checked {checked} real payloads");
    assert!(
        checked >= 70,
        "the reference folder holds the payloads it should ({checked})"
    );
    assert!(
        failures.is_empty(),
        "payloads the bot cannot read:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_manifest_validates_against_slacks_schema() {
    let Some(reference) = common::shared_reference() else {
        eprintln!("skipped: ../shared/slack-reference is not beside this checkout");
        return;
    };
    let schema_path = reference.join("manifest-schema/schemas/manifest.schema.1.0.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("Slack's schema compiles");
    use async_norms::manifest::{Delivery, render};
    for rendered in [
        render(None, Delivery::Http).unwrap(),
        render(Some("https://norms.acme.dev"), Delivery::Http).unwrap(),
        render(None, Delivery::SocketMode).unwrap(),
    ] {
        let manifest: Value = serde_yaml::from_str(&rendered).expect("the manifest is YAML");
        let errors: Vec<String> = validator
            .iter_errors(&manifest)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "manifest.yml breaks Slack's schema:\n{}",
            errors.join("\n")
        );
    }
    // The check is real: Slack's own invalid example fails it.
    let invalid: Value = serde_json::from_str(
        &std::fs::read_to_string(
            reference.join("manifest-schema/tests/manifests/v1/manifest.invalid.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(!validator.is_valid(&invalid));
}

#[test]
fn the_manifest_declares_what_the_bot_needs() {
    use async_norms::manifest::Delivery;
    let manifest: Value =
        serde_yaml::from_str(&async_norms::manifest::render(None, Delivery::Http).unwrap())
            .unwrap();
    let command = &manifest["features"]["slash_commands"][0];
    assert_eq!(command["command"], "/async");
    assert_eq!(command["should_escape"], true);
    let events: Vec<&str> = manifest["settings"]["event_subscriptions"]["bot_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for needed in [
        "message.channels",
        "app_mention",
        "app_home_opened",
        "user_change",
        "team_join",
        "app_uninstalled",
        "team_access_granted",
    ] {
        assert!(events.contains(&needed), "{needed}");
    }
    let scopes: Vec<&str> = manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for needed in [
        "chat:write",
        "commands",
        "users:read",
        "channels:history",
        "channels:read",
        "im:write",
    ] {
        assert!(scopes.contains(&needed), "{needed}");
    }
    assert_eq!(manifest["features"]["app_home"]["home_tab_enabled"], true);
    assert_eq!(manifest["settings"]["interactivity"]["is_enabled"], true);
    assert_eq!(manifest["settings"]["socket_mode_enabled"], false);
}

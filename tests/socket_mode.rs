//! Socket Mode: with an app token the bot dials out over a WebSocket (slack-morphism's
//! client) and every envelope reaches the same intake and handlers as over HTTP.

mod common;

use common::*;
use hyper::StatusCode;
use serde_json::json;

fn envelope(name: &str) -> serde_json::Value {
    fixture_json(&format!("socket-mode/{name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_commands_arrive_over_the_websocket() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start_socket_mode(&emulator).await;

    let mut mention = envelope("envelope1__events_api__event_callback.app_mention.json");
    mention["payload"]["event"]["channel"] = json!("CSOCKET");
    let ack = emulator.send_envelope(&mention, PATIENCE).await;
    assert_eq!(ack["envelope_id"], mention["envelope_id"]);
    assert!(
        !emulator.calls_to("apps.connections.open").is_empty(),
        "the bot opened the connection"
    );
    let posts = emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    assert_eq!(posts[0].param("channel"), Some("CSOCKET"));
    assert_eq!(
        posts[0].param("thread_ts"),
        mention["payload"]["event"]["ts"].as_str()
    );

    // Slack redelivers an envelope it saw no ack for; the event id makes it a duplicate.
    let mut again = mention.clone();
    again["envelope_id"] = json!("another-envelope");
    emulator.send_envelope(&again, PATIENCE).await;
    assert_eq!(bot.metric("async_norms_events_duplicate_total").await, 1.0);

    let mut command = envelope("envelope0__slash_commands__slash_command.json");
    command["payload"]["command"] = json!("/async");
    command["payload"]["text"] = json!("help");
    let ack = emulator.send_envelope(&command, PATIENCE).await;
    assert_eq!(ack["payload"]["response_type"], "ephemeral", "{ack}");
    assert!(
        ack["payload"]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("/async"),
        "{ack}"
    );

    // Without a signing secret, the HTTP routes refuse Slack payloads but still serve health.
    let (status, _) = post_event(bot.addr, &event("app_mention.json", "EvOverHttp")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(get(bot.addr, "/healthz").await.0, StatusCode::OK);
    bot.stop().await;
}

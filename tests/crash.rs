//! `kill -9` right after Slack was told "200": the journaled events are handled after the
//! restart, each exactly once. The bot runs as its own process here, so nothing of its
//! shutdown code can run.

mod common;

use common::*;
use hyper::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_answered_before_a_kill_9_are_handled_once_after_restart() {
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    // Slack "hangs": no event can finish before the kill, so all must come from the journal.
    emulator.hold("chat.postMessage");
    let bot = BotProcess::start(&emulator, data_dir.path());
    const EVENTS: usize = 8;
    for index in 0..EVENTS {
        let mut body = event("app_mention.json", &format!("EvCrash{index}"));
        body["event"]["channel"] = json!(format!("CCRASH{index}"));
        let (status, _) = post_event(bot.addr, &body).await;
        assert_eq!(status, StatusCode::OK);
    }
    // Every handler has sent its call and hangs on Slack's answer. (A request still in a
    // socket buffer when the process dies would reach Slack anyway: that window is
    // inherent to any sender, and waiting here keeps it out of the test.)
    emulator
        .wait_for_attempts("chat.postMessage", EVENTS, PATIENCE)
        .await;
    bot.kill_9();
    emulator.release("chat.postMessage");

    let bot = BotProcess::start(&emulator, data_dir.path());
    let delivered = emulator
        .wait_for("chat.postMessage", EVENTS, PATIENCE)
        .await;
    // A barrier: once a later event is answered, anything the journal still held was too.
    let mut barrier = event("app_mention.json", "EvCrashBarrier");
    barrier["event"]["channel"] = json!("CBARRIER");
    post_event(bot.addr, &barrier).await;
    let delivered_after = emulator
        .wait_for("chat.postMessage", EVENTS + 1, PATIENCE)
        .await;
    let mut channels: Vec<&str> = delivered_after
        .iter()
        .filter_map(|c| c.param("channel"))
        .filter(|c| *c != "CBARRIER")
        .collect();
    channels.sort();
    let expected: Vec<String> = (0..EVENTS).map(|i| format!("CCRASH{i}")).collect();
    assert_eq!(
        channels, expected,
        "each answered event handled exactly once"
    );
    assert!(delivered.len() >= EVENTS);
    // The retries Slack would send after the crash are recognised, too.
    let (status, _) = post_signed(
        bot.addr,
        "/slack/events",
        "application/json",
        event("app_mention.json", "EvCrash0").to_string().as_bytes(),
        &[
            ("x-slack-retry-num", "1"),
            ("x-slack-retry-reason", "http_timeout"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        metric(bot.addr, "async_norms_events_duplicate_total").await,
        1.0
    );
}

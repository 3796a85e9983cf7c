//! The hardened edge: what a hostile or broken world cannot do to the bot. Slow and stalled
//! clients, too many connections, a file-descriptor limit, a flood of mentions, payloads for
//! another workspace, and an event whose handler panics.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hyper::StatusCode;

/// A handler that panics (here: the real message path, with the clock at the last minute
/// chrono can show, where the note's expiry overflows) has its event tried the allowed
/// number of times, then set aside: counted, listed by `set-aside`, and not tried again
/// after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handlers_event_is_set_aside_and_stays_aside_after_a_restart() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    let end_of_time = chrono::DateTime::<chrono::Utc>::MAX_UTC - chrono::TimeDelta::seconds(30);
    let clock = std::sync::Arc::new(async_norms::clock::FixedClock::new(end_of_time));
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    let body = message_event(
        "EvPanics",
        "U1",
        "C1",
        "URGENT: <@U2> please review ASAP",
        "1700000000.000100",
        None,
    );
    let (status, _) = post_event(bot.addr, &body).await;
    assert_eq!(status, StatusCode::OK);
    bot.wait_for_metric("async_norms_events_set_aside_total{type=\"message\"}", 1.0)
        .await;
    assert_eq!(
        bot.metric("async_norms_events_failed_total{reason=\"panicked\"}").await,
        1.0
    );
    assert_eq!(bot.metric("async_norms_events_pending").await, 0.0);
    let data_dir = bot.stop().await;

    // A restart does not try it again.
    let bot = TestBot::start_in(&emulator, clock, data_dir).await;
    assert_eq!(bot.metric("async_norms_events_pending").await, 0.0);
    let calls_before = emulator.calls().len();
    let (status, _) = post_event(bot.addr, &message_event("EvPlain", "U1", "C1", "hello", "1700000001.000100", None)).await;
    assert_eq!(status, StatusCode::OK);
    bot.wait_for_handled_messages(1.0).await;
    assert_eq!(bot.metric("async_norms_events_set_aside_total{type=\"message\"}").await, 0.0);
    assert_eq!(emulator.calls().len(), calls_before, "nothing sent for the set-aside event");
    let data_dir = bot.stop().await;

    let (code, stdout, stderr) = run_cli(
        &["set-aside", "--data-dir", data_dir.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let fields: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(fields[1], "T111/EvPanics");
    assert_eq!(fields[2], "message");
    assert_eq!(fields[3], "5");
    assert!(fields[4].contains("panicked"), "{stdout}");
}

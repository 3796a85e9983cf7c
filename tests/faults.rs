//! Slack misbehaving: calls that stall for 5 seconds, then connections refused for a while.
//! The bot keeps acknowledging events well inside Slack's 3-second limit, keeps the events
//! waiting for Slack on disk rather than in memory once its bounded queue is full, and
//! delivers every message exactly once when Slack is back.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hyper::StatusCode;
use serde_json::{Value, json};

/// Slack stops retrying (and calls the app broken) when an answer takes longer.
const SLACK_ACK_LIMIT: Duration = Duration::from_secs(3);
/// Waiting for the bot to catch up after the outage: its backoff between attempts grows
/// to a few seconds while Slack refuses connections, and the answers beyond the bot's
/// burst of posts go out at ten a second.
const RECOVERY: Duration = Duration::from_secs(90);

fn mention(index: usize) -> Value {
    let mut body = event("app_mention.json", &format!("EvMention{index}"));
    body["event"]["channel"] = json!(format!("CM{index}"));
    body
}

fn plain(index: usize) -> Value {
    message_event(
        &format!("EvPlain{index}"),
        "U1",
        "CPLAIN",
        "Notes from the design review are in the doc.",
        &format!("1700000000.{index:06}"),
        None,
    )
}

/// Sends the events from 16 tasks at once; returns the slowest acknowledgement. Every one
/// must be answered 200.
async fn send_all(bot: &TestBot, events: Vec<Value>) -> Duration {
    let addr = bot.addr;
    let mut senders = tokio::task::JoinSet::new();
    let chunk = events.len().div_ceil(16).max(1);
    for part in events.chunks(chunk).map(<[Value]>::to_vec) {
        senders.spawn(async move {
            let mut slowest = Duration::ZERO;
            for body in part {
                let sent = Instant::now();
                let (status, answer) = post_event(addr, &body).await;
                assert_eq!(status, StatusCode::OK, "{answer}");
                slowest = slowest.max(sent.elapsed());
            }
            slowest
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(result) = senders.join_next().await {
        slowest = slowest.max(result.expect("a sender task"));
    }
    slowest
}

fn posts_per_channel(emulator: &SlackEmulator) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    for call in emulator.calls_to("chat.postMessage") {
        if let Some(channel) = call.param("channel") {
            *counts.entry(channel.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalls_and_refused_connections_delay_nothing_and_lose_nothing() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;

    // 5-second stalls: the first three posts hang; acknowledgements do not wait for them.
    emulator.inject("chat.postMessage", Fault::Stall(Duration::from_secs(5)), 3);
    let stalled: Vec<Value> = (0..3).map(mention).collect();
    let slowest_during_stall = send_all(&bot, stalled).await;
    emulator
        .wait_for_attempts("chat.postMessage", 3, PATIENCE)
        .await;
    let during_stall: Vec<Value> = (0..50).map(plain).collect();
    let slowest_plain_during_stall = send_all(&bot, during_stall).await;
    // The stalled calls end, answered, 5 seconds later; nothing was posted twice meanwhile.
    bot.wait_for_metric(
        "async_norms_events_handled_total{type=\"app_mention\"}",
        3.0,
    )
    .await;
    assert_eq!(emulator.calls_to("chat.postMessage").len(), 3);

    // Slack unreachable: every call is refused. Mentions keep the worker's handlers busy
    // retrying (more of them than it has handlers); the plain messages behind them
    // overflow the in-memory queue to disk.
    emulator.refuse_connections();
    const MENTIONS: usize = async_norms::bot::worker::CONCURRENCY + 20;
    const PLAIN: usize = 1500;
    let mentions: Vec<Value> = (3..MENTIONS).map(mention).collect();
    let slowest_mention_during_outage = send_all(&bot, mentions).await;
    let plains: Vec<Value> = (50..PLAIN).map(plain).collect();
    let slowest_plain_during_outage = send_all(&bot, plains).await;
    for (what, slowest) in [
        ("a mention while posts stall", slowest_during_stall),
        ("a message while posts stall", slowest_plain_during_stall),
        (
            "a mention while Slack refuses",
            slowest_mention_during_outage,
        ),
        ("a message while Slack refuses", slowest_plain_during_outage),
    ] {
        assert!(
            slowest < SLACK_ACK_LIMIT,
            "{what} was acknowledged after {slowest:?}"
        );
    }
    let queued = bot.metric("async_norms_events_queued").await;
    let deferred = bot.metric("async_norms_events_deferred_total").await;
    let pending = bot.metric("async_norms_events_pending").await;
    assert!(
        queued <= async_norms::bot::worker::QUEUE_CAPACITY as f64,
        "{queued} events in memory"
    );
    assert!(
        deferred > 0.0,
        "the queue never overflowed to disk ({pending} pending): the test did not test it"
    );

    // Slack is back: everything arrives, once.
    emulator.accept_connections();
    let deadline = Instant::now() + RECOVERY;
    loop {
        let handled_mentions = bot
            .metric("async_norms_events_handled_total{type=\"app_mention\"}")
            .await;
        let handled_messages = bot
            .metric("async_norms_events_handled_total{type=\"message\"}")
            .await;
        if handled_mentions >= MENTIONS as f64 && handled_messages >= PLAIN as f64 {
            break;
        }
        if Instant::now() >= deadline {
            let mut methods = std::collections::BTreeMap::new();
            for call in emulator.calls() {
                *methods.entry(call.method.clone()).or_insert(0) += 1;
            }
            eprintln!("Web API calls received: {methods:?}");
        }
        assert!(
            Instant::now() < deadline,
            "after the outage: {handled_mentions} of {MENTIONS} mentions and \
             {handled_messages} of {PLAIN} messages handled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let posts = posts_per_channel(&emulator);
    for index in 0..MENTIONS {
        let channel = format!("CM{index}");
        assert_eq!(
            posts.get(&channel).copied().unwrap_or(0),
            1,
            "the answer to the mention in {channel}"
        );
    }
    assert_eq!(bot.metric("async_norms_events_pending").await, 0.0);
    assert_eq!(bot.metric("async_norms_events_failed_total").await, 0.0);
    println!(
        "outage: {deferred} events waited on disk; slowest acknowledgement {:?}",
        [
            slowest_during_stall,
            slowest_plain_during_stall,
            slowest_mention_during_outage,
            slowest_plain_during_outage
        ]
        .into_iter()
        .max()
        .unwrap_or_default()
    );
    bot.stop().await;
}

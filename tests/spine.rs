//! End to end: the real bot against the local Slack emulator, through its HTTP routes.

mod common;

use std::time::Duration;

use common::*;
use hyper::StatusCode;
use serde_json::json;

#[tokio::test]
async fn url_verification_echoes_the_challenge() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    let body = fixture_json("url_verification.json");
    let (status, answer) = post_event(bot.addr, &body).await;
    assert_eq!(status, StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["challenge"], body["challenge"]);
    bot.stop().await;
}

#[tokio::test]
async fn forged_unsigned_and_stale_requests_are_refused_and_not_processed() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    let body = event("app_mention.json", "EvForged").to_string();
    let now = now_unix().to_string();
    let stale = (now_unix() - 301).to_string();
    let secret = async_norms::config::Secret::new(SIGNING_SECRET);
    let stale_signature = async_norms::slack::signature::sign(&secret, &stale, body.as_bytes());
    let forged_signature = async_norms::slack::signature::sign(
        &async_norms::config::Secret::new("not-the-secret"),
        &now,
        body.as_bytes(),
    );
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("unsigned", vec![]),
        (
            "no timestamp",
            vec![("x-slack-signature", forged_signature.as_str())],
        ),
        (
            "forged",
            vec![
                ("x-slack-request-timestamp", now.as_str()),
                ("x-slack-signature", forged_signature.as_str()),
            ],
        ),
        (
            "stale",
            vec![
                ("x-slack-request-timestamp", stale.as_str()),
                ("x-slack-signature", stale_signature.as_str()),
            ],
        ),
    ];
    for path in ["/slack/events", "/slack/commands", "/slack/interactivity"] {
        for (case, headers) in &cases {
            let (status, text) =
                post_raw(bot.addr, path, "application/json", body.as_bytes(), headers).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{case} on {path}: {text}");
        }
    }
    assert_eq!(
        bot.metric("async_norms_signature_rejections_total").await,
        12.0
    );
    assert_eq!(
        bot.metric("async_norms_events_received_total{type=\"app_mention\"}")
            .await,
        0.0
    );
    // A signed copy of the same body is then accepted: the refusals left nothing behind.
    let (status, _) = post_event(bot.addr, &event("app_mention.json", "EvForged")).await;
    assert_eq!(status, StatusCode::OK);
    emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    assert_eq!(emulator.calls_to("chat.postMessage").len(), 1);
    bot.stop().await;
}

#[tokio::test]
async fn a_retried_event_is_handled_once() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    let body = event("app_mention.json", "EvRetry1");
    let (status, _) = post_event(bot.addr, &body).await;
    assert_eq!(status, StatusCode::OK);
    for retry in ["1", "2", "3"] {
        let (status, _) = post_signed(
            bot.addr,
            "/slack/events",
            "application/json",
            body.to_string().as_bytes(),
            &[
                ("x-slack-retry-num", retry),
                ("x-slack-retry-reason", "http_timeout"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "a retry is acknowledged");
    }
    assert_eq!(bot.metric("async_norms_events_duplicate_total").await, 3.0);
    // A later, different event is a barrier: once it is answered, the first one was too.
    let mut later = event("app_mention.json", "EvRetry2");
    later["event"]["channel"] = json!("C222");
    post_event(bot.addr, &later).await;
    let posts = emulator.wait_for("chat.postMessage", 2, PATIENCE).await;
    let in_first_channel = posts
        .iter()
        .filter(|c| c.param("channel") == Some("C111"))
        .count();
    assert_eq!(
        in_first_channel, 1,
        "the retried mention is answered exactly once"
    );
    bot.stop().await;
}

#[tokio::test]
async fn an_app_mention_is_answered_in_its_thread() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    let body = event("app_mention.json", "EvMention");
    post_event(bot.addr, &body).await;
    let posts = emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    assert_eq!(posts[0].param("channel"), Some("C111"));
    assert_eq!(posts[0].param("thread_ts"), body["event"]["ts"].as_str());
    bot.stop().await;
}

#[tokio::test]
async fn the_home_tab_is_published_for_the_member_who_opened_it() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    let mut body = event("app_home_opened.json", "EvHome");
    body["event"]["tab"] = json!("home");
    post_event(bot.addr, &body).await;
    let published = emulator.wait_for("views.publish", 1, PATIENCE).await;
    assert_eq!(published[0].param("user_id"), Some("W111"));
    assert_eq!(published[0].params["view"]["type"], "home");
    bot.stop().await;
}

#[tokio::test]
async fn messages_from_bots_edits_and_deletions_are_acknowledged_without_replies() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    for (index, name) in [
        "bot_message.json",
        "message_changed.json",
        "message_deleted.json",
        "message.json",
    ]
    .iter()
    .enumerate()
    {
        let (status, _) = post_event(bot.addr, &event(name, &format!("EvKind{index}"))).await;
        assert_eq!(status, StatusCode::OK, "{name}");
    }
    let mut barrier = event("app_mention.json", "EvKindBarrier");
    barrier["event"]["channel"] = json!("CBARRIER");
    post_event(bot.addr, &barrier).await;
    emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    bot.wait_for_handled_messages(4.0).await;
    let replies: Vec<_> = emulator
        .calls()
        .into_iter()
        .filter(|c| matches!(c.method.as_str(), "chat.postMessage" | "chat.postEphemeral"))
        .filter(|c| c.param("channel") != Some("CBARRIER"))
        .collect();
    assert!(
        replies.is_empty(),
        "no replies to bots, edits or deletions: {replies:?}"
    );
    bot.stop().await;
}

#[tokio::test]
async fn malformed_and_unknown_input_gets_a_4xx_or_a_200_never_a_500() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode)> = vec![
        (
            "/slack/events",
            "application/json",
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/slack/events",
            "application/json",
            b"[]".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/slack/events",
            "application/json",
            br#"{"type":"event_callback"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/slack/events",
            "application/json",
            br#"{"type":"something_new","x":1}"#.to_vec(),
            StatusCode::OK,
        ),
        (
            "/slack/events",
            "application/json",
            event("function_executed.json", "EvUnknownType")
                .to_string()
                .into_bytes(),
            StatusCode::OK,
        ),
        (
            "/slack/commands",
            "application/x-www-form-urlencoded",
            b"text=%ZZ&&&".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/slack/interactivity",
            "application/x-www-form-urlencoded",
            b"payload=%7Bnope".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/slack/interactivity",
            "application/x-www-form-urlencoded",
            b"nothing=here".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, content_type, body, expected) in cases {
        let (status, text) = post_signed(bot.addr, path, content_type, &body, &[]).await;
        assert_eq!(
            status,
            expected,
            "{path} {}: {text}",
            String::from_utf8_lossy(&body)
        );
        assert!(
            !text.is_empty() || status == StatusCode::OK,
            "a 4xx says why"
        );
    }
    // The unknown event type is handled quietly.
    bot.wait_for_metric("async_norms_events_handled_total{type=\"unknown\"}", 1.0)
        .await;
    let (status, _) = get(bot.addr, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    bot.stop().await;
}

#[tokio::test]
async fn a_429_storm_delays_but_loses_no_message() {
    let emulator = SlackEmulator::start().await;
    emulator.inject(
        "chat.postMessage",
        Fault::RateLimited {
            retry_after_secs: 1,
        },
        6,
    );
    emulator.inject("chat.postMessage", Fault::ServerError, 2);
    let bot = TestBot::start(&emulator).await;
    for index in 0..5 {
        let mut body = event("app_mention.json", &format!("EvStorm{index}"));
        body["event"]["channel"] = json!(format!("CSTORM{index}"));
        let (status, _) = post_event(bot.addr, &body).await;
        assert_eq!(status, StatusCode::OK);
    }
    let delivered = emulator
        .wait_for("chat.postMessage", 5, Duration::from_secs(60))
        .await;
    let mut channels: Vec<_> = delivered
        .iter()
        .filter_map(|c| c.param("channel"))
        .collect();
    channels.sort();
    assert_eq!(
        channels,
        ["CSTORM0", "CSTORM1", "CSTORM2", "CSTORM3", "CSTORM4"],
        "each once"
    );
    assert_eq!(
        bot.metric("async_norms_slack_api_rate_limited_total{method=\"chat.postMessage\"}")
            .await,
        6.0
    );
    // Every retry after a 429 waited at least the Retry-After second. The check is per
    // channel: a post to another channel that was already on its way when the 429 came
    // cannot be called back, so it may arrive within the second.
    let calls = emulator.calls_to("chat.postMessage");
    let limited: Vec<_> = calls
        .iter()
        .filter(|c| {
            c.params
                .get("__fault")
                .and_then(|f| f.as_str())
                .is_some_and(|f| f.starts_with("RateLimited"))
        })
        .collect();
    assert_eq!(limited.len(), 6);
    for refused in limited {
        let channel = refused.param("channel");
        let retry = calls
            .iter()
            .find(|c| c.at > refused.at && c.param("channel") == channel)
            .expect("the refused post is retried");
        assert!(
            retry.at.duration_since(refused.at) >= Duration::from_millis(990),
            "{channel:?} retried {:?} after its 429",
            retry.at.duration_since(refused.at)
        );
    }
    bot.stop().await;
}

#[tokio::test]
async fn metrics_and_health_answer() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    post_event(bot.addr, &fixture_json("url_verification.json")).await;
    let (status, text) = get(bot.addr, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("# TYPE async_norms_http_requests counter"),
        "{text}"
    );
    assert!(
        text.contains("async_norms_http_requests_total{route=\"/slack/events\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("async_norms_slack_api_calls_total{method=\"auth.test\"} 1"),
        "{text}"
    );
    assert_eq!(get(bot.addr, "/nope").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(bot.addr, "/slack/events").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    bot.stop().await;
}

#[tokio::test]
async fn metrics_move_to_the_admin_listener_when_one_is_set() {
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut raw = settings(&emulator, data_dir.path());
    raw.admin_listen = Some("127.0.0.1:0".into());
    let config = async_norms::config::ServeConfig::from_raw(raw).unwrap();
    let running =
        async_norms::app::start(config, std::sync::Arc::new(async_norms::clock::SystemClock))
            .await
            .unwrap();
    let public = running.local_addr();
    let admin = running.admin_addr().expect("an admin listener");
    assert_eq!(get(public, "/metrics").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(public, "/healthz").await,
        (StatusCode::OK, "ok\n".into())
    );
    let (status, text) = get(admin, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("async_norms_slack_api_calls_total"), "{text}");
    assert_eq!(get(admin, "/healthz").await.0, StatusCode::OK);
    let (status, _) = post_event(admin, &fixture_json("url_verification.json")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "Slack's routes stay on the public listener"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn slash_command_help_is_answered_privately() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    for text in ["help", "", "frobnicate now"] {
        let form = command_form(text, "U1", "C1", &emulator.response_url());
        let (status, body) = post_signed(
            bot.addr,
            "/slack/commands",
            "application/x-www-form-urlencoded",
            form.as_bytes(),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["response_type"], "ephemeral", "{text}");
        let shown = answer["text"].as_str().unwrap_or_default();
        assert!(shown.contains("/async help"), "{text}: {shown}");
        if text.starts_with("frobnicate") {
            assert!(
                shown.contains("frobnicate"),
                "the unknown word is named: {shown}"
            );
        }
    }
    bot.stop().await;
}

#[tokio::test]
async fn a_redelivery_after_a_restart_is_still_recognised() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    let body = event("app_mention.json", "EvAcrossRestart");
    post_event(bot.addr, &body).await;
    emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    let data_dir = bot.stop().await;

    let bot = TestBot::start_in(
        &emulator,
        std::sync::Arc::new(async_norms::clock::SystemClock),
        data_dir,
    )
    .await;
    let (status, _) = post_signed(
        bot.addr,
        "/slack/events",
        "application/json",
        body.to_string().as_bytes(),
        &[
            ("x-slack-retry-num", "2"),
            ("x-slack-retry-reason", "http_timeout"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bot.metric("async_norms_events_duplicate_total").await, 1.0);
    assert_eq!(emulator.calls_to("chat.postMessage").len(), 1);
    bot.stop().await;
}

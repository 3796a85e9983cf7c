//! `/readyz`: ready only while the bot can serve Slack. Its store takes writes, Slack
//! takes its token, and in Socket Mode the connection is up; a revoked token or a dropped
//! connection turns it to 503 with the reason.

mod common;

use std::time::Instant;

use common::*;
use hyper::StatusCode;
use serde_json::json;

/// Polls `/readyz` until it answers `status` (a barrier on the bot's state, with a deadline).
async fn wait_for_readiness(bot: &TestBot, status: StatusCode) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (now, body) = get(bot.addr, "/readyz").await;
        if now == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/readyz stayed {now}: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_revoked_token_makes_the_bot_not_ready() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    let body = wait_for_readiness(&bot, StatusCode::OK).await;
    assert_eq!(body, "ready\n");

    emulator.revoke_token(BOT_TOKEN);
    let mut mention = event("app_mention.json", "EvRevoked");
    mention["event"]["text"] = json!("<@UBOT> hi there");
    let (status, _) = post_event(bot.addr, &mention).await;
    assert_eq!(status, StatusCode::OK);
    let body = wait_for_readiness(&bot, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(body.contains("SLACK_BOT_TOKEN"), "{body}");
    // Alive all the same: restarting would not bring the token back.
    let (status, _) = get(bot.addr, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    bot.stop().await;
}

#[tokio::test]
async fn readiness_follows_the_socket_mode_connection() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start_socket_mode(&emulator).await;
    wait_for_readiness(&bot, StatusCode::OK).await;

    // The connection drops and Slack will not give a new one.
    emulator.cut_socket_mode();
    let body = wait_for_readiness(&bot, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(body.contains("Socket Mode"), "{body}");
    bot.stop().await;
}
#[tokio::test]
async fn a_clean_close_of_the_socket_mode_connection_is_noticed() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start_socket_mode(&emulator).await;
    wait_for_readiness(&bot, StatusCode::OK).await;

    // Slack ends the connection with a closing handshake (no error follows), and does not
    // give a new one yet.
    emulator.close_socket_mode();
    let body = wait_for_readiness(&bot, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(body.contains("Socket Mode"), "{body}");
    bot.stop().await;
}

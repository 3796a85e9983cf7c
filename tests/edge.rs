//! The hardened edge: what a hostile or broken world cannot do to the bot. Slow and stalled
//! clients, too many connections, a file-descriptor limit, a flood of mentions, payloads for
//! another workspace, and an event whose handler panics.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hyper::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Opens a connection that sends the headers of a signed-looking event with a large
/// `Content-Length`, then only a few bytes of body, and stops.
async fn stalled_body(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n\
         Content-Length: 1000000\r\nX-Slack-Request-Timestamp: {}\r\n\
         X-Slack-Signature: v0=00\r\n\r\n{{\"type\":",
        now_unix()
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    stream
}

/// Reads until the server closes the connection (or `until`); whether it closed.
async fn closed_by(mut stream: TcpStream, until: Instant) -> bool {
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(until.into(), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

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
        bot.metric("async_norms_events_failed_total{reason=\"panicked\"}")
            .await,
        1.0
    );
    assert_eq!(bot.metric("async_norms_events_pending").await, 0.0);
    let data_dir = bot.stop().await;

    // A restart does not try it again.
    let bot = TestBot::start_in(&emulator, clock, data_dir).await;
    assert_eq!(bot.metric("async_norms_events_pending").await, 0.0);
    // The member directory, read at each start.
    emulator.wait_for("users.list", 2, PATIENCE).await;
    let calls_before = emulator.calls().len();
    let (status, _) = post_event(
        bot.addr,
        &message_event("EvPlain", "U1", "C1", "hello", "1700000001.000100", None),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    bot.wait_for_handled_messages(1.0).await;
    assert_eq!(
        bot.metric("async_norms_events_set_aside_total{type=\"message\"}")
            .await,
        0.0
    );
    assert_eq!(
        emulator.calls().len(),
        calls_before,
        "nothing sent for the set-aside event"
    );
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

/// 500 clients that send headers and then stall their bodies hold the listener neither
/// shut nor open: a signed event posted meanwhile is acknowledged within a second, and every
/// stalled connection is closed once the request deadline passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_neither_delay_an_event_nor_stay_open_past_the_deadline() {
    let emulator = SlackEmulator::start().await;
    let deadline = Duration::from_secs(2);
    let bot = TestBot::start_configured(&emulator, |raw| {
        raw.request_deadline = Some("2".into());
    })
    .await;
    let opened = Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..500 {
        stalled.push(stalled_body(bot.addr).await);
    }

    let sent = Instant::now();
    let (status, _) = post_event(bot.addr, &event("app_mention.json", "EvThroughTheCrowd")).await;
    let waited = sent.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert!(
        waited < Duration::from_secs(1),
        "acknowledged after {waited:?}"
    );

    // Closed by the deadline (counted from each connection's start) plus a little for the
    // answers to go out; none is left open.
    let until = opened + deadline + Duration::from_secs(3);
    let closings = stalled.into_iter().map(|stream| closed_by(stream, until));
    let closed = futures_util::future::join_all(closings).await;
    assert_eq!(closed.iter().filter(|closed| **closed).count(), 500);
    assert_eq!(
        bot.metric("async_norms_http_requests_total{route=\"/slack/events\",status=\"408\"}")
            .await,
        500.0
    );
    bot.stop().await;
}

/// A request without a fresh `X-Slack-Request-Timestamp` is refused before its body is
/// read: the answer comes while the body is still being "sent".
#[tokio::test]
async fn a_stale_timestamp_is_refused_before_the_body_arrives() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    for timestamp in [None, Some(now_unix() - 3600)] {
        let mut stream = TcpStream::connect(bot.addr).await.unwrap();
        let stamp = timestamp
            .map(|t| format!("X-Slack-Request-Timestamp: {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 1000000\r\n{stamp}\
             X-Slack-Signature: v0=00\r\n\r\n{{"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 512];
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut answer))
            .await
            .expect("answered without the body")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..read]);
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
    bot.stop().await;
}

/// Under a file-descriptor limit that connections exhaust, the listener pauses instead of
/// spinning, logs the condition a bounded number of times, and answers `/healthz` again once
/// the connections are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_the_bot_backs_off_and_recovers() {
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let (bot, log) = BotProcess::start_in_shell(
        &emulator,
        data_dir.path(),
        "ulimit -n 64; ",
        None,
        &[("ASYNC_NORMS_REQUEST_DEADLINE", "60")],
    );
    assert_eq!(get(bot.addr, "/healthz").await.0, StatusCode::OK);
    let mut held = Vec::new();
    for _ in 0..120 {
        if let Ok(stream) = TcpStream::connect(bot.addr).await {
            held.push(stream);
        }
    }
    let line = "cannot accept connections";
    let deadline = Instant::now() + PATIENCE;
    while !log.lock().unwrap().contains(line) {
        assert!(
            Instant::now() < deadline,
            "no log line about the failing accepts"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Two more seconds out of descriptors: a hot loop would log thousands of lines.
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(held);
    let deadline = Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout(Duration::from_secs(2), try_get(bot.addr, "/healthz")).await {
            Ok(Ok((StatusCode::OK, body))) if body == "ok\n" => break,
            _ => assert!(Instant::now() < deadline, "/healthz did not come back"),
        }
    }
    let lines = log
        .lock()
        .unwrap()
        .lines()
        .filter(|l| l.contains(line))
        .count();
    assert!(lines <= 2, "{lines} lines about failing accepts");
    assert!(bot.terminate(), "a clean exit");
}

/// Payloads signed with our secret but naming another team or another app are answered (so
/// Slack does not retry them), counted, and not processed.
#[tokio::test]
async fn payloads_for_another_team_or_app_are_answered_and_ignored() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    let mut other_team = event("app_mention.json", "EvOtherTeam");
    other_team["team_id"] = serde_json::json!("T999");
    let mut other_app = event("app_mention.json", "EvOtherApp");
    other_app["api_app_id"] = serde_json::json!("A999");
    for body in [&other_team, &other_app] {
        let (status, _) = post_event(bot.addr, body).await;
        assert_eq!(status, StatusCode::OK);
    }
    let form = command_form("help", "U1", "C1", &emulator.response_url()).replace("T111", "T999");
    let (status, answer) = post_signed(
        bot.addr,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        form.as_bytes(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer.contains("not installed"), "{answer}");
    let mut pressed = fixture_json("block_actions.json");
    pressed["team"]["id"] = serde_json::json!("T999");
    assert_eq!(interact(bot.addr, &pressed).await.0, StatusCode::OK);

    assert_eq!(
        bot.metric("async_norms_foreign_payloads_total{route=\"events\"}")
            .await,
        2.0
    );
    assert_eq!(
        bot.metric("async_norms_foreign_payloads_total{route=\"commands\"}")
            .await,
        1.0
    );
    assert_eq!(
        bot.metric("async_norms_foreign_payloads_total{route=\"interactivity\"}")
            .await,
        1.0
    );
    // Our own team's mention is handled; the foreign ones never were.
    let (status, _) = post_event(bot.addr, &event("app_mention.json", "EvOurs")).await;
    assert_eq!(status, StatusCode::OK);
    bot.wait_for_metric(
        "async_norms_events_handled_total{type=\"app_mention\"}",
        1.0,
    )
    .await;
    assert_eq!(
        bot.metric("async_norms_events_received_total{type=\"app_mention\"}")
            .await,
        1.0
    );
    assert_eq!(bot.metric("async_norms_commands_total").await, 0.0);
    bot.stop().await;
}

/// Over Socket Mode, a modal submitted with a bad entry gets its validation errors back in
/// the envelope's acknowledgement, as over HTTP: the modal stays open and says what to fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modals_validation_errors_reach_slack_over_socket_mode() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("W111", Some("Europe/Berlin"));
    let bot = TestBot::start_socket_mode(&emulator).await;
    let mut submitted = fixture_json("view_submission.json");
    submitted["user"]["id"] = serde_json::json!("W111");
    submitted["team"]["id"] = serde_json::json!(emulator::TEAM_ID);
    submitted["view"]["callback_id"] = serde_json::json!("hours_modal");
    submitted["view"]["state"] = serde_json::json!({"values": {
        "days": {"picked": {"type": "checkboxes", "selected_options": []}},
        "start": {"picked": {"type": "timepicker", "selected_time": "17:00"}},
        "end": {"picked": {"type": "timepicker", "selected_time": "17:00"}},
        "zone": {"zone": {"type": "external_select", "selected_option": {
            "text": {"type": "plain_text", "text": "Asia/Tokyo"}, "value": "Asia/Tokyo"}}}
    }});
    let envelope = serde_json::json!({
        "envelope_id": "env-modal-1",
        "type": "interactive",
        "payload": submitted,
        "accepts_response_payload": true
    });
    let ack = emulator.send_envelope(&envelope, PATIENCE).await;
    assert_eq!(ack["envelope_id"], "env-modal-1");
    assert_eq!(ack["payload"]["response_action"], "errors", "{ack}");
    assert_eq!(
        ack["payload"]["errors"]["days"], "Tick at least one day.",
        "{ack}"
    );
    assert!(
        ack["payload"]["errors"]["end"]
            .as_str()
            .unwrap_or_default()
            .contains("`17:00-17:00` starts and ends at the same time"),
        "{ack}"
    );
    bot.stop().await;
}

/// An interaction whose work waits for Slack is acknowledged inside Slack's 3 seconds, and
/// the work carries on after the acknowledgement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interaction_is_acknowledged_in_time_and_its_work_continues_after() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("W111", Some("Europe/Berlin"));
    let bot = TestBot::start(&emulator).await;
    emulator.hold("views.open");
    let mut pressed = fixture_json("block_actions.json");
    pressed["user"]["id"] = serde_json::json!("W111");
    pressed["team"]["id"] = serde_json::json!(emulator::TEAM_ID);
    pressed["actions"] = serde_json::json!([{
        "type": "button", "action_id": "hours_edit", "block_id": "b1",
        "text": {"type": "plain_text", "text": "Edit hours"}, "value": "hours_edit",
        "action_ts": "1772532000.000100"
    }]);
    let sent = Instant::now();
    let (status, _) = interact(bot.addr, &pressed).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "acknowledged after {:?}",
        sent.elapsed()
    );
    assert!(emulator.answered("views.open").is_empty(), "still held");
    emulator.release("views.open");
    let opened = emulator.wait_for("views.open", 1, PATIENCE).await;
    assert_eq!(opened[0].params["view"]["callback_id"], "hours_modal");
    bot.stop().await;
}

/// A message mentioning `count` ids that are no one, `<@UF{flood}N…>`.
fn flood_message(flood: usize, count: usize) -> String {
    (0..count)
        .map(|index| format!("<@UF{flood:02}N{index:03}>"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Twenty messages of 400 mentions each cost at most twenty look-ups a message, and neither
/// hold up a normal member's note about the one colleague they pinged at night nor an
/// admin's command; ids Slack said are no one are not asked about again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_flood_leaves_a_members_note_and_an_admins_command_on_time() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("UFLOOD", Some("Europe/Berlin"));
    emulator.add_user("UALICE", Some("America/New_York"));
    emulator.add_user("UBERLIN", Some("Europe/Berlin"));
    emulator.add_admin("UADMIN", "Europe/Berlin");
    // Tuesday 21:14 UTC: night in Berlin, afternoon in New York.
    let bot = TestBot::start_with_clock(&emulator, clock_at("2026-03-03T21:14:00Z")).await;

    // Ids that are no one are asked about once.
    for (round, event_id) in ["EvFew1", "EvFew2"].into_iter().enumerate() {
        let text = flood_message(99, 5);
        let body = message_event(
            event_id,
            "UFLOOD",
            "CFLOOD",
            &text,
            "1772572440.000001",
            None,
        );
        post_event(bot.addr, &body).await;
        bot.wait_for_handled_messages(round as f64 + 1.0).await;
    }
    let unknown = |calls: &[emulator::Call]| {
        calls
            .iter()
            .filter(|c| c.param("user").is_some_and(|u| u.starts_with("UF99")))
            .count()
    };
    assert_eq!(
        unknown(&emulator.calls_to("users.info")),
        5,
        "each asked once"
    );

    for flood in 0..20 {
        let body = message_event(
            &format!("EvFlood{flood}"),
            "UFLOOD",
            "CFLOOD",
            &flood_message(flood, 400),
            &format!("1772572441.{flood:06}"),
            None,
        );
        let (status, _) = post_event(bot.addr, &body).await;
        assert_eq!(status, StatusCode::OK);
    }
    let sent = Instant::now();
    let normal = message_event(
        "EvNormal",
        "UALICE",
        "C1",
        "<@UBERLIN> could you look at the draft tomorrow?",
        "1772572442.000001",
        None,
    );
    let (status, _) = post_event(bot.addr, &normal).await;
    assert_eq!(status, StatusCode::OK);
    let answer = slash(bot.addr, &emulator, "UADMIN", "C1", "hours").await;
    assert!(
        !answer.contains("Working on it"),
        "answered in time: {answer}"
    );
    assert!(answer.contains("Europe/Berlin"), "{answer}");

    let deadline = Instant::now() + PATIENCE;
    let note = loop {
        let notes = emulator.calls_to("chat.postEphemeral");
        if let Some(note) = notes.iter().find(|c| c.param("user") == Some("UALICE")) {
            break note.clone();
        }
        assert!(Instant::now() < deadline, "no note for the normal member");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let waited = sent.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "the note came after {waited:?}"
    );
    assert!(
        note.text_and_blocks().contains("UBERLIN"),
        "{}",
        note.text_and_blocks()
    );

    bot.wait_for_handled_messages(23.0).await;
    let flood_lookups = emulator
        .calls_to("users.info")
        .iter()
        .filter(|c| {
            c.param("user")
                .is_some_and(|u| u.starts_with("UF") && !u.starts_with("UF99"))
        })
        .count();
    assert!(
        flood_lookups <= 20 * 20,
        "{flood_lookups} look-ups for the flood"
    );
    bot.stop().await;
}

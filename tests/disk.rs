//! A disk that refuses writes, for real: the bot binary runs under `ulimit -f` with SIGXFSZ
//! ignored, so the kernel answers EFBIG ("File too large") to any write that would grow a
//! file of its data folder past the limit, as a full disk answers ENOSPC. No root, no mocks.
//!
//! While the store fails, every event is answered 503 (Slack delivers it again later), the
//! bot says why once in its log and on `/healthz`, and it neither hangs nor dies. After a
//! restart on a disk that takes writes, every event that was answered 200 is handled
//! exactly once, and Slack's retries of the refused ones are taken and handled once.
//! Over Socket Mode a refused event is left unacknowledged, and a bot stopped while its
//! disk fails exits with one clear error.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use hyper::StatusCode;
use serde_json::{Value, json};

/// More events than any limit here lets through; the store must have failed by then.
const MAX_EVENTS: usize = 200;
/// Events sent after the first refusal, each of which must be refused too.
const REFUSED_AFTER_FAILURE: usize = 5;

/// An `app_mention` of the bot in a channel of its own, padded to about `size` bytes.
/// Each is handled with exactly one `chat.postMessage` to its channel (the introduction),
/// so the emulator's record says how many times each event was handled.
fn mention(index: usize, size: usize) -> Value {
    let mut body = event("app_mention.json", &format!("EvDisk{index}"));
    body["event"]["channel"] = json!(channel(index));
    body["event"]["ts"] = padded_ts(size);
    body
}

/// A message ts padded to `size` bytes. The journal keeps a mention's ts (the thread to
/// answer in) as sent, and never its text, so the ts is what makes a journal entry big.
fn padded_ts(size: usize) -> Value {
    json!(format!("1595926230.{}", "0".repeat(size)))
}

fn channel(index: usize) -> String {
    format!("CDISK{index}")
}

/// Posts an event, as Slack's retry when `retry` is given; fails the test rather than hang.
async fn deliver(bot: &BotProcess, body: &Value, retry: Option<&str>) -> (StatusCode, String) {
    let mut headers = Vec::new();
    if let Some(number) = retry {
        headers.push(("x-slack-retry-num", number));
        headers.push(("x-slack-retry-reason", "http_error"));
    }
    let body_text = body.to_string();
    let sent = post_signed(
        bot.addr,
        "/slack/events",
        "application/json",
        body_text.as_bytes(),
        &headers,
    );
    tokio::time::timeout(PATIENCE, sent)
        .await
        .unwrap_or_else(|_| panic!("no answer to {} within {PATIENCE:?}", body["event_id"]))
}

/// Waits until the bot's standard error has a line with `needle`; returns that line.
async fn wait_for_log_line(log: &Arc<Mutex<String>>, needle: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let found = log
            .lock()
            .unwrap()
            .lines()
            .find(|line| line.contains(needle))
            .map(str::to_string);
        if let Some(line) = found {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no log line with {needle:?}; the log:\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The bot is still running and nothing in it panicked.
fn assert_alive(bot: &mut BotProcess, log: &Arc<Mutex<String>>) {
    assert!(
        bot.child.try_wait().expect("the child's status").is_none(),
        "the bot exited by itself; its log:\n{}",
        log.lock().unwrap()
    );
    let log = log.lock().unwrap();
    assert!(!log.contains("panicked"), "the bot panicked:\n{log}");
}

/// What the failing bot answered: the events it took (200) and those it refused (503),
/// with the bodies Slack would deliver again.
struct Answers {
    accepted: Vec<usize>,
    refused: Vec<(usize, Value)>,
}

/// Sends events in the order given by `size_of` until the store refuses one, then
/// [`REFUSED_AFTER_FAILURE`] more. Every answer is 200 or 503, and once one is 503 all are.
async fn send_until_refused(bot: &BotProcess, size_of: impl Fn(usize) -> usize) -> Answers {
    let mut answers = Answers {
        accepted: Vec::new(),
        refused: Vec::new(),
    };
    for index in 0..MAX_EVENTS {
        let event = mention(index, size_of(index));
        let (status, answer) = deliver(bot, &event, None).await;
        match status {
            StatusCode::OK if answers.refused.is_empty() => answers.accepted.push(index),
            StatusCode::SERVICE_UNAVAILABLE => answers.refused.push((index, event)),
            other => panic!("event {index} was answered {other} ({answer:?}); only 200, then 503"),
        }
        if answers.refused.len() > REFUSED_AFTER_FAILURE {
            return answers;
        }
    }
    panic!("the store never refused a write in {MAX_EVENTS} events");
}

/// Whether a log line names the event `EvDisk{index}` (and not, say, `EvDisk{index}5`).
fn names_event(line: &str, index: usize) -> bool {
    let id = format!("EvDisk{index}");
    line.match_indices(&id).any(|(at, _)| {
        !line[at + id.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// Waits until the failing bot is done with every event it took: its call was sent (and is
/// held by the emulator), or the worker could not count an attempt at it on the failing
/// disk and left it in the journal for the next start (said in the log). Then no request of
/// the process can reach Slack after it is killed and the calls are released.
async fn wait_until_each_taken_event_is_sent_or_kept(
    emulator: &SlackEmulator,
    log: &Arc<Mutex<String>>,
    accepted: &[usize],
) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let sent: Vec<String> = emulator
            .calls_to("chat.postMessage")
            .iter()
            .filter_map(|call| call.param("channel").map(str::to_string))
            .collect();
        let kept: Vec<String> = log
            .lock()
            .unwrap()
            .lines()
            .filter(|line| line.contains("cannot count an attempt at an event"))
            .map(str::to_string)
            .collect();
        let done = |index: &usize| {
            sent.contains(&channel(*index)) || kept.iter().any(|line| names_event(line, *index))
        };
        if accepted.iter().all(done) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "events taken but neither sent nor kept: {:?}; the log:\n{}",
            accepted.iter().filter(|i| !done(i)).collect::<Vec<_>>(),
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Kills the failing bot, restarts it on the same folder without a limit, and checks that
/// every accepted event is handled once and every refused one is taken on Slack's retry
/// and handled once.
async fn restart_and_check_every_event_handled_once(
    emulator: &SlackEmulator,
    data_dir: &std::path::Path,
    failing: BotProcess,
    failing_log: &Arc<Mutex<String>>,
    answers: &Answers,
) {
    wait_until_each_taken_event_is_sent_or_kept(emulator, failing_log, &answers.accepted).await;
    failing.kill_9();
    emulator.release("chat.postMessage");

    let (mut bot, log) = BotProcess::start_with_file_limit(emulator, data_dir, None);
    emulator
        .wait_for("chat.postMessage", answers.accepted.len(), PATIENCE)
        .await;
    // Slack delivers the refused events again; now they are taken.
    for (index, event) in &answers.refused {
        let (status, answer) = deliver(&bot, event, Some("2")).await;
        assert_eq!(status, StatusCode::OK, "retry of event {index}: {answer}");
    }
    let total = answers.accepted.len() + answers.refused.len();
    emulator.wait_for("chat.postMessage", total, PATIENCE).await;
    // A barrier: once a later event is handled, any second handling would have shown.
    let barrier = MAX_EVENTS + 1;
    let (status, _) = deliver(&bot, &mention(barrier, 64), None).await;
    assert_eq!(status, StatusCode::OK);
    let delivered = emulator
        .wait_for("chat.postMessage", total + 1, PATIENCE)
        .await;

    let mut handled: BTreeMap<String, usize> = BTreeMap::new();
    for call in &delivered {
        let channel = call.param("channel").expect("a channel").to_string();
        *handled.entry(channel).or_default() += 1;
    }
    handled.remove(&channel(barrier));
    let expected: BTreeMap<String, usize> = answers
        .accepted
        .iter()
        .chain(answers.refused.iter().map(|(index, _)| index))
        .map(|&index| (channel(index), 1))
        .collect();
    assert_eq!(handled, expected, "each event handled exactly once");
    assert_alive(&mut bot, &log);
}

/// The failing bot's `/healthz` is a 503 that says `unavailable` and nothing of its
/// internals (the reason, with the folder and the OS error, is in the log).
async fn assert_unhealthy(bot: &BotProcess, data_dir: &std::path::Path) {
    let (status, body) = get(bot.addr, "/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body, "unavailable\n");
    assert!(!body.contains(&data_dir.display().to_string()), "{body}");
}

/// The one line the bot logs about the failure names the folder, the refusal and the OS
/// error, and is not repeated for every refused event.
async fn assert_one_clear_log_line(log: &Arc<Mutex<String>>, data_dir: &std::path::Path) {
    let line = wait_for_log_line(log, "refused a write").await;
    assert!(line.contains("ERROR"), "{line}");
    assert!(
        line.contains(&format!("the data folder {}", data_dir.display())),
        "{line}"
    );
    assert!(line.contains("File too large (os error 27)"), "{line}");
    let repeated = log
        .lock()
        .unwrap()
        .lines()
        .filter(|line| line.contains("refused a write"))
        .count();
    assert_eq!(repeated, 1, "{}", log.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_up_gets_503s_and_loses_no_event_answered_200() {
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    // Slack hangs: nothing is handled before the kill, so every handling after the
    // restart comes from the journal, and "exactly once" is a fact about the journal.
    emulator.hold("chat.postMessage");
    // About 6 KiB an event: a handful fill the limit. (A leaf of sled holds at most 16
    // entries, so its pages stay under sled's blob size: the log itself is refused.)
    let (mut bot, log) =
        BotProcess::start_with_file_limit(&emulator, data_dir.path(), Some(160 * 1024));

    let answers = send_until_refused(&bot, |_| 6 * 1024).await;
    assert!(
        answers.accepted.len() >= 3,
        "the limit leaves room for a few events: {:?}",
        answers.accepted
    );
    assert_one_clear_log_line(&log, data_dir.path()).await;
    assert_unhealthy(&bot, data_dir.path()).await;
    // Slack's retry of a refused event is refused too, though the entry may sit in sled's
    // memory: a 200 for it would be a 200 for an event that is on no disk.
    let (_, first_refused) = &answers.refused[0];
    let (status, body) = deliver(&bot, first_refused, Some("1")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_alive(&mut bot, &log);

    restart_and_check_every_event_handled_once(&emulator, data_dir.path(), bot, &log, &answers)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_too_big_for_the_disk_gets_a_503_and_the_bot_keeps_answering() {
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    emulator.hold("chat.postMessage");
    // sled writes a value over about 128 KiB to a file of its own (a blob). With files
    // limited to 100 KiB, the small events fit in the log and the big one is refused; sled
    // then never completes another flush, which must not leave anyone waiting.
    let (mut bot, log) =
        BotProcess::start_with_file_limit(&emulator, data_dir.path(), Some(100 * 1024));
    const BIG: usize = 3;

    let answers =
        send_until_refused(&bot, |index| if index == BIG { 150 * 1024 } else { 512 }).await;
    assert_eq!(answers.accepted, (0..BIG).collect::<Vec<_>>());
    assert_eq!(
        answers.refused[0].0, BIG,
        "the big event is the first refused"
    );
    assert_one_clear_log_line(&log, data_dir.path()).await;
    assert_unhealthy(&bot, data_dir.path()).await;
    assert_alive(&mut bot, &log);

    restart_and_check_every_event_handled_once(&emulator, data_dir.path(), bot, &log, &answers)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_stopped_while_its_disk_fails_exits_and_says_why_once() {
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let (bot, log) =
        BotProcess::start_with_file_limit(&emulator, data_dir.path(), Some(100 * 1024));
    // A value over sled's blob size is refused, and sled then never completes a flush:
    // the shutdown must not wait for one.
    let answers = send_until_refused(&bot, |index| if index == 1 { 150 * 1024 } else { 512 }).await;
    assert_eq!(answers.accepted, vec![0]);
    assert_one_clear_log_line(&log, data_dir.path()).await;

    let exited = bot.terminate_within(PATIENCE);
    assert_eq!(
        exited,
        Some(false),
        "the bot exits, with an error, after SIGTERM"
    );
    let log = log.lock().unwrap().clone();
    let line = log
        .lines()
        .find(|line| line.starts_with("error:"))
        .unwrap_or_else(|| panic!("no closing error line; the log:\n{log}"));
    assert!(line.contains("could not be flushed at shutdown"), "{line}");
    assert_eq!(line.matches("File too large").count(), 1, "{line}");
}

/// Over Socket Mode there is no 503: an event the store could not keep is left without an
/// acknowledgement, and Slack delivers the envelope again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_socket_mode_an_event_the_disk_refuses_is_not_acknowledged() {
    let emulator = SlackEmulator::start().await;
    emulator.enable_socket_mode().await;
    let data_dir = tempfile::tempdir().unwrap();
    let (mut bot, log) =
        BotProcess::start_socket_mode_with_file_limit(&emulator, data_dir.path(), Some(100 * 1024));
    let envelope = |id: &str, size: usize| {
        let mut envelope =
            fixture_json("socket-mode/envelope1__events_api__event_callback.app_mention.json");
        envelope["envelope_id"] = json!(format!("envelope-{id}"));
        envelope["payload"]["event_id"] = json!(format!("Ev{id}"));
        envelope["payload"]["event"]["ts"] = padded_ts(size);
        envelope
    };

    let kept = envelope("Kept", 64);
    let ack = emulator.send_envelope(&kept, PATIENCE).await;
    assert_eq!(ack["envelope_id"], "envelope-Kept");

    // Over sled's blob size, under the file limit: refused.
    let refused = envelope("Refused", 150 * 1024);
    emulator
        .push_envelope(&refused, Instant::now() + PATIENCE)
        .await;
    wait_for_log_line(&log, "left unacknowledged").await;
    // A barrier on the same connection: the command is answered, the event still is not.
    let mut command = fixture_json("socket-mode/envelope0__slash_commands__slash_command.json");
    command["payload"]["command"] = json!("/async");
    command["payload"]["text"] = json!("help");
    emulator.send_envelope(&command, PATIENCE).await;
    assert_eq!(emulator.acknowledgement("envelope-Refused"), None);
    assert_one_clear_log_line(&log, data_dir.path()).await;
    assert_alive(&mut bot, &log);
    bot.kill_9();
}

/// A note Slack took while the disk fails is made once: its removal from the outbox is
/// refused, and the sender pauses (saying so once) instead of making it again at Slack's
/// pace or running its lanes in a busy loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_made_while_the_disk_fails_is_made_once_and_sending_pauses() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("UFOCUS", Some("Europe/Berlin"));
    emulator.hold("chat.postEphemeral");
    emulator.hold("chat.postMessage");
    let data_dir = tempfile::tempdir().unwrap();
    let (mut bot, log) =
        BotProcess::start_with_file_limit(&emulator, data_dir.path(), Some(160 * 1024));
    let focus = slash(bot.addr, &emulator, "UFOCUS", "C1", "focus 90m").await;
    assert!(focus.contains("Focus time until"), "{focus}");
    let sent_now = format!("{}.000100", chrono::Utc::now().timestamp());
    let ping = message_event(
        "EvFocusPing",
        "U1",
        "C1",
        "<@UFOCUS> can you look at this?",
        &sent_now,
        None,
    );
    let (status, body) = deliver(&bot, &ping, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The note is on its way to Slack, which holds it while the disk fills up.
    emulator
        .wait_for_attempts("chat.postEphemeral", 1, PATIENCE)
        .await;
    send_until_refused(&bot, |_| 6 * 1024).await;
    assert_one_clear_log_line(&log, data_dir.path()).await;

    emulator.release("chat.postEphemeral");
    wait_for_log_line(
        &log,
        "sending to Slack is paused until the store works again",
    )
    .await;
    let notes = emulator.answered("chat.postEphemeral");
    assert_eq!(notes.len(), 1, "made once: {notes:?}");
    let log_text = log.lock().unwrap().clone();
    assert_eq!(
        log_text
            .matches("cannot take a made call out of the outbox")
            .count(),
        1,
        "{log_text}"
    );
    assert_eq!(
        log_text.matches("sending to Slack is paused").count(),
        1,
        "{log_text}"
    );
    assert_alive(&mut bot, &log);
    bot.kill_9();
}

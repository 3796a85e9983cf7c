//! `kill -9` while the bot works: the journaled events are handled after the restart, each
//! exactly once, and what a command said it saved is still there. The bot runs as its own
//! process here, so nothing of its shutdown code can run.
//!
//! The first test kills at one chosen moment; the second kills at random moments under
//! continuous load, many rounds (`ASYNC_NORMS_CRASH_ROUNDS`, default 3; `scripts/crash.sh`
//! runs 50 in release), with kill moments drawn from a printed seed: fixed in `cargo test`,
//! new on every `scripts/crash.sh` run (`ASYNC_NORMS_CRASH_SEED` replays one).

mod common;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::emulator::Call;
use common::*;
use hyper::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_answered_before_a_kill_9_are_handled_once_after_restart() {
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    // Slack "hangs": no event can finish before the kill, so all must come from the journal.
    emulator.hold("chat.postMessage");
    let bot = BotProcess::start(&emulator, data_dir.path());
    const EVENTS: usize = 8;
    for index in 0..EVENTS {
        let body = mention_in(&format!("EvCrash{index}"), &format!("CCRASH{index}"));
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
    post_event(bot.addr, &mention_in("EvCrashBarrier", "CBARRIER")).await;
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
        mention_in("EvCrash0", "CCRASH0").to_string().as_bytes(),
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

/// An `app_mention` in `channel` that the bot answers with exactly one `chat.postMessage`
/// there: its introduction, which needs no profile look-up (those are paced by Slack's tier).
fn mention_in(event_id: &str, channel: &str) -> Value {
    let mut body = event("app_mention.json", event_id);
    body["event"]["channel"] = json!(channel);
    body["event"]["text"] = json!("<@UBOT> hi there");
    body
}

/// A copy of a post that reached Slack this long before a kill may be posted again after the
/// restart: the request cannot be taken back, and the "handled" mark is flushed a few
/// milliseconds after Slack's answer.
const KILL_WINDOW: Duration = Duration::from_millis(100);
/// New events per round at most. The bot paces chat.postMessage to 600/min after a burst of
/// 300 per process; staying under the burst keeps every round's work quick.
const NEW_EVENTS_PER_ROUND: usize = 100;
/// `/async hours set` per round at most: each asks users.info once (Tier 4, a burst of 100).
const WRITES_PER_ROUND: usize = 30;
/// Tasks sending events at the same time (a write task and a retry task run beside them).
const EVENT_SENDERS: usize = 3;
/// The kill comes once this many (at most) of the round's events were answered 200…
const MAX_ANSWERS_BEFORE_KILL: u64 = 60;
/// …and then up to this much later.
const MAX_KILL_DELAY_MS: u64 = 30;
/// The kill moments' seed when `ASYNC_NORMS_CRASH_SEED` is not set.
const FIXED_SEED: u64 = 0x5EED_0001;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kill_9s_under_load_lose_nothing_answered_and_double_only_inside_the_kill_window() {
    let rounds: usize = env_number("ASYNC_NORMS_CRASH_ROUNDS").unwrap_or(3) as usize;
    // A fixed seed in `cargo test`, so a commit draws the same kill moments every run;
    // `scripts/crash.sh` draws a new one each time.
    let seed = env_number("ASYNC_NORMS_CRASH_SEED").unwrap_or(FIXED_SEED);
    println!(
        "crash test: {rounds} rounds, seed {seed} (replay the kill moments with ASYNC_NORMS_CRASH_SEED={seed})"
    );
    let began = Instant::now();
    let mut rng = SplitMix64::new(seed);
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    // When the process of each round was killed, by round.
    let mut kills: Vec<Instant> = Vec::new();

    for round in 0..rounds {
        let bot = BotProcess::start_with_token(&emulator, data_dir.path(), &process_token(round));
        let answers_before_kill = rng.below(MAX_ANSWERS_BEFORE_KILL + 1);
        let delay = Duration::from_millis(rng.below(MAX_KILL_DELAY_MS + 1));
        let (answered_tx, mut answered) = watch::channel(0u64);
        let load = Load {
            addr: bot.addr,
            emulator: emulator.clone(),
            ledger: ledger.clone(),
            round,
            answered: Arc::new(answered_tx),
            killed: Arc::new(AtomicBool::new(false)),
        };
        load.ledger().start_round();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..EVENT_SENDERS {
            tasks.spawn(load.clone().send_events());
        }
        tasks.spawn(load.clone().write_hours());
        tasks.spawn(load.clone().retry_answered(rng.next()));

        let reached = matches!(
            tokio::time::timeout(
                PATIENCE,
                answered.wait_for(|count| *count >= answers_before_kill),
            )
            .await,
            Ok(Ok(_))
        );
        assert!(
            reached,
            "round {round} (seed {seed}): the bot answered {} of {answers_before_kill} events within {PATIENCE:?}",
            *answered.borrow()
        );
        // The random moment itself, not a wait for anything.
        tokio::time::sleep(delay).await;
        // No request starts after this; those in flight meet the kill.
        load.killed.store(true, Ordering::SeqCst);
        let at = Instant::now();
        bot.kill_9();
        kills.push(at);
        while let Some(task) = tasks.join_next().await {
            task.expect("a load task");
        }
    }

    // The last restart: Slack retries what was never answered, the journal drains.
    let bot = BotProcess::start_with_token(&emulator, data_dir.path(), &process_token(rounds));
    let unanswered = ledger.lock().unwrap().start_round();
    for index in unanswered {
        let (body, headers) = ledger.lock().unwrap().retry_of(index);
        let answer = try_post_signed(
            bot.addr,
            "/slack/events",
            "application/json",
            body.to_string().as_bytes(),
            &headers_ref(&headers),
        )
        .await;
        assert!(
            matches!(answer, Ok((StatusCode::OK, _))),
            "the retry of {} after the last restart: {answer:?}",
            event_id(index)
        );
        ledger.lock().unwrap().events[index].answered_in = Some(rounds);
    }
    wait_until_drained(bot.addr).await;
    assert!(
        bot.terminate(),
        "the bot stops cleanly after the last round"
    );
    let saved_hours = exported_hours(data_dir.path());

    let ledger = ledger.lock().unwrap();
    let posts = posts_by_channel(&emulator.calls_to("chat.postMessage"));
    let report = check_events(&ledger, &posts, &kills, began);
    let lost_writes: Vec<String> = ledger
        .writes
        .iter()
        .filter(|w| w.saved)
        .filter(|w| saved_hours.get(&w.user) != Some(&w.expected))
        .map(|w| {
            format!(
                "{} set {:?} in round {} and was told \"Saved.\"; the store holds {:?}",
                w.user,
                w.expected,
                w.round,
                saved_hours.get(&w.user)
            )
        })
        .collect();

    let events = ledger.events.len();
    let answered_first_time = ledger
        .events
        .iter()
        .filter(|e| e.answered_in == Some(e.first_round))
        .count();
    let saved = ledger.writes.iter().filter(|w| w.saved).count();
    println!(
        "crash test: {rounds} rounds, {} kills in {:.1} s; {events} events sent, {answered_first_time} answered on first delivery, {} only on a retry after a restart; {} retries of answered events; {saved} of {} hours writes told \"Saved.\" ({} other answers); duplicates within {} ms of a kill: {} of {events} events (the earliest copy {} ms before its kill)",
        kills.len(),
        began.elapsed().as_secs_f64(),
        events - answered_first_time,
        ledger.retries_of_answered,
        ledger.writes.len(),
        ledger
            .writes
            .iter()
            .filter(|w| w.answer.is_some() && !w.saved)
            .count(),
        KILL_WINDOW.as_millis(),
        report.doubled_in_window,
        report.longest_lead.as_millis(),
    );
    let replay = format!("seed {seed}, {rounds} rounds");
    assert!(
        ledger.unexpected.is_empty(),
        "BUG? answers that are neither 200 nor a dropped connection ({replay}):\n{}",
        ledger.unexpected.join("\n")
    );
    assert!(
        report.lost.is_empty(),
        "BUG: events answered 200 but never handled ({replay}):\n{}",
        report.lost.join("\n")
    );
    assert!(
        report.doubled.is_empty(),
        "BUG: events posted twice, the first copy more than {KILL_WINDOW:?} before the next kill ({replay}):\n{}",
        report.doubled.join("\n")
    );
    assert!(
        report.strays.is_empty(),
        "posts to channels no event of this test names ({replay}): {:?}",
        report.strays
    );
    assert!(
        lost_writes.is_empty(),
        "BUG: hours acknowledged as saved are gone after the restarts ({replay}):\n{}",
        lost_writes.join("\n")
    );
}

/// The bot token of the process of `round` (the last one, after every kill, is `rounds`):
/// the emulator records it with each call, so a post names the process that made it.
fn process_token(round: usize) -> String {
    format!("{PROCESS_TOKEN_PREFIX}{round}")
}

const PROCESS_TOKEN_PREFIX: &str = "xoxb-crash-round-";

/// What Slack knows: each event sent and whether the bot answered it 200; each hours write
/// and its answer.
#[derive(Default)]
struct Ledger {
    /// Index `n` is event `EvKill{n}` in channel `CKILL{n}`.
    events: Vec<SentEvent>,
    /// Events never answered, for Slack to retry after the restart.
    to_retry: VecDeque<usize>,
    new_this_round: usize,
    writes: Vec<HoursWrite>,
    writes_this_round: usize,
    retries_of_answered: usize,
    /// Answers that neither acknowledge nor come from a dead bot.
    unexpected: Vec<String>,
}

struct SentEvent {
    first_round: usize,
    deliveries: u32,
    answered_in: Option<usize>,
}

struct HoursWrite {
    user: String,
    /// The record `async-norms export` shows for the user: (schedule, zone).
    expected: (String, String),
    round: usize,
    answer: Option<String>,
    saved: bool,
}

/// What a load task sends next.
enum Next {
    /// A first delivery, or Slack's retry of one never answered.
    Event(usize),
    /// Slack's retry of an event the bot already answered.
    RetryAnswered(usize),
    /// Nothing to send yet.
    Idle,
}

impl Ledger {
    /// A new bot runs: queues Slack's retries of every event never answered and resets
    /// the round's budgets. Returns the retries.
    fn start_round(&mut self) -> Vec<usize> {
        self.to_retry = (0..self.events.len())
            .filter(|&n| self.events[n].answered_in.is_none())
            .collect();
        self.new_this_round = 0;
        self.writes_this_round = 0;
        self.to_retry.iter().copied().collect()
    }

    fn next_event(&mut self, round: usize, pick: u64) -> Next {
        if let Some(index) = self.to_retry.pop_front() {
            return Next::Event(index);
        }
        if self.new_this_round < NEW_EVENTS_PER_ROUND {
            self.new_this_round += 1;
            self.events.push(SentEvent {
                first_round: round,
                deliveries: 0,
                answered_in: None,
            });
            return Next::Event(self.events.len() - 1);
        }
        self.answered_pick(pick)
            .map_or(Next::Idle, Next::RetryAnswered)
    }

    fn answered_pick(&self, pick: u64) -> Option<usize> {
        let answered: Vec<usize> = (0..self.events.len())
            .filter(|&n| self.events[n].answered_in.is_some())
            .collect();
        (!answered.is_empty()).then(|| answered[pick as usize % answered.len()])
    }

    /// The body and headers of the next delivery of event `index`: Slack marks every
    /// delivery after the first as a retry.
    fn retry_of(&mut self, index: usize) -> (Value, Vec<(&'static str, String)>) {
        let event = &mut self.events[index];
        event.deliveries += 1;
        let headers = match event.deliveries {
            1 => Vec::new(),
            n => vec![
                ("x-slack-retry-num", (n - 1).min(3).to_string()),
                ("x-slack-retry-reason", "http_error".to_string()),
            ],
        };
        (mention_in(&event_id(index), &channel(index)), headers)
    }
}

fn event_id(index: usize) -> String {
    format!("EvKill{index}")
}

fn channel(index: usize) -> String {
    format!("CKILL{index}")
}

fn headers_ref<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// The load of one round, shared by its tasks.
#[derive(Clone)]
struct Load {
    addr: SocketAddr,
    emulator: SlackEmulator,
    ledger: Arc<Mutex<Ledger>>,
    round: usize,
    /// Events of this round answered 200 (the kill waits for a number of them).
    answered: Arc<watch::Sender<u64>>,
    killed: Arc<AtomicBool>,
}

impl Load {
    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn alive(&self) -> bool {
        !self.killed.load(Ordering::SeqCst)
    }

    /// First deliveries, Slack's retries of unanswered events, and once the round's new
    /// events are spent, retries of answered ones.
    async fn send_events(self) {
        let mut pick = SplitMix64::new(self.round as u64);
        while self.alive() {
            let next = self.ledger().next_event(self.round, pick.next());
            match next {
                Next::Event(index) => {
                    let (body, headers) = self.ledger().retry_of(index);
                    let answer = self.post_event(&body, &headers).await;
                    match answer {
                        Ok((StatusCode::OK, _)) => {
                            self.ledger().events[index].answered_in = Some(self.round);
                            self.answered.send_modify(|count| *count += 1);
                        }
                        Ok((status, text)) => self.unexpected(index, status, &text),
                        Err(_dropped) => {}
                    }
                }
                Next::RetryAnswered(index) => self.retry(index).await,
                Next::Idle => tokio::task::yield_now().await,
            }
        }
    }

    /// Slack's retries of events the bot already answered, mixed in with the rest.
    async fn retry_answered(self, seed: u64) {
        let mut pick = SplitMix64::new(seed);
        while self.alive() {
            let Some(index) = self.ledger().answered_pick(pick.next()) else {
                tokio::task::yield_now().await;
                continue;
            };
            self.retry(index).await;
        }
    }

    async fn retry(&self, index: usize) {
        let (body, headers) = self.ledger().retry_of(index);
        match self.post_event(&body, &headers).await {
            Ok((StatusCode::OK, _)) => self.ledger().retries_of_answered += 1,
            Ok((status, text)) => self.unexpected(index, status, &text),
            Err(_dropped) => {}
        }
    }

    /// `/async hours set` for a new member each time, until the round's budget is spent.
    async fn write_hours(self) {
        while self.alive() {
            let (index, user, minute) = {
                let mut ledger = self.ledger();
                if ledger.writes_this_round == WRITES_PER_ROUND {
                    return;
                }
                ledger.writes_this_round += 1;
                let index = ledger.writes.len();
                let minute = index % 60;
                let user = format!("UKILL{index}");
                ledger.writes.push(HoursWrite {
                    user: user.clone(),
                    expected: (
                        format!("mon-fri 08:{minute:02}-17:00"),
                        "Europe/Berlin".into(),
                    ),
                    round: self.round,
                    answer: None,
                    saved: false,
                });
                (index, user, minute)
            };
            self.emulator.add_user(&user, Some("America/New_York"));
            let command = format!("hours set mon-fri 08:{minute:02}-17:00 Europe/Berlin");
            let form = command_form(&command, &user, "C1", &self.emulator.response_url());
            let answer = try_post_signed(
                self.addr,
                "/slack/commands",
                "application/x-www-form-urlencoded",
                form.as_bytes(),
                &[],
            )
            .await;
            let Ok((status, body)) = answer else {
                continue;
            };
            let text = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|answer| answer["text"].as_str().map(str::to_string));
            let mut ledger = self.ledger();
            match (status, text) {
                (StatusCode::OK, Some(text)) => {
                    let write = &mut ledger.writes[index];
                    write.saved = text.starts_with("Saved.");
                    write.answer = Some(text);
                }
                (status, _) => ledger
                    .unexpected
                    .push(format!("`/async {command}` as {user}: {status} {body}")),
            }
        }
    }

    async fn post_event(
        &self,
        body: &Value,
        headers: &[(&'static str, String)],
    ) -> Result<(StatusCode, String), String> {
        try_post_signed(
            self.addr,
            "/slack/events",
            "application/json",
            body.to_string().as_bytes(),
            &headers_ref(headers),
        )
        .await
    }

    fn unexpected(&self, index: usize, status: StatusCode, text: &str) {
        let line = format!(
            "round {}: {} answered {status}: {text}",
            self.round,
            event_id(index)
        );
        self.ledger().unexpected.push(line);
    }
}

/// What the posts say about the events.
struct EventReport {
    lost: Vec<String>,
    doubled: Vec<String>,
    doubled_in_window: usize,
    /// Of the copies posted again after a kill, the one furthest before its kill.
    longest_lead: Duration,
    strays: Vec<String>,
}

fn posts_by_channel(calls: &[Call]) -> HashMap<String, Vec<Post>> {
    let mut posts: HashMap<String, Vec<Post>> = HashMap::new();
    for call in calls {
        let channel = call.param("channel").unwrap_or_default().to_string();
        let round = call
            .token
            .strip_prefix(PROCESS_TOKEN_PREFIX)
            .and_then(|round| round.parse().ok())
            .expect("every post comes with a process's token");
        posts
            .entry(channel)
            .or_default()
            .push(Post { at: call.at, round });
    }
    for copies in posts.values_mut() {
        copies.sort_by_key(|post| post.at);
    }
    posts
}

/// A post Slack took: when, and from the bot process of which round.
struct Post {
    at: Instant,
    round: usize,
}

/// Every answered event posted once; an unanswered one at most once; a second copy only
/// from a later process, when the copy before it reached Slack within [`KILL_WINDOW`] of
/// the kill of the process that made it.
fn check_events(
    ledger: &Ledger,
    posts: &HashMap<String, Vec<Post>>,
    kills: &[Instant],
    began: Instant,
) -> EventReport {
    let ms = |at: Instant| at.saturating_duration_since(began).as_millis();
    let mut report = EventReport {
        lost: Vec::new(),
        doubled: Vec::new(),
        doubled_in_window: 0,
        longest_lead: Duration::ZERO,
        strays: Vec::new(),
    };
    for (index, sent) in ledger.events.iter().enumerate() {
        let copies = posts.get(&channel(index)).map_or(&[][..], Vec::as_slice);
        if copies.is_empty() {
            if let Some(round) = sent.answered_in {
                report.lost.push(format!(
                    "{} (first sent in round {}, answered 200 in round {round}) has no chat.postMessage in {}",
                    event_id(index),
                    sent.first_round,
                    channel(index)
                ));
            }
            continue;
        }
        let mut in_window = false;
        for pair in copies.windows(2) {
            let (first, again) = (&pair[0], &pair[1]);
            // The kill of the process that made the first copy. (The emulator takes a post's
            // time when it reads the request, which can be a little after that kill.)
            let killed = kills.get(first.round).copied();
            match killed {
                Some(kill) if again.round > first.round && first.at + KILL_WINDOW >= kill => {
                    in_window = true;
                    report.longest_lead = report
                        .longest_lead
                        .max(kill.saturating_duration_since(first.at));
                }
                _ => {
                    let when_killed = killed.map_or("never killed".to_string(), |kill| {
                        format!(
                            "killed {} ms after the first copy",
                            kill.saturating_duration_since(first.at).as_millis()
                        )
                    });
                    report.doubled.push(format!(
                        "{} (first sent in round {}): copies at {} ms (the process of round {}, {when_killed}) and {} ms (the process of round {}) of the test",
                        event_id(index),
                        sent.first_round,
                        ms(first.at),
                        first.round,
                        ms(again.at),
                        again.round,
                    ));
                }
            }
        }
        report.doubled_in_window += usize::from(in_window);
    }
    report.strays = posts
        .keys()
        .filter(|channel| {
            channel
                .strip_prefix("CKILL")
                .and_then(|n| n.parse::<usize>().ok())
                .is_none_or(|n| n >= ledger.events.len())
        })
        .cloned()
        .collect();
    report
}

/// Polls `/metrics` until no journaled event waits to be handled.
async fn wait_until_drained(addr: SocketAddr) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let pending = metric(addr, "async_norms_events_pending").await;
        if pending == 0.0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} events still pending after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Each member's stored hours as `async-norms export` writes them: (schedule, zone).
fn exported_hours(data_dir: &std::path::Path) -> HashMap<String, (String, String)> {
    let data_dir = data_dir.to_str().expect("a UTF-8 path");
    let (code, out, err) = run_cli(&["export", "--data-dir", data_dir], &[]);
    assert_eq!(code, 0, "export: {err}");
    out.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|record| record["table"] == "hours")
        .filter_map(|record| {
            let user = record["key"].as_str()?.rsplit('/').next()?.to_string();
            let value = &record["value"];
            Some((
                user,
                (
                    value["schedule"].as_str()?.to_string(),
                    value["tz"].as_str()?.to_string(),
                ),
            ))
        })
        .collect()
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
    )
}

/// SplitMix64: a tiny generator whose whole state is the seed, so a run's kill moments can
/// be drawn again.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound > 0`).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

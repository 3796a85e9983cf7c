//! The test bed: the real bot (its HTTP server, its slack-morphism client, its sled store)
//! against the local Slack emulator, with requests signed exactly as Slack signs them.
#![allow(dead_code)] // each test binary uses its own part of the bed

pub mod emulator;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_norms::app::{self, RunningBot};
use async_norms::clock::{Clock, SystemClock};
use async_norms::config::{RawServeSettings, Secret, ServeConfig};
use async_norms::slack::signature;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

#[allow(unused_imports)]
pub use emulator::{Fault, SlackEmulator};

pub const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
pub const BOT_TOKEN: &str = "xoxb-test-token";
/// Generous upper bound for anything the bot does asynchronously.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A fixture from `tests/fixtures/`.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("fixture is JSON")
}

/// An event fixture with a fresh event id and the team of the emulator.
pub fn event(name: &str, event_id: &str) -> Value {
    let mut body = fixture_json(name);
    body["event_id"] = Value::String(event_id.into());
    body["team_id"] = Value::String(emulator::TEAM_ID.into());
    body
}

/// The `../shared/slack-reference` folder, where it exists beside the project.
pub fn shared_reference() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/slack-reference");
    path.is_dir().then_some(path)
}

pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A signed POST as Slack sends it.
pub async fn post_signed(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &[u8],
    extra_headers: &[(&str, &str)],
) -> (StatusCode, String) {
    try_post_signed(addr, path, content_type, body, extra_headers)
        .await
        .expect("the bot answers")
}

/// [`post_signed`] to a bot that may be gone: a refused or broken connection is an `Err`
/// (the request was not acknowledged) rather than a panic.
pub async fn try_post_signed(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &[u8],
    extra_headers: &[(&str, &str)],
) -> Result<(StatusCode, String), String> {
    let timestamp = now_unix().to_string();
    let signature = signature::sign(&Secret::new(SIGNING_SECRET), &timestamp, body);
    let mut headers = vec![
        ("x-slack-request-timestamp", timestamp.as_str()),
        ("x-slack-signature", signature.as_str()),
    ];
    headers.extend_from_slice(extra_headers);
    try_send(post_request(addr, path, content_type, body, &headers)).await
}

/// A POST with exactly these headers (for forged and stale requests).
pub async fn post_raw(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    send(post_request(addr, path, content_type, body, headers)).await
}

fn post_request(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> hyper::Request<Full<Bytes>> {
    let mut request =
        hyper::Request::post(format!("http://{addr}{path}")).header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request")
}

pub async fn get(addr: SocketAddr, path: &str) -> (StatusCode, String) {
    let request = hyper::Request::get(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    send(request).await
}

/// [`get`] that says why it got no answer instead of panicking.
pub async fn try_get(addr: SocketAddr, path: &str) -> Result<(StatusCode, String), String> {
    let request = hyper::Request::get(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    try_send(request).await
}

async fn send(request: hyper::Request<Full<Bytes>>) -> (StatusCode, String) {
    try_send(request).await.expect("the bot answers")
}

async fn try_send(request: hyper::Request<Full<Bytes>>) -> Result<(StatusCode, String), String> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

pub async fn post_event(addr: SocketAddr, body: &Value) -> (StatusCode, String) {
    post_signed(
        addr,
        "/slack/events",
        "application/json",
        body.to_string().as_bytes(),
        &[],
    )
    .await
}

/// A slash command form shaped like the fixture, with this text, user and channel.
pub fn command_form(text: &str, user: &str, channel: &str, response_url: &str) -> String {
    let mut fields: Vec<(String, String)> =
        url::form_urlencoded::parse(fixture("slash_command.txt").trim().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    for (key, value) in fields.iter_mut() {
        match key.as_str() {
            "command" => *value = "/async".into(),
            "text" => *value = text.into(),
            "user_id" => *value = user.into(),
            "channel_id" => *value = channel.into(),
            "team_id" => *value = emulator::TEAM_ID.into(),
            "response_url" => *value = response_url.into(),
            _ => {}
        }
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The bot running in this process on port 0, with its own data folder.
pub struct TestBot {
    pub addr: SocketAddr,
    pub emulator: SlackEmulator,
    pub data_dir: tempfile::TempDir,
    running: Option<RunningBot>,
}

pub fn settings(emulator: &SlackEmulator, data_dir: &Path) -> RawServeSettings {
    RawServeSettings {
        bot_token: Some(BOT_TOKEN.into()),
        signing_secret: Some(SIGNING_SECRET.into()),
        app_token: None,
        api_url: Some(emulator.api_url()),
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(data_dir.to_path_buf()),
        default_tz: None,
        ..RawServeSettings::default()
    }
}

impl TestBot {
    pub async fn start(emulator: &SlackEmulator) -> Self {
        Self::start_with_clock(emulator, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(emulator: &SlackEmulator, clock: Arc<dyn Clock>) -> Self {
        Self::start_in(emulator, clock, tempfile::tempdir().expect("temp dir")).await
    }

    /// Starts in Socket Mode (an app token, no signing secret) against the emulator's
    /// WebSocket side.
    pub async fn start_socket_mode(emulator: &SlackEmulator) -> Self {
        emulator.enable_socket_mode().await;
        Self::start_configured(emulator, |raw| {
            raw.app_token = Some("xapp-1-A111-1-test".into());
            raw.signing_secret = None;
        })
        .await
    }

    /// Starts with the usual test settings changed by `configure`.
    pub async fn start_configured(
        emulator: &SlackEmulator,
        configure: impl FnOnce(&mut RawServeSettings),
    ) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut raw = settings(emulator, data_dir.path());
        configure(&mut raw);
        let config = ServeConfig::from_raw(raw).expect("config");
        let running = app::start(config, Arc::new(SystemClock))
            .await
            .expect("the bot starts");
        Self {
            addr: running.local_addr(),
            emulator: emulator.clone(),
            data_dir,
            running: Some(running),
        }
    }

    /// Starts on an existing data folder with the usual test settings changed by
    /// `configure` (a restart of a configured bot).
    pub async fn start_configured_in(
        emulator: &SlackEmulator,
        data_dir: tempfile::TempDir,
        configure: impl FnOnce(&mut RawServeSettings),
    ) -> Self {
        let mut raw = settings(emulator, data_dir.path());
        configure(&mut raw);
        let config = ServeConfig::from_raw(raw).expect("config");
        let running = app::start(config, Arc::new(SystemClock))
            .await
            .expect("the bot starts");
        Self {
            addr: running.local_addr(),
            emulator: emulator.clone(),
            data_dir,
            running: Some(running),
        }
    }

    /// Starts on an existing data folder (a restart after [`TestBot::stop`]).
    pub async fn start_in(
        emulator: &SlackEmulator,
        clock: Arc<dyn Clock>,
        data_dir: tempfile::TempDir,
    ) -> Self {
        let config = ServeConfig::from_raw(settings(emulator, data_dir.path())).expect("config");
        let running = app::start(config, clock).await.expect("the bot starts");
        Self {
            addr: running.local_addr(),
            emulator: emulator.clone(),
            data_dir,
            running: Some(running),
        }
    }

    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
        self.data_dir
    }

    pub async fn metric(&self, name_and_labels: &str) -> f64 {
        metric(self.addr, name_and_labels).await
    }
}

/// The value of one line of `/metrics` (0 when absent).
pub async fn metric(addr: SocketAddr, name_and_labels: &str) -> f64 {
    let (_, text) = get(addr, "/metrics").await;
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == name_and_labels)
                .then(|| value.parse().ok())
                .flatten()
        })
        .unwrap_or(0.0)
}

/// The bot as a separate process (for `kill -9` and restart tests).
pub struct BotProcess {
    pub child: Child,
    pub addr: SocketAddr,
}

impl BotProcess {
    /// Starts the binary and waits for its "listening" line. Call from a multi-threaded
    /// runtime: the emulator must keep answering while this thread waits.
    pub fn start(emulator: &SlackEmulator, data_dir: &Path) -> Self {
        Self::start_with_token(emulator, data_dir, BOT_TOKEN)
    }

    /// [`BotProcess::start`] with a bot token of its own, which the emulator records with
    /// each call: it tells apart the calls of processes started one after the other.
    pub fn start_with_token(emulator: &SlackEmulator, data_dir: &Path, token: &str) -> Self {
        tokio::task::block_in_place(|| Self::start_blocking(emulator, data_dir, token))
    }

    fn start_blocking(emulator: &SlackEmulator, data_dir: &Path, token: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_async-norms"))
            .arg("serve")
            .env("SLACK_BOT_TOKEN", token)
            .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
            .env("SLACK_API_URL", emulator.api_url())
            .env("ASYNC_NORMS_LISTEN", "127.0.0.1:0")
            .env("ASYNC_NORMS_DATA_DIR", data_dir)
            .env_remove("SLACK_APP_TOKEN")
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the bot binary");
        let stdout = child.stdout.take().expect("stdout");
        let addr = read_listening_line(stdout);
        Self { child, addr }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_9(mut self) {
        self.child.kill().expect("kill -9");
        tokio::task::block_in_place(|| self.child.wait().expect("reaped"));
    }
}

impl BotProcess {
    /// SIGTERM, then waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(self) -> bool {
        self.terminate_within(Duration::MAX)
            .expect("the bot exits after SIGTERM")
    }

    /// SIGTERM, then waits up to `patience` for the process to exit: whether it exited
    /// cleanly, or `None` (and a SIGKILL) if it was still running.
    pub fn terminate_within(mut self, patience: Duration) -> Option<bool> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        assert!(sent.success());
        let deadline = Instant::now().checked_add(patience);
        tokio::task::block_in_place(|| {
            loop {
                if let Some(status) = self.child.try_wait().expect("reaped") {
                    return Some(status.success());
                }
                if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return None;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    }
}

/// Runs the binary with these arguments and environment; returns (exit code, stdout, stderr).
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_async-norms"));
    command.args(args);
    for name in [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "ASYNC_NORMS_LISTEN",
        "ASYNC_NORMS_DATA_DIR",
        "ASYNC_NORMS_DEFAULT_TZ",
        "ASYNC_NORMS_LOG_FORMAT",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run the binary");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_listening_line(stdout: std::process::ChildStdout) -> SocketAddr {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if let Some(addr) = line.strip_prefix("async-norms listening on http://") {
                let _ = tx.send(addr.trim().parse::<SocketAddr>().expect("an address"));
            }
        }
    });
    let deadline = Instant::now() + PATIENCE;
    rx.recv_timeout(deadline - Instant::now())
        .expect("the bot prints its address")
}

/// The channel's history as the emulator keeps it (oldest first).
pub async fn history_of(emulator: &SlackEmulator, channel: &str) -> Vec<Value> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let request = hyper::Request::post(format!(
        "{}/conversations.history?channel={channel}",
        emulator.api_url()
    ))
    .header("authorization", format!("Bearer {BOT_TOKEN}"))
    .body(http_body_util::Full::new(bytes::Bytes::new()))
    .unwrap();
    let response = client.request(request).await.expect("the emulator answers");
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    let mut messages = answer["messages"].as_array().cloned().unwrap_or_default();
    messages.reverse();
    messages
}

/// Monday 2 March 2026, 08:00 UTC (08:00 in London, on GMT): the check-in tests' morning.
pub const MONDAY_EARLY: &str = "2026-03-02T08:00:00Z";
pub const MONDAY_PROMPT: &str = "2026-03-02T09:30:00Z";
pub const MONDAY_CLOSE: &str = "2026-03-02T17:30:00Z";
/// A check-in in C1 at 09:30 London time on weekdays.
pub const CREATE_FIXED: &str = "checkin create <#C1|team> at 09:30 on mon-fri in Europe/London";

/// An RFC 3339 instant.
pub fn at(instant: &str) -> chrono::DateTime<chrono::Utc> {
    instant.parse().unwrap()
}

/// A manager (a Slack admin) and two members in London, all in channel C1 with the bot.
pub async fn team_in_london() -> SlackEmulator {
    let emulator = SlackEmulator::start().await;
    emulator.add_admin("UMGR", "Europe/London");
    emulator.add_user("U1", Some("Europe/London"));
    emulator.add_user("U2", Some("Europe/London"));
    emulator.add_channel("C1", &["UMGR", "U1", "U2", emulator::BOT_USER_ID]);
    emulator
}

/// A clock standing at an RFC 3339 instant.
pub fn clock_at(instant: &str) -> Arc<async_norms::clock::FixedClock> {
    Arc::new(async_norms::clock::FixedClock::new(
        instant
            .parse::<chrono::DateTime<chrono::Utc>>()
            .expect("an RFC 3339 instant"),
    ))
}

/// Runs `/async <text>` as `user` in `channel` and returns the (private) answer's text.
pub async fn slash(
    addr: SocketAddr,
    emulator: &SlackEmulator,
    user: &str,
    channel: &str,
    text: &str,
) -> String {
    let form = command_form(text, user, channel, &emulator.response_url());
    let (status, body) = post_signed(
        addr,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        form.as_bytes(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("a JSON answer");
    assert_eq!(answer["response_type"], "ephemeral", "{answer}");
    answer["text"].as_str().unwrap_or_default().to_string()
}

/// Posts an interaction payload as Slack does: a form with one `payload` field.
pub async fn interact(addr: SocketAddr, payload: &Value) -> (StatusCode, String) {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    post_signed(
        addr,
        "/slack/interactivity",
        "application/x-www-form-urlencoded",
        form.as_bytes(),
        &[],
    )
    .await
}

/// A person's message in `channel` (a DM when it starts with `D`), in the thread
/// `thread_ts` when given, shaped like the `message.json` fixture.
pub fn message_event(
    event_id: &str,
    user: &str,
    channel: &str,
    text: &str,
    ts: &str,
    thread_ts: Option<&str>,
) -> Value {
    let mut body = event("message.json", event_id);
    body["event"]["user"] = serde_json::json!(user);
    body["event"]["text"] = serde_json::json!(text);
    body["event"]["channel"] = serde_json::json!(channel);
    body["event"]["channel_type"] = serde_json::json!(if channel.starts_with('D') {
        "im"
    } else {
        "channel"
    });
    body["event"]["ts"] = serde_json::json!(ts);
    body["event"]["event_ts"] = serde_json::json!(ts);
    if let Some(thread) = thread_ts {
        body["event"]["thread_ts"] = serde_json::json!(thread);
    }
    body["event"]
        .as_object_mut()
        .expect("an event object")
        .remove("blocks");
    body
}

impl TestBot {
    /// Waits until a counter of `/metrics` reaches `at_least`: a barrier that makes "nothing
    /// more happened" a fact rather than a race. Polls with a deadline.
    pub async fn wait_for_metric(&self, name_and_labels: &str, at_least: f64) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let value = self.metric(name_and_labels).await;
            if value >= at_least {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name_and_labels} reached {value}, not {at_least}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until the bot has handled `count` message events.
    pub async fn wait_for_handled_messages(&self, count: f64) {
        self.wait_for_metric("async_norms_events_handled_total{type=\"message\"}", count)
            .await;
    }
}

impl BotProcess {
    /// Starts the binary like [`BotProcess::start`], with `RUST_LOG=warn` and its standard
    /// error collected into the returned buffer as it is written. With `file_limit_bytes`,
    /// it runs under `ulimit -f` with SIGXFSZ ignored, so the kernel refuses (EFBIG) any
    /// write that would grow a file past that size: a disk that fills up, without root.
    pub fn start_with_file_limit(
        emulator: &SlackEmulator,
        data_dir: &Path,
        file_limit_bytes: Option<u64>,
    ) -> (Self, Arc<std::sync::Mutex<String>>) {
        Self::start_limited(emulator, data_dir, file_limit_bytes, None)
    }

    /// Like [`BotProcess::start_with_file_limit`], also connected over Socket Mode with
    /// an app token (the emulator must have it enabled).
    pub fn start_socket_mode_with_file_limit(
        emulator: &SlackEmulator,
        data_dir: &Path,
        file_limit_bytes: Option<u64>,
    ) -> (Self, Arc<std::sync::Mutex<String>>) {
        Self::start_limited(
            emulator,
            data_dir,
            file_limit_bytes,
            Some("xapp-1-A111-1-test"),
        )
    }

    fn start_limited(
        emulator: &SlackEmulator,
        data_dir: &Path,
        file_limit_bytes: Option<u64>,
        app_token: Option<&str>,
    ) -> (Self, Arc<std::sync::Mutex<String>>) {
        // `ulimit -f` counts 512-byte blocks in a POSIX shell; an ignored signal stays
        // ignored across `exec`.
        let limit = match file_limit_bytes {
            Some(bytes) => format!("ulimit -f {}; trap '' XFSZ; ", bytes.div_ceil(512)),
            None => String::new(),
        };
        Self::start_in_shell(emulator, data_dir, &limit, app_token, &[])
    }

    /// Starts the binary through `sh -c "<shell_prefix> exec async-norms serve"` with
    /// `RUST_LOG=warn` and these extra variables; its standard error is collected into the
    /// returned buffer as it is written.
    pub fn start_in_shell(
        emulator: &SlackEmulator,
        data_dir: &Path,
        shell_prefix: &str,
        app_token: Option<&str>,
        env: &[(&str, &str)],
    ) -> (Self, Arc<std::sync::Mutex<String>>) {
        let limit = shell_prefix;
        let mut command = Command::new("sh");
        command.envs(env.iter().copied());
        match app_token {
            Some(token) => command.env("SLACK_APP_TOKEN", token),
            None => command.env_remove("SLACK_APP_TOKEN"),
        };
        let mut child = command
            .arg("-c")
            .arg(format!("{limit}exec \"$0\" serve"))
            .arg(env!("CARGO_BIN_EXE_async-norms"))
            .env("SLACK_BOT_TOKEN", BOT_TOKEN)
            .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
            .env("SLACK_API_URL", emulator.api_url())
            .env("ASYNC_NORMS_LISTEN", "127.0.0.1:0")
            .env("ASYNC_NORMS_DATA_DIR", data_dir)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the bot binary through sh");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(std::sync::Mutex::new(String::new()));
        let collected = log.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let mut log = collected.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let addr = tokio::task::block_in_place(|| read_listening_line(stdout));
        (Self { child, addr }, log)
    }
}

impl TestBot {
    /// Opens `user`'s Home tab until it shows `needle`: a barrier on the bot's own state (a
    /// check-in step saved) that Slack cannot see. Each look is a new `app_home_opened`.
    pub async fn wait_for_home(&self, user: &str, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        for look in 0.. {
            let mut opened = event("app_home_opened.json", &format!("EvHomeLook{user}{look}"));
            opened["event"]["user"] = serde_json::json!(user);
            opened["event"]["tab"] = serde_json::json!("home");
            let before = self.emulator.answered("views.publish").len();
            post_event(self.addr, &opened).await;
            let published = self
                .emulator
                .wait_for("views.publish", before + 1, PATIENCE)
                .await;
            let home = published
                .last()
                .map(|call| call.params["view"].to_string())
                .unwrap_or_default();
            if home.contains(needle) {
                return home;
            }
            assert!(
                Instant::now() < deadline,
                "the Home tab never showed {needle:?}: {home}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        unreachable!("the loop returns or fails")
    }
}

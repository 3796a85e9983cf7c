//! A local Slack Web API: a real HTTP server on 127.0.0.1 that answers the methods the bot
//! calls with Slack-shaped JSON, records every call for assertions, and can be told to
//! answer 429 (with Retry-After), 500, or to stall, to see the bot cope.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One recorded Web API call.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The bearer token the call came with (empty without one).
    pub token: String,
    /// Query, form and JSON parameters merged into one object.
    pub params: Value,
    pub at: Instant,
}

impl Call {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }

    /// The message text and its blocks as one string, to search what a person would read.
    pub fn text_and_blocks(&self) -> String {
        let text = self.param("text").unwrap_or_default();
        let blocks = self
            .params
            .get("blocks")
            .map(Value::to_string)
            .unwrap_or_default();
        format!("{text}\n{blocks}")
    }
}

/// A fault to inject into the next answers of a method.
#[derive(Debug, Clone)]
pub enum Fault {
    RateLimited {
        retry_after_secs: u64,
    },
    ServerError,
    Stall(Duration),
    /// Slack's refusal with this error code (HTTP 200, `ok: false`), not retried.
    Refused(&'static str),
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub tz: Option<String>,
    pub is_admin: bool,
    pub is_bot: bool,
    /// The profile status: text, emoji, expiration (Unix seconds, 0 for none).
    pub status: Option<(String, String, i64)>,
    /// Do Not Disturb snoozed until this Unix second, as `dnd.info` reports it.
    pub dnd_until: Option<i64>,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    faults: HashMap<String, VecDeque<Fault>>,
    users: HashMap<String, User>,
    channels: HashMap<String, Vec<String>>,
    /// User groups: id → (handle, members).
    groups: HashMap<String, (String, Vec<String>)>,
    messages: HashMap<String, Vec<Value>>,
    held: std::collections::HashSet<String>,
    next_ts: u64,
    /// The scopes every answer's `x-oauth-scopes` header lists; the manifest's by default.
    granted_scopes: Option<Vec<String>>,
    /// Tokens Slack no longer takes (uninstalled app, revoked token).
    revoked: std::collections::HashSet<String>,
    /// Install codes not yet exchanged, with what `oauth.v2.access` answers for them.
    install_codes: HashMap<String, Value>,
    /// The team (or organisation) and bot user of each installed bot token.
    token_teams: HashMap<String, (String, String)>,
    /// Faults for the calls of one token only (one workspace rate-limited).
    token_faults: HashMap<(String, String), VecDeque<Fault>>,
}

/// The client id and secret of the app, as `oauth.v2.access` checks them.
pub const CLIENT_ID: &str = "1111.2222";
pub const CLIENT_SECRET: &str = "emulated-client-secret";

pub const TEAM_ID: &str = "T111";
pub const BOT_USER_ID: &str = "UBOT";
pub const BOT_ID: &str = "BBOT";
/// The app the bot belongs to (`bots.info`), as in the fixtures' `api_app_id`.
pub const APP_ID: &str = "A111";
/// Told to a Socket Mode connection's task: close the connection cleanly.
const CLOSE: &str = "\u{0}close";

#[derive(Clone)]
pub struct SlackEmulator {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    socket: Arc<Mutex<SocketHub>>,
    /// `false` while the emulator refuses connections (Slack unreachable).
    up: Arc<tokio::sync::watch::Sender<bool>>,
}

/// Socket Mode: the WebSocket side of Slack, for bots started with an app token.
#[derive(Default)]
struct SocketHub {
    url: Option<String>,
    clients: Vec<tokio::sync::mpsc::UnboundedSender<String>>,
    acks: HashMap<String, Value>,
}

impl SlackEmulator {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Starts on a given loopback port (0: any free port).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the emulator");
        let addr = listener.local_addr().expect("emulator address");
        let emulator = Self {
            addr,
            state: Arc::new(Mutex::new(State {
                next_ts: 1,
                ..State::default()
            })),
            changed: Arc::new(Notify::new()),
            socket: Arc::new(Mutex::new(SocketHub::default())),
            up: Arc::new(tokio::sync::watch::channel(true).0),
        };
        tokio::spawn(emulator.clone().serve(listener));
        emulator
    }

    /// Lets a workspace install the app: Slack redirects the installer back with `code`, and
    /// exchanging it gives `token`, the bot `bot_user` of `team`.
    pub fn allow_install(&self, code: &str, team: &str, token: &str, bot_user: &str) {
        let answer = json!({
            "ok": true, "access_token": token, "token_type": "bot",
            "scope": manifest_bot_scopes().join(","), "bot_user_id": bot_user, "app_id": APP_ID,
            "team": {"id": team, "name": format!("Workspace {team}")}, "enterprise": null,
            "is_enterprise_install": false, "authed_user": {"id": "UINSTALLER"}
        });
        self.state().install_codes.insert(code.into(), answer);
        self.state()
            .token_teams
            .insert(token.into(), (team.into(), bot_user.into()));
    }

    /// Lets an Enterprise Grid organisation install the app org-wide (no team).
    pub fn allow_org_install(&self, code: &str, enterprise: &str, token: &str, bot_user: &str) {
        let answer = json!({
            "ok": true, "access_token": token, "token_type": "bot",
            "scope": manifest_bot_scopes().join(","), "bot_user_id": bot_user, "app_id": APP_ID,
            "team": null, "enterprise": {"id": enterprise, "name": "Emulated Org"},
            "is_enterprise_install": true, "authed_user": {"id": "UINSTALLER"}
        });
        self.state().install_codes.insert(code.into(), answer);
        self.state()
            .token_teams
            .insert(token.into(), (enterprise.into(), bot_user.into()));
    }

    /// Injects a fault into the next `count` calls of `method` made with `token` only.
    pub fn inject_for_token(&self, method: &str, token: &str, fault: Fault, count: usize) {
        let mut state = self.state();
        let queue = state
            .token_faults
            .entry((method.to_string(), token.to_string()))
            .or_default();
        for _ in 0..count {
            queue.push_back(fault.clone());
        }
    }

    /// Grants the installed app these scopes instead of the manifest's.
    pub fn grant_scopes(&self, scopes: &[&str]) {
        self.state().granted_scopes = Some(scopes.iter().map(|s| s.to_string()).collect());
    }

    /// Refuses `token` from now on, as Slack does once it is revoked.
    pub fn revoke_token(&self, token: &str) {
        self.state().revoked.insert(token.to_string());
    }

    /// The `x-oauth-scopes` header: what the app was installed with.
    fn scopes_header(&self) -> String {
        match &self.state().granted_scopes {
            Some(scopes) => scopes.join(","),
            None => manifest_bot_scopes().join(","),
        }
    }

    /// Accepts connections until told to refuse them; then closes the port and every open
    /// connection, and opens the same port again when told to accept.
    async fn serve(self, listener: TcpListener) {
        let mut up = self.up.subscribe();
        let mut listener = Some(listener);
        loop {
            let Some(open) = &listener else {
                if up.wait_for(|is_up| *is_up).await.is_err() {
                    return;
                }
                listener = Some(
                    TcpListener::bind(self.addr)
                        .await
                        .expect("bind the emulator's port again"),
                );
                continue;
            };
            let accepted = tokio::select! {
                accepted = open.accept() => accepted,
                _ = up.wait_for(|is_up| !*is_up) => {
                    listener = None;
                    continue;
                }
            };
            let Ok((stream, _)) = accepted else {
                continue;
            };
            let emulator = self.clone();
            let mut connection_up = self.up.subscribe();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let emulator = emulator.clone();
                    async move { Ok::<_, std::convert::Infallible>(emulator.answer(request).await) }
                });
                let connection =
                    http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = connection => {}
                    // Dropping the connection resets it, as a Slack outage would.
                    _ = connection_up.wait_for(|is_up| !*is_up) => {}
                }
            });
        }
    }

    /// Slack becomes unreachable: the port is closed (connections are refused) and open
    /// connections are cut.
    pub fn refuse_connections(&self) {
        self.up.send_replace(false);
    }

    /// Slack is reachable again, on the same port.
    pub fn accept_connections(&self) {
        self.up.send_replace(true);
    }

    /// The `SLACK_API_URL` to give the bot.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// A `response_url` that records what is posted to it (as method `response_url`).
    pub fn response_url(&self) -> String {
        format!("http://{}/response/1", self.addr)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add_user(&self, id: &str, tz: Option<&str>) {
        self.state().users.insert(
            id.into(),
            User {
                id: id.into(),
                tz: tz.map(str::to_string),
                is_admin: false,
                is_bot: false,
                status: None,
                dnd_until: None,
            },
        );
    }

    pub fn add_admin(&self, id: &str, tz: &str) {
        self.state().users.insert(
            id.into(),
            User {
                id: id.into(),
                tz: Some(tz.into()),
                is_admin: true,
                is_bot: false,
                status: None,
                dnd_until: None,
            },
        );
    }

    /// Sets a member's profile status, as they would in Slack.
    pub fn set_status(&self, id: &str, text: &str, emoji: &str, expiration: i64) {
        if let Some(user) = self.state().users.get_mut(id) {
            user.status = Some((text.into(), emoji.into(), expiration));
        }
    }

    /// Turns a member's Do Not Disturb on until `until` (Unix seconds), or off with `None`.
    pub fn set_dnd(&self, id: &str, until: Option<i64>) {
        if let Some(user) = self.state().users.get_mut(id) {
            user.dnd_until = until;
        }
    }

    pub fn add_channel(&self, id: &str, members: &[&str]) {
        self.state()
            .channels
            .insert(id.into(), members.iter().map(|m| m.to_string()).collect());
    }

    /// A user group (`S…`) with its handle (without `@`) and members.
    pub fn add_group(&self, id: &str, handle: &str, members: &[&str]) {
        self.state().groups.insert(
            id.into(),
            (
                handle.into(),
                members.iter().map(|m| m.to_string()).collect(),
            ),
        );
    }

    /// Puts a message into a channel's history, as if it had been posted earlier (e.g. by a
    /// bot that crashed before it could record the answer).
    pub fn add_message(&self, channel: &str, message: Value) {
        self.state()
            .messages
            .entry(channel.into())
            .or_default()
            .push(message);
    }

    /// The next `count` answers of `method` carry `fault`.
    pub fn inject(&self, method: &str, fault: Fault, count: usize) {
        let mut state = self.state();
        let queue = state.faults.entry(method.into()).or_default();
        for _ in 0..count {
            queue.push_back(fault.clone());
        }
    }

    /// Starts the WebSocket side of Slack; `apps.connections.open` then hands out its URL.
    pub async fn enable_socket_mode(&self) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the socket server");
        let url = format!("ws://{}/link", listener.local_addr().expect("address"));
        self.socket.lock().unwrap_or_else(|p| p.into_inner()).url = Some(url);
        let emulator = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let emulator = emulator.clone();
                tokio::spawn(async move { emulator.serve_socket(stream).await });
            }
        });
    }

    async fn serve_socket(&self, stream: tokio::net::TcpStream) {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
            return;
        };
        let (mut outgoing, mut incoming) = socket.split();
        let hello = json!({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A111"},
            "debug_info": {"host": "emulator", "approximate_connection_time": 18060}});
        if outgoing
            .send(Message::text(hello.to_string()))
            .await
            .is_err()
        {
            return;
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        self.socket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clients
            .push(tx);
        self.changed.notify_waiters();
        loop {
            tokio::select! {
                frame = rx.recv() => match frame {
                    Some(text) if text == CLOSE => {
                        // A clean close: the closing handshake, as Slack ends a connection.
                        let _ = outgoing.send(Message::Close(Some(
                            tokio_tungstenite::tungstenite::protocol::CloseFrame {
                                code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Normal,
                                reason: "closing".into(),
                            },
                        ))).await;
                        let _ = outgoing.close().await;
                        return;
                    }
                    Some(text) => if outgoing.send(Message::text(text)).await.is_err() { return },
                    None => return,
                },
                message = incoming.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        if let Ok(ack) = serde_json::from_str::<Value>(&text)
                            && let Some(id) = ack.get("envelope_id").and_then(Value::as_str) {
                            self.socket.lock().unwrap_or_else(|p| p.into_inner()).acks.insert(id.to_string(), ack.clone());
                            self.changed.notify_waiters();
                        }
                    }
                    Some(Ok(Message::Ping(data))) => { let _ = outgoing.send(Message::Pong(data)).await; }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return,
                },
            }
        }
    }

    /// Cuts every Socket Mode connection without a closing handshake, as a network drop
    /// does, and refuses new ones (`apps.connections.open` fails) until
    /// [`SlackEmulator::enable_socket_mode`] is called again.
    pub fn cut_socket_mode(&self) {
        let mut hub = self.socket.lock().unwrap_or_else(|p| p.into_inner());
        hub.url = None;
        hub.clients.clear();
    }

    /// Closes every Socket Mode connection cleanly (a close frame, as Slack ends one) and
    /// refuses new ones until [`SlackEmulator::enable_socket_mode`] is called again.
    pub fn close_socket_mode(&self) {
        let mut hub = self.socket.lock().unwrap_or_else(|p| p.into_inner());
        hub.url = None;
        for client in hub.clients.drain(..) {
            let _ = client.send(CLOSE.to_string());
        }
    }

    /// Sends a Socket Mode envelope over a connection the bot opened and waits for the
    /// bot's acknowledgement, which is returned.
    pub async fn send_envelope(&self, envelope: &Value, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        self.push_envelope(envelope, deadline).await;
        let id = envelope["envelope_id"].as_str().expect("an envelope_id");
        self.wait_on_socket(
            deadline,
            &format!("an acknowledgement of envelope {id}"),
            |hub| hub.acks.remove(id),
        )
        .await
    }

    /// Sends a Socket Mode envelope over a connection the bot opened (waiting for one
    /// until `deadline`), without waiting for an acknowledgement.
    pub async fn push_envelope(&self, envelope: &Value, deadline: Instant) {
        self.wait_on_socket(deadline, "a connection from the bot", |hub| {
            hub.clients.retain(|client| !client.is_closed());
            let client = hub.clients.first()?;
            client.send(envelope.to_string()).ok()
        })
        .await
    }

    /// The bot's acknowledgement of an envelope, if one has come.
    pub fn acknowledgement(&self, envelope_id: &str) -> Option<Value> {
        let hub = self.socket.lock().unwrap_or_else(|p| p.into_inner());
        hub.acks.get(envelope_id).cloned()
    }

    /// Looks at the Socket Mode state each time it changes until `found` gives something.
    async fn wait_on_socket<T>(
        &self,
        deadline: Instant,
        what: &str,
        mut found: impl FnMut(&mut SocketHub) -> Option<T>,
    ) -> T {
        loop {
            let notified = self.changed.notified();
            if let Some(value) = found(&mut self.socket.lock().unwrap_or_else(|p| p.into_inner())) {
                return value;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {what} in time");
            let _ = tokio::time::timeout(left.min(Duration::from_millis(100)), notified).await;
        }
    }

    /// Calls of `method` hang from now on until [`release`](Self::release); they never
    /// count as delivered (the caller is expected to die while waiting).
    pub fn hold(&self, method: &str) {
        self.state().held.insert(method.into());
    }

    pub fn release(&self, method: &str) {
        self.state().held.remove(method);
        self.changed.notify_waiters();
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.state()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Waits until `method` has been called successfully at least `count` times, or fails
    /// the test after `within`. Returns those calls.
    pub async fn wait_for(&self, method: &str, count: usize, within: Duration) -> Vec<Call> {
        self.wait_until(method, count, within, true).await
    }

    /// Waits until `method` has been attempted at least `count` times, faulted or held
    /// calls included.
    pub async fn wait_for_attempts(
        &self,
        method: &str,
        count: usize,
        within: Duration,
    ) -> Vec<Call> {
        self.wait_until(method, count, within, false).await
    }

    async fn wait_until(
        &self,
        method: &str,
        count: usize,
        within: Duration,
        answered_only: bool,
    ) -> Vec<Call> {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.changed.notified();
            let calls = if answered_only {
                self.answered(method)
            } else {
                self.calls_to(method)
            };
            if calls.len() >= count {
                return calls;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "waited {within:?} for {count} {method} call(s), saw {}: {:#?}",
                    calls.len(),
                    self.calls()
                        .iter()
                        .map(|c| (&c.method, &c.params))
                        .collect::<Vec<_>>()
                );
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// Calls of `method` that were answered `ok` (not faulted).
    pub fn answered(&self, method: &str) -> Vec<Call> {
        self.state()
            .calls
            .iter()
            .filter(|c| c.method == method && c.params.get("__fault").is_none())
            .cloned()
            .collect()
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_string();
        let query = request.uri().query().unwrap_or("").to_string();
        let bearer = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        // Bot methods take the bot token; opening a Socket Mode connection takes the app token.
        let authorized = if path.ends_with("/apps.connections.open") {
            bearer.starts_with("Bearer xapp-")
        } else {
            bearer.starts_with("Bearer xoxb-")
        };
        let content_type = request
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = request
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let mut params = parse_params(&query, &content_type, &body);
        let method = match path.strip_prefix("/api/") {
            Some(method) => method.to_string(),
            None if path.starts_with("/response/") => "response_url".to_string(),
            None => {
                return reply(
                    StatusCode::NOT_FOUND,
                    json!({"ok": false, "error": "not_found"}),
                    None,
                );
            }
        };
        if self.state().held.contains(&method) {
            params["__fault"] = json!("held");
            self.record(&method, params);
            while self.state().held.contains(&method) {
                let released = self.changed.notified();
                if !self.state().held.contains(&method) {
                    break;
                }
                let _ = tokio::time::timeout(Duration::from_millis(200), released).await;
            }
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"ok": false, "error": "held"}),
                None,
            );
        }
        let token = bearer.trim_start_matches("Bearer ").to_string();
        let fault = {
            let mut state = self.state();
            match state
                .token_faults
                .get_mut(&(method.clone(), token.clone()))
                .and_then(VecDeque::pop_front)
            {
                Some(fault) => Some(fault),
                None => state.faults.get_mut(&method).and_then(VecDeque::pop_front),
            }
        };
        if let Some(fault) = &fault {
            params["__fault"] = json!(format!("{fault:?}"));
        }
        self.record_with_token(&method, params.clone(), &token);
        match fault {
            Some(Fault::RateLimited { retry_after_secs }) => {
                return reply(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({"ok": false, "error": "ratelimited"}),
                    Some(retry_after_secs),
                );
            }
            Some(Fault::ServerError) => {
                return reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"ok": false, "error": "internal_error"}),
                    None,
                );
            }
            Some(Fault::Stall(duration)) => tokio::time::sleep(duration).await,
            Some(Fault::Refused(code)) => {
                return reply(StatusCode::OK, json!({"ok": false, "error": code}), None);
            }
            None => {}
        }
        if method == "oauth.v2.access" {
            let known_app = params.get("client_id").and_then(Value::as_str) == Some(CLIENT_ID)
                && params.get("client_secret").and_then(Value::as_str) == Some(CLIENT_SECRET);
            let code = params.get("code").and_then(Value::as_str).unwrap_or("");
            let answer = match self.state().install_codes.remove(code) {
                _ if !known_app => json!({"ok": false, "error": "invalid_client_id"}),
                Some(answer) => answer,
                None => json!({"ok": false, "error": "invalid_code"}),
            };
            self.changed.notify_waiters();
            return reply(StatusCode::OK, answer, None);
        }
        if method != "response_url" && !authorized {
            return reply(
                StatusCode::OK,
                json!({"ok": false, "error": "not_authed"}),
                None,
            );
        }
        let token = bearer.trim_start_matches("Bearer ");
        if self.state().revoked.contains(token) {
            return reply(
                StatusCode::OK,
                json!({"ok": false, "error": "token_revoked"}),
                None,
            );
        }
        let mut answer = self.method_answer(&method, &params);
        if method == "auth.test"
            && let Some((team, bot_user)) = self.state().token_teams.get(token).cloned()
        {
            answer["team_id"] = json!(team);
            answer["user_id"] = json!(bot_user);
        }
        self.changed.notify_waiters();
        let mut response = reply(StatusCode::OK, answer, None);
        response.headers_mut().insert(
            "x-oauth-scopes",
            self.scopes_header().parse().expect("header"),
        );
        response
    }

    fn record(&self, method: &str, params: Value) {
        self.record_with_token(method, params, "");
    }

    fn record_with_token(&self, method: &str, params: Value, token: &str) {
        self.state().calls.push(Call {
            method: method.into(),
            token: token.into(),
            params,
            at: Instant::now(),
        });
        self.changed.notify_waiters();
    }

    fn next_ts(&self) -> String {
        let mut state = self.state();
        state.next_ts += 1;
        format!("1700000000.{:06}", state.next_ts)
    }

    fn method_answer(&self, method: &str, params: &Value) -> Value {
        let param = |name: &str| {
            params
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        match method {
            "auth.test" => json!({
                "ok": true, "url": "https://emulated.slack.com/", "team": "Emulated", "user": "async-norms",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID
            }),
            "bots.info" => json!({
                "ok": true,
                "bot": {"id": BOT_ID, "name": "async-norms", "app_id": APP_ID, "user_id": BOT_USER_ID, "deleted": false}
            }),
            "users.info" => {
                let id = param("user");
                match self.state().users.get(&id).cloned() {
                    Some(user) => json!({"ok": true, "user": user_json(&user)}),
                    None => json!({"ok": false, "error": "user_not_found"}),
                }
            }
            "dnd.info" => match self.state().users.get(&param("user")) {
                // Shaped as Slack answers: no schedule, a snooze when DND is on.
                Some(user) => json!({
                    "ok": true, "dnd_enabled": false,
                    "next_dnd_start_ts": 1, "next_dnd_end_ts": 1,
                    "snooze_enabled": user.dnd_until.is_some(),
                    "snooze_endtime": user.dnd_until.unwrap_or(0),
                    "snooze_remaining": 0
                }),
                None => json!({"ok": false, "error": "user_not_found"}),
            },
            "users.list" => {
                let mut users: Vec<User> = self.state().users.values().cloned().collect();
                users.sort_by(|a, b| a.id.cmp(&b.id));
                // Paged as Slack pages: `limit` members from the `cursor` on (here an index).
                let limit = param("limit").parse().unwrap_or(users.len()).max(1);
                let from: usize = param("cursor").parse().unwrap_or(0);
                let members: Vec<Value> =
                    users.iter().skip(from).take(limit).map(user_json).collect();
                let next = if from + limit < users.len() {
                    (from + limit).to_string()
                } else {
                    String::new()
                };
                json!({"ok": true, "members": members, "response_metadata": {"next_cursor": next}})
            }
            "usergroups.users.list" => match self.state().groups.get(&param("usergroup")) {
                Some((_, members)) => json!({"ok": true, "users": members}),
                None => json!({"ok": false, "error": "no_such_subteam"}),
            },
            "usergroups.list" => {
                let mut groups: Vec<(String, (String, Vec<String>))> =
                    self.state().groups.clone().into_iter().collect();
                groups.sort();
                let usergroups: Vec<Value> = groups
                    .iter()
                    .map(|(id, (handle, members))| usergroup_json(id, handle, members.len()))
                    .collect();
                json!({"ok": true, "usergroups": usergroups})
            }
            "conversations.info" => {
                let id = param("channel");
                json!({"ok": true, "channel": {
                    "id": id, "name": format!("chan-{}", id.to_lowercase()), "is_channel": true, "is_group": false,
                    "is_im": false, "is_private": false, "is_archived": false, "is_member": true, "created": 1449252889,
                    "creator": "W012A3BCD", "is_general": false, "is_shared": false, "is_ext_shared": false,
                    "is_org_shared": false, "is_mpim": false, "is_read_only": false
                }})
            }
            "conversations.members" => {
                let members = self.state().channels.get(&param("channel")).cloned();
                match members {
                    Some(members) => {
                        json!({"ok": true, "members": members, "response_metadata": {"next_cursor": ""}})
                    }
                    None => json!({"ok": false, "error": "channel_not_found"}),
                }
            }
            "conversations.open" => {
                // Form posts send `users` comma-separated; JSON posts may send an array.
                let users = match params.get("users") {
                    Some(Value::Array(ids)) => ids
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                    _ => param("users"),
                };
                json!({"ok": true, "channel": {"id": format!("D{}", users.split(',').next().unwrap_or(""))}})
            }
            "conversations.history" => {
                let messages = self
                    .state()
                    .messages
                    .get(&param("channel"))
                    .cloned()
                    .unwrap_or_default();
                json!({"ok": true, "messages": messages.into_iter().rev().collect::<Vec<_>>(), "has_more": false})
            }
            "chat.postMessage" => {
                let ts = self.next_ts();
                let channel = param("channel");
                let message = json!({
                    "type": "message", "subtype": "bot_message", "text": param("text"), "ts": ts,
                    "bot_id": BOT_ID, "user": BOT_USER_ID, "thread_ts": params.get("thread_ts"),
                    "metadata": params.get("metadata")
                });
                self.state()
                    .messages
                    .entry(channel.clone())
                    .or_default()
                    .push(message.clone());
                json!({"ok": true, "channel": channel, "ts": ts, "message": message})
            }
            "chat.postEphemeral" => json!({"ok": true, "message_ts": self.next_ts()}),
            "chat.update" => json!({
                "ok": true, "channel": param("channel"), "ts": param("ts"), "text": param("text"),
                "message": {"text": param("text"), "user": BOT_USER_ID}
            }),
            "chat.scheduleMessage" => json!({
                "ok": true, "channel": param("channel"), "post_at": param("post_at"),
                "scheduled_message_id": format!("Q{}", self.next_ts().replace('.', "")),
                "message": {"type": "delayed_message", "text": param("text"), "bot_id": BOT_ID}
            }),
            "reactions.add" => json!({"ok": true}),
            "views.publish" | "views.open" | "views.update" => {
                let mut view = params.get("view").cloned().unwrap_or_else(|| json!({}));
                if let Some(text) = view.as_str() {
                    view = serde_json::from_str(text).unwrap_or_else(|_| json!({}));
                }
                let object = view.as_object_mut().map(std::mem::take).unwrap_or_default();
                let mut answered = json!({
                    "id": "VMHU10V25", "team_id": TEAM_ID, "app_id": "AA4928AQ", "bot_id": BOT_ID,
                    "hash": "156772938.1827394", "root_view_id": "VMHU10V25", "previous_view_id": null,
                    "state": {"values": {}}, "clear_on_close": false, "notify_on_close": false, "external_id": ""
                });
                for (key, value) in object {
                    answered[key] = value;
                }
                json!({"ok": true, "view": answered})
            }
            "response_url" => json!({"ok": true}),
            "apps.connections.open" => match self
                .socket
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .url
                .clone()
            {
                Some(url) => json!({"ok": true, "url": url}),
                None => json!({"ok": false, "error": "socket_mode_not_enabled"}),
            },
            _ => json!({"ok": false, "error": "unknown_method"}),
        }
    }
}

fn user_json(user: &User) -> Value {
    let (status_text, status_emoji, status_expiration) = user.status.clone().unwrap_or_default();
    json!({
        "id": user.id, "team_id": TEAM_ID, "name": user.id.to_lowercase(), "deleted": false,
        "color": "9f69e7", "real_name": format!("Member {}", user.id), "tz": user.tz,
        "tz_label": user.tz.as_ref().map(|_| "Local Time"), "tz_offset": 0,
        "is_admin": user.is_admin, "is_owner": false, "is_primary_owner": false,
        "is_restricted": false, "is_ultra_restricted": false, "is_bot": user.is_bot, "is_app_user": false,
        "has_2fa": false,
        "profile": {"real_name": format!("Member {}", user.id), "display_name": user.id.to_lowercase(), "team": TEAM_ID,
            "status_text": status_text, "status_emoji": status_emoji, "status_expiration": status_expiration}
    })
}

/// A user group as `usergroups.list` describes it (without `include_users`).
fn usergroup_json(id: &str, handle: &str, user_count: usize) -> Value {
    json!({
        "id": id, "team_id": TEAM_ID, "is_usergroup": true, "is_subteam": true,
        "name": format!("Group {handle}"), "description": "", "handle": handle,
        "is_external": false, "date_create": 1446746793, "date_update": 1446746793,
        "date_delete": 0, "auto_type": null, "auto_provision": false, "enterprise_subteam_id": "",
        "created_by": "U060RNRCZ", "updated_by": "U060RNRCZ", "deleted_by": null,
        "prefs": {"channels": [], "groups": []}, "user_count": user_count
    })
}

fn parse_params(query: &str, content_type: &str, body: &[u8]) -> Value {
    let mut params = serde_json::Map::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        params.insert(key.into_owned(), Value::String(value.into_owned()));
    }
    if content_type.starts_with("application/json") {
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
            params.extend(object);
        }
    } else {
        for (key, value) in url::form_urlencoded::parse(body) {
            params.insert(key.into_owned(), Value::String(value.into_owned()));
        }
    }
    Value::Object(params)
}

/// The bot scopes of the shipped manifest, read as Slack reads it (YAML).
fn manifest_bot_scopes() -> Vec<String> {
    let manifest: Value =
        serde_yaml::from_str(include_str!("../../manifest.yml")).expect("manifest.yml is YAML");
    manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .expect("the manifest lists bot scopes")
        .iter()
        .filter_map(|scope| scope.as_str().map(str::to_string))
        .collect()
}

fn reply(status: StatusCode, body: Value, retry_after: Option<u64>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        "application/json; charset=utf-8".parse().expect("header"),
    );
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", seconds.to_string().parse().expect("header"));
    }
    response
}

//! The HTTP listener: Slack's three routes, a health check and metrics. Every `/slack/*`
//! request is size-limited and signature-checked before anything reads it; bad input gets
//! a 4xx with a sentence, never a 500. With [`socket`] (Socket Mode) and [`intake`] (events
//! journaled before they are acknowledged), this is where Slack's requests reach the
//! handlers.

pub(crate) mod intake;
pub(crate) mod interactions;
pub(crate) mod socket;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::bot::Bot;
use crate::commands;
use crate::metrics::{Counter, Histogram};
use crate::secret::Secret;
use crate::server::interactions::answer_interaction;
use crate::slack::payloads::{read_command_scoped, read_interaction_scoped};
use crate::slack::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::store::StoreError;
use intake::{EventIntake, Intake, IntakeError};

/// Slack's payloads are small; anything larger is not from Slack.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long shutdown waits for open requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What every request handler shares.
pub(crate) struct HttpState {
    pub(crate) bot: Arc<Bot>,
    pub(crate) intake: EventIntake,
    /// `None` in Socket Mode without a signing secret: then `/slack/*` is refused.
    pub(crate) signing_secret: Option<Secret>,
    /// The Socket Mode connection's state, when the bot uses it.
    pub(crate) socket: Option<Arc<socket::Connection>>,
    /// "Add to Slack", when the app is distributed over OAuth.
    pub(crate) distribution: Option<Arc<crate::slack::oauth::Distribution>>,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The answer, and the connection closed after it: its unread body makes it unusable.
fn closing(mut response: Reply) -> Reply {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

fn text(status: StatusCode, body: impl Into<String>) -> Reply {
    reply(status, "text/plain; charset=utf-8", body.into())
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Reply {
    match serde_json::to_vec(value) {
        Ok(body) => reply(status, "application/json; charset=utf-8", body),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("could not encode the answer: {e}"),
        ),
    }
}

/// Binds the listener. Returned separately so callers learn the port (tests bind port 0).
pub(crate) async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Which routes a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Routes {
    /// Slack's routes and `/healthz`; `/metrics` too unless an admin listener has it.
    Public { metrics: bool },
    /// `/healthz` and `/metrics` only (`ASYNC_NORMS_ADMIN_LISTEN`).
    Admin,
}

/// How hard a listener holds on to its clients.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListenerLimits {
    /// Time a client has to send a whole request, headers and body, counted from when the
    /// connection is ready for it (accepted, or the previous answer sent).
    pub(crate) request_deadline: Duration,
    /// Connections served at once. Beyond this the listener stops accepting, and new
    /// connections wait in the kernel's queue (back-pressure) instead of being refused.
    pub(crate) max_connections: usize,
}

/// First pause after a failed `accept` (out of file descriptors, most often): long enough
/// that the loop does not spin, short enough that a freed descriptor is soon used.
const ACCEPT_PAUSE_MIN: Duration = Duration::from_millis(10);
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);
/// A condition that lasts (failing accepts, the connection cap reached) is logged at most
/// once in this long, with the count since the last line.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Logs a lasting condition at most once per [`LOG_EVERY`].
#[derive(Debug, Default)]
struct LogEvery {
    last: Option<Instant>,
    unlogged: u64,
}

impl LogEvery {
    /// Counts one occurrence; `Some(count since the last line)` when it is time to log.
    fn occurred(&mut self, now: Instant) -> Option<u64> {
        self.unlogged += 1;
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < LOG_EVERY)
        {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}

/// The pause after each failed accept: doubling from [`ACCEPT_PAUSE_MIN`] up to
/// [`ACCEPT_PAUSE_MAX`], back to nothing after a success.
#[derive(Debug, Default)]
struct AcceptBackoff {
    pause: Duration,
}

impl AcceptBackoff {
    fn failed(&mut self) -> Duration {
        self.pause = (self.pause * 2).clamp(ACCEPT_PAUSE_MIN, ACCEPT_PAUSE_MAX);
        self.pause
    }

    fn succeeded(&mut self) {
        self.pause = Duration::ZERO;
    }
}

/// Serves until `shutdown` is cancelled, then waits (a while) for open requests.
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<HttpState>,
    shutdown: CancellationToken,
    routes: Routes,
    limits: ListenerLimits,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut backoff = AcceptBackoff::default();
    let mut accept_failures = LogEvery::default();
    let mut at_capacity = LogEvery::default();
    loop {
        if connections.available_permits() == 0
            && let Some(times) = at_capacity.occurred(Instant::now())
        {
            warn!(
                max_connections = limits.max_connections,
                times, "connection limit reached; new connections wait until one closes"
            );
        }
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, _peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff.succeeded();
                    accepted
                }
                Err(e) => {
                    // Out of file descriptors (or memory) is not fixed by trying again at
                    // once: pause, and say so a bounded number of times.
                    let pause = backoff.failed();
                    if let Some(times) = accept_failures.occurred(Instant::now()) {
                        warn!(error = %e, times, pause_ms = pause.as_millis() as u64, "cannot accept connections; pausing");
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(pause) => continue,
                    }
                }
            },
        };
        // The whole request must be in by this instant; moved on after each answer.
        let ready_since = Arc::new(Mutex::new(Instant::now()));
        let state = state.clone();
        let service = service_fn(move |request| {
            let state = state.clone();
            let ready_since = ready_since.clone();
            async move {
                let since = *ready_since.lock().unwrap_or_else(|p| p.into_inner());
                let deadline = since + limits.request_deadline;
                let response = route(&state, routes, request, deadline).await;
                *ready_since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let connection = http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.request_deadline)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        warn!("some HTTP connections were still open at shutdown");
    }
    info!("HTTP listener stopped");
}

async fn route(
    state: &HttpState,
    routes: Routes,
    request: Request<Incoming>,
    deadline: Instant,
) -> Reply {
    let arrived = std::time::Instant::now();
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let serves_metrics = matches!(routes, Routes::Admin | Routes::Public { metrics: true });
    let serves_slack = matches!(routes, Routes::Public { .. });
    let response = match (method, path.as_str()) {
        (Method::GET, "/healthz") => health(state),
        (Method::GET, "/readyz") => readiness(state),
        (Method::GET, "/metrics") if serves_metrics => metrics(state),
        (_, "/metrics") if !serves_metrics => text(StatusCode::NOT_FOUND, "not found\n"),
        (_, "/slack/events" | "/slack/commands" | "/slack/interactivity") if !serves_slack => {
            text(StatusCode::NOT_FOUND, "not found\n")
        }
        (Method::POST, "/slack/events" | "/slack/commands" | "/slack/interactivity") => {
            slack_route(state, request, &path, deadline).await
        }
        (Method::GET, "/slack/install" | "/slack/oauth_redirect") if serves_slack => {
            install_route(state, &path, request.uri().query().unwrap_or("")).await
        }
        (
            _,
            "/healthz" | "/metrics" | "/slack/events" | "/slack/commands" | "/slack/interactivity",
        ) => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    let route_label = match path.as_str() {
        "/healthz"
        | "/readyz"
        | "/metrics"
        | "/slack/events"
        | "/slack/commands"
        | "/slack/interactivity"
        | "/slack/install"
        | "/slack/oauth_redirect" => path.as_str(),
        _ => "other",
    };
    state.bot.metrics.inc(
        Counter::HttpRequests,
        &[
            ("route", route_label),
            ("status", response.status().as_str()),
        ],
    );
    state.bot.metrics.observe(
        Histogram::Acknowledgement,
        &[("route", route_label)],
        arrived.elapsed().as_secs_f64(),
    );
    response
}

/// `ok` while the bot can do its job; `unavailable` (503) while its store cannot make
/// events durable, so an orchestrator restarts it. The reason (the data folder, the OS
/// error) is in the log, said once by the store, and not told to whoever asks.
fn health(state: &HttpState) -> Reply {
    match state.bot.store.health() {
        Ok(()) => text(StatusCode::OK, "ok\n"),
        Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "unavailable\n"),
    }
}

/// Whether the bot can serve Slack now: the store takes writes, Slack takes its token
/// (with `SLACK_BOT_TOKEN`), and, in Socket Mode, the connection is up (a `hello` came and
/// no error since). `ready`, or 503 with the first reason; for a load balancer or an
/// orchestrator's readiness probe (`/healthz` says only whether to restart).
fn readiness(state: &HttpState) -> Reply {
    let reason = if state.bot.store.health().is_err() {
        Some("the data folder does not take writes")
    } else if state.bot.slack.single_token_gone() {
        Some("Slack no longer takes SLACK_BOT_TOKEN (revoked or uninstalled)")
    } else if state
        .socket
        .as_ref()
        .is_some_and(|socket| !socket.is_connected())
    {
        Some("the Socket Mode connection is down")
    } else {
        None
    };
    match reason {
        None => text(StatusCode::OK, "ready\n"),
        Some(reason) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        ),
    }
}

fn metrics(state: &HttpState) -> Reply {
    let body = state.bot.metrics.render(&[
        (
            "async_norms_events_pending",
            "Events journaled and not yet handled.",
            state.intake.pending_len() as f64,
        ),
        (
            "async_norms_events_queued",
            "Events waiting for the worker in memory (bounded; the rest wait on disk).",
            state.intake.queued_len() as f64,
        ),
        (
            "async_norms_notes_waiting",
            "Calls to Slack (notes, reactions, thread replies) waiting in the outbox for their turn.",
            state.bot.outbox.len() as f64,
        ),
        (
            "async_norms_directory_members",
            "Member profiles known in memory (from users.list, team_join and user_change).",
            state.bot.directory.members_known() as f64,
        ),
    ]);
    reply(StatusCode::OK, crate::metrics::CONTENT_TYPE, body)
}

/// "Add to Slack" and Slack's redirect back; not found when the app is not distributed.
async fn install_route(state: &HttpState, path: &str, query: &str) -> Reply {
    let Some(distribution) = &state.distribution else {
        return text(
            StatusCode::NOT_FOUND,
            "not found: this bot serves one workspace (SLACK_BOT_TOKEN); set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and ASYNC_NORMS_REDIRECT_URL to let workspaces install it\n",
        );
    };
    let now = state.bot.clock.now().timestamp();
    let page = if path == "/slack/install" {
        distribution.install_page(now)
    } else {
        match distribution.redirect(query, now).await {
            Ok(installation) => {
                state.bot.welcome_installation(&installation);
                info!(scope = %installation.scope, org_wide = installation.is_enterprise_install, "the app was installed");
                crate::slack::oauth::installed_page(&installation)
            }
            Err(page) => page,
        }
    };
    reply(page.status, "text/html; charset=utf-8", page.html)
}

async fn slack_route(
    state: &HttpState,
    request: Request<Incoming>,
    path: &str,
    deadline: Instant,
) -> Reply {
    let (parts, body) = request.into_parts();
    let Some(secret) = &state.signing_secret else {
        state.bot.metrics.inc(Counter::SignatureRejections, &[]);
        return text(
            StatusCode::UNAUTHORIZED,
            "this bot runs in Socket Mode; its HTTP routes need SLACK_SIGNING_SECRET\n",
        );
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    // Refused before the body is read: a request without a fresh timestamp is not
    // Slack's, and must not hold a connection open while it trickles in a body.
    if let Err(e) = signature::check_headers_at(
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        chrono::Utc::now().timestamp(),
    ) {
        state.bot.metrics.inc(Counter::SignatureRejections, &[]);
        debug!(route = path, reason = %e, "request refused before its body: bad signature headers");
        return closing(text(StatusCode::UNAUTHORIZED, format!("{e}\n")));
    }
    let read = Limited::new(body, MAX_BODY_BYTES).collect();
    let body = match tokio::time::timeout_at(deadline, read).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(_)) => {
            return closing(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large or was cut off\n",
            ));
        }
        Err(_) => {
            return closing(text(
                StatusCode::REQUEST_TIMEOUT,
                "the request was not sent in time\n",
            ));
        }
    };
    if let Err(e) = signature::verify(
        secret,
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        &body,
    ) {
        state.bot.metrics.inc(Counter::SignatureRejections, &[]);
        warn!(route = path, reason = %e, "request refused: bad signature");
        return text(StatusCode::UNAUTHORIZED, format!("{e}\n"));
    }
    match path {
        "/slack/events" => {
            if let Some(retry) = header("x-slack-retry-num") {
                debug!(
                    retry,
                    reason = header("x-slack-retry-reason"),
                    "Slack redelivery"
                );
            }
            events(state, &body).await
        }
        "/slack/commands" => command(state, &body).await,
        _ => interactivity(state, &body).await,
    }
}

async fn events(state: &HttpState, body: &[u8]) -> Reply {
    let now = state.bot.clock.now().timestamp();
    match state.intake.accept_body(body, now).await {
        Ok(Intake::Challenge(challenge)) => json(
            StatusCode::OK,
            &serde_json::json!({ "challenge": challenge }),
        ),
        Ok(Intake::Accepted | Intake::Duplicate | Intake::Ignored(_) | Intake::Foreign) => {
            text(StatusCode::OK, "")
        }
        Err(IntakeError::Malformed(reason)) => text(StatusCode::BAD_REQUEST, format!("{reason}\n")),
        Err(IntakeError::Store(e)) => {
            // Not acknowledged, so Slack will deliver it again: nothing is lost. A failing
            // disk was logged once by the store; one line per refused event would only
            // repeat it.
            match e {
                StoreError::DiskRefused { .. } | StoreError::DiskStalled { .. } => {
                    debug!(error = %e, "event refused while the store fails; asking Slack to retry");
                }
                _ => warn!(error = %e, "could not journal an event; asking Slack to retry"),
            }
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the bot cannot store events right now; retry later\n",
            )
        }
    }
}

async fn command(state: &HttpState, body: &[u8]) -> Reply {
    let (event, scope) = match read_command_scoped(body) {
        Ok(read) => read,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let answer = commands::answer_within_deadline(state.bot.clone(), event, &scope).await;
    json(StatusCode::OK, &answer)
}

async fn interactivity(state: &HttpState, body: &[u8]) -> Reply {
    let (event, scope) = match read_interaction_scoped(body) {
        Ok(read) => read,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    match answer_interaction(state.bot.clone(), event, &scope).await {
        Some(body) => json(StatusCode::OK, &body),
        None => text(StatusCode::OK, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lasting_condition_is_logged_once_a_minute_with_the_count_since() {
        let start = Instant::now();
        let mut log = LogEvery::default();
        assert_eq!(log.occurred(start), Some(1), "the first time at once");
        for second in 1..60 {
            assert_eq!(log.occurred(start + Duration::from_secs(second)), None);
        }
        assert_eq!(log.occurred(start + Duration::from_secs(60)), Some(60));
    }

    #[test]
    fn failed_accepts_pause_longer_each_time_up_to_a_second_and_a_success_resets() {
        let mut backoff = AcceptBackoff::default();
        let pauses: Vec<u64> = (0..9)
            .map(|_| backoff.failed().as_millis() as u64)
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        backoff.succeeded();
        assert_eq!(backoff.failed(), ACCEPT_PAUSE_MIN);
    }
}

//! The HTTP listener: Slack's three routes, a health check and metrics. Every `/slack/*`
//! request is size-limited and signature-checked before anything reads it; bad input gets
//! a 4xx with a sentence, never a 500.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::intake::{EventIntake, Intake, IntakeError};
use super::payloads::{read_command, read_interaction};
use super::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::bot::{Bot, interaction_kind};
use crate::commands;
use crate::config::Secret;
use crate::metrics::Counter;
use crate::store::StoreError;

/// Slack's payloads are small; anything larger is not from Slack.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long shutdown waits for open requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What every request handler shares.
pub struct HttpState {
    pub bot: Arc<Bot>,
    pub intake: EventIntake,
    /// `None` in Socket Mode without a signing secret: then `/slack/*` is refused.
    pub signing_secret: Option<Secret>,
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
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves until `shutdown` is cancelled, then waits (a while) for open requests.
pub async fn serve(listener: TcpListener, state: Arc<HttpState>, shutdown: CancellationToken) {
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, _peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let state = state.clone();
        let service = service_fn(move |request| {
            let state = state.clone();
            async move { Ok::<_, std::convert::Infallible>(route(&state, request).await) }
        });
        let connection = http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "connection ended with an error");
            }
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

async fn route(state: &HttpState, request: Request<Incoming>) -> Reply {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let response = match (method, path.as_str()) {
        (Method::GET, "/healthz") => health(state),
        (Method::GET, "/metrics") => metrics(state),
        (Method::POST, "/slack/events" | "/slack/commands" | "/slack/interactivity") => {
            slack_route(state, request, &path).await
        }
        (
            _,
            "/healthz" | "/metrics" | "/slack/events" | "/slack/commands" | "/slack/interactivity",
        ) => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    let route_label = match path.as_str() {
        "/healthz" | "/metrics" | "/slack/events" | "/slack/commands" | "/slack/interactivity" => {
            path.as_str()
        }
        _ => "other",
    };
    state.bot.metrics.inc(
        Counter::HttpRequests,
        &[
            ("route", route_label),
            ("status", response.status().as_str()),
        ],
    );
    response
}

/// `ok` while the bot can do its job; a 503 with the reason while its store cannot make
/// events durable, so an orchestrator restarts it.
fn health(state: &HttpState) -> Reply {
    match state.bot.store.health() {
        Ok(()) => text(StatusCode::OK, "ok\n"),
        Err(failing) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{failing}\n")),
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
    ]);
    reply(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        body,
    )
}

async fn slack_route(state: &HttpState, request: Request<Incoming>, path: &str) -> Reply {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large or was cut off\n",
            );
        }
    };
    let Some(secret) = &state.signing_secret else {
        state.bot.metrics.inc(Counter::SignatureRejections, &[]);
        return text(
            StatusCode::UNAUTHORIZED,
            "this bot runs in Socket Mode; its HTTP routes need SLACK_SIGNING_SECRET\n",
        );
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
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
        Ok(Intake::Accepted | Intake::Duplicate | Intake::Ignored(_)) => text(StatusCode::OK, ""),
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
    let event = match read_command(body) {
        Ok(event) => event,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let answer = commands::answer_within_deadline(state.bot.clone(), event).await;
    json(StatusCode::OK, &answer)
}

async fn interactivity(state: &HttpState, body: &[u8]) -> Reply {
    let event = match read_interaction(body) {
        Ok(event) => event,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    state
        .bot
        .metrics
        .inc(Counter::Interactions, &[("type", interaction_kind(&event))]);
    match state.bot.handle_interaction(&event).await {
        Some(body) => json(StatusCode::OK, &body),
        None => text(StatusCode::OK, ""),
    }
}

//! Socket Mode: the bot dials out to Slack over a WebSocket instead of receiving HTTP.
//! slack-morphism runs the connection; its callbacks hand every envelope to the same
//! intake and handlers as the HTTP routes, so both transports behave the same.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection as Transport};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use tracing::warn;
use url::Url;

use super::intake::{EventIntake, IntakeError};
use crate::bot::Bot;
use crate::commands;
use crate::ids::TeamId;
use crate::secret::Secret;
use crate::server::interactions::answer_interaction;
use crate::slack::api::{HttpsOrHttp, client_through, https_or_http};
use crate::slack::installation::PayloadScope;

type Connector = SlackClientHyperConnector<Watched>;
type SocketClient = SlackClient<Connector>;

/// What the callbacks need; slack-morphism keeps it in its user-state map.
struct SocketState {
    bot: Arc<Bot>,
    intake: EventIntake,
    connection: Arc<Connection>,
}

/// Whether the Socket Mode connection is up: Slack said `hello` on it, and no connection
/// error came since (slack-morphism then reconnects, and the next `hello` says it is back).
#[derive(Debug, Default)]
pub(crate) struct Connection {
    up: std::sync::atomic::AtomicBool,
}

impl Connection {
    pub(crate) fn is_connected(&self) -> bool {
        self.up.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The connector of the Socket Mode listener's own Web API client. That client makes one
/// call, `apps.connections.open`, and slack-morphism makes it only when a WebSocket is gone:
/// at start, after a drop, and after a clean close, which tells the app nothing else. So
/// each connection it opens marks the Socket Mode connection down until Slack's next
/// `hello`; its connections are never reused, so every call opens one.
#[derive(Clone)]
pub(crate) struct Watched {
    inner: HttpsOrHttp,
    connection: Arc<Connection>,
}

type Connecting<T> =
    Pin<Box<dyn Future<Output = Result<T, Box<dyn std::error::Error + Send + Sync>>> + Send>>;

impl tower_service::Service<Uri> for Watched {
    type Response = OneUse<<HttpsOrHttp as tower_service::Service<Uri>>::Response>;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Connecting<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        self.connection.set(false);
        let connecting = self.inner.call(destination);
        Box::pin(async move { connecting.await.map(OneUse) })
    }
}

/// A transport the connection pool never hands out a second time.
pub(crate) struct OneUse<T>(T);

impl<T: Transport> Transport for OneUse<T> {
    fn connected(&self) -> Connected {
        let connected = self.0.connected();
        connected.poison();
        connected
    }
}

impl<T: Read + Unpin> Read for OneUse<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for OneUse<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

/// Slack's `hello` on a new connection: the connection is up.
async fn connected(states: SlackClientEventsUserState) {
    if let Some(state) = state_of(&states).await {
        if !state.connection.is_connected() {
            tracing::info!("Socket Mode connected");
        }
        state.connection.set(true);
    }
}

async fn state_of(states: &SlackClientEventsUserState) -> Option<Arc<SocketState>> {
    states
        .read()
        .await
        .get_user_state::<Arc<SocketState>>()
        .cloned()
}

async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<SocketClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let state = state_of(&states).await.ok_or("socket state missing")?;
    // slack-morphism keeps no `enterprise_id` of an event: a workspace of an org-wide
    // install is known here once an HTTP payload or a stored record named its organisation.
    if !state.intake.admits(&PayloadScope::of_team(
        &event.team_id.0,
        Some(&event.api_app_id.0),
    )) {
        return Ok(());
    }
    let raw = serde_json::to_vec(&event)?;
    let event_type = serde_json::to_value(&event.event)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    let now = state.bot.clock.now().timestamp();
    state
        .intake
        .accept_callback(
            &TeamId::new(event.team_id.0.clone()),
            &event.event_id.0,
            &event_type,
            &raw,
            now,
        )
        .await?;
    Ok(())
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SocketClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let state = state_of(&states).await.ok_or("socket state missing")?;
    let scope = PayloadScope::of_team(&event.team_id.0, None);
    Ok(commands::answer_within_deadline(state.bot.clone(), event, &scope).await)
}

/// Answered like the HTTP route; a modal's answer (its validation errors) or a picker's
/// options go back in the acknowledgement's payload, which slack-morphism sends when Slack
/// accepts one.
async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<SocketClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackInteractionResponse> {
    let state = state_of(&states).await.ok_or("socket state missing")?;
    let payload = serde_json::to_value(&event).unwrap_or_default();
    let scope = PayloadScope::of_json(&payload);
    let Some(answer) = answer_interaction(state.bot.clone(), event, &scope).await else {
        return Ok(SlackInteractionResponse::Empty);
    };
    match serde_json::from_value::<SlackInteractionResponse>(answer) {
        Ok(response) => Ok(response),
        Err(e) => {
            warn!(error = %e, "an interaction answer is neither a view submission response nor options; acknowledged without it");
            Ok(SlackInteractionResponse::Empty)
        }
    }
}

/// A failed callback is acknowledged (Slack would only send the same thing again), except
/// when the store could not keep the event: then no acknowledgement goes back and Slack
/// redelivers the envelope, as it retries an HTTP event answered 503.
fn on_error(
    err: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<SocketClient>,
    states: SlackClientEventsUserState,
) -> http::StatusCode {
    if let Some(SlackClientError::SocketModeProtocolError(_)) =
        err.downcast_ref::<SlackClientError>()
        && let Ok(states) = states.try_read()
        && let Some(state) = states.get_user_state::<Arc<SocketState>>()
    {
        // The connection broke; slack-morphism dials again, and its hello says so.
        state.connection.set(false);
    }
    if let Some(IntakeError::Store(_)) = err.downcast_ref::<IntakeError>() {
        // The store says why once, in its own log line.
        warn!("Socket Mode event not kept; left unacknowledged for Slack to redeliver");
        return http::StatusCode::SERVICE_UNAVAILABLE;
    }
    warn!(error = %err, "Socket Mode callback failed");
    http::StatusCode::OK
}

/// A running Socket Mode connection.
pub(crate) struct SocketMode {
    listener: SlackClientSocketModeListener<Connector>,
    pub(crate) connection: Arc<Connection>,
}

impl SocketMode {
    /// Opens the connection with the app-level token and starts receiving.
    pub(crate) async fn start(
        api_url: &Url,
        app_token: &Secret,
        bot: Arc<Bot>,
        intake: EventIntake,
    ) -> Result<Self, SlackClientError> {
        let connection = Arc::new(Connection::default());
        let client = Arc::new(client_through(
            Watched {
                inner: https_or_http(),
                connection: connection.clone(),
            },
            api_url,
        ));
        let environment = Arc::new(
            SlackClientEventsListenerEnvironment::new(client)
                .with_error_handler(on_error)
                .with_user_state(Arc::new(SocketState {
                    bot,
                    intake,
                    connection: connection.clone(),
                })),
        );
        let callbacks = SlackSocketModeListenerCallbacks::new()
            // slack-morphism does not export the hello event's type: a closure names it.
            .with_hello_events(|_hello, _client, states| connected(states))
            .with_push_events(on_push)
            .with_command_events(on_command)
            .with_interaction_events(on_interaction);
        let listener = SlackClientSocketModeListener::new(
            &SlackClientSocketModeConfig::new(),
            environment,
            callbacks,
        );
        listener
            .listen_for(&SlackApiToken::new(app_token.expose().into()))
            .await?;
        listener.start().await;
        Ok(Self {
            listener,
            connection,
        })
    }

    pub(crate) async fn stop(&self) {
        self.listener.shutdown().await;
    }
}

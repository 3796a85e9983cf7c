//! The one door for outgoing Slack Web API calls. Every call the bot makes goes through
//! [`TeamApi::call`], which keeps calls of one method and channel in order (a FIFO lane),
//! paces each method to its documented tier, waits out HTTP 429 for exactly `Retry-After`,
//! retries passing failures with backoff, counts everything, and logs every failure with
//! the method and channel. Nothing is dropped silently: a call that finally fails returns
//! an error that the caller must handle, and the log says so. The one exception is
//! [`check_token`], the doctor's single unpaced `auth.test`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use tokio::time::Instant;
use tracing::{error, warn};
use url::Url;

use crate::ids::TeamId;
use crate::metrics::{Counter, Histogram, Metrics};
use crate::secret::Secret;

pub(crate) type HttpsOrHttp = HttpsConnector<HttpConnector>;
pub(crate) type SlackHttpClient = SlackClient<SlackClientHyperConnector<HttpsOrHttp>>;

/// Builds slack-morphism's client for `api_url`. Its default connector is https-only; this
/// one also speaks plain http, so `SLACK_API_URL` may point at a local service.
pub(crate) fn build_client(api_url: &Url) -> Result<Arc<SlackHttpClient>, std::io::Error> {
    Ok(Arc::new(client_through(https_or_http(), api_url)))
}

/// slack-morphism's client for `api_url`, its connections made by `connector`.
pub(crate) fn client_through<H>(
    connector: H,
    api_url: &Url,
) -> SlackClient<SlackClientHyperConnector<H>>
where
    H: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    SlackClient::new(
        SlackClientHyperConnector::with_connector(connector).with_slack_api_url(api_url.as_str()),
    )
}

/// The connector every call to Slack goes through: https, and http for a local Web API.
pub(crate) fn https_or_http() -> HttpsOrHttp {
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    // Machines without a system certificate store still reach Slack through the bundled roots.
    let builder = match builder.with_native_roots() {
        Ok(native) => native,
        Err(_) => hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots(),
    };
    builder.https_or_http().enable_http1().build()
}

/// What `auth.test` says of a bot token, with the scopes Slack granted it.
#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub(crate) team: String,
    pub(crate) team_id: String,
    pub(crate) user: String,
    pub(crate) bot_id: Option<String>,
    /// From the `x-oauth-scopes` header Slack puts on every Web API answer; `None` without it.
    pub(crate) scopes: Option<Vec<String>>,
}

/// Calls `auth.test` once with `token`. slack-morphism hides the answer's headers, and the
/// granted scopes travel only there, so this one call is made by hand.
pub(crate) async fn check_token(api_url: &Url, token: &Secret) -> Result<TokenInfo, ApiError> {
    const METHOD: &str = "auth.test";
    let (headers, json) = post_form(api_url, METHOD, Some(token), &[]).await?;
    let scopes = headers
        .get("x-oauth-scopes")
        .and_then(|value| value.to_str().ok())
        .map(|list| {
            list.split(',')
                .map(|scope| scope.trim().to_string())
                .filter(|scope| !scope.is_empty())
                .collect()
        });
    let field = |name: &str| json[name].as_str().unwrap_or_default().to_string();
    if json["ok"] != true {
        return Err(ApiError::Refused {
            method: METHOD,
            code: field("error"),
        });
    }
    Ok(TokenInfo {
        team: field("team"),
        team_id: field("team_id"),
        user: field("user"),
        bot_id: json["bot_id"].as_str().map(str::to_string),
        scopes,
    })
}

/// One unpaced Web API call made by hand, a form POST, for what slack-morphism does not
/// give: the answer's headers (`auth.test`'s granted scopes) and the shapes it does not
/// read (`oauth.v2.access` of an org-wide install, which has no team).
pub(crate) async fn post_form(
    api_url: &Url,
    method: &'static str,
    token: Option<&Secret>,
    form: &[(&str, &str)],
) -> Result<(http::HeaderMap, serde_json::Value), ApiError> {
    use http_body_util::{BodyExt, Full};

    let unavailable = |detail: String| ApiError::Unavailable {
        method,
        attempts: 1,
        detail,
    };
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Full<bytes::Bytes>>(https_or_http());
    let mut request = http::Request::post(format!(
        "{}/{method}",
        api_url.as_str().trim_end_matches('/')
    ))
    .header("content-type", "application/x-www-form-urlencoded");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {}", token.expose()));
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let request = request
        .body(Full::new(bytes::Bytes::from(body)))
        .map_err(|e| unavailable(e.to_string()))?;
    let answer = tokio::time::timeout(Duration::from_secs(10), client.request(request))
        .await
        .map_err(|_| unavailable("no answer within 10 s".into()))?
        .map_err(|e| unavailable(e.to_string()))?;
    let status = answer.status();
    let headers = answer.headers().clone();
    let body = answer
        .into_body()
        .collect()
        .await
        .map_err(|e| unavailable(e.to_string()))?
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| unavailable(format!("HTTP {status} with a body that is not JSON")))?;
    Ok((headers, json))
}

/// Why a call did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ApiError {
    /// Slack understood and refused (`ok: false`); retrying would not help.
    #[error("Slack refused {method}: {code}")]
    Refused { method: &'static str, code: String },
    /// Slack could not be reached or kept failing; the message was not delivered.
    #[error("{method} failed after {attempts} attempts: {detail}")]
    Unavailable {
        method: &'static str,
        attempts: u32,
        detail: String,
    },
    /// Not sent: waiting for Slack's rate limit (or for Slack to come back) would have
    /// made it arrive after the deadline its caller gave.
    #[error("{method} not sent: it could not go out before its deadline")]
    Expired { method: &'static str },
}

impl ApiError {
    /// The Slack error code, for callers that treat some refusals as normal
    /// (`already_reacted`, `user_not_in_channel`).
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            ApiError::Refused { code, .. } => Some(code),
            ApiError::Unavailable { .. } | ApiError::Expired { .. } => None,
        }
    }
}

/// What `dnd.info` answers (the fields the bot reads; Unix seconds, 0 or absent for none).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(crate) struct DndInfo {
    #[serde(default)]
    pub(crate) dnd_enabled: bool,
    #[serde(default)]
    pub(crate) next_dnd_start_ts: i64,
    #[serde(default)]
    pub(crate) next_dnd_end_ts: i64,
    #[serde(default)]
    pub(crate) snooze_enabled: bool,
    #[serde(default)]
    pub(crate) snooze_endtime: i64,
}

/// How hard the bot pushes one method: a burst, then a steady rate (Slack's tiers).
#[derive(Debug, Clone, Copy)]
struct Pace {
    burst: f64,
    per_minute: f64,
}

const TIER_2: Pace = Pace {
    burst: 20.0,
    per_minute: 20.0,
};
const TIER_3: Pace = Pace {
    burst: 50.0,
    per_minute: 50.0,
};
const TIER_4: Pace = Pace {
    burst: 100.0,
    per_minute: 100.0,
};
/// chat.postMessage: about one message per second per channel, short bursts allowed.
const PER_CHANNEL_POST: Pace = Pace {
    burst: 5.0,
    per_minute: 60.0,
};
const WORKSPACE_POST: Pace = Pace {
    burst: 300.0,
    per_minute: 600.0,
};

/// `users.info` is Tier 4; a fifth of it is kept for members who asked something (a
/// command, a button), so their look-ups never queue behind those of busy channels.
const USERS_INFO_ASKED: Pace = Pace {
    burst: 20.0,
    per_minute: 20.0,
};
const USERS_INFO_REST: Pace = Pace {
    burst: 80.0,
    per_minute: 80.0,
};
/// A [`Share::Spare`] call leaves at least this part of its bucket's burst untouched, for
/// calls that wait their turn.
const SPARE_KEEPS: f64 = 0.5;

/// Which part of a method's rate a call spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Share {
    /// The method's budget, waiting for a turn when it is spent.
    Waited,
    /// `users.info` for someone who asked (a command, an interaction): its own reserved
    /// budget, with a lane of its own.
    Asked,
    /// Only what is spare at once (never the last half of the burst), without waiting:
    /// for bulk look-ups that may be skipped ([`ApiError::Expired`] when there is none).
    Spare,
    /// The method's budget for a read that a message's handling waits on (a mentioned
    /// member's profile or Do Not Disturb), waiting only when its turn comes within
    /// [`BRIEF_WAIT`] and skipped otherwise ([`ApiError::Expired`]): a burst of messages
    /// then never holds handlers, and the events behind them, at Slack's pace.
    Brief,
}

/// The longest a [`Share::Brief`] call waits for its turn.
pub(crate) const BRIEF_WAIT: Duration = Duration::from_secs(1);

fn method_pace(method: &str) -> Pace {
    match method {
        "users.info" => USERS_INFO_REST,
        "chat.postMessage" => WORKSPACE_POST,
        "users.list" | "conversations.list" | "usergroups.list" | "usergroups.users.list" => TIER_2,
        "conversations.info"
        | "conversations.history"
        | "conversations.open"
        | "chat.update"
        | "chat.scheduleMessage"
        | "reactions.add"
        | "dnd.info" => TIER_3,
        _ => TIER_4,
    }
}

/// The retry policy for failures that may pass (connection refused, HTTP 5xx).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub(crate) first_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // About two minutes of trying before a call is reported as failed.
        Self {
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            max_attempts: 10,
        }
    }
}

/// A token bucket that a 429 can also pause.
#[derive(Debug)]
struct Bucket {
    pace: Pace,
    tokens: f64,
    refilled_at: Instant,
    paused_until: Option<Instant>,
}

impl Bucket {
    fn new(pace: Pace, now: Instant) -> Self {
        Self {
            pace,
            tokens: pace.burst,
            refilled_at: now,
            paused_until: None,
        }
    }

    /// Reserves the next token and says how long to wait for it (zero: now). Tokens may
    /// be reserved ahead (the count goes below zero), so waiting callers are served in
    /// order and each knows its wait at once. With `max_wait`, a wait longer than that
    /// reserves nothing and gives `None`.
    fn reserve(&mut self, now: Instant, max_wait: Option<Duration>) -> Option<Duration> {
        let paused = match self.paused_until {
            Some(until) if until > now => until - now,
            _ => {
                self.paused_until = None;
                Duration::ZERO
            }
        };
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.pace.per_minute / 60.0).min(self.pace.burst);
        self.refilled_at = now;
        let for_token = if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) * 60.0 / self.pace.per_minute)
        };
        let wait = paused.max(for_token);
        if max_wait.is_some_and(|max| wait > max) {
            return None;
        }
        self.tokens -= 1.0;
        Some(wait)
    }
}

impl Bucket {
    /// How long from `now` until `n` more calls than those already waiting have had their
    /// turn and one more could start (`n` = 0: the next call), reserving nothing.
    fn turn_of(&self, now: Instant, n: usize) -> Duration {
        let paused = self
            .paused_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        let tokens = (self.tokens + elapsed * self.pace.per_minute / 60.0).min(self.pace.burst);
        let short = n as f64 + 1.0 - tokens;
        let for_tokens = if short <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(short * 60.0 / self.pace.per_minute)
        };
        paused.max(for_tokens)
    }

    /// Takes a token only if one is there now and [`SPARE_KEEPS`] of the burst stays.
    fn reserve_spare(&mut self, now: Instant) -> bool {
        if self.paused_until.is_some_and(|until| until > now) {
            return false;
        }
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.pace.per_minute / 60.0).min(self.pace.burst);
        self.refilled_at = now;
        if self.tokens - 1.0 < self.pace.burst * SPARE_KEEPS {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// How a team is served: with its own installation's token, or through its organisation's
/// org-wide install.
enum Served {
    Own(Arc<TeamApi>),
    Through(TeamId),
}

/// The Web API of every installed workspace: each team's bot token, with its own lanes
/// and rate limits, so one workspace held up by Slack's limits never slows another.
/// Cheap to share behind an `Arc`.
pub(crate) struct SlackApi {
    client: Arc<SlackHttpClient>,
    metrics: Arc<Metrics>,
    retry: RetryPolicy,
    teams: RwLock<HashMap<TeamId, Served>>,
    /// With `SLACK_BOT_TOKEN` alone: the one workspace's door, also used for payloads that
    /// name its organisation rather than the team.
    single: Option<Arc<TeamApi>>,
}

impl SlackApi {
    /// No workspace yet: teams are added as they install the app ([`SlackApi::add_team`]).
    pub(crate) fn new(client: Arc<SlackHttpClient>, metrics: Arc<Metrics>) -> Self {
        Self {
            client,
            metrics,
            retry: RetryPolicy::default(),
            teams: RwLock::new(HashMap::new()),
            single: None,
        }
    }

    /// One workspace with one bot token (`SLACK_BOT_TOKEN`): every team this bot hears of
    /// is served with it.
    pub(crate) fn single(
        client: Arc<SlackHttpClient>,
        bot_token: &Secret,
        metrics: Arc<Metrics>,
    ) -> Self {
        let mut api = Self::new(client, metrics);
        api.single = Some(Arc::new(api.door(Some(bot_token))));
        api
    }

    fn door(&self, token: Option<&Secret>) -> TeamApi {
        TeamApi {
            token_gone: Default::default(),
            client: self.client.clone(),
            token: token.map(|token| SlackApiToken::new(token.expose().into())),
            metrics: self.metrics.clone(),
            retry: self.retry,
            lanes: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Serves `team` (a workspace, or an organisation for an org-wide install) with
    /// `bot_token` from now on; a new install replaces the old token and its limits.
    pub(crate) fn add_team(&self, team: TeamId, bot_token: &Secret) {
        let door = Arc::new(self.door(Some(bot_token)));
        self.teams
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(team, Served::Own(door));
    }

    /// Serves workspace `team` with the token of `org`'s org-wide install, through the
    /// same door (its lanes and limits).
    pub(crate) fn serve_workspace(&self, team: &TeamId, org: &TeamId) {
        self.teams
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(team.clone(), Served::Through(org.clone()));
    }

    /// Stops serving `team` (uninstalled, or its token revoked); for an organisation, its
    /// workspaces too.
    pub(crate) fn remove_team(&self, team: &TeamId) {
        let mut teams = self.teams.write().unwrap_or_else(|p| p.into_inner());
        if let Some(Served::Own(_)) = teams.remove(team) {
            teams.retain(|_, served| !matches!(served, Served::Through(org) if org == team));
        }
    }

    /// Whether Slack said `SLACK_BOT_TOKEN` no longer works (single-workspace mode).
    pub(crate) fn single_token_gone(&self) -> bool {
        self.single
            .as_ref()
            .is_some_and(|door| door.token_gone.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The door of `SLACK_BOT_TOKEN`, in single-workspace mode.
    pub(crate) fn single_team(&self) -> Option<Arc<TeamApi>> {
        self.single.clone()
    }

    /// The Web API as `team`'s bot. A team with no token here gets a door whose every call
    /// is refused with `not_installed`, without reaching Slack.
    pub(crate) fn team(&self, team: &TeamId) -> Arc<TeamApi> {
        let teams = self.teams.read().unwrap_or_else(|p| p.into_inner());
        let own = match teams.get(team) {
            Some(Served::Through(org)) => teams.get(org),
            served => served,
        };
        if let Some(Served::Own(door)) = own {
            return door.clone();
        }
        match &self.single {
            Some(single) => single.clone(),
            None => Arc::new(self.door(None)),
        }
    }
}

/// Slack's answers that mean the token no longer works (revoked, app uninstalled, account
/// gone): the bot is then not ready until it is given a working one.
const TOKEN_GONE: [&str; 4] = [
    "token_revoked",
    "invalid_auth",
    "account_inactive",
    "not_authed",
];

/// The Web API as one workspace's bot, paced and retried.
pub(crate) struct TeamApi {
    /// Set once Slack said the token no longer works.
    token_gone: std::sync::atomic::AtomicBool,
    client: Arc<SlackHttpClient>,
    /// `None` for a team not installed here.
    token: Option<SlackApiToken>,
    metrics: Arc<Metrics>,
    retry: RetryPolicy,
    lanes: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl TeamApi {
    fn lane(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        if lanes.len() > 10_000 {
            // Forget idle lanes so a long-running bot does not keep one per channel ever seen.
            lanes.retain(|_, lane| Arc::strong_count(lane) > 1);
        }
        lanes.entry(key.to_string()).or_default().clone()
    }

    /// Waits for a token of every bucket named; gives up, reserving nothing, when the wait
    /// would end after `deadline`.
    async fn pace(
        &self,
        buckets: &[(String, Pace)],
        deadline: Option<Instant>,
        share: Share,
    ) -> Result<(), ()> {
        if share == Share::Spare {
            let mut all = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let [(key, pace)] = buckets else {
                return Err(());
            };
            let bucket = all
                .entry(key.clone())
                .or_insert_with(|| Bucket::new(*pace, now));
            return if bucket.reserve_spare(now) {
                Ok(())
            } else {
                Err(())
            };
        }
        let wait = {
            let mut all = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let max_wait = deadline.map(|deadline| deadline.saturating_duration_since(now));
            let mut longest = Duration::ZERO;
            for (index, (key, pace)) in buckets.iter().enumerate() {
                let bucket = all
                    .entry(key.clone())
                    .or_insert_with(|| Bucket::new(*pace, now));
                match bucket.reserve(now, max_wait) {
                    Some(wait) => longest = longest.max(wait),
                    None => {
                        for (key, _) in &buckets[..index] {
                            if let Some(bucket) = all.get_mut(key) {
                                bucket.tokens += 1.0;
                            }
                        }
                        return Err(());
                    }
                }
            }
            longest
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        // A 429 that came while this call waited pauses it too.
        loop {
            let paused = self.paused_for(buckets);
            if paused.is_zero() {
                return Ok(());
            }
            if too_late(paused, deadline) {
                return Err(());
            }
            tokio::time::sleep(paused).await;
        }
    }

    /// How long the longest pause among these buckets still lasts.
    /// How long from now until the `n`-th call of `method` (0: the next) could start at the
    /// method's pace, after the calls already waiting for it and if nothing else spends it:
    /// the sender drops what cannot start before its deadline.
    pub(crate) fn turn_of(&self, method: &str, n: usize) -> Duration {
        let all = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match all.get(method) {
            Some(bucket) => bucket.turn_of(now, n),
            None => Bucket::new(method_pace(method), now).turn_of(now, n),
        }
    }

    fn paused_for(&self, buckets: &[(String, Pace)]) -> Duration {
        let all = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        buckets
            .iter()
            .filter_map(|(key, _)| all.get(key)?.paused_until)
            .map(|until| until.saturating_duration_since(now))
            .max()
            .unwrap_or_default()
    }

    /// Gives back the tokens one attempt took.
    fn refund(&self, buckets: &[(String, Pace)]) {
        let mut all = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        for (key, pace) in buckets {
            if let Some(bucket) = all.get_mut(key) {
                bucket.tokens = (bucket.tokens + 1.0).min(pace.burst);
            }
        }
    }

    fn pause(&self, key: &str, pace: Pace, for_how_long: Duration) {
        let mut all = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let bucket = all
            .entry(key.to_string())
            .or_insert_with(|| Bucket::new(pace, now));
        bucket.paused_until = Some(now + for_how_long);
    }

    /// Makes one Web API call through its lane. `op` is called once per attempt.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        method: &'static str,
        channel: Option<&str>,
        op: F,
    ) -> Result<T, ApiError>
    where
        F: Fn(Arc<SlackHttpClient>, SlackApiToken) -> Fut,
        Fut: Future<Output = Result<T, SlackClientError>>,
    {
        self.call_before(method, channel, None, op).await
    }

    /// [`call`](Self::call), given up with [`ApiError::Expired`] when it cannot start an
    /// attempt before `deadline` (pacing, pauses and backoff included).
    pub(crate) async fn call_before<T, F, Fut>(
        &self,
        method: &'static str,
        channel: Option<&str>,
        deadline: Option<Instant>,
        op: F,
    ) -> Result<T, ApiError>
    where
        F: Fn(Arc<SlackHttpClient>, SlackApiToken) -> Fut,
        Fut: Future<Output = Result<T, SlackClientError>>,
    {
        self.call_shared(method, channel, deadline, Share::Waited, op)
            .await
    }

    /// [`call_before`](Self::call_before), spending `share` of the method's rate.
    async fn call_shared<T, F, Fut>(
        &self,
        method: &'static str,
        channel: Option<&str>,
        deadline: Option<Instant>,
        share: Share,
        op: F,
    ) -> Result<T, ApiError>
    where
        F: Fn(Arc<SlackHttpClient>, SlackApiToken) -> Fut,
        Fut: Future<Output = Result<T, SlackClientError>>,
    {
        // A `response_url` carries its own authority; every other method needs the token.
        let token = match (&self.token, method) {
            (Some(token), _) => token.clone(),
            (None, "response_url") => SlackApiToken::new(String::new().into()),
            (None, _) => {
                return Err(ApiError::Refused {
                    method,
                    code: "not_installed".into(),
                });
            }
        };
        let (lane_key, method_bucket, method_pace) = match share {
            Share::Waited => (
                format!("{method}#{}", channel.unwrap_or("")),
                method.to_string(),
                method_pace(method),
            ),
            Share::Asked => (
                format!("{method}#!asked"),
                format!("{method}!asked"),
                USERS_INFO_ASKED,
            ),
            // A lane of its own: a spare call is never held up behind waiting ones.
            Share::Spare => (
                format!("{method}#!spare"),
                method.to_string(),
                method_pace(method),
            ),
            Share::Brief => (
                format!("{method}#!brief"),
                method.to_string(),
                method_pace(method),
            ),
        };
        let deadline = match share {
            Share::Brief => {
                let brief = Instant::now() + BRIEF_WAIT;
                Some(deadline.map_or(brief, |deadline| deadline.min(brief)))
            }
            _ => deadline,
        };
        let lane = self.lane(&lane_key);
        // Holding the lane for the whole call, retries included, keeps one channel's
        // messages in the order they were sent.
        let _in_order = match deadline {
            Some(deadline) if share == Share::Brief => {
                tokio::time::timeout_at(deadline, lane.lock())
                    .await
                    .map_err(|_| ApiError::Expired { method })?
            }
            _ => lane.lock().await,
        };
        let mut buckets = vec![(method_bucket, method_pace)];
        if method == "chat.postMessage" && channel.is_some() {
            buckets.push((lane_key.clone(), PER_CHANNEL_POST));
        }
        let mut attempts = 0;
        let mut backoff = self.retry.first_backoff;
        loop {
            if too_late(Duration::ZERO, deadline)
                || self.pace(&buckets, deadline, share).await.is_err()
            {
                return Err(ApiError::Expired { method });
            }
            attempts += 1;
            self.metrics
                .inc(Counter::SlackApiCalls, &[("method", method)]);
            let started = std::time::Instant::now();
            let outcome = op(self.client.clone(), token.clone()).await;
            self.metrics.observe(
                Histogram::SlackApi,
                &[("method", method)],
                started.elapsed().as_secs_f64(),
            );
            let failure = match outcome {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            match failure {
                SlackClientError::RateLimitError(limit) => {
                    // Slack's limit is per method and workspace: pause the whole method.
                    let wait = limit.retry_after.unwrap_or(Duration::from_secs(1));
                    self.metrics
                        .inc(Counter::SlackApiRateLimited, &[("method", method)]);
                    warn!(
                        method,
                        channel,
                        retry_after_s = wait.as_secs_f64(),
                        "Slack rate limit; waiting as asked"
                    );
                    self.pause(method, method_pace, wait);
                    if buckets[0].0 != method {
                        self.pause(&buckets[0].0, buckets[0].1, wait);
                    }
                    // A 429 is not a failure of ours: it does not use up attempts.
                    attempts -= 1;
                }
                SlackClientError::ApiError(refusal) => {
                    let code = refusal.code.clone();
                    if TOKEN_GONE.contains(&code.as_str()) {
                        self.token_gone
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    self.metrics.inc(
                        Counter::SlackApiErrors,
                        &[("method", method), ("error", &code)],
                    );
                    warn!(method, channel, error = %code, "Slack refused the call");
                    return Err(ApiError::Refused { method, code });
                }
                other => {
                    let detail = other.to_string();
                    let retryable = is_passing(&other);
                    if !retryable || attempts >= self.retry.max_attempts {
                        self.metrics.inc(
                            Counter::SlackApiErrors,
                            &[("method", method), ("error", "unavailable")],
                        );
                        error!(method, channel, attempts, error = %detail, "Slack call failed; not delivered");
                        return Err(ApiError::Unavailable {
                            method,
                            attempts,
                            detail,
                        });
                    }
                    warn!(method, channel, attempts, error = %detail, backoff_ms = backoff.as_millis() as u64, "Slack call failed; retrying");
                    // A call that failed this way was not served: it does not count against
                    // the rate limit, or an outage would leave nothing to spend once it ends.
                    self.refund(&buckets);
                    if too_late(backoff, deadline) {
                        return Err(ApiError::Expired { method });
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.retry.max_backoff);
                }
            }
        }
    }
}

/// Whether waiting `wait` from now would pass `deadline`.
fn too_late(wait: Duration, deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| Instant::now() + wait > deadline)
}

/// Failures that may pass by themselves: the network, and Slack's own 5xx.
fn is_passing(failure: &SlackClientError) -> bool {
    match failure {
        SlackClientError::HttpError(http) => http.status_code.is_server_error(),
        SlackClientError::HttpProtocolError(_) | SlackClientError::SystemError(_) => true,
        _ => false,
    }
}

/// One method of the Web API as a typed call through [`SlackApi::call`].
macro_rules! web_api_method {
    ($(#[$doc:meta])* $fn_name:ident, $method:literal, $request:ty, $response:ty, $session_fn:ident, $channel:expr) => {
        $(#[$doc])*
        pub(crate) async fn $fn_name(&self, request: $request) -> Result<$response, ApiError> {
            let channel: Option<String> = ($channel)(&request);
            self.call($method, channel.as_deref(), |client, token| {
                let request = request.clone();
                async move { client.open_session(&token).$session_fn(&request).await }
            })
            .await
        }
    };
}

fn no_channel<T>(_: &T) -> Option<String> {
    None
}

impl TeamApi {
    web_api_method!(
        /// `chat.postMessage`.
        post_message, "chat.postMessage", SlackApiChatPostMessageRequest, SlackApiChatPostMessageResponse,
        chat_post_message, |r: &SlackApiChatPostMessageRequest| Some(r.channel.to_string())
    );
    web_api_method!(
        /// `chat.update`.
        update_message, "chat.update", SlackApiChatUpdateRequest, SlackApiChatUpdateResponse,
        chat_update, |r: &SlackApiChatUpdateRequest| Some(r.channel.to_string())
    );
    web_api_method!(
        /// `bots.info`: the app a bot belongs to.
        bots_info, "bots.info", SlackApiBotsInfoRequest, SlackApiBotsInfoResponse, bots_info, no_channel
    );
    web_api_method!(
        /// `users.list` (one page): every member with profile, zone and admin flags.
        users_list, "users.list", SlackApiUsersListRequest, SlackApiUsersListResponse, users_list, no_channel
    );
    web_api_method!(
        /// `usergroups.list`: the workspace's user groups, with their handles.
        usergroups_list, "usergroups.list", SlackApiUserGroupsListRequest,
        SlackApiUserGroupsListResponse, usergroups_list, no_channel
    );
    web_api_method!(
        /// `usergroups.users.list`: the members of one user group.
        usergroups_users_list, "usergroups.users.list", SlackApiUserGroupsUsersListRequest,
        SlackApiUserGroupsUsersListResponse, usergroups_users_list, no_channel
    );
    web_api_method!(
        /// `conversations.members` (one page).
        conversations_members, "conversations.members", SlackApiConversationsMembersRequest,
        SlackApiConversationsMembersResponse, conversations_members, no_channel
    );
    web_api_method!(
        /// `conversations.history` (one page).
        conversations_history, "conversations.history", SlackApiConversationsHistoryRequest,
        SlackApiConversationsHistoryResponse, conversations_history, no_channel
    );
    web_api_method!(
        /// `conversations.open`: the DM channel with a member.
        conversations_open, "conversations.open", SlackApiConversationsOpenRequest,
        SlackApiConversationsOpenResponse<SlackBasicChannelInfo>, conversations_open, no_channel
    );
    web_api_method!(
        /// `reactions.add`.
        reactions_add, "reactions.add", SlackApiReactionsAddRequest, SlackApiReactionsAddResponse,
        reactions_add, |r: &SlackApiReactionsAddRequest| Some(r.channel.to_string())
    );
    web_api_method!(
        /// `views.open`: a modal.
        views_open, "views.open", SlackApiViewsOpenRequest, SlackApiViewsOpenResponse, views_open, no_channel
    );
    web_api_method!(
        /// `views.publish`: the App Home of one member.
        views_publish, "views.publish", SlackApiViewsPublishRequest, SlackApiViewsPublishResponse,
        views_publish, no_channel
    );

    /// `chat.postEphemeral`: a note only `user` sees, sent only if it can go out before
    /// `deadline` ([`ApiError::Expired`] otherwise).
    pub(crate) async fn post_ephemeral_before(
        &self,
        request: SlackApiChatPostEphemeralRequest,
        deadline: Instant,
    ) -> Result<SlackApiChatPostEphemeralResponse, ApiError> {
        let channel = request.channel.to_string();
        self.call_before(
            "chat.postEphemeral",
            Some(&channel),
            Some(deadline),
            |client, token| {
                let request = request.clone();
                async move {
                    client
                        .open_session(&token)
                        .chat_post_ephemeral(&request)
                        .await
                }
            },
        )
        .await
    }

    /// `users.info`: profile, time zone, admin flags; spending `share` of its rate.
    pub(crate) async fn users_info(
        &self,
        request: SlackApiUsersInfoRequest,
        share: Share,
    ) -> Result<SlackApiUsersInfoResponse, ApiError> {
        self.call_shared("users.info", None, None, share, |client, token| {
            let request = request.clone();
            async move { client.open_session(&token).users_info(&request).await }
        })
        .await
    }

    /// `dnd.info`: a member's Do Not Disturb settings, spending `share` of its rate.
    /// slack-morphism has no typed method for it; the call goes through its session's
    /// generic GET, paced, retried and counted like every other.
    pub(crate) async fn dnd_info(&self, user: &str, share: Share) -> Result<DndInfo, ApiError> {
        self.call_shared("dnd.info", None, None, share, |client, token| {
            let params = vec![("user", Some(user.to_string()))];
            async move {
                client
                    .open_session(&token)
                    .http_session_api
                    .http_get("dnd.info", &params, None)
                    .await
            }
        })
        .await
    }

    /// `auth.test`: who the bot is.
    pub(crate) async fn auth_test(&self) -> Result<SlackApiAuthTestResponse, ApiError> {
        self.call("auth.test", None, |client, token| async move {
            client.open_session(&token).auth_test().await
        })
        .await
    }

    /// Answers a slash command or interaction later, through its `response_url`.
    pub(crate) async fn respond(
        &self,
        response_url: &SlackResponseUrl,
        message: SlackApiPostWebhookMessageRequest,
    ) -> Result<(), ApiError> {
        self.call("response_url", None, |client, _token| {
            let message = message.clone();
            let response_url = response_url.clone();
            async move {
                client
                    .respond_to_event(&response_url, &message)
                    .await
                    .map(|_| ())
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_PER_SECOND: Pace = Pace {
        burst: 2.0,
        per_minute: 60.0,
    };

    #[test]
    fn tokens_are_reserved_in_turn_and_a_wait_past_the_limit_reserves_nothing() {
        let now = Instant::now();
        let mut bucket = Bucket::new(ONE_PER_SECOND, now);
        let secs = |wait: Option<Duration>| wait.map(|w| w.as_secs_f64().round() as u64);
        assert_eq!(secs(bucket.reserve(now, None)), Some(0));
        assert_eq!(secs(bucket.reserve(now, None)), Some(0));
        assert_eq!(
            secs(bucket.reserve(now, None)),
            Some(1),
            "the burst is spent"
        );
        assert_eq!(
            secs(bucket.reserve(now, None)),
            Some(2),
            "behind the one waiting"
        );
        let limit = Some(Duration::from_millis(2_500));
        assert_eq!(bucket.reserve(now, limit), None, "3 s is past the limit");
        assert_eq!(
            secs(bucket.reserve(now, None)),
            Some(3),
            "the refused one took nothing"
        );
        // Four seconds later every reservation has come due and one token is back.
        let later = now + Duration::from_secs(4);
        assert_eq!(secs(bucket.reserve(later, None)), Some(0));
    }

    fn two_teams() -> (SlackApi, TeamId, TeamId) {
        let url = Url::parse("http://127.0.0.1:9").expect("url");
        let client = build_client(&url).expect("client");
        let api = SlackApi::new(client, Arc::new(Metrics::new()));
        let (one, two) = (TeamId::new("T1"), TeamId::new("T2"));
        api.add_team(one.clone(), &Secret::new("xoxb-one"));
        api.add_team(two.clone(), &Secret::new("xoxb-two"));
        (api, one, two)
    }

    #[test]
    fn each_team_has_its_token_and_its_own_rate_limits() {
        let (api, one, two) = two_teams();
        let token = |team: &TeamId| api.team(team).token.clone().map(|t| t.token_value.0);
        assert_eq!(token(&one).as_deref(), Some("xoxb-one"));
        assert_eq!(token(&two).as_deref(), Some("xoxb-two"));
        let post = [("chat.postMessage".to_string(), WORKSPACE_POST)];
        api.team(&one)
            .pause("chat.postMessage", WORKSPACE_POST, Duration::from_secs(30));
        assert!(api.team(&one).paused_for(&post) > Duration::from_secs(29));
        assert_eq!(api.team(&two).paused_for(&post), Duration::ZERO);
        // A new install replaces the token (and starts with fresh limits).
        api.add_team(one.clone(), &Secret::new("xoxb-again"));
        assert_eq!(token(&one).as_deref(), Some("xoxb-again"));
        assert_eq!(api.team(&one).paused_for(&post), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_team_not_installed_is_refused_without_calling_slack() {
        let (api, one, _) = two_teams();
        api.remove_team(&one);
        let refused = api.team(&one).auth_test().await.expect_err("not installed");
        assert_eq!(refused.code(), Some("not_installed"));
        let stranger = api.team(&TeamId::new("T9")).auth_test().await;
        assert_eq!(stranger.expect_err("unknown").code(), Some("not_installed"));
        assert_eq!(
            api.metrics
                .value(Counter::SlackApiCalls, &[("method", "auth.test")]),
            0
        );
    }

    #[test]
    fn one_bot_token_serves_every_team() {
        let url = Url::parse("http://127.0.0.1:9").expect("url");
        let api = SlackApi::single(
            build_client(&url).expect("client"),
            &Secret::new("xoxb-only"),
            Arc::new(Metrics::new()),
        );
        for team in ["T1", "E1"] {
            let door = api.team(&TeamId::new(team));
            assert_eq!(
                door.token.clone().map(|t| t.token_value.0).as_deref(),
                Some("xoxb-only")
            );
        }
    }

    #[test]
    fn a_calls_turn_is_told_without_reserving_it() {
        let now = Instant::now();
        let mut bucket = Bucket::new(ONE_PER_SECOND, now);
        let secs = |wait: Duration| wait.as_secs_f64().round() as u64;
        assert_eq!(secs(bucket.turn_of(now, 0)), 0);
        assert_eq!(secs(bucket.turn_of(now, 1)), 0, "the burst holds two");
        assert_eq!(secs(bucket.turn_of(now, 4)), 3);
        assert_eq!(secs(bucket.turn_of(now, 4)), 3, "telling took nothing");
        bucket.reserve(now, None);
        bucket.reserve(now, None);
        bucket.reserve(now, None);
        assert_eq!(secs(bucket.turn_of(now, 0)), 2, "behind the one waiting");
        assert_eq!(secs(bucket.turn_of(now + Duration::from_secs(2), 0)), 0);
        bucket.paused_until = Some(now + Duration::from_secs(30));
        assert_eq!(secs(bucket.turn_of(now, 0)), 30, "a 429's pause first");
    }

    #[test]
    fn a_pause_delays_even_a_full_bucket() {
        let now = Instant::now();
        let mut bucket = Bucket::new(ONE_PER_SECOND, now);
        bucket.paused_until = Some(now + Duration::from_secs(30));
        assert_eq!(bucket.reserve(now, None).map(|w| w.as_secs()), Some(30));
        assert_eq!(bucket.reserve(now, Some(Duration::from_secs(10))), None);
        let after = now + Duration::from_secs(31);
        assert_eq!(bucket.reserve(after, None), Some(Duration::ZERO));
    }
}

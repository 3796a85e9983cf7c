//! Wiring: opens the store, meets Slack (auth.test), starts the worker, the HTTP listener
//! and, when configured, Socket Mode; and takes them down in order on shutdown: stop
//! accepting, finish what is in flight, flush the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use slack_morphism::prelude::SlackApiBotsInfoRequest;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::bot::Bot;
use crate::bot::worker::{Worker, event_queue};
use crate::clock::Clock;
use crate::config::{ServeConfig, Transport};
use crate::ids::{TeamId, UserId};
use crate::metrics::Metrics;
use crate::server::intake::EventIntake;
use crate::server::socket::SocketMode;
use crate::server::{self, HttpState, ListenerLimits, Routes};
use crate::slack::api::{ApiError, SlackApi, build_client};
use crate::slack::installation::Installations;
use crate::slack::messages::BotIdentity;
use crate::slack::oauth::{Distribution, InstallationStore};
use crate::store::Store;
use crate::store::journal::EventJournal;

/// How long shutdown waits for the last task holding the store to let go.
const STORE_RELEASE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often handled event ids of past hours are forgotten.
const FORGET_EVENTS_EVERY: Duration = Duration::from_secs(10 * 60);

/// A started bot. Dropping it does not stop it: call [`RunningBot::shutdown`].
pub struct RunningBot {
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    shutdown: CancellationToken,
    done: JoinHandle<anyhow::Result<()>>,
    store_closed: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

impl RunningBot {
    /// The address the HTTP listener is bound to (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the admin listener (`/metrics`), when one is configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// A token that stops the bot when cancelled (signal handlers hold one).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, finishes in-flight work, flushes the store.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the bot has stopped (after its token is cancelled) and its data folder
    /// is released, so a new bot may open it in this process.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.done.await.context("the bot's main task failed")??;
        if tokio::time::timeout(STORE_RELEASE_TIMEOUT, self.store_closed)
            .await
            .is_err()
        {
            warn!("the store is still held by a task after shutdown");
        }
        Ok(())
    }
}

/// Starts the bot with `config`, reading time from `clock`.
pub async fn start(config: ServeConfig, clock: Arc<dyn Clock>) -> anyhow::Result<RunningBot> {
    let store = Store::open(&config.data_dir)?;
    let store_closed = Box::pin(store.closed());
    let journal = store.event_journal()?;
    let metrics = Arc::new(Metrics::new());
    let client = build_client(&config.api_url).context("cannot set up the HTTPS client")?;
    // With SLACK_BOT_TOKEN alone, one workspace; with OAuth, the installations (and the
    // token's workspace among them, when both are given).
    let slack = match (&config.bot_token, &config.oauth) {
        (Some(token), None) => SlackApi::single(client.clone(), token, metrics.clone()),
        _ => SlackApi::new(client.clone(), metrics.clone()),
    };
    let me = match &config.bot_token {
        Some(token) => {
            Some(meet_slack(&config, &slack, token, client.clone(), metrics.clone()).await?)
        }
        None => None,
    };
    let installations = Arc::new(match &me {
        Some(me) if config.oauth.is_none() => {
            Installations::single(me.team.clone(), me.app_id.clone())
        }
        Some(me) => {
            let installed = Installations::distributed(me.app_id.clone());
            installed.install(me.team.clone());
            installed
        }
        None => Installations::distributed(None),
    });
    let distribution = match &config.oauth {
        Some(settings) => Some(Arc::new(Distribution {
            installations: InstallationStore::open(&store, settings.encryption_key.as_ref())?,
            settings: settings.clone(),
            api_url: config.api_url.clone(),
        })),
        None => None,
    };
    let identity = me.as_ref().map_or_else(
        || BotIdentity {
            user_id: UserId::new(""),
            bot_id: None,
        },
        |me| me.identity.clone(),
    );
    let bot = Arc::new(Bot {
        store: store.clone(),
        slack,
        clock: clock.clone(),
        metrics: metrics.clone(),
        identity,
        default_tz: config.default_tz,
        directory: Default::default(),
        groups: Default::default(),
        reminder_signal: Default::default(),
        lexicons: Default::default(),
        checkins: Default::default(),
        installations: installations.clone(),
        outbox: store.outbox()?,
    });
    if let Some(distribution) = &distribution {
        let stored = distribution
            .installations
            .all()
            .context("cannot read the stored installations")?;
        for installation in &stored {
            bot.serve_installation(installation);
        }
        let org_workspaces = bot
            .serve_stored_workspaces()
            .context("cannot read the workspaces of org-wide installs")?;
        info!(
            installations = stored.len(),
            org_workspaces, "serving the workspaces that installed the app"
        );
    }
    if let (Some(me), Some(token)) = (&me, &config.bot_token)
        && config.oauth.is_some()
    {
        bot.slack.add_team(me.team.clone(), token);
    }

    let (queue, queue_rx) = event_queue();
    // Events journaled before a crash or a shutdown are handled first.
    let leftover = journal.pending_len();
    if leftover > 0 {
        info!(
            events = leftover,
            "handling events journaled before the last stop"
        );
        queue.look_in_journal();
    }
    let intake = EventIntake::new(
        bot.clone(),
        store.clone(),
        journal.clone(),
        queue,
        metrics.clone(),
        installations,
    );
    let shutdown = CancellationToken::new();
    let worker = Worker {
        bot: bot.clone(),
        journal: journal.clone(),
        queue: queue_rx,
        set_aside: store.set_aside()?,
        shutdown: shutdown.clone(),
    };

    let listener = server::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (ASYNC_NORMS_LISTEN)", config.listen))?;
    let addr = listener.local_addr()?;
    let admin_listener = match config.admin_listen {
        Some(admin) => Some(
            server::bind(admin)
                .await
                .with_context(|| format!("cannot listen on {admin} (ASYNC_NORMS_ADMIN_LISTEN)"))?,
        ),
        None => None,
    };
    let admin_addr = admin_listener
        .as_ref()
        .map(|listener| listener.local_addr())
        .transpose()?;
    let limits = ListenerLimits {
        request_deadline: config.request_deadline,
        max_connections: config.max_connections,
    };
    let socket = match &config.transport {
        Transport::SocketMode { app_token, .. } => Some(
            SocketMode::start(&config.api_url, app_token, bot.clone(), intake.clone())
                .await
                .context("cannot open Socket Mode (SLACK_APP_TOKEN)")?,
        ),
        Transport::Http { .. } => None,
    };
    let checkin_runner = crate::bot::checkins::runner::run(bot.clone(), shutdown.clone());
    let directory = keep_directory(bot.clone(), shutdown.clone());
    let digests = crate::bot::digest::run(bot.clone(), shutdown.clone());
    let retention = crate::bot::privacy::run_retention(bot.clone(), shutdown.clone());
    let reminders = crate::bot::reminders::run(bot.clone(), shutdown.clone());
    let sender = crate::bot::sender::run(bot.clone(), shutdown.clone());
    let state = Arc::new(HttpState {
        bot,
        intake,
        signing_secret: config.signing_secret().cloned(),
        socket: socket.as_ref().map(|socket| socket.connection.clone()),
        distribution,
    });

    let token = shutdown.clone();
    let done = tokio::spawn(async move {
        let public = Routes::Public {
            metrics: admin_listener.is_none(),
        };
        let admin = admin_listener.map(|listener| {
            tokio::spawn(server::serve(
                listener,
                state.clone(),
                token.clone(),
                Routes::Admin,
                limits,
            ))
        });
        let http = tokio::spawn(server::serve(
            listener,
            state,
            token.clone(),
            public,
            limits,
        ));
        let worker = tokio::spawn(worker.run());
        let sender = tokio::spawn(sender);
        let checkin_runner = tokio::spawn(checkin_runner);
        let digests = tokio::spawn(digests);
        let retention = tokio::spawn(retention);
        let reminders = tokio::spawn(reminders);
        let directory = tokio::spawn(directory);
        let pruning = tokio::spawn(forget_old_events(journal, clock, token.clone()));
        token.cancelled().await;
        info!("shutting down");
        if let Some(socket) = socket {
            socket.stop().await;
        }
        let _ = http.await;
        if let Some(admin) = admin {
            let _ = admin.await;
        }
        let _ = worker.await;
        let _ = sender.await;
        let _ = pruning.await;
        let _ = checkin_runner.await;
        let _ = digests.await;
        let _ = retention.await;
        let _ = reminders.await;
        let _ = directory.await;
        store
            .flush_now()
            .context("the store could not be flushed at shutdown")?;
        info!("stopped cleanly");
        Ok(())
    });
    Ok(RunningBot {
        addr,
        admin_addr,
        shutdown,
        done,
        store_closed,
    })
}

/// Who `SLACK_BOT_TOKEN` is: its workspace, bot user and app.
struct Me {
    team: TeamId,
    identity: BotIdentity,
    app_id: Option<String>,
}

/// Checks `SLACK_BOT_TOKEN` with `auth.test` and learns the app's id (`bots.info`).
async fn meet_slack(
    config: &ServeConfig,
    slack: &SlackApi,
    token: &crate::secret::Secret,
    client: Arc<crate::slack::api::SlackHttpClient>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Me> {
    let door = match slack.single_team() {
        Some(door) => door,
        None => SlackApi::single(client, token, metrics)
            .single_team()
            .context("a single-token door")?,
    };
    let me = door.auth_test().await.map_err(|e| match e {
        ApiError::Refused { code, .. } => {
            anyhow::anyhow!("SLACK_BOT_TOKEN was refused by Slack ({code}): check the token on your app's \"OAuth & Permissions\" page")
        }
        ApiError::Unavailable { detail, .. } => {
            anyhow::anyhow!("cannot reach Slack at {} (SLACK_API_URL): {detail}", config.api_url)
        }
        expired @ ApiError::Expired { .. } => anyhow::anyhow!("{expired}"),
    })?;
    info!(team = %me.team_id, bot_user = %me.user_id, "connected to Slack");
    let app_id = match &me.bot_id {
        Some(bot_id) => {
            let request = SlackApiBotsInfoRequest::new().with_bot(bot_id.to_string());
            match door.bots_info(request).await {
                Ok(info) => Some(info.bot.app_id),
                Err(e) => {
                    warn!(error = %e, "cannot learn this app's id (bots.info); payloads are checked by team only");
                    None
                }
            }
        }
        None => None,
    };
    Ok(Me {
        team: TeamId::new(me.team_id.0),
        identity: BotIdentity {
            user_id: UserId::new(me.user_id.0),
            bot_id: me.bot_id.map(|id| id.0),
        },
        app_id,
    })
}

/// Every ten minutes, forgets the ids of events handled in hours no redelivery is looked up
/// in any more ([`REMEMBER_HOURS`](crate::store::journal::REMEMBER_HOURS), well past Slack's
/// last retry, about 5 minutes after the first delivery).
async fn forget_old_events(
    journal: EventJournal,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    let mut every = tokio::time::interval(FORGET_EVENTS_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        let remembered = crate::store::journal::REMEMBER_HOURS - 1;
        let cutoff = clock.now().timestamp() - remembered * 3600;
        match journal.prune_seen(cutoff) {
            Ok(0) => {}
            Ok(pruned) => info!(pruned, "forgot old event ids"),
            Err(e) => warn!(error = %e, "could not prune old event ids"),
        }
    }
}

/// Reads the workspace's members from `users.list` at start and every
/// [`DIRECTORY_REFRESH`](crate::bot::directory::DIRECTORY_REFRESH) (a minute after a failure),
/// so mentions are looked up in memory rather than one `users.info` call each; every
/// installation in turn.
async fn keep_directory(bot: Arc<Bot>, shutdown: CancellationToken) {
    loop {
        let mut next = crate::bot::directory::DIRECTORY_REFRESH;
        for team in bot.installations.workspaces() {
            match bot
                .directory
                .load_members(&bot.slack, &team, bot.clock.now())
                .await
            {
                Ok(members) => {
                    info!(team = %team, members, "member directory read");
                }
                Err(e) => {
                    warn!(team = %team, error = %e, "cannot read the member directory; members are looked up one by one meanwhile");
                    next = Duration::from_secs(60);
                }
            }
        }
        bot.directory.first_read_over();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(next) => {}
        }
    }
}

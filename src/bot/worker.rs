//! The event worker: takes journaled events off the queue and handles them after Slack
//! has had its 200. A handled event is deleted from the journal; one that failed for a
//! passing reason (Slack unreachable, store busy) is tried again later; one that can never
//! succeed is logged loudly and dropped. At shutdown, events being handled are finished;
//! the ones still queued stay journaled and are handled at the next start.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

use super::Bot;
use crate::metrics::Counter;
use crate::store::journal::{EventJournal, JournalKey};

/// Events handled at the same time; the rest wait in the queue (and on disk). Most of a
/// handler's time is spent waiting for Slack (paced to its rate tiers), so this is set
/// high enough that plain messages are not held up behind a burst of notes waiting for
/// their turn, and low enough that memory stays small (a waiting event is a few KB).
const CONCURRENCY: usize = 256;
/// How many times an event is tried before it is given up.
const MAX_ATTEMPTS: u32 = 5;
/// How long shutdown waits for events being handled.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Worker {
    pub bot: Arc<Bot>,
    pub journal: EventJournal,
    pub queue: mpsc::UnboundedReceiver<JournalKey>,
    /// The queue's own sender, to put a failed event back after a pause.
    pub requeue: mpsc::UnboundedSender<JournalKey>,
    pub shutdown: CancellationToken,
}

impl Worker {
    pub async fn run(mut self) {
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        let attempts: Arc<Mutex<HashMap<JournalKey, u32>>> = Arc::default();
        let mut running = JoinSet::new();
        loop {
            let key = tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => break,
                Some(_) = running.join_next(), if !running.is_empty() => continue,
                key = self.queue.recv() => match key {
                    Some(key) => key,
                    None => break,
                },
            };
            let permit = tokio::select! {
                _ = self.shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let job = Job {
                bot: self.bot.clone(),
                journal: self.journal.clone(),
                requeue: self.requeue.clone(),
                attempts: attempts.clone(),
                shutdown: self.shutdown.clone(),
            };
            running.spawn(async move {
                job.handle(key).await;
                drop(permit);
            });
        }
        if tokio::time::timeout(DRAIN_TIMEOUT, async {
            while running.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            warn!(
                left = running.len(),
                "events still being handled at shutdown stay journaled for the next start"
            );
            running.abort_all();
        }
    }
}

struct Job {
    bot: Arc<Bot>,
    journal: EventJournal,
    requeue: mpsc::UnboundedSender<JournalKey>,
    attempts: Arc<Mutex<HashMap<JournalKey, u32>>>,
    shutdown: CancellationToken,
}

impl Job {
    async fn handle(self, key: JournalKey) {
        let raw = match self.journal.get(&key) {
            Ok(Some(raw)) => raw,
            Ok(None) => return, // already handled
            Err(e) => {
                error!(event = %key, error = %e, "cannot read a journaled event; it stays for the next start");
                return;
            }
        };
        let metrics = self.bot.metrics.clone();
        match self.bot.handle_event(&raw).await {
            Ok(kind) => {
                metrics.inc(Counter::EventsHandled, &[("type", kind)]);
                self.forget(&key);
                self.complete(&key);
            }
            Err(e) if e.is_retryable() => {
                let attempt = {
                    let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
                    let count = attempts.entry(key.clone()).or_insert(0);
                    *count += 1;
                    *count
                };
                if attempt >= MAX_ATTEMPTS {
                    metrics.inc(Counter::EventsFailed, &[("reason", "gave_up")]);
                    error!(event = %key, attempts = attempt, error = %e, "event given up after every retry");
                    self.forget(&key);
                    self.complete(&key);
                    return;
                }
                let pause = Duration::from_secs(5 * u64::from(attempt));
                warn!(event = %key, attempt, error = %e, retry_in_s = pause.as_secs(), "event failed; will try again");
                let requeue = self.requeue.clone();
                let shutdown = self.shutdown.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(pause) => { let _ = requeue.send(key); }
                    }
                });
            }
            Err(e) => {
                metrics.inc(Counter::EventsFailed, &[("reason", "permanent")]);
                error!(event = %key, error = %e, "event cannot be handled; dropped");
                self.forget(&key);
                self.complete(&key);
            }
        }
    }

    fn forget(&self, key: &str) {
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    fn complete(&self, key: &str) {
        // On disk within a few milliseconds, with the next event's flush under load. A crash
        // before then makes the next start handle the event again: the same window as a
        // crash between Slack's answer and this line.
        match self.journal.complete(key) {
            Ok(()) => self.bot.store.flush_soon(),
            Err(e) => {
                error!(event = %key, error = %e, "could not mark an event handled; it may be handled again after a restart");
            }
        }
    }
}

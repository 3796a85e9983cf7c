//! The event worker: takes journaled events and handles them after Slack has had its 200.
//! A handled event is marked so in the journal; one that failed for a passing reason (Slack
//! unreachable, store busy) is tried again after a pause, and one whose handler panicked at
//! once; one that can never succeed, or failed every attempt, is set aside
//! ([`crate::store::set_aside`]) and never tried again. At shutdown, events being handled are finished; the others
//! stay journaled and are handled at the next start.
//!
//! The intake hands events over through a bounded queue of journal keys. When Slack keeps
//! the worker waiting and the queue fills, further events stay only in the journal (on
//! disk) and the worker finds them there once it catches up, so memory stays bounded
//! however long an outage lasts.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::error::{TryRecvError, TrySendError};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::{Bot, HandleError};
use crate::metrics::{Counter, Histogram};
use crate::store::StoreError;
use crate::store::journal::{EventJournal, JournalKey};
use crate::store::set_aside::{SetAside, SetAsideEvent};

/// Events handled at the same time. Handlers leave their calls in the outbox rather than
/// wait for Slack's pace; what they still wait for is a look-up (a channel's members, a
/// member not in the directory, a user group). This is enough that a burst of such waits
/// does not hold plain messages up, and small enough that memory stays bounded whatever
/// the backlog (a handler in flight holds its event and its state, a few KB).
pub const CONCURRENCY: usize = 64;
/// Journal keys waiting in memory; beyond this, events wait on disk only.
pub const QUEUE_CAPACITY: usize = 1024;
/// How many keys one look into the journal brings back.
const SCAN_BATCH: usize = 1024;
/// How many times an event is tried before it is given up.
const MAX_ATTEMPTS: u32 = 5;
/// How long shutdown waits for events being handled.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long events wait, after a start, for the member directory's first reading: long enough
/// for a workspace of a few thousand members, short against a note's deadline.
const DIRECTORY_PATIENCE: Duration = Duration::from_secs(10);

/// Creates the hand-over between intake and worker.
pub fn event_queue() -> (EventQueue, QueueReceiver) {
    let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
    let look_in_journal = Arc::new(AtomicBool::new(false));
    (
        EventQueue {
            sender,
            look_in_journal: look_in_journal.clone(),
        },
        QueueReceiver {
            receiver,
            look_in_journal,
        },
    )
}

/// The intake's end of the queue. Clone it freely.
#[derive(Clone)]
pub struct EventQueue {
    sender: mpsc::Sender<JournalKey>,
    look_in_journal: Arc<AtomicBool>,
}

/// Where a journaled event went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    /// Queued in memory.
    Queued,
    /// The queue is full: the worker will find the event in the journal.
    Deferred,
    /// The worker has stopped (shutting down): the event is handled at the next start.
    Stopped,
}

impl EventQueue {
    /// Hands a journaled event to the worker without ever waiting.
    pub fn push(&self, key: JournalKey) -> Handover {
        match self.sender.try_send(key) {
            Ok(()) => Handover::Queued,
            Err(TrySendError::Full(_)) => {
                self.look_in_journal.store(true, Ordering::SeqCst);
                Handover::Deferred
            }
            Err(TrySendError::Closed(_)) => Handover::Stopped,
        }
    }

    /// Tells the worker to handle whatever the journal holds (at start, after a stop).
    pub fn look_in_journal(&self) {
        self.look_in_journal.store(true, Ordering::SeqCst);
    }

    /// Keys waiting in memory.
    pub fn len(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The worker's end of the queue.
pub struct QueueReceiver {
    receiver: mpsc::Receiver<JournalKey>,
    look_in_journal: Arc<AtomicBool>,
}

pub struct Worker {
    pub bot: Arc<Bot>,
    pub journal: EventJournal,
    pub queue: QueueReceiver,
    pub set_aside: SetAside,
    pub shutdown: CancellationToken,
}

/// Where the worker takes its next event from.
#[derive(Default)]
struct Sources {
    /// Keys found in the journal, handled before the queue's.
    found: VecDeque<JournalKey>,
    /// A pass over the journal in progress: the key to resume after (empty at the start).
    pass: Option<String>,
}

impl Worker {
    pub async fn run(mut self) {
        tokio::select! {
            _ = self.shutdown.cancelled() => {}
            _ = self.bot.directory.wait_for_first_read(DIRECTORY_PATIENCE) => {}
        }
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        // Keys being handled, so a key found both in the queue and in the journal is
        // handled once.
        let mut in_flight: HashSet<JournalKey> = HashSet::new();
        let mut sources = Sources::default();
        let mut running: JoinSet<JournalKey> = JoinSet::new();
        loop {
            while let Some(Ok(done)) = running.try_join_next() {
                in_flight.remove(&done);
            }
            let key = if let Some(key) = sources.found.pop_front() {
                key
            } else if let Some(after) = self.next_pass_step(&mut sources) {
                self.read_journal_batch(&mut sources, &after, &in_flight);
                continue;
            } else {
                match self.queue.receiver.try_recv() {
                    Ok(key) => key,
                    Err(TryRecvError::Disconnected) => break,
                    Err(TryRecvError::Empty) => tokio::select! {
                        biased;
                        _ = self.shutdown.cancelled() => break,
                        Some(done) = running.join_next(), if !running.is_empty() => {
                            if let Ok(done) = done {
                                in_flight.remove(&done);
                            }
                            continue;
                        }
                        key = self.queue.receiver.recv() => match key {
                            Some(key) => key,
                            None => break,
                        },
                    },
                }
            };
            if in_flight.contains(&key) {
                continue;
            }
            let permit = tokio::select! {
                _ = self.shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            in_flight.insert(key.clone());
            let job = Job {
                bot: self.bot.clone(),
                journal: self.journal.clone(),
                set_aside: self.set_aside.clone(),
                shutdown: self.shutdown.clone(),
            };
            running.spawn(async move {
                job.handle(&key).await;
                drop(permit);
                key
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

    /// Whether to look in the journal now, and after which key: when a pass is under way,
    /// or when events were left out of the queue since the last pass began.
    fn next_pass_step(&self, sources: &mut Sources) -> Option<String> {
        if sources.pass.is_none() && self.queue.look_in_journal.swap(false, Ordering::SeqCst) {
            sources.pass = Some(String::new());
        }
        sources.pass.clone()
    }

    /// Brings back the next batch of journaled events not being handled already.
    fn read_journal_batch(
        &self,
        sources: &mut Sources,
        after: &str,
        in_flight: &HashSet<JournalKey>,
    ) {
        match self.journal.pending_after(after, SCAN_BATCH) {
            Ok((keys, resume_after)) => {
                if after.is_empty() && !keys.is_empty() {
                    info!("handling events waiting in the journal");
                }
                sources
                    .found
                    .extend(keys.into_iter().filter(|key| !in_flight.contains(key)));
                sources.pass = resume_after;
            }
            Err(e) => {
                // Tried again with the next event that does not fit in the queue, or at
                // the next start.
                error!(error = %e, "cannot read the event journal; waiting events stay there");
                sources.pass = None;
            }
        }
    }
}

struct Job {
    bot: Arc<Bot>,
    journal: EventJournal,
    set_aside: SetAside,
    shutdown: CancellationToken,
}

/// How one attempt at an event ended.
enum Attempt {
    Handled(&'static str),
    Failed(HandleError),
    /// The handler panicked: a bug, met by this event. Counted as a failed attempt and
    /// tried again at once (a panic may come from a passing state), up to the limit.
    Panicked(String),
}

impl Job {
    async fn handle(self, key: &str) {
        let (raw, received_at) = match self.journal.get(key) {
            Ok(Some(journaled)) => journaled,
            Ok(None) => return, // already handled
            Err(e) => {
                store_error(
                    key,
                    &e,
                    "cannot read a journaled event; it stays for the next start",
                );
                return;
            }
        };
        let metrics = self.bot.metrics.clone();
        let mut called_slack = false;
        let raw = Arc::new(raw);
        loop {
            // Counted before the attempt runs, so one that takes the process down counts too.
            let attempt = match self.journal.begin_attempt(key) {
                Ok(Some(attempt)) => attempt,
                Ok(None) => return, // handled meanwhile
                Err(e) => {
                    store_error(
                        key,
                        &e,
                        "cannot count an attempt at an event; it stays for the next start",
                    );
                    return;
                }
            };
            self.bot.store.flush_lazily();
            if attempt > MAX_ATTEMPTS {
                let reason = "earlier attempts did not finish (the process stopped during them)";
                self.give_up(key, &raw, attempt - 1, reason);
                break;
            }
            let started = std::time::Instant::now();
            match self.attempt(key, &raw, received_at).await {
                Attempt::Handled(kind) => {
                    called_slack = super::calls_slack_itself(kind);
                    metrics.inc(Counter::EventsHandled, &[("type", kind)]);
                    metrics.observe(
                        Histogram::Handling,
                        &[("type", kind)],
                        started.elapsed().as_secs_f64(),
                    );
                    break;
                }
                Attempt::Failed(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    let pause = Duration::from_secs(5 * u64::from(attempt));
                    warn!(event = %key, attempt, error = %e, retry_in_s = pause.as_secs(), "event failed; will try again");
                    tokio::select! {
                        // Not marked handled: the next start tries again.
                        _ = self.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
                Attempt::Panicked(panic) if attempt < MAX_ATTEMPTS => {
                    warn!(event = %key, attempt, panic = %panic, "event handler panicked; will try again");
                }
                Attempt::Failed(e) if e.is_retryable() => {
                    metrics.inc(Counter::EventsFailed, &[("reason", "gave_up")]);
                    self.give_up(key, &raw, attempt, &e.to_string());
                    break;
                }
                Attempt::Panicked(panic) => {
                    metrics.inc(Counter::EventsFailed, &[("reason", "panicked")]);
                    self.give_up(
                        key,
                        &raw,
                        attempt,
                        &format!("the handler panicked: {panic}"),
                    );
                    break;
                }
                Attempt::Failed(e) => {
                    metrics.inc(Counter::EventsFailed, &[("reason", "permanent")]);
                    self.give_up(key, &raw, attempt, &e.to_string());
                    break;
                }
            }
        }
        self.complete(key, called_slack);
    }

    /// Runs the handler once, in a task of its own so that a panic ends the attempt, not
    /// the worker. Dropping this future (shutdown) stops the handler too.
    async fn attempt(&self, key: &str, raw: &Arc<Vec<u8>>, received_at: i64) -> Attempt {
        let bot = self.bot.clone();
        let raw = raw.clone();
        let key = key.to_string();
        let mut task = AbortOnDrop(tokio::spawn(async move {
            bot.handle_event(&key, &raw, received_at).await
        }));
        match (&mut task.0).await {
            Ok(Ok(kind)) => Attempt::Handled(kind),
            Ok(Err(e)) => Attempt::Failed(e),
            Err(joined) => Attempt::Panicked(panic_message(joined)),
        }
    }

    /// Sets an event aside: one log line with its id and type, a count, a record for the
    /// `set-aside` command. The caller then takes it out of the journal.
    fn give_up(&self, key: &str, raw: &[u8], attempts: u32, reason: &str) {
        let event_type = event_type(raw);
        error!(event = %key, event_type, attempts, reason, "event set aside; it will not be tried again");
        self.bot
            .metrics
            .inc(Counter::EventsSetAside, &[("type", &event_type)]);
        let record = SetAsideEvent {
            key: key.to_string(),
            event_type,
            attempts,
            reason: reason.chars().take(500).collect(),
            at_unix: self.bot.clock.now().timestamp(),
        };
        if let Err(e) = self.set_aside.put(&record) {
            error!(event = %key, error = %e, "could not record an event set aside");
        }
    }

    /// Marks the event handled; `called_slack` when its handler made a Web API call itself.
    fn complete(&self, key: &str, called_slack: bool) {
        // On disk within 50 ms and one flush (the store's flush for writes nobody waits for;
        // an intake's flush syncs only the journal's admissions), or with the flush that
        // takes a call of this event out of the outbox once Slack took it (5 ms). A crash
        // before then makes the next start handle the event again: the same as a crash
        // between Slack's answer and this line. An event whose call Slack already took (its
        // handler's own, or one of the outbox's that went out first) asks for 5 ms itself:
        // handled again after a crash, it would make that call again.
        let soon = called_slack || self.bot.outbox.made_for(key);
        match self.journal.complete(key) {
            Ok(()) if soon => self.bot.store.flush_soon(),
            Ok(()) => self.bot.store.flush_lazily(),
            Err(e) => {
                store_error(
                    key,
                    &e,
                    "could not mark an event handled; it may be handled again after a restart",
                );
            }
        }
    }
}

/// Logs a store error met with the event `key`. A disk that refuses writes is described once,
/// by the store, with what to do about it; each event it stops only refers to that.
fn store_error(key: &str, error: &StoreError, what: &str) {
    if matches!(error, StoreError::DiskRefused { .. }) {
        error!(event = %key, "{what} (the data folder refuses writes, as logged)");
    } else {
        error!(event = %key, %error, "{what}");
    }
}

/// The `type` of a journaled event, for logs and metrics: read from the distilled record,
/// or from the `event_callback` body an older build journaled.
fn event_type(raw: &[u8]) -> String {
    if let Ok(journaled) = serde_json::from_slice::<crate::bot::distil::JournaledEvent>(raw) {
        return journaled.event.event_type().to_string();
    }
    #[derive(serde::Deserialize)]
    struct Callback {
        event: Option<Inner>,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    serde_json::from_slice::<Callback>(raw)
        .ok()
        .and_then(|callback| callback.event?.kind)
        .filter(|kind| kind.len() <= 64)
        .unwrap_or_else(|| "unknown".into())
}

/// What a panicking handler said, if it said it in words.
fn panic_message(joined: tokio::task::JoinError) -> String {
    if joined.is_cancelled() {
        return "cancelled".into();
    }
    let payload = joined.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// A handler's task, stopped when the attempt waiting for it is dropped (at shutdown).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

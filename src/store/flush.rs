//! Group commit: callers that ask for durability at about the same time share one flush.
//! Under load this turns thousands of fsyncs a second into a few hundred, while each caller
//! that waits still returns only once its own writes are on disk.
//!
//! One thread of its own does the flushing, so a flush costs no hand-over to a blocking
//! pool. Flushes start at most once per [`MIN_INTERVAL`]: under load, requests that arrive
//! while one flush runs, or just after, are gathered into the next. A caller that does not
//! need to wait (marking an event handled) asks with [`Flusher::flush_soon`]; such a request
//! waits up to [`SOON_WINDOW`] to ride along with a flush someone waits for.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use super::StoreError;

/// The shortest time between the starts of two flushes.
const MIN_INTERVAL: Duration = Duration::from_millis(2);
/// How long a request nobody waits for may wait for company before it is flushed alone.
const SOON_WINDOW: Duration = Duration::from_millis(5);

type Waiter = oneshot::Sender<Result<(), String>>;

enum Request {
    /// Someone waits for the result.
    Wait(Waiter),
    /// Nobody waits: on disk within [`SOON_WINDOW`] (plus one flush).
    Soon,
}

#[derive(Clone)]
pub struct Flusher {
    requests: mpsc::Sender<Request>,
    closed: watch::Receiver<bool>,
}

impl Flusher {
    /// Starts the flushing thread when a Tokio runtime is running. Without one (the CLI's
    /// offline commands) there is no thread: those commands flush with `Store::flush_now`.
    pub fn start(db: sled::Db) -> Self {
        let (requests, receiver) = mpsc::channel::<Request>();
        let (closed_tx, closed) = watch::channel(false);
        if tokio::runtime::Handle::try_current().is_ok() {
            let spawned = std::thread::Builder::new()
                .name("store-flush".into())
                .spawn(move || {
                    flush_loop(&db, &receiver);
                    // Every handle of the store is gone: release the database (and its
                    // lock) and say so, for anyone waiting to open the folder again.
                    drop(db);
                    let _ = closed_tx.send(true);
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the store's flushing thread");
            }
        }
        Self { requests, closed }
    }

    /// Resolves once every handle of the store is dropped and the database is closed.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closed = self.closed.clone();
        async move {
            let _ = closed.wait_for(|is_closed| *is_closed).await;
        }
    }

    /// Waits until every write made before this call is on disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let stopped = || StoreError::Flush("the flushing thread has stopped".into());
        let (done, wait) = oneshot::channel();
        self.requests
            .send(Request::Wait(done))
            .map_err(|_| stopped())?;
        wait.await
            .map_err(|_| stopped())?
            .map_err(StoreError::Flush)
    }

    /// Asks for every write made before this call to reach the disk shortly, without
    /// waiting for it. A failure is logged by the flushing thread.
    pub fn flush_soon(&self) {
        let _ = self.requests.send(Request::Soon);
    }
}

/// Flushes until every sender is gone.
fn flush_loop(db: &sled::Db, receiver: &Receiver<Request>) {
    let mut last_start: Option<Instant> = None;
    while let Ok(first) = receiver.recv() {
        let mut waiters = Vec::new();
        let mut someone_waits = gather(first, &mut waiters);
        // Nobody waits yet: give a flush someone waits for a moment to come along.
        let soon_deadline = Instant::now() + SOON_WINDOW;
        while !someone_waits {
            match receiver.recv_timeout(soon_deadline.saturating_duration_since(Instant::now())) {
                Ok(request) => someone_waits = gather(request, &mut waiters),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // Pace the flushes: what arrives meanwhile shares this one.
        if let Some(last) = last_start {
            let next = last + MIN_INTERVAL;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
        while let Ok(request) = receiver.try_recv() {
            gather(request, &mut waiters);
        }
        // Everyone gathered wrote before asking, so one flush that starts now covers them all.
        last_start = Some(Instant::now());
        let result = db.flush().map(|_| ()).map_err(|e| e.to_string());
        if let Err(error) = &result {
            tracing::error!(%error, "the store could not be flushed to disk");
        }
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
    }
}

/// Adds a request to the group; says whether someone waits for it.
fn gather(request: Request, waiters: &mut Vec<Waiter>) -> bool {
    match request {
        Request::Wait(waiter) => {
            waiters.push(waiter);
            true
        }
        Request::Soon => false,
    }
}

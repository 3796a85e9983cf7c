//! Group commit: callers that ask for durability at about the same time share one flush.
//! Under load this turns thousands of fsyncs a second into a handful, while each caller
//! still returns only once its own writes are on disk.

use tokio::sync::{mpsc, oneshot, watch};

use super::StoreError;

type Waiter = oneshot::Sender<Result<(), String>>;

#[derive(Clone)]
pub struct Flusher {
    requests: mpsc::UnboundedSender<Waiter>,
    closed: watch::Receiver<bool>,
}

impl Flusher {
    /// Starts the flushing task when a Tokio runtime is running. Without one (the CLI's
    /// offline commands) there is no task: those commands flush with `Store::flush_now`.
    pub fn start(db: sled::Db) -> Self {
        let (requests, mut receiver) = mpsc::unbounded_channel::<Waiter>();
        let (closed_tx, closed) = watch::channel(false);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                while let Some(first) = receiver.recv().await {
                    // Everyone already waiting was written before asking, so one flush
                    // that starts now covers them all.
                    let mut waiters = vec![first];
                    while let Ok(next) = receiver.try_recv() {
                        waiters.push(next);
                    }
                    let db = db.clone();
                    let result = tokio::task::spawn_blocking(move || db.flush())
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|flushed| flushed.map(|_| ()).map_err(|e| e.to_string()));
                    for waiter in waiters {
                        let _ = waiter.send(result.clone());
                    }
                }
                // Every handle of the store is gone: release the database (and its lock)
                // and say so, for anyone waiting to open the folder again.
                drop(db);
                let _ = closed_tx.send(true);
            });
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

    pub async fn flush(&self) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.requests
            .send(done)
            .map_err(|_| StoreError::Flush("the flushing task has stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Flush("the flushing task has stopped".into()))?
            .map_err(StoreError::Flush)
    }
}

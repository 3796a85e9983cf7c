//! Group commit: callers that ask for durability at about the same time share one flush,
//! while each caller that waits still returns only once its own writes are on disk.
//!
//! One thread of its own does the flushing, so a flush costs no hand-over to a blocking
//! pool. A flush starts as soon as someone waits for one and none runs: an event alone waits
//! for one sync, and under load the requests that arrive while one flush runs are gathered
//! into the next, so that the flushes keep pace with the disk. The rest of a whole flush
//! (sled's, the handled ids', the `D` records') runs on a second thread, so that an event's
//! intake never waits behind it.
//!
//! What a caller waits for decides how far a flush goes. An event's intake waits for the
//! log's records only ([`Reach::Log`]): answered as soon as they are synced, before sled is
//! flushed. Everything else waits for the whole store ([`Reach::All`]). Writes nobody waits
//! for ask with [`Flusher::flush_soon`] and are flushed together within [`SOON_WINDOW`] (a
//! call Slack took, taken out of the outbox), or with [`Flusher::flush_lazily`] within
//! [`LAZY_WINDOW`] (an event's attempt begun, its handling done and the notes it queued),
//! sooner once [`LAZY_AT_MOST`] such asks wait; asking again within a window wakes nobody.
//!
//! The thread also keeps the store's [`DiskHealth`]: once the disk refuses a write, or a
//! flush stays unconfirmed for [`FLUSH_PATIENCE`], callers are refused at once (Slack gets
//! a 503 and delivers again later) instead of waiting on a store that cannot make
//! anything durable.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use super::StoreError;
use super::log::Log;
use super::seen::SeenIds;

/// What the store keeps in files of its own, flushed with sled.
pub(crate) struct BesideSled {
    pub(crate) log: Log,
    pub(crate) seen: SeenIds,
}

/// How long a call Slack took may wait to be taken out of the outbox on disk: with one
/// flush, how long after the bot read Slack's answer a crash can undo that, and so make the
/// call (an ephemeral note has no idempotency key) again. The whole flush it asks for also
/// writes the `D` records of the events handled before it, so that the event whose call
/// went out is not handed over again either.
const SOON_WINDOW: Duration = Duration::from_millis(5);
/// How long an event's handling (its attempt begun, its `D` record, the calls it queued)
/// may wait for the store's whole flush: sled's, with its pool threads, which at 1,000
/// events/s would otherwise run a hundred times a second. A crash before it hands the
/// event over again, which queues the same calls again: nothing is lost, and a call of it
/// that reached Slack before the crash is made again unless its [`SOON_WINDOW`] flush came
/// first (an event whose call Slack took before its handling ended asks for that window
/// itself). So a call is repeated only when a crash comes before the bot read Slack's
/// answer or within 5 ms (and a flush) after.
const LAZY_WINDOW: Duration = Duration::from_millis(50);
/// At most this many asks for [`LAZY_WINDOW`] wait for one whole flush: while a backlog is
/// handled (45,000 events/s after a restart, two asks each), what handling leaves is then
/// flushed about every 10 ms, instead of piling up for the whole window.
const LAZY_AT_MOST: usize = 1024;
/// How long a caller waits for the disk to confirm a flush: far beyond a healthy fsync, and
/// short of the 3 s Slack waits for an answer, so that a retry Slack sends after its own
/// timeout finds the store already known to be stuck.
pub(crate) const FLUSH_PATIENCE: Duration = Duration::from_secs(2);

/// Whether the disk under the store takes writes. Shared by the flushing thread, the event
/// journal and the health check.
pub(crate) struct DiskHealth {
    path: PathBuf,
    /// The first write the disk refused. sled keeps such an error for good (every later
    /// write and flush returns it; only reopening the folder clears it), and so does this.
    refused: OnceLock<String>,
    /// When the flush under way on each flushing thread started ([`Part`]); `None` between
    /// flushes.
    flushing_since: Mutex<[Option<Instant>; 2]>,
    /// Whether a caller gave up waiting for the flush under way (logged once per stall);
    /// cleared when the disk confirms a flush.
    stall_reported: AtomicBool,
}

impl DiskHealth {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            refused: OnceLock::new(),
            flushing_since: Mutex::new([None; 2]),
            stall_reported: AtomicBool::new(false),
        }
    }

    /// `Ok` while the store can make writes durable; otherwise the error that says why not.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        self.refused()?;
        let waited = self.longest_flush();
        match waited {
            Some(waited) if waited >= FLUSH_PATIENCE => Err(self.stalled(waited)),
            // A caller already gave up on this flush: stalled until the disk confirms one,
            // whatever the clock of this thread says about when the flush began.
            _ if self.stall_reported.load(Ordering::SeqCst) => {
                Err(self.stalled(waited.unwrap_or(FLUSH_PATIENCE).max(FLUSH_PATIENCE)))
            }
            _ => Ok(()),
        }
    }

    /// `Ok` unless the disk refused a write (a stalled flush does not refuse writes).
    pub(crate) fn refused(&self) -> Result<(), StoreError> {
        match self.refused.get() {
            Some(reason) => Err(StoreError::DiskRefused {
                path: self.path.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Takes note of an error sled returned for a write or a flush. Only an I/O error says
    /// something about the disk; the first one is logged, once.
    pub(crate) fn record(&self, error: &sled::Error) {
        if let sled::Error::Io(io) = error {
            self.record_io(io);
        }
    }

    /// Takes note of a write the disk refused; the first one is logged, once.
    pub(crate) fn record_io(&self, io: &std::io::Error) {
        if self.refused.set(describe_io_error(io)).is_err() {
            return;
        }
        if let Err(refused) = self.check() {
            tracing::error!(
                "{refused}; events are answered 503 and /healthz fails until the bot is restarted on a disk that takes writes"
            );
        }
    }

    fn stalled(&self, waited: Duration) -> StoreError {
        StoreError::DiskStalled {
            path: self.path.clone(),
            waited_secs: waited.as_secs(),
        }
    }

    /// A caller gave up waiting for a flush: logged once per stall.
    fn report_stall(&self) -> StoreError {
        let error = self.stalled(FLUSH_PATIENCE);
        if !self.stall_reported.swap(true, Ordering::SeqCst) {
            tracing::error!("{error}; events are answered 503 until it does");
        }
        error
    }

    /// How long the longest flush under way has run, if one does.
    fn longest_flush(&self) -> Option<Duration> {
        let since = *self
            .flushing_since
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        since
            .into_iter()
            .flatten()
            .min()
            .map(|since| since.elapsed())
    }

    /// Whether a flush of this part runs.
    #[cfg(test)]
    fn flushing(&self, part: Part) -> bool {
        self.flushing_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())[part as usize]
            .is_some()
    }

    fn flush_started(&self, part: Part) {
        self.flushing_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())[part as usize] = Some(Instant::now());
    }

    fn flush_ended(&self, part: Part) {
        self.flushing_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())[part as usize] = None;
        // Still stalled while the other thread's flush stays unconfirmed.
        if self
            .longest_flush()
            .is_some_and(|waited| waited >= FLUSH_PATIENCE)
        {
            return;
        }
        if self.stall_reported.swap(false, Ordering::SeqCst) {
            tracing::warn!(data_dir = %self.path.display(), "the disk confirmed the stalled flush");
        }
    }
}

/// The OS error in words, as `File too large (os error 27)`. sled keeps its sticky error as
/// a clone that turns the OS error into its debug text (`Os { code: 27, … }`), so the code
/// is read back from there.
fn describe_io_error(error: &std::io::Error) -> String {
    if error.raw_os_error().is_some() {
        return error.to_string();
    }
    let text = error.to_string();
    let code = text
        .split_once("code: ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<i32>().ok());
    match code {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => text,
    }
}

type Waiter = oneshot::Sender<Result<(), String>>;

/// The two flushing threads: the log's, and the one for the rest of a whole flush.
#[derive(Clone, Copy)]
enum Part {
    Log = 0,
    Rest = 1,
}

/// The rest of a whole flush, after the log's sync (see [`flush_after_log`]): who waits for
/// it, and the segments found doomed before that sync.
struct Rest {
    waiters: Vec<Waiter>,
    doomed: Vec<u64>,
}

/// How far the writes a caller waits for go.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The log's records: an event admitted, which its answer to Slack waits for.
    Log,
    /// Everything the store holds.
    All,
}

enum Request {
    /// Someone waits for the result.
    Wait(Waiter, Reach),
    /// Writes nobody waits for: on disk within this long (plus one flush).
    Soon(Duration),
}

/// What a [`Flusher`] and its thread share about the asks nobody waits for.
#[derive(Default)]
struct Asked {
    /// Set from a [`Flusher::flush_soon`] until the whole flush that covers it starts:
    /// only the first one in a window wakes the thread.
    soon: AtomicBool,
    /// The same for [`Flusher::flush_lazily`].
    lazily: AtomicBool,
    /// Asks for [`LAZY_WINDOW`] since the last whole flush started.
    lazy_count: AtomicUsize,
}

impl Asked {
    /// An ask for [`SOON_WINDOW`]: the window to send the thread, for the first in a window.
    fn soon(&self) -> Option<Duration> {
        (!self.soon.swap(true, Ordering::SeqCst)).then_some(SOON_WINDOW)
    }

    /// An ask for [`LAZY_WINDOW`]: the window to send the thread, for the first in a window;
    /// none at all for the one that makes [`LAZY_AT_MOST`].
    fn lazily(&self) -> Option<Duration> {
        let count = self.lazy_count.fetch_add(1, Ordering::SeqCst) + 1;
        if !self.lazily.swap(true, Ordering::SeqCst) {
            Some(LAZY_WINDOW)
        } else {
            (count == LAZY_AT_MOST).then_some(Duration::ZERO)
        }
    }

    /// A whole flush starts: asks from here on are covered by the next one.
    fn reset(&self) {
        self.soon.store(false, Ordering::SeqCst);
        self.lazily.store(false, Ordering::SeqCst);
        self.lazy_count.store(0, Ordering::SeqCst);
    }
}

#[derive(Clone)]
pub(crate) struct Flusher {
    requests: mpsc::Sender<Request>,
    asked: Arc<Asked>,
    closed: watch::Receiver<bool>,
    health: Arc<DiskHealth>,
}

impl Flusher {
    /// Starts the flushing thread when a Tokio runtime is running. Without one (the CLI's
    /// offline commands) there is no thread: those commands flush with `Store::flush_now`.
    pub(crate) fn start(db: sled::Db, files: Arc<BesideSled>, health: Arc<DiskHealth>) -> Self {
        let (requests, receiver) = mpsc::channel::<Request>();
        let (closed_tx, closed) = watch::channel(false);
        let asked = Arc::new(Asked::default());
        if tokio::runtime::Handle::try_current().is_ok() {
            let (rest, rest_receiver) = mpsc::channel::<Rest>();
            let rest_thread = RestThread {
                db: db.clone(),
                files: files.clone(),
                health: health.clone(),
            };
            let thread = FlushThread {
                db,
                files,
                health: health.clone(),
                asked: asked.clone(),
                rest,
            };
            let spawned = std::thread::Builder::new()
                .name("store-flush".into())
                .spawn(move || {
                    let rest = std::thread::Builder::new()
                        .name("store-flush-rest".into())
                        .spawn(move || rest_thread.run(&rest_receiver));
                    if let Err(e) = &rest {
                        tracing::error!(error = %e, "cannot start the store's second flushing thread");
                    }
                    thread.run(&receiver);
                    let FlushThread {
                        db,
                        health,
                        rest: rest_requests,
                        ..
                    } = thread;
                    // The rest of the last whole flush ends first: its thread ends once no
                    // more can come.
                    drop(rest_requests);
                    if let Ok(rest) = rest {
                        let _ = rest.join();
                    }
                    // Every handle of the store is gone: release the database (and its
                    // lock) and say so, for anyone waiting to open the folder again.
                    drop(db);
                    // sled's pool threads may hold it a moment longer.
                    super::lock::wait_until_released(&health.path);
                    let _ = closed_tx.send(true);
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the store's flushing thread");
            }
        }
        Self {
            requests,
            asked,
            closed,
            health,
        }
    }

    /// `Ok` unless the disk refused a write.
    pub(crate) fn refused(&self) -> Result<(), StoreError> {
        self.health.refused()
    }

    /// Resolves once every handle of the store is dropped and the database is closed.
    pub(crate) fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closed = self.closed.clone();
        async move {
            let _ = closed.wait_for(|is_closed| *is_closed).await;
        }
    }

    /// Waits until every write made before this call, as far as `reach` says, is on disk,
    /// at most [`FLUSH_PATIENCE`]; refuses at once when the disk is known to fail.
    pub(crate) async fn flush(&self, reach: Reach) -> Result<(), StoreError> {
        self.health.check()?;
        let stopped = || StoreError::Flush("the flushing thread has stopped".into());
        let (done, wait) = oneshot::channel();
        self.requests
            .send(Request::Wait(done, reach))
            .map_err(|_| stopped())?;
        match tokio::time::timeout(FLUSH_PATIENCE, wait).await {
            Ok(Ok(Ok(()))) => Ok(()),
            // The health says it better when the disk refused the write.
            Ok(Ok(Err(error))) => Err(self
                .health
                .check()
                .err()
                .unwrap_or(StoreError::Flush(error))),
            Ok(Err(_)) => Err(stopped()),
            // sled can wait forever for a write that will never be made (see `FlushThread`).
            Err(_) => Err(self.health.report_stall()),
        }
    }

    /// Asks for every write made before this call to reach the disk within [`SOON_WINDOW`],
    /// without waiting for it. A failure is logged by the flushing thread.
    pub(crate) fn flush_soon(&self) {
        if let Some(within) = self.asked.soon() {
            let _ = self.requests.send(Request::Soon(within));
        }
    }

    /// Asks for every write made before this call to reach the disk within [`LAZY_WINDOW`],
    /// or as soon as [`LAZY_AT_MOST`] such asks wait, without waiting for it.
    pub(crate) fn flush_lazily(&self) {
        if let Some(within) = self.asked.lazily() {
            let _ = self.requests.send(Request::Soon(within));
        }
    }
}

/// The flushing thread's side.
///
/// sled 0.34 fails in two ways when the disk refuses a write. A failed log write becomes
/// its global error, returned by every later write and flush: recorded in `health`, after
/// which requests are answered without asking sled. A refused blob (a value over about
/// 128 KiB gets a file of its own) leaves a log buffer that is never written, so every
/// later `flush` waits forever: callers stop waiting after [`FLUSH_PATIENCE`], and this
/// thread stays blocked.
struct FlushThread {
    db: sled::Db,
    files: Arc<BesideSled>,
    health: Arc<DiskHealth>,
    asked: Arc<Asked>,
    /// The rest of each whole flush goes to [`RestThread`].
    rest: mpsc::Sender<Rest>,
}

/// The thread for the rest of each whole flush: sled's flush and what follows it, which
/// take several disk requests, while the log's flushes go on.
struct RestThread {
    db: sled::Db,
    files: Arc<BesideSled>,
    health: Arc<DiskHealth>,
}

impl RestThread {
    /// Runs the rest of the whole flushes asked for, those asked meanwhile together, until
    /// the log's thread is gone.
    fn run(&self, receiver: &Receiver<Rest>) {
        while let Ok(mut rest) = receiver.recv() {
            // Each list was found before a sync that came before this: all may go.
            for more in receiver.try_iter() {
                rest.waiters.extend(more.waiters);
                rest.doomed.extend(more.doomed);
            }
            rest.doomed.sort_unstable();
            rest.doomed.dedup();
            finish(&self.db, &self.files, &self.health, rest);
        }
    }
}

/// Runs the rest of a whole flush and answers those who wait for it.
fn finish(db: &sled::Db, files: &BesideSled, health: &DiskHealth, rest: Rest) {
    let flushed = attempt(health, Part::Rest, &|| {
        flush_after_log(db, files, health, &rest.doomed)
    });
    for waiter in rest.waiters {
        let _ = waiter.send(flushed.clone());
    }
}

/// One step of a flush, timed for [`DiskHealth`]; refused at once when the disk is known to
/// fail. A failure is logged unless the health already says why.
fn attempt(
    health: &DiskHealth,
    part: Part,
    step: &dyn Fn() -> Result<(), String>,
) -> Result<(), String> {
    health.check().map_err(|failing| failing.to_string())?;
    health.flush_started(part);
    let flushed = step();
    health.flush_ended(part);
    flushed.inspect_err(|error| {
        if health.check().is_ok() {
            tracing::error!(%error, "the store could not be flushed to disk");
        }
    })
}

/// The requests one flush answers.
#[derive(Default)]
struct Group {
    log: Vec<Waiter>,
    all: Vec<Waiter>,
}

impl Group {
    fn is_empty(&self) -> bool {
        self.log.is_empty() && self.all.is_empty()
    }

    fn add(&mut self, request: Request, soon_due: &mut Option<Instant>) {
        match request {
            Request::Wait(waiter, Reach::Log) => self.log.push(waiter),
            Request::Wait(waiter, Reach::All) => self.all.push(waiter),
            Request::Soon(within) => {
                let due = Instant::now() + within;
                *soon_due = Some(soon_due.map_or(due, |earlier| earlier.min(due)));
            }
        }
    }
}

/// Adds every request waiting in `receiver` to `group`; `true` once every sender is gone.
fn drain(receiver: &Receiver<Request>, group: &mut Group, soon_due: &mut Option<Instant>) -> bool {
    loop {
        match receiver.try_recv() {
            Ok(request) => group.add(request, soon_due),
            Err(mpsc::TryRecvError::Empty) => return false,
            Err(mpsc::TryRecvError::Disconnected) => return true,
        }
    }
}

impl FlushThread {
    /// Flushes until every sender is gone, then once more for writes nobody waited for.
    ///
    /// After a flush the thread takes every request that came meanwhile into the next one.
    /// Only when nothing waits does it block until a request comes, and flushes at once for
    /// one that waits (writes nobody waits for when they fall due).
    fn run(&self, receiver: &Receiver<Request>) {
        // When the writes nobody waits for are due, if any are.
        let mut soon_due: Option<Instant> = None;
        loop {
            let mut group = Group::default();
            let mut gone = drain(receiver, &mut group, &mut soon_due);
            let due = |soon_due: Option<Instant>| soon_due.is_some_and(|due| due <= Instant::now());
            if !gone && group.is_empty() && !due(soon_due) {
                let first = match soon_due {
                    None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    Some(due) => {
                        receiver.recv_timeout(due.saturating_duration_since(Instant::now()))
                    }
                };
                match first {
                    Ok(request) => group.add(request, &mut soon_due),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => gone = true,
                }
                gone |= drain(receiver, &mut group, &mut soon_due);
            }
            if gone {
                if !group.is_empty() || soon_due.is_some() {
                    self.flush(&mut group, true);
                }
                return;
            }
            if group.is_empty() && !due(soon_due) {
                continue;
            }
            let whole = !group.all.is_empty() || due(soon_due);
            if whole {
                soon_due = None;
            }
            self.flush(&mut group, whole);
        }
    }

    /// One flush: the log's, answering those who wait for it; then, when `whole`, the rest
    /// of the store's (see [`flush_all`]), on [`RestThread`], which answers the others.
    fn flush(&self, group: &mut Group, whole: bool) {
        if whole {
            self.asked.reset();
        }
        let health = &*self.health;
        // Found before the sync, like `flush_all` does.
        let doomed = if whole {
            self.files.log.doomed()
        } else {
            Vec::new()
        };
        let synced = attempt(health, Part::Log, &|| sync_log(&self.files, health));
        for waiter in group.log.drain(..) {
            let _ = waiter.send(synced.clone());
        }
        if !whole {
            return;
        }
        let waiters: Vec<Waiter> = group.all.drain(..).collect();
        if let Err(error) = synced {
            for waiter in waiters {
                let _ = waiter.send(Err(error.clone()));
            }
            return;
        }
        if let Err(mpsc::SendError(rest)) = self.rest.send(Rest { waiters, doomed }) {
            // No second thread: the rest runs here.
            finish(&self.db, &self.files, health, rest);
        }
    }
}

/// Records a failed write in `health` before anyone hears of it, so a retry finds the store
/// refusing.
fn io_failed(health: &DiskHealth) -> impl Fn(std::io::Error) -> String + '_ {
    |error| {
        health.record_io(&error);
        error.to_string()
    }
}

fn sync_log(files: &BesideSled, health: &DiskHealth) -> Result<(), String> {
    files.log.sync().map_err(io_failed(health))
}

/// One whole flush, in this order: the log's records (the events admitted, which an answer
/// to Slack waits for); sled (which writes nothing when nothing in it changed); the handled
/// ids' files, waited for only when segments of the log are to go (until then the log's `D`
/// records hold the same ids); the `D` records of the events handled before sled's flush
/// began, behind what their handling left in sled, and the log's sync again for them (else
/// they would wait for the next event's flush, which in a quiet hour may be far off); then
/// the segments no event waits in, as found before this flush's sync. An error is recorded in
/// `health` before anyone hears of it, so a retry finds the store refusing.
pub(crate) fn flush_all(
    db: &sled::Db,
    files: &BesideSled,
    health: &DiskHealth,
) -> Result<(), String> {
    let doomed = files.log.doomed();
    sync_log(files, health)?;
    flush_after_log(db, files, health, &doomed)
}

/// The steps of [`flush_all`] after the log's sync.
fn flush_after_log(
    db: &sled::Db,
    files: &BesideSled,
    health: &DiskHealth,
    doomed: &[u64],
) -> Result<(), String> {
    // Marked before sled's flush: an event handled while it runs may have left a note that
    // this flush does not cover, so its record waits for the next one.
    let done = files.log.done_mark();
    db.flush().map_err(|error| {
        health.record(&error);
        error.to_string()
    })?;
    files
        .seen
        .write(!doomed.is_empty())
        .and_then(|()| files.log.write_done(done))
        .map_err(io_failed(health))?;
    if done > 0 {
        sync_log(files, health)?;
    }
    if let Err(error) = files.log.delete(doomed) {
        tracing::warn!(%error, "could not delete a journal segment no event waits in");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TeamId;
    use crate::store::{Store, Table};
    use std::path::Path;

    #[test]
    fn an_os_error_is_told_in_words_even_from_sleds_copy_of_it() {
        let efbig = std::io::Error::from_raw_os_error(27);
        let words = efbig.to_string();
        // sled's sticky copy of an I/O error keeps only its kind and debug text.
        let sled_copy = std::io::Error::new(efbig.kind(), format!("{efbig:?}"));
        let cases = [
            (efbig, words.clone()),
            (sled_copy, words),
            (
                std::io::Error::other("no code here"),
                "no code here".to_string(),
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(describe_io_error(&error), expected);
        }
    }

    #[test]
    fn a_whole_flush_leaves_the_done_records_it_wrote_synced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        let (_, key) = journal.admit(&TeamId::new("T1"), "Ev1", b"{}", 1).unwrap();
        store.flush_now().unwrap();
        assert_eq!(store.files.log.unsynced(), 0);
        // Handled: its `D` record is written by the next whole flush, after sled's, and
        // nothing else comes to sync it.
        journal.complete(&key).unwrap();
        store.flush_now().unwrap();
        assert_eq!(
            store.files.log.unsynced(),
            0,
            "the D record waits for a later sync"
        );
    }

    #[test]
    fn asks_nobody_waits_for_wake_the_thread_once_a_window_and_lazy_ones_once_more_when_many() {
        let asked = Asked::default();
        for _ in 0..2 {
            assert_eq!(asked.soon(), Some(SOON_WINDOW));
            assert_eq!(asked.soon(), None);
            assert_eq!(asked.lazily(), Some(LAZY_WINDOW));
            let quiet = (2..LAZY_AT_MOST).filter_map(|_| asked.lazily()).count();
            assert_eq!(quiet, 0);
            assert_eq!(asked.lazily(), Some(Duration::ZERO));
            assert_eq!(asked.lazily(), None);
            // A whole flush starts: the next asks are for the next one.
            asked.reset();
        }
        // The earliest window asked for is when the writes are due.
        let mut group = Group::default();
        let mut due = None;
        group.add(Request::Soon(LAZY_WINDOW), &mut due);
        let lazy = due.unwrap();
        group.add(Request::Soon(SOON_WINDOW), &mut due);
        assert!(due.unwrap() < lazy);
        group.add(Request::Soon(LAZY_WINDOW), &mut due);
        assert!(due.unwrap() < lazy);
    }

    /// A store whose sled flush never returns: a value over about 128 KiB goes to a file of
    /// its own under `blobs/`, and a file in the way makes that write fail, after which
    /// sled's flush waits forever. The table must outlive the test (dropping a handle of
    /// sled flushes).
    fn store_whose_sled_flush_hangs(dir: &Path) -> (Store, Table<String>) {
        let store = Store::open(dir).unwrap();
        std::fs::remove_dir_all(dir.join("blobs")).unwrap();
        std::fs::write(dir.join("blobs"), b"in the way").unwrap();
        let table = store.table::<String>("big").unwrap();
        let team = TeamId::new("T1");
        assert!(table.put(&team, "big", &"x".repeat(200_000)).is_err());
        (store, table)
    }

    #[tokio::test]
    async fn an_events_intake_does_not_wait_behind_the_rest_of_a_whole_flush() {
        let dir = tempfile::tempdir().unwrap();
        let (store, table) = store_whose_sled_flush_hangs(dir.path());
        let whole = {
            let store = store.clone();
            tokio::spawn(async move { store.flush().await })
        };
        while !store.flusher.health.flushing(Part::Rest) {
            tokio::task::yield_now().await;
        }
        let journal = store.event_journal().unwrap();
        journal.admit(&TeamId::new("T1"), "Ev1", b"{}", 1).unwrap();
        let intake = tokio::time::timeout(FLUSH_PATIENCE / 2, store.flush_journal()).await;
        assert!(
            matches!(intake, Ok(Ok(()))),
            "answered while sled's flush hangs"
        );
        assert!(matches!(
            whole.await.unwrap(),
            Err(StoreError::DiskStalled { .. })
        ));
        std::mem::forget((table, store));
    }

    #[tokio::test]
    async fn a_flush_the_disk_never_confirms_is_given_up_and_the_store_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let (store, table) = store_whose_sled_flush_hangs(dir.path());
        let team = TeamId::new("T1");
        table.put(&team, "small", &"x".to_string()).unwrap();

        let error = store.flush().await.unwrap_err();
        assert!(matches!(error, StoreError::DiskStalled { .. }), "{error}");
        let refused = store.health().unwrap_err();
        assert!(
            refused
                .to_string()
                .contains(&dir.path().display().to_string()),
            "{refused}"
        );
        // Refused at once from now on, without asking sled.
        assert!(matches!(
            store.flush().await,
            Err(StoreError::DiskStalled { .. })
        ));
        assert!(store.flush_now().is_err());
        // Dropping a handle of sled flushes, which would wait forever here.
        std::mem::forget((table, store));
    }
}

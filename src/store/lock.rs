//! The lock sled holds on a data folder (an `flock` on its `db` file), seen from this
//! process.
//!
//! sled's own pool threads (writing a log buffer, cleaning a segment) may hold a database a
//! moment after its last handle is dropped, and the lock goes only with them. A store this
//! process closed is therefore waited for, briefly, before it is reported as in use; a
//! folder held by another process is reported at once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use fs2::FileExt;

/// How long an open waits for this process's own earlier store of the folder to let go.
const RELEASE_PATIENCE: Duration = Duration::from_secs(5);

/// The folders this process has opened a store in.
static OPENED_HERE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn key(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Notes that this process holds (or held) a store in `path`.
pub(super) fn opened(path: &Path) {
    OPENED_HERE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key(path));
}

/// Whether this process has held a store in `path`: a lock found there is then most likely
/// its own, on the way out.
pub(super) fn held_here(path: &Path) -> bool {
    OPENED_HERE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&key(path))
}

/// Blocks until nobody, in this process or another, holds the folder's lock.
pub(super) fn wait_until_released(path: &Path) {
    let Ok(file) = std::fs::File::open(path.join("db")) else {
        return;
    };
    if file.lock_exclusive().is_ok() {
        let _ = FileExt::unlock(&file);
    }
}

/// [`wait_until_released`] for at most [`RELEASE_PATIENCE`]; `false` when the lock is still
/// held then. (The waiting thread stays blocked until the holder lets go; it holds nothing.)
pub(super) fn released_soon(path: &Path) -> bool {
    let (done, wait) = mpsc::channel();
    let path = path.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("store-lock-wait".into())
        .spawn(move || {
            wait_until_released(&path);
            let _ = done.send(());
        });
    spawned.is_ok() && wait.recv_timeout(RELEASE_PATIENCE).is_ok()
}

//! The embedded store: sled, with typed tables whose keys all start with the team id, a
//! schema version checked at start-up, grouped flushes for durability, and a JSON-lines
//! export/import of everything.
//!
//! Only this module touches sled. Other modules see [`Table`]s of serde values, so a shared
//! database can later stand behind the same narrow surface when several replicas run.

pub mod checkins;
pub(crate) mod cooldowns;
pub(crate) mod digests;
mod flush;
pub(crate) mod journal;
mod lock;
mod log;
pub(crate) mod norms;
pub(crate) mod outbox;
pub(crate) mod reminders;
mod seen;
pub(crate) mod set_aside;

use std::io::{BufRead, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ids::TeamId;

use flush::DiskHealth;
pub(crate) use flush::Flusher;
use flush::Reach;

/// The layout of the data on disk. Raise it with a migration when a stored shape changes.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// sled's page cache (its default is 1 GB). The bot reads little beyond recent events and
/// small per-team tables, so a small cache keeps memory flat under load.
const CACHE_BYTES: u64 = 4 * 1024 * 1024;

/// The folder, inside the data folder, of the ids of handled events (`seen.rs`).
const SEEN_FOLDER: &str = "seen";
/// The folder, inside the data folder, of the event journal's log (`log.rs`).
const LOG_FOLDER: &str = "log";

const META_TREE: &str = "meta";
const SCHEMA_KEY: &str = "schema_version";
/// The first line of an export, so `import` can refuse files that are not ours.
const EXPORT_FORMAT: &str = "async-norms-export";
/// Each installation's bot token (sealed under `ASYNC_NORMS_ENCRYPTION_KEY`, or plain).
pub(crate) const INSTALLATIONS_TABLE: &str = "installations";
/// The single-use states of install links handed out.
pub(crate) const OAUTH_STATES_TABLE: &str = "oauth_states";
/// Never exported: an export is a member's or an admin's data, not credentials, and a
/// file that leaves the host must not carry a workspace's token, sealed or not. An
/// installation is restored by installing the app again (or by keeping the data folder).
const NOT_EXPORTED: [&str; 2] = [INSTALLATIONS_TABLE, OAUTH_STATES_TABLE];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data folder {path} is in use by another async-norms process; stop it first (sled allows one process per folder)"
    )]
    Locked { path: PathBuf },
    #[error("cannot open the data folder {path}: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error(
        "the data folder was written by schema {found}, but this build reads schema {expected}; use a newer async-norms or restore a backup made with `export`"
    )]
    SchemaTooNew { found: u32, expected: u32 },
    #[error("the store failed: {0}")]
    Sled(#[from] sled::Error),
    #[error("a stored value in `{table}` at `{key}` does not read back: {source}")]
    Corrupt {
        table: String,
        key: String,
        source: serde_json::Error,
    },
    #[error("a value for `{table}` could not be encoded: {source}")]
    Encode {
        table: &'static str,
        source: serde_json::Error,
    },
    #[error("the store could not be flushed to disk: {0}")]
    Flush(String),
    #[error("the data folder {path} refused a write: {reason}")]
    DiskRefused { path: PathBuf, reason: String },
    #[error("the disk has not confirmed a write to the data folder {path} for {waited_secs} s")]
    DiskStalled { path: PathBuf, waited_secs: u64 },
    #[error("line {line} of the import is not a record of an async-norms export: {reason}")]
    BadImport { line: usize, reason: String },
    #[error("reading or writing the export failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The number in the name of one of the store's own files: `digits` hex digits, then
/// `suffix`. `None` for any other name.
fn numbered_file(name: &str, digits: usize, suffix: &str) -> Option<u64> {
    let hex = name.strip_suffix(suffix)?;
    (hex.len() == digits)
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

/// Locks `mutex`, going on with what a panicking holder left: the store's bookkeeping stays
/// usable, and the next start recounts it from disk anyway.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens the sled database in `path`, telling a folder locked by another process apart.
fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    sled::Config::new()
        .path(path)
        .cache_capacity(CACHE_BYTES)
        .open()
        .map_err(|source| match &source {
            sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("lock") =>
            {
                StoreError::Locked {
                    path: path.to_path_buf(),
                }
            }
            _ => StoreError::Open {
                path: path.to_path_buf(),
                source,
            },
        })
}

/// The store of one bot process. Cheap to clone: every clone shares the same database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// The journal's log and handled ids, in files of their own beside sled's.
    files: Arc<flush::BesideSled>,
    flusher: Flusher,
    health: Arc<DiskHealth>,
}

impl Store {
    /// Opens (or creates) the store in `path` and checks its schema version.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = match open_db(path) {
            // A store this process closed a moment ago may still be letting go.
            Err(StoreError::Locked { .. })
                if lock::held_here(path) && lock::released_soon(path) =>
            {
                open_db(path)?
            }
            opened => opened?,
        };
        lock::opened(path);
        let health = Arc::new(DiskHealth::new(path.to_path_buf()));
        let (log, replayed) = log::Log::open(path.join(LOG_FOLDER))?;
        let seen = seen::SeenIds::open(path.join(SEEN_FOLDER))?;
        for (received_at, id) in replayed.done {
            seen.insert(journal::hour_of(received_at), id);
        }
        let files = Arc::new(flush::BesideSled { log, seen });
        let store = Self {
            flusher: Flusher::start(db.clone(), files.clone(), health.clone()),
            db,
            files,
            health,
        };
        store.check_schema()?;
        store.move_old_journal(path)?;
        // Segments found with nothing waiting in them go now.
        store.flush_now()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let meta = self.db.open_tree(META_TREE)?;
        match meta.get(SCHEMA_KEY)? {
            None => {
                meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
                self.db.flush()?;
                Ok(())
            }
            Some(bytes) => {
                let found = bytes
                    .as_ref()
                    .try_into()
                    .map(u32::from_be_bytes)
                    .unwrap_or(u32::MAX);
                if found > SCHEMA_VERSION {
                    return Err(StoreError::SchemaTooNew {
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
                // Older schemas would be migrated here, one version at a time.
                Ok(())
            }
        }
    }

    /// A typed table. Opening the same name twice gives views of the same data.
    pub fn table<V>(&self, name: &'static str) -> Result<Table<V>, StoreError> {
        Ok(Table {
            name,
            tree: self.db.open_tree(name)?,
            _open: self.flusher.clone(),
            _value: PhantomData,
        })
    }

    /// Waits until every write made before this call is on disk. Concurrent callers share
    /// one flush, so a burst of events costs one fsync rather than one each.
    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        self.flusher.flush(Reach::All).await
    }

    /// Waits until the journal's records written before this call are on disk, as
    /// [`flush`](Self::flush) does, without waiting for the rest of the store: what an
    /// event's answer to Slack waits for.
    pub(crate) async fn flush_journal(&self) -> Result<(), StoreError> {
        self.flusher.flush(Reach::Log).await
    }

    /// Asks for every write made before this call to reach the disk within 5 ms and one
    /// flush, without waiting: for writes whose loss in a crash does no harm beyond
    /// repeating something (a call Slack took, taken out of the outbox) or that are rare.
    pub(crate) fn flush_soon(&self) {
        self.flusher.flush_soon();
    }

    /// As [`flush_soon`](Self::flush_soon), within 50 ms (sooner while many ask): for what
    /// each event's handling writes, whose loss in a crash only hands the event over again.
    pub(crate) fn flush_lazily(&self) {
        self.flusher.flush_lazily();
    }

    /// Resolves when every handle of this store (clones, tables' owners) is dropped and the
    /// data folder is released, so the same process may open it again. Holds no handle itself.
    pub(crate) fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.flusher.closed()
    }

    /// Flushes synchronously: for shutdown and for commands that run without a runtime.
    /// Refuses at once when the disk is known to fail (sled could wait forever).
    pub fn flush_now(&self) -> Result<(), StoreError> {
        self.health.check()?;
        flush::flush_all(&self.db, &self.files, &self.health).map_err(StoreError::Flush)
    }

    /// `Ok` while the store can make writes durable; otherwise why not (the disk refused a
    /// write, or has not confirmed one for [`FLUSH_PATIENCE`]). For the health check.
    pub(crate) fn health(&self) -> Result<(), StoreError> {
        self.health.check()
    }

    fn data_trees(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .db
            .tree_names()
            .into_iter()
            .map(|name| String::from_utf8_lossy(&name).into_owned())
            .filter(|name| name != META_TREE && !name.starts_with("__sled"))
            .collect();
        names.sort();
        names
    }

    /// Removes every record of `team` from every table, the event journal included; returns
    /// how many. Not durable until the store is flushed.
    pub(crate) fn delete_team(&self, team: &TeamId) -> Result<usize, StoreError> {
        let prefix = scoped_key(team, "");
        let mut removed = 0;
        for name in self.data_trees() {
            let tree = self.db.open_tree(&name)?;
            for entry in tree.scan_prefix(&prefix) {
                let (key, _) = entry?;
                tree.remove(key)?;
                removed += 1;
            }
        }
        Ok(removed + journal::forget_team(&self.files, team)?)
    }

    /// Writes every record as one JSON line `{"table", "key", "value"}` after a header line,
    /// installations and install links left out ([`NOT_EXPORTED`]). Returns the number of
    /// records written.
    pub fn export(&self, out: &mut impl Write) -> Result<usize, StoreError> {
        let header =
            serde_json::json!({ "format": EXPORT_FORMAT, "schema_version": SCHEMA_VERSION });
        writeln!(out, "{header}")?;
        let mut count = 0;
        for name in self.data_trees() {
            if NOT_EXPORTED.contains(&name.as_str()) {
                continue;
            }
            for entry in self.db.open_tree(&name)?.iter() {
                let (key, value) = entry?;
                write_record(out, &name, &String::from_utf8_lossy(&key), &value)?;
                count += 1;
            }
        }
        journal::for_each_waiting(&self.files, |key, value| {
            count += 1;
            write_record(out, journal::PENDING_TREE, key, value)
        })?;
        out.flush()?;
        Ok(count)
    }

    /// Reads an export back. Records overwrite keys already present; nothing else is touched.
    /// The whole file is checked before anything is written, then flushed once.
    pub fn import(&self, input: impl BufRead) -> Result<usize, StoreError> {
        let mut records = Vec::new();
        let mut header_read = false;
        for (index, line) in input.lines().enumerate() {
            let line_number = index + 1;
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |reason: String| StoreError::BadImport {
                line: line_number,
                reason,
            };
            let value: serde_json::Value =
                serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
            // The first line that is not blank: blank lines before it must not let a file
            // without the header through.
            if !header_read {
                check_export_header(&value).map_err(bad)?;
                header_read = true;
                continue;
            }
            let field = |name: &str| {
                value
                    .get(name)
                    .ok_or_else(|| bad(format!("the field `{name}` is missing")))
            };
            let table = field("table")?
                .as_str()
                .filter(|t| !t.is_empty() && *t != META_TREE && !t.starts_with("__sled"))
                .ok_or_else(|| bad("`table` must name a data table".into()))?
                .to_string();
            let key = field("key")?
                .as_str()
                .ok_or_else(|| bad("`key` must be a string".into()))?
                .to_string();
            let stored = serde_json::to_vec(field("value")?).map_err(|e| bad(e.to_string()))?;
            if table == journal::PENDING_TREE {
                journal::check_entry(key.as_bytes(), &stored).map_err(bad)?;
            }
            records.push((table, key, stored));
        }
        if !header_read {
            return Err(StoreError::BadImport {
                line: 1,
                reason: format!(
                    "the file is empty; it must start with the `{EXPORT_FORMAT}` header written by `async-norms export`"
                ),
            });
        }
        for (table, key, value) in &records {
            if table == journal::PENDING_TREE {
                journal::import_entry(&self.files, key, value)?;
            } else {
                self.db
                    .open_tree(table)?
                    .insert(key.as_bytes(), value.as_slice())?;
            }
        }
        self.flush_now()?;
        Ok(records.len())
    }
}

/// One line of an export: `{"table", "key", "value"}`, the value being stored JSON.
fn write_record(
    out: &mut impl Write,
    table: &str,
    key: &str,
    value: &[u8],
) -> Result<(), StoreError> {
    let value: serde_json::Value =
        serde_json::from_slice(value).map_err(|source| StoreError::Corrupt {
            table: table.to_string(),
            key: key.to_string(),
            source,
        })?;
    let record = serde_json::json!({ "table": table, "key": key, "value": value });
    writeln!(out, "{record}")?;
    Ok(())
}

fn check_export_header(value: &serde_json::Value) -> Result<(), String> {
    if value.get("format").and_then(|f| f.as_str()) != Some(EXPORT_FORMAT) {
        return Err(format!(
            "the first line must be the `{EXPORT_FORMAT}` header written by `async-norms export`"
        ));
    }
    let version = value
        .get("schema_version")
        .and_then(|v| v.as_u64())
        .unwrap_or(u64::MAX);
    if version > u64::from(SCHEMA_VERSION) {
        return Err(format!(
            "the export is of schema {version}, newer than this build's {SCHEMA_VERSION}"
        ));
    }
    Ok(())
}

/// A sled tree of JSON-encoded `V`, keyed by `"{team}/{key}"`.
pub struct Table<V> {
    name: &'static str,
    tree: sled::Tree,
    /// The tree keeps the database (and its folder's lock) open: holding the flusher's
    /// handle too makes [`Store::closed`] wait for the last table, whatever order a struct
    /// holding a table and a store drops them in.
    _open: Flusher,
    _value: PhantomData<fn() -> V>,
}

impl<V> Clone for Table<V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            tree: self.tree.clone(),
            _open: self._open.clone(),
            _value: PhantomData,
        }
    }
}

fn scoped_key(team: &TeamId, key: &str) -> Vec<u8> {
    let mut scoped = Vec::with_capacity(team.as_str().len() + 1 + key.len());
    scoped.extend_from_slice(team.as_str().as_bytes());
    scoped.push(b'/');
    scoped.extend_from_slice(key.as_bytes());
    scoped
}

impl<V: Serialize + DeserializeOwned> Table<V> {
    fn decode(&self, key: &[u8], bytes: &[u8]) -> Result<V, StoreError> {
        serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
            table: self.name.to_string(),
            key: String::from_utf8_lossy(key).into_owned(),
            source,
        })
    }

    fn encode(&self, value: &V) -> Result<Vec<u8>, StoreError> {
        serde_json::to_vec(value).map_err(|source| StoreError::Encode {
            table: self.name,
            source,
        })
    }

    pub fn get(&self, team: &TeamId, key: &str) -> Result<Option<V>, StoreError> {
        let scoped = scoped_key(team, key);
        self.tree
            .get(&scoped)?
            .map(|bytes| self.decode(&scoped, &bytes))
            .transpose()
    }

    /// Refuses a write once the disk refused one: sled keeps such an error for its own log,
    /// but the files beside it may be refused first, and a write kept only in memory would
    /// look done (a made call taken out of the outbox, then made again after a restart).
    fn writable(&self) -> Result<(), StoreError> {
        self._open.refused()
    }

    pub fn put(&self, team: &TeamId, key: &str, value: &V) -> Result<(), StoreError> {
        self.writable()?;
        self.tree
            .insert(scoped_key(team, key), self.encode(value)?)?;
        Ok(())
    }

    /// Removes the record; says whether there was one.
    pub(crate) fn remove(&self, team: &TeamId, key: &str) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(self.tree.remove(scoped_key(team, key))?.is_some())
    }

    /// Writes the value only if the key is free; says whether it was written.
    pub(crate) fn insert_if_absent(
        &self,
        team: &TeamId,
        key: &str,
        value: &V,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let swapped = self.tree.compare_and_swap(
            scoped_key(team, key),
            None as Option<&[u8]>,
            Some(self.encode(value)?),
        )?;
        Ok(swapped.is_ok())
    }

    /// Changes a stored value in one atomic step, so a writer that read it earlier cannot
    /// undo someone else's change; nothing happens when there is no value. `change` may run
    /// more than once (when the value changed meanwhile) and must depend on its input only.
    /// Returns the value written.
    pub(crate) fn update(
        &self,
        team: &TeamId,
        key: &str,
        change: impl Fn(V) -> V,
    ) -> Result<Option<V>, StoreError> {
        self.writable()?;
        let scoped = scoped_key(team, key);
        loop {
            let Some(old) = self.tree.get(&scoped)? else {
                return Ok(None);
            };
            let new = change(self.decode(&scoped, &old)?);
            let swapped =
                self.tree
                    .compare_and_swap(&scoped, Some(old), Some(self.encode(&new)?))?;
            if swapped.is_ok() {
                return Ok(Some(new));
            }
        }
    }

    /// Writes `change(current value)` in one atomic step, whether or not a value was there:
    /// two writers at the same moment each see the other's result (a counter handed out
    /// twice would give two records one id). `change` may run more than once and must
    /// depend on its input only. Returns the value written.
    pub(crate) fn upsert(
        &self,
        team: &TeamId,
        key: &str,
        change: impl Fn(Option<V>) -> V,
    ) -> Result<V, StoreError> {
        self.writable()?;
        let scoped = scoped_key(team, key);
        loop {
            let old = self.tree.get(&scoped)?;
            let current = old
                .as_ref()
                .map(|bytes| self.decode(&scoped, bytes))
                .transpose()?;
            let new = change(current);
            let swapped = self
                .tree
                .compare_and_swap(&scoped, old, Some(self.encode(&new)?))?;
            if swapped.is_ok() {
                return Ok(new);
            }
        }
    }

    /// Every record of one team whose key starts with `prefix`, in key order.
    pub(crate) fn scan(&self, team: &TeamId, prefix: &str) -> Result<Vec<(String, V)>, StoreError> {
        let scoped = scoped_key(team, prefix);
        let skip = team.as_str().len() + 1;
        self.tree
            .scan_prefix(&scoped)
            .map(|entry| {
                let (key, bytes) = entry?;
                let value = self.decode(&key, &bytes)?;
                Ok((String::from_utf8_lossy(&key[skip..]).into_owned(), value))
            })
            .collect()
    }

    /// Removes every record of one team whose key starts with `prefix`; returns how many.
    pub(crate) fn remove_prefix(&self, team: &TeamId, prefix: &str) -> Result<usize, StoreError> {
        self.writable()?;
        let mut removed = 0;
        for entry in self.tree.scan_prefix(scoped_key(team, prefix)) {
            let (key, _) = entry?;
            self.tree.remove(key)?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Every record of every team: `(team, key, value)`.
    pub(crate) fn scan_all(
        &self,
    ) -> impl Iterator<Item = Result<(TeamId, String, V), StoreError>> + '_ {
        self.tree.iter().map(move |entry| {
            let (key, bytes) = entry?;
            let value = self.decode(&key, &bytes)?;
            let text = String::from_utf8_lossy(&key);
            let (team, rest) = text.split_once('/').unwrap_or((&text, ""));
            Ok((TeamId::new(team), rest.to_string(), value))
        })
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn a_counter_bumped_from_many_threads_at_once_hands_out_each_number_once() {
        let (_dir, store) = temp_store();
        let table = store.table::<u64>("sequence").unwrap();
        let team = TeamId::new("T1");
        let handed_out: Vec<u64> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        (0..50)
                            .map(|_| table.upsert(&team, "last", |n| n.unwrap_or(0) + 1).unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        let mut sorted = handed_out.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 400, "no number twice");
        assert_eq!(sorted.last(), Some(&400));
    }

    #[test]
    fn keys_are_scoped_by_team() {
        let (_dir, store) = temp_store();
        let table = store.table::<String>("notes").unwrap();
        let (a, b) = (TeamId::new("T1"), TeamId::new("T2"));
        table.put(&a, "U1", &"one".to_string()).unwrap();
        table.put(&b, "U1", &"two".to_string()).unwrap();
        assert_eq!(table.get(&a, "U1").unwrap().as_deref(), Some("one"));
        assert_eq!(table.get(&b, "U1").unwrap().as_deref(), Some("two"));
        assert_eq!(
            table.scan(&a, "").unwrap(),
            vec![("U1".to_string(), "one".to_string())]
        );
        assert!(table.remove(&a, "U1").unwrap());
        assert!(!table.remove(&a, "U1").unwrap());
        assert_eq!(table.get(&b, "U1").unwrap().as_deref(), Some("two"));
    }

    #[test]
    fn insert_if_absent_writes_once() {
        let (_dir, store) = temp_store();
        let table = store.table::<u32>("once").unwrap();
        let team = TeamId::new("T1");
        assert!(table.insert_if_absent(&team, "k", &1).unwrap());
        assert!(!table.insert_if_absent(&team, "k", &2).unwrap());
        assert_eq!(table.get(&team, "k").unwrap(), Some(1));
    }

    #[test]
    fn update_changes_what_is_stored_now_and_never_resurrects() {
        let (_dir, store) = temp_store();
        let table = store.table::<u32>("counted").unwrap();
        let team = TeamId::new("T1");
        assert_eq!(table.update(&team, "k", |n| n + 1).unwrap(), None);
        assert_eq!(table.get(&team, "k").unwrap(), None, "no value, no write");
        table.put(&team, "k", &1).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let table = store.table::<u32>("counted").unwrap();
                let team = team.clone();
                std::thread::spawn(move || {
                    for _ in 0..250 {
                        table.update(&team, "k", |n| n + 1).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(table.get(&team, "k").unwrap(), Some(1001), "no change lost");
    }

    #[test]
    fn export_then_import_moves_every_record() {
        let (_dir, store) = temp_store();
        let team = TeamId::new("T1");
        store
            .table::<String>("a")
            .unwrap()
            .put(&team, "x", &"ü and \"quotes\"".into())
            .unwrap();
        store
            .table::<Vec<u32>>("b")
            .unwrap()
            .put(&team, "y", &vec![1, 2])
            .unwrap();
        // A waiting event travels with its body, which is kept in a segment file.
        let journal = store.event_journal().unwrap();
        journal
            .admit(&team, "EvWaiting", br#"{"type":"message"}"#, 7)
            .unwrap();
        let mut dump = Vec::new();
        assert_eq!(store.export(&mut dump).unwrap(), 3);
        let text = String::from_utf8(dump.clone()).unwrap();
        assert!(
            text.contains(r#""value":{"event":{"type":"message"},"seen_at":7}"#),
            "{text}"
        );

        let (_dir2, other) = temp_store();
        assert_eq!(other.import(dump.as_slice()).unwrap(), 3);
        let moved = other.event_journal().unwrap();
        assert_eq!(
            moved.get("T1/EvWaiting").unwrap(),
            Some((br#"{"type":"message"}"#.to_vec(), 7))
        );
        let mut again = Vec::new();
        other.export(&mut again).unwrap();
        assert_eq!(
            String::from_utf8(again).unwrap(),
            String::from_utf8(dump).unwrap()
        );
    }

    #[test]
    fn import_refuses_foreign_files_before_writing_anything() {
        let (_dir, store) = temp_store();
        let err = store.import("{\"hello\":1}\n".as_bytes()).unwrap_err();
        assert!(
            matches!(err, StoreError::BadImport { line: 1, .. }),
            "{err}"
        );
        let header = format!("{{\"format\":\"{EXPORT_FORMAT}\",\"schema_version\":1}}\n");
        let good = "{\"table\":\"a\",\"key\":\"T1/x\",\"value\":1}\n";
        let bad = "{\"table\":\"meta\",\"key\":\"schema_version\",\"value\":9}\n";
        let err = store
            .import(format!("{header}{good}{bad}").as_bytes())
            .unwrap_err();
        assert!(
            matches!(err, StoreError::BadImport { line: 3, .. }),
            "{err}"
        );
        assert!(
            store.table::<u32>("a").unwrap().is_empty(),
            "nothing written"
        );
        // A waiting event without the event itself: said once, with its line.
        let bodiless =
            "{\"table\":\"journal_pending\",\"key\":\"T1/Ev1\",\"value\":{\"seen_at\":1}}\n";
        let err = store
            .import(format!("{header}{good}{bodiless}").as_bytes())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3 of the import is not a record of an async-norms export: a waiting event must carry its `event`"
        );
        assert_eq!(store.event_journal().unwrap().pending_len(), 0);
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree(META_TREE)
                .unwrap()
                .insert(SCHEMA_KEY, &99u32.to_be_bytes())
                .unwrap();
            db.flush().unwrap();
        }
        // Opened by sled itself, so `Store::open` does not know to wait for its pool threads.
        lock::wait_until_released(dir.path());
        let err = Store::open(dir.path()).err().unwrap();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found: 99, .. }),
            "{err}"
        );
    }
}

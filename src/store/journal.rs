//! The event journal: how an event that Slack was told we received (HTTP 200) survives a
//! crash, and how a redelivery of the same event is recognised, across restarts too.
//!
//! Each event waiting to be handled is in the log beside sled (`store/log.rs`), keyed
//! `"{team}/{event_id}"`, with its attempts; the log keeps in memory where each one is. Once
//! handled, the event leaves the log and only its id stays, as a hash in the file of the hour
//! it was first seen (`store/seen.rs`, 8 bytes an id), forgotten a whole hour at a time.
//! Nothing of the journal is in sled: sled never gives back the space of a tree that once held
//! a backlog.
//!
//! Slack retries an event it did not hear 200 for nearly at once, after a minute and after
//! five; ids are looked up in the hour a redelivery arrives and the one before, and kept that
//! long ([`REMEMBER_HOURS`]).
//!
//! The event is what the caller gives: the bot gives the distilled event (`bot::distil`), never
//! the body Slack sent. The caller flushes before answering Slack.

use crate::store::flush::Flusher;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::flush::{BesideSled, DiskHealth};
use super::seen::id_hash;
use super::{Store, StoreError};
use crate::ids::TeamId;

/// The table an export writes waiting events in (and the sled tree of the fourth layout,
/// moved into the log when found).
pub(crate) const PENDING_TREE: &str = "journal_pending";
/// The tree of handled ids of the third layout, moved into the files of `seen.rs` when found.
const SEEN_TREE: &str = "journal_seen";
/// The single tree of the second layout, moved when found.
const SINGLE_TREE: &str = "events_journal";
/// The two trees of the first layout, moved when found.
const OLD_SEEN_TREE: &str = "events_seen";
const OLD_PENDING_TREE: &str = "events_pending";
/// The attempt counts of earlier layouts, moved into the log when found.
const ATTEMPTS_TREE: &str = "events_attempts";
/// Every tree of the journal's earlier layouts.
const OLD_TREES: [&str; 6] = [
    OLD_SEEN_TREE,
    OLD_PENDING_TREE,
    SINGLE_TREE,
    SEEN_TREE,
    PENDING_TREE,
    ATTEMPTS_TREE,
];
/// The folder of the fourth layout's event bodies, deleted once its events are in the log.
pub(crate) const OLD_BODIES_FOLDER: &str = "journal";
/// A handled id is recognised in the hour it was first seen and the next one.
pub const REMEMBER_HOURS: i64 = 2;

/// Whether an event is new or a redelivery of one already journaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    New,
    Duplicate,
}

/// The key of one journaled event: `"{team}/{event_id}"`.
pub type JournalKey = String;

#[derive(Clone)]
pub struct EventJournal {
    files: Arc<BesideSled>,
    health: Arc<DiskHealth>,
    /// Holding the flusher's handle makes [`Store::closed`] wait for this journal's last
    /// clone.
    _open: Flusher,
}

/// A waiting event as an export writes it, and as earlier layouts kept it in sled.
#[derive(Deserialize)]
struct Entry<'a> {
    seen_at: i64,
    /// The event, inline.
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
    /// Where the fourth layout kept the event: `[segment, offset, length]` in its folder.
    #[serde(default)]
    body: Option<(u64, u64, u64)>,
}

fn read_entry<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Entry<'a>, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        table: PENDING_TREE.into(),
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

/// Why `bytes` do not read as a waiting event of an export (the event inline), if they do
/// not: said as the reason of the import's error for its line.
pub(crate) fn check_entry(key: &[u8], bytes: &[u8]) -> Result<(), String> {
    match read_entry(key, bytes) {
        Ok(Entry { event: Some(_), .. }) => Ok(()),
        Ok(_) => Err("a waiting event must carry its `event`".into()),
        Err(error) => Err(error.to_string()),
    }
}

fn pending_entry(seen_at: i64, raw: &[u8]) -> Vec<u8> {
    let mut entry = Vec::with_capacity(raw.len() + 40);
    entry.extend_from_slice(format!("{{\"seen_at\":{seen_at},\"event\":").as_bytes());
    entry.extend_from_slice(raw);
    entry.push(b'}');
    entry
}

/// Each waiting event as `export` writes it, `{"seen_at":N,"event":{…}}`, in the order they
/// came.
pub(crate) fn for_each_waiting(
    files: &BesideSled,
    mut write: impl FnMut(&str, &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut after = None;
    loop {
        let (keys, resume) = files.log.after(after, 1024);
        for key in keys {
            if let Some((raw, seen_at)) = files.log.get(id_hash(&key))? {
                write(&key, &pending_entry(seen_at, &raw))?;
            }
        }
        match resume {
            Some(place) => after = Some(place),
            None => return Ok(()),
        }
    }
}

/// A waiting event of an export, as `import` keeps it: in the log, unless it waits already.
pub(crate) fn import_entry(files: &BesideSled, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let entry = read_entry(key.as_bytes(), bytes)?;
    if let Some(raw) = entry.event {
        files
            .log
            .admit(key, id_hash(key), entry.seen_at, raw.get().as_bytes())?;
    }
    Ok(())
}

/// Takes every waiting event of `team` out of the log (its team uninstalled); returns how
/// many. Not durable until the store is flushed.
pub(crate) fn forget_team(files: &BesideSled, team: &TeamId) -> Result<usize, StoreError> {
    let keys = files.log.keys_starting(&format!("{team}/"));
    for key in &keys {
        files.log.done(id_hash(key));
    }
    Ok(keys.len())
}

/// The hour (since the Unix epoch) of a moment in Unix seconds.
pub(crate) fn hour_of(unix: i64) -> i64 {
    unix.div_euclid(3600)
}

/// The journal key and the hour of a key of the third layout's seen tree,
/// `"{team}/{hour}/{event_id}"` (the hour in 8 hex digits).
fn read_seen_key(seen_key: &str) -> Option<(String, i64)> {
    let (team, rest) = seen_key.split_once('/')?;
    let (hour, event_id) = rest.split_once('/')?;
    Some((
        format!("{team}/{event_id}"),
        i64::from_str_radix(hour, 16).ok()?,
    ))
}

/// A body the fourth layout kept in its segment files.
fn read_old_body(folder: &Path, (segment, offset, len): (u64, u64, u64)) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(folder.join(format!("{segment:016x}.seg"))).ok()?;
    let mut body = vec![0; usize::try_from(len).ok()?];
    file.read_exact_at(&mut body, offset).ok()?;
    (body.first() == Some(&b'{') && body.last() == Some(&b'}')).then_some(body)
}

impl Store {
    pub fn event_journal(&self) -> Result<EventJournal, StoreError> {
        Ok(EventJournal {
            files: self.files.clone(),
            health: self.health.clone(),
            _open: self.flusher.clone(),
        })
    }

    /// Moves the journals of earlier layouts (a tree of ids and a tree of raw events; then
    /// one tree of both; then handled ids in a tree of their own; then waiting events in a
    /// tree, their bodies in a folder of their own; attempt counts in a tree) into the log
    /// and the files of handled ids, then drops the old trees and folder.
    pub(crate) fn move_old_journal(&self, data_dir: &Path) -> Result<(), StoreError> {
        let (log, seen) = (&self.files.log, &self.files.seen);
        let names = self.db.tree_names();
        let has = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
        let old_bodies = data_dir.join(OLD_BODIES_FOLDER);
        if !old_bodies.exists() && !OLD_TREES.iter().any(|name| has(name)) {
            return Ok(());
        }
        let move_one = |key: &[u8], seen_at: i64, raw: Option<&[u8]>| -> Result<(), StoreError> {
            let key = String::from_utf8_lossy(key);
            match raw {
                Some(raw) => {
                    log.admit(&key, id_hash(&key), seen_at, raw)?;
                }
                None => seen.insert(hour_of(seen_at), id_hash(&key)),
            }
            Ok(())
        };
        let mut moved = Vec::new();
        if has(OLD_SEEN_TREE) || has(OLD_PENDING_TREE) {
            let old_seen = self.db.open_tree(OLD_SEEN_TREE)?;
            let old_pending = self.db.open_tree(OLD_PENDING_TREE)?;
            let seen_at = |key: &[u8]| -> Result<i64, StoreError> {
                Ok(old_seen
                    .get(key)?
                    .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse().ok())
                    .unwrap_or(0))
            };
            for entry in old_pending.iter() {
                let (key, raw) = entry?;
                move_one(&key, seen_at(&key)?, Some(&raw))?;
            }
            for entry in old_seen.iter() {
                let (key, _) = entry?;
                if !old_pending.contains_key(&key)? {
                    move_one(&key, seen_at(&key)?, None)?;
                }
            }
            moved.extend([OLD_SEEN_TREE, OLD_PENDING_TREE]);
        }
        for name in [SINGLE_TREE, PENDING_TREE] {
            if !has(name) {
                continue;
            }
            for entry in self.db.open_tree(name)?.iter() {
                let (key, value) = entry?;
                // Unreadable: nothing can be done with it but forget it.
                let Ok(old) = read_entry(&key, &value) else {
                    continue;
                };
                let raw = match (old.event, old.body) {
                    (Some(raw), _) => Some(raw.get().as_bytes().to_vec()),
                    // Its body cut short by a crash: never acknowledged, Slack sends it again.
                    (None, Some(at)) => match read_old_body(&old_bodies, at) {
                        Some(body) => Some(body),
                        None => continue,
                    },
                    (None, None) => None,
                };
                move_one(&key, old.seen_at, raw.as_deref())?;
            }
            moved.push(name);
        }
        if has(SEEN_TREE) {
            for entry in self.db.open_tree(SEEN_TREE)?.iter() {
                let (key, _) = entry?;
                // Unreadable: nothing can be done with it but forget it.
                if let Some((journal_key, hour)) = read_seen_key(&String::from_utf8_lossy(&key)) {
                    seen.insert(hour, id_hash(&journal_key));
                }
            }
            moved.push(SEEN_TREE);
        }
        if has(ATTEMPTS_TREE) {
            for entry in self.db.open_tree(ATTEMPTS_TREE)?.iter() {
                let (key, count) = entry?;
                let hash = id_hash(&String::from_utf8_lossy(&key));
                let count: u32 = std::str::from_utf8(&count)
                    .ok()
                    .and_then(|c| c.trim().parse().ok())
                    .unwrap_or(0);
                for _ in 0..count {
                    log.begin_attempt(hash)?;
                }
            }
            moved.push(ATTEMPTS_TREE);
        }
        self.flush_now()?;
        for name in moved {
            self.db.drop_tree(name)?;
        }
        self.db.flush()?;
        if old_bodies.exists() {
            std::fs::remove_dir_all(&old_bodies)?;
        }
        Ok(())
    }
}

impl EventJournal {
    /// Records `event_id` as seen and keeps `raw` until [`complete`](Self::complete).
    /// `raw` must be JSON. Not durable until the store is flushed; refused, duplicates
    /// included, while the disk fails ([`Store::health`]).
    pub fn admit(
        &self,
        team: &TeamId,
        event_id: &str,
        raw: &[u8],
        received_at_unix: i64,
    ) -> Result<(Admission, JournalKey), StoreError> {
        // A store that cannot make the entry durable must not take it: Slack would hear
        // 200 for its retry (a duplicate of an entry that exists only in memory).
        self.health.check()?;
        let key = format!("{team}/{event_id}");
        let hash = id_hash(&key);
        if self.was_handled(hash, received_at_unix) {
            return Ok((Admission::Duplicate, key));
        }
        let log = &self.files.log;
        let admitted = log
            .admit(&key, hash, received_at_unix, raw)
            .map_err(|error| self.refused(error))?;
        if !admitted {
            return Ok((Admission::Duplicate, key));
        }
        // Handled between the look above and the admission: `complete` records the id before
        // the event leaves the log, so it is seen now, and this is a second copy.
        if self.was_handled(hash, received_at_unix) {
            log.done(hash);
            return Ok((Admission::Duplicate, key));
        }
        Ok((Admission::New, key))
    }

    /// A write the disk refused: every write is refused from now on.
    fn refused(&self, error: std::io::Error) -> StoreError {
        self.health.record_io(&error);
        // Said as the disk's refusal (logged once, by the health).
        self.health.check().err().unwrap_or(error.into())
    }

    /// Whether the event whose key hashes to `hash` was handled within the hours a
    /// redelivery arriving at `now_unix` is looked up in.
    fn was_handled(&self, hash: u64, now_unix: i64) -> bool {
        let now = hour_of(now_unix);
        self.files
            .seen
            .contains(now - REMEMBER_HOURS + 1..=now, hash)
    }

    /// The raw event kept under `key` and when it was received (Unix seconds), if it has
    /// not been completed.
    pub fn get(&self, key: &str) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        let hash = id_hash(key);
        // Handled, and the process stopped after its id reached the disk and before the
        // log's record of it did: it is done.
        if self.files.seen.contains_any(hash) {
            self.files.log.done(hash);
            return Ok(None);
        }
        Ok(self.files.log.get(hash)?)
    }

    /// Counts one more attempt at the event under `key` and says which one it is (1 for the
    /// first); `None` when it no longer waits. Not durable until the store is flushed.
    pub fn begin_attempt(&self, key: &str) -> Result<Option<u32>, StoreError> {
        self.health.refused()?;
        self.files
            .log
            .begin_attempt(id_hash(key))
            .map_err(|error| self.refused(error))
    }

    /// Every event admitted but not completed, in the order they came.
    pub fn pending(&self) -> Result<Vec<JournalKey>, StoreError> {
        let mut keys = Vec::new();
        let mut after = String::new();
        loop {
            let (batch, resume_after) = self.pending_after(&after, 1024)?;
            keys.extend(batch);
            match resume_after {
                Some(next) => after = next,
                None => return Ok(keys),
            }
        }
    }

    /// Up to `limit` events not yet completed that came after the place `after` (from the
    /// first when it is empty: a place is what an earlier call returned), in the order they came, and the place to resume after when
    /// there may be more.
    pub fn pending_after(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<(Vec<JournalKey>, Option<String>), StoreError> {
        // Only what this returned comes back: anything else reads from the first.
        let after = after.parse().ok();
        let (keys, resume) = self.files.log.after(after, limit);
        Ok((keys, resume.map(|place| place.to_string())))
    }

    pub fn pending_len(&self) -> usize {
        self.files.log.len()
    }

    /// Drops the event, keeping its id: it has been handled. Not durable until the store is
    /// flushed.
    pub fn complete(&self, key: &str) -> Result<(), StoreError> {
        let hash = id_hash(key);
        let Some(seen_at) = self.files.log.received_at(hash) else {
            return Ok(());
        };
        // The id first: an admission that finds neither would take a redelivery as new.
        self.files.seen.insert(hour_of(seen_at), hash);
        self.files.log.done(hash);
        Ok(())
    }

    /// Forgets handled event ids first seen in an hour before the one of `cutoff_unix`;
    /// returns how many. Events not yet handled are kept, however old.
    pub fn prune_seen(&self, cutoff_unix: i64) -> Result<usize, StoreError> {
        Ok(self.files.seen.prune(hour_of(cutoff_unix))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;

    #[test]
    fn an_event_is_admitted_once_and_kept_until_completed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        let team = TeamId::new("T1");
        let (first, key) = journal.admit(&team, "Ev1", b"{\"a\":1}", 100).unwrap();
        assert_eq!(first, Admission::New);
        let (again, _) = journal.admit(&team, "Ev1", b"{\"a\":1}", 101).unwrap();
        assert_eq!(again, Admission::Duplicate);
        assert_eq!(journal.pending().unwrap(), vec![key.clone()]);
        journal.complete(&key).unwrap();
        assert!(journal.pending().unwrap().is_empty());
        assert!(journal.get(&key).unwrap().is_none());
        // Still a duplicate after completion: Slack may retry after we handled it, in the
        // same hour or the next.
        for retried_at in [102, HOUR + 5, 2 * HOUR - 1] {
            assert_eq!(
                journal.admit(&team, "Ev1", b"{}", retried_at).unwrap().0,
                Admission::Duplicate,
                "at {retried_at}"
            );
        }
        assert_eq!(journal.pending_len(), 0);
        assert_eq!(journal.prune_seen(HOUR).unwrap(), 1);
        assert_eq!(
            journal.admit(&team, "Ev1", b"{}", 103).unwrap().0,
            Admission::New
        );
    }

    #[test]
    fn handled_ids_are_forgotten_by_the_hour_for_every_team() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        for team in ["T1", "T2", "E9"] {
            for (index, at) in [10, HOUR + 10, 3 * HOUR].into_iter().enumerate() {
                let (_, key) = journal
                    .admit(&TeamId::new(team), &format!("Ev{index}"), b"{}", at)
                    .unwrap();
                journal.complete(&key).unwrap();
            }
        }
        // A pending event of the first hour stays, however old.
        journal
            .admit(&TeamId::new("T1"), "EvOld", b"{}", 5)
            .unwrap();
        assert_eq!(
            journal.prune_seen(HOUR + 20).unwrap(),
            3,
            "the first hour's"
        );
        assert_eq!(journal.prune_seen(HOUR + 20).unwrap(), 0);
        assert_eq!(
            journal.prune_seen(3 * HOUR).unwrap(),
            3,
            "the second hour's"
        );
        assert_eq!(journal.files.seen.len(), 3);
        assert_eq!(journal.pending().unwrap(), ["T1/EvOld"]);
    }

    #[test]
    fn pending_events_are_read_back_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        let team = TeamId::new("T1");
        for index in 0..5 {
            journal
                .admit(&team, &format!("Ev{index}"), b"{}", 1)
                .unwrap();
        }
        journal.complete("T1/Ev2").unwrap();
        let (first, resume) = journal.pending_after("", 2).unwrap();
        assert_eq!(first, ["T1/Ev0", "T1/Ev1"]);
        let (second, resume) = journal.pending_after(&resume.unwrap(), 2).unwrap();
        assert_eq!(second, ["T1/Ev3", "T1/Ev4"], "the handled event is skipped");
        let (rest, resume) = journal.pending_after(&resume.unwrap(), 2).unwrap();
        assert!(rest.is_empty() && resume.is_none());
        assert_eq!(journal.pending().unwrap().len(), 4);
        assert_eq!(journal.pending_len(), 4);
    }

    #[test]
    fn the_journal_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let journal = store.event_journal().unwrap();
            journal.admit(&TeamId::new("T1"), "Ev9", b"{}", 1).unwrap();
            let (_, done) = journal.admit(&TeamId::new("T1"), "Ev8", b"{}", 1).unwrap();
            journal.complete(&done).unwrap();
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        assert_eq!(journal.pending().unwrap(), vec!["T1/Ev9".to_string()]);
        assert_eq!(journal.pending_len(), 1);
        assert_eq!(journal.get("T1/Ev9").unwrap().unwrap(), (b"{}".to_vec(), 1));
        assert_eq!(
            journal
                .admit(&TeamId::new("T1"), "Ev8", b"{}", 2)
                .unwrap()
                .0,
            Admission::Duplicate
        );
    }

    /// Earlier layouts found in a data folder, each moved into the two trees.
    fn moved_layout(write: impl FnOnce(&Store, &Path)) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            write(&store, dir.path());
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        assert_eq!(journal.pending().unwrap(), vec!["T1/EvWaiting".to_string()]);
        assert_eq!(journal.pending_len(), 1);
        assert_eq!(
            journal.get("T1/EvWaiting").unwrap().unwrap(),
            (br#"{"type":"event_callback"}"#.to_vec(), 200)
        );
        let team = TeamId::new("T1");
        assert_eq!(
            journal.admit(&team, "EvDone", b"{}", 300).unwrap().0,
            Admission::Duplicate
        );
        assert!(
            !store
                .data_trees()
                .iter()
                .any(|t| OLD_TREES.contains(&t.as_str()))
        );
        assert!(!dir.path().join(OLD_BODIES_FOLDER).exists());
        assert_eq!(
            journal.prune_seen(2 * HOUR).unwrap(),
            1,
            "the handled id, not the waiting event"
        );
        dir
    }

    #[test]
    fn the_first_layout_is_moved_into_the_two_trees() {
        moved_layout(|store, _| {
            let seen = store.db.open_tree(OLD_SEEN_TREE).unwrap();
            let pending = store.db.open_tree(OLD_PENDING_TREE).unwrap();
            seen.insert("T1/EvDone", "100").unwrap();
            seen.insert("T1/EvWaiting", "200").unwrap();
            pending
                .insert("T1/EvWaiting", r#"{"type":"event_callback"}"#)
                .unwrap();
        });
    }

    #[test]
    fn the_single_tree_layout_is_moved_into_the_two_trees() {
        moved_layout(|store, _| {
            let single = store.db.open_tree(SINGLE_TREE).unwrap();
            single.insert("T1/EvDone", r#"{"seen_at":100}"#).unwrap();
            single
                .insert(
                    "T1/EvWaiting",
                    pending_entry(200, br#"{"type":"event_callback"}"#),
                )
                .unwrap();
            single.insert("T1/EvBroken", "not json").unwrap();
        });
    }

    #[test]
    fn the_tree_of_handled_ids_is_moved_into_their_files() {
        moved_layout(|store, _| {
            let seen = store.db.open_tree(SEEN_TREE).unwrap();
            seen.insert("T1/00000000/EvDone", "1").unwrap();
            seen.insert("T1/broken", "1").unwrap();
            store
                .db
                .open_tree(PENDING_TREE)
                .unwrap()
                .insert(
                    "T1/EvWaiting",
                    pending_entry(200, br#"{"type":"event_callback"}"#),
                )
                .unwrap();
        });
    }

    #[test]
    fn the_tree_of_waiting_events_and_its_folder_of_bodies_are_moved_into_the_log() {
        let body = br#"{"type":"event_callback"}"#;
        let dir = moved_layout(|store, dir| {
            // The fourth layout: bodies in a segment file, where they are in a sled tree.
            let folder = dir.join(OLD_BODIES_FOLDER);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(
                folder.join("0000000000000003.seg"),
                [&b"{}"[..], body].concat(),
            )
            .unwrap();
            let pending = store.db.open_tree(PENDING_TREE).unwrap();
            let at = |offset: usize, len: usize| {
                format!(r#"{{"seen_at":200,"body":[3,{offset},{len}]}}"#)
            };
            pending
                .insert("T1/EvWaiting", at(2, body.len()).as_bytes())
                .unwrap();
            // Its body lost in a crash: never acknowledged.
            pending.insert("T1/EvLost", at(200, 7).as_bytes()).unwrap();
            store
                .db
                .open_tree(SEEN_TREE)
                .unwrap()
                .insert("T1/00000000/EvDone", "1")
                .unwrap();
            let attempts = store.db.open_tree(ATTEMPTS_TREE).unwrap();
            attempts.insert("T1/EvWaiting", "2").unwrap();
        });
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        assert_eq!(
            journal.begin_attempt("T1/EvWaiting").unwrap(),
            Some(3),
            "the attempts counted before"
        );
    }

    #[test]
    fn an_entry_whose_id_reached_the_disk_before_its_removal_is_done() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let journal = store.event_journal().unwrap();
            journal.admit(&TeamId::new("T1"), "Ev1", b"{}", 10).unwrap();
            journal.admit(&TeamId::new("T1"), "Ev2", b"{}", 10).unwrap();
            // The process stops between the id's sync and the removal's.
            store.files.seen.insert(hour_of(10), id_hash("T1/Ev1"));
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        assert_eq!(journal.pending_len(), 2);
        assert_eq!(journal.get("T1/Ev1").unwrap(), None, "handled already");
        assert!(journal.get("T1/Ev2").unwrap().is_some());
        assert_eq!(journal.pending().unwrap(), ["T1/Ev2"]);
        assert_eq!(journal.pending_len(), 1);
    }

    #[test]
    fn a_drained_backlog_leaves_no_segment_behind_but_the_one_being_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        let team = TeamId::new("T1");
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(100_000));
        let keys: Vec<JournalKey> = (0..100)
            .map(|index| {
                journal
                    .admit(&team, &format!("Ev{index}"), body.as_bytes(), 5)
                    .unwrap()
                    .1
            })
            .collect();
        store.flush_now().unwrap();
        let segments = || std::fs::read_dir(dir.path().join("log")).unwrap().count();
        assert!(
            segments() >= 2,
            "10 MB of events fill more than one segment"
        );
        assert_eq!(
            journal.get(&keys[42]).unwrap().unwrap().0,
            body.as_bytes(),
            "read back from its segment"
        );
        for key in &keys {
            journal.complete(key).unwrap();
        }
        // The first flush writes the records that say they are done, the second makes them
        // durable and deletes the segments.
        store.flush_now().unwrap();
        store.flush_now().unwrap();
        assert_eq!(segments(), 1);
        // Deleted only once the removals were flushed; and at the next start, the last one
        // goes too, since nothing waits in it.
        drop(journal);
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        assert_eq!(journal.pending_len(), 0);
        assert_eq!(segments(), 0);
    }

    #[test]
    fn uninstalling_a_team_releases_its_waiting_events_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        let body = "x".repeat(5 * 1024 * 1024);
        let body = format!("\"{body}\"");
        journal
            .admit(&TeamId::new("T1"), "Ev1", body.as_bytes(), 5)
            .unwrap();
        journal.admit(&TeamId::new("T2"), "Ev2", b"{}", 5).unwrap();
        assert_eq!(store.delete_team(&TeamId::new("T1")).unwrap(), 1);
        store.flush_now().unwrap();
        store.flush_now().unwrap();
        let segments = std::fs::read_dir(dir.path().join("log")).unwrap().count();
        assert_eq!(
            segments, 1,
            "the team's full segment is gone; T2's is written to"
        );
        assert!(journal.get("T2/Ev2").unwrap().is_some());
    }

    #[test]
    fn an_entry_whose_body_a_machine_crash_lost_is_dropped_so_the_retry_is_new() {
        let dir = tempfile::tempdir().unwrap();
        let team = TeamId::new("T1");
        {
            let store = Store::open(dir.path()).unwrap();
            let journal = store.event_journal().unwrap();
            journal.admit(&team, "EvKept", b"{\"a\":1}", 10).unwrap();
            journal.admit(&team, "EvLost", b"{\"b\":2}", 10).unwrap();
            store.flush_now().unwrap();
        }
        // The machine stopped after sled's flush and before the segment's: the last body
        // never reached the disk.
        let segment = std::fs::read_dir(dir.path().join("log"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let written = std::fs::read(&segment).unwrap();
        let end = written.iter().rposition(|byte| *byte != 0).unwrap() + 1;
        std::os::unix::fs::FileExt::write_all_at(
            &std::fs::OpenOptions::new()
                .write(true)
                .open(&segment)
                .unwrap(),
            &[0; 7],
            end as u64 - 7,
        )
        .unwrap();
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        assert_eq!(journal.pending().unwrap(), ["T1/EvKept"]);
        assert_eq!(journal.pending_len(), 1);
        assert_eq!(
            journal.admit(&team, "EvLost", b"{\"b\":2}", 20).unwrap().0,
            Admission::New,
            "Slack's retry"
        );
    }
}

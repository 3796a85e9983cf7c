//! The event journal: how an event that Slack was told we received (HTTP 200) survives a
//! crash, and how a redelivery of the same event is recognised, across restarts too.
//!
//! The sled tree `journal_pending` holds each event waiting to be handled, keyed
//! `"{team}/{event_id}"`, as JSON `{"seen_at":N,"body":[segment,offset,length]}`, the event
//! itself being in a segment file beside sled (`store/bodies.rs`; entries written by older
//! builds or by `import` may hold it inline, as `"event":{…}`). An entry is admitted with a
//! single compare-and-swap, so admitting is atomic without a transaction (sled's multi-tree
//! transactions wake its I/O threads on every commit, which dominated the cost of an event).
//! Once handled, the event leaves that tree and only its id stays, as a hash in the file of
//! the hour it was first seen (`store/seen.rs`, 8 bytes an id), forgotten a whole hour at a
//! time. The pending tree holds only the backlog: the worker reads it without stepping over
//! handled ids, and once a backlog drains sled reuses its space.
//!
//! Slack retries an event it did not hear 200 for nearly at once, after a minute and after
//! five; ids are looked up in the hour a redelivery arrives and the one before, and kept that
//! long ([`REMEMBER_HOURS`]).
//!
//! The event is what the caller gives: the bot gives the distilled event (`bot::distil`), never
//! the body Slack sent, because sled keeps overwritten bytes in its files for a while. The
//! caller flushes before answering Slack.

use crate::store::flush::Flusher;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::bodies::{Bodies, BodyAt};
use super::flush::{BesideSled, DiskHealth};
use super::seen::{SeenIds, id_hash};
use super::{Store, StoreError};
use crate::ids::TeamId;

pub(crate) const PENDING_TREE: &str = "journal_pending";
/// The tree of handled ids of the third layout, moved into the files of `seen.rs` when found.
const SEEN_TREE: &str = "journal_seen";
/// The single tree of the second layout, moved into the two trees when found.
const SINGLE_TREE: &str = "events_journal";
/// The two trees of the first layout, moved when found.
const OLD_SEEN_TREE: &str = "events_seen";
const OLD_PENDING_TREE: &str = "events_pending";
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
    pending: sled::Tree,
    files: Arc<BesideSled>,
    pending_count: Arc<AtomicUsize>,
    health: Arc<DiskHealth>,
    /// The trees keep the database (and its folder's lock) open: holding the flusher's handle
    /// too makes [`Store::closed`] wait for this journal's last clone.
    _open: Flusher,
}

#[derive(Deserialize)]
struct Entry<'a> {
    seen_at: i64,
    /// The event, where an older build or `import` wrote it inline.
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
    /// Where the event is in the segment files.
    #[serde(default)]
    body: Option<BodyAt>,
}

impl Entry<'_> {
    /// The event, read from its segment when it is not inline.
    fn event(&self, bodies: &Bodies) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(raw) = self.event {
            return Ok(Some(raw.get().as_bytes().to_vec()));
        }
        Ok(match self.body {
            Some(at) => Some(bodies.read(at)?),
            None => None,
        })
    }
}

/// Whether `bytes` read as a pending entry.
pub(crate) fn check_entry(key: &[u8], bytes: &[u8]) -> Result<(), StoreError> {
    read_entry(key, bytes).map(|_| ())
}

/// An entry whose event is in a segment.
fn located_entry(seen_at: i64, at: BodyAt) -> Vec<u8> {
    serde_json::json!({ "seen_at": seen_at, "body": at })
        .to_string()
        .into_bytes()
}

/// A pending entry as `export` writes it: with its event inline, wherever it is kept, so an
/// export carries the events themselves.
pub(crate) fn portable_entry(
    files: &BesideSled,
    key: &[u8],
    bytes: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let entry = read_entry(key, bytes)?;
    Ok(match entry.event(&files.bodies)? {
        Some(raw) => pending_entry(entry.seen_at, &raw),
        None => bytes.to_vec(),
    })
}

/// A pending entry as `import` stores it: its inline event moved to a segment.
pub(crate) fn stored_entry(
    files: &BesideSled,
    key: &[u8],
    bytes: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let entry = read_entry(key, bytes)?;
    Ok(match entry.event {
        Some(raw) => located_entry(entry.seen_at, files.bodies.append(raw.get().as_bytes())?),
        None => bytes.to_vec(),
    })
}

/// A pending entry removed other than by completion (its team uninstalled): its body no
/// longer waits.
pub(crate) fn release_entry(files: &BesideSled, bytes: &[u8]) {
    if let Ok(Entry { body: Some(at), .. }) = serde_json::from_slice::<Entry<'_>>(bytes) {
        files.bodies.release(at);
    }
}

fn read_entry<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Entry<'a>, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        table: PENDING_TREE.into(),
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

fn pending_entry(seen_at: i64, raw: &[u8]) -> Vec<u8> {
    let mut entry = Vec::with_capacity(raw.len() + 40);
    entry.extend_from_slice(format!("{{\"seen_at\":{seen_at},\"event\":").as_bytes());
    entry.extend_from_slice(raw);
    entry.push(b'}');
    entry
}

/// The hour (since the Unix epoch) of a moment in Unix seconds.
fn hour_of(unix: i64) -> i64 {
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

impl Store {
    pub fn event_journal(&self) -> Result<EventJournal, StoreError> {
        let pending = self.db.open_tree(PENDING_TREE)?;
        self.move_old_journal(&pending, &self.files.seen)?;
        // One pass over the entries (small: the events are in segments) counts them and the
        // segments they are in.
        let bodies = &self.files.bodies;
        let adopting = bodies.start_adopting();
        let mut count = 0;
        let mut cut_short = Vec::new();
        for entry in pending.iter() {
            let (key, bytes) = entry?;
            if adopting && let Ok(Entry { body: Some(at), .. }) = read_entry(&key, &bytes) {
                if !bodies.is_whole(at) {
                    cut_short.push(key);
                    continue;
                }
                bodies.adopt(at);
            }
            count += 1;
        }
        // A flush can make an entry durable whose body was written just after that flush
        // synced the segments; the next flush syncs it before the event is answered. A
        // machine that stops in between leaves an entry for an event never answered 200:
        // dropped, so that Slack's retry is taken as new rather than as its duplicate.
        for key in cut_short {
            pending.remove(&key)?;
            tracing::warn!(event = %String::from_utf8_lossy(&key), "an event journaled but never acknowledged lost its body in a crash; Slack delivers it again");
        }
        if adopting {
            bodies.adopted()?;
        }
        Ok(EventJournal {
            pending,
            files: self.files.clone(),
            pending_count: Arc::new(AtomicUsize::new(count)),
            health: self.health.clone(),
            _open: self.flusher.clone(),
        })
    }

    /// Moves the journals of earlier layouts (a tree of ids and a tree of raw events; then
    /// one tree of both; then handled ids in a tree of their own) into the pending tree and
    /// the files of handled ids, then drops the old trees.
    fn move_old_journal(&self, pending: &sled::Tree, seen: &SeenIds) -> Result<(), StoreError> {
        let names = self.db.tree_names();
        let has = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
        let move_one = |key: &[u8], seen_at: i64, raw: Option<&[u8]>| -> Result<(), StoreError> {
            match raw {
                Some(raw) => {
                    pending.insert(key, pending_entry(seen_at, raw))?;
                }
                None => seen.insert(hour_of(seen_at), id_hash(&String::from_utf8_lossy(key))),
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
        if has(SINGLE_TREE) {
            for entry in self.db.open_tree(SINGLE_TREE)?.iter() {
                let (key, value) = entry?;
                // Unreadable: nothing can be done with it but forget it.
                if let Ok(old) = read_entry(&key, &value) {
                    move_one(&key, old.seen_at, old.event.map(|raw| raw.get().as_bytes()))?;
                }
            }
            moved.push(SINGLE_TREE);
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
        if moved.is_empty() {
            return Ok(());
        }
        self.flush_now()?;
        for name in moved {
            self.db.drop_tree(name)?;
        }
        self.db.flush()?;
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
        let refused = |error: sled::Error| {
            self.health.record(&error);
            // Said as the disk's refusal when it is one (logged once, by the health).
            self.health.check().err().unwrap_or(error.into())
        };
        if self.was_handled(&key, received_at_unix) {
            return Ok((Admission::Duplicate, key));
        }
        let bodies = &self.files.bodies;
        let at = bodies.append(raw).map_err(|error| {
            self.health.record_io(&error);
            self.health.check().err().unwrap_or(error.into())
        })?;
        let swapped = self
            .pending
            .compare_and_swap(
                key.as_bytes(),
                None as Option<&[u8]>,
                Some(located_entry(received_at_unix, at)),
            )
            .inspect_err(|_| bodies.release(at))
            .map_err(refused)?;
        if swapped.is_err() {
            bodies.release(at);
            return Ok((Admission::Duplicate, key));
        }
        // Handled between the look above and the swap: `complete` records the id before it
        // removes the entry, so it is seen now, and this entry is a second copy.
        if self.was_handled(&key, received_at_unix) {
            self.pending.remove(key.as_bytes()).map_err(refused)?;
            bodies.release(at);
            return Ok((Admission::Duplicate, key));
        }
        self.pending_count.fetch_add(1, Ordering::Relaxed);
        Ok((Admission::New, key))
    }

    /// Whether the event under `key` was handled within the hours a redelivery arriving at
    /// `now_unix` is looked up in.
    fn was_handled(&self, key: &str, now_unix: i64) -> bool {
        let now = hour_of(now_unix);
        self.files
            .seen
            .contains(now - REMEMBER_HOURS + 1..=now, id_hash(key))
    }

    /// The raw event kept under `key` and when it was received (Unix seconds), if it has
    /// not been completed.
    pub fn get(&self, key: &str) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        let Some(bytes) = self.pending.get(key)? else {
            return Ok(None);
        };
        // Handled, and the process stopped after its id reached the disk and before the
        // entry's removal did: it is done.
        if self.files.seen.contains_any(id_hash(key)) {
            self.remove(key)?;
            return Ok(None);
        }
        let entry = read_entry(key.as_bytes(), &bytes)?;
        Ok(entry
            .event(&self.files.bodies)?
            .map(|raw| (raw, entry.seen_at)))
    }

    /// Removes the entry under `key`, and counts its body out of its segment.
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        if let Some(old) = self.pending.remove(key)? {
            self.pending_count.fetch_sub(1, Ordering::Relaxed);
            release_entry(&self.files, &old);
        }
        Ok(())
    }

    /// Every event admitted but not completed, in key order.
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

    /// Up to `limit` events not yet completed whose keys come after `after` (all of them
    /// when it is empty), in key order, and the key to resume after when there may be more.
    pub fn pending_after(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<(Vec<JournalKey>, Option<String>), StoreError> {
        let range = (
            std::ops::Bound::Excluded(after.as_bytes()),
            std::ops::Bound::Unbounded,
        );
        let mut keys = Vec::new();
        for key in self.pending.range::<&[u8], _>(range).keys() {
            keys.push(String::from_utf8_lossy(&key?).into_owned());
            if keys.len() == limit {
                let resume_after = keys.last().cloned();
                return Ok((keys, resume_after));
            }
        }
        Ok((keys, None))
    }

    pub fn pending_len(&self) -> usize {
        self.pending_count.load(Ordering::Relaxed)
    }

    /// Drops the event, keeping its id: it has been handled. Not durable until the store is
    /// flushed.
    pub fn complete(&self, key: &str) -> Result<(), StoreError> {
        let Some(bytes) = self.pending.get(key)? else {
            return Ok(());
        };
        let entry = read_entry(key.as_bytes(), &bytes)?;
        // The id first: an admission that finds neither would take a redelivery as new.
        self.files.seen.insert(hour_of(entry.seen_at), id_hash(key));
        self.remove(key)
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
    fn moved_layout(write: impl FnOnce(&Store)) {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            write(&store);
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
        assert!(!store.data_trees().iter().any(|t| {
            [OLD_SEEN_TREE, OLD_PENDING_TREE, SINGLE_TREE, SEEN_TREE].contains(&t.as_str())
        }));
        assert_eq!(
            journal.prune_seen(2 * HOUR).unwrap(),
            1,
            "the handled id, not the waiting event"
        );
    }

    #[test]
    fn the_first_layout_is_moved_into_the_two_trees() {
        moved_layout(|store| {
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
        moved_layout(|store| {
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
        moved_layout(|store| {
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
        let segments = || {
            std::fs::read_dir(dir.path().join("journal"))
                .unwrap()
                .count()
        };
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
        let segments = std::fs::read_dir(dir.path().join("journal"))
            .unwrap()
            .count();
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
        let segment = std::fs::read_dir(dir.path().join("journal"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let len = std::fs::metadata(&segment).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&segment)
            .unwrap()
            .set_len(len - 7)
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

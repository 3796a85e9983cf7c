//! The event journal: how an event that Slack was told we received (HTTP 200) survives a
//! crash, and how a redelivery of the same event is recognised, across restarts too.
//!
//! One tree, one entry per event id, written with a single compare-and-swap: admitting an
//! event is atomic without a transaction (sled's multi-tree transactions wake its I/O
//! threads on every commit, which dominated the cost of an event). An entry is JSON:
//! `{"seen_at":N,"event":{…}}` while the event waits to be handled, `{"seen_at":N}` once it
//! has been. The event is what the caller gives: the bot gives the distilled event
//! (`bot::distil`), never the body Slack sent, because sled keeps overwritten bytes in its
//! files for a while. The caller flushes before answering Slack. Ids stay for a day so
//! retries are still recognised.

use crate::store::flush::Flusher;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::flush::DiskHealth;
use super::{Store, StoreError};
use crate::ids::TeamId;

const JOURNAL_TREE: &str = "events_journal";
/// The two trees of the first layout, moved into [`JOURNAL_TREE`] when found.
const OLD_SEEN_TREE: &str = "events_seen";
const OLD_PENDING_TREE: &str = "events_pending";

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
    tree: sled::Tree,
    pending_count: Arc<AtomicUsize>,
    health: Arc<DiskHealth>,
    /// The tree keeps the database (and its folder's lock) open: holding the flusher's handle
    /// too makes [`Store::closed`] wait for this journal's last clone.
    _open: Flusher,
}

#[derive(Deserialize)]
struct Entry<'a> {
    seen_at: i64,
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
}

fn read_entry<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Entry<'a>, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        table: JOURNAL_TREE.into(),
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

/// Whether an entry still holds its event, without reading the JSON: the entries are
/// written only by this module, `{"seen_at":N,"event":…}` or `{"seen_at":N}`.
fn is_pending(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .skip(1)
        .find(|&&byte| byte == b',' || byte == b'}')
        .is_some_and(|&byte| byte == b',')
}

fn pending_entry(seen_at: i64, raw: &[u8]) -> Vec<u8> {
    let mut entry = Vec::with_capacity(raw.len() + 40);
    entry.extend_from_slice(format!("{{\"seen_at\":{seen_at},\"event\":").as_bytes());
    entry.extend_from_slice(raw);
    entry.push(b'}');
    entry
}

fn done_entry(seen_at: i64) -> Vec<u8> {
    format!("{{\"seen_at\":{seen_at}}}").into_bytes()
}

impl Store {
    pub fn event_journal(&self) -> Result<EventJournal, StoreError> {
        let tree = self.db.open_tree(JOURNAL_TREE)?;
        self.move_old_journal(&tree)?;
        let mut pending = 0;
        for entry in tree.iter() {
            let (_, value) = entry?;
            if is_pending(&value) {
                pending += 1;
            }
        }
        Ok(EventJournal {
            tree,
            pending_count: Arc::new(AtomicUsize::new(pending)),
            health: self.health.clone(),
            _open: self.flusher.clone(),
        })
    }

    /// Moves the journal of the first layout (a tree of ids, a tree of raw events) into
    /// the single tree, then drops the old trees.
    fn move_old_journal(&self, tree: &sled::Tree) -> Result<(), StoreError> {
        let names = self.db.tree_names();
        let has = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
        if !has(OLD_SEEN_TREE) && !has(OLD_PENDING_TREE) {
            return Ok(());
        }
        let seen = self.db.open_tree(OLD_SEEN_TREE)?;
        let pending = self.db.open_tree(OLD_PENDING_TREE)?;
        let seen_at = |key: &[u8]| -> Result<i64, StoreError> {
            Ok(seen
                .get(key)?
                .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse().ok())
                .unwrap_or(0))
        };
        for entry in seen.iter() {
            let (key, _) = entry?;
            tree.insert(&key, done_entry(seen_at(&key)?))?;
        }
        for entry in pending.iter() {
            let (key, raw) = entry?;
            tree.insert(&key, pending_entry(seen_at(&key)?, &raw))?;
        }
        self.db.flush()?;
        self.db.drop_tree(OLD_SEEN_TREE)?;
        self.db.drop_tree(OLD_PENDING_TREE)?;
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
        let swapped = self
            .tree
            .compare_and_swap(
                key.as_bytes(),
                None as Option<&[u8]>,
                Some(pending_entry(received_at_unix, raw)),
            )
            .map_err(|error| {
                self.health.record(&error);
                // Said as the disk's refusal when it is one (logged once, by the health).
                self.health.check().err().unwrap_or(error.into())
            })?;
        let admission = match swapped {
            Ok(()) => {
                self.pending_count.fetch_add(1, Ordering::Relaxed);
                Admission::New
            }
            Err(_already_there) => Admission::Duplicate,
        };
        Ok((admission, key))
    }

    /// The raw event kept under `key` and when it was received (Unix seconds), if it has
    /// not been completed.
    pub fn get(&self, key: &str) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        let Some(bytes) = self.tree.get(key)? else {
            return Ok(None);
        };
        let entry = read_entry(key.as_bytes(), &bytes)?;
        Ok(entry
            .event
            .map(|raw| (raw.get().as_bytes().to_vec(), entry.seen_at)))
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
        for entry in self.tree.range::<&[u8], _>(range) {
            let (key, value) = entry?;
            if is_pending(&value) {
                keys.push(String::from_utf8_lossy(&key).into_owned());
                if keys.len() == limit {
                    let resume_after = keys.last().cloned();
                    return Ok((keys, resume_after));
                }
            }
        }
        Ok((keys, None))
    }

    pub fn pending_len(&self) -> usize {
        self.pending_count.load(Ordering::Relaxed)
    }

    /// Drops the raw event, keeping the id: it has been handled. Not durable until the
    /// store is flushed.
    pub fn complete(&self, key: &str) -> Result<(), StoreError> {
        let Some(bytes) = self.tree.get(key)? else {
            return Ok(());
        };
        let entry = read_entry(key.as_bytes(), &bytes)?;
        if entry.event.is_some() {
            self.tree.insert(key, done_entry(entry.seen_at))?;
            self.pending_count.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Forgets handled event ids seen before `cutoff_unix`; returns how many. Events not
    /// yet handled are kept, however old.
    pub fn prune_seen(&self, cutoff_unix: i64) -> Result<usize, StoreError> {
        let mut pruned = 0;
        for entry in self.tree.iter() {
            let (key, value) = entry?;
            let forget = match read_entry(&key, &value) {
                Ok(entry) => entry.event.is_none() && entry.seen_at < cutoff_unix,
                // Unreadable: nothing can be done with it but forget it.
                Err(_) => true,
            };
            if forget {
                self.tree.remove(key)?;
                pruned += 1;
            }
        }
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Still a duplicate after completion: Slack may retry after we handled it.
        assert_eq!(
            journal.admit(&team, "Ev1", b"{}", 102).unwrap().0,
            Admission::Duplicate
        );
        assert_eq!(journal.prune_seen(101).unwrap(), 1);
        assert_eq!(
            journal.admit(&team, "Ev1", b"{}", 103).unwrap().0,
            Admission::New
        );
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
        assert!(is_pending(br#"{"seen_at":-5,"event":{"a":"}"}}"#));
        assert!(!is_pending(br#"{"seen_at":12}"#));
    }

    #[test]
    fn the_journal_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let journal = store.event_journal().unwrap();
            journal.admit(&TeamId::new("T1"), "Ev9", b"{}", 1).unwrap();
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        assert_eq!(journal.pending().unwrap(), vec!["T1/Ev9".to_string()]);
        assert_eq!(journal.pending_len(), 1);
        assert_eq!(journal.get("T1/Ev9").unwrap().unwrap(), (b"{}".to_vec(), 1));
    }

    #[test]
    fn the_first_layout_is_moved_into_the_single_tree() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let seen = store.db.open_tree(OLD_SEEN_TREE).unwrap();
            let pending = store.db.open_tree(OLD_PENDING_TREE).unwrap();
            seen.insert("T1/EvDone", "100").unwrap();
            seen.insert("T1/EvWaiting", "200").unwrap();
            pending
                .insert("T1/EvWaiting", r#"{"type":"event_callback"}"#)
                .unwrap();
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let journal = store.event_journal().unwrap();
        assert_eq!(journal.pending().unwrap(), vec!["T1/EvWaiting".to_string()]);
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
                .any(|t| t == OLD_SEEN_TREE || t == OLD_PENDING_TREE)
        );
        assert_eq!(
            journal.prune_seen(150).unwrap(),
            1,
            "the handled id, not the waiting event"
        );
    }
}

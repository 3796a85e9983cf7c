//! The event journal: how an event that Slack was told we received (HTTP 200) survives a
//! crash, and how a redelivery of the same event is recognised, across restarts too.
//!
//! `admit` records the event id as seen and keeps the raw event in one transaction; the
//! caller flushes before answering Slack. Once handled, the raw event is deleted (the bot
//! keeps no message text); the event id stays in `events_seen` for a day so retries are
//! still recognised.

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{Store, StoreError};
use crate::ids::TeamId;

const SEEN_TREE: &str = "events_seen";
const PENDING_TREE: &str = "events_pending";

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
    seen: sled::Tree,
    pending: sled::Tree,
}

impl Store {
    pub fn event_journal(&self) -> Result<EventJournal, StoreError> {
        Ok(EventJournal {
            seen: self.db.open_tree(SEEN_TREE)?,
            pending: self.db.open_tree(PENDING_TREE)?,
        })
    }
}

impl EventJournal {
    /// Records `event_id` as seen and keeps `raw` until [`complete`](Self::complete).
    /// Not durable until the store is flushed.
    pub fn admit(
        &self,
        team: &TeamId,
        event_id: &str,
        raw: &[u8],
        received_at_unix: i64,
    ) -> Result<(Admission, JournalKey), StoreError> {
        let key = format!("{team}/{event_id}");
        let seen_at = received_at_unix.to_string();
        let outcome = (&self.seen, &self.pending).transaction(|(seen, pending)| {
            if seen.get(key.as_bytes())?.is_some() {
                return Ok(Admission::Duplicate);
            }
            seen.insert(key.as_bytes(), seen_at.as_bytes())?;
            pending.insert(key.as_bytes(), raw)?;
            Ok::<_, ConflictableTransactionError<()>>(Admission::New)
        });
        match outcome {
            Ok(admission) => Ok((admission, key)),
            Err(TransactionError::Storage(e)) => Err(e.into()),
            Err(TransactionError::Abort(())) => unreachable!("the transaction never aborts"),
        }
    }

    /// The raw event kept under `key`, if it has not been completed.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.pending.get(key)?.map(|bytes| bytes.to_vec()))
    }

    /// Every event admitted but not completed, oldest key order.
    pub fn pending(&self) -> Result<Vec<JournalKey>, StoreError> {
        self.pending
            .iter()
            .keys()
            .map(|key| Ok(String::from_utf8_lossy(&key?).into_owned()))
            .collect()
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Deletes the raw event: it has been handled. Not durable until the store is flushed.
    pub fn complete(&self, key: &str) -> Result<(), StoreError> {
        self.pending.remove(key)?;
        Ok(())
    }

    /// Forgets event ids seen before `cutoff_unix`; returns how many.
    pub fn prune_seen(&self, cutoff_unix: i64) -> Result<usize, StoreError> {
        let mut pruned = 0;
        for entry in self.seen.iter() {
            let (key, value) = entry?;
            let seen_at: i64 = std::str::from_utf8(&value)
                .ok()
                .and_then(|text| text.parse().ok())
                .unwrap_or(i64::MIN);
            if seen_at < cutoff_unix {
                self.seen.remove(key)?;
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
    fn the_journal_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let journal = store.event_journal().unwrap();
            journal.admit(&TeamId::new("T1"), "Ev9", b"{}", 1).unwrap();
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.event_journal().unwrap().pending().unwrap(),
            vec!["T1/Ev9".to_string()]
        );
    }
}

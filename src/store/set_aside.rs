//! Events set aside: a journaled event that failed every attempt (a handler that panics
//! counts as a failed attempt) is taken out of the journal's waiting list and recorded
//! here, so it is neither retried for ever nor tried again at each restart.
//!
//! Kept apart from the journal in two small trees of its own: `events_attempts` counts the
//! attempts an event has had (written before each attempt, so an attempt that takes the
//! whole process down counts too), `events_set_aside` lists what was given up: the journal
//! key, the event type, the attempts and why, never the event itself (the bot keeps no
//! message text).

use crate::store::flush::Flusher;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

const ATTEMPTS_TREE: &str = "events_attempts";
const SET_ASIDE_TREE: &str = "events_set_aside";

/// One event given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAsideEvent {
    /// The journal key, `"{team}/{event_id}"`.
    pub key: String,
    /// The event's `type` (`message`, `app_mention`…), `unknown` when it did not read.
    pub event_type: String,
    pub attempts: u32,
    /// Why the last attempt failed, as a sentence.
    pub reason: String,
    /// When it was set aside (Unix seconds).
    pub at_unix: i64,
}

/// Attempt counts and the events given up. Clone it freely.
#[derive(Clone)]
pub struct SetAside {
    attempts: sled::Tree,
    set_aside: sled::Tree,
    /// The trees keep the database (and its folder's lock) open: holding the flusher's handle
    /// too makes [`Store::closed`] wait for the last clone of this.
    _open: Flusher,
}

impl Store {
    pub fn set_aside(&self) -> Result<SetAside, StoreError> {
        Ok(SetAside {
            attempts: self.db.open_tree(ATTEMPTS_TREE)?,
            set_aside: self.db.open_tree(SET_ASIDE_TREE)?,
            _open: self.flusher.clone(),
        })
    }
}

fn read_count(bytes: Option<&[u8]>) -> u32 {
    bytes
        .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
        .unwrap_or(0)
}

impl SetAside {
    /// Counts one more attempt at `key` and says which one it is (1 for the first).
    /// Not durable until the store is flushed.
    pub(crate) fn begin_attempt(&self, key: &str) -> Result<u32, StoreError> {
        let written = self.attempts.update_and_fetch(key, |old| {
            Some((read_count(old) + 1).to_string().into_bytes())
        })?;
        Ok(read_count(written.as_deref()))
    }

    /// Forgets the attempts at an event that was handled.
    pub(crate) fn forget_attempts(&self, key: &str) -> Result<(), StoreError> {
        self.attempts.remove(key)?;
        Ok(())
    }

    /// Records an event as given up and forgets its attempts. The caller takes it out of
    /// the journal.
    pub(crate) fn put(&self, event: &SetAsideEvent) -> Result<(), StoreError> {
        let value = serde_json::to_vec(event).map_err(|source| StoreError::Encode {
            table: SET_ASIDE_TREE,
            source,
        })?;
        self.set_aside.insert(event.key.as_bytes(), value)?;
        self.attempts.remove(event.key.as_bytes())?;
        Ok(())
    }

    /// Every event set aside, in key order.
    pub fn list(&self) -> Result<Vec<SetAsideEvent>, StoreError> {
        self.set_aside
            .iter()
            .map(|entry| {
                let (key, bytes) = entry?;
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
                    table: SET_ASIDE_TREE.into(),
                    key: String::from_utf8_lossy(&key).into_owned(),
                    source,
                })
            })
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.set_aside.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_across_reopening_and_cleared_when_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let aside = store.set_aside().unwrap();
            assert_eq!(aside.begin_attempt("T1/Ev1").unwrap(), 1);
            assert_eq!(aside.begin_attempt("T1/Ev1").unwrap(), 2);
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let aside = store.set_aside().unwrap();
        assert_eq!(aside.begin_attempt("T1/Ev1").unwrap(), 3, "kept on disk");
        let event = SetAsideEvent {
            key: "T1/Ev1".into(),
            event_type: "message".into(),
            attempts: 3,
            reason: "the handler panicked".into(),
            at_unix: 100,
        };
        aside.put(&event).unwrap();
        assert_eq!(aside.list().unwrap(), vec![event]);
        assert_eq!(
            aside.begin_attempt("T1/Ev1").unwrap(),
            1,
            "attempts forgotten"
        );
        aside.forget_attempts("T1/Ev1").unwrap();
        assert_eq!(aside.len(), 1);
    }
}

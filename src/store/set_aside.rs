//! Events set aside: a journaled event that failed every attempt (a handler that panics
//! counts as a failed attempt) is taken out of the journal's waiting list and recorded
//! here, so it is neither retried for ever nor tried again at each restart.
//!
//! Kept apart from the journal in a small tree of its own, `events_set_aside`: the journal
//! key, the event type, the attempts and why, never the event itself (the bot keeps no
//! message text). The attempts are counted by the journal, with the event
//! ([`EventJournal::begin_attempt`](super::journal::EventJournal::begin_attempt)).

use crate::store::flush::Flusher;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

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

/// The events given up. Clone it freely.
#[derive(Clone)]
pub struct SetAside {
    set_aside: sled::Tree,
    /// The trees keep the database (and its folder's lock) open: holding the flusher's handle
    /// too makes [`Store::closed`] wait for the last clone of this.
    _open: Flusher,
}

impl Store {
    pub fn set_aside(&self) -> Result<SetAside, StoreError> {
        Ok(SetAside {
            set_aside: self.db.open_tree(SET_ASIDE_TREE)?,
            _open: self.flusher.clone(),
        })
    }
}

impl SetAside {
    /// Records an event as given up. The caller takes it out of the journal.
    pub(crate) fn put(&self, event: &SetAsideEvent) -> Result<(), StoreError> {
        let value = serde_json::to_vec(event).map_err(|source| StoreError::Encode {
            table: SET_ASIDE_TREE,
            source,
        })?;
        self.set_aside.insert(event.key.as_bytes(), value)?;
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
    fn events_set_aside_are_kept_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let event = SetAsideEvent {
            key: "T1/Ev1".into(),
            event_type: "message".into(),
            attempts: 3,
            reason: "the handler panicked".into(),
            at_unix: 100,
        };
        {
            let store = Store::open(dir.path()).unwrap();
            store.set_aside().unwrap().put(&event).unwrap();
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let aside = store.set_aside().unwrap();
        assert_eq!(aside.list().unwrap(), vec![event]);
        assert_eq!(aside.len(), 1);
    }
}

//! The outbox: calls to Slack that handling an event decided on and that have not been made
//! yet, kept on disk so that deciding never waits for Slack's pace and a crash loses none.
//!
//! Calls wait in lanes, one per workspace and Web API method, because Slack paces each
//! method per workspace. A key is `"{team}/{method}/{deadline_ms}/{id}"`, the deadline
//! zero-padded, so a lane is one range of the tree in deadline order: its oldest call is
//! its first key, the calls that can no longer arrive in time are one range at its start,
//! and the calls that follow one closely are the keys right after it. The `id` is the
//! journal key of the event that decided the call, so handling an event again (after a
//! crash between writing the call and marking the event handled) writes the same key, not
//! a second call. A call already made is remembered until its deadline
//! ([`Outbox::made`]): handling its event again after a restart (the call was on disk, the
//! record that the event was done was not) writes nothing, however soon the call went out.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Notify;

use super::{Store, StoreError, Table};
use crate::ids::TeamId;

const OUTBOX_TREE: &str = "outbox";
/// Digits of a deadline in a key: milliseconds since 1970 until the year 2286.
const DEADLINE_DIGITS: usize = 13;

/// One workspace's calls of one method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lane {
    pub team: TeamId,
    pub method: String,
}

impl Lane {
    pub fn new(team: &TeamId, method: &str) -> Self {
        Self {
            team: team.clone(),
            method: method.to_string(),
        }
    }

    /// The key prefix of the lane's calls.
    fn prefix(&self) -> Vec<u8> {
        format!("{}/{}/", self.team, self.method).into_bytes()
    }

    /// The first key of the lane whose deadline is at or after `deadline_ms`.
    fn at(&self, deadline_ms: i64) -> Vec<u8> {
        let mut key = self.prefix();
        key.extend_from_slice(deadline_text(deadline_ms).as_bytes());
        key
    }
}

fn deadline_text(deadline_ms: i64) -> String {
    format!("{:0width$}", deadline_ms.max(0), width = DEADLINE_DIGITS)
}

/// A call waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting<V> {
    pub key: Vec<u8>,
    /// Milliseconds since 1970 after which the call is no longer worth making.
    pub deadline_ms: i64,
    pub call: V,
}

/// The outbox of calls of type `V`. Cheap to clone; clones share the tree and the count.
pub struct Outbox<V> {
    table: Table<V>,
    waiting: Arc<AtomicUsize>,
    /// The calls waiting in each lane, by the lane's key prefix.
    by_lane: Arc<Mutex<HashMap<Vec<u8>, usize>>>,
    /// The calls made since the store was opened whose deadline has not passed.
    made: Arc<Mutex<Made>>,
    /// Calls written since the store was opened (a call written again counts again).
    puts: Arc<AtomicU64>,
    put_wake: Arc<Notify>,
}

impl<V> Clone for Outbox<V> {
    fn clone(&self) -> Self {
        Self {
            table: self.table.clone(),
            waiting: self.waiting.clone(),
            by_lane: self.by_lane.clone(),
            made: self.made.clone(),
            puts: self.puts.clone(),
            put_wake: self.put_wake.clone(),
        }
    }
}

/// The calls made since the store was opened whose deadline has not passed, with that
/// deadline: by key ([`put`](Outbox::put) writes none of them again) and by the id they were
/// written with ([`made_for`](Outbox::made_for)).
#[derive(Default)]
struct Made {
    keys: BTreeMap<Vec<u8>, i64>,
    ids: HashMap<Vec<u8>, i64>,
}

/// The id a call was written with, from its key `"{team}/{method}/{deadline}/{id}"`.
fn call_id(key: &[u8]) -> Option<&[u8]> {
    key.get(lane_prefix(key)?.len() + DEADLINE_DIGITS + 1..)
}

/// The lane prefix of a key, `"{team}/{method}/"`.
fn lane_prefix(key: &[u8]) -> Option<&[u8]> {
    let first = key.iter().position(|b| *b == b'/')?;
    let second = first + 1 + key[first + 1..].iter().position(|b| *b == b'/')?;
    Some(&key[..=second])
}

/// The calls waiting in each lane of `tree`.
fn count_lanes(tree: &sled::Tree) -> HashMap<Vec<u8>, usize> {
    let mut by_lane: HashMap<Vec<u8>, usize> = HashMap::new();
    for key in tree.iter().keys().flatten() {
        if let Some(prefix) = lane_prefix(&key) {
            *by_lane.entry(prefix.to_vec()).or_default() += 1;
        }
    }
    by_lane
}

impl Store {
    /// The outbox, with its calls counted once, by lane (a pass over the keys).
    pub fn outbox<V>(&self) -> Result<Outbox<V>, StoreError> {
        let table = self.table(OUTBOX_TREE)?;
        let waiting = table.tree.len();
        let by_lane = count_lanes(&table.tree);
        Ok(Outbox {
            table,
            waiting: Arc::new(AtomicUsize::new(waiting)),
            by_lane: Arc::new(Mutex::new(by_lane)),
            made: Arc::default(),
            puts: Arc::default(),
            put_wake: Arc::new(Notify::new()),
        })
    }
}

impl<V: Serialize + DeserializeOwned> Outbox<V> {
    /// Keeps `call` in `lane` until it is made or `deadline_ms` passes. Writing the same
    /// `id` again with the same deadline replaces the call, or writes nothing once the call
    /// was [`made`](Self::made). Not durable until the store is flushed.
    pub fn put(&self, lane: &Lane, deadline_ms: i64, id: &str, call: &V) -> Result<(), StoreError> {
        let mut key = lane.at(deadline_ms);
        key.push(b'/');
        key.extend_from_slice(id.as_bytes());
        self.table.writable()?;
        if super::lock(&self.made).keys.contains_key(&key) {
            return Ok(());
        }
        let before = self.table.tree.insert(key, self.table.encode(call)?)?;
        if before.is_none() {
            self.waiting.fetch_add(1, Ordering::Relaxed);
            *super::lock(&self.by_lane).entry(lane.prefix()).or_default() += 1;
        }
        self.puts.fetch_add(1, Ordering::Release);
        self.put_wake.notify_one();
        Ok(())
    }

    /// How many calls were written since the store was opened, in any lane: a lane that
    /// saw this number before knows whether anything came since.
    pub fn puts(&self) -> u64 {
        self.puts.load(Ordering::Acquire)
    }

    /// Resolves after the next [`put`](Self::put) (at once if one came since the last wait).
    pub async fn put_since(&self) {
        self.put_wake.notified().await;
    }

    /// Calls waiting in `lane`.
    pub fn lane_len(&self, lane: &Lane) -> usize {
        super::lock(&self.by_lane)
            .get(&lane.prefix())
            .copied()
            .unwrap_or(0)
    }

    /// Calls waiting.
    pub fn len(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lanes that hold calls, found by jumping from lane to lane (one look-up each).
    pub fn lanes(&self) -> Result<Vec<Lane>, StoreError> {
        let mut lanes = Vec::new();
        let mut from: Vec<u8> = Vec::new();
        while let Some((key, _)) = self
            .table
            .tree
            .range(from.as_slice()..)
            .next()
            .transpose()?
        {
            let text = String::from_utf8_lossy(&key);
            let mut parts = text.splitn(3, '/');
            let (Some(team), Some(method), Some(_)) = (parts.next(), parts.next(), parts.next())
            else {
                // Not a key this module wrote: drop it rather than stop at it for ever.
                self.remove(&key)?;
                continue;
            };
            let lane = Lane::new(&TeamId::new(team), method);
            // '0' follows '/': the first key after every key of this lane.
            from = format!("{team}/{method}0").into_bytes();
            lanes.push(lane);
        }
        Ok(lanes)
    }

    /// Removes the lane's calls whose deadline is before `now_ms`; returns how many.
    pub fn expire(&self, lane: &Lane, now_ms: i64) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in self.table.tree.range(lane.prefix()..lane.at(now_ms)) {
            let (key, _) = entry?;
            self.remove(&key)?;
            removed += 1;
        }
        Ok(removed)
    }

    /// The lane's oldest call, then up to `limit - 1` calls after it whose deadline is at
    /// most `within_ms` later, in deadline order.
    pub fn oldest(
        &self,
        lane: &Lane,
        within_ms: i64,
        limit: usize,
    ) -> Result<Vec<Waiting<V>>, StoreError> {
        let prefix = lane.prefix();
        let mut found: Vec<Waiting<V>> = Vec::new();
        for entry in self.table.tree.scan_prefix(&prefix) {
            let (key, bytes) = entry?;
            let deadline_ms = key
                .get(prefix.len()..prefix.len() + DEADLINE_DIGITS)
                .and_then(|digits| std::str::from_utf8(digits).ok()?.parse().ok())
                .unwrap_or(0);
            if found
                .first()
                .is_some_and(|first| deadline_ms > first.deadline_ms + within_ms)
            {
                break;
            }
            found.push(Waiting {
                call: self.table.decode(&key, &bytes)?,
                key: key.to_vec(),
                deadline_ms,
            });
            if found.len() >= limit {
                break;
            }
        }
        Ok(found)
    }

    /// Takes out a call Slack took (or refused for good) and remembers it until its deadline,
    /// so that handling its event again does not write it again; forgets the calls
    /// remembered whose deadline is before `now_ms`.
    pub fn made(&self, waiting: &Waiting<V>, now_ms: i64) -> Result<(), StoreError> {
        self.remove(&waiting.key)?;
        let mut made = super::lock(&self.made);
        made.keys.retain(|_, deadline_ms| *deadline_ms >= now_ms);
        made.ids.retain(|_, deadline_ms| *deadline_ms >= now_ms);
        if waiting.deadline_ms >= now_ms {
            made.keys.insert(waiting.key.clone(), waiting.deadline_ms);
            if let Some(id) = call_id(&waiting.key) {
                let latest = made.ids.entry(id.to_vec()).or_default();
                *latest = waiting.deadline_ms.max(*latest);
            }
        }
        Ok(())
    }

    /// Whether a call written with `id` was [`made`](Self::made) and its deadline has not
    /// passed: its event's handling may still be running when Slack's answer comes.
    pub fn made_for(&self, id: &str) -> bool {
        super::lock(&self.made).ids.contains_key(id.as_bytes())
    }

    /// Takes a call out: given up.
    pub fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        self.table.writable()?;
        if self.table.tree.remove(key)?.is_some() {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            let mut by_lane = super::lock(&self.by_lane);
            if let Some(count) = lane_prefix(key).and_then(|prefix| by_lane.get_mut(prefix)) {
                *count = count.saturating_sub(1);
            }
        }
        Ok(())
    }

    /// Recounts the calls after records were removed behind the outbox's back (a
    /// workspace's records deleted at uninstall).
    pub fn recount(&self) {
        self.waiting.store(self.table.tree.len(), Ordering::Relaxed);
        *super::lock(&self.by_lane) = count_lanes(&self.table.tree);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox() -> (tempfile::TempDir, Outbox<String>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let outbox = store.outbox().unwrap();
        (dir, outbox)
    }

    #[test]
    fn calls_come_back_per_lane_in_deadline_order_and_once_per_id() {
        let (_dir, outbox) = outbox();
        let notes = Lane::new(&TeamId::new("T1"), "chat.postEphemeral");
        let reactions = Lane::new(&TeamId::new("T1"), "reactions.add");
        let other_team = Lane::new(&TeamId::new("T2"), "chat.postEphemeral");
        outbox.put(&notes, 3_000, "T1/Ev3", &"c".into()).unwrap();
        outbox.put(&notes, 1_000, "T1/Ev1", &"a".into()).unwrap();
        outbox.put(&notes, 2_000, "T1/Ev2", &"b".into()).unwrap();
        outbox.put(&notes, 2_000, "T1/Ev2", &"b".into()).unwrap();
        outbox.put(&reactions, 500, "T1/Ev1", &"r".into()).unwrap();
        outbox.put(&other_team, 100, "T2/Ev1", &"x".into()).unwrap();
        assert_eq!(outbox.len(), 5, "the same id twice is one call");
        assert_eq!(
            [&notes, &reactions, &other_team].map(|lane| outbox.lane_len(lane)),
            [3, 1, 1]
        );
        assert_eq!(
            outbox.lanes().unwrap(),
            vec![notes.clone(), reactions.clone(), other_team.clone()]
        );
        let calls = |found: Vec<Waiting<String>>| -> Vec<String> {
            found.into_iter().map(|w| w.call).collect()
        };
        assert_eq!(calls(outbox.oldest(&notes, 1_000, 10).unwrap()), ["a", "b"]);
        assert_eq!(calls(outbox.oldest(&notes, 5_000, 2).unwrap()), ["a", "b"]);
        assert_eq!(outbox.expire(&notes, 2_500).unwrap(), 2);
        let left = outbox.oldest(&notes, 0, 10).unwrap();
        assert_eq!(left[0].deadline_ms, 3_000);
        outbox.remove(&left[0].key).unwrap();
        assert_eq!(outbox.lanes().unwrap(), vec![reactions.clone(), other_team]);
        assert_eq!(outbox.len(), 2);
        assert_eq!(outbox.lane_len(&notes), 0);
        assert_eq!(outbox.lane_len(&reactions), 1);
    }

    #[test]
    fn waiting_calls_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let lane = Lane::new(&TeamId::new("T1"), "chat.postEphemeral");
        {
            let store = Store::open(dir.path()).unwrap();
            let outbox: Outbox<String> = store.outbox().unwrap();
            outbox.put(&lane, 9_000, "T1/Ev9", &"kept".into()).unwrap();
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let outbox: Outbox<String> = store.outbox().unwrap();
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox.lane_len(&lane), 1, "counted by lane at start");
        assert_eq!(outbox.oldest(&lane, 0, 1).unwrap()[0].call, "kept");
    }

    #[test]
    fn a_call_made_is_not_written_again_until_its_deadline_passes() {
        let (_dir, outbox) = outbox();
        let lane = Lane::new(&TeamId::new("T1"), "chat.postMessage");
        // Its event is handled again after a restart, once the call left and before (or
        // after) the other call went.
        outbox.put(&lane, 5_000, "T1/Ev1", &"a".into()).unwrap();
        outbox.put(&lane, 9_000, "T1/Ev2", &"b".into()).unwrap();
        let first = outbox.oldest(&lane, 0, 1).unwrap().remove(0);
        assert!(!outbox.made_for("T1/Ev1"));
        outbox.made(&first, 1_000).unwrap();
        assert!(outbox.made_for("T1/Ev1"));
        assert!(!outbox.made_for("T1/Ev2") && !outbox.made_for("T1/Ev"));
        outbox.put(&lane, 5_000, "T1/Ev1", &"a".into()).unwrap();
        assert_eq!(outbox.len(), 1, "the call made is not written again");
        assert_eq!(outbox.oldest(&lane, 0, 10).unwrap()[0].call, "b");
        // Another event, or the same one with another deadline, is another call.
        outbox.put(&lane, 5_000, "T1/Ev3", &"c".into()).unwrap();
        outbox.put(&lane, 6_000, "T1/Ev1", &"d".into()).unwrap();
        assert_eq!(outbox.len(), 3);
        // A call made after its deadline (too late, counted) is not remembered; one made
        // later forgets those whose deadline passed.
        let late = outbox.oldest(&lane, 0, 1).unwrap().remove(0);
        outbox.made(&late, 7_000).unwrap();
        assert!(outbox.made.lock().unwrap().keys.is_empty());
        assert!(!outbox.made_for("T1/Ev1"));
        outbox.put(&lane, 5_000, "T1/Ev1", &"a".into()).unwrap();
        assert_eq!(outbox.oldest(&lane, 0, 1).unwrap()[0].call, "a");
    }
}

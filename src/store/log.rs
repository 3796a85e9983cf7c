//! The event journal's log: every event waiting to be handled, in append-only segment files
//! beside sled (`log/{segment:016x}.log`), and in memory the index of where each one is.
//!
//! sled 0.34 never gives back the space of a tree that once was large: a backlog of a
//! million events left its file at the size of the waiting list's busiest moment (322 MB
//! after the backlog drained). Here nothing about a waiting event is in sled. A segment holds
//! records, each whole or refused by its checksum:
//!
//! - `A` an event admitted: its journal key, when it was received, and the event;
//! - `T` an attempt at handling it begun (counted before the attempt runs, so an attempt that
//!   takes the whole process down counts too): the hash of its key;
//! - `D` its handling done (or its team uninstalled): the hash of its key and when it was
//!   received, the hour its id is remembered in (`store/seen.rs`). Only the hash: once
//!   handled, nothing names the event.
//!
//! At start the segments are read in order, one at a time, and the index rebuilt; memory
//! grows with the waiting events (about a hundred bytes each), never with their bodies.
//!
//! **Deletion.** A segment is deleted once no event it admitted still waits, and only after
//! every older segment: a `D` record cancels an `A` record in its own segment or an older
//! one, so it must outlive them. An old segment whose few waiting events would hold back
//! every segment after it has them copied forward into the segment being started.
//!
//! Durability rides on the store's flushes: [`Log::sync`] fsyncs what was written, and a
//! segment doomed by a flush is deleted only after that flush, once the ids of its `D`
//! records are synced in their own files. A record written after a flush's sync is synced by
//! the next one, before its event is answered; a machine that stops in between leaves a
//! record cut short or zeros, which the checksum refuses: reading a segment stops there.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::seen::id_hash;
use super::{lock, numbered_file};

/// A segment is closed, and a new one started, past this size.
const SEGMENT_BYTES: u64 = 4 * 1024 * 1024;
const SUFFIX: &str = ".log";
/// Kind, key length, body length, received at, checksum.
const HEADER: usize = 1 + 2 + 4 + 8 + 4;
const ADMITTED: u8 = b'A';
const ATTEMPT: u8 = b'T';
const DONE: u8 = b'D';
/// An old segment with at most this many waiting events has them copied forward when a new
/// segment starts, so that it and the segments after it can go.
const COPY_FORWARD_AT_MOST: usize = 64;

/// Where an event's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At {
    segment: u64,
    offset: u64,
    len: u32,
}

/// One event waiting to be handled.
struct Waiting {
    key: Box<str>,
    received_at: i64,
    at: At,
    /// Attempts begun at handling it.
    attempts: u32,
}

/// One record read back.
struct Record<'a> {
    kind: u8,
    key: &'a str,
    received_at: i64,
    body: &'a [u8],
}

fn encode(kind: u8, key: &str, received_at: i64, body: &[u8]) -> io::Result<Vec<u8>> {
    let too_long = || io::Error::new(io::ErrorKind::InvalidInput, "a journal record too long");
    let key_len = u16::try_from(key.len()).map_err(|_| too_long())?;
    let body_len = u32::try_from(body.len()).map_err(|_| too_long())?;
    let mut record = Vec::with_capacity(HEADER + key.len() + body.len());
    record.push(kind);
    record.extend_from_slice(&key_len.to_le_bytes());
    record.extend_from_slice(&body_len.to_le_bytes());
    record.extend_from_slice(&received_at.to_le_bytes());
    record.extend_from_slice(&[0; 4]);
    record.extend_from_slice(key.as_bytes());
    record.extend_from_slice(body);
    let crc = checksum(&record);
    record[HEADER - 4..HEADER].copy_from_slice(&crc.to_le_bytes());
    Ok(record)
}

/// The checksum of a record: everything but the checksum's own four bytes.
fn checksum(record: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&record[..HEADER - 4]);
    hasher.update(&record[HEADER..]);
    hasher.finalize()
}

/// The record at the start of `bytes` and its length; `None` when it is cut short, zeros or
/// anything else its checksum refuses.
fn decode(bytes: &[u8]) -> Option<(Record<'_>, usize)> {
    let header = bytes.get(..HEADER)?;
    let number = |range: std::ops::Range<usize>| &header[range];
    let kind = header[0];
    let key_len = u16::from_le_bytes(number(1..3).try_into().ok()?) as usize;
    let body_len = u32::from_le_bytes(number(3..7).try_into().ok()?) as usize;
    let received_at = i64::from_le_bytes(number(7..15).try_into().ok()?);
    let crc = u32::from_le_bytes(number(15..19).try_into().ok()?);
    let len = HEADER + key_len + body_len;
    let record = bytes.get(..len)?;
    if ![ADMITTED, ATTEMPT, DONE].contains(&kind) || checksum(record) != crc {
        return None;
    }
    let key = std::str::from_utf8(&record[HEADER..HEADER + key_len]).ok()?;
    let body = &record[HEADER + key_len..];
    Some((
        Record {
            kind,
            key,
            received_at,
            body,
        },
        len,
    ))
}

struct Segment {
    file: Arc<File>,
    /// How many waiting events it holds the body of.
    live: usize,
}

#[derive(Default)]
struct State {
    segments: BTreeMap<u64, Segment>,
    /// The segment being written and its length.
    current: Option<(u64, u64)>,
    next_segment: u64,
    /// The waiting events, in the order they were admitted.
    waiting: BTreeMap<u64, Waiting>,
    /// Each waiting event's place in `waiting`, by the hash of its key.
    place: HashMap<u64, u64>,
    next_place: u64,
    /// Segments written since the last sync.
    unsynced: BTreeSet<u64>,
    /// Whether a segment was created since the last sync (its name needs the folder's fsync).
    created: bool,
}

/// What the log found at start: each handled id (its hour's moment and hash) that a `D`
/// record still holds, for the files of handled ids.
pub(crate) struct Replayed {
    pub(crate) done: Vec<(i64, u64)>,
}

pub(crate) struct Log {
    dir: PathBuf,
    state: Mutex<State>,
}

fn file_name(segment: u64) -> String {
    format!("{segment:016x}{SUFFIX}")
}

impl State {
    /// Takes a waiting event out of the index; its segment holds one fewer.
    fn take(&mut self, hash: u64) -> Option<Waiting> {
        let place = self.place.remove(&hash)?;
        let waiting = self.waiting.remove(&place)?;
        if let Some(segment) = self.segments.get_mut(&waiting.at.segment) {
            segment.live = segment.live.saturating_sub(1);
        }
        Some(waiting)
    }

    /// Puts a waiting event in the index, in place of any earlier copy of it.
    fn put(&mut self, hash: u64, waiting: Waiting) {
        // A copy read back after its original: the attempts that follow it count again.
        self.take(hash);
        if let Some(segment) = self.segments.get_mut(&waiting.at.segment) {
            segment.live += 1;
        }
        let place = self.next_place;
        self.next_place += 1;
        self.place.insert(hash, place);
        self.waiting.insert(place, waiting);
    }

    fn get_mut(&mut self, hash: u64) -> Option<&mut Waiting> {
        let place = self.place.get(&hash)?;
        self.waiting.get_mut(place)
    }

    /// Reads back one segment's records into the index.
    fn replay(&mut self, segment: u64, bytes: &[u8], replayed: &mut Replayed) {
        let mut offset = 0;
        while let Some((record, len)) = decode(&bytes[offset..]) {
            let hash = match record.kind {
                ADMITTED => id_hash(record.key),
                _ => match record.body.try_into() {
                    Ok(hash) => u64::from_be_bytes(hash),
                    Err(_) => break,
                },
            };
            match record.kind {
                ADMITTED => self.put(
                    hash,
                    Waiting {
                        key: record.key.into(),
                        received_at: record.received_at,
                        at: At {
                            segment,
                            offset: (offset + len - record.body.len()) as u64,
                            len: record.body.len() as u32,
                        },
                        attempts: 0,
                    },
                ),
                ATTEMPT => {
                    if let Some(waiting) = self.get_mut(hash) {
                        waiting.attempts += 1;
                    }
                }
                _ => {
                    self.take(hash);
                    replayed.done.push((record.received_at, hash));
                }
            }
            offset += len;
        }
        if offset < bytes.len() {
            tracing::warn!(
                segment = %file_name(segment),
                "a journal segment ends in a record cut short (the machine stopped before it was synced); what follows was never acknowledged"
            );
        }
    }

    /// Writes a record at the end of the segment being written, starting one when there is
    /// none or it is full; returns where the record's body is.
    fn append(&mut self, dir: &Path, record: &[u8], body_len: usize) -> io::Result<At> {
        let full = self
            .current
            .is_none_or(|(_, len)| len > 0 && len + record.len() as u64 > SEGMENT_BYTES);
        if full {
            self.start_segment(dir)?;
        }
        let (id, len) = self.current.expect("a segment is being written");
        let file = self.segments[&id].file.clone();
        if let Err(error) = (&*file).write_all(record) {
            // Part of it may be written: nothing more goes after it.
            self.current = None;
            return Err(error);
        }
        self.current = Some((id, len + record.len() as u64));
        self.unsynced.insert(id);
        Ok(At {
            segment: id,
            offset: len + (record.len() - body_len) as u64,
            len: body_len as u32,
        })
    }

    fn start_segment(&mut self, dir: &Path) -> io::Result<()> {
        let id = self.next_segment;
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .append(true)
            .open(dir.join(file_name(id)))?;
        self.next_segment += 1;
        self.created = true;
        self.segments.insert(
            id,
            Segment {
                file: Arc::new(file),
                live: 0,
            },
        );
        self.current = Some((id, 0));
        self.copy_forward(dir);
        Ok(())
    }

    /// Copies the few events still waiting in the oldest segment, when it is neither the one
    /// just started nor the one just closed, into the one just started,
    /// so that the oldest no longer holds back the deletion of those after it. An event keeps
    /// its place in the order; a copy that fails leaves it where it was.
    fn copy_forward(&mut self, dir: &Path) {
        // Not the segment just closed: its last events are likely being handled.
        if self.segments.len() < 3 {
            return;
        }
        let Some((oldest, file)) = self
            .segments
            .iter()
            .next()
            .filter(|(_, segment)| (1..=COPY_FORWARD_AT_MOST).contains(&segment.live))
            .map(|(id, segment)| (*id, segment.file.clone()))
        else {
            return;
        };
        let stuck: Vec<(u64, Box<str>, i64, At, u32)> = self
            .waiting
            .iter()
            .filter(|(_, waiting)| waiting.at.segment == oldest)
            .map(|(place, w)| (*place, w.key.clone(), w.received_at, w.at, w.attempts))
            .collect();
        for (place, key, received_at, at, attempts) in stuck {
            // A segment started by a copy that did not fit copies forward on its own.
            if self.waiting.get(&place).map(|waiting| waiting.at) != Some(at) {
                continue;
            }
            let mut body = vec![0; at.len as usize];
            let copied = file
                .read_exact_at(&mut body, at.offset)
                .and_then(|()| encode(ADMITTED, &key, received_at, &body))
                .and_then(|record| self.append(dir, &record, body.len()));
            let Ok(new_at) = copied else {
                return;
            };
            // Replayed, the copy starts its count again: its attempts follow it.
            for _ in 0..attempts {
                let hash = id_hash(&key).to_be_bytes();
                let written = encode(ATTEMPT, "", received_at, &hash)
                    .and_then(|record| self.append(dir, &record, 0));
                if written.is_err() {
                    return;
                }
            }
            if let Some(waiting) = self.waiting.get_mut(&place) {
                waiting.at = new_at;
            }
            for (segment, change) in [(at.segment, -1), (new_at.segment, 1)] {
                if let Some(segment) = self.segments.get_mut(&segment) {
                    segment.live = segment.live.saturating_add_signed(change);
                }
            }
        }
    }
}

impl Log {
    /// Opens the segments in `dir` (created when missing) and reads the waiting events back.
    /// Writing starts in a new segment.
    pub(crate) fn open(dir: PathBuf) -> io::Result<(Self, Replayed)> {
        fs::create_dir_all(&dir)?;
        let mut ids: Vec<u64> = fs::read_dir(&dir)?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name();
                numbered_file(name.to_str()?, 16, SUFFIX)
            })
            .collect();
        ids.sort_unstable();
        let mut state = State::default();
        let mut replayed = Replayed { done: Vec::new() };
        let mut bytes = Vec::new();
        for id in ids {
            let mut file = OpenOptions::new()
                .read(true)
                .append(true)
                .open(dir.join(file_name(id)))?;
            bytes.clear();
            io::Read::read_to_end(&mut file, &mut bytes)?;
            state.segments.insert(
                id,
                Segment {
                    file: Arc::new(file),
                    live: 0,
                },
            );
            state.replay(id, &bytes, &mut replayed);
            state.next_segment = id + 1;
        }
        Ok((
            Self {
                dir,
                state: Mutex::new(state),
            },
            replayed,
        ))
    }

    /// Keeps an event until [`done`](Self::done); `false` when it already waits. Not durable
    /// until [`sync`](Self::sync).
    pub(crate) fn admit(
        &self,
        key: &str,
        hash: u64,
        received_at: i64,
        body: &[u8],
    ) -> io::Result<bool> {
        let record = encode(ADMITTED, key, received_at, body)?;
        let mut state = lock(&self.state);
        if state.place.contains_key(&hash) {
            return Ok(false);
        }
        let at = state.append(&self.dir, &record, body.len())?;
        state.put(
            hash,
            Waiting {
                key: key.into(),
                received_at,
                at,
                attempts: 0,
            },
        );
        Ok(true)
    }

    /// When the waiting event with this hash was received; `None` when it does not wait.
    pub(crate) fn received_at(&self, hash: u64) -> Option<i64> {
        lock(&self.state)
            .get_mut(hash)
            .map(|waiting| waiting.received_at)
    }

    /// The waiting event with this hash and when it was received.
    pub(crate) fn get(&self, hash: u64) -> io::Result<Option<(Vec<u8>, i64)>> {
        let (file, at, received_at) = {
            let mut state = lock(&self.state);
            let Some(waiting) = state.get_mut(hash) else {
                return Ok(None);
            };
            let (at, received_at) = (waiting.at, waiting.received_at);
            (state.segments[&at.segment].file.clone(), at, received_at)
        };
        let mut body = vec![0; at.len as usize];
        file.read_exact_at(&mut body, at.offset)?;
        Ok(Some((body, received_at)))
    }

    /// Counts one more attempt at the waiting event and says which one it is (1 for the
    /// first); `None` when it does not wait. Not durable until [`sync`](Self::sync).
    pub(crate) fn begin_attempt(&self, hash: u64) -> io::Result<Option<u32>> {
        let mut state = lock(&self.state);
        let Some(waiting) = state.get_mut(hash) else {
            return Ok(None);
        };
        let record = encode(ATTEMPT, "", waiting.received_at, &hash.to_be_bytes())?;
        state.append(&self.dir, &record, 0)?;
        let waiting = state.get_mut(hash).expect("the event waits");
        waiting.attempts += 1;
        Ok(Some(waiting.attempts))
    }

    /// The event no longer waits: handled, or its team gone. Not durable until
    /// [`sync`](Self::sync).
    pub(crate) fn done(&self, hash: u64) -> io::Result<()> {
        let mut state = lock(&self.state);
        let Some(waiting) = state.get_mut(hash) else {
            return Ok(());
        };
        let record = encode(DONE, "", waiting.received_at, &hash.to_be_bytes())?;
        state.append(&self.dir, &record, 0)?;
        state.take(hash);
        Ok(())
    }

    /// How many events wait.
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).waiting.len()
    }

    /// Up to `limit` waiting events admitted after place `after` (from the first when
    /// `None`), in the order they were admitted, and the place to resume after when there may
    /// be more.
    pub(crate) fn after(&self, after: Option<u64>, limit: usize) -> (Vec<String>, Option<u64>) {
        let state = lock(&self.state);
        let from = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let mut keys = Vec::new();
        for (place, waiting) in state.waiting.range((from, std::ops::Bound::Unbounded)) {
            keys.push(waiting.key.to_string());
            if keys.len() == limit {
                return (keys, Some(*place));
            }
        }
        (keys, None)
    }

    /// The keys of the waiting events whose key starts with `prefix`.
    pub(crate) fn keys_starting(&self, prefix: &str) -> Vec<String> {
        lock(&self.state)
            .waiting
            .values()
            .filter(|waiting| waiting.key.starts_with(prefix))
            .map(|waiting| waiting.key.to_string())
            .collect()
    }

    /// Makes every record written so far durable. On failure, the next sync tries again.
    pub(crate) fn sync(&self) -> io::Result<()> {
        let (files, created) = {
            let mut state = lock(&self.state);
            let unsynced = std::mem::take(&mut state.unsynced);
            let files: Vec<(u64, Arc<File>)> = unsynced
                .into_iter()
                .filter_map(|id| state.segments.get(&id).map(|s| (id, s.file.clone())))
                .collect();
            (files, std::mem::replace(&mut state.created, false))
        };
        let synced = files
            .iter()
            .try_for_each(|(_, file)| file.sync_data())
            .and_then(|()| {
                if created {
                    File::open(&self.dir)?.sync_all()?;
                }
                Ok(())
            });
        if synced.is_err() {
            let mut state = lock(&self.state);
            state.unsynced.extend(files.iter().map(|(id, _)| *id));
            state.created |= created;
        }
        synced
    }

    /// The segments that may go once what was written so far is durable: the oldest ones,
    /// as long as no waiting event is in them, never the one being written.
    pub(crate) fn doomed(&self) -> Vec<u64> {
        let state = lock(&self.state);
        let current = state.current.map(|(id, _)| id);
        state
            .segments
            .iter()
            .take_while(|(id, segment)| segment.live == 0 && Some(**id) != current)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Deletes segments [`doomed`](Self::doomed) found.
    pub(crate) fn delete(&self, doomed: &[u64]) -> io::Result<()> {
        for id in doomed {
            lock(&self.state).segments.remove(id);
            match fs::remove_file(self.dir.join(file_name(*id))) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn segment_files(&self) -> usize {
        fs::read_dir(&self.dir).unwrap().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit(log: &Log, key: &str, body: &[u8]) -> bool {
        log.admit(key, id_hash(key), 7, body).unwrap()
    }

    fn reopen(dir: &Path) -> (Log, Replayed) {
        Log::open(dir.join("log")).unwrap()
    }

    #[test]
    fn a_record_reads_back_and_anything_else_is_refused() {
        let record = encode(ADMITTED, "T1/Ev1", -5, br#"{"a":1}"#).unwrap();
        let (read, len) = decode(&record).unwrap();
        assert_eq!(len, record.len());
        assert_eq!(
            (read.kind, read.key, read.received_at, read.body),
            (ADMITTED, "T1/Ev1", -5, &br#"{"a":1}"#[..])
        );
        assert!(decode(&record[..record.len() - 1]).is_none(), "cut short");
        let mut flipped = record.clone();
        flipped[HEADER + 2] ^= 1;
        assert!(decode(&flipped).is_none(), "a changed byte");
        assert!(decode(&vec![0; record.len()]).is_none(), "zeros");
        assert!(encode(ADMITTED, &"k".repeat(70_000), 0, &[]).is_err());
    }

    #[test]
    fn waiting_events_attempts_and_completions_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (log, _) = reopen(dir.path());
            assert!(admit(&log, "T1/Ev1", b"{\"a\":1}"));
            assert!(!admit(&log, "T1/Ev1", b"{\"a\":1}"), "waits already");
            assert!(admit(&log, "T1/Ev2", b"{\"b\":2}"));
            assert!(admit(&log, "T1/Ev3", b"{\"c\":3}"));
            assert_eq!(log.begin_attempt(id_hash("T1/Ev2")).unwrap(), Some(1));
            assert_eq!(log.begin_attempt(id_hash("T1/Ev2")).unwrap(), Some(2));
            assert_eq!(log.begin_attempt(id_hash("T9/Ev9")).unwrap(), None);
            log.done(id_hash("T1/Ev1")).unwrap();
            log.sync().unwrap();
        }
        let (log, replayed) = reopen(dir.path());
        assert_eq!(replayed.done, [(7, id_hash("T1/Ev1"))]);
        assert_eq!(log.len(), 2);
        assert_eq!(log.after(None, 10).0, ["T1/Ev2", "T1/Ev3"]);
        assert_eq!(
            log.get(id_hash("T1/Ev2")).unwrap(),
            Some((b"{\"b\":2}".to_vec(), 7))
        );
        assert_eq!(log.get(id_hash("T1/Ev1")).unwrap(), None);
        assert_eq!(
            log.begin_attempt(id_hash("T1/Ev2")).unwrap(),
            Some(3),
            "attempts before the restart count"
        );
    }

    #[test]
    fn waiting_events_are_read_in_the_order_they_came_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = reopen(dir.path());
        for key in ["T2/Ev9", "T1/Ev1", "T1/Ev5", "T3/Ev0"] {
            admit(&log, key, b"{}");
        }
        log.done(id_hash("T1/Ev5")).unwrap();
        let (first, resume) = log.after(None, 2);
        assert_eq!(first, ["T2/Ev9", "T1/Ev1"]);
        let (rest, resume) = log.after(resume, 2);
        assert_eq!(rest, ["T3/Ev0"]);
        assert!(resume.is_none());
    }

    #[test]
    fn a_segment_goes_only_after_every_older_one_and_a_straggler_is_copied_forward() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = reopen(dir.path());
        let big = vec![b'x'; SEGMENT_BYTES as usize / 2];
        // Segment 0: a straggler and a big event; segment 1: a big event.
        admit(&log, "T1/Straggler", b"{\"s\":1}");
        admit(&log, "T1/Big0", &big);
        admit(&log, "T1/Big1", &big);
        log.done(id_hash("T1/Big1")).unwrap();
        assert_eq!(log.doomed(), Vec::<u64>::new(), "segment 0 still holds two");
        log.done(id_hash("T1/Big0")).unwrap();
        assert!(log.doomed().is_empty(), "the straggler holds segment 0");
        // A new segment starts: the straggler is copied forward, and both old ones can go.
        admit(&log, "T1/Big2", &big);
        log.sync().unwrap();
        assert_eq!(log.doomed(), [0, 1]);
        log.delete(&log.doomed()).unwrap();
        assert_eq!(log.segment_files(), 1);
        assert_eq!(
            log.get(id_hash("T1/Straggler")).unwrap().unwrap().0,
            b"{\"s\":1}"
        );
        drop(log);
        let (log, _) = reopen(dir.path());
        assert_eq!(log.after(None, 10).0, ["T1/Straggler", "T1/Big2"]);
    }

    #[test]
    fn reading_a_segment_stops_at_a_record_cut_short() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (log, _) = reopen(dir.path());
            admit(&log, "T1/Kept", b"{\"a\":1}");
            admit(&log, "T1/Lost", b"{\"b\":2}");
            log.sync().unwrap();
        }
        let segment = dir.path().join("log").join(file_name(0));
        let len = fs::metadata(&segment).unwrap().len();
        let file = OpenOptions::new().write(true).open(&segment).unwrap();
        file.set_len(len - 3).unwrap();
        assert_eq!(reopen(dir.path()).0.after(None, 10).0, ["T1/Kept"]);
        // Zeros where the record was, as a machine's crash can leave.
        file.set_len(len).unwrap();
        let (log, _) = reopen(dir.path());
        assert_eq!(log.after(None, 10).0, ["T1/Kept"]);
        assert!(admit(&log, "T1/Lost", b"{\"b\":2}"), "taken as new");
    }
}

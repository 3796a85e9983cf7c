//! The event journal's log: every event waiting to be handled, in segment files beside sled
//! (`log/{segment:016x}.log`) written one after the other, and in memory the index of where
//! each one is.
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
//! At start the segments are read in order, each a window of 64 KiB at a time
//! ([`READ_WINDOW`]), and the index rebuilt; memory grows with the waiting events (about 60
//! bytes each: where the event is, its key being read from its segment when asked for),
//! never with their bodies.
//!
//! **Deletion.** A segment is deleted once no event it admitted still waits, and only after
//! every older segment: a `D` record cancels an `A` record in its own segment or an older
//! one, so it must outlive them. An old segment whose few waiting events would hold back
//! every segment after it has them copied forward into the segment being started.
//!
//! **Writing.** A record waits in memory until the next [`Log::sync`] (or until
//! [`UNWRITTEN_AT_MOST`] bytes wait), which writes every waiting record in one write: an
//! event's intake and its attempt cost no system call of their own. A segment's space is
//! allocated when it starts, so that a sync writes the records into space the file already
//! has and need not sync the file's size too (one disk write fewer per sync). Reading a
//! segment back stops quietly at that space's zeros.
//!
//! Durability rides on the store's flushes: [`Log::sync`] fsyncs what was written, and a
//! segment doomed by a flush is deleted only after that flush, once the ids of its `D`
//! records are synced in their own files. `D` records are written by the flush after sled's
//! ([`Log::write_done`]), so that what handling an event left in sled is never behind the
//! record that says it is done, and that flush syncs them after writing them. An `A` or `T`
//! record written after a flush's sync is synced by the next one (an `A` before its event
//! is answered); a machine that stops in between leaves a
//! record cut short or zeros, which the checksum refuses: reading a segment stops there. A
//! write that fails leaves its records waiting: the next sync writes them again, at the same
//! place.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::seen::id_hash;
use super::{lock, numbered_file};

/// A segment is closed, and a new one started, past this size.
const SEGMENT_BYTES: u64 = 4 * 1024 * 1024;
/// How much of a segment a start reads at once. Below glibc's first threshold for mapping an
/// allocation on its own (128 KiB): a freed mapping raises that threshold to its size, and
/// the heap then keeps allocations up to that size for good.
const READ_WINDOW: usize = 64 * 1024;
/// Records waiting in memory past this many bytes are written at once, before the next
/// sync: below glibc's first mapping threshold, like [`READ_WINDOW`].
const UNWRITTEN_AT_MOST: usize = 64 * 1024;
const SUFFIX: &str = ".log";
/// Kind, key length, body length, received at, checksum.
const HEADER: usize = 1 + 2 + 4 + 8 + 4;
const ADMITTED: u8 = b'A';
const ATTEMPT: u8 = b'T';
const DONE: u8 = b'D';
/// An old segment with at most this many waiting events has them copied forward when a new
/// segment starts, so that it and the segments after it can go.
const COPY_FORWARD_AT_MOST: usize = 64;

/// Where an event's body is; its key ends where the body starts. A segment is numbered
/// from 0 and a body starts within the first [`SEGMENT_BYTES`] of one, so 32 bits hold both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At {
    segment: u32,
    offset: u32,
    len: u32,
}

/// One event waiting to be handled: 24 bytes, its key being read from its segment when
/// asked for.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    received_at: i64,
    at: At,
    key_len: u16,
    /// Attempts begun at handling it.
    attempts: u16,
}

impl Waiting {
    fn segment(&self) -> u64 {
        u64::from(self.at.segment)
    }
}

/// The waiting events, in the order they came, and where each one is by the hash of its key.
#[derive(Default)]
struct Index {
    /// From place `first` on; `None` where an event has left since.
    order: VecDeque<Option<Waiting>>,
    first: u64,
    place: HashMap<u64, u64>,
}

impl Index {
    fn len(&self) -> usize {
        self.place.len()
    }

    fn slot(&self, hash: u64) -> Option<usize> {
        let place = self.place.get(&hash)?;
        usize::try_from(place.checked_sub(self.first)?).ok()
    }

    fn get_mut(&mut self, hash: u64) -> Option<&mut Waiting> {
        let slot = self.slot(hash)?;
        self.order.get_mut(slot)?.as_mut()
    }

    fn get(&self, hash: u64) -> Option<Waiting> {
        let slot = self.slot(hash)?;
        *self.order.get(slot)?
    }

    /// Adds an event at the end of the order.
    fn push(&mut self, hash: u64, waiting: Waiting) {
        self.place
            .insert(hash, self.first + self.order.len() as u64);
        self.order.push_back(Some(waiting));
    }

    fn remove(&mut self, hash: u64) -> Option<Waiting> {
        let slot = self.slot(hash)?;
        self.place.remove(&hash);
        let waiting = self.order.get_mut(slot)?.take();
        while let Some(None) = self.order.front() {
            self.order.pop_front();
            self.first += 1;
        }
        if self.order.is_empty() {
            // The order's memory goes with a drained backlog.
            self.order.shrink_to(1024);
        }
        waiting
    }

    /// The waiting events after place `after` (from the first when `None`), with their
    /// places.
    fn after(&self, after: Option<u64>) -> impl Iterator<Item = (u64, Waiting)> + '_ {
        let from = after.map_or(0, |after| (after + 1).saturating_sub(self.first));
        let from = usize::try_from(from)
            .unwrap_or(usize::MAX)
            .min(self.order.len());
        let first = self.first + from as u64;
        self.order
            .range(from..)
            .enumerate()
            .filter_map(move |(slot, waiting)| Some((first + slot as u64, (*waiting)?)))
    }
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

/// The length its header gives the record at the start of `bytes`; `None` when the header
/// itself is cut short.
fn record_len(bytes: &[u8]) -> Option<usize> {
    let header = bytes.get(..HEADER)?;
    let key_len = u16::from_le_bytes([header[1], header[2]]) as usize;
    let body_len = u32::from_le_bytes([header[3], header[4], header[5], header[6]]) as usize;
    Some(HEADER + key_len + body_len)
}

/// The record at the start of `bytes` and its length; `None` when it is cut short, zeros or
/// anything else its checksum refuses.
fn decode(bytes: &[u8]) -> Option<(Record<'_>, usize)> {
    let len = record_len(bytes)?;
    let header = &bytes[..HEADER];
    let number = |range: std::ops::Range<usize>| &header[range];
    let kind = header[0];
    let key_len = u16::from_le_bytes(number(1..3).try_into().ok()?) as usize;
    let received_at = i64::from_le_bytes(number(7..15).try_into().ok()?);
    let crc = u32::from_le_bytes(number(15..19).try_into().ok()?);
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

/// An event done whose `D` record is not written yet: the hash of its key, when it was
/// received, and its segment.
type Done = (u64, i64, u64);

/// The records of the segment being written that wait in memory for the next write.
#[derive(Default)]
struct Unwritten {
    bytes: Vec<u8>,
    /// Where in the segment they go: how much of it its file holds.
    at: u64,
}

/// Bytes of a segment: copied from what waits to be written, or to be read from its file.
enum Found {
    Copied(Vec<u8>),
    InFile {
        file: Arc<File>,
        offset: u64,
        len: usize,
    },
}

impl Found {
    fn read(self) -> io::Result<Vec<u8>> {
        match self {
            Self::Copied(bytes) => Ok(bytes),
            Self::InFile { file, offset, len } => read_at(&file, offset, len),
        }
    }
}

#[derive(Default)]
struct State {
    segments: BTreeMap<u64, Segment>,
    /// The segment being written and its length, what waits in memory included.
    current: Option<(u64, u64)>,
    unwritten: Unwritten,
    next_segment: u64,
    waiting: Index,
    /// Segments written since the last sync.
    unsynced: BTreeSet<u64>,
    /// Whether a segment was created since the last sync (its name needs the folder's fsync).
    created: bool,
    /// Events done whose `D` record is not written yet ([`Log::write_done`]): the hash, when
    /// it was received and its segment, which holds it until then.
    done_unwritten: Vec<Done>,
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

/// Reads `len` bytes at `offset` of a file.
fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, offset)?;
    Ok(bytes)
}

/// Whether `bytes`, where a record would start, are zeros: space allocated for a segment
/// and never written, the end of what it holds.
fn never_written(bytes: &[u8]) -> bool {
    bytes.iter().take(HEADER).all(|byte| *byte == 0)
}

impl State {
    /// Takes a waiting event out of the index; its segment holds one fewer.
    fn take(&mut self, hash: u64) -> Option<Waiting> {
        let waiting = self.waiting.remove(hash)?;
        if let Some(segment) = self.segments.get_mut(&waiting.segment()) {
            segment.live = segment.live.saturating_sub(1);
        }
        Some(waiting)
    }

    /// Puts a waiting event at the end of the order, in place of any earlier copy of it.
    fn put(&mut self, hash: u64, waiting: Waiting) {
        self.take(hash);
        if let Some(segment) = self.segments.get_mut(&waiting.segment()) {
            segment.live += 1;
        }
        self.waiting.push(hash, waiting);
    }

    /// Where `len` bytes at `offset` of a segment are to be read: what waits to be written is
    /// copied, so that the file is read (by the caller, without the lock) only for what it
    /// holds.
    fn find(&self, segment: u64, offset: u64, len: usize) -> io::Result<Found> {
        let waiting_write =
            self.current.is_some_and(|(id, _)| id == segment) && offset >= self.unwritten.at;
        if waiting_write {
            let start = usize::try_from(offset - self.unwritten.at).unwrap_or(usize::MAX);
            let bytes = start
                .checked_add(len)
                .and_then(|end| self.unwritten.bytes.get(start..end))
                .ok_or_else(|| io::Error::other("a journal record past the segment's end"))?;
            return Ok(Found::Copied(bytes.to_vec()));
        }
        Ok(Found::InFile {
            file: self.file(segment)?,
            offset,
            len,
        })
    }

    /// Where the key of a waiting event is, just before its body.
    fn find_key(&self, waiting: &Waiting) -> io::Result<Found> {
        let len = usize::from(waiting.key_len);
        self.find(
            waiting.segment(),
            u64::from(waiting.at.offset) - len as u64,
            len,
        )
    }

    fn file(&self, segment: u64) -> io::Result<Arc<File>> {
        match self.segments.get(&segment) {
            Some(segment) => Ok(segment.file.clone()),
            None => Err(io::Error::other(format!(
                "the journal segment {} is missing",
                file_name(segment)
            ))),
        }
    }

    /// Reads back the records at the start of `bytes`, which starts `base` bytes into one
    /// segment, into the index; returns how many bytes they took. It stops at the first record
    /// `bytes` does not hold whole or that its checksum refuses.
    fn replay(
        &mut self,
        segment: u32,
        bytes: &[u8],
        base: usize,
        replayed: &mut Replayed,
    ) -> usize {
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
                        received_at: record.received_at,
                        at: At {
                            segment,
                            offset: (base + offset + len - record.body.len()) as u32,
                            len: record.body.len() as u32,
                        },
                        key_len: record.key.len() as u16,
                        attempts: 0,
                    },
                ),
                ATTEMPT => {
                    if let Some(waiting) = self.waiting.get_mut(hash) {
                        waiting.attempts = waiting.attempts.saturating_add(1);
                    }
                }
                _ => {
                    self.take(hash);
                    replayed.done.push((record.received_at, hash));
                }
            }
            offset += len;
        }
        offset
    }

    /// Reads back a whole segment, [`READ_WINDOW`] bytes at a time (more for a longer
    /// record), into the index; `window` is the buffer, reused from one segment to the next.
    fn replay_segment(
        &mut self,
        segment: u32,
        file: &File,
        window: &mut Vec<u8>,
        replayed: &mut Replayed,
    ) -> io::Result<()> {
        let size = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        let mut start = 0;
        let mut want = READ_WINDOW;
        while start < size {
            window.resize(want.min(size - start), 0);
            file.read_exact_at(window, start as u64)?;
            let used = self.replay(segment, window, start, replayed);
            if used > 0 {
                start += used;
                want = READ_WINDOW;
                continue;
            }
            // Nothing whole at `start`: a record longer than the window, read again whole;
            // else the end of what was written.
            match record_len(window) {
                Some(len) if len > window.len() && len <= size - start => want = len,
                _ if never_written(window) => break,
                _ => {
                    tracing::warn!(
                        segment = %file_name(segment.into()),
                        "a journal segment ends in a record cut short (the machine stopped before it was synced); what follows was never acknowledged"
                    );
                    break;
                }
            }
        }
        Ok(())
    }

    /// Adds a record at the end of the segment being written, starting one when there is
    /// none or it is full; returns where the record's body is. The record waits in memory
    /// for [`write_unwritten`](Self::write_unwritten).
    fn append(&mut self, dir: &Path, record: &[u8], body_len: usize) -> io::Result<At> {
        let full = self
            .current
            .is_none_or(|(_, len)| len > 0 && len + record.len() as u64 > SEGMENT_BYTES);
        if full {
            self.write_unwritten()?;
            self.start_segment(dir)?;
        } else if self.unwritten.bytes.len() + record.len() > UNWRITTEN_AT_MOST {
            self.write_unwritten()?;
        }
        let (id, len) = self.current.expect("a segment is being written");
        self.unwritten.bytes.extend_from_slice(record);
        self.current = Some((id, len + record.len() as u64));
        self.unsynced.insert(id);
        Ok(At {
            segment: id as u32,
            offset: (len + (record.len() - body_len) as u64) as u32,
            len: body_len as u32,
        })
    }

    /// Writes the records waiting in memory into the segment being written. On failure they
    /// keep waiting, and the next call writes them again at the same place.
    fn write_unwritten(&mut self) -> io::Result<()> {
        let Some((id, _)) = self.current else {
            return Ok(());
        };
        if self.unwritten.bytes.is_empty() {
            return Ok(());
        }
        self.file(id)?
            .write_all_at(&self.unwritten.bytes, self.unwritten.at)?;
        self.unwritten.at += self.unwritten.bytes.len() as u64;
        self.unwritten.bytes.clear();
        // A record longer than the usual leaves no lasting buffer of its size.
        self.unwritten.bytes.shrink_to(UNWRITTEN_AT_MOST);
        Ok(())
    }

    fn start_segment(&mut self, dir: &Path) -> io::Result<()> {
        let id = self.next_segment;
        if u32::try_from(id).is_err() {
            return Err(io::Error::other(
                "the journal has used every segment number",
            ));
        }
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .write(true)
            .open(dir.join(file_name(id)))?;
        // Without the space (a file system that cannot allocate ahead), writes extend the
        // file as they go, and each sync writes its size too.
        if let Err(error) = fs2::FileExt::allocate(&file, SEGMENT_BYTES) {
            tracing::debug!(%error, "could not allocate a journal segment's space ahead");
        }
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
        self.unwritten.at = 0;
        self.copy_forward(dir);
        Ok(())
    }

    /// Copies the few events still waiting in the oldest segment, when it is neither the one
    /// just started nor the one just closed, into the one just started, so that the oldest
    /// no longer holds back the deletion of those after it. A copy goes to the end of the
    /// order; a copy that fails leaves the event where it was.
    fn copy_forward(&mut self, dir: &Path) {
        // Not the segment just closed: its last events are likely being handled.
        if self.segments.len() < 3 {
            return;
        }
        let Some(oldest) = self
            .segments
            .iter()
            .next()
            .filter(|(_, segment)| (1..=COPY_FORWARD_AT_MOST).contains(&segment.live))
            .map(|(id, _)| *id)
        else {
            return;
        };
        let stuck: Vec<Waiting> = self
            .waiting
            .after(None)
            .map(|(_, waiting)| waiting)
            .filter(|waiting| waiting.segment() == oldest)
            .collect();
        for old in stuck {
            let key_len = usize::from(old.key_len);
            let start = u64::from(old.at.offset) - key_len as u64;
            let read = self
                .find(oldest, start, key_len + old.at.len as usize)
                .and_then(Found::read);
            let Ok(bytes) = read else {
                return;
            };
            let (key, body) = bytes.split_at(key_len);
            let Ok(key) = std::str::from_utf8(key) else {
                continue;
            };
            let hash = id_hash(key);
            // A segment started by a copy that did not fit copies forward on its own.
            if self.waiting.get(hash).map(|waiting| waiting.at) != Some(old.at) {
                continue;
            }
            let copied = encode(ADMITTED, key, old.received_at, body)
                .and_then(|record| self.append(dir, &record, body.len()));
            let Ok(at) = copied else {
                return;
            };
            // Replayed, the copy starts its count again: its attempts follow it.
            for _ in 0..old.attempts {
                let written = encode(ATTEMPT, "", old.received_at, &hash.to_be_bytes())
                    .and_then(|record| self.append(dir, &record, 0));
                if written.is_err() {
                    return;
                }
            }
            self.put(hash, Waiting { at, ..old });
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
            .filter(|id| u32::try_from(*id).is_ok())
            .collect();
        ids.sort_unstable();
        let mut state = State::default();
        let mut replayed = Replayed { done: Vec::new() };
        let mut window = Vec::new();
        for id in ids {
            let file = Arc::new(
                OpenOptions::new()
                    .read(true)
                    .open(dir.join(file_name(id)))?,
            );
            state.segments.insert(
                id,
                Segment {
                    file: Arc::clone(&file),
                    live: 0,
                },
            );
            state.replay_segment(id as u32, &file, &mut window, &mut replayed)?;
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
        if state.waiting.get(hash).is_some() {
            return Ok(false);
        }
        let at = state.append(&self.dir, &record, body.len())?;
        state.put(
            hash,
            Waiting {
                received_at,
                at,
                key_len: key.len() as u16,
                attempts: 0,
            },
        );
        Ok(true)
    }

    /// When the waiting event with this hash was received; `None` when it does not wait.
    pub(crate) fn received_at(&self, hash: u64) -> Option<i64> {
        lock(&self.state)
            .waiting
            .get(hash)
            .map(|waiting| waiting.received_at)
    }

    /// The waiting event with this hash and when it was received.
    pub(crate) fn get(&self, hash: u64) -> io::Result<Option<(Vec<u8>, i64)>> {
        let (found, received_at) = {
            let state = lock(&self.state);
            let Some(waiting) = state.waiting.get(hash) else {
                return Ok(None);
            };
            let at = waiting.at;
            let found = state.find(waiting.segment(), at.offset.into(), at.len as usize)?;
            (found, waiting.received_at)
        };
        Ok(Some((found.read()?, received_at)))
    }

    /// Counts one more attempt at the waiting event and says which one it is (1 for the
    /// first); `None` when it does not wait. Not durable until [`sync`](Self::sync).
    pub(crate) fn begin_attempt(&self, hash: u64) -> io::Result<Option<u32>> {
        let mut state = lock(&self.state);
        let Some(waiting) = state.waiting.get(hash) else {
            return Ok(None);
        };
        let record = encode(ATTEMPT, "", waiting.received_at, &hash.to_be_bytes())?;
        state.append(&self.dir, &record, 0)?;
        let waiting = state.waiting.get_mut(hash).expect("the event waits");
        waiting.attempts = waiting.attempts.saturating_add(1);
        Ok(Some(waiting.attempts.into()))
    }

    /// The event no longer waits: handled, or its team gone. Not durable until
    /// [`sync`](Self::sync).
    pub(crate) fn done(&self, hash: u64) {
        let mut state = lock(&self.state);
        if let Some(waiting) = state.waiting.remove(hash) {
            state
                .done_unwritten
                .push((hash, waiting.received_at, waiting.segment()));
        }
    }

    /// How many events are done and their `D` records unwritten: a mark for
    /// [`write_done`](Self::write_done).
    pub(crate) fn done_mark(&self) -> usize {
        lock(&self.state).done_unwritten.len()
    }

    /// Writes the `D` records of the first `upto` events done and unwritten (a
    /// [`done_mark`](Self::done_mark)); their segments no longer hold them. The store's flush
    /// takes the mark before sled's flush and writes after it: what handling an event left
    /// in sled (a note in the outbox) is on disk before the record that says the event is
    /// done, so a crash in between hands the event over again rather than lose the note.
    /// Nothing is forgotten when a step fails: the next flush writes them. Durable with the
    /// next [`sync`](Self::sync), which the store's flush makes right after.
    pub(crate) fn write_done(&self, upto: usize) -> io::Result<()> {
        let mut state = lock(&self.state);
        let upto = upto.min(state.done_unwritten.len());
        if upto == 0 {
            return Ok(());
        }
        let done = &state.done_unwritten[..upto];
        let mut records = Vec::with_capacity(done.len() * (HEADER + 8));
        for (hash, received_at, _) in done {
            records.extend(encode(DONE, "", *received_at, &hash.to_be_bytes())?);
        }
        state.append(&self.dir, &records, 0)?;
        let written: Vec<Done> = state.done_unwritten.drain(..upto).collect();
        for (_, _, segment) in written {
            if let Some(segment) = state.segments.get_mut(&segment) {
                segment.live = segment.live.saturating_sub(1);
            }
        }
        Ok(())
    }

    /// How many segment files hold records not yet synced.
    #[cfg(test)]
    pub(crate) fn unsynced(&self) -> usize {
        lock(&self.state).unsynced.len()
    }

    /// How many events wait.
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).waiting.len()
    }

    /// The keys of up to `limit` waiting events that came after place `after` (from the
    /// first when `None`), in the order they came, and the place to resume after when there
    /// may be more. An event handled while its key is read is left out.
    pub(crate) fn after(&self, after: Option<u64>, limit: usize) -> (Vec<String>, Option<u64>) {
        let (found, resume) = {
            let state = lock(&self.state);
            let found: Vec<Found> = state
                .waiting
                .after(after)
                .take(limit)
                .filter_map(|(_, waiting)| state.find_key(&waiting).ok())
                .collect();
            let resume = state
                .waiting
                .after(after)
                .nth(limit.saturating_sub(1))
                .map(|(place, _)| place);
            (found, resume)
        };
        let keys = found
            .into_iter()
            .filter_map(|found| String::from_utf8(found.read().ok()?).ok())
            .collect();
        (keys, resume)
    }

    /// The keys of the waiting events whose key starts with `prefix`.
    pub(crate) fn keys_starting(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut after = None;
        loop {
            let (batch, resume) = self.after(after, 1024);
            keys.extend(batch.into_iter().filter(|key| key.starts_with(prefix)));
            match resume {
                Some(place) => after = Some(place),
                None => return keys,
            }
        }
    }

    /// Writes the records waiting in memory and makes every record so far durable. On
    /// failure, the next sync tries again.
    pub(crate) fn sync(&self) -> io::Result<()> {
        let (files, created) = {
            let mut state = lock(&self.state);
            state.write_unwritten()?;
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
            log.done(id_hash("T1/Ev1"));
            log.write_done(log.done_mark()).unwrap();
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
        log.done(id_hash("T1/Ev5"));
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
        log.done(id_hash("T1/Big1"));
        log.write_done(log.done_mark()).unwrap();
        assert_eq!(log.doomed(), Vec::<u64>::new(), "segment 0 still holds two");
        log.done(id_hash("T1/Big0"));
        log.write_done(log.done_mark()).unwrap();
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
    fn an_event_done_still_waits_until_its_record_is_written_and_holds_its_segment() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (log, _) = reopen(dir.path());
            admit(&log, "T1/Ev1", b"{}");
            log.done(id_hash("T1/Ev1"));
            assert_eq!(log.len(), 0, "not handed out again");
            assert_eq!(log.get(id_hash("T1/Ev1")).unwrap(), None);
            admit(&log, "T1/Big", &vec![b'x'; SEGMENT_BYTES as usize]);
            log.sync().unwrap();
            assert!(log.doomed().is_empty(), "its segment waits for the record");
        }
        let (log, replayed) = reopen(dir.path());
        assert_eq!(
            log.after(None, 10).0,
            ["T1/Ev1", "T1/Big"],
            "a crash before the record hands it over again"
        );
        assert!(replayed.done.is_empty());
        log.done(id_hash("T1/Ev1"));
        log.write_done(log.done_mark()).unwrap();
        log.sync().unwrap();
        assert_eq!(log.doomed(), [0]);
        let (log, replayed) = reopen(dir.path());
        assert_eq!(log.after(None, 10).0, ["T1/Big"]);
        assert_eq!(replayed.done, [(7, id_hash("T1/Ev1"))]);
    }

    #[test]
    fn reading_a_segment_stops_at_a_record_cut_short() {
        let dir = tempfile::tempdir().unwrap();
        let events = [
            ("T1/Kept", &b"{\"a\":1}"[..]),
            ("T1/Lost", &b"{\"b\":2}"[..]),
        ];
        {
            let (log, _) = reopen(dir.path());
            for (key, body) in events {
                admit(&log, key, body);
            }
            log.sync().unwrap();
        }
        let end: usize = events
            .iter()
            .map(|(key, body)| encode(ADMITTED, key, 7, body).unwrap().len())
            .sum();
        let end = end as u64;
        let segment = dir.path().join("log").join(file_name(0));
        let file = OpenOptions::new().write(true).open(&segment).unwrap();
        // Zeros where the last record's end was, as a machine's crash can leave.
        file.write_all_at(&[0; 3], end - 3).unwrap();
        assert_eq!(reopen(dir.path()).0.after(None, 10).0, ["T1/Kept"]);
        // A file that ends inside it (on a file system that allocates nothing ahead).
        file.set_len(end - 3).unwrap();
        let (log, _) = reopen(dir.path());
        assert_eq!(log.after(None, 10).0, ["T1/Kept"]);
        assert!(admit(&log, "T1/Lost", b"{\"b\":2}"), "taken as new");
    }

    #[test]
    fn records_wait_in_memory_until_a_sync_writes_them_into_space_allocated_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let segment = dir.path().join("log").join(file_name(0));
        let (log, _) = reopen(dir.path());
        assert!(admit(&log, "T1/Ev1", b"{\"a\":1}"));
        assert_eq!(log.begin_attempt(id_hash("T1/Ev1")).unwrap(), Some(1));
        let on_disk = || fs::read(&segment).unwrap();
        assert!(
            on_disk().iter().all(|byte| *byte == 0),
            "nothing written before the sync"
        );
        assert_eq!(
            on_disk().len() as u64,
            SEGMENT_BYTES,
            "the space is allocated"
        );
        // Read from memory meanwhile.
        assert_eq!(log.after(None, 10).0, ["T1/Ev1"]);
        assert_eq!(
            log.get(id_hash("T1/Ev1")).unwrap(),
            Some((b"{\"a\":1}".to_vec(), 7))
        );
        log.sync().unwrap();
        let record = encode(ADMITTED, "T1/Ev1", 7, b"{\"a\":1}").unwrap();
        assert_eq!(on_disk()[..record.len()], record[..]);
        assert_eq!(on_disk().len() as u64, SEGMENT_BYTES, "written inside it");
        // More records than wait in memory at most are written before the sync.
        let body = vec![b'x'; 1000];
        let many = UNWRITTEN_AT_MOST / body.len() + 1;
        for index in 0..many {
            admit(&log, &format!("T1/Many{index}"), &body);
        }
        let written = on_disk().iter().rposition(|byte| *byte != 0).unwrap();
        assert!(written > UNWRITTEN_AT_MOST / 2, "written at {written}");
        assert_eq!(log.get(id_hash("T1/Many0")).unwrap().unwrap().0, body);
        log.sync().unwrap();
        drop(log);
        let (log, _) = reopen(dir.path());
        assert_eq!(
            log.len(),
            many + 1,
            "read back up to the zeros after the last"
        );
        assert_eq!(log.begin_attempt(id_hash("T1/Ev1")).unwrap(), Some(2));
    }

    #[test]
    fn a_segment_reads_back_across_windows_and_records_longer_than_one() {
        let dir = tempfile::tempdir().unwrap();
        // Bodies of many sizes, two of them longer than a read window, so that records
        // cross window boundaries at every offset the sizes give.
        let body = |index: usize| {
            let len = match index {
                40 => READ_WINDOW * 2 + 7,
                41 => READ_WINDOW + 1,
                _ => 100 + index * 37 % 900,
            };
            vec![b'a' + (index % 26) as u8; len]
        };
        let key = |index: usize| format!("T1/Ev{index:03}");
        {
            let (log, _) = reopen(dir.path());
            for index in 0..300 {
                assert!(admit(&log, &key(index), &body(index)));
            }
            for index in (0..300).step_by(3) {
                log.done(id_hash(&key(index)));
            }
            log.write_done(log.done_mark()).unwrap();
            log.sync().unwrap();
        }
        let segment = dir.path().join("log").join(file_name(0));
        assert!(fs::metadata(&segment).unwrap().len() > 4 * READ_WINDOW as u64);
        let (log, replayed) = reopen(dir.path());
        assert_eq!(replayed.done.len(), 100);
        let waiting: Vec<usize> = (0..300).filter(|index| index % 3 != 0).collect();
        assert_eq!(
            log.after(None, 300).0,
            waiting.iter().map(|&index| key(index)).collect::<Vec<_>>()
        );
        for index in waiting {
            assert_eq!(
                log.get(id_hash(&key(index))).unwrap(),
                Some((body(index), 7)),
                "{}",
                key(index)
            );
        }
    }
}

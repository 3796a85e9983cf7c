//! The bodies of journaled events, in append-only segment files beside sled
//! (`journal/{segment:016x}.seg`); sled's pending tree keeps only where each one is.
//!
//! sled 0.34 keeps in memory every node it has read, whatever its cache size, and does not
//! give back the log space of values it no longer holds: with the bodies in its tree, a
//! restart on 100,000 waiting events read 33 MB of them into memory, and a drained backlog
//! left its log behind. Here a body is written once, read once when its event is handled,
//! and its segment file is deleted once no waiting event is in it.
//!
//! Durability rides on the store's flushes: [`Bodies::sync`] fsyncs what was written and
//! runs before sled's flush, so an entry answered 200 always finds its body; a segment is
//! deleted only after the flush that made its last entry's removal durable. A body written
//! between a flush's sync and its sled flush is synced by the next one, before its event is
//! answered; a machine that stops in between leaves an entry [`Bodies::is_whole`] refuses,
//! and the journal drops it at start.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::{lock, numbered_file};

/// A segment is closed, and a new one started, past this size.
const SEGMENT_BYTES: u64 = 4 * 1024 * 1024;
const SUFFIX: &str = ".seg";

/// Where a body is: its segment, offset and length. Stored as `[segment, offset, length]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BodyAt(u64, u64, u64);

struct Current {
    id: u64,
    file: Arc<File>,
    len: u64,
}

#[derive(Default)]
struct Segments {
    current: Option<Current>,
    next_id: u64,
    /// Open files to read from, by segment.
    files: HashMap<u64, Arc<File>>,
    /// How many waiting events each segment holds.
    live: HashMap<u64, usize>,
    /// Segments written since the last sync.
    unsynced: BTreeSet<u64>,
    /// Whether a segment was created since the last sync (its name needs the folder's fsync).
    created: bool,
    /// Segments no waiting event is in: deleted after the next flush of sled.
    doomed: Vec<u64>,
    /// Whether the waiting events found at start have been counted.
    adopted: bool,
}

pub(crate) struct Bodies {
    dir: PathBuf,
    segments: Mutex<Segments>,
}

fn segment_id(name: &str) -> Option<u64> {
    numbered_file(name, 16, SUFFIX)
}

impl Segments {
    /// A segment with no waiting event left is deleted after the next flush, unless it is
    /// still being written.
    fn release(&mut self, segment: u64) {
        let Some(live) = self.live.get_mut(&segment) else {
            return;
        };
        *live = live.saturating_sub(1);
        let current = self.current.as_ref().map(|c| c.id);
        if *live == 0 && current != Some(segment) {
            self.live.remove(&segment);
            self.doomed.push(segment);
        }
    }

    /// Starts a new segment; the one it replaces is doomed when nothing waits in it.
    fn start_segment(&mut self, dir: &std::path::Path) -> io::Result<()> {
        if let Some(old) = self.current.take()
            && self.live.get(&old.id).copied().unwrap_or(0) == 0
        {
            self.live.remove(&old.id);
            self.doomed.push(old.id);
        }
        let id = self.next_id;
        let file = Arc::new(
            OpenOptions::new()
                .create_new(true)
                .read(true)
                .append(true)
                .open(dir.join(file_name(id)))?,
        );
        self.next_id += 1;
        self.created = true;
        self.files.insert(id, file.clone());
        self.current = Some(Current { id, file, len: 0 });
        Ok(())
    }
}

fn file_name(id: u64) -> String {
    format!("{id:016x}{SUFFIX}")
}

impl Bodies {
    /// Opens the segments in `dir` (created when missing). Writing starts in a new segment.
    pub(crate) fn open(dir: PathBuf) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        let mut segments = Segments::default();
        for entry in fs::read_dir(&dir)? {
            if let Some(id) = entry?.file_name().to_str().and_then(segment_id) {
                segments.next_id = segments.next_id.max(id + 1);
                segments.live.insert(id, 0);
            }
        }
        Ok(Self {
            dir,
            segments: Mutex::new(segments),
        })
    }

    /// Counts a waiting event found at start; [`adopted`](Self::adopted) ends the count.
    pub(crate) fn adopt(&self, at: BodyAt) {
        if let Some(live) = lock(&self.segments).live.get_mut(&at.0) {
            *live += 1;
        }
    }

    /// Whether the waiting events found at start were counted; marks them counted.
    pub(crate) fn start_adopting(&self) -> bool {
        !std::mem::replace(&mut lock(&self.segments).adopted, true)
    }

    /// Ends the count of the waiting events found at start: segments none of them is in are
    /// deleted now.
    pub(crate) fn adopted(&self) -> io::Result<()> {
        let empty: Vec<u64> = {
            let mut segments = lock(&self.segments);
            let empty: Vec<u64> = segments
                .live
                .iter()
                .filter(|(_, live)| **live == 0)
                .map(|(id, _)| *id)
                .collect();
            for id in &empty {
                segments.live.remove(id);
            }
            empty
        };
        self.delete(&empty)
    }

    /// Writes a body at the end of the current segment. Not durable until [`sync`](Self::sync).
    pub(crate) fn append(&self, body: &[u8]) -> io::Result<BodyAt> {
        let mut segments = lock(&self.segments);
        let full = segments.current.as_ref().is_none_or(|current| {
            current.len > 0 && current.len + body.len() as u64 > SEGMENT_BYTES
        });
        if full {
            segments.start_segment(&self.dir)?;
        }
        let (id, file, offset) = {
            let current = segments
                .current
                .as_ref()
                .expect("a segment was just started");
            (current.id, current.file.clone(), current.len)
        };
        if let Err(error) = (&*file).write_all(body) {
            // Part of it may be written: what follows must not be read at the wrong place.
            segments.current = None;
            if segments.live.get(&id).copied().unwrap_or(0) == 0 {
                segments.live.remove(&id);
                segments.doomed.push(id);
            }
            return Err(error);
        }
        if let Some(current) = segments.current.as_mut() {
            current.len += body.len() as u64;
        }
        *segments.live.entry(id).or_default() += 1;
        segments.unsynced.insert(id);
        Ok(BodyAt(id, offset, body.len() as u64))
    }

    /// Reads a body back.
    pub(crate) fn read(&self, at: BodyAt) -> io::Result<Vec<u8>> {
        let mut body = vec![0; at.2 as usize];
        self.file(at.0)?.read_exact_at(&mut body, at.1)?;
        Ok(body)
    }

    /// The segment's file, opened once and kept for every read after.
    fn file(&self, segment: u64) -> io::Result<Arc<File>> {
        let mut segments = lock(&self.segments);
        if let Some(file) = segments.files.get(&segment) {
            return Ok(file.clone());
        }
        let file = Arc::new(File::open(self.dir.join(file_name(segment)))?);
        segments.files.insert(segment, file.clone());
        Ok(file)
    }

    /// Whether the body at `at` is all on disk: its segment holds the range, which starts
    /// with `{` and ends with `}` as every journaled event does (a crash of the machine can
    /// leave a body that was written but not yet synced missing, or zeros).
    pub(crate) fn is_whole(&self, at: BodyAt) -> bool {
        // The open file is kept: the waiting events read from it next.
        let Ok(file) = self.file(at.0) else {
            return false;
        };
        let (mut first, mut last) = ([0u8], [0u8]);
        at.2 >= 2
            && file.read_exact_at(&mut first, at.1).is_ok()
            && file.read_exact_at(&mut last, at.1 + at.2 - 1).is_ok()
            && first == *b"{"
            && last == *b"}"
    }

    /// The event whose body is at `at` no longer waits.
    pub(crate) fn release(&self, at: BodyAt) {
        lock(&self.segments).release(at.0);
    }

    /// Makes every body written so far durable. On failure, the next sync tries again.
    pub(crate) fn sync(&self) -> io::Result<()> {
        let (files, created) = {
            let mut segments = lock(&self.segments);
            let unsynced = std::mem::take(&mut segments.unsynced);
            let files: Vec<(u64, Arc<File>)> = unsynced
                .into_iter()
                .filter_map(|id| segments.files.get(&id).map(|file| (id, file.clone())))
                .collect();
            (files, std::mem::replace(&mut segments.created, false))
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
            let mut segments = lock(&self.segments);
            segments.unsynced.extend(files.iter().map(|(id, _)| *id));
            segments.created |= created;
        }
        synced
    }

    /// The segments to delete once sled's next flush succeeds.
    pub(crate) fn take_doomed(&self) -> Vec<u64> {
        std::mem::take(&mut lock(&self.segments).doomed)
    }

    /// Gives back segments taken with [`take_doomed`](Self::take_doomed) when the flush failed.
    pub(crate) fn doom_again(&self, doomed: Vec<u64>) {
        lock(&self.segments).doomed.extend(doomed);
    }

    /// Deletes segments no waiting event is in.
    pub(crate) fn delete(&self, doomed: &[u64]) -> io::Result<()> {
        for id in doomed {
            lock(&self.segments).files.remove(id);
            match fs::remove_file(self.dir.join(file_name(*id))) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        Ok(())
    }

    #[cfg(test)]
    fn segment_files(&self) -> usize {
        fs::read_dir(&self.dir).unwrap().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_back_and_their_segment_goes_once_none_waits() {
        let dir = tempfile::tempdir().unwrap();
        let bodies = Bodies::open(dir.path().join("journal")).unwrap();
        let big = vec![b'x'; SEGMENT_BYTES as usize];
        let first = bodies.append(b"{\"a\":1}").unwrap();
        let second = bodies.append(&big).unwrap();
        assert_ne!(first.0, second.0, "past the size, a new segment");
        let third = bodies.append(b"{\"c\":3}").unwrap();
        assert_eq!(bodies.read(first).unwrap(), b"{\"a\":1}");
        assert_eq!(bodies.read(second).unwrap().len(), big.len());
        assert_eq!(bodies.read(third).unwrap(), b"{\"c\":3}");
        bodies.sync().unwrap();
        assert_eq!(bodies.segment_files(), 3);

        bodies.release(first);
        let doomed = bodies.take_doomed();
        assert_eq!(doomed, [first.0]);
        bodies.delete(&doomed).unwrap();
        assert_eq!(bodies.segment_files(), 2);
        // The segment being written stays, though nothing waits in it.
        bodies.release(third);
        assert!(bodies.take_doomed().is_empty());
        assert_eq!(bodies.read(second).unwrap().len(), big.len());
    }

    #[test]
    fn at_start_segments_no_waiting_event_is_in_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let (kept, dropped) = {
            let bodies = Bodies::open(path.clone()).unwrap();
            let kept = bodies.append(b"kept").unwrap();
            let dropped = bodies.append(&vec![0; SEGMENT_BYTES as usize]).unwrap();
            bodies.sync().unwrap();
            (kept, dropped)
        };
        let bodies = Bodies::open(path).unwrap();
        assert!(bodies.start_adopting());
        bodies.adopt(kept);
        bodies.adopted().unwrap();
        assert!(!bodies.start_adopting(), "counted once");
        assert_eq!(bodies.segment_files(), 1);
        assert_eq!(bodies.read(kept).unwrap(), b"kept");
        assert!(bodies.read(dropped).is_err());
        let next = bodies.append(b"new").unwrap();
        assert!(next.0 > dropped.0, "a new segment, never an old name");
    }

    #[test]
    fn a_body_is_whole_only_when_all_of_it_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let bodies = Bodies::open(dir.path().join("journal")).unwrap();
        let whole = bodies.append(br#"{"a":1}"#).unwrap();
        let cut = bodies.append(br#"{"b":2}"#).unwrap();
        bodies.sync().unwrap();
        assert!(bodies.is_whole(whole) && bodies.is_whole(cut));
        let file = OpenOptions::new()
            .write(true)
            .open(dir.path().join("journal").join(file_name(cut.0)))
            .unwrap();
        file.set_len(cut.1 + 3).unwrap();
        assert!(bodies.is_whole(whole));
        assert!(!bodies.is_whole(cut), "cut short");
        file.set_len(cut.1 + cut.2).unwrap();
        assert!(!bodies.is_whole(cut), "zeros where the body was");
        assert!(!bodies.is_whole(BodyAt(99, 0, 7)), "no such segment");
    }
}

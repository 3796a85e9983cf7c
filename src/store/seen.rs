//! The ids of handled events, kept beside sled rather than in it.
//!
//! A handled id is looked up by its own value, so ids arrive in no order: in a sled tree each
//! one rewrote a random leaf, and sled kept every rewritten page in its log. A million ids
//! left about 600 MB that segment cleaning never gave back. Here each id is a 64-bit hash of
//! `"{team}/{event_id}"`, held in memory in a set per hour and appended to one file per hour
//! (`seen/{hour:08x}.ids`, 8 bytes an id); forgetting an hour deletes its file.
//!
//! Two different ids share a hash with a chance of about n²/2⁶⁵ among n ids remembered at
//! once: about 3 in 100 million for a million events within two hours. The cost of that
//! chance is one event taken for a redelivery.
//!
//! Durability rides on the store's flushes: each one writes what was added
//! ([`SeenIds::write`]); it waits for the disk only before the log deletes a segment, since
//! until then the log's own `D` records hold the same ids and are read back at start
//! (`store/log.rs`).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::{lock, numbered_file};

/// The hash an id is kept as.
pub(crate) fn id_hash(journal_key: &str) -> u64 {
    let digest = Sha256::digest(journal_key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

const SUFFIX: &str = ".ids";

#[derive(Default)]
struct Remembered {
    by_hour: BTreeMap<i64, HashSet<u64>>,
    /// Added since the last write, in order.
    unwritten: Vec<(i64, u64)>,
}

pub(crate) struct SeenIds {
    dir: PathBuf,
    remembered: Mutex<Remembered>,
    /// Held while files are written or deleted, so a write and a prune do not cross; the
    /// hours whose files were written since they were last synced.
    files: Mutex<BTreeSet<i64>>,
}

fn file_name(hour: i64) -> String {
    format!("{:08x}{SUFFIX}", hour.max(0))
}

/// The hour of a file written by [`file_name`].
fn file_hour(name: &str) -> Option<i64> {
    numbered_file(name, 8, SUFFIX).and_then(|hour| i64::try_from(hour).ok())
}

impl SeenIds {
    /// Reads the ids kept in `dir` (created when missing). A record cut short by a crash is
    /// ignored.
    pub(crate) fn open(dir: PathBuf) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        let mut remembered = Remembered::default();
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let Some(hour) = entry.file_name().to_str().and_then(file_hour) else {
                continue;
            };
            let bytes = fs::read(entry.path())?;
            let ids = remembered.by_hour.entry(hour).or_default();
            for record in bytes.chunks_exact(8) {
                ids.insert(u64::from_be_bytes(record.try_into().expect("8 bytes")));
            }
        }
        Ok(Self {
            dir,
            remembered: Mutex::new(remembered),
            files: Mutex::new(BTreeSet::new()),
        })
    }

    /// Remembers `id` as handled in `hour`. On disk with the next [`sync`](Self::sync).
    pub(crate) fn insert(&self, hour: i64, id: u64) {
        let mut remembered = lock(&self.remembered);
        if remembered.by_hour.entry(hour).or_default().insert(id) {
            remembered.unwritten.push((hour, id));
        }
    }

    /// Whether `id` was handled in one of `hours`.
    pub(crate) fn contains(&self, hours: std::ops::RangeInclusive<i64>, id: u64) -> bool {
        lock(&self.remembered)
            .by_hour
            .range(hours)
            .any(|(_, ids)| ids.contains(&id))
    }

    /// Whether `id` was handled in any hour still remembered.
    pub(crate) fn contains_any(&self, id: u64) -> bool {
        lock(&self.remembered)
            .by_hour
            .values()
            .any(|ids| ids.contains(&id))
    }

    /// How many ids are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.remembered)
            .by_hour
            .values()
            .map(HashSet::len)
            .sum()
    }

    /// Appends what was added since the last write to the files of its hours; with
    /// `durable`, waits for the disk too, for these and every file written before. On failure
    /// the ids stay to be written by the next call.
    pub(crate) fn write(&self, durable: bool) -> io::Result<()> {
        let mut unsynced = lock(&self.files);
        let unwritten = std::mem::take(&mut lock(&self.remembered).unwritten);
        let written = self.append(&unwritten, &mut unsynced).and_then(|()| {
            if durable {
                self.sync_files(&mut unsynced)?;
            }
            Ok(())
        });
        if written.is_err() {
            // Put back in front of whatever came meanwhile; a repeated id is harmless.
            let mut remembered = lock(&self.remembered);
            let later = std::mem::replace(&mut remembered.unwritten, unwritten);
            remembered.unwritten.extend(later);
        }
        written
    }

    /// Makes every id written so far durable.
    #[cfg(test)]
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.write(true)
    }

    fn append(&self, ids: &[(i64, u64)], unsynced: &mut BTreeSet<i64>) -> io::Result<()> {
        let mut by_hour: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
        for (hour, id) in ids {
            by_hour
                .entry(*hour)
                .or_default()
                .extend_from_slice(&id.to_be_bytes());
        }
        for (hour, bytes) in by_hour {
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(file_name(hour)))?;
            file.write_all(&bytes)?;
            unsynced.insert(hour);
        }
        Ok(())
    }

    /// Waits for the disk to hold the files written since they were last synced, and their
    /// names.
    fn sync_files(&self, unsynced: &mut BTreeSet<i64>) -> io::Result<()> {
        if unsynced.is_empty() {
            return Ok(());
        }
        for hour in unsynced.iter() {
            match File::open(self.dir.join(file_name(*hour))) {
                Ok(file) => file.sync_data()?,
                // Pruned since.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
        sync_dir(&self.dir)?;
        unsynced.clear();
        Ok(())
    }

    /// Forgets the ids handled in hours before `cutoff_hour` and deletes their files;
    /// returns how many ids were forgotten.
    pub(crate) fn prune(&self, cutoff_hour: i64) -> io::Result<usize> {
        let mut unsynced = lock(&self.files);
        unsynced.retain(|hour| *hour >= cutoff_hour);
        let forgotten = {
            let mut remembered = lock(&self.remembered);
            let kept = remembered.by_hour.split_off(&cutoff_hour);
            let old = std::mem::replace(&mut remembered.by_hour, kept);
            remembered
                .unwritten
                .retain(|(hour, _)| *hour >= cutoff_hour);
            old.values().map(HashSet::len).sum()
        };
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let old = entry
                .file_name()
                .to_str()
                .and_then(file_hour)
                .is_some_and(|hour| hour < cutoff_hour);
            if old {
                fs::remove_file(entry.path())?;
            }
        }
        Ok(forgotten)
    }
}

/// Makes a new file's name durable: fsync on the folder.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_remembered_by_hour_across_reopening_and_forgotten_with_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seen");
        {
            let seen = SeenIds::open(path.clone()).unwrap();
            seen.insert(10, id_hash("T1/Ev1"));
            seen.insert(11, id_hash("T1/Ev2"));
            seen.insert(11, id_hash("T1/Ev2"));
            seen.sync().unwrap();
            seen.insert(12, id_hash("T1/Ev3"));
            // Not synced: lost with the process, as a write sled was not asked to flush.
        }
        let seen = SeenIds::open(path.clone()).unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen.contains(10..=11, id_hash("T1/Ev1")));
        assert!(seen.contains(11..=12, id_hash("T1/Ev2")));
        assert!(!seen.contains(11..=12, id_hash("T1/Ev1")), "another hour");
        assert!(!seen.contains_any(id_hash("T1/Ev3")));
        assert!(!seen.contains_any(id_hash("T2/Ev1")), "another team");
        assert_eq!(
            fs::metadata(path.join(file_name(11))).unwrap().len(),
            8,
            "an id once"
        );

        assert_eq!(seen.prune(11).unwrap(), 1);
        assert!(!path.join(file_name(10)).exists());
        assert!(path.join(file_name(11)).exists());
        assert!(!seen.contains_any(id_hash("T1/Ev1")));
        assert!(seen.contains_any(id_hash("T1/Ev2")));
    }

    #[test]
    fn a_record_cut_short_and_other_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(file_name(7)),
            [id_hash("T1/Ev1").to_be_bytes().as_slice(), &[1, 2, 3]].concat(),
        )
        .unwrap();
        fs::write(dir.path().join("notes.txt"), "hello").unwrap();
        let seen = SeenIds::open(dir.path().to_path_buf()).unwrap();
        assert_eq!(seen.len(), 1);
        assert!(seen.contains(7..=7, id_hash("T1/Ev1")));
        assert_eq!(seen.prune(100).unwrap(), 1);
        assert!(dir.path().join("notes.txt").exists());
    }

    #[test]
    fn the_hash_is_stable_across_builds() {
        // Files outlive a build: an upgrade must read the ids the last one wrote.
        assert_eq!(id_hash("T1/Ev1"), id_hash("T1/Ev1"));
        assert_eq!(
            format!("{:016x}", id_hash("")),
            "e3b0c44298fc1c14",
            "the first 8 bytes of SHA-256"
        );
    }
}

//! The check-in tables, opened together: check-ins, their occurrences and the index of open
//! ones, the answers, the post marks, and the prompts' threads and DMs. Every key made of
//! parts (`<checkin>/<date>` for an occurrence, `<checkin>/<date>/<user>` for an answer,
//! `<channel>/<ts>` for a thread) is written and read here only. All tables are scoped by
//! team like every other table, and appear in `export`.

use std::collections::HashMap;

use super::{Store, StoreError, Table};
use crate::checkins::occurrence::{CheckinId, OccurrenceKey};
use crate::checkins::record::{Answer, Checkin, OccurrenceRecord, PostMark};
use crate::ids::{ChannelId, TeamId, UserId};

/// Check-ins by id.
pub(crate) const CHECKINS_TABLE: &str = "checkins";
/// Occurrences by `<checkin>/<YYYY-MM-DD>`, kept after they end: their history.
pub(crate) const OCCURRENCES_TABLE: &str = "checkin_occurrences";
/// The keys of occurrences not yet reported or skipped, so start-up never reads history.
pub(crate) const OPEN_TABLE: &str = "checkin_open";
/// Answers by `<checkin>/<YYYY-MM-DD>/<user>`.
pub(crate) const ANSWERS_TABLE: &str = "checkin_answers";
/// One mark per post the runner makes, by a name that says what the post is for.
pub const POSTS_TABLE: &str = "checkin_posts";
/// Which occurrence a prompt (or a prompt sent by DM) belongs to, by `<channel>/<ts>`, so a
/// thread reply under it is taken as an answer.
pub(crate) const THREADS_TABLE: &str = "checkin_threads";
/// The latest occurrence each member was asked in by DM, by user id: a plain DM reply
/// answers it.
pub(crate) const DM_OPEN_TABLE: &str = "checkin_dm_open";
/// The last check-in id handed out.
pub(crate) const SEQUENCE_TABLE: &str = "checkin_sequence";

/// The key of an occurrence: `<checkin>/<date>`.
fn occurrence_key(key: &OccurrenceKey) -> String {
    key.to_string()
}

/// The keys of a check-in's occurrences, answers and post marks all start with `<checkin>/`.
fn checkin_prefix(id: &str) -> String {
    format!("{id}/")
}

/// The key of an occurrence's answers: `<checkin>/<date>/`.
fn answers_prefix(key: &OccurrenceKey) -> String {
    format!("{key}/")
}

/// The key of one member's answer to an occurrence: `<checkin>/<date>/<user>`.
fn answer_key(key: &OccurrenceKey, user: &UserId) -> String {
    format!("{key}/{user}")
}

/// An answer's key split into its occurrence and its member, `None` for a key of no shape.
fn split_answer_key(key: &str) -> Option<(&str, &str)> {
    key.rsplit_once('/')
}

/// The key of the threads table: a prompt's channel and timestamp.
fn thread_key(channel: &ChannelId, ts: &str) -> String {
    format!("{channel}/{ts}")
}

/// Every check-in table, opened once.
#[derive(Clone)]
pub struct CheckinTables {
    /// Check-ins by id.
    pub checkins: Table<Checkin>,
    /// Post marks by the name the runner gives each post.
    pub(crate) posts: Table<PostMark>,
    occurrences: Table<OccurrenceRecord>,
    open: Table<OccurrenceKey>,
    answers: Table<Answer>,
    threads: Table<OccurrenceKey>,
    dm_open: Table<OccurrenceKey>,
    sequence: Table<u64>,
}

impl CheckinTables {
    pub fn open(store: &Store) -> Result<Self, StoreError> {
        Ok(CheckinTables {
            checkins: store.table(CHECKINS_TABLE)?,
            occurrences: store.table(OCCURRENCES_TABLE)?,
            open: store.table(OPEN_TABLE)?,
            answers: store.table(ANSWERS_TABLE)?,
            posts: store.table(POSTS_TABLE)?,
            threads: store.table(THREADS_TABLE)?,
            dm_open: store.table(DM_OPEN_TABLE)?,
            sequence: store.table(SEQUENCE_TABLE)?,
        })
    }

    /// A fresh check-in id: 1, 2, 3… per workspace, never reused.
    pub(crate) fn next_id(&self, team: &TeamId) -> Result<CheckinId, StoreError> {
        // One compare-and-swap: two check-ins created at the same moment get two ids.
        let next = self
            .sequence
            .upsert(team, "last", |last| last.unwrap_or(0) + 1)?;
        Ok(CheckinId::new(next.to_string()))
    }

    /// One occurrence, if it was ever created.
    pub(crate) fn occurrence(
        &self,
        team: &TeamId,
        key: &OccurrenceKey,
    ) -> Result<Option<OccurrenceRecord>, StoreError> {
        self.occurrences.get(team, &occurrence_key(key))
    }

    /// Creates an occurrence, open, unless one of that check-in and date exists already;
    /// returns whether it did.
    pub(crate) fn create_occurrence(
        &self,
        team: &TeamId,
        record: &OccurrenceRecord,
    ) -> Result<bool, StoreError> {
        let key = occurrence_key(&record.key);
        if !self.occurrences.insert_if_absent(team, &key, record)? {
            return Ok(false);
        }
        self.open.put(team, &key, &record.key)?;
        Ok(true)
    }

    /// Writes an occurrence and keeps the index of open ones in step with its state.
    pub(crate) fn save_occurrence(
        &self,
        team: &TeamId,
        record: &OccurrenceRecord,
    ) -> Result<(), StoreError> {
        let key = occurrence_key(&record.key);
        self.occurrences.put(team, &key, record)?;
        if record.state.is_final() {
            self.open.remove(team, &key)?;
        } else {
            self.open.put(team, &key, &record.key)?;
        }
        Ok(())
    }

    /// Every occurrence not yet reported or skipped, in every workspace.
    pub(crate) fn all_open(
        &self,
    ) -> impl Iterator<Item = Result<(TeamId, OccurrenceKey), StoreError>> + '_ {
        self.open
            .scan_all()
            .map(|entry| entry.map(|(team, _, key)| (team, key)))
    }

    /// The latest `count` occurrences of a check-in, newest first.
    pub(crate) fn recent_occurrences(
        &self,
        team: &TeamId,
        id: &CheckinId,
        count: usize,
    ) -> Result<Vec<OccurrenceRecord>, StoreError> {
        let mut all = self.occurrences.scan(team, &checkin_prefix(id.as_str()))?;
        all.reverse();
        Ok(all
            .into_iter()
            .take(count)
            .map(|(_, record)| record)
            .collect())
    }

    /// The occurrence whose prompt started the thread `thread_ts` in `channel`.
    pub(crate) fn occurrence_in_thread(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        thread_ts: &str,
    ) -> Result<Option<OccurrenceKey>, StoreError> {
        self.threads.get(team, &thread_key(channel, thread_ts))
    }

    /// Remembers that `key`'s prompt started the thread `ts` in `channel`.
    pub(crate) fn remember_thread(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        ts: &str,
        key: &OccurrenceKey,
    ) -> Result<(), StoreError> {
        self.threads.put(team, &thread_key(channel, ts), key)
    }

    /// The occurrence `user` was last asked in by DM.
    pub(crate) fn asked_by_dm(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<Option<OccurrenceKey>, StoreError> {
        self.dm_open.get(team, user.as_str())
    }

    /// Remembers that `user` is asked in `key` by DM, so a plain DM reply answers it.
    pub(crate) fn ask_by_dm(
        &self,
        team: &TeamId,
        user: &UserId,
        key: &OccurrenceKey,
    ) -> Result<(), StoreError> {
        self.dm_open.put(team, user.as_str(), key)
    }

    /// Forgets which occurrence `user` was asked in by DM; returns whether one was known.
    pub(crate) fn forget_dm(&self, team: &TeamId, user: &UserId) -> Result<bool, StoreError> {
        self.dm_open.remove(team, user.as_str())
    }

    /// `user`'s answer to an occurrence, if they gave one.
    pub(crate) fn answer(
        &self,
        team: &TeamId,
        key: &OccurrenceKey,
        user: &UserId,
    ) -> Result<Option<Answer>, StoreError> {
        self.answers.get(team, &answer_key(key, user))
    }

    /// Writes `answer` as its member's answer to an occurrence.
    pub(crate) fn save_answer(
        &self,
        team: &TeamId,
        key: &OccurrenceKey,
        answer: &Answer,
    ) -> Result<(), StoreError> {
        self.answers
            .put(team, &answer_key(key, &answer.user), answer)
    }

    /// The answers given to an occurrence, in user order.
    pub(crate) fn answers_to(
        &self,
        team: &TeamId,
        key: &OccurrenceKey,
    ) -> Result<Vec<Answer>, StoreError> {
        Ok(self
            .answers
            .scan(team, &answers_prefix(key))?
            .into_iter()
            .map(|(_, answer)| answer)
            .filter(|answer| !answer.is_empty())
            .collect())
    }

    /// Every answer `user` gave in the workspace, with the occurrence (`<checkin>/<date>`)
    /// it answers.
    pub(crate) fn answers_of_member(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<Vec<(String, Answer)>, StoreError> {
        Ok(self
            .answers
            .scan(team, "")?
            .into_iter()
            .filter_map(|(key, answer)| {
                let (occurrence, member) = split_answer_key(&key)?;
                (member == user.as_str()).then(|| (occurrence.to_string(), answer))
            })
            .collect())
    }

    /// Deletes every answer `user` gave in the workspace; returns how many.
    pub(crate) fn remove_answers_of_member(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<usize, StoreError> {
        let mut removed = 0;
        for (key, _) in self.answers.scan(team, "")? {
            if split_answer_key(&key).is_some_and(|(_, member)| member == user.as_str()) {
                removed += usize::from(self.answers.remove(team, &key)?);
            }
        }
        Ok(removed)
    }

    /// Deletes, in every workspace, the answers `over` says are past keeping, given their
    /// team and their occurrence (`None` when the occurrence is gone); returns how many.
    pub(crate) fn remove_answers_where(
        &self,
        mut over: impl FnMut(&TeamId, Option<&OccurrenceRecord>) -> Result<bool, StoreError>,
    ) -> Result<usize, StoreError> {
        let mut occurrences: HashMap<(TeamId, String), Option<OccurrenceRecord>> = HashMap::new();
        let mut expired: Vec<(TeamId, String)> = Vec::new();
        for entry in self.answers.scan_all() {
            let (team, key, _answer) = entry?;
            let Some((occurrence, _user)) = split_answer_key(&key) else {
                continue;
            };
            let slot = (team.clone(), occurrence.to_string());
            if !occurrences.contains_key(&slot) {
                let record = self.occurrences.get(&team, occurrence)?;
                occurrences.insert(slot.clone(), record);
            }
            if over(&team, occurrences[&slot].as_ref())? {
                expired.push((team, key));
            }
        }
        for (team, key) in &expired {
            self.answers.remove(team, key)?;
        }
        Ok(expired.len())
    }

    /// Deletes a check-in with its occurrences, their answers and every mark they left;
    /// returns whether the check-in existed.
    pub(crate) fn delete_checkin(&self, team: &TeamId, id: &str) -> Result<bool, StoreError> {
        if !self.checkins.remove(team, id)? {
            return Ok(false);
        }
        let prefix = checkin_prefix(id);
        self.occurrences.remove_prefix(team, &prefix)?;
        self.answers.remove_prefix(team, &prefix)?;
        self.open.remove_prefix(team, &prefix)?;
        self.posts.remove_prefix(team, &prefix)?;
        let of_this = |key: &OccurrenceKey| key.checkin.as_str() == id;
        for (thread, key) in self.threads.scan(team, "")? {
            if of_this(&key) {
                self.threads.remove(team, &thread)?;
            }
        }
        for (user, key) in self.dm_open.scan(team, "")? {
            if of_this(&key) {
                self.dm_open.remove(team, &user)?;
            }
        }
        Ok(true)
    }
}

//! The marks of norms digests sent: per workspace, one per recipient and ISO week, holding
//! when it was sent. The table's key, `<user>/<ISO week>`, is written and read here only.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, Table};
use crate::ids::{TeamId, UserId};

/// The table of digest marks.
pub(crate) const DIGESTS_TABLE: &str = "norms_digests";

/// The digest marks, by recipient and week.
pub(crate) struct DigestMarks(Table<DateTime<Utc>>);

impl DigestMarks {
    pub(crate) fn open(store: &Store) -> Result<Self, StoreError> {
        Ok(DigestMarks(store.table(DIGESTS_TABLE)?))
    }

    /// The keys of `user`'s marks all start with this.
    fn member_prefix(user: &UserId) -> String {
        format!("{user}/")
    }

    /// Marks `user`'s digest of `iso_week` as sent at `at`, unless it was marked before;
    /// returns whether this call marked it.
    pub(crate) fn mark_sent(
        &self,
        team: &TeamId,
        user: &UserId,
        iso_week: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = format!("{}{iso_week}", Self::member_prefix(user));
        self.0.insert_if_absent(team, &key, &at)
    }

    /// `user`'s marks in the workspace, as stored (`<user>/<week>`) with when each was sent.
    pub(crate) fn of_member(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        self.0.scan(team, &Self::member_prefix(user))
    }

    /// Deletes `user`'s marks in the workspace; returns how many.
    pub(crate) fn remove_of_member(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<usize, StoreError> {
        self.0.remove_prefix(team, &Self::member_prefix(user))
    }
}

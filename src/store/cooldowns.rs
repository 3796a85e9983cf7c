//! The nudge cooldowns: per workspace, when each sender's cooldown in a channel ends. The
//! table's key, `<channel>/<user>`, is written and read here only.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, Table};
use crate::ids::{ChannelId, TeamId, UserId};

/// The table of cooldowns.
pub(crate) const COOLDOWNS_TABLE: &str = "nudge_cooldowns";

/// The cooldowns table, by sender and channel.
pub(crate) struct Cooldowns(Table<DateTime<Utc>>);

impl Cooldowns {
    pub(crate) fn open(store: &Store) -> Result<Self, StoreError> {
        Ok(Cooldowns(store.table(COOLDOWNS_TABLE)?))
    }

    fn key(channel: &ChannelId, user: &UserId) -> String {
        format!("{channel}/{user}")
    }

    /// When `user`'s cooldown in `channel` ends, if one was started.
    pub(crate) fn until(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        user: &UserId,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.0.get(team, &Self::key(channel, user))
    }

    /// Starts (or restarts) `user`'s cooldown in `channel`, ending at `until`.
    pub(crate) fn start(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        user: &UserId,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0.put(team, &Self::key(channel, user), &until)
    }

    pub(crate) fn remove(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        user: &UserId,
    ) -> Result<bool, StoreError> {
        self.0.remove(team, &Self::key(channel, user))
    }

    /// Deletes the workspace's cooldowns that ended by `now`.
    pub(crate) fn remove_ended(&self, team: &TeamId, now: DateTime<Utc>) -> Result<(), StoreError> {
        for (key, until) in self.0.scan(team, "")? {
            if until <= now {
                self.0.remove(team, &key)?;
            }
        }
        Ok(())
    }

    /// `user`'s cooldowns in the workspace, as stored (`<channel>/<user>`) with their end.
    pub(crate) fn of_member(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        Ok(self
            .0
            .scan(team, "")?
            .into_iter()
            .filter(|(key, _)| {
                key.rsplit_once('/')
                    .is_some_and(|(_, last)| last == user.as_str())
            })
            .collect())
    }

    /// Deletes cooldowns by their stored keys, as [`Cooldowns::of_member`] gives them.
    pub(crate) fn remove_stored(&self, team: &TeamId, keys: &[String]) -> Result<(), StoreError> {
        for key in keys {
            self.0.remove(team, key)?;
        }
        Ok(())
    }
}

//! "Remind me when they are back" reminders: per workspace, one per message, member and
//! sender. The table's key, `<channel>/<message ts>/<member>/<sender>`, is written and read
//! here only; the reminders about one message are found by its prefix when it is deleted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, Table};
use crate::ids::{ChannelId, TeamId, UserId};

/// The table of reminders.
pub(crate) const REMINDERS_TABLE: &str = "reminders";

/// One reminder: tell `sender` at `due` that `member` is back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Reminder {
    pub(crate) sender: UserId,
    pub(crate) member: UserId,
    pub(crate) channel: ChannelId,
    pub(crate) message_ts: String,
    pub(crate) due: DateTime<Utc>,
}

impl Reminder {
    /// Whether `user` set the reminder or is the one it is about.
    pub(crate) fn names(&self, user: &UserId) -> bool {
        self.sender == *user || self.member == *user
    }
}

/// The reminders table.
pub(crate) struct Reminders(Table<Reminder>);

impl Reminders {
    pub(crate) fn open(store: &Store) -> Result<Self, StoreError> {
        Ok(Reminders(store.table(REMINDERS_TABLE)?))
    }

    /// The keys of the reminders about one message all start with this.
    fn message_prefix(channel: &ChannelId, message_ts: &str) -> String {
        format!("{channel}/{message_ts}/")
    }

    fn key(reminder: &Reminder) -> String {
        format!(
            "{}{}/{}",
            Self::message_prefix(&reminder.channel, &reminder.message_ts),
            reminder.member,
            reminder.sender
        )
    }

    /// Writes a reminder, replacing the one of the same message, member and sender.
    pub(crate) fn put(&self, team: &TeamId, reminder: &Reminder) -> Result<(), StoreError> {
        self.0.put(team, &Self::key(reminder), reminder)
    }

    pub(crate) fn remove(&self, team: &TeamId, reminder: &Reminder) -> Result<bool, StoreError> {
        self.0.remove(team, &Self::key(reminder))
    }

    /// Deletes the reminders about a message; returns how many.
    pub(crate) fn remove_about_message(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        message_ts: &str,
    ) -> Result<usize, StoreError> {
        self.0
            .remove_prefix(team, &Self::message_prefix(channel, message_ts))
    }

    /// Every reminder, in every workspace.
    pub(crate) fn all(&self) -> Result<Vec<(TeamId, Reminder)>, StoreError> {
        self.0
            .scan_all()
            .map(|entry| entry.map(|(team, _, reminder)| (team, reminder)))
            .collect()
    }

    /// The reminders in the workspace that `user` set or that are about them.
    pub(crate) fn naming(&self, team: &TeamId, user: &UserId) -> Result<Vec<Reminder>, StoreError> {
        Ok(self
            .0
            .scan(team, "")?
            .into_iter()
            .map(|(_, reminder)| reminder)
            .filter(|reminder| reminder.names(user))
            .collect())
    }

    /// Deletes the reminders in the workspace that `user` set or that are about them;
    /// returns how many.
    pub(crate) fn remove_naming(&self, team: &TeamId, user: &UserId) -> Result<usize, StoreError> {
        let mut removed = 0;
        for reminder in self.naming(team, user)? {
            removed += usize::from(self.remove(team, &reminder)?);
        }
        Ok(removed)
    }
}

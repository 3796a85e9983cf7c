//! Members as the handlers need them: stored hours read on demand from the `hours` table (a
//! workspace of any size starts without loading them), joined with the Slack profile. A
//! lookup that fails degrades to what is known and is logged; it never fails the event.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::{debug, warn};

use crate::bot::Bot;
use crate::bot::directory::{Profile, effective_hours};
use crate::decision::note::{Audience, Reached};
use crate::hours::signals::away_signal;
use crate::hours::{DndStatus, MemberHours, is_available};
use crate::ids::{ChannelId, TeamId, UserId};
use crate::slack::api::{ApiError, Share};
use crate::store::{StoreError, Table};

/// The table of hours members set, keyed by user id. Members who never set hours (nor time
/// off, nor focus time) have no record: their hours are the default in their profile's zone.
pub(crate) const HOURS_TABLE: &str = "hours";

/// Profiles fetched from Slack for one broadcast; members beyond this (and not cached) are
/// counted as not checked, so one `@channel` cannot spend the rate limit for minutes. Below
/// the burst of `users.info` left after the share kept for commands (80), so one broadcast
/// in a quiet workspace is looked up at once.
pub const BROADCAST_LOOKUPS: usize = 60;

/// What the bot knows about the member who is asking (for commands and the Home tab).
#[derive(Debug, Clone)]
pub(crate) struct Me {
    /// The hours in effect: stored, or the default in the profile's zone.
    pub(crate) hours: MemberHours,
    /// The record in the `hours` table, if any.
    pub(crate) stored: Option<MemberHours>,
    /// `None` when Slack could not be asked.
    pub(crate) profile: Option<Profile>,
}

impl Me {
    /// The record to write when changing time off or focus time: the stored one, or the
    /// default hours in the profile's zone.
    pub(crate) fn record(&self) -> MemberHours {
        self.stored.clone().unwrap_or_else(|| self.hours.clone())
    }
}

/// What looking up a mentioned member found.
#[derive(Debug)]
pub(crate) enum Reach {
    Found(Box<Reached>),
    /// Slack says the id is not a member (and nobody stored hours under it).
    NoOne,
    /// Not looked up, or Slack could not say in time.
    NotChecked,
}

impl Bot {
    pub(crate) fn hours_table(&self) -> Result<Table<MemberHours>, StoreError> {
        self.store.table(HOURS_TABLE)
    }

    /// The hours a member stored, if any.
    pub(crate) fn stored_hours(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<Option<MemberHours>, StoreError> {
        self.hours_table()?.get(team, user.as_str())
    }

    /// The profile of a member, or `None` (logged) when Slack cannot say.
    pub(crate) async fn profile(
        &self,
        team: &TeamId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Option<Profile> {
        self.profile_with(team, user, now, Share::Waited).await
    }

    /// [`profile`](Self::profile) spending `share` of the look-up rate: bulk look-ups
    /// take only what is spare ([`Share::Spare`]) and are skipped, not queued, without.
    pub(crate) async fn profile_with(
        &self,
        team: &TeamId,
        user: &UserId,
        now: DateTime<Utc>,
        share: Share,
    ) -> Option<Profile> {
        match self
            .directory
            .profile(&self.slack, team, user, now, share)
            .await
        {
            Ok(profile) => Some(profile),
            // Skipped for want of spare rate, or an id that is no one: nothing to report.
            Err(ApiError::Expired { .. }) => None,
            Err(e) if e.code().is_some_and(|code| code.starts_with("user_not")) => {
                debug!(team = %team, user = %user, error = %e, "a mentioned id is not a member");
                None
            }
            Err(e) => {
                warn!(team = %team, user = %user, error = %e, "could not read a member's profile");
                None
            }
        }
    }

    /// The member who is asking, with the hours in effect for them.
    pub(crate) async fn me(
        &self,
        team: &TeamId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Me, StoreError> {
        let stored = self.stored_hours(team, user)?;
        let profile = self.profile(team, user, now).await;
        let hours = effective_hours(stored.clone(), profile.as_ref(), self.default_tz);
        Ok(Me {
            hours: self.with_signals(team, user, hours, now)?,
            stored,
            profile,
        })
    }

    /// A member a message or a command names, with the hours in effect for them; `None` when
    /// neither the store nor Slack knows them.
    pub(crate) async fn reach(
        &self,
        team: &TeamId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<Reached>, StoreError> {
        Ok(
            match self.reach_with(team, user, now, Share::Waited).await? {
                Reach::Found(reached) => Some(*reached),
                Reach::NoOne | Reach::NotChecked => None,
            },
        )
    }

    /// A mentioned member, looked up spending `share` of the rate: found (with the hours in
    /// effect), no one (Slack says the id is not a member), or not checked (no spare rate,
    /// or Slack could not say).
    pub(crate) async fn reach_with(
        &self,
        team: &TeamId,
        user: &UserId,
        now: DateTime<Utc>,
        share: Share,
    ) -> Result<Reach, StoreError> {
        let stored = self.stored_hours(team, user)?;
        let profile = match self
            .directory
            .profile(&self.slack, team, user, now, share)
            .await
        {
            Ok(profile) => Some(profile),
            Err(e) if e.code().is_some_and(|code| code.starts_with("user_not")) => {
                if stored.is_none() {
                    return Ok(Reach::NoOne);
                }
                None
            }
            Err(e) => {
                if !matches!(e, ApiError::Expired { .. }) {
                    warn!(team = %team, user = %user, error = %e, "could not read a member's profile");
                }
                if stored.is_none() {
                    return Ok(Reach::NotChecked);
                }
                None
            }
        };
        let hours = effective_hours(stored, profile.as_ref(), self.default_tz);
        Ok(Reach::Found(Box::new(Reached {
            user: user.clone(),
            // Only people set hours; without a profile, stored hours say it is a person.
            is_person: profile.is_none_or(|p| p.is_person()),
            hours: self.with_signals(team, user, hours, now)?,
        })))
    }

    /// The members of a channel, or `None` (logged) when Slack cannot say.
    pub(crate) async fn channel_members(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        now: DateTime<Utc>,
    ) -> Option<Arc<[UserId]>> {
        match self
            .directory
            .channel_members(&self.slack, team, channel, now)
            .await
        {
            Ok(members) => Some(members),
            Err(e) => {
                warn!(team = %team, channel = %channel, error = %e, "could not read a channel's members");
                None
            }
        }
    }

    /// Who a broadcast in `channel` reaches. Members with stored hours or a cached profile
    /// cost nothing; at most [`BROADCAST_LOOKUPS`] others are looked up, the rest counted.
    pub(crate) async fn audience(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        skip: &[&UserId],
        now: DateTime<Utc>,
    ) -> Result<Option<Audience>, StoreError> {
        let Some(members) = self.channel_members(team, channel, now).await else {
            return Ok(None);
        };
        let mut lookups_left = BROADCAST_LOOKUPS;
        Ok(Some(
            self.audience_of(team, &members, skip, &mut lookups_left, now)
                .await?,
        ))
    }

    /// `members` (less `skip`) with their hours. Members with stored hours or a cached
    /// profile cost nothing; at most `lookups_left` others are looked up (and taken from it),
    /// the rest counted as not checked.
    pub(crate) async fn audience_of(
        &self,
        team: &TeamId,
        members: &[UserId],
        skip: &[&UserId],
        lookups_left: &mut usize,
        now: DateTime<Utc>,
    ) -> Result<Audience, StoreError> {
        let table = self.hours_table()?;
        // Each member's stored hours, read once; most members have none.
        let reached = members
            .iter()
            .filter(|user| !skip.contains(user))
            .map(|user| Ok((user, table.get(team, user.as_str())?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        // First the lookups, which may wait for Slack; the audience (every member with their
        // hours) is built after them, from hours read again if a lookup waited meanwhile.
        let mut waited = false;
        for (user, stored) in &reached {
            if *lookups_left == 0 {
                break;
            }
            if stored.is_none() && self.directory.cached_profile(team, user, now).is_none() {
                *lookups_left -= 1;
                waited = true;
                // Remembered in the directory when Slack answers.
                self.profile(team, user, now).await;
            }
        }
        let mut audience = Audience::default();
        for (user, stored) in reached {
            let stored = if waited {
                table.get(team, user.as_str())?
            } else {
                stored
            };
            let profile = self.directory.cached_profile(team, user, now);
            if stored.is_none() && profile.is_none() {
                audience.not_checked += 1;
                continue;
            }
            let hours = effective_hours(stored, profile.as_ref(), self.default_tz);
            audience.members.push(Reached {
                user: user.clone(),
                is_person: profile.is_none_or(|p| p.is_person()),
                hours: self.with_signals(team, user, hours, now)?,
            });
        }
        // Broadcasts read DND only with spare rate, from what the profiles left.
        self.add_dnd(team, &mut audience.members, lookups_left, 0, now)
            .await?;
        Ok(audience)
    }

    /// `hours` with what Slack says about the member now (an away-like profile status, read
    /// with the workspace's away words, else Do Not Disturb as last read), unless the member
    /// turned Slack's signals off.
    pub(crate) fn with_signals(
        &self,
        team: &TeamId,
        user: &UserId,
        mut hours: MemberHours,
        now: DateTime<Utc>,
    ) -> Result<MemberHours, StoreError> {
        let status = self.directory.cached_status(team, user);
        let dnd = self.directory.cached_dnd(team, user, now);
        if status.is_none() && dnd.is_none() {
            return Ok(hours);
        }
        let norms = self.workspace_norms(team)?;
        if norms.signals_off.contains(user) {
            return Ok(hours);
        }
        hours.signal = status
            .and_then(|status| away_signal(&status, &norms.away_words(), now))
            .or_else(|| dnd.and_then(|dnd| dnd.signal(now)));
        Ok(hours)
    }

    /// Adds Do Not Disturb to the `members` it could change: people available now by their
    /// hours (DND changes nothing for someone away or off work) whose signals are on. Those
    /// read less than [`DND_TTL`](crate::bot::directory::DND_TTL) ago cost nothing; at most
    /// `lookups_left` others are asked of Slack (`dnd.info`, taken from it), the first
    /// `waited` waiting briefly for their turn ([`Share::Brief`]), the rest only with spare
    /// rate. A call that fails, or finds no turn, leaves DND unknown: the member counts as
    /// their hours say (for [`DND_NO_TURN_TTL`](crate::bot::directory::DND_NO_TURN_TTL)
    /// without asking again, when it found no turn).
    pub(crate) async fn add_dnd(
        &self,
        team: &TeamId,
        members: &mut [Reached],
        lookups_left: &mut usize,
        mut waited: usize,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut signals_off = None;
        for member in members.iter_mut() {
            if !member.is_person || !is_available(&member.hours, now) {
                continue;
            }
            let off = match &signals_off {
                Some(off) => off,
                None => signals_off.insert(self.workspace_norms(team)?.signals_off),
            };
            if off.contains(&member.user) {
                continue;
            }
            let dnd = match self.directory.cached_dnd(team, &member.user, now) {
                Some(dnd) => dnd,
                None if *lookups_left == 0
                    || self.directory.dnd_found_no_turn(team, &member.user, now) =>
                {
                    continue;
                }
                None => {
                    *lookups_left -= 1;
                    let share = if waited > 0 {
                        waited -= 1;
                        Share::Brief
                    } else {
                        Share::Spare
                    };
                    match self
                        .slack
                        .team(team)
                        .dnd_info(member.user.as_str(), share)
                        .await
                    {
                        Ok(info) => {
                            let dnd = DndStatus::from_slack(
                                info.dnd_enabled,
                                info.next_dnd_start_ts,
                                info.next_dnd_end_ts,
                                info.snooze_enabled,
                                info.snooze_endtime,
                            );
                            self.directory.remember_dnd(team, &member.user, dnd, now);
                            dnd
                        }
                        Err(ApiError::Expired { .. }) => {
                            self.directory.remember_no_dnd_turn(team, &member.user, now);
                            continue;
                        }
                        Err(e) => {
                            warn!(team = %team, user = %member.user, error = %e, "could not read a member's Do Not Disturb");
                            continue;
                        }
                    }
                }
            };
            if let Some(signal) = dnd.signal(now) {
                member.hours.signal = Some(signal);
            }
        }
        Ok(())
    }

    /// Writes a member's hours, or removes the record when `hours` is `None`, and waits until
    /// it is on disk: the reply that follows says it is saved.
    pub(crate) async fn save_hours(
        &self,
        team: &TeamId,
        user: &UserId,
        hours: Option<&MemberHours>,
    ) -> Result<(), StoreError> {
        let table = self.hours_table()?;
        match hours {
            Some(hours) => table.put(team, user.as_str(), hours)?,
            None => {
                table.remove(team, user.as_str())?;
            }
        }
        self.store.flush().await
    }
}

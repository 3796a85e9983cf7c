//! Who the members are: their Slack profile (time zone, admin flags, bot or person) and the
//! members of a channel. Every mention note and availability card needs these, and asking
//! Slack each time would spend the rate limit on the same answers, so they are kept in memory
//! for a while: profiles for hours (a person's zone rarely changes, and `user_change` brings
//! the new profile when it does), channel members for minutes.
//!
//! A member's effective hours are the ones they stored, or else the default week in their
//! profile's zone, or else in the workspace default zone ([`effective_hours`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use slack_morphism::prelude::*;
use tracing::warn;

use crate::hours::{DndStatus, MemberHours, SlackStatus, zone_by_name};
use crate::ids::{ChannelId, TeamId, UserId};
use crate::slack::api::{ApiError, Share, SlackApi};

/// How long a profile read from `users.info` is trusted.
pub(crate) const PROFILE_TTL: TimeDelta = TimeDelta::hours(12);
/// How long a channel's member list is trusted.
pub(crate) const CHANNEL_TTL: TimeDelta = TimeDelta::minutes(5);
/// How long a member's Do Not Disturb settings (`dnd.info`) are read from memory: a busy
/// channel mentioning them asks Slack once in this time. A `dnd_updated_user` event
/// refreshes them at once.
pub(crate) const DND_TTL: TimeDelta = TimeDelta::minutes(5);
/// How long a member whose `dnd.info` found no turn at Slack's rate counts as their hours
/// say before it is asked again: under a burst each mention of them would otherwise wait in
/// line for the same few turns.
pub(crate) const DND_NO_TURN_TTL: TimeDelta = TimeDelta::seconds(10);
/// Profiles kept before expired ones are swept (a large workspace is about 100,000 people;
/// one profile is a few dozen bytes).
const MAX_PROFILES: usize = 250_000;
/// Channel member lists kept before expired ones are swept.
const MAX_CHANNELS: usize = 10_000;
/// How long "no such user" from `users.info` is believed: a message can mention hundreds
/// of ids that are no one, and asking again for each would spend the rate limit on them.
pub(crate) const MISSING_TTL: TimeDelta = TimeDelta::hours(1);
/// Slack's answers that mean the id is not a member the bot can see.
const MISSING_CODES: [&str; 2] = ["user_not_found", "user_not_visible"];

tokio::task_local! {
    /// Set around the work for someone who asked (a command, an interaction), whose
    /// look-ups then spend the part of the rate kept for them ([`Share::Asked`]). A task
    /// local because look-ups happen deep in code that every path shares.
    static ASKED: ();
}

/// Runs `work` as work for someone who asked: its profile look-ups go ahead of bulk ones.
pub(crate) async fn for_someone_who_asked<F: std::future::Future>(work: F) -> F::Output {
    ASKED.scope((), work).await
}

/// Members read from one channel; a larger channel is described by its first ones.
pub(crate) const MAX_CHANNEL_MEMBERS: usize = 20_000;
/// How often every member is read again from `users.list`: well within [`PROFILE_TTL`], so
/// a member of the workspace is always known.
pub(crate) const DIRECTORY_REFRESH: std::time::Duration =
    std::time::Duration::from_secs(6 * 60 * 60);
/// Members asked for per `users.list` page (Slack advises no more than 200).
const USERS_PAGE_SIZE: u16 = 200;
/// Members asked for per `conversations.members` page (Slack allows up to 1,000).
const PAGE_SIZE: u16 = 1000;

/// What the bot needs from a member's Slack profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Profile {
    /// `None` when the profile has no zone, or one chrono-tz does not know.
    pub(crate) tz: Option<Tz>,
    pub(crate) is_admin: bool,
    pub(crate) is_owner: bool,
    pub(crate) is_bot: bool,
    pub(crate) deleted: bool,
}

impl Profile {
    /// Reads the parts of a Slack user the bot uses.
    pub(crate) fn from_slack(user: &SlackUser) -> Self {
        let flag = |value: Option<bool>| value.unwrap_or(false);
        let tz = user
            .tz
            .as_deref()
            .filter(|name| !name.trim().is_empty())
            .and_then(|name| match zone_by_name(name) {
                Some(tz) => Some(tz),
                None => {
                    warn!(user = %user.id, zone = name, "profile zone is not an IANA zone this build knows; using the default");
                    None
                }
            });
        Profile {
            tz,
            is_admin: flag(user.flags.is_admin),
            is_owner: flag(user.flags.is_owner) || flag(user.flags.is_primary_owner),
            // Slackbot is a person-shaped bot with the id USLACKBOT.
            is_bot: flag(user.flags.is_bot) || user.id.0 == "USLACKBOT",
            deleted: flag(user.deleted),
        }
    }

    /// Whether this member is a person who can be at work: not a bot, not deactivated.
    pub(crate) fn is_person(&self) -> bool {
        !self.is_bot && !self.deleted
    }

    /// The member's zone, or `default` when their profile has none.
    pub(crate) fn zone_or(&self, default: Tz) -> Tz {
        self.tz.unwrap_or(default)
    }
}

/// The profile status of a Slack user.
pub(crate) fn status_of(user: &SlackUser) -> SlackStatus {
    let profile = user.profile.as_ref();
    SlackStatus::from_profile(
        profile.and_then(|p| p.status_text.as_deref()),
        profile.and_then(|p| p.status_emoji.as_ref().map(|e| e.0.as_str())),
        profile
            .and_then(|p| p.status_expiration.as_ref())
            .map_or(0, |at| at.0.as_second()),
    )
}

/// A member's hours as the bot uses them: what they stored, or the default week (Mon–Fri
/// 09:00–17:00) in their profile's zone, or in `default_tz` when the profile is unknown or
/// has no zone.
pub(crate) fn effective_hours(
    stored: Option<MemberHours>,
    profile: Option<&Profile>,
    default_tz: Tz,
) -> MemberHours {
    match stored {
        Some(hours) => hours,
        None => MemberHours::default_in(zone_of(profile, default_tz)),
    }
}

/// The zone of a member from their profile, or `default_tz`.
pub(crate) fn zone_of(profile: Option<&Profile>, default_tz: Tz) -> Tz {
    profile.map_or(default_tz, |p| p.zone_or(default_tz))
}

/// Whether a value fetched at `fetched_at` may still be used at `now`. A handler reads the
/// clock once and may then wait minutes for its turn at Slack's rate limits, while others
/// fetch and remember: a value from a little after its `now` is fresh (fetching it again
/// would spend the limit on a copy), one from further ahead than `ttl` is not.
pub(crate) fn is_fresh(fetched_at: DateTime<Utc>, now: DateTime<Utc>, ttl: TimeDelta) -> bool {
    (now - fetched_at).abs() < ttl
}

struct Cached<T> {
    value: T,
    fetched_at: DateTime<Utc>,
}

/// Keeps `map` under `max` entries: expired entries go first, and if that is not enough, all.
fn make_room<K, T>(
    map: &mut HashMap<K, Cached<T>>,
    max: usize,
    now: DateTime<Utc>,
    ttl: TimeDelta,
) {
    if map.len() < max {
        return;
    }
    map.retain(|_, cached| is_fresh(cached.fetched_at, now, ttl));
    if map.len() >= max {
        map.clear();
    }
}

type ProfileMap = HashMap<(TeamId, UserId), Cached<Profile>>;
/// A `users.info` call under way, shared by everyone who needs the same profile meanwhile.
type Lookup = Arc<tokio::sync::OnceCell<Result<Profile, ApiError>>>;
type ChannelMap = HashMap<(TeamId, ChannelId), Cached<Arc<[UserId]>>>;
type MissingMap = HashMap<(TeamId, UserId), Cached<String>>;
type StatusMap = HashMap<(TeamId, UserId), SlackStatus>;
type DndMap = HashMap<(TeamId, UserId), Cached<DndStatus>>;

/// The in-memory directory of one bot process. Locks are held only to read or write a map
/// entry, never across a call to Slack.
#[derive(Default)]
pub(crate) struct Directory {
    profiles: Mutex<ProfileMap>,
    channels: Mutex<ChannelMap>,
    lookups: Mutex<HashMap<(TeamId, UserId), Lookup>>,
    /// Ids Slack said are no one (with its error code).
    missing: Mutex<MissingMap>,
    /// Members' profile statuses, as last read with their profile (only those set).
    statuses: Mutex<StatusMap>,
    /// Members' Do Not Disturb settings, as `dnd.info` or `dnd_updated_user` last said.
    dnd: Mutex<DndMap>,
    /// Members whose `dnd.info` lately found no turn ([`DND_NO_TURN_TTL`]).
    dnd_no_turn: Mutex<HashMap<(TeamId, UserId), Cached<()>>>,
    /// Becomes `true` once every workspace's members were read from `users.list` (or the
    /// reading failed) after a start.
    first_read: tokio::sync::watch::Sender<bool>,
}

impl Directory {
    /// A member's profile, from memory when fresh, else from `users.info`, spending
    /// `share` of its rate ([`Share::Asked`] inside [`for_someone_who_asked`]). An id
    /// Slack recently said is no one is answered from memory too.
    pub(crate) async fn profile(
        &self,
        slack: &SlackApi,
        team: &TeamId,
        user: &UserId,
        now: DateTime<Utc>,
        share: Share,
    ) -> Result<Profile, ApiError> {
        if let Some(profile) = self.cached_profile(team, user, now) {
            return Ok(profile);
        }
        if let Some(code) = self.known_missing(team, user, now) {
            return Err(ApiError::Refused {
                method: "users.info",
                code,
            });
        }
        let share = if ASKED.try_with(|_| ()).is_ok() {
            Share::Asked
        } else {
            share
        };
        // One call per profile however many events need it at once (a burst mentioning the
        // same person, or a Slack outage during which every handler waits): the others wait
        // for its answer, failure included, instead of spending the rate limit on copies.
        let key = (team.clone(), user.clone());
        let lookup = self.lock_lookups().entry(key.clone()).or_default().clone();
        let answer = lookup
            .get_or_init(|| async {
                let request = SlackApiUsersInfoRequest::new(SlackUserId::new(user.as_str().into()));
                match slack.team(team).users_info(request, share).await {
                    Ok(answer) => {
                        let profile = Profile::from_slack(&answer.user);
                        self.remember_status(team, user, status_of(&answer.user));
                        self.remember(team, user, profile, now);
                        Ok(profile)
                    }
                    Err(refused) => {
                        if let Some(code) = refused.code().filter(|c| MISSING_CODES.contains(c)) {
                            self.remember_missing(team, user, code, now);
                        }
                        Err(refused)
                    }
                }
            })
            .await
            .clone();
        let mut lookups = self.lock_lookups();
        if lookups
            .get(&key)
            .is_some_and(|current| Arc::ptr_eq(current, &lookup))
        {
            lookups.remove(&key);
        }
        answer
    }

    /// A member's profile if it is in memory and fresh; Slack is not asked.
    pub(crate) fn cached_profile(
        &self,
        team: &TeamId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Option<Profile> {
        let key = (team.clone(), user.clone());
        self.lock_profiles()
            .get(&key)
            .filter(|cached| is_fresh(cached.fetched_at, now, PROFILE_TTL))
            .map(|cached| cached.value)
    }

    /// Keeps a profile Slack sent (`users.info`, or the `user_change` event).
    pub(crate) fn remember(
        &self,
        team: &TeamId,
        user: &UserId,
        profile: Profile,
        now: DateTime<Utc>,
    ) {
        let mut profiles = self.lock_profiles();
        make_room(&mut profiles, MAX_PROFILES, now, PROFILE_TTL);
        profiles.insert(
            (team.clone(), user.clone()),
            Cached {
                value: profile,
                fetched_at: now,
            },
        );
    }

    /// Keeps a member's profile status (Slack sends it with the profile); an empty one
    /// clears the last.
    pub(crate) fn remember_status(&self, team: &TeamId, user: &UserId, status: SlackStatus) {
        let mut statuses = self.lock_statuses();
        let key = (team.clone(), user.clone());
        if status.is_empty() {
            statuses.remove(&key);
        } else {
            if statuses.len() >= MAX_PROFILES {
                statuses.clear();
            }
            statuses.insert(key, status);
        }
    }

    /// A member's profile status as last read, if one is set. Read alongside a fresh profile
    /// only: a status is as old as the profile it came with.
    pub(crate) fn cached_status(&self, team: &TeamId, user: &UserId) -> Option<SlackStatus> {
        self.lock_statuses()
            .get(&(team.clone(), user.clone()))
            .cloned()
    }

    fn lock_statuses(&self) -> std::sync::MutexGuard<'_, StatusMap> {
        self.statuses.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A member's Do Not Disturb settings if read less than [`DND_TTL`] ago.
    pub(crate) fn cached_dnd(
        &self,
        team: &TeamId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Option<DndStatus> {
        self.lock_dnd()
            .get(&(team.clone(), user.clone()))
            .filter(|cached| is_fresh(cached.fetched_at, now, DND_TTL))
            .map(|cached| cached.value)
    }

    /// Keeps a member's Do Not Disturb settings as Slack sent them.
    pub(crate) fn remember_dnd(
        &self,
        team: &TeamId,
        user: &UserId,
        dnd: DndStatus,
        now: DateTime<Utc>,
    ) {
        let mut all = self.lock_dnd();
        make_room(&mut all, MAX_PROFILES, now, DND_TTL);
        all.insert(
            (team.clone(), user.clone()),
            Cached {
                value: dnd,
                fetched_at: now,
            },
        );
    }

    /// Forgets a member's Do Not Disturb settings: the next message mentioning them asks
    /// Slack again.
    pub(crate) fn forget_dnd(&self, team: &TeamId, user: &UserId) {
        self.lock_dnd().remove(&(team.clone(), user.clone()));
    }

    /// Whether a look at a member's Do Not Disturb lately found no turn at Slack's rate.
    pub(crate) fn dnd_found_no_turn(
        &self,
        team: &TeamId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> bool {
        self.lock_dnd_no_turn()
            .get(&(team.clone(), user.clone()))
            .is_some_and(|cached| is_fresh(cached.fetched_at, now, DND_NO_TURN_TTL))
    }

    /// A look at a member's Do Not Disturb found no turn at Slack's rate: not asked again for
    /// [`DND_NO_TURN_TTL`].
    pub(crate) fn remember_no_dnd_turn(&self, team: &TeamId, user: &UserId, now: DateTime<Utc>) {
        let mut all = self.lock_dnd_no_turn();
        make_room(&mut all, MAX_PROFILES, now, DND_NO_TURN_TTL);
        all.insert(
            (team.clone(), user.clone()),
            Cached {
                value: (),
                fetched_at: now,
            },
        );
    }

    fn lock_dnd_no_turn(&self) -> std::sync::MutexGuard<'_, HashMap<(TeamId, UserId), Cached<()>>> {
        self.dnd_no_turn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_dnd(&self) -> std::sync::MutexGuard<'_, DndMap> {
        self.dnd.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops everything cached of a workspace.
    pub(crate) fn forget_team(&self, team: &TeamId) {
        self.lock_dnd().retain(|(t, _), _| t != team);
        self.lock_dnd_no_turn().retain(|(t, _), _| t != team);
        self.lock_statuses().retain(|(t, _), _| t != team);
        self.lock_profiles().retain(|(t, _), _| t != team);
        self.lock_channels().retain(|(t, _), _| t != team);
    }

    /// The members of a channel (people and bots), from memory when fresh, else from
    /// `conversations.members`, every page, up to [`MAX_CHANNEL_MEMBERS`].
    pub(crate) async fn channel_members(
        &self,
        slack: &SlackApi,
        team: &TeamId,
        channel: &ChannelId,
        now: DateTime<Utc>,
    ) -> Result<Arc<[UserId]>, ApiError> {
        let key = (team.clone(), channel.clone());
        if let Some(cached) = self.lock_channels().get(&key)
            && is_fresh(cached.fetched_at, now, CHANNEL_TTL)
        {
            return Ok(cached.value.clone());
        }
        let mut members = Vec::new();
        let mut cursor: Option<SlackCursorId> = None;
        loop {
            let mut request = SlackApiConversationsMembersRequest::new()
                .with_channel(SlackChannelId::new(channel.as_str().into()))
                .with_limit(PAGE_SIZE);
            request.cursor = cursor.take();
            let page = slack.team(team).conversations_members(request).await?;
            members.extend(page.members.into_iter().map(|id| UserId::new(id.0)));
            cursor = page
                .response_metadata
                .and_then(|meta| meta.next_cursor)
                .filter(|next| !next.0.is_empty());
            if cursor.is_none() || members.len() >= MAX_CHANNEL_MEMBERS {
                break;
            }
        }
        members.truncate(MAX_CHANNEL_MEMBERS);
        let members: Arc<[UserId]> = members.into();
        let mut channels = self.lock_channels();
        make_room(&mut channels, MAX_CHANNELS, now, CHANNEL_TTL);
        channels.insert(
            key,
            Cached {
                value: members.clone(),
                fetched_at: now,
            },
        );
        Ok(members)
    }

    /// Reads every member of `team` from `users.list`, page by page at its tier's pace,
    /// into memory; returns how many. Members who join or change later come with the
    /// `team_join` and `user_change` events, so mentions are looked up here, not one
    /// `users.info` call per member.
    pub(crate) async fn load_members(
        &self,
        slack: &SlackApi,
        team: &TeamId,
        now: DateTime<Utc>,
    ) -> Result<usize, ApiError> {
        let mut read = 0;
        let mut cursor: Option<SlackCursorId> = None;
        loop {
            // An org-wide install's token lists a workspace only when named; a workspace's
            // own token ignores the field.
            let mut request = SlackApiUsersListRequest::new()
                .with_limit(USERS_PAGE_SIZE)
                .with_team_id(SlackTeamId::new(team.as_str().into()));
            request.cursor = cursor.take();
            let page = slack.team(team).users_list(request).await?;
            for member in &page.members {
                let user = UserId::new(member.id.0.clone());
                self.remember_status(team, &user, status_of(member));
                self.remember(team, &user, Profile::from_slack(member), now);
            }
            read += page.members.len();
            cursor = page
                .response_metadata
                .and_then(|meta| meta.next_cursor)
                .filter(|next| !next.0.is_empty());
            if cursor.is_none() || read >= MAX_PROFILES {
                return Ok(read);
            }
        }
    }

    /// Says that the first reading of every workspace's members is over, read or not.
    pub(crate) fn first_read_over(&self) {
        self.first_read.send_replace(true);
    }

    /// Waits until the first reading of the members is over, at most `patience`: a member
    /// the directory is about to name then costs no `users.info` call.
    pub(crate) async fn wait_for_first_read(&self, patience: std::time::Duration) {
        let mut over = self.first_read.subscribe();
        let _ = tokio::time::timeout(patience, over.wait_for(|over| *over)).await;
    }

    /// Profiles in memory, of every workspace.
    pub(crate) fn members_known(&self) -> usize {
        self.lock_profiles().len()
    }

    /// Whether a look-up of this member would be answered from memory (a fresh profile,
    /// or an id Slack recently said is no one).
    pub(crate) fn is_known(&self, team: &TeamId, user: &UserId, now: DateTime<Utc>) -> bool {
        self.cached_profile(team, user, now).is_some()
            || self.known_missing(team, user, now).is_some()
    }

    /// The error code Slack gave for an id that is no one, if it is in memory and fresh.
    fn known_missing(&self, team: &TeamId, user: &UserId, now: DateTime<Utc>) -> Option<String> {
        let key = (team.clone(), user.clone());
        self.lock_missing()
            .get(&key)
            .filter(|cached| is_fresh(cached.fetched_at, now, MISSING_TTL))
            .map(|cached| cached.value.clone())
    }

    fn remember_missing(&self, team: &TeamId, user: &UserId, code: &str, now: DateTime<Utc>) {
        let mut missing = self.lock_missing();
        make_room(&mut missing, MAX_PROFILES, now, MISSING_TTL);
        missing.insert(
            (team.clone(), user.clone()),
            Cached {
                value: code.to_string(),
                fetched_at: now,
            },
        );
    }

    fn lock_missing(&self) -> std::sync::MutexGuard<'_, MissingMap> {
        self.missing.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_profiles(&self) -> std::sync::MutexGuard<'_, ProfileMap> {
        self.profiles.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_lookups(&self) -> std::sync::MutexGuard<'_, HashMap<(TeamId, UserId), Lookup>> {
        self.lookups.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_channels(&self) -> std::sync::MutexGuard<'_, ChannelMap> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slack_user(json: serde_json::Value) -> SlackUser {
        serde_json::from_value(json).expect("a Slack user")
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_dnd_look_that_found_no_turn_is_not_tried_again_for_a_while_per_member() {
        let directory = Directory::default();
        let (team, ana, bo) = (TeamId::new("T1"), UserId::new("U1"), UserId::new("U2"));
        let now = at("2026-03-02T10:00:00Z");
        assert!(!directory.dnd_found_no_turn(&team, &ana, now));
        directory.remember_no_dnd_turn(&team, &ana, now);
        assert!(directory.dnd_found_no_turn(&team, &ana, now + TimeDelta::seconds(9)));
        assert!(
            !directory.dnd_found_no_turn(&team, &bo, now),
            "another member"
        );
        assert!(
            !directory.dnd_found_no_turn(&TeamId::new("T2"), &ana, now),
            "another team"
        );
        assert!(
            !directory.dnd_found_no_turn(
                &team,
                &ana,
                now + DND_NO_TURN_TTL + TimeDelta::seconds(1)
            ),
            "asked again once it is over"
        );
        directory.remember_no_dnd_turn(&team, &ana, now);
        directory.forget_team(&team);
        assert!(!directory.dnd_found_no_turn(&team, &ana, now));
    }

    #[test]
    fn a_profile_reads_the_zone_and_the_flags() {
        let profile = Profile::from_slack(&slack_user(serde_json::json!({
            "id": "U1", "tz": "Europe/Berlin", "is_admin": true, "is_owner": false,
            "is_bot": false, "deleted": false
        })));
        assert_eq!(
            profile,
            Profile {
                tz: Some(chrono_tz::Europe::Berlin),
                is_admin: true,
                is_owner: false,
                is_bot: false,
                deleted: false,
            }
        );
        assert!(profile.is_person());
    }

    #[test]
    fn a_profile_without_a_usable_zone_has_none() {
        for tz in [serde_json::json!(null), "".into(), "Mars/Olympus".into()] {
            let profile =
                Profile::from_slack(&slack_user(serde_json::json!({ "id": "U1", "tz": tz })));
            assert_eq!(profile.tz, None, "{tz}");
            assert_eq!(profile.zone_or(chrono_tz::UTC), chrono_tz::UTC);
        }
    }

    #[test]
    fn bots_slackbot_and_deactivated_members_are_not_people() {
        let cases = [
            serde_json::json!({ "id": "B1", "is_bot": true }),
            serde_json::json!({ "id": "USLACKBOT" }),
            serde_json::json!({ "id": "U9", "deleted": true }),
        ];
        for case in cases {
            assert!(
                !Profile::from_slack(&slack_user(case.clone())).is_person(),
                "{case}"
            );
        }
    }

    #[test]
    fn stored_hours_win_then_the_profile_zone_then_the_workspace_default() {
        let stored = MemberHours::new(
            "mon-thu 08:00-16:00".parse().unwrap(),
            chrono_tz::Asia::Tokyo,
        );
        let berlin = Profile {
            tz: Some(chrono_tz::Europe::Berlin),
            is_admin: false,
            is_owner: false,
            is_bot: false,
            deleted: false,
        };
        let no_zone = Profile { tz: None, ..berlin };
        let default = chrono_tz::America::Chicago;
        assert_eq!(
            effective_hours(Some(stored.clone()), Some(&berlin), default),
            stored
        );
        assert_eq!(
            effective_hours(None, Some(&berlin), default),
            MemberHours::default_in(chrono_tz::Europe::Berlin)
        );
        assert_eq!(
            effective_hours(None, Some(&no_zone), default),
            MemberHours::default_in(default)
        );
        assert_eq!(
            effective_hours(None, None, default),
            MemberHours::default_in(default)
        );
    }

    #[test]
    fn cached_values_expire_after_their_time_to_live() {
        let fetched = at("2026-03-02T08:00:00Z");
        assert!(is_fresh(fetched, at("2026-03-02T19:59:00Z"), PROFILE_TTL));
        assert!(!is_fresh(fetched, at("2026-03-02T20:00:00Z"), PROFILE_TTL));
        // A clock set back does not make a value fresh forever.
        assert!(!is_fresh(fetched, at("2026-03-01T08:00:00Z"), PROFILE_TTL));
        // Fetched by another handler while this one waited since 07:56 for its turn.
        assert!(is_fresh(fetched, at("2026-03-02T07:56:00Z"), PROFILE_TTL));
        assert!(is_fresh(fetched, at("2026-03-02T07:56:00Z"), CHANNEL_TTL));
        assert!(!is_fresh(fetched, at("2026-03-02T07:50:00Z"), CHANNEL_TTL));
    }

    #[test]
    fn a_remembered_profile_replaces_the_old_one_and_full_maps_sweep_expired_entries() {
        let directory = Directory::default();
        let team = TeamId::new("T1");
        let now = at("2026-03-02T08:00:00Z");
        let person = Profile {
            tz: Some(chrono_tz::Europe::Berlin),
            is_admin: false,
            is_owner: false,
            is_bot: false,
            deleted: false,
        };
        directory.remember(&team, &UserId::new("U1"), person, now);
        let moved = Profile {
            tz: Some(chrono_tz::Asia::Tokyo),
            ..person
        };
        directory.remember(&team, &UserId::new("U1"), moved, now);
        let profiles = directory.lock_profiles();
        assert_eq!(profiles.len(), 1);
        assert_eq!(
            profiles[&(team.clone(), UserId::new("U1"))].value.tz,
            Some(chrono_tz::Asia::Tokyo)
        );
        drop(profiles);

        let mut map: HashMap<u32, Cached<()>> = HashMap::new();
        map.insert(
            1,
            Cached {
                value: (),
                fetched_at: now - TimeDelta::days(1),
            },
        );
        map.insert(
            2,
            Cached {
                value: (),
                fetched_at: now,
            },
        );
        make_room(&mut map, 2, now, PROFILE_TTL);
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), vec![2]);
    }
}

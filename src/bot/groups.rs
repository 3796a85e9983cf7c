//! User groups (`<!subteam^S…>`): Slack notifies every member of a group mentioned in a
//! message, so a group mention reaches those people as surely as naming each of them. Who is in
//! a group comes from `usergroups.users.list`, its handle from `usergroups.list`; both are kept
//! in memory for an hour and refreshed by the `subteam_*` events, so a busy group costs one
//! look-up an hour, not one per message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use slack_morphism::prelude::*;

use crate::bot::directory::is_fresh;
use crate::ids::{GroupId, TeamId, UserId};
use crate::slack::api::{ApiError, SlackApi};

/// How long a group's member list and the workspace's group handles are trusted without an
/// event saying they changed.
pub(crate) const GROUP_TTL: TimeDelta = TimeDelta::hours(1);
/// User groups looked up for one message; more are rare, and each costs a look-up.
pub(crate) const MAX_GROUPS_PER_MESSAGE: usize = 5;
/// Groups kept in memory before expired ones are swept.
const MAX_GROUPS: usize = 10_000;

struct Cached<T> {
    value: T,
    fetched_at: DateTime<Utc>,
}

type MemberMap = HashMap<(TeamId, GroupId), Cached<Arc<[UserId]>>>;
type HandleMap = HashMap<TeamId, Cached<HashMap<GroupId, String>>>;

/// What a `subteam_*` event says about a group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct GroupChange {
    pub(crate) group: GroupId,
    /// The handle, without `@`, when the event carries the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) handle: Option<String>,
    /// The whole member list, when the event carries it; otherwise the cached list is
    /// dropped and read again when next needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) members: Option<Vec<UserId>>,
}

impl GroupChange {
    /// Reads a `subteam_created`, `subteam_updated` or `subteam_members_changed` event.
    pub(crate) fn from_event(event: &serde_json::Value) -> Option<Self> {
        let text = |value: Option<&serde_json::Value>| {
            value
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let ids = |value: Option<&serde_json::Value>| {
            value.and_then(serde_json::Value::as_array).map(|users| {
                users
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(UserId::new)
                    .collect::<Vec<_>>()
            })
        };
        match event.get("type")?.as_str()? {
            "subteam_members_changed" => Some(GroupChange {
                group: GroupId::new(text(event.get("subteam_id"))?),
                handle: None,
                members: None,
            }),
            "subteam_created" | "subteam_updated" => {
                let subteam = event.get("subteam")?;
                Some(GroupChange {
                    group: GroupId::new(text(subteam.get("id"))?),
                    handle: text(subteam.get("handle")),
                    members: ids(subteam.get("users")),
                })
            }
            _ => None,
        }
    }
}

/// The user groups of every workspace this process serves, as far as messages needed them.
/// Locks are held only to read or write an entry, never across a call to Slack.
#[derive(Default)]
pub(crate) struct Groups {
    members: Mutex<MemberMap>,
    handles: Mutex<HandleMap>,
}

impl Groups {
    /// The members of a group, from memory when fresh, else from `usergroups.users.list`.
    pub(crate) async fn members(
        &self,
        slack: &SlackApi,
        team: &TeamId,
        group: &GroupId,
        now: DateTime<Utc>,
    ) -> Result<Arc<[UserId]>, ApiError> {
        let key = (team.clone(), group.clone());
        if let Some(cached) = self.lock_members().get(&key)
            && is_fresh(cached.fetched_at, now, GROUP_TTL)
        {
            return Ok(cached.value.clone());
        }
        // Named to the workspace, as an org-wide install's token needs.
        let request =
            SlackApiUserGroupsUsersListRequest::new(SlackUserGroupId::new(group.to_string()))
                .with_team_id(SlackTeamId::new(team.as_str().into()));
        let answer = slack.team(team).usergroups_users_list(request).await?;
        let members: Arc<[UserId]> = answer
            .users
            .into_iter()
            .map(|id| UserId::new(id.0))
            .collect();
        self.remember_members(team, group, members.clone(), now);
        Ok(members)
    }

    /// A group's handle (without `@`), from memory when fresh, else from `usergroups.list`;
    /// `None` when Slack cannot say.
    pub(crate) async fn handle(
        &self,
        slack: &SlackApi,
        team: &TeamId,
        group: &GroupId,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let cached = self
            .lock_handles()
            .get(team)
            .filter(|cached| is_fresh(cached.fetched_at, now, GROUP_TTL))
            .map(|cached| cached.value.get(group).cloned());
        if let Some(handle) = cached {
            return handle;
        }
        let answer = match slack
            .team(team)
            .usergroups_list(
                SlackApiUserGroupsListRequest::new()
                    .with_team_id(SlackTeamId::new(team.as_str().into())),
            )
            .await
        {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(team = %team, error = %e, "could not read the user groups' handles");
                return None;
            }
        };
        let handles: HashMap<GroupId, String> = answer
            .usergroups
            .into_iter()
            .map(|group| (GroupId::new(group.id.0), group.handle))
            .collect();
        let handle = handles.get(group).cloned();
        self.lock_handles().insert(
            team.clone(),
            Cached {
                value: handles,
                fetched_at: now,
            },
        );
        handle
    }

    /// Takes in what a `subteam_*` event says: a new handle or member list is kept, and a
    /// change without the list drops the cached one.
    pub(crate) fn apply(&self, team: &TeamId, change: GroupChange, now: DateTime<Utc>) {
        match change.members {
            Some(members) => self.remember_members(team, &change.group, members.into(), now),
            None => {
                self.lock_members()
                    .remove(&(team.clone(), change.group.clone()));
            }
        }
        if let Some(handle) = change.handle
            && let Some(cached) = self.lock_handles().get_mut(team)
        {
            cached.value.insert(change.group, handle);
        }
    }

    /// Drops everything cached of a workspace.
    pub(crate) fn forget_team(&self, team: &TeamId) {
        self.lock_members().retain(|(t, _), _| t != team);
        self.lock_handles().remove(team);
    }

    fn remember_members(
        &self,
        team: &TeamId,
        group: &GroupId,
        members: Arc<[UserId]>,
        now: DateTime<Utc>,
    ) {
        let mut map = self.lock_members();
        if map.len() >= MAX_GROUPS {
            map.retain(|_, cached| is_fresh(cached.fetched_at, now, GROUP_TTL));
            if map.len() >= MAX_GROUPS {
                map.clear();
            }
        }
        map.insert(
            (team.clone(), group.clone()),
            Cached {
                value: members,
                fetched_at: now,
            },
        );
    }

    fn lock_members(&self) -> std::sync::MutexGuard<'_, MemberMap> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_handles(&self) -> std::sync::MutexGuard<'_, HandleMap> {
        self.handles.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subteam_events_say_which_group_changed_and_what_they_carry() {
        let members_changed = serde_json::json!({
            "type": "subteam_members_changed", "subteam_id": "S0614TZR7", "team_id": "T1",
            "added_users": ["U1"], "added_users_count": "1", "removed_users": [],
            "removed_users_count": "0"
        });
        assert_eq!(
            GroupChange::from_event(&members_changed),
            Some(GroupChange {
                group: GroupId::new("S0614TZR7"),
                handle: None,
                members: None,
            })
        );
        let updated = serde_json::json!({
            "type": "subteam_updated",
            "subteam": {"id": "S1", "handle": "backend", "users": ["U1", "U2"], "user_count": 2}
        });
        assert_eq!(
            GroupChange::from_event(&updated),
            Some(GroupChange {
                group: GroupId::new("S1"),
                handle: Some("backend".into()),
                members: Some(vec![UserId::new("U1"), UserId::new("U2")]),
            })
        );
        for unreadable in [
            serde_json::json!({"type": "subteam_updated"}),
            serde_json::json!({"type": "subteam_members_changed", "subteam_id": 7}),
            serde_json::json!({"type": "user_change"}),
        ] {
            assert_eq!(GroupChange::from_event(&unreadable), None, "{unreadable}");
        }
    }

    #[test]
    fn a_change_without_the_member_list_drops_the_cached_one() {
        let groups = Groups::default();
        let team = TeamId::new("T1");
        let group = GroupId::new("S1");
        let now: DateTime<Utc> = "2026-03-02T08:00:00Z".parse().unwrap();
        groups.remember_members(&team, &group, vec![UserId::new("U1")].into(), now);
        groups.apply(
            &team,
            GroupChange {
                group: group.clone(),
                handle: None,
                members: Some(vec![UserId::new("U2")]),
            },
            now,
        );
        let key = (team.clone(), group.clone());
        assert_eq!(&*groups.lock_members()[&key].value, &[UserId::new("U2")]);
        groups.apply(
            &team,
            GroupChange {
                group,
                handle: None,
                members: None,
            },
            now,
        );
        assert!(groups.lock_members().get(&key).is_none());
    }
}

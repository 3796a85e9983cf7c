//! Who may change a workspace's shared settings (channel norms, check-ins): Slack's admins
//! and owners, read from their profile, and the members an admin granted the manager role
//! with `/async role manager @user`. Grants live in the `roles` table so they survive
//! restarts; Slack's own flags are never copied into it, so a demoted admin loses the right
//! as soon as their profile says so.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bot::{Bot, HandleError};
use crate::ids::{TeamId, UserId};
use crate::slack::api::Share;
use crate::store::{StoreError, Table};

/// The table of manager grants, keyed by the manager's user id.
pub(crate) const ROLES_TABLE: &str = "roles";

/// One manager grant: who granted it and when, so an admin can tell where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ManagerGrant {
    pub(crate) granted_by: UserId,
    pub(crate) granted_at: DateTime<Utc>,
}

fn roles_table(bot: &Bot) -> Result<Table<ManagerGrant>, StoreError> {
    bot.store.table(ROLES_TABLE)
}

/// Whether `user` may manage the workspace's norms and check-ins: a Slack admin or owner, or
/// a member granted the manager role. A granted manager costs no call to Slack.
pub(crate) async fn can_manage(
    bot: &Bot,
    team: &TeamId,
    user: &UserId,
) -> Result<bool, HandleError> {
    if is_granted_manager(bot, team, user)? {
        return Ok(true);
    }
    is_admin(bot, team, user).await
}

/// Whether `user` is a Slack admin or owner (from `users.info`, cached by the directory).
pub(crate) async fn is_admin(bot: &Bot, team: &TeamId, user: &UserId) -> Result<bool, HandleError> {
    let profile = bot
        .directory
        .profile(&bot.slack, team, user, bot.clock.now(), Share::Waited)
        .await?;
    Ok(profile.is_admin || profile.is_owner)
}

/// Whether `user` holds a manager grant.
pub(crate) fn is_granted_manager(
    bot: &Bot,
    team: &TeamId,
    user: &UserId,
) -> Result<bool, StoreError> {
    Ok(roles_table(bot)?.get(team, user.as_str())?.is_some())
}

/// Every member holding a manager grant.
pub(crate) fn granted_managers(bot: &Bot, team: &TeamId) -> Result<Vec<UserId>, StoreError> {
    Ok(roles_table(bot)?
        .scan(team, "")?
        .into_iter()
        .map(|(user, _)| UserId::new(user))
        .collect())
}

/// Grants `user` the manager role; says whether they did not have it yet. The caller flushes
/// the store before telling anyone it is saved.
pub(crate) fn grant_manager(
    bot: &Bot,
    team: &TeamId,
    user: &UserId,
    granted_by: &UserId,
) -> Result<bool, StoreError> {
    let grant = ManagerGrant {
        granted_by: granted_by.clone(),
        granted_at: bot.clock.now(),
    };
    roles_table(bot)?.insert_if_absent(team, user.as_str(), &grant)
}

/// Takes the manager role from `user`; says whether they had it. The caller flushes.
pub(crate) fn revoke_manager(bot: &Bot, team: &TeamId, user: &UserId) -> Result<bool, StoreError> {
    roles_table(bot)?.remove(team, user.as_str())
}

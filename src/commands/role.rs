//! `/async role manager [remove] @user`: Slack admins and owners grant or revoke the manager
//! role, which lets a member change channel norms and run check-ins. Managers cannot grant
//! it on: the right to hand out rights stays with the people Slack made admins.

use crate::bot::roles::{grant_manager, is_admin, revoke_manager};
use crate::bot::{Bot, HandleError};
use crate::commands::hours::Asker;
use crate::commands::parse::UserRef;
use crate::decision::card::escape;

/// The answer to a member who is not an admin.
pub(crate) const ADMINS_ONLY: &str = "Only workspace admins and owners can grant or remove the manager role. \
     Ask one of them to run `/async role manager @you`.";

/// `/async role manager [remove] @user`.
pub(crate) async fn manager(
    bot: &Bot,
    asker: &Asker<'_>,
    grant: bool,
    user: &UserRef,
) -> Result<String, HandleError> {
    if !is_admin(bot, asker.team, asker.user).await? {
        return Ok(ADMINS_ONLY.to_string());
    }
    let user = match user {
        UserRef::Id { id, .. } => id,
        UserRef::Unresolved(name) => {
            return Ok(format!(
                "I cannot look up `@{}` by name; pick the person from the list as you type, so Slack sends a mention.",
                escape(name)
            ));
        }
    };
    let changed = if grant {
        grant_manager(bot, asker.team, user, asker.user)?
    } else {
        revoke_manager(bot, asker.team, user)?
    };
    bot.store.flush().await?;
    Ok(match (grant, changed) {
        (true, true) => {
            format!("<@{user}> is now a manager: they can set channel norms and run check-ins.")
        }
        (true, false) => format!("<@{user}> is already a manager."),
        (false, true) => format!("<@{user}> is no longer a manager."),
        (false, false) => format!("<@{user}> was not a manager; nothing changed."),
    })
}

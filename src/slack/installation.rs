//! Which workspaces and which Slack app this bot serves. A payload signed with our secret
//! (or sent over our Socket Mode connection) can still name another team, for instance when
//! one signing secret is shared by several apps or a payload is replayed from elsewhere;
//! such a payload is answered, so Slack does not retry it, counted, and not processed.
//!
//! Asked as "is this team installed?", not "is this the one team?", so that an OAuth mode
//! serving several workspaces can add teams as they install the app.

use std::collections::HashSet;
use std::sync::RwLock;

use crate::ids::TeamId;
use crate::metrics::{Counter, Metrics};

/// The installed teams and this app's id.
#[derive(Debug, Default)]
pub struct Installations {
    teams: RwLock<HashSet<TeamId>>,
    /// `None` when Slack did not say (then payloads are judged by their team alone).
    app_id: Option<String>,
}

impl Installations {
    /// The bot of one workspace (its token's `auth.test`), in app `app_id` when known.
    pub fn single(team: TeamId, app_id: Option<String>) -> Self {
        Self {
            teams: RwLock::new(HashSet::from([team])),
            app_id,
        }
    }

    /// Adds a workspace that installed the app.
    pub fn install(&self, team: TeamId) {
        self.teams
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(team);
    }

    /// Whether a payload naming `team` (if it names one) and `app_id` (if it names one) is
    /// for this installation. A payload without a team (an organisation-wide event) is
    /// judged by its app alone.
    pub fn admits(&self, team: Option<&str>, app_id: Option<&str>) -> bool {
        let team_known = team.is_none_or(|team| {
            self.teams
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&TeamId::new(team))
        });
        let app_known = match (app_id, &self.app_id) {
            (Some(theirs), Some(ours)) => theirs == ours,
            _ => true,
        };
        team_known && app_known
    }
}

/// Whether a payload is for another installation; if so it is counted (by `route`) and
/// logged at debug level, and the caller answers it without processing it.
pub fn is_foreign(
    installations: &Installations,
    metrics: &Metrics,
    route: &str,
    team: Option<&str>,
    app_id: Option<&str>,
) -> bool {
    if installations.admits(team, app_id) {
        return false;
    }
    metrics.inc(Counter::ForeignPayloads, &[("route", route)]);
    tracing::debug!(
        route,
        team = team.map(|t| t.chars().take(32).collect::<String>()),
        app = app_id.map(|a| a.chars().take(32).collect::<String>()),
        "payload for a team or app not installed here; answered and ignored"
    );
    true
}

/// The team and app an interaction or other JSON payload names: `team.id` or `team_id`,
/// and `api_app_id`.
pub fn named_scope(payload: &serde_json::Value) -> (Option<&str>, Option<&str>) {
    let team = payload
        .pointer("/team/id")
        .or_else(|| payload.get("team_id"))
        .and_then(|team| team.as_str());
    let app = payload.get("api_app_id").and_then(|app| app.as_str());
    (team, app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_installed_teams_of_this_app_are_admitted() {
        let installed = Installations::single(TeamId::new("T1"), Some("A1".into()));
        let cases = [
            (Some("T1"), Some("A1"), true),
            (Some("T1"), None, true),
            (None, Some("A1"), true),
            (Some("T2"), Some("A1"), false),
            (Some("T1"), Some("A2"), false),
            (None, Some("A2"), false),
        ];
        for (team, app, admitted) in cases {
            assert_eq!(installed.admits(team, app), admitted, "{team:?} {app:?}");
        }
        installed.install(TeamId::new("T2"));
        assert!(installed.admits(Some("T2"), Some("A1")));
    }

    #[test]
    fn the_scope_is_read_from_either_shape() {
        let interaction = serde_json::json!({"team": {"id": "T1"}, "api_app_id": "A1"});
        assert_eq!(named_scope(&interaction), (Some("T1"), Some("A1")));
        let event = serde_json::json!({"team_id": "T2"});
        assert_eq!(named_scope(&event), (Some("T2"), None));
    }
}

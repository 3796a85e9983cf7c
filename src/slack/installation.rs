//! Which workspaces and which Slack app this bot serves. A payload signed with our secret
//! (or sent over our Socket Mode connection) can still name another team, for instance when
//! one signing secret is shared by several apps or a payload is replayed from elsewhere;
//! such a payload is answered, so Slack does not retry it, counted, and not processed.
//!
//! Asked as "is this team installed?", not "is this the one team?", so that an OAuth mode
//! serving several workspaces adds teams as they install the app. An org-wide install
//! (Enterprise Grid) is kept under its organisation: its events, which may name a team of
//! the organisation or none, are handled under the organisation's id.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use crate::bot::messages::BotIdentity;
use crate::ids::TeamId;
use crate::metrics::{Counter, Metrics};

/// The installed teams and this app's id.
#[derive(Debug, Default)]
pub struct Installations {
    teams: RwLock<HashSet<TeamId>>,
    /// Organisations that installed the app org-wide.
    orgs: RwLock<HashSet<TeamId>>,
    /// The bot user of each installation, when it is not the one of `SLACK_BOT_TOKEN`.
    identities: RwLock<HashMap<TeamId, BotIdentity>>,
    /// With one bot token: any organisation's payload is judged by its team and app alone.
    any_org: bool,
    /// `None` when Slack did not say (then payloads are judged by their team alone).
    app_id: Option<String>,
}

impl Installations {
    /// The bot of one workspace (its token's `auth.test`), in app `app_id` when known.
    pub fn single(team: TeamId, app_id: Option<String>) -> Self {
        Self {
            teams: RwLock::new(HashSet::from([team])),
            any_org: true,
            app_id,
            ..Self::default()
        }
    }

    /// No workspace yet (OAuth): teams are added as they install the app.
    pub fn distributed(app_id: Option<String>) -> Self {
        Self {
            app_id,
            ..Self::default()
        }
    }

    /// Adds a workspace that installed the app.
    pub fn install(&self, team: TeamId) {
        self.teams
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(team);
    }

    /// Adds an installation: a workspace, or an organisation for an org-wide install, with
    /// its bot user.
    pub fn install_as(&self, scope: TeamId, org_wide: bool, identity: BotIdentity) {
        self.identities
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(scope.clone(), identity);
        if org_wide {
            self.orgs
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(scope);
        } else {
            self.install(scope);
        }
    }

    /// Forgets an installation (uninstalled, or its token revoked).
    pub fn uninstall(&self, scope: &TeamId) {
        self.teams
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(scope);
        self.orgs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(scope);
        self.identities
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(scope);
    }

    /// Every installation: workspaces, then organisations.
    pub fn scopes(&self) -> Vec<TeamId> {
        let mut all: Vec<TeamId> = self
            .teams
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let mut orgs: Vec<TeamId> = self
            .orgs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        orgs.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        all.extend(orgs);
        all
    }

    /// The bot user in `scope`, when it was installed over OAuth.
    pub fn identity(&self, scope: &TeamId) -> Option<BotIdentity> {
        self.identities
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(scope)
            .cloned()
    }

    fn has_team(&self, team: &str) -> bool {
        self.teams
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&TeamId::new(team))
    }

    fn has_org(&self, org: &str) -> bool {
        self.orgs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&TeamId::new(org))
    }

    /// The installation a payload naming `team` and `enterprise` belongs to: the team when
    /// it installed the app, else the organisation when it installed it org-wide, else
    /// whichever it names (in single-token mode, or for a payload to be refused).
    pub fn scope_of(&self, team: Option<&str>, enterprise: Option<&str>) -> Option<TeamId> {
        match (team, enterprise) {
            (Some(team), _) if self.has_team(team) => Some(TeamId::new(team)),
            (_, Some(org)) if self.has_org(org) => Some(TeamId::new(org)),
            (Some(team), _) => Some(TeamId::new(team)),
            (None, org) => org.map(TeamId::new),
        }
    }

    /// Whether a payload naming `team` and `enterprise` (when it names them) and `app_id`
    /// (if it names one) is for this installation. A payload naming neither team nor
    /// organisation is judged by its app alone.
    pub fn admits(
        &self,
        team: Option<&str>,
        enterprise: Option<&str>,
        app_id: Option<&str>,
    ) -> bool {
        let org_known = |org: &str| self.any_org || self.has_org(org);
        let scope_known = match (team, enterprise) {
            (Some(team), org) => self.has_team(team) || org.is_some_and(|org| self.has_org(org)),
            (None, Some(org)) => org_known(org),
            (None, None) => true,
        };
        let app_known = match (app_id, &self.app_id) {
            (Some(theirs), Some(ours)) => theirs == ours,
            _ => true,
        };
        scope_known && app_known
    }
}

/// Whether a payload is for another installation; if so it is counted (by `route`) and
/// logged at debug level, and the caller answers it without processing it.
pub fn is_foreign(
    installations: &Installations,
    metrics: &Metrics,
    route: &str,
    team: Option<&str>,
    enterprise: Option<&str>,
    app_id: Option<&str>,
) -> bool {
    if installations.admits(team, enterprise, app_id) {
        return false;
    }
    metrics.inc(Counter::ForeignPayloads, &[("route", route)]);
    tracing::debug!(
        route,
        team = team.map(|t| t.chars().take(32).collect::<String>()),
        enterprise = enterprise.map(|t| t.chars().take(32).collect::<String>()),
        app = app_id.map(|a| a.chars().take(32).collect::<String>()),
        "payload for a team or app not installed here; answered and ignored"
    );
    true
}

/// The team, organisation and app an interaction or other JSON payload names: `team.id`
/// or `team_id`, `enterprise.id` or `enterprise_id`, and `api_app_id`.
pub fn named_scope(payload: &serde_json::Value) -> (Option<&str>, Option<&str>, Option<&str>) {
    let team = payload
        .pointer("/team/id")
        .or_else(|| payload.get("team_id"))
        .and_then(|team| team.as_str());
    let enterprise = payload
        .pointer("/enterprise/id")
        .or_else(|| payload.get("enterprise_id"))
        .and_then(|org| org.as_str());
    let app = payload.get("api_app_id").and_then(|app| app.as_str());
    (team, enterprise, app)
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
            assert_eq!(
                installed.admits(team, None, app),
                admitted,
                "{team:?} {app:?}"
            );
        }
        installed.install(TeamId::new("T2"));
        assert!(installed.admits(Some("T2"), None, Some("A1")));
    }

    #[test]
    fn an_org_wide_install_admits_its_organisation_and_its_teams() {
        let installed = Installations::distributed(Some("A1".into()));
        let me = BotIdentity {
            user_id: crate::ids::UserId::new("UB"),
            bot_id: None,
        };
        installed.install_as(TeamId::new("E1"), true, me);
        assert!(installed.admits(None, Some("E1"), Some("A1")));
        assert!(installed.admits(Some("T5"), Some("E1"), Some("A1")));
        assert!(!installed.admits(None, Some("E2"), Some("A1")));
        assert!(!installed.admits(Some("T5"), None, Some("A1")));
        assert_eq!(
            installed.scope_of(Some("T5"), Some("E1")),
            Some(TeamId::new("E1"))
        );
        assert_eq!(
            installed.scope_of(None, Some("E1")),
            Some(TeamId::new("E1"))
        );
        installed.uninstall(&TeamId::new("E1"));
        assert!(!installed.admits(None, Some("E1"), Some("A1")));
    }

    #[test]
    fn the_scope_is_read_from_either_shape() {
        let interaction = serde_json::json!({"team": {"id": "T1"}, "enterprise": {"id": "E1"}, "api_app_id": "A1"});
        assert_eq!(
            named_scope(&interaction),
            (Some("T1"), Some("E1"), Some("A1"))
        );
        let event = serde_json::json!({"team_id": "T2"});
        assert_eq!(named_scope(&event), (Some("T2"), None, None));
    }
}

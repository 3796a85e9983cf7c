//! Which workspaces and which Slack app this bot serves. A payload signed with our secret
//! (or sent over our Socket Mode connection) can still name another team, for instance when
//! one signing secret is shared by several apps or a payload is replayed from elsewhere;
//! such a payload is answered, so Slack does not retry it, counted, and not processed.
//!
//! Asked as "is this team installed?", not "is this the one team?", so that an OAuth mode
//! serving several workspaces adds teams as they install the app. An org-wide install
//! (Enterprise Grid) is kept under its organisation, and found as Slack's Bolt finds it:
//! the organisation's installation first when the payload says `is_enterprise_install`,
//! else the workspace's. A workspace of the organisation keeps its own data (its settings,
//! hours and check-ins are keyed by its team id) and is served with the organisation's
//! token and bot user; a payload naming no workspace is handled under the organisation.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use crate::ids::TeamId;
use crate::metrics::{Counter, Metrics};
use crate::slack::messages::BotIdentity;

/// The installed teams and this app's id.
#[derive(Debug, Default)]
pub(crate) struct Installations {
    teams: RwLock<HashSet<TeamId>>,
    /// Organisations that installed the app org-wide.
    orgs: RwLock<HashSet<TeamId>>,
    /// Workspaces served by an org-wide install: each workspace's organisation.
    workspaces: RwLock<HashMap<TeamId, TeamId>>,
    /// The bot user of each installation, when it is not the one of `SLACK_BOT_TOKEN`.
    identities: RwLock<HashMap<TeamId, BotIdentity>>,
    /// With one bot token: any organisation's payload is judged by its team and app alone.
    any_org: bool,
    /// `None` when Slack did not say (then payloads are judged by their team alone).
    app_id: Option<String>,
}

impl Installations {
    /// The bot of one workspace (its token's `auth.test`), in app `app_id` when known.
    pub(crate) fn single(team: TeamId, app_id: Option<String>) -> Self {
        Self {
            teams: RwLock::new(HashSet::from([team])),
            any_org: true,
            app_id,
            ..Self::default()
        }
    }

    /// No workspace yet (OAuth): teams are added as they install the app.
    pub(crate) fn distributed(app_id: Option<String>) -> Self {
        Self {
            app_id,
            ..Self::default()
        }
    }

    /// Adds a workspace that installed the app.
    pub(crate) fn install(&self, team: TeamId) {
        self.teams
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(team);
    }

    /// Adds an installation: a workspace, or an organisation for an org-wide install, with
    /// its bot user.
    pub(crate) fn install_as(&self, scope: TeamId, org_wide: bool, identity: BotIdentity) {
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

    /// Serves workspace `team` with the org-wide install of `org`; `false` when it already
    /// was (so callers act only on news).
    pub(crate) fn serve_workspace(&self, team: TeamId, org: TeamId) -> bool {
        let mut workspaces = self.workspaces.write().unwrap_or_else(|p| p.into_inner());
        workspaces.insert(team, org.clone()) != Some(org)
    }

    /// The organisation whose org-wide install serves workspace `team`, if one does.
    pub(crate) fn org_of(&self, team: &TeamId) -> Option<TeamId> {
        self.workspaces
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(team)
            .cloned()
    }

    /// The workspaces served by the org-wide install of `org`.
    pub(crate) fn workspaces_of(&self, org: &TeamId) -> Vec<TeamId> {
        let mut found: Vec<TeamId> = self
            .workspaces
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, of)| *of == org)
            .map(|(team, _)| team.clone())
            .collect();
        found.sort();
        found
    }

    /// Forgets an installation (uninstalled, or its token revoked): a workspace, or an
    /// organisation with the workspaces it served.
    pub(crate) fn uninstall(&self, scope: &TeamId) {
        self.workspaces
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|team, org| team != scope && org != scope);
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

    /// Every workspace served, by its own install or an organisation's, sorted: the teams
    /// whose data, directory and digest the bot keeps.
    pub(crate) fn workspaces(&self) -> Vec<TeamId> {
        let mut all: Vec<TeamId> = self
            .teams
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        all.extend(
            self.workspaces
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .keys()
                .cloned(),
        );
        all.sort();
        all.dedup();
        all
    }

    /// The bot user in `scope`, when it was installed over OAuth (a workspace of an
    /// org-wide install has the organisation's).
    pub(crate) fn identity(&self, scope: &TeamId) -> Option<BotIdentity> {
        let identities = self.identities.read().unwrap_or_else(|p| p.into_inner());
        identities.get(scope).cloned().or_else(|| {
            self.org_of(scope)
                .and_then(|org| identities.get(&org).cloned())
        })
    }

    fn has_team(&self, team: &str) -> bool {
        let team = TeamId::new(team);
        self.teams
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&team)
            || self.org_of(&team).is_some()
    }

    /// Whether organisation `org` installed the app org-wide.
    pub(crate) fn has_org(&self, org: &str) -> bool {
        self.orgs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&TeamId::new(org))
    }

    /// The installation a payload naming `team` and `enterprise` belongs to: the team when
    /// it installed the app, else the organisation when it installed it org-wide, else
    /// whichever it names (in single-token mode, or for a payload to be refused).
    pub(crate) fn scope_of(&self, team: Option<&str>, enterprise: Option<&str>) -> Option<TeamId> {
        match (team, enterprise) {
            (Some(team), _) if self.has_team(team) => Some(TeamId::new(team)),
            (_, Some(org)) if self.has_org(org) => Some(TeamId::new(org)),
            (Some(team), _) => Some(TeamId::new(team)),
            (None, org) => org.map(TeamId::new),
        }
    }

    /// The organisation whose org-wide install serves the workspace a payload names, found
    /// as Bolt finds an installation: the organisation's first when the payload says
    /// `is_enterprise_install`, else the workspace's own (then `None`), else the
    /// organisation it names when that installed the app org-wide. `None` too for a
    /// payload naming no workspace (it is handled under the organisation itself).
    pub(crate) fn serving_org(&self, scope: &PayloadScope) -> Option<(TeamId, TeamId)> {
        let team = TeamId::new(scope.team.as_deref()?);
        let org = scope.enterprise.as_deref().filter(|org| self.has_org(org));
        let own = self
            .teams
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&team);
        match org {
            Some(org) if scope.is_enterprise_install || !own => Some((team, TeamId::new(org))),
            _ => None,
        }
    }

    /// Whether a payload naming `team` and `enterprise` (when it names them) and `app_id`
    /// (if it names one) is for this installation. A payload naming neither team nor
    /// organisation is judged by its app alone.
    pub(crate) fn admits(
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
pub(crate) fn is_foreign(
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

/// Whom a payload is for, as Slack names it: the workspace, the organisation, the app, and
/// whether the app is installed org-wide there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PayloadScope {
    pub(crate) team: Option<String>,
    pub(crate) enterprise: Option<String>,
    pub(crate) app_id: Option<String>,
    pub(crate) is_enterprise_install: bool,
}

impl PayloadScope {
    /// A payload that names only its workspace and app (what slack-morphism keeps of a
    /// Socket Mode command or interaction).
    pub(crate) fn of_team(team: &str, app_id: Option<&str>) -> Self {
        Self {
            team: Some(team.to_string()),
            app_id: app_id.map(str::to_string),
            ..Self::default()
        }
    }

    /// Read from an event envelope or an interaction payload as Bolt reads them: the team
    /// from `team_id`, `team.id` or the member's `user.team_id`; the organisation from
    /// `enterprise_id` or `enterprise.id`; `is_enterprise_install` from the first
    /// authorisation of an event, else the payload's own field.
    pub(crate) fn of_json(payload: &serde_json::Value) -> Self {
        let text = |pointers: &[&str]| {
            pointers
                .iter()
                .find_map(|pointer| payload.pointer(pointer).and_then(|v| v.as_str()))
                .filter(|id| !id.is_empty())
                .map(str::to_string)
        };
        let is_enterprise_install = payload
            .pointer("/authorizations/0/is_enterprise_install")
            .or_else(|| payload.get("is_enterprise_install"))
            .is_some_and(is_true);
        Self {
            team: text(&["/team_id", "/team/id", "/user/team_id"]),
            enterprise: text(&["/enterprise_id", "/enterprise/id"]),
            app_id: text(&["/api_app_id"]),
            is_enterprise_install,
        }
    }

    /// Read from a slash command's form fields (`team_id`, `enterprise_id`, `api_app_id`,
    /// `is_enterprise_install` as the text `true`).
    pub(crate) fn of_form<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut scope = Self::default();
        for (name, value) in fields {
            let value = Some(value.to_string()).filter(|v| !v.is_empty());
            match name {
                "team_id" => scope.team = value,
                "enterprise_id" => scope.enterprise = value,
                "api_app_id" => scope.app_id = value,
                "is_enterprise_install" => {
                    scope.is_enterprise_install = value.as_deref() == Some("true")
                }
                _ => {}
            }
        }
        scope
    }
}

/// Slack sends the flag as a JSON boolean in events and interactions, as text in forms.
fn is_true(value: &serde_json::Value) -> bool {
    value.as_bool() == Some(true) || value.as_str() == Some("true")
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

    fn scope(team: Option<&str>, enterprise: Option<&str>, org_wide: bool) -> PayloadScope {
        PayloadScope {
            team: team.map(str::to_string),
            enterprise: enterprise.map(str::to_string),
            app_id: None,
            is_enterprise_install: org_wide,
        }
    }

    #[test]
    fn a_workspace_is_served_by_its_organisations_install_as_bolt_finds_it() {
        let installed = Installations::distributed(Some("A1".into()));
        let bot = |id: &str| BotIdentity {
            user_id: crate::ids::UserId::new(id),
            bot_id: None,
        };
        installed.install_as(TeamId::new("E1"), true, bot("UORG"));
        installed.install_as(TeamId::new("T9"), false, bot("UT9"));
        let (t5, e1) = (TeamId::new("T5"), TeamId::new("E1"));
        let cases = [
            // The organisation's install first when the payload says so.
            (
                scope(Some("T5"), Some("E1"), true),
                Some((t5.clone(), e1.clone())),
            ),
            (
                scope(Some("T9"), Some("E1"), true),
                Some((TeamId::new("T9"), e1.clone())),
            ),
            // Else the workspace's own install, else the organisation's.
            (scope(Some("T9"), Some("E1"), false), None),
            (
                scope(Some("T5"), Some("E1"), false),
                Some((t5.clone(), e1.clone())),
            ),
            // An organisation that did not install the app, or no workspace named.
            (scope(Some("T5"), Some("E2"), true), None),
            (scope(None, Some("E1"), true), None),
        ];
        for (payload, serving) in cases {
            assert_eq!(installed.serving_org(&payload), serving, "{payload:?}");
        }

        assert!(installed.serve_workspace(t5.clone(), e1.clone()));
        assert!(
            !installed.serve_workspace(t5.clone(), e1.clone()),
            "no news"
        );
        assert_eq!(installed.identity(&t5), Some(bot("UORG")));
        assert!(installed.admits(Some("T5"), None, Some("A1")), "known now");
        assert_eq!(installed.workspaces(), [t5.clone(), TeamId::new("T9")]);
        assert_eq!(installed.workspaces_of(&e1), std::slice::from_ref(&t5));
        installed.uninstall(&e1);
        assert!(installed.identity(&t5).is_none());
        assert!(!installed.admits(Some("T5"), None, Some("A1")));
        assert_eq!(installed.workspaces(), [TeamId::new("T9")]);
    }

    #[test]
    fn the_scope_is_read_from_events_interactions_and_command_forms() {
        let interaction = serde_json::json!({
            "team": null, "user": {"id": "W1", "team_id": "T1"},
            "enterprise": {"id": "E1"}, "api_app_id": "A1", "is_enterprise_install": true
        });
        assert_eq!(
            PayloadScope::of_json(&interaction),
            PayloadScope {
                team: Some("T1".into()),
                enterprise: Some("E1".into()),
                app_id: Some("A1".into()),
                is_enterprise_install: true,
            }
        );
        let event = serde_json::json!({
            "team_id": "T2", "enterprise_id": "E1",
            "authorizations": [{"enterprise_id": "E1", "team_id": null, "is_enterprise_install": true}]
        });
        assert_eq!(
            PayloadScope::of_json(&event),
            scope(Some("T2"), Some("E1"), true)
        );
        let plain = serde_json::json!({"team_id": "T2", "is_enterprise_install": false});
        assert_eq!(
            PayloadScope::of_json(&plain),
            scope(Some("T2"), None, false)
        );
        let form = [
            ("team_id", "T3"),
            ("enterprise_id", "E1"),
            ("is_enterprise_install", "true"),
            ("text", "hours"),
        ];
        assert_eq!(
            PayloadScope::of_form(form),
            scope(Some("T3"), Some("E1"), true)
        );
        let form = [
            ("team_id", "T3"),
            ("enterprise_id", ""),
            ("is_enterprise_install", "false"),
        ];
        assert_eq!(PayloadScope::of_form(form), scope(Some("T3"), None, false));
    }
}

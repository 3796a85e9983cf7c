//! Which installation serves each workspace. Every payload is admitted here (events,
//! slash commands, interactions, on either transport); a workspace first heard of under its
//! organisation's org-wide install is served with the organisation's token from then on,
//! kept in the store so the check-in runner and the digest can reach it after a restart.
//! A workspace new to the bot has its member directory read at once rather than at the
//! next 6-hourly refresh.

use std::sync::Arc;

use tracing::{info, warn};

use super::Bot;
use crate::ids::TeamId;
use crate::slack::installation::{PayloadScope, is_foreign};
use crate::slack::oauth::Installation;
use crate::store::{StoreError, Table};

/// Workspaces served by an org-wide install: the workspace's scope, key [`ORG_KEY`], the
/// organisation's id.
const ORG_WORKSPACES_TABLE: &str = "org_workspaces";
const ORG_KEY: &str = "org";

impl Bot {
    fn org_workspaces(&self) -> Result<Table<TeamId>, StoreError> {
        self.store.table(ORG_WORKSPACES_TABLE)
    }

    /// Whether a payload is for an installation here (when not, it is counted under
    /// `route` and the caller answers without acting on it). A workspace the payload shows
    /// to be served by its organisation's org-wide install is served so from now on.
    pub(crate) fn admit(self: &Arc<Self>, route: &str, scope: &PayloadScope) -> bool {
        if is_foreign(
            &self.installations,
            &self.metrics,
            route,
            scope.team.as_deref(),
            scope.enterprise.as_deref(),
            scope.app_id.as_deref(),
        ) {
            return false;
        }
        if let Some((team, org)) = self.installations.serving_org(scope) {
            self.serve_workspace(team, org);
        }
        true
    }

    /// `team_access_granted`: an organisation's admin added the app to these workspaces.
    /// They are served from now on, so that a payload naming only its workspace (all that
    /// slack-morphism keeps of a Socket Mode one) is served too.
    pub(crate) fn grant_workspaces(self: &Arc<Self>, org: &str, teams: &[String]) {
        if !self.installations.has_org(org) {
            return;
        }
        for team in teams.iter().filter(|team| !team.is_empty()) {
            self.serve_workspace(TeamId::new(team.as_str()), TeamId::new(org));
        }
    }

    /// Serves workspace `team` with `org`'s org-wide install: its token, its bot user. The
    /// workspace's data stays its own. Remembered in the store; its directory is read now.
    pub(crate) fn serve_workspace(self: &Arc<Self>, team: TeamId, org: TeamId) {
        if !self
            .installations
            .serve_workspace(team.clone(), org.clone())
        {
            return;
        }
        self.slack.serve_workspace(&team, &org);
        info!(team = %team, org = %org, "serving a workspace of an org-wide install");
        // Kept with the next flush (the event's, or the store's own within a second); if
        // it is lost, the workspace's next payload records it again.
        if let Err(e) = self
            .org_workspaces()
            .and_then(|table| table.put(&team, ORG_KEY, &org))
        {
            warn!(team = %team, error = %e, "could not record the workspace's organisation");
        }
        self.store.flush_soon();
        self.read_directory_soon(team);
    }

    /// Serves the workspaces of org-wide installs recorded before a restart; their
    /// organisations must be served first. Returns how many.
    pub(crate) fn serve_stored_workspaces(&self) -> Result<usize, StoreError> {
        let mut served = 0;
        for entry in self.org_workspaces()?.scan_all() {
            let (team, _, org) = entry?;
            if self
                .installations
                .serve_workspace(team.clone(), org.clone())
            {
                self.slack.serve_workspace(&team, &org);
                served += 1;
            }
        }
        Ok(served)
    }

    /// Starts serving an installation just made over OAuth, and reads its workspace's
    /// member directory at once (an org-wide install has no workspace yet: each has its
    /// directory read when it is first heard of).
    pub(crate) fn welcome_installation(self: &Arc<Self>, installation: &Installation) {
        self.serve_installation(installation);
        if !installation.is_enterprise_install {
            self.read_directory_soon(installation.scope.clone());
        }
    }

    /// Reads `team`'s member directory in a task of its own.
    fn read_directory_soon(self: &Arc<Self>, team: TeamId) {
        let bot = self.clone();
        tokio::spawn(async move {
            match bot
                .directory
                .load_members(&bot.slack, &team, bot.clock.now())
                .await
            {
                Ok(members) => info!(team = %team, members, "member directory read"),
                Err(e) => {
                    warn!(team = %team, error = %e, "cannot read the member directory yet; members are looked up one by one until the next refresh");
                }
            }
        });
    }
}

//! `async-norms doctor`: checks an installation before (or beside) `serve` and prints one
//! line per check with the fix for what is wrong, so an admin does not have to read logs to
//! learn that a token was revoked, a scope is missing or the data folder is not writable.
//! The checks are pure verdicts over what the edge found (settings, `auth.test`, the
//! store); [`run`] gathers those facts.

use std::fmt;

use crate::config::{RawServeSettings, ServeConfig};
use crate::manifest;
use crate::slack::api::{ApiError, TokenInfo, check_token};
use crate::store::{Store, StoreError};

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Ok,
    /// Works, but worth a look; does not fail the run.
    Note,
    Fail,
}

/// One line of the doctor's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub(crate) verdict: Verdict,
    /// What was checked: `settings`, `token`, `scopes`, `data folder`.
    pub(crate) subject: &'static str,
    pub(crate) finding: String,
    /// What to do about a failure or a note.
    pub(crate) fix: Option<String>,
}

impl Check {
    fn ok(subject: &'static str, finding: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Ok,
            subject,
            finding: finding.into(),
            fix: None,
        }
    }

    fn with(
        verdict: Verdict,
        subject: &'static str,
        finding: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            verdict,
            subject,
            finding: finding.into(),
            fix: Some(fix.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match self.verdict {
            Verdict::Ok => "ok",
            Verdict::Note => "note",
            Verdict::Fail => "FAIL",
        };
        write!(f, "{verdict:<5} {:<12} {}", self.subject, self.finding)?;
        if let Some(fix) = &self.fix {
            write!(f, " — fix: {fix}")?;
        }
        Ok(())
    }
}

/// Runs every check that the settings allow, in order.
pub async fn run(raw: RawServeSettings) -> Vec<Check> {
    let config = match ServeConfig::from_raw(raw) {
        Ok(config) => config,
        Err(error) => {
            return vec![Check::with(
                Verdict::Fail,
                "settings",
                error.to_string(),
                "set it in the environment or as a flag, then run doctor again",
            )];
        }
    };
    let mut checks = vec![Check::ok(
        "settings",
        "every setting is present and well formed",
    )];
    if let Some(token) = &config.bot_token {
        match check_token(&config.api_url, token).await {
            Ok(info) => {
                checks.push(token_check(&info));
                checks.push(scopes_check(
                    info.scopes.as_deref(),
                    &manifest::bot_scopes(),
                ));
            }
            Err(error) => checks.push(token_failure(&error, config.api_url.as_str())),
        }
    }
    let (store, opened) = match Store::open(&config.data_dir) {
        Ok(store) => (Some(store), Ok(())),
        Err(error) => (None, Err(error)),
    };
    checks.push(data_folder_check(
        &config.data_dir.display().to_string(),
        opened,
    ));
    if let (Some(oauth), Some(store)) = (&config.oauth, &store) {
        checks.extend(installation_checks(&config, oauth, store).await);
    }
    checks
}

/// With OAuth: each stored installation's token (`auth.test`) and its granted scopes.
async fn installation_checks(
    config: &ServeConfig,
    oauth: &crate::slack::oauth::OAuthSettings,
    store: &Store,
) -> Vec<Check> {
    let stored = crate::slack::oauth::InstallationStore::open(store, oauth.encryption_key.as_ref())
        .map_err(crate::slack::oauth::InstallationsError::from)
        .and_then(|installations| installations.all());
    let installations = match stored {
        Ok(installations) => installations,
        Err(error) => {
            return vec![Check::with(
                Verdict::Fail,
                "installations",
                error.to_string(),
                "set ASYNC_NORMS_ENCRYPTION_KEY to the key the tokens were stored with",
            )];
        }
    };
    if installations.is_empty() {
        return vec![Check::with(
            Verdict::Note,
            "installations",
            "no workspace has installed the app yet".to_string(),
            format!(
                "start the bot and open {} in a browser",
                oauth
                    .redirect_url
                    .as_str()
                    .replace("/slack/oauth_redirect", "/slack/install")
            ),
        )];
    }
    let mut checks = vec![Check::ok(
        "installations",
        format!(
            "{} workspace(s) or organisation(s) installed the app",
            installations.len()
        ),
    )];
    for installation in &installations {
        match check_token(&config.api_url, &installation.bot_token()).await {
            Ok(info) => {
                checks.push(Check::ok(
                    "token",
                    format!(
                        "the token of {} works: bot @{}",
                        installation.scope, info.user
                    ),
                ));
                checks.push(scopes_check(
                    info.scopes.as_deref(),
                    &manifest::bot_scopes(),
                ));
            }
            Err(ApiError::Refused { code, .. }) => checks.push(Check::with(
                Verdict::Fail,
                "token",
                format!("Slack refused the token of {} ({code})", installation.scope),
                "install the app in that workspace again from /slack/install",
            )),
            Err(error) => checks.push(token_failure(&error, config.api_url.as_str())),
        }
    }
    checks
}

/// Whether any check failed: the command's exit status.
pub fn failed(checks: &[Check]) -> bool {
    checks.iter().any(|check| check.verdict == Verdict::Fail)
}

fn token_check(info: &TokenInfo) -> Check {
    Check::ok(
        "token",
        format!(
            "SLACK_BOT_TOKEN works: bot @{} in workspace {} ({})",
            info.user, info.team, info.team_id
        ),
    )
}

fn token_failure(error: &ApiError, api_url: &str) -> Check {
    match error {
        ApiError::Refused { code, .. } => Check::with(
            Verdict::Fail,
            "token",
            format!("Slack refused SLACK_BOT_TOKEN ({code})"),
            "copy the Bot User OAuth Token (xoxb-…) from your app's \"OAuth & Permissions\" page; reinstall the app if it was uninstalled or the token revoked",
        ),
        other => Check::with(
            Verdict::Fail,
            "token",
            format!("cannot reach Slack at {api_url}: {other}"),
            "check SLACK_API_URL and that this machine reaches it (proxy, firewall, DNS)",
        ),
    }
}

/// Compares the scopes Slack granted the token with those the manifest asks for.
pub(crate) fn scopes_check(granted: Option<&[String]>, wanted: &[&str]) -> Check {
    let Some(granted) = granted else {
        return Check::with(
            Verdict::Note,
            "scopes",
            "Slack did not say which scopes the token has (no x-oauth-scopes header)",
            "compare \"OAuth & Permissions\" → Scopes with manifest.yml by hand",
        );
    };
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|scope| !granted.iter().any(|g| g == scope))
        .collect();
    if missing.is_empty() {
        return Check::ok(
            "scopes",
            format!("all {} scopes of the manifest are granted", wanted.len()),
        );
    }
    Check::with(
        Verdict::Fail,
        "scopes",
        format!("not granted: {}", missing.join(", ")),
        "add them under \"OAuth & Permissions\" → Bot Token Scopes (or update the app from `async-norms manifest`), then reinstall the app to the workspace",
    )
}

/// The data folder opened, or why it did not.
pub(crate) fn data_folder_check(path: &str, opened: Result<(), StoreError>) -> Check {
    match opened {
        Ok(()) => Check::ok("data folder", format!("{path} opens and is writable")),
        Err(StoreError::Locked { .. }) => Check::with(
            Verdict::Note,
            "data folder",
            format!("{path} is held by a running async-norms"),
            "nothing, if that is this bot; otherwise stop the other process (one process per folder)",
        ),
        Err(error) => Check::with(
            Verdict::Fail,
            "data folder",
            error.to_string(),
            "give ASYNC_NORMS_DATA_DIR a folder the bot's user can create and write",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_wanted_scope_granted_passes_and_extra_ones_do_not_matter() {
        let granted = granted(&["chat:write", "users:read", "files:read"]);
        let check = scopes_check(Some(&granted), &["chat:write", "users:read"]);
        assert_eq!(check.verdict, Verdict::Ok, "{check}");
    }

    #[test]
    fn a_missing_scope_fails_and_is_named_with_the_fix() {
        let granted = granted(&["chat:write"]);
        let check = scopes_check(Some(&granted), &["chat:write", "users:read", "commands"]);
        assert_eq!(check.verdict, Verdict::Fail);
        let line = check.to_string();
        assert!(line.contains("not granted: users:read, commands"), "{line}");
        assert!(line.contains("reinstall"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn unknown_scopes_are_a_note_not_a_failure() {
        let check = scopes_check(None, &["chat:write"]);
        assert_eq!(check.verdict, Verdict::Note);
        assert!(!failed(&[check]));
    }

    #[test]
    fn a_locked_folder_is_a_note_and_a_refused_one_a_failure() {
        let locked = data_folder_check(
            "./data",
            Err(StoreError::Locked {
                path: "./data".into(),
            }),
        );
        assert_eq!(locked.verdict, Verdict::Note);
        let refused = data_folder_check(
            "/nope",
            Err(StoreError::Io(std::io::Error::other("Permission denied"))),
        );
        assert_eq!(refused.verdict, Verdict::Fail);
        assert!(refused.to_string().contains("Permission denied"));
    }
}

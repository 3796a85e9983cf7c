//! The Slack app manifest shipped as `manifest.yml`, printed with the request URLs of the
//! operator's host filled in, so installing is one paste.

const MANIFEST: &str = include_str!("../manifest.yml");
/// The host the shipped manifest names in its request URLs.
const PLACEHOLDER_HOST: &str = "https://bot.example.com";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "`{0}` is not a base URL like https://bot.example.com (Slack needs https for request URLs)"
    )]
    BadUrl(String),
}

/// How Slack delivers events, commands and interactions to the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Slack POSTs to the request URLs: the bot needs a public https address.
    Http,
    /// The bot opens a WebSocket (`SLACK_APP_TOKEN`): no request URLs, no public address.
    SocketMode,
}

/// The manifest for `delivery`; with `base_url`, its request URLs point there.
pub fn render(base_url: Option<&str>, delivery: Delivery) -> Result<String, ManifestError> {
    let manifest = match delivery {
        Delivery::Http => MANIFEST.to_string(),
        Delivery::SocketMode => socket_mode(MANIFEST),
    };
    let Some(base_url) = base_url else {
        return Ok(manifest);
    };
    let trimmed = base_url.trim().trim_end_matches('/');
    let parsed = url::Url::parse(trimmed).map_err(|_| ManifestError::BadUrl(base_url.into()))?;
    if !matches!(parsed.scheme(), "https" | "http")
        || !parsed.has_host()
        || parsed.query().is_some()
    {
        return Err(ManifestError::BadUrl(base_url.into()));
    }
    Ok(manifest.replace(PLACEHOLDER_HOST, trimmed))
}

/// The bot scopes the manifest asks for, in its order (`oauth_config.scopes.bot`).
pub(crate) fn bot_scopes() -> Vec<&'static str> {
    let mut lines = MANIFEST.lines().map(str::trim);
    // The shipped file is fixed at build time; its test below keeps this reader honest.
    lines
        .by_ref()
        .find(|line| *line == "scopes:")
        .and_then(|_| lines.find(|line| *line == "bot:"));
    lines
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map_while(|line| line.strip_prefix("- "))
        .map(|item| item.split('#').next().unwrap_or("").trim())
        .collect()
}

/// The manifest with Socket Mode on and the request and OAuth redirect URLs left out: Slack
/// sends nothing to them once Socket Mode is on, and the app can then be created before the
/// bot runs.
fn socket_mode(manifest: &str) -> String {
    let request_url = |line: &str| {
        let line = line.trim_start();
        (line.starts_with("request_url:")
            || line.starts_with("url:")
            || line.starts_with("message_menu_options_url:")
            || line.starts_with("- "))
            && line.contains(&format!("{PLACEHOLDER_HOST}/slack/"))
            || line.starts_with("redirect_urls:")
    };
    manifest
        .lines()
        .filter(|line| !request_url(line))
        .map(|line| match line.trim_start() {
            "socket_mode_enabled: false" => line.replace("false", "true"),
            _ => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_urls_take_the_given_host() {
        let manifest = render(Some("https://norms.acme.dev/"), Delivery::Http).unwrap();
        assert!(manifest.contains("request_url: https://norms.acme.dev/slack/events"));
        assert!(manifest.contains("url: https://norms.acme.dev/slack/commands"));
        assert!(manifest.contains("request_url: https://norms.acme.dev/slack/interactivity"));
        assert!(
            manifest
                .contains("message_menu_options_url: https://norms.acme.dev/slack/interactivity")
        );
        assert!(manifest.contains("- https://norms.acme.dev/slack/oauth_redirect"));
        assert!(!manifest.contains("bot.example.com"));
    }

    #[test]
    fn the_socket_mode_manifest_turns_it_on_and_names_no_request_url() {
        let manifest = render(None, Delivery::SocketMode).unwrap();
        assert!(manifest.contains("\n  socket_mode_enabled: true\n"));
        assert!(!manifest.contains("socket_mode_enabled: false"));
        assert!(!manifest.contains("/slack/"), "{manifest}");
        // Everything else is the HTTP manifest's, line for line.
        let http = render(None, Delivery::Http).unwrap();
        let kept = |text: &str| {
            text.lines()
                .filter(|l| {
                    !l.contains("/slack/")
                        && !l.contains("socket_mode_enabled")
                        && !l.contains("redirect_urls:")
                })
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(kept(&manifest), kept(&http));
    }

    #[test]
    fn the_bot_scopes_are_the_manifests_list() {
        let scopes = bot_scopes();
        assert_eq!(scopes.first(), Some(&"app_mentions:read"));
        assert!(scopes.contains(&"chat:write") && scopes.contains(&"users:read"));
        assert!(
            scopes
                .iter()
                .all(|s| !s.is_empty() && !s.contains([' ', '#']))
        );
    }

    #[test]
    fn a_base_url_that_is_not_one_is_refused() {
        for bad in ["norms.acme.dev", "ftp://x", "https://x?y=1", ""] {
            assert!(render(Some(bad), Delivery::Http).is_err(), "{bad}");
        }
    }
}

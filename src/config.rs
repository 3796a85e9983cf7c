//! Settings for `serve`, read from flags or their environment variables and checked once
//! at start-up, so that a bad setting stops the bot with one line naming it instead of
//! failing later in the middle of a request. Secrets never appear in `Debug` output.

use std::net::SocketAddr;
use std::path::PathBuf;

use url::Url;

pub use crate::secret::Secret;

/// How Slack reaches the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transport {
    /// Slack POSTs to our public URL; every request is signed with this secret.
    Http { signing_secret: Secret },
    /// The bot opens a WebSocket to Slack with an app-level token; no public URL needed.
    /// A signing secret, when given, still guards the HTTP routes.
    SocketMode {
        app_token: Secret,
        signing_secret: Option<Secret>,
    },
}

/// Everything `serve` needs, validated.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// One workspace's bot token; `None` when workspaces install the app over OAuth.
    pub(crate) bot_token: Option<Secret>,
    /// "Add to Slack": workspaces install the app and each gets its own token.
    pub(crate) oauth: Option<crate::slack::oauth::OAuthSettings>,
    pub(crate) transport: Transport,
    pub(crate) api_url: Url,
    pub(crate) listen: SocketAddr,
    pub(crate) data_dir: PathBuf,
    /// The zone of members whose Slack profile has none.
    pub(crate) default_tz: chrono_tz::Tz,
    /// Where `/metrics` is served instead of the public listener, when set.
    pub(crate) admin_listen: Option<SocketAddr>,
    /// How long a client has to send a whole request, headers and body.
    pub(crate) request_deadline: std::time::Duration,
    /// Connections served at once; more wait in the kernel's queue until one closes.
    pub(crate) max_connections: usize,
}

/// The settings as given, before validation (from clap, or built by hand in tests).
#[derive(Debug, Clone, Default)]
pub struct RawServeSettings {
    pub bot_token: Option<String>,
    pub signing_secret: Option<String>,
    pub app_token: Option<String>,
    pub api_url: Option<String>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub default_tz: Option<String>,
    pub admin_listen: Option<String>,
    pub request_deadline: Option<String>,
    pub max_connections: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub redirect_url: Option<String>,
    pub encryption_key: Option<String>,
}

pub(crate) const DEFAULT_API_URL: &str = "https://slack.com/api";
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub(crate) const DEFAULT_TZ: &str = "UTC";
pub(crate) const DEFAULT_REQUEST_DEADLINE_SECS: u64 = 10;
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// A setting that stops start-up. Each message names the variable and its flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "SLACK_BOT_TOKEN (--bot-token) is not set: give the bot token from your app's \"OAuth & Permissions\" page (xoxb-…), or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and ASYNC_NORMS_REDIRECT_URL to let workspaces install the app"
    )]
    MissingBotToken,
    #[error(
        "{0} is not set: distributing the app (\"Add to Slack\") needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET from your app's \"Basic Information\" page and ASYNC_NORMS_REDIRECT_URL, the https://…/slack/oauth_redirect address listed under \"OAuth & Permissions\""
    )]
    MissingOAuth(&'static str),
    #[error(
        "ASYNC_NORMS_REDIRECT_URL (--redirect-url) `{0}` is not an https:// URL ending in /slack/oauth_redirect"
    )]
    BadRedirectUrl(String),
    #[error(
        "ASYNC_NORMS_ENCRYPTION_KEY (--encryption-key) is not 64 hex digits (32 bytes); make one with `openssl rand -hex 32`"
    )]
    BadEncryptionKey,
    #[error("SLACK_BOT_TOKEN (--bot-token) must be a bot token starting with xoxb-")]
    BadBotToken,
    #[error(
        "SLACK_SIGNING_SECRET (--signing-secret) is not set: give the signing secret from your app's \"Basic Information\" page, or set SLACK_APP_TOKEN for Socket Mode"
    )]
    MissingSigningSecret,
    #[error(
        "SLACK_SIGNING_SECRET (--signing-secret) contains spaces or control characters: copy the secret from \"Basic Information\" again"
    )]
    BadSigningSecret,
    #[error("SLACK_APP_TOKEN (--app-token) must be an app-level token starting with xapp-")]
    BadAppToken,
    #[error("SLACK_API_URL (--api-url) `{0}` is not an http:// or https:// URL")]
    BadApiUrl(String),
    #[error("ASYNC_NORMS_LISTEN (--listen) `{0}` is not an address and port like 127.0.0.1:3000")]
    BadListen(String),
    #[error("ASYNC_NORMS_DATA_DIR (--data-dir) is empty: give a folder for the store, e.g. ./data")]
    EmptyDataDir,
    #[error("ASYNC_NORMS_DEFAULT_TZ (--default-tz): {0}")]
    BadDefaultTz(crate::hours::ZoneError),
    #[error(
        "ASYNC_NORMS_ADMIN_LISTEN (--admin-listen) `{0}` is not an address and port like 127.0.0.1:9100"
    )]
    BadAdminListen(String),
    #[error(
        "ASYNC_NORMS_REQUEST_DEADLINE (--request-deadline) `{0}` is not a number of seconds from 1 to 300 (Slack's requests are small; 10 is plenty)"
    )]
    BadRequestDeadline(String),
    #[error(
        "ASYNC_NORMS_MAX_CONNECTIONS (--max-connections) `{0}` is not a whole number from 1 to 1000000"
    )]
    BadMaxConnections(String),
}

fn present(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl ServeConfig {
    /// Checks every setting; the first bad one is the error.
    pub fn from_raw(raw: RawServeSettings) -> Result<Self, ConfigError> {
        let oauth = oauth_settings(&raw)?;
        let bot_token = present(raw.bot_token);
        if bot_token.is_none() && oauth.is_none() {
            return Err(ConfigError::MissingBotToken);
        }
        if bot_token
            .as_ref()
            .is_some_and(|token| !token.starts_with("xoxb-"))
        {
            return Err(ConfigError::BadBotToken);
        }
        let signing_secret = present(raw.signing_secret)
            .map(|secret| {
                if !secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    Ok(Secret::new(secret))
                } else {
                    Err(ConfigError::BadSigningSecret)
                }
            })
            .transpose()?;
        let transport = match present(raw.app_token) {
            Some(token) if token.starts_with("xapp-") => Transport::SocketMode {
                app_token: Secret::new(token),
                signing_secret,
            },
            Some(_) => return Err(ConfigError::BadAppToken),
            None => Transport::Http {
                signing_secret: signing_secret.ok_or(ConfigError::MissingSigningSecret)?,
            },
        };
        let api_url_text = present(raw.api_url).unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let api_url = Url::parse(api_url_text.trim_end_matches('/'))
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or(ConfigError::BadApiUrl(api_url_text))?;
        let listen_text = present(raw.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = listen_text
            .parse()
            .map_err(|_| ConfigError::BadListen(listen_text))?;
        let data_dir = raw
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::EmptyDataDir);
        }
        let tz_text = present(raw.default_tz).unwrap_or_else(|| DEFAULT_TZ.to_string());
        let default_tz = crate::hours::parse_zone(&tz_text).map_err(ConfigError::BadDefaultTz)?;
        let admin_listen = present(raw.admin_listen)
            .map(|text| text.parse().map_err(|_| ConfigError::BadAdminListen(text)))
            .transpose()?;
        let request_deadline = match present(raw.request_deadline) {
            None => std::time::Duration::from_secs(DEFAULT_REQUEST_DEADLINE_SECS),
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|secs| (0.001..=300.0).contains(secs))
                .map(std::time::Duration::from_secs_f64)
                .ok_or(ConfigError::BadRequestDeadline(text))?,
        };
        let max_connections = match present(raw.max_connections) {
            None => DEFAULT_MAX_CONNECTIONS,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or(ConfigError::BadMaxConnections(text))?,
        };
        Ok(Self {
            bot_token: bot_token.map(Secret::new),
            oauth,
            transport,
            api_url,
            listen,
            data_dir,
            default_tz,
            admin_listen,
            request_deadline,
            max_connections,
        })
    }

    /// The signing secret that guards the HTTP routes, if any.
    pub(crate) fn signing_secret(&self) -> Option<&Secret> {
        match &self.transport {
            Transport::Http { signing_secret } => Some(signing_secret),
            Transport::SocketMode { signing_secret, .. } => signing_secret.as_ref(),
        }
    }
}

/// The OAuth settings, when any is given: all of client id, secret and redirect URL.
fn oauth_settings(
    raw: &RawServeSettings,
) -> Result<Option<crate::slack::oauth::OAuthSettings>, ConfigError> {
    let client_id = present(raw.client_id.clone());
    let client_secret = present(raw.client_secret.clone());
    let redirect_url = present(raw.redirect_url.clone());
    let encryption_key = present(raw.encryption_key.clone())
        .map(|text| crate::slack::oauth::parse_key(&text).ok_or(ConfigError::BadEncryptionKey))
        .transpose()?;
    if client_id.is_none() && client_secret.is_none() && redirect_url.is_none() {
        return Ok(None);
    }
    let client_id = client_id.ok_or(ConfigError::MissingOAuth("SLACK_CLIENT_ID (--client-id)"))?;
    let client_secret = client_secret.ok_or(ConfigError::MissingOAuth(
        "SLACK_CLIENT_SECRET (--client-secret)",
    ))?;
    let redirect_text = redirect_url.ok_or(ConfigError::MissingOAuth(
        "ASYNC_NORMS_REDIRECT_URL (--redirect-url)",
    ))?;
    let redirect_url = Url::parse(&redirect_text)
        .ok()
        .filter(|url| {
            url.scheme() == "https"
                && url.has_host()
                && url.path().ends_with("/slack/oauth_redirect")
        })
        .ok_or(ConfigError::BadRedirectUrl(redirect_text))?;
    Ok(Some(crate::slack::oauth::OAuthSettings {
        client_id,
        client_secret: Secret::new(client_secret),
        redirect_url,
        encryption_key,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> RawServeSettings {
        RawServeSettings {
            bot_token: Some("xoxb-1-2-abc".into()),
            signing_secret: Some("8f742231b10e8888abcd99yyyzzz85a5".into()),
            ..Default::default()
        }
    }

    #[test]
    fn oauth_needs_its_three_settings_and_then_no_bot_token() {
        let oauth = RawServeSettings {
            bot_token: None,
            client_id: Some("1.2".into()),
            client_secret: Some("s".into()),
            redirect_url: Some("https://bot.example.com/slack/oauth_redirect".into()),
            encryption_key: Some("ab".repeat(32)),
            ..valid()
        };
        let config = ServeConfig::from_raw(oauth.clone()).unwrap();
        assert!(config.bot_token.is_none());
        assert_eq!(config.oauth.unwrap().encryption_key, Some([0xab; 32]));
        let cases = [
            (
                RawServeSettings {
                    client_secret: None,
                    ..oauth.clone()
                },
                ConfigError::MissingOAuth("SLACK_CLIENT_SECRET (--client-secret)"),
            ),
            (
                RawServeSettings {
                    redirect_url: Some("http://bot.example.com/slack/oauth_redirect".into()),
                    ..oauth.clone()
                },
                ConfigError::BadRedirectUrl("http://bot.example.com/slack/oauth_redirect".into()),
            ),
            (
                RawServeSettings {
                    encryption_key: Some("short".into()),
                    ..oauth.clone()
                },
                ConfigError::BadEncryptionKey,
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(ServeConfig::from_raw(raw).unwrap_err(), expected);
        }
    }

    #[test]
    fn defaults_fill_what_is_not_given() {
        let config = ServeConfig::from_raw(valid()).unwrap();
        assert_eq!(config.api_url.as_str(), "https://slack.com/api");
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert!(matches!(config.transport, Transport::Http { .. }));
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases: Vec<(RawServeSettings, ConfigError)> = vec![
            (
                RawServeSettings {
                    bot_token: None,
                    ..valid()
                },
                ConfigError::MissingBotToken,
            ),
            (
                RawServeSettings {
                    bot_token: Some("xoxp-user".into()),
                    ..valid()
                },
                ConfigError::BadBotToken,
            ),
            (
                RawServeSettings {
                    signing_secret: None,
                    ..valid()
                },
                ConfigError::MissingSigningSecret,
            ),
            (
                RawServeSettings {
                    signing_secret: Some("not hex!".into()),
                    ..valid()
                },
                ConfigError::BadSigningSecret,
            ),
            (
                RawServeSettings {
                    app_token: Some("xoxb-wrong".into()),
                    ..valid()
                },
                ConfigError::BadAppToken,
            ),
            (
                RawServeSettings {
                    api_url: Some("ftp://x".into()),
                    ..valid()
                },
                ConfigError::BadApiUrl("ftp://x".into()),
            ),
            (
                RawServeSettings {
                    listen: Some("localhost".into()),
                    ..valid()
                },
                ConfigError::BadListen("localhost".into()),
            ),
            (
                RawServeSettings {
                    admin_listen: Some("9100".into()),
                    ..valid()
                },
                ConfigError::BadAdminListen("9100".into()),
            ),
            (
                RawServeSettings {
                    request_deadline: Some("0".into()),
                    ..valid()
                },
                ConfigError::BadRequestDeadline("0".into()),
            ),
            (
                RawServeSettings {
                    max_connections: Some("many".into()),
                    ..valid()
                },
                ConfigError::BadMaxConnections("many".into()),
            ),
        ];
        for (raw, expected) in cases {
            let err = ServeConfig::from_raw(raw).unwrap_err();
            assert_eq!(err, expected);
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn an_app_token_selects_socket_mode_without_a_signing_secret() {
        let raw = RawServeSettings {
            app_token: Some("xapp-1-A-1-abc".into()),
            signing_secret: None,
            ..valid()
        };
        let config = ServeConfig::from_raw(raw).unwrap();
        assert!(matches!(config.transport, Transport::SocketMode { .. }));
        assert!(config.signing_secret().is_none());
    }

    #[test]
    fn an_http_api_url_is_accepted_and_trailing_slash_dropped() {
        let raw = RawServeSettings {
            api_url: Some("http://127.0.0.1:9/api/".into()),
            ..valid()
        };
        let config = ServeConfig::from_raw(raw).unwrap();
        assert_eq!(config.api_url.as_str(), "http://127.0.0.1:9/api");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let config = ServeConfig::from_raw(valid()).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("xoxb-1-2-abc"));
        assert!(!debug.contains("8f742231"));
    }
}

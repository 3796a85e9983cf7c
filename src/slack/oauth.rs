//! Distribution over OAuth v2: the "Add to Slack" page (`GET /slack/install`), the redirect
//! Slack sends the installer back to (`GET /slack/oauth_redirect`), and the installations
//! kept in the store, one bot token per workspace (or per organisation for an org-wide
//! install), sealed with ChaCha20-Poly1305 when `ASYNC_NORMS_ENCRYPTION_KEY` is set.
//!
//! The `state` of an install link is `nonce.expires.signature` (HMAC-SHA256 with the
//! client secret): a forged one fails the signature, an old one its expiry, and a used one
//! is refused because its nonce is taken out of the store on first use.

use std::collections::HashMap;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{KeyInit as _, Mac};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::ids::TeamId;
use crate::norms::markup::escape_html;
use crate::secret::Secret;
use crate::store::{
    INSTALLATIONS_TABLE, OAUTH_STATES_TABLE as STATES_TABLE, Store, StoreError, Table,
};

/// How long an install link stays good.
pub(crate) const STATE_LIFETIME_SECS: i64 = 10 * 60;
/// Where Slack asks the installer to approve the app.
const AUTHORIZE_URL: &str = "https://slack.com/oauth/v2/authorize";
/// The record key of a team's installation within its scope.
const BOT_KEY: &str = "bot";

/// What an admin gives to distribute the app: from "Basic Information" and the redirect
/// URL listed under "OAuth & Permissions".
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_url: Url,
    /// The 32-byte key that seals stored tokens, when set.
    pub encryption_key: Option<[u8; 32]>,
}

/// Why a `state` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateError {
    #[error("the link carries no state, or one this bot did not make")]
    Forged,
    #[error("the install link is older than 10 minutes")]
    Expired,
    #[error("the install link was used already")]
    Used,
}

fn state_signature(secret: &Secret, nonce: &str, expires: i64) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("{nonce}.{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A signed state for `nonce`, good until `expires` (Unix seconds).
pub(crate) fn sign_state(secret: &Secret, nonce: &str, expires: i64) -> String {
    format!(
        "{nonce}.{expires}.{}",
        state_signature(secret, nonce, expires)
    )
}

/// The nonce of a state this bot signed and that is still good at `now`.
pub(crate) fn check_state(secret: &Secret, state: &str, now: i64) -> Result<String, StateError> {
    let mut parts = state.split('.');
    let (Some(nonce), Some(expires), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(StateError::Forged);
    };
    let expires: i64 = expires.parse().map_err(|_| StateError::Forged)?;
    let expected = state_signature(secret, nonce, expires);
    if nonce.is_empty()
        || !bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            signature.as_bytes(),
        ))
    {
        return Err(StateError::Forged);
    }
    if now > expires {
        return Err(StateError::Expired);
    }
    Ok(nonce.to_string())
}

/// The "Add to Slack" link for `state`.
pub(crate) fn authorize_url(settings: &OAuthSettings, scopes: &[String], state: &str) -> Url {
    let mut url = Url::parse(AUTHORIZE_URL).expect("a constant URL");
    url.query_pairs_mut()
        .append_pair("client_id", &settings.client_id)
        .append_pair("scope", &scopes.join(","))
        .append_pair("redirect_uri", settings.redirect_url.as_str())
        .append_pair("state", state);
    url
}

/// One workspace's (or organisation's) installation of the app.
#[derive(Clone, Serialize, Deserialize)]
pub struct Installation {
    /// The team, or the organisation of an org-wide install: what tokens are found by.
    pub scope: TeamId,
    pub team_name: Option<String>,
    pub enterprise_id: Option<String>,
    pub is_enterprise_install: bool,
    pub app_id: Option<String>,
    pub bot_user_id: String,
    pub scopes: Vec<String>,
    /// The bot's id (`auth.test`), to know its own messages.
    #[serde(default)]
    pub bot_id: Option<String>,
    bot_token: String,
    pub installed_at: i64,
}

impl std::fmt::Debug for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installation")
            .field("scope", &self.scope)
            .field("enterprise_id", &self.enterprise_id)
            .field("is_enterprise_install", &self.is_enterprise_install)
            .field("bot_user_id", &self.bot_user_id)
            .finish_non_exhaustive()
    }
}

impl Installation {
    pub fn bot_token(&self) -> Secret {
        Secret::new(self.bot_token.clone())
    }
}

/// What `oauth.v2.access` answers. Read by hand: slack-morphism's type wants a `team`,
/// which an org-wide install does not have.
#[derive(Debug, Deserialize)]
struct AccessAnswer {
    ok: bool,
    error: Option<String>,
    access_token: Option<String>,
    scope: Option<String>,
    bot_user_id: Option<String>,
    app_id: Option<String>,
    team: Option<Named>,
    enterprise: Option<Named>,
    #[serde(default)]
    is_enterprise_install: bool,
}

#[derive(Debug, Deserialize)]
struct Named {
    id: String,
    name: Option<String>,
}

/// Reads an `oauth.v2.access` answer into the installation it grants.
pub(crate) fn installation_from(
    answer: &serde_json::Value,
    now: i64,
) -> Result<Installation, String> {
    let answer: AccessAnswer = AccessAnswer::deserialize(answer)
        .map_err(|e| format!("an answer Slack never gives: {e}"))?;
    if !answer.ok {
        return Err(answer.error.unwrap_or_else(|| "unknown_error".into()));
    }
    let token = answer
        .access_token
        .filter(|token| token.starts_with("xoxb-"))
        .ok_or("no bot token in the answer (is a bot scope requested?)")?;
    let scope = match (
        &answer.team,
        &answer.enterprise,
        answer.is_enterprise_install,
    ) {
        (_, Some(org), true) => org.id.clone(),
        (Some(team), _, _) => team.id.clone(),
        _ => return Err("the answer names neither a team nor an organisation".into()),
    };
    Ok(Installation {
        scope: TeamId::new(scope),
        team_name: answer
            .team
            .and_then(|team| team.name)
            .or(answer.enterprise.as_ref().and_then(|org| org.name.clone())),
        enterprise_id: answer.enterprise.map(|org| org.id),
        is_enterprise_install: answer.is_enterprise_install,
        app_id: answer.app_id,
        bot_user_id: answer.bot_user_id.unwrap_or_default(),
        scopes: answer
            .scope
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        bot_id: None,
        bot_token: token,
        installed_at: now,
    })
}

/// An installation as stored: sealed with the encryption key, or plain without one.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stored {
    /// Hex of nonce (12 bytes) and ciphertext; the scope is the associated data, so a
    /// record copied under another team does not open.
    Sealed(String),
    Plain(Installation),
}

/// Why stored installations could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InstallationsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the installation of {0} is encrypted: set ASYNC_NORMS_ENCRYPTION_KEY to the key it was stored with"
    )]
    NeedsKey(String),
    #[error(
        "the installation of {0} does not open with ASYNC_NORMS_ENCRYPTION_KEY: it is not the key it was stored with"
    )]
    WrongKey(String),
}

/// The installations table, and the states of install links handed out.
#[derive(Clone)]
pub struct InstallationStore {
    installations: Table<Stored>,
    states: Table<i64>,
    cipher: Option<ChaCha20Poly1305>,
}

impl InstallationStore {
    pub fn open(store: &Store, key: Option<&[u8; 32]>) -> Result<Self, StoreError> {
        Ok(Self {
            installations: store.table(INSTALLATIONS_TABLE)?,
            states: store.table(STATES_TABLE)?,
            cipher: key.map(|key| ChaCha20Poly1305::new(Key::from_slice(key))),
        })
    }

    pub fn save(&self, installation: &Installation) -> Result<(), StoreError> {
        let stored = match &self.cipher {
            Some(cipher) => {
                let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
                let plain =
                    serde_json::to_vec(installation).map_err(|source| StoreError::Encode {
                        table: INSTALLATIONS_TABLE,
                        source,
                    })?;
                let sealed = cipher
                    .encrypt(
                        &nonce,
                        Payload {
                            msg: &plain,
                            aad: installation.scope.as_str().as_bytes(),
                        },
                    )
                    .expect("sealing a small record cannot fail");
                Stored::Sealed(hex::encode([nonce.as_slice(), &sealed].concat()))
            }
            None => Stored::Plain(installation.clone()),
        };
        self.installations
            .put(&installation.scope, BOT_KEY, &stored)
    }

    fn open_record(
        &self,
        scope: &TeamId,
        stored: Stored,
    ) -> Result<Installation, InstallationsError> {
        match stored {
            Stored::Plain(installation) => Ok(installation),
            Stored::Sealed(hex_text) => {
                let cipher = self
                    .cipher
                    .as_ref()
                    .ok_or_else(|| InstallationsError::NeedsKey(scope.to_string()))?;
                let wrong = || InstallationsError::WrongKey(scope.to_string());
                let bytes = hex::decode(hex_text).map_err(|_| wrong())?;
                if bytes.len() < 12 {
                    return Err(wrong());
                }
                let (nonce, sealed) = bytes.split_at(12);
                let plain = cipher
                    .decrypt(
                        Nonce::from_slice(nonce),
                        Payload {
                            msg: sealed,
                            aad: scope.as_str().as_bytes(),
                        },
                    )
                    .map_err(|_| wrong())?;
                serde_json::from_slice(&plain).map_err(|_| wrong())
            }
        }
    }

    /// One stored installation (the bot reads them all at start).
    #[cfg(test)]
    pub fn get(&self, scope: &TeamId) -> Result<Option<Installation>, InstallationsError> {
        self.installations
            .get(scope, BOT_KEY)?
            .map(|stored| self.open_record(scope, stored))
            .transpose()
    }

    /// Every stored installation.
    pub fn all(&self) -> Result<Vec<Installation>, InstallationsError> {
        let mut found = Vec::new();
        for entry in self.installations.scan_all() {
            let (scope, _, stored) = entry?;
            found.push(self.open_record(&scope, stored)?);
        }
        Ok(found)
    }

    /// A new install link's state, remembered until used or expired.
    pub(crate) fn issue_state(&self, secret: &Secret, now: i64) -> Result<String, StoreError> {
        let mut nonce = [0u8; 16];
        chacha20poly1305::aead::rand_core::RngCore::fill_bytes(&mut OsRng, &mut nonce);
        let nonce = hex::encode(nonce);
        let expires = now + STATE_LIFETIME_SECS;
        // Links nobody followed are forgotten as new ones are made.
        for entry in self.states.scan(&states_scope(), "")? {
            if entry.1 < now {
                self.states.remove(&states_scope(), &entry.0)?;
            }
        }
        self.states.put(&states_scope(), &nonce, &expires)?;
        Ok(sign_state(secret, &nonce, expires))
    }

    /// Takes a state back: good once, then never again.
    pub(crate) fn redeem_state(
        &self,
        secret: &Secret,
        state: &str,
        now: i64,
    ) -> Result<Result<(), StateError>, StoreError> {
        let nonce = match check_state(secret, state, now) {
            Ok(nonce) => nonce,
            Err(refused) => return Ok(Err(refused)),
        };
        Ok(if self.states.remove(&states_scope(), &nonce)? {
            Ok(())
        } else {
            Err(StateError::Used)
        })
    }
}

/// Install links are not any team's: they live under a scope no Slack id can take.
fn states_scope() -> TeamId {
    TeamId::new("~oauth")
}

/// Reads `ASYNC_NORMS_ENCRYPTION_KEY`: 64 hex digits (32 bytes).
pub fn parse_key(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim()).ok()?.try_into().ok()
}

/// What an OAuth redirect or install page answers: a status and a small HTML page.
pub(crate) struct Page {
    pub status: http::StatusCode,
    pub html: String,
}

fn page(status: http::StatusCode, title: &str, body: &str) -> Page {
    Page {
        status,
        html: format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1>\n<p>{body}</p></body></html>\n"
        ),
    }
}

/// Distribution: the install page and the redirect, with the installations they keep.
pub struct Distribution {
    pub settings: OAuthSettings,
    pub installations: InstallationStore,
    pub api_url: Url,
}

impl Distribution {
    /// `GET /slack/install`: an "Add to Slack" link with a fresh state.
    pub(crate) fn install_page(&self, now: i64) -> Page {
        let scopes: Vec<String> = crate::manifest::bot_scopes()
            .into_iter()
            .map(str::to_string)
            .collect();
        match self
            .installations
            .issue_state(&self.settings.client_secret, now)
        {
            Ok(state) => {
                let link = authorize_url(&self.settings, &scopes, &state);
                page(
                    http::StatusCode::OK,
                    "Install async-norms",
                    &format!(
                        "<a href=\"{}\">Add to Slack</a> (the link is good for 10 minutes, once).",
                        escape_html(link.as_str())
                    ),
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not keep an install link's state");
                page(
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "Try again in a moment",
                    "The bot cannot store the install link right now.",
                )
            }
        }
    }

    /// `GET /slack/oauth_redirect?code=…&state=…`: checks the state, exchanges the code
    /// with `oauth.v2.access`, learns the bot's id, and stores the installation.
    pub(crate) async fn redirect(&self, query: &str, now: i64) -> Result<Installation, Page> {
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let again = "start again from <a href=\"/slack/install\">the install page</a>.";
        let refused = |why: &str| {
            page(
                http::StatusCode::BAD_REQUEST,
                "Not installed",
                &format!("{why}: {again}"),
            )
        };
        let state = params.get("state").map(String::as_str).unwrap_or("");
        match self
            .installations
            .redeem_state(&self.settings.client_secret, state, now)
        {
            Ok(Ok(())) => {}
            Ok(Err(why)) => return Err(refused(&why.to_string())),
            Err(e) => {
                tracing::warn!(error = %e, "could not check an install link's state");
                return Err(page(
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "Try again in a moment",
                    "The bot cannot read its store right now.",
                ));
            }
        }
        if let Some(error) = params.get("error") {
            return Err(refused(&format!(
                "the installation was cancelled on Slack's page ({})",
                escape_html(error)
            )));
        }
        let Some(code) = params.get("code").filter(|code| !code.is_empty()) else {
            return Err(refused("Slack sent no code"));
        };
        let form = [
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", self.settings.client_secret.expose()),
            ("code", code.as_str()),
            ("redirect_uri", self.settings.redirect_url.as_str()),
        ];
        let answer =
            match crate::slack::api::post_form(&self.api_url, "oauth.v2.access", None, &form).await
            {
                Ok((_, answer)) => answer,
                Err(e) => {
                    tracing::warn!(error = %e, "oauth.v2.access failed");
                    return Err(page(
                        http::StatusCode::BAD_GATEWAY,
                        "Slack could not be reached",
                        &format!("The installation was not finished; {again}"),
                    ));
                }
            };
        let mut installation = installation_from(&answer, now).map_err(|why| {
            refused(&format!(
                "Slack did not accept the installation ({})",
                escape_html(&why)
            ))
        })?;
        // The bot's own id (to know its messages) comes with auth.test, not the exchange.
        installation.bot_id = match crate::slack::api::check_token(
            &self.api_url,
            &installation.bot_token(),
        )
        .await
        {
            Ok(info) => info.bot_id,
            Err(e) => {
                tracing::warn!(error = %e, scope = %installation.scope, "auth.test of a new installation failed");
                None
            }
        };
        if let Err(e) = self.installations.save(&installation) {
            tracing::warn!(error = %e, "could not store an installation");
            return Err(page(
                http::StatusCode::SERVICE_UNAVAILABLE,
                "Try again in a moment",
                &format!("The bot cannot store the installation right now; {again}"),
            ));
        }
        Ok(installation)
    }
}

/// The page shown once an installation is stored.
pub(crate) fn installed_page(installation: &Installation) -> Page {
    let name = installation
        .team_name
        .clone()
        .unwrap_or_else(|| installation.scope.to_string());
    page(
        http::StatusCode::OK,
        "async-norms is installed",
        &format!(
            "async-norms is installed in {}. Type <code>/async help</code> in Slack to start.",
            escape_html(&name)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "client-secret";

    #[test]
    fn a_state_is_good_once_signed_and_until_it_expires() {
        let secret = Secret::new(SECRET);
        let state = sign_state(&secret, "abc", 1_000);
        assert_eq!(check_state(&secret, &state, 999).as_deref(), Ok("abc"));
        assert_eq!(check_state(&secret, &state, 1_000).as_deref(), Ok("abc"));
        assert_eq!(
            check_state(&secret, &state, 1_001),
            Err(StateError::Expired)
        );
        let other = Secret::new("another-secret");
        assert_eq!(check_state(&other, &state, 999), Err(StateError::Forged));
        let moved = state.replace(".1000.", ".9999.");
        assert_eq!(check_state(&secret, &moved, 999), Err(StateError::Forged));
        for junk in ["", "abc", "a.b.c", "a.1.b.c", &format!("x{state}")] {
            assert_eq!(
                check_state(&secret, junk, 0),
                Err(StateError::Forged),
                "{junk}"
            );
        }
    }

    #[test]
    fn an_org_wide_install_is_kept_under_its_organisation() {
        let answer = serde_json::json!({
            "ok": true, "access_token": "xoxb-org", "token_type": "bot", "scope": "chat:write,commands",
            "bot_user_id": "UB", "app_id": "A1", "team": null,
            "enterprise": {"id": "E1", "name": "Org"}, "is_enterprise_install": true,
            "authed_user": {"id": "U1"}
        });
        let installed = installation_from(&answer, 5).expect("read");
        assert_eq!(installed.scope.as_str(), "E1");
        assert!(installed.is_enterprise_install);
        assert_eq!(installed.scopes, ["chat:write", "commands"]);
        let refused = serde_json::json!({"ok": false, "error": "invalid_code"});
        assert_eq!(installation_from(&refused, 5).unwrap_err(), "invalid_code");
        let user_token =
            serde_json::json!({"ok": true, "access_token": "xoxp-1", "team": {"id": "T1"}});
        assert!(installation_from(&user_token, 5).is_err());
    }

    #[test]
    fn sealed_tokens_open_only_with_their_key_and_their_team() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path()).expect("store");
        let key = [7u8; 32];
        let sealed = InstallationStore::open(&store, Some(&key)).expect("open");
        let answer = serde_json::json!({
            "ok": true, "access_token": "xoxb-secret-token", "scope": "chat:write",
            "bot_user_id": "UB", "app_id": "A1", "team": {"id": "T1", "name": "One"}
        });
        let installed = installation_from(&answer, 5).expect("read");
        sealed.save(&installed).expect("save");
        let raw = store
            .table::<serde_json::Value>(INSTALLATIONS_TABLE)
            .expect("raw");
        let on_disk = raw
            .get(&TeamId::new("T1"), BOT_KEY)
            .expect("get")
            .expect("there");
        assert!(
            !on_disk.to_string().contains("xoxb-secret-token"),
            "{on_disk}"
        );
        let back = sealed
            .get(&TeamId::new("T1"))
            .expect("opens")
            .expect("there");
        assert_eq!(back.bot_token().expose(), "xoxb-secret-token");
        let no_key = InstallationStore::open(&store, None).expect("open");
        assert!(matches!(no_key.all(), Err(InstallationsError::NeedsKey(_))));
        let wrong = InstallationStore::open(&store, Some(&[8u8; 32])).expect("open");
        assert!(matches!(wrong.all(), Err(InstallationsError::WrongKey(_))));
        // Copied under another team, the record does not open.
        raw.put(&TeamId::new("T2"), BOT_KEY, &on_disk)
            .expect("copy");
        assert!(matches!(
            sealed.get(&TeamId::new("T2")),
            Err(InstallationsError::WrongKey(_))
        ));
    }

    #[test]
    fn a_state_is_redeemed_once() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path()).expect("store");
        let states = InstallationStore::open(&store, None).expect("open");
        let secret = Secret::new(SECRET);
        let state = states.issue_state(&secret, 100).expect("issue");
        assert_eq!(
            states.redeem_state(&secret, &state, 101).expect("io"),
            Ok(())
        );
        assert_eq!(
            states.redeem_state(&secret, &state, 102).expect("io"),
            Err(StateError::Used)
        );
        let late = states.issue_state(&secret, 100).expect("issue");
        assert_eq!(
            states
                .redeem_state(&secret, &late, 100 + STATE_LIFETIME_SECS + 1)
                .expect("io"),
            Err(StateError::Expired)
        );
    }
}

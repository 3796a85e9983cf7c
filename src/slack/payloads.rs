//! Reading what Slack sends: event callbacks, slash command forms and interactivity forms,
//! into typed values. One function per payload kind, used by both transports and checked
//! against every real payload in Slack's own SDK test suites.

use serde::Deserialize;
use slack_morphism::prelude::*;

use super::installation::PayloadScope;
use crate::ids::TeamId;
use crate::slack::messages::MessageEvent;

#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is not an Events API envelope: {0}")]
    NotAnEnvelope(String),
    #[error("the event callback has neither team_id nor enterprise_id")]
    NoTeam,
    #[error("the event does not read: {0}")]
    Event(String),
    #[error("not a slash command form: {0}")]
    Command(String),
    #[error("an interaction is a form with a `payload` field holding JSON: {0}")]
    Interaction(String),
}

/// Just enough of an Events API body to decide what to do with it, read before anything
/// is stored.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub kind: String,
    pub challenge: Option<String>,
    pub(crate) team_id: Option<String>,
    /// Org-wide installs send some events (`tokens_revoked`, `team_access_granted`) for
    /// the whole organisation, with no team.
    pub(crate) enterprise_id: Option<String>,
    pub(crate) api_app_id: Option<String>,
    pub event_id: Option<String>,
    pub(crate) event: Option<EventHead>,
    /// Which installation the event is sent to: the first says whether it is org-wide.
    #[serde(default)]
    pub(crate) authorizations: Option<Vec<AuthorizationHead>>,
    pub(crate) is_enterprise_install: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AuthorizationHead {
    pub(crate) is_enterprise_install: Option<bool>,
}

impl Envelope {
    /// The scope the event belongs to: its team, or its organisation when it has none.
    pub fn scope(&self) -> Option<&str> {
        self.team_id.as_deref().or(self.enterprise_id.as_deref())
    }

    /// Whom the event is for (see [`PayloadScope::of_json`]: the same reading, from the
    /// envelope's fields).
    pub(crate) fn payload_scope(&self) -> PayloadScope {
        let first_authorization = self
            .authorizations
            .as_ref()
            .and_then(|all| all.first())
            .and_then(|first| first.is_enterprise_install);
        PayloadScope {
            team: self.team_id.clone().filter(|id| !id.is_empty()),
            enterprise: self.enterprise_id.clone().filter(|id| !id.is_empty()),
            app_id: self.api_app_id.clone(),
            is_enterprise_install: first_authorization
                .or(self.is_enterprise_install)
                .unwrap_or(false),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct EventHead {
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    /// `team_access_granted`: the workspaces an org-wide install may now serve.
    pub(crate) team_ids: Option<Vec<String>>,
}

/// Reads the envelope of an Events API body.
pub fn read_envelope(body: &[u8]) -> Result<Envelope, PayloadError> {
    serde_json::from_slice(body).map_err(|e| PayloadError::NotAnEnvelope(e.to_string()))
}

/// One `event_callback`, read.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    pub team: TeamId,
    pub body: EventBody,
}

#[derive(Debug, Clone)]
pub enum EventBody {
    /// `message` events, read with the bot's own lenient model.
    Message(Box<MessageEvent>),
    /// Everything else, read with slack-morphism's models (unknown types as `Unknown`).
    Other(Box<SlackEventCallbackBody>),
}

/// Reads an `event_callback` body.
pub fn read_event_callback(raw: &[u8]) -> Result<IncomingEvent, PayloadError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| PayloadError::NotJson(e.to_string()))?;
    let team = ["team_id", "enterprise_id"]
        .iter()
        .find_map(|field| value.get(*field).and_then(|t| t.as_str()))
        .map(TeamId::new)
        .ok_or(PayloadError::NoTeam)?;
    let mut event = value
        .get_mut("event")
        .map(serde_json::Value::take)
        .ok_or_else(|| PayloadError::Event("no `event`".into()))?;
    let body = if event["type"] == "message" {
        EventBody::Message(
            serde_json::from_value(event).map_err(|e| PayloadError::Event(e.to_string()))?,
        )
    } else {
        // Read the event alone: the envelope's `authorizations` (null teams in org-wide
        // installs) must not make a real event unreadable.
        if !event.is_object() {
            event = serde_json::json!({ "type": "unknown" });
        }
        EventBody::Other(
            serde_json::from_value(event).map_err(|e| PayloadError::Event(e.to_string()))?,
        )
    };
    Ok(IncomingEvent { team, body })
}

/// Reads a slash command form body.
pub fn read_command(body: &[u8]) -> Result<SlackCommandEvent, PayloadError> {
    serde_urlencoded::from_bytes(body).map_err(|e| PayloadError::Command(e.to_string()))
}

/// Reads a slash command form body and whom it is for: slack-morphism's command type has
/// no `enterprise_id` nor `is_enterprise_install`, so they are read from the same form.
pub(crate) fn read_command_scoped(
    body: &[u8],
) -> Result<(SlackCommandEvent, PayloadScope), PayloadError> {
    let command = read_command(body)?;
    let fields: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|e| PayloadError::Command(e.to_string()))?;
    let scope = PayloadScope::of_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Ok((command, scope))
}

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

/// Reads an interactivity form body (`payload=<json>`).
pub fn read_interaction(body: &[u8]) -> Result<SlackInteractionEvent, PayloadError> {
    read_interaction_scoped(body).map(|(interaction, _)| interaction)
}

/// Reads an interactivity form body and whom it is for (`enterprise`,
/// `is_enterprise_install`, which slack-morphism's types leave out).
pub(crate) fn read_interaction_scoped(
    body: &[u8],
) -> Result<(SlackInteractionEvent, PayloadScope), PayloadError> {
    let form: InteractionForm =
        serde_urlencoded::from_bytes(body).map_err(|e| PayloadError::Interaction(e.to_string()))?;
    let mut payload: serde_json::Value = serde_json::from_str(&form.payload)
        .map_err(|e| PayloadError::Interaction(e.to_string()))?;
    // Checked first: the repairs below index it as an object, which panics on other JSON.
    if !payload.is_object() {
        return Err(PayloadError::Interaction(
            "the payload is JSON but not an object".into(),
        ));
    }
    let scope = PayloadScope::of_json(&payload);
    // Org-wide installs send `"team": null`; the member's own team is the one that matters.
    if payload.get("team").is_none_or(serde_json::Value::is_null) {
        let team_id = payload["user"]["team_id"]
            .as_str()
            .or(payload["enterprise"]["id"].as_str())
            .unwrap_or_default()
            .to_string();
        payload["team"] = serde_json::json!({ "id": team_id });
    }
    // Views trimmed by Slack (a modal without inputs, with `response_urls`) may lack the
    // state values and the hash, which the bot never needs from a submission.
    if let Some(view) = payload.get_mut("view").and_then(|v| v.as_object_mut()) {
        view.entry("hash").or_insert_with(|| serde_json::json!(""));
        if let Some(state) = view.get_mut("state").and_then(|s| s.as_object_mut()) {
            state
                .entry("values")
                .or_insert_with(|| serde_json::json!({}));
        }
    }
    let interaction =
        serde_json::from_value(payload).map_err(|e| PayloadError::Interaction(e.to_string()))?;
    Ok((interaction, scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_with_an_org_wide_authorization_still_reads() {
        let raw = br#"{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"app_home_opened","user":"U1","channel":"D1","tab":"home","event_ts":"1.1"},"authorizations":[{"team_id":null,"user_id":"U9","is_bot":true}]}"#;
        let incoming = read_event_callback(raw).unwrap();
        assert_eq!(incoming.team, TeamId::new("T1"));
        assert!(matches!(
            incoming.body,
            EventBody::Other(ref body) if matches!(**body, SlackEventCallbackBody::AppHomeOpened(_))
        ));
    }

    #[test]
    fn an_unknown_event_type_reads_as_unknown() {
        let raw = br#"{"team_id":"T1","event":{"type":"brand_new_thing","x":1}}"#;
        let incoming = read_event_callback(raw).unwrap();
        assert!(matches!(
            incoming.body,
            EventBody::Other(ref body) if matches!(**body, SlackEventCallbackBody::Unknown(_))
        ));
    }

    #[test]
    fn broken_payloads_are_errors_not_panics() {
        assert!(matches!(
            read_event_callback(b"{"),
            Err(PayloadError::NotJson(_))
        ));
        assert!(matches!(
            read_event_callback(b"{}"),
            Err(PayloadError::NoTeam)
        ));
        assert!(matches!(
            read_event_callback(br#"{"team_id":"T1"}"#),
            Err(PayloadError::Event(_))
        ));
        assert!(read_command(b"text=%ZZ").is_err());
        assert!(read_interaction(b"payload=%7B").is_err());
        assert!(read_interaction(b"other=1").is_err());
    }
}

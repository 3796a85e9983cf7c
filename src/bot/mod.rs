//! The bot itself: what it does with each event, command and interaction. The HTTP and
//! Socket Mode edges hand everything here, so both transports behave the same.

pub mod messages;
pub mod worker;

use std::sync::Arc;

use slack_morphism::prelude::*;
use tracing::{debug, info, warn};

use crate::clock::Clock;
use crate::ids::TeamId;
use crate::metrics::Metrics;
use crate::slack::api::{ApiError, SlackApi};
use crate::store::{Store, StoreError};
use messages::{BotIdentity, HumanMessage, MessageEvent, MessageKind, classify};

/// Why handling an event failed. `Retry` failures are tried again; the rest are logged.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("the event does not read as a Slack event: {0}")]
    Malformed(String),
    #[error(transparent)]
    Slack(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HandleError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            HandleError::Slack(ApiError::Unavailable { .. }) | HandleError::Store(_)
        )
    }
}

/// Everything a handler needs: the store, the Web API door, the clock.
pub struct Bot {
    pub store: Store,
    pub slack: SlackApi,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub identity: BotIdentity,
    /// The zone of members whose Slack profile has none.
    pub default_tz: chrono_tz::Tz,
}

impl Bot {
    /// Handles one journaled `event_callback` body.
    pub async fn handle_event(&self, raw: &[u8]) -> Result<&'static str, HandleError> {
        let mut value: serde_json::Value =
            serde_json::from_slice(raw).map_err(|e| HandleError::Malformed(e.to_string()))?;
        let team = value
            .get("team_id")
            .and_then(|t| t.as_str())
            .map(TeamId::new)
            .ok_or_else(|| HandleError::Malformed("no team_id".into()))?;
        if value["event"]["type"] == "message" {
            let event: MessageEvent = serde_json::from_value(value["event"].take())
                .map_err(|e| HandleError::Malformed(e.to_string()))?;
            match classify(&event, &self.identity) {
                MessageKind::New(message) => self.on_message(&team, &message, false).await?,
                MessageKind::Edited { message, .. } => {
                    self.on_message(&team, &message, true).await?
                }
                MessageKind::FromBot | MessageKind::Deleted | MessageKind::System(_) => {}
            }
            return Ok("message");
        }
        // Org-wide installs send `authorizations` with a null team; nothing here needs it,
        // and it must not make a real event unreadable.
        if let Some(envelope) = value.as_object_mut() {
            envelope.remove("authorizations");
        }
        let callback: SlackPushEventCallback =
            serde_json::from_value(value).map_err(|e| HandleError::Malformed(e.to_string()))?;
        match callback.event {
            SlackEventCallbackBody::AppMention(event) => {
                self.on_app_mention(&team, &event).await?;
                Ok("app_mention")
            }
            SlackEventCallbackBody::AppHomeOpened(event) => {
                self.on_home_opened(&team, &event).await?;
                Ok("app_home_opened")
            }
            SlackEventCallbackBody::UserChange(_) => Ok("user_change"),
            SlackEventCallbackBody::AppUninstalled(_) => {
                info!(team = %team, "the app was uninstalled from a workspace");
                Ok("app_uninstalled")
            }
            SlackEventCallbackBody::Unknown(value) => {
                debug!(
                    event_type = value.get("type").and_then(|t| t.as_str()),
                    "event type not handled"
                );
                Ok("unknown")
            }
            _ => Ok("other"),
        }
    }

    /// A person's message in a channel the bot is in (new, or edited).
    async fn on_message(
        &self,
        team: &TeamId,
        message: &HumanMessage,
        edited: bool,
    ) -> Result<(), HandleError> {
        debug!(team = %team, channel = %message.channel, edited, "message seen");
        Ok(())
    }

    /// `@async-norms …`: answer in the thread of the mention.
    async fn on_app_mention(
        &self,
        _team: &TeamId,
        event: &SlackAppMentionEvent,
    ) -> Result<(), HandleError> {
        let thread = event
            .origin
            .thread_ts
            .clone()
            .unwrap_or_else(|| event.origin.ts.clone());
        let text = "I keep an eye on working hours and urgency so nobody is pinged at night for \
                    something that can wait. Try `/async help` to see what I can do.";
        let request = SlackApiChatPostMessageRequest::new(
            event.channel.clone(),
            SlackMessageContent::new().with_text(text.into()),
        )
        .with_thread_ts(thread);
        self.slack.post_message(request).await?;
        Ok(())
    }

    /// The Home tab: the member's own page.
    async fn on_home_opened(
        &self,
        _team: &TeamId,
        event: &SlackAppHomeOpenedEvent,
    ) -> Result<(), HandleError> {
        if event.tab.as_deref().is_some_and(|tab| tab != "home") {
            return Ok(());
        }
        let view = crate::views::home(&event.user);
        self.slack
            .views_publish(SlackApiViewsPublishRequest::new(event.user.clone(), view))
            .await?;
        Ok(())
    }

    /// Answers an interaction (button, modal). The returned JSON, if any, is the HTTP body.
    pub async fn handle_interaction(
        &self,
        event: &SlackInteractionEvent,
    ) -> Option<serde_json::Value> {
        match event {
            SlackInteractionEvent::BlockActions(actions) => {
                debug!(
                    actions = actions.actions.as_ref().map(|a| a.len()).unwrap_or(0),
                    "block actions"
                );
                None
            }
            SlackInteractionEvent::ViewSubmission(_) => None,
            other => {
                warn!(kind = interaction_kind(other), "interaction not handled");
                None
            }
        }
    }
}

/// The `type` of an interaction, for logs and metrics.
pub fn interaction_kind(event: &SlackInteractionEvent) -> &'static str {
    match event {
        SlackInteractionEvent::BlockActions(_) => "block_actions",
        SlackInteractionEvent::BlockSuggestion(_) => "block_suggestion",
        SlackInteractionEvent::DialogSubmission(_) => "dialog_submission",
        SlackInteractionEvent::MessageAction(_) => "message_action",
        SlackInteractionEvent::Shortcut(_) => "shortcut",
        SlackInteractionEvent::ViewSubmission(_) => "view_submission",
        SlackInteractionEvent::ViewClosed(_) => "view_closed",
    }
}

//! What an event becomes before Slack hears 200. The journal must make an answered event
//! survive a crash, but sled is log-structured: whatever is written stays as bytes in its
//! files long after it is overwritten or removed. So the raw body is never written. It is
//! read here, at intake, into a [`Distilled`] record holding only what handling needs (ids,
//! timestamps, the urgency scan's findings and mentions, the facts of an edit), and that
//! record is what the journal keeps and the worker handles.
//!
//! The one exception is a message that may answer an open check-in: check-in answers are
//! the message content the bot keeps on purpose (until the report, then for the
//! workspace's retention period), so its text travels with it.

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use crate::bot::Bot;
use crate::bot::ask::{Question, read_question};
use crate::bot::directory::Profile;
pub(crate) use crate::decision::MessageRecord;
use crate::hours::{SlackStatus, zone_by_name};
use crate::ids::{ChannelId, TeamId, UserId};
use crate::norms::ScanFacts;
use crate::slack::messages::{HumanMessage, MessageKind, classify};
use crate::slack::payloads::{EventBody, read_event_callback};
use crate::store::StoreError;

/// One event as the journal keeps it: its workspace and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JournaledEvent {
    pub(crate) team: TeamId,
    pub(crate) event: Distilled,
}

/// What an event says, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Distilled {
    /// A person's message, new or edited (boxed: it is far larger than the other kinds).
    Message(Box<MessageRecord>),
    /// A message was deleted (its id only).
    MessageDeleted { channel: ChannelId, ts: String },
    /// `@async-norms …`, with the question already read.
    AppMention {
        channel: ChannelId,
        user: UserId,
        /// The thread to answer in (the mention's own ts when it is not in a thread).
        thread_ts: String,
        question: Question,
    },
    /// The member opened the bot's Home tab.
    HomeOpened { user: UserId },
    /// A member's profile changed: the parts the bot uses.
    UserChange { user: UserId, profile: ProfileFacts },
    /// A member's Do Not Disturb settings changed (`dnd_updated_user`).
    DndChanged { user: UserId },
    /// A user group was created or changed (`subteam_*`).
    GroupChanged(crate::bot::groups::GroupChange),
    /// The app was removed from the workspace.
    AppUninstalled,
    /// The bot's token was revoked.
    TokensRevoked,
    /// Nothing to do: bot posts, deletions, joins, event types the bot does not handle.
    /// `event_type` is the label it is counted under (`message`, `unknown`, …).
    Ignored { event_type: String },
    /// The event did not read (its type is all that is kept; the reader's error could
    /// quote the text).
    Unreadable { event_type: String },
}

impl Distilled {
    /// The Events API type it was read from, for logs and metrics.
    pub(crate) fn event_type(&self) -> &str {
        match self {
            Distilled::Message(_) | Distilled::MessageDeleted { .. } => "message",
            Distilled::AppMention { .. } => "app_mention",
            Distilled::HomeOpened { .. } => "app_home_opened",
            Distilled::UserChange { .. } => "user_change",
            Distilled::DndChanged { .. } => "dnd_updated_user",
            Distilled::GroupChanged(_) => "subteam",
            Distilled::AppUninstalled => "app_uninstalled",
            Distilled::TokensRevoked => "tokens_revoked",
            Distilled::Ignored { event_type } | Distilled::Unreadable { event_type } => event_type,
        }
    }
}

impl MessageRecord {
    /// The message as the check-in answers read it, when it carries an answer's text.
    pub(crate) fn as_answer(&self) -> Option<HumanMessage> {
        Some(HumanMessage {
            channel: self.channel.clone(),
            user: self.user.clone(),
            text: self.answer.clone()?,
            ts: self.ts.clone(),
            thread_ts: self.thread_ts.clone(),
        })
    }
}

/// The parts of a Slack profile the bot uses (see [`Profile`]), by zone name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ProfileFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tz: Option<String>,
    pub(crate) is_admin: bool,
    pub(crate) is_owner: bool,
    pub(crate) is_bot: bool,
    pub(crate) deleted: bool,
    /// The profile status, when one is set.
    #[serde(default, skip_serializing_if = "SlackStatus::is_empty")]
    pub(crate) status: SlackStatus,
}

impl From<Profile> for ProfileFacts {
    fn from(profile: Profile) -> Self {
        ProfileFacts {
            tz: profile.tz.map(|tz| tz.name().to_string()),
            is_admin: profile.is_admin,
            is_owner: profile.is_owner,
            is_bot: profile.is_bot,
            deleted: profile.deleted,
            status: SlackStatus::default(),
        }
    }
}

impl From<&ProfileFacts> for Profile {
    fn from(facts: &ProfileFacts) -> Self {
        Profile {
            tz: facts.tz.as_deref().and_then(zone_by_name),
            is_admin: facts.is_admin,
            is_owner: facts.is_owner,
            is_bot: facts.is_bot,
            deleted: facts.deleted,
        }
    }
}

/// Whether a `tokens_revoked` event takes away the bot's token (it may list only tokens of
/// members who authorised the app, which this bot never asks for).
fn revokes_bot_token(event: &serde_json::Value) -> bool {
    match event.pointer("/tokens/bot") {
        Some(serde_json::Value::Array(bots)) => !bots.is_empty(),
        // No list at all: read as the whole install going.
        None => event.pointer("/tokens/oauth").is_none(),
        Some(_) => true,
    }
}

impl Bot {
    /// Reads an `event_callback` body of `team` (as its envelope says) into what the journal
    /// keeps, as JSON. Fails only when the store cannot be read (the workspace's word list, the open check-ins).
    pub(crate) fn distil(
        &self,
        team: &TeamId,
        raw: &[u8],
        event_type: &str,
    ) -> Result<Vec<u8>, StoreError> {
        let journaled = self.distil_body(raw)?.unwrap_or_else(|| JournaledEvent {
            team: team.clone(),
            event: Distilled::Unreadable {
                event_type: event_type.to_string(),
            },
        });
        serde_json::to_vec(&journaled).map_err(|source| StoreError::Encode {
            table: "journal_pending",
            source,
        })
    }

    /// Reads an `event_callback` body into the record the journal keeps, or `None` when it
    /// does not read as one.
    pub(crate) fn distil_body(&self, raw: &[u8]) -> Result<Option<JournaledEvent>, StoreError> {
        let Ok(incoming) = read_event_callback(raw) else {
            return Ok(None);
        };
        Ok(Some(JournaledEvent {
            event: self.distil_event(&incoming.team, incoming.body)?,
            team: incoming.team,
        }))
    }

    fn distil_event(&self, team: &TeamId, body: EventBody) -> Result<Distilled, StoreError> {
        let ignored = |event_type: &str| Distilled::Ignored {
            event_type: event_type.to_string(),
        };
        let body = match body {
            EventBody::Message(event) => {
                return Ok(match classify(&event, &self.identity_in(team)) {
                    MessageKind::New(message) => {
                        Distilled::Message(Box::new(self.distil_message(team, message, None)?))
                    }
                    MessageKind::Edited {
                        message,
                        previous_text,
                    } => Distilled::Message(Box::new(self.distil_message(
                        team,
                        message,
                        Some(&previous_text),
                    )?)),
                    MessageKind::Deleted(Some((channel, ts))) => {
                        Distilled::MessageDeleted { channel, ts }
                    }
                    MessageKind::FromBot | MessageKind::Deleted(None) | MessageKind::System(_) => {
                        ignored("message")
                    }
                });
            }
            EventBody::Other(body) => *body,
        };
        Ok(match body {
            SlackEventCallbackBody::AppMention(event) => Distilled::AppMention {
                channel: ChannelId::new(event.channel.0.clone()),
                user: UserId::new(event.user.0.clone()),
                thread_ts: event
                    .origin
                    .thread_ts
                    .as_ref()
                    .unwrap_or(&event.origin.ts)
                    .0
                    .clone(),
                question: read_question(
                    event.content.text.as_deref().unwrap_or(""),
                    &self.identity_in(team).user_id,
                ),
            },
            SlackEventCallbackBody::AppHomeOpened(event) => {
                if event.tab.as_deref().is_some_and(|tab| tab != "home") {
                    ignored("app_home_opened")
                } else {
                    Distilled::HomeOpened {
                        user: UserId::new(event.user.0.clone()),
                    }
                }
            }
            SlackEventCallbackBody::UserChange(event) => Distilled::UserChange {
                user: UserId::new(event.user.id.0.clone()),
                profile: ProfileFacts {
                    status: crate::bot::directory::status_of(&event.user),
                    ..Profile::from_slack(&event.user).into()
                },
            },
            // A new member is a profile to keep, as a changed one is.
            SlackEventCallbackBody::TeamJoin(event) => Distilled::UserChange {
                user: UserId::new(event.user.id.0.clone()),
                profile: ProfileFacts {
                    status: crate::bot::directory::status_of(&event.user),
                    ..Profile::from_slack(&event.user).into()
                },
            },
            SlackEventCallbackBody::AppUninstalled(_) => Distilled::AppUninstalled,
            SlackEventCallbackBody::Unknown(value)
                if value.get("type").and_then(|t| t.as_str()) == Some("tokens_revoked") =>
            {
                if revokes_bot_token(&value) {
                    Distilled::TokensRevoked
                } else {
                    ignored("tokens_revoked")
                }
            }
            SlackEventCallbackBody::Unknown(value)
                if value.get("type").and_then(|t| t.as_str()) == Some("dnd_updated_user") =>
            {
                match value.get("user").and_then(|u| u.as_str()) {
                    Some(user) if !user.is_empty() => Distilled::DndChanged {
                        user: UserId::new(user),
                    },
                    _ => Distilled::Unreadable {
                        event_type: "dnd_updated_user".into(),
                    },
                }
            }
            SlackEventCallbackBody::Unknown(value) => {
                match crate::bot::groups::GroupChange::from_event(&value) {
                    Some(change) => Distilled::GroupChanged(change),
                    None => ignored("unknown"),
                }
            }
            _ => ignored("other"),
        })
    }

    /// Scans a message (and, for an edit, its previous text) with the workspace's words and
    /// keeps the findings; the text only when it may answer an open check-in.
    fn distil_message(
        &self,
        team: &TeamId,
        message: HumanMessage,
        previous_text: Option<&str>,
    ) -> Result<MessageRecord, StoreError> {
        let lexicon = self.lexicon(team)?;
        let scan = ScanFacts::of(&lexicon.scan(&message.text));
        let before = previous_text.map(|text| ScanFacts::of(&lexicon.scan(text)));
        let answer = self
            .may_answer_checkin(team, &message)?
            .then(|| message.text.clone());
        Ok(MessageRecord {
            channel: message.channel,
            user: message.user,
            ts: message.ts,
            thread_ts: message.thread_ts,
            scan,
            before,
            answer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_of_member_tokens_only_leaves_the_bot_installed() {
        let only_members = serde_json::json!({"type":"tokens_revoked","tokens":{"oauth":["U1"]}});
        assert!(!revokes_bot_token(&only_members));
        let bot =
            serde_json::json!({"type":"tokens_revoked","tokens":{"oauth":["U1"],"bot":["U2"]}});
        assert!(revokes_bot_token(&bot));
        assert!(revokes_bot_token(
            &serde_json::json!({"type":"tokens_revoked"})
        ));
    }

    #[test]
    fn a_message_record_keeps_no_text_unless_it_is_an_answer() {
        let record = MessageRecord {
            channel: ChannelId::new("C1"),
            user: UserId::new("U1"),
            ts: "1.1".into(),
            thread_ts: None,
            scan: ScanFacts::default(),
            before: None,
            answer: None,
        };
        let json = serde_json::to_string(&Distilled::Message(Box::new(record.clone()))).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"message","channel":"C1","user":"U1","ts":"1.1","scan":{}}"#
        );
        assert_eq!(
            serde_json::from_str::<Distilled>(&json).unwrap(),
            Distilled::Message(Box::new(record))
        );
    }
}

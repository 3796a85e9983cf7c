//! Which `message` events are people talking. Slack sends one event type for new
//! messages, edits, deletions, joins, bot posts and more; the rules and the mention notes
//! must only ever see a person's own words, once.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::ids::{ChannelId, UserId};

/// A `message` event as Slack sends it. Read leniently (every field optional) because
/// Slack's message shapes vary by subtype and by age, and a message we cannot read is a
/// message whose sender we cannot help.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessageEvent {
    pub subtype: Option<String>,
    pub channel: Option<String>,
    #[serde(flatten)]
    pub body: MessageBody,
    pub(crate) thread_ts: Option<String>,
    /// The new version, for `message_changed`.
    pub(crate) message: Option<MessageBody>,
    /// The old version, for `message_changed`.
    pub(crate) previous_message: Option<MessageBody>,
    /// The deleted message's id, for `message_deleted`.
    pub(crate) deleted_ts: Option<String>,
}

/// The part of a message that edits repeat.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessageBody {
    pub user: Option<String>,
    pub bot_id: Option<String>,
    pub(crate) bot_profile: Option<IgnoredAny>,
    pub(crate) text: Option<String>,
    pub ts: Option<String>,
    pub(crate) thread_ts: Option<String>,
    pub(crate) subtype: Option<String>,
}

impl MessageBody {
    fn is_bot(&self, me: &BotIdentity) -> bool {
        self.bot_id.is_some()
            || self.bot_profile.is_some()
            || self.subtype.as_deref() == Some("bot_message")
            || self.user.as_deref() == Some(me.user_id.as_str())
    }
}

/// A message a person wrote, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanMessage {
    pub channel: ChannelId,
    pub user: UserId,
    pub text: String,
    /// The message id (`ts`); compared as a string, never as a number.
    pub ts: String,
    /// Set when the message is a reply in a thread.
    pub(crate) thread_ts: Option<String>,
}

impl HumanMessage {
    /// When it was sent: the whole seconds of its `ts` (Slack's message ids are the epoch
    /// seconds of the post, then a sequence number). `None` for a ts that is not one.
    pub(crate) fn sent_at(&self) -> Option<DateTime<Utc>> {
        let seconds = self.ts.split_once('.').map_or(self.ts.as_str(), |(s, _)| s);
        DateTime::from_timestamp(seconds.parse().ok()?, 0)
    }
}

/// What a `message` event is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    /// A new message by a person.
    New(HumanMessage),
    /// A person edited their message: the new version, and the text before.
    Edited {
        message: HumanMessage,
        previous_text: String,
    },
    /// Posted by a bot or an integration, including this bot.
    FromBot,
    /// A deletion: which message (channel and ts) is gone, when Slack says.
    Deleted(Option<(ChannelId, String)>),
    /// Joins, topic changes and other system messages: nothing to check.
    System(String),
}

/// The bot's own identity, so its messages are never taken for a person's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub user_id: UserId,
    pub bot_id: Option<String>,
}

/// Subtypes that are still a person talking.
const PERSON_SUBTYPES: [&str; 3] = ["thread_broadcast", "file_share", "me_message"];

/// Sorts a `message` event.
pub fn classify(event: &MessageEvent, me: &BotIdentity) -> MessageKind {
    let Some(channel) = event.channel.clone() else {
        return MessageKind::System("message without a channel".into());
    };
    let human = |body: &MessageBody, ts: Option<&String>| -> Option<HumanMessage> {
        Some(HumanMessage {
            channel: ChannelId::new(channel.clone()),
            user: UserId::new(body.user.clone()?),
            text: body.text.clone().unwrap_or_default(),
            ts: ts?.clone(),
            thread_ts: body.thread_ts.clone().or_else(|| event.thread_ts.clone()),
        })
    };
    match event.subtype.as_deref() {
        None | Some("thread_broadcast" | "file_share" | "me_message") => {
            if event.body.is_bot(me) {
                return MessageKind::FromBot;
            }
            human(&event.body, event.body.ts.as_ref())
                .map(MessageKind::New)
                .unwrap_or_else(|| MessageKind::System("message without a user or ts".into()))
        }
        Some("message_changed") => {
            let Some(edited) = &event.message else {
                return MessageKind::System("message_changed without the message".into());
            };
            if edited.is_bot(me) {
                return MessageKind::FromBot;
            }
            let previous = event.previous_message.as_ref();
            let previous_text = previous.and_then(|p| p.text.clone()).unwrap_or_default();
            // Slack also sends message_changed when only an unfurl is added: no new words.
            if edited.text.clone().unwrap_or_default() == previous_text {
                return MessageKind::System("message_changed without a text change".into());
            }
            // The edited message keeps its id; older payloads carry it only on the previous version.
            let ts = edited.ts.as_ref().or(previous.and_then(|p| p.ts.as_ref()));
            match human(edited, ts) {
                Some(message) => MessageKind::Edited {
                    message,
                    previous_text,
                },
                None => MessageKind::System("message_changed without a user".into()),
            }
        }
        Some("message_deleted") => MessageKind::Deleted(
            event
                .deleted_ts
                .clone()
                .map(|ts| (ChannelId::new(channel.clone()), ts)),
        ),
        Some("bot_message") => MessageKind::FromBot,
        Some(other) => {
            debug_assert!(!PERSON_SUBTYPES.contains(&other));
            MessageKind::System(other.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> BotIdentity {
        BotIdentity {
            user_id: UserId::new("UBOT"),
            bot_id: Some("BBOT".into()),
        }
    }

    fn event(json: serde_json::Value) -> MessageEvent {
        serde_json::from_value(json).expect("a message event")
    }

    #[test]
    fn a_plain_message_is_a_persons_new_message() {
        let kind = classify(
            &event(serde_json::json!({
                "type": "message", "channel": "C1", "user": "U1", "text": "hi <@U2>",
                "ts": "1700000000.000100", "thread_ts": "1700000000.000001"
            })),
            &me(),
        );
        let MessageKind::New(message) = kind else {
            panic!("{kind:?}")
        };
        assert_eq!(message.user, UserId::new("U1"));
        assert_eq!(message.text, "hi <@U2>");
        assert_eq!(message.thread_ts.as_deref(), Some("1700000000.000001"));
    }

    #[test]
    fn a_message_was_sent_at_the_seconds_of_its_ts() {
        let message = |ts: &str| HumanMessage {
            channel: ChannelId::new("C1"),
            user: UserId::new("U1"),
            text: String::new(),
            ts: ts.into(),
            thread_ts: None,
        };
        let sent = message("1772474000.000100").sent_at();
        assert_eq!(
            sent.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-03-02T17:53:20+00:00")
        );
        assert_eq!(message("1772474000").sent_at(), sent);
        assert_eq!(message("not a ts").sent_at(), None);
        assert_eq!(message("").sent_at(), None);
    }

    #[test]
    fn bots_and_our_own_messages_are_not_people() {
        let cases = [
            serde_json::json!({"type":"message","subtype":"bot_message","channel":"C1","bot_id":"B9","text":"x","ts":"1.1"}),
            serde_json::json!({"type":"message","channel":"C1","user":"UBOT","text":"x","ts":"1.1"}),
            serde_json::json!({"type":"message","channel":"C1","user":"U7","bot_id":"B7","text":"x","ts":"1.1"}),
        ];
        for case in cases {
            assert_eq!(classify(&event(case), &me()), MessageKind::FromBot);
        }
    }

    #[test]
    fn edits_carry_the_new_text_and_deletions_are_ignored() {
        let edit = event(serde_json::json!({
            "type":"message","subtype":"message_changed","channel":"C1","ts":"2.2","hidden":true,
            "message":{"type":"message","user":"U1","text":"now URGENT","ts":"1.1","edited":{"user":"U1","ts":"2.2"}},
            "previous_message":{"type":"message","user":"U1","text":"later","ts":"1.1"}
        }));
        let MessageKind::Edited {
            message,
            previous_text,
        } = classify(&edit, &me())
        else {
            panic!("an edit")
        };
        assert_eq!(message.text, "now URGENT");
        assert_eq!(message.ts, "1.1");
        assert_eq!(previous_text, "later");

        let unfurl = event(serde_json::json!({
            "type":"message","subtype":"message_changed","channel":"C1","ts":"2.2",
            "message":{"type":"message","user":"U1","text":"same","ts":"1.1"},
            "previous_message":{"type":"message","user":"U1","text":"same","ts":"1.1"}
        }));
        assert!(matches!(classify(&unfurl, &me()), MessageKind::System(_)));

        let deleted = event(serde_json::json!({
            "type":"message","subtype":"message_deleted","channel":"C1","ts":"3.3","deleted_ts":"1.1","hidden":true
        }));
        assert_eq!(
            classify(&deleted, &me()),
            MessageKind::Deleted(Some((ChannelId::new("C1"), "1.1".into())))
        );
    }

    #[test]
    fn joins_are_system_messages() {
        let join = event(serde_json::json!({
            "type":"message","subtype":"channel_join","channel":"C1","user":"U1","text":"<@U1> has joined the channel","ts":"1.1"
        }));
        assert_eq!(
            classify(&join, &me()),
            MessageKind::System("channel_join".into())
        );
    }
}

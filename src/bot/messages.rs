//! Which `message` events are people talking. Slack sends one event type for new
//! messages, edits, deletions, joins, bot posts and more; the rules and the mention notes
//! must only ever see a person's own words, once.

use slack_morphism::prelude::*;

use crate::ids::{ChannelId, UserId};

/// A message a person wrote, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanMessage {
    pub channel: ChannelId,
    pub user: UserId,
    pub text: String,
    /// The message id (`ts`); compared as a string, never as a number.
    pub ts: String,
    /// Set when the message is a reply in a thread.
    pub thread_ts: Option<String>,
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
    /// A deletion: nothing to check.
    Deleted,
    /// Joins, topic changes and other system messages: nothing to check.
    System(String),
}

/// The bot's own identity, so its messages are never taken for a person's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub user_id: UserId,
    pub bot_id: Option<String>,
}

fn is_bot(sender: &SlackMessageSender, me: &BotIdentity) -> bool {
    sender.bot_id.is_some()
        || sender.bot_profile.is_some()
        || sender.user.as_ref().map(|u| u.0.as_str()) == Some(me.user_id.as_str())
}

fn human(
    channel: Option<&SlackChannelId>,
    sender: &SlackMessageSender,
    content: Option<&SlackMessageContent>,
    ts: &SlackTs,
    thread_ts: Option<&SlackTs>,
) -> Option<HumanMessage> {
    Some(HumanMessage {
        channel: ChannelId::new(channel?.0.clone()),
        user: UserId::new(sender.user.as_ref()?.0.clone()),
        text: content.and_then(|c| c.text.clone()).unwrap_or_default(),
        ts: ts.0.clone(),
        thread_ts: thread_ts.map(|t| t.0.clone()),
    })
}

/// Sorts a `message` event.
pub fn classify(event: &SlackMessageEvent, me: &BotIdentity) -> MessageKind {
    use SlackMessageEventType as Subtype;
    match &event.subtype {
        None | Some(Subtype::ThreadBroadcast | Subtype::FileShare | Subtype::MeMessage) => {
            if is_bot(&event.sender, me) {
                return MessageKind::FromBot;
            }
            human(
                event.origin.channel.as_ref(),
                &event.sender,
                event.content.as_ref(),
                &event.origin.ts,
                event.origin.thread_ts.as_ref(),
            )
            .map(MessageKind::New)
            .unwrap_or_else(|| MessageKind::System("message without a user or channel".into()))
        }
        Some(Subtype::MessageChanged) => {
            let Some(edited) = &event.message else {
                return MessageKind::System("message_changed without the message".into());
            };
            if is_bot(&edited.sender, me) {
                return MessageKind::FromBot;
            }
            let previous_text = event
                .previous_message
                .as_ref()
                .and_then(|p| p.content.as_ref())
                .and_then(|c| c.text.clone())
                .unwrap_or_default();
            // Slack also sends message_changed when only an unfurl is added: no new words.
            let text_now = edited
                .content
                .as_ref()
                .and_then(|c| c.text.as_deref())
                .unwrap_or("");
            if text_now == previous_text {
                return MessageKind::System("message_changed without a text change".into());
            }
            match human(
                event.origin.channel.as_ref(),
                &edited.sender,
                edited.content.as_ref(),
                &edited.ts,
                event.origin.thread_ts.as_ref(),
            ) {
                Some(message) => MessageKind::Edited {
                    message,
                    previous_text,
                },
                None => MessageKind::System("message_changed without a user".into()),
            }
        }
        Some(Subtype::MessageDeleted) => MessageKind::Deleted,
        Some(Subtype::BotMessage) => MessageKind::FromBot,
        Some(other) => MessageKind::System(
            serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "other".into()),
        ),
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

    fn event(json: serde_json::Value) -> SlackMessageEvent {
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
        assert_eq!(classify(&deleted, &me()), MessageKind::Deleted);
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

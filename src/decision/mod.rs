//! What the bot makes of one message, as a pure step between reading and sending: the bot
//! gathers the [`Facts`] (the store's norms, cooldown and phrase feedback, the members and
//! groups the message reaches, looked up in Slack), [`decide`] turns them and the instant into
//! an [`Outcome`] (the note, the nudge, the finding to record), and the bot carries it out.
//! Nothing here reads the clock, the store or the network, so every decision is a unit test.
//!
//! [`card`] and [`note`] word what is decided: one member's availability, and the sections of
//! the one private note a sender gets about a message.

pub(crate) mod card;
pub mod note;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::hours::is_available;
use crate::ids::{ChannelId, UserId};
use crate::norms::feedback::{self, PhraseFeedback};
use crate::norms::{
    BroadcastReach, ChannelContext, ChannelNorms, Finding, FindingRecord, NudgeAction,
    NudgeContext, ScanFacts, Scanned, WorkspaceNorms, classify, nudge_text,
};
use note::{Audience, GroupReach, Mentions, MessageFacts, Note, NoteButton, NoteSection, Reached};

/// A person's message without its text, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MessageRecord {
    pub(crate) channel: ChannelId,
    pub(crate) user: UserId,
    pub(crate) ts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) thread_ts: Option<String>,
    /// What the urgency scan found in the text.
    pub(crate) scan: ScanFacts,
    /// For an edit: what it found in the text before the edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) before: Option<ScanFacts>,
    /// The text, only when the message may answer an open check-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) answer: Option<String>,
}

impl MessageRecord {
    pub(crate) fn is_edit(&self) -> bool {
        self.before.is_some()
    }

    /// Who the message pings: all a new message's pings, only those an edit added.
    pub(crate) fn pings(&self) -> Mentions {
        let mentions = Mentions::from_scan(&self.scan);
        match &self.before {
            Some(before) => mentions.added_since(&Mentions::from_scan(before)),
            None => mentions,
        }
    }

    /// Whether anything can come of the message (it pings someone, or a rule may fire on
    /// it): else no fact is worth gathering.
    pub(crate) fn needs_facts(&self) -> bool {
        !self.pings().is_empty() || self.scan.may_be_urgent()
    }
}

/// The members a message reaches, looked up once for the note and the urgency rules.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    pub(crate) mentioned: Vec<Reached>,
    /// For a broadcast, the channel's members.
    pub(crate) audience: Option<Audience>,
    /// Each mentioned user group the bot could read.
    pub(crate) groups: Vec<GroupReach>,
    /// Mentioned members not looked up (past the limit per message) or that Slack could not
    /// tell about in time.
    pub(crate) not_checked: usize,
}

impl Lookups {
    /// Nobody the message pings is a person to check.
    pub(crate) fn is_empty(&self) -> bool {
        self.mentioned.is_empty() && self.audience.is_none() && self.groups.is_empty()
    }
}

/// Everything [`decide`] needs besides the message and the instant, gathered by the bot.
#[derive(Debug)]
pub(crate) struct Facts {
    /// The bot's own user in the workspace: mentioning it pings nobody.
    pub(crate) bot: UserId,
    /// The sender's zone, for the times the note shows (looked up only when the message
    /// reaches someone).
    pub(crate) sender_tz: Tz,
    pub(crate) workspace: WorkspaceNorms,
    pub(crate) channel: ChannelNorms,
    /// The sender was nudged in this channel a short while ago.
    pub(crate) cooling_down: bool,
    /// The workspace's "Not a demand" marks, by phrase.
    pub(crate) phrase_feedback: BTreeMap<String, PhraseFeedback>,
    pub(crate) reached: Lookups,
}

/// A nudge given other than as a section of the note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NudgeCall {
    /// A reaction on the message.
    Reaction { emoji: String },
    /// A reply in the message's thread (or one started under it).
    ThreadReply { thread_ts: String, text: String },
}

/// What the bot does about one message.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Outcome {
    /// The private note to the sender; empty, none.
    pub(crate) note: Note,
    /// A reaction or thread reply, for a channel that nudges so.
    pub(crate) nudge_call: Option<NudgeCall>,
    /// A nudge was given (in whichever way the channel chose): the sender's cooldown in the
    /// channel starts and the nudge counts against its phrase.
    pub(crate) nudged: bool,
    /// The urgency findings that stand, in the rules' order.
    pub(crate) findings: Vec<Finding>,
    /// What is kept for the digest, when anything was found.
    pub(crate) record: Option<FindingRecord>,
}

/// What the bot does about `message`, given the `facts` gathered for it, at `now`.
pub(crate) fn decide(message: &MessageRecord, facts: &Facts, now: DateTime<Utc>) -> Outcome {
    let mentions = message.pings();
    let reached = &facts.reached;
    let group_members: Vec<Reached> = reached
        .groups
        .iter()
        .flat_map(|group| group.audience.members.iter().cloned())
        .collect();
    let off_hours = off_hours_mentions(
        &[reached.mentioned.as_slice(), group_members.as_slice()].concat(),
        &message.user,
        &facts.bot,
        now,
    );
    let findings = urgency_findings(
        &message.scan,
        message.before.as_ref(),
        &ChannelContext {
            is_urgent_channel: facts.workspace.is_urgent_channel(&message.channel),
            off_hours_mentions: &off_hours,
        },
        &facts.phrase_feedback,
    );
    let (mut note, broadcast) = if reached.is_empty() {
        (Note::default(), None)
    } else {
        mention_note(message, &mentions, facts, &off_hours, now)
    };
    let nudged = !findings.is_empty() && facts.channel.nudges && !facts.cooling_down;
    let mut nudge_call = None;
    if nudged {
        let norms = facts.channel.nudge_context(&facts.workspace);
        match &facts.channel.action {
            NudgeAction::Ephemeral => {
                if let Some(section) = urgency_section(&findings, &norms) {
                    note.push(section);
                }
            }
            NudgeAction::Reaction { emoji } => {
                nudge_call = Some(NudgeCall::Reaction {
                    emoji: emoji.clone(),
                });
            }
            NudgeAction::ThreadReply => {
                nudge_call = nudge_text(&findings, &norms).map(|text| NudgeCall::ThreadReply {
                    thread_ts: message.thread_ts.as_ref().unwrap_or(&message.ts).clone(),
                    text,
                });
            }
        }
    }
    let record = (!findings.is_empty()).then(|| FindingRecord {
        channel: message.channel.clone(),
        at: now,
        rules: findings.iter().map(|f| f.rule).collect(),
        broadcast,
    });
    Outcome {
        note,
        nudge_call,
        nudged,
        findings,
        record,
    }
}

/// The urgency findings of a message: the rules' verdicts on it, less those its text before
/// an edit already drew and those about phrases the workspace marked "Not a demand" often
/// enough. The bot and the audit of an export judge through this one function.
pub(crate) fn urgency_findings<S: Scanned + ?Sized>(
    scan: &S,
    before: Option<&ScanFacts>,
    context: &ChannelContext<'_>,
    phrase_feedback: &BTreeMap<String, PhraseFeedback>,
) -> Vec<Finding> {
    let mut findings = classify(scan, context);
    if let Some(before) = before {
        // The previous text's pings are not among the edit's, so its off-hours rule could
        // only fire on them: judge it without.
        let had = classify(
            before,
            &ChannelContext {
                off_hours_mentions: &[],
                ..*context
            },
        );
        findings.retain(|finding| !had.iter().any(|old| old.rule == finding.rule));
    }
    if !findings.is_empty() {
        feedback::without_muted(&mut findings, phrase_feedback);
    }
    findings
}

/// The mention-awareness sections of the note (members, groups and broadcast reach outside
/// hours), with the remind button when mentioned members are off, and a broadcast's reach.
fn mention_note(
    message: &MessageRecord,
    mentions: &Mentions,
    facts: &Facts,
    off_hours: &[UserId],
    now: DateTime<Utc>,
) -> (Note, Option<BroadcastReach>) {
    let reached = &facts.reached;
    let about = MessageFacts {
        sender: &message.user,
        bot: facts.bot.clone(),
        mentions,
        sender_tz: facts.sender_tz,
        mentions_not_checked: reached.not_checked,
    };
    let mut note = note::build_note(&about, &reached.mentioned, reached.audience.as_ref(), now)
        .unwrap_or_default();
    for section in note::group_sections(&about, &reached.mentioned, &reached.groups, now) {
        note.push(section);
    }
    // The note is about people not working: offer to say when they are back.
    if let Some(first) = note.sections.first_mut()
        && !off_hours.is_empty()
    {
        let members: Vec<&UserId> = off_hours.iter().collect();
        first.button = Some(NoteButton {
            label: "Remind me when they are back".to_string(),
            action_id: note::REMIND_ACTION.to_string(),
            value: note::remind_button_value(&message.channel, &message.ts, &members),
        });
    }
    let broadcast = match (mentions.broadcast, &reached.audience) {
        (Some(kind), Some(audience)) => {
            let (people, outside) = note::broadcast_reach(&about, audience, now);
            Some(BroadcastReach {
                kind,
                reached: u32::try_from(people).unwrap_or(u32::MAX),
                off_hours: u32::try_from(outside).unwrap_or(u32::MAX),
            })
        }
        _ => None,
    };
    (note, broadcast)
}

/// The mentioned members who are people other than the sender and the bot, and are outside
/// their hours, away or in focus time now: the facts the off-hours rule needs, taken from the
/// lookups the mention note already made.
fn off_hours_mentions(
    mentioned: &[Reached],
    sender: &UserId,
    bot: &UserId,
    now: DateTime<Utc>,
) -> Vec<UserId> {
    mentioned
        .iter()
        .filter(|m| m.is_person && m.user != *sender && m.user != *bot)
        .filter(|m| !is_available(&m.hours, now))
        .map(|m| m.user.clone())
        .collect()
}

/// The urgency section of the note: what was found, the channel's norm and the escalation
/// path, then one line per rule that fired, and the "Not a demand" button for the phrase the
/// note is about.
fn urgency_section(findings: &[Finding], norms: &NudgeContext) -> Option<NoteSection> {
    let summary = nudge_text(findings, norms)?;
    let mut lines = vec![format!(":hourglass_flowing_sand: {summary}")];
    for finding in findings {
        lines.push(format!("• _{}_: {}", finding.rule.label(), finding.reason));
    }
    let button = feedback::button_finding(findings).map(|(rule, phrase)| NoteButton {
        label: "Not a demand".to_string(),
        action_id: feedback::NOT_A_DEMAND_ACTION.to_string(),
        value: feedback::button_value(rule, &phrase),
    });
    Some(NoteSection { lines, button })
}

#[cfg(test)]
mod tests {
    use super::note::tests::{person, tuesday_evening};
    use super::*;
    use crate::norms::{Broadcast, RuleId};

    fn scanned(text: &str) -> ScanFacts {
        let lexicon = WorkspaceNorms::default().lexicon().unwrap();
        ScanFacts::of(&lexicon.scan(text))
    }

    /// A new message from U0 in C1.
    fn message(text: &str) -> MessageRecord {
        MessageRecord {
            channel: ChannelId::new("C1"),
            user: UserId::new("U0"),
            ts: "1772572440.000100".to_string(),
            thread_ts: None,
            scan: scanned(text),
            before: None,
            answer: None,
        }
    }

    /// Facts for a message that reaches `mentioned`, in a channel with the default norms.
    fn facts(mentioned: Vec<Reached>) -> Facts {
        Facts {
            bot: UserId::new("UBOT"),
            sender_tz: chrono_tz::America::New_York,
            workspace: WorkspaceNorms::default(),
            channel: ChannelNorms::default(),
            cooling_down: false,
            phrase_feedback: BTreeMap::new(),
            reached: Lookups {
                mentioned,
                ..Lookups::default()
            },
        }
    }

    fn rules(outcome: &Outcome) -> Vec<RuleId> {
        outcome.findings.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_member_off_hours_gets_a_note_with_the_remind_button_and_nothing_else() {
        let message = message("<@U1> could you look at the draft?");
        let outcome = decide(
            &message,
            &facts(vec![person("U1", chrono_tz::Europe::Berlin)]),
            tuesday_evening(),
        );
        assert_eq!(outcome.note.sections.len(), 1);
        let section = &outcome.note.sections[0];
        assert_eq!(section.lines[0], "*<@U1> is not working right now.*");
        let button = section.button.as_ref().expect("a remind button");
        assert_eq!(button.action_id, note::REMIND_ACTION);
        assert_eq!(button.value, "C1 1772572440.000100 U1");
        assert_eq!(
            note::parse_remind_button_value(&button.value),
            Some((
                ChannelId::new("C1"),
                message.ts.clone(),
                vec![UserId::new("U1")]
            ))
        );
        assert_eq!(outcome.nudge_call, None);
        assert!(!outcome.nudged && outcome.findings.is_empty() && outcome.record.is_none());
    }

    #[test]
    fn a_member_at_work_means_no_note() {
        let outcome = decide(
            &message("<@U1> could you look at the draft?"),
            &facts(vec![person("U1", chrono_tz::America::New_York)]),
            tuesday_evening(),
        );
        assert_eq!(outcome, Outcome::default());
    }

    #[test]
    fn an_urgent_ping_to_someone_off_hours_gets_both_sections_in_one_note() {
        let message = message("<@U1> I need this asap");
        let outcome = decide(
            &message,
            &facts(vec![person("U1", chrono_tz::Europe::Berlin)]),
            tuesday_evening(),
        );
        assert_eq!(
            rules(&outcome),
            [RuleId::UrgencyWords, RuleId::UrgentPingOffHours]
        );
        let [mention, urgency] = outcome.note.sections.as_slice() else {
            panic!("two sections: {:?}", outcome.note);
        };
        assert_eq!(
            mention.button.as_ref().map(|b| b.action_id.as_str()),
            Some(note::REMIND_ACTION)
        );
        assert!(urgency.lines[0].starts_with(":hourglass_flowing_sand: "));
        let button = urgency.button.as_ref().expect("a Not a demand button");
        assert_eq!(button.action_id, feedback::NOT_A_DEMAND_ACTION);
        assert_eq!(
            feedback::parse_button_value(&button.value),
            Some((RuleId::UrgencyWords, "asap".to_string()))
        );
        assert!(outcome.nudged && outcome.nudge_call.is_none());
        let record = outcome.record.clone().expect("a record");
        assert_eq!(record.channel, message.channel);
        assert_eq!(record.at, tuesday_evening());
        assert_eq!(record.rules, rules(&outcome));
        assert_eq!(record.broadcast, None);
    }

    #[test]
    fn an_edit_that_adds_nothing_decides_nothing() {
        let mut edit = message("<@U1> I need this asap, thanks");
        edit.before = Some(scanned("<@U1> I need this asap"));
        assert!(edit.pings().is_empty());
        // The bot looks up nobody for it (no ping was added); the urgency was there before.
        let outcome = decide(&edit, &facts(Vec::new()), tuesday_evening());
        assert_eq!(outcome, Outcome::default());
    }

    #[test]
    fn an_edit_is_judged_on_what_it_adds() {
        let mut edit = message("<@U1> I need this asap!!!");
        edit.before = Some(scanned("<@U1> I need this asap"));
        let outcome = decide(&edit, &facts(Vec::new()), tuesday_evening());
        assert_eq!(rules(&outcome), [RuleId::Emphasis]);
    }

    #[test]
    fn a_nudge_is_held_back_by_the_cooldown_and_the_finding_still_recorded() {
        let mut facts = facts(Vec::new());
        facts.cooling_down = true;
        let outcome = decide(&message("fix this asap"), &facts, tuesday_evening());
        assert_eq!(rules(&outcome), [RuleId::UrgencyWords]);
        assert!(!outcome.nudged && outcome.note.is_empty() && outcome.nudge_call.is_none());
        assert!(outcome.record.is_some());
    }

    #[test]
    fn a_channel_with_nudges_off_records_and_an_urgent_channel_finds_nothing() {
        let mut quiet = facts(Vec::new());
        quiet.channel.nudges = false;
        let outcome = decide(&message("fix this asap"), &quiet, tuesday_evening());
        assert!(!outcome.nudged && outcome.note.is_empty() && outcome.record.is_some());

        let mut urgent = facts(Vec::new());
        urgent.workspace.urgent_channels = vec![ChannelId::new("C1")];
        let outcome = decide(&message("fix this asap"), &urgent, tuesday_evening());
        assert_eq!(outcome, Outcome::default());
    }

    #[test]
    fn a_muted_phrase_neither_nudges_nor_counts() {
        let mut facts = facts(Vec::new());
        facts.phrase_feedback.insert(
            "asap".to_string(),
            PhraseFeedback {
                nudged: 4,
                marked_wrong: BTreeMap::from([(RuleId::UrgencyWords, 3)]),
            },
        );
        let outcome = decide(&message("fix this asap"), &facts, tuesday_evening());
        assert_eq!(outcome, Outcome::default());
        // Another phrase still nudges.
        let outcome = decide(&message("fix this immediately"), &facts, tuesday_evening());
        assert!(outcome.nudged, "{outcome:?}");
    }

    #[test]
    fn a_channel_can_nudge_by_reaction_or_thread_reply_instead_of_the_note() {
        let mut facts = facts(Vec::new());
        facts.channel.action = NudgeAction::Reaction {
            emoji: "hourglass".to_string(),
        };
        let outcome = decide(&message("fix this asap"), &facts, tuesday_evening());
        assert_eq!(
            outcome.nudge_call,
            Some(NudgeCall::Reaction {
                emoji: "hourglass".to_string()
            })
        );
        assert!(outcome.nudged && outcome.note.is_empty());

        facts.channel.action = NudgeAction::ThreadReply;
        let outcome = decide(&message("fix this asap"), &facts, tuesday_evening());
        let Some(NudgeCall::ThreadReply { thread_ts, text }) = &outcome.nudge_call else {
            panic!("a thread reply: {outcome:?}");
        };
        assert_eq!(thread_ts, "1772572440.000100", "under the message itself");
        let norms = facts.channel.nudge_context(&facts.workspace);
        assert_eq!(Some(text.clone()), nudge_text(&outcome.findings, &norms));
        assert!(outcome.nudged && outcome.note.is_empty());

        let mut in_thread = message("fix this asap");
        in_thread.thread_ts = Some("1772572000.000100".to_string());
        let outcome = decide(&in_thread, &facts, tuesday_evening());
        assert!(matches!(
            outcome.nudge_call,
            Some(NudgeCall::ThreadReply { thread_ts, .. }) if thread_ts == "1772572000.000100"
        ));
    }

    #[test]
    fn a_broadcast_records_how_far_it_reached_outside_hours() {
        let message = message("<!channel> the release is out");
        let mut facts = facts(Vec::new());
        let mut a_bot = person("B1", chrono_tz::UTC);
        a_bot.is_person = false;
        facts.reached.audience = Some(Audience {
            members: vec![
                person("U0", chrono_tz::Asia::Tokyo),
                person("U1", chrono_tz::Europe::Berlin),
                person("U2", chrono_tz::Asia::Tokyo),
                person("U3", chrono_tz::America::New_York),
                a_bot,
            ],
            not_checked: 0,
        });
        let outcome = decide(&message, &facts, tuesday_evening());
        assert_eq!(rules(&outcome), [RuleId::Broadcast]);
        assert_eq!(
            outcome.record.expect("a record").broadcast,
            Some(BroadcastReach {
                kind: Broadcast::Channel,
                reached: 3,
                off_hours: 2
            })
        );
        // The reach section, then the nudge; no remind button, as nobody was named.
        assert_eq!(outcome.note.sections.len(), 2);
        assert!(outcome.note.sections[0].lines[0].starts_with(":loudspeaker: `@channel`"));
        assert!(outcome.note.sections[0].button.is_none());
    }
}

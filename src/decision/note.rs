//! The private note a sender gets about their message: who they pinged is not at work, and
//! how far a broadcast reaches outside working hours. Slack shows a sender at most one
//! ephemeral note per message from us, so every finding about a message goes into the same
//! [`Note`] as a section: this module builds the mention-awareness section, and the urgency
//! rules add theirs before the note is sent once.
//!
//! Everything here is pure: the message facts, the members' hours and the instant come in,
//! the note (or nothing) comes out.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::decision::card::member_card;
use crate::hours::{Availability, MemberHours, availability, is_available};
use crate::ids::{ChannelId, GroupId, UserId};
use crate::norms::ScanFacts;
use crate::norms::markup::{self, Broadcast, Token};

/// Members listed by name in one note; the rest are counted.
pub(crate) const MAX_LISTED: usize = 15;
/// A user group larger than this gets an impact line (how many it notifies, across how many
/// zones), as a broadcast does.
pub(crate) const LARGE_GROUP: usize = 10;

/// The `action_id` of the note's "Remind me when they are back" button.
pub(crate) const REMIND_ACTION: &str = "remind_when_back";
/// Members one button sets reminders for (those listed in the note).
const MAX_REMINDED: usize = 15;

/// Who a message pings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Mentioned members, in order of first mention, each once.
    pub(crate) users: Vec<UserId>,
    /// The widest broadcast in the message, if any.
    pub(crate) broadcast: Option<Broadcast>,
    /// Mentioned user groups, in order of first mention, each once.
    pub(crate) groups: Vec<GroupId>,
}

impl Mentions {
    /// The people and broadcast of `text` (Slack's markup: `<@U123>`, `<@U123|name>`,
    /// `<!here>`, `<!channel>`, `<!everyone>`), read by the same reader as the urgency rules
    /// ([`markup::tokens`]): mentions inside code are literal text and notify nobody.
    pub fn in_text(text: &str) -> Self {
        let mut mentions = Mentions::default();
        for token in markup::tokens(text) {
            match token {
                Token::User(id) => mentions.add_user(id),
                Token::Broadcast(kind) => mentions.add_broadcast(kind),
                Token::Subteam(id) => mentions.add_group(id),
                Token::Prose { .. } | Token::Channel(_) => {}
            }
        }
        mentions
    }

    /// The people and broadcast a message scanned by the urgency lexicon pings: the message
    /// path reads its text once (at intake), and this is the same reading.
    pub(crate) fn from_scan(scan: &ScanFacts) -> Self {
        let mut mentions = Mentions::default();
        for id in &scan.mentions {
            mentions.add_user(id);
        }
        for id in &scan.groups {
            mentions.add_group(id);
        }
        mentions.broadcast = scan.broadcasts.iter().last();
        mentions
    }

    /// The pings of an edited message that its previous text did not have: an edit that
    /// only fixes a typo must not bring the note back.
    #[cfg(test)]
    pub(crate) fn added_by_edit(text: &str, previous_text: &str) -> Self {
        Mentions::in_text(text).added_since(&Mentions::in_text(previous_text))
    }

    /// These pings less the ones `before` already had.
    pub(crate) fn added_since(mut self, before: &Mentions) -> Self {
        self.users.retain(|user| !before.users.contains(user));
        self.groups.retain(|group| !before.groups.contains(group));
        if before.broadcast.is_some() {
            self.broadcast = None;
        }
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.users.is_empty() && self.broadcast.is_none() && self.groups.is_empty()
    }

    /// Adds a mentioned user id once; ids that are not Slack ids are ignored.
    fn add_user(&mut self, id: &str) {
        if is_slack_id(id) && !self.users.iter().any(|user| user.as_str() == id) {
            self.users.push(UserId::new(id));
        }
    }

    /// Adds a mentioned user group once; ids that are not Slack ids are ignored.
    fn add_group(&mut self, id: &str) {
        if is_slack_id(id) && !self.groups.iter().any(|group| group.as_str() == id) {
            self.groups.push(GroupId::new(id));
        }
    }

    /// Keeps the widest broadcast: `@everyone` over `@channel` over `@here`.
    fn add_broadcast(&mut self, kind: Broadcast) {
        self.broadcast = self.broadcast.max(Some(kind));
    }
}

/// Whether `id` has the shape of a Slack id (letters and digits, at most 32).
fn is_slack_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// What the note needs to know about the message.
#[derive(Debug, Clone)]
pub struct MessageFacts<'a> {
    pub sender: &'a UserId,
    /// The bot's own user id: mentioning the bot is asking it something, not pinging a person.
    pub bot: UserId,
    pub mentions: &'a Mentions,
    /// The sender's zone, for the times shown in their clock.
    pub sender_tz: Tz,
    /// Mentioned members the bot did not look up (past its limit per message, or Slack
    /// could not say in time): counted in the note, never guessed.
    pub mentions_not_checked: usize,
}

/// A member the message reaches, with their effective hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Reached {
    pub user: UserId,
    /// False for bots and deactivated accounts, who are never listed or counted.
    pub is_person: bool,
    pub hours: MemberHours,
}

/// Who a broadcast reaches: the channel's members the bot could look up, and how many more
/// it could not (too many to look up, or the lookup failed).
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub(crate) members: Vec<Reached>,
    pub(crate) not_checked: usize,
}

/// Who a mentioned user group reaches: its members the bot could look up, and how many more
/// it could not.
#[derive(Debug, Clone)]
pub(crate) struct GroupReach {
    /// Its handle without `@`, when Slack said.
    pub(crate) handle: Option<String>,
    pub(crate) audience: Audience,
}

impl GroupReach {
    /// How the note names the group.
    fn name(&self) -> String {
        match &self.handle {
            Some(handle) => format!("@{handle}"),
            None => "the user group you mentioned".to_string(),
        }
    }
}

/// One part of a note, in Slack mrkdwn; each line becomes its own paragraph. Kept in the
/// outbox until the note is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct NoteSection {
    pub(crate) lines: Vec<String>,
    /// A button under the lines: its label, `action_id` and value.
    pub(crate) button: Option<NoteButton>,
}

/// A button in a note.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct NoteButton {
    pub(crate) label: String,
    pub(crate) action_id: String,
    pub(crate) value: String,
}

/// The one ephemeral note about one message. Sections are shown in order, separated by a
/// divider, with one footer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    pub(crate) sections: Vec<NoteSection>,
}

impl Note {
    pub(crate) fn push(&mut self, section: NoteSection) {
        self.sections.push(section);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// The plain text Slack shows in notifications and to screen readers.
    pub(crate) fn text(&self) -> String {
        self.sections
            .iter()
            .map(|section| section.lines.join("\n"))
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

/// The note about a message: mentioned members who are outside their hours, away or in focus
/// time, and, for a broadcast, how many it reaches outside their hours. `None` when nobody
/// the message pings is outside their hours.
///
/// The sender, the bot, bots and deactivated accounts are never listed or counted.
pub fn build_note(
    facts: &MessageFacts<'_>,
    mentioned: &[Reached],
    audience: Option<&Audience>,
    now: DateTime<Utc>,
) -> Option<Note> {
    let mut note = Note::default();
    if let Some(section) = mention_section(facts, mentioned, now) {
        note.push(section);
    }
    if let (Some(broadcast), Some(audience)) = (facts.mentions.broadcast, audience)
        && let Some(section) = broadcast_section(facts, broadcast, audience, now)
    {
        note.push(section);
    }
    (!note.is_empty()).then_some(note)
}

/// Whether a member counts: a person other than the sender and the bot.
fn counts(facts: &MessageFacts<'_>, member: &Reached) -> bool {
    member.is_person && member.user != *facts.sender && member.user != facts.bot
}

fn mention_section(
    facts: &MessageFacts<'_>,
    mentioned: &[Reached],
    now: DateTime<Utc>,
) -> Option<NoteSection> {
    let mut seen = HashSet::new();
    let unreachable: Vec<(&Reached, Availability)> = mentioned
        .iter()
        .filter(|member| counts(facts, member) && seen.insert(&member.user))
        .filter(|member| !is_available(&member.hours, now))
        .map(|member| (member, availability(&member.hours, now)))
        .collect();
    if unreachable.is_empty() {
        return None;
    }
    let heading = match unreachable.as_slice() {
        [(only, _)] => format!("*<@{}> is not working right now.*", only.user),
        many => format!(
            "*{} people you mentioned are not working right now.*",
            many.len()
        ),
    };
    let mut lines = vec![heading];
    for (member, state) in unreachable.iter().take(MAX_LISTED) {
        lines.push(member_card(
            &member.user,
            &member.hours,
            state,
            facts.sender_tz,
            now,
        ));
    }
    if unreachable.len() > MAX_LISTED {
        let rest: Vec<String> = unreachable[MAX_LISTED..]
            .iter()
            .map(|(member, _)| format!("<@{}>", member.user))
            .collect();
        lines.push(format!(
            "…and {} more not working now: {}",
            rest.len(),
            rest.join(", ")
        ));
    }
    if facts.mentions_not_checked > 0 {
        lines.push(format!(
            "({} more people you mentioned could not be checked.)",
            facts.mentions_not_checked
        ));
    }
    Some(NoteSection {
        lines,
        button: None,
    })
}

/// How many people a broadcast reaches (those the bot could check) and how many of them are
/// outside their working hours now.
pub(crate) fn broadcast_reach(
    facts: &MessageFacts<'_>,
    audience: &Audience,
    now: DateTime<Utc>,
) -> (usize, usize) {
    let people = audience_people(facts, audience);
    (people.len(), outside_hours(&people, now))
}

fn audience_people<'a>(facts: &MessageFacts<'_>, audience: &'a Audience) -> Vec<&'a Reached> {
    audience
        .members
        .iter()
        .filter(|member| counts(facts, member))
        .collect()
}

fn outside_hours(people: &[&Reached], now: DateTime<Utc>) -> usize {
    people
        .iter()
        .filter(|member| !is_available(&member.hours, now))
        .count()
}

/// A section for each mentioned user group with members outside their hours: how many of its
/// members are not working, a card for each (those already listed as mentioned by name are
/// not repeated), and for a large group how far it reaches.
pub(crate) fn group_sections(
    facts: &MessageFacts<'_>,
    mentioned: &[Reached],
    groups: &[GroupReach],
    now: DateTime<Utc>,
) -> Vec<NoteSection> {
    let mut shown: HashSet<&UserId> = mentioned.iter().map(|member| &member.user).collect();
    let mut sections = Vec::new();
    for group in groups {
        let people = audience_people(facts, &group.audience);
        let unreachable: Vec<(&Reached, Availability)> = people
            .iter()
            .filter(|member| !is_available(&member.hours, now))
            .map(|member| (*member, availability(&member.hours, now)))
            .collect();
        if unreachable.is_empty() {
            continue;
        }
        let name = group.name();
        let mut lines = vec![format!(
            "*{name}: {} of its {} not working right now.*",
            unreachable.len(),
            match people.len() {
                1 => "1 member is".to_string(),
                n if unreachable.len() == 1 => format!("{n} members is"),
                n => format!("{n} members are"),
            }
        )];
        let new: Vec<&(&Reached, Availability)> = unreachable
            .iter()
            .filter(|(member, _)| shown.insert(&member.user))
            .collect();
        for (member, state) in new.iter().take(MAX_LISTED) {
            lines.push(member_card(
                &member.user,
                &member.hours,
                state,
                facts.sender_tz,
                now,
            ));
        }
        if new.len() > MAX_LISTED {
            lines.push(format!(
                "…and {} more not working now.",
                new.len() - MAX_LISTED
            ));
        }
        if people.len() > LARGE_GROUP {
            lines.push(impact_line(
                &format!("`{name}`"),
                "notifies",
                &people,
                unreachable.len(),
                group.audience.not_checked,
            ));
        } else if group.audience.not_checked > 0 {
            lines.push(format!(
                "({} more members could not be checked.)",
                group.audience.not_checked
            ));
        }
        sections.push(NoteSection {
            lines,
            button: None,
        });
    }
    sections
}

/// How far a broadcast or a large group reaches: people, zones, and how many are outside
/// their hours now.
fn impact_line(
    name: &str,
    verb: &str,
    people: &[&Reached],
    outside: usize,
    not_checked: usize,
) -> String {
    let zones: HashSet<&str> = people.iter().map(|member| member.hours.tz.name()).collect();
    let plural = |count: usize, one: &str, many: &str| {
        if count == 1 {
            format!("{count} {one}")
        } else {
            format!("{count} {many}")
        }
    };
    let mut line = format!(
        ":loudspeaker: {name} {verb} {} across {}; *{outside} of them {} outside their working hours* now.",
        plural(people.len(), "person", "people"),
        plural(zones.len(), "time zone", "time zones"),
        if outside == 1 { "is" } else { "are" },
    );
    if not_checked > 0 {
        line.push_str(&format!(
            " ({not_checked} more members could not be checked.)"
        ));
    }
    line
}

fn broadcast_section(
    facts: &MessageFacts<'_>,
    broadcast: Broadcast,
    audience: &Audience,
    now: DateTime<Utc>,
) -> Option<NoteSection> {
    let people = audience_people(facts, audience);
    let outside = outside_hours(&people, now);
    if outside == 0 {
        return None;
    }
    let verb = match broadcast {
        // `@here` reaches only those active now; the channel is the most it can reach.
        Broadcast::Here => "can notify up to",
        Broadcast::Channel | Broadcast::Everyone => "notifies",
    };
    let line = impact_line(
        &format!("`{broadcast}`"),
        verb,
        &people,
        outside,
        audience.not_checked,
    );
    Some(NoteSection {
        lines: vec![line],
        button: None,
    })
}

/// What the note's button carries: the message and the members it is about.
pub(crate) fn remind_button_value(
    channel: &ChannelId,
    message_ts: &str,
    members: &[&UserId],
) -> String {
    let members: Vec<&str> = members
        .iter()
        .take(MAX_REMINDED)
        .map(|m| m.as_str())
        .collect();
    format!("{channel} {message_ts} {}", members.join(","))
}

/// Reads a button value written by [`remind_button_value`].
pub(crate) fn parse_remind_button_value(value: &str) -> Option<(ChannelId, String, Vec<UserId>)> {
    let mut parts = value.split(' ');
    let channel = parts.next().filter(|c| !c.is_empty())?;
    let ts = parts.next().filter(|t| !t.is_empty())?;
    let members: Vec<UserId> = parts
        .next()?
        .split(',')
        .filter(|m| !m.is_empty())
        .take(MAX_REMINDED)
        .map(UserId::new)
        .collect();
    if parts.next().is_some() || members.is_empty() {
        return None;
    }
    Some((ChannelId::new(channel), ts.to_string(), members))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::hours::{AwayPeriod, FocusBlock};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    pub(crate) fn person(id: &str, tz: Tz) -> Reached {
        Reached {
            user: UserId::new(id),
            is_person: true,
            hours: MemberHours::default_in(tz),
        }
    }

    /// Tuesday 21:14 UTC: night in Berlin and Tokyo, afternoon in New York.
    pub(crate) fn tuesday_evening() -> DateTime<Utc> {
        at("2026-03-03T21:14:00Z")
    }

    fn facts<'a>(sender: &'a UserId, bot: &'a UserId, mentions: &'a Mentions) -> MessageFacts<'a> {
        MessageFacts {
            sender,
            bot: bot.clone(),
            mentions,
            sender_tz: chrono_tz::America::New_York,
            mentions_not_checked: 0,
        }
    }

    #[test]
    fn mentions_are_read_from_slack_markup_once_each() {
        let mentions = Mentions::in_text(
            "hey <@U1> and <@U2|bob>, <@U1> again; <#C1|general> <!subteam^S1|@team> <mailto:a@b.c|a> <@>",
        );
        assert_eq!(mentions.users, vec![UserId::new("U1"), UserId::new("U2")]);
        assert_eq!(mentions.broadcast, None);
        assert_eq!(
            Mentions::in_text("<!here> then <!channel|channel> <!here>").broadcast,
            Some(Broadcast::Channel)
        );
        assert_eq!(
            Mentions::in_text("<!everyone>").broadcast,
            Some(Broadcast::Everyone)
        );
        assert!(Mentions::in_text("no pings, a < b > c, <unclosed").is_empty());
    }

    #[test]
    fn the_message_path_reads_the_same_pings_as_the_text_reader() {
        let lexicon = crate::norms::UrgencyLexicon::with_defaults().unwrap();
        for text in [
            "hey <@U1> and <@U2|bob>, <@U1> again <!here> asap",
            "<!channel> then <!everyone>",
            "`<@U9>` in code pings nobody, <@U3> does",
            "&gt; <@U4> quoted still notifies",
            "nothing here",
        ] {
            assert_eq!(
                Mentions::from_scan(&ScanFacts::of(&lexicon.scan(text))),
                Mentions::in_text(text),
                "{text}"
            );
        }
        assert_eq!(
            Mentions::in_text("`<@U9>` in code pings nobody, <@U3> does").users,
            vec![UserId::new("U3")]
        );
    }

    #[test]
    fn an_edit_counts_only_the_pings_it_adds() {
        let added = Mentions::added_by_edit("<@U1> <@U2> <!here>", "<@U1> <!here> typo");
        assert_eq!(added.users, vec![UserId::new("U2")]);
        assert_eq!(added.broadcast, None);
        let added = Mentions::added_by_edit("<@U1> <!channel>", "<@U1>");
        assert!(added.users.is_empty());
        assert_eq!(added.broadcast, Some(Broadcast::Channel));
    }

    #[test]
    fn a_member_outside_hours_is_listed_with_local_time_hours_and_when_they_are_back() {
        let (sender, bot) = (UserId::new("U0"), UserId::new("UBOT"));
        let mentions = Mentions::in_text("<@U1> can you look?");
        let note = build_note(
            &facts(&sender, &bot, &mentions),
            &[person("U1", chrono_tz::Europe::Berlin)],
            None,
            tuesday_evening(),
        )
        .expect("a note");
        assert_eq!(note.sections.len(), 1);
        let text = note.text();
        assert!(
            text.starts_with("*<@U1> is not working right now.*"),
            "{text}"
        );
        assert!(text.contains("*22:14 Tue* their time"), "{text}");
        assert!(
            text.contains("mon-fri 09:00-17:00 (Europe/Berlin)"),
            "{text}"
        );
        assert!(
            text.contains("back Wed 09:00, in 10h 46m (Wed 03:00 your time)"),
            "{text}"
        );
    }

    #[test]
    fn nobody_outside_hours_means_no_note() {
        let (sender, bot) = (UserId::new("U0"), UserId::new("UBOT"));
        let mentions = Mentions::in_text("<@U1>");
        let note = build_note(
            &facts(&sender, &bot, &mentions),
            &[person("U1", chrono_tz::America::New_York)],
            None,
            tuesday_evening(),
        );
        assert_eq!(note, None);
    }

    #[test]
    fn the_sender_the_bot_bots_and_deactivated_members_are_never_listed() {
        let (sender, bot) = (UserId::new("U0"), UserId::new("UBOT"));
        let mentions = Mentions::in_text("<@U0> <@UBOT> <@B1>");
        let tokyo = chrono_tz::Asia::Tokyo;
        let mut not_a_person = person("B1", tokyo);
        not_a_person.is_person = false;
        let note = build_note(
            &facts(&sender, &bot, &mentions),
            &[person("U0", tokyo), person("UBOT", tokyo), not_a_person],
            None,
            tuesday_evening(),
        );
        assert_eq!(note, None);
    }

    #[test]
    fn away_and_focus_are_listed_with_several_members_in_one_note() {
        let (sender, bot) = (UserId::new("U0"), UserId::new("UBOT"));
        let mentions = Mentions::in_text("<@U1> <@U2> <@U3>");
        let now = at("2026-03-03T15:00:00Z"); // Tue 16:00 in Berlin, 10:00 in New York
        let mut away = person("U1", chrono_tz::Europe::Berlin);
        let day = "2026-03-03".parse().unwrap();
        away.hours.away.push(AwayPeriod::new(day, day).unwrap());
        let mut focusing = person("U2", chrono_tz::Europe::Berlin);
        focusing.hours.focus = Some(FocusBlock {
            until: at("2026-03-03T15:45:00Z"),
        });
        let working = person("U3", chrono_tz::America::New_York);
        let note = build_note(
            &facts(&sender, &bot, &mentions),
            &[away, focusing, working],
            None,
            now,
        )
        .expect("a note");
        let text = note.text();
        assert!(
            text.starts_with("*2 people you mentioned are not working right now.*"),
            "{text}"
        );
        assert!(text.contains(":palm_tree: <@U1> · away"), "{text}");
        assert!(
            text.contains(":headphones: <@U2> · in focus time"),
            "{text}"
        );
        assert!(!text.contains("<@U3>"), "{text}");
    }

    #[test]
    fn many_members_are_listed_up_to_the_cap_and_counted_after_it() {
        let (sender, bot) = (UserId::new("U0"), UserId::new("UBOT"));
        let ids: Vec<String> = (0..40).map(|i| format!("U{i:03}")).collect();
        let text: String = ids.iter().map(|id| format!("<@{id}> ")).collect();
        let mentions = Mentions::in_text(&text);
        let reached: Vec<Reached> = ids
            .iter()
            .map(|id| person(id, chrono_tz::Asia::Tokyo))
            .collect();
        let note = build_note(
            &facts(&sender, &bot, &mentions),
            &reached,
            None,
            tuesday_evening(),
        )
        .expect("a note");
        let text = note.text();
        assert!(text.contains("…and 25 more not working now"), "{text}");
        // What Slack receives: the blocks the edge builds from the note.
        let blocks = crate::slack::blocks::note(&note).blocks.unwrap_or_default();
        assert!(blocks.len() <= 50, "within Slack's block limit");
        for block in blocks {
            let json = serde_json::to_value(&block).unwrap();
            if let Some(text) = json["text"]["text"].as_str() {
                assert!(text.chars().count() <= 3000);
            }
        }
    }

    #[test]
    fn a_broadcast_gives_its_reach_outside_hours_across_zones() {
        let (sender, bot) = (UserId::new("U0"), UserId::new("UBOT"));
        let mentions = Mentions::in_text("<!channel> release is out");
        let mut bot_member = person("B1", chrono_tz::UTC);
        bot_member.is_person = false;
        let audience = Audience {
            members: vec![
                person("U0", chrono_tz::Asia::Tokyo),
                person("U1", chrono_tz::Europe::Berlin),
                person("U2", chrono_tz::Asia::Tokyo),
                person("U3", chrono_tz::America::New_York),
                bot_member,
            ],
            not_checked: 0,
        };
        let note = build_note(
            &facts(&sender, &bot, &mentions),
            &[],
            Some(&audience),
            tuesday_evening(),
        )
        .expect("a note");
        assert_eq!(
            note.text(),
            ":loudspeaker: `@channel` notifies 3 people across 3 time zones; *2 of them are outside their working hours* now."
        );

        let here = Mentions::in_text("<!here>");
        let working = Audience {
            members: vec![person("U3", chrono_tz::America::New_York)],
            not_checked: 2,
        };
        assert_eq!(
            build_note(
                &facts(&sender, &bot, &here),
                &[],
                Some(&working),
                tuesday_evening()
            ),
            None,
            "nobody outside hours"
        );
    }

    #[test]
    fn a_second_section_joins_the_same_note() {
        let (sender, bot) = (UserId::new("U0"), UserId::new("UBOT"));
        let mentions = Mentions::in_text("<@U1>");
        let mut note = build_note(
            &facts(&sender, &bot, &mentions),
            &[person("U1", chrono_tz::Europe::Berlin)],
            None,
            tuesday_evening(),
        )
        .expect("a note");
        note.push(NoteSection {
            lines: vec!["Is it urgent? Real emergencies go to #incidents.".into()],
            button: None,
        });
        let blocks =
            serde_json::to_value(crate::slack::blocks::note(&note).blocks.unwrap()).unwrap();
        let kinds: Vec<&str> = blocks
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, vec!["section", "divider", "section", "context"]);
    }

    #[test]
    fn a_group_section_counts_its_members_and_does_not_repeat_those_named_above() {
        let (sender, bot) = (UserId::new("U0"), UserId::new("UBOT"));
        let mentions = Mentions::in_text("<@U1> <!subteam^S1>");
        assert_eq!(mentions.groups, vec![GroupId::new("S1")]);
        let facts = facts(&sender, &bot, &mentions);
        let berlin = person("U1", chrono_tz::Europe::Berlin);
        let group = GroupReach {
            handle: Some("backend".into()),
            audience: Audience {
                members: vec![
                    berlin.clone(),
                    person("U2", chrono_tz::Asia::Tokyo),
                    person("U3", chrono_tz::America::New_York),
                ],
                not_checked: 1,
            },
        };
        let sections = group_sections(
            &facts,
            &[berlin],
            std::slice::from_ref(&group),
            tuesday_evening(),
        );
        let text = sections[0].lines.join("\n");
        assert!(
            text.starts_with("*@backend: 2 of its 3 members are not working right now.*"),
            "{text}"
        );
        assert!(text.contains("<@U2>") && !text.contains("<@U1>"), "{text}");
        assert!(
            text.contains("(1 more members could not be checked.)"),
            "{text}"
        );
        let unnamed = GroupReach {
            handle: None,
            ..group
        };
        let sections = group_sections(&facts, &[], &[unnamed], tuesday_evening());
        assert!(sections[0].lines[0].starts_with("*the user group you mentioned: 2 of its 3"));
    }

    #[test]
    fn the_remind_button_value_reads_back_and_anything_else_does_not() {
        let (u2, u3) = (UserId::new("U2"), UserId::new("U3"));
        let value = remind_button_value(&ChannelId::new("C1"), "1772532000.000100", &[&u2, &u3]);
        assert_eq!(value, "C1 1772532000.000100 U2,U3");
        assert_eq!(
            parse_remind_button_value(&value),
            Some((
                ChannelId::new("C1"),
                "1772532000.000100".to_string(),
                vec![u2, u3]
            ))
        );
        for bad in ["", "C1", "C1 1.2", "C1 1.2 ", "C1 1.2 U2 extra"] {
            assert_eq!(parse_remind_button_value(bad), None, "{bad}");
        }
    }
}

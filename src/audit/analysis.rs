//! The audit's arithmetic: every message of an export goes through the bot's own rules
//! ([`UrgencyLexicon::scan`], [`urgency_findings`]) and hours model ([`windows_between`]) with the
//! message's own instant as "now", and only counts are kept: per conversation and ISO week,
//! an hour-of-week heat map, and the first-reply state of open threads. Nothing here reads
//! files or the clock; the edge feeds messages in and asks for the [`Report`] at the end.
//!
//! Memory stays flat: no message is kept once counted. Open threads are the one thing that
//! grows with the export, so they are bounded: a thread is forgotten once it has its first
//! reply, [`THREAD_MEMORY`] after its parent, or when more than [`MAX_OPEN_THREADS`] are open
//! (oldest first); its replies after that are not timed. Working windows are cached per member
//! and week, at most [`MAX_CACHED_WEEKS`] of them.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use serde::Serialize;

use crate::audit::export::{ConversationKind, ExportUser, RawMessage, SkippedFile, Workspace};
use crate::audit::settings::AuditSettings;
use crate::decision::urgency_findings;
use crate::hours::{MemberHours, Window, format_relative, windows_between, zone_by_name};
use crate::ids::UserId;
use crate::norms::{Broadcast, ChannelContext, RuleId};

/// How long a thread waits for its first reply before it is forgotten.
pub(crate) const THREAD_MEMORY: TimeDelta = TimeDelta::days(14);
/// The most threads waiting for a first reply at once, in one conversation.
pub(crate) const MAX_OPEN_THREADS: usize = 100_000;
/// The most (member, week) working-window lists cached at once.
pub(crate) const MAX_CACHED_WEEKS: usize = 100_000;
/// The version of `report.json`'s shape; bumped when a field changes meaning.
pub(crate) const REPORT_FORMAT: &str = "async-norms-audit/1";

/// Subtypes that are still a person talking, as the live bot reads them
/// (`slack::messages::classify`); a test holds the two to the same answers.
const PERSON_SUBTYPES: [&str; 3] = ["thread_broadcast", "file_share", "me_message"];

/// Whether a message is a person talking, and if not, why it was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageSort {
    Person,
    /// A bot or integration: `bot_message`, a `bot_id`, or a user marked `is_bot`.
    Bot,
    /// Joins, topic changes and other system messages.
    System,
}

/// Sorts a message the way the live bot does (bots and system messages are not people).
pub(crate) fn sort_message(message: &RawMessage<'_>) -> MessageSort {
    if message
        .kind
        .as_deref()
        .is_some_and(|kind| kind != "message")
    {
        return MessageSort::System;
    }
    match message.subtype.as_deref() {
        Some("bot_message") => MessageSort::Bot,
        Some(subtype) if !PERSON_SUBTYPES.contains(&subtype) => MessageSort::System,
        _ if message.bot_id.is_some() => MessageSort::Bot,
        _ => MessageSort::Person,
    }
}

/// Whether `id` can be a Slack member id (`U024BE7LH`, `W0123`): only such are taken as
/// people when an export has no members list, so damaged fields do not make people up.
fn is_member_id(id: &str) -> bool {
    (2..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A Slack `ts` (`1709546400.000200`) as microseconds since the epoch.
pub(crate) fn parse_ts(ts: &str) -> Option<i64> {
    let (secs, fraction) = ts.split_once('.').unwrap_or((ts, ""));
    let secs: i64 = secs.parse().ok()?;
    let digits = fraction.get(..fraction.len().min(6))?;
    let mut micros: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    for _ in digits.len()..6 {
        micros *= 10;
    }
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

/// Counts for one conversation and week (or any sum of them).
#[derive(Debug, Clone, Default)]
struct Counts {
    messages: u64,
    urgency_messages: u64,
    flags: [u64; RuleId::ALL.len()],
    broadcasts: u64,
    broadcast_reach: u64,
    broadcast_off_hours_reach: u64,
    mentions: u64,
    mentions_off_hours: u64,
    threads: u64,
    threads_replied: u64,
    /// First-reply times in whole minutes → how many threads: the median without keeping
    /// every thread.
    first_reply_minutes: BTreeMap<u32, u64>,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.messages += other.messages;
        self.urgency_messages += other.urgency_messages;
        for (mine, theirs) in self.flags.iter_mut().zip(other.flags) {
            *mine += theirs;
        }
        self.broadcasts += other.broadcasts;
        self.broadcast_reach += other.broadcast_reach;
        self.broadcast_off_hours_reach += other.broadcast_off_hours_reach;
        self.mentions += other.mentions;
        self.mentions_off_hours += other.mentions_off_hours;
        self.threads += other.threads;
        self.threads_replied += other.threads_replied;
        for (&minutes, &count) in &other.first_reply_minutes {
            *self.first_reply_minutes.entry(minutes).or_default() += count;
        }
    }

    /// The lower median: the middle time, or the smaller of the two middle ones.
    fn median_first_reply(&self) -> Option<u32> {
        let total: u64 = self.first_reply_minutes.values().sum();
        let mut below = total.checked_sub(1)? / 2;
        for (&minutes, &count) in &self.first_reply_minutes {
            if below < count {
                return Some(minutes);
            }
            below -= count;
        }
        None
    }

    fn figures(&self) -> Figures {
        Figures {
            messages: self.messages,
            urgency_messages: self.urgency_messages,
            flags: RuleId::ALL.into_iter().zip(self.flags).collect(),
            broadcasts: self.broadcasts,
            broadcast_reach: self.broadcast_reach,
            broadcast_off_hours_reach: self.broadcast_off_hours_reach,
            mentions: self.mentions,
            mentions_off_hours: self.mentions_off_hours,
            threads: self.threads,
            threads_replied: self.threads_replied,
            median_first_reply_minutes: self.median_first_reply(),
        }
    }
}

/// The figures of a conversation, a week or the whole export, as `report.json` holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Messages people wrote (bots and system messages left out), thread replies included.
    pub messages: u64,
    /// Messages with urgency words or `!!!`, flagged or not (never flagged in an urgent channel).
    pub(crate) urgency_messages: u64,
    /// Messages each rule flagged, every rule named.
    pub(crate) flags: BTreeMap<RuleId, u64>,
    /// Messages with `@here`, `@channel` or `@everyone`.
    pub(crate) broadcasts: u64,
    /// Members those broadcasts notified, summed over broadcasts.
    pub(crate) broadcast_reach: u64,
    /// Of those, the ones outside their working hours at the time.
    pub(crate) broadcast_off_hours_reach: u64,
    /// Members mentioned (each once a message; self-mentions and bots left out).
    pub(crate) mentions: u64,
    /// Of those, the ones outside their working hours at the time.
    pub(crate) mentions_off_hours: u64,
    /// Threads started (a parent with replies), counted in the parent's week.
    pub(crate) threads: u64,
    /// Threads whose first reply by someone other than the author was seen.
    pub(crate) threads_replied: u64,
    /// Median minutes from a parent to its first reply by someone else; `null` without any.
    pub(crate) median_first_reply_minutes: Option<u32>,
}

/// Everything the audit found; written as `report.json` and shown as `report.html`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub(crate) format: &'static str,
    /// The IANA zone of weeks and of the heat map.
    pub(crate) zone: String,
    /// The first and last message counted, RFC 3339 UTC; `null` without messages.
    pub(crate) first_message: Option<String>,
    pub(crate) last_message: Option<String>,
    pub(crate) members: MemberSummary,
    pub totals: Figures,
    pub(crate) left_out: LeftOut,
    pub conversations: Vec<ConversationReport>,
    /// Every conversation's figures summed by ISO week, weeks with messages only, oldest
    /// first: the trend.
    pub weeks: Vec<WeekReport>,
    pub(crate) heatmap: Heatmap,
    pub(crate) suggestions: Vec<Suggestion>,
    pub skipped_files: Vec<SkippedFile>,
}

/// Who the hours came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct MemberSummary {
    /// Whether the export had a list of members (`users.json` or `org_users.json`). Without
    /// one, people are the ids the conversations and messages name, and no zone is known.
    pub(crate) users_listed: bool,
    /// People in the members list (bots left out), deleted accounts included; without a
    /// list, the people seen.
    pub(crate) people: u64,
    pub(crate) bots: u64,
    /// People whose hours came from the hours file.
    pub(crate) hours_given: u64,
    /// People without a usable profile zone and no zone given: their hours are read in the
    /// report's zone (`--tz`).
    pub(crate) zone_unknown: u64,
}

/// Messages not counted, by why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LeftOut {
    pub(crate) bot_messages: u64,
    pub(crate) system_messages: u64,
    /// Messages without a user or a readable `ts`.
    pub(crate) unreadable_messages: u64,
    /// Direct and group-DM conversations not read (`--include-dms` reads them).
    pub(crate) dm_conversations: u64,
    /// Folders with day files that no channel list names, not read.
    pub(crate) unlisted_folders: Vec<String>,
}

/// One conversation's figures, in total and by ISO week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationReport {
    pub(crate) id: String,
    pub name: String,
    pub(crate) kind: ConversationKind,
    /// The Enterprise Grid workspace's folder; `null` outside a Grid org export.
    pub workspace: Option<String>,
    /// Designated urgent by the norms file: nothing is flagged there.
    pub(crate) urgent: bool,
    /// Members listed for it in the export.
    pub(crate) members: u64,
    pub totals: Figures,
    pub(crate) weeks: Vec<WeekReport>,
}

/// One ISO week of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekReport {
    /// `2024-W10`, in the report's zone.
    pub week: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// Hour-of-week counts, rows Monday to Sunday, columns 00 to 23, in the report's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Heatmap {
    pub(crate) zone: String,
    pub(crate) days: [&'static str; 7],
    /// Messages by the hour they were sent.
    pub(crate) messages: [[u64; 24]; 7],
    /// Mentions of someone outside their working hours, by the hour they were sent.
    pub(crate) off_hours_mentions: [[u64; 24]; 7],
}

/// A norm the figures point to; about channels, never about people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Suggestion {
    /// `urgent_channel`, `urgency_elsewhere`, `broadcasts`, `off_hours_mentions`, `reply_time`.
    pub(crate) kind: &'static str,
    /// The conversation it is about, by name, when it is about one.
    pub(crate) channel: Option<String>,
    pub(crate) text: String,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

struct Member {
    hours: MemberHours,
    is_bot: bool,
}

struct ConversationState {
    id: String,
    name: String,
    kind: ConversationKind,
    workspace: Option<String>,
    urgent: bool,
    listed_members: u64,
    /// People among its members, by index.
    members: Vec<u32>,
}

struct OpenThread {
    author: Option<u32>,
    week: u32,
}

/// The running audit: feed it conversations and their messages in order, then take the
/// [`Report`].
pub(crate) struct Analysis<'s> {
    settings: &'s AuditSettings,
    members: Vec<Member>,
    member_index: HashMap<String, u32>,
    member_summary: MemberSummary,
    /// People who are not deleted: who `@everyone` reaches.
    everyone: Vec<u32>,
    conversations: Vec<ConversationState>,
    current: usize,
    /// Threads of the current conversation waiting for a first reply, by parent `ts`.
    open_threads: BTreeMap<i64, OpenThread>,
    /// By (conversation, week key).
    cells: BTreeMap<(usize, u32), Counts>,
    heat_messages: [[u64; 24]; 7],
    heat_off_hours: [[u64; 24]; 7],
    left_out: LeftOut,
    window_cache: HashMap<(u32, i64), Vec<Window>>,
    first_message: Option<i64>,
    last_message: Option<i64>,
    /// Reused for de-duplicating a message's mentions.
    mentioned: Vec<u32>,
}

impl<'s> Analysis<'s> {
    /// Sets up the members' hours (the hours file, else Mon–Fri 09:00–17:00 in their
    /// profile's zone, else in the report's zone) and the conversations. Without a members
    /// list, the conversations' members are the people known so far.
    pub(crate) fn new(settings: &'s AuditSettings, workspace: &Workspace) -> Self {
        let mut analysis = Analysis {
            settings,
            members: Vec::with_capacity(workspace.users.len()),
            member_index: HashMap::with_capacity(workspace.users.len()),
            member_summary: MemberSummary {
                users_listed: workspace.users_listed,
                ..MemberSummary::default()
            },
            everyone: Vec::new(),
            conversations: Vec::with_capacity(workspace.conversations.len()),
            current: 0,
            open_threads: BTreeMap::new(),
            cells: BTreeMap::new(),
            heat_messages: [[0; 24]; 7],
            heat_off_hours: [[0; 24]; 7],
            left_out: LeftOut {
                dm_conversations: workspace.private_folders.len() as u64,
                unlisted_folders: workspace.unlisted_folders.clone(),
                ..LeftOut::default()
            },
            window_cache: HashMap::new(),
            first_message: None,
            last_message: None,
            mentioned: Vec::new(),
        };
        for user in &workspace.users {
            analysis.add_listed_member(user);
        }
        for c in &workspace.conversations {
            let mut members = Vec::with_capacity(c.members.len());
            for id in &c.members {
                if let Some(index) = analysis.member(id)
                    && !analysis.members[index as usize].is_bot
                {
                    members.push(index);
                }
            }
            analysis.conversations.push(ConversationState {
                id: c.id.clone(),
                name: c.name.clone(),
                kind: c.kind,
                workspace: c.workspace.clone(),
                urgent: settings.is_urgent(&c.name, &c.id),
                listed_members: c.members.len() as u64,
                members,
            });
        }
        analysis
    }

    fn add_listed_member(&mut self, user: &ExportUser) {
        let settings = self.settings;
        let index = self.members.len() as u32;
        let profile_zone = user.tz.as_deref().and_then(zone_by_name);
        let given = settings
            .hours
            .get(&user.id)
            .or_else(|| settings.hours.get(&user.name));
        let hours = match given {
            Some((schedule, zone)) => MemberHours::new(
                schedule.clone(),
                zone.or(profile_zone).unwrap_or(settings.zone),
            ),
            None => MemberHours::default_in(profile_zone.unwrap_or(settings.zone)),
        };
        let summary = &mut self.member_summary;
        if user.is_bot {
            summary.bots += 1;
        } else {
            summary.people += 1;
            summary.hours_given += u64::from(given.is_some());
            let zone_known = profile_zone.is_some() || given.is_some_and(|(_, z)| z.is_some());
            summary.zone_unknown += u64::from(!zone_known);
            if !user.deleted {
                self.everyone.push(index);
            }
        }
        self.member_index.insert(user.id.clone(), index);
        self.members.push(Member {
            hours,
            is_bot: user.is_bot,
        });
    }

    /// A member by id. With a members list, an id it does not hold is nobody; without one,
    /// an id seen for the first time is a person whose zone is unknown (hours read in the
    /// report's zone), and whom `@everyone` reaches from then on.
    fn member(&mut self, id: &str) -> Option<u32> {
        if let Some(&index) = self.member_index.get(id) {
            return Some(index);
        }
        if self.member_summary.users_listed || !is_member_id(id) {
            return None;
        }
        let settings = self.settings;
        let index = self.members.len() as u32;
        let given = settings.hours.get(id);
        let hours = match given {
            Some((schedule, zone)) => {
                MemberHours::new(schedule.clone(), zone.unwrap_or(settings.zone))
            }
            None => MemberHours::default_in(settings.zone),
        };
        let summary = &mut self.member_summary;
        summary.people += 1;
        summary.hours_given += u64::from(given.is_some());
        summary.zone_unknown += u64::from(!given.is_some_and(|(_, z)| z.is_some()));
        self.member_index.insert(id.to_string(), index);
        self.members.push(Member {
            hours,
            is_bot: false,
        });
        self.everyone.push(index);
        Some(index)
    }

    /// The messages that follow belong to the `index`-th conversation of the workspace.
    /// Threads do not cross conversations, so the open ones are dropped.
    pub(crate) fn begin_conversation(&mut self, index: usize) {
        self.current = index;
        self.open_threads.clear();
    }

    /// Counts one message of the current conversation. Messages of a conversation must come
    /// oldest first (day files in date order, as Slack writes them).
    pub(crate) fn message(&mut self, message: &RawMessage<'_>) {
        match sort_message(message) {
            MessageSort::Person => {}
            MessageSort::Bot => return self.left_out.bot_messages += 1,
            MessageSort::System => return self.left_out.system_messages += 1,
        }
        let (Some(user), Some(micros)) = (
            message.user.as_deref(),
            message.ts.as_deref().and_then(parse_ts),
        ) else {
            return self.left_out.unreadable_messages += 1;
        };
        // A `ts` outside years 1 to 9999 is damage, not a message: week keys (`YYYYWW`) and
        // RFC 3339 dates have no room for it.
        let Some(at) = DateTime::<Utc>::from_timestamp_micros(micros)
            .filter(|at| (1..=9999).contains(&at.year()))
        else {
            return self.left_out.unreadable_messages += 1;
        };
        let sender = self.member(user);
        if sender.is_some_and(|s| self.members[s as usize].is_bot) {
            return self.left_out.bot_messages += 1;
        }
        self.first_message = Some(self.first_message.map_or(micros, |m| m.min(micros)));
        self.last_message = Some(self.last_message.map_or(micros, |m| m.max(micros)));

        let local = at.with_timezone(&self.settings.zone);
        let iso = local.iso_week();
        let week = iso.year() as u32 * 100 + iso.week();
        let (day, hour) = (
            local.weekday().num_days_from_monday() as usize,
            local.hour() as usize,
        );
        let settings = self.settings;
        let text = message.text.as_deref().unwrap_or("");
        let scan = settings.lexicon.scan(text);

        // Mentions: each person once, not the sender, not bots.
        self.mentioned.clear();
        let mut off_hours: Vec<UserId> = Vec::new();
        for id in scan.mentions() {
            let Some(index) = self.member(id) else {
                continue;
            };
            if Some(index) == sender
                || self.members[index as usize].is_bot
                || self.mentioned.contains(&index)
            {
                continue;
            }
            self.mentioned.push(index);
            if self.is_outside_hours(index, at) {
                off_hours.push(UserId::new(*id));
            }
        }
        let mentions = self.mentioned.len() as u64;

        // Broadcasts: who they notified, and who of those was off.
        let broadcasts = scan.broadcasts();
        let (mut reach, mut off_reach) = (0, 0);
        if !broadcasts.is_empty() {
            let current = self.current;
            let audience = match broadcasts.contains(Broadcast::Everyone) {
                true => std::mem::take(&mut self.everyone),
                false => std::mem::take(&mut self.conversations[current].members),
            };
            for &member in audience.iter().filter(|&&m| Some(m) != sender) {
                reach += 1;
                off_reach += u64::from(self.is_outside_hours(member, at));
            }
            match broadcasts.contains(Broadcast::Everyone) {
                true => self.everyone = audience,
                false => self.conversations[current].members = audience,
            }
        }

        let conversation = &self.conversations[self.current];
        // An export holds each message's last text and no "Not a demand" marks: judged as
        // the bot judges a new message in a workspace that marked nothing.
        let findings = urgency_findings(
            &scan,
            None,
            &ChannelContext {
                is_urgent_channel: conversation.urgent,
                off_hours_mentions: &off_hours,
            },
            &BTreeMap::new(),
        );
        let cell = self.cells.entry((self.current, week)).or_default();
        cell.messages += 1;
        cell.urgency_messages +=
            u64::from(!scan.word_hits().is_empty() || !scan.emphasis_hits().is_empty());
        for finding in &findings {
            if let Some(slot) = RuleId::ALL.iter().position(|r| *r == finding.rule) {
                cell.flags[slot] += 1;
            }
        }
        cell.broadcasts += u64::from(!broadcasts.is_empty());
        cell.broadcast_reach += reach;
        cell.broadcast_off_hours_reach += off_reach;
        cell.mentions += mentions;
        cell.mentions_off_hours += off_hours.len() as u64;
        self.heat_messages[day][hour] += 1;
        self.heat_off_hours[day][hour] += off_hours.len() as u64;

        self.follow_thread(message, micros, sender, week);
    }

    /// Starts timing a thread at its parent, and stops at its first reply by someone else.
    fn follow_thread(
        &mut self,
        message: &RawMessage<'_>,
        micros: i64,
        sender: Option<u32>,
        week: u32,
    ) {
        let horizon = micros - THREAD_MEMORY.num_microseconds().unwrap_or(i64::MAX);
        while let Some((&oldest, _)) = self.open_threads.first_key_value() {
            if oldest >= horizon && self.open_threads.len() <= MAX_OPEN_THREADS {
                break;
            }
            self.open_threads.remove(&oldest);
        }
        let thread = message.thread_ts.as_deref().and_then(parse_ts);
        let is_parent = match thread {
            Some(thread) => thread == micros,
            None => message.reply_count.is_some_and(|n| n > 0),
        };
        if is_parent {
            self.cells.entry((self.current, week)).or_default().threads += 1;
            self.open_threads.insert(
                micros,
                OpenThread {
                    author: sender,
                    week,
                },
            );
            return;
        }
        let Some(parent) = thread else {
            return;
        };
        let Some(open) = self.open_threads.get(&parent) else {
            return;
        };
        if open.author.is_some() && open.author == sender {
            return;
        }
        let Some(open) = self.open_threads.remove(&parent) else {
            return;
        };
        let minutes = (micros - parent).max(0) / 60_000_000;
        let cell = self.cells.entry((self.current, open.week)).or_default();
        cell.threads_replied += 1;
        *cell
            .first_reply_minutes
            .entry(u32::try_from(minutes).unwrap_or(u32::MAX))
            .or_default() += 1;
    }

    /// Whether a member is outside their working hours at `at`. The same answer as
    /// `availability(..).is_available()` gives for hours without time off or focus (an export
    /// has neither), from working windows cached per member and week.
    fn is_outside_hours(&mut self, member: u32, at: DateTime<Utc>) -> bool {
        const WEEK_SECS: i64 = 7 * 24 * 3600;
        let bucket = at.timestamp().div_euclid(WEEK_SECS);
        if self.window_cache.len() >= MAX_CACHED_WEEKS {
            self.window_cache.clear();
        }
        let hours = &self.members[member as usize].hours;
        let windows = self
            .window_cache
            .entry((member, bucket))
            .or_insert_with(|| {
                let start = DateTime::<Utc>::from_timestamp(bucket * WEEK_SECS, 0)
                    .unwrap_or(DateTime::<Utc>::MIN_UTC);
                let end = start
                    .checked_add_signed(TimeDelta::days(7))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                windows_between(hours, start, end).collect()
            });
        !windows.iter().any(|&(start, end)| start <= at && at < end)
    }

    /// The report. `skipped_files` are the files the reader left out.
    pub(crate) fn finish(self, skipped_files: Vec<SkippedFile>) -> Report {
        let mut totals = Counts::default();
        let mut by_week: BTreeMap<u32, Counts> = BTreeMap::new();
        let mut per_conversation: Vec<(Counts, Vec<WeekReport>)> =
            vec![(Counts::default(), Vec::new()); self.conversations.len()];
        for (&(conversation, week), counts) in &self.cells {
            totals.add(counts);
            by_week.entry(week).or_default().add(counts);
            let (sum, weeks) = &mut per_conversation[conversation];
            sum.add(counts);
            weeks.push(WeekReport {
                week: week_name(week),
                figures: counts.figures(),
            });
        }
        let conversations: Vec<ConversationReport> = self
            .conversations
            .iter()
            .zip(per_conversation)
            .map(|(c, (sum, weeks))| ConversationReport {
                id: c.id.clone(),
                name: c.name.clone(),
                kind: c.kind,
                workspace: c.workspace.clone(),
                urgent: c.urgent,
                members: c.listed_members,
                totals: sum.figures(),
                weeks,
            })
            .collect();
        let heatmap = Heatmap {
            zone: self.settings.zone.name().to_string(),
            days: DAYS,
            messages: self.heat_messages,
            off_hours_mentions: self.heat_off_hours,
        };
        let totals = totals.figures();
        let suggestions = suggest(&conversations, &totals, &heatmap);
        let rfc3339 = |micros: i64| {
            DateTime::<Utc>::from_timestamp_micros(micros)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        Report {
            format: REPORT_FORMAT,
            zone: self.settings.zone.name().to_string(),
            first_message: self.first_message.and_then(rfc3339),
            last_message: self.last_message.and_then(rfc3339),
            members: self.member_summary,
            totals,
            left_out: self.left_out,
            conversations,
            weeks: by_week
                .iter()
                .map(|(&week, counts)| WeekReport {
                    week: week_name(week),
                    figures: counts.figures(),
                })
                .collect(),
            heatmap,
            suggestions,
            skipped_files,
        }
    }
}

/// A week key (`YYYYWW`) as `2024-W10`.
fn week_name(week: u32) -> String {
    format!("{}-W{:02}", week / 100, week % 100)
}

/// How a conversation is named in a sentence; a Grid workspace's in its workspace.
pub(crate) fn display_name(conversation: &ConversationReport) -> String {
    let name = &conversation.name;
    let base = match conversation.kind {
        ConversationKind::Channel | ConversationKind::Private => format!("#{name}"),
        ConversationKind::GroupDm => format!("the group DM {name}"),
        ConversationKind::Dm => format!("the DM {name}"),
        ConversationKind::Unlisted => format!("the unlisted folder {name}"),
    };
    match &conversation.workspace {
        Some(workspace) => format!("{base} ({workspace})"),
        None => base,
    }
}

fn percent(part: u64, whole: u64) -> u64 {
    (part * 100).checked_div(whole).unwrap_or(0)
}

fn is_channel(c: &ConversationReport) -> bool {
    matches!(
        c.kind,
        ConversationKind::Channel | ConversationKind::Private
    )
}

/// Norms the figures point to, most telling first. Thresholds keep a handful of messages
/// from driving advice.
fn suggest(
    conversations: &[ConversationReport],
    totals: &Figures,
    heatmap: &Heatmap,
) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let urgent: Vec<&ConversationReport> = conversations.iter().filter(|c| c.urgent).collect();
    let share =
        |c: &ConversationReport| c.totals.urgency_messages as f64 / c.totals.messages.max(1) as f64;

    // Where urgency really lives: the channel with the largest share of urgent messages,
    // well above the rest.
    let mut escalation = urgent.first().map(|c| display_name(c));
    if urgent.is_empty() {
        let best = conversations
            .iter()
            .filter(|c| is_channel(c) && c.totals.urgency_messages >= 5)
            .max_by(|a, b| share(a).total_cmp(&share(b)).then(b.name.cmp(&a.name)));
        if let Some(best) = best {
            let rest_urgent = totals.urgency_messages - best.totals.urgency_messages;
            let rest_messages = totals.messages - best.totals.messages;
            let rest_share = rest_urgent as f64 / rest_messages.max(1) as f64;
            if share(best) >= 2.0 * rest_share {
                let name = display_name(best);
                out.push(Suggestion {
                    kind: "urgent_channel",
                    channel: Some(best.name.clone()),
                    text: format!(
                        "{name} sees most real urgency: {}% of its {} messages ask for it, against {}% elsewhere. Make it the urgent channel (/async norms urgent-channel {name}) so urgency there is expected and never flagged.",
                        percent(best.totals.urgency_messages, best.totals.messages),
                        best.totals.messages,
                        percent(rest_urgent, rest_messages),
                    ),
                });
                escalation = Some(name);
            }
        }
    }

    // Urgency words outside the escalation path.
    let flagged = |c: &ConversationReport| c.totals.flags[&RuleId::UrgencyWords];
    let noisiest = conversations
        .iter()
        .filter(|c| !c.urgent && Some(display_name(c)) != escalation && flagged(c) >= 5)
        .max_by(|a, b| flagged(a).cmp(&flagged(b)).then(b.name.cmp(&a.name)));
    if let Some(c) = noisiest {
        let path = match &escalation {
            Some(name) => format!("real emergencies go to {name}"),
            None => "agree on one urgent channel for real emergencies".to_string(),
        };
        out.push(Suggestion {
            kind: "urgency_elsewhere",
            channel: Some(c.name.clone()),
            text: format!(
                "{} has the most urgency words outside the urgent channel ({} messages): {path}, and the rest can wait for working hours.",
                display_name(c),
                flagged(c)
            ),
        });
    }

    // Broadcasts that woke people.
    let loudest = conversations
        .iter()
        .filter(|c| !c.urgent && c.totals.broadcast_off_hours_reach > 0)
        .max_by(|a, b| {
            a.totals
                .broadcast_off_hours_reach
                .cmp(&b.totals.broadcast_off_hours_reach)
                .then(b.name.cmp(&a.name))
        });
    if let Some(c) = loudest {
        let keep = match &escalation {
            Some(name) => format!("keep them for {name}"),
            None => "keep them for real emergencies".to_string(),
        };
        out.push(Suggestion {
            kind: "broadcasts",
            channel: Some(c.name.clone()),
            text: format!(
                "@here and @channel in {} notified {} people outside their working hours ({}% of the {} notified). Post without the broadcast when it can wait; {keep}.",
                display_name(c),
                c.totals.broadcast_off_hours_reach,
                percent(c.totals.broadcast_off_hours_reach, c.totals.broadcast_reach),
                c.totals.broadcast_reach,
            ),
        });
    }

    // Mentions landing at night.
    if totals.mentions >= 10 && percent(totals.mentions_off_hours, totals.mentions) >= 15 {
        let mut peak = (0, 0, 0);
        for (day, row) in heatmap.off_hours_mentions.iter().enumerate() {
            for (hour, &count) in row.iter().enumerate() {
                if count > peak.2 {
                    peak = (day, hour, count);
                }
            }
        }
        let day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][peak.0];
        out.push(Suggestion {
            kind: "off_hours_mentions",
            channel: None,
            text: format!(
                "{}% of mentions ({} of {}) reached people outside their working hours, most often on {day} around {:02}:00 {}. Agree on an expected reply time (/async norms response-time 24h) so a mention outside someone's hours is not read as a request to answer now.",
                percent(totals.mentions_off_hours, totals.mentions),
                totals.mentions_off_hours,
                totals.mentions,
                peak.1,
                heatmap.zone,
            ),
        });
    }

    // Slow threads: make the reply time people already live with the stated one.
    let mut slow: Vec<(&ConversationReport, u32)> = conversations
        .iter()
        .filter(|c| c.totals.threads_replied >= 5)
        .filter_map(|c| Some((c, c.totals.median_first_reply_minutes?)))
        .filter(|&(_, median)| median >= 3 * 60)
        .collect();
    slow.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name.cmp(&b.0.name)));
    for (c, median) in slow.into_iter().take(3) {
        let wait = format_relative(TimeDelta::minutes(i64::from(median)));
        let stated = match median {
            0..=480 => "8h",
            481..=1440 => "24h",
            _ => "48h",
        };
        out.push(Suggestion {
            kind: "reply_time",
            channel: Some(c.name.clone()),
            text: format!(
                "Threads in {} wait a median {} for a first reply. Say so (/async norms response-time {stated}) so nobody expects an answer sooner.",
                display_name(c),
                wait.trim_start_matches("in "),
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::export::{Conversation, ExportUser};
    use crate::hours::availability;
    use crate::slack::messages::{
        BotIdentity, MessageEvent, MessageKind, classify as bot_classify,
    };

    fn workspace() -> Workspace {
        let user = |id: &str, tz: &str, is_bot: bool| ExportUser {
            id: id.into(),
            name: id.to_lowercase(),
            tz: Some(tz.into()),
            is_bot,
            ..ExportUser::default()
        };
        Workspace {
            users: vec![
                user("UB", "Europe/Berlin", false),
                user("UN", "America/New_York", false),
                user("UT", "Asia/Tokyo", false),
                user("UBOT", "UTC", true),
            ],
            conversations: vec![Conversation {
                id: "C1".into(),
                name: "general".into(),
                kind: ConversationKind::Channel,
                members: vec!["UB".into(), "UN".into(), "UT".into(), "UBOT".into()],
                folder: "general".into(),
                workspace: None,
            }],
            users_listed: true,
            ..Workspace::default()
        }
    }

    fn message<'a>(user: &'a str, ts: &'a str, text: &'a str) -> RawMessage<'a> {
        RawMessage {
            kind: Some("message".into()),
            user: Some(user.into()),
            ts: Some(ts.into()),
            text: Some(text.into()),
            ..RawMessage::default()
        }
    }

    #[test]
    fn slack_timestamps_become_microseconds() {
        assert_eq!(parse_ts("1709546400.000200"), Some(1_709_546_400_000_200));
        assert_eq!(parse_ts("1709546400"), Some(1_709_546_400_000_000));
        assert_eq!(parse_ts("1709546400.5"), Some(1_709_546_400_500_000));
        assert_eq!(parse_ts("soon"), None);
        assert_eq!(parse_ts("1.x"), None);
    }

    #[test]
    fn messages_are_sorted_as_the_live_bot_sorts_them() {
        let me = BotIdentity {
            user_id: UserId::new("UNOBODY"),
            bot_id: None,
        };
        let cases = [
            serde_json::json!({"type":"message","user":"U1","text":"x","ts":"1.1"}),
            serde_json::json!({"type":"message","subtype":"thread_broadcast","user":"U1","text":"x","ts":"1.1"}),
            serde_json::json!({"type":"message","subtype":"file_share","user":"U1","text":"x","ts":"1.1"}),
            serde_json::json!({"type":"message","subtype":"me_message","user":"U1","text":"x","ts":"1.1"}),
            serde_json::json!({"type":"message","subtype":"bot_message","bot_id":"B1","text":"x","ts":"1.1"}),
            serde_json::json!({"type":"message","user":"U1","bot_id":"B1","text":"x","ts":"1.1"}),
            serde_json::json!({"type":"message","subtype":"channel_join","user":"U1","text":"x","ts":"1.1"}),
            serde_json::json!({"type":"message","subtype":"channel_topic","user":"U1","text":"x","ts":"1.1"}),
        ];
        for case in cases {
            let bytes = serde_json::to_vec(&case).unwrap();
            let raw: RawMessage<'_> = serde_json::from_slice(&bytes).unwrap();
            let mut event: MessageEvent = serde_json::from_value(case.clone()).unwrap();
            event.channel = Some("C1".into());
            let expected = match bot_classify(&event, &me) {
                MessageKind::New(_) => MessageSort::Person,
                MessageKind::FromBot => MessageSort::Bot,
                _ => MessageSort::System,
            };
            assert_eq!(sort_message(&raw), expected, "{case}");
        }
    }

    #[test]
    fn cached_windows_agree_with_the_availability_model() {
        let settings = AuditSettings::defaults().unwrap();
        let workspace = workspace();
        let mut analysis = Analysis::new(&settings, &workspace);
        // Every 37 minutes across three weeks that hold the US daylight-saving change.
        let mut at: DateTime<Utc> = "2024-03-04T00:00:00Z".parse().unwrap();
        let end: DateTime<Utc> = "2024-03-25T00:00:00Z".parse().unwrap();
        while at < end {
            for member in 0..3 {
                let hours = analysis.members[member as usize].hours.clone();
                assert_eq!(
                    analysis.is_outside_hours(member, at),
                    !availability(&hours, at).is_available(),
                    "member {member} at {at}"
                );
            }
            at += TimeDelta::minutes(37);
        }
    }

    #[test]
    fn a_message_is_counted_with_its_mentions_broadcast_and_flags() {
        let settings = AuditSettings::defaults().unwrap();
        let workspace = workspace();
        let mut analysis = Analysis::new(&settings, &workspace);
        analysis.begin_conversation(0);
        // Monday 2024-03-04 10:00 UTC: 11:00 in Berlin (working), 05:00 in New York and
        // 19:00 in Tokyo (both off).
        analysis.message(&message(
            "UB",
            "1709546400.000100",
            "<!here> <@UN> <@UT> <@UN> <@UB> <@UBOT> need this ASAP",
        ));
        analysis.message(&RawMessage {
            subtype: Some("channel_join".into()),
            ..message("UN", "1709546401.000100", "joined")
        });
        analysis.message(&RawMessage {
            subtype: Some("bot_message".into()),
            ..message("UBOT", "1709546402.000100", "urgent!!!")
        });
        let report = analysis.finish(Vec::new());
        let t = &report.totals;
        assert_eq!(t.messages, 1);
        assert_eq!(t.mentions, 2);
        assert_eq!(t.mentions_off_hours, 2);
        assert_eq!(
            (t.broadcasts, t.broadcast_reach, t.broadcast_off_hours_reach),
            (1, 2, 2)
        );
        assert_eq!(t.flags[&RuleId::UrgencyWords], 1);
        assert_eq!(t.flags[&RuleId::Broadcast], 1);
        assert_eq!(t.flags[&RuleId::UrgentPingOffHours], 1);
        assert_eq!(t.flags[&RuleId::Emphasis], 0);
        assert_eq!(report.left_out.system_messages, 1);
        assert_eq!(report.left_out.bot_messages, 1);
        assert_eq!(report.heatmap.messages[0][10], 1);
        assert_eq!(report.heatmap.off_hours_mentions[0][10], 2);
        assert_eq!(report.conversations[0].weeks[0].week, "2024-W10");
    }

    #[test]
    fn first_reply_time_counts_only_someone_else_and_only_once() {
        let settings = AuditSettings::defaults().unwrap();
        let workspace = workspace();
        let mut analysis = Analysis::new(&settings, &workspace);
        analysis.begin_conversation(0);
        let thread = |user, ts, parent| RawMessage {
            thread_ts: Some(Cow::from(parent)),
            ..message(user, ts, "x")
        };
        use std::borrow::Cow;
        analysis.message(&thread("UB", "1709546400.000100", "1709546400.000100"));
        analysis.message(&thread("UB", "1709546460.000100", "1709546400.000100")); // self: +1m
        analysis.message(&thread("UN", "1709547000.000100", "1709546400.000100")); // +10m
        analysis.message(&thread("UT", "1709550000.000100", "1709546400.000100")); // later
        let report = analysis.finish(Vec::new());
        assert_eq!(report.totals.threads, 1);
        assert_eq!(report.totals.threads_replied, 1);
        assert_eq!(report.totals.median_first_reply_minutes, Some(10));
    }

    #[test]
    fn the_lower_median_is_taken_from_the_histogram() {
        let mut counts = Counts::default();
        assert_eq!(counts.median_first_reply(), None);
        counts.first_reply_minutes.insert(5, 1);
        counts.first_reply_minutes.insert(30, 2);
        counts.first_reply_minutes.insert(90, 1);
        assert_eq!(counts.median_first_reply(), Some(30));
        counts.first_reply_minutes.insert(3, 2);
        assert_eq!(counts.median_first_reply(), Some(5));
    }
}

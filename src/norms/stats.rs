//! What is kept of each flagged message, and the per-channel figures `/async stats` shows.
//! A record holds the channel, the instant, the rules that fired and, for a broadcast, how
//! many people it reached and how many of them were outside their hours. It never names the
//! sender, so a report can only ever be about channels, never a ranking of people.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::ChannelId;
use crate::norms::markup::Broadcast;
use crate::norms::rules::RuleId;

/// One flagged message, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FindingRecord {
    pub(crate) channel: ChannelId,
    pub(crate) at: DateTime<Utc>,
    pub(crate) rules: Vec<RuleId>,
    #[serde(default)]
    pub(crate) broadcast: Option<BroadcastReach>,
}

/// How far a flagged broadcast reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BroadcastReach {
    pub(crate) kind: Broadcast,
    /// People in the channel the bot could check.
    pub(crate) reached: u32,
    /// Of them, outside their working hours, away or in focus time.
    pub(crate) off_hours: u32,
}

/// One channel's figures over one period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ChannelFigures {
    /// Flagged messages.
    pub(crate) messages: u32,
    /// Findings per rule.
    pub(crate) per_rule: BTreeMap<RuleId, u32>,
    pub(crate) broadcasts: u32,
    pub(crate) broadcast_reached: u32,
    pub(crate) broadcast_off_hours: u32,
}

impl ChannelFigures {
    fn add(&mut self, record: &FindingRecord) {
        self.messages += 1;
        for rule in &record.rules {
            *self.per_rule.entry(*rule).or_default() += 1;
        }
        if let Some(reach) = record.broadcast {
            self.broadcasts += 1;
            self.broadcast_reached += reach.reached;
            self.broadcast_off_hours += reach.off_hours;
        }
    }
}

/// Figures per channel for the period ending now and for the one before it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StatsReport {
    pub(crate) days: i64,
    pub(crate) current: BTreeMap<ChannelId, ChannelFigures>,
    /// Flagged messages per channel in the previous period of the same length.
    pub(crate) previous: BTreeMap<ChannelId, u32>,
}

/// Sums the records of the last `days` days before `now` (and of the `days` before those),
/// for one channel or all of them.
pub(crate) fn summarise<'a>(
    records: impl IntoIterator<Item = &'a FindingRecord>,
    only: Option<&ChannelId>,
    now: DateTime<Utc>,
    days: i64,
) -> StatsReport {
    let span = TimeDelta::days(days);
    let mut report = StatsReport {
        days,
        ..Default::default()
    };
    for record in records {
        if only.is_some_and(|channel| *channel != record.channel) || record.at > now {
            continue;
        }
        let age = now - record.at;
        if age < span {
            report
                .current
                .entry(record.channel.clone())
                .or_default()
                .add(record);
        } else if age < span * 2 {
            *report.previous.entry(record.channel.clone()).or_default() += 1;
        }
    }
    report
}

/// The report as Slack mrkdwn: a line per channel, busiest first, with counts per rule,
/// broadcasts and their off-hours reach, and the trend against the previous period.
pub(crate) fn report_text(report: &StatsReport) -> String {
    let days = report.days;
    let mut channels: Vec<&ChannelId> = report
        .current
        .keys()
        .chain(report.previous.keys())
        .collect();
    channels.sort();
    channels.dedup();
    if channels.is_empty() {
        return format!(
            "*Urgency over the last {days} days:* nothing was flagged, nor in the {days} days before."
        );
    }
    let empty = ChannelFigures::default();
    channels.sort_by_key(|c| std::cmp::Reverse(report.current.get(*c).map_or(0, |f| f.messages)));
    let total: u32 = report.current.values().map(|f| f.messages).sum();
    let before: u32 = report.previous.values().sum();
    let mut text = format!(
        "*Urgency over the last {days} days:* {total} flagged {} ({}).",
        messages_word(total),
        trend(total, before, days)
    );
    for channel in channels {
        let figures = report.current.get(channel).unwrap_or(&empty);
        let previous = report.previous.get(channel).copied().unwrap_or(0);
        let _ = write!(
            text,
            "\n• <#{channel}>: {} {}",
            figures.messages,
            messages_word(figures.messages)
        );
        if !figures.per_rule.is_empty() {
            let rules: Vec<String> = figures
                .per_rule
                .iter()
                .map(|(rule, count)| format!("{} {count}", rule.label()))
                .collect();
            let _ = write!(text, " ({})", rules.join(", "));
        }
        if figures.broadcasts > 0 {
            let _ = write!(
                text,
                "; {} {} reaching {} people, {} of them outside their hours",
                figures.broadcasts,
                if figures.broadcasts == 1 {
                    "broadcast"
                } else {
                    "broadcasts"
                },
                figures.broadcast_reached,
                figures.broadcast_off_hours
            );
        }
        let _ = write!(text, "; {}.", trend(figures.messages, previous, days));
    }
    text.push_str("\n_Counted per channel; nobody is ranked._");
    text
}

fn messages_word(count: u32) -> &'static str {
    if count == 1 { "message" } else { "messages" }
}

fn trend(now: u32, before: u32, days: i64) -> String {
    match (now, before) {
        (_, 0) if now == 0 => format!("same as the {days} days before"),
        (_, 0) => format!("none in the {days} days before"),
        _ if now == before => format!("same as the {days} days before"),
        _ => {
            let change = (i64::from(now) - i64::from(before)) * 100 / i64::from(before);
            format!("{change:+}% against the {days} days before, {before} then")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn record(channel: &str, when: &str, rules: &[RuleId]) -> FindingRecord {
        FindingRecord {
            channel: ChannelId::new(channel),
            at: at(when),
            rules: rules.to_vec(),
            broadcast: None,
        }
    }

    #[test]
    fn records_fall_into_the_current_or_the_previous_period_per_channel() {
        let now = at("2026-03-10T12:00:00Z");
        let mut with_reach = record(
            "C1",
            "2026-03-09T12:00:00Z",
            &[RuleId::Broadcast, RuleId::UrgencyWords],
        );
        with_reach.broadcast = Some(BroadcastReach {
            kind: Broadcast::Here,
            reached: 12,
            off_hours: 5,
        });
        let records = [
            with_reach,
            record("C1", "2026-03-04T12:00:01Z", &[RuleId::UrgencyWords]),
            record("C1", "2026-03-02T12:00:00Z", &[RuleId::Emphasis]),
            record("C2", "2026-02-20T12:00:00Z", &[RuleId::Emphasis]),
            record("C2", "2026-03-11T12:00:00Z", &[RuleId::Emphasis]),
        ];
        let report = summarise(&records, None, now, 7);
        let c1 = &report.current[&ChannelId::new("C1")];
        assert_eq!(c1.messages, 2);
        assert_eq!(c1.per_rule[&RuleId::UrgencyWords], 2);
        assert_eq!(c1.per_rule[&RuleId::Broadcast], 1);
        assert_eq!(
            (c1.broadcasts, c1.broadcast_reached, c1.broadcast_off_hours),
            (1, 12, 5)
        );
        assert_eq!(report.previous[&ChannelId::new("C1")], 1);
        // Three weeks old, and in the future: neither period.
        assert!(!report.current.contains_key(&ChannelId::new("C2")));
        assert!(!report.previous.contains_key(&ChannelId::new("C2")));

        let text = report_text(&report);
        assert!(
            text.contains("2 flagged messages (+100% against the 7 days before, 1 then)"),
            "{text}"
        );
        assert!(text.contains("<#C1>: 2 messages (urgency words 2, broadcast 1); 1 broadcast reaching 12 people, 5 of them outside their hours"), "{text}");
        assert!(text.contains("nobody is ranked"), "{text}");

        let only_c2 = summarise(&records, Some(&ChannelId::new("C2")), now, 30);
        assert_eq!(only_c2.current[&ChannelId::new("C2")].messages, 1);
        assert!(!only_c2.current.contains_key(&ChannelId::new("C1")));
    }

    #[test]
    fn an_empty_report_says_nothing_was_flagged() {
        let text = report_text(&summarise([], None, at("2026-03-10T12:00:00Z"), 30));
        assert_eq!(
            text,
            "*Urgency over the last 30 days:* nothing was flagged, nor in the 30 days before."
        );
    }
}

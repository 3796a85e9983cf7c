//! What a workspace teaches the urgency judgment, privately. Each private nudge carries a
//! "Not a demand" button; a press records which phrase and which rule misfired, never the
//! message, its text or who pressed. `/async stats` shows per phrase how often its nudges
//! were marked wrong, and a phrase marked wrong often enough stops nudging in that
//! workspace ([`MUTE_AFTER`]) until an admin or manager adds it again with
//! `/async norms keywords add <phrase>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::norms::rules::{Finding, RuleId};
use crate::norms::words::{EMPHASIS, normalise};

/// The `action_id` of the "Not a demand" button on a nudge.
pub(crate) const NOT_A_DEMAND_ACTION: &str = "urgency_not_a_demand";

/// A phrase stops nudging once this many of its nudges were marked "Not a demand"...
pub(crate) const MUTE_AFTER: u32 = 3;
/// ...and they are at least this share (in percent) of its nudges: a phrase that is right
/// most of the time is not silenced by a few people who disagree.
pub(crate) const MUTE_SHARE_PERCENT: u32 = 50;

/// How a workspace has received the nudges about one phrase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PhraseFeedback {
    /// Nudges sent about the phrase.
    pub(crate) nudged: u32,
    /// Presses of "Not a demand", per rule that named the phrase.
    pub(crate) marked_wrong: BTreeMap<RuleId, u32>,
}

impl PhraseFeedback {
    pub(crate) fn wrong(&self) -> u32 {
        self.marked_wrong.values().sum()
    }

    /// Whether the phrase no longer nudges in this workspace.
    pub(crate) fn is_muted(&self) -> bool {
        let wrong = self.wrong();
        wrong >= MUTE_AFTER && wrong * 100 >= self.nudged.max(wrong) * MUTE_SHARE_PERCENT
    }
}

/// The phrase a finding is about, as the workspace's list spells it (`ASAP` → `asap`,
/// `!!!!` → `!!!`), or `None` for a broadcast, which is no phrase.
pub(crate) fn phrase_of(finding: &Finding) -> Option<String> {
    if finding.rule == RuleId::Broadcast {
        return None;
    }
    let matched = finding.matched.as_deref()?;
    if !matched.is_empty() && matched.chars().all(|c| c == '!') {
        return Some(EMPHASIS.to_string());
    }
    Some(normalise(matched))
}

/// The finding a nudge's button is about: the first one that names a phrase.
pub(crate) fn button_finding(findings: &[Finding]) -> Option<(RuleId, String)> {
    findings
        .iter()
        .find_map(|f| phrase_of(f).map(|phrase| (f.rule, phrase)))
}

/// The button's value: the rule and the phrase, nothing else.
pub(crate) fn button_value(rule: RuleId, phrase: &str) -> String {
    format!("{}:{phrase}", rule.as_str())
}

/// Reads a button's value back; `None` for anything the bot did not write.
pub(crate) fn parse_button_value(value: &str) -> Option<(RuleId, String)> {
    let (rule, phrase) = value.split_once(':')?;
    let rule = RuleId::ALL.into_iter().find(|r| r.as_str() == rule)?;
    let phrase = normalise(phrase);
    let fits = !phrase.is_empty() && phrase.chars().count() <= crate::norms::words::MAX_WORD_CHARS;
    (rule != RuleId::Broadcast && fits).then_some((rule, phrase))
}

/// Drops the findings about phrases the workspace has muted.
pub(crate) fn without_muted(
    findings: &mut Vec<Finding>,
    feedback: &BTreeMap<String, PhraseFeedback>,
) {
    findings.retain(|finding| {
        phrase_of(finding)
            .and_then(|phrase| feedback.get(&phrase))
            .is_none_or(|record| !record.is_muted())
    });
}

/// The lines `/async stats` adds: per phrase, how often its nudges were marked wrong, most
/// often first; empty when nobody has pressed the button.
pub(crate) fn report_text(feedback: &BTreeMap<String, PhraseFeedback>) -> String {
    let mut marked: Vec<(&String, &PhraseFeedback)> =
        feedback.iter().filter(|(_, f)| f.wrong() > 0).collect();
    if marked.is_empty() {
        return String::new();
    }
    marked.sort_by_key(|(phrase, f)| (std::cmp::Reverse(f.wrong()), phrase.as_str()));
    let mut text = String::from("*Nudges marked “Not a demand”*, per phrase:");
    for (phrase, record) in marked {
        let _ = write!(
            text,
            "\n• “{phrase}”: {} of {} {}",
            record.wrong(),
            record.nudged.max(record.wrong()),
            if record.nudged == 1 {
                "nudge"
            } else {
                "nudges"
            }
        );
        let rules: Vec<String> = record
            .marked_wrong
            .iter()
            .map(|(rule, count)| format!("{} {count}", rule.label()))
            .collect();
        let _ = write!(text, " ({})", rules.join(", "));
        if record.is_muted() {
            let _ = write!(
                text,
                "; no longer nudges here (`/async norms keywords add {}` turns it back on)",
                quoted_for_command(phrase)
            );
        }
        text.push('.');
    }
    let _ = write!(
        text,
        "\n_A phrase stops nudging once {MUTE_AFTER} of its nudges, and at least half of them, are marked “Not a demand”._"
    );
    text
}

/// A phrase as `/async norms keywords add` takes it: quoted when it has a space.
fn quoted_for_command(phrase: &str) -> String {
    if phrase.contains(' ') {
        format!("\"{phrase}\"")
    } else {
        phrase.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: RuleId, matched: &str) -> Finding {
        Finding {
            rule,
            reason: String::new(),
            matched: Some(matched.to_string()),
        }
    }

    fn marked(nudged: u32, wrong: u32) -> PhraseFeedback {
        PhraseFeedback {
            nudged,
            marked_wrong: BTreeMap::from([(RuleId::UrgencyWords, wrong)]),
        }
    }

    #[test]
    fn a_phrase_is_muted_after_three_wrong_marks_that_are_half_its_nudges() {
        assert!(!marked(3, 2).is_muted());
        assert!(marked(3, 3).is_muted());
        assert!(marked(6, 3).is_muted());
        assert!(!marked(7, 3).is_muted(), "right more often than wrong");
        assert!(marked(0, 3).is_muted(), "nudges sent before counting began");
    }

    #[test]
    fn phrases_are_spelt_as_the_list_spells_them() {
        assert_eq!(
            phrase_of(&finding(RuleId::UrgencyWords, "ASAP")).as_deref(),
            Some("asap")
        );
        assert_eq!(
            phrase_of(&finding(RuleId::Emphasis, "!!!!!")).as_deref(),
            Some("!!!")
        );
        assert_eq!(
            phrase_of(&finding(RuleId::UrgentPingOffHours, "Right  Now")).as_deref(),
            Some("right now")
        );
        assert_eq!(phrase_of(&finding(RuleId::Broadcast, "@here")), None);
    }

    #[test]
    fn the_button_value_holds_the_rule_and_phrase_only_and_reads_back() {
        let findings = [
            finding(RuleId::Broadcast, "@here"),
            finding(RuleId::UrgencyWords, "ASAP"),
        ];
        let (rule, phrase) = button_finding(&findings).unwrap();
        let value = button_value(rule, &phrase);
        assert_eq!(value, "urgency_words:asap");
        assert_eq!(parse_button_value(&value), Some((rule, phrase)));
        for bad in [
            "",
            "asap",
            "nonsense:asap",
            "broadcast:@here",
            "urgency_words:",
            &format!("urgency_words:{}", "x".repeat(100)),
        ] {
            assert_eq!(parse_button_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn muted_phrases_drop_their_findings_and_broadcasts_stay() {
        let feedback = BTreeMap::from([("asap".to_string(), marked(3, 3))]);
        let mut findings = vec![
            finding(RuleId::UrgencyWords, "ASAP"),
            finding(RuleId::Broadcast, "@here"),
            finding(RuleId::UrgentPingOffHours, "asap"),
            finding(RuleId::Emphasis, "!!!"),
        ];
        without_muted(&mut findings, &feedback);
        let rules: Vec<RuleId> = findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, [RuleId::Broadcast, RuleId::Emphasis]);
    }

    #[test]
    fn the_report_lists_phrases_by_marks_and_says_how_to_undo_a_mute() {
        assert_eq!(report_text(&BTreeMap::new()), "");
        let feedback = BTreeMap::from([
            ("right now".to_string(), marked(4, 3)),
            ("asap".to_string(), marked(10, 1)),
            ("today".to_string(), marked(2, 0)),
        ]);
        let text = report_text(&feedback);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1],
            "• “right now”: 3 of 4 nudges (urgency words 3); no longer nudges here (`/async norms keywords add \"right now\"` turns it back on)."
        );
        assert_eq!(lines[2], "• “asap”: 1 of 10 nudges (urgency words 1).");
        assert!(!text.contains("today"));
    }
}

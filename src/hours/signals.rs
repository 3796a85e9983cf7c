//! What Slack already says about a member, read as availability: a profile status such as
//! ":palm_tree: Vacationing" means away until the status expires, and Do Not Disturb means
//! focus time. Members should not have to tell the bot what they told Slack. These signals
//! are never stored with the hours: they come from the profile each time it is read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A member's Slack profile status, as `users.info` and `user_change` carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SlackStatus {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) text: String,
    /// With colons, as Slack sends it (`:palm_tree:`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) emoji: String,
    /// When Slack clears the status; `None` when it stays until the member clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expiration: Option<DateTime<Utc>>,
}

impl SlackStatus {
    /// A status from a profile's fields; an `expiration` of 0 (Slack's "never") is none.
    pub(crate) fn from_profile(
        text: Option<&str>,
        emoji: Option<&str>,
        expiration_unix: i64,
    ) -> Self {
        SlackStatus {
            text: text.unwrap_or_default().trim().to_string(),
            emoji: emoji.unwrap_or_default().trim().to_string(),
            expiration: (expiration_unix > 0)
                .then(|| DateTime::from_timestamp(expiration_unix, 0))
                .flatten(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.text.is_empty() && self.emoji.is_empty()
    }
}

/// What a Slack signal says a member is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignalKind {
    /// An away-like status: on holiday, sick, out of office.
    Away,
    /// Do Not Disturb: read as focus time.
    DoNotDisturb,
}

/// A Slack signal in effect for a member, with what the note shows as the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlackSignal {
    pub(crate) kind: SignalKind,
    /// The status text (or emoji) as the member wrote it; "Do Not Disturb" for DND.
    pub(crate) label: String,
    /// When it ends; `None` when it lasts until the member changes it.
    pub(crate) until: Option<DateTime<Utc>>,
}

impl SlackSignal {
    /// Whether it is in effect at `now`.
    pub(crate) fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|until| now < until)
    }

    /// The signal as a Do Not Disturb period ending at `until`.
    pub(crate) fn do_not_disturb(until: DateTime<Utc>) -> Self {
        SlackSignal {
            kind: SignalKind::DoNotDisturb,
            label: "Do Not Disturb".to_string(),
            until: Some(until),
        }
    }
}

/// A member's Do Not Disturb settings, as `dnd.info` answers: a scheduled period (its next
/// start and end) and a snooze (until its end). Kept as Slack sent them, so an answer read
/// a few minutes ago still says rightly whether DND is on now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DndStatus {
    /// The scheduled period, when the member has a DND schedule.
    pub(crate) scheduled: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The end of the snooze the member turned on, if any.
    pub(crate) snooze_end: Option<DateTime<Utc>>,
}

impl DndStatus {
    /// From `dnd.info`'s fields (Unix seconds; 0 or absent for none).
    pub(crate) fn from_slack(
        dnd_enabled: bool,
        next_start: i64,
        next_end: i64,
        snooze_enabled: bool,
        snooze_end: i64,
    ) -> Self {
        let at = |unix: i64| {
            (unix > 0)
                .then(|| DateTime::from_timestamp(unix, 0))
                .flatten()
        };
        DndStatus {
            scheduled: dnd_enabled
                .then(|| at(next_start).zip(at(next_end)))
                .flatten()
                .filter(|(start, end)| start < end),
            snooze_end: snooze_enabled.then(|| at(snooze_end)).flatten(),
        }
    }

    /// The Do Not Disturb signal at `now`, if DND is on: until the latest end of what is on.
    pub(crate) fn signal(&self, now: DateTime<Utc>) -> Option<SlackSignal> {
        let scheduled = self
            .scheduled
            .filter(|(start, end)| *start <= now && now < *end)
            .map(|(_, end)| end);
        let snoozed = self.snooze_end.filter(|end| now < *end);
        scheduled.max(snoozed).map(SlackSignal::do_not_disturb)
    }
}

/// Words of a status that mean the member is away, in every language the bot ships
/// (English, German, Spanish). A word matches at the start of a word of the status, so
/// "vacation" matches "Vacationing"; a workspace can add its own and remove these.
pub(crate) const DEFAULT_AWAY_WORDS: [&str; 27] = [
    // English
    "vacation",
    "holiday",
    "on leave",
    "parental leave",
    "out of office",
    "out of the office",
    "ooo",
    "pto",
    "sick",
    "day off",
    "time off",
    // German
    "urlaub",
    "krank",
    "abwesend",
    "feiertag",
    "elternzeit",
    "nicht im büro",
    "außer haus",
    // Spanish
    "vacaciones",
    "de baja",
    "enfermo",
    "enferma",
    "fuera de la oficina",
    "festivo",
    "día libre",
    "permiso",
    "ausente",
];

/// Status emoji that mean away whatever the text says: Slack's own "Vacationing" and "Out
/// sick" presets and their kin.
pub(crate) const AWAY_EMOJI: [&str; 6] = [
    ":palm_tree:",
    ":face_with_thermometer:",
    ":beach_with_umbrella:",
    ":desert_island:",
    ":thermometer:",
    ":sick:",
];

/// The away signal a status gives at `now` under the workspace's `words`, if any: the status
/// is set, not expired, and its emoji or a word of its text says away.
pub(crate) fn away_signal<S: AsRef<str>>(
    status: &SlackStatus,
    words: &[S],
    now: DateTime<Utc>,
) -> Option<SlackSignal> {
    if status.is_empty() || status.expiration.is_some_and(|at| at <= now) {
        return None;
    }
    let text = status.text.to_lowercase();
    let says_away = AWAY_EMOJI.contains(&status.emoji.as_str())
        || words
            .iter()
            .any(|word| starts_a_word(&text, &word.as_ref().to_lowercase()));
    says_away.then(|| SlackSignal {
        kind: SignalKind::Away,
        label: if status.text.is_empty() {
            status.emoji.clone()
        } else {
            status.text.clone()
        },
        until: status.expiration,
    })
}

/// Whether `word` occurs in `text` at the start of a word.
fn starts_a_word(text: &str, word: &str) -> bool {
    let word = word.trim();
    if word.is_empty() {
        return false;
    }
    text.match_indices(word).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|before| !before.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn status(text: &str, emoji: &str, expiration: Option<&str>) -> SlackStatus {
        SlackStatus {
            text: text.into(),
            emoji: emoji.into(),
            expiration: expiration.map(at),
        }
    }

    #[test]
    fn away_like_statuses_in_every_shipped_language_mean_away() {
        let now = at("2026-03-03T10:00:00Z");
        let away = [
            ("Vacationing", ""),
            ("On holiday until Monday", ""),
            ("OOO", ""),
            ("Out of office", ""),
            ("Out sick", ""),
            ("Im Urlaub", ""),
            ("krank", ""),
            ("De vacaciones", ""),
            ("Fuera de la oficina", ""),
            ("", ":palm_tree:"),
            ("Feeling rough", ":face_with_thermometer:"),
        ];
        for (text, emoji) in away {
            let signal = away_signal(&status(text, emoji, None), &DEFAULT_AWAY_WORDS, now);
            assert_eq!(
                signal.as_ref().map(|s| s.kind),
                Some(SignalKind::Away),
                "{text} {emoji}"
            );
        }
        let working = [
            ("In a meeting", ":spiral_calendar_pad:"),
            ("Commuting", ":bus:"),
            ("Working remotely", ":house_with_garden:"),
            // A word inside another word is not that word.
            ("Shopping", ""),
            ("", ""),
        ];
        for (text, emoji) in working {
            assert_eq!(
                away_signal(&status(text, emoji, None), &DEFAULT_AWAY_WORDS, now),
                None,
                "{text} {emoji}"
            );
        }
    }

    #[test]
    fn an_away_status_lasts_until_it_expires_and_shows_its_text() {
        let vacation = status("Vacationing", ":palm_tree:", Some("2026-03-06T17:00:00Z"));
        let signal =
            away_signal(&vacation, &DEFAULT_AWAY_WORDS, at("2026-03-03T10:00:00Z")).expect("away");
        assert_eq!(signal.label, "Vacationing");
        assert_eq!(signal.until, Some(at("2026-03-06T17:00:00Z")));
        assert!(signal.is_active(at("2026-03-06T16:59:00Z")));
        assert!(!signal.is_active(at("2026-03-06T17:00:00Z")));
        assert_eq!(
            away_signal(&vacation, &DEFAULT_AWAY_WORDS, at("2026-03-06T17:00:00Z")),
            None
        );
    }

    #[test]
    fn the_workspace_list_decides_which_words_mean_away() {
        let now = at("2026-03-03T10:00:00Z");
        let offsite = status("At the offsite", "", None);
        assert_eq!(away_signal(&offsite, &DEFAULT_AWAY_WORDS, now), None);
        assert!(away_signal(&offsite, &["offsite"], now).is_some());
        let vacation = status("Vacationing", "", None);
        assert_eq!(away_signal(&vacation, &["offsite"], now), None);
    }

    #[test]
    fn a_profile_status_reads_slacks_never_as_no_expiration() {
        assert_eq!(
            SlackStatus::from_profile(Some(" Vacationing "), Some(":palm_tree:"), 0),
            status("Vacationing", ":palm_tree:", None)
        );
        assert_eq!(
            SlackStatus::from_profile(None, None, 1_772_812_800).expiration,
            Some(at("2026-03-06T16:00:00Z"))
        );
    }
    #[test]
    fn do_not_disturb_is_on_while_snoozed_or_inside_its_schedule() {
        let now = at("2026-03-03T10:00:00Z");
        let unix = |text: &str| at(text).timestamp();
        let snoozed = DndStatus::from_slack(false, 0, 0, true, unix("2026-03-03T13:30:00Z"));
        assert_eq!(
            snoozed.signal(now),
            Some(SlackSignal::do_not_disturb(at("2026-03-03T13:30:00Z")))
        );
        assert_eq!(snoozed.signal(at("2026-03-03T13:30:00Z")), None);
        let scheduled = DndStatus::from_slack(
            true,
            unix("2026-03-03T09:00:00Z"),
            unix("2026-03-03T11:00:00Z"),
            false,
            0,
        );
        assert_eq!(
            scheduled.signal(now).and_then(|s| s.until),
            Some(at("2026-03-03T11:00:00Z"))
        );
        assert_eq!(scheduled.signal(at("2026-03-03T08:59:00Z")), None);
        // Both on: it lasts until the later end.
        let both = DndStatus::from_slack(
            true,
            unix("2026-03-03T09:00:00Z"),
            unix("2026-03-03T11:00:00Z"),
            true,
            unix("2026-03-03T12:00:00Z"),
        );
        assert_eq!(
            both.signal(now).and_then(|s| s.until),
            Some(at("2026-03-03T12:00:00Z"))
        );
        // A schedule turned off, or a snooze not enabled, is no DND whatever the times say.
        let off = DndStatus::from_slack(
            false,
            unix("2026-03-03T09:00:00Z"),
            unix("2026-03-03T11:00:00Z"),
            false,
            unix("2026-03-03T12:00:00Z"),
        );
        assert_eq!(off.signal(now), None);
        assert_eq!(DndStatus::default().signal(now), None);
    }
}

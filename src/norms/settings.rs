//! A workspace's urgency norms as data: where real emergencies go, its changes to the
//! shipped word list, and per channel the expected reply time, whether nudges are on and
//! how they are delivered. Pure values with the small edits the `/async norms` commands
//! make; storing them is the bot's job.

use std::time::Duration;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, UserId};
use crate::norms::rules::NudgeContext;
use crate::norms::words::{LexiconError, UrgencyLexicon, default_words, normalise};

/// The reply time a channel expects until someone sets one.
pub(crate) const DEFAULT_RESPONSE_TIME: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a sender is not nudged again in the same channel after a nudge.
pub(crate) const NUDGE_COOLDOWN: TimeDelta = TimeDelta::minutes(30);

/// The norms every channel of a workspace shares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WorkspaceNorms {
    /// Channels designated for urgent requests: nothing is flagged there, and nudges point
    /// to them.
    #[serde(default)]
    pub(crate) urgent_channels: Vec<ChannelId>,
    /// Words added to the shipped list, normalised.
    #[serde(default)]
    pub(crate) added_words: Vec<String>,
    /// Shipped words the workspace removed, normalised.
    #[serde(default)]
    pub(crate) removed_words: Vec<String>,
    /// Admins and managers who turned the weekly digest off.
    #[serde(default)]
    pub(crate) digest_opt_outs: Vec<UserId>,
    /// Days check-in answers are kept after their report, when an admin set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) answer_retention_days: Option<u32>,
    /// Words of a Slack status that mean away, added to the shipped list (lower case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) added_away_words: Vec<String>,
    /// Shipped away words the workspace removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) removed_away_words: Vec<String>,
    /// Members who turned Slack's signals (status, Do Not Disturb) off for themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) signals_off: Vec<UserId>,
}

/// How long check-in answers are kept after their report until an admin sets otherwise.
pub(crate) const DEFAULT_ANSWER_RETENTION: TimeDelta = TimeDelta::days(90);

impl WorkspaceNorms {
    /// The words of a Slack status that mean away here: the shipped ones less those
    /// removed, then those added.
    pub(crate) fn away_words(&self) -> Vec<String> {
        crate::hours::signals::DEFAULT_AWAY_WORDS
            .iter()
            .map(|word| word.to_string())
            .filter(|word| !self.removed_away_words.contains(word))
            .chain(self.added_away_words.iter().cloned())
            .collect()
    }

    /// How long check-in answers are kept after their report.
    pub(crate) fn answer_retention(&self) -> TimeDelta {
        self.answer_retention_days
            .map_or(DEFAULT_ANSWER_RETENTION, |days| {
                TimeDelta::days(days.into())
            })
    }

    /// The workspace's lexicon: the shipped list with its additions and removals.
    pub(crate) fn lexicon(&self) -> Result<UrgencyLexicon, LexiconError> {
        UrgencyLexicon::customised(&self.added_words, &self.removed_words)
    }

    pub(crate) fn is_urgent_channel(&self, channel: &ChannelId) -> bool {
        self.urgent_channels.contains(channel)
    }

    /// Designates a channel urgent; says whether it was not yet.
    pub(crate) fn add_urgent_channel(&mut self, channel: &ChannelId) -> bool {
        if self.is_urgent_channel(channel) {
            return false;
        }
        self.urgent_channels.push(channel.clone());
        true
    }

    /// Takes a channel off the urgent list; says whether it was on it.
    pub(crate) fn remove_urgent_channel(&mut self, channel: &ChannelId) -> bool {
        let before = self.urgent_channels.len();
        self.urgent_channels.retain(|c| c != channel);
        self.urgent_channels.len() != before
    }

    /// Adds words to the list (a removed shipped word comes back); returns the ones that
    /// were not in it yet. The caller checks [`WorkspaceNorms::lexicon`] still builds.
    pub(crate) fn add_words<S: AsRef<str>>(&mut self, words: &[S]) -> Vec<String> {
        let mut changed = Vec::new();
        for word in words.iter().map(|w| normalise(w.as_ref())) {
            let was_removed = self.removed_words.contains(&word);
            self.removed_words.retain(|w| *w != word);
            let shipped = default_words().any(|w| normalise(w) == word);
            if was_removed || (!shipped && !self.added_words.contains(&word)) {
                if !shipped {
                    self.added_words.push(word.clone());
                }
                changed.push(word);
            }
        }
        changed
    }

    /// Removes words from the list (a shipped word is remembered as removed); returns the
    /// ones that were in it.
    pub(crate) fn remove_words<S: AsRef<str>>(&mut self, words: &[S]) -> Vec<String> {
        let mut changed = Vec::new();
        for word in words.iter().map(|w| normalise(w.as_ref())) {
            let was_added = self.added_words.contains(&word);
            self.added_words.retain(|w| *w != word);
            let shipped = default_words().any(|w| normalise(w) == word);
            let newly_removed = shipped && !self.removed_words.contains(&word);
            if newly_removed {
                self.removed_words.push(word.clone());
            }
            if was_added || newly_removed {
                changed.push(word);
            }
        }
        changed
    }
}

/// How a channel hears about urgency findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NudgeAction {
    /// One private note to the sender (the default).
    #[default]
    Ephemeral,
    /// A reaction on the message, e.g. `hourglass_flowing_sand`.
    Reaction { emoji: String },
    /// A short reply in the message's thread.
    ThreadReply,
}

/// One channel's own norms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ChannelNorms {
    /// The expected reply time in seconds; `None` is [`DEFAULT_RESPONSE_TIME`].
    #[serde(default)]
    pub(crate) response_time_secs: Option<u64>,
    #[serde(default = "nudges_default")]
    pub(crate) nudges: bool,
    #[serde(default)]
    pub(crate) action: NudgeAction,
}

fn nudges_default() -> bool {
    true
}

impl Default for ChannelNorms {
    fn default() -> Self {
        ChannelNorms {
            response_time_secs: None,
            nudges: true,
            action: NudgeAction::Ephemeral,
        }
    }
}

impl ChannelNorms {
    /// The reply time this channel expects.
    pub(crate) fn response_time(&self) -> Duration {
        self.response_time_secs
            .map_or(DEFAULT_RESPONSE_TIME, Duration::from_secs)
    }

    /// Sets the expected reply time (the parser bounds it between 1m and 30d).
    pub(crate) fn set_response_time(&mut self, time: TimeDelta) {
        self.response_time_secs = Some(time.num_seconds().max(60) as u64);
    }

    /// What the nudge says about this channel's norms and the escalation path.
    pub(crate) fn nudge_context(&self, workspace: &WorkspaceNorms) -> NudgeContext {
        NudgeContext {
            response_time: Some(self.response_time()),
            urgent_channels: workspace.urgent_channels.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_and_removed_words_change_the_lexicon_and_undo_each_other() {
        let mut norms = WorkspaceNorms::default();
        assert_eq!(norms.add_words(&["Dringend", "asap"]), vec!["dringend"]);
        assert_eq!(norms.add_words(&["dringend"]), Vec::<String>::new());
        let lexicon = norms.lexicon().unwrap();
        assert_eq!(lexicon.scan("Das ist DRINGEND").word_hits().len(), 1);

        assert_eq!(
            norms.remove_words(&["ASAP", "dringend", "nope"]),
            vec!["asap", "dringend"]
        );
        let lexicon = norms.lexicon().unwrap();
        assert!(lexicon.scan("asap please, dringend").word_hits().is_empty());

        // A removed shipped word comes back when added again.
        assert_eq!(norms.add_words(&["asap"]), vec!["asap"]);
        assert!(norms.removed_words.is_empty());
        assert_eq!(norms.lexicon().unwrap().scan("asap").word_hits().len(), 1);
    }

    #[test]
    fn removing_the_emphasis_word_turns_the_emphasis_rule_off() {
        let mut norms = WorkspaceNorms::default();
        assert!(norms.lexicon().unwrap().has_emphasis());
        norms.remove_words(&["!!!"]);
        assert!(!norms.lexicon().unwrap().has_emphasis());
    }

    #[test]
    fn a_channel_expects_a_reply_within_a_day_until_told_otherwise() {
        let mut channel = ChannelNorms::default();
        assert_eq!(channel.response_time(), Duration::from_secs(86_400));
        assert!(channel.nudges);
        channel.set_response_time(TimeDelta::hours(4));
        assert_eq!(channel.response_time(), Duration::from_secs(4 * 3600));
        let workspace = WorkspaceNorms {
            urgent_channels: vec![ChannelId::new("C9")],
            ..Default::default()
        };
        let context = channel.nudge_context(&workspace);
        assert_eq!(context.urgent_channels, vec![ChannelId::new("C9")]);
    }

    #[test]
    fn an_urgent_channel_can_be_designated_and_taken_off_again() {
        let mut workspace = WorkspaceNorms::default();
        let incidents = ChannelId::new("C9");
        assert!(workspace.add_urgent_channel(&incidents));
        assert!(!workspace.add_urgent_channel(&incidents));
        assert!(workspace.is_urgent_channel(&incidents));
        assert!(!workspace.remove_urgent_channel(&ChannelId::new("C1")));
        assert!(workspace.remove_urgent_channel(&incidents));
        assert!(!workspace.is_urgent_channel(&incidents));
        assert!(!workspace.remove_urgent_channel(&incidents));
    }

    #[test]
    fn stored_norms_from_an_older_shape_read_with_defaults() {
        let channel: ChannelNorms = serde_json::from_str("{}").unwrap();
        assert_eq!(channel, ChannelNorms::default());
        let workspace: WorkspaceNorms = serde_json::from_str("{}").unwrap();
        assert_eq!(workspace, WorkspaceNorms::default());
    }
}

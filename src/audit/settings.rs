//! What the audit is told beyond the export: the workspace's norms (`--norms norms.toml`),
//! members' real working hours (`--hours hours.toml`) and the zone the report is read in
//! (`--tz`). Parsed here from text, so the files' errors are tested without touching disk.
//!
//! ```toml
//! # norms.toml
//! urgent_channels = ["incidents"]      # names (with or without #) or ids
//! extra_words = ["dringend", "sofort"] # added to the shipped urgency words
//! removed_words = ["eod"]              # taken out of them
//! ```
//!
//! ```toml
//! # hours.toml: member id or name = the hours as /async hours set takes them
//! U01ALICE = "mon-fri 08:00-16:00 Europe/Berlin"
//! bob = "mon-thu 10:00-18:00"          # no zone: the one in bob's Slack profile
//! ```

use std::collections::HashMap;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::hours::{HoursError, WeeklySchedule, parse_hours_setting, parse_zone};
use crate::norms::{LexiconError, UrgencyLexicon};

/// Why a settings file or flag could not be used; each message names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("norms file: {0}")]
    NormsToml(String),
    #[error("norms file: {0}")]
    Lexicon(#[from] LexiconError),
    #[error("hours file: {0}")]
    HoursToml(String),
    #[error("hours file, `{member}`: {source}")]
    Hours { member: String, source: HoursError },
    #[error("--tz: {0}")]
    Zone(HoursError),
}

/// Everything the analysis is told besides the export.
#[derive(Debug, Clone)]
pub(crate) struct AuditSettings {
    pub(crate) lexicon: UrgencyLexicon,
    /// Channels designated urgent, by name (without `#`) or id.
    pub(crate) urgent_channels: Vec<String>,
    /// Hours given per member, by user id or name; a `None` zone means the profile's.
    pub(crate) hours: HashMap<String, (WeeklySchedule, Option<Tz>)>,
    /// The zone weeks and the heat map are read in.
    pub(crate) zone: Tz,
}

impl AuditSettings {
    /// The shipped urgency words, no urgent channel, default hours for everyone, UTC.
    pub(crate) fn defaults() -> Result<Self, SettingsError> {
        Ok(AuditSettings {
            lexicon: UrgencyLexicon::with_defaults()?,
            urgent_channels: Vec::new(),
            hours: HashMap::new(),
            zone: Tz::UTC,
        })
    }

    /// Applies a norms file's text.
    pub(crate) fn with_norms(mut self, text: &str) -> Result<Self, SettingsError> {
        let norms: NormsFile =
            toml::from_str(text).map_err(|e| SettingsError::NormsToml(one_line(&e)))?;
        self.lexicon = UrgencyLexicon::customised(&norms.extra_words, &norms.removed_words)?;
        self.urgent_channels = norms
            .urgent_channels
            .iter()
            .map(|c| c.trim().trim_start_matches('#').to_string())
            .filter(|c| !c.is_empty())
            .collect();
        Ok(self)
    }

    /// Applies an hours file's text.
    pub(crate) fn with_hours(mut self, text: &str) -> Result<Self, SettingsError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| SettingsError::HoursToml(one_line(&e)))?;
        for (member, value) in table {
            let Some(setting) = value.as_str() else {
                return Err(SettingsError::HoursToml(format!(
                    "`{member}` must be a string such as \"mon-fri 09:00-17:00 Europe/Berlin\""
                )));
            };
            let parsed = parse_hours_setting(setting).map_err(|source| SettingsError::Hours {
                member: member.clone(),
                source,
            })?;
            self.hours.insert(member, parsed);
        }
        Ok(self)
    }

    /// Sets the report's zone from an IANA name.
    pub(crate) fn with_zone(mut self, name: &str) -> Result<Self, SettingsError> {
        self.zone = parse_zone(name).map_err(|e| SettingsError::Zone(e.into()))?;
        Ok(self)
    }

    /// Whether a conversation, by name or id, is designated urgent.
    pub(crate) fn is_urgent(&self, name: &str, id: &str) -> bool {
        self.urgent_channels
            .iter()
            .any(|c| c == id || c.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct NormsFile {
    urgent_channels: Vec<String>,
    extra_words: Vec<String>,
    removed_words: Vec<String>,
}

/// TOML errors come with a multi-line snippet; a person at a terminal needs one line.
fn one_line(error: &toml::de::Error) -> String {
    let message = error.message().trim_end_matches('.');
    match error.span() {
        Some(span) => format!("{message} (at byte {})", span.start),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_norms_file_sets_urgent_channels_and_words() {
        let settings = AuditSettings::defaults()
            .unwrap()
            .with_norms(
                "urgent_channels = [\"#incidents\", \"C9\"]\nextra_words = [\"dringend\"]\nremoved_words = [\"eod\"]",
            )
            .unwrap();
        assert!(settings.is_urgent("incidents", "C1"));
        assert!(settings.is_urgent("whatever", "C9"));
        assert!(!settings.is_urgent("general", "C2"));
        let words = settings.lexicon.words();
        assert!(words.iter().any(|w| w == "dringend"));
        assert!(!words.iter().any(|w| w == "eod"));
    }

    #[test]
    fn a_misspelt_norms_key_is_named() {
        let err = AuditSettings::defaults()
            .unwrap()
            .with_norms("urgent_channel = [\"ops\"]")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("norms file: unknown field `urgent_channel`"),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn an_hours_file_reads_each_member_with_or_without_a_zone() {
        let settings = AuditSettings::defaults()
            .unwrap()
            .with_hours("U1 = \"mon-fri 08:00-16:00 Europe/Berlin\"\nbob = \"mon-thu 10:00-18:00\"")
            .unwrap();
        let (schedule, zone) = &settings.hours["U1"];
        assert_eq!(schedule.to_string(), "mon-fri 08:00-16:00");
        assert_eq!(*zone, Some(chrono_tz::Europe::Berlin));
        assert_eq!(settings.hours["bob"].1, None);
    }

    #[test]
    fn bad_hours_name_the_member_and_the_fix() {
        let err = AuditSettings::defaults()
            .unwrap()
            .with_hours("bob = \"mon-fri 9-5\"")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "hours file, `bob`: `9-5` is not a time range; try 09:00-17:00"
        );
        let err = AuditSettings::defaults()
            .unwrap()
            .with_hours("bob = 9")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`bob` must be a string"), "{err}");
    }

    #[test]
    fn an_unknown_report_zone_is_refused() {
        let err = AuditSettings::defaults()
            .unwrap()
            .with_zone("Mars/Olympus")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--tz: `Mars/Olympus` is not an IANA time zone"),
            "{err}"
        );
    }
}

//! `async-norms audit`: how a workspace communicates today, from a standard Slack export,
//! offline. The same rules and hours model as the live bot read every message; the report
//! says where urgency lives, who broadcasts reach off hours, when mentions land at night,
//! how long threads wait, and which norms would help.
//!
//! [`export`] reads the export a file at a time, [`analysis`] keeps only counts,
//! [`report`] writes `report.json`, `report.html` and `heatmap.svg`; [`run`] ties them
//! together and is what `main` calls.

pub mod analysis;
pub mod export;
pub mod report;
pub mod settings;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::audit::analysis::{Analysis, Report};
use crate::audit::export::{Export, ExportError, SkippedFile};
use crate::audit::settings::{AuditSettings, SettingsError};
use crate::norms::RuleId;

pub use analysis::REPORT_FORMAT;

/// Why an audit could not run; each message is one line a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("{}: {source}", path.display())]
    Settings {
        path: PathBuf,
        source: SettingsError,
    },
    #[error(transparent)]
    Zone(SettingsError),
    #[error("cannot read {}: {source}", path.display())]
    ReadSettings {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the report into {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What `async-norms audit` was asked to do.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// The export's folder or `.zip`.
    pub export: PathBuf,
    /// The folder the report is written into.
    pub out: PathBuf,
    pub hours: Option<PathBuf>,
    pub norms: Option<PathBuf>,
    /// IANA zone for weeks and the heat map; UTC when absent.
    pub tz: Option<String>,
    /// Show a progress bar (only drawn when standard error is a terminal).
    pub progress: bool,
}

/// A finished audit: the figures and where the HTML page is.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: Report,
    pub html: PathBuf,
}

/// Reads the settings files named in `options`.
pub fn load_settings(options: &AuditOptions) -> Result<AuditSettings, AuditError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| AuditError::ReadSettings {
            path: path.to_path_buf(),
            source,
        })
    };
    let in_file = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AuditError::Settings { path, source }
    };
    let mut settings = AuditSettings::defaults().map_err(AuditError::Zone)?;
    if let Some(path) = &options.norms {
        settings = settings.with_norms(&read(path)?).map_err(in_file(path))?;
    }
    if let Some(path) = &options.hours {
        settings = settings.with_hours(&read(path)?).map_err(in_file(path))?;
    }
    if let Some(zone) = &options.tz {
        settings = settings.with_zone(zone).map_err(AuditError::Zone)?;
    }
    Ok(settings)
}

/// Runs the audit and writes the report.
pub fn run(options: &AuditOptions) -> Result<Outcome, AuditError> {
    let settings = load_settings(options)?;
    let mut export = Export::open(&options.export)?;
    let mut skipped: Vec<SkippedFile> = Vec::new();
    let workspace = export.workspace(&mut skipped);
    let day_files: Vec<Vec<String>> = workspace
        .conversations
        .iter()
        .map(|c| export.day_files(&c.folder))
        .collect();
    let total: usize = day_files.iter().map(Vec::len).sum();
    let progress = if options.progress && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(total as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} day files, {elapsed} {msg}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };

    let mut analysis = Analysis::new(&settings, &workspace);
    analysis.note_unlisted_folders(export.unlisted_folders(&workspace));
    // One buffer for every day file: it grows to the largest and is reused.
    let mut buf = Vec::new();
    for (index, files) in day_files.iter().enumerate() {
        analysis.begin_conversation(index);
        progress.set_message(workspace.conversations[index].name.clone());
        for path in files {
            match export.read_day(path, &mut buf) {
                Ok(messages) => messages.iter().for_each(|m| analysis.message(m)),
                Err(reason) => skipped.push(SkippedFile {
                    path: path.clone(),
                    reason,
                }),
            }
            progress.inc(1);
        }
    }
    progress.finish_and_clear();

    let report = analysis.finish(skipped);
    let source = options.export.display().to_string();
    let html =
        report::write(&report, &source, &options.out).map_err(|source| AuditError::Write {
            path: options.out.clone(),
            source,
        })?;
    Ok(Outcome { report, html })
}

/// The few lines printed at the end of a run.
pub fn summary(outcome: &Outcome) -> String {
    let report = &outcome.report;
    let t = &report.totals;
    let active = report
        .conversations
        .iter()
        .filter(|c| c.totals.messages > 0)
        .count();
    let period = match (&report.first_message, &report.last_message) {
        (Some(first), Some(last)) => format!(", {} to {}", &first[..10], &last[..10]),
        _ => String::new(),
    };
    let flags: Vec<String> = RuleId::ALL
        .iter()
        .map(|rule| format!("{rule} {}", t.flags.get(rule).copied().unwrap_or(0)))
        .collect();
    let share = (t.mentions_off_hours * 100)
        .checked_div(t.mentions)
        .unwrap_or(0);
    let mut lines = vec![
        format!(
            "Audited {} messages in {active} conversations{period} ({} people).",
            t.messages, report.members.people
        ),
        format!("Flags: {}.", flags.join(", ")),
        format!(
            "Mentions outside the recipient's hours: {} of {} ({share}%); broadcasts reached {} people off hours.",
            t.mentions_off_hours, t.mentions, t.broadcast_off_hours_reach
        ),
    ];
    if let Some(top) = report.suggestions.first() {
        lines.push(format!("Top suggestion: {}", top.text));
    }
    if !report.skipped_files.is_empty() {
        lines.push(format!(
            "Skipped {} unreadable file(s), listed in the report; first: {} ({}).",
            report.skipped_files.len(),
            report.skipped_files[0].path,
            report.skipped_files[0].reason
        ));
    }
    let folder = outcome.html.parent().unwrap_or(Path::new("."));
    lines.push(format!(
        "Report: {} (with {} and {} in {}).",
        outcome.html.display(),
        report::JSON_FILE,
        report::HEATMAP_FILE,
        folder.display()
    ));
    lines.join("\n")
}

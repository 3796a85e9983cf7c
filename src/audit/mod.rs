//! `async-norms audit`: how a workspace communicates today, from a standard Slack export,
//! offline. The same rules and hours model as the live bot read every message; the report
//! says where urgency lives, who broadcasts reach off hours, when mentions land at night,
//! how long threads wait, and which norms would help.
//!
//! [`export`] reads the export a file at a time, [`analysis`] keeps only counts,
//! [`report`] writes `report.json`, `report.html`, `heatmap.svg` and `trend.svg`; [`run`]
//! ties them together and is what `main` calls.

pub mod analysis;
pub mod export;
mod lenient;
pub(crate) mod report;
pub(crate) mod settings;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::audit::analysis::{Analysis, Report};
use crate::audit::export::{Export, ExportError, SkippedFile};
use crate::audit::settings::{AuditSettings, SettingsError};
use crate::norms::RuleId;

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
    /// The export has day files, yet not one message was read from them: a report of zeros
    /// would mislead, so the run fails (the report is still written, to show what was left
    /// out).
    #[error("read 0 messages from {export}, which has {day_files} day file(s): {why}")]
    NothingRead {
        export: String,
        day_files: usize,
        why: String,
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
    /// IANA zone for weeks and the heat map, and of members whose zone is unknown; UTC when
    /// absent.
    pub tz: Option<String>,
    /// Read direct and group messages too; they are left out by default.
    pub include_dms: bool,
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
pub(crate) fn load_settings(options: &AuditOptions) -> Result<AuditSettings, AuditError> {
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
    let workspace = export.workspace(options.include_dms, &mut skipped);
    let day_files: Vec<Vec<String>> = workspace
        .conversations
        .iter()
        .map(|c| {
            export.day_files(&c.folder).unwrap_or_else(|reason| {
                skipped.push(SkippedFile {
                    path: c.folder.clone(),
                    reason,
                });
                Vec::new()
            })
        })
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
    // One buffer for every day file: it grows to the largest and is reused.
    let mut buf = Vec::new();
    let mut unreadable_day_files: Vec<SkippedFile> = Vec::new();
    for (index, files) in day_files.iter().enumerate() {
        analysis.begin_conversation(index);
        progress.set_message(printable(&workspace.conversations[index].name));
        for path in files {
            match export.read_day(path, &mut buf) {
                Ok(messages) => messages.iter().for_each(|m| analysis.message(m)),
                Err(reason) => unreadable_day_files.push(SkippedFile {
                    path: path.clone(),
                    reason,
                }),
            }
            progress.inc(1);
        }
    }
    progress.finish_and_clear();
    let first_unreadable = unreadable_day_files.first().cloned();
    let unreadable = unreadable_day_files.len();
    skipped.extend(unreadable_day_files);

    let report = analysis.finish(skipped);
    let source = export_name(&options.export);
    let html =
        report::write(&report, &source, &options.out).map_err(|source| AuditError::Write {
            path: options.out.clone(),
            source,
        })?;
    if report.totals.messages == 0 {
        let unread = |folders: &[String]| -> usize {
            folders
                .iter()
                .map(|f| export.day_files(f).map_or(0, |files| files.len()))
                .sum()
        };
        let private = unread(&workspace.private_folders);
        let unlisted = unread(&workspace.unlisted_folders);
        if total + private + unlisted > 0 {
            return Err(AuditError::NothingRead {
                export: source,
                day_files: total + private + unlisted,
                why: why_nothing_was_read(
                    &report,
                    (total, unreadable, first_unreadable.as_ref()),
                    private,
                ),
            });
        }
    }
    Ok(Outcome { report, html })
}

/// One line on why an export with day files gave no message. `day_files` are the files of
/// the conversations read: how many, how many were unreadable, and the first of those.
fn why_nothing_was_read(
    report: &Report,
    day_files: (usize, usize, Option<&SkippedFile>),
    private: usize,
) -> String {
    let (read, unreadable, first) = day_files;
    let left = &report.left_out;
    if read == 0 && private > 0 {
        return "they are all in direct or group messages, which are read only with --include-dms"
            .to_string();
    }
    if read == 0 {
        return format!(
            "none is in a conversation the export's lists name (folders not listed: {}); see the report",
            printable(&left.unlisted_folders.join(", "))
        );
    }
    if unreadable == read {
        return match first {
            Some(file) => format!(
                "every one was unreadable; the first, {}: {}",
                printable(&file.path),
                printable(&file.reason)
            ),
            None => "every one was unreadable".to_string(),
        };
    }
    format!(
        "they hold no message a person wrote ({} from bots, {} system messages, {} without a user or a readable time)",
        left.bot_messages, left.system_messages, left.unreadable_messages
    )
}

/// The export as the report names it: its folder's or file's own name, not the local path
/// (which can say more about the machine than the report needs to).
fn export_name(path: &Path) -> String {
    let name = path
        .canonicalize()
        .ok()
        .as_deref()
        .and_then(Path::file_name)
        .or_else(|| path.file_name())
        .map(|name| name.to_string_lossy().into_owned());
    printable(&name.unwrap_or_else(|| "export".to_string()))
}

/// Text from an export made safe for a terminal: control characters (escape sequences,
/// carriage returns, bells) are dropped, so a crafted channel or file name cannot rewrite
/// what the terminal shows.
pub(crate) fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
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
    if !report.members.users_listed {
        lines.push(format!(
            "The export has no list of members (users.json): mentions count everyone named, and their hours are read in {}.",
            report.zone
        ));
    }
    if report.left_out.dm_conversations > 0 {
        lines.push(format!(
            "Left out {} direct and group message conversation(s); --include-dms reads them.",
            report.left_out.dm_conversations
        ));
    }
    if let Some(top) = report.suggestions.first() {
        lines.push(printable(&format!("Top suggestion: {}", top.text)));
    }
    if !report.skipped_files.is_empty() {
        lines.push(printable(&format!(
            "Skipped {} unreadable file(s), listed in the report; first: {} ({}).",
            report.skipped_files.len(),
            report.skipped_files[0].path,
            report.skipped_files[0].reason
        )));
    }
    let folder = outcome.html.parent().unwrap_or(Path::new("."));
    lines.push(format!(
        "Report: {} (with {}, {} and {} in {}).",
        outcome.html.display(),
        report::JSON_FILE,
        report::HEATMAP_FILE,
        report::TREND_FILE,
        folder.display()
    ));
    lines.join("\n")
}

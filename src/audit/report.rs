//! Writing the [`Report`] out: `report.json` with every figure, `heatmap.svg` (the
//! hour-of-week heat maps) and `trend.svg` (messages, flags and off-hours mentions by week),
//! both drawn by hand (SVG is text and needs no crate), and `report.html`, which has its
//! styles inline and shows the images beside each other, so the folder reads offline in any
//! browser.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};

use crate::audit::analysis::{ConversationReport, Figures, Report, display_name};
use crate::norms::RuleId;
use crate::norms::markup::escape_html;

/// The files a report is made of, inside the output folder.
pub const JSON_FILE: &str = "report.json";
pub const HTML_FILE: &str = "report.html";
pub const HEATMAP_FILE: &str = "heatmap.svg";
pub const TREND_FILE: &str = "trend.svg";

/// Writes the three files into `out` (created if needed). Returns the HTML's path.
pub fn write(report: &Report, source: &str, out: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(out.join(JSON_FILE), json)?;
    std::fs::write(out.join(HEATMAP_FILE), heatmap_svg(report))?;
    std::fs::write(out.join(TREND_FILE), trend_svg(report))?;
    let html_path = out.join(HTML_FILE);
    std::fs::write(&html_path, html(report, source))?;
    Ok(html_path)
}

const CELL: usize = 22;
const LEFT: usize = 44;
const PANEL_TOP: usize = 40;
const PANEL_HEIGHT: usize = PANEL_TOP + 7 * CELL + 30;

/// Two heat maps, one above the other: messages, then mentions outside the recipient's hours.
pub fn heatmap_svg(report: &Report) -> String {
    let width = LEFT + 24 * CELL + 20;
    let height = 2 * PANEL_HEIGHT;
    let mut svg = String::with_capacity(64 * 1024);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    svg.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let zone = escape_html(&report.heatmap.zone);
    panel(
        &mut svg,
        0,
        &format!("Messages by hour of the week ({zone})"),
        &report.heatmap.messages,
        (37, 99, 235),
    );
    panel(
        &mut svg,
        PANEL_HEIGHT,
        &format!("Mentions outside the recipient's working hours ({zone})"),
        &report.heatmap.off_hours_mentions,
        (220, 38, 38),
    );
    svg.push_str("</svg>\n");
    svg
}

fn panel(svg: &mut String, top: usize, title: &str, grid: &[[u64; 24]; 7], rgb: (u8, u8, u8)) {
    let max = grid.iter().flatten().copied().max().unwrap_or(0).max(1);
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="{}" font-size="13" font-weight="bold">{title}</text>"#,
        top + 18
    );
    for hour in (0..24).step_by(3) {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" fill="#555555">{hour:02}</text>"##,
            LEFT + hour * CELL + 4,
            top + PANEL_TOP - 4
        );
    }
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    for (day, row) in grid.iter().enumerate() {
        let y = top + PANEL_TOP + day * CELL;
        let _ = write!(
            svg,
            r##"<text x="6" y="{}" fill="#555555">{}</text>"##,
            y + 15,
            days[day]
        );
        for (hour, &count) in row.iter().enumerate() {
            // Square root keeps quiet hours visible next to a busy peak.
            let strength = (count as f64 / max as f64).sqrt();
            let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * strength).round() as u8;
            let _ = write!(
                svg,
                r##"<rect x="{}" y="{y}" width="{}" height="{}" fill="#{:02x}{:02x}{:02x}" stroke="#eeeeee"><title>{} {hour:02}:00 — {count}</title></rect>"##,
                LEFT + hour * CELL,
                CELL - 1,
                CELL - 1,
                mix(rgb.0),
                mix(rgb.1),
                mix(rgb.2),
                days[day],
            );
        }
    }
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="{}" fill="#555555">darkest = {max}</text>"##,
        top + PANEL_TOP + 7 * CELL + 16
    );
}

/// The most weeks the trend shows: the latest ones, three years.
pub const TREND_WEEKS: usize = 156;
const TREND_ROW: usize = 80;

/// One week of the trend: its name and the three series.
struct TrendWeek {
    name: String,
    values: [u64; 3],
}

/// The weeks of the trend, oldest first: every week from the first with messages to the
/// last (quiet ones as zeros, so the axis is time), or only the weeks with messages when
/// they span more than the chart holds; at most the latest [`TREND_WEEKS`].
fn trend_weeks(report: &Report) -> Vec<TrendWeek> {
    let values = |f: &Figures| [f.messages, f.flags.values().sum(), f.mentions_off_hours];
    let start = |week: &str| {
        let (year, number) = week.split_once("-W")?;
        NaiveDate::from_isoywd_opt(year.parse().ok()?, number.parse().ok()?, Weekday::Mon)
    };
    let mut weeks: Vec<TrendWeek> = Vec::new();
    let span = match (report.weeks.first(), report.weeks.last()) {
        (Some(first), Some(last)) => start(&first.week)
            .zip(start(&last.week))
            .map(|(a, b)| ((b - a).num_days() / 7) as usize),
        _ => None,
    };
    let fill_gaps = span.is_some_and(|span| span < TREND_WEEKS);
    for week in &report.weeks {
        if fill_gaps
            && let Some(previous) = weeks.last()
            && let (Some(mut day), Some(this)) = (start(&previous.name), start(&week.week))
        {
            day += TimeDelta::days(7);
            while day < this {
                let iso = day.iso_week();
                weeks.push(TrendWeek {
                    name: format!("{}-W{:02}", iso.year(), iso.week()),
                    values: [0; 3],
                });
                day += TimeDelta::days(7);
            }
        }
        weeks.push(TrendWeek {
            name: week.week.clone(),
            values: values(&week.figures),
        });
    }
    let skip = weeks.len().saturating_sub(TREND_WEEKS);
    weeks.drain(..skip);
    weeks
}

/// Three small bar charts over the same weeks, one above the other: messages, flags (every
/// rule) and mentions outside the recipient's hours. Each has its own scale, so flags are
/// not flattened by the far larger message counts.
pub fn trend_svg(report: &Report) -> String {
    let weeks = trend_weeks(report);
    let bar = (TREND_WIDTH / weeks.len().max(1)).clamp(2, 24);
    let width = LEFT + bar * weeks.len().max(1) + 20;
    let height = PANEL_TOP + 3 * TREND_ROW + 24;
    let mut svg = String::with_capacity(16 * 1024);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    svg.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let title = match report.weeks.len() > weeks.len() {
        true => format!(
            "By week, the latest {} ({})",
            weeks.len(),
            escape_html(&report.zone)
        ),
        false => format!("By week ({})", escape_html(&report.zone)),
    };
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{title}</text>"#
    );
    let rows = [
        ("messages", (37, 99, 235)),
        ("flags", (217, 119, 6)),
        ("off-hours mentions", (220, 38, 38)),
    ];
    for (row, (label, (r, g, b))) in rows.iter().enumerate() {
        let top = PANEL_TOP + row * TREND_ROW;
        let base = top + TREND_ROW - 20;
        let max = weeks.iter().map(|w| w.values[row]).max().unwrap_or(0);
        let _ = write!(
            svg,
            r##"<text x="{LEFT}" y="{}" fill="#374151">{label} (highest {max})</text><line x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="#d1d5db"/>"##,
            top + 8,
            LEFT + bar * weeks.len()
        );
        for (i, week) in weeks.iter().enumerate() {
            let value = week.values[row];
            let h = (value as f64 / max.max(1) as f64 * (TREND_ROW - 36) as f64).round() as usize;
            let _ = write!(
                svg,
                r##"<rect x="{}" y="{}" width="{}" height="{h}" fill="#{r:02x}{g:02x}{b:02x}"><title>{} — {value}</title></rect>"##,
                LEFT + i * bar,
                base - h,
                bar.saturating_sub(1).max(1),
                escape_html(&week.name),
            );
        }
    }
    if let (Some(first), Some(last)) = (weeks.first(), weeks.last()) {
        let y = PANEL_TOP + 3 * TREND_ROW + 8;
        let _ = write!(
            svg,
            r##"<text x="{LEFT}" y="{y}" fill="#555555">{}</text><text x="{}" y="{y}" fill="#555555" text-anchor="end">{}</text>"##,
            escape_html(&first.name),
            LEFT + bar * weeks.len(),
            escape_html(&last.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The width the trend's bars share.
const TREND_WIDTH: usize = 520;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2937}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}\
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}\
th,td{border:1px solid #d1d5db;padding:.25rem .5rem;text-align:right}\
th:first-child,td:first-child{text-align:left}thead th{background:#f3f4f6}\
.suggestion{background:#ecfdf5;border-left:4px solid #059669;padding:.5rem .75rem;margin:.5rem 0}\
.note{color:#6b7280;font-size:.9rem}details{margin:.5rem 0}img{max-width:100%}\
.charts{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}.charts img{flex:0 1 auto}\
.scroll{overflow-x:auto;max-width:100%}.scroll th:first-child,.scroll td:first-child{position:sticky;left:0;background:#ffffff}\
.scroll thead th:first-child{background:#f3f4f6}thead th{vertical-align:bottom;min-width:4.5rem}";

fn pct(part: u64, whole: u64) -> String {
    match (part * 1000 + whole / 2).checked_div(whole) {
        Some(tenths) => format!("{}.{}%", tenths / 10, tenths % 10),
        None => "–".to_string(),
    }
}

fn minutes(median: Option<u32>) -> String {
    match median {
        None => "–".to_string(),
        Some(m) if m < 60 => format!("{m}m"),
        Some(m) => format!("{}h {:02}m", m / 60, m % 60),
    }
}

const COLUMNS: [&str; 13] = [
    "messages",
    "urgent words/!!!",
    "flag: urgency words",
    "flag: broadcast",
    "flag: urgent ping off hours",
    "flag: emphasis",
    "broadcasts",
    "notified",
    "notified off hours",
    "mentions",
    "mentions off hours",
    "threads replied",
    "median first reply",
];

fn figure_cells(html: &mut String, f: &Figures) {
    let flag = |rule: RuleId| f.flags.get(&rule).copied().unwrap_or(0);
    let cells = [
        f.messages.to_string(),
        f.urgency_messages.to_string(),
        flag(RuleId::UrgencyWords).to_string(),
        flag(RuleId::Broadcast).to_string(),
        flag(RuleId::UrgentPingOffHours).to_string(),
        flag(RuleId::Emphasis).to_string(),
        f.broadcasts.to_string(),
        f.broadcast_reach.to_string(),
        format!(
            "{} ({})",
            f.broadcast_off_hours_reach,
            pct(f.broadcast_off_hours_reach, f.broadcast_reach)
        ),
        f.mentions.to_string(),
        format!(
            "{} ({})",
            f.mentions_off_hours,
            pct(f.mentions_off_hours, f.mentions)
        ),
        format!("{} of {}", f.threads_replied, f.threads),
        minutes(f.median_first_reply_minutes),
    ];
    for cell in cells {
        let _ = write!(html, "<td>{}</td>", escape_html(&cell));
    }
}

/// Opens a figures table inside a box that scrolls sideways on a narrow screen, the first
/// column kept in view.
fn table_head(html: &mut String, first: &str) {
    let _ = write!(
        html,
        "<div class=\"scroll\"><table><thead><tr><th>{first}</th>"
    );
    for column in COLUMNS {
        let _ = write!(html, "<th>{}</th>", escape_html(column));
    }
    html.push_str("</tr></thead><tbody>");
}

fn conversation_label(c: &ConversationReport) -> String {
    let mut label = display_name(c);
    if c.urgent {
        label.push_str(" (urgent)");
    }
    label
}

/// The report as one HTML page; `source` is the export it was made from, shown in the title.
pub fn html(report: &Report, source: &str) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>Communication norms audit: {}</title><style>{STYLE}</style></head><body>",
        escape_html(source)
    );
    let t = &report.totals;
    let _ = write!(
        html,
        "<h1>Communication norms audit</h1><p class=\"note\">{} · {} to {} · weeks and hours in {}</p>",
        escape_html(source),
        escape_html(report.first_message.as_deref().unwrap_or("–")),
        escape_html(report.last_message.as_deref().unwrap_or("–")),
        escape_html(&report.zone),
    );
    let active = report
        .conversations
        .iter()
        .filter(|c| c.totals.messages > 0)
        .count();
    let _ = write!(
        html,
        "<p>{} messages by people in {} conversations; {} people, {} of them with hours given and {} without a known time zone (read in {}). {} of {} mentions ({}) reached someone outside their working hours; broadcasts notified {} people, {} of them off hours.</p>",
        t.messages,
        active,
        report.members.people,
        report.members.hours_given,
        report.members.zone_unknown,
        escape_html(&report.zone),
        t.mentions_off_hours,
        t.mentions,
        pct(t.mentions_off_hours, t.mentions),
        t.broadcast_reach,
        t.broadcast_off_hours_reach,
    );
    if !report.members.users_listed {
        let _ = write!(
            html,
            "<p class=\"note\">The export has no list of members (users.json or org_users.json): people are the ids its conversations and messages name, nobody is known as a bot, and every recipient's zone is unknown, so their hours are read in {}.</p>",
            escape_html(&report.zone)
        );
    }

    html.push_str("<h2>Suggested norms</h2>");
    if report.suggestions.is_empty() {
        html.push_str(
            "<p>Nothing stands out: the figures below show how the workspace works today.</p>",
        );
    }
    for suggestion in &report.suggestions {
        let _ = write!(
            html,
            "<p class=\"suggestion\">{}</p>",
            escape_html(&suggestion.text)
        );
    }

    let _ = write!(
        html,
        "<h2>When people write, and when mentions land off hours</h2><div class=\"charts\"><img src=\"{HEATMAP_FILE}\" alt=\"Hour-of-week heat maps of messages and of mentions outside the recipient's working hours\"/><img src=\"{TREND_FILE}\" alt=\"Messages, flags and mentions outside the recipient's working hours, by week\"/></div>"
    );

    html.push_str("<h2>By conversation</h2>");
    table_head(&mut html, "conversation");
    for c in report
        .conversations
        .iter()
        .filter(|c| c.totals.messages > 0)
    {
        let _ = write!(html, "<tr><td>{}</td>", escape_html(&conversation_label(c)));
        figure_cells(&mut html, &c.totals);
        html.push_str("</tr>");
    }
    html.push_str("<tr><th>all</th>");
    figure_cells(&mut html, t);
    html.push_str("</tr></tbody></table></div>");

    html.push_str("<h2>By conversation and week</h2>");
    for c in report.conversations.iter().filter(|c| !c.weeks.is_empty()) {
        let _ = write!(
            html,
            "<details><summary>{} — {} messages</summary>",
            escape_html(&conversation_label(c)),
            c.totals.messages
        );
        table_head(&mut html, "week");
        for week in &c.weeks {
            let _ = write!(html, "<tr><td>{}</td>", escape_html(&week.week));
            figure_cells(&mut html, &week.figures);
            html.push_str("</tr>");
        }
        html.push_str("</tbody></table></div></details>");
    }

    html.push_str("<h2>What was left out</h2><ul>");
    let left = &report.left_out;
    let _ = write!(
        html,
        "<li>{} bot messages, {} system messages (joins, topic changes…), {} unreadable messages</li>",
        left.bot_messages, left.system_messages, left.unreadable_messages
    );
    if left.dm_conversations > 0 {
        let _ = write!(
            html,
            "<li>{} direct and group message conversations, not read (<code>--include-dms</code> reads them)</li>",
            left.dm_conversations
        );
    }
    for folder in &left.unlisted_folders {
        let _ = write!(
            html,
            "<li>folder <code>{}</code>: no channel list names it</li>",
            escape_html(folder)
        );
    }
    for file in &report.skipped_files {
        let _ = write!(
            html,
            "<li>file <code>{}</code>: {}</li>",
            escape_html(&file.path),
            escape_html(&file.reason)
        );
    }
    html.push_str("</ul><p class=\"note\">Counts are by channel and week, never by person. Flags are what the bot's rules would have said; a broadcast's reach is the channel's members, as @channel notifies them. Every figure is in report.json.</p></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_with_weeks(weeks: &[(&str, u64)]) -> Report {
        let figures = |messages| Figures {
            messages,
            urgency_messages: 0,
            flags: RuleId::ALL.into_iter().map(|rule| (rule, 1)).collect(),
            broadcasts: 0,
            broadcast_reach: 0,
            broadcast_off_hours_reach: 0,
            mentions: 0,
            mentions_off_hours: 2,
            threads: 0,
            threads_replied: 0,
            median_first_reply_minutes: None,
        };
        let settings = crate::audit::settings::AuditSettings::defaults().unwrap();
        let workspace = crate::audit::export::Workspace::default();
        let mut report =
            crate::audit::analysis::Analysis::new(&settings, &workspace).finish(Vec::new());
        report.weeks = weeks
            .iter()
            .map(|&(week, messages)| crate::audit::analysis::WeekReport {
                week: week.to_string(),
                figures: figures(messages),
            })
            .collect();
        report
    }

    #[test]
    fn the_trend_fills_quiet_weeks_across_a_year_end() {
        let report = report_with_weeks(&[("2020-W52", 3), ("2021-W02", 5)]);
        let weeks: Vec<(String, [u64; 3])> = trend_weeks(&report)
            .into_iter()
            .map(|w| (w.name, w.values))
            .collect();
        assert_eq!(
            weeks,
            [
                ("2020-W52".to_string(), [3, 4, 2]),
                ("2020-W53".to_string(), [0, 0, 0]),
                ("2021-W01".to_string(), [0, 0, 0]),
                ("2021-W02".to_string(), [5, 4, 2]),
            ]
        );
    }

    #[test]
    fn the_trend_shows_at_most_the_latest_weeks() {
        // Ten years of weeks with messages: only the latest TREND_WEEKS are drawn.
        let names: Vec<String> = (2015..2025)
            .flat_map(|year| (1..=52).map(move |week| format!("{year}-W{week:02}")))
            .collect();
        let weeks: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), 1)).collect();
        let trend = trend_weeks(&report_with_weeks(&weeks));
        assert_eq!(trend.len(), TREND_WEEKS);
        assert_eq!(trend.last().unwrap().name, "2024-W52");
        let svg = trend_svg(&report_with_weeks(&weeks));
        assert!(svg.contains("the latest 156"));
        // Two weeks years apart: not filled, two bars a row.
        let sparse = trend_weeks(&report_with_weeks(&[("2001-W01", 1), ("2024-W01", 1)]));
        assert_eq!(sparse.len(), 2);
    }

    #[test]
    fn medians_and_shares_read_as_people_say_them() {
        assert_eq!(minutes(Some(45)), "45m");
        assert_eq!(minutes(Some(125)), "2h 05m");
        assert_eq!(minutes(None), "–");
        assert_eq!(pct(1, 3), "33.3%");
        assert_eq!(pct(10, 29), "34.5%");
        assert_eq!(pct(1, 0), "–");
    }
}

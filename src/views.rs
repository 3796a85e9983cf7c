//! Block Kit views the bot shows: the App Home and the working-hours modal. Kept apart from
//! the handlers so the layout can be read (and tested) on its own; reading a submitted modal
//! back is here too, beside the blocks it reads.

use std::collections::HashMap;

use chrono::{DateTime, Utc, Weekday};
use chrono_tz::{TZ_VARIANTS, Tz};
use slack_morphism::prelude::*;

use crate::decision::card::own_card;
use crate::hours::{Availability, MemberHours, TimeRange, Weekdays, WeeklySchedule, parse_zone};

/// The `action_id` of the Home tab's "Edit hours" button.
pub const EDIT_HOURS_ACTION: &str = "hours_edit";
/// The `action_id` of the Home tab's "Away today" button.
pub const HOME_AWAY_ACTION: &str = "home_away_today";
/// The `action_id` of the Home tab's "Focus 1 h" button.
pub const HOME_FOCUS_ACTION: &str = "home_focus_hour";
/// The `callback_id` of the working-hours modal.
pub const HOURS_MODAL: &str = "hours_modal";
/// The `block_id` of the Home tab's check-in section, which the check-in views fill.
pub const CHECKINS_BLOCK: &str = "checkins";

const ZONE_BLOCK: &str = "zone";
const ZONE_ACTION: &str = "zone";
const RANGES_ACTION: &str = "ranges";
/// Slack allows 100 options in one group of a select.
const OPTIONS_PER_GROUP: usize = 100;

const WEEK: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "day_mon", "Monday"),
    (Weekday::Tue, "day_tue", "Tuesday"),
    (Weekday::Wed, "day_wed", "Wednesday"),
    (Weekday::Thu, "day_thu", "Thursday"),
    (Weekday::Fri, "day_fri", "Friday"),
    (Weekday::Sat, "day_sat", "Saturday"),
    (Weekday::Sun, "day_sun", "Sunday"),
];

/// What the Home tab shows about one member.
#[derive(Debug, Clone)]
pub struct HomeFacts<'a> {
    pub hours: &'a MemberHours,
    /// Whether the member set their hours (else they are the default from their profile).
    pub set_by_member: bool,
    pub state: Availability,
    pub now: DateTime<Utc>,
}

fn section(text: String) -> SlackBlock {
    SlackSectionBlock::new().with_text(md!(text)).into()
}

fn context(text: &str) -> SlackBlock {
    SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
        SlackBlockMarkDownText::new(text.into()),
    )])
    .into()
}

/// The Home tab of one member: their state now, their hours (with an "Edit hours" button),
/// time off, focus time, and the check-ins section.
pub fn home(facts: &HomeFacts<'_>) -> SlackView {
    let hours = facts.hours;
    let origin = if facts.set_by_member {
        "set by you"
    } else {
        "the default, in your Slack profile's time zone"
    };
    let edit = SlackBlockButtonElement::new(pt!("Edit hours"))
        .with_action_id(EDIT_HOURS_ACTION.into())
        .with_value(EDIT_HOURS_ACTION.into());
    let away = match hours.away.as_slice() {
        [] => "*Time off:* none planned. Add some with `/async away 2026-12-24 2027-01-02`."
            .to_string(),
        periods => {
            let listed: Vec<String> = periods
                .iter()
                .map(|p| {
                    if p.from == p.to {
                        p.from.format("%a %-d %b %Y").to_string()
                    } else {
                        format!(
                            "{} to {}",
                            p.from.format("%a %-d %b %Y"),
                            p.to.format("%a %-d %b %Y")
                        )
                    }
                })
                .collect();
            format!("*Time off:* {}", listed.join("; "))
        }
    };
    let focus = match hours.focus.filter(|f| f.is_active(facts.now)) {
        Some(focus) => format!(
            "*Focus time:* until {}. End it with `/async focus off`.",
            focus.until.with_timezone(&hours.tz).format("%H:%M")
        ),
        None => "*Focus time:* off. Start some with `/async focus 90m`.".to_string(),
    };
    let blocks: Vec<SlackBlock> = vec![
        SlackHeaderBlock::new(pt!("Your async week")).into(),
        section(own_card(hours, &facts.state, facts.now)),
        SlackSectionBlock::new()
            .with_text(md!(
                "*Working hours* ({origin})\n`{}`\n{}",
                hours.schedule,
                hours.tz.name()
            ))
            .with_accessory(edit.into())
            .into(),
        section(away),
        section(focus),
        SlackActionsBlock::new(vec![
            SlackBlockButtonElement::new(pt!("Away today"))
                .with_action_id(HOME_AWAY_ACTION.into())
                .with_value(HOME_AWAY_ACTION.into())
                .into(),
            SlackBlockButtonElement::new(pt!("Focus 1 h"))
                .with_action_id(HOME_FOCUS_ACTION.into())
                .with_value(HOME_FOCUS_ACTION.into())
                .into(),
        ])
        .into(),
        SlackDividerBlock::new().into(),
        SlackHeaderBlock::new(pt!("Check-ins")).into(),
        SlackSectionBlock::new()
            .with_block_id(CHECKINS_BLOCK.into())
            .with_text(md!("You take part in no check-ins yet."))
            .into(),
        context("Type `/async help` in any channel to see everything I can do."),
    ];
    SlackView::Home(SlackHomeView::new(blocks))
}

fn zone_option(name: &str) -> SlackBlockChoiceItem<SlackBlockPlainTextOnly> {
    SlackBlockChoiceItem::new(pt!(name.replace('_', " ")), name.to_string())
}

/// Every region/city zone, grouped by region (large regions in parts of 100), with UTC first.
fn zone_groups(current: Tz) -> Vec<SlackBlockOptionGroup<SlackBlockPlainTextOnly>> {
    const REGIONS: [&str; 9] = [
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    ];
    let mut by_region: Vec<(&str, Vec<&str>)> = REGIONS.iter().map(|r| (*r, vec![])).collect();
    for tz in TZ_VARIANTS {
        let name = tz.name();
        let region = name.split('/').next().unwrap_or("");
        if let Some((_, names)) = by_region.iter_mut().find(|(r, _)| *r == region) {
            names.push(name);
        }
    }
    let mut groups = vec![SlackBlockOptionGroup::new(
        pt!("UTC"),
        vec![zone_option("UTC")],
    )];
    let listed = |name: &str| name == "UTC" || by_region.iter().any(|(_, n)| n.contains(&name));
    if !listed(current.name()) {
        groups.push(SlackBlockOptionGroup::new(
            pt!("Your current zone"),
            vec![zone_option(current.name())],
        ));
    }
    for (region, mut names) in by_region.clone() {
        names.sort_unstable();
        let parts = names.len().div_ceil(OPTIONS_PER_GROUP);
        for (index, part) in names.chunks(OPTIONS_PER_GROUP).enumerate() {
            let label = if parts > 1 {
                format!("{region} ({}/{parts})", index + 1)
            } else {
                region.to_string()
            };
            groups.push(SlackBlockOptionGroup::new(
                pt!(label),
                part.iter().map(|name| zone_option(name)).collect(),
            ));
        }
    }
    groups
}

/// The modal to edit working hours: one line of ranges per day and a zone.
pub fn hours_modal(hours: &MemberHours) -> SlackView {
    let mut blocks: Vec<SlackBlock> = vec![context(
        "Give each working day its hours, e.g. `09:00-17:00`, or several: \
         `08:00-12:00,13:00-16:00`. Overnight works too: `22:00-06:00`. \
         Leave a day empty to take it off.",
    )];
    for (day, block_id, label) in WEEK {
        let ranges: Vec<String> = hours
            .schedule
            .ranges_on(day)
            .iter()
            .map(TimeRange::to_string)
            .collect();
        let mut input = SlackBlockPlainTextInputElement::new()
            .with_action_id(RANGES_ACTION.into())
            .with_placeholder(pt!("day off"));
        if !ranges.is_empty() {
            input = input.with_initial_value(ranges.join(","));
        }
        blocks.push(
            SlackInputBlock::new(pt!(label), input.into())
                .with_block_id(block_id.into())
                .with_optional(true)
                .into(),
        );
    }
    let zone = SlackBlockStaticSelectElement::new()
        .with_action_id(ZONE_ACTION.into())
        .with_option_groups(zone_groups(hours.tz))
        .with_initial_option(zone_option(hours.tz.name()));
    blocks.push(
        SlackInputBlock::new(pt!("Time zone"), zone.into())
            .with_block_id(ZONE_BLOCK.into())
            .into(),
    );
    SlackView::Modal(
        SlackModalView::new(pt!("Working hours"), blocks)
            .with_callback_id(HOURS_MODAL.into())
            .with_submit(pt!("Save"))
            .with_close(pt!("Cancel")),
    )
}

/// Reads the submitted hours modal: the week and the zone, or an error per block (as Slack's
/// `response_action: errors` wants them).
pub fn read_hours_modal(
    state: &SlackViewState,
) -> Result<(WeeklySchedule, Tz), HashMap<String, String>> {
    let value = |block: &str, action: &str| {
        state
            .values
            .get(&SlackBlockId::new(block.into()))
            .and_then(|actions| actions.get(&SlackActionId::new(action.into())))
    };
    let mut errors = HashMap::new();
    let mut groups = Vec::new();
    for (day, block_id, _) in WEEK {
        let text = value(block_id, RANGES_ACTION)
            .and_then(|v| v.value.clone())
            .unwrap_or_default();
        match read_day(&text) {
            Ok(ranges) if !ranges.is_empty() => groups.push((Weekdays::only(day), ranges)),
            Ok(_) => {}
            Err(message) => {
                errors.insert(block_id.to_string(), message);
            }
        }
    }
    if groups.is_empty() && errors.is_empty() {
        errors.insert(
            "day_mon".to_string(),
            "Give at least one day its hours, e.g. 09:00-17:00.".to_string(),
        );
    }
    let zone_name = value(ZONE_BLOCK, ZONE_ACTION)
        .and_then(|v| v.selected_option.as_ref())
        .map(|option| option.value.clone())
        .unwrap_or_default();
    let zone = match parse_zone(&zone_name) {
        Ok(zone) => Some(zone),
        Err(e) => {
            let message = match zone_name.trim() {
                "" => "Pick your time zone from the list.".to_string(),
                _ => e.to_string(),
            };
            errors.insert(ZONE_BLOCK.to_string(), message);
            None
        }
    };
    match zone {
        Some(zone) if errors.is_empty() => Ok((WeeklySchedule::new(groups), zone)),
        _ => Err(errors),
    }
}

/// One day's ranges, comma-separated; empty means a day off. Ranges must not overlap.
fn read_day(text: &str) -> Result<Vec<TimeRange>, String> {
    let mut ranges = Vec::new();
    for part in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        ranges.push(
            part.parse::<TimeRange>()
                .map_err(|e| capitalize(&e.to_string()))?,
        );
    }
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        let (first, second) = (pair[0], pair[1]);
        if first.is_overnight() || second.start < first.end {
            return Err(format!(
                "{first} and {second} overlap; give each hour once, e.g. 08:00-12:00,13:00-16:00."
            ));
        }
    }
    Ok(ranges)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitted(days: &[(&str, &str)], zone: Option<&str>) -> SlackViewState {
        let mut values = serde_json::Map::new();
        for (block, text) in days {
            values.insert(
                block.to_string(),
                serde_json::json!({ "ranges": { "type": "plain_text_input", "value": text } }),
            );
        }
        if let Some(zone) = zone {
            values.insert(
                "zone".into(),
                serde_json::json!({ "zone": { "type": "static_select", "selected_option": {
                    "text": { "type": "plain_text", "text": zone }, "value": zone } } }),
            );
        }
        serde_json::from_value(serde_json::json!({ "values": values })).expect("view state")
    }

    #[test]
    fn a_filled_modal_reads_as_a_week_in_a_zone() {
        let state = submitted(
            &[
                ("day_mon", "08:00-12:00,13:00-16:00"),
                ("day_tue", "08:00-12:00, 13:00-16:00"),
                ("day_fri", "22:00-06:00"),
                ("day_sat", ""),
            ],
            Some("America/New_York"),
        );
        let (schedule, zone) = read_hours_modal(&state).expect("valid");
        assert_eq!(
            schedule.to_string(),
            "mon,tue 08:00-12:00,13:00-16:00; fri 22:00-06:00"
        );
        assert_eq!(zone, chrono_tz::America::New_York);
    }

    #[test]
    fn mistakes_in_the_modal_are_named_on_their_own_line() {
        let state = submitted(
            &[
                ("day_mon", "9-5"),
                ("day_tue", "09:00-12:00,11:00-13:00"),
                ("day_wed", "25:00-26:00"),
            ],
            None,
        );
        let errors = read_hours_modal(&state).unwrap_err();
        assert_eq!(
            errors["day_mon"],
            "`9-5` is not a time range; try 09:00-17:00"
        );
        assert!(errors["day_tue"].contains("overlap"), "{errors:?}");
        assert!(
            errors["day_wed"].contains("not a time of day"),
            "{errors:?}"
        );
        assert_eq!(errors["zone"], "Pick your time zone from the list.");

        let errors = read_hours_modal(&submitted(&[], Some("UTC"))).unwrap_err();
        assert!(errors["day_mon"].contains("at least one day"), "{errors:?}");
    }

    #[test]
    fn the_modal_starts_from_the_current_hours_and_offers_every_zone() {
        let hours = MemberHours::new(
            "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00"
                .parse()
                .unwrap(),
            chrono_tz::Europe::Berlin,
        );
        let view = serde_json::to_value(hours_modal(&hours)).unwrap();
        let blocks = view["blocks"].as_array().unwrap();
        let monday = blocks.iter().find(|b| b["block_id"] == "day_mon").unwrap();
        assert_eq!(
            monday["element"]["initial_value"],
            "08:00-12:00,13:00-16:00"
        );
        let sunday = blocks.iter().find(|b| b["block_id"] == "day_sun").unwrap();
        assert!(sunday["element"].get("initial_value").is_none());
        let zone = blocks.iter().find(|b| b["block_id"] == "zone").unwrap();
        assert_eq!(zone["element"]["initial_option"]["value"], "Europe/Berlin");
        let groups = zone["element"]["option_groups"].as_array().unwrap();
        assert!(groups.len() <= 100);
        let mut count = 0;
        for group in groups {
            let options = group["options"].as_array().unwrap();
            assert!(options.len() <= OPTIONS_PER_GROUP);
            count += options.len();
        }
        assert!(count > 300, "{count} zones");
    }

    #[test]
    fn the_home_tab_shows_hours_state_and_an_edit_button() {
        let hours = MemberHours::default_in(chrono_tz::Europe::London);
        let now: DateTime<Utc> = "2026-03-03T10:00:00Z".parse().unwrap();
        let view = home(&HomeFacts {
            hours: &hours,
            set_by_member: false,
            state: crate::hours::availability(&hours, now),
            now,
        });
        let json = serde_json::to_value(view).unwrap();
        assert_eq!(json["type"], "home");
        let text = json.to_string();
        assert!(text.contains("You are working"), "{text}");
        assert!(text.contains("mon-fri 09:00-17:00"), "{text}");
        assert!(text.contains(EDIT_HOURS_ACTION), "{text}");
        assert!(text.contains(CHECKINS_BLOCK), "{text}");
    }
}

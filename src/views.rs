//! Block Kit views the bot shows: the App Home, the working-hours form and the pickers the
//! forms share (days, times, a searchable zone, dates). Kept apart from the handlers so the
//! layout can be read (and tested) on its own; reading a submitted form back is here too,
//! beside the blocks it reads, each value through the reader `/async` uses for it.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use slack_morphism::prelude::*;

use crate::decision::card::own_card;
use crate::hours::dates::{away_range, parse_date};
use crate::hours::{
    Availability, DaysError, MemberHours, TimeRange, Weekdays, WeeklySchedule, parse_time_of_day,
    parse_zone,
};

/// The `action_id` of the Home tab's "Edit hours" button.
pub(crate) const EDIT_HOURS_ACTION: &str = "hours_edit";
/// The `action_id` of the Home tab's "Away today" button.
pub(crate) const HOME_AWAY_ACTION: &str = "home_away_today";
/// The `action_id` of the Home tab's "Focus 1 h" button.
pub(crate) const HOME_FOCUS_ACTION: &str = "home_focus_hour";
/// The `callback_id` of the working-hours modal.
pub(crate) const HOURS_MODAL: &str = "hours_modal";
/// The `block_id` of the Home tab's check-in section, which the check-in views fill.
pub(crate) const CHECKINS_BLOCK: &str = "checkins";

/// What the Home tab shows about one member.
#[derive(Debug, Clone)]
pub(crate) struct HomeFacts<'a> {
    pub(crate) hours: &'a MemberHours,
    /// Whether the member set their hours (else they are the default from their profile).
    pub(crate) set_by_member: bool,
    pub(crate) state: Availability,
    pub(crate) now: DateTime<Utc>,
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
pub(crate) fn home(facts: &HomeFacts<'_>) -> SlackView {
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

// ---- pickers, shared by the hours and check-in forms ----

/// The `action_id` of the hours form's zone picker, whose options the bot serves.
pub(crate) const ZONE_ACTION: &str = "zone";
/// The `action_id` of the check-in form's zone picker, which offers each person's own
/// time (`local`) besides the zones.
pub(crate) const ZONE_OR_LOCAL_ACTION: &str = "zone_or_local";
/// Slack shows at most 100 options in an answer to a `block_suggestion`.
const MAX_SUGGESTIONS: usize = 100;
/// The word a check-in's zone picker sends for each person's own time.
const LOCAL: &str = "local";
const LOCAL_LABEL: &str = "Each person's own time (local)";

const WEEK: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "mon", "Monday"),
    (Weekday::Tue, "tue", "Tuesday"),
    (Weekday::Wed, "wed", "Wednesday"),
    (Weekday::Thu, "thu", "Thursday"),
    (Weekday::Fri, "fri", "Friday"),
    (Weekday::Sat, "sat", "Saturday"),
    (Weekday::Sun, "sun", "Sunday"),
];

fn zone_option(name: &str) -> SlackBlockChoiceItem<SlackBlockPlainTextOnly> {
    if name == LOCAL {
        return SlackBlockChoiceItem::new(pt!(LOCAL_LABEL), LOCAL.to_string());
    }
    SlackBlockChoiceItem::new(pt!(name.replace('_', " ")), name.to_string())
}

fn day_option(value: &str, label: &str) -> SlackBlockChoiceItem<SlackBlockText> {
    SlackBlockChoiceItem::new(
        SlackBlockText::Plain(SlackBlockPlainText::new(label.to_string())),
        value.to_string(),
    )
}

/// An input block holding `element`.
pub(crate) fn input(block: &str, label: &str, element: SlackInputBlockElement) -> SlackInputBlock {
    SlackInputBlock::new(pt!(label.to_string()), element).with_block_id(block.into())
}

/// Checkboxes for the days of the week, `ticked` ticked.
pub(crate) fn day_checkboxes(action: &str, ticked: Weekdays) -> SlackInputBlockElement {
    let options: Vec<_> = WEEK.iter().map(|(_, v, l)| day_option(v, l)).collect();
    let mut element = SlackBlockCheckboxesElement::new(options).with_action_id(action.into());
    let initial: Vec<_> = WEEK
        .iter()
        .filter(|(day, ..)| ticked.contains(*day))
        .map(|(_, v, l)| day_option(v, l))
        .collect();
    // Slack refuses an empty list of initial options.
    if !initial.is_empty() {
        element = element.with_initial_options(initial);
    }
    element.into()
}

/// A time picker showing `initial`.
pub(crate) fn time_picker(action: &str, initial: NaiveTime) -> SlackInputBlockElement {
    SlackBlockTimePickerElement::new()
        .with_action_id(action.into())
        .with_initial_time(initial.format("%H:%M").to_string())
        .into()
}

/// A searchable zone picker whose options the bot serves ([`zone_suggestions`]), showing
/// `initial` (a zone name, or `local`).
pub(crate) fn zone_picker(action: &str, initial: &str) -> SlackInputBlockElement {
    SlackBlockExternalSelectElement::new()
        .with_action_id(action.into())
        .with_placeholder(pt!("Type a city, e.g. Berlin"))
        .with_initial_option(zone_option(initial))
        // Opened without typing, it lists the member's zone first.
        .with_min_query_length(0)
        .into()
}

/// The options a zone picker shows for what was typed: the member's own zone first, then
/// (in the check-in form) each person's own time, then the matching zones. `None` for a
/// picker the bot does not serve.
pub(crate) fn zone_suggestions(action: &str, typed: &str, own: Tz) -> Option<serde_json::Value> {
    let with_local = match action {
        ZONE_ACTION => false,
        ZONE_OR_LOCAL_ACTION => true,
        _ => return None,
    };
    let mut names = crate::hours::zone_suggestions(typed, own, MAX_SUGGESTIONS);
    let query = typed.trim().to_lowercase();
    if with_local && (LOCAL_LABEL.to_lowercase().contains(&query) || LOCAL.contains(&query)) {
        let at = usize::from(names.first() == Some(&own.name()));
        names.insert(at, LOCAL);
        names.truncate(MAX_SUGGESTIONS);
    }
    let options = names.into_iter().map(zone_option).collect();
    serde_json::to_value(SlackBlockSuggestionResponse::Options(
        SlackBlockSuggestionOptions::new(options),
    ))
    .ok()
}

/// What a submitted form holds for one block and action.
pub(crate) fn state_value<'a>(
    state: Option<&'a SlackViewState>,
    block: &str,
    action: &str,
) -> Option<&'a SlackViewStateValue> {
    state?
        .values
        .get(&SlackBlockId::new(block.into()))?
        .get(&SlackActionId::new(action.into()))
}

/// The days ticked, read as `/async` reads a day list.
pub(crate) fn picked_days(value: Option<&SlackViewStateValue>) -> Result<Weekdays, String> {
    let ticked: Vec<&str> = value
        .and_then(|v| v.selected_options.as_ref())
        .into_iter()
        .flatten()
        .map(|option| option.value.as_str())
        .collect();
    match ticked.join(",").parse::<Weekdays>() {
        Ok(days) => Ok(days),
        Err(DaysError::Empty) => Err("Tick at least one day.".to_string()),
        Err(e) => Err(capitalize(&e.to_string())),
    }
}

/// The time picked, `HH:MM` as Slack sends it (empty when none).
pub(crate) fn picked_time(value: Option<&SlackViewStateValue>) -> String {
    value
        .and_then(|v| v.selected_time.clone())
        .unwrap_or_default()
}

/// The value of the option picked in a select (empty when none).
pub(crate) fn picked_option(value: Option<&SlackViewStateValue>) -> String {
    value
        .and_then(|v| v.selected_option.as_ref())
        .map(|option| option.value.clone())
        .unwrap_or_default()
}

// ---- the hours form ----

const DAYS_BLOCK: &str = "days";
const START_BLOCK: &str = "start";
const END_BLOCK: &str = "end";
/// The `block_id` of the hours form's zone picker.
pub(crate) const ZONE_BLOCK: &str = "zone";
/// The `block_id` of the hours form's first day of time off.
pub(crate) const AWAY_FROM_BLOCK: &str = "away_from";
const AWAY_TO_BLOCK: &str = "away_to";
const PICKED: &str = "picked";

/// What the hours form says: one range on the days ticked, a zone, and time off to add.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HoursForm {
    pub(crate) schedule: WeeklySchedule,
    pub(crate) zone: Tz,
    /// First and last day of time off to add, if any was picked.
    pub(crate) time_off: Option<(NaiveDate, NaiveDate)>,
}

/// The days and the one range the form starts from: the first working day's first range,
/// on every day that has one; 09:00-17:00 for a week without any.
fn form_week(schedule: &WeeklySchedule) -> (Weekdays, TimeRange) {
    let mut days = Weekdays::NONE;
    let mut first: Option<TimeRange> = None;
    for (day, ..) in WEEK {
        if let Some(range) = schedule.ranges_on(day).first() {
            days = days.with(day);
            first.get_or_insert(*range);
        }
    }
    let nine_to_five = || "09:00-17:00".parse().expect("a valid range");
    (days, first.unwrap_or_else(nine_to_five))
}

/// The form to edit working hours: days, start and end, zone, and time off to add.
pub(crate) fn hours_modal(hours: &MemberHours) -> SlackView {
    let (days, range) = form_week(&hours.schedule);
    let mut blocks: Vec<SlackBlock> = vec![context(
        "Tick your working days and pick when the day starts and ends; an end before the \
         start runs overnight (22:00 to 06:00).",
    )];
    if WeeklySchedule::new([(days, vec![range])]) != hours.schedule {
        blocks.push(context(&format!(
            "Your hours now: `{}`. Saving here sets one range on the days ticked; \
             `/async hours set` keeps several ranges and day groups.",
            hours.schedule
        )));
    }
    blocks.extend([
        input(DAYS_BLOCK, "Working days", day_checkboxes(PICKED, days)).into(),
        input(START_BLOCK, "Starts at", time_picker(PICKED, range.start)).into(),
        input(END_BLOCK, "Ends at", time_picker(PICKED, range.end)).into(),
        input(
            ZONE_BLOCK,
            "Time zone",
            zone_picker(ZONE_ACTION, hours.tz.name()),
        )
        .into(),
        SlackDividerBlock::new().into(),
    ]);
    let date = |block: &str, label: &str| -> SlackBlock {
        input(
            block,
            label,
            SlackBlockDatePickerElement::new()
                .with_action_id(PICKED.into())
                .into(),
        )
        .with_optional(true)
        .into()
    };
    blocks.push(date(AWAY_FROM_BLOCK, "Time off: first day"));
    blocks.push(date(
        AWAY_TO_BLOCK,
        "Time off: last day (empty for one day)",
    ));
    SlackView::Modal(
        SlackModalView::new(pt!("Working hours"), blocks)
            .with_callback_id(HOURS_MODAL.into())
            .with_submit(pt!("Save"))
            .with_close(pt!("Cancel")),
    )
}

/// Reads the submitted hours form, each value through the reader `/async` uses for it, or
/// an error per block (as Slack's `response_action: errors` wants them).
pub(crate) fn read_hours_modal(
    state: Option<&SlackViewState>,
) -> Result<HoursForm, HashMap<String, String>> {
    let value = |block: &str, action: &str| state_value(state, block, action);
    let mut errors = HashMap::new();
    let days = picked_days(value(DAYS_BLOCK, PICKED))
        .map_err(|message| errors.insert(DAYS_BLOCK.to_string(), message))
        .ok();
    let range = read_range(
        &picked_time(value(START_BLOCK, PICKED)),
        &picked_time(value(END_BLOCK, PICKED)),
    )
    .map_err(|(block, message)| errors.insert(block.to_string(), message))
    .ok();
    let zone_name = picked_option(value(ZONE_BLOCK, ZONE_ACTION));
    let zone = parse_zone(&zone_name)
        .map_err(|e| {
            let message = match zone_name.trim() {
                "" => "Pick your time zone from the list.".to_string(),
                _ => e.to_string(),
            };
            errors.insert(ZONE_BLOCK.to_string(), message);
        })
        .ok();
    let date = |block: &str| {
        value(block, PICKED)
            .and_then(|v| v.selected_date.clone())
            .filter(|d| !d.trim().is_empty())
    };
    let time_off = read_time_off(date(AWAY_FROM_BLOCK), date(AWAY_TO_BLOCK))
        .map_err(|(block, message)| errors.insert(block.to_string(), message))
        .ok()
        .flatten();
    match (days, range, zone) {
        (Some(days), Some(range), Some(zone)) if errors.is_empty() => Ok(HoursForm {
            schedule: WeeklySchedule::new([(days, vec![range])]),
            zone,
            time_off,
        }),
        _ => Err(errors),
    }
}

/// The range from two picked times, read as `/async hours set` reads `start-end`; an error
/// names the block to show it beside.
fn read_range(start: &str, end: &str) -> Result<TimeRange, (&'static str, String)> {
    match (start.trim(), end.trim()) {
        ("", _) => Err((START_BLOCK, "Pick when your day starts.".to_string())),
        (_, "") => Err((END_BLOCK, "Pick when your day ends.".to_string())),
        (start, end) => format!("{start}-{end}").parse::<TimeRange>().map_err(|e| {
            let block = match parse_time_of_day(start) {
                Some(_) => END_BLOCK,
                None => START_BLOCK,
            };
            (block, capitalize(&e.to_string()))
        }),
    }
}

/// Time off from two date pickers, read as `/async away <from> <to>` reads its dates; the
/// last day alone is one day.
fn read_time_off(
    from: Option<String>,
    to: Option<String>,
) -> Result<Option<(NaiveDate, NaiveDate)>, (&'static str, String)> {
    let (from, to) = match (from, to) {
        (None, None) => return Ok(None),
        (None, Some(_)) => {
            return Err((
                AWAY_FROM_BLOCK,
                "Pick the first day of your time off too.".to_string(),
            ));
        }
        (Some(from), to) => (from, to),
    };
    let from = parse_date(&from).map_err(|e| (AWAY_FROM_BLOCK, e.to_string()))?;
    let to = match to {
        Some(to) => parse_date(&to).map_err(|e| (AWAY_TO_BLOCK, e.to_string()))?,
        None => from,
    };
    away_range(from, to)
        .map(Some)
        .map_err(|e| (AWAY_TO_BLOCK, e.to_string()))
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

    /// The hours form as Slack submits it: checkboxes, time pickers, the zone picked and the
    /// date pickers, each value shaped as in Slack's `view_submission` payloads.
    fn submitted(
        days: &[&str],
        times: (Option<&str>, Option<&str>),
        zone: Option<&str>,
        time_off: (Option<&str>, Option<&str>),
    ) -> SlackViewState {
        let options: Vec<_> = days
            .iter()
            .map(|d| serde_json::json!({ "text": { "type": "plain_text", "text": d }, "value": d }))
            .collect();
        let zone = zone.map(|zone| {
            serde_json::json!({ "type": "external_select", "selected_option": {
                "text": { "type": "plain_text", "text": zone }, "value": zone } })
        });
        let zone = zone
            .unwrap_or(serde_json::json!({ "type": "external_select", "selected_option": null }));
        let values = serde_json::json!({
            "days": { "picked": { "type": "checkboxes", "selected_options": options } },
            "start": { "picked": { "type": "timepicker", "selected_time": times.0 } },
            "end": { "picked": { "type": "timepicker", "selected_time": times.1 } },
            "zone": { "zone": zone },
            "away_from": { "picked": { "type": "datepicker", "selected_date": time_off.0 } },
            "away_to": { "picked": { "type": "datepicker", "selected_date": time_off.1 } },
        });
        serde_json::from_value(serde_json::json!({ "values": values })).expect("view state")
    }

    #[test]
    fn a_filled_form_reads_as_a_week_in_a_zone_with_time_off() {
        let state = submitted(
            &["mon", "tue", "fri"],
            (Some("08:30"), Some("16:00")),
            Some("America/New_York"),
            (Some("2026-12-24"), Some("2027-01-02")),
        );
        let form = read_hours_modal(Some(&state)).expect("valid");
        assert_eq!(form.schedule.to_string(), "mon,tue,fri 08:30-16:00");
        assert_eq!(form.zone, chrono_tz::America::New_York);
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(form.time_off, Some((day("2026-12-24"), day("2027-01-02"))));

        let overnight = submitted(
            &["sat"],
            (Some("22:00"), Some("06:00")),
            Some("UTC"),
            (None, None),
        );
        let form = read_hours_modal(Some(&overnight)).expect("valid");
        assert_eq!(form.schedule.to_string(), "sat 22:00-06:00");
        assert_eq!(form.time_off, None);
        let to_midnight = submitted(
            &["sun"],
            (Some("18:00"), Some("00:00")),
            Some("UTC"),
            (Some("2026-12-24"), None),
        );
        let form = read_hours_modal(Some(&to_midnight)).expect("valid");
        assert_eq!(form.schedule.to_string(), "sun 18:00-24:00");
        assert_eq!(form.time_off, Some((day("2026-12-24"), day("2026-12-24"))));
    }

    #[test]
    fn mistakes_in_the_form_are_named_beside_their_picker() {
        let state = submitted(
            &[],
            (Some("09:00"), Some("09:00")),
            None,
            (None, Some("2026-12-24")),
        );
        let errors = read_hours_modal(Some(&state)).unwrap_err();
        assert_eq!(errors["days"], "Tick at least one day.");
        assert!(
            errors["end"].contains("starts and ends at the same time"),
            "{errors:?}"
        );
        assert_eq!(errors["zone"], "Pick your time zone from the list.");
        assert!(errors["away_from"].contains("first day"), "{errors:?}");

        let state = submitted(
            &["mon", "funday"],
            (None, Some("17:00")),
            Some("EST"),
            (Some("2027-01-02"), Some("2026-12-24")),
        );
        let errors = read_hours_modal(Some(&state)).unwrap_err();
        assert!(
            errors["days"].contains("`funday` is not a day"),
            "{errors:?}"
        );
        assert_eq!(errors["start"], "Pick when your day starts.");
        assert!(errors["zone"].contains("abbreviation"), "{errors:?}");
        assert!(errors["away_to"].contains("before it starts"), "{errors:?}");

        let errors = read_hours_modal(None).unwrap_err();
        assert_eq!(errors.len(), 3, "days, start and zone: {errors:?}");
    }

    #[test]
    fn the_form_starts_from_the_current_hours_with_a_picker_for_each_value() {
        let hours = MemberHours::new(
            "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00"
                .parse()
                .unwrap(),
            chrono_tz::Europe::Berlin,
        );
        let view = serde_json::to_value(hours_modal(&hours)).unwrap();
        let blocks = view["blocks"].as_array().unwrap();
        let block = |id: &str| blocks.iter().find(|b| b["block_id"] == id).unwrap();
        let days = &block("days")["element"];
        assert_eq!(days["type"], "checkboxes");
        assert_eq!(days["options"].as_array().unwrap().len(), 7);
        let ticked: Vec<&str> = days["initial_options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["value"].as_str().unwrap())
            .collect();
        assert_eq!(ticked, ["mon", "tue", "wed", "thu", "fri"]);
        assert_eq!(block("start")["element"]["type"], "timepicker");
        assert_eq!(block("start")["element"]["initial_time"], "08:00");
        assert_eq!(block("end")["element"]["initial_time"], "12:00");
        let zone = &block("zone")["element"];
        assert_eq!(zone["type"], "external_select");
        assert_eq!(zone["action_id"], ZONE_ACTION);
        assert_eq!(zone["initial_option"]["value"], "Europe/Berlin");
        assert_eq!(zone["min_query_length"], 0);
        for id in ["away_from", "away_to"] {
            assert_eq!(block(id)["element"]["type"], "datepicker");
            assert_eq!(block(id)["optional"], true);
        }
        // Hours the form cannot show whole are named, with where to keep them.
        let text = view.to_string();
        assert!(
            text.contains("mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00"),
            "{text}"
        );

        // The default week is shown as it is, with nothing to warn about.
        let view = serde_json::to_value(hours_modal(&MemberHours::default_in(Tz::UTC))).unwrap();
        assert!(!view.to_string().contains("Your hours now"), "{view}");
        // What the form shows reads back as the hours it was opened with.
        let simple = MemberHours::new("mon,wed 22:00-06:00".parse().unwrap(), Tz::UTC);
        let view = serde_json::to_value(hours_modal(&simple)).unwrap();
        let blocks = view["blocks"].as_array().unwrap();
        let initial = |id: &str, key: &str| {
            blocks.iter().find(|b| b["block_id"] == id).unwrap()["element"][key].clone()
        };
        let days: Vec<String> = initial("days", "initial_options")
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["value"].as_str().unwrap().to_string())
            .collect();
        let days: Vec<&str> = days.iter().map(String::as_str).collect();
        let state = submitted(
            &days,
            (
                initial("start", "initial_time").as_str(),
                initial("end", "initial_time").as_str(),
            ),
            initial("zone", "initial_option")["value"].as_str(),
            (None, None),
        );
        assert_eq!(
            read_hours_modal(Some(&state)).unwrap().schedule,
            simple.schedule
        );
    }

    #[test]
    fn zone_suggestions_put_the_members_zone_first_and_offer_local_only_for_check_ins() {
        let berlin = chrono_tz::Europe::Berlin;
        let values = |answer: serde_json::Value| -> Vec<String> {
            answer["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["value"].as_str().unwrap().to_string())
                .collect()
        };
        let hours = values(zone_suggestions(ZONE_ACTION, "", berlin).unwrap());
        assert_eq!(hours[0], "Europe/Berlin");
        assert!(!hours.contains(&"local".to_string()));
        assert_eq!(hours.len(), MAX_SUGGESTIONS);
        let checkin = values(zone_suggestions(ZONE_OR_LOCAL_ACTION, "", berlin).unwrap());
        assert_eq!(&checkin[..2], ["Europe/Berlin", "local"]);
        assert_eq!(checkin.len(), MAX_SUGGESTIONS);
        assert_eq!(
            values(zone_suggestions(ZONE_OR_LOCAL_ACTION, "loc", berlin).unwrap()),
            ["local"]
        );
        let answer = zone_suggestions(ZONE_ACTION, "sao paulo", berlin).unwrap();
        assert_eq!(answer["options"][0]["text"]["text"], "America/Sao Paulo");
        assert_eq!(answer["options"][0]["value"], "America/Sao_Paulo");
        assert_eq!(zone_suggestions("other", "", berlin), None);
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

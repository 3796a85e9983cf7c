//! `/async checkin …`: managers and admins create, pause, resume, delete and run check-ins;
//! anyone may list them. Each change is written and flushed before the answer says it is
//! done, then handed to the runner, which plans the next occurrence from it.

use std::collections::HashMap;

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use slack_morphism::prelude::*;
use tracing::warn;

use crate::bot::checkins::runner::Change;
use crate::bot::home::errors_answer;
use crate::bot::roles::can_manage;
use crate::bot::{Bot, HandleError};
use crate::checkins::occurrence::{CheckinId, DEFAULT_GRACE, OccurrenceKey};
use crate::checkins::record::{
    Checkin, DEFAULT_CLOSE_AFTER, OccurrenceRecord, Participants, default_questions,
};
use crate::checkins::schedule::{Schedule, ScheduleError, ScheduleZone, parse_time_of_day};
use crate::checkins::texts::schedule_text;
use crate::commands::hours::Asker;
use crate::commands::parse::{ChannelRef, CheckinZone, Command, check_questions};
use crate::decision::card::escape;
use crate::hours::Weekdays;
use crate::ids::{ChannelId, TeamId, UserId};
use crate::store::checkins::CheckinTables;
use crate::views;

/// The answer to a member who may not change check-ins.
pub(crate) const MANAGERS_ONLY: &str = "Only managers and admins create or change check-ins. \
     An admin can make you a manager with `/async role manager @you`.";
/// The `callback_id` of the "new check-in" modal.
pub(crate) const NEW_CHECKIN_MODAL: &str = "checkin_new_modal";

/// Answers one `/async checkin …` command. `trigger` opens the modal of `checkin new`.
pub(crate) async fn respond(
    bot: &Bot,
    asker: &Asker<'_>,
    command: Command,
    trigger: &SlackTriggerId,
) -> Result<String, HandleError> {
    if !matches!(command, Command::CheckinList) && !can_manage(bot, asker.team, asker.user).await? {
        return Ok(MANAGERS_ONLY.to_string());
    }
    match command {
        Command::CheckinCreate {
            channel,
            at,
            days,
            zone,
            questions,
        } => {
            let channel = match channel {
                ChannelRef::Id { id, .. } => id,
                ChannelRef::Unresolved(name) => {
                    return Ok(format!(
                        "I cannot look up `#{}` by name; pick the channel from the list as you type, so Slack sends a link.",
                        escape(&name)
                    ));
                }
            };
            let zone = match zone {
                CheckinZone::Fixed(tz) => ScheduleZone::Fixed(tz),
                CheckinZone::Local => ScheduleZone::Local,
                CheckinZone::Default => {
                    let me = bot.me(asker.team, asker.user, bot.clock.now()).await?;
                    ScheduleZone::Fixed(me.hours.tz)
                }
            };
            let schedule = Schedule { days, at, zone };
            let checkin = create(bot, asker.team, asker.user, channel, schedule, questions).await?;
            Ok(created_text(&checkin, bot.clock.now()))
        }
        Command::CheckinNew => {
            let me = bot.me(asker.team, asker.user, bot.clock.now()).await?;
            bot.slack
                .team(asker.team)
                .views_open(SlackApiViewsOpenRequest::new(
                    trigger.clone(),
                    new_checkin_modal(me.hours.tz),
                ))
                .await?;
            Ok("Fill in the form to create the check-in.".to_string())
        }
        Command::CheckinList => list(bot, asker.team),
        Command::CheckinPause(id) => pause(bot, asker.team, &id, true).await,
        Command::CheckinResume(id) => pause(bot, asker.team, &id, false).await,
        Command::CheckinDelete(id) => delete(bot, asker.team, &id).await,
        Command::CheckinRun(id) => run_now(bot, asker, &id).await,
        _ => Ok(String::new()),
    }
}

/// Stores a new check-in and tells the runner.
pub(crate) async fn create(
    bot: &Bot,
    team: &TeamId,
    manager: &UserId,
    channel: ChannelId,
    schedule: Schedule,
    questions: Vec<String>,
) -> Result<Checkin, HandleError> {
    let tables = CheckinTables::open(&bot.store)?;
    let now = bot.clock.now();
    let mut checkin = Checkin {
        id: tables.next_id(team)?,
        channel,
        schedule,
        questions: if questions.is_empty() {
            default_questions()
        } else {
            questions
        },
        participants: Participants::ChannelMembers,
        manager: manager.clone(),
        paused: false,
        close_after_minutes: DEFAULT_CLOSE_AFTER.num_minutes(),
        grace_minutes: DEFAULT_GRACE.num_minutes(),
        created_at: now,
        next_after: now,
    };
    checkin.next_after = checkin.watermark_at(now);
    tables.checkins.put(team, checkin.id.as_str(), &checkin)?;
    bot.store.flush().await?;
    bot.checkins
        .send(Change::Checkin(team.clone(), checkin.id.clone()));
    Ok(checkin)
}

/// When a check-in runs next, as its manager reads it.
fn next_run_text(checkin: &Checkin, now: DateTime<Utc>) -> String {
    match checkin.schedule.zone {
        ScheduleZone::Fixed(tz) => checkin
            .schedule
            .next_after(now, tz)
            .map(|at| {
                at.with_timezone(&tz)
                    .format("%a %-d %b %H:%M %Z")
                    .to_string()
            })
            .unwrap_or_else(|| "never".to_string()),
        ScheduleZone::Local => checkin
            .next_occurrence()
            .map(|next| {
                format!(
                    "{} at {} each person's time",
                    next.date.format("%a %-d %b"),
                    checkin.schedule.at.format("%H:%M")
                )
            })
            .unwrap_or_else(|| "never".to_string()),
    }
}

fn created_text(checkin: &Checkin, now: DateTime<Utc>) -> String {
    format!(
        "Check-in `{id}` created for <#{channel}>: {schedule}, {count} questions. First run: {next}. \
         Reports close {hours}h after the prompt. Pause it with `/async checkin pause {id}`.",
        id = checkin.id,
        channel = checkin.channel,
        schedule = schedule_text(checkin),
        count = checkin.questions.len(),
        next = next_run_text(checkin, now),
        hours = checkin.close_after().num_hours(),
    )
}

fn list(bot: &Bot, team: &TeamId) -> Result<String, HandleError> {
    let tables = CheckinTables::open(&bot.store)?;
    let now = bot.clock.now();
    let checkins = tables.checkins.scan(team, "")?;
    if checkins.is_empty() {
        return Ok("No check-ins yet. A manager creates one with \
                   `/async checkin create #channel at 09:30 on mon-fri`."
            .to_string());
    }
    let mut lines = vec!["*Check-ins*".to_string()];
    let mut sorted: Vec<Checkin> = checkins.into_iter().map(|(_, c)| c).collect();
    sorted.sort_by_key(|c| c.id.as_str().parse::<u64>().unwrap_or(u64::MAX));
    for checkin in sorted {
        let state = if checkin.paused {
            "paused".to_string()
        } else {
            format!("next {}", next_run_text(&checkin, now))
        };
        lines.push(format!(
            "`{}` <#{}> {} · {} · managed by <@{}>",
            checkin.id,
            checkin.channel,
            schedule_text(&checkin),
            state,
            checkin.manager
        ));
    }
    Ok(lines.join("\n"))
}

fn unknown(id: &str) -> String {
    format!(
        "There is no check-in `{}` here; `/async checkin list` shows their ids.",
        escape(id)
    )
}

async fn pause(bot: &Bot, team: &TeamId, id: &str, paused: bool) -> Result<String, HandleError> {
    let tables = CheckinTables::open(&bot.store)?;
    let Some(checkin) = tables.checkins.get(team, id)? else {
        return Ok(unknown(id));
    };
    if checkin.paused == paused {
        return Ok(format!(
            "Check-in `{id}` is already {}.",
            if paused { "paused" } else { "running" }
        ));
    }
    let now = bot.clock.now();
    // One atomic change, so the runner's own progress made meanwhile stands.
    let changed = tables.checkins.update(team, id, |mut stored| {
        stored.paused = paused;
        if !paused {
            // Runs that fell in the pause are not made up for.
            stored.next_after = stored.next_after.max(stored.watermark_at(now));
        }
        stored
    })?;
    let Some(checkin) = changed else {
        return Ok(unknown(id));
    };
    bot.store.flush().await?;
    bot.checkins
        .send(Change::Checkin(team.clone(), checkin.id.clone()));
    Ok(if paused {
        format!("Check-in `{id}` is paused. Resume it with `/async checkin resume {id}`.")
    } else {
        format!(
            "Check-in `{id}` runs again; next {}.",
            next_run_text(&checkin, bot.clock.now())
        )
    })
}

async fn delete(bot: &Bot, team: &TeamId, id: &str) -> Result<String, HandleError> {
    if !CheckinTables::open(&bot.store)?.delete_checkin(team, id)? {
        return Ok(unknown(id));
    }
    bot.store.flush().await?;
    Ok(format!(
        "Check-in `{id}` is deleted with its answers and history; an occurrence under way ends without a report. Past reports stay in the channel."
    ))
}

/// `run <id>`: today's occurrence, now. If today's has already been opened, it stands.
async fn run_now(bot: &Bot, asker: &Asker<'_>, id: &str) -> Result<String, HandleError> {
    let tables = CheckinTables::open(&bot.store)?;
    let Some(checkin) = tables.checkins.get(asker.team, id)? else {
        return Ok(unknown(id));
    };
    let now = bot.clock.now();
    let tz: Tz = match checkin.schedule.zone {
        ScheduleZone::Fixed(tz) => tz,
        ScheduleZone::Local => bot.me(asker.team, asker.user, now).await?.hours.tz,
    };
    let date = now.with_timezone(&tz).date_naive();
    let key = OccurrenceKey::new(CheckinId::new(id), date);
    // Opening now: for local time, everyone whose time today has passed is asked at once,
    // the rest at their own time.
    let record = OccurrenceRecord::due(&checkin, key.clone(), now);
    if !tables.create_occurrence(asker.team, &record)? {
        return Ok(format!(
            "Check-in `{id}` has already run today ({}); it runs once a day.",
            date.format("%a %-d %b")
        ));
    }
    bot.store.flush().await?;
    bot.checkins
        .send(Change::Occurrence(asker.team.clone(), key));
    Ok(format!(
        "Running check-in `{id}` in <#{}> now.",
        checkin.channel
    ))
}

// ---- the "new check-in" modal ----

const CHANNEL_BLOCK: &str = "channel";
const TIME_BLOCK: &str = "time";
const DAYS_BLOCK: &str = "days";
const ZONE_BLOCK: &str = "zone";
const QUESTIONS_BLOCK: &str = "questions";
const FIELD: &str = "value";

/// The form of `/async checkin new`: the same fields as `checkin create`, with pickers for
/// the channel, the time, the days and the zone (the creator's own first, or each person's
/// own time).
pub(crate) fn new_checkin_modal(zone: Tz) -> SlackView {
    let channel = SlackBlockConversationsSelectElement::new()
        .with_action_id(FIELD.into())
        .with_placeholder(pt!("Pick a channel"));
    let questions = SlackBlockPlainTextInputElement::new()
        .with_action_id(FIELD.into())
        .with_multiline(true)
        .with_initial_value(default_questions().join("\n"));
    let at = NaiveTime::from_hms_opt(9, 30, 0).unwrap_or_default();
    let blocks = vec![
        views::input(CHANNEL_BLOCK, "Channel", channel.into()).into(),
        views::input(TIME_BLOCK, "Time", views::time_picker(FIELD, at)).into(),
        views::input(
            DAYS_BLOCK,
            "Days",
            views::day_checkboxes(FIELD, Weekdays::WEEKDAYS),
        )
        .into(),
        views::input(
            ZONE_BLOCK,
            "Time zone",
            views::zone_picker(views::ZONE_OR_LOCAL_ACTION, zone.name()),
        )
        .into(),
        views::input(QUESTIONS_BLOCK, "Questions, one a line", questions.into()).into(),
        SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
            SlackBlockMarkDownText::new(
                "Participants: the channel's members, minus bots and anyone away that day.".into(),
            ),
        )])
        .into(),
    ];
    SlackView::Modal(
        SlackModalView::new(pt!("New check-in"), blocks)
            .with_callback_id(NEW_CHECKIN_MODAL.into())
            .with_submit(pt!("Create"))
            .with_close(pt!("Cancel")),
    )
}

/// Whether a view submission is the "new check-in" modal.
pub(crate) fn is_new_checkin_submission(submission: &SlackInteractionViewSubmissionEvent) -> bool {
    match &submission.view.view {
        SlackView::Modal(modal) => modal
            .callback_id
            .as_ref()
            .is_some_and(|id| id.0 == NEW_CHECKIN_MODAL),
        SlackView::Home(_) => false,
    }
}

/// What the "new check-in" form says, each value read as `/async checkin create` reads it,
/// or an error per field.
pub(crate) fn read_new_checkin(
    state: Option<&SlackViewState>,
) -> Result<(ChannelId, Schedule, Vec<String>), HashMap<String, String>> {
    let value = |block: &str, action: &str| views::state_value(state, block, action);
    let mut errors = HashMap::new();
    let channel = value(CHANNEL_BLOCK, FIELD)
        .and_then(|v| v.selected_conversation.as_ref())
        .map(|c| ChannelId::new(c.0.clone()));
    if channel.is_none() {
        errors.insert(CHANNEL_BLOCK.to_string(), "Pick the channel.".to_string());
    }
    // Each value read on its own, as `Schedule::from_parts` reads it, so every mistake is
    // named at once.
    let days = views::picked_days(value(DAYS_BLOCK, FIELD))
        .map_err(|message| errors.insert(DAYS_BLOCK.to_string(), message))
        .ok();
    let at = views::picked_time(value(TIME_BLOCK, FIELD));
    let at = match at.trim() {
        "" => Err("Pick the time.".to_string()),
        at => parse_time_of_day(at).map_err(|e| e.to_string()),
    }
    .map_err(|message| errors.insert(TIME_BLOCK.to_string(), message))
    .ok();
    let zone = views::picked_option(value(ZONE_BLOCK, views::ZONE_OR_LOCAL_ACTION));
    let zone = match zone.trim() {
        "" => Err("Pick a time zone, or each person's own time.".to_string()),
        zone => zone
            .parse::<ScheduleZone>()
            .map_err(|e: ScheduleError| e.to_string()),
    }
    .map_err(|message| errors.insert(ZONE_BLOCK.to_string(), message))
    .ok();
    let questions: Vec<String> = value(QUESTIONS_BLOCK, FIELD)
        .and_then(|v| v.value.as_deref())
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string)
        .collect();
    // The command's limits, so a form cannot store what `/async checkin create` refuses.
    let questions = check_questions(questions).unwrap_or_else(|e| {
        errors.insert(QUESTIONS_BLOCK.to_string(), e.to_string());
        Vec::new()
    });
    match (channel, days, at, zone) {
        (Some(channel), Some(days), Some(at), Some(zone)) if errors.is_empty() => {
            Ok((channel, Schedule { days, at, zone }, questions))
        }
        _ => Err(errors),
    }
}

/// The "new check-in" form was submitted: creates the check-in, or shows what to fix.
pub(crate) async fn submit_new_checkin(
    bot: &Bot,
    submission: &SlackInteractionViewSubmissionEvent,
) -> Option<serde_json::Value> {
    let team = TeamId::new(submission.team.id.0.clone());
    let user = UserId::new(submission.user.id.0.clone());
    let (channel, schedule, questions) =
        match read_new_checkin(submission.view.state_params.state.as_ref()) {
            Ok(read) => read,
            Err(errors) => return Some(errors_answer(errors)),
        };
    let refuse = |message: &str| {
        Some(errors_answer(HashMap::from([(
            CHANNEL_BLOCK.to_string(),
            message.to_string(),
        )])))
    };
    match can_manage(bot, &team, &user).await {
        Ok(true) => {}
        Ok(false) => return refuse(MANAGERS_ONLY),
        Err(e) => {
            warn!(error = %e, "could not check a manager");
            return refuse("Sorry, I could not check that just now; please try again.");
        }
    }
    match create(bot, &team, &user, channel, schedule, questions).await {
        Ok(_) => None,
        Err(e) => {
            warn!(team = %team, error = %e, "could not create a check-in from the form");
            refuse("Sorry, I could not save that just now; please try again.")
        }
    }
}

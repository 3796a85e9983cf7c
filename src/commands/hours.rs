//! `/async hours`, `away`, `focus` and `overlap`: a member's own hours, time off and focus
//! time, and when colleagues are around. Each handler reads what it needs, writes (and
//! flushes) what the answer says is saved, and answers in one short ephemeral message.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::bot::directory::zone_of;
use crate::bot::members::Me;
use crate::bot::{Bot, HandleError};
use crate::commands::parse::{ChannelRef, HoursSpec, UserRef};
use crate::decision::card::{hours_text, own_card};
use crate::hours::{
    AwayPeriod, FocusBlock, MemberHours, TimeRange, WeeklySchedule, Window, availability,
    format_relative, overlap,
};
use crate::hours::{add_time_off, today};
use crate::ids::{TeamId, UserId};
use crate::store::StoreError;

/// Most people one `/async overlap` compares (named and channel members together).
pub(crate) const MAX_OVERLAP_PEOPLE: usize = 50;

/// Who asked, where.
pub(crate) struct Asker<'a> {
    pub(crate) team: &'a TeamId,
    pub(crate) user: &'a UserId,
}

/// `/async hours`.
pub(crate) async fn mine(bot: &Bot, asker: &Asker<'_>) -> Result<String, StoreError> {
    let now = bot.clock.now();
    let me = bot.me(asker.team, asker.user, now).await?;
    Ok(describe_mine(&me, now))
}

/// The answer to `/async hours`: state now, hours, time off and focus, and how to change them.
pub(crate) fn describe_mine(me: &Me, now: DateTime<Utc>) -> String {
    let origin = if me.stored.is_some() {
        "set by you"
    } else {
        "the default, in your Slack profile's time zone"
    };
    let mut lines = vec![
        own_card(&me.hours, &availability(&me.hours, now), now),
        format!("*Your hours* ({origin}): {}", hours_text(&me.hours)),
    ];
    for period in &me.hours.away {
        lines.push(format!("*Away* {}", away_text(period)));
    }
    if let Some(focus) = me.hours.focus.filter(|f| f.is_active(now)) {
        lines.push(format!(
            "*Focus time* until {}",
            focus.until.with_timezone(&me.hours.tz).format("%H:%M")
        ));
    }
    lines.push(
        "Change them with `/async hours set mon-fri 09:00-17:00 Europe/Berlin`, or from my Home tab."
            .to_string(),
    );
    lines.join("\n")
}

fn away_text(period: &AwayPeriod) -> String {
    if period.from == period.to {
        format!("on {}", period.from.format("%a %-d %b %Y"))
    } else {
        format!(
            "from {} to {}",
            period.from.format("%a %-d %b %Y"),
            period.to.format("%a %-d %b %Y")
        )
    }
}

/// The ids of named people, and a sentence for each name Slack did not turn into a mention.
fn resolve(users: &[UserRef]) -> (Vec<UserId>, Vec<String>) {
    let mut ids = Vec::new();
    let mut problems = Vec::new();
    for user in users {
        match user {
            UserRef::Id { id, .. } => ids.push(id.clone()),
            UserRef::Unresolved(name) => problems.push(format!(
                "I cannot look up `@{}` by name; pick the person from the list as you type, so Slack sends a mention.",
                crate::decision::card::escape(name)
            )),
        }
    }
    (ids, problems)
}

/// `/async hours @user …`.
pub(crate) async fn theirs(
    bot: &Bot,
    asker: &Asker<'_>,
    users: &[UserRef],
) -> Result<String, crate::bot::HandleError> {
    let now = bot.clock.now();
    let (ids, mut lines) = resolve(users);
    let mut cards = bot
        .hours_card(asker.team, asker.user, &ids, false, now)
        .await?;
    cards.append(&mut lines);
    Ok(cards.join("\n"))
}

/// The week `hours set` describes, as the hours model keeps it.
pub(crate) fn schedule_of(spec: &HoursSpec) -> WeeklySchedule {
    WeeklySchedule::new(spec.groups.iter().map(|(days, ranges)| {
        let ranges = ranges
            .iter()
            .map(|(start, end)| TimeRange::new(*start, *end))
            .collect();
        (*days, ranges)
    }))
}

/// `/async hours set …`: the new week, in the zone given, else the member's current one.
pub(crate) async fn set(
    bot: &Bot,
    asker: &Asker<'_>,
    spec: &HoursSpec,
) -> Result<String, StoreError> {
    let now = bot.clock.now();
    let me = bot.me(asker.team, asker.user, now).await?;
    let mut hours = MemberHours::new(schedule_of(spec), spec.zone.unwrap_or(me.hours.tz));
    hours.away = me.hours.away.clone();
    hours.focus = me.hours.focus;
    bot.save_hours(asker.team, asker.user, Some(&hours)).await?;
    Ok(format!(
        "Saved. Your hours are now {}.\n{}",
        hours_text(&hours),
        own_card(&hours, &availability(&hours, now), now)
    ))
}

/// What is left of a record once a part of it is removed: nothing, when what is left is
/// exactly the default a member who never set anything gets (so their profile zone is
/// followed again).
fn keep_unless_default(hours: MemberHours, default_tz: Tz) -> Option<MemberHours> {
    (hours != MemberHours::default_in(default_tz)).then_some(hours)
}

/// Saves what is left of the asker's record after a part of it was removed (flushed).
async fn save_remainder(
    bot: &Bot,
    asker: &Asker<'_>,
    me: &Me,
    hours: MemberHours,
) -> Result<(), StoreError> {
    let zone = zone_of(me.profile.as_ref(), bot.default_tz);
    bot.save_hours(
        asker.team,
        asker.user,
        keep_unless_default(hours, zone).as_ref(),
    )
    .await
}

/// `/async hours clear`: back to the default week in the profile's zone; time off and focus
/// time stay.
pub(crate) async fn clear(bot: &Bot, asker: &Asker<'_>) -> Result<String, StoreError> {
    let now = bot.clock.now();
    let me = bot.me(asker.team, asker.user, now).await?;
    let zone = zone_of(me.profile.as_ref(), bot.default_tz);
    let mut hours = MemberHours::default_in(zone);
    hours.away = me.hours.away.clone();
    hours.focus = me.hours.focus.filter(|f| f.is_active(now));
    save_remainder(bot, asker, &me, hours.clone()).await?;
    Ok(format!(
        "Saved. Your hours are back to the default: {}.",
        hours_text(&hours)
    ))
}

/// `/async away <from> [<to>]`.
pub(crate) async fn away(
    bot: &Bot,
    asker: &Asker<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<String, StoreError> {
    let now = bot.clock.now();
    let me = bot.me(asker.team, asker.user, now).await?;
    let today = today(&me.hours, now);
    let mut record = me.record();
    let period = match add_time_off(&mut record, from, to, today) {
        Ok(period) => period,
        Err(sentence) => return Ok(sentence),
    };
    bot.save_hours(asker.team, asker.user, Some(&record))
        .await?;
    let back = availability(&record, now).back_at();
    let back = match back.filter(|_| period.contains(today)) {
        Some(back) => format!(
            " You are back {}.",
            back.with_timezone(&record.tz).format("%a %-d %b %H:%M")
        ),
        None => String::new(),
    };
    Ok(format!(
        "Saved. You are away {} ({}). People who mention you then will hear it.{back}",
        away_text(&period),
        record.tz.name()
    ))
}

/// "Away today" or "Focus 1 h" on the Home tab: the same as `/async away <today>` or
/// `/async focus 1h`, then the tab shows the new state.
pub(crate) async fn home_button(
    bot: &Bot,
    team: &TeamId,
    user: &UserId,
    button: &str,
) -> Result<(), HandleError> {
    let asker = Asker { team, user };
    if button == crate::views::HOME_AWAY_ACTION {
        let now = bot.clock.now();
        let today = today(&bot.me(team, user, now).await?.hours, now);
        away(bot, &asker, today, today).await?;
    } else {
        focus(bot, &asker, TimeDelta::hours(1)).await?;
    }
    bot.publish_home(team, user).await
}

/// `/async away clear`.
pub(crate) async fn away_clear(bot: &Bot, asker: &Asker<'_>) -> Result<String, StoreError> {
    let now = bot.clock.now();
    let me = bot.me(asker.team, asker.user, now).await?;
    if me.hours.away.is_empty() {
        return Ok("You have no time off planned; nothing to clear.".to_string());
    }
    let mut record = me.record();
    record.away.clear();
    save_remainder(bot, asker, &me, record).await?;
    Ok("Saved. Your time off is cleared: welcome back.".to_string())
}

/// `/async focus <duration>`.
pub(crate) async fn focus(
    bot: &Bot,
    asker: &Asker<'_>,
    duration: TimeDelta,
) -> Result<String, StoreError> {
    let now = bot.clock.now();
    let me = bot.me(asker.team, asker.user, now).await?;
    let mut record = me.record();
    let until = now + duration;
    record.focus = Some(FocusBlock { until });
    bot.save_hours(asker.team, asker.user, Some(&record))
        .await?;
    Ok(format!(
        ":headphones: Saved. Focus time until {} ({}). People who mention you will hear you are focusing. End it early with `/async focus off`.",
        until.with_timezone(&record.tz).format("%H:%M"),
        format_relative(duration)
    ))
}

/// `/async focus off`.
pub(crate) async fn focus_off(bot: &Bot, asker: &Asker<'_>) -> Result<String, StoreError> {
    let now = bot.clock.now();
    let me = bot.me(asker.team, asker.user, now).await?;
    if me.hours.focus.is_none_or(|f| !f.is_active(now)) {
        return Ok("You are not in focus time; nothing to end.".to_string());
    }
    let mut record = me.record();
    record.focus = None;
    save_remainder(bot, asker, &me, record).await?;
    Ok("Saved. Focus time is over.".to_string())
}

/// `/async overlap @a @b [#channel …]`: the asker, the people named and the channels'
/// members, over the next seven days, in the asker's zone.
pub(crate) async fn overlap_of(
    bot: &Bot,
    asker: &Asker<'_>,
    users: &[UserRef],
    channels: &[ChannelRef],
) -> Result<String, crate::bot::HandleError> {
    let now = bot.clock.now();
    let me = bot.me(asker.team, asker.user, now).await?;
    let (mut ids, mut problems) = resolve(users);
    for channel in channels {
        match channel {
            ChannelRef::Id { id, .. } => match bot.channel_members(asker.team, id, now).await {
                Some(members) => ids.extend(members.iter().cloned()),
                None => problems.push(format!(
                    "I could not read the members of <#{id}>; invite me there with `/invite @async-norms`."
                )),
            },
            ChannelRef::Unresolved(name) => problems.push(format!(
                "I cannot look up `#{}` by name; pick the channel from the list as you type.",
                crate::decision::card::escape(name)
            )),
        }
    }
    let mut seen = std::collections::HashSet::from([asker.user.clone()]);
    ids.retain(|id| *id != bot.identity_in(asker.team).user_id && seen.insert(id.clone()));
    let mut people = vec![me.hours.clone()];
    let mut named = Vec::new();
    let mut skipped = 0;
    for id in ids {
        if people.len() >= MAX_OVERLAP_PEOPLE {
            skipped += 1;
            continue;
        }
        match bot.reach(asker.team, &id, now).await? {
            Some(member) if member.is_person => {
                people.push(member.hours);
                named.push(format!("<@{id}>"));
            }
            Some(_) => {}
            None => problems.push(format!("I could not look up <@{id}> right now.")),
        }
    }
    if named.is_empty() {
        problems
            .push("Name at least one colleague, e.g. `/async overlap @alice @bob`.".to_string());
        return Ok(problems.join("\n"));
    }
    let everyone: Vec<&MemberHours> = people.iter().collect();
    let windows = overlap(&everyone, now, now + TimeDelta::days(7));
    let mut lines = vec![describe_overlap(&windows, &named, me.hours.tz)];
    if skipped > 0 {
        lines.push(format!(
            "I compared the first {MAX_OVERLAP_PEOPLE} people; {skipped} more were left out."
        ));
    }
    lines.append(&mut problems);
    Ok(lines.join("\n"))
}

/// The shared windows, one line each, in the reader's zone.
pub(crate) fn describe_overlap(windows: &[Window], named: &[String], reader_tz: Tz) -> String {
    let who = format!("You and {}", named.join(", "));
    if windows.is_empty() {
        return format!(
            "{who} share no working time in the next 7 days. Async it is: write it down and let each reply in their own hours."
        );
    }
    let total = windows
        .iter()
        .fold(TimeDelta::zero(), |sum, (start, end)| sum + (*end - *start));
    let mut lines = vec![format!(
        "*{who} are all working at these times in the next 7 days* ({}, your time, {} in all):",
        reader_tz.name(),
        format_relative(total).trim_start_matches("in ")
    )];
    for (start, end) in windows {
        let (start, end) = (
            start.with_timezone(&reader_tz),
            end.with_timezone(&reader_tz),
        );
        let end_text = if end.date_naive() == start.date_naive() {
            end.format("%H:%M").to_string()
        } else {
            end.format("%a %H:%M").to_string()
        };
        lines.push(format!(
            "• {} – {end_text}",
            start.format("%a %-d %b %H:%M")
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::parse::{Command, parse};

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn hours_set_becomes_the_same_week_the_member_typed() {
        let Ok(Command::HoursSet(spec)) =
            parse("hours set mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00 America/New_York")
        else {
            panic!("parses")
        };
        assert_eq!(
            schedule_of(&spec).to_string(),
            "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00"
        );
        let Ok(Command::HoursSet(night)) = parse("hours set daily 22:00-06:00") else {
            panic!("parses")
        };
        assert_eq!(schedule_of(&night).to_string(), "daily 22:00-06:00");
    }

    #[test]
    fn a_record_that_is_only_the_default_is_not_kept() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            keep_unless_default(MemberHours::default_in(berlin), berlin),
            None
        );
        let mut away = MemberHours::default_in(berlin);
        away.away
            .push(AwayPeriod::new(date("2026-03-03"), date("2026-03-04")).unwrap());
        assert_eq!(keep_unless_default(away.clone(), berlin), Some(away));
        // Default hours, but in another zone than the profile's: a choice worth keeping.
        let tokyo = MemberHours::default_in(chrono_tz::Asia::Tokyo);
        assert_eq!(keep_unless_default(tokyo.clone(), berlin), Some(tokyo));
    }

    #[test]
    fn shared_windows_read_in_the_readers_zone() {
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        let windows = vec![
            (at("2027-01-05T00:00:00Z"), at("2027-01-05T01:00:00Z")),
            (at("2027-01-05T23:30:00Z"), at("2027-01-06T00:30:00Z")),
        ];
        let text = describe_overlap(&windows, &["<@U1>".into()], chrono_tz::UTC);
        assert_eq!(
            text,
            "*You and <@U1> are all working at these times in the next 7 days* (UTC, your time, 2h in all):\n\
             • Tue 5 Jan 00:00 – 01:00\n\
             • Tue 5 Jan 23:30 – Wed 00:30"
        );
        let none = describe_overlap(&[], &["<@U1>".into(), "<@U2>".into()], chrono_tz::UTC);
        assert!(
            none.starts_with("You and <@U1>, <@U2> share no working time"),
            "{none}"
        );
    }
}

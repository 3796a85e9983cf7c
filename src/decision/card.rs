//! How one member's availability reads, everywhere it is shown: the mention note, the
//! `/async hours` answers, the cards `@async-norms` posts and the Home tab. One wording, so a
//! person learns it once. Times are given in the member's zone, and in the reader's when the
//! two clocks differ.

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::hours::{
    Availability, MemberHours, SignalKind, format_back, format_relative, local_time,
};
use crate::ids::UserId;
pub(crate) use crate::norms::markup::{escape, slack_date};

/// The emoji and words for a state, e.g. `(":crescent_moon:", "outside working hours")`.
pub(crate) fn state_words(state: &Availability) -> (&'static str, &'static str) {
    match state {
        Availability::Available { .. } => (":large_green_circle:", "working"),
        Availability::OutsideHours { .. } => (":crescent_moon:", "outside working hours"),
        Availability::Away { .. } => (":palm_tree:", "away"),
        Availability::Focus { .. } => (":headphones:", "in focus time"),
    }
}

/// Whether two zones show different clocks at `at`.
fn clocks_differ(a: Tz, b: Tz, at: DateTime<Utc>) -> bool {
    a.offset_from_utc_datetime(&at.naive_utc()).fix()
        != b.offset_from_utc_datetime(&at.naive_utc()).fix()
}

/// Who reads a card: one person whose zone is known (a private answer or note), or anyone who
/// opens a public post, whose own Slack then shows each time in their zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    In(Tz),
    Everyone,
}

impl From<Tz> for Reader {
    fn from(tz: Tz) -> Self {
        Reader::In(tz)
    }
}

/// " (Wed 03:00 your time)" when the reader's clock differs from the member's at `at`; for
/// everyone, a date token that each reader sees in their own zone (falling back to UTC).
fn in_reader_zone(at: DateTime<Utc>, member_tz: Tz, reader: Reader) -> String {
    match reader {
        Reader::In(reader_tz) if clocks_differ(member_tz, reader_tz, at) => format!(
            " ({} your time)",
            at.with_timezone(&reader_tz).format("%a %H:%M")
        ),
        Reader::In(_) => String::new(),
        Reader::Everyone => format!(
            " ({} your time)",
            slack_date(
                at,
                "{date_short_pretty} {time}",
                &at.format("%a %H:%M UTC").to_string()
            )
        ),
    }
}

/// The member's hours as they would type them, with the zone: `mon-fri 09:00-17:00 (Europe/Berlin)`.
pub(crate) fn hours_text(hours: &MemberHours) -> String {
    format!("{} ({})", hours.schedule, hours.tz.name())
}

/// When the member is back, in their zone and the reader's: "back Wed 09:00, in 10h 46m
/// (Wed 03:00 your time)"; or why there is no such time.
pub(crate) fn back_text(
    state: &Availability,
    member_tz: Tz,
    reader: Reader,
    now: DateTime<Utc>,
) -> String {
    match state.back_at() {
        Some(back) => format!(
            "{}{}",
            format_back(back, member_tz, now),
            in_reader_zone(back, member_tz, reader)
        ),
        None => match state {
            Availability::Available { .. } => String::new(),
            Availability::Away { .. } => "back not within the next year".to_string(),
            _ => "no working hours ahead".to_string(),
        },
    }
}

/// The second half of a card line: until when they work, or when they are back.
fn until_or_back(
    state: &Availability,
    member_tz: Tz,
    reader: Reader,
    now: DateTime<Utc>,
) -> String {
    match state {
        Availability::Available { until: Some(until) } => format!(
            "until {}, {}{}",
            until.with_timezone(&member_tz).format("%H:%M"),
            format_relative(*until - now),
            in_reader_zone(*until, member_tz, reader)
        ),
        Availability::Available { until: None } => "around the clock".to_string(),
        Availability::Focus { until, .. } => format!(
            "focusing until {}; {}",
            until.with_timezone(&member_tz).format("%H:%M"),
            back_text(state, member_tz, reader, now)
        ),
        _ => back_text(state, member_tz, reader, now),
    }
}

/// One member as a card entry of two short lines, readable on a phone:
///
/// ```text
/// :crescent_moon: <@U2> · outside working hours · 22:14 Tue their time
///     mon-fri 09:00-17:00 (Europe/Berlin) · back Wed 09:00, in 10h 46m (Wed 03:00 your time)
/// ```
pub(crate) fn member_card(
    user: &UserId,
    hours: &MemberHours,
    state: &Availability,
    reader: impl Into<Reader>,
    now: DateTime<Utc>,
) -> String {
    let reader = reader.into();
    let (emoji, words) = state_words(state);
    let local = local_time(hours, now).format("%H:%M %a");
    let why = signal_text(hours, state, now)
        .map(|why| format!(" · {why}"))
        .unwrap_or_default();
    format!(
        "{emoji} <@{user}> · {words}{why} · *{local}* their time\n      {} · {}",
        hours_text(hours),
        until_or_back(state, hours.tz, reader, now)
    )
}

/// Why Slack says the member is away or focusing, when it does: "Slack status: Vacationing,
/// until Fri" (the day in the member's zone; the date too when it is a week or more away).
pub(crate) fn signal_text(
    hours: &MemberHours,
    state: &Availability,
    now: DateTime<Utc>,
) -> Option<String> {
    let signal = hours
        .signal
        .as_ref()
        .filter(|signal| signal.is_active(now))?;
    let shown = match (signal.kind, state) {
        (SignalKind::Away, Availability::Away { .. }) => format!("Slack status: {}", signal.label),
        // DND lasts hours, not days: "Do Not Disturb until 14:30", as focus time reads.
        (SignalKind::DoNotDisturb, Availability::Focus { .. }) => {
            return Some(match signal.until {
                Some(until) => {
                    let local = until.with_timezone(&hours.tz);
                    let time = if until - now < chrono::TimeDelta::hours(20) {
                        local.format("%H:%M")
                    } else {
                        local.format("%a %H:%M")
                    };
                    format!("{} until {time}", signal.label)
                }
                None => signal.label.clone(),
            });
        }
        _ => return None,
    };
    Some(match signal.until {
        Some(until) => {
            let local = until.with_timezone(&hours.tz);
            let day = if until - now < chrono::TimeDelta::days(6) {
                local.format("%a").to_string()
            } else {
                local.format("%a %-d %b").to_string()
            };
            format!("{shown}, until {day}")
        }
        None => shown,
    })
}

/// The reader's own state, for `/async hours` and the Home tab: "You are working · 14:05 Tue
/// (Europe/Berlin) · until 17:00, in 2h 55m".
pub(crate) fn own_card(hours: &MemberHours, state: &Availability, now: DateTime<Utc>) -> String {
    let (emoji, words) = state_words(state);
    let local = local_time(hours, now).format("%H:%M %a");
    let tail = until_or_back(state, hours.tz, Reader::In(hours.tz), now);
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!(" · {tail}")
    };
    format!(
        "{emoji} You are {words} · *{local}* ({}){tail}",
        hours.tz.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::{AwayPeriod, FocusBlock, availability};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_member_outside_hours_reads_with_both_clocks() {
        let hours = MemberHours::default_in(chrono_tz::Europe::Berlin);
        let now = at("2026-03-03T21:14:00Z"); // Tue 22:14 in Berlin
        let state = availability(&hours, now);
        assert_eq!(
            member_card(
                &UserId::new("U2"),
                &hours,
                &state,
                chrono_tz::America::New_York,
                now
            ),
            ":crescent_moon: <@U2> · outside working hours · *22:14 Tue* their time\n      \
             mon-fri 09:00-17:00 (Europe/Berlin) · back Wed 09:00, in 10h 46m (Wed 03:00 your time)"
        );
        // Same clocks: no second time.
        let line = member_card(
            &UserId::new("U2"),
            &hours,
            &state,
            chrono_tz::Europe::Paris,
            now,
        );
        assert!(line.ends_with("back Wed 09:00, in 10h 46m"), "{line}");
    }

    #[test]
    fn working_away_and_focus_read_as_such() {
        let now = at("2026-03-03T10:00:00Z"); // Tue 11:00 in Berlin
        let mut hours = MemberHours::default_in(chrono_tz::Europe::Berlin);
        let reader = chrono_tz::Europe::Berlin;
        let user = UserId::new("U2");
        let working = member_card(&user, &hours, &availability(&hours, now), reader, now);
        assert!(
            working.contains("working · *11:00 Tue*") && working.ends_with("until 17:00, in 6h"),
            "{working}"
        );

        hours.focus = Some(FocusBlock {
            until: at("2026-03-03T11:30:00Z"),
        });
        let focus = member_card(&user, &hours, &availability(&hours, now), reader, now);
        assert!(
            focus.contains(":headphones:")
                && focus.ends_with("focusing until 12:30; back Tue 12:30, in 1h 30m"),
            "{focus}"
        );

        hours.focus = None;
        let day = "2026-03-03".parse().unwrap();
        hours.away.push(AwayPeriod::new(day, day).unwrap());
        let away = member_card(&user, &hours, &availability(&hours, now), reader, now);
        assert!(
            away.contains(":palm_tree: <@U2> · away") && away.ends_with("back Wed 09:00, in 22h"),
            "{away}"
        );
    }

    #[test]
    fn my_own_card_names_my_zone() {
        let hours = MemberHours::default_in(chrono_tz::Asia::Kolkata);
        let now = at("2026-03-03T06:30:00Z"); // 12:00 in Kolkata
        assert_eq!(
            own_card(&hours, &availability(&hours, now), now),
            ":large_green_circle: You are working · *12:00 Tue* (Asia/Kolkata) · until 17:00, in 5h"
        );
    }
}

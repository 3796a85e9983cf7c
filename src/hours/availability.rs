//! Whether a member can be reached at an instant, and if not, why and until when. This is the
//! answer behind every availability card and every "is it their night?" note.

use chrono::{DateTime, Utc};

use crate::hours::member::MemberHours;
use crate::hours::signals::SignalKind;
use crate::hours::windows::{
    RunEnd, first_start, free_windows, is_inside, is_working, local_time, run_end,
};

/// A member's state at an instant. `back_at` is always the next instant at which they are in a
/// working window and neither away nor focusing; it is `None` only when no such instant comes
/// within about 400 days (an empty schedule, or time off longer than that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Working now, and reachable until `until` (the end of this working window, or the start
    /// of time off that cuts it short); `None` when they work round the clock.
    Available { until: Option<DateTime<Utc>> },
    /// Outside working hours (focus time outside working hours does not matter).
    OutsideHours { back_at: Option<DateTime<Utc>> },
    /// On one of their days off.
    Away { back_at: Option<DateTime<Utc>> },
    /// In working hours but in focus time until `until`.
    Focus {
        until: DateTime<Utc>,
        back_at: Option<DateTime<Utc>>,
    },
}

impl Availability {
    /// Whether the member can be reached now.
    pub fn is_available(&self) -> bool {
        matches!(self, Availability::Available { .. })
    }

    /// When the member can be reached again; `None` when available now or never within the
    /// horizon.
    pub(crate) fn back_at(&self) -> Option<DateTime<Utc>> {
        match *self {
            Availability::Available { .. } => None,
            Availability::OutsideHours { back_at }
            | Availability::Away { back_at }
            | Availability::Focus { back_at, .. } => back_at,
        }
    }
}

/// The member's state at `now`. Time off wins over everything (it is what a colleague most
/// needs to know); then, outside working hours, `OutsideHours`; inside them, `Focus` while a
/// focus block runs, else `Available`.
pub fn availability(hours: &MemberHours, now: DateTime<Utc>) -> Availability {
    let reachable = |from, to| free_windows(hours, from, to, true);
    let back_at = || first_start(&reachable, now);
    match state(hours, now) {
        State::Away => Availability::Away { back_at: back_at() },
        State::OutsideHours => Availability::OutsideHours { back_at: back_at() },
        State::Focus(until) => Availability::Focus {
            until,
            back_at: back_at(),
        },
        State::Working => match run_end(&reachable, now) {
            RunEnd::EndsAt(until) => Availability::Available { until: Some(until) },
            RunEnd::Beyond => Availability::Available { until: None },
            // Working by the clock yet blocked from now on: a Do Not Disturb with no end.
            // The safe reading, rather than claim they are free.
            RunEnd::Outside => Availability::OutsideHours { back_at: back_at() },
        },
    }
}

/// Whether the member can be reached at `now`: `availability(hours, now).is_available()`
/// without working out until when, or when they are back (a walk of up to a week of
/// windows, or of the whole search horizon). What a broadcast's count and the notes' filters
/// ask of every member.
pub fn is_available(hours: &MemberHours, now: DateTime<Utc>) -> bool {
    // With nothing taken out of their hours, reachable is working.
    let plain = hours.away.is_empty() && hours.focus.is_none() && hours.signal.is_none();
    state(hours, now) == State::Working
        && (plain || is_inside(&|from, to| free_windows(hours, from, to, true), now))
}

/// What [`availability`] decides before it looks ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Away,
    OutsideHours,
    Focus(DateTime<Utc>),
    /// In working hours, not away, not in focus time and not in a Do Not Disturb with an
    /// end (one without an end is found by looking ahead).
    Working,
}

fn state(hours: &MemberHours, now: DateTime<Utc>) -> State {
    let today = local_time(hours, now).date_naive();
    let signal = hours.signal.as_ref().filter(|signal| signal.is_active(now));
    let slack_away = signal.is_some_and(|signal| signal.kind == SignalKind::Away);
    if slack_away || hours.away.iter().any(|period| period.contains(today)) {
        return State::Away;
    }
    if !is_working(hours, now) {
        return State::OutsideHours;
    }
    if let Some(focus) = hours.focus.filter(|focus| focus.is_active(now)) {
        return State::Focus(focus.until);
    }
    match signal
        .filter(|signal| signal.kind == SignalKind::DoNotDisturb)
        .and_then(|signal| signal.until)
    {
        Some(until) => State::Focus(until),
        None => State::Working,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::member::{AwayPeriod, FocusBlock};
    use crate::hours::schedule::WeeklySchedule;
    use chrono_tz::Tz;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn member(schedule: &str, tz: Tz) -> MemberHours {
        MemberHours::new(schedule.parse::<WeeklySchedule>().unwrap(), tz)
    }

    fn outside(back_at: &str) -> Availability {
        Availability::OutsideHours {
            back_at: Some(at(back_at)),
        }
    }

    fn available(until: &str) -> Availability {
        Availability::Available {
            until: Some(at(until)),
        }
    }

    fn away(back_at: &str) -> Availability {
        Availability::Away {
            back_at: Some(at(back_at)),
        }
    }

    /// Runs `(now, expected)` cases against one member.
    fn check(hours: &MemberHours, cases: &[(&str, Availability)]) {
        for (now, expected) in cases {
            assert_eq!(availability(hours, at(now)), *expected, "at {now}");
            assert_eq!(
                is_available(hours, at(now)),
                expected.is_available(),
                "at {now}"
            );
        }
    }

    #[test]
    fn availability_in_london_follows_the_clocks_across_both_changes() {
        let hours = MemberHours::default_in(chrono_tz::Europe::London);
        check(
            &hours,
            &[
                // Friday 17:30 GMT, spring forward on Sunday: back Monday 09:00 BST.
                ("2026-03-27T17:30:00Z", outside("2026-03-30T08:00:00Z")),
                ("2026-03-29T00:30:00Z", outside("2026-03-30T08:00:00Z")),
                ("2026-03-30T08:00:00Z", available("2026-03-30T16:00:00Z")),
                ("2026-03-30T07:59:00Z", outside("2026-03-30T08:00:00Z")),
                // Friday 17:30 BST, fall back on Sunday: back Monday 09:00 GMT.
                ("2026-10-23T16:30:00Z", outside("2026-10-26T09:00:00Z")),
                ("2026-10-26T16:59:00Z", available("2026-10-26T17:00:00Z")),
            ],
        );
    }

    #[test]
    fn availability_in_new_york_follows_the_clocks_across_both_changes() {
        let hours = MemberHours::default_in(chrono_tz::America::New_York);
        check(
            &hours,
            &[
                ("2026-03-06T23:00:00Z", outside("2026-03-09T13:00:00Z")),
                ("2026-03-09T20:00:00Z", available("2026-03-09T21:00:00Z")),
                ("2026-10-31T15:00:00Z", outside("2026-11-02T14:00:00Z")),
                ("2026-11-02T21:30:00Z", available("2026-11-02T22:00:00Z")),
            ],
        );
    }

    #[test]
    fn availability_on_lord_howe_follows_its_half_hour_changes() {
        let hours = MemberHours::default_in(chrono_tz::Australia::Lord_Howe);
        check(
            &hours,
            &[
                // Friday 2026-10-02 18:30 +10:30; Monday 09:00 is +11 after the change.
                ("2026-10-02T08:00:00Z", outside("2026-10-04T22:00:00Z")),
                ("2026-10-04T22:00:00Z", available("2026-10-05T06:00:00Z")),
                // Friday 2026-04-03 18:00 +11; Monday 09:00 is +10:30 after the change.
                ("2026-04-03T07:00:00Z", outside("2026-04-05T22:30:00Z")),
                ("2026-04-05T22:30:00Z", available("2026-04-06T06:30:00Z")),
            ],
        );
    }

    #[test]
    fn availability_in_kolkata_keeps_one_offset() {
        let hours = MemberHours::default_in(chrono_tz::Asia::Kolkata);
        check(
            &hours,
            &[
                ("2026-03-30T10:00:00Z", available("2026-03-30T11:30:00Z")),
                ("2026-03-27T12:00:00Z", outside("2026-03-30T03:30:00Z")),
                ("2026-11-02T03:29:00Z", outside("2026-11-02T03:30:00Z")),
            ],
        );
    }

    #[test]
    fn boundaries_inside_the_gap_and_the_overlap_set_when_a_member_is_back() {
        // Starts at 01:30 on Sundays in London.
        let hours = member("sun 01:30-04:00", chrono_tz::Europe::London);
        check(
            &hours,
            &[
                // 01:30 does not exist on 2026-03-29; they start at 02:00 BST (01:00Z).
                ("2026-03-28T23:00:00Z", outside("2026-03-29T01:00:00Z")),
                ("2026-03-29T01:00:00Z", available("2026-03-29T03:00:00Z")),
                // 01:30 happens twice on 2026-10-25; they start at the first (00:30Z) and end
                // at 04:00 GMT.
                ("2026-10-24T23:00:00Z", outside("2026-10-25T00:30:00Z")),
                ("2026-10-25T00:30:00Z", available("2026-10-25T04:00:00Z")),
            ],
        );
        // Ends at 01:30 on Sundays: in the overlap the window runs to the second 01:30.
        let hours = member("sun 00:00-01:30", chrono_tz::Europe::London);
        check(
            &hours,
            &[("2026-10-25T01:10:00Z", available("2026-10-25T01:30:00Z"))],
        );
    }

    #[test]
    fn overnight_hours_run_past_midnight_and_from_sunday_into_monday() {
        let hours = member("mon-fri 22:00-06:00", chrono_tz::Europe::London);
        check(
            &hours,
            &[
                // Friday night runs into Saturday morning.
                ("2027-01-09T05:00:00Z", available("2027-01-09T06:00:00Z")),
                ("2027-01-09T06:00:00Z", outside("2027-01-11T22:00:00Z")),
                // Monday to Tuesday night.
                ("2027-01-11T23:30:00Z", available("2027-01-12T06:00:00Z")),
            ],
        );
        let hours = member(
            "sun 22:00-06:00; mon 06:00-12:00",
            chrono_tz::Europe::London,
        );
        check(
            &hours,
            &[
                ("2027-01-03T21:00:00Z", outside("2027-01-03T22:00:00Z")),
                // Sunday night and Monday morning touch, so they are one window.
                ("2027-01-03T23:00:00Z", available("2027-01-04T12:00:00Z")),
                ("2027-01-04T03:00:00Z", available("2027-01-04T12:00:00Z")),
                ("2027-01-04T12:00:00Z", outside("2027-01-10T22:00:00Z")),
            ],
        );
    }

    #[test]
    fn time_off_over_the_year_end_sends_them_back_after_it() {
        let mut hours = MemberHours::default_in(chrono_tz::Europe::London);
        let first = "2026-12-28".parse().unwrap();
        let last = "2027-01-03".parse().unwrap();
        hours.away.push(AwayPeriod::new(first, last).unwrap());
        check(
            &hours,
            &[
                ("2026-12-29T10:00:00Z", away("2027-01-04T09:00:00Z")),
                ("2027-01-03T23:59:00Z", away("2027-01-04T09:00:00Z")),
                // Before it starts, outside hours: back after it, not on Monday the 28th.
                ("2026-12-25T18:00:00Z", outside("2027-01-04T09:00:00Z")),
                ("2027-01-04T09:00:00Z", available("2027-01-04T17:00:00Z")),
            ],
        );

        // Night hours: the first instant after the time off is midnight, inside Sunday night.
        let mut hours = member("daily 22:00-06:00", chrono_tz::Europe::London);
        hours.away.push(AwayPeriod::new(first, last).unwrap());
        check(
            &hours,
            &[
                ("2026-12-30T23:00:00Z", away("2027-01-04T00:00:00Z")),
                // Working on the night before the time off, until it starts at midnight.
                ("2026-12-27T23:00:00Z", available("2026-12-28T00:00:00Z")),
            ],
        );
    }

    #[test]
    fn time_off_longer_than_the_horizon_leaves_no_back_time() {
        let mut hours = MemberHours::default_in(chrono_tz::Europe::Berlin);
        let first = "2026-01-01".parse().unwrap();
        let last = "2028-12-31".parse().unwrap();
        hours.away.push(AwayPeriod::new(first, last).unwrap());
        let state = availability(&hours, at("2026-06-01T10:00:00Z"));
        assert_eq!(state, Availability::Away { back_at: None });
    }

    #[test]
    fn focus_time_holds_messages_until_it_ends() {
        let mut hours = MemberHours::default_in(chrono_tz::Europe::London);
        hours.focus = Some(FocusBlock {
            until: at("2027-01-04T14:00:00Z"),
        });
        check(
            &hours,
            &[
                (
                    "2027-01-04T12:00:00Z",
                    Availability::Focus {
                        until: at("2027-01-04T14:00:00Z"),
                        back_at: Some(at("2027-01-04T14:00:00Z")),
                    },
                ),
                ("2027-01-04T14:00:00Z", available("2027-01-04T17:00:00Z")),
                // Before hours, focus does not matter, but it delays when they are back.
                ("2027-01-04T08:00:00Z", outside("2027-01-04T14:00:00Z")),
            ],
        );
        // Focus running past the end of the day: back the next morning.
        hours.focus = Some(FocusBlock {
            until: at("2027-01-04T18:00:00Z"),
        });
        check(
            &hours,
            &[(
                "2027-01-04T16:00:00Z",
                Availability::Focus {
                    until: at("2027-01-04T18:00:00Z"),
                    back_at: Some(at("2027-01-05T09:00:00Z")),
                },
            )],
        );
    }

    #[test]
    fn several_ranges_a_day_leave_gaps_between_them() {
        let hours = member(
            "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00",
            chrono_tz::Europe::London,
        );
        check(
            &hours,
            &[
                ("2027-01-07T10:00:00Z", available("2027-01-07T12:00:00Z")),
                ("2027-01-07T12:30:00Z", outside("2027-01-07T13:00:00Z")),
                ("2027-01-07T13:00:00Z", available("2027-01-07T16:00:00Z")),
                ("2027-01-08T12:30:00Z", outside("2027-01-11T08:00:00Z")),
            ],
        );
    }

    #[test]
    fn empty_and_round_the_clock_schedules_give_open_answers() {
        let now = at("2026-06-01T12:00:00Z");
        let empty = MemberHours::new(WeeklySchedule::default(), chrono_tz::UTC);
        assert_eq!(
            availability(&empty, now),
            Availability::OutsideHours { back_at: None }
        );
        let always = member("daily 00:00-24:00", chrono_tz::America::New_York);
        assert_eq!(
            availability(&always, now),
            Availability::Available { until: None }
        );
        assert!(availability(&always, now).is_available());
        assert_eq!(availability(&always, now).back_at(), None);
    }

    #[test]
    fn the_cheap_answer_agrees_with_the_whole_one_around_the_year() {
        use crate::hours::signals::SlackSignal;
        let london = chrono_tz::Europe::London;
        let mut away = MemberHours::default_in(london);
        away.away.push(
            AwayPeriod::new("2026-03-27".parse().unwrap(), "2026-04-02".parse().unwrap()).unwrap(),
        );
        let mut focus = member("mon-fri 22:00-06:00", chrono_tz::Australia::Lord_Howe);
        focus.focus = Some(FocusBlock {
            until: at("2026-10-05T03:00:00Z"),
        });
        let mut dnd_until = MemberHours::default_in(chrono_tz::America::New_York);
        dnd_until.signal = Some(SlackSignal::do_not_disturb(at("2026-11-02T15:00:00Z")));
        // A DND without an end holds no `Focus` answer: reachable by hours, yet blocked.
        let mut dnd_open = MemberHours::default_in(chrono_tz::Asia::Kolkata);
        dnd_open.signal = Some(SlackSignal {
            until: None,
            ..SlackSignal::do_not_disturb(at("2026-01-01T00:00:00Z"))
        });
        let members = [
            MemberHours::default_in(london),
            member("mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00", london),
            member("daily 00:00-24:00", chrono_tz::America::New_York),
            MemberHours::new(WeeklySchedule::default(), chrono_tz::UTC),
            away,
            focus,
            dnd_until,
            dnd_open,
        ];
        let mut now = at("2026-01-01T00:00:00Z");
        let mut agreed = [0usize; 2];
        while now < at("2027-01-01T00:00:00Z") {
            for hours in &members {
                let whole = availability(hours, now).is_available();
                assert_eq!(is_available(hours, now), whole, "{hours:?} at {now}");
                agreed[usize::from(whole)] += 1;
            }
            now += chrono::TimeDelta::minutes(193);
        }
        // Both answers came up often.
        assert!(agreed.iter().all(|&n| n > 500), "{agreed:?}");
    }
}

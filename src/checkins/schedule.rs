//! When a recurring check-in runs. A schedule is pure data — days, a wall-clock time and a
//! zone — and every next-run instant is worked out afresh from the IANA zone name, never from
//! a stored UTC offset, so a daylight-saving change can never shift a check-in by an hour.
//! A wall time that falls in a spring-forward gap runs at the first valid instant after the
//! gap; one that falls in an autumn overlap runs once, at the earlier of its two instants.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    SecondsFormat, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_with::SerializeDisplay;

use crate::hours::days::{DaysError, Weekdays};
use crate::hours::zone::{ZoneError, parse_zone};
use crate::ids::UserId;

/// Why a schedule could not be built from what a person typed; the message names the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{0} For each participant's own time, write `local`.")]
    Zone(#[from] ZoneError),
    #[error("`{0}` is not a time of day; write it as HH:MM on a 24-hour clock, e.g. 09:30")]
    BadTime(String),
    #[error(transparent)]
    Days(#[from] DaysError),
}

/// The zone a schedule's wall-clock time is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, SerializeDisplay)]
pub enum ScheduleZone {
    /// One IANA zone for everyone: the check-in runs at the same instant for all participants.
    Fixed(Tz),
    /// Each participant's own zone: the check-in runs at the same wall time for each of them.
    Local,
}

/// The word that stands for [`ScheduleZone::Local`] in commands and in the store. It cannot
/// clash with a zone name, since every IANA name is capitalised or contains a slash.
const LOCAL_ZONE_WORD: &str = "local";

impl FromStr for ScheduleZone {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case(LOCAL_ZONE_WORD) {
            return Ok(ScheduleZone::Local);
        }
        Ok(ScheduleZone::Fixed(parse_zone(text)?))
    }
}

/// Read back from the store by the zone database's own name, so a schedule stored with any
/// zone the database knows is kept (typed zones go through [`FromStr`], which is stricter).
impl<'de> Deserialize<'de> for ScheduleZone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        if name.eq_ignore_ascii_case(LOCAL_ZONE_WORD) {
            return Ok(ScheduleZone::Local);
        }
        crate::hours::zone::zone_by_name(&name)
            .map(ScheduleZone::Fixed)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("`{name}` is not a zone this build knows"))
            })
    }
}

/// Written as the IANA name (`Europe/London`) or `local`, the same form that is parsed.
impl fmt::Display for ScheduleZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleZone::Fixed(tz) => f.write_str(tz.name()),
            ScheduleZone::Local => f.write_str(LOCAL_ZONE_WORD),
        }
    }
}

/// Reads a check-in's time, `HH:MM` on a 24-hour clock, as every entry path reads it.
pub fn parse_time_of_day(text: &str) -> Result<NaiveTime, ScheduleError> {
    crate::hours::parse_time_of_day(text)
        .ok_or_else(|| ScheduleError::BadTime(text.trim().to_string()))
}

/// A recurring time: on `days`, at the wall-clock time `at`, read in `zone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Schedule {
    pub(crate) days: Weekdays,
    pub(crate) at: NaiveTime,
    pub zone: ScheduleZone,
}

/// One occurrence of a schedule: the local date it belongs to and the instant it runs.
///
/// The date is the occurrence's identity (see `OccurrenceKey`); the instant may fall on the
/// next local date only when a daylight-saving gap straddles midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Occurrence {
    pub(crate) date: NaiveDate,
    pub(crate) at: DateTime<Utc>,
}

/// How many local dates `next_after` looks at before giving up. A week holds every weekday
/// once; the extra days cover the day before `after` (a gap across midnight can push that
/// day's run past `after`) and a day a zone skipped outright (Pacific/Apia, 2011-12-30).
const SEARCH_DAYS: u64 = 10;

impl Schedule {
    /// Builds a schedule from the words of a command or the CLI: days (`mon-fri`), a time
    /// (`09:30`) and a zone (`Europe/London` or `local`).
    pub fn from_parts(days: &str, at: &str, zone: &str) -> Result<Schedule, ScheduleError> {
        Ok(Schedule {
            days: days.parse()?,
            at: parse_time_of_day(at)?,
            zone: zone.parse()?,
        })
    }

    /// The zone this schedule is read in for a participant whose own zone is
    /// `participant_zone`: the schedule's zone when it is fixed, the participant's otherwise.
    pub(crate) fn zone_for(&self, participant_zone: Tz) -> Tz {
        match self.zone {
            ScheduleZone::Fixed(tz) => tz,
            ScheduleZone::Local => participant_zone,
        }
    }

    /// The instant this schedule runs on local `date` in `tz`'s reading of the schedule (see
    /// [`Schedule::zone_for`]), or `None` when `date` is not one of the schedule's days.
    pub(crate) fn occurrence_on(&self, date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
        if !self.days.contains(date.weekday()) {
            return None;
        }
        resolve_wall_time(date.and_time(self.at), self.zone_for(tz))
    }

    /// The first occurrence strictly after `after`, with the local date it belongs to.
    ///
    /// `tz` is the participant's zone for a local-time schedule; for a fixed-zone schedule it
    /// is ignored and the schedule's own zone is used. Returns `None` when the schedule has no
    /// days, or at the far edge of the representable calendar.
    pub(crate) fn next_occurrence_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<Occurrence> {
        if self.days.is_empty() {
            return None;
        }
        let tz = self.zone_for(tz);
        let first = local_reading(after, tz)?.date().pred_opt()?;
        for step in 0..SEARCH_DAYS {
            let date = first.checked_add_days(Days::new(step))?;
            if !self.days.contains(date.weekday()) {
                continue;
            }
            let at = resolve_wall_time(date.and_time(self.at), tz)?;
            if at > after {
                return Some(Occurrence { date, at });
            }
        }
        None
    }

    /// The first instant strictly after `after` at which this schedule runs (see
    /// [`Schedule::next_occurrence_after`] for the meaning of `tz` and of `None`).
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.next_occurrence_after(after, tz).map(|o| o.at)
    }

    /// Every occurrence at or after `from`, in order, each strictly later than the one before.
    /// The iterator ends only if the schedule has no days.
    pub(crate) fn occurrences(
        &self,
        from: DateTime<Utc>,
        tz: Tz,
    ) -> impl Iterator<Item = DateTime<Utc>> + use<> {
        let schedule = *self;
        let start = from
            .checked_sub_signed(TimeDelta::nanoseconds(1))
            .and_then(|just_before| schedule.next_after(just_before, tz));
        std::iter::successors(start, move |previous| schedule.next_after(*previous, tz))
    }
}

/// The instant a local wall time stands for in `tz`, by the DST rules of this module: the
/// earlier instant in an overlap, the end of the gap (the first valid instant) in a gap.
fn resolve_wall_time(wall: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(one, other) => Some(one.min(other).with_timezone(&Utc)),
        LocalResult::None => end_of_gap(wall, tz),
    }
}

/// The wall-clock reading of `at` in `tz`, or `None` past the edge of the calendar (chrono's
/// own `naive_local` panics there).
fn local_reading(at: DateTime<Utc>, tz: Tz) -> Option<NaiveDateTime> {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
    at.naive_utc().checked_add_offset(offset)
}

/// The transition instant that skips over `wall`, found by bisecting on whole seconds for the
/// first instant whose local reading is past `wall` (zone transitions fall on whole seconds).
///
/// The window of ±16 hours around `wall` read as UTC holds every real UTC offset, so its
/// lower end reads earlier than `wall` and its upper end later; a flip between them can only
/// be a forward jump across `wall`, which is the gap itself.
fn end_of_gap(wall: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    const WINDOW_SECONDS: i64 = 16 * 3600;
    let reads_past_wall = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0)
            .and_then(|at| local_reading(at, tz))
            .is_some_and(|local| local > wall)
    };
    let centre = wall.and_utc().timestamp();
    let mut before = centre.checked_sub(WINDOW_SECONDS)?;
    let mut past = centre.checked_add(WINDOW_SECONDS)?;
    while past - before > 1 {
        let middle = before + (past - before) / 2;
        if reads_past_wall(middle) {
            past = middle;
        } else {
            before = middle;
        }
    }
    DateTime::from_timestamp(past, 0)
}

/// When each participant of a local-time check-in is due for the occurrence of local `date`.
///
/// Each participant's local `date` is read in their own zone, so one date's occurrence
/// reaches Auckland before London. For a fixed-zone schedule everyone gets the same instant.
/// Participants keep their order; the result is empty when `date` is not a scheduled day.
pub(crate) fn fan_out(
    schedule: &Schedule,
    date: NaiveDate,
    participants: &[(UserId, Tz)],
) -> Vec<(UserId, DateTime<Utc>)> {
    participants
        .iter()
        .filter_map(|(user, tz)| {
            schedule
                .occurrence_on(date, *tz)
                .map(|at| (user.clone(), at))
        })
        .collect()
}

/// The next `count` occurrences at or after `from`, for the `schedule-preview` command.
pub fn preview(
    schedule: &Schedule,
    tz: Tz,
    from: DateTime<Utc>,
    count: usize,
) -> Vec<DateTime<Utc>> {
    schedule.occurrences(from, tz).take(count).collect()
}

/// An instant as RFC 3339 in UTC with a `Z`, e.g. `2026-03-02T09:30:00Z` (fractions of a
/// second appear only when there are some).
pub fn format_rfc3339_utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The earliest next run among many schedules, found by one pass: `(key, instant)` of the
/// schedule that runs first strictly after `after`. Ties go to the smallest key, so the
/// answer does not depend on the order of `entries`.
pub fn earliest_due<'a, K: Ord>(
    entries: impl IntoIterator<Item = (K, &'a Schedule, Tz)>,
    after: DateTime<Utc>,
) -> Option<(K, DateTime<Utc>)> {
    entries
        .into_iter()
        .filter_map(|(key, schedule, tz)| schedule.next_after(after, tz).map(|at| (at, key)))
        .min()
        .map(|(at, key)| (key, at))
}

/// Next-run instants of many schedules, earliest first, so a runner can keep one timer for
/// the head. Pushing and popping cost `O(log n)`; peeking costs nothing.
///
/// The queue holds keys, not schedules: after running the head, the caller pushes the key
/// again with its following instant. A key whose schedule was paused or deleted may still sit
/// in the queue; the caller checks the key against the store when it is popped.
#[derive(Debug, Clone)]
pub struct DueQueue<K: Ord> {
    heap: BinaryHeap<Reverse<(DateTime<Utc>, K)>>,
}

impl<K: Ord> Default for DueQueue<K> {
    fn default() -> Self {
        DueQueue {
            heap: BinaryHeap::new(),
        }
    }
}

impl<K: Ord> DueQueue<K> {
    /// A queue of each schedule's first run strictly after `after`. Schedules with no days
    /// are left out.
    pub fn from_schedules<'a>(
        entries: impl IntoIterator<Item = (K, &'a Schedule, Tz)>,
        after: DateTime<Utc>,
    ) -> Self {
        let runs: Vec<_> = entries
            .into_iter()
            .filter_map(|(key, schedule, tz)| {
                schedule.next_after(after, tz).map(|at| Reverse((at, key)))
            })
            .collect();
        DueQueue {
            heap: BinaryHeap::from(runs),
        }
    }

    /// Queues `key` to run at `at`.
    pub(crate) fn push(&mut self, key: K, at: DateTime<Utc>) {
        self.heap.push(Reverse((at, key)));
    }

    /// Queues `key` at `schedule`'s first run strictly after `after`, and returns that
    /// instant; a schedule with no days is not queued.
    pub fn push_next(
        &mut self,
        key: K,
        schedule: &Schedule,
        tz: Tz,
        after: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let at = schedule.next_after(after, tz)?;
        self.push(key, at);
        Some(at)
    }

    /// The earliest queued run, without removing it: the instant the runner's timer is set to.
    pub(crate) fn peek(&self) -> Option<(&K, DateTime<Utc>)> {
        self.heap.peek().map(|Reverse((at, key))| (key, *at))
    }

    /// Removes and returns the earliest run if it is due at `now` (at or before it).
    pub fn pop_due(&mut self, now: DateTime<Utc>) -> Option<(K, DateTime<Utc>)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => {
                self.heap.pop().map(|Reverse((at, key))| (key, at))
            }
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Weekday};
    use proptest::prelude::*;

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test instants are valid RFC 3339")
            .with_timezone(&Utc)
    }

    fn zone(name: &str) -> Tz {
        name.parse().expect("test zones are valid")
    }

    fn schedule(days: &str, at: &str, zone: &str) -> Schedule {
        Schedule::from_parts(days, at, zone).expect("test schedules are valid")
    }

    fn offset_at(tz: Tz, at: DateTime<Utc>) -> Duration {
        Duration::seconds(i64::from(
            tz.offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc(),
        ))
    }

    fn wall_clock(tz: Tz, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&tz).naive_local()
    }

    // ---- parsing and storage ----

    #[test]
    fn a_schedule_is_read_from_the_words_people_type() {
        let parsed = schedule("mon-fri", "09:30", "Europe/London");
        assert_eq!(parsed.days, Weekdays::WEEKDAYS);
        assert_eq!(parsed.at, NaiveTime::from_hms_opt(9, 30, 0).unwrap());
        assert_eq!(parsed.zone, ScheduleZone::Fixed(chrono_tz::Europe::London));
        assert_eq!(
            schedule("daily", "17:00", "local").zone,
            ScheduleZone::Local
        );
        assert_eq!(
            schedule("daily", "17:00", "Local").zone,
            ScheduleZone::Local
        );
    }

    #[test]
    fn bad_parts_are_named_with_their_fix() {
        let cases = [
            (("mon-fri", "9.30", "UTC"), "9.30", "HH:MM"),
            (("mon-fri", "25:00", "UTC"), "25:00", "HH:MM"),
            (
                ("mon-fri", "09:30", "Europe/Londn"),
                "Europe/Londn",
                "Europe/London",
            ),
            (("mon-fri", "09:30", "+01:00"), "+01:00", "city zone"),
            (("mon-fry", "09:30", "UTC"), "fry", "mon-fri"),
        ];
        for ((days, at, zone), named, fix) in cases {
            let message = Schedule::from_parts(days, at, zone)
                .unwrap_err()
                .to_string();
            assert!(message.contains(named), "{message}");
            assert!(message.contains(fix), "{message}");
        }
    }

    #[test]
    fn a_schedule_is_stored_with_its_zone_by_name() {
        for (text, zone_json) in [
            (
                schedule("mon,wed,fri", "09:30", "America/New_York"),
                "\"America/New_York\"",
            ),
            (schedule("daily", "08:00", "local"), "\"local\""),
        ] {
            let json = serde_json::to_string(&text).unwrap();
            assert!(json.contains(&format!("\"zone\":{zone_json}")), "{json}");
            assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), text);
        }
        let unknown = r#"{"days":"mon","at":"09:30:00","zone":"Mars/Olympus"}"#;
        let error = serde_json::from_str::<Schedule>(unknown).unwrap_err();
        assert!(error.to_string().contains("Mars/Olympus"), "{error}");
    }

    // ---- next run on ordinary days ----

    #[test]
    fn the_next_run_is_strictly_after_the_given_instant() {
        let weekday_mornings = schedule("mon-fri", "09:30", "Europe/London");
        let cases = [
            // Sunday evening -> Monday.
            ("2026-03-01T20:00:00Z", "2026-03-02T09:30:00Z"),
            // Exactly at a run -> the next day's run, never the same one again.
            ("2026-03-02T09:30:00Z", "2026-03-03T09:30:00Z"),
            ("2026-03-02T09:29:59Z", "2026-03-02T09:30:00Z"),
            // Friday after the run -> Monday.
            ("2026-03-06T10:00:00Z", "2026-03-09T09:30:00Z"),
            // Summer time: 09:30 BST is 08:30 UTC.
            ("2026-06-01T00:00:00Z", "2026-06-01T08:30:00Z"),
        ];
        let tz = chrono_tz::UTC;
        for (after, expected) in cases {
            assert_eq!(
                weekday_mornings.next_after(utc(after), tz),
                Some(utc(expected)),
                "after {after}"
            );
        }
    }

    #[test]
    fn a_fixed_zone_schedule_ignores_the_participants_zone() {
        let fixed = schedule("daily", "09:00", "Asia/Tokyo");
        let after = utc("2026-05-01T12:00:00Z");
        assert_eq!(
            fixed.next_after(after, chrono_tz::America::Los_Angeles),
            fixed.next_after(after, chrono_tz::Europe::Paris)
        );
        assert_eq!(
            fixed.next_after(after, chrono_tz::UTC),
            Some(utc("2026-05-02T00:00:00Z"))
        );
    }

    #[test]
    fn a_local_schedule_runs_at_the_participants_wall_time() {
        let local = schedule("daily", "09:00", "local");
        let after = utc("2026-05-01T12:00:00Z");
        assert_eq!(
            local.next_after(after, chrono_tz::America::Los_Angeles),
            Some(utc("2026-05-01T16:00:00Z"))
        );
        assert_eq!(
            local.next_after(after, chrono_tz::Asia::Tokyo),
            Some(utc("2026-05-02T00:00:00Z"))
        );
    }

    #[test]
    fn a_schedule_with_no_days_never_runs() {
        let never = Schedule {
            days: Weekdays::NONE,
            at: NaiveTime::MIN,
            zone: ScheduleZone::Fixed(chrono_tz::UTC),
        };
        assert_eq!(
            never.next_after(utc("2026-01-01T00:00:00Z"), chrono_tz::UTC),
            None
        );
        assert_eq!(
            never
                .occurrences(utc("2026-01-01T00:00:00Z"), chrono_tz::UTC)
                .count(),
            0
        );
    }

    #[test]
    fn the_edge_of_the_calendar_ends_the_search_instead_of_panicking() {
        let daily = schedule("daily", "09:00", "Pacific/Kiritimati");
        assert_eq!(
            daily.next_after(DateTime::<Utc>::MAX_UTC, chrono_tz::UTC),
            None
        );
        let _ = daily.next_after(DateTime::<Utc>::MIN_UTC, chrono_tz::UTC);
        let _ = daily.occurrence_on(NaiveDate::MAX, chrono_tz::UTC);
    }

    // ---- DST: hand-checked instants ----

    #[test]
    fn hand_checked_runs_around_daylight_saving_changes() {
        let cases = [
            // Europe/London springs forward 2026-03-29 at 01:00 UTC: local 01:00-02:00 is missing.
            (
                "Europe/London",
                "2026-03-29",
                "01:30",
                "2026-03-29T01:00:00Z",
            ), // gap -> 02:00 BST
            (
                "Europe/London",
                "2026-03-29",
                "01:00",
                "2026-03-29T01:00:00Z",
            ), // gap start
            (
                "Europe/London",
                "2026-03-29",
                "02:30",
                "2026-03-29T01:30:00Z",
            ), // after the gap
            (
                "Europe/London",
                "2026-03-29",
                "00:30",
                "2026-03-29T00:30:00Z",
            ), // before the gap
            (
                "Europe/London",
                "2026-03-29",
                "09:30",
                "2026-03-29T08:30:00Z",
            ),
            // Europe/London falls back 2026-10-25 at 01:00 UTC: local 01:00-02:00 happens twice.
            (
                "Europe/London",
                "2026-10-25",
                "01:30",
                "2026-10-25T00:30:00Z",
            ), // first, in BST
            (
                "Europe/London",
                "2026-10-25",
                "00:30",
                "2026-10-24T23:30:00Z",
            ),
            (
                "Europe/London",
                "2026-10-25",
                "02:00",
                "2026-10-25T02:00:00Z",
            ),
            (
                "Europe/London",
                "2026-10-25",
                "09:30",
                "2026-10-25T09:30:00Z",
            ),
            // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
            (
                "America/New_York",
                "2026-03-08",
                "02:30",
                "2026-03-08T07:00:00Z",
            ), // 03:00 EDT
            (
                "America/New_York",
                "2026-11-01",
                "01:30",
                "2026-11-01T05:30:00Z",
            ), // first, in EDT
            // Australia/Sydney: 2026-10-04 02:00 AEST -> 03:00 AEDT; 2026-04-05 03:00 AEDT -> 02:00 AEST.
            (
                "Australia/Sydney",
                "2026-10-04",
                "02:30",
                "2026-10-03T16:00:00Z",
            ), // 03:00 AEDT
            (
                "Australia/Sydney",
                "2026-04-05",
                "02:30",
                "2026-04-04T15:30:00Z",
            ), // first, in AEDT
            // Pacific/Chatham: 2026-09-27 02:45 +1245 -> 03:45 +1345; 2026-04-05 03:45 +1345 -> 02:45 +1245.
            (
                "Pacific/Chatham",
                "2026-09-27",
                "03:00",
                "2026-09-26T14:00:00Z",
            ), // 03:45 +1345
            (
                "Pacific/Chatham",
                "2026-04-05",
                "03:00",
                "2026-04-04T13:15:00Z",
            ), // first, in +1345
            (
                "Pacific/Chatham",
                "2026-04-05",
                "09:00",
                "2026-04-04T20:15:00Z",
            ),
            // Asia/Kolkata never changes: +05:30 all year.
            (
                "Asia/Kolkata",
                "2026-03-29",
                "02:30",
                "2026-03-28T21:00:00Z",
            ),
            (
                "Asia/Kolkata",
                "2026-10-25",
                "09:30",
                "2026-10-25T04:00:00Z",
            ),
        ];
        for (zone_name, date, at, expected) in cases {
            let daily = schedule("daily", at, zone_name);
            let date: NaiveDate = date.parse().unwrap();
            let expected = utc(expected);
            assert_eq!(
                daily.occurrence_on(date, chrono_tz::UTC),
                Some(expected),
                "{zone_name} {date} {at}"
            );
            assert_eq!(
                daily.next_after(expected - Duration::hours(12), chrono_tz::UTC),
                Some(expected),
                "{zone_name} {date} {at}"
            );
        }
    }

    #[test]
    fn an_overlap_time_runs_once_not_twice() {
        let daily = schedule("daily", "01:30", "Europe/London");
        let runs: Vec<_> = daily
            .occurrences(utc("2026-10-24T12:00:00Z"), chrono_tz::UTC)
            .take(2)
            .collect();
        // The second 01:30 (01:30 UTC, in GMT) is not a run; the next run is the next day.
        assert_eq!(
            runs,
            [utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z")]
        );
        // Even when asked from between the two instances, the second one is never offered.
        assert_eq!(
            daily.next_after(utc("2026-10-25T01:00:00Z"), chrono_tz::UTC),
            Some(utc("2026-10-26T01:30:00Z"))
        );
    }

    #[test]
    fn a_gap_across_midnight_keeps_the_occurrence_date() {
        // America/Havana springs forward at local midnight (00:00 -> 01:00), 2026-03-08.
        let daily = schedule("daily", "00:30", "America/Havana");
        let occurrence = daily
            .next_occurrence_after(utc("2026-03-07T12:00:00Z"), chrono_tz::UTC)
            .unwrap();
        assert_eq!(occurrence.date, "2026-03-08".parse::<NaiveDate>().unwrap());
        assert_eq!(occurrence.at, utc("2026-03-08T05:00:00Z")); // 01:00 CDT
    }

    #[test]
    fn a_day_a_zone_skipped_runs_at_the_start_of_the_next() {
        // Pacific/Apia skipped Friday 2011-12-30 outright, moving from -10 to +14.
        let fridays = schedule("fri", "09:00", "Pacific/Apia");
        let occurrence = fridays
            .next_occurrence_after(utc("2011-12-27T00:00:00Z"), chrono_tz::UTC)
            .unwrap();
        assert_eq!(occurrence.date, "2011-12-30".parse::<NaiveDate>().unwrap());
        assert_eq!(occurrence.at, utc("2011-12-30T10:00:00Z")); // 2011-12-31 00:00 +14
        assert_eq!(
            fridays.next_after(occurrence.at, chrono_tz::UTC),
            Some(utc("2012-01-05T19:00:00Z")) // Friday 2012-01-06 09:00 +14
        );
    }

    // ---- DST: every change of 2026-2030, derived by scanning the zone ----

    /// A change of UTC offset in a zone, found by scanning rather than written by hand.
    #[derive(Debug, Clone, Copy)]
    struct Transition {
        at: DateTime<Utc>,
        before: Duration,
        after: Duration,
    }

    impl Transition {
        /// The local date the change happens on (read on the old clock).
        fn local_date(&self) -> NaiveDate {
            (self.at.naive_utc() + self.before).date()
        }

        /// The local wall time of the change on the old clock.
        fn local_time_before(&self) -> NaiveTime {
            (self.at.naive_utc() + self.before).time()
        }
    }

    /// Every offset change in `[from, to)`: a coarse scan every 15 minutes, each change then
    /// pinned to the second by bisection.
    fn transitions(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Transition> {
        let step = Duration::minutes(15);
        let mut found = Vec::new();
        let mut previous = from;
        let mut at = from + step;
        while at < to {
            if offset_at(tz, previous) != offset_at(tz, at) {
                let (mut low, mut high) = (previous, at);
                while high - low > Duration::seconds(1) {
                    let middle = low + (high - low) / 2;
                    if offset_at(tz, middle) == offset_at(tz, previous) {
                        low = middle;
                    } else {
                        high = middle;
                    }
                }
                found.push(Transition {
                    at: high,
                    before: offset_at(tz, previous),
                    after: offset_at(tz, at),
                });
            }
            previous = at;
            at += step;
        }
        found
    }

    fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
        NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).unwrap()
    }

    fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
        let fourth = nth_weekday(year, month, weekday, 4);
        let fifth = fourth + Duration::days(7);
        if fifth.month() == month {
            fifth
        } else {
            fourth
        }
    }

    /// The published rule for each zone's changes: the local date and old-clock local time.
    fn ruled_change(zone_name: &str, year: i32, forward: bool) -> (NaiveDate, NaiveTime) {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        match (zone_name, forward) {
            // Last Sunday of March / October at 01:00 UTC (01:00 GMT, 02:00 BST).
            ("Europe/London", true) => (last_weekday(year, 3, Weekday::Sun), hm(1, 0)),
            ("Europe/London", false) => (last_weekday(year, 10, Weekday::Sun), hm(2, 0)),
            // Second Sunday of March / first Sunday of November at 02:00 local.
            ("America/New_York", true) => (nth_weekday(year, 3, Weekday::Sun, 2), hm(2, 0)),
            ("America/New_York", false) => (nth_weekday(year, 11, Weekday::Sun, 1), hm(2, 0)),
            // First Sunday of October at 02:00 AEST / first Sunday of April at 03:00 AEDT.
            ("Australia/Sydney", true) => (nth_weekday(year, 10, Weekday::Sun, 1), hm(2, 0)),
            ("Australia/Sydney", false) => (nth_weekday(year, 4, Weekday::Sun, 1), hm(3, 0)),
            // Last Sunday of September at 02:45 / first Sunday of April at 03:45.
            ("Pacific/Chatham", true) => (last_weekday(year, 9, Weekday::Sun), hm(2, 45)),
            ("Pacific/Chatham", false) => (nth_weekday(year, 4, Weekday::Sun, 1), hm(3, 45)),
            _ => panic!("no DST rule for {zone_name}"),
        }
    }

    const DST_ZONES: [&str; 5] = [
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "Pacific/Chatham",
    ];

    fn scan_2026_to_2030(tz: Tz) -> Vec<Transition> {
        transitions(tz, utc("2026-01-01T00:00:00Z"), utc("2031-01-01T00:00:00Z"))
    }

    #[test]
    fn the_scanned_changes_follow_each_zones_published_rule() {
        for zone_name in DST_ZONES {
            let tz = zone(zone_name);
            let found = scan_2026_to_2030(tz);
            if zone_name == "Asia/Kolkata" {
                assert!(found.is_empty(), "Asia/Kolkata has no DST: {found:?}");
                continue;
            }
            assert_eq!(
                found.len(),
                10,
                "{zone_name}: two changes a year: {found:?}"
            );
            for change in found {
                let forward = change.after > change.before;
                assert_eq!(
                    (change.after - change.before).abs(),
                    Duration::hours(1),
                    "{zone_name} {change:?}"
                );
                let expected = ruled_change(zone_name, change.local_date().year(), forward);
                assert_eq!(
                    (change.local_date(), change.local_time_before()),
                    expected,
                    "{zone_name} {change:?}"
                );
            }
        }
    }

    /// For every change: a time inside the gap or overlap and ordinary times either side, with
    /// the exact instant each must run at, derived from the change rather than from the code.
    #[test]
    fn every_change_of_2026_to_2030_runs_at_the_ruled_instant() {
        let mut checked = 0;
        for zone_name in DST_ZONES {
            let tz = zone(zone_name);
            for change in scan_2026_to_2030(tz) {
                let old_clock = change.at.naive_utc() + change.before;
                let new_clock = change.at.naive_utc() + change.after;
                let (earlier, later) = (old_clock.min(new_clock), old_clock.max(new_clock));
                let inside = earlier + (later - earlier) / 2;
                let forward = change.after > change.before;
                // (wall time, instant it must run at, wall clock must read the schedule time)
                let cases = [
                    (
                        earlier - Duration::hours(1),
                        earlier - Duration::hours(1) - change.before,
                        true,
                    ),
                    (
                        inside,
                        if forward {
                            change.at.naive_utc()
                        } else {
                            inside - change.before
                        },
                        !forward,
                    ),
                    (
                        later + Duration::hours(1),
                        later + Duration::hours(1) - change.after,
                        true,
                    ),
                ];
                for (wall, expected_naive, keeps_wall_clock) in cases {
                    let expected = expected_naive.and_utc();
                    let context = format!("{zone_name} change {change:?}, wall {wall}");
                    let only_that_day = Schedule {
                        days: Weekdays::only(wall.date().weekday()),
                        at: wall.time(),
                        zone: ScheduleZone::Fixed(tz),
                    };
                    let daily = Schedule {
                        days: Weekdays::DAILY,
                        ..only_that_day
                    };
                    // From well before, skipping six other days, and from the run before.
                    let from_last_week = expected - Duration::days(6) - Duration::hours(12);
                    assert_eq!(
                        only_that_day.next_after(from_last_week, tz),
                        Some(expected),
                        "{context}"
                    );
                    assert_eq!(
                        daily.next_after(expected - Duration::hours(12), tz),
                        Some(expected),
                        "{context}"
                    );
                    let occurrence = daily
                        .next_occurrence_after(expected - Duration::hours(12), tz)
                        .unwrap();
                    assert_eq!(occurrence.date, wall.date(), "{context}");
                    let reads = wall_clock(tz, expected);
                    if keeps_wall_clock {
                        assert_eq!(reads, wall, "{context}");
                    } else {
                        // In the gap the run is at its end, the new clock's reading of the change.
                        assert_eq!(reads, later, "{context}");
                    }
                    // Exactly one run that day: the next one is a day later.
                    let next = daily.next_occurrence_after(expected, tz).unwrap();
                    assert_eq!(next.date, wall.date().succ_opt().unwrap(), "{context}");
                    assert!(next.at - expected >= Duration::hours(23), "{context}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 4 * 10 * 3);
    }

    /// Daily runs through 2026-2030 at a spread of times: every run's wall clock equals the
    /// schedule time, except for a time that does not exist that day, which runs at the end of
    /// the gap.
    #[test]
    fn every_run_reads_the_schedule_time_except_in_a_gap() {
        let times = [
            "00:00", "01:30", "02:00", "02:30", "02:45", "03:00", "03:15", "09:30", "23:59",
        ];
        for zone_name in DST_ZONES {
            let tz = zone(zone_name);
            let gaps: Vec<Transition> = scan_2026_to_2030(tz)
                .into_iter()
                .filter(|change| change.after > change.before)
                .collect();
            for at in times {
                let daily = schedule("daily", at, zone_name);
                let mut runs = 0;
                for run in daily
                    .occurrences(utc("2026-01-01T00:00:00Z"), tz)
                    .take_while(|run| *run < utc("2031-01-01T00:00:00Z"))
                {
                    let reads = wall_clock(tz, run);
                    if reads.time() != daily.at {
                        let gap = gaps.iter().find(|gap| gap.at == run);
                        assert!(gap.is_some(), "{zone_name} {at}: {run} reads {reads}");
                    }
                    runs += 1;
                }
                assert!(
                    (1820..=1830).contains(&runs),
                    "{zone_name} {at}: {runs} runs"
                );
            }
        }
    }

    // ---- occurrences, preview and formatting ----

    #[test]
    fn occurrences_include_a_run_exactly_at_the_start() {
        let daily = schedule("daily", "09:30", "UTC");
        let runs: Vec<_> = daily
            .occurrences(utc("2026-03-02T09:30:00Z"), chrono_tz::UTC)
            .take(2)
            .collect();
        assert_eq!(
            runs,
            [utc("2026-03-02T09:30:00Z"), utc("2026-03-03T09:30:00Z")]
        );
    }

    #[test]
    fn the_preview_lists_weekday_runs_across_the_spring_change() {
        let weekday_mornings = schedule("mon-fri", "09:30", "Europe/London");
        let lines: Vec<String> = preview(
            &weekday_mornings,
            chrono_tz::UTC,
            utc("2026-03-01T00:00:00Z"),
            50,
        )
        .into_iter()
        .map(format_rfc3339_utc)
        .collect();
        assert_eq!(lines.len(), 50);
        assert_eq!(lines[0], "2026-03-02T09:30:00Z");
        assert_eq!(lines[19], "2026-03-27T09:30:00Z"); // last Friday in GMT
        assert_eq!(lines[20], "2026-03-30T08:30:00Z"); // first Monday in BST
        assert_eq!(lines[49], "2026-05-08T08:30:00Z");
    }

    #[test]
    fn instants_are_written_in_rfc3339_utc() {
        assert_eq!(
            format_rfc3339_utc(utc("2026-03-02T09:30:00Z")),
            "2026-03-02T09:30:00Z"
        );
        assert_eq!(
            format_rfc3339_utc(utc("2026-03-02T10:30:00+01:00")),
            "2026-03-02T09:30:00Z"
        );
        assert_eq!(
            format_rfc3339_utc(utc("2026-03-02T09:30:00.25Z")),
            "2026-03-02T09:30:00.250Z"
        );
    }

    // ---- local-mode fan-out ----

    #[test]
    fn a_local_occurrence_reaches_each_participant_at_their_own_morning() {
        let local = schedule("mon-fri", "09:00", "local");
        let people = [
            (UserId::from("UAUCKLAND"), zone("Pacific/Auckland")),
            (UserId::from("UKOLKATA"), zone("Asia/Kolkata")),
            (UserId::from("ULONDON"), zone("Europe/London")),
            (UserId::from("UNEWYORK"), zone("America/New_York")),
            (UserId::from("UCHATHAM"), zone("Pacific/Chatham")),
        ];
        let monday: NaiveDate = "2026-03-30".parse().unwrap();
        let expected = [
            ("UAUCKLAND", "2026-03-29T20:00:00Z"), // NZDT +13 until 2026-04-05
            ("UKOLKATA", "2026-03-30T03:30:00Z"),
            ("ULONDON", "2026-03-30T08:00:00Z"), // BST since the day before
            ("UNEWYORK", "2026-03-30T13:00:00Z"),
            ("UCHATHAM", "2026-03-29T19:15:00Z"), // +13:45
        ];
        let due = fan_out(&local, monday, &people);
        let due: Vec<(&str, DateTime<Utc>)> = due.iter().map(|(u, at)| (u.as_str(), *at)).collect();
        let expected: Vec<(&str, DateTime<Utc>)> =
            expected.iter().map(|(u, at)| (*u, utc(at))).collect();
        assert_eq!(due, expected);
        for ((_, tz), (_, at)) in people.iter().zip(&due) {
            assert_eq!(at.with_timezone(tz).date_naive(), monday);
        }
    }

    #[test]
    fn fan_out_on_an_unscheduled_day_is_empty_and_a_fixed_zone_is_shared() {
        let people = [
            (UserId::from("U1"), zone("Asia/Tokyo")),
            (UserId::from("U2"), zone("America/Chicago")),
        ];
        let sunday: NaiveDate = "2026-03-29".parse().unwrap();
        assert!(fan_out(&schedule("mon-fri", "09:00", "local"), sunday, &people).is_empty());
        let fixed = fan_out(
            &schedule("daily", "09:00", "Europe/London"),
            sunday,
            &people,
        );
        assert_eq!(fixed.len(), 2);
        assert!(
            fixed
                .iter()
                .all(|(_, at)| *at == utc("2026-03-29T08:00:00Z"))
        );
        assert!(fan_out(&schedule("daily", "09:00", "local"), sunday, &[]).is_empty());
    }

    #[test]
    fn fan_out_in_a_participants_gap_runs_at_the_end_of_it() {
        let local = schedule("daily", "02:30", "local");
        let people = [
            (UserId::from("UNY"), zone("America/New_York")),
            (UserId::from("ULON"), zone("Europe/London")),
        ];
        let due = fan_out(&local, "2026-03-08".parse().unwrap(), &people);
        assert_eq!(due[0].1, utc("2026-03-08T07:00:00Z")); // 03:00 EDT
        assert_eq!(due[1].1, utc("2026-03-08T02:30:00Z"));
    }

    // ---- earliest due ----

    fn mixed_schedules() -> Vec<(u32, Schedule, Tz)> {
        vec![
            (
                1,
                schedule("mon-fri", "09:30", "Europe/London"),
                chrono_tz::UTC,
            ),
            (2, schedule("daily", "09:00", "local"), zone("Asia/Tokyo")),
            (
                3,
                schedule("mon", "08:00", "America/New_York"),
                chrono_tz::UTC,
            ),
            (
                4,
                Schedule {
                    days: Weekdays::NONE,
                    ..schedule("daily", "00:00", "UTC")
                },
                chrono_tz::UTC,
            ),
        ]
    }

    #[test]
    fn the_earliest_due_schedule_is_found_among_many() {
        let entries = mixed_schedules();
        let after = utc("2026-03-02T06:00:00Z"); // a Monday
        let found = earliest_due(entries.iter().map(|(k, s, tz)| (*k, s, *tz)), after);
        assert_eq!(found, Some((1, utc("2026-03-02T09:30:00Z"))));
        // Tokyo's next 09:00 is 2026-03-03T00:00Z; New York's Monday 08:00 is 13:00Z.
        let mut queue =
            DueQueue::from_schedules(entries.iter().map(|(k, s, tz)| (*k, s, *tz)), after);
        assert_eq!(queue.len(), 3, "the schedule with no days is left out");
        assert_eq!(queue.peek(), Some((&1, utc("2026-03-02T09:30:00Z"))));
        assert_eq!(queue.pop_due(utc("2026-03-02T09:29:59Z")), None);
        assert_eq!(
            queue.pop_due(utc("2026-03-02T09:30:00Z")),
            Some((1, utc("2026-03-02T09:30:00Z")))
        );
        assert_eq!(queue.peek(), Some((&3, utc("2026-03-02T13:00:00Z"))));
        let (schedule_1, tz_1) = (entries[0].1, entries[0].2);
        let rearmed = queue.push_next(1, &schedule_1, tz_1, utc("2026-03-02T09:30:00Z"));
        assert_eq!(rearmed, Some(utc("2026-03-03T09:30:00Z")));
        let order: Vec<_> =
            std::iter::from_fn(|| queue.pop_due(DateTime::<Utc>::MAX_UTC)).collect();
        assert_eq!(
            order,
            [
                (3, utc("2026-03-02T13:00:00Z")),
                (2, utc("2026-03-03T00:00:00Z")),
                (1, utc("2026-03-03T09:30:00Z")),
            ]
        );
        assert!(queue.is_empty());
    }

    #[test]
    fn earliest_due_breaks_ties_by_key_and_is_empty_without_schedules() {
        let daily = schedule("daily", "09:00", "UTC");
        let after = utc("2026-03-02T00:00:00Z");
        let found = earliest_due(
            [(7, &daily, chrono_tz::UTC), (3, &daily, chrono_tz::UTC)],
            after,
        );
        assert_eq!(found, Some((3, utc("2026-03-02T09:00:00Z"))));
        let none: [(u8, &Schedule, Tz); 0] = [];
        assert_eq!(earliest_due(none, after), None);
        assert_eq!(DueQueue::<u8>::default().peek(), None);
    }

    // ---- properties ----

    const PROPERTY_ZONES: [&str; 9] = [
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "America/Sao_Paulo",
        "Asia/Tehran",
        "Pacific/Kiritimati",
        "UTC",
    ];

    proptest! {
        #![proptest_config(crate::property_test_config())]
        #[test]
        fn any_instant_in_the_calendar_gets_an_answer_without_panicking(
            seconds in DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp(),
            zone_index in 0usize..PROPERTY_ZONES.len(),
            minute_of_day in 0u32..1440,
        ) {
            let tz = zone(PROPERTY_ZONES[zone_index]);
            let at = NaiveTime::from_hms_opt(minute_of_day / 60, minute_of_day % 60, 0).unwrap();
            let daily = Schedule { days: Weekdays::DAILY, at, zone: ScheduleZone::Local };
            let after = DateTime::from_timestamp(seconds, 0).unwrap();
            if let Some(next) = daily.next_after(after, tz) {
                prop_assert!(next > after);
                prop_assert!(next - after <= Duration::days(3));
            }
        }
    }

    proptest! {
        #![proptest_config(crate::property_test_config())]
        #[test]
        fn occurrences_increase_and_fall_on_scheduled_weekdays(
            mask in 1u8..128,
            hour in 0u32..24,
            minute in 0u32..60,
            zone_index in 0usize..PROPERTY_ZONES.len(),
            start in 946_684_800i64..2_524_608_000, // 2000-01-01 .. 2050-01-01
        ) {
            let days = Weekdays::DAILY
                .iter()
                .enumerate()
                .filter(|(bit, _)| mask & (1 << bit) != 0)
                .fold(Weekdays::NONE, |set, (_, day)| set.with(day));
            let tz = zone(PROPERTY_ZONES[zone_index]);
            let schedule = Schedule {
                days,
                at: NaiveTime::from_hms_opt(hour, minute, 0).unwrap(),
                zone: ScheduleZone::Fixed(tz),
            };
            let from = DateTime::from_timestamp(start, 0).unwrap();
            let runs: Vec<_> = schedule.occurrences(from, tz).take(40).collect();
            prop_assert_eq!(runs.len(), 40);
            prop_assert!(runs[0] >= from);
            for pair in runs.windows(2) {
                prop_assert!(pair[0] < pair[1], "{} !< {}", pair[0], pair[1]);
            }
            for run in &runs {
                let local = run.with_timezone(&tz);
                prop_assert!(days.contains(local.weekday()), "{} is a {}", local, local.weekday());
                let on_time = local.time() == schedule.at;
                let in_gap = matches!(
                    tz.from_local_datetime(&local.date_naive().and_time(schedule.at)),
                    LocalResult::None
                );
                prop_assert!(on_time || in_gap, "{} does not read {}", local, schedule.at);
            }
        }
    }
}

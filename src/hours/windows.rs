//! The one primitive the rest of the hours model shares: turning a member's wall-clock hours
//! into instants (UTC intervals) over a span of time, applying the daylight-saving rules in
//! the module doc, then removing time off and focus time where asked. Every search built on
//! it walks forward a week at a time and stops at a fixed horizon, so an empty schedule or a
//! long absence can never make it loop for ever.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::hours::member::{AwayPeriod, MemberHours};
use crate::hours::schedule::WeeklySchedule;
use crate::hours::signals::SignalKind;

/// `at + delta`, stopping at the last representable instant instead of overflowing.
fn later(at: DateTime<Utc>, delta: TimeDelta) -> DateTime<Utc> {
    at.checked_add_signed(delta)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A half-open interval of instants `[start, end)`.
pub(crate) type Window = (DateTime<Utc>, DateTime<Utc>);

/// How far ahead searches look before giving up (past a long time off, say).
pub(crate) const HORIZON: TimeDelta = TimeDelta::days(400);

/// How much is computed at once while searching forward.
const CHUNK: TimeDelta = TimeDelta::days(7);

/// Longer than any gap the tz database knows (Samoa skipped a whole day in 2011).
const LONGEST_GAP_MINUTES: i64 = 26 * 60;

/// What the member's clock shows at `now`.
pub(crate) fn local_time(hours: &MemberHours, now: DateTime<Utc>) -> DateTime<Tz> {
    now.with_timezone(&hours.tz)
}

/// The instant a window starting at wall-clock `local` begins: the earlier instant in an
/// overlap, the first valid instant after a gap.
pub(crate) fn resolve_start(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => at.to_utc(),
        LocalResult::Ambiguous(earlier, _) => earlier.to_utc(),
        LocalResult::None => first_instant_after_gap(tz, local),
    }
}

/// The instant a window ending at wall-clock `local` ends: the later instant in an overlap,
/// the first valid instant after a gap.
pub(crate) fn resolve_end(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => at.to_utc(),
        LocalResult::Ambiguous(_, later) => later.to_utc(),
        LocalResult::None => first_instant_after_gap(tz, local),
    }
}

/// The instant the clock jumps to at the end of the gap that holds `local`. Zones change on
/// whole minutes, so the first wall-clock minute that exists again is that instant.
fn first_instant_after_gap(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    for minutes in 1..=LONGEST_GAP_MINUTES {
        let probe = local + TimeDelta::minutes(minutes);
        if let Some(at) = tz.from_local_datetime(&probe).earliest() {
            return at.to_utc();
        }
    }
    // Unreachable with real zone data; read the clock with the offset of the day before.
    let before = tz.offset_from_utc_datetime(&(local - TimeDelta::days(1)));
    let offset = chrono::Offset::fix(&before);
    (local - TimeDelta::seconds(i64::from(offset.local_minus_utc()))).and_utc()
}

/// The instants of `period`: from the first instant of its first date to the first instant of
/// the day after its last, in `tz`.
fn away_window(tz: Tz, period: &AwayPeriod) -> Window {
    let start = resolve_start(tz, period.from.and_time(chrono::NaiveTime::MIN));
    let end = match period.to.checked_add_days(Days::new(1)) {
        Some(after) => resolve_start(tz, after.and_time(chrono::NaiveTime::MIN)),
        None => DateTime::<Utc>::MAX_UTC,
    };
    (start, end)
}

/// Sorts intervals and joins those that overlap or touch.
fn merge(mut windows: Vec<Window>) -> Vec<Window> {
    windows.sort_unstable();
    let mut merged: Vec<Window> = Vec::with_capacity(windows.len());
    for (start, end) in windows {
        match merged.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = (*last_end).max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The parts of `windows` outside `blocks`; both sorted and merged.
fn subtract(windows: Vec<Window>, blocks: &[Window]) -> Vec<Window> {
    if blocks.is_empty() {
        return windows;
    }
    let mut free = Vec::with_capacity(windows.len());
    for (mut start, end) in windows {
        for &(block_start, block_end) in blocks {
            if block_end <= start || block_start >= end {
                continue;
            }
            if block_start > start {
                free.push((start, block_start));
            }
            start = start.max(block_end);
            if start >= end {
                break;
            }
        }
        if start < end {
            free.push((start, end));
        }
    }
    free
}

/// Working windows by schedule alone (time off and focus ignored), clipped to `[from, to)`,
/// merged where they touch, in order; nothing when `from >= to`.
pub(crate) fn windows_between(
    hours: &MemberHours,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> impl Iterator<Item = Window> + use<> {
    working_windows(hours, from, to).into_iter()
}

/// [`windows_between`] as a vector. Each thread keeps the windows of the zones, schedules and
/// weeks it computed lately ([`kept_week`]): members who share a zone and hours, or one
/// member mentioned again, cost no time-zone arithmetic. A span over more than two weeks is
/// computed afresh ([`schedule_windows`]).
pub(crate) fn working_windows(
    hours: &MemberHours,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Window> {
    if from >= to || hours.schedule.is_empty() {
        return Vec::new();
    }
    let first = week_of(from);
    let last = week_of(to - TimeDelta::nanoseconds(1));
    if last - first > 1 {
        return schedule_windows(hours, from, to);
    }
    let mut windows = Vec::new();
    for week in first..=last {
        let Some(kept) = kept_week(hours, week) else {
            return schedule_windows(hours, from, to);
        };
        windows.extend(
            kept.iter()
                .map(|&(start, end)| (start.max(from), end.min(to)))
                .filter(|(start, end)| start < end),
        );
    }
    // A window that runs over the end of a week was kept as two that touch.
    merge(windows)
}

/// Whether `now` is inside one of the member's working windows by schedule alone: what
/// `is_inside(working_windows)` answers, read from the week's kept windows without building
/// any.
pub(crate) fn is_working(hours: &MemberHours, now: DateTime<Utc>) -> bool {
    if hours.schedule.is_empty() {
        return false;
    }
    let Some(windows) = kept_week(hours, week_of(now)) else {
        return is_inside(&|from, to| working_windows(hours, from, to), now);
    };
    // Sorted and apart (or touching at a week's end): only the last to start by `now` can
    // hold it.
    let started = windows.partition_point(|&(start, _)| start <= now);
    started > 0 && now < windows[started - 1].1
}

/// How long a kept span of windows is: one week, counted from the Unix epoch in UTC.
const WEEK_SECONDS: i64 = 7 * 24 * 60 * 60;

/// How many weeks a thread keeps (one zone's and schedule's each) before it forgets them all
/// and starts again.
const KEPT_WEEKS: usize = 1024;

/// One week's windows of a schedule, with the schedule (which tells apart two whose hashes
/// collide).
type KeptWeek = (WeeklySchedule, Arc<[Window]>);

/// Windows by schedule alone, per zone, week and hash of the schedule.
#[derive(Default)]
struct KeptWeeks {
    weeks: HashMap<(Tz, i64, u64), Vec<KeptWeek>>,
    /// Schedules kept, over all keys.
    kept: usize,
}

thread_local! {
    static WEEKS: RefCell<KeptWeeks> = RefCell::default();
}

/// The week (as counted for [`kept_week`]) that holds `at`.
fn week_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(WEEK_SECONDS)
}

/// The working windows of `hours`' zone and schedule over `week`, computed once per thread;
/// `None` for a week at the ends of the calendar.
fn kept_week(hours: &MemberHours, week: i64) -> Option<Arc<[Window]>> {
    let key = (hours.tz, week, hours.schedule.fingerprint());
    let found = WEEKS.with_borrow(|kept| {
        kept.weeks.get(&key).and_then(|schedules| {
            schedules
                .iter()
                .find(|(schedule, _)| *schedule == hours.schedule)
                .map(|(_, windows)| Arc::clone(windows))
        })
    });
    if found.is_some() {
        return found;
    }
    let start = DateTime::from_timestamp(week.checked_mul(WEEK_SECONDS)?, 0)?;
    let end = DateTime::from_timestamp(week.checked_add(1)?.checked_mul(WEEK_SECONDS)?, 0)?;
    let windows: Arc<[Window]> = schedule_windows(hours, start, end).into();
    WEEKS.with_borrow_mut(|kept| {
        if kept.kept >= KEPT_WEEKS {
            *kept = KeptWeeks::default();
        }
        kept.kept += 1;
        kept.weeks
            .entry(key)
            .or_default()
            .push((hours.schedule.clone(), Arc::clone(&windows)));
    });
    Some(windows)
}

/// [`working_windows`], computed from the zone's rules. Local dates are walked from two days
/// before `from` (an overnight range started the day before still runs at `from`) to the day
/// after `to`, each range resolved with the rules in the module doc.
fn schedule_windows(hours: &MemberHours, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Window> {
    let tz = hours.tz;
    let local_date = |at: DateTime<Utc>| at.with_timezone(&tz).date_naive();
    let first = local_date(from)
        .checked_sub_days(Days::new(2))
        .unwrap_or(NaiveDate::MIN);
    let last = local_date(to)
        .checked_add_days(Days::new(1))
        .unwrap_or(NaiveDate::MAX);
    let mut windows = Vec::new();
    let mut date = first;
    while date <= last {
        let next = date.checked_add_days(Days::new(1));
        for range in hours.schedule.ranges_on(date.weekday()) {
            let start = resolve_start(tz, date.and_time(range.start));
            let end_date = match (range.is_overnight(), next) {
                (false, _) => date,
                (true, Some(next)) => next,
                (true, None) => continue,
            };
            let end = resolve_end(tz, end_date.and_time(range.end));
            let (start, end) = (start.max(from), end.min(to));
            if start < end {
                windows.push((start, end));
            }
        }
        match next {
            Some(next) => date = next,
            None => break,
        }
    }
    merge(windows)
}

/// Working windows in `[from, to)` with time off removed, and focus time too when
/// `include_focus`: the instants the member can be reached.
pub(crate) fn free_windows(
    hours: &MemberHours,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    include_focus: bool,
) -> Vec<Window> {
    let windows = working_windows(hours, from, to);
    if windows.is_empty() {
        return windows;
    }
    let mut blocks: Vec<Window> = hours
        .away
        .iter()
        .map(|period| away_window(hours.tz, period))
        .filter(|&(start, end)| start < to && end > from)
        .collect();
    if let Some(focus) = hours.focus.filter(|f| include_focus && f.until > from) {
        blocks.push((from, focus.until));
    }
    if let Some(signal) = &hours.signal {
        let counts = match signal.kind {
            SignalKind::Away => true,
            SignalKind::DoNotDisturb => include_focus,
        };
        // A status without an expiration lasts until the member clears it: past the horizon.
        let until = signal.until.unwrap_or(to);
        if counts && until > from {
            blocks.push((from, until));
        }
    }
    subtract(windows, &merge(blocks))
}

/// Whether `now` is inside one of `windows_at(now, now + ε)`.
pub(crate) fn is_inside(
    windows_at: &impl Fn(DateTime<Utc>, DateTime<Utc>) -> Vec<Window>,
    now: DateTime<Utc>,
) -> bool {
    !windows_at(now, later(now, TimeDelta::nanoseconds(1))).is_empty()
}

/// Where the run of windows holding `now` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunEnd {
    /// `now` is in no window.
    Outside,
    EndsAt(DateTime<Utc>),
    /// The windows go on past the search horizon (hours round the clock).
    Beyond,
}

/// Follows the windows that hold `now`, a chunk at a time, to where they stop.
pub(crate) fn run_end(
    windows_at: &impl Fn(DateTime<Utc>, DateTime<Utc>) -> Vec<Window>,
    now: DateTime<Utc>,
) -> RunEnd {
    let horizon = later(now, HORIZON);
    let mut cursor = now;
    while cursor < horizon {
        let chunk_end = later(cursor, CHUNK).min(horizon);
        match windows_at(cursor, chunk_end).first() {
            Some(&(start, end)) if start == cursor => {
                if end < chunk_end {
                    return RunEnd::EndsAt(end);
                }
                cursor = chunk_end;
            }
            _ if cursor == now => return RunEnd::Outside,
            _ => return RunEnd::EndsAt(cursor),
        }
    }
    RunEnd::Beyond
}

/// The first instant at or after `from` that lies in a window, within the horizon.
pub(crate) fn first_start(
    windows_at: &impl Fn(DateTime<Utc>, DateTime<Utc>) -> Vec<Window>,
    from: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let horizon = later(from, HORIZON);
    let mut cursor = from;
    while cursor < horizon {
        let chunk_end = later(cursor, CHUNK).min(horizon);
        if let Some(&(start, _)) = windows_at(cursor, chunk_end).first() {
            return Some(start);
        }
        cursor = chunk_end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::schedule::WeeklySchedule;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn member(schedule: &str, tz: Tz) -> MemberHours {
        MemberHours::new(schedule.parse::<WeeklySchedule>().unwrap(), tz)
    }

    fn windows(hours: &MemberHours, from: &str, to: &str) -> Vec<Window> {
        windows_between(hours, at(from), at(to)).collect()
    }

    fn pair(start: &str, end: &str) -> Window {
        (at(start), at(end))
    }

    #[test]
    fn boundaries_on_daylight_saving_days_follow_the_gap_and_overlap_rules() {
        use chrono_tz::{America, Australia, Europe};
        // (zone, schedule, span from, span to, expected windows)
        let cases = [
            // London springs forward at 01:00 GMT on 2026-03-29: 01:00-02:00 does not exist.
            // A start in the gap maps to 02:00 BST, the first instant after it.
            (
                Europe::London,
                "sun 01:30-03:00",
                "2026-03-29T00:00:00Z",
                "2026-03-30T00:00:00Z",
                vec![pair("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z")],
            ),
            // An end in the gap maps to the same instant.
            (
                Europe::London,
                "sun 00:00-01:30",
                "2026-03-29T00:00:00Z",
                "2026-03-30T00:00:00Z",
                vec![pair("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z")],
            ),
            // A range wholly inside the gap never happens.
            (
                Europe::London,
                "sun 01:10-01:50",
                "2026-03-28T00:00:00Z",
                "2026-03-30T00:00:00Z",
                vec![],
            ),
            // London falls back at 01:00 GMT on 2026-10-25: 01:00-02:00 happens twice.
            // A start in the overlap takes the earlier 01:30 (BST).
            (
                Europe::London,
                "sun 01:30-05:00",
                "2026-10-25T00:00:00Z",
                "2026-10-26T00:00:00Z",
                vec![pair("2026-10-25T00:30:00Z", "2026-10-25T05:00:00Z")],
            ),
            // An end in the overlap takes the later 01:30 (GMT).
            (
                Europe::London,
                "sun 00:00-01:30",
                "2026-10-24T00:00:00Z",
                "2026-10-26T00:00:00Z",
                vec![pair("2026-10-24T23:00:00Z", "2026-10-25T01:30:00Z")],
            ),
            // New York springs forward at 02:00 EST (07:00Z) on 2026-03-08.
            (
                America::New_York,
                "sun 02:30-04:00",
                "2026-03-08T00:00:00Z",
                "2026-03-09T00:00:00Z",
                vec![pair("2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z")],
            ),
            // New York falls back at 02:00 EDT (06:00Z) on 2026-11-01; an overnight range ending
            // inside the repeated hour ends at its second showing (01:30 EST).
            (
                America::New_York,
                "sat 22:00-01:30",
                "2026-10-31T00:00:00Z",
                "2026-11-02T00:00:00Z",
                vec![pair("2026-11-01T02:00:00Z", "2026-11-01T06:30:00Z")],
            ),
            // Lord Howe moves by 30 minutes: 02:00 +10:30 becomes 02:30 +11 on 2026-10-04.
            (
                Australia::Lord_Howe,
                "sun 02:00-03:00",
                "2026-10-03T00:00:00Z",
                "2026-10-05T00:00:00Z",
                vec![pair("2026-10-03T15:30:00Z", "2026-10-03T16:00:00Z")],
            ),
            // And 02:00 +11 becomes 01:30 +10:30 on 2026-04-05: 01:30-02:00 happens twice.
            (
                Australia::Lord_Howe,
                "sun 01:45-09:00",
                "2026-04-04T00:00:00Z",
                "2026-04-06T00:00:00Z",
                vec![pair("2026-04-04T14:45:00Z", "2026-04-04T22:30:00Z")],
            ),
            (
                Australia::Lord_Howe,
                "sun 00:00-01:45",
                "2026-04-04T00:00:00Z",
                "2026-04-06T00:00:00Z",
                vec![pair("2026-04-04T13:00:00Z", "2026-04-04T15:15:00Z")],
            ),
        ];
        for (tz, schedule, from, to, expected) in cases {
            let hours = member(schedule, tz);
            assert_eq!(windows(&hours, from, to), expected, "{tz} {schedule}");
        }
    }

    #[test]
    fn a_zone_without_daylight_saving_keeps_its_offset_all_year() {
        let hours = member("mon 09:00-17:00", chrono_tz::Asia::Kolkata);
        for (from, to, start, end) in [
            (
                "2026-03-30T00:00:00Z",
                "2026-03-31T00:00:00Z",
                "2026-03-30T03:30:00Z",
                "2026-03-30T11:30:00Z",
            ),
            (
                "2026-11-02T00:00:00Z",
                "2026-11-03T00:00:00Z",
                "2026-11-02T03:30:00Z",
                "2026-11-02T11:30:00Z",
            ),
        ] {
            assert_eq!(windows(&hours, from, to), vec![pair(start, end)]);
        }
    }

    #[test]
    fn an_overnight_range_on_sunday_runs_into_monday_and_merges_with_monday_hours() {
        let hours = member(
            "sun 22:00-06:00; mon 06:00-12:00",
            chrono_tz::Europe::London,
        );
        assert_eq!(
            windows(&hours, "2027-01-01T00:00:00Z", "2027-01-08T00:00:00Z"),
            vec![pair("2027-01-03T22:00:00Z", "2027-01-04T12:00:00Z")]
        );
        // Asked from inside the night, the window is clipped to the span asked about.
        assert_eq!(
            windows(&hours, "2027-01-04T03:00:00Z", "2027-01-05T00:00:00Z"),
            vec![pair("2027-01-04T03:00:00Z", "2027-01-04T12:00:00Z")]
        );
    }

    #[test]
    fn windows_are_clipped_to_the_span_and_empty_for_an_empty_span() {
        let hours = MemberHours::default_in(chrono_tz::Europe::London);
        assert_eq!(
            windows(&hours, "2027-01-04T10:00:00Z", "2027-01-05T10:00:00Z"),
            vec![
                pair("2027-01-04T10:00:00Z", "2027-01-04T17:00:00Z"),
                pair("2027-01-05T09:00:00Z", "2027-01-05T10:00:00Z"),
            ]
        );
        assert!(windows(&hours, "2027-01-05T10:00:00Z", "2027-01-04T10:00:00Z").is_empty());
    }

    #[test]
    fn local_time_is_read_in_the_member_zone() {
        let hours = MemberHours::default_in(chrono_tz::Australia::Lord_Howe);
        let local = local_time(&hours, at("2026-10-03T15:30:00Z"));
        assert_eq!(
            local.format("%Y-%m-%d %H:%M %:z").to_string(),
            "2026-10-04 02:30 +11:00"
        );
    }

    #[test]
    fn a_window_over_the_end_of_a_kept_week_comes_back_whole() {
        // Kept weeks start on Thursdays at 00:00 UTC (the Unix epoch was one).
        let hours = member("wed 22:00-06:00", chrono_tz::UTC);
        let from = at("2026-11-25T12:00:00Z");
        let to = at("2026-11-27T12:00:00Z");
        assert_eq!(week_of(from) + 1, week_of(to));
        let whole = pair("2026-11-25T22:00:00Z", "2026-11-26T06:00:00Z");
        assert_eq!(working_windows(&hours, from, to), vec![whole]);
        assert_eq!(schedule_windows(&hours, from, to), vec![whole]);
        // Asked again, from the kept weeks, and clipped to a span that starts inside it.
        let inside = at("2026-11-26T01:00:00Z");
        assert_eq!(
            working_windows(&hours, inside, to),
            vec![(inside, at("2026-11-26T06:00:00Z"))]
        );
    }

    #[test]
    fn a_thread_keeps_at_most_its_bound_of_weeks_however_many_schedules_it_meets() {
        let from = at("2026-11-26T00:00:00Z");
        let to = at("2026-11-27T00:00:00Z");
        // More distinct schedules of one zone and week than the bound: each minute of the
        // day a range starts at.
        for minute in 0..(KEPT_WEEKS as u32 + 100) {
            let start = 60 + minute % 1200;
            let text = format!("thu {:02}:{:02}-23:00", start / 60, start % 60);
            let hours = member(&text, chrono_tz::UTC);
            assert_eq!(
                working_windows(&hours, from, to),
                schedule_windows(&hours, from, to)
            );
            let kept = WEEKS.with_borrow(|kept| {
                let counted: usize = kept.weeks.values().map(Vec::len).sum();
                assert_eq!(counted, kept.kept);
                counted
            });
            assert!((1..=KEPT_WEEKS).contains(&kept), "{kept}");
        }
    }

    /// Zones with daylight saving in either hemisphere, half-hour shifts, a skipped day
    /// (Apia, 2011), changes that moved with Ramadan (Casablanca), and none at all.
    const PROPERTY_ZONES: [&str; 9] = [
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Pacific/Apia",
        "Pacific/Chatham",
        "America/Santiago",
        "Africa/Casablanca",
        "Asia/Kolkata",
    ];
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    proptest::proptest! {
        #![proptest_config(crate::property_test_config())]
        #[test]
        fn kept_weeks_answer_as_the_zone_rules_do(
            zone_index in 0usize..PROPERTY_ZONES.len(),
            ranges in proptest::collection::vec((0usize..7, 0u32..96, 0u32..96), 1..4),
            from in 946_684_800i64..2_240_524_800,
            length in 1i64..(16 * 24 * 60 * 60),
        ) {
            let tz: Tz = PROPERTY_ZONES[zone_index].parse().unwrap();
            let clauses: Vec<String> = ranges
                .iter()
                .filter(|(_, start, end)| start != end)
                .map(|&(day, start, end)| {
                    let clock = |quarter: u32| format!("{:02}:{:02}", quarter / 4, quarter % 4 * 15);
                    format!("{} {}-{}", DAYS[day], clock(start), clock(end))
                })
                .collect();
            let Ok(schedule) = clauses.join("; ").parse::<WeeklySchedule>() else {
                return Ok(());
            };
            let hours = MemberHours::new(schedule, tz);
            let from = DateTime::from_timestamp(from, 0).unwrap();
            let to = from + TimeDelta::seconds(length);
            let expected = if hours.schedule.is_empty() {
                Vec::new()
            } else {
                schedule_windows(&hours, from, to)
            };
            // Twice: the first call fills the kept weeks, the second reads them.
            proptest::prop_assert_eq!(&working_windows(&hours, from, to), &expected);
            proptest::prop_assert_eq!(&working_windows(&hours, from, to), &expected);
            // Inside a window, at its ends, just before it and half-way through the span.
            let probes = expected
                .iter()
                .flat_map(|&(start, end)| [start, end, start - TimeDelta::seconds(1)])
                .chain([from, from + TimeDelta::seconds(length / 2)])
                .filter(|&at| from <= at && at < to);
            for at in probes {
                let inside = expected.iter().any(|&(start, end)| start <= at && at < end);
                proptest::prop_assert_eq!(is_working(&hours, at), inside, "at {}", at);
            }
        }
    }
}

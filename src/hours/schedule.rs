//! Working hours as people write them: wall-clock ranges (`09:00-17:30`, `22:00-06:00`) and a
//! week of them (`mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00`). This module reads and
//! writes that text; turning it into instants is the job of `windows`.

use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::str::FromStr;
use std::sync::{Arc, LazyLock};

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use serde_with::{DeserializeFromStr, SerializeDisplay};

use crate::hours::days::Weekdays;
use crate::hours::error::HoursError;
use crate::hours::zone::parse_zone;

/// A wall-clock range in a member's zone. When `end <= start` it runs overnight into the next
/// day (`22:00-06:00`, `18:00-24:00`); equal start and end is a full 24 hours.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, SerializeDisplay, DeserializeFromStr,
)]
pub struct TimeRange {
    pub(crate) start: NaiveTime,
    pub(crate) end: NaiveTime,
}

impl TimeRange {
    /// The range from `start` to `end`, read as described on the type.
    pub(crate) fn new(start: NaiveTime, end: NaiveTime) -> Self {
        TimeRange { start, end }
    }

    /// Whether the range ends on the day after the one it starts on.
    pub(crate) fn is_overnight(self) -> bool {
        self.end <= self.start
    }
}

/// Reads `HH:MM` (the hour may have one digit); `24:00` is returned as `None` for midnight at
/// the end of the day, since `NaiveTime` stops at 23:59.
fn parse_clock(time: &str, range: &str) -> Result<Option<NaiveTime>, HoursError> {
    let bad = || HoursError::NotATime {
        time: time.to_string(),
        range: range.to_string(),
    };
    let (hour, minute) = time.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, max_len: usize| {
        !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(hour, 2) || !digits(minute, 2) || minute.len() != 2 {
        return Err(bad());
    }
    let hour: u32 = hour.parse().map_err(|_| bad())?;
    let minute: u32 = minute.parse().map_err(|_| bad())?;
    if hour == 24 && minute == 0 {
        return Ok(None);
    }
    NaiveTime::from_hms_opt(hour, minute, 0)
        .map(Some)
        .ok_or_else(bad)
}

/// Reads a time of day a person typed, `H:MM` or `HH:MM` on a 24-hour clock, as a range's
/// ends are read (but `24:00`, which ends a day and starts none). Check-in times from every
/// entry path are read here.
pub fn parse_time_of_day(text: &str) -> Option<NaiveTime> {
    parse_clock(text.trim(), text).ok().flatten()
}

impl FromStr for TimeRange {
    type Err = HoursError;

    /// Reads a range a person typed, `HH:MM-HH:MM`: `24:00` is accepted as an end, and equal
    /// ends are refused but for `00:00-24:00`, the whole day. Every entry path reads ranges
    /// here, so `09:00-09:00` is refused by all of them alike.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TimeRange::read(text, true)
    }
}

impl TimeRange {
    /// Reads `HH:MM-HH:MM`. A `typed` range may not start and end at the same time (but for
    /// the whole day); a stored one may, as 24 hours, since ranges typed into the hours modal
    /// before that was refused are kept as they were.
    fn read(text: &str, typed: bool) -> Result<Self, HoursError> {
        let text = text.trim();
        let not_a_range = || HoursError::NotARange(text.to_string());
        let (start, end) = text.split_once('-').ok_or_else(not_a_range)?;
        if !start.contains(':') || !end.contains(':') {
            return Err(not_a_range());
        }
        let start = parse_clock(start.trim(), text)?
            .ok_or_else(|| HoursError::StartsAtMidnightEnd(text.to_string()))?;
        let end_clock = parse_clock(end.trim(), text)?;
        let end = end_clock.unwrap_or(NaiveTime::MIN);
        if typed && start == end && end_clock.is_some() {
            return Err(HoursError::EmptyRange(text.to_string()));
        }
        Ok(TimeRange { start, end })
    }
}

/// Written as `09:00-17:30`; an end at midnight is written `24:00`.
impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = if self.end == NaiveTime::MIN {
            "24:00".to_string()
        } else {
            self.end.format("%H:%M").to_string()
        };
        write!(f, "{}-{}", self.start.format("%H:%M"), end)
    }
}

/// A week of working hours: for each weekday, the ranges that start on it, earliest first.
/// Stored and shown as the text people type (`mon-fri 09:00-17:30`). Shared once built: a
/// copy for each member (a broadcast's audience holds one per member of the channel) costs
/// no allocation, and two copies compare equal without a look at their ranges.
#[derive(Debug, Clone, PartialEq, Eq, SerializeDisplay, DeserializeFromStr)]
pub struct WeeklySchedule {
    week: Arc<Week>,
}

#[derive(Debug, PartialEq, Eq)]
struct Week {
    /// Indexed by `Weekday::num_days_from_monday`.
    days: [Vec<TimeRange>; 7],
    /// A hash of `days`, taken once when built: what the hours model's caches look a
    /// schedule up by, many times an event.
    fingerprint: u64,
}

/// Equal schedules have equal fingerprints, so hashing the fingerprint agrees with `Eq`.
impl Hash for WeeklySchedule {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.week.fingerprint);
    }
}

impl Default for WeeklySchedule {
    /// No hours at all.
    fn default() -> Self {
        WeeklySchedule::new([])
    }
}

/// `hour:00`; hours past 23 give midnight, which no caller asks for.
fn on_the_hour(hour: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN)
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

impl WeeklySchedule {
    /// Builds a schedule from groups of days sharing ranges. A day named in several groups
    /// gets the ranges of all of them.
    pub(crate) fn new(groups: impl IntoIterator<Item = (Weekdays, Vec<TimeRange>)>) -> Self {
        let mut week: [Vec<TimeRange>; 7] = Default::default();
        for (days, ranges) in groups {
            for day in days.iter() {
                week[day.num_days_from_monday() as usize].extend(ranges.iter().copied());
            }
        }
        for ranges in &mut week {
            ranges.sort_unstable();
            ranges.dedup();
        }
        let mut hasher = DefaultHasher::new();
        week.hash(&mut hasher);
        WeeklySchedule {
            week: Arc::new(Week {
                days: week,
                fingerprint: hasher.finish(),
            }),
        }
    }

    /// A hash of the ranges, the same for equal schedules, read without a look at them.
    pub(crate) fn fingerprint(&self) -> u64 {
        self.week.fingerprint
    }

    /// The default for a member who set nothing: Monday to Friday, 09:00 to 17:00. Built
    /// once; every member without hours of their own shares it.
    pub(crate) fn default_hours() -> Self {
        static DEFAULT: LazyLock<WeeklySchedule> = LazyLock::new(|| {
            let nine_to_five = TimeRange::new(on_the_hour(9), on_the_hour(17));
            WeeklySchedule::new([(Weekdays::WEEKDAYS, vec![nine_to_five])])
        });
        DEFAULT.clone()
    }

    /// The ranges that start on `day`, earliest first.
    pub(crate) fn ranges_on(&self, day: Weekday) -> &[TimeRange] {
        &self.week.days[day.num_days_from_monday() as usize]
    }

    /// Whether no day has any range (the member never works).
    pub(crate) fn is_empty(&self) -> bool {
        self.week.days.iter().all(Vec::is_empty)
    }

    /// Days sharing the same ranges, grouped, in the order of their first day.
    pub(crate) fn groups(&self) -> Vec<(Weekdays, Vec<TimeRange>)> {
        let mut groups: Vec<(Weekdays, Vec<TimeRange>)> = Vec::new();
        for day in WEEK {
            let ranges = self.ranges_on(day);
            if ranges.is_empty() {
                continue;
            }
            match groups.iter_mut().find(|(_, r)| r.as_slice() == ranges) {
                Some((days, _)) => *days = days.with(day),
                None => groups.push((Weekdays::only(day), ranges.to_vec())),
            }
        }
        groups
    }
}

/// Written as typed: `mon-fri 09:00-17:30`, `mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00`,
/// or `none` when the schedule is empty.
impl fmt::Display for WeeklySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups = self.groups();
        if groups.is_empty() {
            return f.write_str("none");
        }
        let text: Vec<String> = groups
            .iter()
            .map(|(days, ranges)| {
                let ranges: Vec<String> = ranges.iter().map(TimeRange::to_string).collect();
                format!("{days} {}", ranges.join(","))
            })
            .collect();
        f.write_str(&text.join("; "))
    }
}

/// Reads `<days> <ranges>[; <days> <ranges> …]`, with at most one IANA zone among the words
/// when `zone_allowed`.
fn parse_groups(
    text: &str,
    zone_allowed: bool,
    typed: bool,
) -> Result<(WeeklySchedule, Option<Tz>), HoursError> {
    let mut groups = Vec::new();
    let mut zone: Option<(Tz, String)> = None;
    for group in text.split(';').map(str::trim).filter(|g| !g.is_empty()) {
        let mut words = group.split_whitespace();
        let Some(days_word) = words.next() else {
            continue;
        };
        let days: Weekdays = days_word.parse()?;
        let mut ranges = Vec::new();
        for word in words {
            let starts_with_digit = word.bytes().next().is_some_and(|b| b.is_ascii_digit());
            if starts_with_digit || !zone_allowed {
                for part in word.split(',').filter(|p| !p.is_empty()) {
                    ranges.push(TimeRange::read(part, typed)?);
                }
                continue;
            }
            let tz = parse_zone(word)?;
            if let Some((_, earlier)) = &zone
                && earlier != word
            {
                return Err(HoursError::SeveralZones(earlier.clone(), word.to_string()));
            }
            zone = Some((tz, word.to_string()));
        }
        if ranges.is_empty() {
            return Err(HoursError::NoRanges(days_word.to_string()));
        }
        groups.push((days, ranges));
    }
    if groups.is_empty() {
        return Err(HoursError::NoHours);
    }
    Ok((WeeklySchedule::new(groups), zone.map(|(tz, _)| tz)))
}

/// Reads the argument of `/async hours set`: groups of days and ranges separated by `;`, with
/// an optional IANA zone (`mon-fri 09:00-17:30 Europe/Berlin`,
/// `mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00 America/New_York`).
pub fn parse_hours_setting(text: &str) -> Result<(WeeklySchedule, Option<Tz>), HoursError> {
    parse_groups(text, true, true)
}

impl FromStr for WeeklySchedule {
    type Err = HoursError;

    /// Reads what `Display` writes, `none` included.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(WeeklySchedule::default());
        }
        parse_groups(text, false, false).map(|(schedule, _)| schedule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    #[test]
    fn time_ranges_are_read_from_hours_and_minutes() {
        let cases = [
            ("09:00-17:00", "09:00", "17:00", false),
            ("9:00-17:30", "09:00", "17:30", false),
            (" 22:00-06:00 ", "22:00", "06:00", true),
            ("18:00-24:00", "18:00", "00:00", true),
            ("00:00-24:00", "00:00", "00:00", true),
        ];
        for (text, start, end, overnight) in cases {
            let range: TimeRange = text.parse().unwrap();
            assert_eq!(range, TimeRange::new(t(start), t(end)), "{text}");
            assert_eq!(range.is_overnight(), overnight, "{text}");
        }
    }

    #[test]
    fn equal_ends_are_refused_when_typed_and_read_as_a_day_when_stored() {
        assert_eq!(
            "09:00-09:00".parse::<TimeRange>(),
            Err(HoursError::EmptyRange("09:00-09:00".into()))
        );
        let stored: WeeklySchedule = "mon 09:00-09:00".parse().unwrap();
        let range = stored.ranges_on(Weekday::Mon)[0];
        assert_eq!(range, TimeRange::new(t("09:00"), t("09:00")));
        assert!(range.is_overnight());
    }

    #[test]
    fn malformed_ranges_are_rejected_with_the_fix() {
        let cases = [
            ("9-5", "`9-5` is not a time range; try 09:00-17:00"),
            ("09:00", "`09:00` is not a time range; try 09:00-17:00"),
            (
                "nine-five",
                "`nine-five` is not a time range; try 09:00-17:00",
            ),
            (
                "25:00-26:00",
                "`25:00` in `25:00-26:00` is not a time of day; write HH:MM from 00:00 to 24:00, e.g. 09:00-17:00",
            ),
            (
                "09:60-10:00",
                "`09:60` in `09:60-10:00` is not a time of day; write HH:MM from 00:00 to 24:00, e.g. 09:00-17:00",
            ),
            (
                "09:0-10:00",
                "`09:0` in `09:0-10:00` is not a time of day; write HH:MM from 00:00 to 24:00, e.g. 09:00-17:00",
            ),
            (
                "24:00-06:00",
                "`24:00-06:00` starts at 24:00; start the day at 00:00 instead, e.g. 00:00-08:00",
            ),
        ];
        for (text, message) in cases {
            let err = text.parse::<TimeRange>().unwrap_err();
            assert_eq!(err.to_string(), message, "{text}");
        }
    }

    #[test]
    fn schedules_are_written_back_as_typed() {
        for text in [
            "mon-fri 09:00-17:30",
            "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00",
            "daily 00:00-24:00",
            "sun 22:00-06:00",
            "mon,wed,fri 09:00-17:00; tue,thu 10:00-18:00",
            "none",
        ] {
            let schedule: WeeklySchedule = text.parse().unwrap();
            assert_eq!(schedule.to_string(), text);
        }
    }

    #[test]
    fn default_hours_are_nine_to_five_on_weekdays() {
        let schedule = WeeklySchedule::default_hours();
        assert_eq!(schedule.to_string(), "mon-fri 09:00-17:00");
        assert!(schedule.ranges_on(Weekday::Sat).is_empty());
        assert_eq!(
            schedule.ranges_on(Weekday::Wed),
            [TimeRange::new(t("09:00"), t("17:00"))]
        );
    }

    #[test]
    fn a_day_named_in_two_groups_gets_the_ranges_of_both_in_order() {
        let schedule: WeeklySchedule = "mon-fri 13:00-17:00; mon 08:00-12:00".parse().unwrap();
        assert_eq!(
            schedule.ranges_on(Weekday::Mon),
            [
                "08:00-12:00".parse().unwrap(),
                "13:00-17:00".parse::<TimeRange>().unwrap()
            ]
        );
        assert_eq!(
            schedule.to_string(),
            "mon 08:00-12:00,13:00-17:00; tue-fri 13:00-17:00"
        );
    }

    #[test]
    fn hours_settings_may_carry_one_zone() {
        let (schedule, zone) = parse_hours_setting("mon-fri 09:00-17:30 Europe/Berlin").unwrap();
        assert_eq!(schedule.to_string(), "mon-fri 09:00-17:30");
        assert_eq!(zone, Some(chrono_tz::Europe::Berlin));

        let (schedule, zone) = parse_hours_setting(
            "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00 America/New_York",
        )
        .unwrap();
        assert_eq!(
            schedule.to_string(),
            "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00"
        );
        assert_eq!(zone, Some(chrono_tz::America::New_York));

        let (_, zone) = parse_hours_setting("weekdays 08:00-12:00, 13:00-16:00").unwrap();
        assert_eq!(zone, None);
    }

    #[test]
    fn bad_hours_settings_name_the_fix() {
        let cases = [
            ("mon-fri 9-5", "`9-5` is not a time range; try 09:00-17:00"),
            (
                "mon-fri",
                "`mon-fri` needs hours after it; try mon-fri 09:00-17:00",
            ),
            ("", "no working hours given; try mon-fri 09:00-17:00"),
            (
                "mon-fri 09:00-17:00 Europe/Berln",
                "`Europe/Berln` is not an IANA time zone I know. Did you mean Europe/Berlin?",
            ),
            (
                "mon 09:00-17:00 Europe/Berlin; tue 09:00-12:00 Asia/Tokyo",
                "two time zones given (`Europe/Berlin` and `Asia/Tokyo`); give one, at the end",
            ),
        ];
        for (text, message) in cases {
            let err = parse_hours_setting(text).unwrap_err();
            assert_eq!(err.to_string(), message, "{text}");
        }
        assert!(matches!(
            parse_hours_setting("mon-fry 09:00-17:00"),
            Err(HoursError::Days(_))
        ));
        assert_eq!(
            "mon-fri 09:00-17:00 Europe/Berlin".parse::<WeeklySchedule>(),
            Err(HoursError::NotARange("Europe/Berlin".into()))
        );
    }

    #[test]
    fn schedules_round_trip_through_json_as_text() {
        let schedule: WeeklySchedule = "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00"
            .parse()
            .unwrap();
        let json = serde_json::to_string(&schedule).unwrap();
        assert_eq!(json, "\"mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00\"");
        assert_eq!(
            serde_json::from_str::<WeeklySchedule>(&json).unwrap(),
            schedule
        );
    }
}

//! Sets of weekdays, as people write them in commands (`mon-fri`, `mon,wed,fri`,
//! `weekdays`, `daily`). Working hours and check-in schedules both speak of days this way,
//! so the one parser and the one type live here.

use std::fmt;
use std::str::FromStr;

use chrono::Weekday;
use serde_with::{DeserializeFromStr, SerializeDisplay};

/// A set of weekdays, Monday first. Stored as a 7-bit mask so it is `Copy` and cheap to test.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, SerializeDisplay, DeserializeFromStr)]
pub struct Weekdays(u8);

/// Why a day list could not be read; the message names the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DaysError {
    #[error(
        "`{0}` is not a day; use mon, tue, wed, thu, fri, sat or sun (e.g. mon-fri, mon,wed,fri, weekdays, daily)"
    )]
    UnknownDay(String),
    #[error("no days given; try mon-fri, mon,wed,fri, weekdays or daily")]
    Empty,
}

impl Weekdays {
    pub(crate) const NONE: Weekdays = Weekdays(0);
    pub(crate) const WEEKDAYS: Weekdays = Weekdays(0b001_1111);
    pub(crate) const DAILY: Weekdays = Weekdays(0b111_1111);

    /// The set holding only `day`.
    pub(crate) fn only(day: Weekday) -> Self {
        Weekdays(1 << day.num_days_from_monday())
    }

    pub(crate) fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub(crate) fn with(self, day: Weekday) -> Self {
        Weekdays(self.0 | 1 << day.num_days_from_monday())
    }

    pub(crate) fn union(self, other: Weekdays) -> Self {
        Weekdays(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The days in the set, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        ALL_DAYS.into_iter().filter(move |d| self.contains(*d))
    }
}

const ALL_DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn parse_day(word: &str) -> Result<Weekday, DaysError> {
    let lower = word.trim().to_ascii_lowercase();
    let day = match lower.as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return Err(DaysError::UnknownDay(word.trim().to_string())),
    };
    Ok(day)
}

/// A range `from-to` wraps past Sunday when `to` comes before `from` (`fri-mon`).
fn day_range(from: Weekday, to: Weekday) -> Weekdays {
    let mut days = Weekdays::only(from);
    let mut day = from;
    while day != to {
        day = day.succ();
        days = days.with(day);
    }
    days
}

impl FromStr for Weekdays {
    type Err = DaysError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "" => return Err(DaysError::Empty),
            "weekdays" | "workdays" => return Ok(Weekdays::WEEKDAYS),
            "daily" | "everyday" | "every-day" => return Ok(Weekdays::DAILY),
            "weekends" | "weekend" => return Ok(Weekdays::only(Weekday::Sat).with(Weekday::Sun)),
            _ => {}
        }
        let mut days = Weekdays::NONE;
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            days = days.union(match part.split_once('-') {
                Some((from, to)) => day_range(parse_day(from)?, parse_day(to)?),
                None => Weekdays::only(parse_day(part)?),
            });
        }
        if days.is_empty() {
            return Err(DaysError::Empty);
        }
        Ok(days)
    }
}

fn short_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// Written back the way people type it: `daily`, `mon-fri`, `mon,wed,fri`, `mon-wed,sat`.
impl fmt::Display for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Weekdays::DAILY {
            return f.write_str("daily");
        }
        let mut parts: Vec<String> = Vec::new();
        let mut run: Vec<Weekday> = Vec::new();
        let flush = |run: &mut Vec<Weekday>, parts: &mut Vec<String>| {
            match run.as_slice() {
                [] => {}
                [one] => parts.push(short_name(*one).to_string()),
                [first, .., last] if run.len() >= 3 => {
                    parts.push(format!("{}-{}", short_name(*first), short_name(*last)))
                }
                many => parts.extend(many.iter().map(|d| short_name(*d).to_string())),
            }
            run.clear();
        };
        for day in ALL_DAYS {
            if self.contains(day) {
                run.push(day);
            } else {
                flush(&mut run, &mut parts);
            }
        }
        flush(&mut run, &mut parts);
        f.write_str(&parts.join(","))
    }
}

impl fmt::Debug for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Weekdays({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_people_type_are_read() {
        let cases = [
            ("mon-fri", Weekdays::WEEKDAYS),
            ("weekdays", Weekdays::WEEKDAYS),
            ("daily", Weekdays::DAILY),
            (
                "Mon,Wed,Fri",
                Weekdays::only(Weekday::Mon)
                    .with(Weekday::Wed)
                    .with(Weekday::Fri),
            ),
            (
                "fri-mon",
                Weekdays::only(Weekday::Fri)
                    .with(Weekday::Sat)
                    .with(Weekday::Sun)
                    .with(Weekday::Mon),
            ),
            ("mon-thu", "mon,tue,wed,thu".parse().unwrap()),
            ("sun", Weekdays::only(Weekday::Sun)),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Weekdays>(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn an_unknown_day_is_named_in_the_error() {
        let err = "mon-fry".parse::<Weekdays>().unwrap_err();
        assert_eq!(err, DaysError::UnknownDay("fry".into()));
        assert!(err.to_string().contains("mon-fri"));
        assert_eq!("".parse::<Weekdays>(), Err(DaysError::Empty));
        assert_eq!(",".parse::<Weekdays>(), Err(DaysError::Empty));
    }

    #[test]
    fn days_are_written_back_as_typed() {
        for text in ["daily", "mon-fri", "mon,wed,fri", "mon-wed,sat", "sat,sun"] {
            assert_eq!(text.parse::<Weekdays>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn days_round_trip_through_json() {
        let days: Weekdays = "mon,wed,fri".parse().unwrap();
        let json = serde_json::to_string(&days).unwrap();
        assert_eq!(json, "\"mon,wed,fri\"");
        assert_eq!(serde_json::from_str::<Weekdays>(&json).unwrap(), days);
    }
}

//! Dates of time off as people give them: `/async away 2026-12-24 2027-01-02` and the hours
//! form's date pickers both read the days and check the period here, so they refuse the same
//! things with the same words.

use std::ops::Range;

use chrono::NaiveDate;

use crate::typed::shown;

/// Longest period of time off, in days, so availability searches stay bounded.
pub const MAX_AWAY_DAYS: i64 = 366;

/// Why a date or a period of time off was refused; each message names what to give instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("`{0}` is not a date; write it as YYYY-MM-DD, e.g. /async away 2026-12-24 2027-01-02")]
    BadDate(String),
    #[error(
        "The away period ends on {to}, before it starts on {from}; put the first day first, e.g. /async away {to} {from}"
    )]
    DatesReversed { from: NaiveDate, to: NaiveDate },
    #[error(
        "That away period is {days} days; set at most {max} days at a time, e.g. /async away 2026-07-01 2026-07-21"
    )]
    AwayTooLong { days: i64, max: i64 },
}

/// Reads `YYYY-MM-DD` (month and day may have one digit).
pub(crate) fn parse_date(word: &str) -> Result<NaiveDate, DateError> {
    let bad = || DateError::BadDate(shown(word));
    let mut parts = word.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let digits = |s: &str, lengths: Range<usize>| {
        lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(year, 4..5) || !digits(month, 1..3) || !digits(day, 1..3) {
        return Err(bad());
    }
    let (Ok(year), Ok(month), Ok(day)) = (year.parse(), month.parse(), day.parse()) else {
        return Err(bad());
    };
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)
}

/// Checks a period of time off, first and last day: in order, and at most
/// [`MAX_AWAY_DAYS`] long.
pub(crate) fn away_range(
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), DateError> {
    if to < from {
        return Err(DateError::DatesReversed { from, to });
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_AWAY_DAYS {
        return Err(DateError::AwayTooLong {
            days,
            max: MAX_AWAY_DAYS,
        });
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_year_month_day_and_periods_are_checked() {
        let day = |s: &str| parse_date(s).unwrap();
        assert_eq!(
            day("2026-3-9"),
            NaiveDate::from_ymd_opt(2026, 3, 9).unwrap()
        );
        for bad in [
            "12/24",
            "2026-02-30",
            "tomorrow",
            "26-12-24",
            "2026-12-24-1",
        ] {
            assert!(
                matches!(parse_date(bad), Err(DateError::BadDate(_))),
                "{bad}"
            );
        }
        assert!(away_range(day("2026-12-24"), day("2026-12-24")).is_ok());
        assert!(matches!(
            away_range(day("2027-01-02"), day("2026-12-24")),
            Err(DateError::DatesReversed { .. })
        ));
        assert!(away_range(day("2026-01-01"), day("2027-01-01")).is_ok());
        assert!(matches!(
            away_range(day("2026-01-01"), day("2027-01-02")),
            Err(DateError::AwayTooLong { days: 367, .. })
        ));
    }
}

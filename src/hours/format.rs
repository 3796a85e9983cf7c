//! How times read to people in cards and notes: "in 10h 46m", "back Wed 09:00, in 10h 46m".
//! Kept beside the model so every surface words availability the same way.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

/// A wait as people say it, to the largest two units and rounded down: "in 3d 2h",
/// "in 10h 46m", "in 5m", "in 2h"; "in under a minute" below one minute and "now" for no wait.
pub(crate) fn format_relative(duration: TimeDelta) -> String {
    if duration <= TimeDelta::zero() {
        return "now".to_string();
    }
    let minutes = duration.num_minutes();
    let (days, hours, minutes) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    let text = match (days, hours, minutes) {
        (0, 0, 0) => return "in under a minute".to_string(),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    };
    format!("in {text}")
}

/// When a member is back, in the reader's zone, and how long that is from `now`:
/// "back Wed 09:00, in 10h 46m". Six days or more ahead, the date is added so the weekday
/// cannot be mistaken for this week's: "back Mon 4 Jan 09:00, in 9d 2h".
pub(crate) fn format_back(back_at: DateTime<Utc>, reader_tz: Tz, now: DateTime<Utc>) -> String {
    let local = back_at.with_timezone(&reader_tz);
    let wait = back_at - now;
    let when = if wait >= TimeDelta::days(6) {
        local.format("%a %-d %b %H:%M")
    } else {
        local.format("%a %H:%M")
    };
    format!("back {when}, {}", format_relative(wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_in_the_two_largest_units() {
        let minutes = TimeDelta::minutes;
        let cases = [
            (minutes(10 * 60 + 46), "in 10h 46m"),
            (minutes(3 * 24 * 60 + 2 * 60 + 59), "in 3d 2h"),
            (minutes(5), "in 5m"),
            (minutes(120), "in 2h"),
            (minutes(2 * 24 * 60 + 30), "in 2d"),
            (minutes(59) + TimeDelta::seconds(59), "in 59m"),
            (TimeDelta::seconds(30), "in under a minute"),
            (TimeDelta::zero(), "now"),
            (-minutes(5), "now"),
        ];
        for (duration, text) in cases {
            assert_eq!(format_relative(duration), text, "{duration}");
        }
    }

    #[test]
    fn back_times_are_shown_in_the_reader_zone() {
        let now: DateTime<Utc> = "2026-03-03T22:14:00Z".parse().unwrap();
        let back: DateTime<Utc> = "2026-03-04T08:00:00Z".parse().unwrap();
        assert_eq!(
            format_back(back, chrono_tz::Europe::Berlin, now),
            "back Wed 09:00, in 9h 46m"
        );
        assert_eq!(
            format_back(back, chrono_tz::America::New_York, now),
            "back Wed 03:00, in 9h 46m"
        );
        let later: DateTime<Utc> = "2027-01-04T09:00:00Z".parse().unwrap();
        let now: DateTime<Utc> = "2026-12-26T07:00:00Z".parse().unwrap();
        assert_eq!(
            format_back(later, chrono_tz::Europe::London, now),
            "back Mon 4 Jan 09:00, in 9d 2h"
        );
    }
}

//! The weekly norms digest as pure data: when it is due for a person (Monday 09:00 in their
//! zone, by IANA name so daylight saving moves it with them), which week it reports on, the
//! key that marks it sent, and its text. The figures are [`crate::norms::stats`]'s, per
//! channel and never per person; the running bot decides who receives it and sends it.

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc,
};
use chrono::{TimeZone, Weekday};
use chrono_tz::Tz;

use crate::norms::stats::{StatsReport, report_text};

/// The local hour on Monday the digest is due.
const DUE_HOUR: u32 = 9;
/// A digest not sent within this long of its time (the bot was down) is skipped: by then a
/// new week is under way and it would read as stale.
pub(crate) const LATE_LIMIT: TimeDelta = TimeDelta::days(1);

/// One week's digest for one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DigestWeek {
    /// The Monday it is sent on, in the recipient's zone.
    pub(crate) monday: NaiveDate,
    /// Monday 09:00 in the recipient's zone.
    pub(crate) due_at: DateTime<Utc>,
    /// The end of the reported week: Monday 00:00 in the recipient's zone.
    pub(crate) covers_until: DateTime<Utc>,
}

impl DigestWeek {
    /// The digest of the week whose Monday is `monday`, in `tz`.
    pub(crate) fn of(monday: NaiveDate, tz: Tz) -> Self {
        DigestWeek {
            monday,
            due_at: local_instant(tz, monday.and_time(at_hour(DUE_HOUR))),
            covers_until: local_instant(tz, monday.and_time(NaiveTime::MIN)),
        }
    }

    /// The digest of the week `now` falls in, in `tz`.
    pub(crate) fn current(now: DateTime<Utc>, tz: Tz) -> Self {
        let today = now.with_timezone(&tz).date_naive();
        let monday = today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()));
        DigestWeek::of(monday, tz)
    }

    /// The ISO week of its Monday, e.g. `2026-W11`: with the recipient, the key of the mark
    /// that says it was sent.
    pub(crate) fn iso_week(&self) -> String {
        let week = self.monday.iso_week();
        format!("{}-W{:02}", week.year(), week.week())
    }
}

/// The digest due for someone in `tz` at `now`: from Monday 09:00 their time until
/// [`LATE_LIMIT`] later.
pub(crate) fn due_now(now: DateTime<Utc>, tz: Tz) -> Option<DigestWeek> {
    let week = DigestWeek::current(now, tz);
    (now >= week.due_at && now < week.due_at + LATE_LIMIT).then_some(week)
}

/// The next instant after `now` a digest falls due for someone in `tz`.
pub(crate) fn next_due_after(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let week = DigestWeek::current(now, tz);
    if week.due_at > now {
        return week.due_at;
    }
    DigestWeek::of(week.monday + TimeDelta::days(7), tz).due_at
}

/// When nobody anywhere can have a digest due at `now`, the instant that can first change:
/// Monday 09:00 comes first at UTC+14 (Sunday 19:00 UTC) and last at UTC−12 (Monday 21:00
/// UTC), and a digest stays due for [`LATE_LIMIT`]. `None` while some zone is in its window.
pub(crate) fn quiet_until(now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = now.date_naive();
    let monday = today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()));
    for monday in [monday, monday + TimeDelta::days(7)] {
        let midnight = monday.and_time(NaiveTime::MIN).and_utc();
        let opens = midnight + TimeDelta::hours(i64::from(DUE_HOUR) - 14);
        let closes = midnight + TimeDelta::hours(i64::from(DUE_HOUR) + 12) + LATE_LIMIT;
        if now < opens {
            return Some(opens);
        }
        if now < closes {
            return None;
        }
    }
    unreachable!("next week's window opens after now")
}

/// Whether the report says anything: a quiet fortnight sends no digest rather than noise.
pub(crate) fn worth_sending(report: &StatsReport) -> bool {
    !report.current.is_empty() || !report.previous.is_empty()
}

/// The digest's message: the week's per-channel figures and how to stop it.
pub(crate) fn digest_text(report: &StatsReport, week: &DigestWeek) -> String {
    let sunday = week.monday - TimeDelta::days(1);
    debug_assert_eq!(sunday.weekday(), Weekday::Sun);
    format!(
        "*Weekly urgency norms digest* — the week to Sunday {}\n{}\n_Per channel, never per person. `/async stats` shows any period; `/async norms digest off` stops this message._",
        sunday.format("%-d %B %Y"),
        report_text(report)
    )
}

fn at_hour(hour: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// A local wall time as an instant: in a daylight-saving gap the first instant after it, in
/// a repeated hour the first of the two.
fn local_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    for shift in [0, 1, 2] {
        match tz.from_local_datetime(&(local + TimeDelta::hours(shift))) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
                return at.with_timezone(&Utc);
            }
            LocalResult::None => continue,
        }
    }
    local.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChannelId;
    use crate::norms::stats::ChannelFigures;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_digest_is_due_at_nine_on_monday_in_each_zone_across_daylight_saving() {
        let cases = [
            // (now, zone, due?, due_at)
            (
                "2026-03-09T07:59:00Z",
                chrono_tz::Europe::Berlin,
                false,
                "2026-03-09T08:00:00Z",
            ),
            (
                "2026-03-09T08:00:00Z",
                chrono_tz::Europe::Berlin,
                true,
                "2026-03-09T08:00:00Z",
            ),
            // New York moved to daylight time on Sunday 8 March: 09:00 is 13:00 UTC.
            (
                "2026-03-09T12:59:00Z",
                chrono_tz::America::New_York,
                false,
                "2026-03-09T13:00:00Z",
            ),
            (
                "2026-03-09T13:00:00Z",
                chrono_tz::America::New_York,
                true,
                "2026-03-09T13:00:00Z",
            ),
            // London after the change on 29 March: 09:00 BST is 08:00 UTC.
            (
                "2026-03-30T08:30:00Z",
                chrono_tz::Europe::London,
                true,
                "2026-03-30T08:00:00Z",
            ),
            // Monday in Tokyo while it is still Sunday in UTC.
            (
                "2026-03-09T00:00:00Z",
                chrono_tz::Asia::Tokyo,
                true,
                "2026-03-09T00:00:00Z",
            ),
            // More than a day late: skipped.
            (
                "2026-03-10T08:00:00Z",
                chrono_tz::Europe::Berlin,
                false,
                "2026-03-09T08:00:00Z",
            ),
        ];
        for (now, tz, due, due_at) in cases {
            let now = at(now);
            assert_eq!(due_now(now, tz).is_some(), due, "{now} in {tz}");
            assert_eq!(
                DigestWeek::current(now, tz).due_at,
                at(due_at),
                "{now} in {tz}"
            );
        }
    }

    #[test]
    fn the_next_digest_is_this_mondays_until_it_is_due_then_next_weeks() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            next_due_after(at("2026-03-08T12:00:00Z"), berlin),
            at("2026-03-09T08:00:00Z")
        );
        assert_eq!(
            next_due_after(at("2026-03-09T08:00:00Z"), berlin),
            at("2026-03-16T08:00:00Z")
        );
        // Across the change to summer time on 29 March.
        assert_eq!(
            next_due_after(at("2026-03-23T09:00:00Z"), berlin),
            at("2026-03-30T07:00:00Z")
        );
    }

    #[test]
    fn the_week_key_is_the_iso_week_of_the_monday() {
        let week = DigestWeek::current(at("2026-03-09T08:00:00Z"), chrono_tz::Europe::Berlin);
        assert_eq!(week.iso_week(), "2026-W11");
        assert_eq!(week.covers_until, at("2026-03-08T23:00:00Z"));
        // The first Monday of 2027 is in week 1 of 2027; 28 Dec 2026 is in week 53 of 2026.
        let week = DigestWeek::current(at("2026-12-29T12:00:00Z"), chrono_tz::UTC);
        assert_eq!(week.iso_week(), "2026-W53");
    }

    #[test]
    fn outside_every_zones_monday_window_the_bot_stays_quiet_until_it_opens() {
        assert_eq!(
            quiet_until(at("2026-03-04T12:00:00Z")),
            Some(at("2026-03-08T19:00:00Z"))
        );
        assert_eq!(quiet_until(at("2026-03-08T19:00:00Z")), None);
        assert_eq!(quiet_until(at("2026-03-10T20:59:00Z")), None);
        assert_eq!(
            quiet_until(at("2026-03-10T21:00:00Z")),
            Some(at("2026-03-15T19:00:00Z"))
        );
        // Every zone's due time lies inside the window.
        for tz in [chrono_tz::Pacific::Kiritimati, chrono_tz::Etc::GMTPlus12] {
            let due = next_due_after(at("2026-03-05T00:00:00Z"), tz);
            assert_eq!(quiet_until(due), None, "{tz}");
            assert_eq!(quiet_until(due + LATE_LIMIT - TimeDelta::minutes(1)), None);
        }
    }

    #[test]
    fn a_quiet_fortnight_sends_nothing_and_a_digest_names_channels_only() {
        let mut report = StatsReport {
            days: 7,
            ..Default::default()
        };
        assert!(!worth_sending(&report));
        report.previous.insert(ChannelId::new("C1"), 2);
        assert!(worth_sending(&report));
        report.current.insert(
            ChannelId::new("C1"),
            ChannelFigures {
                messages: 1,
                ..Default::default()
            },
        );
        let week = DigestWeek::current(at("2026-03-09T08:00:00Z"), chrono_tz::Europe::Berlin);
        let text = digest_text(&report, &week);
        assert!(text.contains("the week to Sunday 8 March 2026"), "{text}");
        assert!(text.contains("<#C1>: 1 message"), "{text}");
        assert!(text.contains("/async norms digest off"), "{text}");
    }
}

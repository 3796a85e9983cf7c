//! When several members are all working: the shared window `/async overlap` shows for the
//! week. Time off counts against it; focus time does not, since it is short and movable.

use chrono::{DateTime, Utc};

use crate::hours::member::MemberHours;
use crate::hours::windows::{Window, free_windows};

/// The instants in `[from, to)` at which every member is in a working window and not away,
/// merged and in order. Empty when `members` is empty.
pub fn overlap(members: &[&MemberHours], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Window> {
    let Some((first, rest)) = members.split_first() else {
        return Vec::new();
    };
    let mut shared = free_windows(first, from, to, false);
    for member in rest {
        if shared.is_empty() {
            break;
        }
        shared = intersect(&shared, &free_windows(member, from, to, false));
    }
    shared
}

/// The intersection of two sorted lists of disjoint intervals.
fn intersect(a: &[Window], b: &[Window]) -> Vec<Window> {
    let mut both = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(&(a_start, a_end)), Some(&(b_start, b_end))) = (a.get(i), b.get(j)) {
        let (start, end) = (a_start.max(b_start), a_end.min(b_end));
        if start < end {
            both.push((start, end));
        }
        if a_end <= b_end {
            i += 1;
        } else {
            j += 1;
        }
    }
    both
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::member::AwayPeriod;
    use chrono_tz::{America, Asia, Europe};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn member(schedule: &str, tz: chrono_tz::Tz) -> MemberHours {
        MemberHours::new(schedule.parse().unwrap(), tz)
    }

    fn hours_each_day(days: &[&str], from: &str, to: &str) -> Vec<Window> {
        days.iter()
            .map(|day| {
                (
                    at(&format!("{day}T{from}:00Z")),
                    at(&format!("{day}T{to}:00Z")),
                )
            })
            .collect()
    }

    #[test]
    fn los_angeles_berlin_and_tokyo_share_no_nine_to_five() {
        let la = MemberHours::default_in(America::Los_Angeles);
        let berlin = MemberHours::default_in(Europe::Berlin);
        let tokyo = MemberHours::default_in(Asia::Tokyo);
        // Winter, and the weeks when only the US has changed its clocks.
        for (from, to) in [
            ("2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z"),
            ("2026-03-16T00:00:00Z", "2026-03-23T00:00:00Z"),
        ] {
            assert_eq!(overlap(&[&la, &berlin, &tokyo], at(from), at(to)), vec![]);
            assert_eq!(overlap(&[&berlin, &tokyo], at(from), at(to)), vec![]);
        }
    }

    #[test]
    fn los_angeles_afternoons_meet_tokyo_mornings_for_an_hour_in_winter() {
        let la = MemberHours::default_in(America::Los_Angeles);
        let tokyo = MemberHours::default_in(Asia::Tokyo);
        // 16:00-17:00 PST (Mon-Thu) is 09:00-10:00 JST (Tue-Fri).
        let expected = hours_each_day(
            &["2027-01-05", "2027-01-06", "2027-01-07", "2027-01-08"],
            "00:00",
            "01:00",
        );
        let from = at("2027-01-04T00:00:00Z");
        let to = at("2027-01-11T00:00:00Z");
        assert_eq!(overlap(&[&la, &tokyo], from, to), expected);
        assert_eq!(overlap(&[&tokyo, &la], from, to), expected);
    }

    #[test]
    fn a_longer_berlin_day_meets_los_angeles_while_only_the_us_is_on_summer_time() {
        let la = MemberHours::default_in(America::Los_Angeles);
        let berlin = member("mon-fri 09:00-18:00", Europe::Berlin);
        let tokyo = MemberHours::default_in(Asia::Tokyo);
        let from = at("2026-03-16T00:00:00Z");
        let to = at("2026-03-23T00:00:00Z");
        // 09:00-10:00 PDT is 17:00-18:00 CET.
        let days = [
            "2026-03-16",
            "2026-03-17",
            "2026-03-18",
            "2026-03-19",
            "2026-03-20",
        ];
        assert_eq!(
            overlap(&[&la, &berlin], from, to),
            hours_each_day(&days, "16:00", "17:00")
        );
        assert_eq!(overlap(&[&la, &berlin, &tokyo], from, to), vec![]);
    }

    #[test]
    fn time_off_removes_days_from_the_shared_window() {
        let la = MemberHours::default_in(America::Los_Angeles);
        let mut berlin = member("mon-fri 09:00-18:00", Europe::Berlin);
        let first = "2026-03-17".parse().unwrap();
        let last = "2026-03-18".parse().unwrap();
        berlin.away.push(AwayPeriod::new(first, last).unwrap());
        let days = ["2026-03-16", "2026-03-19", "2026-03-20"];
        assert_eq!(
            overlap(
                &[&la, &berlin],
                at("2026-03-16T00:00:00Z"),
                at("2026-03-23T00:00:00Z")
            ),
            hours_each_day(&days, "16:00", "17:00")
        );
    }

    #[test]
    fn one_member_overlaps_with_themselves_and_nobody_with_nothing() {
        let tokyo = MemberHours::default_in(Asia::Tokyo);
        let from = at("2027-01-04T00:00:00Z");
        let to = at("2027-01-05T00:00:00Z");
        assert_eq!(
            overlap(&[&tokyo], from, to),
            vec![(at("2027-01-04T00:00:00Z"), at("2027-01-04T08:00:00Z"))]
        );
        assert_eq!(overlap(&[], from, to), vec![]);
    }
}

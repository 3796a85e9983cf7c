//! One member's hours as stored: their weekly schedule, the IANA zone it is read in, their
//! time off and their focus time. The zone is kept by name so that every later computation
//! asks the zone's rules afresh and daylight-saving changes never freeze into an offset.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::hours::error::HoursError;
use crate::hours::schedule::WeeklySchedule;

/// Everything needed to tell whether a member is working at an instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberHours {
    pub(crate) schedule: WeeklySchedule,
    /// Stored as its IANA name (`Europe/Berlin`).
    #[serde(with = "zone_name")]
    pub(crate) tz: Tz,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub away: Vec<AwayPeriod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<FocusBlock>,
    /// What Slack says now (an away-like status, Do Not Disturb); read from the profile each
    /// time, never stored.
    #[serde(skip)]
    pub(crate) signal: Option<crate::hours::signals::SlackSignal>,
}

impl MemberHours {
    /// A member working `schedule` in `tz`, with no time off and no focus time.
    pub fn new(schedule: WeeklySchedule, tz: Tz) -> Self {
        MemberHours {
            schedule,
            tz,
            away: Vec::new(),
            focus: None,
            signal: None,
        }
    }

    /// The hours of a member who set none: Monday to Friday, 09:00 to 17:00, in `tz` (the zone
    /// of their Slack profile).
    pub fn default_in(tz: Tz) -> Self {
        MemberHours::new(WeeklySchedule::default_hours(), tz)
    }
}

/// Time off from the first date to the last, both included, as dates in the member's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AwayPeriod {
    pub(crate) from: NaiveDate,
    pub(crate) to: NaiveDate,
}

impl AwayPeriod {
    /// Time off from `from` to `to` inclusive; a single day when they are equal.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, HoursError> {
        if to < from {
            return Err(HoursError::AwayEndsBeforeStart { from, to });
        }
        Ok(AwayPeriod { from, to })
    }

    /// Whether `date` (in the member's zone) is one of the days off.
    pub(crate) fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// Focus time: the member does not want to be interrupted until `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FocusBlock {
    pub until: DateTime<Utc>,
}

impl FocusBlock {
    /// Whether the member is still focusing at `now`.
    pub(crate) fn is_active(&self, now: DateTime<Utc>) -> bool {
        now < self.until
    }
}

/// Serde for a zone as its IANA name.
mod zone_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub(crate) fn serialize<S: Serializer>(tz: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(tz.name())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(deserializer)?;
        // Stored names are the zone database's own, so any it knows is read back as it is.
        crate::hours::zone::zone_by_name(&name).ok_or_else(|| {
            de::Error::custom(format!(
                "`{name}` is not an IANA time zone this build knows"
            ))
        })
    }
}

/// Most periods of time off one member keeps.
pub(crate) const MAX_AWAY_PERIODS: usize = 20;

/// The member's date today, in their zone.
pub(crate) fn today(hours: &MemberHours, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&hours.tz).date_naive()
}

/// Checks an away period against today in the member's zone; the error is the sentence to
/// answer with.
pub(crate) fn check_away(
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<AwayPeriod, String> {
    if from < today {
        let to = to.max(today);
        return Err(format!(
            "{from} is in the past (today is {today} where you are); time off starts today or later, e.g. `/async away {today} {to}`."
        ));
    }
    AwayPeriod::new(from, to).map_err(|e| e.to_string())
}

/// Adds time off from `from` to `to` (dates in the member's zone, `today` theirs) to a
/// member's hours, forgetting time off that is over; the error is the sentence to answer
/// with. `/async away`, the Home tab's "Away today" and the hours form all add it here.
pub(crate) fn add_time_off(
    hours: &mut MemberHours,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<AwayPeriod, String> {
    let period = check_away(from, to, today)?;
    // Time off that is over is forgotten as new time off is added.
    hours.away.retain(|p| p.to >= today && *p != period);
    if hours.away.len() >= MAX_AWAY_PERIODS {
        return Err(format!(
            "You already have {MAX_AWAY_PERIODS} periods of time off planned; clear them with `/async away clear` and add what still holds."
        ));
    }
    hours.away.push(period);
    hours.away.sort_by_key(|p| (p.from, p.to));
    Ok(period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn member_hours_round_trip_through_json_with_the_zone_by_name() {
        let mut hours = MemberHours::new(
            "mon-fri 09:00-17:30".parse().unwrap(),
            chrono_tz::Europe::Berlin,
        );
        hours
            .away
            .push(AwayPeriod::new(date("2026-12-28"), date("2027-01-03")).unwrap());
        hours.focus = Some(FocusBlock {
            until: "2026-03-02T10:00:00Z".parse().unwrap(),
        });
        let json = serde_json::to_string(&hours).unwrap();
        assert_eq!(
            json,
            r#"{"schedule":"mon-fri 09:00-17:30","tz":"Europe/Berlin","away":[{"from":"2026-12-28","to":"2027-01-03"}],"focus":{"until":"2026-03-02T10:00:00Z"}}"#
        );
        assert_eq!(serde_json::from_str::<MemberHours>(&json).unwrap(), hours);
    }

    #[test]
    fn stored_hours_without_time_off_or_focus_are_read() {
        let json = r#"{"schedule":"mon-fri 09:00-17:00","tz":"Asia/Kolkata"}"#;
        let hours: MemberHours = serde_json::from_str(json).unwrap();
        assert_eq!(hours, MemberHours::default_in(chrono_tz::Asia::Kolkata));
    }

    #[test]
    fn an_unknown_stored_zone_is_rejected_with_the_fix() {
        let json = r#"{"schedule":"mon-fri 09:00-17:00","tz":"Mars/Olympus"}"#;
        let err = serde_json::from_str::<MemberHours>(json).unwrap_err();
        assert!(
            err.to_string()
                .contains("`Mars/Olympus` is not an IANA time zone"),
            "{err}"
        );
    }

    #[test]
    fn time_off_that_ends_before_it_starts_is_rejected() {
        let err = AwayPeriod::new(date("2027-01-03"), date("2026-12-28")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "time off cannot end on 2026-12-28 before it starts on 2027-01-03; give the first day first: 2026-12-28 2027-01-03"
        );
        let one_day = AwayPeriod::new(date("2026-12-28"), date("2026-12-28")).unwrap();
        assert!(one_day.contains(date("2026-12-28")));
        assert!(!one_day.contains(date("2026-12-29")));
    }

    #[test]
    fn time_off_in_the_past_is_refused_with_the_fix() {
        let today = date("2026-03-03");
        assert_eq!(
            check_away(date("2026-03-01"), date("2026-03-05"), today).unwrap_err(),
            "2026-03-01 is in the past (today is 2026-03-03 where you are); time off starts today or later, e.g. `/async away 2026-03-03 2026-03-05`."
        );
        assert!(check_away(date("2026-03-03"), date("2026-03-03"), today).is_ok());
        assert!(check_away(date("2026-12-28"), date("2027-01-03"), today).is_ok());
    }
}

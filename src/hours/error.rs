//! Why working hours, a time zone or time off could not be read. Every message tells a person
//! what to type instead, because these errors go straight back to whoever typed the command.

use chrono::NaiveDate;

use crate::hours::days::DaysError;
use crate::hours::zone::ZoneError;

/// What was wrong with hours, a zone or an away period; the message names the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("`{0}` is not a time range; try 09:00-17:00")]
    NotARange(String),
    #[error(
        "`{time}` in `{range}` is not a time of day; write HH:MM from 00:00 to 24:00, e.g. 09:00-17:00"
    )]
    NotATime { time: String, range: String },
    #[error(
        "`{0}` starts and ends at the same time; give a range such as 09:00-17:00 (or 22:00-06:00 overnight)"
    )]
    EmptyRange(String),
    #[error("`{0}` starts at 24:00; start the day at 00:00 instead, e.g. 00:00-08:00")]
    StartsAtMidnightEnd(String),
    #[error("`{0}` needs hours after it; try {0} 09:00-17:00")]
    NoRanges(String),
    #[error("no working hours given; try mon-fri 09:00-17:00")]
    NoHours,
    #[error(transparent)]
    Days(#[from] DaysError),
    #[error(transparent)]
    Zone(#[from] ZoneError),
    #[error("two time zones given (`{0}` and `{1}`); give one, at the end")]
    SeveralZones(String, String),
    #[error(
        "time off cannot end on {to} before it starts on {from}; give the first day first: {to} {from}"
    )]
    AwayEndsBeforeStart { from: NaiveDate, to: NaiveDate },
}

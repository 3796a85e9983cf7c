//! The working-hours model: when each member works, where, when they are away or in focus
//! time, and what that means at a given instant. Mention awareness, urgency rules, check-in
//! reminders, `/async hours` and `/async overlap` all ask these questions, so the answers live
//! here once, as pure functions of the hours and the instant (the clock is always passed in).
//!
//! Hours are wall-clock ranges in the member's IANA zone (`mon-fri 09:00-17:00` in
//! `Europe/Berlin`). They are resolved to instants date by date from the zone's name, never
//! from a stored offset, so daylight-saving changes move them as a person's clock moves. A
//! range whose end is at or before its start runs overnight into the next day (`22:00-06:00`);
//! equal start and end is a full 24 hours, and `00:00-24:00` is a whole day.
//!
//! Where a daylight-saving change makes a wall-clock boundary ambiguous or impossible:
//! - a boundary that falls in a spring-forward gap (a time the clock skips) maps to the first
//!   valid instant after the gap, for starts and ends alike;
//! - a boundary that falls in an autumn overlap (a time the clock shows twice) maps to the
//!   earlier instant when it starts a window and to the later instant when it ends one, so the
//!   window holds every instant at which the member's clock shows a time inside the range.
//!
//! Away periods are whole dates in the member's zone, from the first instant of the first date
//! to the first instant of the day after the last. Windows from adjacent days that touch or
//! overlap (an overnight range followed by an early start) are one window.

pub mod availability;
pub(crate) mod dates;
pub(crate) mod days;
pub(crate) mod error;
pub(crate) mod format;
pub(crate) mod member;
pub mod overlap;
pub(crate) mod schedule;
pub(crate) mod signals;
pub(crate) mod windows;
pub(crate) mod zone;

pub use availability::{Availability, availability, is_available};
pub(crate) use days::DaysError;
pub use days::Weekdays;
pub(crate) use error::HoursError;
pub(crate) use format::{format_back, format_relative};
pub use member::{AwayPeriod, FocusBlock, MemberHours};
pub(crate) use member::{add_time_off, today};
pub use overlap::overlap;
pub use schedule::WeeklySchedule;
pub(crate) use schedule::{TimeRange, parse_hours_setting, parse_time_of_day};
pub(crate) use signals::{DndStatus, SignalKind, SlackStatus};
pub(crate) use windows::{Window, local_time, windows_between};
pub use zone::ZoneError;
pub(crate) use zone::{parse_zone, zone_by_name, zone_suggestions};

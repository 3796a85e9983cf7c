//! Scheduled async check-ins, the pure part: the schedule model (when each occurrence is
//! due, in which zone, across daylight-saving changes), the state machine of one occurrence,
//! the plan of who is asked when, the words the bot uses, and what the store keeps of them.
//! The handlers that run them live in [`crate::bot::checkins`].
pub mod occurrence;
pub(crate) mod plan;
pub mod record;
pub mod schedule;
pub(crate) mod texts;

//! Scheduled async check-ins: the pure schedule model (when each occurrence is due, in
//! which zone, across daylight-saving changes) and the state machine of one occurrence.
pub mod occurrence;
pub mod schedule;

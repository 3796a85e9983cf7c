//! Scheduled async check-ins: the pure schedule model (when each occurrence is due, in
//! which zone, across daylight-saving changes) and the state machine of one occurrence; what
//! the store keeps of them; the runner that prompts, reminds and reports; and the answers.
pub(crate) mod answers;
pub mod occurrence;
pub(crate) mod plan;
pub(crate) mod post;
pub mod record;
pub mod runner;
pub mod schedule;
pub(crate) mod texts;

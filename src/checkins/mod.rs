//! Scheduled async check-ins: the pure schedule model (when each occurrence is due, in
//! which zone, across daylight-saving changes) and the state machine of one occurrence; what
//! the store keeps of them; the runner that prompts, reminds and reports; and the answers.
pub mod answers;
pub mod occurrence;
pub mod plan;
pub mod post;
pub mod record;
pub mod runner;
pub mod schedule;
pub mod texts;

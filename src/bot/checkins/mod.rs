//! The check-in handlers: the runner that prompts, reminds and reports on schedule, the
//! answers members give (in a modal, a thread or a DM), and the one post per occurrence and
//! step. What is due when and what each occurrence owes is decided in [`crate::checkins`].
pub(crate) mod answers;
pub(crate) mod post;
pub mod runner;

//! Urgency norms: the rules that notice when a message asks for urgency in a place or at a
//! time that does not call for it, and the private nudge that says so. Everything here is a
//! pure function of the message text, the channel's norms and facts the caller supplies
//! (who is outside their hours now), so the same code serves live events and the audit of a
//! Slack export.
//!
//! The flow for one message: [`UrgencyLexicon::scan`] reads it once ([`markup`] separates the
//! sender's prose from code, quotes, URLs and mentions), the caller looks up the mentioned
//! users' hours, [`classify`] runs the rules (urgency words and `!!!` count only where
//! [`judge`] reads them as a demand on others), and [`nudge_text`] words the note.

pub(crate) mod digest;
pub mod eval;
pub(crate) mod feedback;
pub(crate) mod judge;
pub(crate) mod markup;
pub(crate) mod rules;
pub(crate) mod settings;
pub(crate) mod stats;
pub mod words;

pub use markup::{Broadcast, Span};
pub use rules::{ChannelContext, classify};
pub(crate) use rules::{Finding, NudgeContext, RuleId, nudge_text};
pub use settings::NudgeAction;
pub(crate) use settings::{ChannelNorms, WorkspaceNorms};
pub(crate) use stats::{BroadcastReach, FindingRecord};
pub use words::UrgencyLexicon;
pub(crate) use words::{LexiconError, ScanFacts, Scanned};

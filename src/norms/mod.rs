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

pub mod digest;
pub mod eval;
pub mod feedback;
pub mod judge;
pub mod markup;
pub mod rules;
pub mod settings;
pub mod stats;
pub mod words;

pub use judge::{Demand, Judgment, Pressure, judge};
pub use markup::{Broadcast, Span};
pub use rules::{ChannelContext, Finding, NudgeContext, RuleId, classify, nudge_text};
pub use settings::{ChannelNorms, NudgeAction, WorkspaceNorms};
pub use stats::{BroadcastReach, FindingRecord};
pub use words::{BroadcastSet, LexiconError, Scan, ScanFacts, Scanned, UrgencyLexicon};

//! The edge towards Slack's wire: request signatures, the payloads and message shapes Slack
//! sends, the installations and OAuth, and the one door for outgoing Web API calls. The
//! listener that receives from Slack and hands over to the handlers is `server`.

pub(crate) mod api;
pub mod blocks;
pub(crate) mod installation;
pub mod messages;
pub(crate) mod oauth;
pub mod payloads;
pub mod signature;

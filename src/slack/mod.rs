//! The edge towards Slack: the HTTP listener and Socket Mode, request signatures, event
//! intake, and the one door for outgoing Web API calls.

pub(crate) mod api;
pub(crate) mod installation;
pub(crate) mod intake;
pub(crate) mod oauth;
pub mod payloads;
pub(crate) mod server;
pub mod signature;
pub(crate) mod socket;

//! The edge towards Slack: the HTTP listener and Socket Mode, request signatures, event
//! intake, and the one door for outgoing Web API calls.

pub mod api;
pub mod installation;
pub mod intake;
pub mod payloads;
pub mod server;
pub mod signature;
pub mod socket;

//! async-norms: a self-hosted Slack bot that keeps the norms of asynchronous work.
//! `main.rs` only parses the command line; everything it runs lives here, so the tests
//! drive the same code.
#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod bot;
pub mod checkins;
pub mod clock;
pub mod commands;
pub mod config;
pub mod hours;
pub mod ids;
pub mod manifest;
pub mod metrics;
pub mod norms;
pub mod slack;
pub mod store;
pub mod views;

//! The test suite's Slack Web API emulator as a stand-alone server, for load runs and for
//! trying the bot by hand without Slack:
//!
//! ```sh
//! cargo run --release --example slack_emulator -- --port 4000
//! SLACK_API_URL=http://127.0.0.1:4000/api SLACK_BOT_TOKEN=xoxb-local SLACK_SIGNING_SECRET=local \
//!   cargo run --release -- serve
//! ```
//!
//! It knows 200 members (`U0000`–`U0199`, spread over eight time zones) and the 50 channels
//! the load tool writes to (`C0000`–`C0049`), each holding all of them. It records every
//! call in memory (for runs of minutes, not days) and, stopped with Ctrl-C (SIGINT), prints
//! how many calls each method received.

#[path = "../tests/common/emulator.rs"]
#[allow(dead_code)]
mod emulator;

const ZONES: [&str; 8] = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Europe/London",
    "Australia/Sydney",
    "America/Los_Angeles",
];

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut port: u16 = 4000;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(value)) => port = value.parse().expect("--port takes a number"),
            _ => {
                eprintln!("usage: slack_emulator [--port N]");
                std::process::exit(2);
            }
        }
    }
    let emulator = emulator::SlackEmulator::start_on(port).await;
    let members: Vec<String> = (0..200).map(|i| format!("U{i:04}")).collect();
    for (index, member) in members.iter().enumerate() {
        emulator.add_user(member, Some(ZONES[index % ZONES.len()]));
    }
    let member_refs: Vec<&str> = members.iter().map(String::as_str).collect();
    for channel in 0..50 {
        emulator.add_channel(&format!("C{channel:04}"), &member_refs);
    }
    println!("slack emulator on {}", emulator.api_url());
    let _ = tokio::signal::ctrl_c().await;
    // One line per method, `calls <method> <count>`, for scripts that compare runs.
    let mut counts = std::collections::BTreeMap::new();
    for call in emulator.calls() {
        *counts.entry(call.method).or_insert(0usize) += 1;
    }
    for (method, count) in counts {
        eprintln!("calls {method} {count}");
    }
}

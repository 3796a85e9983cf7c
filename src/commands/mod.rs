//! The `/async` slash command: text in, one ephemeral answer out, always within Slack's
//! three seconds. Parsing is a pure function; handlers run against the bot's store and
//! the Web API door.

pub mod parse;

use std::sync::Arc;
use std::time::Duration;

use slack_morphism::prelude::*;
use tracing::warn;

use crate::bot::Bot;
use crate::metrics::Counter;

/// Slack waits three seconds for the answer; leave room for the network.
const ANSWER_DEADLINE: Duration = Duration::from_millis(2500);

/// The help text: every form `/async` understands.
pub fn help_text() -> String {
    "*async-norms* keeps the norms of asynchronous work.\n\
     • `/async help` — this help\n\
     More commands (hours, away, focus, norms, check-ins, stats) are listed here as they \
     are enabled in this workspace."
        .to_string()
}

/// An ephemeral answer: only the person who typed the command sees it.
pub fn ephemeral(text: impl Into<String>) -> SlackCommandEventResponse {
    SlackCommandEventResponse::new(SlackMessageContent::new().with_text(text.into()))
        .with_response_type(SlackMessageResponseType::Ephemeral)
}

/// Answers one command (pure dispatch on the text; handlers may use the store and Slack).
pub async fn respond(bot: &Bot, event: &SlackCommandEvent) -> SlackCommandEventResponse {
    let text = event.text.as_deref().unwrap_or("").trim();
    let word = text
        .split_whitespace()
        .next()
        .unwrap_or("help")
        .to_ascii_lowercase();
    bot.metrics.inc(
        Counter::Commands,
        &[(
            "subcommand",
            if word == "help" { "help" } else { "unknown" },
        )],
    );
    match word.as_str() {
        "help" => ephemeral(help_text()),
        _ => ephemeral(format!(
            "`/async {}` is not a command I know.\n\n{}",
            text.chars().take(60).collect::<String>(),
            help_text()
        )),
    }
}

/// Answers within the deadline; if the work takes longer, says so at once and posts the
/// real answer through the command's `response_url` when it is ready.
pub async fn answer_within_deadline(
    bot: Arc<Bot>,
    event: SlackCommandEvent,
) -> SlackCommandEventResponse {
    let worker_bot = bot.clone();
    let worker_event = event.clone();
    let mut work = tokio::spawn(async move { respond(&worker_bot, &worker_event).await });
    match tokio::time::timeout(ANSWER_DEADLINE, &mut work).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(panic)) => {
            warn!(error = %panic, "a command handler failed");
            ephemeral("Sorry, that went wrong on my side. Please try again.")
        }
        Err(_) => {
            tokio::spawn(async move {
                let answer = match work.await {
                    Ok(answer) => answer,
                    Err(_) => ephemeral("Sorry, that went wrong on my side. Please try again."),
                };
                let late = SlackApiPostWebhookMessageRequest::new(answer.content);
                if let Err(e) = bot.slack.respond(&event.response_url, late).await {
                    warn!(error = %e, "could not deliver a late command answer");
                }
            });
            ephemeral("Working on it…")
        }
    }
}

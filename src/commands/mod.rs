//! The `/async` slash command: text in, one ephemeral answer out, always within Slack's
//! three seconds. Parsing is a pure function; handlers run against the bot's store and
//! the Web API door.

pub(crate) mod checkin;
pub(crate) mod hours;
pub(crate) mod norms;
pub mod parse;
pub(crate) mod privacy;
pub(crate) mod role;

use std::sync::Arc;
use std::time::Duration;

use slack_morphism::prelude::*;
use tracing::warn;

use crate::bot::Bot;
use crate::bot::directory::for_someone_who_asked;
use crate::decision::card::escape;
use crate::ids::{TeamId, UserId};
use crate::metrics::Counter;
use crate::slack::installation::PayloadScope;
use hours::Asker;
use parse::{Command, ParseError, usage};

/// Slack waits three seconds for the answer; leave room for the network.
pub(crate) const ANSWER_DEADLINE: Duration = Duration::from_millis(2500);

/// The help text: every form `/async` understands.
pub(crate) fn help_text() -> String {
    parse::help_text()
}

/// An ephemeral answer: only the person who typed the command sees it.
pub(crate) fn ephemeral(text: impl Into<String>) -> SlackCommandEventResponse {
    SlackCommandEventResponse::new(SlackMessageContent::new().with_text(text.into()))
        .with_response_type(SlackMessageResponseType::Ephemeral)
}

/// The answer to text that does not parse: the error (which names the fix) and the usage of
/// the subcommand it belongs to, or the whole help for an unknown command.
pub(crate) fn error_answer(error: &ParseError) -> String {
    let message = escape(&error.to_string()).into_owned();
    match (error, error.topic()) {
        (ParseError::UnknownCommand { .. }, _) => format!("{message}\n\n{}", help_text()),
        (_, Some(topic)) => format!("{message}\nUsage: `{}`", escape(&usage(topic))),
        (_, None) => message,
    }
}

/// Answers one command: parse (pure), then run the handler against the store and Slack.
pub(crate) async fn respond(bot: &Bot, event: &SlackCommandEvent) -> SlackCommandEventResponse {
    let text = event.text.as_deref().unwrap_or("");
    let command = match parse::parse(text) {
        Ok(command) => command,
        Err(error) => {
            bot.metrics
                .inc(Counter::Commands, &[("subcommand", "invalid")]);
            return ephemeral(error_answer(&error));
        }
    };
    let topic = command.form().row().topic;
    bot.metrics
        .inc(Counter::Commands, &[("subcommand", topic.word())]);
    let team = TeamId::new(event.team_id.0.clone());
    let user = UserId::new(event.user_id.0.clone());
    let asker = Asker {
        team: &team,
        user: &user,
    };
    let answer: Result<String, crate::bot::HandleError> = match command {
        Command::Help(None) => Ok(help_text()),
        Command::Help(Some(topic)) => Ok(format!("Usage: `{}`", escape(&usage(topic)))),
        Command::Hours => hours::mine(bot, &asker).await.map_err(Into::into),
        Command::HoursOf(users) => hours::theirs(bot, &asker, &users).await,
        Command::HoursSet(spec) => hours::set(bot, &asker, &spec).await.map_err(Into::into),
        Command::HoursClear => hours::clear(bot, &asker).await.map_err(Into::into),
        Command::Away { from, to } => hours::away(bot, &asker, from, to).await.map_err(Into::into),
        Command::AwayClear => hours::away_clear(bot, &asker).await.map_err(Into::into),
        Command::HoursSignals(on) => norms::signals(bot, &asker, on).await,
        Command::Focus(duration) => hours::focus(bot, &asker, duration)
            .await
            .map_err(Into::into),
        Command::FocusOff => hours::focus_off(bot, &asker).await.map_err(Into::into),
        Command::Overlap { users, channels } => {
            hours::overlap_of(bot, &asker, &users, &channels).await
        }
        Command::RoleManager { grant, user } => role::manager(bot, &asker, grant, &user).await,
        command @ (Command::CheckinCreate { .. }
        | Command::CheckinNew
        | Command::CheckinList
        | Command::CheckinPause(_)
        | Command::CheckinResume(_)
        | Command::CheckinDelete(_)
        | Command::CheckinRun(_)) => {
            checkin::respond(bot, &asker, command, &event.trigger_id).await
        }
        command @ (Command::Norms
        | Command::NormsUrgentChannel(_)
        | Command::NormsUrgentChannelRemove(_)
        | Command::NormsResponseTime(_)
        | Command::NormsKeywords { .. }
        | Command::NormsAwayWords { .. }
        | Command::NormsNudges(_)
        | Command::NormsAction(_)
        | Command::NormsDigest(_)
        | Command::NormsRetention(_)) => {
            let channel = crate::ids::ChannelId::new(event.channel_id.0.clone());
            norms::respond(bot, &asker, &channel, command).await
        }
        Command::Stats { channel, period } => norms::stats(bot, &asker, channel.as_ref(), period),
        Command::MyData => privacy::my_data(bot, &asker),
        Command::ForgetMe { confirmed } => privacy::forget_me(bot, &asker, confirmed).await,
    };
    match answer {
        Ok(text) => ephemeral(text),
        Err(e) => {
            warn!(team = %team, user = %user, subcommand = topic.word(), error = %e, "a command failed");
            ephemeral("Sorry, that did not work just now; please try again.")
        }
    }
}

/// Answers within the deadline; if the work takes longer, says so at once and posts the
/// real answer through the command's `response_url` when it is ready.
pub(crate) async fn answer_within_deadline(
    bot: Arc<Bot>,
    event: SlackCommandEvent,
    scope: &PayloadScope,
) -> SlackCommandEventResponse {
    if !bot.admit("commands", scope) {
        return ephemeral("This app is not installed in this workspace.");
    }
    let worker_bot = bot.clone();
    let worker_event = event.clone();
    let mut work = tokio::spawn(for_someone_who_asked(async move {
        respond(&worker_bot, &worker_event).await
    }));
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
                let team = crate::ids::TeamId::new(event.team_id.0.clone());
                if let Err(e) = bot
                    .slack
                    .team(&team)
                    .respond(&event.response_url, late)
                    .await
                {
                    warn!(error = %e, "could not deliver a late command answer");
                }
            });
            ephemeral("Working on it…")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_the_fix_and_shows_the_usage_once() {
        for text in [
            "hours fly",
            "hours set mon-fri 09:00-17:00 Europe/Berlin extra",
            "overlap",
            "overlap bob",
            "norms urgent-channel general",
        ] {
            let error = parse::parse(text).expect_err(text);
            let answer = error_answer(&error);
            assert_eq!(answer.matches("Usage:").count(), 1, "{text}: {answer}");
            assert!(answer.contains("\nUsage: `/async "), "{text}: {answer}");
        }
    }
}

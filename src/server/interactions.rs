//! Which handler takes an interaction (a button, a modal), on either transport, answered
//! within Slack's 3 seconds: check-in answers and the new check-in modal go to the check-in
//! handlers, the note's and the Home tab's buttons and the hours modal to the bot's.

use std::sync::Arc;

use slack_morphism::prelude::*;
use tracing::{debug, warn};

use crate::bot::Bot;
use crate::ids::{TeamId, UserId};
use crate::metrics::Counter;
use crate::norms::feedback;

/// Answers an interaction (button, modal) on either transport within Slack's 3 seconds:
/// the handler runs in a task of its own; what it answers in time (a modal's validation
/// errors, which are checked before any call to Slack) is the answer, and a handler still
/// waiting for Slack then is acknowledged with nothing and carries on after the
/// acknowledgement. Interactions for a team or app not installed here are answered and
/// ignored.
pub(crate) async fn answer_interaction(
    bot: Arc<Bot>,
    event: SlackInteractionEvent,
    scope: &crate::slack::installation::PayloadScope,
) -> Option<serde_json::Value> {
    if !bot.admit("interactivity", scope) {
        return None;
    }
    bot.metrics
        .inc(Counter::Interactions, &[("type", interaction_kind(&event))]);
    let worker = bot.clone();
    let mut work = tokio::spawn(crate::bot::directory::for_someone_who_asked(async move {
        handle_interaction(&worker, &event).await
    }));
    match tokio::time::timeout(crate::commands::ANSWER_DEADLINE, &mut work).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(panic)) => {
            warn!(error = %panic, "an interaction handler failed");
            None
        }
        // Not awaited any longer; the task carries on by itself.
        Err(_) => None,
    }
}

/// Answers an interaction (button, modal). The returned JSON, if any, is the HTTP body.
async fn handle_interaction(bot: &Bot, event: &SlackInteractionEvent) -> Option<serde_json::Value> {
    match event {
        SlackInteractionEvent::BlockActions(actions)
            if crate::bot::checkins::answers::is_answer_action(actions) =>
        {
            bot.on_answer_action(actions).await;
            None
        }
        SlackInteractionEvent::BlockActions(actions) if is_not_a_demand(actions) => {
            bot.on_not_a_demand(actions).await;
            None
        }
        SlackInteractionEvent::BlockActions(actions)
            if actions
                .actions
                .iter()
                .flatten()
                .any(|action| action.action_id.0 == crate::decision::note::REMIND_ACTION) =>
        {
            if let Err(e) = bot.on_remind_me(actions).await {
                warn!(error = %e, "could not set a reminder");
            }
            None
        }
        SlackInteractionEvent::ViewSubmission(submission)
            if crate::bot::checkins::answers::is_answer_submission(submission) =>
        {
            bot.on_answer_submission(submission).await
        }
        SlackInteractionEvent::ViewSubmission(submission)
            if crate::commands::checkin::is_new_checkin_submission(submission) =>
        {
            crate::commands::checkin::submit_new_checkin(bot, submission).await
        }
        SlackInteractionEvent::BlockActions(actions) => {
            let home_button = actions.actions.iter().flatten().find_map(|action| {
                [
                    crate::views::HOME_AWAY_ACTION,
                    crate::views::HOME_FOCUS_ACTION,
                ]
                .into_iter()
                .find(|id| action.action_id.0 == *id)
            });
            if let (Some(button), Some(user)) = (home_button, actions.user.as_ref()) {
                let team = TeamId::new(actions.team.id.0.clone());
                let user = UserId::new(user.id.0.clone());
                if let Err(e) = crate::commands::hours::home_button(bot, &team, &user, button).await
                {
                    warn!(team = %team, user = %user, error = %e, "could not take a Home tab button");
                }
                return None;
            }
            let pressed = actions
                .actions
                .iter()
                .flatten()
                .any(|action| action.action_id.0 == crate::views::EDIT_HOURS_ACTION);
            let Some(user) = actions.user.as_ref().filter(|_| pressed) else {
                debug!(
                    actions = actions.actions.as_ref().map(|a| a.len()).unwrap_or(0),
                    "block actions"
                );
                return None;
            };
            let team = TeamId::new(actions.team.id.0.clone());
            let user = UserId::new(user.id.0.clone());
            if let Err(e) = bot
                .open_hours_modal(&team, &user, &actions.trigger_id)
                .await
            {
                warn!(team = %team, user = %user, error = %e, "could not open the hours modal");
            }
            None
        }
        SlackInteractionEvent::ViewSubmission(submission) => {
            let is_hours = match &submission.view.view {
                SlackView::Modal(modal) => modal
                    .callback_id
                    .as_ref()
                    .is_some_and(|id| id.0 == crate::views::HOURS_MODAL),
                SlackView::Home(_) => false,
            };
            if !is_hours {
                return None;
            }
            let team = TeamId::new(submission.team.id.0.clone());
            let user = UserId::new(submission.user.id.0.clone());
            bot.submit_hours_modal(&team, &user, submission.view.state_params.state.as_ref())
                .await
        }
        SlackInteractionEvent::BlockSuggestion(suggestion) => {
            Some(bot.suggest_options(suggestion).await)
        }
        other => {
            warn!(kind = interaction_kind(other), "interaction not handled");
            None
        }
    }
}

/// Whether a block action is a nudge's "Not a demand" button.
fn is_not_a_demand(actions: &SlackInteractionBlockActionsEvent) -> bool {
    actions
        .actions
        .iter()
        .flatten()
        .any(|action| action.action_id.0 == feedback::NOT_A_DEMAND_ACTION)
}

/// The `type` of an interaction, for logs and metrics.
pub(crate) fn interaction_kind(event: &SlackInteractionEvent) -> &'static str {
    match event {
        SlackInteractionEvent::BlockActions(_) => "block_actions",
        SlackInteractionEvent::BlockSuggestion(_) => "block_suggestion",
        SlackInteractionEvent::DialogSubmission(_) => "dialog_submission",
        SlackInteractionEvent::MessageAction(_) => "message_action",
        SlackInteractionEvent::Shortcut(_) => "shortcut",
        SlackInteractionEvent::ViewSubmission(_) => "view_submission",
        SlackInteractionEvent::ViewClosed(_) => "view_closed",
    }
}

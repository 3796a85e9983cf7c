//! The App Home and its working-hours form: publishing the member's page, opening the
//! form from its "Edit hours" button, saving what the form submits, and the options of
//! the forms' zone pickers.

use std::collections::HashMap;

use slack_morphism::prelude::*;
use tracing::warn;

use crate::bot::{Bot, HandleError};
use crate::hours::{MemberHours, availability};
use crate::ids::{TeamId, UserId};
use crate::views::{self, HomeFacts};

impl Bot {
    /// Publishes the Home tab of `user`.
    pub(crate) async fn publish_home(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<(), HandleError> {
        let now = self.clock.now();
        let me = self.me(team, user, now).await?;
        let mut view = views::home(&HomeFacts {
            hours: &me.hours,
            set_by_member: me.stored.is_some(),
            state: availability(&me.hours, now),
            now,
        });
        if let Some(text) = self.checkins_home_text(team, user)? {
            fill_checkins_section(&mut view, text);
        }
        self.slack
            .team(team)
            .views_publish(SlackApiViewsPublishRequest::new(
                SlackUserId::new(user.as_str().into()),
                view,
            ))
            .await?;
        Ok(())
    }

    /// "Edit hours" on the Home tab: opens the modal filled with the member's hours.
    pub(crate) async fn open_hours_modal(
        &self,
        team: &TeamId,
        user: &UserId,
        trigger: &SlackTriggerId,
    ) -> Result<(), HandleError> {
        let me = self.me(team, user, self.clock.now()).await?;
        self.slack
            .team(team)
            .views_open(SlackApiViewsOpenRequest::new(
                trigger.clone(),
                views::hours_modal(&me.hours),
            ))
            .await?;
        Ok(())
    }

    /// A zone picker asks for options (`block_suggestion`): the zones matching what was
    /// typed, the member's own first. A picker the bot does not serve gets no options.
    pub(crate) async fn suggest_options(
        &self,
        suggestion: &SlackInteractionBlockSuggestionEvent,
    ) -> serde_json::Value {
        let team = TeamId::new(suggestion.team.id.0.clone());
        let user = UserId::new(suggestion.user.id.0.clone());
        let own = match self.me(&team, &user, self.clock.now()).await {
            Ok(me) => me.hours.tz,
            Err(e) => {
                warn!(team = %team, error = %e, "could not read a member's zone for the picker");
                self.default_tz
            }
        };
        views::zone_suggestions(&suggestion.action_id.0, &suggestion.value, own).unwrap_or_else(
            || {
                warn!(action = %suggestion.action_id, "options asked for a picker the bot does not serve");
                serde_json::json!({ "options": [] })
            },
        )
    }

    /// The hours form was submitted: saves the week, the zone and any time off picked, and
    /// republishes the Home tab; or returns the errors Slack shows beside the pickers.
    pub(crate) async fn submit_hours_modal(
        &self,
        team: &TeamId,
        user: &UserId,
        state: Option<&SlackViewState>,
    ) -> Option<serde_json::Value> {
        let form = match views::read_hours_modal(state) {
            Ok(form) => form,
            Err(errors) => return Some(errors_answer(errors)),
        };
        let now = self.clock.now();
        let me = match self.me(team, user, now).await {
            Ok(me) => me,
            Err(e) => return Some(not_saved(team, user, &e)),
        };
        let mut hours = MemberHours::new(form.schedule, form.zone);
        if let Some(stored) = me.stored {
            hours.away = stored.away;
            hours.focus = stored.focus;
        }
        if let Some((from, to)) = form.time_off {
            // Today in the zone just picked, as `/async away` would read it after saving.
            let today = crate::hours::today(&hours, now);
            if let Err(sentence) = crate::hours::add_time_off(&mut hours, from, to, today) {
                return Some(errors_answer(HashMap::from([(
                    views::AWAY_FROM_BLOCK.to_string(),
                    sentence,
                )])));
            }
        }
        let saved = async {
            self.save_hours(team, user, Some(&hours)).await?;
            self.publish_home(team, user).await
        };
        match saved.await {
            Ok(()) => None,
            Err(e) => Some(not_saved(team, user, &e)),
        }
    }
}

/// Slack's answer to a form with mistakes: the form stays open with each error beside its
/// block.
pub(crate) fn errors_answer(errors: HashMap<String, String>) -> serde_json::Value {
    serde_json::json!({ "response_action": "errors", "errors": errors })
}

fn not_saved(team: &TeamId, user: &UserId, error: &dyn std::fmt::Display) -> serde_json::Value {
    warn!(team = %team, user = %user, error = %error, "could not save hours from the form");
    errors_answer(HashMap::from([(
        views::ZONE_BLOCK.to_string(),
        "Sorry, I could not save that just now; please try again.".to_string(),
    )]))
}

/// Puts the check-ins a member manages or takes part in into the Home tab's check-in
/// section (the block `views::CHECKINS_BLOCK`).
fn fill_checkins_section(view: &mut SlackView, text: String) {
    let SlackView::Home(home) = view else {
        return;
    };
    for block in home.blocks.iter_mut() {
        if let SlackBlock::Section(section) = block
            && section
                .block_id
                .as_ref()
                .is_some_and(|id| id.0 == views::CHECKINS_BLOCK)
        {
            section.text = Some(SlackBlockText::MarkDown(SlackBlockMarkDownText::new(
                text.clone(),
            )));
        }
    }
}

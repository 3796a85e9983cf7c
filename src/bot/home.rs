//! The App Home and its working-hours modal: publishing the member's page, opening the
//! modal from its "Edit hours" button, and saving what the modal submits.

use slack_morphism::prelude::*;
use tracing::warn;

use crate::bot::{Bot, HandleError};
use crate::hours::{MemberHours, availability};
use crate::ids::{TeamId, UserId};
use crate::views::{self, HomeFacts};

impl Bot {
    /// Publishes the Home tab of `user`.
    pub async fn publish_home(&self, team: &TeamId, user: &UserId) -> Result<(), HandleError> {
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

    /// "Away today" or "Focus 1 h" on the Home tab: the same as `/async away <today>` or
    /// `/async focus 1h`, then the tab shows the new state.
    pub(crate) async fn on_home_button(
        &self,
        team: &TeamId,
        user: &UserId,
        button: &str,
    ) -> Result<(), HandleError> {
        let asker = crate::commands::hours::Asker { team, user };
        if button == views::HOME_AWAY_ACTION {
            let now = self.clock.now();
            let hours = self.me(team, user, now).await?.hours;
            let today = crate::hours::local_time(&hours, now).date_naive();
            crate::commands::hours::away(self, &asker, today, today).await?;
        } else {
            crate::commands::hours::focus(self, &asker, chrono::TimeDelta::hours(1)).await?;
        }
        self.publish_home(team, user).await
    }

    /// "Edit hours" on the Home tab: opens the modal filled with the member's hours.
    pub async fn open_hours_modal(
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

    /// The hours modal was submitted: saves and republishes the Home tab, or returns the
    /// errors Slack shows beside the fields.
    pub async fn submit_hours_modal(
        &self,
        team: &TeamId,
        user: &UserId,
        state: Option<&SlackViewState>,
    ) -> Option<serde_json::Value> {
        let empty = SlackViewState::new(Default::default());
        let (schedule, tz) = match views::read_hours_modal(state.unwrap_or(&empty)) {
            Ok(read) => read,
            Err(errors) => {
                return Some(serde_json::json!({ "response_action": "errors", "errors": errors }));
            }
        };
        let saved = async {
            let me = self.me(team, user, self.clock.now()).await?;
            let mut hours = MemberHours::new(schedule, tz);
            if let Some(stored) = me.stored {
                hours.away = stored.away;
                hours.focus = stored.focus;
            }
            self.save_hours(team, user, Some(&hours)).await?;
            self.publish_home(team, user).await
        };
        match saved.await {
            Ok(()) => None,
            Err(e) => {
                warn!(team = %team, user = %user, error = %e, "could not save hours from the modal");
                Some(serde_json::json!({
                    "response_action": "errors",
                    "errors": { "zone": "Sorry, I could not save that just now; please try again." }
                }))
            }
        }
    }
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

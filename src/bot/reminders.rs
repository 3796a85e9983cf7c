//! "Remind me when they are back": a sender who pinged someone outside their hours can ask,
//! from the note, to be told when that person's working hours start. The reminder is written
//! and flushed before the press is answered, so it survives a restart; one task sleeps on the
//! clock until the earliest is due and sends it by DM, once the member's hours as they are
//! then say they are back (hours changed meanwhile move it to the new start). Deleting the
//! message the note was about cancels its reminders: there is nothing left to follow up;
//! `/async forget me` deletes those the member set and those about them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use slack_morphism::prelude::*;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::bot::{Bot, HandleError};
use crate::decision::card::slack_date;
use crate::decision::note::{REMIND_ACTION, parse_remind_button_value};
use crate::hours::availability;
use crate::ids::{ChannelId, TeamId, UserId};
use crate::store::reminders::{Reminder, Reminders};

/// The DM the sender gets.
fn reminder_text(reminder: &Reminder) -> String {
    format!(
        ":wave: <@{}> is back at work now. You asked to be reminded about your message in <#{}> from {}.",
        reminder.member,
        reminder.channel,
        slack_date(
            DateTime::from_timestamp(
                reminder
                    .message_ts
                    .split('.')
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_default(),
                0
            )
            .unwrap_or_default(),
            "{date_short_pretty} {time}",
            "earlier"
        )
    )
}

/// Wakes the reminder task when a reminder is added.
#[derive(Default)]
pub(crate) struct ReminderSignal(Notify);

impl Bot {
    /// The note's button was pressed: a reminder for each member still not working, due
    /// when they are back; written to disk before the answer says so.
    pub(crate) async fn on_remind_me(
        &self,
        actions: &SlackInteractionBlockActionsEvent,
    ) -> Result<(), HandleError> {
        let team = TeamId::new(actions.team.id.0.clone());
        let Some(sender) = actions.user.as_ref().map(|u| UserId::new(u.id.0.clone())) else {
            return Ok(());
        };
        let pressed = actions
            .actions
            .iter()
            .flatten()
            .find(|action| action.action_id.0 == REMIND_ACTION)
            .and_then(|action| action.value.as_deref())
            .and_then(parse_remind_button_value);
        let Some((channel, message_ts, members)) = pressed else {
            warn!(team = %team, "a reminder button without a value the bot wrote");
            return Ok(());
        };
        let now = self.clock.now();
        let reader_tz = self.me(&team, &sender, now).await?.hours.tz;
        let table = Reminders::open(&self.store)?;
        let mut lines = Vec::new();
        for member in members {
            let Some(reached) = self.reach(&team, &member, now).await? else {
                continue;
            };
            let Some(due) = availability(&reached.hours, now).back_at() else {
                continue;
            };
            let reminder = Reminder {
                sender: sender.clone(),
                member: member.clone(),
                channel: channel.clone(),
                message_ts: message_ts.clone(),
                due,
            };
            table.put(&team, &reminder)?;
            lines.push(format!(
                "<@{member}> at {}",
                due.with_timezone(&reader_tz).format("%a %H:%M")
            ));
        }
        self.store.flush().await?;
        self.reminder_signal.0.notify_one();
        let text = if lines.is_empty() {
            "Everyone you mentioned is working now, or has no working hours ahead: no reminder set."
                .to_string()
        } else {
            format!(
                ":alarm_clock: I will send you a message when they are back: {} (your time). Deleting your message cancels it.",
                lines.join(", ")
            )
        };
        if let Some(response_url) = &actions.response_url {
            let reply =
                SlackApiPostWebhookMessageRequest::new(SlackMessageContent::new().with_text(text))
                    .with_replace_original(false);
            self.slack.team(&team).respond(response_url, reply).await?;
        }
        Ok(())
    }

    /// A message was deleted: its reminders go with it.
    pub(crate) async fn cancel_reminders(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        message_ts: &str,
    ) -> Result<(), HandleError> {
        let removed =
            Reminders::open(&self.store)?.remove_about_message(team, channel, message_ts)?;
        if removed > 0 {
            info!(team = %team, removed, "reminders cancelled with their message");
            self.store.flush().await?;
        }
        Ok(())
    }

    /// When `member`, not working at `now` by their hours as they are now, is back; `None`
    /// when they are working (or cannot be looked up, or have no hours ahead: the reminder
    /// then goes as set).
    async fn back_later(
        &self,
        team: &TeamId,
        member: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, HandleError> {
        let Some(reached) = self.reach(team, member, now).await? else {
            return Ok(None);
        };
        Ok(availability(&reached.hours, now)
            .back_at()
            .filter(|back| *back > now))
    }

    /// Sends every reminder due at `now` whose member is back by their hours as they are
    /// now (one whose hours changed is moved to their new start); returns when the next one
    /// is due.
    async fn send_due_reminders(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, HandleError> {
        let table = Reminders::open(&self.store)?;
        let mut next: Option<DateTime<Utc>> = None;
        for (team, mut reminder) in table.all()? {
            if reminder.due <= now
                && let Some(moved) = self.back_later(&team, &reminder.member, now).await?
            {
                // The member's hours changed since the reminder was set: not back yet.
                info!(team = %team, "a reminder moved to the member's new start");
                reminder.due = moved;
                table.put(&team, &reminder)?;
                self.store.flush().await?;
            }
            if reminder.due > now {
                next = Some(next.map_or(reminder.due, |n| n.min(reminder.due)));
                continue;
            }
            crate::bot::digest::send(self, &team, &reminder.sender, reminder_text(&reminder))
                .await?;
            // Removed after the send: a crash between the two sends it again rather than
            // never.
            table.remove(&team, &reminder)?;
            self.store.flush().await?;
        }
        Ok(next)
    }
}

/// Sends reminders as they come due, until `shutdown` is cancelled.
pub(crate) async fn run(bot: Arc<Bot>, shutdown: CancellationToken) {
    loop {
        let next = match bot.send_due_reminders(bot.clock.now()).await {
            Ok(next) => next,
            Err(e) => {
                warn!(error = %e, "could not send reminders; trying again in a minute");
                Some(bot.clock.now() + chrono::TimeDelta::minutes(1))
            }
        };
        let clock = bot.clock.clone();
        let timer = async move {
            match next {
                Some(at) => clock.sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = bot.reminder_signal.0.notified() => {}
            _ = timer => {}
        }
    }
}

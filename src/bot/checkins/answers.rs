//! Answers coming in: from the modal behind the "Answer" button, from a reply in the prompt's
//! thread, or from a DM reply. Each is stored (editable until the report) and, unless it was
//! written in the report thread itself, posted there as a copy attributed to its author and
//! updated when it changes. Also the check-in part of the Home tab.

use slack_morphism::prelude::*;
use tracing::{debug, warn};

use crate::bot::checkins::post::Target;
use crate::bot::{Bot, HandleError};
use crate::checkins::plan;
use crate::checkins::record::{Answer, OccurrenceRecord};
use crate::checkins::texts::{self, ANSWER_ACTION, ANSWER_MODAL};
use crate::ids::{TeamId, UserId};
use crate::slack::blocks;
use crate::slack::messages::HumanMessage;
use crate::store::StoreError;
use crate::store::checkins::CheckinTables;

/// The reaction that quietly says "saved" under a reply taken as an answer.
const SAVED_REACTION: &str = "white_check_mark";
/// Past occurrences shown per check-in on its manager's Home tab.
const HOME_HISTORY: usize = 5;
/// Slack's limit for the text of one section block.
const SECTION_LIMIT: usize = 3000;

/// How an answer changes.
enum AnswerChange {
    /// The modal: one text per question.
    Fields(Vec<String>),
    /// A reply, new or edited, by its message ts.
    Reply { ts: String, text: String },
}

/// Whether a block action is a check-in's "Answer" button.
pub(crate) fn is_answer_action(actions: &SlackInteractionBlockActionsEvent) -> bool {
    actions
        .actions
        .iter()
        .flatten()
        .any(|action| action.action_id.0 == ANSWER_ACTION)
}

/// Whether a view submission is the check-in answer modal.
pub(crate) fn is_answer_submission(submission: &SlackInteractionViewSubmissionEvent) -> bool {
    match &submission.view.view {
        SlackView::Modal(modal) => modal
            .callback_id
            .as_ref()
            .is_some_and(|id| id.0 == ANSWER_MODAL),
        SlackView::Home(_) => false,
    }
}

/// The open occurrence a message answers: by its thread, or by the DM its sender was asked in.
fn open_occurrence_answered(
    tables: &CheckinTables,
    team: &TeamId,
    message: &HumanMessage,
) -> Result<Option<OccurrenceRecord>, StoreError> {
    let key = match &message.thread_ts {
        Some(thread) => tables.occurrence_in_thread(team, &message.channel, thread)?,
        None if message.channel.as_str().starts_with('D') => {
            tables.asked_by_dm(team, &message.user)?
        }
        None => None,
    };
    let Some(key) = key else {
        return Ok(None);
    };
    // Closed at its close time, whether or not the report is saved yet: a reply sent after
    // it is just a reply, even while the report is being posted.
    let sent_in_time =
        |record: &OccurrenceRecord| message.sent_at().is_none_or(|sent| sent < record.close_at);
    Ok(tables
        .occurrence(team, &key)?
        .filter(|record| record.state.is_open() && sent_in_time(record)))
}

impl Bot {
    /// Takes a person's message as a check-in answer when it is a reply under an open
    /// prompt, or a DM to the bot while an occurrence they were asked in by DM is open.
    /// Returns whether it was one; if so, no other rule looks at it.
    pub(crate) async fn take_checkin_answer(
        &self,
        team: &TeamId,
        message: &HumanMessage,
        edited: bool,
    ) -> Result<bool, HandleError> {
        let tables = CheckinTables::open(&self.store)?;
        let Some(record) = open_occurrence_answered(&tables, team, message)? else {
            return Ok(false);
        };
        let in_report_thread = message.channel == record.channel
            && message.thread_ts.as_deref() == record.state.prompt_ts();
        let change = AnswerChange::Reply {
            ts: message.ts.clone(),
            text: message.text.clone(),
        };
        self.save_answer(
            &tables,
            team,
            &record,
            &message.user,
            change,
            !in_report_thread,
        )
        .await?;
        if !edited {
            let reaction = SlackApiReactionsAddRequest::new(
                SlackChannelId::new(message.channel.as_str().into()),
                SlackReactionName::new(SAVED_REACTION.into()),
                SlackTs::new(message.ts.clone()),
            );
            if let Err(e) = self.slack.team(team).reactions_add(reaction).await {
                debug!(error = %e, "could not mark an answer as saved");
            }
        }
        Ok(true)
    }

    /// Whether a message is a reply under an open check-in prompt, or a DM to the bot while
    /// an occurrence its sender was asked in by DM is open: read at intake, so that only
    /// such a message's text is ever written down.
    pub(crate) fn may_answer_checkin(
        &self,
        team: &TeamId,
        message: &HumanMessage,
    ) -> Result<bool, StoreError> {
        if message.thread_ts.is_none() && !message.channel.as_str().starts_with('D') {
            return Ok(false);
        }
        let tables = CheckinTables::open(&self.store)?;
        Ok(open_occurrence_answered(&tables, team, message)?.is_some())
    }

    /// Stores an answer and posts (or updates) its copy in the report thread.
    async fn save_answer(
        &self,
        tables: &CheckinTables,
        team: &TeamId,
        record: &OccurrenceRecord,
        user: &UserId,
        change: AnswerChange,
        copy: bool,
    ) -> Result<(), HandleError> {
        let mut answer = tables
            .answer(team, &record.key, user)?
            .unwrap_or_else(|| Answer::empty(user.clone()));
        match change {
            AnswerChange::Fields(fields) => answer.fields = fields,
            AnswerChange::Reply { ts, text } => {
                match answer.replies.iter_mut().find(|(seen, _)| *seen == ts) {
                    Some(reply) => reply.1 = text,
                    None => answer.replies.push((ts, text)),
                }
            }
        }
        answer.updated_at = Some(self.clock.now());
        tables.save_answer(team, &record.key, &answer)?;
        self.store.flush().await?;
        let Some(thread) = record.state.prompt_ts() else {
            return Ok(());
        };
        if !copy {
            return Ok(());
        }
        let text = plan::answer_text(&answer, &record.questions);
        match &answer.copy_ts {
            Some(ts) => {
                let update = SlackApiChatUpdateRequest::new(
                    SlackChannelId::new(record.channel.as_str().into()),
                    SlackMessageContent::new().with_text(text),
                    SlackTs::new(ts.clone()),
                );
                self.slack.team(team).update_message(update).await?;
            }
            None => {
                let name = format!("{}/answer/{user}", record.key);
                let target = Target {
                    channel: &record.channel,
                    thread: Some(thread),
                };
                let content = SlackMessageContent::new().with_text(text);
                if let Some(ts) = self.post_once(tables, team, &name, target, content).await? {
                    answer.copy_ts = Some(ts);
                    tables.save_answer(team, &record.key, &answer)?;
                    self.store.flush().await?;
                }
            }
        }
        Ok(())
    }

    /// The "Answer" button: opens the answer modal, filled with the member's answer so far.
    pub(crate) async fn on_answer_action(&self, actions: &SlackInteractionBlockActionsEvent) {
        let Some(user) = &actions.user else {
            return;
        };
        let team = TeamId::new(actions.team.id.0.clone());
        let user = UserId::new(user.id.0.clone());
        let key = actions
            .actions
            .iter()
            .flatten()
            .find(|action| action.action_id.0 == ANSWER_ACTION)
            .and_then(|action| action.value.as_deref())
            .and_then(texts::parse_key);
        let Some(key) = key else {
            warn!("an Answer button without an occurrence");
            return;
        };
        let opened = async {
            let tables = CheckinTables::open(&self.store)?;
            let Some(record) = tables.occurrence(&team, &key)? else {
                return Ok(());
            };
            let view = if record.state.is_open() {
                let previous = tables.answer(&team, &key, &user)?;
                blocks::answer_modal(&record, previous.as_ref())
            } else {
                closed_modal()
            };
            self.slack
                .team(&team)
                .views_open(SlackApiViewsOpenRequest::new(
                    actions.trigger_id.clone(),
                    view,
                ))
                .await?;
            Ok::<(), HandleError>(())
        };
        if let Err(e) = opened.await {
            warn!(team = %team, user = %user, error = %e, "could not open the check-in answer modal");
        }
    }

    /// The answer modal was submitted: saves it, or says why not beside the first field.
    pub(crate) async fn on_answer_submission(
        &self,
        submission: &SlackInteractionViewSubmissionEvent,
    ) -> Option<serde_json::Value> {
        let team = TeamId::new(submission.team.id.0.clone());
        let user = UserId::new(submission.user.id.0.clone());
        let key = match &submission.view.view {
            SlackView::Modal(modal) => modal.private_metadata.as_deref().and_then(texts::parse_key),
            SlackView::Home(_) => None,
        };
        let refuse = |message: &str| {
            Some(serde_json::json!({ "response_action": "errors", "errors": { "q0": message } }))
        };
        let Some(key) = key else {
            return refuse("This form lost track of its check-in; press Answer again.");
        };
        let saved = async {
            let tables = CheckinTables::open(&self.store)?;
            let Some(record) = tables.occurrence(&team, &key)? else {
                return Ok(false);
            };
            if !record.state.is_open() {
                return Ok(false);
            }
            let fields = blocks::read_answer_modal(
                submission.view.state_params.state.as_ref(),
                record.questions.len(),
            );
            self.save_answer(
                &tables,
                &team,
                &record,
                &user,
                AnswerChange::Fields(fields),
                true,
            )
            .await?;
            Ok::<bool, HandleError>(true)
        };
        match saved.await {
            Ok(true) => None,
            Ok(false) => refuse("This check-in has closed; its report is in the channel."),
            Err(e) => {
                warn!(team = %team, user = %user, error = %e, "could not save a check-in answer");
                refuse("Sorry, I could not save that just now; please try again.")
            }
        }
    }

    /// The Home tab's check-in section for `user`: the participation of the check-ins they
    /// manage, and the check-ins they took part in lately. `None` when there is nothing.
    pub(crate) fn checkins_home_text(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<Option<String>, HandleError> {
        let tables = CheckinTables::open(&self.store)?;
        let mut managed = Vec::new();
        let mut taking_part = Vec::new();
        for (_, checkin) in tables.checkins.scan(team, "")? {
            let recent = tables.recent_occurrences(team, &checkin.id, HOME_HISTORY)?;
            let heading = format!(
                "`{}` <#{}> {}{}",
                checkin.id,
                checkin.channel,
                texts::schedule_text(&checkin),
                if checkin.paused { " · paused" } else { "" }
            );
            if checkin.manager == *user {
                let history: Vec<String> = recent
                    .iter()
                    .map(|occurrence| {
                        let date = occurrence.key.date.format("%a %-d %b");
                        match &occurrence.state {
                            crate::checkins::occurrence::OccurrenceState::Reported { .. } => {
                                format!(
                                    "{date}: {} of {}",
                                    occurrence.answered.len(),
                                    occurrence.asked.len()
                                )
                            }
                            crate::checkins::occurrence::OccurrenceState::Skipped { .. } => {
                                format!("{date}: skipped")
                            }
                            other => format!("{date}: {}", other.name()),
                        }
                    })
                    .collect();
                let history = if history.is_empty() {
                    "no runs yet".to_string()
                } else {
                    history.join(" · ")
                };
                managed.push(format!("{heading}\n    Answered: {history}"));
            } else if recent
                .iter()
                .any(|occurrence| occurrence.asked.contains(user))
            {
                taking_part.push(heading);
            }
        }
        if managed.is_empty() && taking_part.is_empty() {
            return Ok(None);
        }
        let mut lines = Vec::new();
        if !managed.is_empty() {
            lines.push("*Your check-ins* (participation, newest first)".to_string());
            lines.extend(managed);
        }
        if !taking_part.is_empty() {
            lines.push("*Check-ins you take part in*".to_string());
            lines.extend(taking_part);
        }
        let mut text = lines.join("\n");
        if text.len() > SECTION_LIMIT {
            // The last char boundary before the limit (`floor_char_boundary` needs Rust 1.91).
            let cut = (0..SECTION_LIMIT)
                .rev()
                .find(|&at| text.is_char_boundary(at))
                .unwrap_or(0);
            text.truncate(cut);
            text.push('…');
        }
        Ok(Some(text))
    }
}

/// Shown instead of the answer modal once the report is out.
fn closed_modal() -> SlackView {
    SlackView::Modal(
        SlackModalView::new(
            pt!("Check-in"),
            vec![
                SlackSectionBlock::new()
                    .with_text(md!(
                        "This check-in has closed; its report is in the channel."
                    ))
                    .into(),
            ],
        )
        .with_close(pt!("Close")),
    )
}

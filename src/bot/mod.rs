//! The bot itself: what it does with each event, command and interaction. The HTTP and
//! Socket Mode edges hand everything here, so both transports behave the same.

pub mod ask;
pub mod checkins;
pub(crate) mod digest;
pub(crate) mod directory;
pub(crate) mod distil;
pub(crate) mod groups;
pub(crate) mod home;
pub mod members;
pub(crate) mod privacy;
pub(crate) mod reminders;
pub(crate) mod roles;
pub(crate) mod sender;
pub(crate) mod urgency;
pub mod worker;
pub(crate) mod workspaces;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use slack_morphism::prelude::*;
use tracing::{debug, warn};

use crate::clock::Clock;
use crate::decision::card::{self, member_card};
use crate::decision::note::{Audience, GroupReach, Mentions, Reached};
use crate::decision::{Facts, Lookups, MessageRecord, NudgeCall, Outcome, decide};
use crate::ids::{ChannelId, TeamId, UserId};
use crate::metrics::Metrics;
use crate::norms::feedback;
use crate::slack::api::{ApiError, Share, SlackApi};
use crate::slack::blocks;
use crate::slack::messages::BotIdentity;
use crate::store::{Store, StoreError};
use ask::Question;
use directory::Directory;
use distil::{Distilled, JournaledEvent};
use members::Reach;
use sender::{CallOutbox, OutgoingCall};

/// Mentioned members looked up in Slack for one message (those known already cost
/// nothing); the rest are counted as not checked, so a message with hundreds of mentions
/// costs no more than one with twenty.
pub(crate) const MENTION_LOOKUPS: usize = 20;
/// Of those, the first waits for its turn at Slack's rate limit when it comes within
/// [`BRIEF_WAIT`](crate::slack::api::BRIEF_WAIT); the others use only spare rate and are not
/// checked without it. A message thus waits at most about a second for its look-ups,
/// however many people it mentions and however many messages came before it.
pub(crate) const MENTION_LOOKUPS_WAITED: usize = 1;
/// Members listed on a "who is around?" card; the rest are counted.
const MAX_AROUND: usize = 20;
/// How long after a message reached the bot a note about it is still worth sending.
pub(crate) const NOTE_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Why handling an event failed. `Retry` failures are tried again; the rest are logged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandleError {
    #[error("the event does not read as a Slack event: {0}")]
    Malformed(String),
    #[error(transparent)]
    Slack(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HandleError {
    /// Whether trying again later may succeed.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(
            self,
            HandleError::Slack(ApiError::Unavailable { .. }) | HandleError::Store(_)
        )
    }
}

/// Everything a handler needs: the store, the Web API door, the clock.
pub struct Bot {
    pub(crate) store: Store,
    pub(crate) slack: SlackApi,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) metrics: Arc<Metrics>,
    /// The bot user of `SLACK_BOT_TOKEN`; see [`Bot::identity_in`] for installations.
    pub(crate) identity: BotIdentity,
    /// The zone of members whose Slack profile has none.
    pub(crate) default_tz: chrono_tz::Tz,
    /// Profiles and channel members, cached.
    pub(crate) directory: Directory,
    /// User groups' members and handles, cached.
    pub(crate) groups: groups::Groups,
    /// Wakes the reminder task when a reminder is set.
    pub(crate) reminder_signal: reminders::ReminderSignal,
    /// Each workspace's compiled urgency words.
    pub(crate) lexicons: urgency::LexiconCache,
    /// Tells the check-in runner about created and changed check-ins.
    pub(crate) checkins: checkins::runner::CheckinSignal,
    /// The teams and app this bot serves; payloads for others are answered and ignored.
    pub(crate) installations: Arc<crate::slack::installation::Installations>,
    /// Calls to Slack decided by handlers, made by the sender ([`sender::run`]).
    pub(crate) outbox: CallOutbox,
}

/// The type [`Bot::handle_event`] returns for an `app_mention`.
const APP_MENTION: &str = "app_mention";

/// Whether the handler of an event of this type (as [`Bot::handle_event`] returns it) makes a
/// Web API call that is not idempotent itself, rather than through the outbox: the answer to
/// a mention. Handled again after a crash, such an event would make its call again.
pub(crate) fn calls_slack_itself(kind: &str) -> bool {
    kind == APP_MENTION
}

impl Bot {
    /// The bot user in `team`: its installation's, else `SLACK_BOT_TOKEN`'s.
    pub(crate) fn identity_in(&self, team: &TeamId) -> BotIdentity {
        self.installations
            .identity(team)
            .unwrap_or_else(|| self.identity.clone())
    }

    /// Starts serving an installation made over OAuth (or read back at start-up).
    pub(crate) fn serve_installation(&self, installation: &crate::slack::oauth::Installation) {
        self.slack
            .add_team(installation.scope.clone(), &installation.bot_token());
        self.installations.install_as(
            installation.scope.clone(),
            installation.is_enterprise_install,
            BotIdentity {
                user_id: UserId::new(installation.bot_user_id.clone()),
                bot_id: installation.bot_id.clone(),
            },
        );
    }

    /// Handles one journaled event ([`Distilled`], as JSON) kept under `event_key`, received
    /// at `received_at_unix` (seconds); returns its type (see [`calls_slack_itself`]).
    pub(crate) async fn handle_event(
        &self,
        event_key: &str,
        journaled: &[u8],
        received_at_unix: i64,
    ) -> Result<&'static str, HandleError> {
        let received_at = DateTime::from_timestamp(received_at_unix, 0).unwrap_or_default();
        let incoming = match serde_json::from_slice::<JournaledEvent>(journaled) {
            Ok(incoming) => incoming,
            // Journaled by an older build, which kept the body Slack sent: read it as intake
            // now does.
            Err(_) => self.distil_body(journaled)?.ok_or_else(|| {
                HandleError::Malformed("a journaled event does not read".to_string())
            })?,
        };
        let team = incoming.team;
        match incoming.event {
            Distilled::Message(record) => {
                // A check-in answer is taken before any other rule sees the message.
                let answered = match record.as_answer() {
                    Some(answer) => {
                        self.take_checkin_answer(&team, &answer, record.is_edit())
                            .await?
                    }
                    None => false,
                };
                if !answered {
                    self.on_message(&team, event_key, &record, received_at)
                        .await?;
                }
                Ok("message")
            }
            Distilled::MessageDeleted { channel, ts } => {
                self.cancel_reminders(&team, &channel, &ts).await?;
                Ok("message")
            }
            Distilled::AppMention {
                channel,
                user,
                thread_ts,
                question,
            } => {
                self.on_app_mention(&team, &channel, &user, thread_ts, question)
                    .await?;
                Ok(APP_MENTION)
            }
            Distilled::HomeOpened { user } => {
                self.publish_home(&team, &user).await?;
                Ok("app_home_opened")
            }
            Distilled::UserChange { user, profile } => {
                self.directory
                    .remember_status(&team, &user, profile.status.clone());
                self.directory
                    .remember(&team, &user, (&profile).into(), self.clock.now());
                Ok("user_change")
            }
            Distilled::DndChanged { user } => {
                // The event lacks the snooze: the next message mentioning them asks again.
                self.directory.forget_dnd(&team, &user);
                Ok("dnd_updated_user")
            }
            Distilled::GroupChanged(change) => {
                self.groups.apply(&team, change, self.clock.now());
                Ok("subteam")
            }
            Distilled::AppUninstalled => {
                self.forget_team(&team, "the app was uninstalled")?;
                Ok("app_uninstalled")
            }
            Distilled::TokensRevoked => {
                self.forget_team(&team, "the bot's token was revoked")?;
                Ok("tokens_revoked")
            }
            Distilled::Ignored { event_type } => {
                debug!(event_type, "event not handled");
                Ok(match event_type.as_str() {
                    "message" => "message",
                    "app_home_opened" => "app_home_opened",
                    "tokens_revoked" => "tokens_revoked",
                    "unknown" => "unknown",
                    _ => "other",
                })
            }
            Distilled::Unreadable { event_type } => Err(HandleError::Malformed(format!(
                "the {event_type} event did not read as Slack's"
            ))),
        }
    }

    /// A person's message in a channel the bot is in (new, or edited: then only the pings and
    /// the urgency the edit added count): the facts are gathered, [`decide`] says what to
    /// do, and it is done. Mentioned members who are not working and any urgency finding go
    /// to the sender in one private note (or, for the urgency, in the way the channel chose),
    /// and each finding is recorded.
    async fn on_message(
        &self,
        team: &TeamId,
        event_key: &str,
        message: &MessageRecord,
        received_at: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        debug!(team = %team, channel = %message.channel, edited = message.is_edit(), "message seen");
        if !message.needs_facts() {
            return Ok(());
        }
        let now = self.clock.now();
        let facts = self.message_facts(team, message, now).await?;
        let outcome = decide(message, &facts, now);
        // A broadcast's audience is a whole channel of members and their hours: let it go
        // before the calls are written.
        drop(facts);
        self.carry_out(team, event_key, received_at, message, outcome, now)
    }

    /// What [`decide`] needs to know about a message: the workspace's and channel's norms,
    /// the sender's cooldown, the phrase feedback, the members and groups it reaches and the
    /// sender's zone. Only what can matter is read: the urgency state when a rule may fire,
    /// the sender's zone when the message reaches someone.
    async fn message_facts(
        &self,
        team: &TeamId,
        message: &MessageRecord,
        now: DateTime<Utc>,
    ) -> Result<Facts, HandleError> {
        let workspace = self.workspace_norms(team)?;
        let channel = self.channel_norms(team, &message.channel)?;
        let reached = self
            .look_up_mentions(team, message, &message.pings(), now)
            .await?;
        let may_nudge = message.scan.may_be_urgent();
        let cooling_down = may_nudge
            && channel.nudges
            && self.nudge_cooling_down(team, &message.channel, &message.user, now)?;
        let phrase_feedback = match may_nudge {
            true => self.phrase_feedback(team)?,
            false => Default::default(),
        };
        let sender_tz = match reached.is_empty() {
            true => self.default_tz,
            false => self.me(team, &message.user, now).await?.hours.tz,
        };
        Ok(Facts {
            bot: self.identity_in(team).user_id,
            sender_tz,
            workspace,
            channel,
            cooling_down,
            phrase_feedback,
            reached,
        })
    }

    /// Leaves the calls an [`Outcome`] asks for in the outbox ([`sender`]), never waiting for
    /// Slack here (a note that could no longer arrive within [`NOTE_LIFETIME`] of the message
    /// is dropped there and counted), then starts the cooldown and records the finding.
    fn carry_out(
        &self,
        team: &TeamId,
        event_key: &str,
        received_at: DateTime<Utc>,
        message: &MessageRecord,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        let nudge_call = outcome.nudge_call.map(|call| match call {
            NudgeCall::Reaction { emoji } => OutgoingCall::Reaction {
                channel: message.channel.clone(),
                ts: message.ts.clone(),
                emoji,
            },
            NudgeCall::ThreadReply { thread_ts, text } => OutgoingCall::ThreadReply {
                channel: message.channel.clone(),
                thread_ts,
                text,
            },
        });
        if let Some(call) = nudge_call {
            self.leave_call(team, event_key, received_at, &call, now)?;
        }
        if !outcome.note.is_empty() {
            let note = OutgoingCall::Note {
                channel: message.channel.clone(),
                user: message.user.clone(),
                thread_ts: message.thread_ts.clone(),
                sections: outcome.note.sections,
            };
            self.leave_call(team, event_key, received_at, &note, now)?;
        }
        // Written after the calls are left in the outbox: an event whose handling fails
        // before is handled again, and must not find its own cooldown or leave a second
        // record. The outbox entry is written first and the event is marked handled last,
        // each by its own key (sled 0.34's transactions across trees hung under its global
        // lock): a crash between them makes the next start write the same entry again.
        if outcome.nudged {
            self.start_nudge_cooldown(team, &message.channel, &message.user, now)?;
            self.count_nudge(team, &outcome.findings)?;
        }
        if let Some(record) = &outcome.record {
            self.record_finding(team, record)?;
        }
        Ok(())
    }

    /// Each member a message mentions and, for a broadcast, the channel's audience, looked up
    /// once for both the mention note and the urgency rules. Both are empty when nobody it
    /// pings is a person to check.
    async fn look_up_mentions(
        &self,
        team: &TeamId,
        message: &MessageRecord,
        mentions: &Mentions,
        now: DateTime<Utc>,
    ) -> Result<Lookups, HandleError> {
        let me = &self.identity_in(team).user_id;
        let mut mentioned: Vec<Reached> = Vec::new();
        let mut looked_up = 0;
        let mut not_checked = 0;
        for user in &mentions.users {
            if *user == message.user || user == me {
                continue;
            }
            // Members known already cost nothing; the others cost a `users.info` call each.
            let share = if self.stored_hours(team, user)?.is_some()
                || self.directory.is_known(team, user, now)
            {
                Share::Brief
            } else if looked_up >= MENTION_LOOKUPS {
                not_checked += 1;
                continue;
            } else {
                looked_up += 1;
                if looked_up <= MENTION_LOOKUPS_WAITED {
                    Share::Brief
                } else {
                    Share::Spare
                }
            };
            match self.reach_with(team, user, now, share).await? {
                Reach::Found(reached) => mentioned.push(*reached),
                Reach::NoOne => {}
                Reach::NotChecked => not_checked += 1,
            }
        }
        let mut dnd_lookups = MENTION_LOOKUPS;
        self.add_dnd(
            team,
            &mut mentioned,
            &mut dnd_lookups,
            MENTION_LOOKUPS_WAITED,
            now,
        )
        .await?;
        let audience: Option<Audience> = match mentions.broadcast {
            Some(_) => {
                self.audience(team, &message.channel, &[&message.user, me], now)
                    .await?
            }
            None => None,
        };
        let groups = self
            .look_up_groups(team, &mentions.groups, &[&message.user, me], now)
            .await?;
        let nobody_to_check = mentioned.iter().all(|m| !m.is_person)
            && audience.as_ref().is_none_or(|a| a.members.is_empty())
            && groups.iter().all(|g| g.audience.members.is_empty());
        if nobody_to_check {
            return Ok(Lookups::default());
        }
        Ok(Lookups {
            mentioned,
            audience,
            groups,
            not_checked,
        })
    }

    /// The members of each mentioned user group (at most
    /// [`groups::MAX_GROUPS_PER_MESSAGE`]), with their hours. All the groups together look up
    /// at most [`members::BROADCAST_LOOKUPS`] members, as one broadcast does.
    async fn look_up_groups(
        &self,
        team: &TeamId,
        groups: &[crate::ids::GroupId],
        skip: &[&UserId],
        now: DateTime<Utc>,
    ) -> Result<Vec<GroupReach>, HandleError> {
        let mut reached = Vec::new();
        let mut lookups_left = members::BROADCAST_LOOKUPS;
        for group in groups.iter().take(groups::MAX_GROUPS_PER_MESSAGE) {
            let ids = match self.groups.members(&self.slack, team, group, now).await {
                Ok(ids) => ids,
                Err(e) => {
                    warn!(team = %team, group = %group, error = %e, "could not read a user group's members");
                    continue;
                }
            };
            let audience = self
                .audience_of(team, &ids, skip, &mut lookups_left, now)
                .await?;
            reached.push(GroupReach {
                handle: self.groups.handle(&self.slack, team, group, now).await,
                audience,
            });
        }
        Ok(reached)
    }

    /// `@async-norms …`: answer in the thread of the mention with an availability card, or
    /// an introduction.
    async fn on_app_mention(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        asker: &UserId,
        thread_ts: String,
        question: Question,
    ) -> Result<(), HandleError> {
        let asker = asker.clone();
        let now = self.clock.now();
        let lines = match question {
            Question::HoursOf(people) => {
                let people = if people.is_empty() {
                    vec![asker.clone()]
                } else {
                    people
                };
                self.hours_card(team, &asker, &people, true, now).await?
            }
            Question::WhoIsAround => self.around_card(team, channel, now).await?,
            Question::Other => vec![
                "I keep an eye on working hours and urgency so nobody is pinged at night for \
                 something that can wait. Ask me `hours @someone` or `who is around?`, or type \
                 `/async help` to see everything I can do."
                    .to_string(),
            ],
        };
        let request = SlackApiChatPostMessageRequest::new(
            SlackChannelId::new(channel.as_str().into()),
            blocks::lines_message(&lines),
        )
        .with_thread_ts(SlackTs::new(thread_ts));
        self.slack.team(team).post_message(request).await?;
        Ok(())
    }

    /// Card lines for the named members: for a `public` post, with times each reader sees
    /// in their own zone; else in the asker's.
    pub(crate) async fn hours_card(
        &self,
        team: &TeamId,
        asker: &UserId,
        people: &[UserId],
        public: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, HandleError> {
        let reader = if public {
            card::Reader::Everyone
        } else {
            card::Reader::In(self.me(team, asker, now).await?.hours.tz)
        };
        let mut lines = Vec::new();
        for user in people {
            if user == asker {
                let me = self.me(team, user, now).await?;
                let state = crate::hours::availability(&me.hours, now);
                lines.push(member_card(user, &me.hours, &state, reader, now));
                continue;
            }
            match self.reach(team, user, now).await? {
                Some(member) if member.is_person => {
                    let state = crate::hours::availability(&member.hours, now);
                    lines.push(member_card(user, &member.hours, &state, reader, now));
                }
                Some(_) => lines.push(format!(":robot_face: <@{user}> is a bot: always on, never tired.")),
                None => lines.push(format!(
                    ":grey_question: I could not look up <@{user}> right now; try again in a minute."
                )),
            }
        }
        Ok(lines)
    }

    /// Card lines for the people in a channel, for a public post (times each reader sees in
    /// their own zone): who is working, then who is back soonest.
    pub(crate) async fn around_card(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, HandleError> {
        let Some(audience) = self
            .audience(team, channel, &[&self.identity_in(team).user_id], now)
            .await?
        else {
            return Ok(vec![
                "I could not read this channel's members just now; try again in a minute."
                    .to_string(),
            ]);
        };
        let mut people: Vec<(Reached, crate::hours::Availability)> = audience
            .members
            .into_iter()
            .filter(|member| member.is_person)
            .map(|member| {
                let state = crate::hours::availability(&member.hours, now);
                (member, state)
            })
            .collect();
        // Working first; then by when they are back, soonest first.
        people.sort_by_key(|(member, state)| {
            (
                !state.is_available(),
                state.back_at().unwrap_or(DateTime::<Utc>::MAX_UTC),
                member.user.clone(),
            )
        });
        let working = people.iter().filter(|(_, s)| s.is_available()).count();
        let mut lines = vec![format!(
            "*Who is around here:* {working} of {} working now.",
            people.len()
        )];
        for (member, state) in people.iter().take(MAX_AROUND) {
            lines.push(member_card(
                &member.user,
                &member.hours,
                state,
                card::Reader::Everyone,
                now,
            ));
        }
        let more = people.len().saturating_sub(MAX_AROUND) + audience.not_checked;
        if more > 0 {
            lines.push(format!("…and {more} more."));
        }
        Ok(lines)
    }
}

impl Bot {
    /// A nudge's "Not a demand" button: records which phrase and rule misfired (nothing
    /// about the message or who pressed) and replaces the note with a thank-you that says
    /// whether the phrase now stays quiet in the workspace.
    pub(crate) async fn on_not_a_demand(&self, actions: &SlackInteractionBlockActionsEvent) {
        let team = TeamId::new(actions.team.id.0.clone());
        let pressed = actions
            .actions
            .iter()
            .flatten()
            .find(|action| action.action_id.0 == feedback::NOT_A_DEMAND_ACTION)
            .and_then(|action| action.value.as_deref())
            .and_then(feedback::parse_button_value);
        let Some((rule, phrase)) = pressed else {
            warn!(team = %team, "a \"Not a demand\" button without a phrase the bot wrote");
            return;
        };
        let muted = match self.mark_not_a_demand(&team, rule, &phrase).await {
            Ok(muted) => muted,
            Err(e) => {
                warn!(team = %team, error = %e, "could not record a \"Not a demand\" press");
                return;
            }
        };
        let Some(response_url) = &actions.response_url else {
            return;
        };
        let text = if muted {
            format!(
                "Thanks, noted. “{phrase}” has been marked “Not a demand” often enough that it no longer nudges anyone in this workspace; a manager or admin turns it back on with `/async norms keywords add {phrase}`."
            )
        } else {
            format!(
                "Thanks, noted: “{phrase}” was not a demand here. Only the phrase is counted, never the message or who pressed."
            )
        };
        let reply =
            SlackApiPostWebhookMessageRequest::new(SlackMessageContent::new().with_text(text))
                .with_replace_original(true);
        if let Err(e) = self.slack.team(&team).respond(response_url, reply).await {
            warn!(team = %team, error = %e, "could not answer a \"Not a demand\" press");
        }
    }
}

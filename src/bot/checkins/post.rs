//! Posting exactly once. Every message the check-ins post has a name (`<occurrence>/prompt`,
//! `<occurrence>/report`, …) and carries it in Slack message metadata. A mark is written and
//! flushed before the call and the ts after it, so a restart that finds the ts reuses it, and
//! one that finds only the mark (a crash while the call was in flight) asks Slack whether the
//! message arrived before posting it again.

use chrono::TimeDelta;
use slack_morphism::prelude::*;
use tracing::{info, warn};

use crate::bot::{Bot, HandleError};
use crate::checkins::record::PostMark;
use crate::ids::{ChannelId, TeamId};
use crate::store::checkins::CheckinTables;

/// The `event_type` of the metadata on every check-in post.
pub(crate) const METADATA_EVENT_TYPE: &str = "async_norms_checkin";
/// The metadata field holding the post's name.
pub(crate) const METADATA_POST_FIELD: &str = "post";

/// How far before the mark's time the history is searched: clocks of two machines differ.
const HISTORY_SLACK: TimeDelta = TimeDelta::minutes(5);

/// Where a post goes.
pub(crate) struct Target<'a> {
    pub(crate) channel: &'a ChannelId,
    /// The thread (a reply) or `None` (a message of its own).
    pub(crate) thread: Option<&'a str>,
}

impl Bot {
    /// Posts `content` once under `name` and returns its ts. `None` means the post's fate is
    /// unknown and it is not repeated: a reply whose call was cut off by a crash (the channel
    /// history Slack offers does not list replies, so it cannot be checked).
    pub(crate) async fn post_once(
        &self,
        tables: &CheckinTables,
        team: &TeamId,
        name: &str,
        target: Target<'_>,
        content: SlackMessageContent,
    ) -> Result<Option<String>, HandleError> {
        match tables.posts.get(team, name)? {
            Some(PostMark::Posted { ts, .. }) => return Ok(Some(ts)),
            Some(PostMark::Attempted { at }) => {
                if let Some(ts) = self.find_post(team, target.channel, name, at).await? {
                    info!(team = %team, post = name, "found a post made before a restart; not posting it again");
                    self.mark_posted(tables, team, name, target.channel, &ts)
                        .await?;
                    return Ok(Some(ts));
                }
                if target.thread.is_some() {
                    warn!(team = %team, post = name, "a reply may or may not have been posted before a restart; not risking a second one");
                    return Ok(None);
                }
            }
            None => {}
        }
        tables.posts.put(
            team,
            name,
            &PostMark::Attempted {
                at: self.clock.now(),
            },
        )?;
        self.store.flush().await?;
        let metadata = SlackMessageMetadata {
            event_type: METADATA_EVENT_TYPE.to_string(),
            event_payload: Some([(METADATA_POST_FIELD.to_string(), name.to_string())].into()),
        };
        let mut request = SlackApiChatPostMessageRequest::new(
            SlackChannelId::new(target.channel.as_str().into()),
            content.with_metadata(metadata),
        );
        if let Some(thread) = target.thread {
            request = request.with_thread_ts(SlackTs::new(thread.into()));
        }
        let posted = self.slack.team(team).post_message(request).await?;
        let ts = posted.ts.0;
        self.mark_posted(tables, team, name, target.channel, &ts)
            .await?;
        Ok(Some(ts))
    }

    async fn mark_posted(
        &self,
        tables: &CheckinTables,
        team: &TeamId,
        name: &str,
        channel: &ChannelId,
        ts: &str,
    ) -> Result<(), HandleError> {
        tables.posts.put(
            team,
            name,
            &PostMark::Posted {
                channel: channel.clone(),
                ts: ts.to_string(),
            },
        )?;
        self.store.flush().await?;
        Ok(())
    }

    /// The ts of a message in `channel`'s history since `since` whose metadata names `name`.
    async fn find_post(
        &self,
        team: &TeamId,
        channel: &ChannelId,
        name: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<String>, HandleError> {
        let oldest = (since - HISTORY_SLACK).timestamp();
        let mut cursor: Option<SlackCursorId> = None;
        loop {
            let mut request = SlackApiConversationsHistoryRequest::new()
                .with_channel(SlackChannelId::new(channel.as_str().into()))
                .with_oldest(SlackTs::new(format!("{oldest}.000000")))
                .with_include_all_metadata(true)
                .with_limit(200);
            request.cursor = cursor.take();
            let page = self.slack.team(team).conversations_history(request).await?;
            let found = page.messages.iter().find(|message| {
                message.content.metadata.as_ref().is_some_and(|meta| {
                    meta.event_type == METADATA_EVENT_TYPE
                        && meta
                            .event_payload
                            .as_ref()
                            .and_then(|payload| payload.get(METADATA_POST_FIELD))
                            .is_some_and(|posted| posted == name)
                })
            });
            if let Some(message) = found {
                return Ok(Some(message.origin.ts.0.clone()));
            }
            cursor = page
                .response_metadata
                .and_then(|meta| meta.next_cursor)
                .filter(|next| !next.0.is_empty());
            if cursor.is_none() {
                return Ok(None);
            }
        }
    }
}

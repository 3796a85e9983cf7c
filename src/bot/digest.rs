//! The weekly norms digest in the running bot: one task that sleeps on the clock, and around
//! each Monday lists the workspace's admins, owners and granted managers (`users.list`), and
//! sends each of them, at 09:00 their time, last week's per-channel figures in a DM.
//!
//! Each digest is sent at most once: a mark per recipient and ISO week is written and
//! flushed before the DM goes, so a restart, a second wake or a retry never sends it twice
//! (a DM that fails after its mark is logged, not retried). Outside the hours when a Monday
//! 09:00 can fall anywhere, the task makes no call at all.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use slack_morphism::prelude::*;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::bot::directory::Profile;
use crate::bot::roles::granted_managers;
use crate::bot::{Bot, HandleError};
use crate::ids::{TeamId, UserId};
use crate::norms::digest;
use crate::norms::stats::summarise;
use crate::store::digests::DigestMarks;

/// Inside the Monday window the recipients are listed again at least this often, so a new
/// manager or admin is not missed.
const RELIST_EVERY: TimeDelta = TimeDelta::hours(1);
/// After a failed round (Slack unreachable, store error), the next try.
const RETRY_AFTER: TimeDelta = TimeDelta::minutes(5);
/// `users.list` page size (Slack's recommended maximum).
const USERS_PAGE: u16 = 200;
/// A workspace with more pages than this is read no further (200,000 members).
const MAX_PAGES: usize = 1000;

/// Someone who receives the digest, in their zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recipient {
    pub(crate) user: UserId,
    pub(crate) tz: Tz,
}

/// Sends the digests of `team` until `shutdown` is cancelled.
pub(crate) async fn run(bot: Arc<Bot>, shutdown: CancellationToken) {
    loop {
        let now = bot.clock.now();
        let wake = match digest::quiet_until(now) {
            Some(opens) => opens,
            None => {
                // Every installation in turn; one failing does not hold up the others.
                let mut wake = now + RELIST_EVERY;
                for team in bot.installations.workspaces() {
                    let next = match send_due(&bot, &team, now).await {
                        Ok(next) => next,
                        Err(e) => {
                            warn!(team = %team, error = %e, "the norms digest round failed; trying again soon");
                            now + RETRY_AFTER
                        }
                    };
                    wake = wake.min(next);
                }
                wake
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = bot.clock.sleep_until(wake) => {}
        }
    }
}

/// Sends every digest due at `now`; returns when the next one falls due.
pub(crate) async fn send_due(
    bot: &Bot,
    team: &TeamId,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, HandleError> {
    let records = bot.finding_records(team)?;
    // Nothing flagged in two weeks (and the day's grace, and a day for the zones): nothing
    // to report, so no need to ask Slack who would receive it.
    if !records
        .iter()
        .any(|r| now - r.at < TimeDelta::days(14) + digest::LATE_LIMIT + TimeDelta::days(1))
    {
        return Ok(now + RELIST_EVERY);
    }
    let opted_out = bot.workspace_norms(team)?.digest_opt_outs;
    let marks = DigestMarks::open(&bot.store)?;
    let mut next = now + TimeDelta::days(7);
    for recipient in recipients(bot, team).await? {
        next = next.min(digest::next_due_after(now, recipient.tz));
        if opted_out.contains(&recipient.user) {
            continue;
        }
        let Some(week) = digest::due_now(now, recipient.tz) else {
            continue;
        };
        let report = summarise(&records, None, week.covers_until, 7);
        if !digest::worth_sending(&report) {
            continue;
        }
        if !marks.mark_sent(team, &recipient.user, &week.iso_week(), now)? {
            continue;
        }
        bot.store.flush().await?;
        match send(
            bot,
            team,
            &recipient.user,
            digest::digest_text(&report, &week),
        )
        .await
        {
            Ok(()) => {
                info!(team = %team, user = %recipient.user, week = %week.iso_week(), "norms digest sent")
            }
            Err(e) => {
                warn!(team = %team, user = %recipient.user, week = %week.iso_week(), error = %e, "a norms digest could not be sent; it is not tried again this week")
            }
        }
    }
    Ok(next)
}

/// The workspace's admins, owners and granted managers who are people, by user id, each in
/// the zone of their stored hours, else their profile's, else the bot's default.
pub(crate) async fn recipients(bot: &Bot, team: &TeamId) -> Result<Vec<Recipient>, HandleError> {
    let managers: HashSet<UserId> = granted_managers(bot, team)?.into_iter().collect();
    let mut found = Vec::new();
    let mut cursor: Option<SlackCursorId> = None;
    for _ in 0..MAX_PAGES {
        let mut request = SlackApiUsersListRequest::new().with_limit(USERS_PAGE);
        if let Some(cursor) = cursor.take() {
            request = request.with_cursor(cursor);
        }
        let page = bot.slack.team(team).users_list(request).await?;
        for member in &page.members {
            let profile = Profile::from_slack(member);
            if !profile.is_person() {
                continue;
            }
            let user = UserId::new(member.id.0.clone());
            if !(profile.is_admin || profile.is_owner || managers.contains(&user)) {
                continue;
            }
            let tz = match bot.stored_hours(team, &user)? {
                Some(hours) => hours.tz,
                None => profile.zone_or(bot.default_tz),
            };
            found.push(Recipient { user, tz });
        }
        cursor = page
            .response_metadata
            .and_then(|m| m.next_cursor)
            .filter(|c| !c.0.is_empty());
        if cursor.is_none() {
            break;
        }
    }
    found.sort_by(|a, b| a.user.as_str().cmp(b.user.as_str()));
    found.dedup_by(|a, b| a.user == b.user);
    Ok(found)
}

/// Sends `text` to `user` by DM.
pub(crate) async fn send(
    bot: &Bot,
    team: &TeamId,
    user: &UserId,
    text: String,
) -> Result<(), HandleError> {
    let slack = bot.slack.team(team);
    let opened = slack
        .conversations_open(
            SlackApiConversationsOpenRequest::new()
                .with_users(vec![SlackUserId::new(user.as_str().into())]),
        )
        .await?;
    slack
        .post_message(SlackApiChatPostMessageRequest::new(
            opened.channel.id,
            SlackMessageContent::new().with_text(text),
        ))
        .await?;
    Ok(())
}

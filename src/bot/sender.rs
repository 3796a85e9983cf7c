//! The sender: makes the calls to Slack that handlers left in the outbox
//! ([`crate::store::outbox`]), at Slack's pace per workspace and method, so that handling
//! an event never waits for a Web API slot.
//!
//! One task watches the outbox and runs one lane per workspace and method that holds
//! calls; a lane makes its calls one at a time, oldest first, each waiting for its turn at
//! the method's rate. Before each call, what can no longer arrive in time (a note about a
//! message more than [`super::NOTE_LIFETIME`] old) is dropped and counted, never sent late.
//! Private notes to one sender in one conversation that wait close together go out as one
//! note ([`merge_notes`]). A call Slack refuses is logged and dropped; one Slack could not
//! take (an outage) is tried again until its deadline.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::Bot;
use crate::decision::note::{Note, NoteSection};
use crate::ids::{ChannelId, TeamId, UserId};
use crate::metrics::Counter;
use crate::slack::api::ApiError;
use crate::slack::blocks;
use crate::store::StoreError;
use crate::store::outbox::{Lane, Outbox, Waiting};

/// Notes waiting at most this long apart (by their deadlines, so by when their messages
/// came) are merged into one.
pub const MERGE_WINDOW_MS: i64 = 10_000;
/// Notes merged into one at most; Slack allows 50 blocks a message and a note's sections
/// take a few each.
pub const MAX_MERGED: usize = 5;
/// Calls looked at after a lane's oldest to find notes to merge with it.
const MERGE_LOOK_AHEAD: usize = 64;
/// Calls of a lane looked at, at most once every [`UNREACHABLE_EVERY`], for those that can
/// no longer start in time behind the others.
const UNREACHABLE_LOOK: usize = 20_000;
const UNREACHABLE_EVERY: Duration = Duration::from_secs(1);
/// How often a lane looks again when no call was written (in any lane) since its last look
/// and its calls go out at the pace it expects. A lane slowed down (a call given up as too
/// late, Slack not taking calls) looks again at its next turn; a call's deadline drops it
/// in any case.
const UNREACHABLE_QUIET: Duration = Duration::from_secs(30);
/// The pause before trying a call again that Slack could not take.
const RETRY_PAUSE: Duration = Duration::from_secs(5);
/// How often a sender stopped by a failing store looks whether it works again.
const STORE_RECHECK: Duration = Duration::from_secs(5);

/// Why a lane stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LaneEnd {
    /// Nothing left to send, or shutdown.
    Done,
    /// The outbox could not be read or changed. Running the lane again at once would spin
    /// on the same error, or make a call whose removal failed a second time.
    StoreFailed,
}

/// A call to Slack decided by a handler, waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum OutgoingCall {
    /// A private note (`chat.postEphemeral`) to `user` in `channel`.
    Note {
        channel: ChannelId,
        user: UserId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread_ts: Option<String>,
        sections: Vec<NoteSection>,
    },
    /// A reaction (`reactions.add`) on a message.
    Reaction {
        channel: ChannelId,
        ts: String,
        emoji: String,
    },
    /// A reply in a thread (`chat.postMessage`).
    ThreadReply {
        channel: ChannelId,
        thread_ts: String,
        text: String,
    },
}

impl OutgoingCall {
    /// The Web API method that makes the call: the outbox's lanes are per method.
    pub fn method(&self) -> &'static str {
        match self {
            OutgoingCall::Note { .. } => "chat.postEphemeral",
            OutgoingCall::Reaction { .. } => "reactions.add",
            OutgoingCall::ThreadReply { .. } => "chat.postMessage",
        }
    }
}

/// The calls this build keeps in the outbox.
pub type CallOutbox = Outbox<OutgoingCall>;

impl Bot {
    /// Leaves `call` for the sender, to be made before `received_at` + [`super::NOTE_LIFETIME`].
    /// `event` is the journal key of the event that decided it, so handling the event again
    /// writes the same call, not a second one. A call that cannot be made in time, behind the
    /// calls its lane holds at the method's pace ([`cannot_arrive`]), is dropped and counted
    /// at once instead of written: after a burst, the outbox holds what Slack can still take
    /// and the store is not churned by calls bound to expire.
    pub(crate) fn leave_call(
        &self,
        team: &TeamId,
        event: &str,
        received_at: DateTime<Utc>,
        call: &OutgoingCall,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let deadline = received_at + super::NOTE_LIFETIME;
        let lane = Lane::new(team, call.method());
        let merged = match call {
            OutgoingCall::Note { .. } => MAX_MERGED,
            _ => 1,
        };
        let api = self.slack.team(team);
        let late = cannot_arrive(
            self.outbox.lane_len(&lane),
            merged,
            deadline - now,
            |turn| api.turn_of(call.method(), turn),
        );
        if late {
            count_expired(self, &lane, 1);
            return Ok(());
        }
        self.outbox
            .put(&lane, deadline.timestamp_millis(), event, call)
    }
}

/// Whether a call put behind `ahead` others in its lane, at most `merged` of which one Web
/// API call makes, would start only after `left`, its turn at the method's pace being
/// `turn_of(n)` away for the n-th call from now.
pub fn cannot_arrive(
    ahead: usize,
    merged: usize,
    left: chrono::TimeDelta,
    turn_of: impl Fn(usize) -> Duration,
) -> bool {
    let Ok(left) = left.to_std() else {
        return true;
    };
    turn_of(ahead / merged.max(1)) > left
}

/// The first of `waiting` (a lane's oldest calls) and the notes after it for the same
/// sender, conversation and thread, up to [`MAX_MERGED`]: the calls one Web API call makes.
/// Anything but a note goes alone.
pub fn merge_notes(waiting: &[Waiting<OutgoingCall>]) -> Vec<&Waiting<OutgoingCall>> {
    let Some(first) = waiting.first() else {
        return Vec::new();
    };
    let OutgoingCall::Note {
        channel,
        user,
        thread_ts,
        ..
    } = &first.call
    else {
        return vec![first];
    };
    let same_reader = |call: &OutgoingCall| {
        matches!(call, OutgoingCall::Note { channel: c, user: u, thread_ts: t, .. }
            if c == channel && u == user && t == thread_ts)
    };
    waiting
        .iter()
        .filter(|w| same_reader(&w.call))
        .take(MAX_MERGED)
        .collect()
}

/// Which of a lane's calls (all of them, in deadline order) cannot start before their
/// deadline, by their index. The lane makes one call at a time, oldest first, merging notes
/// as [`merge_notes`] does; `turn_ms(b)` is how many milliseconds from `now_ms` the `b`-th
/// call from now could start at the method's pace. A call that cannot make it takes no turn
/// from those after it.
pub fn unreachable(
    waiting: &[Waiting<OutgoingCall>],
    now_ms: i64,
    turn_ms: impl Fn(usize) -> i64,
) -> Vec<usize> {
    struct Batch {
        first_deadline_ms: i64,
        notes: usize,
    }
    let mut open: HashMap<(&ChannelId, &UserId, &Option<String>), Batch> = HashMap::new();
    let mut turns = 0;
    let mut late = Vec::new();
    for (index, call) in waiting.iter().enumerate() {
        let reader = match &call.call {
            OutgoingCall::Note {
                channel,
                user,
                thread_ts,
                ..
            } => Some((channel, user, thread_ts)),
            _ => None,
        };
        let joins = reader
            .and_then(|reader| open.get_mut(&reader))
            .filter(|batch| {
                batch.notes < MAX_MERGED
                    && call.deadline_ms <= batch.first_deadline_ms + MERGE_WINDOW_MS
            });
        if let Some(batch) = joins {
            // Its batch's first note makes it in time, and this one's deadline is later.
            batch.notes += 1;
            continue;
        }
        if call.deadline_ms < now_ms + turn_ms(turns) {
            late.push(index);
            continue;
        }
        if let Some(reader) = reader {
            open.insert(
                reader,
                Batch {
                    first_deadline_ms: call.deadline_ms,
                    notes: 1,
                },
            );
        }
        turns += 1;
    }
    late
}

/// One note of the sections of several, each section once, in order.
pub fn merged_note(notes: &[&Waiting<OutgoingCall>]) -> Note {
    let mut note = Note::default();
    for waiting in notes {
        if let OutgoingCall::Note { sections, .. } = &waiting.call {
            for section in sections {
                if !note.sections.contains(section) {
                    note.push(section.clone());
                }
            }
        }
    }
    note
}

/// Watches the outbox and runs a lane for each workspace and method with calls waiting,
/// until shutdown. Calls still waiting then stay in the outbox for the next start.
///
/// When a lane stops because the store failed, no lane starts again until the store says
/// it works ([`crate::store::Store::health`], looked at every [`STORE_RECHECK`]): the bot is
/// unready then, and a disk that refuses writes must not turn into a busy loop or into a
/// note made again and again because its removal from the outbox failed.
pub async fn run(bot: Arc<Bot>, shutdown: CancellationToken) {
    let outbox = bot.outbox.clone();
    let mut running: HashSet<Lane> = HashSet::new();
    let mut lanes: JoinSet<(Lane, LaneEnd)> = JoinSet::new();
    let mut store_failed = false;
    loop {
        if store_failed && bot.store.health().is_ok() {
            info!("the store works again; sending resumes");
            store_failed = false;
        }
        if !store_failed {
            match outbox.lanes() {
                Ok(found) => {
                    for lane in found {
                        if running.insert(lane.clone()) {
                            let bot = bot.clone();
                            let shutdown = shutdown.clone();
                            lanes.spawn(async move {
                                let end = run_lane(&bot, &lane, &shutdown).await;
                                (lane, end)
                            });
                        }
                    }
                }
                Err(e) => warn!(error = %e, "cannot read the outbox; calls waiting there stay"),
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = outbox.put_since(), if !store_failed => {}
            _ = tokio::time::sleep(STORE_RECHECK), if store_failed => {}
            Some(done) = lanes.join_next(), if !lanes.is_empty() => {
                if let Ok((lane, end)) = done {
                    running.remove(&lane);
                    if end == LaneEnd::StoreFailed && !store_failed {
                        warn!("sending to Slack is paused until the store works again; the calls stay in the outbox");
                        store_failed = true;
                    }
                }
            }
        }
    }
    // A call cut off here may have reached Slack; it is made again at the next start if
    // still in time, as after a crash.
    lanes.abort_all();
    while lanes.join_next().await.is_some() {}
}

/// Makes one lane's calls, oldest first, until none is left or shutdown.
async fn run_lane(bot: &Bot, lane: &Lane, shutdown: &CancellationToken) -> LaneEnd {
    let outbox = &bot.outbox;
    // When the lane last looked for calls that cannot start in time, and the outbox's
    // count of calls written then.
    let mut looked_ahead: Option<(tokio::time::Instant, u64)> = None;
    loop {
        if shutdown.is_cancelled() {
            return LaneEnd::Done;
        }
        let now = bot.clock.now();
        match outbox.expire(lane, now.timestamp_millis()) {
            Ok(0) => {}
            Ok(expired) => count_expired(bot, lane, expired),
            Err(e) => {
                warn!(team = %lane.team, method = lane.method, error = %e, "cannot read the outbox");
                return LaneEnd::StoreFailed;
            }
        }
        let puts = outbox.puts();
        if look_ahead_due(looked_ahead.map(|(at, then)| (at.elapsed(), then)), puts) {
            looked_ahead = Some((tokio::time::Instant::now(), puts));
            match drop_unreachable(bot, lane, now.timestamp_millis()) {
                Ok(0) => {}
                Ok(dropped) => count_expired(bot, lane, dropped),
                Err(e) => {
                    warn!(team = %lane.team, method = lane.method, error = %e, "cannot read the outbox");
                    return LaneEnd::StoreFailed;
                }
            }
        }
        let waiting = match outbox.oldest(lane, MERGE_WINDOW_MS, MERGE_LOOK_AHEAD) {
            Ok(waiting) if waiting.is_empty() => return LaneEnd::Done,
            Ok(waiting) => waiting,
            Err(e) => {
                warn!(team = %lane.team, method = lane.method, error = %e, "cannot read the outbox");
                return LaneEnd::StoreFailed;
            }
        };
        let batch = merge_notes(&waiting);
        let deadline_ms = batch.iter().map(|w| w.deadline_ms).min().unwrap_or(0);
        let left =
            Duration::from_millis(u64::try_from(deadline_ms - now.timestamp_millis()).unwrap_or(0));
        let deadline = tokio::time::Instant::now() + left;
        let sent = tokio::select! {
            _ = shutdown.cancelled() => return LaneEnd::Done,
            sent = make(bot, &lane.team, &batch, deadline) => sent,
        };
        let done = match sent {
            Ok(()) => {
                debug!(team = %lane.team, method = lane.method, merged = batch.len(), "call made");
                true
            }
            Err(ApiError::Expired { .. }) => {
                info!(team = %lane.team, method = lane.method, "not sent: too late to be useful");
                count_expired(bot, lane, batch.len());
                // Slower than expected: those behind it may no longer make it either.
                looked_ahead = None;
                true
            }
            Err(refused @ ApiError::Refused { .. }) => {
                // Logged with the method and code by the Web API door; nothing to try again.
                debug!(team = %lane.team, error = %refused, "call dropped");
                true
            }
            Err(unavailable @ ApiError::Unavailable { .. }) => {
                warn!(team = %lane.team, method = lane.method, error = %unavailable, "Slack did not take a call; trying again until its deadline");
                tokio::select! {
                    _ = shutdown.cancelled() => return LaneEnd::Done,
                    _ = tokio::time::sleep(RETRY_PAUSE.min(left)) => {}
                }
                looked_ahead = None;
                false
            }
        };
        if done {
            let now_ms = bot.clock.now().timestamp_millis();
            let removed: Result<(), StoreError> = batch
                .iter()
                .try_for_each(|waiting| outbox.made(waiting, now_ms));
            bot.store.flush_soon();
            if let Err(e) = removed {
                warn!(team = %lane.team, method = lane.method, error = %e, "cannot take a made call out of the outbox; it may be made again once the store works, or after a restart");
                return LaneEnd::StoreFailed;
            }
        }
    }
}

/// Whether a lane looks for calls that cannot start in time ([`drop_unreachable`]), given
/// how long ago it last looked and the outbox's count of calls written then, and that count
/// now: when it starts, at most every [`UNREACHABLE_EVERY`] while calls come in, every
/// [`UNREACHABLE_QUIET`] otherwise. Looking decodes up to [`UNREACHABLE_LOOK`] calls.
fn look_ahead_due(last: Option<(Duration, u64)>, puts: u64) -> bool {
    last.is_none_or(|(since, puts_then)| {
        since >= UNREACHABLE_QUIET || (since >= UNREACHABLE_EVERY && puts != puts_then)
    })
}

/// Drops the lane's calls that cannot start before their deadline behind the others at the
/// method's pace ([`unreachable`]): after a burst, a note that would arrive too late is
/// counted at once rather than when its deadline passes. Returns how many.
fn drop_unreachable(bot: &Bot, lane: &Lane, now_ms: i64) -> Result<usize, StoreError> {
    let waiting = bot.outbox.oldest(
        lane,
        super::NOTE_LIFETIME.num_milliseconds(),
        UNREACHABLE_LOOK,
    )?;
    let api = bot.slack.team(&lane.team);
    let turn_ms = |turn: usize| {
        i64::try_from(api.turn_of(&lane.method, turn).as_millis()).unwrap_or(i64::MAX / 2)
    };
    let late = unreachable(&waiting, now_ms, turn_ms);
    for &index in &late {
        bot.outbox.remove(&waiting[index].key)?;
    }
    Ok(late.len())
}

fn count_expired(bot: &Bot, lane: &Lane, expired: usize) {
    info!(team = %lane.team, method = lane.method, expired, "calls dropped: too late to be useful");
    for _ in 0..expired {
        bot.metrics.inc(Counter::NotesExpired, &[]);
    }
}

/// Makes the call of `batch` (several notes merged into one, or one other call), giving up
/// with [`ApiError::Expired`] when it cannot start before `deadline`.
async fn make(
    bot: &Bot,
    team: &TeamId,
    batch: &[&Waiting<OutgoingCall>],
    deadline: tokio::time::Instant,
) -> Result<(), ApiError> {
    let Some(first) = batch.first() else {
        return Ok(());
    };
    match &first.call {
        OutgoingCall::Note {
            channel,
            user,
            thread_ts,
            ..
        } => {
            let note = merged_note(batch);
            let mut request = SlackApiChatPostEphemeralRequest::new(
                SlackChannelId::new(channel.as_str().into()),
                SlackUserId::new(user.as_str().into()),
                blocks::note(&note),
            );
            if let Some(thread) = thread_ts {
                request = request.with_thread_ts(SlackTs::new(thread.clone()));
            }
            bot.slack
                .team(team)
                .post_ephemeral_before(request, deadline)
                .await?;
        }
        OutgoingCall::Reaction { channel, ts, emoji } => {
            let request = SlackApiReactionsAddRequest::new(
                SlackChannelId::new(channel.as_str().into()),
                SlackReactionName::new(emoji.clone()),
                SlackTs::new(ts.clone()),
            );
            let made = bot
                .slack
                .team(team)
                .call_before(
                    "reactions.add",
                    Some(channel.as_str()),
                    Some(deadline),
                    |client, token| {
                        let request = request.clone();
                        async move { client.open_session(&token).reactions_add(&request).await }
                    },
                )
                .await;
            match made {
                // Someone (or an earlier attempt) put the same reaction there: done.
                Err(e) if e.code() == Some("already_reacted") => {}
                other => {
                    other?;
                }
            }
        }
        OutgoingCall::ThreadReply {
            channel,
            thread_ts,
            text,
        } => {
            let request = SlackApiChatPostMessageRequest::new(
                SlackChannelId::new(channel.as_str().into()),
                SlackMessageContent::new().with_text(text.clone()),
            )
            .with_thread_ts(SlackTs::new(thread_ts.clone()));
            bot.slack
                .team(team)
                .call_before(
                    "chat.postMessage",
                    Some(channel.as_str()),
                    Some(deadline),
                    |client, token| {
                        let request = request.clone();
                        async move {
                            client
                                .open_session(&token)
                                .chat_post_message(&request)
                                .await
                        }
                    },
                )
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(channel: &str, user: &str, line: &str, deadline_ms: i64) -> Waiting<OutgoingCall> {
        Waiting {
            key: format!("{deadline_ms}/{line}").into_bytes(),
            deadline_ms,
            call: OutgoingCall::Note {
                channel: ChannelId::new(channel),
                user: UserId::new(user),
                thread_ts: None,
                sections: vec![NoteSection {
                    lines: vec![line.to_string()],
                    button: None,
                }],
            },
        }
    }

    #[test]
    fn a_call_that_cannot_start_before_its_deadline_is_not_kept() {
        // One turn a second from now.
        let turn_of = |n: usize| Duration::from_secs(n as u64);
        let left = chrono::TimeDelta::seconds(100);
        assert!(!cannot_arrive(0, 1, left, turn_of));
        assert!(!cannot_arrive(100, 1, left, turn_of));
        assert!(cannot_arrive(101, 1, left, turn_of), "behind 101 calls");
        assert!(
            !cannot_arrive(500, MAX_MERGED, left, turn_of),
            "notes may go five to a call"
        );
        assert!(cannot_arrive(505, MAX_MERGED, left, turn_of));
        assert!(
            cannot_arrive(0, 1, chrono::TimeDelta::seconds(-1), turn_of),
            "its deadline passed"
        );
    }

    #[test]
    fn notes_to_one_sender_in_one_conversation_merge_and_others_wait() {
        let waiting = vec![
            note("C1", "U1", "first", 1_000),
            note("C1", "U2", "someone else", 1_100),
            note("C2", "U1", "another channel", 1_200),
            note("C1", "U1", "second", 1_300),
            note("C1", "U1", "first", 1_400),
        ];
        let batch = merge_notes(&waiting);
        assert_eq!(batch.len(), 3);
        let merged = merged_note(&batch);
        assert_eq!(
            merged.text(),
            "first\n\nsecond",
            "a section said twice is said once"
        );
    }

    #[test]
    fn at_most_a_few_notes_merge_into_one() {
        let waiting: Vec<_> = (0..20)
            .map(|index| note("C1", "U1", &format!("line {index}"), index))
            .collect();
        assert_eq!(merge_notes(&waiting).len(), MAX_MERGED);
    }

    #[test]
    fn calls_that_cannot_start_before_their_deadline_are_found_at_once() {
        // One call a second; the first three notes have 2.5 s left, the rest more.
        let turn_ms = |turn: usize| 1_000 * turn as i64;
        let waiting = vec![
            note("C1", "U1", "a", 2_500),
            note("C1", "U2", "b", 2_500),
            note("C1", "U3", "c", 2_500),
            note("C1", "U1", "merges with a", 2_600),
            note("C1", "U4", "d", 3_500),
            note("C1", "U5", "e", 3_600),
            note("C1", "U6", "f", 9_000),
        ];
        // a, b and c take turns 0, 1 and 2 (2 s < 2.5 s); "merges with a" goes with a;
        // d's turn would be 3 s < 3.5 s; e's 4 s > 3.6 s, so e is late and takes no turn;
        // f gets turn 4.
        assert_eq!(unreachable(&waiting, 0, turn_ms), [5]);
        assert_eq!(
            unreachable(&waiting, 1_000, turn_ms),
            [2, 5],
            "a second later c misses its turn; d takes it"
        );
        assert!(unreachable(&[], 0, turn_ms).is_empty());
        // Merging stops at the most a note can hold.
        let six: Vec<_> = (0..=MAX_MERGED)
            .map(|i| note("C1", "U1", &format!("{i}"), 500))
            .collect();
        assert_eq!(unreachable(&six, 0, turn_ms), [MAX_MERGED]);
    }

    #[test]
    fn a_lane_looks_ahead_again_often_while_calls_come_and_rarely_when_none_do() {
        let second = Duration::from_secs(1);
        assert!(look_ahead_due(None, 0));
        assert!(!look_ahead_due(Some((second / 2, 3)), 4));
        assert!(look_ahead_due(Some((second, 3)), 4));
        assert!(!look_ahead_due(Some((second * 29, 4)), 4));
        assert!(look_ahead_due(Some((UNREACHABLE_QUIET, 4)), 4));
    }

    #[test]
    fn a_reaction_goes_alone() {
        let waiting = vec![Waiting {
            key: b"k".to_vec(),
            deadline_ms: 1,
            call: OutgoingCall::Reaction {
                channel: ChannelId::new("C1"),
                ts: "1.2".into(),
                emoji: "eyes".into(),
            },
        }];
        assert_eq!(merge_notes(&waiting).len(), 1);
        assert_eq!(waiting[0].call.method(), "reactions.add");
    }

    #[test]
    fn calls_are_kept_as_json_a_reader_can_follow() {
        let call = note("C1", "U1", "hi", 5).call;
        let json = serde_json::to_string(&call).unwrap();
        assert!(
            json.starts_with(r#"{"call":"note","channel":"C1","user":"U1""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<OutgoingCall>(&json).unwrap(), call);
    }
}

//! Event intake: the few milliseconds between Slack's POST and our 200. An event is read
//! into what handling needs of it (its envelope, and [`Bot::distil`]: ids, the urgency
//! scan's findings, never the text), journaled and flushed, and then queued for the worker;
//! the answer never waits for the work. A redelivery of an event
//! already journaled is answered 200 and dropped here.

use crate::bot::Bot;
use crate::bot::worker::{EventQueue, Handover};
use crate::ids::TeamId;
use crate::metrics::{Counter, Metrics};
use crate::slack::installation::{Installations, PayloadScope};
use crate::slack::payloads::read_envelope;
use crate::store::journal::{Admission, EventJournal};
use crate::store::{Store, StoreError};

/// What the HTTP layer answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// `url_verification`: echo the challenge.
    Challenge(String),
    /// Journaled and queued.
    Accepted,
    /// Seen before (a retry): nothing more to do.
    Duplicate,
    /// Valid, but nothing for us (`app_rate_limited`, an unknown envelope type).
    Ignored(String),
    /// For a team or app not installed here: answered, counted, not kept.
    Foreign,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The body is not an Events API envelope: the sender gets a 400.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// The journal could not be written or flushed: the sender gets a 503 and Slack retries.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Journals events and hands them to the worker. Clone it freely.
#[derive(Clone)]
pub struct EventIntake {
    bot: std::sync::Arc<Bot>,
    store: Store,
    journal: EventJournal,
    queue: EventQueue,
    metrics: std::sync::Arc<Metrics>,
    installations: std::sync::Arc<Installations>,
}

impl EventIntake {
    pub fn new(
        bot: std::sync::Arc<Bot>,
        store: Store,
        journal: EventJournal,
        queue: EventQueue,
        metrics: std::sync::Arc<Metrics>,
        installations: std::sync::Arc<Installations>,
    ) -> Self {
        Self {
            bot,
            store,
            journal,
            queue,
            metrics,
            installations,
        }
    }

    /// Whether an event is for an installation here (counted when it is not); see
    /// [`Bot::admit`].
    pub fn admits(&self, scope: &PayloadScope) -> bool {
        self.bot.admit("events", scope)
    }

    /// Takes an Events API request body (already verified).
    pub async fn accept_body(&self, body: &[u8], now_unix: i64) -> Result<Intake, IntakeError> {
        let envelope = read_envelope(body).map_err(|e| IntakeError::Malformed(e.to_string()))?;
        match envelope.kind.as_str() {
            "url_verification" => envelope.challenge.map(Intake::Challenge).ok_or_else(|| {
                IntakeError::Malformed("url_verification without a challenge".into())
            }),
            "event_callback" if !self.admits(&envelope.payload_scope()) => Ok(Intake::Foreign),
            "event_callback" => {
                // Handled under its installation: the team, or the organisation of an
                // org-wide install.
                let team = self
                    .installations
                    .scope_of(
                        envelope.team_id.as_deref(),
                        envelope.enterprise_id.as_deref(),
                    )
                    .ok_or_else(|| {
                        IntakeError::Malformed(
                            "event_callback without team_id or enterprise_id".into(),
                        )
                    })?;
                if let (Some(org), Some(teams)) = (
                    envelope.enterprise_id.as_deref(),
                    envelope
                        .event
                        .as_ref()
                        .and_then(|event| event.team_ids.as_deref()),
                ) && envelope
                    .event
                    .as_ref()
                    .and_then(|event| event.kind.as_deref())
                    == Some("team_access_granted")
                {
                    self.bot.grant_workspaces(org, teams);
                }
                let event_id = envelope.event_id.ok_or_else(|| {
                    IntakeError::Malformed("event_callback without event_id".into())
                })?;
                let event_type = envelope
                    .event
                    .ok_or_else(|| {
                        IntakeError::Malformed("event_callback without an event".into())
                    })?
                    .kind
                    .unwrap_or_else(|| "unknown".into());
                self.accept_callback(&team, &event_id, &event_type, body, now_unix)
                    .await
            }
            other => {
                // `app_rate_limited` and any envelope Slack adds later: acknowledge, do nothing.
                tracing::warn!(envelope = other, "event envelope not handled");
                Ok(Intake::Ignored(other.to_string()))
            }
        }
    }

    /// Journals one `event_callback` (from HTTP or Socket Mode) and queues it.
    pub async fn accept_callback(
        &self,
        team: &TeamId,
        event_id: &str,
        event_type: &str,
        raw: &[u8],
        now_unix: i64,
    ) -> Result<Intake, IntakeError> {
        if event_id.is_empty()
            || event_id.len() > 128
            || team.as_str().is_empty()
            || team.as_str().contains('/')
        {
            return Err(IntakeError::Malformed(
                "team_id or event_id is not a Slack id".into(),
            ));
        }
        // Only what handling needs is written: never the text (see `bot::distil`).
        let distilled = self.bot.distil(team, raw, event_type)?;
        let (admission, key) = self.journal.admit(team, event_id, &distilled, now_unix)?;
        // Durable before Slack hears "200": a crash after this point loses nothing. A
        // redelivery is flushed too, since its first copy may still be on its way to disk.
        // The journal is all an admission writes.
        self.store.flush_journal().await?;
        if admission == Admission::Duplicate {
            self.metrics.inc(Counter::EventsDuplicate, &[]);
            return Ok(Intake::Duplicate);
        }
        self.metrics
            .inc(Counter::EventsReceived, &[("type", event_type)]);
        match self.queue.push(key) {
            Handover::Queued => {}
            Handover::Deferred => self.metrics.inc(Counter::EventsDeferred, &[]),
            Handover::Stopped => {
                tracing::info!(event_id, "worker stopped; event kept for the next start");
            }
        }
        Ok(Intake::Accepted)
    }

    /// Events journaled and not yet handled.
    pub fn pending_len(&self) -> usize {
        self.journal.pending_len()
    }

    /// Events waiting for the worker in memory (the others wait in the journal only).
    pub fn queued_len(&self) -> usize {
        self.queue.len()
    }
}

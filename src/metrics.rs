//! Counters for `GET /metrics`, in Prometheus' text format. A handful of counters with a
//! few labels each: a mutex-guarded map is plenty, and it is never held across an await.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// The counters the bot exports, with their help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counter {
    HttpRequests,
    SignatureRejections,
    EventsReceived,
    EventsDuplicate,
    EventsDeferred,
    EventsHandled,
    EventsFailed,
    EventsSetAside,
    NotesExpired,
    RetentionSweeps,
    AnswersExpired,
    ForeignPayloads,
    Commands,
    Interactions,
    SlackApiCalls,
    SlackApiErrors,
    SlackApiRateLimited,
}

impl Counter {
    fn name(self) -> &'static str {
        match self {
            Counter::HttpRequests => "async_norms_http_requests_total",
            Counter::SignatureRejections => "async_norms_signature_rejections_total",
            Counter::EventsReceived => "async_norms_events_received_total",
            Counter::EventsDuplicate => "async_norms_events_duplicate_total",
            Counter::EventsDeferred => "async_norms_events_deferred_total",
            Counter::EventsHandled => "async_norms_events_handled_total",
            Counter::EventsFailed => "async_norms_events_failed_total",
            Counter::EventsSetAside => "async_norms_events_set_aside_total",
            Counter::NotesExpired => "async_norms_notes_expired_total",
            Counter::RetentionSweeps => "async_norms_retention_sweeps_total",
            Counter::AnswersExpired => "async_norms_answers_expired_total",
            Counter::ForeignPayloads => "async_norms_foreign_payloads_total",
            Counter::Commands => "async_norms_commands_total",
            Counter::Interactions => "async_norms_interactions_total",
            Counter::SlackApiCalls => "async_norms_slack_api_calls_total",
            Counter::SlackApiErrors => "async_norms_slack_api_errors_total",
            Counter::SlackApiRateLimited => "async_norms_slack_api_rate_limited_total",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Counter::HttpRequests => "HTTP requests answered, by route and status.",
            Counter::SignatureRejections => {
                "Requests refused for a missing, wrong or stale Slack signature."
            }
            Counter::EventsReceived => "Events API events accepted, by event type.",
            Counter::EventsDuplicate => "Redelivered events recognised and not processed again.",
            Counter::EventsDeferred => {
                "Events left in the journal only, because the worker's queue was full."
            }
            Counter::EventsHandled => "Events handled to the end, by event type.",
            Counter::EventsFailed => {
                "Events whose handling failed after every retry, by event type."
            }
            Counter::EventsSetAside => {
                "Events given up after every attempt and set aside (see `async-norms set-aside`), by event type."
            }
            Counter::NotesExpired => {
                "Private notes not sent because they could not reach the sender in time."
            }
            Counter::RetentionSweeps => {
                "Looks for check-in answers past their retention (one an hour by the bot's clock)."
            }
            Counter::AnswersExpired => "Check-in answers deleted at the end of their retention.",
            Counter::ForeignPayloads => {
                "Payloads for a team or app not installed here, answered and not processed, by route."
            }
            Counter::Commands => "Slash commands answered, by subcommand.",
            Counter::Interactions => "Interactivity payloads received, by type.",
            Counter::SlackApiCalls => "Slack Web API calls made, by method.",
            Counter::SlackApiErrors => "Slack Web API calls that failed, by method and error.",
            Counter::SlackApiRateLimited => "HTTP 429 answers from Slack, by method.",
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(Counter, String), u64>>,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one to `counter` with these labels (`[("route", "/slack/events")]`).
    pub fn inc(&self, counter: Counter, labels: &[(&str, &str)]) {
        let mut rendered = String::new();
        for (index, (name, value)) in labels.iter().enumerate() {
            if index > 0 {
                rendered.push(',');
            }
            let _ = write!(rendered, "{name}=\"{}\"", escape_label(value));
        }
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        *counters.entry((counter, rendered)).or_insert(0) += 1;
    }

    /// The current value of a counter summed over its labels (for tests and logs).
    pub fn total(&self, counter: Counter) -> u64 {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        counters
            .iter()
            .filter(|((c, _), _)| *c == counter)
            .map(|(_, value)| value)
            .sum()
    }

    /// Prometheus text exposition; `gauges` are added as they are given (name, help, value).
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let mut last: Option<Counter> = None;
        for ((counter, labels), value) in counters.iter() {
            if last != Some(*counter) {
                let _ = writeln!(out, "# HELP {} {}", counter.name(), counter.help());
                let _ = writeln!(out, "# TYPE {} counter", counter.name());
                last = Some(*counter);
            }
            if labels.is_empty() {
                let _ = writeln!(out, "{} {value}", counter.name());
            } else {
                let _ = writeln!(out, "{}{{{labels}}} {value}", counter.name());
            }
        }
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_prometheus_text_format() {
        let metrics = Metrics::new();
        metrics.inc(Counter::EventsReceived, &[("type", "message")]);
        metrics.inc(Counter::EventsReceived, &[("type", "message")]);
        metrics.inc(Counter::EventsReceived, &[("type", "app_\"mention")]);
        metrics.inc(Counter::SignatureRejections, &[]);
        let text = metrics.render(&[(
            "async_norms_journal_pending",
            "Events not yet handled.",
            3.0,
        )]);
        assert!(text.contains("# TYPE async_norms_events_received_total counter"));
        assert!(text.contains("async_norms_events_received_total{type=\"message\"} 2"));
        assert!(text.contains("async_norms_events_received_total{type=\"app_\\\"mention\"} 1"));
        assert!(text.contains("async_norms_signature_rejections_total 1"));
        assert!(text.contains("async_norms_journal_pending 3"));
        assert_eq!(metrics.total(Counter::EventsReceived), 3);
    }
}

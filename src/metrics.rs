//! What `GET /metrics` exports, kept by `prometheus-client` (the Prometheus project's own
//! Rust client) and written in its OpenMetrics text format: counters by label, histograms
//! of latency (acknowledging Slack, handling an event, each Web API method), gauges read
//! at scrape time, and `async_norms_build_info`. Counters that need no label exist from
//! zero, as do the labelled series the bot always has (events by type, the routes).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter as PromCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram as PromHistogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// The counters the bot exports, with their help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Counter {
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
    CheckinSteps,
    ForeignPayloads,
    Commands,
    Interactions,
    SlackApiCalls,
    SlackApiErrors,
    SlackApiRateLimited,
}

const COUNTERS: [Counter; 18] = [
    Counter::HttpRequests,
    Counter::SignatureRejections,
    Counter::EventsReceived,
    Counter::EventsDuplicate,
    Counter::EventsDeferred,
    Counter::EventsHandled,
    Counter::EventsFailed,
    Counter::EventsSetAside,
    Counter::NotesExpired,
    Counter::RetentionSweeps,
    Counter::AnswersExpired,
    Counter::CheckinSteps,
    Counter::ForeignPayloads,
    Counter::Commands,
    Counter::Interactions,
    Counter::SlackApiCalls,
    Counter::SlackApiErrors,
    Counter::SlackApiRateLimited,
];

/// The event types the bot handles: their series exist from the start.
const EVENT_TYPES: [&str; 6] = [
    "message",
    "app_mention",
    "app_home_opened",
    "user_change",
    "app_uninstalled",
    "tokens_revoked",
];

impl Counter {
    /// The family's name; the exposition adds `_total`.
    fn name(self) -> &'static str {
        match self {
            Counter::HttpRequests => "async_norms_http_requests",
            Counter::SignatureRejections => "async_norms_signature_rejections",
            Counter::EventsReceived => "async_norms_events_received",
            Counter::EventsDuplicate => "async_norms_events_duplicate",
            Counter::EventsDeferred => "async_norms_events_deferred",
            Counter::EventsHandled => "async_norms_events_handled",
            Counter::EventsFailed => "async_norms_events_failed",
            Counter::EventsSetAside => "async_norms_events_set_aside",
            Counter::NotesExpired => "async_norms_notes_expired",
            Counter::RetentionSweeps => "async_norms_retention_sweeps",
            Counter::AnswersExpired => "async_norms_answers_expired",
            Counter::CheckinSteps => "async_norms_checkin_steps",
            Counter::ForeignPayloads => "async_norms_foreign_payloads",
            Counter::Commands => "async_norms_commands",
            Counter::Interactions => "async_norms_interactions",
            Counter::SlackApiCalls => "async_norms_slack_api_calls",
            Counter::SlackApiErrors => "async_norms_slack_api_errors",
            Counter::SlackApiRateLimited => "async_norms_slack_api_rate_limited",
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
                "Events whose handling failed for good, by reason (gave_up, panicked, permanent)."
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
            Counter::CheckinSteps => {
                "Check-in occurrence steps done and saved, by step (prompted, reminded, reported, skipped)."
            }
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

    /// The series that exist before anything happened.
    fn zero_series(self) -> Vec<Labels> {
        let by = |name: &str, values: &[&str]| -> Vec<Labels> {
            values
                .iter()
                .map(|value| vec![(name.to_string(), value.to_string())])
                .collect()
        };
        match self {
            Counter::SignatureRejections
            | Counter::EventsDuplicate
            | Counter::EventsDeferred
            | Counter::NotesExpired
            | Counter::RetentionSweeps
            | Counter::AnswersExpired => vec![Vec::new()],
            Counter::EventsReceived | Counter::EventsHandled | Counter::EventsSetAside => {
                by("type", &EVENT_TYPES)
            }
            Counter::EventsFailed => by("reason", &["gave_up", "panicked", "permanent"]),
            Counter::CheckinSteps => by("step", &["prompted", "reminded", "reported", "skipped"]),
            Counter::ForeignPayloads => by("route", &["events", "commands", "interactivity"]),
            Counter::HttpRequests
            | Counter::Commands
            | Counter::Interactions
            | Counter::SlackApiCalls
            | Counter::SlackApiErrors
            | Counter::SlackApiRateLimited => Vec::new(),
        }
    }
}

/// The latencies the bot measures, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Histogram {
    /// From a request (or Socket Mode envelope) arriving to its answer, by route.
    Acknowledgement,
    /// From the worker taking an event to its handling ending, by event type.
    Handling,
    /// One Web API call, each attempt, by method.
    SlackApi,
}

const HISTOGRAMS: [Histogram; 3] = [
    Histogram::Acknowledgement,
    Histogram::Handling,
    Histogram::SlackApi,
];

impl Histogram {
    fn name(self) -> &'static str {
        match self {
            Histogram::Acknowledgement => "async_norms_ack_seconds",
            Histogram::Handling => "async_norms_handling_seconds",
            Histogram::SlackApi => "async_norms_slack_api_seconds",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Histogram::Acknowledgement => {
                "Time from a request arriving to its answer (Slack wants it within 3 s), by route."
            }
            Histogram::Handling => "Time to handle one event in the worker, by event type.",
            Histogram::SlackApi => {
                "Time of one Slack Web API attempt, from sending to its answer, by method."
            }
        }
    }
}

fn new_histogram() -> PromHistogram {
    // 1 ms to about 33 s, doubling.
    PromHistogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Every metric of one bot.
pub(crate) struct Metrics {
    registry: Mutex<Registry>,
    counters: BTreeMap<Counter, Family<Labels, PromCounter>>,
    histograms: BTreeMap<Histogram, Family<Labels, PromHistogram>>,
    /// Gauges read at scrape time, registered the first time they are given.
    gauges: Mutex<BTreeMap<String, Gauge<f64, AtomicU64>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let mut counters = BTreeMap::new();
        for counter in COUNTERS {
            let family = Family::<Labels, PromCounter>::default();
            for labels in counter.zero_series() {
                let _ = family.get_or_create(&labels);
            }
            registry.register(counter.name(), counter.help(), family.clone());
            counters.insert(counter, family);
        }
        let mut histograms = BTreeMap::new();
        for histogram in HISTOGRAMS {
            let family = Family::<Labels, PromHistogram>::new_with_constructor(
                new_histogram as fn() -> PromHistogram,
            );
            registry.register(histogram.name(), histogram.help(), family.clone());
            histograms.insert(histogram, family);
        }
        registry.register(
            "async_norms_build",
            "The running build: its version.",
            Info::new(vec![(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )]),
        );
        Self {
            registry: Mutex::new(registry),
            counters,
            histograms,
            gauges: Mutex::new(BTreeMap::new()),
        }
    }

    fn labels(labels: &[(&str, &str)]) -> Labels {
        labels
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    /// Adds one to `counter` with these labels (`[("route", "/slack/events")]`).
    pub(crate) fn inc(&self, counter: Counter, labels: &[(&str, &str)]) {
        if let Some(family) = self.counters.get(&counter) {
            family.get_or_create(&Self::labels(labels)).inc();
        }
    }

    /// Records one latency, in seconds.
    pub(crate) fn observe(&self, histogram: Histogram, labels: &[(&str, &str)], seconds: f64) {
        if let Some(family) = self.histograms.get(&histogram) {
            family.get_or_create(&Self::labels(labels)).observe(seconds);
        }
    }

    /// The current value of a counter with exactly these labels.
    #[cfg(test)]
    pub(crate) fn value(&self, counter: Counter, labels: &[(&str, &str)]) -> u64 {
        self.counters.get(&counter).map_or(0, |family| {
            family.get_or_create(&Self::labels(labels)).get()
        })
    }

    /// OpenMetrics text; `gauges` are set first (name, help, value).
    pub(crate) fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let mut known = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        for (name, help, value) in gauges {
            let gauge = known.entry(name.to_string()).or_insert_with(|| {
                let gauge = Gauge::<f64, AtomicU64>::default();
                registry.register(*name, *help, gauge.clone());
                gauge
            });
            gauge.set(*value);
        }
        let mut out = String::new();
        if encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The content type of [`Metrics::render`]'s text.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(
        scrape: &'a prometheus_parse::Scrape,
        metric: &str,
        label: Option<(&str, &str)>,
    ) -> Option<&'a prometheus_parse::Sample> {
        scrape.samples.iter().find(|s| {
            s.metric == metric
                && label.is_none_or(|(name, value)| s.labels.get(name) == Some(value))
        })
    }

    fn parse(text: &str) -> prometheus_parse::Scrape {
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses")
    }

    fn number(sample: Option<&prometheus_parse::Sample>) -> Option<f64> {
        match sample?.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn counters_exist_from_zero_and_count_by_label() {
        let metrics = Metrics::new();
        let text = metrics.render(&[]);
        let scrape = parse(&text);
        assert_eq!(
            number(sample(
                &scrape,
                "async_norms_signature_rejections_total",
                None
            )),
            Some(0.0),
            "{text}"
        );
        assert_eq!(
            number(sample(
                &scrape,
                "async_norms_events_received_total",
                Some(("type", "message"))
            )),
            Some(0.0)
        );
        assert_eq!(
            number(sample(
                &scrape,
                "async_norms_build_info",
                Some(("version", env!("CARGO_PKG_VERSION")))
            )),
            Some(1.0),
            "{text}"
        );
        metrics.inc(Counter::EventsReceived, &[("type", "message")]);
        metrics.inc(Counter::EventsReceived, &[("type", "message")]);
        metrics.inc(Counter::SignatureRejections, &[]);
        let scrape = parse(&metrics.render(&[(
            "async_norms_journal_pending",
            "Events not yet handled.",
            3.0,
        )]));
        assert_eq!(
            number(sample(
                &scrape,
                "async_norms_events_received_total",
                Some(("type", "message"))
            )),
            Some(2.0)
        );
        assert_eq!(
            number(sample(
                &scrape,
                "async_norms_signature_rejections_total",
                None
            )),
            Some(1.0)
        );
        assert_eq!(
            number(sample(&scrape, "async_norms_journal_pending", None)),
            Some(3.0)
        );
        assert_eq!(
            metrics.value(Counter::EventsReceived, &[("type", "message")]),
            2
        );
    }

    #[test]
    fn latencies_fall_in_their_buckets() {
        let metrics = Metrics::new();
        metrics.observe(
            Histogram::SlackApi,
            &[("method", "chat.postMessage")],
            0.003,
        );
        metrics.observe(Histogram::SlackApi, &[("method", "chat.postMessage")], 0.5);
        let text = metrics.render(&[]);
        assert!(
            text.contains("# TYPE async_norms_slack_api_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains("async_norms_slack_api_seconds_count{method=\"chat.postMessage\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "async_norms_slack_api_seconds_bucket{le=\"0.004\",method=\"chat.postMessage\"} 1"
            ) || text.contains(
                "async_norms_slack_api_seconds_bucket{method=\"chat.postMessage\",le=\"0.004\"} 1"
            ),
            "{text}"
        );
    }
}

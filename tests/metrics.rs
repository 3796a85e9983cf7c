//! `/metrics` as Prometheus reads it: the text is parsed by a Prometheus text-format parser,
//! not searched for substrings, so a malformed line, a missing TYPE or a doubled series
//! fails here before a scraper drops it.

mod common;

use std::collections::BTreeSet;

use common::*;
use hyper::StatusCode;

#[tokio::test]
async fn metrics_parse_as_prometheus_text_with_one_type_per_family_and_no_doubled_series() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    let bot = TestBot::start(&emulator).await;
    // Some traffic of each kind, so that labelled series exist.
    post_event(bot.addr, &fixture_json("url_verification.json")).await;
    post_event(bot.addr, &fixture_json("message.json")).await;
    let (status, _) = post_signed(
        bot.addr,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        command_form("help", "U1", "C1", &emulator.response_url()).as_bytes(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, text) = get(bot.addr, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let lines = text.lines().map(|line| Ok(line.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");

    // The parser skips what it cannot read; every sample line must have become a sample
    // (a histogram's buckets become one sample per series).
    let histograms: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" histogram"))
        .collect();
    // The parser folds a histogram's buckets into one sample; its `_sum` and `_count`
    // stay samples of their own.
    let in_histogram = |line: &str| {
        let name = line.split(['{', ' ']).next().unwrap_or("");
        name.ends_with("_bucket") && histograms.contains(family_of(name))
    };
    let sample_lines = text
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#') && !in_histogram(line))
        .count();
    let plain_samples = scrape
        .samples
        .iter()
        .filter(|s| !matches!(s.value, prometheus_parse::Value::Histogram(_)))
        .count();
    assert_eq!(plain_samples, sample_lines, "unreadable lines in:\n{text}");
    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    assert!(sample_lines >= 5, "{text}");

    let mut series = BTreeSet::new();
    for sample in &scrape.samples {
        let family = family_of(&sample.metric);
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{} has no TYPE line",
            sample.metric
        );
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{} has no HELP line",
            sample.metric
        );
        let value = match &sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(_) | prometheus_parse::Value::Summary(_) => 0.0,
        };
        assert!(
            value.is_finite() && value >= 0.0,
            "{}: {value}",
            sample.metric
        );
        let labels: Vec<String> = sample
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert!(
            series.insert((sample.metric.clone(), labels.join(","))),
            "{} {labels:?} appears twice",
            sample.metric
        );
    }
    // Counters are named as Prometheus expects: samples of a counter end in `_total`.
    let counters: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    for sample in &scrape.samples {
        if let Some(family) = sample.metric.strip_suffix("_total") {
            assert!(
                counters.contains(family),
                "{} is not a counter",
                sample.metric
            );
        }
    }
    for family in &counters {
        assert!(
            text.contains(&format!("\n{family}_total")),
            "counter {family} has no _total sample"
        );
    }
    // Counters that need no traffic exist from zero, and the build is named.
    assert!(
        text.contains("\nasync_norms_events_duplicate_total 0\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "async_norms_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    // Latency: acknowledging Slack by route, and each Web API method.
    let histogram = |metric: &str, label: (&str, &str)| {
        scrape.samples.iter().find_map(|s| match &s.value {
            prometheus_parse::Value::Histogram(buckets)
                if s.metric == metric && s.labels.get(label.0) == Some(label.1) =>
            {
                buckets.last().map(|b| b.count)
            }
            _ => None,
        })
    };
    assert!(
        histogram("async_norms_ack_seconds", ("route", "/slack/events")) >= Some(2.0),
        "{text}"
    );
    assert!(
        histogram("async_norms_slack_api_seconds", ("method", "auth.test")) >= Some(1.0),
        "{text}"
    );
    let requests = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "async_norms_http_requests_total")
        .count();
    assert!(requests >= 2, "requests by route and status:\n{text}");
    bot.stop().await;
}

/// The family a sample belongs to: histogram, counter and info samples carry a suffix.
fn family_of(metric: &str) -> &str {
    ["_bucket", "_sum", "_count", "_total", "_info"]
        .iter()
        .find_map(|suffix| metric.strip_suffix(suffix))
        .unwrap_or(metric)
}

/// A label value as the exposition format reads it back: `\\`, `\"` and `\n` unescaped.
fn unescape_label(raw: &str) -> String {
    let mut value = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => value.push('\n'),
                Some(other) => value.push(other),
                None => value.push('\\'),
            },
            (c, false) => value.push(c),
        }
    }
    value
}

#[tokio::test]
async fn a_label_value_with_a_quote_a_backslash_or_a_newline_is_escaped_and_parses_back() {
    let emulator = SlackEmulator::start().await;
    let bot = TestBot::start(&emulator).await;
    // The event type is a label of the events counter, and a signed payload may carry any.
    let odd = "we\"ird\\type\nnext";
    let mut body = event("app_mention.json", "EvOddType");
    body["event"]["type"] = serde_json::json!(odd);
    let (status, _) = post_event(bot.addr, &body).await;
    assert_eq!(status, StatusCode::OK);

    let (_, text) = get(bot.addr, "/metrics").await;
    assert!(
        text.contains(r#"async_norms_events_received_total{type="we\"ird\\type\nnext"} 1"#),
        "{text}"
    );
    let lines = text.lines().map(|line| Ok(line.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    let received: Vec<String> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "async_norms_events_received_total")
        .filter_map(|s| s.labels.get("type").map(unescape_label))
        .collect();
    assert!(received.iter().any(|t| t == odd), "{received:?}");
    // Every line of the scrape is still one sample or a comment: nothing was split.
    assert!(
        text.lines().all(|line| line.starts_with('#')
            || line.starts_with("async_norms_")
            || line.is_empty()),
        "{text}"
    );
    bot.stop().await;
}

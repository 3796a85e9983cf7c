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

    // The parser skips what it cannot read; every sample line must have become a sample.
    let sample_lines = text
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .count();
    assert_eq!(
        scrape.samples.len(),
        sample_lines,
        "unreadable lines in:\n{text}"
    );
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
    // Counters are named as Prometheus expects.
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let mut words = line.split_whitespace().skip(2);
        let (name, kind) = (words.next().unwrap(), words.next().unwrap());
        if kind == "counter" {
            assert!(name.ends_with("_total"), "counter {name}");
        }
    }
    let requests = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "async_norms_http_requests_total")
        .count();
    assert!(requests >= 2, "requests by route and status:\n{text}");
    bot.stop().await;
}

/// The family a sample belongs to: histogram and summary samples carry a suffix.
fn family_of(metric: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| metric.strip_suffix(suffix))
        .unwrap_or(metric)
}

//! Load tool: sends signed Events API `message` events to a running bot on loopback and
//! reports how fast and how quickly they were acknowledged.
//!
//! ```sh
//! cargo run --release --example load -- --url http://127.0.0.1:3000 --secret local \
//!     --count 20000 --concurrency 32            # as fast as answers come
//! cargo run --release --example load -- --url http://127.0.0.1:3000 --secret local \
//!     --count 10000 --rate 1000                 # a fixed rate (latency from the intended send time,
//!                                               # and from the actual send: sent_p50_ms, sent_p99_ms)
//! ```
//!
//! Every event has a unique `event_id`; a share mention members (`<@U0042>`) and a share use
//! urgency words or `<!here>`, like a busy workspace. The run is bounded by `--count` and by
//! `--max-seconds`, and targets only the URL given (keep it on 127.0.0.1).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_norms::config::Secret;
use async_norms::slack::signature;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const PLAIN: [&str; 6] = [
    "Pushed the fix for the flaky login test, PR is up for review when you have a minute.",
    "Notes from the design review are in the doc; comments welcome before Thursday.",
    "Does anyone know where the staging credentials moved to after the migration?",
    "Deploy of 4.12 went out cleanly, dashboards look normal.",
    "I will be offline tomorrow afternoon, back on Friday morning.",
    "Thanks for the quick turnaround on the copy changes!",
];
const URGENT: [&str; 3] = [
    "URGENT: need the Q3 numbers ASAP <!here>",
    "Can someone look at this right now? Customer is waiting!!!",
    "<!channel> emergency: the build is red again, fix immediately",
];

struct Options {
    url: String,
    secret: String,
    count: usize,
    concurrency: usize,
    rate: Option<f64>,
    max_seconds: u64,
    mention_share: f64,
    urgent_share: f64,
    team: String,
    /// `events` (the bot's /slack/events) or `ephemeral` (a Slack API's chat.postEphemeral,
    /// to measure the emulator alone).
    target: String,
}

fn options() -> Options {
    let mut options = Options {
        url: "http://127.0.0.1:3000".into(),
        secret: String::new(),
        count: 10_000,
        concurrency: 32,
        rate: None,
        max_seconds: 120,
        mention_share: 0.2,
        urgent_share: 0.1,
        team: "T111".into(),
        target: "events".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number = |v: &str| {
            v.parse::<f64>()
                .unwrap_or_else(|_| usage(&format!("{flag}: `{v}` is not a number")))
        };
        match flag.as_str() {
            "--url" => options.url = value.trim_end_matches('/').to_string(),
            "--secret" => options.secret = value,
            "--count" => options.count = number(&value) as usize,
            "--concurrency" => options.concurrency = (number(&value) as usize).max(1),
            "--rate" => options.rate = Some(number(&value)).filter(|r| *r > 0.0),
            "--max-seconds" => options.max_seconds = number(&value) as u64,
            "--mention-share" => options.mention_share = number(&value),
            "--urgent-share" => options.urgent_share = number(&value),
            "--team" => options.team = value,
            "--target" if value == "events" || value == "ephemeral" => options.target = value,
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    if options.secret.is_empty() && options.target == "events" {
        usage("--secret (the bot's SLACK_SIGNING_SECRET) is required");
    }
    options
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: load --url URL --secret S [--count N] [--concurrency N] [--rate PER_SECOND] [--max-seconds N] [--mention-share F] [--urgent-share F] [--team T]"
    );
    std::process::exit(2);
}

/// A deterministic spread over the event index, so runs are repeatable.
fn share(index: usize, salt: usize, fraction: f64) -> bool {
    let spread = (index.wrapping_mul(2_654_435_761).wrapping_add(salt) % 10_000) as f64 / 10_000.0;
    spread < fraction
}

fn event_body(options: &Options, run: u64, index: usize) -> String {
    let mut text = if share(index, 7, options.urgent_share) {
        URGENT[index % URGENT.len()].to_string()
    } else {
        PLAIN[index % PLAIN.len()].to_string()
    };
    if share(index, 13, options.mention_share) {
        text = format!("<@U{:04}> {text}", index % 200);
    }
    let ts = format!("{}.{:06}", 1_700_000_000 + index / 1000, index % 1_000_000);
    serde_json::json!({
        "token": "load", "team_id": options.team, "api_app_id": "A111", "type": "event_callback",
        "event_id": format!("EvLoad{run}x{index}"), "event_time": 1_700_000_000,
        "event": {
            "type": "message", "channel": format!("C{:04}", index % 50), "user": format!("U{:04}", (index * 7) % 200),
            "text": text, "ts": ts, "event_ts": ts, "channel_type": "channel"
        }
    })
    .to_string()
}

#[tokio::main]
async fn main() {
    let options = Arc::new(options());
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(options.concurrency)
        .build_http::<Full<Bytes>>();
    // Unique across runs, so a second run is never taken for Slack's retries of the first.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.max_seconds);
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (client, options, next) = (client.clone(), options.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let secret = Secret::new(options.secret.clone());
            let mut latencies_us: Vec<u64> = Vec::new();
            let mut service_us: Vec<u64> = Vec::new();
            let mut errors = 0usize;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= options.count || Instant::now() >= deadline {
                    break;
                }
                // At a fixed rate, latency counts from when the event was due, so a slow
                // answer that delays later sends is not hidden.
                let due = match options.rate {
                    Some(rate) => {
                        let due = started + Duration::from_secs_f64(index as f64 / rate);
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let body = event_body(&options, run, index);
                let timestamp = (std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0))
                .to_string();
                let request = hyper::Request::post(format!("{}/slack/events", options.url))
                    .header("content-type", "application/json")
                    .header("x-slack-request-timestamp", &timestamp)
                    .header(
                        "x-slack-signature",
                        signature::sign(&secret, &timestamp, body.as_bytes()),
                    )
                    .body(Full::new(Bytes::from(body)))
                    .expect("a request");
                let sent = Instant::now();
                match client.request(request).await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.into_body().collect().await;
                        latencies_us.push(due.elapsed().as_micros() as u64);
                        service_us.push(sent.elapsed().as_micros() as u64);
                    }
                    Ok(_) | Err(_) => errors += 1,
                }
            }
            (latencies_us, service_us, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut service = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mut worker_latencies, mut worker_service, worker_errors) =
            worker.await.expect("a worker");
        latencies.append(&mut worker_latencies);
        service.append(&mut worker_service);
        errors += worker_errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    service.sort_unstable();
    let at = |sorted: &[u64], q: f64| -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted[index] as f64 / 1000.0
    };
    println!("answered      {}", latencies.len());
    println!("errors        {errors}");
    println!("elapsed_s     {elapsed:.2}");
    println!("answered_per_s {:.0}", latencies.len() as f64 / elapsed);
    // From when each event was due: what a sender sees, including a wait for a free
    // connection and the client's timer (which wakes on whole milliseconds, so up to 1 ms
    // late) when a rate is set.
    println!("p50_ms        {:.2}", at(&latencies, 0.50));
    println!("p99_ms        {:.2}", at(&latencies, 0.99));
    println!("max_ms        {:.2}", at(&latencies, 1.0));
    // From when each request was sent to its answer read: the server's acknowledgement,
    // plus the client's own share (a connection taken from its pool, reading the answer).
    println!("sent_p50_ms   {:.2}", at(&service, 0.50));
    println!("sent_p99_ms   {:.2}", at(&service, 0.99));
    println!("sent_max_ms   {:.2}", at(&service, 1.0));
}

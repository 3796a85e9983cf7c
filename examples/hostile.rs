//! Hostile clients against a running bot on loopback: slow headers, slow bodies, garbage
//! bytes and a flood of idle connections, each while signed events keep arriving. Prints,
//! per phase, how long the bot kept the bad connections open and how quickly the good
//! events were acknowledged. `scripts/hostile.sh` starts a bot and the emulator and runs it.
//!
//! ```sh
//! cargo run --release --example hostile -- --addr 127.0.0.1:3000 --secret local \
//!     --slow 500 --garbage 1000 --flood 10000
//! ```
//!
//! Targets only the address given (keep it on 127.0.0.1); every phase is bounded in time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use async_norms::config::Secret;
use async_norms::slack::signature;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

struct Options {
    addr: SocketAddr,
    secret: String,
    team: String,
    slow: usize,
    garbage: usize,
    flood: usize,
    /// How long a bad connection may stay open before it counts as "still open".
    patience: Duration,
}

fn options() -> Options {
    let mut options = Options {
        addr: "127.0.0.1:3000".parse().expect("an address"),
        secret: String::new(),
        team: "T111".into(),
        slow: 500,
        garbage: 1000,
        flood: 10_000,
        patience: Duration::from_secs(30),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--addr" => options.addr = value.parse().expect("--addr host:port"),
            "--secret" => options.secret = value,
            "--team" => options.team = value,
            "--slow" => options.slow = value.parse().expect("--slow N"),
            "--garbage" => options.garbage = value.parse().expect("--garbage N"),
            "--flood" => options.flood = value.parse().expect("--flood N"),
            "--patience" => {
                options.patience = Duration::from_secs(value.parse().expect("--patience S"))
            }
            other => panic!("unknown flag {other}"),
        }
    }
    options
}

/// Sends one signed event on a fresh connection; the time to its status line.
async fn signed_event(options: &Options, index: usize) -> Option<Duration> {
    let body = format!(
        r#"{{"type":"event_callback","team_id":"{}","api_app_id":"A111","event_id":"EvHostile{}x{index}","event_time":1,"event":{{"type":"message","channel":"C1","user":"U1","text":"status update","ts":"1.{index}"}}}}"#,
        options.team,
        std::process::id()
    );
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = signature::sign(&Secret::new(&options.secret), &timestamp, body.as_bytes());
    let request = format!(
        "POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nX-Slack-Request-Timestamp: {timestamp}\r\n\
         X-Slack-Signature: {signature}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let started = Instant::now();
    let attempt = async {
        let mut stream = TcpStream::connect(options.addr).await.ok()?;
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = [0u8; 16];
        stream.read_exact(&mut answer).await.ok()?;
        answer
            .starts_with(b"HTTP/1.1 200")
            .then(|| started.elapsed())
    };
    tokio::time::timeout(Duration::from_secs(30), attempt)
        .await
        .ok()
        .flatten()
}

/// Acknowledgement times of `count` signed events sent one after another.
async fn good_traffic(options: &Options, count: usize, offset: usize) -> (usize, Vec<Duration>) {
    let mut times = Vec::new();
    let mut failed = 0;
    for index in 0..count {
        match signed_event(options, offset + index).await {
            Some(took) => times.push(took),
            None => failed += 1,
        }
    }
    times.sort();
    (failed, times)
}

fn summary(label: &str, (failed, times): &(usize, Vec<Duration>)) {
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!(
        "  {label}: {} acknowledged, {failed} not; ack p50 {:.1} ms, max {:.1} ms",
        times.len(),
        ms(times.get(times.len() / 2)),
        ms(times.last()),
    );
}

/// How one bad connection ended: closed by the bot after this long, or still open.
type Ending = Option<Duration>;

/// Waits until the bot closes `stream` (reading and dropping whatever it sends).
async fn until_closed(mut stream: TcpStream, opened: Instant, patience: Duration) -> Ending {
    let mut buffer = [0u8; 512];
    let reading = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return opened.elapsed(),
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(patience, reading).await.ok()
}

fn endings(label: &str, endings: &[Ending]) {
    let mut closed: Vec<Duration> = endings.iter().flatten().copied().collect();
    closed.sort();
    let secs = |d: Option<&Duration>| d.map_or(f64::NAN, Duration::as_secs_f64);
    println!(
        "  {label}: {} of {} closed by the bot (median after {:.2} s, last after {:.2} s), {} still open after the patience",
        closed.len(),
        endings.len(),
        secs(closed.get(closed.len() / 2)),
        secs(closed.last()),
        endings.len() - closed.len(),
    );
}

/// Opens `count` connections, each fed by `feed` (which may trickle bytes), and collects
/// how each ended.
async fn bad_connections<F, Fut>(options: &Options, count: usize, feed: F) -> JoinSet<Ending>
where
    F: Fn(TcpStream) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Option<TcpStream>> + Send,
{
    let mut set = JoinSet::new();
    for _ in 0..count {
        let addr = options.addr;
        let patience = options.patience;
        let feed = feed.clone();
        set.spawn(async move {
            let opened = Instant::now();
            let stream = TcpStream::connect(addr).await.ok()?;
            let stream = feed(stream).await?;
            until_closed(stream, opened, patience).await
        });
    }
    set
}

async fn phase<F, Fut>(options: &Options, label: &str, count: usize, offset: usize, feed: F)
where
    F: Fn(TcpStream) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Option<TcpStream>> + Send,
{
    println!("{label}: {count} connections");
    let started = Instant::now();
    let set = bad_connections(options, count, feed).await;
    println!("  opened in {:.2} s", started.elapsed().as_secs_f64());
    summary(
        "signed events meanwhile",
        &good_traffic(options, 20, offset).await,
    );
    let ended: Vec<Ending> = set.join_all().await;
    endings("bad connections", &ended);
}

#[tokio::main]
async fn main() {
    let options = options();
    assert!(!options.secret.is_empty(), "--secret is required");
    assert!(options.addr.ip().is_loopback(), "keep it on loopback");

    println!("baseline");
    summary("signed events", &good_traffic(&options, 20, 0).await);

    phase(
        &options,
        "slow headers (one byte a second)",
        options.slow,
        100,
        |mut stream: TcpStream| async move {
            for byte in b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nX-Pad: "
                .iter()
                .cycle()
                .take(120)
            {
                if stream.write_all(&[*byte]).await.is_err() {
                    return Some(stream);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Some(stream)
        },
    )
    .await;

    phase(
        &options,
        "slow bodies (headers, then a few bytes of a 1 MB body)",
        options.slow,
        200,
        |mut stream: TcpStream| async move {
            let head = format!(
                "POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 1000000\r\n\
             X-Slack-Request-Timestamp: {}\r\nX-Slack-Signature: v0=00\r\n\r\n{{\"type\":",
                chrono::Utc::now().timestamp()
            );
            stream.write_all(head.as_bytes()).await.ok()?;
            Some(stream)
        },
    )
    .await;

    phase(
        &options,
        "garbage bytes (4 KB each)",
        options.garbage,
        300,
        |mut stream: TcpStream| async move {
            // A fixed pseudo-random sequence: the same garbage every run.
            let mut state: u32 = 0x2545_f491;
            let garbage: Vec<u8> = (0..4096)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            let _ = stream.write_all(&garbage).await;
            Some(stream)
        },
    )
    .await;

    phase(
        &options,
        "idle connections",
        options.flood,
        400,
        |stream: TcpStream| async move { Some(stream) },
    )
    .await;

    println!("after");
    summary("signed events", &good_traffic(&options, 20, 500).await);
}

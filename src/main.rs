//! The `async-norms` command line: parses flags, sets up logging, runs one command.

use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use async_norms::checkins::schedule::{Schedule, ScheduleZone, format_rfc3339_utc, preview};
use async_norms::clock::SystemClock;
use async_norms::config::{DEFAULT_DATA_DIR, RawServeSettings, ServeConfig};
use async_norms::norms::{UrgencyLexicon, eval, words};
use async_norms::store::Store;
use async_norms::{app, manifest};

#[derive(Parser)]
#[command(
    name = "async-norms",
    version,
    about = "A Slack bot that keeps the norms of asynchronous work"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Audit a Slack export (folder or .zip) offline: urgency, broadcasts, off-hours
    /// mentions, thread reply times and suggested norms, written as HTML, JSON and SVG.
    Audit(AuditArgs),
    /// Run the bot: Events API and slash commands over HTTP, or Socket Mode.
    Serve(ServeArgs),
    /// Write all stored data as JSON lines (stop the bot first).
    Export {
        #[arg(long, env = "ASYNC_NORMS_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// File to write; standard output when omitted.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Read an export back into a store (stop the bot first).
    Import {
        #[arg(long, env = "ASYNC_NORMS_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// The file written by `export`.
        file: PathBuf,
    },
    /// List the events set aside after every attempt to handle them failed (an error or a
    /// panic), one a line, tab-separated: when (UTC), event (team/event_id), type,
    /// attempts, reason (stop the bot first).
    SetAside {
        #[arg(long, env = "ASYNC_NORMS_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Print the next occurrences of a check-in schedule as RFC 3339 UTC instants, one a line.
    SchedulePreview {
        /// Days: mon-fri, mon,wed,fri, weekdays, daily.
        #[arg(long)]
        days: String,
        /// Wall-clock time, HH:MM.
        #[arg(long)]
        at: String,
        /// IANA time zone the time is in, e.g. Europe/London.
        #[arg(long)]
        tz: String,
        /// First instant to consider (RFC 3339); now when omitted.
        #[arg(long)]
        from: Option<String>,
        /// How many occurrences (1 to 1000).
        #[arg(long, default_value_t = 10)]
        count: usize,
    },
    /// Check the settings, the token, its scopes and the data folder; one line per check.
    Doctor(ServeArgs),
    /// Measure the urgency judgment on labelled messages (JSON lines with "text" and
    /// "label", "demand" or "not"): prints precision, recall and every misjudged message.
    EvalUrgency {
        /// The labelled file, e.g. ../shared/corpora/urgency-dev.jsonl
        file: PathBuf,
        /// Add the shipped word lists of these languages to English (de, es), as a
        /// workspace does with `/async norms keywords add`.
        #[arg(long, value_delimiter = ',')]
        lang: Vec<String>,
    },
    /// Print the Slack app manifest with request URLs for your host.
    Manifest {
        /// The public base URL of the bot, e.g. https://bot.example.com
        #[arg(long)]
        url: Option<String>,
        /// The Socket Mode variant: Socket Mode on, no request URLs.
        #[arg(long)]
        socket_mode: bool,
    },
}

#[derive(clap::Args)]
struct AuditArgs {
    /// The export: the folder or the .zip Slack gives you.
    export: PathBuf,
    /// Folder to write report.html, report.json and heatmap.svg into.
    #[arg(long, default_value = "report")]
    out: PathBuf,
    /// Members' working hours (TOML: user id or name = "mon-fri 09:00-17:00 Europe/Berlin").
    #[arg(long)]
    hours: Option<PathBuf>,
    /// The workspace's norms (TOML: urgent_channels, extra_words, removed_words).
    #[arg(long)]
    norms: Option<PathBuf>,
    /// IANA zone for weeks and the heat map, and for members whose zone is unknown
    /// (default UTC).
    #[arg(long)]
    tz: Option<String>,
    /// Read direct and group messages too (left out by default).
    #[arg(long)]
    include_dms: bool,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Bot token (xoxb-…).
    #[arg(long, env = "SLACK_BOT_TOKEN", hide_env_values = true)]
    bot_token: Option<String>,
    /// Signing secret (HTTP mode).
    #[arg(long, env = "SLACK_SIGNING_SECRET", hide_env_values = true)]
    signing_secret: Option<String>,
    /// App-level token (xapp-…); when set, Socket Mode is used instead of HTTP.
    #[arg(long, env = "SLACK_APP_TOKEN", hide_env_values = true)]
    app_token: Option<String>,
    /// Slack Web API base URL.
    #[arg(long, env = "SLACK_API_URL")]
    api_url: Option<String>,
    /// Address and port to listen on.
    #[arg(long, env = "ASYNC_NORMS_LISTEN")]
    listen: Option<String>,
    /// Folder of the embedded store.
    #[arg(long, env = "ASYNC_NORMS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Time zone of members whose Slack profile has none (IANA name).
    #[arg(long, env = "ASYNC_NORMS_DEFAULT_TZ")]
    default_tz: Option<String>,
    /// Address and port of a second listener for /metrics (and /healthz); when set,
    /// /metrics is not served on the public listener.
    #[arg(long, env = "ASYNC_NORMS_ADMIN_LISTEN")]
    admin_listen: Option<String>,
    /// Seconds a client has to send a whole request, headers and body (default 10).
    #[arg(long, env = "ASYNC_NORMS_REQUEST_DEADLINE")]
    request_deadline: Option<String>,
    /// Connections served at once (default 1024); more wait until one closes.
    #[arg(long, env = "ASYNC_NORMS_MAX_CONNECTIONS")]
    max_connections: Option<String>,
    /// Client ID ("Basic Information"): with the secret and redirect URL, workspaces
    /// install the app through /slack/install.
    #[arg(long, env = "SLACK_CLIENT_ID")]
    client_id: Option<String>,
    /// Client secret ("Basic Information").
    #[arg(long, env = "SLACK_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// The public https://…/slack/oauth_redirect address listed in the manifest.
    #[arg(long, env = "ASYNC_NORMS_REDIRECT_URL")]
    redirect_url: Option<String>,
    /// 64 hex digits: stored bot tokens are encrypted with this key.
    #[arg(long, env = "ASYNC_NORMS_ENCRYPTION_KEY", hide_env_values = true)]
    encryption_key: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(message) = init_logging(std::env::var("ASYNC_NORMS_LOG_FORMAT").ok().as_deref()) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::from(2)
        }
    }
}

/// Log lines go to standard error, filtered by `RUST_LOG`: as text, or with
/// `ASYNC_NORMS_LOG_FORMAT=json` as one JSON object a line for a log shipper.
fn init_logging(format: Option<&str>) -> Result<(), String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.map(str::trim) {
        None | Some("" | "text") => logs.init(),
        Some("json") => logs.json().init(),
        Some(other) => {
            return Err(format!(
                "ASYNC_NORMS_LOG_FORMAT `{other}` is not a log format: use text or json"
            ));
        }
    }
    Ok(())
}

/// An error and its causes on one line, each cause said once: many errors already
/// include their cause in their own message.
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain().map(ToString::to_string) {
        if !text.contains(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Audit(args) => audit(args),
        Command::Serve(args) => serve(args),
        Command::Doctor(args) => doctor(args),
        Command::Export { data_dir, out } => {
            let store = Store::open(&data_dir)?;
            let count = match out {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    store.export(&mut BufWriter::new(file))?
                }
                None => store.export(&mut BufWriter::new(std::io::stdout().lock()))?,
            };
            eprintln!("exported {count} records");
            Ok(())
        }
        Command::Import { data_dir, file } => {
            let store = Store::open(&data_dir)?;
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let count = store.import(BufReader::new(input))?;
            eprintln!("imported {count} records into {}", data_dir.display());
            Ok(())
        }
        Command::SetAside { data_dir } => {
            let store = Store::open(&data_dir)?;
            let events = store.set_aside()?.list()?;
            let mut out = std::io::stdout().lock();
            for event in &events {
                let at = chrono::DateTime::from_timestamp(event.at_unix, 0)
                    .map(format_rfc3339_utc)
                    .unwrap_or_else(|| event.at_unix.to_string());
                writeln!(
                    out,
                    "{at}\t{}\t{}\t{}\t{}",
                    event.key, event.event_type, event.attempts, event.reason
                )?;
            }
            eprintln!("{} events set aside", events.len());
            Ok(())
        }
        Command::SchedulePreview {
            days,
            at,
            tz,
            from,
            count,
        } => schedule_preview(&days, &at, &tz, from.as_deref(), count),
        Command::EvalUrgency { file, lang } => eval_urgency(&file, &lang),
        Command::Manifest { url, socket_mode } => {
            let delivery = match socket_mode {
                true => manifest::Delivery::SocketMode,
                false => manifest::Delivery::Http,
            };
            print!("{}", manifest::render(url.as_deref(), delivery)?);
            Ok(())
        }
    }
}

fn schedule_preview(
    days: &str,
    at: &str,
    tz: &str,
    from: Option<&str>,
    count: usize,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=1000).contains(&count),
        "--count must be between 1 and 1000"
    );
    let schedule = Schedule::from_parts(days, at, tz)?;
    let ScheduleZone::Fixed(zone) = schedule.zone else {
        anyhow::bail!(
            "--tz needs an IANA zone such as Europe/London: `local` depends on each participant"
        );
    };
    let from = match from {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|_| {
                anyhow::anyhow!(
                    "--from `{text}` is not an RFC 3339 instant such as 2026-03-01T00:00:00Z"
                )
            })?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let mut out = std::io::stdout().lock();
    for instant in preview(&schedule, zone, from, count) {
        writeln!(out, "{}", format_rfc3339_utc(instant))?;
    }
    Ok(())
}

fn eval_urgency(file: &std::path::Path, languages: &[String]) -> anyhow::Result<()> {
    let mut added: Vec<&str> = Vec::new();
    for code in languages {
        let Some((_, words)) = words::LANGUAGES.iter().find(|(c, _)| c == code) else {
            anyhow::bail!("--lang `{code}` is not a shipped list; use en, de or es");
        };
        added.extend(words.iter());
    }
    let lexicon = UrgencyLexicon::customised(added, [] as [&str; 0])?;
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let evaluation = eval::evaluate(&lexicon, BufReader::new(input))
        .with_context(|| format!("{} is not a labelled file", file.display()))?;
    print!("{evaluation}");
    Ok(())
}

fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let outcome = async_norms::audit::run(&async_norms::audit::AuditOptions {
        export: args.export,
        out: args.out,
        hours: args.hours,
        norms: args.norms,
        tz: args.tz,
        include_dms: args.include_dms,
        progress: true,
    })?;
    println!("{}", async_norms::audit::summary(&outcome));
    Ok(())
}

impl From<ServeArgs> for RawServeSettings {
    fn from(args: ServeArgs) -> Self {
        Self {
            bot_token: args.bot_token,
            signing_secret: args.signing_secret,
            app_token: args.app_token,
            api_url: args.api_url,
            listen: args.listen,
            data_dir: args.data_dir,
            default_tz: args.default_tz,
            admin_listen: args.admin_listen,
            request_deadline: args.request_deadline,
            max_connections: args.max_connections,
            client_id: args.client_id,
            client_secret: args.client_secret,
            redirect_url: args.redirect_url,
            encryption_key: args.encryption_key,
        }
    }
}

fn doctor(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let checks = runtime.block_on(async_norms::doctor::run(args.into()));
    for check in &checks {
        println!("{check}");
    }
    if async_norms::doctor::failed(&checks) {
        std::process::exit(1);
    }
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = ServeConfig::from_raw(args.into())?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let bot = app::start(config, Arc::new(SystemClock)).await?;
        // A stable line that scripts (and the tests) read to learn the port.
        println!("async-norms listening on http://{}", bot.local_addr());
        if let Some(admin) = bot.admin_addr() {
            println!("async-norms admin (metrics) on http://{admin}");
        }
        let token = bot.shutdown_token();
        tokio::spawn(async move {
            wait_for_signal().await;
            token.cancel();
        });
        bot.wait().await
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::other("File too large");
        let error = anyhow::Error::from(async_norms::store::StoreError::Sled(sled::Error::Io(io)))
            .context("the store could not be flushed at shutdown");
        let text = describe(&error);
        assert_eq!(text.matches("File too large").count(), 1, "{text}");
        assert!(
            text.starts_with("the store could not be flushed at shutdown: the store failed:"),
            "{text}"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(describe(&plain), "outer: inner");
    }
}

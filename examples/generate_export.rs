//! Writes a realistic Slack export (the folder layout and JSON shapes Slack's own export
//! uses) for trying and benchmarking `async-norms audit`. Deterministic: the same flags give
//! the same bytes.
//!
//! ```sh
//! # the sample shipped in examples/sample-export (about 3,000 messages over 4 weeks)
//! cargo run --release --example generate_export -- --out examples/sample-export
//! # the benchmark export: a million messages, in a temporary folder (never commit it)
//! cargo run --release --example generate_export -- --out /tmp/export-1m --messages 1000000
//! ```
//!
//! Members work in Berlin, New York, Bangalore, Tokyo and São Paulo and mostly write inside
//! their own hours; #incidents and #ops carry most of the urgency, #announcements the
//! @channels, #design the slow threads. Bots and channel joins are mixed in, as in a real
//! export.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde_json::{Value, json};

/// A small, fixed pseudo-random generator (SplitMix64): the output must not depend on a
/// crate's version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn id(&mut self, prefix: char) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        let mut id = String::from(prefix);
        id.push('0');
        for _ in 0..9 {
            id.push(ALPHABET[self.below(ALPHABET.len())] as char);
        }
        id
    }
}

struct Person {
    id: String,
    name: String,
    real_name: String,
    tz: Option<Tz>,
    deleted: bool,
    /// Relative share of the messages this person writes.
    activity: f64,
    team: &'static str,
}

const PEOPLE: &[(&str, &str, &str)] = &[
    ("Anna Schmidt", "Europe/Berlin", "eng"),
    ("Jonas Weber", "Europe/Berlin", "eng"),
    ("Lena Fischer", "Europe/Berlin", "ops"),
    ("Felix Wagner", "Europe/Berlin", "eng"),
    ("Mia Becker", "Europe/Berlin", "design"),
    ("Lukas Hoffmann", "Europe/Berlin", "sales"),
    ("Sophie Koch", "Europe/Berlin", "support"),
    ("Paul Richter", "Europe/Berlin", "lead"),
    ("Emily Johnson", "America/New_York", "sales"),
    ("Michael Brown", "America/New_York", "eng"),
    ("Sarah Davis", "America/New_York", "lead"),
    ("David Miller", "America/New_York", "ops"),
    ("Jessica Wilson", "America/New_York", "support"),
    ("Chris Moore", "America/New_York", "sales"),
    ("Ashley Taylor", "America/New_York", "design"),
    ("Priya Sharma", "Asia/Kolkata", "eng"),
    ("Arjun Patel", "Asia/Kolkata", "eng"),
    ("Ananya Iyer", "Asia/Kolkata", "support"),
    ("Rahul Reddy", "Asia/Kolkata", "ops"),
    ("Kavya Nair", "Asia/Kolkata", "eng"),
    ("Vikram Rao", "Asia/Kolkata", "support"),
    ("Yuki Tanaka", "Asia/Tokyo", "eng"),
    ("Haruto Sato", "Asia/Tokyo", "sales"),
    ("Sakura Suzuki", "Asia/Tokyo", "design"),
    ("Ren Takahashi", "Asia/Tokyo", "ops"),
    ("Gabriel Silva", "America/Sao_Paulo", "eng"),
    ("Mariana Santos", "America/Sao_Paulo", "support"),
    ("Lucas Oliveira", "America/Sao_Paulo", "sales"),
    ("Beatriz Souza", "America/Sao_Paulo", "lead"),
    // A contractor whose profile has no zone: the audit reads their hours in UTC.
    ("Alex Morgan", "", "eng"),
];

struct ChannelSpec {
    name: &'static str,
    purpose: &'static str,
    /// Teams whose members are in it; empty for everyone.
    teams: &'static [&'static str],
    weight: f64,
    urgency: f64,
    broadcast: f64,
    /// Share of messages written at any hour rather than in the sender's hours.
    any_hour: f64,
    /// Typical minutes to a first reply.
    reply_minutes: f64,
    topics: &'static [&'static str],
}

const CHANNELS: &[ChannelSpec] = &[
    ChannelSpec {
        name: "general",
        purpose: "Company-wide announcements and work-based matters",
        teams: &[],
        weight: 3.0,
        urgency: 0.02,
        broadcast: 0.012,
        any_hour: 0.08,
        reply_minutes: 45.0,
        topics: &[
            "the all-hands deck is in the shared drive",
            "who has the conference room booking for Thursday",
            "benefits enrolment closes at the end of the month",
            "welcome to everyone who joined this week",
            "the office wifi password changed",
            "the quarterly survey results are in",
        ],
    },
    ChannelSpec {
        name: "random",
        purpose: "Non-work banter and water cooler conversation",
        teams: &[],
        weight: 2.0,
        urgency: 0.004,
        broadcast: 0.002,
        any_hour: 0.25,
        reply_minutes: 30.0,
        topics: &[
            "anyone tried the new ramen place",
            "photos from the weekend hike",
            "what are you reading at the moment",
            "coffee machine on the 3rd floor is fixed",
            "happy birthday to the best team",
        ],
    },
    ChannelSpec {
        name: "engineering",
        purpose: "Design reviews, code questions and releases",
        teams: &["eng", "ops", "lead"],
        weight: 4.0,
        urgency: 0.04,
        broadcast: 0.006,
        any_hour: 0.12,
        reply_minutes: 70.0,
        topics: &[
            "can someone review the pagination PR",
            "the flaky integration test is back",
            "proposal for moving the queue to the new cluster",
            "release notes for 4.2 are drafted",
            "which version of the SDK are we pinning",
            "the staging database needs a migration",
        ],
    },
    ChannelSpec {
        name: "ops",
        purpose: "Infrastructure, deploys and on-call handover",
        teams: &["ops", "eng"],
        weight: 2.0,
        urgency: 0.12,
        broadcast: 0.015,
        any_hour: 0.3,
        reply_minutes: 25.0,
        topics: &[
            "disk usage on the log cluster is at 85%",
            "deploy window for the billing service",
            "certificate renewal for the API gateway",
            "on-call handover notes are in the doc",
            "the backup job took twice as long last night",
        ],
    },
    ChannelSpec {
        name: "incidents",
        purpose: "Real emergencies: outages, security, data loss",
        teams: &["ops", "eng", "lead", "support"],
        weight: 1.2,
        urgency: 0.5,
        broadcast: 0.06,
        any_hour: 0.55,
        reply_minutes: 6.0,
        topics: &[
            "checkout is returning 502s",
            "login latency spiked in eu-west",
            "payments webhook is failing for some merchants",
            "the search index is stale",
            "error rate on the mobile API is climbing",
        ],
    },
    ChannelSpec {
        name: "design",
        purpose: "Design critique and the design system",
        teams: &["design", "eng", "lead"],
        weight: 1.4,
        urgency: 0.01,
        broadcast: 0.004,
        any_hour: 0.1,
        reply_minutes: 420.0,
        topics: &[
            "new onboarding flow mockups for feedback",
            "icon set update in the library",
            "accessibility review of the settings page",
            "should the empty state use the illustration",
        ],
    },
    ChannelSpec {
        name: "sales",
        purpose: "Deals, renewals and customer asks",
        teams: &["sales", "lead", "support"],
        weight: 1.6,
        urgency: 0.09,
        broadcast: 0.01,
        any_hour: 0.15,
        reply_minutes: 90.0,
        topics: &[
            "the renewal for the logistics account needs a quote",
            "security questionnaire from a prospect",
            "pricing exception for the non-profit deal",
            "demo environment is ready for tomorrow",
        ],
    },
    ChannelSpec {
        name: "support",
        purpose: "Customer tickets that need a hand",
        teams: &["support", "eng", "ops"],
        weight: 2.2,
        urgency: 0.08,
        broadcast: 0.008,
        any_hour: 0.2,
        reply_minutes: 50.0,
        topics: &[
            "customer cannot export their invoices",
            "ticket about duplicate emails",
            "a user reports the app crashing on Android 14",
            "refund request needs approval",
        ],
    },
    ChannelSpec {
        name: "announcements",
        purpose: "Company news; please keep threads for questions",
        teams: &[],
        weight: 0.3,
        urgency: 0.02,
        broadcast: 0.45,
        any_hour: 0.05,
        reply_minutes: 120.0,
        topics: &[
            "the office is closed on Monday for the holiday",
            "new travel policy is live",
            "we are hiring: referrals welcome",
            "quarterly results and what comes next",
        ],
    },
];

/// A private channel, a group DM and direct messages, as groups.json, mpims.json and dms.json.
const PRIVATE_CHANNELS: &[ChannelSpec] = &[ChannelSpec {
    name: "leads",
    purpose: "Team leads",
    teams: &["lead"],
    weight: 0.5,
    urgency: 0.05,
    broadcast: 0.0,
    any_hour: 0.2,
    reply_minutes: 180.0,
    topics: &[
        "hiring plan for next quarter",
        "offsite agenda",
        "budget review notes",
    ],
}];

const URGENT_PHRASES: &[&str] = &[
    "ASAP",
    "urgent",
    "URGENT:",
    "right now",
    "immediately",
    "this is an emergency",
    "as soon as possible",
    "need this by EOD",
    "drop everything",
];

const OPENERS: &[&str] = &["", "hey, ", "quick one: ", "fyi ", "heads up: ", "so "];
const REPLIES: &[&str] = &[
    "on it",
    "looking now",
    "thanks, that helps",
    "I can take this tomorrow morning",
    "left a comment",
    "+1",
    "fixed, can you check?",
    "not sure, let me ask around",
    "done",
    "will do after lunch",
];

struct Conversation {
    id: String,
    name: String,
    members: Vec<usize>,
    spec: &'static ChannelSpec,
}

struct Options {
    out: PathBuf,
    messages: usize,
    seed: u64,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        out: PathBuf::from("examples/sample-export"),
        messages: 3000,
        seed: 6,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => options.out = PathBuf::from(value()?),
            "--messages" => {
                options.messages = value()?
                    .replace('_', "")
                    .parse()
                    .map_err(|_| "--messages takes a number such as 1000000".to_string())?
            }
            "--seed" => {
                options.seed = value()?
                    .parse()
                    .map_err(|_| "--seed takes a number".to_string())?
            }
            other => {
                return Err(format!(
                    "unknown flag {other}; use --out DIR [--messages N] [--seed N]"
                ));
            }
        }
    }
    Ok(options)
}

fn main() {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    if let Err(e) = generate(&options) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn start() -> DateTime<Utc> {
    // A Monday, a week before the US changes to summer time and four before Europe does.
    Utc.with_ymd_and_hms(2024, 3, 4, 0, 0, 0).unwrap()
}

fn write_json(path: &Path, value: &Value) -> std::io::Result<()> {
    // Slack writes its exports indented by four spaces.
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    serde::Serialize::serialize(value, &mut serializer).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    std::fs::write(path, bytes)
}

fn generate(options: &Options) -> std::io::Result<()> {
    let mut rng = Rng(options.seed);
    // Bigger exports span more weeks and more people, as a bigger workspace would.
    let weeks = (options.messages / 35_000).max(4) as i64;
    let extra_people = options.messages / 50_000;
    let end = start() + Duration::weeks(weeks);

    let mut people: Vec<Person> = PEOPLE
        .iter()
        .map(|&(real_name, tz, team)| Person {
            id: rng.id('U'),
            name: real_name.to_lowercase().replace(' ', "."),
            real_name: real_name.to_string(),
            tz: tz.parse().ok(),
            deleted: false,
            activity: 0.4 + rng.unit() * 1.6,
            team,
        })
        .collect();
    let zones = [
        "Europe/Berlin",
        "America/New_York",
        "Asia/Kolkata",
        "Asia/Tokyo",
        "America/Sao_Paulo",
    ];
    let teams = ["eng", "ops", "support", "sales", "design"];
    for n in 0..extra_people {
        people.push(Person {
            id: rng.id('U'),
            name: format!("member.{n:04}"),
            real_name: format!("Member {n:04}"),
            tz: zones[n % zones.len()].parse().ok(),
            deleted: false,
            activity: 0.4 + rng.unit() * 1.6,
            team: teams[n % teams.len()],
        });
    }
    people.push(Person {
        id: rng.id('U'),
        name: "former.employee".into(),
        real_name: "Former Employee".into(),
        tz: "Europe/London".parse().ok(),
        deleted: true,
        activity: 0.0,
        team: "eng",
    });
    let bot_id = rng.id('U');
    let bot_app = rng.id('B');
    let team_id = rng.id('T');

    std::fs::create_dir_all(&options.out)?;
    let mut users: Vec<Value> = people
        .iter()
        .map(|p| {
            let offset =
                p.tz.map(|tz| {
                    use chrono::Offset;
                    tz.offset_from_utc_datetime(&start().naive_utc())
                        .fix()
                        .local_minus_utc()
                })
                .unwrap_or(0);
            let mut user = json!({
                "id": p.id,
                "team_id": team_id,
                "name": p.name,
                "deleted": p.deleted,
                "real_name": p.real_name,
                "is_admin": false,
                "is_owner": false,
                "is_bot": false,
                "is_app_user": false,
                "profile": {"real_name": p.real_name, "display_name": p.name, "title": p.team},
            });
            if let Some(tz) = p.tz {
                user["tz"] = json!(tz.name());
                user["tz_label"] = json!(tz.name());
                user["tz_offset"] = json!(offset);
            }
            user
        })
        .collect();
    users.push(json!({
        "id": bot_id, "team_id": team_id, "name": "deploybot", "deleted": false,
        "real_name": "Deploy Bot", "is_bot": true, "is_app_user": false, "tz": "America/Los_Angeles",
        "tz_offset": -28800, "profile": {"real_name": "Deploy Bot", "bot_id": bot_app}
    }));
    write_json(&options.out.join("users.json"), &Value::Array(users))?;

    let active: Vec<usize> = (0..people.len()).filter(|&i| !people[i].deleted).collect();
    let make = |rng: &mut Rng, spec: &'static ChannelSpec, prefix: char| Conversation {
        id: rng.id(prefix),
        name: spec.name.to_string(),
        members: active
            .iter()
            .copied()
            .filter(|&i| spec.teams.is_empty() || spec.teams.contains(&people[i].team))
            .collect(),
        spec,
    };
    let channels: Vec<Conversation> = CHANNELS.iter().map(|s| make(&mut rng, s, 'C')).collect();
    let groups: Vec<Conversation> = PRIVATE_CHANNELS
        .iter()
        .map(|s| make(&mut rng, s, 'G'))
        .collect();
    let listing = |list: &[Conversation]| -> Value {
        Value::Array(
            list.iter()
                .map(|c| {
                    json!({
                        "id": c.id,
                        "name": c.name,
                        "created": start().timestamp() - 86_400 * 400,
                        "creator": people[c.members[0]].id,
                        "is_archived": false,
                        "is_general": c.name == "general",
                        "members": c.members.iter().map(|&i| people[i].id.clone()).collect::<Vec<_>>(),
                        "topic": {"value": "", "creator": "", "last_set": 0},
                        "purpose": {"value": c.spec.purpose, "creator": people[c.members[0]].id, "last_set": start().timestamp() - 86_400 * 400},
                    })
                })
                .collect(),
        )
    };
    write_json(&options.out.join("channels.json"), &listing(&channels))?;
    write_json(&options.out.join("groups.json"), &listing(&groups))?;

    let total_weight: f64 = channels.iter().chain(&groups).map(|c| c.spec.weight).sum();
    let mut written = 0;
    let all: Vec<&Conversation> = channels.iter().chain(&groups).collect();
    for (n, conversation) in all.iter().enumerate() {
        let share = if n + 1 == all.len() {
            options.messages - written
        } else {
            ((options.messages as f64) * conversation.spec.weight / total_weight).round() as usize
        };
        written += share;
        let messages = conversation_messages(&mut rng, conversation, &people, share, end);
        let mut with_extras = messages;
        extras(
            &mut rng,
            conversation,
            &people,
            &bot_id,
            &bot_app,
            &mut with_extras,
            end,
        );
        write_days(&options.out.join(&conversation.name), with_extras)?;
    }
    eprintln!(
        "wrote {} messages by people ({} weeks, {} members) to {}",
        options.messages,
        weeks,
        people.len(),
        options.out.display()
    );
    Ok(())
}

/// A message on its way to a day file: its instant, and the JSON Slack writes for it.
type Dated = (i64, Value);

fn ts(micros: i64) -> String {
    format!(
        "{}.{:06}",
        micros.div_euclid(1_000_000),
        micros.rem_euclid(1_000_000)
    )
}

/// An instant a person would write at: usually inside their own weekday hours.
fn writing_time(rng: &mut Rng, person: &Person, spec: &ChannelSpec, weeks: i64) -> DateTime<Utc> {
    let day = start().date_naive() + Duration::days(rng.below((weeks * 7) as usize) as i64);
    let tz = person.tz.unwrap_or(Tz::UTC);
    let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
    // Few people write at weekends: most weekend draws move to a weekday of the same week.
    let stays_weekend = weekend && rng.chance(0.15);
    let in_hours = !stays_weekend && !rng.chance(spec.any_hour);
    let day = if weekend && !stays_weekend {
        let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        monday + Duration::days(rng.below(5) as i64)
    } else {
        day
    };
    let minute_of_day = if in_hours {
        // 08:45 to 17:30, busiest mid-morning and mid-afternoon.
        525 + ((rng.unit() + rng.unit()) / 2.0 * 525.0) as i64
    } else {
        rng.below(24 * 60) as i64
    };
    local_instant(tz, day, minute_of_day) + Duration::seconds(rng.below(60) as i64)
}

fn local_instant(tz: Tz, day: NaiveDate, minute_of_day: i64) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(minute_of_day);
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&(naive + Duration::hours(1))))
}

fn person_text(rng: &mut Rng, conversation: &Conversation, people: &[Person], me: usize) -> String {
    let spec = conversation.spec;
    let mut text = String::new();
    if rng.chance(spec.broadcast) {
        text.push_str(if rng.chance(0.7) {
            "<!here> "
        } else {
            "<!channel> "
        });
    }
    text.push_str(rng.pick::<&str>(OPENERS));
    text.push_str(rng.pick::<&str>(spec.topics));
    if rng.chance(0.3) {
        let other = *rng.pick(&conversation.members);
        if other != me {
            text.push_str(&format!(", <@{}> can you take a look", people[other].id));
            if rng.chance(0.2) {
                let third = *rng.pick(&conversation.members);
                if third != me && third != other {
                    text.push_str(&format!(" (cc <@{}>)", people[third].id));
                }
            }
        }
    }
    if rng.chance(spec.urgency) {
        text.push(' ');
        text.push_str(rng.pick::<&str>(URGENT_PHRASES));
        if rng.chance(0.25) {
            text.push_str("!!!");
        }
    } else if rng.chance(0.3) {
        text.push('?');
    } else {
        text.push('.');
    }
    if rng.chance(0.04) {
        text.push_str(" see <https://docs.example.com/runbook|the runbook>");
    }
    text
}

fn pick_sender(
    rng: &mut Rng,
    members: &[usize],
    people: &[Person],
    except: Option<usize>,
) -> usize {
    let total: f64 = members
        .iter()
        .filter(|&&i| Some(i) != except)
        .map(|&i| people[i].activity)
        .sum();
    let mut target = rng.unit() * total;
    for &i in members.iter().filter(|&&i| Some(i) != except) {
        target -= people[i].activity;
        if target <= 0.0 {
            return i;
        }
    }
    members[0]
}

fn conversation_messages(
    rng: &mut Rng,
    conversation: &Conversation,
    people: &[Person],
    count: usize,
    end: DateTime<Utc>,
) -> Vec<Dated> {
    let weeks = (end - start()).num_weeks();
    let spec = conversation.spec;
    let mut out: Vec<Dated> = Vec::with_capacity(count);
    let mut used = std::collections::HashSet::new();
    let mut unique = |micros: i64| {
        let mut micros = micros;
        while !used.insert(micros) {
            micros += 100;
        }
        micros
    };
    while out.len() < count {
        let sender = pick_sender(rng, &conversation.members, people, None);
        let at = writing_time(rng, &people[sender], spec, weeks);
        let parent_micros = unique(at.timestamp_micros() + rng.below(1000) as i64 * 100);
        let text = person_text(rng, conversation, people, sender);
        let mut parent = json!({
            "client_msg_id": client_msg_id(rng),
            "type": "message",
            "text": text,
            "user": people[sender].id,
            "ts": ts(parent_micros),
        });
        let replies_wanted = if rng.chance(0.3) { 1 + rng.below(5) } else { 0 };
        let replies_wanted = replies_wanted.min(count - out.len() - 1);
        let mut replies = Vec::new();
        let mut last = parent_micros;
        for n in 0..replies_wanted {
            let replier = if n > 0 && rng.chance(0.3) {
                sender
            } else {
                pick_sender(rng, &conversation.members, people, Some(sender))
            };
            // Waits are long-tailed: most come quickly, some wait for the other side of the
            // world to wake up.
            let typical = if n == 0 {
                spec.reply_minutes
            } else {
                spec.reply_minutes / 2.0
            };
            let minutes = typical * (-(1.0 - rng.unit()).ln()) * 1.2;
            let micros = unique(last + (minutes * 60_000_000.0) as i64 + 1_000_000);
            if micros >= end.timestamp_micros() {
                break;
            }
            last = micros;
            let mut text = rng.pick::<&str>(REPLIES).to_string();
            if rng.chance(spec.urgency / 3.0) {
                text.push_str(", this is urgent");
            }
            replies.push((replier, micros, text));
        }
        if !replies.is_empty() {
            let mut repliers: Vec<String> = Vec::new();
            for (replier, _, _) in &replies {
                if !repliers.contains(&people[*replier].id) {
                    repliers.push(people[*replier].id.clone());
                }
            }
            parent["thread_ts"] = json!(ts(parent_micros));
            parent["reply_count"] = json!(replies.len());
            parent["reply_users_count"] = json!(repliers.len());
            parent["latest_reply"] = json!(ts(last));
            parent["reply_users"] = json!(repliers);
        }
        out.push((parent_micros, parent));
        for (replier, micros, text) in replies {
            let mut reply = json!({
                "client_msg_id": client_msg_id(rng),
                "type": "message",
                "text": text,
                "user": people[replier].id,
                "ts": ts(micros),
                "thread_ts": ts(parent_micros),
                "parent_user_id": people[sender].id,
            });
            if rng.chance(0.03) {
                reply["subtype"] = json!("thread_broadcast");
            }
            out.push((micros, reply));
        }
    }
    out
}

/// Joins at the start of the period and the deploy bot's posts: not people talking.
fn extras(
    rng: &mut Rng,
    conversation: &Conversation,
    people: &[Person],
    bot_id: &str,
    bot_app: &str,
    out: &mut Vec<Dated>,
    end: DateTime<Utc>,
) {
    for &member in conversation.members.iter().take(3) {
        let micros =
            start().timestamp_micros() + 3_600_000_000 + rng.below(86_400) as i64 * 1_000_000;
        out.push((
            micros,
            json!({"type": "message", "subtype": "channel_join", "user": people[member].id,
                   "text": format!("<@{}> has joined the channel", people[member].id), "ts": ts(micros)}),
        ));
    }
    if matches!(conversation.name.as_str(), "ops" | "engineering") {
        let days = (end - start()).num_days();
        for day in 0..days {
            let micros = start().timestamp_micros()
                + day * 86_400_000_000
                + (rng.below(86_400) as i64) * 1_000_000;
            out.push((
                micros,
                json!({"type": "message", "subtype": "bot_message", "bot_id": bot_app,
                       "username": "deploybot", "user": bot_id,
                       "text": "Deploy of billing-service finished: 0 errors. URGENT tickets: none",
                       "ts": ts(micros)}),
            ));
        }
    }
}

fn client_msg_id(rng: &mut Rng) -> String {
    let a = rng.next();
    let b = rng.next();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// Sorts a conversation's messages and writes one file per UTC date, as Slack does.
fn write_days(folder: &Path, mut messages: Vec<Dated>) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    messages.sort_by_key(|(micros, _)| *micros);
    let mut day: Option<(NaiveDate, Vec<Value>)> = None;
    let write = |(date, list): (NaiveDate, Vec<Value>)| {
        write_json(&folder.join(format!("{date}.json")), &Value::Array(list))
    };
    for (micros, message) in messages {
        let date = DateTime::<Utc>::from_timestamp_micros(micros)
            .unwrap()
            .date_naive();
        match &mut day {
            Some((current, list)) if *current == date => list.push(message),
            _ => {
                if let Some(done) = day.take() {
                    write(done)?;
                }
                day = Some((date, vec![message]));
            }
        }
    }
    match day {
        Some(done) => write(done),
        None => Ok(()),
    }
}

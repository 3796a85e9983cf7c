//! How long the scheduler's pure core takes: one schedule's next run (including one that falls
//! in a daylight-saving gap), and the earliest next run among 10,000 schedules, both as a full
//! scan and as the queue a runner keeps; and the runner's start-up: reading 10,000 stored
//! check-ins from sled into its queue.

use std::hint::black_box;

use async_norms::bot::checkins::runner::load_queue;
use async_norms::checkins::occurrence::CheckinId;
use async_norms::checkins::record::{Checkin, Participants, default_questions};
use async_norms::checkins::schedule::{DueQueue, Schedule, earliest_due};
use async_norms::ids::{ChannelId, TeamId, UserId};
use async_norms::store::Store;
use async_norms::store::checkins::CheckinTables;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};

const ZONES: [&str; 8] = [
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Europe/Berlin",
];
const DAYS: [&str; 4] = ["mon-fri", "daily", "mon,wed,fri", "tue"];

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("bench instants are valid RFC 3339")
        .with_timezone(&Utc)
}

/// 10,000 schedules spread over zones, days, times and both zone modes.
fn many_schedules() -> Vec<(u32, Schedule, Tz)> {
    (0..10_000u32)
        .map(|i| {
            let index = i as usize;
            let zone = ZONES[index % ZONES.len()];
            let mode = if i % 3 == 0 { "local" } else { zone };
            let at = format!("{:02}:{:02}", (i / 7) % 24, (i * 13) % 60);
            let schedule = Schedule::from_parts(DAYS[index % DAYS.len()], &at, mode)
                .expect("bench schedules are valid");
            let participant: Tz = ZONES[(index / 3) % ZONES.len()]
                .parse()
                .expect("bench zones are valid");
            (i, schedule, participant)
        })
        .collect()
}

fn next_after(c: &mut Criterion) {
    let weekday =
        Schedule::from_parts("mon-fri", "09:30", "Europe/London").expect("bench schedule is valid");
    let friday_evening = instant("2026-03-06T18:00:00Z");
    c.bench_function("next_after/weekday_over_weekend", |b| {
        b.iter(|| weekday.next_after(black_box(friday_evening), chrono_tz::UTC))
    });
    let in_gap =
        Schedule::from_parts("sun", "01:30", "Europe/London").expect("bench schedule is valid");
    let before_change = instant("2026-03-28T12:00:00Z");
    c.bench_function("next_after/time_in_dst_gap", |b| {
        b.iter(|| in_gap.next_after(black_box(before_change), chrono_tz::UTC))
    });
}

fn earliest_of_many(c: &mut Criterion) {
    let schedules = many_schedules();
    let now = instant("2026-03-06T18:00:00Z");
    c.bench_function("earliest_due/scan_10000", |b| {
        b.iter(|| {
            earliest_due(
                schedules.iter().map(|(key, s, tz)| (*key, s, *tz)),
                black_box(now),
            )
        })
    });
    c.bench_function("due_queue/build_10000", |b| {
        b.iter(|| {
            DueQueue::from_schedules(
                schedules.iter().map(|(key, s, tz)| (*key, s, *tz)),
                black_box(now),
            )
        })
    });
    let queue = DueQueue::from_schedules(schedules.iter().map(|(key, s, tz)| (*key, s, *tz)), now);
    c.bench_function("due_queue/pop_and_rearm_of_10000", |b| {
        b.iter_batched_ref(
            || queue.clone(),
            |queue| {
                let Some((key, at)) = queue.pop_due(DateTime::<Utc>::MAX_UTC) else {
                    return;
                };
                let (_, schedule, tz) = &schedules[key as usize];
                queue.push_next(key, schedule, *tz, at);
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

/// A store holding the 10,000 schedules as check-ins of one workspace.
fn stored_checkins(dir: &std::path::Path, now: DateTime<Utc>) -> Store {
    let store = Store::open(dir).expect("a bench store");
    let tables = CheckinTables::open(&store).expect("the check-in tables");
    let team = TeamId::new("T1");
    for (key, schedule, _) in many_schedules() {
        let checkin = Checkin {
            id: CheckinId::new(key.to_string()),
            channel: ChannelId::new(format!("C{key}")),
            schedule,
            questions: default_questions(),
            participants: Participants::ChannelMembers,
            manager: UserId::new("UMGR"),
            paused: false,
            close_after_minutes: 480,
            grace_minutes: 120,
            created_at: now,
            next_after: now,
        };
        tables
            .checkins
            .put(&team, checkin.id.as_str(), &checkin)
            .expect("written");
    }
    store.flush_now().expect("flushed");
    store
}

fn runner_start_up(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let now = instant("2026-03-06T18:00:00Z");
    let store = stored_checkins(dir.path(), now);
    let tables = CheckinTables::open(&store).expect("the check-in tables");
    let queue = load_queue(&tables, now).expect("loaded");
    assert_eq!(queue.len(), 10_000);
    c.bench_function("runner/load_queue_from_sled_10000", |b| {
        b.iter(|| load_queue(&tables, black_box(now)).expect("loaded"))
    });
}

criterion_group!(benches, next_after, earliest_of_many, runner_start_up);
criterion_main!(benches);

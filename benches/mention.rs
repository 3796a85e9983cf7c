//! The mention path, without the network: read the pings of a message that names 50 members,
//! work out each one's availability, and build the note (and its Block Kit). Also how long a
//! bot whose store holds 100,000 members' hours takes to open the store and read one member,
//! since hours are read on demand rather than loaded at start.

use std::hint::black_box;

use async_norms::decision::note::{Mentions, MessageFacts, Reached, build_note};
use async_norms::hours::{MemberHours, WeeklySchedule};
use async_norms::ids::{TeamId, UserId};
use async_norms::slack::blocks;
use async_norms::store::Store;
use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};

const ZONES: [chrono_tz::Tz; 5] = [
    chrono_tz::Europe::London,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Asia::Kolkata,
    chrono_tz::America::Los_Angeles,
];

fn bench_mention_path(c: &mut Criterion) {
    let now: DateTime<Utc> = "2026-03-03T21:14:00Z".parse().expect("instant");
    let ids: Vec<String> = (0..50).map(|i| format!("U{i:08}")).collect();
    let text: String = ids.iter().map(|id| format!("<@{id}> ")).collect::<String>()
        + "could you all have a look before Friday?";
    let schedule: WeeklySchedule = "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00"
        .parse()
        .expect("schedule");
    let reached: Vec<Reached> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Reached {
            user: UserId::new(id.as_str()),
            is_person: true,
            hours: MemberHours::new(schedule.clone(), ZONES[i % ZONES.len()]),
        })
        .collect();
    let (sender, bot) = (UserId::new("USENDER"), UserId::new("UBOT"));
    c.bench_function(
        "mention path, 50 members: parse, availability, note, blocks",
        |b| {
            b.iter(|| {
                let mentions = Mentions::in_text(black_box(&text));
                let facts = MessageFacts {
                    sender: &sender,
                    bot: bot.clone(),
                    mentions: &mentions,
                    sender_tz: chrono_tz::Europe::Berlin,
                    mentions_not_checked: 0,
                };
                let note = build_note(&facts, black_box(&reached), None, now);
                note.map(|note| blocks::note(&note).blocks.map_or(0, |blocks| blocks.len()))
            })
        },
    );
}

fn bench_start_with_many_members(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let team = TeamId::new("T1");
    {
        let store = Store::open(dir.path()).expect("store");
        let table = store.table::<MemberHours>("hours").expect("table");
        let hours = MemberHours::new(
            "mon-fri 09:00-17:30".parse().expect("schedule"),
            chrono_tz::Europe::Berlin,
        );
        for i in 0..100_000 {
            table
                .put(&team, &format!("U{i:08}"), &hours)
                .expect("write");
        }
        store.flush_now().expect("flush");
    }
    let mut group = c.benchmark_group("start");
    group.sample_size(10);
    group.bench_function("open a store of 100,000 members' hours and read one", |b| {
        b.iter(|| {
            let store = Store::open(dir.path()).expect("store");
            let table = store.table::<MemberHours>("hours").expect("table");
            table.get(&team, "U00054321").expect("read").is_some()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_mention_path, bench_start_with_many_members);
criterion_main!(benches);

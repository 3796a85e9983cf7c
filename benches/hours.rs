//! How long availability takes for one member and for the 50 a broadcast or a busy thread
//! may mention, across zones, with overnight hours, time off and focus time in the mix.

use std::hint::black_box;

use async_norms::hours::{AwayPeriod, FocusBlock, MemberHours, availability, overlap};
use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, criterion_group, criterion_main};

const ZONES: [chrono_tz::Tz; 5] = [
    chrono_tz::Europe::London,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Asia::Kolkata,
    chrono_tz::America::Los_Angeles,
];

const SCHEDULES: [&str; 4] = [
    "mon-fri 09:00-17:00",
    "mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00",
    "sun-thu 22:00-06:00",
    "mon,wed,fri 09:00-17:30; tue,thu 10:00-18:00",
];

fn members(count: usize, now: DateTime<Utc>) -> Vec<MemberHours> {
    (0..count)
        .map(|i| {
            let schedule = SCHEDULES[i % SCHEDULES.len()].parse().expect("schedule");
            let mut hours = MemberHours::new(schedule, ZONES[i % ZONES.len()]);
            if i % 7 == 0 {
                let first = now.date_naive();
                let last = first + TimeDelta::days(10);
                hours.away.push(AwayPeriod::new(first, last).expect("away"));
            }
            if i % 5 == 0 {
                hours.focus = Some(FocusBlock {
                    until: now + TimeDelta::minutes(90),
                });
            }
            hours
        })
        .collect()
}

fn bench_availability(c: &mut Criterion) {
    let now: DateTime<Utc> = "2026-03-27T17:30:00Z".parse().expect("instant");
    let one = MemberHours::default_in(chrono_tz::Europe::London);
    c.bench_function("availability, one member", |b| {
        b.iter(|| availability(black_box(&one), black_box(now)))
    });

    let fifty = members(50, now);
    c.bench_function("availability, 50 members", |b| {
        b.iter(|| {
            fifty
                .iter()
                .map(|hours| availability(black_box(hours), black_box(now)))
                .filter(|state| state.is_available())
                .count()
        })
    });

    let trio: Vec<&MemberHours> = fifty.iter().skip(1).take(3).collect();
    c.bench_function("overlap, 3 members over a week", |b| {
        b.iter(|| overlap(black_box(&trio), now, now + TimeDelta::days(7)))
    });
}

criterion_group!(benches, bench_availability);
criterion_main!(benches);

//! Throughput of the urgency rules on messages of realistic lengths, with and without cues.
//! The targets, per core, for scan plus classify (the judgment included): over a million
//! messages per second without a cue, over 200,000 with one (a demand, or a cue that is
//! not one and must be read in its sentence to tell).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use async_norms::ids::UserId;
use async_norms::norms::{ChannelContext, UrgencyLexicon, classify, words};

/// Repeats `unit` until the text is about `len` bytes long.
fn sized(unit: &str, len: usize) -> String {
    let mut text = String::with_capacity(len + unit.len());
    while text.len() < len {
        text.push_str(unit);
    }
    text
}

fn messages() -> Vec<(String, String)> {
    let quiet =
        "Thanks <@U024BE7LH>, the deploy notes are in the doc; let's review them tomorrow. ";
    let urgent =
        "Hey <@U024BE7LH> can you look at the failing build ASAP? It blocks the release!!! ";
    let mut cases = Vec::new();
    for (name, len) in [("short_40", 40), ("typical_200", 200), ("long_2000", 2000)] {
        cases.push((format!("{name}/no_hit"), sized(quiet, len)));
        let with_hit = format!(
            "{}{}",
            urgent,
            sized(quiet, len.saturating_sub(urgent.len()))
        );
        cases.push((format!("{name}/hit"), with_hit));
    }
    // The 40-character messages above are cut from longer units; make them real 40-byte texts.
    cases[0].1 = "Thanks, the notes are in the doc, Ann.".to_string();
    cases[1].1 = "Can you look at the build ASAP? Thanks!".to_string();
    // A cue that is no demand: the writer's own promise, then a description.
    cases.push((
        "typical_200/cue_not_demand".to_string(),
        sized(
            "I'll fix the importer asap; right now it crashes immediately after the upgrade. ",
            200,
        ),
    ));
    cases
}

fn classification(c: &mut Criterion) {
    let lexicon = match UrgencyLexicon::with_defaults() {
        Ok(lexicon) => lexicon,
        Err(error) => panic!("the shipped word list must compile: {error}"),
    };
    let off = [UserId::from("U024BE7LH")];
    let context = ChannelContext {
        is_urgent_channel: false,
        off_hours_mentions: &off,
    };
    let mut group = c.benchmark_group("scan_and_classify");
    group.throughput(Throughput::Elements(1));
    for (name, text) in messages() {
        group.bench_function(name, |b| {
            b.iter(|| classify(&lexicon.scan(black_box(&text)), &context))
        });
    }
    // A workspace that added the shipped German and Spanish lists matches about three times
    // as many words.
    let added = words::GERMAN.iter().chain(words::SPANISH);
    let trilingual = match UrgencyLexicon::customised(added, [] as [&str; 0]) {
        Ok(lexicon) => lexicon,
        Err(error) => panic!("the shipped word lists must compile: {error}"),
    };
    for (name, text) in messages()
        .into_iter()
        .filter(|(name, _)| name.starts_with("typical"))
    {
        group.bench_function(format!("trilingual_{name}"), |b| {
            b.iter(|| classify(&trilingual.scan(black_box(&text)), &context))
        });
    }
    group.finish();
}

criterion_group!(benches, classification);
criterion_main!(benches);

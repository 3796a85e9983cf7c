//! `async-norms audit` end to end: a small export written by the test, every figure checked
//! by hand; the same export as a folder and as a zip; a corrupted day file; the HTML and its
//! image; the command line's errors; and the sample export shipped in `examples/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use async_norms::audit::{AuditOptions, Outcome, run};
use serde_json::{Value, json};

/// Monday 2024-03-04 10:00:00 UTC: 11:00 in Berlin, 05:00 in New York, 19:00 in Tokyo.
const MON_10: i64 = 1_709_546_400;

fn ts(secs: i64, micros: u32) -> String {
    format!("{secs}.{micros:06}")
}

fn write(root: &Path, relative: &str, value: &Value) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

fn message(user: &str, secs: i64, text: &str) -> Value {
    json!({"type": "message", "user": user, "text": text, "ts": ts(secs, 100)})
}

/// The hand-checked export. Members: UB (Berlin), UN (New York), UT (Tokyo), UX (no zone:
/// UTC) and a bot. Default hours: Mon–Fri 09:00–17:00 local.
fn small_export(root: &Path) {
    write(
        root,
        "users.json",
        &json!([
            {"id": "UB", "name": "berta", "real_name": "Berta", "tz": "Europe/Berlin", "tz_offset": 3600, "is_bot": false, "deleted": false},
            {"id": "UN", "name": "nick", "real_name": "Nick", "tz": "America/New_York", "tz_offset": -18000, "is_bot": false, "deleted": false},
            {"id": "UT", "name": "tomo", "real_name": "Tomo", "tz": "Asia/Tokyo", "tz_offset": 32400, "is_bot": false, "deleted": false},
            {"id": "UX", "name": "xena", "real_name": "Xena", "is_bot": false, "deleted": false},
            {"id": "UBOT", "name": "deploybot", "real_name": "Deploy Bot", "is_bot": true, "deleted": false}
        ]),
    );
    write(
        root,
        "channels.json",
        &json!([
            {"id": "C1", "name": "general", "created": 1_700_000_000, "members": ["UB", "UN", "UT", "UX", "UBOT"]},
            {"id": "C2", "name": "incidents", "created": 1_700_000_000, "members": ["UB", "UN"]}
        ]),
    );
    write(
        root,
        "dms.json",
        &json!([{"id": "D1", "created": 1_700_000_000, "members": ["UB", "UT"]}]),
    );
    let parent = ts(MON_10, 100);
    let mut first = message(
        "UB",
        MON_10,
        "<!here> deploy is stuck, need eyes ASAP <@UN>",
    );
    first["thread_ts"] = json!(parent);
    first["reply_count"] = json!(2);
    let mut reply = message("UN", MON_10 + 30 * 60, "looking");
    reply["thread_ts"] = json!(parent);
    let mut own_reply = message("UB", MON_10 + 31 * 60, "context: it started at 09:50");
    own_reply["thread_ts"] = json!(parent);
    let mut join = message("UX", MON_10 + 40 * 60, "<@UX> has joined the channel");
    join["subtype"] = json!("channel_join");
    let bot = json!({"type": "message", "subtype": "bot_message", "bot_id": "B1", "text": "URGENT deploy done!!!", "ts": ts(MON_10 + 50 * 60, 0)});
    write(
        root,
        "general/2024-03-04.json",
        &json!([
            first,
            reply,
            own_reply,
            join,
            bot,
            // 15:00 UTC: Tokyo midnight; the only other mention is Berlin, working.
            message(
                "UT",
                MON_10 + 5 * 3600,
                "please check the fix!!! <@UB> <@UB> <@UT>"
            )
        ]),
    );
    // Tuesday 23:00 UTC: Tokyo 08:00 Wednesday and New York 18:00, both off.
    let evening = MON_10 + 24 * 3600 + 13 * 3600;
    let mut question = message("UX", evening, "<@UT> <@UN> can you review when you are in");
    question["thread_ts"] = json!(ts(evening, 100));
    question["reply_count"] = json!(1);
    write(root, "general/2024-03-05.json", &json!([question]));
    // The reply lands in the next day's file, 90 minutes later.
    let mut late_reply = message("UT", evening + 90 * 60, "sure");
    late_reply["thread_ts"] = json!(ts(evening, 100));
    write(root, "general/2024-03-06.json", &json!([late_reply]));
    write(
        root,
        "incidents/2024-03-04.json",
        &json!([message(
            "UN",
            MON_10 + 60,
            "URGENT: checkout down <!channel>"
        )]),
    );
    // 20:00 UTC: Tokyo 05:00.
    write(
        root,
        "D1/2024-03-04.json",
        &json!([message("UB", MON_10 + 10 * 3600, "hi <@UT>")]),
    );
}

fn audit(export: &Path, out: &Path) -> Outcome {
    audit_with(export, out, None, None)
}

fn audit_with(export: &Path, out: &Path, hours: Option<&str>, norms: Option<&str>) -> Outcome {
    let file = |name: &str, text: Option<&str>| {
        text.map(|text| {
            let path = out.with_file_name(name);
            std::fs::write(&path, text).unwrap();
            path
        })
    };
    run(&AuditOptions {
        export: export.to_path_buf(),
        out: out.to_path_buf(),
        hours: file("hours.toml", hours),
        norms: file("norms.toml", norms),
        tz: None,
        include_dms: true,
        progress: false,
    })
    .expect("the audit runs")
}

fn report_json(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

#[test]
fn a_small_export_gives_the_hand_checked_figures() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    let out = dir.path().join("report");
    audit(&export, &out);
    let report = report_json(&out);

    let totals = &report["totals"];
    assert_eq!(
        totals,
        &json!({
            "messages": 8,
            "urgency_messages": 3,
            "flags": {"urgency_words": 2, "broadcast": 2, "urgent_ping_off_hours": 1, "emphasis": 1},
            "broadcasts": 2,
            "broadcast_reach": 4,
            "broadcast_off_hours_reach": 2,
            "mentions": 5,
            "mentions_off_hours": 4,
            "threads": 2,
            "threads_replied": 2,
            "median_first_reply_minutes": 30
        })
    );
    assert_eq!(
        report["left_out"],
        json!({"bot_messages": 1, "system_messages": 1, "unreadable_messages": 0, "dm_conversations": 0, "unlisted_folders": []})
    );
    assert_eq!(
        report["members"],
        json!({"users_listed": true, "people": 4, "bots": 1, "hours_given": 0, "zone_unknown": 1})
    );
    assert_eq!(report["first_message"], "2024-03-04T10:00:00Z");
    assert_eq!(report["last_message"], "2024-03-06T00:30:00Z");

    let conversations = report["conversations"].as_array().unwrap();
    let names: Vec<&str> = conversations
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["general", "incidents", "D1"]);
    let general = &conversations[0];
    assert_eq!(general["kind"], "channel");
    assert_eq!(general["members"], 5);
    let weeks = general["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 1);
    assert_eq!(weeks[0]["week"], "2024-W10");
    assert_eq!(weeks[0]["messages"], 6);
    assert_eq!(weeks[0]["mentions_off_hours"], 3);
    assert_eq!(weeks[0]["median_first_reply_minutes"], 30);
    assert_eq!(weeks[0]["flags"]["emphasis"], 1);
    let incidents = &conversations[1];
    assert_eq!(incidents["totals"]["broadcast_reach"], 1);
    assert_eq!(incidents["totals"]["broadcast_off_hours_reach"], 0);
    assert_eq!(conversations[2]["kind"], "dm");
    assert_eq!(conversations[2]["totals"]["mentions_off_hours"], 1);

    let heat = &report["heatmap"];
    assert_eq!(heat["zone"], "UTC");
    assert_eq!(heat["messages"][0][10], 4);
    assert_eq!(heat["messages"][0][15], 1);
    assert_eq!(heat["messages"][1][23], 1);
    assert_eq!(heat["messages"][2][0], 1);
    assert_eq!(heat["messages"][0][20], 1);
    assert_eq!(heat["off_hours_mentions"][0][10], 1);
    assert_eq!(heat["off_hours_mentions"][1][23], 2);
    assert_eq!(heat["off_hours_mentions"][0][20], 1);
    let all: u64 = heat["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(all, 8);
    assert_eq!(report["skipped_files"], json!([]));
}

#[test]
fn given_hours_and_norms_change_who_is_off_and_what_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    let out = dir.path().join("report");
    // Nick works early: 05:00 in New York is inside his hours.
    audit_with(
        &export,
        &out,
        Some("nick = \"mon-fri 04:00-12:00\"\n"),
        Some("urgent_channels = [\"#incidents\"]\n"),
    );
    let report = report_json(&out);
    let flags = &report["totals"]["flags"];
    assert_eq!(
        flags,
        &json!({"urgency_words": 1, "broadcast": 1, "urgent_ping_off_hours": 0, "emphasis": 1})
    );
    // The message to Nick at 05:00 and the one at 18:00 (outside 04:00-12:00) both count.
    assert_eq!(report["totals"]["mentions_off_hours"], 3);
    assert_eq!(report["members"]["hours_given"], 1);
    assert_eq!(report["conversations"][1]["urgent"], true);
    // Urgency in #incidents is still seen, just not flagged.
    assert_eq!(report["conversations"][1]["totals"]["urgency_messages"], 1);
}

fn zip_folder(folder: &Path, zip_path: &Path, prefix: &str) {
    let file = std::fs::File::create(zip_path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut files = Vec::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let name = path.strip_prefix(folder).unwrap().to_string_lossy();
        zip.start_file(format!("{prefix}{name}"), options).unwrap();
        zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn a_zip_and_a_folder_give_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    // A corrupted file too, so skipped paths are compared as well.
    std::fs::write(export.join("incidents/2024-03-05.json"), "[{\"type\": ").unwrap();
    let from_folder = dir.path().join("from-folder");
    audit(&export, &from_folder);
    let expected = std::fs::read(from_folder.join("report.json")).unwrap();

    for prefix in ["", "acme-export/"] {
        let zip_path = dir.path().join("export.zip");
        zip_folder(&export, &zip_path, prefix);
        let from_zip = dir.path().join("from-zip");
        audit(&zip_path, &from_zip);
        let got = std::fs::read(from_zip.join("report.json")).unwrap();
        assert!(
            got == expected,
            "prefix {prefix:?}: the zip's report differs:\n{}",
            String::from_utf8_lossy(&got)
        );
    }
}

#[test]
fn a_corrupted_day_file_is_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    std::fs::write(
        export.join("general/2024-03-05.json"),
        "[{\"type\": \"message\", \"user\": \"UX\", \"text\": \"cut off",
    )
    .unwrap();
    let out = dir.path().join("report");
    let outcome = audit(&export, &out);
    let report = report_json(&out);
    let skipped = report["skipped_files"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["path"], "general/2024-03-05.json");
    assert_eq!(
        skipped[0]["reason"],
        "cut off: the JSON ends early (line 1, column 51)"
    );
    // Its one message is gone; the reply in the next file has no parent to time.
    assert_eq!(report["totals"]["messages"], 7);
    assert_eq!(report["totals"]["threads"], 1);
    assert_eq!(report["totals"]["threads_replied"], 1);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("general/2024-03-05.json"));
    assert!(async_norms::audit::summary(&outcome).contains("general/2024-03-05.json"));
}

#[test]
fn a_listed_name_that_leaves_the_export_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    // A day file beside the export, and a list that points at it.
    write(
        dir.path(),
        "elsewhere/2024-03-04.json",
        &json!([message("UB", MON_10, "not part of the export")]),
    );
    let channels = export.join("channels.json");
    let mut listed: Value = serde_json::from_slice(&std::fs::read(&channels).unwrap()).unwrap();
    listed
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "C9", "name": "../elsewhere", "members": ["UB"]}));
    std::fs::write(&channels, listed.to_string()).unwrap();

    let out = dir.path().join("report");
    audit(&export, &out);
    let report = report_json(&out);
    assert_eq!(
        report["totals"]["messages"], 8,
        "the outside file was not read"
    );
    let skipped = report["skipped_files"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["path"], "channels.json");
    assert_eq!(
        skipped[0]["reason"],
        "entry 3 is named with no plain folder name (empty, . or .., or holding a slash), so its messages were not read"
    );
}

#[test]
fn a_listed_conversation_without_a_name_is_read_from_the_folder_named_by_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    let channels = export.join("channels.json");
    let mut listed: Value = serde_json::from_slice(&std::fs::read(&channels).unwrap()).unwrap();
    for entry in [
        json!({"id": "C7", "name": null, "members": ["UB"]}),
        json!({"id": "C8", "name": "", "members": ["UB"]}),
        json!({"id": "C9", "members": ["UB"]}),
    ] {
        let id = entry["id"].as_str().unwrap().to_string();
        listed.as_array_mut().unwrap().push(entry);
        write(
            &export,
            &format!("{id}/2024-03-04.json"),
            &json!([message("UB", MON_10, "a conversation without a name")]),
        );
    }
    std::fs::write(&channels, listed.to_string()).unwrap();

    let out = dir.path().join("report");
    audit(&export, &out);
    let report = report_json(&out);
    assert_eq!(
        report["totals"]["messages"],
        8 + 3,
        "each id folder was read"
    );
    let skipped = report["skipped_files"].as_array().unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
}

/// Checks that markup is well formed: every element closed in order (HTML's void
/// elements excepted), attributes quoted, entities known.
fn assert_well_formed(text: &str, what: &str) {
    const VOID: [&str; 6] = ["meta", "img", "br", "hr", "link", "input"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text.strip_prefix("<!DOCTYPE html>").unwrap_or(text);
    while let Some(open) = rest.find('<') {
        let between = &rest[..open];
        for entity in between.split('&').skip(1) {
            let name = entity.split(';').next().unwrap();
            assert!(
                ["amp", "lt", "gt", "quot", "#39"].contains(&name),
                "{what}: unknown entity &{name}; near {between:?}"
            );
        }
        let close = rest[open..].find('>').expect("a tag that ends") + open;
        let tag = &rest[open + 1..close];
        assert_eq!(tag.matches('"').count() % 2, 0, "{what}: quotes in <{tag}>");
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack.pop();
            assert_eq!(
                top.as_deref(),
                Some(name),
                "{what}: </{name}> closes {top:?}"
            );
        } else {
            let name: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let self_closed = tag.ends_with('/') || VOID.contains(&name.as_str());
            if !self_closed {
                stack.push(name);
            }
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "{what}: unclosed {stack:?}");
}

#[test]
fn the_html_is_well_formed_and_shows_the_heat_map_image() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    let out = dir.path().join("report");
    let outcome = audit(&export, &out);
    assert_eq!(outcome.html, out.join("report.html"));
    let html = std::fs::read_to_string(&outcome.html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_well_formed(&html, "report.html");
    let src = html
        .split("<img src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an <img> in the report");
    assert_eq!(src, "heatmap.svg");
    let svg = std::fs::read_to_string(out.join(src)).expect("the image exists beside the HTML");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_well_formed(&svg, "heatmap.svg");
    // 2 panels × 7 days × 24 hours.
    assert_eq!(svg.matches("<rect x=").count(), 2 * 7 * 24);
    // Nothing is fetched from the network: no scripts, no remote styles or images.
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_async-norms"))
}

#[test]
fn bad_input_exits_2_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let garbage = dir.path().join("export.zip");
    std::fs::write(&garbage, "this is not a zip").unwrap();
    let bad_norms = dir.path().join("norms.toml");
    std::fs::write(&bad_norms, "urgent = [").unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    let cases: [(Vec<PathBuf>, Vec<&str>, &str); 5] = [
        (
            vec![dir.path().join("missing")],
            vec![],
            "no such file or folder",
        ),
        (vec![empty], vec![], "is not a Slack export"),
        (vec![garbage], vec![], "is not a readable .zip"),
        (
            vec![export.clone(), "--norms".into(), bad_norms],
            vec![],
            "norms.toml: norms file:",
        ),
        (
            vec![export],
            vec!["--tz", "Mars/Olympus"],
            "--tz: `Mars/Olympus` is not an IANA time zone",
        ),
    ];
    for (paths, flags, expected) in cases {
        let output = binary()
            .arg("audit")
            .args(&paths)
            .args(&flags)
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{paths:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{paths:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(expected), "{paths:?}: {stderr}");
    }
}

#[test]
fn the_shipped_sample_export_is_audited_from_the_command_line() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-export");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let output = binary()
        .arg("audit")
        .arg(&sample)
        .arg("--out")
        .arg(&out)
        .arg("--tz")
        .arg("Europe/Berlin")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("Audited 3000 messages in 10 conversations"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Top suggestion: #incidents sees most real urgency"),
        "{stdout}"
    );
    assert!(stdout.contains("report.html"), "{stdout}");
    let report = report_json(&out);
    assert_eq!(report["format"], "async-norms-audit/1");
    assert_eq!(report["zone"], "Europe/Berlin");
    assert_eq!(report["totals"]["messages"], 3000);
    assert_eq!(report["members"]["people"], 31);
    assert_eq!(report["skipped_files"], json!([]));
    for file in ["report.html", "heatmap.svg"] {
        assert!(out.join(file).is_file(), "{file}");
    }
}

// ---------------------------------------------------------------------------------------------
// Exports as they come: the shapes in tests/fixtures/exports (see PROVENANCE.md there)
// ---------------------------------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/exports")
        .join(name)
}

fn options(export: &Path, out: &Path) -> AuditOptions {
    AuditOptions {
        export: export.to_path_buf(),
        out: out.to_path_buf(),
        hours: None,
        norms: None,
        tz: None,
        include_dms: false,
        progress: false,
    }
}

/// Audits a fixture export and returns its report.json, the summary and the HTML page.
fn audit_fixture(name: &str, change: impl FnOnce(&mut AuditOptions)) -> (Value, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let mut options = options(&fixture(name), &out);
    change(&mut options);
    let outcome = run(&options).expect("the audit runs");
    let html = std::fs::read_to_string(&outcome.html).unwrap();
    (
        report_json(&out),
        async_norms::audit::summary(&outcome),
        html,
    )
}

/// The figures of the whole export that the shapes below are checked on.
fn headline(report: &Value) -> Value {
    let t = &report["totals"];
    json!({
        "messages": t["messages"],
        "mentions": t["mentions"],
        "mentions_off_hours": t["mentions_off_hours"],
        "broadcasts": t["broadcasts"],
        "broadcast_reach": t["broadcast_reach"],
        "broadcast_off_hours_reach": t["broadcast_off_hours_reach"],
    })
}

fn names(report: &Value) -> Vec<String> {
    report["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| match c["workspace"].as_str() {
            Some(workspace) => format!("{workspace}/{}", c["name"].as_str().unwrap()),
            None => c["name"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn an_export_with_numbers_written_as_strings_is_read_in_full() {
    // 2017-era: "created": "1460742065", "tz_offset": "-18000", "reply_count": "1", a `ts`
    // written as a number, "is_bot": "true", and fields the audit does not know.
    let (report, ..) = audit_fixture("string-numbers", |_| {});
    assert_eq!(report["skipped_files"], json!([]));
    assert_eq!(names(&report), ["general", "random"]);
    // Monday 10:00 UTC: Nick in New York is off (05:00); the reply comes 30 minutes later.
    assert_eq!(
        headline(&report),
        json!({"messages": 4, "mentions": 2, "mentions_off_hours": 1, "broadcasts": 1,
               "broadcast_reach": 1, "broadcast_off_hours_reach": 1})
    );
    assert_eq!(report["totals"]["threads_replied"], 1);
    assert_eq!(report["totals"]["median_first_reply_minutes"], 30);
    assert_eq!(report["left_out"]["bot_messages"], 1);
    assert_eq!(
        report["members"],
        json!({"users_listed": true, "people": 2, "bots": 1, "hours_given": 0, "zone_unknown": 0})
    );
    assert_eq!(report["first_message"], "2017-03-06T10:00:00Z");
}

#[test]
fn an_export_without_users_json_still_counts_mentions_and_broadcasts_in_the_given_zone() {
    let (report, summary, html) = audit_fixture("no-users", |_| {});
    assert_eq!(
        report["members"],
        json!({"users_listed": false, "people": 4, "bots": 0, "hours_given": 0, "zone_unknown": 4})
    );
    // Everyone's hours are 09:00-17:00 UTC: the 10:00 mentions land inside them, the 20:00
    // broadcast and the 22:00 mentions (one of someone no list names) outside.
    assert_eq!(
        headline(&report),
        json!({"messages": 3, "mentions": 4, "mentions_off_hours": 2, "broadcasts": 1,
               "broadcast_reach": 2, "broadcast_off_hours_reach": 2})
    );
    assert!(
        summary.contains("no list of members (users.json)") && summary.contains("read in UTC"),
        "{summary}"
    );
    assert!(html.contains("The export has no list of members"), "{html}");

    // The same export read in New York: 10:00 UTC is 05:00 there, 20:00 UTC is 15:00.
    let (report, ..) = audit_fixture("no-users", |o| o.tz = Some("America/New_York".into()));
    assert_eq!(
        headline(&report),
        json!({"messages": 3, "mentions": 4, "mentions_off_hours": 4, "broadcasts": 1,
               "broadcast_reach": 2, "broadcast_off_hours_reach": 0})
    );
}

#[test]
fn an_unreadable_list_is_named_and_the_folders_beside_it_are_read_as_unlisted() {
    let (report, ..) = audit_fixture("unreadable-list", |_| {});
    assert_eq!(
        report["skipped_files"],
        json!([{"path": "channels.json", "reason": "cut off: the JSON ends early (line 1, column 85)"}])
    );
    assert_eq!(names(&report), ["general", "random"]);
    for c in report["conversations"].as_array().unwrap() {
        assert_eq!(c["kind"], "unlisted");
    }
    assert_eq!(
        headline(&report),
        json!({"messages": 3, "mentions": 1, "mentions_off_hours": 0, "broadcasts": 0,
               "broadcast_reach": 0, "broadcast_off_hours_reach": 0})
    );
    // The DM's folder is known by its name and left out.
    assert_eq!(report["left_out"]["dm_conversations"], 1);
    let (report, ..) = audit_fixture("unreadable-list", |o| o.include_dms = true);
    assert_eq!(names(&report), ["D0123ABCD", "general", "random"]);
    assert_eq!(report["conversations"][0]["kind"], "dm");
    assert_eq!(report["totals"]["messages"], 4);
}

#[test]
fn a_list_of_another_shape_is_named_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    std::fs::write(
        export.join("channels.json"),
        r#"{"channels": [{"name": "SECRET-MARKER"}]}"#,
    )
    .unwrap();
    std::fs::write(
        export.join("general/2024-03-05.json"),
        r#"[{"type": "message", "text": "SECRET-MARKER <@UT>", "ts": 5, "user": ["UX"]}, "#,
    )
    .unwrap();
    let out = dir.path().join("report");
    let outcome = audit(&export, &out);
    let skipped = &outcome.report.skipped_files;
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    for file in skipped {
        assert!(!file.reason.contains("SECRET"), "{file:?}");
    }
    assert_eq!(
        skipped[0].reason,
        "not a JSON list of conversations (line 1, column 0)"
    );
    // The folders are still read, as unlisted; the DM listed in dms.json keeps its list.
    let report = report_json(&out);
    assert_eq!(names(&report), ["D1", "general", "incidents"]);
    assert_eq!(report["totals"]["messages"], 7);
}

#[test]
fn an_enterprise_grid_org_export_reads_every_workspace_folder() {
    let (report, ..) = audit_fixture("grid", |_| {});
    assert_eq!(
        names(&report),
        ["eng/general", "eng/deploys", "eng/leads", "sales/general"]
    );
    assert_eq!(report["conversations"][2]["kind"], "private");
    assert_eq!(
        report["members"],
        json!({"users_listed": true, "people": 3, "bots": 0, "hours_given": 0, "zone_unknown": 0})
    );
    // 10:00 UTC in eng: New York 05:00 and Tokyo 19:00, both off; Tuesday 01:00 UTC in
    // leads: Berlin 02:00; the broadcast in sales at 16:00 UTC: Tokyo 01:00.
    assert_eq!(
        headline(&report),
        json!({"messages": 4, "mentions": 3, "mentions_off_hours": 3, "broadcasts": 1,
               "broadcast_reach": 1, "broadcast_off_hours_reach": 1})
    );
    assert_eq!(report["left_out"]["dm_conversations"], 2);
    assert_eq!(report["left_out"]["unlisted_folders"], json!([]));
    assert_eq!(report["skipped_files"], json!([]));

    let (with_dms, ..) = audit_fixture("grid", |o| o.include_dms = true);
    assert_eq!(
        names(&with_dms),
        [
            "mpdm-berta--nick--tomo-1",
            "D0GRID001",
            "eng/general",
            "eng/deploys",
            "eng/leads",
            "sales/general"
        ]
    );
    assert_eq!(with_dms["totals"]["messages"], 6);
    assert_eq!(with_dms["totals"]["mentions_off_hours"], 4);

    // The same export as a zip gives the same report.
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("grid.zip");
    zip_folder(&fixture("grid"), &zip_path, "org-export/");
    let out = dir.path().join("from-zip");
    run(&options(&zip_path, &out)).unwrap();
    assert_eq!(report_json(&out), report);
}

#[test]
fn a_slackdump_export_is_read_with_its_nulls_and_attachment_folders() {
    let (report, ..) = audit_fixture("slackdump", |_| {});
    assert_eq!(names(&report), ["general", "random"]);
    assert_eq!(
        headline(&report),
        json!({"messages": 4, "mentions": 1, "mentions_off_hours": 1, "broadcasts": 1,
               "broadcast_reach": 1, "broadcast_off_hours_reach": 1})
    );
    assert_eq!(report["totals"]["flags"]["broadcast"], 1);
    assert_eq!(report["totals"]["median_first_reply_minutes"], 30);
    assert_eq!(report["left_out"]["system_messages"], 1);
    // The attachment folders hold no day files: neither read nor named.
    assert_eq!(report["left_out"]["unlisted_folders"], json!([]));
    assert_eq!(report["left_out"]["dm_conversations"], 1);
    assert_eq!(report["skipped_files"], json!([]));
}

#[test]
fn direct_messages_are_left_out_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    let out = dir.path().join("report");
    let outcome = run(&options(&export, &out)).unwrap();
    let report = report_json(&out);
    assert_eq!(names(&report), ["general", "incidents"]);
    assert_eq!(report["totals"]["messages"], 7);
    assert_eq!(report["left_out"]["dm_conversations"], 1);
    let summary = async_norms::audit::summary(&outcome);
    assert!(summary.contains("--include-dms"), "{summary}");
    let html = std::fs::read_to_string(&outcome.html).unwrap();
    assert!(!html.contains("D1"), "the DM is not named in the report");
}

#[cfg(unix)]
#[test]
fn links_fifos_devices_and_oversized_day_files_are_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    let outside = dir.path().join("outside");
    write(
        &outside,
        "2024-03-04.json",
        &json!([message("UB", MON_10, "not part of the export")]),
    );
    // A day file that is a link, one that is a FIFO (reading it would wait forever), one
    // larger than the limit (sparse: no disk is used), and a channel folder that is a link.
    std::os::unix::fs::symlink(
        outside.join("2024-03-04.json"),
        export.join("general/2024-03-07.json"),
    )
    .unwrap();
    let fifo = export.join("general/2024-03-08.json");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let big = std::fs::File::create(export.join("general/2024-03-09.json")).unwrap();
    big.set_len(async_norms::audit::export::MAX_DAY_FILE_BYTES + 1)
        .unwrap();
    std::fs::remove_dir_all(export.join("incidents")).unwrap();
    std::os::unix::fs::symlink(&outside, export.join("incidents")).unwrap();

    let out = dir.path().join("report");
    let outcome = audit(&export, &out);
    let skipped: Vec<(&str, &str)> = outcome
        .report
        .skipped_files
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                "incidents",
                "a symbolic link, which the audit does not follow"
            ),
            (
                "general/2024-03-07.json",
                "a symbolic link, which the audit does not follow"
            ),
            (
                "general/2024-03-08.json",
                "a FIFO (named pipe), not a regular file"
            ),
            (
                "general/2024-03-09.json",
                "larger than the 64 MiB a file may have (65 MiB)"
            ),
        ]
    );
    // general's 7 and the DM's 1; nothing from outside the export.
    assert_eq!(outcome.report.totals.messages, 7);
}

#[test]
fn names_printed_to_the_terminal_have_no_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    let sneaky = "ops\u{1b}[2J\u{7}\r";
    let channels = export.join("channels.json");
    let mut listed: Value = serde_json::from_slice(&std::fs::read(&channels).unwrap()).unwrap();
    listed
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "C7", "name": sneaky, "members": ["UB"]}));
    std::fs::write(&channels, listed.to_string()).unwrap();
    std::fs::create_dir_all(export.join(sneaky)).unwrap();
    std::fs::write(export.join(sneaky).join("2024-03-04.json"), "[{").unwrap();
    let output = binary()
        .arg("audit")
        .arg(&export)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("ops[2J/2024-03-04.json"), "{stdout}");
    assert!(
        !stdout.chars().any(|c| c.is_control() && c != '\n'),
        "{stdout:?}"
    );
}

#[test]
fn day_files_without_one_message_by_a_person_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Value, Option<&str>, &str); 3] = [
        (
            "general/2024-03-04.json",
            json!([{"type": "message", "subtype": "bot_message", "bot_id": "B1", "text": "hi", "ts": "1709546400.000100"}]),
            None,
            "they hold no message a person wrote (1 from bots, 0 system messages, 0 without a user or a readable time)",
        ),
        (
            "general/2024-03-04.json",
            json!({"not": "a list"}),
            None,
            "every one was unreadable; the first, general/2024-03-04.json: not a JSON list of messages (line 1, column 0)",
        ),
        (
            "D1/2024-03-04.json",
            json!([message("UB", MON_10, "hi")]),
            Some(r#"[{"id": "D1", "members": ["UB", "UN"]}]"#),
            "they are all in direct or group messages, which are read only with --include-dms",
        ),
    ];
    for (index, (path, contents, dms, why)) in cases.into_iter().enumerate() {
        let export = dir.path().join(format!("quiet-{index}"));
        write(
            &export,
            "channels.json",
            &json!([{"id": "C1", "name": "general", "members": ["UB"]}]),
        );
        write(&export, path, &contents);
        if let Some(dms) = dms {
            std::fs::write(export.join("dms.json"), dms).unwrap();
        }
        let output = binary()
            .arg("audit")
            .arg(&export)
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!("error: read 0 messages from quiet-{index}, which has 1 day file(s): {why}")
        );
        // The report is still written, to show what was left out.
        assert!(dir.path().join("out/report.json").is_file());
    }
}

#[test]
fn the_report_names_the_export_by_its_own_name_and_fits_a_laptop() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("acme-2024");
    small_export(&export);
    let out = dir.path().join("report");
    let outcome = audit(&export, &out);
    let html = std::fs::read_to_string(&outcome.html).unwrap();
    assert!(html.contains("<title>Communication norms audit: acme-2024</title>"));
    let local = dir.path().to_string_lossy();
    assert!(
        !html.contains(local.as_ref()),
        "the local path is not in the page"
    );
    // Tables scroll sideways inside the page instead of widening it.
    assert!(html.contains("<div class=\"scroll\"><table>"));
    assert!(html.contains(".scroll{overflow-x:auto"));
}

#[test]
fn the_weekly_trend_shows_every_week_between_the_first_and_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    // Two weeks later (2024-W12), one more urgent message at night.
    let later = MON_10 + 14 * 24 * 3600 + 12 * 3600;
    write(
        &export,
        "general/2024-03-18.json",
        &json!([message("UB", later, "<@UN> URGENT need this ASAP")]),
    );
    let out = dir.path().join("report");
    let outcome = audit(&export, &out);
    let weeks: Vec<(&str, u64)> = outcome
        .report
        .weeks
        .iter()
        .map(|w| (w.week.as_str(), w.figures.messages))
        .collect();
    assert_eq!(weeks, [("2024-W10", 8), ("2024-W12", 1)]);
    let html = std::fs::read_to_string(&outcome.html).unwrap();
    assert!(html.contains("<img src=\"trend.svg\""));
    let svg = std::fs::read_to_string(out.join("trend.svg")).unwrap();
    assert_well_formed(&svg, "trend.svg");
    // Three rows (messages, flags, off-hours mentions) of three weeks, W11 at zero.
    assert_eq!(svg.matches("<rect x=").count(), 3 * 3);
    assert!(svg.contains("<title>2024-W11 — 0</title>"), "{svg}");
    assert!(svg.contains("<title>2024-W12 — 1</title>"), "{svg}");
}

#[test]
fn a_folder_no_list_names_is_left_out_and_named_when_the_lists_read() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    small_export(&export);
    write(
        &export,
        "strays/2024-03-04.json",
        &json!([message("UB", MON_10, "in no list")]),
    );
    let out = dir.path().join("report");
    audit(&export, &out);
    let report = report_json(&out);
    assert_eq!(report["left_out"]["unlisted_folders"], json!(["strays"]));
    assert_eq!(report["totals"]["messages"], 8);
}

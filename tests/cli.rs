//! The command line as an operator meets it: bad settings, the manifest, export and import,
//! graceful shutdown.

mod common;

use common::*;
use hyper::StatusCode;

#[test]
fn a_missing_or_bad_setting_stops_start_up_with_one_line_naming_it() {
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "SLACK_BOT_TOKEN"),
        (vec![("SLACK_BOT_TOKEN", "xoxb-1")], "SLACK_SIGNING_SECRET"),
        (
            vec![
                ("SLACK_BOT_TOKEN", "xoxp-user-token"),
                ("SLACK_SIGNING_SECRET", "abc"),
            ],
            "SLACK_BOT_TOKEN",
        ),
        (
            vec![
                ("SLACK_BOT_TOKEN", "xoxb-1"),
                ("SLACK_SIGNING_SECRET", "abc"),
                ("SLACK_API_URL", "slack.com"),
            ],
            "SLACK_API_URL",
        ),
        (
            vec![
                ("SLACK_BOT_TOKEN", "xoxb-1"),
                ("SLACK_SIGNING_SECRET", "abc"),
                ("ASYNC_NORMS_LISTEN", "3000"),
            ],
            "ASYNC_NORMS_LISTEN",
        ),
        (
            vec![
                ("SLACK_BOT_TOKEN", "xoxb-1"),
                ("SLACK_SIGNING_SECRET", "abc"),
                ("SLACK_APP_TOKEN", "xoxb-2"),
            ],
            "SLACK_APP_TOKEN",
        ),
        (
            vec![
                ("SLACK_BOT_TOKEN", "xoxb-1"),
                ("SLACK_SIGNING_SECRET", "abc"),
                ("ASYNC_NORMS_DEFAULT_TZ", "Moon/Base"),
            ],
            "ASYNC_NORMS_DEFAULT_TZ",
        ),
    ];
    for (env, named) in cases {
        let (code, _, stderr) = run_cli(&["serve"], &env);
        assert_eq!(code, 2, "{named}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(lines[0].contains(named), "names {named}: {stderr}");
        assert!(
            !lines[0].contains("xoxb-1"),
            "no secret in the message: {stderr}"
        );
    }
}

#[test]
fn the_manifest_command_fills_in_the_host() {
    let (code, stdout, _) = run_cli(&["manifest", "--url", "https://norms.acme.dev"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("https://norms.acme.dev/slack/events"));
    let (code, _, stderr) = run_cli(&["manifest", "--url", "not a url"], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a base URL"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_cleanly_and_export_import_move_everything() {
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let data = data_dir.path().to_str().unwrap().to_string();
    let bot = BotProcess::start(&emulator, data_dir.path());
    let (status, _) = post_event(bot.addr, &event("app_mention.json", "EvExport1")).await;
    assert_eq!(status, StatusCode::OK);
    emulator.wait_for("chat.postMessage", 1, PATIENCE).await;

    // The store belongs to the running bot: export says so instead of reading half a store.
    let (code, _, stderr) = run_cli(&["export", "--data-dir", &data], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("in use"), "{stderr}");

    assert!(bot.terminate(), "SIGTERM ends the bot with exit code 0");

    let dump = data_dir.path().join("dump.jsonl");
    let (code, _, stderr) = run_cli(
        &[
            "export",
            "--data-dir",
            &data,
            "--out",
            dump.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let exported = std::fs::read_to_string(&dump).unwrap();
    assert!(
        exported
            .lines()
            .next()
            .unwrap()
            .contains("async-norms-export")
    );
    assert!(
        exported.contains("\"T111/EvExport1\""),
        "the seen event id is there: {exported}"
    );
    assert!(
        !exported.contains("\"event\":"),
        "no journaled message text is left: {exported}"
    );

    let other = tempfile::tempdir().unwrap();
    let other_data = other.path().to_str().unwrap();
    let (code, _, stderr) = run_cli(
        &["import", "--data-dir", other_data, dump.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let (_, again, _) = run_cli(&["export", "--data-dir", other_data], &[]);
    assert_eq!(again, exported);
}

#[test]
fn schedule_preview_follows_the_zone_across_daylight_saving() {
    let (code, stdout, stderr) = run_cli(
        &[
            "schedule-preview",
            "--days",
            "mon-fri",
            "--at",
            "09:30",
            "--tz",
            "Europe/London",
            "--from",
            "2026-03-26T00:00:00Z",
            "--count",
            "4",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    // GMT until Sunday 29 March, BST after: 09:30 local is 09:30Z, then 08:30Z.
    assert_eq!(
        lines,
        [
            "2026-03-26T09:30:00Z",
            "2026-03-27T09:30:00Z",
            "2026-03-30T08:30:00Z",
            "2026-03-31T08:30:00Z"
        ]
    );

    for (args, says) in [
        (
            vec!["--days", "mon-fry", "--at", "09:30", "--tz", "UTC"],
            "fry",
        ),
        (
            vec!["--days", "daily", "--at", "9.30", "--tz", "UTC"],
            "9.30",
        ),
        (
            vec!["--days", "daily", "--at", "09:30", "--tz", "Europe/Londn"],
            "Europe/Londn",
        ),
        (
            vec![
                "--days", "daily", "--at", "09:30", "--tz", "UTC", "--count", "0",
            ],
            "--count",
        ),
        (
            vec![
                "--days",
                "daily",
                "--at",
                "09:30",
                "--tz",
                "UTC",
                "--from",
                "yesterday",
            ],
            "--from",
        ),
    ] {
        let mut full = vec!["schedule-preview"];
        full.extend(args);
        let (code, _, stderr) = run_cli(&full, &[]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(says), "names `{says}`: {stderr}");
    }
}

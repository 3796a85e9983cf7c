//! The command line as an operator meets it: bad settings, the manifest, the doctor, export and import,
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

/// `async-norms doctor` with these settings, run off the async threads.
async fn doctor(env: Vec<(&'static str, String)>) -> (i32, Vec<String>) {
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (code, stdout, _) = run_cli(&["doctor"], &env);
        (code, stdout.lines().map(str::to_string).collect())
    })
    .await
    .unwrap()
}

/// The line about `subject`; every line is one check.
fn line<'a>(lines: &'a [String], subject: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.split_whitespace().nth(1) == Some(subject.split(' ').next().unwrap()))
        .unwrap_or_else(|| panic!("no {subject} line in {lines:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_a_good_setup_and_names_each_failure_with_its_fix() {
    let emulator = SlackEmulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data").display().to_string();
    let settings = |token: &str, api_url: String, data_dir: &str| {
        vec![
            ("SLACK_BOT_TOKEN", token.to_string()),
            ("SLACK_SIGNING_SECRET", "secret".to_string()),
            ("SLACK_API_URL", api_url),
            ("ASYNC_NORMS_DATA_DIR", data_dir.to_string()),
        ]
    };

    let (code, lines) = doctor(settings("xoxb-good", emulator.api_url(), &data_dir)).await;
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(
        lines.len(),
        4,
        "settings, token, scopes, data folder: {lines:?}"
    );
    assert!(lines.iter().all(|l| l.starts_with("ok ")), "{lines:?}");
    assert!(line(&lines, "token").contains("T111"), "{lines:?}");

    // The app was installed before a scope was added to the manifest.
    emulator.grant_scopes(&["app_mentions:read", "chat:write", "commands"]);
    let (code, lines) = doctor(settings("xoxb-good", emulator.api_url(), &data_dir)).await;
    assert_eq!(code, 1, "{lines:?}");
    let scopes = line(&lines, "scopes");
    assert!(scopes.starts_with("FAIL"), "{scopes}");
    assert!(
        scopes.contains("users:read") && scopes.contains("reinstall"),
        "{scopes}"
    );
    assert!(
        !scopes.contains("chat:write"),
        "only what is missing: {scopes}"
    );

    // A revoked token, a Slack that cannot be reached, a data folder that is a file.
    emulator.revoke_token("xoxb-good");
    let (code, lines) = doctor(settings("xoxb-good", emulator.api_url(), &data_dir)).await;
    assert_eq!(code, 1);
    let token = line(&lines, "token");
    assert!(
        token.starts_with("FAIL") && token.contains("token_revoked"),
        "{token}"
    );
    assert!(token.contains("OAuth & Permissions"), "{token}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}/api", closed.local_addr().unwrap());
    drop(closed);
    let not_a_folder = dir.path().join("file");
    std::fs::write(&not_a_folder, b"not a folder").unwrap();
    let (code, lines) = doctor(settings(
        "xoxb-good",
        nowhere,
        &not_a_folder.display().to_string(),
    ))
    .await;
    assert_eq!(code, 1);
    assert!(
        line(&lines, "token").contains("cannot reach Slack"),
        "{lines:?}"
    );
    assert!(line(&lines, "data folder").starts_with("FAIL"), "{lines:?}");

    // A missing setting stops the checks at the first line, which names it.
    let (code, lines) = doctor(vec![("SLACK_API_URL", emulator.api_url())]).await;
    assert_eq!(code, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("FAIL") && lines[0].contains("SLACK_BOT_TOKEN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_are_json_objects_when_asked_and_a_bad_format_is_named() {
    let emulator = SlackEmulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut bot = std::process::Command::new(env!("CARGO_BIN_EXE_async-norms"))
        .arg("serve")
        .env("SLACK_BOT_TOKEN", BOT_TOKEN)
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .env("SLACK_API_URL", emulator.api_url())
        .env("ASYNC_NORMS_LISTEN", "127.0.0.1:0")
        .env("ASYNC_NORMS_DATA_DIR", data_dir.path())
        .env_remove("SLACK_APP_TOKEN")
        .env("RUST_LOG", "info")
        .env("ASYNC_NORMS_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the bot binary");
    let stderr = bot.stderr.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let connected = loop {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no `connected to Slack` line; saw {seen:?}"));
        let object: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("a log line that is not JSON: {line}"));
        if object["fields"]["message"] == "connected to Slack" {
            break object;
        }
        seen.push(line);
    };
    let _ = bot.kill();
    let _ = bot.wait();
    assert_eq!(connected["level"], "INFO");
    assert_eq!(connected["fields"]["team"], "T111");
    assert!(connected["timestamp"].is_string());

    let (code, _, stderr) = tokio::task::spawn_blocking(|| {
        run_cli(&["manifest"], &[("ASYNC_NORMS_LOG_FORMAT", "xml")])
    })
    .await
    .unwrap();
    assert_eq!(code, 2);
    assert!(stderr.contains("ASYNC_NORMS_LOG_FORMAT `xml`"), "{stderr}");
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
        !exported.contains("EvExport1") && !exported.contains("journal_"),
        "the handled event left the journal; its id is kept only as a hash, beside sled, for two hours: {exported}"
    );
    let seen = std::fs::read_dir(data_dir.path().join("seen"))
        .unwrap()
        .map(|entry| std::fs::metadata(entry.unwrap().path()).unwrap().len())
        .sum::<u64>();
    assert_eq!(seen, 8, "one handled id, 8 bytes");
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

#[test]
fn eval_urgency_prints_precision_recall_and_the_misjudged_messages() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/urgency-labelled.jsonl"
    );
    let (code, stdout, stderr) = run_cli(&["eval-urgency", file], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("messages: 8 (4 labelled demand, 4 not, 1 unsure left out)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("flagged: 3 (true 3, false 0); missed: 1\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("precision: 1.000\nrecall: 0.750\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("labelled demand but not flagged (1):\n  e8: it's kind of pressing"),
        "{stdout}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"text\": \"asap\", \"label\": \"not\"}\n{\"text\": 3}\n",
    )
    .unwrap();
    let (code, _, stderr) = run_cli(&["eval-urgency", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("line 2: "), "{stderr}");
    let (code, _, stderr) = run_cli(&["eval-urgency", "/no/such/file.jsonl"], &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot open /no/such/file.jsonl"),
        "{stderr}"
    );
}

/// The development set of real labelled messages sits beside the checkout, not in it.
#[test]
fn the_urgency_judgment_meets_its_bar_on_the_development_set() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/urgency-dev.jsonl");
    if !path.is_file() {
        eprintln!("skipped: {} is not there", path.display());
        return;
    }
    let (code, stdout, stderr) = run_cli(&["eval-urgency", path.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stderr}");
    let figure = |name: &str| -> f64 {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
    };
    assert!(figure("precision:") >= 0.90, "{stdout}");
    assert!(figure("recall:") >= 0.75, "{stdout}");
}

#[test]
fn the_unit_and_the_image_set_the_malloc_threshold_the_readme_names() {
    let setting = |text: &str| -> Option<String> {
        let at = text.find("MALLOC_MMAP_THRESHOLD_=")?;
        let value = &text[at + "MALLOC_MMAP_THRESHOLD_=".len()..];
        Some(value.chars().take_while(char::is_ascii_digit).collect())
    };
    let read = |path: &str| {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
            .unwrap()
    };
    let readme = setting(&read("README.md")).expect("the README names the setting");
    assert_eq!(readme, "131072");
    for shipped in ["deploy/async-norms.service", "Dockerfile"] {
        assert_eq!(
            setting(&read(shipped)).as_deref(),
            Some(readme.as_str()),
            "{shipped}"
        );
    }
}

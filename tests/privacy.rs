//! Private by construction, end to end against the real bot: no message text reaches the
//! data folder (raw bytes of every file, sled's log included); uninstalling or revoking the
//! token deletes one workspace's records and no other's; check-in answers are deleted at the
//! end of their retention (by the test clock); member-written text the bot posts again
//! cannot ping or disguise a link; a member sees and deletes their own data.

mod common;

use std::path::Path;

use chrono::TimeDelta;
use common::*;
use hyper::StatusCode;
use serde_json::{Value, json};

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a readable folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// The files of `dir` whose raw bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|path| {
            let bytes = std::fs::read(path).expect("a readable file");
            bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        })
        .map(|path| path.display().to_string())
        .collect()
}

/// Every stored record, as `async-norms export` writes them (one JSON object a line).
/// Every record of a stopped bot's data folder, through `async-norms export`: a process of
/// its own, so the folder is free again when it returns.
fn exported(dir: &Path) -> Vec<Value> {
    let (code, stdout, stderr) = run_cli(&["export", "--data-dir", dir.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stderr}");
    stdout
        .lines()
        .skip(1)
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn keys_of_team(records: &[Value], team: &str) -> Vec<String> {
    records
        .iter()
        .filter(|r| {
            r["key"]
                .as_str()
                .is_some_and(|k| k.starts_with(&format!("{team}/")))
        })
        .map(|r| format!("{}:{}", r["table"], r["key"]))
        .collect()
}

#[tokio::test]
async fn no_message_text_is_left_in_any_file_of_the_data_folder() {
    let emulator = team_in_london().await;
    emulator.add_channel("C2", &["U1", "U2", emulator::BOT_USER_ID]);
    let bot = TestBot::start(&emulator).await;
    let marker = "zq7marker";
    let text = |n: usize| format!("{marker}{n} urgent please <@U2> review asap!!! {marker}{n}");

    let mut events = Vec::new();
    // Plain messages, in channels, threads and DMs, with mentions and urgency words.
    for (n, (channel, thread)) in [
        ("C1", None),
        ("C2", Some("1772400000.000001")),
        ("D1", None),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = message_event(
            &format!("EvText{n}"),
            "U1",
            channel,
            &text(n),
            &format!("17724{n}0000.000100"),
            thread,
        );
        // The rich copies of the text that Slack sends along.
        body["event"]["blocks"] = json!([{"type": "rich_text", "elements": [{"type": "rich_text_section",
            "elements": [{"type": "text", "text": text(n)}]}]}]);
        body["event"]["attachments"] = json!([{"fallback": text(n), "text": text(n)}]);
        events.push(body);
    }
    // An edit: the new and the previous text.
    let mut edit = event("message_changed.json", "EvEdit");
    edit["event"]["channel"] = json!("C1");
    edit["event"]["message"]["user"] = json!("U1");
    edit["event"]["message"]["text"] = json!(text(10));
    edit["event"]["message"]["ts"] = json!("1772410000.000100");
    edit["event"]["previous_message"]["user"] = json!("U1");
    edit["event"]["previous_message"]["text"] = json!(text(11));
    events.push(edit);
    // A mention of the bot.
    let mut mention = event("app_mention.json", "EvMention");
    mention["event"]["channel"] = json!("C1");
    mention["event"]["text"] = json!(format!("<@UBOT> {}", text(20)));
    events.push(mention);

    for body in &events {
        let (status, answer) = post_event(bot.addr, body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    bot.wait_for_handled_messages(4.0).await;
    bot.wait_for_metric(
        "async_norms_events_handled_total{type=\"app_mention\"}",
        1.0,
    )
    .await;
    // Handled for real: the mention of U2 and the urgency were read from the distilled scan.
    emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    assert!(
        !emulator
            .calls()
            .iter()
            .any(|c| c.params.to_string().contains(marker)),
        "the bot never sends the text anywhere either"
    );

    let data = bot.stop().await;
    assert!(!files_under(data.path()).is_empty());
    assert_eq!(
        files_containing(data.path(), marker),
        Vec::<String>::new(),
        "no file of the data folder holds any message's text"
    );
    // Whereas the ids handling needs are there.
    assert!(!files_containing(data.path(), "EvText0").is_empty());
}

#[tokio::test]
async fn uninstalling_or_revoking_the_token_deletes_that_workspace_and_no_other() {
    let emulator = team_in_london().await;
    let clock = clock_at(MONDAY_EARLY);
    // The installed workspace (the token's, T111) has hours, a role and a check-in. The same
    // data folder also holds two other workspaces' records (say, from an earlier
    // installation): payloads for workspaces not installed here are ignored, so they are
    // written with `import`, as a copy of T111's under their own team ids.
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    set_up_the_installed_workspace(&bot).await;
    let mut data = bot.stop().await;
    let others = import_copies_for(data.path(), &["T222", "T333"]);
    for table in ["hours", "roles", "checkins", "checkin_sequence"] {
        assert!(
            others["T222"]
                .iter()
                .any(|k| k.starts_with(&format!("\"{table}\":"))),
            "T111 had its {table}: {others:?}"
        );
    }

    for (event_id, gone) in [
        ("EvGone", json!({"type": "app_uninstalled"})),
        (
            "EvRevoked",
            json!({"type": "tokens_revoked", "tokens": {"oauth": ["UMGR"], "bot": ["UBOT"]}}),
        ),
    ] {
        let bot = TestBot::start_in(&emulator, clock.clone(), data).await;
        if event_id == "EvRevoked" {
            set_up_the_installed_workspace(&bot).await;
        }
        let mut body = event("app_mention.json", event_id);
        body["event"] = gone.clone();
        let (status, answer) = post_event(bot.addr, &body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let kind = gone["type"].as_str().unwrap();
        bot.wait_for_metric(
            &format!("async_norms_events_handled_total{{type=\"{kind}\"}}"),
            1.0,
        )
        .await;
        let kept = bot.stop().await;
        let records = exported(kept.path());
        assert_eq!(
            keys_of_team(&records, "T111"),
            Vec::<String>::new(),
            "{kind}"
        );
        for team in ["T222", "T333"] {
            assert_eq!(
                keys_of_team(&records, team),
                others[team],
                "{kind}: {team} kept"
            );
        }
        data = kept;
    }
}

/// Hours, a manager role and a check-in in the installed workspace, through `/async`.
async fn set_up_the_installed_workspace(bot: &TestBot) {
    for text in [
        "hours set mon-fri 08:00-16:00 Europe/London",
        "role manager <@U1|u1>",
        CREATE_FIXED,
    ] {
        let answer = slash(bot.addr, &bot.emulator, "UMGR", "C1", text).await;
        assert!(!answer.is_empty(), "{text}");
        if text == CREATE_FIXED {
            assert!(answer.contains("created"), "{answer}");
        }
    }
}

/// Imports a copy of T111's records under each of `teams` into the stopped bot's folder,
/// and returns each team's keys as the export lists them.
fn import_copies_for(
    dir: &Path,
    teams: &[&'static str],
) -> std::collections::HashMap<&'static str, Vec<String>> {
    let records = exported(dir);
    let mut file = String::from("{\"format\":\"async-norms-export\",\"schema_version\":1}\n");
    for team in teams {
        for record in records
            .iter()
            .filter(|r| r["key"].as_str().is_some_and(|k| k.starts_with("T111/")))
        {
            let mut copy = record.clone();
            copy["key"] = json!(record["key"].as_str().unwrap().replacen("T111", team, 1));
            file.push_str(&copy.to_string());
            file.push('\n');
        }
    }
    let import = dir.with_extension("import.jsonl");
    std::fs::write(&import, file).unwrap();
    let (code, _, stderr) = run_cli(
        &[
            "import",
            "--data-dir",
            dir.to_str().unwrap(),
            import.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let records = exported(dir);
    teams
        .iter()
        .map(|team| (*team, keys_of_team(&records, team)))
        .collect()
}

/// Creates the check-in, lets it prompt, and returns the prompt's thread ts.
async fn prompted_checkin(bot: &TestBot, clock: &async_norms::clock::FixedClock) -> String {
    let created = slash(bot.addr, &bot.emulator, "UMGR", "C1", CREATE_FIXED).await;
    assert!(created.contains("created"), "{created}");
    clock.set(at(MONDAY_PROMPT));
    let prompt = bot.emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    assert_eq!(prompt[0].param("channel"), Some("C1"));
    let metadata = &prompt[0].params["metadata"]["event_payload"]["post"];
    assert_eq!(metadata, "1/2026-03-02/prompt");
    // The prompt's thread is known to the bot once the step is saved.
    bot.wait_for_home("UMGR", "Mon 2 Mar: prompted").await;
    emulator_ts_of_first_post(&bot.emulator).await
}

/// The ts the emulator gave the first message of channel C1.
async fn emulator_ts_of_first_post(emulator: &SlackEmulator) -> String {
    history_of(emulator, "C1").await[0]["ts"]
        .as_str()
        .expect("the prompt is in the history")
        .to_string()
}

#[tokio::test]
async fn check_in_answers_are_deleted_when_their_retention_after_the_report_is_over() {
    let emulator = team_in_london().await;
    let clock = clock_at(MONDAY_EARLY);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    let refused = slash(bot.addr, &emulator, "U1", "C1", "norms retention 30d").await;
    assert!(refused.contains("Only workspace admins"), "{refused}");
    let set = slash(bot.addr, &emulator, "UMGR", "C1", "norms retention 30d").await;
    assert!(set.contains("30 days after their report"), "{set}");
    let thread = prompted_checkin(&bot, &clock).await;

    let reply = message_event(
        "EvAnswer",
        "U1",
        "C1",
        "shipped the importer",
        "1772444000.000100",
        Some(&thread),
    );
    post_event(bot.addr, &reply).await;
    emulator.wait_for("reactions.add", 1, PATIENCE).await;
    clock.set(at(MONDAY_CLOSE));
    emulator.wait_for("chat.postMessage", 2, PATIENCE).await;
    let mine = slash(bot.addr, &emulator, "U1", "C1", "my data").await;
    assert!(mine.contains("shipped the importer"), "{mine}");

    // A day short of the retention: a sweep runs, the answer stays.
    let sweeps = bot.metric("async_norms_retention_sweeps_total").await;
    clock.set(at(MONDAY_CLOSE) + TimeDelta::days(29));
    bot.wait_for_metric("async_norms_retention_sweeps_total", sweeps + 1.0)
        .await;
    let mine = slash(bot.addr, &emulator, "U1", "C1", "my data").await;
    assert!(mine.contains("shipped the importer"), "{mine}");
    assert_eq!(bot.metric("async_norms_answers_expired_total").await, 0.0);

    // Past it: deleted.
    clock.set(at(MONDAY_CLOSE) + TimeDelta::days(30) + TimeDelta::hours(2));
    bot.wait_for_metric("async_norms_answers_expired_total", 1.0)
        .await;
    let mine = slash(bot.addr, &emulator, "U1", "C1", "my data").await;
    assert!(!mine.contains("shipped the importer"), "{mine}");
    let data = bot.stop().await;
    let records = exported(data.path());
    assert!(
        !records.iter().any(|r| r["table"] == "checkin_answers"),
        "{records:?}"
    );
}

#[tokio::test]
async fn deleting_a_check_in_deletes_its_answers_and_occurrences() {
    let emulator = team_in_london().await;
    let clock = clock_at(MONDAY_EARLY);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    let thread = prompted_checkin(&bot, &clock).await;
    let reply = message_event(
        "EvAnswer",
        "U1",
        "C1",
        "shipped the importer",
        "1772444000.000100",
        Some(&thread),
    );
    post_event(bot.addr, &reply).await;
    emulator.wait_for("reactions.add", 1, PATIENCE).await;
    let deleted = slash(bot.addr, &emulator, "UMGR", "C1", "checkin delete 1").await;
    assert!(deleted.contains("deleted with its answers"), "{deleted}");
    let data = bot.stop().await;
    let records = exported(data.path());
    let checkin_tables: Vec<&Value> = records
        .iter()
        .filter(|r| {
            r["table"]
                .as_str()
                .is_some_and(|t| t.starts_with("checkin") && t != "checkin_sequence")
        })
        .collect();
    assert!(checkin_tables.is_empty(), "{checkin_tables:?}");
}

#[tokio::test]
async fn member_text_posted_again_cannot_ping_or_disguise_a_link() {
    let emulator = team_in_london().await;
    let clock = clock_at(MONDAY_EARLY);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    // A question typed as `<!channel>` (Slack escapes it in the command) comes back as text.
    let created = slash(
        bot.addr,
        &emulator,
        "UMGR",
        "C1",
        "checkin create <#C1|team> at 09:30 on mon-fri in Europe/London questions \"Done? &lt;!channel&gt;\" | \"Blocked by anything?\"",
    )
    .await;
    assert!(created.contains("created"), "{created}");
    clock.set(at(MONDAY_PROMPT));
    let prompt = emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    bot.wait_for_home("UMGR", "Mon 2 Mar: prompted").await;
    let thread = emulator_ts_of_first_post(&emulator).await;

    // In a DM-free thread reply, Slack's text carries real markup: a broadcast, a ping and
    // a link whose label pretends to be another address.
    let reply = message_event(
        "EvInject",
        "U1",
        "C1",
        "<!channel> look <@U2> at <http://evil.example|https://good.example>\nblocked by <!here>",
        "1772444000.000100",
        Some(&thread),
    );
    post_event(bot.addr, &reply).await;
    emulator.wait_for("reactions.add", 1, PATIENCE).await;
    // The modal's plain text: the same attempts, typed.
    let mut submitted = fixture_json("view_submission.json");
    submitted["user"]["id"] = json!("U2");
    submitted["team"]["id"] = json!(emulator::TEAM_ID);
    submitted["view"]["callback_id"] = json!("checkin_answer_modal");
    submitted["view"]["private_metadata"] = json!("1/2026-03-02");
    submitted["view"]["state"] = json!({"values": {
        "q0": {"answer": {"type": "plain_text_input", "value": "<!everyone> <@U1> <https://evil.example|docs>"}},
        "q1": {"answer": {"type": "plain_text_input", "value": "<!here> the build"}}
    }});
    let (status, _) = interact(bot.addr, &submitted).await;
    assert_eq!(status, StatusCode::OK);
    emulator.wait_for("chat.postMessage", 2, PATIENCE).await;
    clock.set(at(MONDAY_CLOSE));
    emulator.wait_for("chat.postMessage", 3, PATIENCE).await;
    bot.stop().await;

    let posts = emulator.answered("chat.postMessage");
    assert!(
        prompt[0]
            .text_and_blocks()
            .contains("Done? &lt;!channel&gt;"),
        "{:?}",
        prompt[0].params
    );
    let report = posts
        .last()
        .unwrap()
        .param("text")
        .unwrap_or_default()
        .to_string();
    assert!(report.contains("blocked by &lt;!here&gt;"), "{report}");
    assert!(report.contains("&lt;!here&gt; the build"), "{report}");
    for post in &posts {
        let shown = post.text_and_blocks();
        for forbidden in [
            "<!channel",
            "<!here",
            "<!everyone",
            "<http",
            "<@U2>",
            "<@U1>",
        ] {
            // The report names who answered (`*Answered:* <@U1>, <@U2>`): the bot's own
            // words, not the member's. Everything else must not carry the markup.
            let own_words = shown
                .replace("*Answered:* <@U1>, <@U2>", "")
                .replace("*Answer from <@U2>*", "")
                .replace(":warning: <@U1>:", "")
                .replace(":warning: <@U2>:", "");
            assert!(
                !own_words.contains(forbidden),
                "{forbidden} in a post: {shown}"
            );
        }
    }
}

#[tokio::test]
async fn a_member_sees_their_data_and_has_it_deleted_after_confirming() {
    let emulator = team_in_london().await;
    let clock = clock_at(MONDAY_EARLY);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    for text in [
        "hours set mon-fri 07:00-15:00 Europe/London",
        "away 2026-03-10 2026-03-12",
        "focus 90m",
    ] {
        let answer = slash(bot.addr, &emulator, "U1", "C1", text).await;
        assert!(
            answer.contains("Saved") || answer.contains("saved") || answer.contains("Focus"),
            "{text}: {answer}"
        );
    }
    let granted = slash(bot.addr, &emulator, "UMGR", "C1", "role manager <@U1|u1>").await;
    assert!(granted.contains("U1"), "{granted}");
    let thread = prompted_checkin(&bot, &clock).await;
    let reply = message_event(
        "EvMine",
        "U1",
        "C1",
        "my answer & more",
        "1772444000.000100",
        Some(&thread),
    );
    post_event(bot.addr, &reply).await;
    emulator.wait_for("reactions.add", 1, PATIENCE).await;

    let mine = slash(bot.addr, &emulator, "U1", "C1", "my data").await;
    let json_text = mine
        .split("```")
        .nth(1)
        .expect("a JSON code block")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let data: Value = serde_json::from_str(json_text.trim()).expect("JSON");
    assert_eq!(data["user"], "U1");
    assert_eq!(data["hours"]["tz"], "Europe/London", "{data}");
    assert!(
        data["hours"]["away"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{data}"
    );
    assert!(data["manager_role"].is_object(), "{data}");
    assert_eq!(
        data["checkin_answers"][0]["answer"]["replies"][0][1], "my answer & more",
        "{data}"
    );
    let other = slash(bot.addr, &emulator, "U2", "C1", "my data").await;
    assert!(!other.contains("my answer"), "only one's own data: {other}");

    let asked = slash(bot.addr, &emulator, "U1", "C1", "forget me").await;
    assert!(asked.contains("/async forget me confirm"), "{asked}");
    assert!(asked.contains("1 check-in answer"), "{asked}");
    let still = slash(bot.addr, &emulator, "U1", "C1", "my data").await;
    assert!(
        still.contains("my answer"),
        "nothing is deleted before the confirmation"
    );
    let done = slash(bot.addr, &emulator, "U1", "C1", "forget me confirm").await;
    assert!(done.starts_with("Deleted"), "{done}");
    let again = slash(bot.addr, &emulator, "U1", "C1", "forget me").await;
    assert!(again.contains("I keep nothing about you"), "{again}");
    let hours = slash(bot.addr, &emulator, "U1", "C1", "hours").await;
    assert!(
        hours.contains("09:00"),
        "back to the default hours: {hours}"
    );

    let data = bot.stop().await;
    let records = exported(data.path());
    let about_u1: Vec<&Value> = records
        .iter()
        .filter(|r| {
            let key = r["key"].as_str().unwrap_or_default();
            key == "T111/U1" || key.ends_with("/U1")
        })
        .collect();
    assert!(about_u1.is_empty(), "{about_u1:?}");
}

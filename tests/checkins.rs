//! End to end: check-ins created by slash command, run by the real bot against the local
//! Slack emulator with a clock the test moves. Moving the clock wakes the runner (it waits
//! only on the clock), so each step happens exactly when the test says and no test sleeps.

mod common;

use async_norms::checkins::record::PostMark;
use async_norms::ids::TeamId;
use async_norms::store::Store;
use async_norms::store::checkins::POSTS_TABLE;
use common::*;
use hyper::StatusCode;
use serde_json::json;

const MONDAY_REMIND: &str = "2026-03-02T13:30:00Z";

/// Messages the bot posted at the top of `channel` (not in a thread).
fn top_level_posts(emulator: &SlackEmulator, channel: &str) -> Vec<emulator::Call> {
    emulator
        .answered("chat.postMessage")
        .into_iter()
        .filter(|c| c.param("channel") == Some(channel) && c.param("thread_ts").is_none())
        .collect()
}

/// Messages the bot posted in the thread `thread`.
fn thread_posts(emulator: &SlackEmulator, thread: &str) -> Vec<emulator::Call> {
    emulator
        .answered("chat.postMessage")
        .into_iter()
        .filter(|c| c.param("thread_ts") == Some(thread))
        .collect()
}

/// Waits until the bot has posted `count` messages in total; returns the last.
async fn wait_for_post(emulator: &SlackEmulator, count: usize) -> emulator::Call {
    emulator
        .wait_for("chat.postMessage", count, PATIENCE)
        .await
        .pop()
        .expect("a post")
}

/// The ts of the prompt, read from the recorded `chat.postMessage` answers in order.
async fn prompt_ts(emulator: &SlackEmulator) -> String {
    let history = history_of(emulator, "C1").await;
    history
        .iter()
        .find(|m| {
            m["metadata"]["event_payload"]["post"]
                .as_str()
                .is_some_and(|p| p.ends_with("/prompt"))
        })
        .and_then(|m| m["ts"].as_str())
        .expect("the prompt is in the channel history")
        .to_string()
}

#[tokio::test]
async fn a_checkin_created_by_slash_command_is_prompted_once_and_answers_and_report_arrive_in_its_thread()
 {
    let emulator = team_in_london().await;
    let clock = clock_at(MONDAY_EARLY);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;

    let refused = slash(bot.addr, &emulator, "U1", "C1", CREATE_FIXED).await;
    assert!(refused.contains("Only managers and admins"), "{refused}");
    let created = slash(bot.addr, &emulator, "UMGR", "C1", CREATE_FIXED).await;
    assert!(
        created.contains("Check-in `1` created for <#C1>"),
        "{created}"
    );
    assert!(
        created.contains("First run: Mon 2 Mar 09:30 GMT"),
        "{created}"
    );

    clock.set(at(MONDAY_PROMPT));
    let prompt = wait_for_post(&emulator, 1).await;
    assert_eq!(prompt.param("channel"), Some("C1"));
    assert_eq!(prompt.param("thread_ts"), None);
    assert_eq!(
        prompt.params["metadata"]["event_type"],
        "async_norms_checkin"
    );
    assert_eq!(
        prompt.params["metadata"]["event_payload"]["post"],
        "1/2026-03-02/prompt"
    );
    let text = prompt.param("text").unwrap_or_default();
    assert!(text.contains("Anything blocking you?"), "{text}");
    assert!(!text.contains("<@"), "a prompt pings nobody: {text}");
    assert!(
        prompt.params["blocks"]
            .to_string()
            .contains("checkin_answer")
    );
    let thread = prompt_ts(&emulator).await;
    // The prompt's thread is known to the bot once the step is saved.
    bot.wait_for_home("UMGR", "Mon 2 Mar: prompted").await;

    // U1 answers in the thread: saved quietly (a reaction), not copied (it is there already).
    let reply = message_event(
        "EvReply1",
        "U1",
        "C1",
        "finished the importer\nblocked by the staging database",
        "1772444000.000100",
        Some(&thread),
    );
    post_event(bot.addr, &reply).await;
    let saved = emulator.wait_for("reactions.add", 1, PATIENCE).await;
    assert_eq!(saved[0].param("timestamp"), Some("1772444000.000100"));

    // U2 answers with the button's modal; the answer is copied into the thread.
    let mut pressed = fixture_json("block_actions.json");
    pressed["user"]["id"] = json!("U2");
    pressed["team"]["id"] = json!(emulator::TEAM_ID);
    pressed["actions"] = json!([{
        "type": "button", "action_id": "checkin_answer", "block_id": "b1",
        "text": {"type": "plain_text", "text": "Answer"}, "value": "1/2026-03-02",
        "action_ts": "1772444100.000100"
    }]);
    let (status, _) = interact(bot.addr, &pressed).await;
    assert_eq!(status, StatusCode::OK);
    let opened = emulator.wait_for("views.open", 1, PATIENCE).await;
    assert_eq!(
        opened[0].params["view"]["callback_id"],
        "checkin_answer_modal"
    );
    let mut submitted = fixture_json("view_submission.json");
    submitted["user"]["id"] = json!("U2");
    submitted["team"]["id"] = json!(emulator::TEAM_ID);
    submitted["view"]["callback_id"] = json!("checkin_answer_modal");
    submitted["view"]["private_metadata"] = json!("1/2026-03-02");
    submitted["view"]["state"] = json!({"values": {
        "q0": {"answer": {"type": "plain_text_input", "value": "reviewed three pull requests"}},
        "q1": {"answer": {"type": "plain_text_input", "value": "the release notes"}},
        "q2": {"answer": {"type": "plain_text_input", "value": "none"}}
    }});
    let (status, body) = interact(bot.addr, &submitted).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.trim().is_empty(), "the modal closes: {body}");
    let copy = wait_for_post(&emulator, 2).await;
    assert_eq!(copy.param("thread_ts"), Some(thread.as_str()));
    let copied = copy.param("text").unwrap_or_default();
    assert!(copied.contains("*Answer from <@U2>*"), "{copied}");
    assert!(copied.contains("reviewed three pull requests"), "{copied}");

    // Changing the answer updates the copy instead of posting another.
    submitted["view"]["state"]["values"]["q1"]["answer"]["value"] = json!("the changelog");
    let (status, _) = interact(bot.addr, &submitted).await;
    assert_eq!(status, StatusCode::OK);
    let updates = emulator.wait_for("chat.update", 1, PATIENCE).await;
    assert!(
        updates[0]
            .param("text")
            .unwrap_or_default()
            .contains("the changelog")
    );

    // The reminder: one DM, to the only member who has not answered (working at 13:30).
    clock.set(at(MONDAY_REMIND));
    let reminder = wait_for_post(&emulator, 3).await;
    assert_eq!(reminder.param("channel"), Some("DUMGR"));
    assert!(
        reminder
            .param("text")
            .unwrap_or_default()
            .contains("gentle reminder")
    );
    let opened_dms: Vec<String> = emulator
        .answered("conversations.open")
        .iter()
        .map(|c| c.params["users"].to_string())
        .collect();
    assert_eq!(opened_dms, ["[\"UMGR\"]"]);

    clock.set(at(MONDAY_CLOSE));
    let report = wait_for_post(&emulator, 4).await;
    assert_eq!(report.param("thread_ts"), Some(thread.as_str()));
    let text = report.param("text").unwrap_or_default();
    assert!(text.contains("2 of 3 answered"), "{text}");
    assert!(text.contains("*Answered:* <@U1>, <@U2>"), "{text}");
    assert!(
        text.contains(":warning: <@U1>: blocked by the staging database"),
        "{text}"
    );
    assert!(
        !text.contains("UMGR"),
        "no mention of who did not answer: {text}"
    );
    assert_eq!(top_level_posts(&emulator, "C1").len(), 1, "prompted once");
    assert_eq!(
        thread_posts(&emulator, &thread).len(),
        2,
        "one copy, one report"
    );

    // After the report a reply is just a reply: not taken, no second report.
    let late = message_event(
        "EvLate",
        "U2",
        "C1",
        "sorry, late",
        "1772474000.000100",
        Some(&thread),
    );
    post_event(bot.addr, &late).await;
    bot.wait_for_handled_messages(2.0).await;
    assert_eq!(emulator.answered("reactions.add").len(), 1);
    assert_eq!(thread_posts(&emulator, &thread).len(), 2);
    let list = slash(bot.addr, &emulator, "U1", "C1", "checkin list").await;
    assert!(
        list.contains("`1` <#C1> mon-fri at 09:30 (Europe/London)"),
        "{list}"
    );
    assert!(list.contains("next Tue 3 Mar 09:30 GMT"), "{list}");
    bot.stop().await;
}

#[tokio::test]
async fn a_restart_between_prompt_and_report_posts_no_second_prompt() {
    let emulator = team_in_london().await;
    let clock = clock_at(MONDAY_EARLY);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    let created = slash(bot.addr, &emulator, "UMGR", "C1", CREATE_FIXED).await;
    assert!(created.contains("created"), "{created}");
    clock.set(at(MONDAY_PROMPT));
    wait_for_post(&emulator, 1).await;
    let thread = prompt_ts(&emulator).await;

    let data = bot.stop().await;
    let bot = TestBot::start_in(&emulator, clock.clone(), data).await;
    // Still inside the prompt's minute, and later inside the grace window: no second prompt.
    clock.set(at("2026-03-02T10:00:00Z"));
    clock.set(at(MONDAY_CLOSE));
    let report = wait_for_post(&emulator, 2).await;
    assert_eq!(report.param("thread_ts"), Some(thread.as_str()));
    assert!(
        report
            .param("text")
            .unwrap_or_default()
            .contains("0 of 3 answered")
    );
    assert_eq!(top_level_posts(&emulator, "C1").len(), 1);
    // Past 13:30 the reminder step ran at the close, which posts no reminder after it.
    assert!(emulator.answered("conversations.open").is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn a_prompt_posted_just_before_a_crash_is_found_in_the_history_not_posted_again() {
    let emulator = team_in_london().await;
    let clock = clock_at(MONDAY_EARLY);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    slash(bot.addr, &emulator, "UMGR", "C1", CREATE_FIXED).await;
    let data = bot.stop().await;

    // The crash: the bot had marked the prompt as being posted, Slack had it, and the ts
    // never came back. (Written from a thread without a runtime, so the store is closed,
    // flusher and all, when the thread ends.)
    let path = data.path().to_path_buf();
    std::thread::spawn(move || {
        let store = Store::open(&path).unwrap();
        let marks = store.table::<PostMark>(POSTS_TABLE).unwrap();
        let mark = PostMark::Attempted {
            at: at(MONDAY_PROMPT),
        };
        marks
            .put(
                &TeamId::new(emulator::TEAM_ID),
                "1/2026-03-02/prompt",
                &mark,
            )
            .unwrap();
        store.flush_now().unwrap();
    })
    .join()
    .unwrap();
    emulator.add_message(
        "C1",
        json!({
            "type": "message", "subtype": "bot_message", "text": "Check-in for Mon 2 Mar",
            "ts": "1772443800.000200", "bot_id": emulator::BOT_ID, "user": emulator::BOT_USER_ID,
            "metadata": {"event_type": "async_norms_checkin",
                         "event_payload": {"post": "1/2026-03-02/prompt"}}
        }),
    );
    let bot = TestBot::start_in(&emulator, clock.clone(), data).await;
    clock.set(at(MONDAY_PROMPT));
    emulator
        .wait_for("conversations.history", 1, PATIENCE)
        .await;
    clock.set(at(MONDAY_CLOSE));
    let report = wait_for_post(&emulator, 1).await;
    assert_eq!(report.param("thread_ts"), Some("1772443800.000200"));
    assert!(
        top_level_posts(&emulator, "C1").is_empty(),
        "not posted again"
    );
    bot.stop().await;
}

#[tokio::test]
async fn in_local_time_each_member_is_asked_by_dm_and_a_member_away_that_day_is_not() {
    let emulator = team_in_london().await;
    emulator.add_user("UNY", Some("America/New_York"));
    emulator.add_channel("C1", &["UMGR", "U1", "U2", "UNY", emulator::BOT_USER_ID]);
    // Sunday evening in London.
    let clock = clock_at("2026-03-01T20:00:00Z");
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    let away = slash(bot.addr, &emulator, "U2", "C1", "away 2026-03-02").await;
    assert!(away.contains("2 Mar"), "{away}");
    let created = slash(bot.addr, &emulator, "UMGR", "C1", "checkin create <#C1|team> at 09:00 on mon-fri local questions \"What moved?\" | \"What is stuck?\"")
    .await;
    assert!(created.contains("each person's local time"), "{created}");

    // 09:00 in London: the report thread, then DMs to the two Londoners who are not away.
    clock.set(at("2026-03-02T09:00:00Z"));
    emulator.wait_for("chat.postMessage", 3, PATIENCE).await;
    let root = &top_level_posts(&emulator, "C1")[0];
    assert!(
        root.param("text")
            .unwrap_or_default()
            .contains("by DM at 09:00 your time")
    );
    let thread = history_of(&emulator, "C1").await[0]["ts"]
        .as_str()
        .unwrap()
        .to_string();
    let mut dm_channels: Vec<String> = emulator
        .answered("chat.postMessage")
        .iter()
        .filter_map(|c| {
            c.param("channel")
                .filter(|ch| ch.starts_with('D'))
                .map(str::to_string)
        })
        .collect();
    dm_channels.sort();
    assert_eq!(dm_channels, ["DU1", "DUMGR"]);

    // U1 answers by DM: saved, and copied into the report thread.
    let reply = message_event(
        "EvDm1",
        "U1",
        "DU1",
        "moved the billing job",
        "1772442000.000100",
        None,
    );
    post_event(bot.addr, &reply).await;
    let copy = wait_for_post(&emulator, 4).await;
    assert_eq!(copy.param("thread_ts"), Some(thread.as_str()));
    assert!(
        copy.param("text")
            .unwrap_or_default()
            .contains("moved the billing job")
    );

    // 09:00 in New York (14:00 UTC): New York's DM.
    clock.set(at("2026-03-02T14:00:00Z"));
    let ny = wait_for_post(&emulator, 5).await;
    assert_eq!(ny.param("channel"), Some("DUNY"));

    // The close: 8 hours after the last participant's time.
    clock.set(at("2026-03-02T22:00:00Z"));
    let report = emulator
        .wait_for("chat.postMessage", 6, PATIENCE)
        .await
        .into_iter()
        .find(|c| {
            c.param("thread_ts") == Some(thread.as_str())
                && c.param("text").unwrap_or_default().contains("report")
        })
        .expect("the report");
    let text = report.param("text").unwrap_or_default();
    assert!(text.contains("1 of 3 answered"), "{text}");
    assert!(text.contains("<@U1>"), "{text}");
    for absent in ["UMGR", "U2", "UNY"] {
        assert!(!text.contains(&format!("<@{absent}>")), "{text}");
    }
    let opened: Vec<String> = emulator
        .answered("conversations.open")
        .iter()
        .map(|c| c.params["users"].to_string())
        .collect();
    assert!(
        !opened.iter().any(|users| users.contains("U2\"")),
        "{opened:?}"
    );
    bot.stop().await;
}

#[tokio::test]
async fn run_pause_resume_and_delete_do_what_they_say_and_the_manager_home_shows_participation() {
    let emulator = team_in_london().await;
    let clock = clock_at(MONDAY_EARLY);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    slash(bot.addr, &emulator, "UMGR", "C1", CREATE_FIXED).await;

    let ran = slash(bot.addr, &emulator, "UMGR", "C1", "checkin run 1").await;
    assert!(ran.contains("Running check-in `1` in <#C1> now"), "{ran}");
    let prompt = wait_for_post(&emulator, 1).await;
    assert_eq!(
        prompt.params["metadata"]["event_payload"]["post"],
        "1/2026-03-02/prompt"
    );
    let again = slash(bot.addr, &emulator, "UMGR", "C1", "checkin run 1").await;
    assert!(again.contains("already run today"), "{again}");
    // The scheduled 09:30 is the same occurrence: no second prompt; the report closes 8h
    // after the run.
    clock.set(at(MONDAY_PROMPT));
    clock.set(at("2026-03-02T16:00:00Z"));
    let report = wait_for_post(&emulator, 2).await;
    assert!(
        report
            .param("text")
            .unwrap_or_default()
            .contains("0 of 3 answered")
    );
    assert_eq!(top_level_posts(&emulator, "C1").len(), 1);
    // The report is saved after Slack took it; the home reads what was saved.
    bot.wait_for_metric("async_norms_checkin_steps_total{step=\"reported\"}", 1.0)
        .await;

    let mut opened = event("app_home_opened.json", "EvHomeMgr");
    opened["event"]["user"] = json!("UMGR");
    opened["event"]["tab"] = json!("home");
    post_event(bot.addr, &opened).await;
    let published = emulator.wait_for("views.publish", 1, PATIENCE).await;
    let home = published[0].params["view"].to_string();
    assert!(home.contains("Your check-ins"), "{home}");
    assert!(home.contains("Answered: Mon 2 Mar: 0 of 3"), "{home}");

    let refused = slash(bot.addr, &emulator, "U1", "C1", "checkin pause 1").await;
    assert!(refused.contains("Only managers and admins"), "{refused}");
    let paused = slash(bot.addr, &emulator, "UMGR", "C1", "checkin pause 1").await;
    assert!(paused.contains("is paused"), "{paused}");
    assert!(
        slash(bot.addr, &emulator, "U1", "C1", "checkin list")
            .await
            .contains("· paused")
    );
    // Tuesday's run falls in the pause: it is not opened, nor made up for on resume.
    clock.set(at("2026-03-03T10:00:00Z"));
    let resumed = slash(bot.addr, &emulator, "UMGR", "C1", "checkin resume 1").await;
    assert!(resumed.contains("next Wed 4 Mar 09:30 GMT"), "{resumed}");
    let tuesday = slash(bot.addr, &emulator, "UMGR", "C1", "checkin run 1").await;
    assert!(
        tuesday.contains("Running"),
        "Tuesday was never opened: {tuesday}"
    );
    wait_for_post(&emulator, 3).await;

    let deleted = slash(bot.addr, &emulator, "UMGR", "C1", "checkin delete 1").await;
    assert!(deleted.contains("is deleted"), "{deleted}");
    let list = slash(bot.addr, &emulator, "U1", "C1", "checkin list").await;
    assert!(list.contains("No check-ins yet"), "{list}");
    let unknown = slash(bot.addr, &emulator, "UMGR", "C1", "checkin pause 1").await;
    assert!(unknown.contains("There is no check-in `1`"), "{unknown}");
    bot.stop().await;
}

/// `/async checkin new` opens a form of pickers; what Slack submits from them (a timepicker's
/// selected_time, checkboxes' selected_options, the zone picker's selected_option) is read as
/// `/async checkin create` reads it, mistakes are named beside their block, and the check-in
/// is stored as picked.
#[tokio::test]
async fn the_checkin_form_of_pickers_creates_the_checkin_picked_and_names_mistakes_beside_their_block()
 {
    let emulator = team_in_london().await;
    let bot = TestBot::start_with_clock(&emulator, clock_at(MONDAY_EARLY)).await;
    let answer = slash(bot.addr, &emulator, "UMGR", "C1", "checkin new").await;
    assert!(answer.contains("Fill in the form"), "{answer}");
    let opened = emulator.wait_for("views.open", 1, PATIENCE).await;
    let form = &opened[0].params["view"];
    assert_eq!(form["callback_id"], "checkin_new_modal");
    let element = |block: &str| {
        form["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["block_id"] == block)
            .map(|b| b["element"].clone())
            .unwrap_or_else(|| panic!("no {block} block in {form}"))
    };
    assert_eq!(element("time")["type"], "timepicker");
    assert_eq!(element("time")["initial_time"], "09:30");
    assert_eq!(element("days")["type"], "checkboxes");
    assert_eq!(
        element("days")["initial_options"].as_array().unwrap().len(),
        5
    );
    assert_eq!(element("zone")["type"], "external_select");
    assert_eq!(element("zone")["action_id"], "zone_or_local");
    assert_eq!(element("zone")["initial_option"]["value"], "Europe/London");

    let day = |d: &str| json!({"text": {"type": "plain_text", "text": d}, "value": d});
    let mut submitted = fixture_json("view_submission.json");
    submitted["user"]["id"] = json!("UMGR");
    submitted["team"]["id"] = json!(emulator::TEAM_ID);
    submitted["view"]["callback_id"] = json!("checkin_new_modal");
    submitted["view"]["state"] = json!({"values": {
        "channel": {"value": {"type": "conversations_select", "selected_conversation": "C1"}},
        "time": {"value": {"type": "timepicker", "selected_time": null}},
        "days": {"value": {"type": "checkboxes", "selected_options": []}},
        "zone": {"zone_or_local": {"type": "external_select", "selected_option": {
            "text": {"type": "plain_text", "text": "EST"}, "value": "EST"}}},
        "questions": {"value": {"type": "plain_text_input", "value": "What did you ship?"}}
    }});
    let (status, body) = interact(bot.addr, &submitted).await;
    assert_eq!(status, StatusCode::OK);
    let errors: serde_json::Value = serde_json::from_str(&body).expect("errors as JSON");
    assert_eq!(errors["response_action"], "errors");
    assert_eq!(errors["errors"]["time"], "Pick the time.");
    assert_eq!(errors["errors"]["days"], "Tick at least one day.");
    assert!(
        errors["errors"]["zone"]
            .as_str()
            .unwrap()
            .contains("`EST` is an abbreviation"),
        "{errors}"
    );
    let none = slash(bot.addr, &emulator, "UMGR", "C1", "checkin list").await;
    assert!(none.starts_with("No check-ins yet"), "{none}");

    submitted["view"]["state"]["values"]["time"]["value"]["selected_time"] = json!("10:15");
    submitted["view"]["state"]["values"]["days"]["value"]["selected_options"] =
        json!([day("mon"), day("wed")]);
    submitted["view"]["state"]["values"]["zone"]["zone_or_local"]["selected_option"] = json!({
        "text": {"type": "plain_text", "text": "Each person's own time (local)"}, "value": "local"});
    let (status, body) = interact(bot.addr, &submitted).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.trim().is_empty(), "the form closes: {body}");
    let listed = slash(bot.addr, &emulator, "UMGR", "C1", "checkin list").await;
    assert!(
        listed.contains("`1` <#C1> mon,wed at 10:15 (each person's local time)"),
        "{listed}"
    );
    bot.stop().await;
}

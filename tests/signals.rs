//! End to end: what Slack already knows about people feeds what the bot says. A user group
//! mention pings its members; a holiday status means away; a card posted for everyone shows
//! times in each reader's zone. Through the real server and the local Slack emulator, with
//! the clock standing still where each test puts it.

mod common;

use common::*;
use hyper::StatusCode;
use serde_json::json;

/// Tuesday 3 March 2026, 21:14 UTC: 22:14 in Berlin, 16:14 in New York, Wednesday 06:14 in Tokyo.
const TUESDAY_EVENING: &str = "2026-03-03T21:14:00Z";
/// Tuesday 3 March 2026, 10:00 UTC: 11:00 in Berlin, 05:00 in New York.
const TUESDAY_MORNING: &str = "2026-03-03T10:00:00Z";
/// Friday 6 March 2026, 17:00 UTC.
const FRIDAY_EVENING_UNIX: i64 = 1_772_816_400;

/// A `subteam_*` event as Slack sends it, in the envelope of the emulator's team.
fn subteam_event(event_id: &str, event: serde_json::Value) -> serde_json::Value {
    let mut body = event_envelope(event_id);
    body["event"] = event;
    body
}

fn event_envelope(event_id: &str) -> serde_json::Value {
    let mut body = event("message.json", event_id);
    body["event"] = json!({});
    body
}

/// Posts a message from `user` in C1, then waits until `handled` messages have been
/// handled and the notes they left have been sent.
async fn say(bot: &TestBot, event_id: &str, user: &str, text: &str, ts: &str, handled: f64) {
    post_event(
        bot.addr,
        &message_event(event_id, user, "C1", text, ts, None),
    )
    .await;
    bot.wait_for_handled_messages(handled).await;
    all_notes_sent(bot).await;
}

#[tokio::test]
async fn a_user_group_ping_at_night_yields_one_note_naming_its_members_outside_their_hours() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Asia/Tokyo"));
    emulator.add_user("U3", Some("America/New_York"));
    emulator.add_user("U4", Some("Europe/Berlin"));
    emulator.add_group("S0614TZR7", "backend", &["U1", "U2", "U3", "U4"]);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_EVENING)).await;

    post_event(
        bot.addr,
        &message_event(
            "EvGroup1",
            "U1",
            "C1",
            "<!subteam^S0614TZR7> the deploy is done, have a look",
            "1772572440.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    bot.wait_for_handled_messages(1.0).await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 1);
    let text = notes[0].text_and_blocks();
    // The sender is in the group but is not pinging themselves.
    assert!(
        text.contains("@backend: 2 of its 3 members are not working right now"),
        "{text}"
    );
    assert!(text.contains("<@U2> · outside working hours"), "{text}");
    assert!(text.contains("<@U4> · outside working hours"), "{text}");
    assert!(!text.contains("<@U3>"), "{text}");
    assert_eq!(notes[0].param("user"), Some("U1"));

    // A second ping within the hour reads the group from memory; a change to it is read
    // again at the next ping.
    post_event(
        bot.addr,
        &message_event(
            "EvGroup2",
            "U1",
            "C1",
            "<!subteam^S0614TZR7|@backend> one more thing",
            "1772572500.000100",
            None,
        ),
    )
    .await;
    emulator.wait_for("chat.postEphemeral", 2, PATIENCE).await;
    assert_eq!(emulator.calls_to("usergroups.users.list").len(), 1);
    // Each read names the workspace, as an org-wide install's token needs.
    for method in ["usergroups.users.list", "usergroups.list"] {
        for call in emulator.calls_to(method) {
            assert_eq!(call.param("team_id"), Some(emulator::TEAM_ID), "{method}");
        }
    }
    assert!(!emulator.calls_to("usergroups.list").is_empty());
    emulator.add_group("S0614TZR7", "backend", &["U1", "U3"]);
    post_event(
        bot.addr,
        &subteam_event(
            "EvGroupChanged",
            json!({
                "type": "subteam_members_changed", "subteam_id": "S0614TZR7", "team_id": emulator::TEAM_ID,
                "date_previous_update": 1446670362, "date_update": 1492906952,
                "added_users": [], "added_users_count": "0",
                "removed_users": ["U2", "U4"], "removed_users_count": "2"
            }),
        ),
    )
    .await;
    bot.wait_for_metric("async_norms_events_handled_total{type=\"subteam\"}", 1.0)
        .await;
    say(
        &bot,
        "EvGroup3",
        "U1",
        "<!subteam^S0614TZR7> and now?",
        "1772572560.000100",
        3.0,
    )
    .await;
    assert_eq!(emulator.calls_to("usergroups.users.list").len(), 2);
    // Nobody left in the group is outside their hours: no third note.
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 2);
    bot.stop().await;
}

#[tokio::test]
async fn a_large_group_gets_an_impact_line_naming_its_reach() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    let members: Vec<String> = (0..80).map(|i| format!("UM{i:03}")).collect();
    for (i, member) in members.iter().enumerate() {
        let zone = if i % 2 == 0 {
            "Asia/Tokyo"
        } else {
            "America/Chicago"
        };
        emulator.add_user(member, Some(zone));
    }
    let ids: Vec<&str> = members.iter().map(String::as_str).collect();
    emulator.add_group("S1", "everyone-eng", &ids);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_EVENING)).await;
    post_event(
        bot.addr,
        &message_event(
            "EvLarge",
            "U1",
            "C1",
            "<!subteam^S1> heads up",
            "1772572440.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let text = notes[0].text_and_blocks();
    assert!(
        text.contains("@everyone-eng: 40 of its 80 members are not working right now"),
        "{text}"
    );
    assert!(text.contains("…and 25 more not working now."), "{text}");
    assert!(
        text.contains(
            "`@everyone-eng` notifies 80 people across 2 time zones; *40 of them are outside their working hours* now."
        ),
        "{text}"
    );
    // The member directory (read from users.list at start) knew them all: no look-ups.
    let looked_up = emulator
        .calls_to("users.info")
        .iter()
        .filter(|call| call.param("user").is_some_and(|u| u.starts_with("UM")))
        .count();
    assert_eq!(looked_up, 0);
    bot.stop().await;
}

/// Waits until every note decided so far has left the outbox: with the messages handled,
/// "no further note" is then a fact.
async fn all_notes_sent(bot: &TestBot) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while bot.metric("async_norms_notes_waiting").await != 0.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "notes never left the outbox"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_member_with_a_holiday_status_is_reported_away_with_the_status() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    emulator.set_status("U2", "Vacationing", ":palm_tree:", FRIDAY_EVENING_UNIX);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    // 11:00 in Berlin, inside U2's hours: only the status says they are away.
    post_event(
        bot.addr,
        &message_event(
            "EvStatus1",
            "U1",
            "C1",
            "<@U2> can you look at this?",
            "1772532000.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let text = notes[0].text_and_blocks();
    assert!(
        text.contains(
            ":palm_tree: <@U2> · away · Slack status: Vacationing, until Fri · *11:00 Tue* their time"
        ),
        "{text}"
    );
    // Back at the first working hour after the status expires: Monday 09:00 in Berlin.
    assert!(text.contains("back Mon 09:00"), "{text}");

    // U2 turns Slack's signals off for themselves: their hours alone count again.
    let off = slash(bot.addr, &emulator, "U2", "C1", "hours signals off").await;
    assert!(
        off.starts_with("Saved: your Slack status and Do Not Disturb no longer count"),
        "{off}"
    );
    say(
        &bot,
        "EvStatusOff",
        "U1",
        "<@U2> still?",
        "1772532030.000100",
        2.0,
    )
    .await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 1);
    let on = slash(bot.addr, &emulator, "U2", "C1", "hours signals on").await;
    assert!(on.starts_with("Saved: a Slack status"), "{on}");

    // The member clears the status: the user_change event brings the new profile.
    let mut change = event_envelope("EvStatusCleared");
    change["event"] = json!({
        "type": "user_change",
        "user": {
            "id": "U2", "team_id": emulator::TEAM_ID, "name": "u2", "deleted": false,
            "tz": "Europe/Berlin", "tz_label": "Central European Time", "tz_offset": 3600,
            "is_admin": false, "is_owner": false, "is_bot": false,
            "profile": {"real_name": "Member U2", "display_name": "u2", "team": emulator::TEAM_ID,
                        "status_text": "", "status_emoji": "", "status_expiration": 0}
        },
        "cache_ts": 1772532000,
        "event_ts": "1772532001.000100"
    });
    post_event(bot.addr, &change).await;
    bot.wait_for_metric(
        "async_norms_events_handled_total{type=\"user_change\"}",
        1.0,
    )
    .await;
    say(
        &bot,
        "EvStatus2",
        "U1",
        "<@U2> and now?",
        "1772532060.000100",
        3.0,
    )
    .await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 1);
    bot.stop().await;
}

/// Tuesday 3 March 2026, 13:30 UTC: 14:30 in Berlin.
const TUESDAY_HALF_PAST_ONE_UNIX: i64 = 1_772_544_600;

#[tokio::test]
async fn a_member_with_do_not_disturb_on_is_reported_in_focus_until_it_ends() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    emulator.add_user("U3", Some("Europe/Berlin"));
    emulator.set_dnd("U2", Some(TUESDAY_HALF_PAST_ONE_UNIX));
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    // 11:00 in Berlin, inside U2's hours: only Do Not Disturb says they are focusing.
    post_event(
        bot.addr,
        &message_event(
            "EvDnd1",
            "U1",
            "C1",
            "<@U2> can you look at this?",
            "1772532000.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let text = notes[0].text_and_blocks();
    assert!(
        text.contains(
            ":headphones: <@U2> · in focus time · Do Not Disturb until 14:30 · *11:00 Tue* their time"
        ),
        "{text}"
    );
    let asked = emulator.calls_to("dnd.info");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].param("user"), Some("U2"));

    // A member without DND, inside their hours: no note. U2 again: DND read from memory.
    for (event_id, text, ts) in [
        ("EvDnd2", "<@U3> can you look at this?", "1772532010.000100"),
        ("EvDnd3", "<@U2> and this?", "1772532020.000100"),
    ] {
        post_event(
            bot.addr,
            &message_event(event_id, "U1", "C1", text, ts, None),
        )
        .await;
    }
    bot.wait_for_handled_messages(3.0).await;
    all_notes_sent(&bot).await;
    let notes = emulator.calls_to("chat.postEphemeral");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(!notes[1].text_and_blocks().contains("<@U3>"));
    assert!(
        notes[1]
            .text_and_blocks()
            .contains("<@U2> · in focus time · Do Not Disturb until 14:30")
    );
    let asked: Vec<_> = emulator
        .calls_to("dnd.info")
        .iter()
        .map(|call| call.param("user").unwrap_or_default().to_string())
        .collect();
    assert_eq!(asked, ["U2", "U3"]);

    // U2 ends DND early: the dnd_updated_user event makes the next mention read it again.
    emulator.set_dnd("U2", None);
    dnd_updated(&bot, "EvDndOff", "U2", 1.0).await;
    say(&bot, "EvDnd5", "U1", "<@U2> now?", "1772532025.000100", 4.0).await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 2);
    assert_eq!(
        emulator.calls_to("dnd.info").len(),
        3,
        "DND is read again after the event"
    );

    // DND on again, but U2 turns Slack's signals off for themselves: their hours alone
    // count, and DND is not read.
    emulator.set_dnd("U2", Some(TUESDAY_HALF_PAST_ONE_UNIX));
    dnd_updated(&bot, "EvDndOn", "U2", 2.0).await;
    let off = slash(bot.addr, &emulator, "U2", "C1", "hours signals off").await;
    assert!(
        off.starts_with("Saved: your Slack status and Do Not Disturb"),
        "{off}"
    );
    say(
        &bot,
        "EvDnd4",
        "U1",
        "<@U2> still?",
        "1772532030.000100",
        5.0,
    )
    .await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 2);
    assert_eq!(emulator.calls_to("dnd.info").len(), 3);
    bot.stop().await;
}

#[tokio::test]
async fn a_do_not_disturb_slack_cannot_tell_leaves_the_member_as_their_hours_say() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    emulator.set_dnd("U2", Some(TUESDAY_HALF_PAST_ONE_UNIX));
    emulator.inject("dnd.info", Fault::Refused("internal_error"), 1);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    post_event(
        bot.addr,
        &message_event(
            "EvDndFail1",
            "U1",
            "C1",
            "<@U2> can you look at this?",
            "1772532000.000100",
            None,
        ),
    )
    .await;
    // The message is handled (no error, no retry of the event); U2 counts as working.
    bot.wait_for_handled_messages(1.0).await;
    all_notes_sent(&bot).await;
    assert_eq!(emulator.calls_to("dnd.info").len(), 1);
    assert!(emulator.calls_to("chat.postEphemeral").is_empty());
    // The failure is not remembered: the next mention asks again and reads DND.
    post_event(
        bot.addr,
        &message_event(
            "EvDndFail2",
            "U1",
            "C1",
            "<@U2> again?",
            "1772532010.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    assert!(
        notes[0]
            .text_and_blocks()
            .contains("Do Not Disturb until 14:30"),
        "{}",
        notes[0].text_and_blocks()
    );
    assert_eq!(emulator.calls_to("dnd.info").len(), 2);
    bot.stop().await;
}

/// Posts a `dnd_updated_user` event as Slack sends it and waits until it is the `handled`th.
async fn dnd_updated(bot: &TestBot, event_id: &str, user: &str, handled: f64) {
    let mut body = event_envelope(event_id);
    body["event"] = json!({
        "type": "dnd_updated_user",
        "user": user,
        "dnd_status": {"dnd_enabled": false, "next_dnd_start_ts": 1, "next_dnd_end_ts": 1},
        "event_ts": "1772532001.000100"
    });
    post_event(bot.addr, &body).await;
    bot.wait_for_metric(
        "async_norms_events_handled_total{type=\"dnd_updated_user\"}",
        handled,
    )
    .await;
}

#[tokio::test]
async fn a_card_posted_in_a_thread_shows_times_as_date_tokens_for_every_reader() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    emulator.add_channel("C1", &["U1", "U2", emulator::BOT_USER_ID]);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_EVENING)).await;
    let mut mention = event("app_mention.json", "EvCard1");
    mention["event"]["user"] = json!("U1");
    mention["event"]["channel"] = json!("C1");
    mention["event"]["text"] = json!("<@UBOT> hours <@U2>");
    post_event(bot.addr, &mention).await;
    let posts = emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    let text = posts[0].text_and_blocks();
    // Back Wednesday 09:00 in Berlin, 08:00 UTC: each reader's Slack shows it in their zone.
    assert!(
        text.contains(
            "back Wed 09:00, in 10h 46m (<!date^1772611200^{date_short_pretty} {time}|Wed 08:00 UTC> your time)"
        ),
        "{text}"
    );

    let mut around = event("app_mention.json", "EvCard2");
    around["event"]["user"] = json!("U1");
    around["event"]["channel"] = json!("C1");
    around["event"]["text"] = json!("<@UBOT> who is around?");
    post_event(bot.addr, &around).await;
    let posts = emulator.wait_for("chat.postMessage", 2, PATIENCE).await;
    let text = posts[1].text_and_blocks();
    assert!(text.contains("1 of 2 working now"), "{text}");
    // U1 works until 17:00 in New York, 22:00 UTC.
    assert!(
        text.contains("until 17:00, in 46m (<!date^1772575200^{date_short_pretty} {time}|Tue 22:00 UTC> your time)"),
        "{text}"
    );
    bot.stop().await;
}

/// The note's "Remind me when they are back" button, pressed by `user`.
fn remind_press(note: &emulator::Call, user: &str, response_url: &str) -> serde_json::Value {
    let blocks = note.params["blocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let button = blocks
        .iter()
        .flat_map(|block| block["elements"].as_array().cloned().unwrap_or_default())
        .find(|element| element["action_id"] == "remind_when_back")
        .expect("the note has the reminder button");
    let mut pressed = fixture_json("block_actions.json");
    pressed["user"]["id"] = json!(user);
    pressed["team"]["id"] = json!(emulator::TEAM_ID);
    pressed["response_url"] = json!(response_url);
    pressed["actions"] = json!([{
        "type": "button", "action_id": "remind_when_back", "block_id": "b1",
        "text": {"type": "plain_text", "text": "Remind me when they are back"},
        "value": button["value"], "action_ts": "1772572500.000100"
    }]);
    pressed
}

#[tokio::test]
async fn a_reminder_set_before_a_restart_arrives_after_it_at_the_members_start_time() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    let clock = clock_at(TUESDAY_EVENING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    // Two messages ping U2 at night; the sender asks for a reminder about both, then
    // deletes the first.
    for (index, (id, ts)) in [
        ("EvRemind1", "1772572440.000100"),
        ("EvRemind2", "1772572450.000100"),
    ]
    .into_iter()
    .enumerate()
    {
        post_event(
            bot.addr,
            &message_event(id, "U1", "C1", "<@U2> the numbers are in", ts, None),
        )
        .await;
        // Each note is sent before the next message, so they are not merged into one.
        emulator
            .wait_for("chat.postEphemeral", index + 1, PATIENCE)
            .await;
    }
    let notes = emulator.calls_to("chat.postEphemeral");
    for (index, note) in notes.iter().enumerate() {
        let (status, _) = interact(
            bot.addr,
            &remind_press(note, "U1", &emulator.response_url()),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let answers = emulator.wait_for("response_url", index + 1, PATIENCE).await;
        let text = answers[index].text_and_blocks();
        // Wednesday 09:00 in Berlin is 03:00 in New York.
        assert!(
            text.contains(
                "I will send you a message when they are back: <@U2> at Wed 03:00 (your time)"
            ),
            "{text}"
        );
    }
    let mut deleted = event("message_deleted.json", "EvRemindDeleted");
    deleted["event"]["channel"] = json!("C1");
    deleted["event"]["deleted_ts"] = json!("1772572440.000100");
    deleted["event"]["previous_message"]["user"] = json!("U1");
    deleted["event"]["previous_message"]["ts"] = json!("1772572440.000100");
    post_event(bot.addr, &deleted).await;
    bot.wait_for_handled_messages(3.0).await;

    let data = bot.stop().await;
    let bot = TestBot::start_in(&emulator, clock.clone(), data).await;
    // At 09:00 Berlin (08:00 UTC), U2's day starts: one DM.
    clock.set(at("2026-03-04T08:00:00Z"));
    let dms = emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    let text = dms[0].text_and_blocks();
    assert!(text.contains("<@U2> is back at work now"), "{text}");
    // The reminder about the deleted message was cancelled; this one is about the second.
    assert!(text.contains("<!date^1772572450^"), "{text}");
    assert_eq!(emulator.calls_to("conversations.open").len(), 1);
    bot.stop().await;
    assert_eq!(emulator.calls_to("chat.postMessage").len(), 1);
}

/// U1 pings `mentioned` at night (Tuesday 22:14 in Berlin) and presses the note's "Remind me
/// when they are back"; returns once the bot has answered the press.
async fn remind_about(bot: &TestBot, emulator: &SlackEmulator, mentioned: &str) {
    post_event(
        bot.addr,
        &message_event(
            "EvRemindAbout",
            "U1",
            "C1",
            &format!("{mentioned} the numbers are in"),
            "1772572440.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let (status, _) = interact(
        bot.addr,
        &remind_press(&notes[0], "U1", &emulator.response_url()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let answers = emulator.wait_for("response_url", 1, PATIENCE).await;
    let text = answers[0].text_and_blocks();
    assert!(
        text.contains("I will send you a message when they are back"),
        "{text}"
    );
}

/// Polls `user`'s `/async my data` until it holds `needle`; returns it.
async fn my_data_with(bot: &TestBot, emulator: &SlackEmulator, user: &str, needle: &str) -> String {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let data = slash(bot.addr, emulator, user, "C1", "my data").await;
        if data.contains(needle) {
            return data;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "my data never held {needle}: {data}"
        );
        tokio::task::yield_now().await;
    }
}

/// The member's start moved later after the reminder was set: at the old start the bot
/// checks their hours again and moves the reminder, and the DM comes at the new start.
#[tokio::test]
async fn a_reminder_whose_member_changed_their_hours_comes_at_the_new_start_not_before() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    let clock = clock_at(TUESDAY_EVENING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    remind_about(&bot, &emulator, "<@U2>").await;
    my_data_with(&bot, &emulator, "U1", "2026-03-04T08:00:00Z").await;
    // U2 now starts at 11:00 Berlin, 10:00 UTC.
    let saved = slash(
        bot.addr,
        &emulator,
        "U2",
        "C1",
        "hours set mon-fri 11:00-19:00",
    )
    .await;
    assert!(saved.starts_with("Saved."), "{saved}");

    clock.set(at("2026-03-04T08:00:00Z"));
    my_data_with(&bot, &emulator, "U1", "2026-03-04T10:00:00Z").await;
    assert!(
        emulator.calls_to("chat.postMessage").is_empty(),
        "not sent at the old start"
    );
    clock.set(at("2026-03-04T10:00:00Z"));
    let dms = emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    assert!(
        dms[0]
            .text_and_blocks()
            .contains("<@U2> is back at work now"),
        "{:?}",
        dms[0].params
    );
    bot.stop().await;
    assert_eq!(emulator.calls_to("chat.postMessage").len(), 1);
}

/// `forget me` deletes the reminders a member set and those about them, and says so first.
#[tokio::test]
async fn forget_me_deletes_the_reminders_the_member_set_and_those_about_them() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    emulator.add_user("U3", Some("Europe/Berlin"));
    let clock = clock_at(TUESDAY_EVENING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    remind_about(&bot, &emulator, "<@U2> <@U3>").await;
    let data = my_data_with(&bot, &emulator, "U1", "\"member\": \"U3\"").await;
    assert!(data.contains("\"member\": \"U2\""), "{data}");

    // U2 is the subject of one reminder.
    let asked = slash(bot.addr, &emulator, "U2", "C1", "forget me").await;
    assert!(
        asked.contains("1 reminder you set or that is about you"),
        "{asked}"
    );
    let done = slash(bot.addr, &emulator, "U2", "C1", "forget me confirm").await;
    assert!(
        done.contains("1 reminder you set or that is about you"),
        "{done}"
    );
    let data = slash(bot.addr, &emulator, "U1", "C1", "my data").await;
    assert!(!data.contains("\"member\": \"U2\""), "{data}");
    assert!(data.contains("\"member\": \"U3\""), "{data}");

    // U1 set the other.
    let done = slash(bot.addr, &emulator, "U1", "C1", "forget me confirm").await;
    assert!(
        done.contains("1 reminder you set or that is about you"),
        "{done}"
    );
    let data = slash(bot.addr, &emulator, "U1", "C1", "my data").await;
    assert!(data.contains("\"reminders\": []"), "{data}");
    bot.stop().await;
}

/// A Home tab button pressed by `user`.
fn home_press(user: &str, action_id: &str) -> serde_json::Value {
    let mut pressed = fixture_json("block_actions.json");
    pressed["user"]["id"] = json!(user);
    pressed["team"]["id"] = json!(emulator::TEAM_ID);
    pressed["container"] = json!({"type": "view", "view_id": "V111"});
    pressed["actions"] = json!([{
        "type": "button", "action_id": action_id, "block_id": "b1",
        "text": {"type": "plain_text", "text": "Button"}, "value": action_id,
        "action_ts": "1772532000.000100"
    }]);
    pressed
}

#[tokio::test]
async fn the_home_tab_buttons_start_focus_time_and_time_off_today() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/London"));
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    let home = bot.wait_for_home("U1", "Focus 1 h").await;
    assert!(home.contains("home_away_today"), "{home}");

    let (status, _) = interact(bot.addr, &home_press("U1", "home_focus_hour")).await;
    assert_eq!(status, StatusCode::OK);
    let published = emulator.wait_for("views.publish", 2, PATIENCE).await;
    let home = published[1].params["view"].to_string();
    assert!(home.contains("*Focus time:* until 11:00"), "{home}");

    let (status, _) = interact(bot.addr, &home_press("U1", "home_away_today")).await;
    assert_eq!(status, StatusCode::OK);
    let published = emulator.wait_for("views.publish", 3, PATIENCE).await;
    let home = published[2].params["view"].to_string();
    assert!(home.contains("*Time off:* Tue 3 Mar 2026"), "{home}");
    let mine = slash(bot.addr, &emulator, "U1", "C1", "hours").await;
    assert!(mine.contains("away"), "{mine}");
    bot.stop().await;
}

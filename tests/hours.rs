//! End to end: working hours, time off and focus time set by slash command, and the private
//! note a sender gets when they ping someone who is not working, through the real server and
//! the local Slack emulator, with the clock standing still where each test puts it.

mod common;

use common::*;
use hyper::StatusCode;
use serde_json::{Value, json};

/// Tuesday 3 March 2026, 21:14 UTC: 22:14 in Berlin, 16:14 in New York, Wednesday 06:14 in Tokyo.
const TUESDAY_EVENING: &str = "2026-03-03T21:14:00Z";
/// Tuesday 3 March 2026, 10:00 UTC: 11:00 in Berlin, 05:00 in New York, 19:00 in Tokyo.
const TUESDAY_MORNING: &str = "2026-03-03T10:00:00Z";

#[tokio::test]
async fn hours_set_by_command_survive_a_restart_and_a_ping_outside_them_gets_one_note() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("America/New_York"));
    let clock = clock_at(TUESDAY_EVENING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    let answer = slash(
        bot.addr,
        &emulator,
        "U2",
        "C1",
        "hours set mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00 Europe/Berlin",
    )
    .await;
    assert!(answer.starts_with("Saved."), "{answer}");
    assert!(
        answer.contains("mon-thu 08:00-12:00,13:00-16:00; fri 08:00-12:00 (Europe/Berlin)"),
        "{answer}"
    );

    let data = bot.stop().await;
    let bot = TestBot::start_in(&emulator, clock, data).await;
    post_event(
        bot.addr,
        &message_event(
            "EvPing1",
            "U1",
            "C1",
            "<@U2> can you look at this?",
            "1772572440.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    assert_eq!(notes[0].param("user"), Some("U1"));
    assert_eq!(notes[0].param("channel"), Some("C1"));
    assert_eq!(notes[0].param("thread_ts"), None);
    let text = notes[0].text_and_blocks();
    assert!(text.contains("<@U2> is not working right now"), "{text}");
    assert!(text.contains("*22:14 Tue* their time"), "{text}");
    assert!(
        text.contains("back Wed 08:00, in 9h 46m (Wed 02:00 your time)"),
        "{text}"
    );

    // A second message without pings is a barrier: once both are handled, one note it is.
    post_event(
        bot.addr,
        &message_event("EvPing2", "U1", "C1", "thanks", "1772572441.000100", None),
    )
    .await;
    bot.wait_for_handled_messages(2.0).await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 1);
    bot.stop().await;
}

#[tokio::test]
async fn a_ping_inside_working_hours_gets_no_note() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    post_event(
        bot.addr,
        &message_event(
            "EvIn1",
            "U1",
            "C1",
            "<@U2> morning!",
            "1772532000.000100",
            None,
        ),
    )
    .await;
    // Mentioning oneself and the bot never counts either.
    post_event(
        bot.addr,
        &message_event(
            "EvIn2",
            "U1",
            "C1",
            "<@U1> note to self <@UBOT>",
            "1772532001.000100",
            None,
        ),
    )
    .await;
    bot.wait_for_handled_messages(2.0).await;
    assert!(emulator.calls_to("chat.postEphemeral").is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn a_member_without_stored_hours_is_read_in_their_profile_zone() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    // Joined after the bot read the directory (and no team_join came): looked up.
    // Read whole (the emulator records a call before it answers it): U1 only.
    bot.wait_for_metric("async_norms_directory_members", 1.0)
        .await;
    emulator.add_user("U2", Some("Asia/Tokyo"));
    post_event(
        bot.addr,
        &message_event(
            "EvZone",
            "U1",
            "C1",
            "<@U2> quick one",
            "1772532000.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let text = notes[0].text_and_blocks();
    assert!(text.contains("*19:00 Tue* their time"), "{text}");
    assert!(text.contains("mon-fri 09:00-17:00 (Asia/Tokyo)"), "{text}");
    assert!(
        emulator
            .calls_to("users.info")
            .iter()
            .any(|c| c.param("user") == Some("U2"))
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_that_could_only_arrive_minutes_late_is_not_sent() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    let clock = clock_at(TUESDAY_MORNING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    // Not in the directory the bot read at start: looked up one by one.
    // Read whole (the emulator records a call before it answers it): U1 only.
    bot.wait_for_metric("async_norms_directory_members", 1.0)
        .await;
    emulator.add_user("U2", Some("Asia/Tokyo"));
    emulator.add_user("U3", Some("Asia/Tokyo"));
    // Slack is slow to say who U2 is; meanwhile ten minutes pass.
    emulator.hold("users.info");
    let ping = |id: &str, who: &str, ts: &str| {
        message_event(id, "U1", "C1", &format!("<@{who}> quick one"), ts, None)
    };
    post_event(bot.addr, &ping("EvLate", "U2", "1772532000.000100")).await;
    emulator.wait_for_attempts("users.info", 1, PATIENCE).await;
    clock.set("2026-03-03T10:10:00Z".parse().unwrap());
    emulator.release("users.info");
    bot.wait_for_handled_messages(1.0).await;
    bot.wait_for_metric("async_norms_notes_expired_total", 1.0)
        .await;
    assert!(emulator.calls_to("chat.postEphemeral").is_empty());
    // A message handled in time still gets its note.
    post_event(bot.addr, &ping("EvOnTime", "U3", "1772532600.000100")).await;
    emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    bot.stop().await;
}

/// The value of one line of `/metrics` once it is `value`, failing the test after
/// [`PATIENCE`].
async fn wait_for_metric_to_be(bot: &TestBot, name: &str, value: f64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while bot.metric(name).await != value {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} never became {value}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_wait_for_slack_in_the_outbox_while_events_are_handled_and_merge_per_sender() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.add_user("U2", Some("Asia/Tokyo"));
    emulator.add_user("U3", Some("Asia/Tokyo"));
    emulator.add_user("U4", Some("Europe/Berlin"));
    let clock = clock_at(TUESDAY_MORNING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    let ping = |id: &str, who: &str, channel: &str, ts: &str| {
        message_event(id, "U1", channel, &format!("<@{who}> quick one"), ts, None)
    };
    // Slack takes no note for now: the first one hangs.
    emulator.hold("chat.postEphemeral");
    post_event(bot.addr, &ping("EvFirst", "U2", "C1", "1772532000.000100")).await;
    emulator
        .wait_for_attempts("chat.postEphemeral", 1, PATIENCE)
        .await;
    // Two more notes for the same sender and channel, and plain messages: every event is
    // handled while the first note still waits for Slack.
    post_event(bot.addr, &ping("EvSecond", "U3", "C1", "1772532001.000100")).await;
    post_event(bot.addr, &ping("EvThird", "U2", "C1", "1772532002.000100")).await;
    for index in 0..20 {
        let plain = message_event(
            &format!("EvPlain{index}"),
            "U4",
            "C2",
            "lunch at noon",
            &format!("1772532003.{index:06}"),
            None,
        );
        post_event(bot.addr, &plain).await;
    }
    bot.wait_for_handled_messages(23.0).await;
    assert_eq!(bot.metric("async_norms_notes_waiting").await, 3.0);
    assert!(emulator.answered("chat.postEphemeral").is_empty());
    // Slack is back: the first note, then the two that waited as one.
    emulator.release("chat.postEphemeral");
    let notes = emulator.wait_for("chat.postEphemeral", 2, PATIENCE).await;
    wait_for_metric_to_be(&bot, "async_norms_notes_waiting", 0.0).await;
    assert_eq!(emulator.answered("chat.postEphemeral").len(), 2);
    let first = notes[0].text_and_blocks();
    assert!(
        first.contains("<@U2>") && !first.contains("<@U3>"),
        "{first}"
    );
    let merged = notes[1].text_and_blocks();
    assert!(
        merged.contains("<@U3>") && merged.contains("<@U2>"),
        "{merged}"
    );
    assert_eq!(notes[1].param("user"), Some("U1"));
    assert_eq!(notes[1].param("channel"), Some("C1"));
    // A note that waits past its two minutes is dropped and counted, not sent late.
    emulator.hold("chat.postEphemeral");
    post_event(bot.addr, &ping("EvHeld", "U2", "C3", "1772532010.000100")).await;
    // The first held attempt, its retry, the merged note, and this one.
    emulator
        .wait_for_attempts("chat.postEphemeral", 4, PATIENCE)
        .await;
    post_event(
        bot.addr,
        &ping("EvTooLate", "U3", "C4", "1772532011.000100"),
    )
    .await;
    bot.wait_for_handled_messages(25.0).await;
    clock.set("2026-03-03T10:05:00Z".parse().unwrap());
    emulator.release("chat.postEphemeral");
    bot.wait_for_metric("async_norms_notes_expired_total", 1.0)
        .await;
    wait_for_metric_to_be(&bot, "async_norms_notes_waiting", 0.0).await;
    let sent = emulator.answered("chat.postEphemeral");
    assert_eq!(
        sent.len(),
        3,
        "the note already on its way, not the late one"
    );
    assert_eq!(sent[2].param("channel"), Some("C3"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_after_a_start_wait_for_the_directory_instead_of_looking_members_up() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.add_user("UM001", Some("Asia/Tokyo"));
    // The first reading of the directory hangs until the event is in.
    emulator.hold("users.list");
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    emulator.wait_for_attempts("users.list", 1, PATIENCE).await;
    post_event(
        bot.addr,
        &message_event(
            "EvEarly",
            "U1",
            "C1",
            "<@UM001> quick one",
            "1772532000.000100",
            None,
        ),
    )
    .await;
    emulator.release("users.list");
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    assert!(notes[0].text_and_blocks().contains("<@UM001>"));
    let looked_up: Vec<_> = emulator
        .calls_to("users.info")
        .into_iter()
        .filter(|call| call.param("user") == Some("UM001"))
        .collect();
    assert!(looked_up.is_empty(), "{looked_up:?}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_are_looked_up_in_the_directory_read_from_users_list_and_team_join() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    // More members than one page of users.list holds.
    for index in 0..250 {
        emulator.add_user(&format!("UM{index:03}"), Some("Asia/Tokyo"));
    }
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    emulator.wait_for("users.list", 2, PATIENCE).await;
    bot.wait_for_metric("async_norms_directory_members", 251.0)
        .await;
    post_event(
        bot.addr,
        &message_event(
            "EvDir",
            "U1",
            "C1",
            "<@UM249> quick one",
            "1772532000.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    assert!(notes[0].text_and_blocks().contains("<@UM249>"));
    // Someone who joins later comes with team_join, in Slack's shape.
    let joined = json!({
        "token": "XXYYZZ", "team_id": common::emulator::TEAM_ID, "api_app_id": common::emulator::APP_ID, "type": "event_callback",
        "event_id": "EvJoin", "event_time": 1772532001,
        "event": {"type": "team_join", "event_ts": "1772532001.000100", "user": {
            "id": "UNEW", "team_id": common::emulator::TEAM_ID, "name": "unew", "deleted": false, "real_name": "New",
            "tz": "Asia/Tokyo", "tz_label": "Japan Standard Time", "tz_offset": 32400,
            "is_admin": false, "is_owner": false, "is_primary_owner": false, "is_bot": false,
            "is_restricted": false, "is_ultra_restricted": false, "is_app_user": false,
            "profile": {"real_name": "New", "display_name": "unew", "status_text": "", "status_emoji": ""}
        }}
    });
    post_event(bot.addr, &joined).await;
    bot.wait_for_metric("async_norms_directory_members", 252.0)
        .await;
    post_event(
        bot.addr,
        &message_event(
            "EvNew",
            "U1",
            "C1",
            "<@UNEW> welcome",
            "1772532002.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 2, PATIENCE).await;
    assert!(notes[1].text_and_blocks().contains("<@UNEW>"));
    assert!(
        emulator.calls_to("users.info").is_empty(),
        "every member came from the directory"
    );
    bot.stop().await;
}

#[tokio::test]
async fn away_and_focus_time_are_shown_in_one_note() {
    let emulator = SlackEmulator::start().await;
    for user in ["U1", "U2", "U3"] {
        emulator.add_user(user, Some("Europe/London"));
    }
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    let away = slash(
        bot.addr,
        &emulator,
        "U2",
        "C1",
        "away 2026-03-03 2026-03-05",
    )
    .await;
    assert!(away.starts_with("Saved. You are away"), "{away}");
    let focus = slash(bot.addr, &emulator, "U3", "C1", "focus 90m").await;
    assert!(focus.contains("Focus time until 11:30"), "{focus}");
    let past = slash(bot.addr, &emulator, "U3", "C1", "away 2026-03-01").await;
    assert!(past.contains("is in the past"), "{past}");

    post_event(
        bot.addr,
        &message_event(
            "EvAway",
            "U1",
            "C1",
            "<@U2> <@U3> review please",
            "1772532000.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let text = notes[0].text_and_blocks();
    assert!(
        text.contains("2 people you mentioned are not working right now"),
        "{text}"
    );
    assert!(text.contains(":palm_tree: <@U2> · away"), "{text}");
    assert!(text.contains("back Fri 09:00, in 2d 23h"), "{text}");
    assert!(
        text.contains(":headphones: <@U3> · in focus time"),
        "{text}"
    );
    bot.stop().await;
}

#[tokio::test]
async fn the_note_about_a_thread_reply_goes_to_the_thread() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Asia/Tokyo"));
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    let mut reply = message_event(
        "EvThread",
        "U1",
        "C1",
        "<@U2> see above",
        "1772532000.000200",
        None,
    );
    reply["event"]["thread_ts"] = json!("1772531000.000100");
    post_event(bot.addr, &reply).await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    assert_eq!(notes[0].param("thread_ts"), Some("1772531000.000100"));
    bot.stop().await;
}

/// U1's `@here` in C1.
fn here(id: &str, ts: &str) -> serde_json::Value {
    message_event(id, "U1", "C1", "<!here> deploy at noon", ts, None)
}

/// Waits for the first private note and checks that it says `expected`.
async fn first_note_says(emulator: &SlackEmulator, expected: &str) {
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let text = notes[0].text_and_blocks();
    assert!(text.contains(expected), "{text}");
}

#[tokio::test]
async fn a_broadcast_note_counts_who_it_reaches_outside_their_hours() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    emulator.add_user("U3", Some("Asia/Tokyo"));
    emulator.add_user("U4", Some("America/New_York"));
    emulator.add_channel("C1", &["U1", "U2", "U3", "U4", "UBOT"]);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    post_event(bot.addr, &here("EvHere", "1772532000.000100")).await;
    first_note_says(
        &emulator,
        "`@here` can notify up to 3 people across 3 time zones; *2 of them are outside their working hours* now.",
    )
    .await;
    bot.stop().await;
}

/// A broadcast that waited for Slack to look a member up counts the others by their hours as
/// they are when Slack answers, not as they were when it started.
#[tokio::test]
async fn a_broadcast_counts_hours_set_while_it_waited_for_a_lookup() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    emulator.add_channel("C1", &["U1", "U2", "UX", "UBOT"]);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    bot.wait_for_metric("async_norms_directory_members", 2.0)
        .await;
    // Not in the directory read at start: looked up, and Slack's answer held.
    emulator.add_user("UX", Some("Europe/Berlin"));
    emulator.hold("users.info");
    post_event(bot.addr, &here("EvWaited", "1772532000.000100")).await;
    emulator.wait_for_attempts("users.info", 1, PATIENCE).await;
    // Set while the lookup waits: U2 is off work now (11:00 on a Tuesday in Berlin). Read
    // before the lookup, U2 would count as working and nobody as outside: the note would not
    // count anyone.
    let set = slash(
        bot.addr,
        &emulator,
        "U2",
        "C1",
        "hours set mon-fri 13:00-17:00 Europe/Berlin",
    )
    .await;
    assert!(set.contains("13:00"), "{set}");
    emulator.release("users.info");
    first_note_says(
        &emulator,
        "`@here` can notify up to 2 people across 1 time zone; *1 of them is outside their working hours* now.",
    )
    .await;
    bot.stop().await;
}

/// One broadcast looks up at most `BROADCAST_LOOKUPS` unknown members from Slack; the rest
/// are counted as not checked, and members already known cost nothing.
#[tokio::test]
async fn a_broadcast_to_a_large_channel_looks_up_a_bounded_number_of_members() {
    use async_norms::bot::members::BROADCAST_LOOKUPS;
    const EXTRA: usize = 2;
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    let members: Vec<String> = (0..BROADCAST_LOOKUPS + EXTRA)
        .map(|index| format!("UB{index:04}"))
        .collect();
    let mut in_channel: Vec<&str> = members.iter().map(String::as_str).collect();
    in_channel.extend(["U1", "UBOT"]);
    emulator.add_channel("C1", &in_channel);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    // Members the directory read at start does not hold are looked up one by one.
    // Read whole (the emulator records a call before it answers it): U1 only.
    bot.wait_for_metric("async_norms_directory_members", 1.0)
        .await;
    for member in &members {
        emulator.add_user(member, Some("Asia/Tokyo"));
    }

    post_event(bot.addr, &here("EvBig1", "1772532000.000100")).await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let text = notes[0].text_and_blocks();
    assert!(
        text.contains(&format!("({EXTRA} more members could not be checked.)")),
        "{text}"
    );
    let looked_up = |emulator: &SlackEmulator| {
        emulator
            .calls_to("users.info")
            .iter()
            .filter(|call| {
                call.param("user")
                    .is_some_and(|user| user.starts_with("UB"))
            })
            .count()
    };
    assert_eq!(looked_up(&emulator), BROADCAST_LOOKUPS);

    // The next broadcast finds those profiles remembered and looks up the rest.
    post_event(bot.addr, &here("EvBig2", "1772532001.000100")).await;
    let notes = emulator.wait_for("chat.postEphemeral", 2, PATIENCE).await;
    let text = notes[1].text_and_blocks();
    assert!(!text.contains("could not be checked"), "{text}");
    assert_eq!(looked_up(&emulator), BROADCAST_LOOKUPS + EXTRA);
    bot.stop().await;
}

#[tokio::test]
async fn commands_show_hours_and_answer_mistakes_with_the_fix() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.add_user("U2", Some("Asia/Tokyo"));
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;

    let mine = slash(bot.addr, &emulator, "U1", "C1", "hours").await;
    assert!(
        mine.contains("You are working · *11:00 Tue* (Europe/Berlin)"),
        "{mine}"
    );
    assert!(
        mine.contains("the default, in your Slack profile's time zone"),
        "{mine}"
    );

    let theirs = slash(bot.addr, &emulator, "U1", "C1", "hours <@U2|bob>").await;
    assert!(
        theirs.contains("<@U2> · outside working hours · *19:00 Tue* their time"),
        "{theirs}"
    );

    let bad = slash(bot.addr, &emulator, "U1", "C1", "hours set mon-fri 9-5").await;
    assert!(bad.contains("try 09:00-17:00"), "{bad}");
    assert!(bad.contains("Usage: `/async hours"), "{bad}");

    let zone = slash(
        bot.addr,
        &emulator,
        "U1",
        "C1",
        "hours set mon-fri 09:00-17:00 Europe/Berln",
    )
    .await;
    assert!(zone.contains("Europe/Berlin"), "{zone}");

    let unknown = slash(bot.addr, &emulator, "U1", "C1", "hourz").await;
    assert!(unknown.contains("/async hours"), "{unknown}");

    let norms = slash(bot.addr, &emulator, "U1", "C1", "norms").await;
    assert!(norms.starts_with("*Norms in <#C1>*"), "{norms}");

    let overlap = slash(bot.addr, &emulator, "U1", "C1", "overlap <@U2>").await;
    assert!(
        overlap.starts_with("You and <@U2> share no working time"),
        "{overlap}"
    );

    let cleared = slash(bot.addr, &emulator, "U1", "C1", "hours clear").await;
    assert!(cleared.contains("back to the default"), "{cleared}");
    bot.stop().await;
}

#[tokio::test]
async fn asking_the_bot_who_is_around_answers_in_the_thread() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("W222", Some("Europe/Berlin"));
    emulator.add_user("U2", Some("Asia/Tokyo"));
    emulator.add_channel("C111", &["W222", "U2", "UBOT"]);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    let mut ask = event("app_mention.json", "EvAround");
    ask["event"]["text"] = json!("<@UBOT> who is around?");
    post_event(bot.addr, &ask).await;
    let posts = emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    assert_eq!(posts[0].param("thread_ts"), ask["event"]["ts"].as_str());
    let text = posts[0].param("text").unwrap_or_default();
    assert!(
        text.starts_with("*Who is around here:* 1 of 2 working now."),
        "{text}"
    );
    assert!(text.contains("<@W222> · working"), "{text}");
    bot.stop().await;
}

#[tokio::test]
async fn the_home_tab_shows_my_hours_and_its_form_of_pickers_saves_new_ones_with_time_off() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("W111", Some("Europe/Berlin"));
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_MORNING)).await;
    let mut opened = event("app_home_opened.json", "EvHome");
    opened["event"]["tab"] = json!("home");
    post_event(bot.addr, &opened).await;
    let published = emulator.wait_for("views.publish", 1, PATIENCE).await;
    let home = published[0].params["view"].to_string();
    assert!(home.contains("mon-fri 09:00-17:00"), "{home}");
    assert!(home.contains("hours_edit"), "{home}");

    let mut pressed = fixture_json("block_actions.json");
    pressed["user"]["id"] = json!("W111");
    pressed["team"]["id"] = json!(emulator::TEAM_ID);
    pressed["actions"] = json!([{
        "type": "button", "action_id": "hours_edit", "block_id": "b1",
        "text": {"type": "plain_text", "text": "Edit hours"}, "value": "hours_edit",
        "action_ts": "1772532000.000100"
    }]);
    let (status, _) = interact(bot.addr, &pressed).await;
    assert_eq!(status, StatusCode::OK);
    let opened = emulator.wait_for("views.open", 1, PATIENCE).await;
    assert_eq!(opened[0].params["view"]["callback_id"], "hours_modal");

    let form = &opened[0].params["view"];
    let element = |block: &str| {
        form["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["block_id"] == block)
            .map(|b| b["element"].clone())
            .unwrap_or_else(|| panic!("no {block} block in {form}"))
    };
    assert_eq!(element("days")["type"], "checkboxes");
    assert_eq!(element("start")["initial_time"], "09:00");
    assert_eq!(element("zone")["type"], "external_select");
    assert_eq!(element("zone")["initial_option"]["value"], "Europe/Berlin");
    assert_eq!(element("away_from")["type"], "datepicker");

    // Submitted as Slack submits pickers: checkboxes' selected_options, timepickers'
    // selected_time, the external select's selected_option, datepickers' selected_date.
    let mut submitted = fixture_json("view_submission.json");
    submitted["user"]["id"] = json!("W111");
    submitted["team"]["id"] = json!(emulator::TEAM_ID);
    submitted["view"]["callback_id"] = json!("hours_modal");
    let day = |d: &str| json!({"text": {"type": "plain_text", "text": d}, "value": d});
    submitted["view"]["state"] = json!({"values": {
        "days": {"picked": {"type": "checkboxes", "selected_options": [day("mon"), day("wed")]}},
        "start": {"picked": {"type": "timepicker", "selected_time": "10:00"}},
        "end": {"picked": {"type": "timepicker", "selected_time": "10:00"}},
        "zone": {"zone": {"type": "external_select", "selected_option": {
            "text": {"type": "plain_text", "text": "Asia/Tokyo"}, "value": "Asia/Tokyo"}}},
        "away_from": {"picked": {"type": "datepicker", "selected_date": "2026-03-01"}},
        "away_to": {"picked": {"type": "datepicker", "selected_date": null}}
    }});
    let (status, body) = interact(bot.addr, &submitted).await;
    assert_eq!(status, StatusCode::OK);
    let errors: Value = serde_json::from_str(&body).expect("errors as JSON");
    assert_eq!(errors["response_action"], "errors");
    assert!(
        errors["errors"]["end"]
            .as_str()
            .unwrap()
            .contains("`10:00-10:00` starts and ends at the same time"),
        "{errors}"
    );

    // A range that reads, but time off that started before today in Tokyo: named beside
    // the date picker, nothing saved.
    submitted["view"]["state"]["values"]["end"]["picked"]["selected_time"] = json!("18:00");
    let (status, body) = interact(bot.addr, &submitted).await;
    assert_eq!(status, StatusCode::OK);
    let errors: Value = serde_json::from_str(&body).expect("errors as JSON");
    assert!(
        errors["errors"]["away_from"]
            .as_str()
            .unwrap()
            .contains("2026-03-01 is in the past (today is 2026-03-03"),
        "{errors}"
    );
    assert_eq!(
        emulator.answered("views.publish").len(),
        1,
        "nothing saved yet"
    );

    submitted["view"]["state"]["values"]["away_from"]["picked"]["selected_date"] =
        json!("2026-03-09");
    submitted["view"]["state"]["values"]["away_to"]["picked"]["selected_date"] =
        json!("2026-03-13");
    let (status, body) = interact(bot.addr, &submitted).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.trim().is_empty(), "the modal closes: {body}");
    let republished = emulator.wait_for("views.publish", 2, PATIENCE).await;
    let home = republished[1].params["view"].to_string();
    assert!(home.contains("mon,wed 10:00-18:00"), "{home}");
    assert!(home.contains("Asia/Tokyo"), "{home}");
    let mine = slash(bot.addr, &emulator, "W111", "C1", "hours").await;
    assert!(mine.contains("mon,wed 10:00-18:00 (Asia/Tokyo)"), "{mine}");
    assert!(
        mine.contains("*Away* from Mon 9 Mar 2026 to Fri 13 Mar 2026"),
        "{mine}"
    );
    bot.stop().await;
}

/// The hours form's zone picker asks for options as the member types: the zones whose
/// name holds the text, the member's own first; over Socket Mode in the acknowledgement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_picker_gets_the_zones_matching_what_was_typed_with_the_members_own_first() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("W111", Some("America/Los_Angeles"));
    let bot = TestBot::start(&emulator).await;
    let mut asked = fixture_json("block_suggestion.json");
    asked["team"]["id"] = json!(emulator::TEAM_ID);
    asked["user"]["id"] = json!("W111");
    asked["block_id"] = json!("zone");
    asked["action_id"] = json!("zone");
    let options = |body: &str| -> Vec<String> {
        let answer: Value = serde_json::from_str(body).expect("options as JSON");
        answer["options"]
            .as_array()
            .unwrap_or_else(|| panic!("no options in {answer}"))
            .iter()
            .map(|o| o["value"].as_str().unwrap().to_string())
            .collect()
    };

    asked["value"] = json!("");
    let (status, body) = interact(bot.addr, &asked).await;
    assert_eq!(status, StatusCode::OK);
    let all = options(&body);
    assert_eq!(all[0], "America/Los_Angeles", "{all:?}");
    assert_eq!(all.len(), 100);

    asked["value"] = json!("ange");
    let (_, body) = interact(bot.addr, &asked).await;
    assert_eq!(options(&body), ["America/Los_Angeles"]);

    asked["value"] = json!("berl");
    let (_, body) = interact(bot.addr, &asked).await;
    assert_eq!(options(&body), ["Europe/Berlin"]);
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["options"][0]["text"]["type"], "plain_text");

    // The check-in form's picker also offers each person's own time.
    asked["block_id"] = json!("zone");
    asked["action_id"] = json!("zone_or_local");
    asked["value"] = json!("");
    let (_, body) = interact(bot.addr, &asked).await;
    assert_eq!(&options(&body)[..2], ["America/Los_Angeles", "local"]);
    bot.stop().await;

    let bot = TestBot::start_socket_mode(&emulator).await;
    asked["action_id"] = json!("zone");
    asked["value"] = json!("tokyo");
    let envelope = json!({
        "envelope_id": "env-options-1",
        "type": "interactive",
        "payload": asked,
        "accepts_response_payload": true
    });
    let ack = emulator.send_envelope(&envelope, PATIENCE).await;
    assert_eq!(ack["envelope_id"], "env-options-1");
    assert_eq!(ack["payload"]["options"][0]["value"], "Asia/Tokyo", "{ack}");
    bot.stop().await;
}

//! End to end: urgency norms through the real server and the local Slack emulator. Urgency
//! outside an urgent channel gets one private nudge (in the same note as any mention
//! warning), nothing is flagged in the urgent channel, a cooldown keeps the sender from being
//! nagged, and only managers and admins change the norms, which survive a restart.

mod common;

use async_norms::clock::Clock;
use chrono::TimeDelta;
use common::*;
use serde_json::{Value, json};

/// Tuesday 3 March 2026, 21:14 UTC: 22:14 in Berlin, 16:14 in New York.
const TUESDAY_EVENING: &str = "2026-03-03T21:14:00Z";
const URGENT: &str = "URGENT: need this ASAP <!here>";

/// An edit of a message: its text was `before` and is now `after`.
fn edit(event_id: &str, user: &str, channel: &str, before: &str, after: &str) -> Value {
    let mut body = event("message.json", event_id);
    body["event"] = json!({
        "type": "message", "subtype": "message_changed", "channel": channel,
        "hidden": true, "ts": "1772572600.000200", "event_ts": "1772572600.000200",
        "message": { "type": "message", "user": user, "text": after, "ts": "1772572500.000100",
                     "edited": { "user": user, "ts": "1772572600.000000" } },
        "previous_message": { "type": "message", "user": user, "text": before,
                              "ts": "1772572500.000100" },
    });
    body
}

/// An emulated workspace: admin `UA`, members `U1` (New York) and `U2` (Berlin); `C1` a
/// normal channel, `C9` the one for incidents.
async fn workspace() -> SlackEmulator {
    let emulator = SlackEmulator::start().await;
    emulator.add_admin("UA", "America/New_York");
    emulator.add_user("U1", Some("America/New_York"));
    emulator.add_user("U2", Some("Europe/Berlin"));
    emulator.add_channel("C1", &["U1"]);
    emulator.add_channel("C9", &["U1"]);
    emulator
}

#[tokio::test]
async fn urgency_gets_one_private_nudge_but_nothing_in_the_urgent_channel() {
    let emulator = workspace().await;
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_EVENING)).await;
    let answer = slash(
        bot.addr,
        &emulator,
        "UA",
        "C1",
        "norms urgent-channel <#C9|incidents>",
    )
    .await;
    assert!(
        answer.starts_with("Saved: real emergencies go to <#C9>"),
        "{answer}"
    );

    post_event(
        bot.addr,
        &message_event("EvU1", "U1", "C1", URGENT, "1772572440.000100", None),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    assert_eq!(notes[0].param("user"), Some("U1"));
    assert_eq!(notes[0].param("channel"), Some("C1"));
    let text = notes[0].text_and_blocks();
    assert!(text.contains("Heads-up: “URGENT” and @here"), "{text}");
    assert!(
        text.contains("Real emergencies go to <#C9>; here the expected reply time is 24h."),
        "{text}"
    );
    assert!(text.contains("_urgency words_"), "{text}");
    assert!(text.contains("_broadcast_"), "{text}");

    // The same message where urgency belongs; a quiet message after it is the barrier.
    post_event(
        bot.addr,
        &message_event("EvU2", "U1", "C9", URGENT, "1772572441.000100", None),
    )
    .await;
    post_event(
        bot.addr,
        &message_event("EvU3", "U1", "C9", "thanks", "1772572442.000100", None),
    )
    .await;
    bot.wait_for_handled_messages(3.0).await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 1);
    assert!(emulator.calls_to("reactions.add").is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn a_second_flag_inside_the_cooldown_gets_no_nudge_and_one_after_it_does() {
    let emulator = workspace().await;
    let clock = clock_at(TUESDAY_EVENING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    post_event(
        bot.addr,
        &message_event("EvC1", "U1", "C1", URGENT, "1772572440.000100", None),
    )
    .await;
    emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;

    clock.set(clock.now() + TimeDelta::minutes(29));
    post_event(
        bot.addr,
        &message_event(
            "EvC2",
            "U1",
            "C1",
            "still need this asap!!!",
            "1772574180.000100",
            None,
        ),
    )
    .await;
    bot.wait_for_handled_messages(2.0).await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 1);

    // Another sender is not held back by U1's cooldown.
    emulator.add_user("U3", Some("America/New_York"));
    post_event(
        bot.addr,
        &message_event("EvC3", "U3", "C1", "asap please", "1772574181.000100", None),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 2, PATIENCE).await;
    assert_eq!(notes[1].param("user"), Some("U3"));

    clock.set(clock.now() + TimeDelta::minutes(2));
    post_event(
        bot.addr,
        &message_event("EvC4", "U1", "C1", "asap please", "1772574300.000100", None),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 3, PATIENCE).await;
    assert_eq!(notes[2].param("user"), Some("U1"));

    // Every flag is counted, nudged or not, per channel.
    let stats = slash(bot.addr, &emulator, "U1", "C1", "stats").await;
    assert!(stats.contains("4 flagged messages"), "{stats}");
    assert!(
        stats.contains("<#C1>: 4 messages (urgency words 4, broadcast 1, emphasis 1)"),
        "{stats}"
    );
    assert!(!stats.contains("U1") && !stats.contains("U3"), "{stats}");
    bot.stop().await;
}

#[tokio::test]
async fn a_member_cannot_change_norms_a_manager_can_and_the_change_survives_a_restart() {
    let emulator = workspace().await;
    let clock = clock_at(TUESDAY_EVENING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;

    let refused = slash(bot.addr, &emulator, "U2", "C1", "norms response-time 4h").await;
    assert!(
        refused.starts_with("Only managers and workspace admins"),
        "{refused}"
    );
    let refused = slash(bot.addr, &emulator, "U2", "C1", "role manager <@U2|bea>").await;
    assert!(
        refused.starts_with("Only workspace admins and owners"),
        "{refused}"
    );

    let granted = slash(bot.addr, &emulator, "UA", "C1", "role manager <@U2|bea>").await;
    assert_eq!(
        granted,
        "<@U2> is now a manager: they can set channel norms and run check-ins."
    );
    let saved = slash(bot.addr, &emulator, "U2", "C1", "norms response-time 4h").await;
    assert_eq!(saved, "Saved: the expected reply time in <#C1> is 4h.");
    let saved = slash(
        bot.addr,
        &emulator,
        "U2",
        "C1",
        "norms keywords add dringend \"lo antes posible\"",
    )
    .await;
    assert!(
        saved.contains("`dringend`, `lo antes posible` added to"),
        "{saved}"
    );

    let data = bot.stop().await;
    let bot = TestBot::start_in(&emulator, clock, data).await;
    let shown = slash(bot.addr, &emulator, "U1", "C1", "norms").await;
    assert!(shown.contains("Expected reply time: 4h\n"), "{shown}");
    assert!(shown.contains("`dringend`"), "{shown}");

    // The new words and reply time are in force after the restart.
    post_event(
        bot.addr,
        &message_event(
            "EvR1",
            "U1",
            "C1",
            "Das ist dringend",
            "1772572440.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let text = notes[0].text_and_blocks();
    assert!(text.contains("“dringend”"), "{text}");
    assert!(
        text.contains("Here the expected reply time is 4h."),
        "{text}"
    );

    let revoked = slash(
        bot.addr,
        &emulator,
        "UA",
        "C1",
        "role manager remove <@U2|bea>",
    )
    .await;
    assert_eq!(revoked, "<@U2> is no longer a manager.");
    let refused = slash(bot.addr, &emulator, "U2", "C1", "norms nudges off").await;
    assert!(refused.starts_with("Only managers"), "{refused}");
    bot.stop().await;
}

#[tokio::test]
async fn an_urgent_ping_to_someone_off_hours_gets_one_note_with_both_sections() {
    let emulator = workspace().await;
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_EVENING)).await;
    post_event(
        bot.addr,
        &message_event(
            "EvB1",
            "U1",
            "C1",
            "<@U2> can you fix the build asap?",
            "1772572440.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    let text = notes[0].text_and_blocks();
    assert!(text.contains("<@U2> is not working right now"), "{text}");
    assert!(
        text.contains("Heads-up: “asap” reaches someone who is outside their working hours now."),
        "{text}"
    );
    assert!(text.contains("_urgent ping outside hours_"), "{text}");
    // One note, not two: a quiet message is the barrier.
    post_event(
        bot.addr,
        &message_event("EvB2", "U1", "C1", "thanks", "1772572441.000100", None),
    )
    .await;
    bot.wait_for_handled_messages(2.0).await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 1);
    bot.stop().await;
}

#[tokio::test]
async fn an_edit_that_adds_urgency_is_checked_and_one_that_keeps_it_is_not() {
    let emulator = workspace().await;
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_EVENING)).await;
    // Keeps the same urgency (a typo fixed): nothing new to say.
    post_event(
        bot.addr,
        &edit(
            "EvE1",
            "U1",
            "C1",
            "need this asap, thnaks",
            "need this asap, thanks",
        ),
    )
    .await;
    bot.wait_for_handled_messages(1.0).await;
    assert!(emulator.calls_to("chat.postEphemeral").is_empty());
    // Adds it.
    post_event(
        bot.addr,
        &edit("EvE2", "U1", "C1", "can you look?", "can you look? URGENT"),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    assert!(notes[0].text_and_blocks().contains("“URGENT”"));
    bot.stop().await;
}

#[tokio::test]
async fn a_channel_can_be_nudged_by_a_reaction_or_a_thread_reply_instead_of_a_private_note() {
    let emulator = workspace().await;
    emulator.add_channel("C2", &["U1"]);
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_EVENING)).await;
    let refused = slash(bot.addr, &emulator, "U1", "C1", "norms action thread").await;
    assert!(refused.starts_with("Only managers"), "{refused}");
    let saved = slash(
        bot.addr,
        &emulator,
        "UA",
        "C1",
        "norms action reaction :eyes:",
    )
    .await;
    assert_eq!(
        saved,
        "Saved: nudges about urgency in <#C1> arrive as a :eyes: reaction on the message."
    );
    let saved = slash(bot.addr, &emulator, "UA", "C2", "norms action thread").await;
    assert_eq!(
        saved,
        "Saved: nudges about urgency in <#C2> arrive as a reply in the message's thread."
    );
    let shown = slash(bot.addr, &emulator, "U1", "C1", "norms").await;
    assert!(
        shown.contains("• Nudges: on, as a :eyes: reaction on the message"),
        "{shown}"
    );

    post_event(
        bot.addr,
        &message_event(
            "EvA1",
            "U1",
            "C1",
            "URGENT: need this ASAP",
            "1772572440.000100",
            None,
        ),
    )
    .await;
    let reactions = emulator.wait_for("reactions.add", 1, PATIENCE).await;
    assert_eq!(reactions[0].param("channel"), Some("C1"));
    assert_eq!(reactions[0].param("name"), Some("eyes"));
    assert_eq!(reactions[0].param("timestamp"), Some("1772572440.000100"));

    post_event(
        bot.addr,
        &message_event(
            "EvA2",
            "U1",
            "C2",
            "URGENT: need this ASAP",
            "1772572441.000100",
            None,
        ),
    )
    .await;
    let replies = emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    assert_eq!(replies[0].param("channel"), Some("C2"));
    assert_eq!(replies[0].param("thread_ts"), Some("1772572441.000100"));
    let reply = replies[0].param("text").unwrap_or_default();
    assert!(reply.contains("“URGENT”"), "{reply}");

    bot.wait_for_handled_messages(2.0).await;
    assert!(emulator.calls_to("chat.postEphemeral").is_empty());
    assert_eq!(emulator.calls_to("reactions.add").len(), 1);
    bot.stop().await;
}

#[tokio::test]
async fn an_urgent_channel_taken_off_the_list_is_flagged_like_any_other() {
    let emulator = workspace().await;
    let bot = TestBot::start_with_clock(&emulator, clock_at(TUESDAY_EVENING)).await;
    slash(
        bot.addr,
        &emulator,
        "UA",
        "C1",
        "norms urgent-channel <#C9|incidents>",
    )
    .await;
    post_event(
        bot.addr,
        &message_event(
            "EvD1",
            "U1",
            "C9",
            "URGENT: need this ASAP",
            "1772572440.000100",
            None,
        ),
    )
    .await;
    bot.wait_for_handled_messages(1.0).await;
    assert!(emulator.calls_to("chat.postEphemeral").is_empty());

    let refused = slash(
        bot.addr,
        &emulator,
        "U1",
        "C1",
        "norms urgent-channel remove <#C9|incidents>",
    )
    .await;
    assert!(refused.starts_with("Only managers"), "{refused}");
    let saved = slash(
        bot.addr,
        &emulator,
        "UA",
        "C1",
        "norms urgent-channel remove <#C9|incidents>",
    )
    .await;
    assert!(
        saved.starts_with("Saved: <#C9> is no longer where real emergencies go"),
        "{saved}"
    );
    let again = slash(
        bot.addr,
        &emulator,
        "UA",
        "C1",
        "norms urgent-channel remove <#C9|incidents>",
    )
    .await;
    assert_eq!(
        again,
        "<#C9> is not designated for urgent requests; nothing changed."
    );
    let shown = slash(bot.addr, &emulator, "U1", "C9", "norms").await;
    assert!(!shown.contains("designated for urgent requests"), "{shown}");
    assert!(shown.contains("no channel set yet"), "{shown}");

    post_event(
        bot.addr,
        &message_event(
            "EvD2",
            "U1",
            "C9",
            "URGENT: need this ASAP",
            "1772572441.000100",
            None,
        ),
    )
    .await;
    let notes = emulator.wait_for("chat.postEphemeral", 1, PATIENCE).await;
    assert_eq!(notes[0].param("channel"), Some("C9"));
    assert!(notes[0].text_and_blocks().contains("“URGENT”"));
    bot.stop().await;
}

#[tokio::test]
async fn managers_and_admins_get_one_weekly_digest_at_nine_on_monday_their_time() {
    let emulator = workspace().await;
    emulator.add_admin("UB", "America/New_York");
    let clock = clock_at(TUESDAY_EVENING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    slash(bot.addr, &emulator, "UA", "C1", "role manager <@U2|bea>").await;
    let member = slash(bot.addr, &emulator, "U1", "C1", "norms digest off").await;
    assert!(
        member.starts_with("The weekly norms digest goes to managers"),
        "{member}"
    );
    let off = slash(bot.addr, &emulator, "UA", "C1", "norms digest off").await;
    assert!(
        off.starts_with("Saved: no more weekly norms digest"),
        "{off}"
    );
    post_event(
        bot.addr,
        &message_event("EvW1", "U1", "C1", URGENT, "1772572440.000100", None),
    )
    .await;
    // Handled means recorded: the digest reads the record.
    bot.wait_for_handled_messages(1.0).await;

    // Monday 9 March, 09:00 in Berlin: the manager's digest.
    clock.set("2026-03-09T08:00:00Z".parse().unwrap());
    let dms = emulator.wait_for("chat.postMessage", 1, PATIENCE).await;
    assert_eq!(dms[0].param("channel"), Some("DU2"));
    let text = dms[0].param("text").unwrap_or_default();
    assert!(text.contains("Weekly urgency norms digest"), "{text}");
    assert!(text.contains("the week to Sunday 8 March 2026"), "{text}");
    assert!(text.contains("<#C1>: 1 message"), "{text}");
    assert!(!text.contains("U1"), "{text}");

    // 09:00 in New York (daylight time since Sunday): the admin who kept it; UA opted out.
    clock.set("2026-03-09T13:00:00Z".parse().unwrap());
    let dms = emulator.wait_for("chat.postMessage", 2, PATIENCE).await;
    assert_eq!(dms[1].param("channel"), Some("DUB"));

    // A restart the same morning sends nothing again.
    let data = bot.stop().await;
    let listed = emulator.calls_to("users.list").len();
    clock.set("2026-03-09T13:30:00Z".parse().unwrap());
    let bot = TestBot::start_in(&emulator, clock, data).await;
    emulator.wait_for("users.list", listed + 1, PATIENCE).await;
    bot.stop().await;
    assert_eq!(emulator.calls_to("chat.postMessage").len(), 2);
}

/// The message texts of the real payloads in `../shared/slack-reference/payloads/` (written
/// by Slack's own SDK authors, not by this project).
fn reference_message_texts(root: &std::path::Path) -> Vec<String> {
    fn collect(value: &Value, texts: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                let is_message = matches!(
                    map.get("type").and_then(Value::as_str),
                    Some("message" | "app_mention")
                );
                if let (true, Some(text)) = (is_message, map.get("text").and_then(Value::as_str)) {
                    texts.push(text.to_string());
                }
                map.values().for_each(|v| collect(v, texts));
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, texts)),
            _ => {}
        }
    }
    let mut texts = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)
            .expect("a payload folder")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "json")
                && let Ok(value) = serde_json::from_str::<Value>(
                    &std::fs::read_to_string(&path).unwrap_or_default(),
                )
            {
                collect(&value, &mut texts);
            }
        }
    }
    texts.sort();
    texts.dedup();
    texts.retain(|t| !t.trim().is_empty());
    texts
}

/// The false-positive rate on messages nobody on this project wrote. None of them asks for
/// urgency (read by hand: greetings, "test", "Please fix … as soon as you can!"), so every
/// flag would be a false positive.
#[test]
fn the_shipped_words_flag_none_of_the_real_payload_messages() {
    use async_norms::norms::{ChannelContext, UrgencyLexicon, classify};
    let Some(reference) = shared_reference() else {
        eprintln!("../shared/slack-reference is not here; skipped");
        return;
    };
    let texts = reference_message_texts(&reference.join("payloads"));
    assert!(texts.len() >= 10, "{texts:?}");
    let lexicon = UrgencyLexicon::with_defaults().unwrap();
    let context = ChannelContext::default();
    let flagged: Vec<(&String, Vec<String>)> = texts
        .iter()
        .map(|text| {
            let rules = classify(&lexicon.scan(text), &context)
                .into_iter()
                .map(|f| f.rule.to_string())
                .collect::<Vec<_>>();
            (text, rules)
        })
        .filter(|(_, rules)| !rules.is_empty())
        .collect();
    eprintln!(
        "false positives on the real payload messages: {} of {}",
        flagged.len(),
        texts.len()
    );
    assert!(flagged.is_empty(), "{flagged:?}");
}

/// Presses "Not a demand" on a nudge as `user` and returns the thank-you the bot sends to
/// the press's `response_url` (the `count`-th such answer).
async fn press_not_a_demand(
    bot: &TestBot,
    emulator: &SlackEmulator,
    note: &emulator::Call,
    count: usize,
) -> String {
    let button = note.params["blocks"]
        .as_array()
        .expect("the note's blocks")
        .iter()
        .filter(|block| block["type"] == "actions")
        .flat_map(|block| block["elements"].as_array().cloned().unwrap_or_default())
        .find(|element| element["action_id"] == "urgency_not_a_demand")
        .expect("a “Not a demand” button");
    assert_eq!(button["text"]["text"], "Not a demand");
    let mut pressed = fixture_json("block_actions.json");
    pressed["user"]["id"] = json!("U1");
    pressed["team"]["id"] = json!(emulator::TEAM_ID);
    pressed["response_url"] = json!(emulator.response_url());
    pressed["actions"] = json!([{
        "type": "button", "action_id": "urgency_not_a_demand", "block_id": "b1",
        "text": {"type": "plain_text", "text": "Not a demand"}, "value": button["value"],
        "action_ts": "1772572500.000100"
    }]);
    let (status, _) = interact(bot.addr, &pressed).await;
    assert_eq!(status, hyper::StatusCode::OK);
    let answers = emulator.wait_for("response_url", count, PATIENCE).await;
    answers[count - 1]
        .param("text")
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_phrase_marked_not_a_demand_three_times_stops_nudging_until_an_admin_adds_it_again() {
    let emulator = workspace().await;
    let clock = clock_at(TUESDAY_EVENING);
    let bot = TestBot::start_with_clock(&emulator, clock.clone()).await;
    let demand = "please review the release notes asap";
    let send = |n: u32| {
        // Past the sender's cooldown each time.
        clock.set(clock.now() + TimeDelta::minutes(31));
        message_event(
            &format!("EvF{n}"),
            "U1",
            "C1",
            demand,
            &format!("17725725{n:02}.000100"),
            None,
        )
    };
    for n in 1..=3 {
        post_event(bot.addr, &send(n)).await;
        let notes = emulator
            .wait_for("chat.postEphemeral", n as usize, PATIENCE)
            .await;
        let note = &notes[n as usize - 1];
        let text = note.text_and_blocks();
        assert!(text.contains("Heads-up: “asap”"), "{text}");
        assert!(text.contains("“asap” asks others to hurry"), "{text}");
        assert!(text.contains("urgency_words:asap"), "{text}");
        assert!(
            !text.contains("release notes\""),
            "the button holds no text: {text}"
        );
        let thanks = press_not_a_demand(&bot, &emulator, note, n as usize).await;
        if n < 3 {
            assert!(thanks.starts_with("Thanks, noted: “asap”"), "{thanks}");
        } else {
            assert!(thanks.contains("no longer nudges anyone"), "{thanks}");
            assert!(
                thanks.contains("`/async norms keywords add asap`"),
                "{thanks}"
            );
        }
    }

    // Muted: the same demand, handled, gets no nudge.
    post_event(bot.addr, &send(4)).await;
    bot.wait_for_handled_messages(4.0).await;
    assert_eq!(emulator.calls_to("chat.postEphemeral").len(), 3);

    let stats = slash(bot.addr, &emulator, "U2", "C1", "stats").await;
    assert!(
        stats.contains("• “asap”: 3 of 3 nudges (urgency words 3); no longer nudges here"),
        "{stats}"
    );
    assert!(!stats.contains("U1"), "never per person: {stats}");

    let answer = slash(bot.addr, &emulator, "UA", "C1", "norms keywords add asap").await;
    assert_eq!(
        answer,
        "Saved: `asap` nudges again; its “Not a demand” marks are forgotten."
    );
    post_event(bot.addr, &send(5)).await;
    emulator.wait_for("chat.postEphemeral", 4, PATIENCE).await;
    bot.stop().await;
}

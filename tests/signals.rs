//! End to end: what Slack already knows about people feeds the note a sender gets. A user
//! group mention pings its members, through the real server and the local Slack emulator,
//! with the clock standing still where each test puts it.

mod common;

use common::*;
use serde_json::json;

/// Tuesday 3 March 2026, 21:14 UTC: 22:14 in Berlin, 16:14 in New York, Wednesday 06:14 in Tokyo.
const TUESDAY_EVENING: &str = "2026-03-03T21:14:00Z";

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
    post_event(
        bot.addr,
        &message_event(
            "EvGroup3",
            "U1",
            "C1",
            "<!subteam^S0614TZR7> and now?",
            "1772572560.000100",
            None,
        ),
    )
    .await;
    bot.wait_for_handled_messages(3.0).await;
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

//! Distribution over OAuth v2, end to end against the emulator: the install link, Slack's
//! redirect with a code and a state, forged and reused states refused, two workspaces side
//! by side with their own tokens and data, an org-wide install, and one workspace's rate
//! limit leaving the other's calls alone.

mod common;

use std::time::Duration;

use common::emulator::{CLIENT_ID, CLIENT_SECRET};
use common::*;
use hyper::StatusCode;
use serde_json::json;

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const REDIRECT: &str = "https://bot.example.com/slack/oauth_redirect";

async fn distributed_bot(emulator: &SlackEmulator) -> TestBot {
    TestBot::start_configured(emulator, |raw| {
        raw.bot_token = None;
        raw.client_id = Some(CLIENT_ID.into());
        raw.client_secret = Some(CLIENT_SECRET.into());
        raw.redirect_url = Some(REDIRECT.into());
        raw.encryption_key = Some(KEY.into());
    })
    .await
}

/// The "Add to Slack" link of the install page, unescaped.
async fn install_link(bot: &TestBot) -> url::Url {
    let (status, page) = get(bot.addr, "/slack/install").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Add to Slack"), "{page}");
    let start = page
        .find("https://slack.com/oauth/v2/authorize?")
        .expect("an authorize link");
    let end = start + page[start..].find('"').expect("the link ends");
    url::Url::parse(&page[start..end].replace("&amp;", "&")).expect("a URL")
}

fn query(url: &url::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Follows Slack's redirect back to the bot.
async fn redirect(bot: &TestBot, code: &str, state: &str) -> (StatusCode, String) {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("code", code)
        .append_pair("state", state)
        .finish();
    get(bot.addr, &format!("/slack/oauth_redirect?{query}")).await
}

async fn install(bot: &TestBot, code: &str) {
    let link = install_link(bot).await;
    let (status, page) = redirect(bot, code, &query(&link, "state")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("installed"), "{page}");
}

/// Posts a signed slash-command form; the text of the bot's answer.
async fn post_command(bot: &TestBot, form: &str) -> String {
    let (status, body) = post_signed(
        bot.addr,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        form.as_bytes(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    answer["text"].as_str().unwrap_or_default().to_string()
}

/// A slash command from `team`.
async fn slash_in(bot: &TestBot, team: &str, user: &str, text: &str) -> String {
    let form = command_form(text, user, "C1", &bot.emulator.response_url()).replace(
        &format!("team_id={}", common::emulator::TEAM_ID),
        &format!("team_id={team}"),
    );
    post_command(bot, &form).await
}

/// An app mention in `team`'s channel `channel`, answered with one `chat.postMessage`.
fn mention(
    event_id: &str,
    team: Option<&str>,
    enterprise: Option<&str>,
    channel: &str,
) -> serde_json::Value {
    let mut body = event("app_mention.json", event_id);
    body["team_id"] = json!(team);
    body["enterprise_id"] = json!(enterprise);
    body["event"]["channel"] = json!(channel);
    body["event"]["text"] = json!("<@UBOT> hi there");
    if team.is_none() {
        body.as_object_mut().expect("object").remove("team_id");
        body["event"]
            .as_object_mut()
            .expect("object")
            .remove("team");
    }
    if enterprise.is_some() {
        // As Slack sends events to an org-wide install: the authorisation is the
        // organisation's, with no team.
        body["is_enterprise_install"] = json!(true);
        body["authorizations"] = json!([{
            "enterprise_id": enterprise, "team_id": null, "user_id": "UORGBOT",
            "is_bot": true, "is_enterprise_install": true
        }]);
    }
    body
}

/// A slash command from workspace `team` of organisation `org`, which installed the app
/// org-wide, with the form fields Slack adds for it.
async fn slash_in_org(bot: &TestBot, team: &str, org: &str, user: &str, text: &str) -> String {
    let form = command_form(text, user, "C1", &bot.emulator.response_url())
        .replace(
            &format!("team_id={}", common::emulator::TEAM_ID),
            &format!("team_id={team}"),
        )
        .replace("enterprise_id=E111", &format!("enterprise_id={org}"))
        + "&is_enterprise_install=true&api_app_id=A111";
    post_command(bot, &form).await
}

/// How many times the member directory of `team` was read with `token`.
fn directory_reads(emulator: &SlackEmulator, token: &str, team: &str) -> usize {
    emulator
        .calls_to("users.list")
        .iter()
        .filter(|call| call.token == token && call.param("team_id") == Some(team))
        .count()
}

/// Waits until the member directory of `team` was read with `token` more than `before`
/// times.
async fn wait_for_directory_read_after(
    emulator: &SlackEmulator,
    token: &str,
    team: &str,
    before: usize,
) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while directory_reads(emulator, token, team) <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the directory of {team} was not read with {token}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The `chat.postMessage` calls made in `channel`.
fn posts_in(emulator: &SlackEmulator, channel: &str) -> Vec<common::emulator::Call> {
    emulator
        .calls_to("chat.postMessage")
        .into_iter()
        .filter(|call| {
            call.param("channel") == Some(channel) && call.params.get("__fault").is_none()
        })
        .collect()
}

async fn wait_for_post(emulator: &SlackEmulator, channel: &str) -> common::emulator::Call {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(call) = posts_in(emulator, channel).pop() {
            return call;
        }
        assert!(std::time::Instant::now() < deadline, "no post in {channel}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn the_install_link_carries_the_app_its_scopes_and_a_state_good_once() {
    let emulator = SlackEmulator::start().await;
    emulator.allow_install("code-a", "TA", "xoxb-team-a", "UBOTA");
    emulator.allow_install("code-b", "TB", "xoxb-team-b", "UBOTB");
    let bot = distributed_bot(&emulator).await;

    let link = install_link(&bot).await;
    assert_eq!(query(&link, "client_id"), CLIENT_ID);
    assert_eq!(query(&link, "redirect_uri"), REDIRECT);
    assert!(
        query(&link, "scope").split(',').any(|s| s == "chat:write"),
        "{link}"
    );
    let state = query(&link, "state");
    assert!(!state.is_empty());

    // Slack sends the installer back with a code: the bot exchanges it with its client id
    // and secret and keeps the workspace's token.
    let (status, page) = redirect(&bot, "code-a", &state).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("installed"), "{page}");
    let exchanged = emulator.calls_to("oauth.v2.access");
    assert_eq!(exchanged.len(), 1);
    assert_eq!(exchanged[0].param("code"), Some("code-a"));
    assert_eq!(exchanged[0].param("redirect_uri"), Some(REDIRECT));

    // The same link again (a reload, or someone who copied it) is refused.
    let (status, page) = redirect(&bot, "code-b", &state).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("used already"), "{page}");
    // A state the bot did not sign, or none, is refused without asking Slack.
    let forged = format!("{}.{}.{}", "00", i64::MAX, "ab".repeat(32));
    for state in [forged.as_str(), "", "not-a-state"] {
        let (status, page) = redirect(&bot, "code-b", state).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("start again"), "{page}");
    }
    assert_eq!(emulator.calls_to("oauth.v2.access").len(), 1);
    // A code Slack does not know is refused with Slack's reason.
    let link = install_link(&bot).await;
    let (status, page) = redirect(&bot, "code-nobody-issued", &query(&link, "state")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("invalid_code"), "{page}");
    // The installer pressed Cancel on Slack's page.
    let link = install_link(&bot).await;
    let (status, page) = get(
        bot.addr,
        &format!(
            "/slack/oauth_redirect?error=access_denied&state={}",
            query(&link, "state")
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("cancelled"), "{page}");
    bot.stop().await;
}

#[tokio::test]
async fn two_workspaces_side_by_side_use_their_own_tokens_and_data() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.allow_install("code-a", "TA", "xoxb-team-a", "UBOTA");
    emulator.allow_install("code-b", "TB", "xoxb-team-b", "UBOTB");
    let bot = distributed_bot(&emulator).await;

    // Before any install, the bot serves no one.
    let (status, _) = post_event(bot.addr, &mention("EvNone", Some("TA"), None, "CA0")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        bot.metric("async_norms_foreign_payloads_total{route=\"events\"}")
            .await,
        1.0
    );

    install(&bot, "code-a").await;
    install(&bot, "code-b").await;

    let (status, _) = post_event(bot.addr, &mention("EvA", Some("TA"), None, "CA")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post_event(bot.addr, &mention("EvB", Some("TB"), None, "CB")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wait_for_post(&emulator, "CA").await.token, "xoxb-team-a");
    assert_eq!(wait_for_post(&emulator, "CB").await.token, "xoxb-team-b");

    // Hours set in one workspace are that workspace's only.
    let set = slash_in(
        &bot,
        "TA",
        "U1",
        "hours set mon-fri 06:00-07:00 Europe/Berlin",
    )
    .await;
    assert!(set.contains("06:00"), "{set}");
    let in_a = slash_in(&bot, "TA", "U1", "hours").await;
    let in_b = slash_in(&bot, "TB", "U1", "hours").await;
    assert!(in_a.contains("06:00"), "{in_a}");
    assert!(!in_b.contains("06:00"), "{in_b}");
    assert!(in_b.contains("the default"), "{in_b}");

    // A team that never installed is answered and ignored.
    let stranger = slash_in(&bot, "TZ", "U1", "hours").await;
    assert!(stranger.contains("not installed"), "{stranger}");

    // After a restart the installations are read back (sealed with the key: no token is
    // on disk in the clear).
    let data_dir = bot.stop().await;
    for entry in walk(data_dir.path()) {
        let bytes = std::fs::read(&entry).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("xoxb-team-a"),
            "{} holds a token in the clear",
            entry.display()
        );
    }
    let bot = TestBot::start_configured_in(&emulator, data_dir, |raw| {
        raw.bot_token = None;
        raw.client_id = Some(CLIENT_ID.into());
        raw.client_secret = Some(CLIENT_SECRET.into());
        raw.redirect_url = Some(REDIRECT.into());
        raw.encryption_key = Some(KEY.into());
    })
    .await;
    let (status, _) = post_event(bot.addr, &mention("EvB2", Some("TB"), None, "CB2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wait_for_post(&emulator, "CB2").await.token, "xoxb-team-b");
    let in_a = slash_in(&bot, "TA", "U1", "hours").await;
    assert!(in_a.contains("06:00"), "{in_a}");
    bot.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn an_org_wide_install_handles_events_without_a_team() {
    let emulator = SlackEmulator::start().await;
    emulator.allow_org_install("code-org", "EORG", "xoxb-org", "UORGBOT");
    let bot = distributed_bot(&emulator).await;
    install(&bot, "code-org").await;

    let (status, _) = post_event(bot.addr, &mention("EvOrg", None, Some("EORG"), "CORG")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wait_for_post(&emulator, "CORG").await.token, "xoxb-org");
    // Another organisation's event is not.
    let (status, _) = post_event(
        bot.addr,
        &mention("EvOther", None, Some("EOTHER"), "COTHER"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    bot.wait_for_metric("async_norms_foreign_payloads_total{route=\"events\"}", 1.0)
        .await;
    assert!(posts_in(&emulator, "COTHER").is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn an_event_from_a_workspace_of_an_org_wide_install_is_answered_with_the_orgs_token() {
    let emulator = SlackEmulator::start().await;
    emulator.allow_org_install("code-org", "EORG", "xoxb-org", "UORGBOT");
    let bot = distributed_bot(&emulator).await;
    install(&bot, "code-org").await;

    // Slack names both the workspace and the organisation, and says the install is
    // org-wide: the organisation's installation answers.
    let (status, _) = post_event(bot.addr, &mention("EvT5", Some("T5"), Some("EORG"), "CT5")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wait_for_post(&emulator, "CT5").await.token, "xoxb-org");
    // The workspace, new to the bot, has its members read at once, named to the org token.
    wait_for_directory_read_after(&emulator, "xoxb-org", "T5", 0).await;
    // A workspace of an organisation that did not install the app is not answered.
    post_event(
        bot.addr,
        &mention("EvOther", Some("T7"), Some("EOTHER"), "CT7"),
    )
    .await;
    bot.wait_for_metric("async_norms_foreign_payloads_total{route=\"events\"}", 1.0)
        .await;
    assert!(posts_in(&emulator, "CT7").is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn commands_and_interactions_under_an_org_wide_install_keep_each_workspaces_data() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("W1", Some("Europe/Berlin"));
    emulator.allow_org_install("code-org", "EORG", "xoxb-org", "UORGBOT");
    let bot = distributed_bot(&emulator).await;
    install(&bot, "code-org").await;

    // Two workspaces of one organisation: each has its own settings.
    let set = slash_in_org(
        &bot,
        "T5",
        "EORG",
        "W1",
        "hours set mon-fri 06:00-07:00 Europe/Berlin",
    )
    .await;
    assert!(set.contains("06:00"), "{set}");
    let in_t5 = slash_in_org(&bot, "T5", "EORG", "W1", "hours").await;
    let in_t6 = slash_in_org(&bot, "T6", "EORG", "W1", "hours").await;
    assert!(in_t5.contains("06:00"), "{in_t5}");
    assert!(!in_t6.contains("06:00"), "{in_t6}");
    assert!(in_t6.contains("the default"), "{in_t6}");
    // Another organisation's workspace is refused.
    let stranger = slash_in_org(&bot, "T7", "EOTHER", "W1", "hours").await;
    assert!(stranger.contains("not installed"), "{stranger}");

    // A button pressed in T6, sent as Slack sends it to an org-wide install (no team, the
    // organisation named): the modal opens with the organisation's token.
    let mut pressed = fixture_json("block_actions.json");
    pressed["team"] = json!(null);
    pressed["enterprise"] = json!({"id": "EORG", "name": "Emulated Org"});
    pressed["is_enterprise_install"] = json!(true);
    pressed["user"]["id"] = json!("W1");
    pressed["user"]["team_id"] = json!("T6");
    pressed["actions"] = json!([{
        "type": "button", "action_id": "hours_edit", "block_id": "b1",
        "text": {"type": "plain_text", "text": "Edit hours"}, "value": "hours_edit",
        "action_ts": "1772532000.000100"
    }]);
    let (status, _) = interact(bot.addr, &pressed).await;
    assert_eq!(status, StatusCode::OK);
    let opened = emulator.wait_for("views.open", 1, PATIENCE).await;
    assert_eq!(opened[0].token, "xoxb-org");
    assert_eq!(opened[0].params["view"]["callback_id"], "hours_modal");
    wait_for_directory_read_after(&emulator, "xoxb-org", "T6", 0).await;

    // After a restart the workspaces are still served with the organisation's token:
    // their directories are read at start, before any payload names them again.
    let data_dir = bot.stop().await;
    let before = directory_reads(&emulator, "xoxb-org", "T6");
    let bot = TestBot::start_configured_in(&emulator, data_dir, |raw| {
        raw.bot_token = None;
        raw.client_id = Some(CLIENT_ID.into());
        raw.client_secret = Some(CLIENT_SECRET.into());
        raw.redirect_url = Some(REDIRECT.into());
        raw.encryption_key = Some(KEY.into());
    })
    .await;
    wait_for_directory_read_after(&emulator, "xoxb-org", "T6", before).await;
    let in_t5 = slash_in_org(&bot, "T5", "EORG", "W1", "hours").await;
    assert!(in_t5.contains("06:00"), "{in_t5}");
    bot.stop().await;
}

#[tokio::test]
async fn uninstalling_an_org_wide_install_deletes_its_workspaces_data_and_no_other() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("W1", Some("Europe/Berlin"));
    emulator.allow_org_install("code-org", "EORG", "xoxb-org", "UORGBOT");
    emulator.allow_install("code-a", "TA", "xoxb-team-a", "UBOTA");
    let bot = distributed_bot(&emulator).await;
    install(&bot, "code-org").await;
    install(&bot, "code-a").await;
    let hours = "hours set mon-fri 06:00-07:00 Europe/Berlin";
    assert!(
        slash_in_org(&bot, "T5", "EORG", "W1", hours)
            .await
            .contains("06:00")
    );
    assert!(slash_in(&bot, "TA", "W1", hours).await.contains("06:00"));

    // The organisation removes the app: Slack names only the organisation.
    let mut gone = mention("EvOrgGone", None, Some("EORG"), "CX");
    gone["event"] = json!({"type": "app_uninstalled"});
    let (status, _) = post_event(bot.addr, &gone).await;
    assert_eq!(status, StatusCode::OK);
    bot.wait_for_metric(
        "async_norms_events_handled_total{type=\"app_uninstalled\"}",
        1.0,
    )
    .await;
    let in_t5 = slash_in_org(&bot, "T5", "EORG", "W1", "hours").await;
    assert!(in_t5.contains("not installed"), "{in_t5}");
    let in_a = slash_in(&bot, "TA", "W1", "hours").await;
    assert!(in_a.contains("06:00"), "{in_a}");

    let data_dir = bot.stop().await;
    let data = data_dir.path().to_str().expect("a UTF-8 path");
    let (code, exported, stderr) = run_cli(&["export", "--data-dir", data], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !exported.contains("\"T5/"),
        "T5's records are left: {exported}"
    );
    assert!(
        exported.contains("\"TA/W1\""),
        "TA's hours are kept: {exported}"
    );
}

#[tokio::test]
async fn workspaces_granted_to_an_org_wide_install_are_served_before_they_speak() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("W1", Some("Europe/Berlin"));
    emulator.allow_org_install("code-org", "EORG", "xoxb-org", "UORGBOT");
    let bot = distributed_bot(&emulator).await;
    install(&bot, "code-org").await;

    // The organisation's admin adds the app to two workspaces (Slack's payload, as sent).
    let mut granted = fixture_json("app_mention.json");
    granted.as_object_mut().expect("object").remove("team_id");
    granted["event_id"] = json!("EvGranted");
    granted["enterprise_id"] = json!("EORG");
    granted["event"] =
        json!({"type": "team_access_granted", "team_ids": ["T8", "T9"], "event_ts": "111.222"});
    let (status, _) = post_event(bot.addr, &granted).await;
    assert_eq!(status, StatusCode::OK);
    // Their directories are read with the organisation's token at once.
    wait_for_directory_read_after(&emulator, "xoxb-org", "T8", 0).await;
    wait_for_directory_read_after(&emulator, "xoxb-org", "T9", 0).await;
    // A command naming only its workspace (as a Socket Mode one reaches the bot) is served.
    let in_t8 = slash_in(&bot, "T8", "W1", "hours").await;
    assert!(in_t8.contains("the default"), "{in_t8}");
    // A grant to an organisation that did not install the app serves nothing.
    granted["event_id"] = json!("EvGrantedElsewhere");
    granted["enterprise_id"] = json!("EOTHER");
    granted["event"]["team_ids"] = json!(["T10"]);
    post_event(bot.addr, &granted).await;
    bot.wait_for_metric("async_norms_foreign_payloads_total{route=\"events\"}", 1.0)
        .await;
    let in_t10 = slash_in(&bot, "T10", "W1", "hours").await;
    assert!(in_t10.contains("not installed"), "{in_t10}");
    bot.stop().await;
}

#[tokio::test]
async fn a_new_installation_has_its_member_directory_read_at_once() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.allow_install("code-a", "TA", "xoxb-team-a", "UBOTA");
    let bot = distributed_bot(&emulator).await;
    assert!(
        emulator.calls_to("users.list").is_empty(),
        "no workspace yet"
    );
    install(&bot, "code-a").await;
    // Read now, not at the 6-hourly refresh: the members are known in memory.
    wait_for_directory_read_after(&emulator, "xoxb-team-a", "TA", 0).await;
    bot.wait_for_metric("async_norms_directory_members", 1.0)
        .await;
    bot.stop().await;
}

#[tokio::test]
async fn an_export_carries_the_workspaces_data_and_never_their_tokens() {
    let emulator = SlackEmulator::start().await;
    emulator.add_user("U1", Some("Europe/Berlin"));
    emulator.allow_install("code-a", "TA", "xoxb-team-a", "UBOTA");
    // Without an encryption key, the token is stored plain: the export still leaves it out.
    let bot = TestBot::start_configured(&emulator, |raw| {
        raw.bot_token = None;
        raw.client_id = Some(CLIENT_ID.into());
        raw.client_secret = Some(CLIENT_SECRET.into());
        raw.redirect_url = Some(REDIRECT.into());
    })
    .await;
    install(&bot, "code-a").await;
    // An install link handed out and never followed: its state is not exported either.
    install_link(&bot).await;
    let set = slash_in(
        &bot,
        "TA",
        "U1",
        "hours set mon-fri 06:00-07:00 Europe/Berlin",
    )
    .await;
    assert!(set.contains("06:00"), "{set}");
    let data_dir = bot.stop().await;
    let data = data_dir.path().to_str().expect("a UTF-8 path");

    let (code, exported, stderr) = run_cli(&["export", "--data-dir", data], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !exported.contains("xoxb-"),
        "a token is exported: {exported}"
    );
    let tables: Vec<String> = exported
        .lines()
        .skip(1)
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            record["table"].as_str().expect("a table").to_string()
        })
        .collect();
    assert!(
        !tables
            .iter()
            .any(|t| t == "installations" || t == "oauth_states"),
        "{tables:?}"
    );
    assert!(
        exported.contains("TA/U1"),
        "the member's hours are exported: {exported}"
    );

    // Read into a new data folder, the data is back and the workspace installs again.
    let fresh = tempfile::tempdir().expect("a folder");
    let dump = fresh.path().join("export.jsonl");
    std::fs::write(&dump, &exported).expect("write");
    let restored = fresh.path().join("data");
    let restored = restored.to_str().expect("a UTF-8 path");
    let (code, _, stderr) = run_cli(
        &["import", "--data-dir", restored, dump.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, again, _) = run_cli(&["export", "--data-dir", restored], &[]);
    assert_eq!(code, 0);
    assert_eq!(again, exported);
}

#[tokio::test]
async fn one_workspace_rate_limited_does_not_slow_another() {
    let emulator = SlackEmulator::start().await;
    emulator.allow_install("code-a", "TA", "xoxb-team-a", "UBOTA");
    emulator.allow_install("code-b", "TB", "xoxb-team-b", "UBOTB");
    let bot = distributed_bot(&emulator).await;
    install(&bot, "code-a").await;
    install(&bot, "code-b").await;

    // Workspace A is told to wait a minute before posting again.
    emulator.inject_for_token(
        "chat.postMessage",
        "xoxb-team-a",
        Fault::RateLimited {
            retry_after_secs: 60,
        },
        1,
    );
    post_event(bot.addr, &mention("EvA1", Some("TA"), None, "CA")).await;
    emulator
        .wait_for_attempts("chat.postMessage", 1, PATIENCE)
        .await;
    assert!(posts_in(&emulator, "CA").is_empty());
    // B's post goes out at once, while A waits out its minute.
    post_event(bot.addr, &mention("EvB1", Some("TB"), None, "CB")).await;
    let posted = wait_for_post(&emulator, "CB").await;
    assert_eq!(posted.token, "xoxb-team-b");
    assert!(posts_in(&emulator, "CA").is_empty(), "A still waits");
    assert_eq!(
        bot.metric("async_norms_slack_api_rate_limited_total{method=\"chat.postMessage\"}")
            .await,
        1.0
    );
    // A's post waits out its minute in the worker: the test ends without waiting for it.
}

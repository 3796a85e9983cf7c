//! `/async my data` and `/async forget me`: a member sees what the bot holds about them and
//! has it deleted. Both answer privately, like every command.

use crate::bot::privacy::MemberRecords;
use crate::bot::{Bot, HandleError};
use crate::commands::hours::Asker;
use crate::norms::markup::escape;

/// Slack cuts a message's text at 40,000 characters; the JSON stays inside it.
const MESSAGE_LIMIT: usize = 39_000;

/// `/async my data`: every record that names the member, as JSON in a code block.
pub(crate) fn my_data(bot: &Bot, asker: &Asker<'_>) -> Result<String, HandleError> {
    let data = bot.member_data(asker.team, asker.user)?;
    let head = "*What async-norms keeps about you* (`/async forget me` deletes it):";
    let pretty = serde_json::to_string_pretty(&data).unwrap_or_default();
    let json = if pretty.len() <= MESSAGE_LIMIT {
        pretty
    } else {
        data.to_string()
    };
    if json.len() > MESSAGE_LIMIT {
        return Ok(format!(
            "{head} more than fits in one Slack message ({} characters of JSON). A workspace admin can give it to you whole with `async-norms export`.",
            json.len()
        ));
    }
    Ok(format!("{head}\n```\n{}\n```", escape(&json)))
}

/// `/async forget me [confirm]`: says what would go, and deletes it once confirmed.
pub(crate) async fn forget_me(
    bot: &Bot,
    asker: &Asker<'_>,
    confirmed: bool,
) -> Result<String, HandleError> {
    if !confirmed {
        let records = bot.member_records(asker.team, asker.user)?;
        if records.is_empty() {
            return Ok("I keep nothing about you: no hours, time off, focus time, role or check-in answers.".into());
        }
        return Ok(format!(
            "This deletes {}. It cannot be undone. To go ahead, type `/async forget me confirm`.",
            describe(&records)
        ));
    }
    let records = bot.forget_member(asker.team, asker.user).await?;
    if records.is_empty() {
        return Ok("There was nothing to delete: I keep nothing about you.".into());
    }
    Ok(format!(
        "Deleted {}. Your hours are back to the default (Mon–Fri 09:00–17:00 in your profile's zone). Check-ins you created stay; `/async checkin delete <id>` removes one.",
        describe(&records)
    ))
}

fn describe(records: &MemberRecords) -> String {
    let mut parts = Vec::new();
    if records.hours {
        parts.push("your working hours, time off and focus time".to_string());
    }
    if records.manager_role {
        parts.push("your manager role".to_string());
    }
    match records.answers {
        0 => {}
        1 => parts.push("1 check-in answer".to_string()),
        n => parts.push(format!("{n} check-in answers")),
    }
    match records.reminders {
        0 => {}
        1 => parts.push("1 reminder you set or that is about you".to_string()),
        n => parts.push(format!("{n} reminders you set or that are about you")),
    }
    match records.other {
        0 => {}
        1 => parts.push("1 other record naming you (a nudge pause, a digest mark)".to_string()),
        n => parts.push(format!(
            "{n} other records naming you (nudge pauses, digest marks)"
        )),
    }
    match parts.len() {
        0 => "nothing".to_string(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} and {last}", parts.join(", "))
        }
    }
}

//! `/async norms …` and `/async stats …`: a channel's urgency norms, shown to anyone and
//! changed by managers and admins, and the per-channel figures of what the rules flagged.
//! A change is on disk before the answer says it is saved.

use crate::bot::roles::{can_manage, is_admin};
use crate::bot::{Bot, HandleError};
use crate::commands::hours::Asker;
use crate::commands::parse::{ChannelRef, Command, StatsPeriod};
use crate::decision::card::escape;
use crate::ids::ChannelId;
use crate::norms::feedback;
use crate::norms::rules::format_reply_time;
use crate::norms::settings::{ChannelNorms, NudgeAction, WorkspaceNorms};
use crate::norms::stats::{report_text, summarise};

/// The answer to a member who may not change norms.
pub(crate) const MANAGERS_ONLY: &str = "Only managers and workspace admins can change the norms. \
     `/async norms` shows them; an admin can make you a manager with `/async role manager @you`.";

/// Runs a `norms` command in `channel` (where it was typed).
pub(crate) async fn respond(
    bot: &Bot,
    asker: &Asker<'_>,
    channel: &ChannelId,
    command: Command,
) -> Result<String, HandleError> {
    if command == Command::Norms {
        return show(bot, asker, channel);
    }
    if let Command::NormsDigest(on) = command {
        return digest(bot, asker, on).await;
    }
    if let Command::NormsRetention(keep_for) = command {
        return retention(bot, asker, keep_for).await;
    }
    if !can_manage(bot, asker.team, asker.user).await? {
        return Ok(MANAGERS_ONLY.to_string());
    }
    let team = asker.team;
    match command {
        Command::NormsUrgentChannel(target) => {
            let target = match resolve_channel(&target) {
                Ok(id) => id,
                Err(problem) => return Ok(problem),
            };
            let mut workspace = bot.workspace_norms(team)?;
            if !workspace.add_urgent_channel(&target) {
                return Ok(format!(
                    "<#{target}> is already where real emergencies go; nothing changed."
                ));
            }
            bot.save_workspace_norms(team, &workspace).await?;
            Ok(format!(
                "Saved: real emergencies go to <#{target}>. Urgency is expected there and never flagged; nudges elsewhere point to it."
            ))
        }
        Command::NormsUrgentChannelRemove(target) => {
            let target = match resolve_channel(&target) {
                Ok(id) => id,
                Err(problem) => return Ok(problem),
            };
            let mut workspace = bot.workspace_norms(team)?;
            if !workspace.remove_urgent_channel(&target) {
                return Ok(format!(
                    "<#{target}> is not designated for urgent requests; nothing changed."
                ));
            }
            bot.save_workspace_norms(team, &workspace).await?;
            let rest = if workspace.urgent_channels.is_empty() {
                " No channel is designated for emergencies now; `/async norms urgent-channel #channel` sets one.".to_string()
            } else {
                String::new()
            };
            Ok(format!(
                "Saved: <#{target}> is no longer where real emergencies go; urgency there is flagged like anywhere else.{rest}"
            ))
        }
        Command::NormsResponseTime(time) => {
            let mut norms = bot.channel_norms(team, channel)?;
            norms.set_response_time(time);
            bot.save_channel_norms(team, channel, &norms).await?;
            Ok(format!(
                "Saved: the expected reply time in <#{channel}> is {}.",
                format_reply_time(norms.response_time())
            ))
        }
        Command::NormsKeywords { add, words } => keywords(bot, asker, add, &words).await,
        Command::NormsAwayWords { add, words } => away_words(bot, asker, add, &words).await,
        Command::NormsNudges(on) => {
            let mut norms = bot.channel_norms(team, channel)?;
            norms.nudges = on;
            bot.save_channel_norms(team, channel, &norms).await?;
            Ok(if on {
                format!("Saved: nudges about urgency are on in <#{channel}>.")
            } else {
                format!(
                    "Saved: no nudges about urgency in <#{channel}>. Findings are still counted in `/async stats`."
                )
            })
        }
        Command::NormsAction(action) => {
            let mut norms = bot.channel_norms(team, channel)?;
            norms.action = action;
            bot.save_channel_norms(team, channel, &norms).await?;
            let off = if norms.nudges {
                ""
            } else {
                " Nudges are off here; `/async norms nudges on` starts them."
            };
            Ok(format!(
                "Saved: nudges about urgency in <#{channel}> arrive {}.{off}",
                action_text(&norms.action)
            ))
        }
        _ => Ok("That is not a norms command; `/async help norms` shows them.".to_string()),
    }
}

/// `/async norms retention <90d>`: how long check-in answers are kept after their report.
/// Admins only: it is the workspace's promise to its members about their words.
async fn retention(
    bot: &Bot,
    asker: &Asker<'_>,
    keep_for: chrono::TimeDelta,
) -> Result<String, HandleError> {
    if !is_admin(bot, asker.team, asker.user).await? {
        return Ok(
            "Only workspace admins can change how long check-in answers are kept.".to_string(),
        );
    }
    let days = u32::try_from(keep_for.num_days().max(1)).unwrap_or(u32::MAX);
    let mut workspace = bot.workspace_norms(asker.team)?;
    workspace.answer_retention_days = Some(days);
    bot.save_workspace_norms(asker.team, &workspace).await?;
    Ok(format!(
        "Saved: check-in answers are deleted {days} days after their report."
    ))
}

/// `/async norms`: this channel's norms and the workspace's.
fn show(bot: &Bot, asker: &Asker<'_>, channel: &ChannelId) -> Result<String, HandleError> {
    let workspace = bot.workspace_norms(asker.team)?;
    let norms = bot.channel_norms(asker.team, channel)?;
    let mut lines = vec![format!("*Norms in <#{channel}>*")];
    if workspace.is_urgent_channel(channel) {
        lines.push(
            "• This channel is designated for urgent requests: nothing is flagged here."
                .to_string(),
        );
    }
    let origin = if norms.response_time_secs.is_some() {
        ""
    } else {
        " (the default)"
    };
    lines.push(format!(
        "• Expected reply time: {}{origin}",
        format_reply_time(norms.response_time())
    ));
    lines.push(match workspace.urgent_channels.as_slice() {
        [] => "• Real emergencies go to: no channel set yet (`/async norms urgent-channel #incidents`)"
            .to_string(),
        channels => format!(
            "• Real emergencies go to: {}",
            channels
                .iter()
                .map(|c| format!("<#{c}>"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    lines.push(format!("• Nudges: {}", nudges_text(&norms)));
    let words: Vec<String> = bot
        .lexicon(asker.team)?
        .words()
        .iter()
        .map(|w| format!("`{}`", escape(w)))
        .collect();
    lines.push(format!("• Urgency words: {}", words.join(", ")));
    lines.push(format!(
        "• Check-in answers are deleted {} days after their report (admins: `/async norms retention 30d`).",
        workspace.answer_retention().num_days()
    ));
    lines.push(
        "Managers and admins change these with `/async norms response-time 24h`, \
         `norms urgent-channel [remove] #channel`, `norms keywords add|remove …`, `norms nudges on|off`, \
         `norms action ephemeral|reaction [:emoji:]|thread`; each of them turns their own \
         weekly digest off or on with `/async norms digest off|on`."
            .to_string(),
    );
    Ok(lines.join("\n"))
}

/// `/async norms digest on|off`: a person's own choice, so it needs no manager's say; only
/// those who receive the digest have one to make.
async fn digest(bot: &Bot, asker: &Asker<'_>, on: bool) -> Result<String, HandleError> {
    if !can_manage(bot, asker.team, asker.user).await? {
        return Ok("The weekly norms digest goes to managers and workspace admins; you do not receive it, so there is nothing to change.".to_string());
    }
    let mut workspace = bot.workspace_norms(asker.team)?;
    let was_on = !workspace.digest_opt_outs.contains(asker.user);
    if was_on == on {
        return Ok(format!(
            "Your weekly norms digest is already {}; nothing changed.",
            if on { "on" } else { "off" }
        ));
    }
    if on {
        workspace.digest_opt_outs.retain(|u| u != asker.user);
    } else {
        workspace.digest_opt_outs.push(asker.user.clone());
    }
    bot.save_workspace_norms(asker.team, &workspace).await?;
    Ok(if on {
        "Saved: you will get the weekly norms digest, a DM on Mondays at 09:00 your time with last week's figures per channel.".to_string()
    } else {
        "Saved: no more weekly norms digest for you. `/async norms digest on` brings it back."
            .to_string()
    })
}

/// `/async hours signals on|off`: whether the member's Slack status and Do Not Disturb count
/// for them.
pub(crate) async fn signals(bot: &Bot, asker: &Asker<'_>, on: bool) -> Result<String, HandleError> {
    let mut workspace = bot.workspace_norms(asker.team)?;
    let was_on = !workspace.signals_off.contains(asker.user);
    if was_on == on {
        return Ok(format!(
            "Your Slack status and Do Not Disturb already {} count; nothing changed.",
            if on { "do" } else { "do not" }
        ));
    }
    if on {
        workspace.signals_off.retain(|u| u != asker.user);
    } else {
        workspace.signals_off.push(asker.user.clone());
    }
    bot.save_workspace_norms(asker.team, &workspace).await?;
    Ok(if on {
        "Saved: a Slack status such as \"Vacationing\" or \"Out sick\" counts as away for you until it expires, and Do Not Disturb as focus time.".to_string()
    } else {
        "Saved: your Slack status and Do Not Disturb no longer count; only your hours, time off and focus time do. `/async hours signals on` brings it back.".to_string()
    })
}

/// `/async norms away-words add|remove …`: the words of a Slack status that mean away.
async fn away_words(
    bot: &Bot,
    asker: &Asker<'_>,
    add: bool,
    words: &[String],
) -> Result<String, HandleError> {
    let mut workspace = bot.workspace_norms(asker.team)?;
    for word in words {
        let word = word.trim().to_lowercase();
        let shipped = crate::hours::signals::DEFAULT_AWAY_WORDS.contains(&word.as_str());
        workspace.added_away_words.retain(|w| *w != word);
        workspace.removed_away_words.retain(|w| *w != word);
        match (add, shipped) {
            (true, false) => workspace.added_away_words.push(word),
            (false, true) => workspace.removed_away_words.push(word),
            _ => {}
        }
    }
    bot.save_workspace_norms(asker.team, &workspace).await?;
    Ok(format!(
        "Saved. A Slack status with one of these words counts as away: {}.",
        workspace.away_words().join(", ")
    ))
}

async fn keywords(
    bot: &Bot,
    asker: &Asker<'_>,
    add: bool,
    words: &[String],
) -> Result<String, HandleError> {
    let mut workspace: WorkspaceNorms = bot.workspace_norms(asker.team)?;
    let changed = if add {
        workspace.add_words(words)
    } else {
        workspace.remove_words(words)
    };
    // Adding a phrase again forgets its "Not a demand" marks: a muted phrase nudges again.
    let restored = if add {
        bot.restore_phrases(asker.team, words)?
    } else {
        Vec::new()
    };
    let restored_text = restored
        .iter()
        .map(|w| format!("`{}`", escape(w)))
        .collect::<Vec<_>>()
        .join(", ");
    if changed.is_empty() {
        if !restored.is_empty() {
            // Flushes the forgotten marks to disk before the answer.
            bot.save_workspace_norms(asker.team, &workspace).await?;
            return Ok(format!(
                "Saved: {restored_text} nudges again; its “Not a demand” marks are forgotten."
            ));
        }
        return Ok(if add {
            "Those words are already in the list; nothing changed.".to_string()
        } else {
            "None of those words is in the list; nothing changed.".to_string()
        });
    }
    if let Err(e) = workspace.lexicon() {
        return Ok(format!("Nothing changed: {}", escape(&e.to_string())));
    }
    bot.save_workspace_norms(asker.team, &workspace).await?;
    let listed: Vec<String> = changed.iter().map(|w| format!("`{}`", escape(w))).collect();
    let mut text = format!(
        "Saved: {} {} the workspace's urgency words.",
        listed.join(", "),
        if add { "added to" } else { "removed from" }
    );
    if !restored.is_empty() {
        text.push_str(&format!(
            " {restored_text} nudges again; its “Not a demand” marks are forgotten."
        ));
    }
    Ok(text)
}

/// `/async stats [#channel] [7d|30d]`: figures per channel, never per person.
pub(crate) fn stats(
    bot: &Bot,
    asker: &Asker<'_>,
    channel: Option<&ChannelRef>,
    period: StatsPeriod,
) -> Result<String, HandleError> {
    let only = match channel.map(resolve_channel).transpose() {
        Ok(only) => only,
        Err(problem) => return Ok(problem),
    };
    let records = bot.finding_records(asker.team)?;
    let report = summarise(&records, only.as_ref(), bot.clock.now(), period.days());
    let mut text = report_text(&report);
    // Marks are counted per phrase for the whole workspace, not per channel or period.
    let marks = feedback::report_text(&bot.phrase_feedback(asker.team)?);
    if !marks.is_empty() {
        text.push_str("\n\n");
        text.push_str(&marks);
    }
    Ok(text)
}

fn resolve_channel(target: &ChannelRef) -> Result<ChannelId, String> {
    match target {
        ChannelRef::Id { id, .. } => Ok(id.clone()),
        ChannelRef::Unresolved(name) => Err(format!(
            "I cannot look up `#{}` by name; pick the channel from the list as you type, so Slack sends a link to it.",
            escape(name)
        )),
    }
}

fn nudges_text(norms: &ChannelNorms) -> String {
    if !norms.nudges {
        return "off".to_string();
    }
    format!("on, {}", action_text(&norms.action))
}

fn action_text(action: &NudgeAction) -> String {
    match action {
        NudgeAction::Ephemeral => "as a private note to the sender".to_string(),
        NudgeAction::Reaction { emoji } => format!("as a :{emoji}: reaction on the message"),
        NudgeAction::ThreadReply => "as a reply in the message's thread".to_string(),
    }
}

//! The urgency rules and the nudge they lead to. Each rule is a small pure function from one
//! scanned message and its channel's context to at most one [`Finding`]; [`classify`] runs
//! them all, and [`nudge_text`] turns a message's findings into the one private note the
//! sender sees. Nothing here reads the clock, the store or the network: whether a mentioned
//! person is outside their hours is decided by the caller and passed in.

use std::fmt::{self, Write as _};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, UserId};
use crate::norms::judge::Judged;
use crate::norms::words::{BroadcastSet, Scanned};

/// Which rule flagged a message. The snake_case names are stored with every finding and
/// shown in reports, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// Urgency words ("asap", "urgent", …) in a channel that is not designated urgent.
    UrgencyWords,
    /// `@here`, `@channel` or `@everyone` in a channel that is not designated urgent.
    Broadcast,
    /// Urgency words or emphasis together with a mention of someone outside their hours now.
    UrgentPingOffHours,
    /// Three or more `!` in a row in a channel that is not designated urgent.
    Emphasis,
}

impl RuleId {
    /// Every rule, in the order [`classify`] reports them.
    pub(crate) const ALL: [RuleId; 4] = [
        RuleId::UrgencyWords,
        RuleId::Broadcast,
        RuleId::UrgentPingOffHours,
        RuleId::Emphasis,
    ];

    /// The stable name, as serialised.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RuleId::UrgencyWords => "urgency_words",
            RuleId::Broadcast => "broadcast",
            RuleId::UrgentPingOffHours => "urgent_ping_off_hours",
            RuleId::Emphasis => "emphasis",
        }
    }

    /// The name a person reads, in nudges and reports.
    pub(crate) fn label(self) -> &'static str {
        match self {
            RuleId::UrgencyWords => "urgency words",
            RuleId::Broadcast => "broadcast",
            RuleId::UrgentPingOffHours => "urgent ping outside hours",
            RuleId::Emphasis => "emphasis",
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule's verdict on one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: RuleId,
    /// A sentence a person can read, saying what was found and why it counts.
    pub(crate) reason: String,
    /// What set the rule off, as the sender typed it (`ASAP`, `@here`, `!!!`).
    pub(crate) matched: Option<String>,
}

/// What the rules need to know about the channel and the people mentioned.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelContext<'a> {
    /// The channel is designated urgent (e.g. #incidents): nothing is flagged there.
    pub is_urgent_channel: bool,
    /// The mentioned users who are outside their working hours, away or in focus time now,
    /// as decided by the caller from the message's mentions and the current instant.
    pub off_hours_mentions: &'a [UserId],
}

type Rule = fn(BroadcastSet, &Judged, &ChannelContext<'_>) -> Option<Finding>;

const RULES: [Rule; 4] = [urgency_words, broadcast, urgent_ping_off_hours, emphasis];

/// Runs every rule over a scanned message, in [`RuleId::ALL`] order. In a channel designated
/// urgent the answer is always empty. The urgency words and `!!!` count only where
/// [`judge`](crate::norms::judge) reads them as a demand on others. Allocates only when a
/// rule fires. Reads a live [`Scan`](crate::norms::Scan) or the
/// [`ScanFacts`](crate::norms::words::ScanFacts) kept of one, judged at intake.
pub fn classify<S: Scanned + ?Sized>(scan: &S, context: &ChannelContext<'_>) -> Vec<Finding> {
    if context.is_urgent_channel {
        return Vec::new();
    }
    let judged = scan.judged();
    let broadcasts = scan.broadcasts();
    RULES
        .iter()
        .filter_map(|rule| rule(broadcasts, &judged, context))
        .collect()
}

const NOT_URGENT_CHANNEL: &str = "this channel is not designated for urgent requests";

// Findings are built with `write!` into one `String` each: a message that sets off rules
// should cost little more than one that does not. Writing to a `String` cannot fail.

fn urgency_words(
    _broadcasts: BroadcastSet,
    judged: &Judged,
    _context: &ChannelContext<'_>,
) -> Option<Finding> {
    let demand = judged.words.as_ref()?;
    let mut reason = String::with_capacity(96);
    let _ = write!(
        reason,
        "{} {}, and {NOT_URGENT_CHANNEL}.",
        Quoted(&demand.typed),
        demand.pressure.explain()
    );
    Some(Finding {
        rule: RuleId::UrgencyWords,
        reason,
        matched: Some(demand.typed.clone()),
    })
}

fn broadcast(
    broadcasts: BroadcastSet,
    _judged: &Judged,
    _context: &ChannelContext<'_>,
) -> Option<Finding> {
    let widest = broadcasts.iter().last()?;
    let verb = if broadcasts.iter().count() == 1 {
        "notifies"
    } else {
        "notify"
    };
    let mut reason = String::with_capacity(96);
    write_list(
        &mut reason,
        broadcasts.iter().map(|b| b.as_display()),
        "and",
    );
    let _ = write!(
        reason,
        " {verb} many people at once, and {NOT_URGENT_CHANNEL}."
    );
    Some(Finding {
        rule: RuleId::Broadcast,
        reason,
        matched: Some(widest.as_display().to_string()),
    })
}

fn urgent_ping_off_hours(
    _broadcasts: BroadcastSet,
    judged: &Judged,
    context: &ChannelContext<'_>,
) -> Option<Finding> {
    let off = context.off_hours_mentions;
    let people = off
        .iter()
        .enumerate()
        .filter(|(i, user)| !off[..*i].contains(user))
        .count();
    if people == 0 {
        return None;
    }
    let demand = judged.words.as_ref().or(judged.emphasis.as_ref())?;
    let mut reason = String::with_capacity(96);
    let _ = write!(
        reason,
        "{} {} and comes with a mention of ",
        Quoted(&demand.typed),
        demand.pressure.explain()
    );
    let _ = match people {
        1 => write!(reason, "someone who is"),
        n => write!(reason, "{n} people who are"),
    };
    reason.push_str(" outside their working hours now.");
    Some(Finding {
        rule: RuleId::UrgentPingOffHours,
        reason,
        matched: Some(demand.typed.clone()),
    })
}

fn emphasis(
    _broadcasts: BroadcastSet,
    judged: &Judged,
    _context: &ChannelContext<'_>,
) -> Option<Finding> {
    let demand = judged.emphasis.as_ref()?;
    let mut reason = String::with_capacity(80);
    let _ = write!(
        reason,
        "{} {}, and {NOT_URGENT_CHANNEL}.",
        Quoted(&demand.typed),
        demand.pressure.explain()
    );
    Some(Finding {
        rule: RuleId::Emphasis,
        reason,
        matched: Some(demand.typed.clone()),
    })
}

/// The channel's norms as the nudge states them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NudgeContext {
    /// The reply time the channel expects, if one is set (`/async norms response-time`).
    pub(crate) response_time: Option<Duration>,
    /// Where real emergencies go (`/async norms urgent-channel`).
    pub(crate) urgent_channels: Vec<ChannelId>,
}

/// The one private note to the sender about a message's findings, or `None` when there are
/// none. It names what was found, the escalation path and the channel's reply time, e.g.
/// "Heads-up: “ASAP” and @here reach people who may be off. Real emergencies go to <#C999>;
/// here the expected reply time is 24h." It never judges the sender.
pub(crate) fn nudge_text(findings: &[Finding], norms: &NudgeContext) -> Option<String> {
    if findings.is_empty() {
        return None;
    }
    let has = |rule: RuleId| findings.iter().any(|f| f.rule == rule);
    let matched = |rule: RuleId| {
        findings
            .iter()
            .find(|f| f.rule == rule)
            .and_then(|f| f.matched.as_deref())
    };
    // What the sender typed, quoted, then the broadcast by its name; each named once.
    let typed = [
        RuleId::UrgencyWords,
        RuleId::Emphasis,
        RuleId::UrgentPingOffHours,
    ]
    .into_iter()
    .filter_map(matched)
    .map(quote);
    let broadcast = matched(RuleId::Broadcast).map(str::to_string);
    let mut subject: Vec<String> = Vec::new();
    for part in typed.chain(broadcast) {
        if !subject.contains(&part) {
            subject.push(part);
        }
    }
    if subject.is_empty() {
        subject.push("This message".to_string());
    }
    let one = subject.len() == 1;
    let predicate = if has(RuleId::UrgentPingOffHours) {
        if one {
            "reaches someone who is outside their working hours now"
        } else {
            "reach someone who is outside their working hours now"
        }
    } else if has(RuleId::Broadcast) {
        if one {
            "reaches people who may be off"
        } else {
            "reach people who may be off"
        }
    } else if one {
        "makes this read as urgent"
    } else {
        "make this read as urgent"
    };
    let mut note = format!("Heads-up: {} {predicate}.", and_list(&subject));
    let channels: Vec<String> = norms
        .urgent_channels
        .iter()
        .map(|c| format!("<#{c}>"))
        .collect();
    let reply_time = norms.response_time.map(format_reply_time);
    match (channels.is_empty(), reply_time) {
        (false, Some(time)) => note.push_str(&format!(
            " Real emergencies go to {}; here the expected reply time is {time}.",
            or_list(&channels)
        )),
        (false, None) => note.push_str(&format!(" Real emergencies go to {}.", or_list(&channels))),
        (true, Some(time)) => note.push_str(&format!(" Here the expected reply time is {time}.")),
        (true, None) => note.push_str(" If it can wait, people will answer in their own hours."),
    }
    Some(note)
}

/// `24h`, `90m` → `1h 30m`, `2d` stays `48h`: the way people set it with `/async norms
/// response-time`.
pub(crate) fn format_reply_time(time: Duration) -> String {
    let minutes = time.as_secs().div_ceil(60);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// Text shown in typographic quotes, as the sender typed it.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "“{}”", self.0)
    }
}

fn quote(text: &str) -> String {
    Quoted(text).to_string()
}

/// Writes `a`, `a and b`, `a, b and c` (with `or` in place of `and` if asked).
fn write_list<T: fmt::Display>(out: &mut String, items: impl Iterator<Item = T>, last: &str) {
    let mut items = items.peekable();
    let mut first = true;
    while let Some(item) = items.next() {
        if !first {
            out.push_str(if items.peek().is_some() { ", " } else { " " });
            if items.peek().is_none() {
                out.push_str(last);
                out.push(' ');
            }
        }
        let _ = write!(out, "{item}");
        first = false;
    }
}

fn and_list(items: &[String]) -> String {
    let mut out = String::new();
    write_list(&mut out, items.iter(), "and");
    out
}

fn or_list(items: &[String]) -> String {
    let mut out = String::new();
    write_list(&mut out, items.iter(), "or");
    out
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;
    use crate::norms::words::{self, UrgencyLexicon};

    use RuleId::{Broadcast as B, Emphasis as E, UrgencyWords as W, UrgentPingOffHours as P};

    /// The shipped list plus the shipped German and Spanish words, as a workspace that
    /// speaks all three would have it.
    static TRILINGUAL: LazyLock<UrgencyLexicon> = LazyLock::new(|| {
        let added = words::GERMAN.iter().chain(words::SPANISH);
        UrgencyLexicon::customised(added, [] as [&str; 0]).unwrap()
    });

    fn rules_for(text: &str, context: &ChannelContext<'_>) -> Vec<RuleId> {
        let lexicon = &*TRILINGUAL;
        classify(&lexicon.scan(text), context)
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    /// Messages and the rules they must set off in an ordinary channel. `true` in the middle
    /// column means the caller reports user U1 as outside their hours.
    const TABLE: &[(&str, bool, &[RuleId])] = &[
        // Plain urgency words, in any case and next to punctuation.
        ("Can you look at this ASAP?", false, &[W]),
        ("URGENT: prod is down", false, &[W]),
        ("this is urgent", false, &[W]),
        ("Need it right now", false, &[W]),
        ("Right Now", false, &[]),
        ("Please respond immediately", false, &[W]),
        ("We have an emergency in the warehouse", false, &[W]),
        ("send it by EOD", false, &[W]),
        ("(urgent) review needed", false, &[W]),
        ("urgent: sign the form", false, &[W]),
        ("ASAP!", false, &[W]),
        ("asap.", false, &[W]),
        ("\"asap\"", false, &[]),
        ("uRgEnT", false, &[W]),
        ("*urgent* please", false, &[W]),
        ("_asap_ please", false, &[W]),
        ("as soon as possible please", false, &[W]),
        ("A.S.A.P.", false, &[W]),
        ("time-sensitive request", false, &[W]),
        ("Time Sensitive: contract", false, &[W]),
        ("Drop everything and look", false, &[W]),
        ("&lt;urgent&gt; in the subject", false, &[W]),
        ("tea &amp;asap", false, &[W]),
        ("a &gt; in the middle is no quote, urgent", false, &[W]),
        // A name or a description is no demand, whatever its case.
        ("the ASAP project wiki", false, &[]),
        // Emoji around words.
        ("🚨urgent🚨", false, &[W]),
        ("urgent :fire:", false, &[W]),
        ("smile :smile: no rush 🙂", false, &[]),
        // Emphasis.
        ("help!!!", false, &[E]),
        ("deploy now!!!!", false, &[E]),
        ("urgent!!!", false, &[W, E]),
        ("Thanks! Great work!!", false, &[]),
        // Broadcasts.
        ("<!here> standup notes are posted", false, &[B]),
        ("<!channel> please read", false, &[B]),
        ("<!everyone> office closed friday", false, &[B]),
        ("<!here|here> quick question", false, &[B]),
        ("<!here> urgent: need a reviewer", false, &[W, B]),
        ("&gt; <!channel> quoted, but it still notifies", false, &[B]),
        ("Hi <!subteam^S1|@oncall> when you can", false, &[]),
        // Mentions of someone outside their hours.
        ("<@U1> asap please", true, &[W, P]),
        ("<@U1|ann> can you check tomorrow?", true, &[]),
        ("<@U1> review this now!!!", true, &[P, E]),
        ("<@U1> !!!", true, &[]),
        ("<!here> <@U1> emergency", true, &[W, B, P]),
        ("<@U1> urgent", false, &[W]),
        // Other languages.
        ("Das ist dringend", false, &[W]),
        ("Bitte SOFORT prüfen", false, &[W]),
        ("Eilt!", false, &[W]),
        ("So schnell wie möglich bitte", false, &[W]),
        ("SO SCHNELL WIE MÖGLICH", false, &[W]),
        ("NOTFALL im Lager", false, &[W]),
        ("Es urgente, por favor", false, &[W]),
        ("URGENTE", false, &[W]),
        ("Respóndeme cuanto antes", false, &[W]),
        ("Hazlo inmediatamente", false, &[W]),
        ("Erledigt, danke", false, &[]),
        ("Lo revisamos mañana", false, &[]),
        ("絵文字 🙂 と 日本語", false, &[]),
        // False-positive traps: other words containing a listed one.
        ("urgently needed feature request closed", false, &[]),
        ("asaparagus for dinner", false, &[]),
        ("nonurgent cleanup", false, &[]),
        ("the emergent behaviour", false, &[]),
        ("Theodore and geodata", false, &[]),
        ("rightnow", false, &[]),
        ("urgent2 and 2urgent", false, &[]),
        ("R&amp;D update", false, &[]),
        ("verteilt, aber dringend", false, &[W]),
        ("urgently, and this one is urgent", false, &[W]),
        // Code, URLs, quotes and channel names are not the sender's words.
        ("rename `emergency_contact` please", false, &[]),
        ("run `urgent-fix.sh` later", false, &[]),
        ("```\nURGENT: this is a log line\n```", false, &[]),
        (
            "logs:\n```ERROR asap handler failed!!!```\nanyone seen this?",
            false,
            &[],
        ),
        ("see <https://example.com/asap|link>", false, &[]),
        ("see <https://example.com/urgent>", false, &[]),
        ("<http://asap.example.com|asap.example.com>", false, &[]),
        ("see <https://example.com/x|the urgent doc>", false, &[]),
        ("&gt; urgent, they said\nI'll look tomorrow", false, &[]),
        ("> asap from the customer\nnoted", false, &[]),
        (
            "fyi\n&gt;&gt;&gt; quoted block\nurgent\nstill quoted",
            false,
            &[],
        ),
        ("&gt; urgent, they said\nand it is urgent", false, &[W]),
        ("<#C1|urgent-requests> is where those go", false, &[]),
        ("I'm not in a hurry", false, &[]),
        ("", false, &[]),
        // From the real payloads: polite, not urgent ("as soon as you can" is not listed).
        (
            "Please fix JIRA-1234, SCM-567 and BUG-169 as soon as you can!",
            false,
            &[],
        ),
        // A display name in a mention is not the sender's words.
        ("<@U1|urgent-ann> can you check?", false, &[]),
        ("<!channel> and <!here> together", false, &[B]),
        (
            "urgent, see <https://x.example|link> and `asap`",
            false,
            &[W],
        ),
        // "right now" describing the present, the writer's own promise or situation.
        ("right now I am reviewing it", false, &[]),
        ("I'll fix it asap", false, &[]),
        ("ich mache das sofort", false, &[]),
        ("lo hago cuanto antes", false, &[]),
        ("sorry, had a work emergency", false, &[]),
    ];

    #[test]
    fn the_message_table_sets_off_exactly_the_expected_rules() {
        let off = [UserId::from("U1")];
        assert!(TABLE.len() >= 60);
        let mut wrong = Vec::new();
        for (text, off_hours, expected) in TABLE {
            let context = ChannelContext {
                is_urgent_channel: false,
                off_hours_mentions: if *off_hours { &off } else { &[] },
            };
            let got = rules_for(text, &context);
            if &got != expected {
                wrong.push(format!("{text:?}: got {got:?}, expected {expected:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn nothing_is_flagged_in_an_urgent_channel() {
        let off = [UserId::from("U1")];
        let context = ChannelContext {
            is_urgent_channel: true,
            off_hours_mentions: &off,
        };
        for (text, _, _) in TABLE {
            assert_eq!(rules_for(text, &context), vec![], "{text:?}");
        }
    }

    #[test]
    fn rule_ids_have_stable_snake_case_names() {
        for rule in RuleId::ALL {
            let json = serde_json::to_string(&rule).unwrap();
            assert_eq!(json, format!("\"{}\"", rule.as_str()));
            assert_eq!(serde_json::from_str::<RuleId>(&json).unwrap(), rule);
        }
        assert_eq!(
            RuleId::UrgentPingOffHours.to_string(),
            "urgent_ping_off_hours"
        );
    }

    #[test]
    fn findings_say_what_matched_in_a_sentence() {
        let lexicon = UrgencyLexicon::with_defaults().unwrap();
        let off = [UserId::from("U1"), UserId::from("U2"), UserId::from("U1")];
        let context = ChannelContext {
            is_urgent_channel: false,
            off_hours_mentions: &off,
        };
        let scan = lexicon.scan("<!here> <@U1> <@U2> please merge ASAP, it's urgent!!!");
        let findings = classify(&scan, &context);
        let by_rule = |rule| findings.iter().find(|f| f.rule == rule).unwrap();
        assert_eq!(by_rule(W).matched.as_deref(), Some("ASAP"));
        assert_eq!(
            by_rule(W).reason,
            "“ASAP” asks others to hurry, and this channel is not designated for urgent requests."
        );
        assert_eq!(by_rule(B).matched.as_deref(), Some("@here"));
        assert_eq!(
            by_rule(P).reason,
            "“ASAP” asks others to hurry and comes with a mention of 2 people who are outside their working hours now."
        );
        assert_eq!(by_rule(E).matched.as_deref(), Some("!!!"));
        assert_eq!(
            by_rule(E).reason,
            "“!!!” presses a request on others, and this channel is not designated for urgent requests."
        );
        for finding in &findings {
            assert!(finding.reason.ends_with('.'), "{}", finding.reason);
        }
    }

    fn finding(rule: RuleId, matched: &str) -> Finding {
        Finding {
            rule,
            reason: String::new(),
            matched: Some(matched.to_string()),
        }
    }

    #[test]
    fn the_nudge_names_what_was_found_the_escalation_path_and_the_reply_time() {
        let norms = NudgeContext {
            response_time: Some(Duration::from_secs(24 * 3600)),
            urgent_channels: vec![ChannelId::from("C999")],
        };
        let findings = [finding(W, "ASAP"), finding(B, "@here")];
        assert_eq!(
            nudge_text(&findings, &norms).unwrap(),
            "Heads-up: “ASAP” and @here reach people who may be off. Real emergencies go to <#C999>; here the expected reply time is 24h."
        );
    }

    #[test]
    fn the_nudge_reads_well_for_every_combination() {
        let both = NudgeContext {
            response_time: Some(Duration::from_secs(90 * 60)),
            urgent_channels: vec![ChannelId::from("C1"), ChannelId::from("C2")],
        };
        let none = NudgeContext::default();
        let cases: [(&[Finding], &NudgeContext, &str); 4] = [
            (
                &[finding(W, "urgent")],
                &both,
                "Heads-up: “urgent” makes this read as urgent. Real emergencies go to <#C1> or <#C2>; here the expected reply time is 1h 30m.",
            ),
            (
                &[finding(W, "asap"), finding(P, "asap")],
                &none,
                "Heads-up: “asap” reaches someone who is outside their working hours now. If it can wait, people will answer in their own hours.",
            ),
            (
                &[finding(E, "!!!"), finding(B, "@channel")],
                &NudgeContext {
                    response_time: Some(Duration::from_secs(4 * 3600)),
                    urgent_channels: vec![],
                },
                "Heads-up: “!!!” and @channel reach people who may be off. Here the expected reply time is 4h.",
            ),
            (
                &[finding(B, "@everyone")],
                &NudgeContext {
                    response_time: None,
                    urgent_channels: vec![ChannelId::from("C7")],
                },
                "Heads-up: @everyone reaches people who may be off. Real emergencies go to <#C7>.",
            ),
        ];
        for (findings, norms, expected) in cases {
            assert_eq!(nudge_text(findings, norms).unwrap(), expected);
        }
    }

    #[test]
    fn lists_read_as_sentences() {
        let items = |n: usize| (1..=n).map(|i| i.to_string()).collect::<Vec<_>>();
        assert_eq!(and_list(&items(0)), "");
        assert_eq!(and_list(&items(1)), "1");
        assert_eq!(and_list(&items(2)), "1 and 2");
        assert_eq!(or_list(&items(3)), "1, 2 or 3");
    }

    #[test]
    fn no_findings_means_no_nudge() {
        assert_eq!(nudge_text(&[], &NudgeContext::default()), None);
    }

    #[test]
    fn reply_times_are_written_as_people_set_them() {
        let cases = [
            (30 * 60, "30m"),
            (3600, "1h"),
            (24 * 3600, "24h"),
            (90 * 60, "1h 30m"),
            (0, "0m"),
        ];
        for (secs, expected) in cases {
            assert_eq!(format_reply_time(Duration::from_secs(secs)), expected);
        }
    }
}

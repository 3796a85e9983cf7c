//! The urgency judgment: whether a message that holds an urgency word or `!!!` actually puts
//! urgency on other people. A cue word alone says little: in real conversations "right now"
//! mostly describes the present, "ASAP" is as often the writer's own promise ("I'll fix it
//! asap") as a demand, "emergency" is often the writer's own situation, and "!!!" mostly
//! thanks someone. So each cue is read in its sentence, and counts only when
//!
//! - it is not quoted, negated ("not urgent", "no need to hurry"), questioned ("is this
//!   urgent?") or technical (`urgent_flag`, `non-urgent`); code, block quotes and links never
//!   reach this far (see [`crate::norms::markup`]);
//! - the clause it sits in is not the writer's own commitment or situation ("I'll look at it
//!   asap", "will review soon", "sorry, had an emergency", "ich mache das sofort");
//! - and something in the sentence asks others: a request ("please", "can you", "could
//!   someone"), an imperative ("review this asap"), a need or shared obligation ("we need
//!   this asap", "needs to be fixed today", "we should merge it asap", "let's"), or, for the
//!   strongest words, a declaration ("URGENT: prod is down", "this is urgent") or the word
//!   standing alone ("asap?").
//!
//! Words a workspace adds (`/async norms keywords add`) are judged the same way, as strong
//! urgency words. German and Spanish cues and markers sit in the same tables as English.
//! The judgment is a pure function of the scanned text; the live bot and the audit both
//! call it through [`crate::norms::classify`], and `async-norms eval-urgency` measures it on
//! labelled messages.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use std::fmt;
use std::sync::LazyLock;

use crate::norms::markup::Span;
use crate::norms::words::{Scan, normalise};

/// What a cue word asks of others, when it is a demand; names the reason in a finding.
/// Stored with a journaled message's scan facts, so the names never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Pressure {
    /// "asap", "as soon as possible", "immediately", "sofort", "cuanto antes".
    Hurry,
    /// "urgent", "emergency", "time-sensitive", "dringend", a workspace's own word.
    Urgent,
    /// "EOD", "by tomorrow", "today", "tonight".
    Deadline,
    /// "right now", "soon".
    Now,
    /// `!!!` on a demand.
    Emphasis,
}

impl Pressure {
    /// The reason as a person reads it, after the quoted phrase.
    pub(crate) fn explain(self) -> &'static str {
        match self {
            Pressure::Hurry => "asks others to hurry",
            Pressure::Urgent => "tells others to treat this as urgent",
            Pressure::Deadline => "sets others a short deadline",
            Pressure::Now => "asks others to act at once",
            Pressure::Emphasis => "presses a request on others",
        }
    }
}

/// How strongly a cue word speaks on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    /// Counts when declared ("this is urgent"), as a heading ("URGENT:") or alone ("asap!").
    Strong,
    /// Counts only inside a request, an imperative or a need.
    Weak,
}

/// A cue that, read in its sentence, puts urgency on others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Demand {
    /// The cue word's place in the message text.
    pub(crate) phrase: Span,
    pub(crate) pressure: Pressure,
}

impl Demand {
    /// The phrase as typed.
    pub(crate) fn typed<'a>(&self, text: &'a str) -> &'a str {
        self.phrase.of(text)
    }
}

/// What the judgment found in one message: the first urgency word that is a demand, and the
/// first `!!!` that presses one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Judgment {
    pub(crate) words: Option<Demand>,
    pub(crate) emphasis: Option<Demand>,
}

impl Judgment {
    /// Whether the message puts urgency on others at all.
    #[cfg(test)]
    pub(crate) fn is_demand(&self) -> bool {
        self.words.is_some() || self.emphasis.is_some()
    }
}

/// A demand as the rules read it, without the message: the phrase as typed (unescaped) and
/// the pressure it puts on others. This is what a journaled message keeps of a judgment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct JudgedCue {
    pub(crate) typed: String,
    pub(crate) pressure: Pressure,
}

/// A [`Judgment`] with its phrases taken out of the text.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Judged {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) words: Option<JudgedCue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) emphasis: Option<JudgedCue>,
}

impl Judged {
    /// Whether nothing was a demand.
    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_none() && self.emphasis.is_none()
    }

    /// Judges the scan and keeps each demand's phrase as typed.
    pub(crate) fn of(scan: &Scan<'_>) -> Self {
        let judgment = judge(scan);
        let cue = |demand: Option<Demand>| {
            demand.map(|demand| JudgedCue {
                typed: crate::norms::markup::unescape(demand.typed(scan.text())).into_owned(),
                pressure: demand.pressure,
            })
        };
        Judged {
            words: cue(judgment.words),
            emphasis: cue(judgment.emphasis),
        }
    }
}

/// Judges every cue the scan found. Costs nothing for a message without cues.
pub(crate) fn judge(scan: &Scan<'_>) -> Judgment {
    if scan.word_hits().is_empty() && scan.emphasis_hits().is_empty() {
        return Judgment::default();
    }
    let text = scan.text();
    let last_cue_end = scan
        .word_hits()
        .iter()
        .chain(scan.emphasis_hits())
        .map(|hit| hit.end)
        .max()
        .unwrap_or(0);
    judge_tokens(scan, &tokenize(text, last_cue_end))
}

/// Judges the scan's cues on the message's tokens.
fn judge_tokens(scan: &Scan<'_>, tokens: &[Token]) -> Judgment {
    let text = scan.text();
    let mut judgment = Judgment::default();
    for hit in scan.word_hits() {
        let word = hit.of(text);
        let (pressure, strength) = cue_kind(word);
        if is_demand(text, tokens, *hit, strength, pressure) {
            judgment.words = Some(Demand {
                phrase: *hit,
                pressure,
            });
            break;
        }
    }
    for hit in scan.emphasis_hits() {
        if emphasis_presses(text, tokens, *hit, scan.word_hits(), judgment.words) {
            judgment.emphasis = Some(Demand {
                phrase: *hit,
                pressure: Pressure::Emphasis,
            });
            break;
        }
    }
    judgment
}

/// The cue's pressure and strength, by the shipped word it is; a word a workspace added is
/// read as a strong urgency word.
fn cue_kind(typed: &str) -> (Pressure, Strength) {
    // Most cues are short ASCII: normalised on the stack, as `normalise` would.
    let mut buffer = [0u8; 32];
    let mut len = 0;
    let short_ascii = typed.is_ascii() && typed.len() <= buffer.len();
    if short_ascii {
        for part in typed.split_ascii_whitespace() {
            if len > 0 {
                buffer[len] = b' ';
                len += 1;
            }
            buffer[len..len + part.len()].copy_from_slice(part.as_bytes());
            len += part.len();
        }
        buffer[..len].make_ascii_lowercase();
    }
    let owned;
    let word = match std::str::from_utf8(&buffer[..len]) {
        Ok(word) if short_ascii => word,
        _ => {
            owned = normalise(typed);
            owned.as_str()
        }
    };
    use Pressure::*;
    use Strength::*;
    match word {
        "asap"
        | "a.s.a.p"
        | "as soon as possible"
        | "right away"
        | "so schnell wie möglich"
        | "cuanto antes"
        | "lo antes posible" => (Hurry, Strong),
        "immediately" | "sofort" | "umgehend" | "inmediatamente" | "de inmediato" => (Hurry, Weak),
        "drop everything" => (Urgent, Strong),
        "eod"
        | "eow"
        | "cob"
        | "by end of day"
        | "by the end of the day"
        | "by end of the day"
        | "by tomorrow"
        | "before tomorrow"
        | "by tmr"
        | "before tmr"
        | "by tonight"
        | "today"
        | "tonight"
        | "heute"
        | "hoy" => (Deadline, Weak),
        "right now" | "soon" | "jetzt" | "ahora" | "ahora mismo" => (Now, Weak),
        _ => (Urgent, Strong),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A word: letters, digits and inner apostrophes or dots.
    Word,
    /// `<@U…>` or `<!here>`: someone addressed.
    Mention,
    /// Code, a link, a channel or an emoji: content that is not a word.
    Other,
    /// `,` `:` `(` `)` ` - `: a clause may go on across it.
    Comma,
    /// `.` `!` `;` or a line break: the end of a sentence.
    End,
    /// `?`: the end of a question.
    Question,
    /// An opening quotation mark; the matching close is [`Kind::QuoteClose`].
    QuoteOpen,
    QuoteClose,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    /// The [`WordClass`]es a word belongs to, one bit each, looked up once.
    classes: u32,
    /// A word's first eight bytes, ASCII lower-cased and with `’` read as `'`, and its
    /// length read so: comparing it with a plain word ([`is`]) is then one length and one
    /// integer comparison for any word of up to eight bytes.
    key: u64,
    len: usize,
}

/// Up to eight bytes as one integer, zero-padded.
fn pack(bytes: &[u8]) -> u64 {
    let mut buffer = [0u8; 8];
    let n = bytes.len().min(8);
    buffer[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(buffer)
}

/// The [`Token::key`] and [`Token::len`] of a typed word.
fn key_of(typed: &str) -> (u64, usize) {
    const CURLY: &[u8] = "’".as_bytes();
    let bytes = typed.as_bytes();
    let mut buffer = [0u8; 8];
    let (mut i, mut len) = (0, 0);
    while i < bytes.len() {
        let (byte, skip) = if bytes[i..].starts_with(CURLY) {
            (b'\'', CURLY.len())
        } else {
            (bytes[i].to_ascii_lowercase(), 1)
        };
        if len < 8 {
            buffer[len] = byte;
        }
        len += 1;
        i += skip;
    }
    (u64::from_le_bytes(buffer), len)
}

/// A list of words that play one part in a sentence ("please", "kindly", "bitte": pleas).
/// Each word of a message is looked up once in all of them together ([`classes_of`]), so
/// reading a sentence tests bits rather than comparing strings.
struct WordClass {
    bit: u32,
    words: &'static [&'static str],
}

/// Every class, for building the lookup table.
static CLASSES: [&WordClass; 21] = [
    &ADDRESSEES,
    &CLAUSE_BREAKS,
    &CLAUSE_JOINS,
    &COPULAS,
    &DEGREE,
    &GRATITUDE,
    &IMPERATIVES,
    &IM_STATES,
    &MODALS,
    &NEGATIONS,
    &OPENERS,
    &OWN,
    &OWN_AFTER_I,
    &OWN_AFTER_WE,
    &PLEASE,
    &POINTERS,
    &REQUEST_NOUNS,
    &TECHNICAL_NOUNS,
    &TIME_DESCRIPTIONS,
    &WANTED,
    &WANTED_DONE,
];

/// Lower-case word → the bits of the classes it is in.
/// A fixed, fast hash: the keys are the project's own words, not anyone's input.
static CLASS_TABLE: LazyLock<HashMap<&'static [u8], u32, FixedState>> = LazyLock::new(|| {
    let mut table: HashMap<&'static [u8], u32, FixedState> =
        HashMap::with_hasher(FixedState::default());
    for class in CLASSES {
        for word in class.words {
            *table.entry(word.as_bytes()).or_default() |= class.bit;
        }
    }
    table
});

/// The longest word in any class, in bytes; longer words are in none.
const LONGEST_CLASS_WORD: usize = 16;

/// The classes of one typed word: ASCII case and the typographic apostrophe do not matter.
fn classes_of(typed: &str) -> u32 {
    if typed.len() > LONGEST_CLASS_WORD + 4 {
        return 0;
    }
    let table = &*CLASS_TABLE;
    if typed.is_ascii() {
        let mut buffer = [0u8; LONGEST_CLASS_WORD + 4];
        let lowered = &mut buffer[..typed.len()];
        lowered.copy_from_slice(typed.as_bytes());
        lowered.make_ascii_lowercase();
        return table.get(&*lowered).copied().unwrap_or(0);
    }
    let lowered = typed.replace('’', "'").to_lowercase();
    table.get(lowered.as_bytes()).copied().unwrap_or(0)
}

fn in_class(token: &Token, class: &WordClass) -> bool {
    token.classes & class.bit != 0
}

/// Splits a message into words and punctuation that matters for reading a sentence. Code
/// spans and `<…>` markup become single tokens; nothing is allocated but the list.
///
/// Reading a cue needs its sentence and what came before it, so the list ends with the
/// sentence holding byte `through` (and the run of `!`/`?` that closes it), unless a
/// quotation mark further on might close a quote the cue is in.
fn tokenize(text: &str, through: usize) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(text.len() / 4);
    let mut straight_quote_open = false;
    let mut i = 0;
    let push = |tokens: &mut Vec<Token>, kind, start, end| {
        tokens.push(Token {
            kind,
            start,
            end,
            classes: 0,
            key: 0,
            len: 0,
        })
    };
    // A quotation mark further on might close a quote the cue is in.
    let through = text
        .rfind(['"', '”', '’', '»'])
        .map_or(through, |last_quote| through.max(last_quote + 1));
    while i < bytes.len() {
        if i >= through && sentence_closed(&tokens, &text[i..]) {
            break;
        }
        let c = char_at(text, i).unwrap_or(' ');
        let len = c.len_utf8();
        if c.is_alphanumeric() {
            let start = i;
            i += len;
            while i < bytes.len() {
                let next = char_at(text, i).unwrap_or(' ');
                let joins = matches!(next, '\'' | '’' | '.' | '-')
                    && char_at(text, i + next.len_utf8()).is_some_and(char::is_alphanumeric);
                if next.is_alphanumeric() || joins {
                    i += next.len_utf8();
                } else {
                    break;
                }
            }
            let typed = &text[start..i];
            let (key, len) = key_of(typed);
            tokens.push(Token {
                kind: Kind::Word,
                start,
                end: i,
                classes: classes_of(typed),
                key,
                len,
            });
            continue;
        }
        match c {
            '<' => {
                let end = text[i..].find('>').map_or(bytes.len(), |e| i + e + 1);
                let kind = match bytes.get(i + 1) {
                    Some(b'@') | Some(b'!') => Kind::Mention,
                    _ => Kind::Other,
                };
                push(&mut tokens, kind, i, end);
                i = end;
                continue;
            }
            '`' => {
                let fence = text[i..].starts_with("```");
                let skip = if fence { 3 } else { 1 };
                let close = if fence { "```" } else { "`" };
                let end = text[i + skip..]
                    .find(close)
                    .map_or(bytes.len(), |e| i + skip + e + skip);
                push(&mut tokens, Kind::Other, i, end);
                i = end;
                continue;
            }
            ':' if bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphabetic()) => {
                // An emoji code such as `:fire:` is one token of content.
                let end = text[i + 1..]
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || matches!(ch, '_' | '+' | '-')))
                    .map_or(bytes.len(), |e| i + 1 + e);
                if bytes.get(end) == Some(&b':') {
                    push(&mut tokens, Kind::Other, i, end + 1);
                    i = end + 1;
                    continue;
                }
                push(&mut tokens, Kind::Comma, i, i + 1);
            }
            '&' => {
                // Slack's escapes: `&gt;` and `&lt;` read as punctuation, `&amp;` as "and".
                if let Some(entity) = crate::norms::markup::escape_at(&text[i..]) {
                    push(&mut tokens, Kind::Comma, i, i + entity.len());
                    i += entity.len();
                    continue;
                }
            }
            '.' => {
                let ends = text[i + 1..].chars().next().is_none_or(char::is_whitespace);
                if ends {
                    push(&mut tokens, Kind::End, i, i + 1);
                }
            }
            '!' | ';' | '\n' => push(&mut tokens, Kind::End, i, i + len),
            '?' => push(&mut tokens, Kind::Question, i, i + 1),
            ',' | ':' | '(' | ')' | '[' | ']' | '–' | '—' => {
                push(&mut tokens, Kind::Comma, i, i + len)
            }
            '-' if text[i + 1..].starts_with(|ch: char| ch.is_whitespace() || ch == '-') => {
                push(&mut tokens, Kind::Comma, i, i + 1)
            }
            '“' | '‘' | '«' | '„' => push(&mut tokens, Kind::QuoteOpen, i, i + len),
            '”' | '’' | '»' => push(&mut tokens, Kind::QuoteClose, i, i + len),
            '"' => {
                let kind = if straight_quote_open {
                    Kind::QuoteClose
                } else {
                    Kind::QuoteOpen
                };
                straight_quote_open = !straight_quote_open;
                push(&mut tokens, kind, i, i + 1);
            }
            c if !c.is_whitespace() && !c.is_ascii() => {
                // An emoji or other symbol: content, not punctuation.
                push(&mut tokens, Kind::Other, i, i + len)
            }
            _ => {}
        }
        i += len;
    }
    tokens
}

/// The character at byte `i`, which starts one; without decoding when it is ASCII.
#[inline]
fn char_at(text: &str, i: usize) -> Option<char> {
    match text.as_bytes().get(i) {
        Some(&byte) if byte.is_ascii() => Some(char::from(byte)),
        Some(_) => text[i..].chars().next(),
        None => None,
    }
}

/// Whether the tokens so far end a sentence that `rest` does not continue with a further
/// end mark of its closing run.
fn sentence_closed(tokens: &[Token], rest: &str) -> bool {
    tokens
        .last()
        .is_some_and(|t| matches!(t.kind, Kind::End | Kind::Question))
        && !rest
            .trim_start_matches([' ', '\t'])
            .starts_with(['!', '?', '.', ';', '\n'])
}

/// One token's text compared with a lower-case word; ASCII case and the typographic
/// apostrophe do not matter.
#[inline]
fn is(text: &str, token: &Token, word: &str) -> bool {
    if token.kind != Kind::Word {
        return false;
    }
    if token.len != word.len() {
        return false;
    }
    if word.len() <= 8 {
        return token.key == pack(word.as_bytes());
    }
    let typed = &text[token.start..token.end];
    if typed.len() == word.len() {
        return typed.eq_ignore_ascii_case(word);
    }
    // "I’ll" is two bytes longer than "i'll" for each typographic apostrophe.
    typed.replace('’', "'").eq_ignore_ascii_case(word)
}

fn is_any(text: &str, token: &Token, words: &[&str]) -> bool {
    words.iter().any(|w| is(text, token, w))
}

/// Words that close a clause so that what follows does not ask for what came before: a
/// purpose, a reason, a contrast or a condition of its own.
static CLAUSE_BREAKS: WordClass = WordClass {
    bit: 1 << 1,
    words: &[
        "so", "because", "since", "but", "though", "although", "while", "whereas", "until", "once",
        "when", "which", "that's", "weil", "aber", "pero", "porque",
    ],
};
/// Words that join clauses that still share their request: "please review and merge asap".
static CLAUSE_JOINS: WordClass = WordClass {
    bit: 1 << 2,
    words: &["and", "then", "und", "y"],
};

#[rustfmt::skip]
static NEGATIONS: WordClass = WordClass {
    bit: 1 << 9,
    words: &[
    "not", "no", "never", "nothing", "without", "nobody", "none", "don't", "dont", "doesn't",
    "doesnt", "isn't", "isnt", "aren't", "wasn't", "won't", "wont", "can't", "cant", "cannot",
    "didn't", "didnt", "shouldn't", "needn't", "haven't", "hasn't", "nicht", "kein", "keine",
    "nie", "nunca", "tampoco", "sin",
],
};

/// Requests aimed at others wherever they stand in the clause.
static PLEASE: WordClass = WordClass {
    bit: 1 << 14,
    words: &[
        "please", "pls", "plz", "plse", "pl0x", "kindly", "bitte", "porfa", "porfavor", "favor",
    ],
};

/// After "please": pointing the reader at something rather than asking for it.
static POINTERS: WordClass = WordClass {
    bit: 1 << 15,
    words: &["note", "see", "find", "be", "refer", "ignore"],
};

/// Verbs that open an imperative ("review this asap", "register asap").
#[rustfmt::skip]
static IMPERATIVES: WordClass = WordClass {
    bit: 1 << 6,
    words: &[
    "review", "merge", "fix", "check", "look", "send", "register", "respond", "reply", "call",
    "come", "join", "update", "approve", "help", "sign", "submit", "answer", "get", "make", "add",
    "push", "deploy", "restart", "ping", "tell", "give", "share", "provide", "finish", "complete",
    "read", "fill", "rebase", "test", "confirm", "escalate", "pay", "book", "contact", "revert",
    "rollback", "release", "publish", "install", "upgrade", "remove", "stop", "start", "handle",
    "sort", "prioritize", "prioritise", "act", "move", "email", "text", "dm", "drop", "grab",
    "bring", "hurry", "prüf", "prüfe", "prüfen", "schau", "schick", "mach", "ruf", "antworte",
    "hilf", "komm", "melde", "hazlo", "haz", "responde", "respóndeme", "revisa", "envía", "envia",
    "manda", "arregla", "mira", "llama", "ven", "ayuda", "ayúdame", "contesta",
],
};

/// Words before an imperative that do not make it any less one.
#[rustfmt::skip]
static OPENERS: WordClass = WordClass {
    bit: 1 << 10,
    words: &[
    "hey", "hi", "hello", "ok", "okay", "guys", "all", "folks", "team", "everyone", "everybody",
    "y'all", "also", "just", "quick", "now", "then", "and", "so", "pls", "please", "kindly",
    "bitte", "hola", "hallo", "oh", "btw", "fyi", "again", "really", "urgently",
],
};

/// Who a modal request can be aimed at: "can you", "could someone", "can we".
#[rustfmt::skip]
static ADDRESSEES: WordClass = WordClass {
    bit: 1 << 0,
    words: &[
    "you", "u", "ya", "someone", "somebody", "anyone", "anybody", "y'all", "everyone", "everybody",
    "we", "one", "folks", "guys", "all",
],
};
#[rustfmt::skip]
static MODALS: WordClass = WordClass {
    bit: 1 << 8,
    words: &[
    "can", "could", "would", "will", "may", "might", "kannst", "könnt", "könntest", "können",
    "puedes", "podrías", "pueden",
],
};

/// After "I …": the writer's own commitment, ability or situation.
static OWN_AFTER_I: WordClass = WordClass {
    bit: 1 << 12,
    words: &[
        "will", "shall", "am", "was", "can", "could", "plan", "hope", "try", "tried", "might",
        "may", "promise", "intend", "have", "had", "just", "should", "must", "got", "gotta",
        "also", "still", "to", "already", "would", "want", "need", "wanna",
    ],
};
/// Words that by themselves make a clause the writer's own.
#[rustfmt::skip]
static OWN: WordClass = WordClass {
    bit: 1 << 11,
    words: &[
    "i'll", "ill", "i'm", "i've", "ive", "i'd", "id", "we'll", "we're", "we've", "hope",
    "hopefully", "hoping", "trying", "sorry", "my", "ich", "yo", "hago", "haré", "voy", "mache",
    "erledige", "kümmere", "reviso", "miro", "arreglo", "me", "mich",
],
};
/// After "im" (a fast "I'm"): the writer's state.
static IM_STATES: WordClass = WordClass {
    bit: 1 << 7,
    words: &[
        "on", "out", "off", "back", "away", "busy", "sick", "late", "here", "done", "gonna",
        "going", "not", "in", "at", "about", "just", "still", "afraid", "sorry",
    ],
};
/// After "we": a shared plan or state, not a demand.
static OWN_AFTER_WE: WordClass = WordClass {
    bit: 1 << 13,
    words: &[
        "will", "are", "were", "plan", "hope", "try", "can", "could", "just", "already", "might",
        "may", "would", "had",
    ],
};
/// After "I need", "I would like to", "I want": an outcome asked of others.
static WANTED: WordClass = WordClass {
    bit: 1 << 19,
    words: &[
        "you", "u", "someone", "somebody", "anyone", "anybody", "everyone", "it", "this", "that",
        "these", "those", "them", "help", "your", "a", "an", "the", "some", "an", "eyes",
    ],
};
/// After "… to": verbs of having something done by others ("I'd like to have it merged").
static WANTED_DONE: WordClass = WordClass {
    bit: 1 << 20,
    words: &["have", "get", "see", "ask", "request"],
};
/// Nouns that "urgent" can describe as a request for attention.
#[rustfmt::skip]
static REQUEST_NOUNS: WordClass = WordClass {
    bit: 1 << 16,
    words: &[
    "request", "help", "issue", "fix", "review", "question", "matter", "attention", "problem",
    "support", "action", "ask", "bug", "task", "need", "favor", "favour", "item", "call",
    "meeting", "feedback", "approval", "hilfe", "anfrage", "ayuda",
],
};
/// Technical nouns that an urgency word names a feature of ("the urgent flag").
#[rustfmt::skip]
static TECHNICAL_NOUNS: WordClass = WordClass {
    bit: 1 << 17,
    words: &[
    "flag", "field", "bit", "param", "parameter", "label", "queue", "mode", "option", "column",
    "property", "attribute", "value", "tag", "level", "priority", "setting", "header", "type",
    "status", "state", "pointer", "channel",
],
};
static COPULAS: WordClass = WordClass {
    bit: 1 << 3,
    words: &[
        "is", "are", "it's", "its", "that's", "this's", "ist", "es", "está", "sind", "be", "seems",
        "sounds", "looks", "becomes", "became", "was",
    ],
};
#[rustfmt::skip]
static DEGREE: WordClass = WordClass {
    bit: 1 << 4,
    words: &[
    "very", "really", "super", "quite", "pretty", "rather", "extremely", "kinda", "somewhat",
    "sehr", "muy", "so", "a", "bit", "little", "an",
],
};
/// Thanks and praise: `!!!` after them is joy, not pressure.
#[rustfmt::skip]
static GRATITUDE: WordClass = WordClass {
    bit: 1 << 5,
    words: &[
    "thanks", "thank", "thx", "ty", "tysm", "great", "awesome", "congrats", "congratulations",
    "cool", "nice", "works", "worked", "love", "yay", "wow", "happy", "welcome", "amazing",
    "perfect", "excellent", "danke", "gracias", "gotcha", "haha", "lol", "hooray", "woohoo",
],
};

/// Where the sentence and the clause around token `at` begin and end (token indices,
/// end exclusive), and whether the sentence is a question.
struct Frame {
    sentence: (usize, usize),
    question: bool,
    /// The clause the cue sits in: between commas, clause breaks and sentence ends.
    clause: (usize, usize),
    /// The clauses that share a request with the cue's: across commas and joins, not across
    /// clause breaks.
    group: (usize, usize),
}

/// `at..after` are the cue's own tokens, which may hold words such as "so" ("so schnell wie
/// möglich") that elsewhere would end a clause.
fn frame(tokens: &[Token], at: usize, after: usize) -> Frame {
    let ends = |t: &Token| matches!(t.kind, Kind::End | Kind::Question);
    let sentence_start = tokens[..at].iter().rposition(ends).map_or(0, |i| i + 1);
    let sentence_end = tokens[after..]
        .iter()
        .position(ends)
        .map_or(tokens.len(), |i| after + i);
    // A run of `?` and `!` ends a question if a `?` is in it.
    let question = tokens[sentence_end..]
        .iter()
        .take_while(|t| ends(t))
        .any(|t| t.kind == Kind::Question);
    let breaks = |t: &Token| {
        t.kind == Kind::Comma || in_class(t, &CLAUSE_BREAKS) || in_class(t, &CLAUSE_JOINS)
    };
    let clause_start = tokens[sentence_start..at]
        .iter()
        .rposition(breaks)
        .map_or(sentence_start, |i| sentence_start + i + 1);
    let clause_end = tokens[after..sentence_end]
        .iter()
        .position(breaks)
        .map_or(sentence_end, |i| after + i);
    let hard = |t: &Token| in_class(t, &CLAUSE_BREAKS);
    let group_start = tokens[sentence_start..at]
        .iter()
        .rposition(hard)
        .map_or(sentence_start, |i| sentence_start + i + 1);
    let group_end = tokens[after..sentence_end]
        .iter()
        .position(hard)
        .map_or(sentence_end, |i| after + i);
    Frame {
        sentence: (sentence_start, sentence_end),
        question,
        clause: (clause_start, clause_end),
        group: (group_start, group_end),
    }
}

/// The index of the first token overlapping `span`.
fn token_at(tokens: &[Token], span: Span) -> Option<usize> {
    tokens
        .iter()
        .position(|t| t.end > span.start && t.start < span.end)
}

fn is_demand(
    text: &str,
    tokens: &[Token],
    hit: Span,
    strength: Strength,
    pressure: Pressure,
) -> bool {
    // A cue inside a link's label is part of the link, not of the sentence.
    let Some(first) = token_at(tokens, hit).filter(|&i| tokens[i].kind == Kind::Word) else {
        return false;
    };
    let last = tokens[first..]
        .iter()
        .position(|t| t.start >= hit.end)
        .map_or(tokens.len(), |i| first + i);
    if is_technical(text, tokens, hit, last) || is_quoted(tokens, first) {
        return false;
    }
    // "earlier today", "later today", "since this morning": a time, not a deadline.
    if first > 0 && in_class(&tokens[first - 1], &TIME_DESCRIPTIONS) {
        return false;
    }
    // "today at 5pm", "today's call": when something happens, not by when to act.
    if pressure == Pressure::Deadline
        && (tokens[first].end > hit.end
            || tokens
                .get(last)
                .is_some_and(|t| is_any(text, t, &["at", "from", "in", "during", "for"])))
    {
        return false;
    }
    let frame = frame(tokens, first, last);
    let (clause_start, clause_end) = frame.clause;
    let (sentence_start, sentence_end) = frame.sentence;
    let negated = tokens[clause_start..first]
        .iter()
        .enumerate()
        .any(|(i, t)| {
            in_class(t, &NEGATIONS)
                && !tokens
                    .get(clause_start + i + 1)
                    .is_some_and(|next| is_any(text, next, &["forget", "miss", "wait"]))
        });
    if negated
        || tokens[last..clause_end]
            .first()
            .is_some_and(|t| is_any(text, t, &["not", "no"]))
    {
        return false;
    }
    let clause = &tokens[clause_start..clause_end];
    let in_clause = ask(text, clause, clause_start == sentence_start);
    let needed = match strength {
        Strength::Strong => Ask::Soft,
        Strength::Weak => Ask::Firm,
    };
    let alone = strength == Strength::Strong
        && stands_alone(clause, first - clause_start, last - clause_start);
    // "asap?" asks for speed; "urgent?" asks whether it is urgent.
    if alone && pressure == Pressure::Hurry {
        return true;
    }
    if frame.question
        && in_clause < needed
        && ask(text, &tokens[sentence_start..sentence_end], true) < needed
    {
        return false;
    }
    if in_clause >= needed {
        return true;
    }
    if is_own(text, clause) || foretells(text, clause) {
        return false;
    }
    let (group_start, group_end) = frame.group;
    if ask(
        text,
        &tokens[group_start..group_end],
        group_start == sentence_start,
    ) >= needed
    {
        return true;
    }
    alone
        || (strength == Strength::Strong && is_declared(text, tokens, sentence_start, first, last))
}

/// Words before a time cue that make it a time rather than a deadline.
static TIME_DESCRIPTIONS: WordClass = WordClass {
    bit: 1 << 18,
    words: &[
        "earlier", "later", "since", "until", "till", "from", "all", "of", "for", "as", "like",
    ],
};

/// Whether the clause says what will happen ("the fix will land asap", "P/Z will be broken
/// soon"): a forecast, not a demand.
fn foretells(text: &str, clause: &[Token]) -> bool {
    clause.iter().any(|t| {
        is_any(
            text,
            t,
            &[
                "will", "won't", "wont", "going", "gonna", "shall", "'ll", "wird", "werden",
            ],
        )
    })
}

/// The cue is glued to code-like text (`urgent_flag`, `non-urgent`, `asap.rs`) or names a
/// technical thing ("the urgent flag").
fn is_technical(text: &str, tokens: &[Token], hit: Span, last: usize) -> bool {
    let before = text[..hit.start].chars().next_back();
    let after = text[hit.end..].chars().next();
    if before.is_some_and(|c| matches!(c, '/' | '=' | '#' | '$' | '-' | '.' | '@'))
        || after.is_some_and(|c| matches!(c, '/' | '=' | '('))
    {
        return true;
    }
    // `_` joins `snake_case` words; around a whole word it is Slack's italics (`_asap_`).
    let before_underscore = text[..hit.start]
        .strip_suffix('_')
        .and_then(|rest| rest.chars().next_back());
    let after_underscore = text[hit.end..]
        .strip_prefix('_')
        .and_then(|rest| rest.chars().next());
    if before_underscore.is_some_and(char::is_alphanumeric)
        || after_underscore.is_some_and(char::is_alphanumeric)
    {
        return true;
    }
    if matches!(after, Some('.' | '-'))
        && text[hit.end + 1..].starts_with(|c: char| c.is_alphanumeric())
    {
        return true;
    }
    tokens
        .get(last)
        .is_some_and(|t| in_class(t, &TECHNICAL_NOUNS))
}

/// Whether token `at` lies inside quotation marks.
fn is_quoted(tokens: &[Token], at: usize) -> bool {
    let mut depth = 0i32;
    for token in &tokens[..at] {
        match token.kind {
            Kind::QuoteOpen => depth += 1,
            Kind::QuoteClose => depth = (depth - 1).max(0),
            _ => {}
        }
    }
    // Only a quote that closes again counts: a lone `’` is an apostrophe.
    depth > 0
        && tokens[at..]
            .iter()
            .any(|t| matches!(t.kind, Kind::QuoteClose))
}

/// How firmly a stretch of text asks others for something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ask {
    None,
    /// A proposal that includes the writer: "let's", "let us". Enough for a strong cue.
    Soft,
    /// A plea, a modal request, an imperative, a need or an obligation.
    Firm,
}

/// Whether the tokens ask others for something. `sentence_start`: the tokens open a
/// sentence, so a leading "need" has the writer as its unsaid subject ("need help asap").
fn asks_others(text: &str, tokens: &[Token]) -> bool {
    ask(text, tokens, false) == Ask::Firm
}

fn ask(text: &str, tokens: &[Token], sentence_start: bool) -> Ask {
    let mut soft = false;
    let firm = firm_ask(text, tokens, sentence_start, &mut soft);
    match (firm, soft) {
        (true, _) => Ask::Firm,
        (false, true) => Ask::Soft,
        (false, false) => Ask::None,
    }
}

/// A plea, a modal request, an imperative at the clause's start, a need, a shared
/// obligation or "let me know"; sets `soft` on the way for a proposal.
fn firm_ask(text: &str, tokens: &[Token], sentence_start: bool, soft: &mut bool) -> bool {
    let word = |i: usize| tokens.get(i).filter(|t| t.kind == Kind::Word);
    let is_at = |i: usize, w: &str| word(i).is_some_and(|t| is(text, t, w));
    let any_at = |i: usize, ws: &[&str]| word(i).is_some_and(|t| is_any(text, t, ws));
    let class_at = |i: usize, class: &WordClass| word(i).is_some_and(|t| in_class(t, class));
    let mut opening = true;
    for (i, token) in tokens.iter().enumerate() {
        if token.kind != Kind::Word {
            // A mention or a leading emoji leaves an imperative still at the start.
            opening &= matches!(token.kind, Kind::Mention | Kind::Other | Kind::Comma);
            continue;
        }
        if opening && class_at(i, &IMPERATIVES) {
            return true;
        }
        opening &= class_at(i, &OPENERS);
        // "please note", "please see": pointing at something, not asking for it.
        if (class_at(i, &PLEASE) && !class_at(i + 1, &POINTERS))
            || (is_at(i, "por") && is_at(i + 1, "favor"))
        {
            return true;
        }
        // "don't forget to register today" asks, though it holds a negation.
        if any_at(i, &["don't", "dont"]) && any_at(i + 1, &["forget", "miss", "wait"]) {
            return true;
        }
        if class_at(i, &MODALS) && class_at(i + 1, &ADDRESSEES) {
            return true;
        }
        if any_at(i, &["lmk", "required", "must"]) {
            return true;
        }
        if is_at(i, "let") && is_at(i + 1, "me") && is_at(i + 2, "know") {
            return true;
        }
        if is(text, token, "let's")
            || (is_at(i, "let") && is_at(i + 1, "us"))
            || (i == 0 && is_at(i, "lets"))
        {
            *soft = true;
        }
        if any_at(i, &["ask", "asked", "remind"]) && class_at(i + 1, &ADDRESSEES) {
            return true;
        }
        if is_at(i, "if")
            && any_at(
                i + 1,
                &["possible", "you", "we", "someone", "anyone", "somebody"],
            )
            && (is_at(i + 1, "possible") || any_at(i + 2, &["can", "could"]))
        {
            return true;
        }
        // "we need to", "we should merge", "you have to", "we gotta".
        if any_at(i, &["we", "you", "u", "wir", "ihr", "du"]) {
            let mut j = i + 1;
            while any_at(
                j,
                &[
                    "really",
                    "just",
                    "also",
                    "still",
                    "all",
                    "definitely",
                    "probably",
                    "do",
                    "actually",
                ],
            ) {
                j += 1;
            }
            // "we need this" asks the channel; "do you need it?" asks nothing.
            let needs_what: &[&str] = if is(text, token, "we") || is(text, token, "wir") {
                &["to", "this", "it", "that", "a", "an", "the", "your", "help"]
            } else {
                &["to"]
            };
            let obliged = any_at(
                j,
                &[
                    "must", "gotta", "müssen", "musst", "müsst", "sollten", "solltest",
                ],
            ) || (is_at(j, "have") && is_at(j + 1, "to"))
                || (is_at(j, "need") && any_at(j + 1, needs_what));
            if obliged {
                return true;
            }
            if is_at(j, "should")
                && !any_at(j + 1, &["have", "be", "probably", "not", "also", "already"])
            {
                return true;
            }
            if any_at(j, &["got", "'ve"]) && is_at(j + 1, "to") {
                return true;
            }
        }
        // "I need it", "I'd like to have it in", "I want someone to look".
        if any_at(i, &["i", "i'd", "id"])
            || (i == 0 && sentence_start && any_at(i, &["need", "needs", "want"]))
        {
            let mut j = if any_at(i, &["need", "needs", "want"]) {
                i
            } else {
                i + 1
            };
            while any_at(
                j,
                &[
                    "really", "just", "also", "still", "do", "would", "urgently", "badly",
                ],
            ) {
                j += 1;
            }
            if is_at(j, "like")
                || any_at(
                    j,
                    &["need", "want", "wanted", "needed", "necesito", "brauche"],
                )
            {
                let k = j + 1;
                if class_at(k, &WANTED) || any_at(j, &["necesito", "brauche"]) {
                    return true;
                }
                if is_at(k, "to") && class_at(k + 1, &WANTED_DONE) {
                    return true;
                }
            }
        }
        // "needs to be fixed", "review needed asap", "need help".
        if any_at(
            i,
            &["needs", "needed", "required", "necesita", "necesitamos"],
        ) && !(i > 0 && any_at(i - 1, &["no", "not", "if", "you", "when"]))
            && !(any_at(i + 1, &["to"]) && !(is_at(i + 2, "be") && word(i + 3).is_some()))
        {
            return true;
        }
        if is_at(i, "need")
            && any_at(
                i + 1,
                &[
                    "help", "this", "that", "an", "a", "someone", "somebody", "eyes", "your", "you",
                ],
            )
            && (if i == 0 {
                sentence_start
            } else {
                !any_at(
                    i - 1,
                    &["you", "u", "if", "no", "don't", "dont", "not", "and"],
                )
            })
        {
            return true;
        }
    }
    false
}

/// Whether the clause is the writer's own: a first-person commitment, ability or situation,
/// or a subjectless "will …" ("will look at it asap").
fn is_own(text: &str, clause: &[Token]) -> bool {
    let words: Vec<&Token> = clause.iter().filter(|t| t.kind == Kind::Word).collect();
    let at = |i: usize, ws: &[&str]| words.get(i).is_some_and(|t| is_any(text, t, ws));
    let class_at = |i: usize, class: &WordClass| words.get(i).is_some_and(|t| in_class(t, class));
    for i in 0..words.len() {
        if class_at(i, &OWN) {
            return true;
        }
        if at(i, &["i"]) && (class_at(i + 1, &OWN_AFTER_I) || words.get(i + 1).is_none()) {
            return true;
        }
        if at(i, &["we"]) && class_at(i + 1, &OWN_AFTER_WE) {
            return true;
        }
        // "im" is "I'm" typed fast, but German "im Lager" is "in the".
        if at(i, &["im"])
            && words.get(i + 1).is_some_and(|t| {
                let next = &text[t.start..t.end];
                next.ends_with("ing") || in_class(t, &IM_STATES)
            })
        {
            return true;
        }
        if at(i, &["let"]) && at(i + 1, &["me"]) && !at(i + 2, &["know"]) {
            return true;
        }
    }
    // A clause that opens with "will" or "going to" has the writer as its subject.
    let opener = words.iter().position(|t| {
        !in_class(t, &OPENERS)
            && !is_any(
                text,
                t,
                &["thx", "thanks", "ok", "sure", "yes", "yeah", "yep", "np"],
            )
    });
    opener.is_some_and(|i| {
        at(
            i,
            &[
                "will", "going", "gonna", "shall", "should", "would", "could", "might", "hope",
                "plan", "working", "looking", "on",
            ],
        )
    })
}

/// Whether the clause holds nothing but the cue, mentions, pleas and greetings ("asap!",
/// "<@U1> urgent", "URGENT").
fn stands_alone(clause: &[Token], first: usize, last: usize) -> bool {
    clause.iter().enumerate().all(|(i, t)| {
        (first..last).contains(&i)
            || t.kind != Kind::Word
            || in_class(t, &OPENERS)
            || in_class(t, &PLEASE)
    })
}

/// Whether a strong cue is declared: a heading ("URGENT: prod is down", "(urgent) review"),
/// a predicate ("this is urgent"), a request noun ("urgent help needed") or "we have an
/// emergency".
fn is_declared(
    text: &str,
    tokens: &[Token],
    sentence_start: usize,
    first: usize,
    last: usize,
) -> bool {
    let words_before = tokens[sentence_start..first]
        .iter()
        .filter(|t| t.kind == Kind::Word && !in_class(t, &OPENERS))
        .count();
    if words_before == 0 {
        return true;
    }
    let mut j = first;
    while j > sentence_start && in_class(&tokens[j - 1], &DEGREE) {
        j -= 1;
    }
    if j > sentence_start && in_class(&tokens[j - 1], &COPULAS) {
        return true;
    }
    if j > sentence_start + 1 && is_any(text, &tokens[j - 1], &["have", "has", "got", "there's"]) {
        return true;
    }
    tokens
        .get(last)
        .is_some_and(|t| in_class(t, &REQUEST_NOUNS))
}

/// Whether a `!!!` presses a demand: the sentence it closes asks others for something, or
/// holds a cue word that was judged a demand, and it is not thanks or praise.
fn emphasis_presses(
    text: &str,
    tokens: &[Token],
    hit: Span,
    word_hits: &[Span],
    word_demand: Option<Demand>,
) -> bool {
    let Some(at) = tokens.iter().position(|t| t.start >= hit.start) else {
        return false;
    };
    let start = tokens[..at]
        .iter()
        .rposition(|t| matches!(t.kind, Kind::End | Kind::Question))
        .map_or(0, |i| i + 1);
    let sentence = &tokens[start..at];
    if sentence.iter().any(|t| in_class(t, &GRATITUDE)) {
        return false;
    }
    let (from, to) = (sentence.first().map_or(hit.start, |t| t.start), hit.start);
    if let Some(demand) = word_demand
        && demand.phrase.start >= from
        && demand.phrase.end <= to
    {
        return true;
    }
    // A cue the judgment turned down does not become a demand by shouting it.
    if word_hits.iter().any(|h| h.start >= from && h.end <= to) {
        return false;
    }
    asks_others(text, sentence) && !is_own(text, sentence)
}

impl fmt::Display for Pressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.explain())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use super::*;
    use crate::norms::words::{self, UrgencyLexicon};

    static LEXICON: LazyLock<UrgencyLexicon> = LazyLock::new(|| {
        let added = words::GERMAN
            .iter()
            .chain(words::SPANISH)
            .copied()
            .chain(["blocker"]);
        UrgencyLexicon::customised(added, [] as [&str; 0]).unwrap()
    });

    /// The phrase and reason the judgment gives, or `None`.
    fn verdict(text: &str) -> Option<String> {
        let judgment = judge(&LEXICON.scan(text));
        let demand = judgment.words.or(judgment.emphasis)?;
        Some(format!("{}: {}", demand.typed(text), demand.pressure))
    }

    /// Sentences that put urgency on others, by the pattern that makes them a demand, with
    /// the phrase and reason the finding names.
    const DEMANDS: &[(&str, &str)] = &[
        // A plea or a modal request.
        ("please review ASAP", "ASAP: asks others to hurry"),
        ("pls fix asap", "asap: asks others to hurry"),
        (
            "Can you please respond immediately?",
            "immediately: asks others to hurry",
        ),
        (
            "Could someone restart the runner right away?",
            "right away: asks others to hurry",
        ),
        (
            "can you merge as soon as possible? CI hangs",
            "as soon as possible: asks others to hurry",
        ),
        (
            "<@U1> can you look at this today?",
            "today: sets others a short deadline",
        ),
        (
            "Need this by end of day please",
            "by end of day: sets others a short deadline",
        ),
        (
            "should be soon please ?",
            "soon: asks others to act at once",
        ),
        // An imperative, after greetings and mentions.
        (
            "register ASAP, few places left",
            "ASAP: asks others to hurry",
        ),
        (
            "hey team, drop everything and look at the outage",
            "drop everything: tells others to treat this as urgent",
        ),
        (
            "<@U1> send me the numbers by EOD",
            "EOD: sets others a short deadline",
        ),
        ("let me know by EOD", "EOD: sets others a short deadline"),
        (
            "don't forget to register today",
            "today: sets others a short deadline",
        ),
        // A need or an obligation.
        ("need help asap", "asap: asks others to hurry"),
        (
            "I need someone to look at this right now",
            "right now: asks others to act at once",
        ),
        (
            "we need this merged today",
            "today: sets others a short deadline",
        ),
        (
            "it needs to be fixed today",
            "today: sets others a short deadline",
        ),
        ("review needed asap", "asap: asks others to hurry"),
        (
            "I'd like to have it merged asap so I can publish",
            "asap: asks others to hurry",
        ),
        (
            "<@U1> <@U2> we should ship the hotfix asap",
            "asap: asks others to hurry",
        ),
        (
            "The release is blocked, we must fix this immediately",
            "immediately: asks others to hurry",
        ),
        (
            "if we can get it in by EOD that would be great",
            "EOD: sets others a short deadline",
        ),
        (
            "To get the release out asap: we have to merge both",
            "asap: asks others to hurry",
        ),
        // A strong word declared, as a heading, or alone.
        (
            "URGENT: prod is down, can someone look",
            "URGENT: tells others to treat this as urgent",
        ),
        (
            "Urgent: the customer is waiting",
            "Urgent: tells others to treat this as urgent",
        ),
        (
            "This is urgent!",
            "urgent: tells others to treat this as urgent",
        ),
        (
            "this is time sensitive, any help appreciated",
            "time sensitive: tells others to treat this as urgent",
        ),
        (
            "Anyone around? urgent help needed",
            "urgent: tells others to treat this as urgent",
        ),
        (
            "we have an emergency, db is down",
            "emergency: tells others to treat this as urgent",
        ),
        ("<@U1> asap please", "asap: asks others to hurry"),
        ("asap?", "asap: asks others to hurry"),
        ("let's get this in asap", "asap: asks others to hurry"),
        // Emphasis on a demand.
        ("help!!!", "!!!: presses a request on others"),
        (
            "PLEASE fix the build!!!",
            "!!!: presses a request on others",
        ),
        // A workspace's own word is a strong word.
        (
            "this is a blocker, please look",
            "blocker: tells others to treat this as urgent",
        ),
        // German and Spanish.
        (
            "Das ist dringend",
            "dringend: tells others to treat this as urgent",
        ),
        ("Bitte sofort prüfen", "sofort: asks others to hurry"),
        (
            "So schnell wie möglich bitte",
            "So schnell wie möglich: asks others to hurry",
        ),
        (
            "Es urgente, por favor",
            "urgente: tells others to treat this as urgent",
        ),
        (
            "Respóndeme cuanto antes",
            "cuanto antes: asks others to hurry",
        ),
    ];

    /// Sentences with a cue that put no urgency on anyone, by the reason they do not.
    /// Reading only up to the last cue's sentence judges as reading the whole message does,
    /// whatever follows: more sentences, cues, quotes, questions and code.
    #[test]
    fn reading_up_to_the_last_cues_sentence_judges_as_reading_everything() {
        let labelled = include_str!("../../tests/fixtures/urgency-labelled.jsonl")
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|value| value["text"].as_str().map(str::to_string));
        let sentences: Vec<String> = DEMANDS
            .iter()
            .map(|(text, _)| text.to_string())
            .chain(NOT_DEMANDS.iter().map(|text| text.to_string()))
            .chain(labelled)
            .collect();
        let tails = [
            "",
            " Thanks!",
            "!! ? and then more",
            " \"quoted asap\" there.",
            "\nno rush, it’s fine. `asap()` in code",
            " Can you?",
            "; I’ll do it today!!!",
        ];
        for sentence in &sentences {
            for tail in tails {
                let text = format!("{sentence}{tail}");
                let scan = LEXICON.scan(&text);
                assert_eq!(
                    judge(&scan),
                    judge_tokens(&scan, &tokenize(&text, usize::MAX)),
                    "{text}"
                );
            }
        }
    }

    const NOT_DEMANDS: &[&str] = &[
        // A description of a state or a time.
        "the project is young, that's just the state it is in right now",
        "right now the build uses X",
        "today I pushed the fix",
        "The meeting is today at 3",
        "I pulled the fix that was pushed earlier today and it works",
        "Please note: the meeting is today",
        "Please join us today at 5pm for the community call",
        "today’s call is cancelled, please read the notes",
        "it will be ready soon",
        "the rest of the docs should land asap",
        // The writer's own commitment or situation.
        "I'll fix it as soon as possible",
        "thanks, will look at your comments asap",
        "I'll get to it right away",
        "im working on it right now",
        "hopefully we can merge it soon",
        "sorry, had a work emergency",
        "Hold on, kid emergency",
        "I had an emergency, back now",
        "something urgent came up, I have to leave",
        "I need to leave soon",
        "We are trying to publish the images as soon as possible",
        "ich mache das sofort",
        "lo hago cuanto antes",
        // Technical use.
        "it crashes immediately after git pull",
        "the node can immediately discard invalid ones",
        "Set the urgent flag in the API",
        "rename urgent_flag to priority",
        "non-urgent: update docs when you can",
        // Talk about urgency: negated or questioned.
        "I don't think it's urgent, let's work on it over this week",
        "urgent from who?",
        "is this urgent?",
        "not urgent",
        "this is not urgent for me",
        "Is the deadline today?",
        "Do you need it today?",
        "what counts as urgent here?",
        // Quoted, in code or in a link.
        "He said “drop everything” but it was a joke",
        "Set the `urgent` flag in the API",
        "see <https://x.example/asap|docs>",
        "&gt; URGENT: old banner",
        // Gratitude and joy with `!!!`.
        "thanks!!!",
        "it works!! thanks!!!",
        "we released v2 today!!!",
        "<@U1> thank you so much !!!",
        // A request with no speed in it.
        "can someone review this?",
        "please help review my patch",
        "yes, let’s check today.",
        // A purpose, not a demand: the speed belongs to what follows "so".
        "make sure we coordinate so we can restore the URLs as quickly as possible",
    ];

    #[test]
    fn demands_on_others_are_found_with_their_phrase_and_reason() {
        let wrong: Vec<String> = DEMANDS
            .iter()
            .filter_map(|(text, expected)| {
                let got = verdict(text);
                (got.as_deref() != Some(*expected)).then(|| format!("{text:?}: {got:?}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn cues_that_ask_nothing_of_others_are_not_demands() {
        let wrong: Vec<String> = NOT_DEMANDS
            .iter()
            .filter_map(|text| verdict(text).map(|got| format!("{text:?}: {got}")))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn class_words_are_lower_case_and_short_enough_to_be_looked_up() {
        for class in CLASSES {
            for word in class.words {
                assert_eq!(*word, word.to_lowercase(), "{word}");
                assert!(word.len() <= LONGEST_CLASS_WORD, "{word}");
                assert_ne!(classes_of(&word.to_uppercase()) & class.bit, 0, "{word}");
            }
        }
        assert_eq!(classes_of("I’LL") & OWN.bit, OWN.bit);
        assert_eq!(classes_of("Respóndeme") & IMPERATIVES.bit, IMPERATIVES.bit);
    }

    #[test]
    fn a_message_without_cues_is_not_read_further() {
        let scan = LEXICON.scan("please review my patch, thanks");
        assert_eq!(judge(&scan), Judgment::default());
        assert!(!judge(&scan).is_demand());
    }

    #[test]
    fn the_first_demanding_cue_is_the_one_named() {
        let text = "I'll be around today. Please merge it asap!!!";
        let judgment = judge(&LEXICON.scan(text));
        assert_eq!(judgment.words.unwrap().typed(text), "asap");
        assert_eq!(judgment.emphasis.unwrap().typed(text), "!!!");
    }

    proptest! {
        #![proptest_config(crate::property_test_config())]
        #[test]
        fn judging_any_text_never_panics(
            text in "([a-zA-Z’'\"“”<>@!?.,:;()_`\\- \n]|asap|urgent|right now|so schnell wie möglich|please|I'll|&gt;|&amp;){0,40}"
        ) {
            let judgment = judge(&LEXICON.scan(&text));
            if let Some(demand) = judgment.words.or(judgment.emphasis) {
                prop_assert!(text.is_char_boundary(demand.phrase.start));
                prop_assert!(text.is_char_boundary(demand.phrase.end));
            }
        }
    }
}

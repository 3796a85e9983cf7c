//! Urgency words: the lists the bot ships with, and [`UrgencyLexicon`], the matcher a
//! workspace builds once from its own list and then runs over every message.
//!
//! Matching has to be cheap (every message in every channel the bot is in goes through it)
//! and precise (a nudge for "urgently needed feature closed" teaches people to ignore the
//! bot). So the list is compiled into an Aho-Corasick automaton that reads each piece of
//! prose once (the message is ASCII-lower-cased once, keeping every byte offset), and a hit only counts as a whole word: "urgently" is not "urgent" and
//! "asaparagus" is not "asap". Case never matters, and a capitalised proper noun ("the ASAP
//! project") is still a hit: a name cannot be told from shouting, and a workspace that has
//! such a project removes the word from its list.

use std::cell::RefCell;
use std::iter::Peekable;

use aho_corasick::{AhoCorasick, AhoCorasickKind, FindIter, Input, Match, MatchKind};
use serde::{Deserialize, Serialize};

use crate::norms::markup::{self, Broadcast, Span, Token};

/// English urgency cues. A cue is not a finding: [`crate::norms::judge`] reads each in its
/// sentence and counts it only when it puts urgency on others ("please review asap", not
/// "I'll fix it asap"). So the list can hold words that are usually innocent ("today",
/// "soon") and become a demand in a request ("we need this merged today"). "critical" and
/// "blocker" are left out because they mostly describe things ("critical path", "blocker
/// bug"), and "urgently" because it mostly reports ("urgently needed feature closed").
pub(crate) const ENGLISH: &[&str] = &[
    "urgent",
    "asap",
    "a.s.a.p",
    "as soon as possible",
    "right away",
    "emergency",
    "right now",
    "immediately",
    "eod",
    "by end of day",
    "by the end of the day",
    "by tomorrow",
    "before tomorrow",
    "by tmr",
    "before tmr",
    "by tonight",
    "today",
    "tonight",
    "soon",
    "time-sensitive",
    "time sensitive",
    "drop everything",
];

/// German urgency words, shipped for workspaces to add (`/async norms keywords add …`).
pub const GERMAN: &[&str] = &[
    "dringend",
    "sofort",
    "eilt",
    "eilig",
    "umgehend",
    "so schnell wie möglich",
    "notfall",
];

/// Spanish urgency words, shipped for workspaces to add.
pub const SPANISH: &[&str] = &[
    "urgente",
    "inmediatamente",
    "de inmediato",
    "cuanto antes",
    "lo antes posible",
    "emergencia",
];

/// The shipped lists by ISO 639-1 code.
pub const LANGUAGES: &[(&str, &[&str])] = &[("en", ENGLISH), ("de", GERMAN), ("es", SPANISH)];

/// The word that stands for the emphasis rule (three or more `!` in a row). Removing it from
/// a workspace's list turns that rule off.
pub(crate) const EMPHASIS: &str = "!!!";

/// The list every workspace starts from: English plus emphasis. Other languages are added
/// per workspace, so a workspace pays (in matching time, and in false positives) only for
/// the languages it speaks.
pub(crate) fn default_words() -> impl Iterator<Item = &'static str> {
    ENGLISH.iter().copied().chain(std::iter::once(EMPHASIS))
}

/// The longest word or phrase a list may hold, in characters.
pub(crate) const MAX_WORD_CHARS: usize = 64;
/// The most words a list may hold.
pub(crate) const MAX_WORDS: usize = 500;

/// Why a word list could not become a lexicon; each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexiconError {
    #[error("an urgency word cannot be empty; give a word or phrase such as `asap` or `right now`")]
    EmptyWord,
    #[error(
        "`{0}` has no letters or digits; urgency words are words or phrases (use `!!!` for the emphasis rule)"
    )]
    NoLetters(String),
    #[error(
        "`{word}` is longer than {MAX_WORD_CHARS} characters; urgency words are short words or phrases like `right now`"
    )]
    TooLong { word: String },
    #[error(
        "the list has {count} words, more than {MAX_WORDS}; remove some with `/async norms keywords remove`"
    )]
    TooMany { count: usize },
    #[error("the urgency word list could not be compiled ({0}); remove some words and try again")]
    Build(String),
}

/// Which ends of a pattern must sit on a word boundary: only an end that is a letter or digit
/// of a spaced script. A pattern ending in punctuation ("eod!") has nothing to run into.
#[derive(Debug, Clone, Copy)]
struct Edges {
    check_start: bool,
    check_end: bool,
}

/// A workspace's urgency words compiled for matching. Built once when the list changes, then
/// shared read-only by every message.
#[derive(Debug, Clone)]
pub struct UrgencyLexicon {
    /// The normalised words, in list order, emphasis included; for showing the list.
    words: Vec<String>,
    /// Leftmost-longest, case-sensitive over lower-cased text: the fast path.
    leftmost: AhoCorasick,
    /// The same patterns with overlapping matches, for the rare piece of prose where a
    /// leftmost-longest match is not a whole word and may hide a shorter one that is.
    overlapping: AhoCorasick,
    /// Per pattern, in pattern order (the same in both automata).
    edges: Vec<Edges>,
    emphasis: bool,
}

impl UrgencyLexicon {
    /// The shipped list ([`default_words`]).
    pub fn with_defaults() -> Result<Self, LexiconError> {
        Self::with_words(default_words())
    }

    /// The shipped list with a workspace's additions and removals (`/async norms keywords
    /// add|remove`). Words are compared after normalising, so `ASAP` removes `asap`; removing
    /// a word that is not in the list is not an error.
    pub fn customised<A, R>(added: A, removed: R) -> Result<Self, LexiconError>
    where
        A: IntoIterator,
        A::Item: AsRef<str>,
        R: IntoIterator,
        R::Item: AsRef<str>,
    {
        let removed: Vec<String> = removed.into_iter().map(|w| normalise(w.as_ref())).collect();
        let added: Vec<String> = added.into_iter().map(|w| normalise(w.as_ref())).collect();
        let words = default_words()
            .map(normalise)
            .chain(added)
            .filter(|w| !removed.contains(w));
        Self::with_words(words)
    }

    /// Compiles exactly these words. Each is trimmed, its inner whitespace collapsed to one
    /// space and lower-cased; duplicates are dropped. A word made only of `!` (three or more)
    /// turns on the emphasis rule instead of being matched as a word.
    pub(crate) fn with_words<I>(words: I) -> Result<Self, LexiconError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut normalised: Vec<String> = Vec::new();
        for word in words {
            let word = normalise(word.as_ref());
            validate(&word)?;
            if !normalised.contains(&word) {
                normalised.push(word);
            }
        }
        if normalised.len() > MAX_WORDS {
            return Err(LexiconError::TooMany {
                count: normalised.len(),
            });
        }
        let emphasis = normalised.iter().any(|w| is_emphasis(w));
        let matched: Vec<&String> = normalised.iter().filter(|w| !is_emphasis(w)).collect();
        let patterns: Vec<String> = matched
            .iter()
            .map(|w| markup::escape(w).into_owned())
            .collect();
        let edges = matched
            .iter()
            .map(|w| Edges {
                check_start: w.chars().next().is_some_and(is_spaced_word_char),
                check_end: w.chars().next_back().is_some_and(is_spaced_word_char),
            })
            .collect();
        let build = |kind: MatchKind| {
            AhoCorasick::builder()
                .match_kind(kind)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&patterns)
                .map_err(|e| LexiconError::Build(e.to_string()))
        };
        let leftmost = build(MatchKind::LeftmostLongest)?;
        let overlapping = build(MatchKind::Standard)?;
        Ok(UrgencyLexicon {
            words: normalised,
            leftmost,
            overlapping,
            edges,
            emphasis,
        })
    }

    /// The normalised words, in list order (emphasis shown as `!!!`).
    pub(crate) fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether the emphasis rule is on for this list.
    #[cfg(test)]
    pub(crate) fn has_emphasis(&self) -> bool {
        self.emphasis
    }

    /// Reads a message once: its mentions, broadcasts, channel references, urgency-word hits
    /// and emphasis hits. Allocates only when something is found or a piece of prose holds
    /// capitals outside ASCII (the ASCII-lower-cased copy it searches is a per-thread buffer).
    pub fn scan<'a>(&self, text: &'a str) -> Scan<'a> {
        let mut scan = Scan {
            text,
            mentions: Vec::new(),
            groups: Vec::new(),
            channels: Vec::new(),
            broadcasts: BroadcastSet::default(),
            words: Vec::new(),
            emphasis: Vec::new(),
        };
        // ASCII lower-casing keeps every byte where it was, so hits in the copy are spans of
        // the original. One search runs over the whole copy (a search per piece of prose
        // costs more in set-up than in reading); each piece takes the matches inside it.
        LOWERED.with_borrow_mut(|lowered| {
            lowered.clear();
            lowered.push_str(text);
            lowered.make_ascii_lowercase();
            let mut matches = self.leftmost.find_iter(lowered.as_str()).peekable();
            for token in markup::tokens(text) {
                match token {
                    Token::Prose { text: piece, start } => {
                        let span = Span {
                            start,
                            end: start + piece.len(),
                        };
                        self.find_words(lowered, piece, span, &mut matches, &mut scan.words);
                        if self.emphasis {
                            find_emphasis(piece, start, &mut scan.emphasis);
                        }
                    }
                    Token::User(id) => scan.mentions.push(id),
                    Token::Channel(id) => scan.channels.push(id),
                    Token::Subteam(id) => scan.groups.push(id),
                    Token::Broadcast(kind) => scan.broadcasts.insert(kind),
                }
            }
            if lowered.capacity() > KEPT_BUFFER_BYTES {
                *lowered = String::new();
            }
        });
        keep_leftmost_longest(&mut scan.words);
        scan
    }

    /// Appends the whole-word hits in the piece of prose at `span` (`piece` in the original
    /// text, the same bytes ASCII-lower-cased in `lowered`), taking from `matches` (the
    /// leftmost-longest matches over all of `lowered`) those that lie inside it.
    fn find_words(
        &self,
        lowered: &str,
        piece: &str,
        span: Span,
        matches: &mut Peekable<FindIter<'_, '_>>,
        hits: &mut Vec<Span>,
    ) {
        let found_before = hits.len();
        // Set when a match here is not a whole word or runs over the piece's edge: it may
        // hide a shorter or later match that is one.
        let mut overlooked = false;
        while let Some(&found) = matches.peek() {
            if found.end() <= span.start {
                matches.next();
                continue;
            }
            if found.start() >= span.end {
                break;
            }
            if found.end() > span.end {
                // Left for the next piece, which it runs into as well.
                overlooked = true;
                break;
            }
            matches.next();
            if found.start() < span.start || !self.is_whole_word(lowered, span, &found) {
                overlooked = true;
                continue;
            }
            hits.push(Span {
                start: found.start(),
                end: found.end(),
            });
        }
        let needs_unicode_lowering = !piece.is_ascii()
            && piece
                .chars()
                .any(|c| !c.is_ascii() && c.to_lowercase().next() != Some(c));
        if needs_unicode_lowering {
            hits.truncate(found_before);
            self.find_words_unicode(piece, span.start, hits);
        } else if overlooked {
            hits.truncate(found_before);
            let input = Input::new(lowered).span(span.start..span.end);
            for found in self.overlapping.find_overlapping_iter(input) {
                if self.is_whole_word(lowered, span, &found) {
                    hits.push(Span {
                        start: found.start(),
                        end: found.end(),
                    });
                }
            }
        }
    }

    /// The rare path: capitals outside ASCII ("DRINGEND" is ASCII, "ÜBERFÄLLIG" is not).
    /// Lower-cases the piece into a buffer, remembering for every byte of it where its
    /// character came from, since lower-casing may change lengths.
    fn find_words_unicode(&self, piece: &str, offset: usize, hits: &mut Vec<Span>) {
        let mut lowered = String::with_capacity(piece.len());
        let mut origin: Vec<usize> = Vec::with_capacity(piece.len() + 1);
        for (at, c) in piece.char_indices() {
            for lower in c.to_lowercase() {
                lowered.push(lower);
                origin.resize(lowered.len(), at);
            }
        }
        origin.push(piece.len());
        let whole = Span {
            start: 0,
            end: lowered.len(),
        };
        for found in self.overlapping.find_overlapping_iter(&lowered) {
            let (start, end) = (origin[found.start()], origin[found.end()]);
            if start < end && self.is_whole_word(&lowered, whole, &found) {
                hits.push(Span {
                    start: offset + start,
                    end: offset + end,
                });
            }
        }
    }

    /// Whether a match inside the piece of prose at `piece` (offsets into `hay`) stands as a
    /// whole word. The piece's own ends count as word boundaries.
    fn is_whole_word(&self, hay: &str, piece: Span, found: &Match) -> bool {
        let edges = self.edges[found.pattern().as_usize()];
        let (start, end) = (found.start(), found.end());
        let before = (start > piece.start)
            .then(|| hay[..start].chars().next_back())
            .flatten();
        let after = (end < piece.end)
            .then(|| hay[end..].chars().next())
            .flatten();
        if edges.check_start && before.is_some_and(char::is_alphanumeric) {
            return false;
        }
        if edges.check_end && after.is_some_and(char::is_alphanumeric) {
            return false;
        }
        // "&amp;" is Slack's escape, not the word "amp".
        !(before == Some('&') && inside_entity(&hay[start..]))
    }
}

thread_local! {
    /// The lower-cased copy of the message being scanned, kept between scans on the same
    /// thread so that reading a message does not allocate it.
    static LOWERED: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A buffer grown past this by one huge message is released rather than kept.
const KEPT_BUFFER_BYTES: usize = 64 * 1024;

/// Whether `rest` (just after a `&`) is the tail of one of Slack's three escapes.
fn inside_entity(rest: &str) -> bool {
    ["amp;", "lt;", "gt;"].iter().any(|e| rest.starts_with(e))
}

/// Keeps, among overlapping hits, the leftmost and then the longest ("right now" over "now").
fn keep_leftmost_longest(hits: &mut Vec<Span>) {
    if hits.len() < 2 {
        return;
    }
    hits.sort_unstable_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut last_end = 0;
    hits.retain(|s| {
        let keep = s.start >= last_end;
        if keep {
            last_end = s.end;
        }
        keep
    });
}

/// Appends every run of three or more `!` in `piece`, one hit per run.
fn find_emphasis(piece: &str, offset: usize, hits: &mut Vec<Span>) {
    let bytes = piece.as_bytes();
    let mut start = markup::find_first_of(bytes, 0, bytes.len(), [b'!']);
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b != b'!')
            .map_or(bytes.len(), |n| start + n);
        if end - start >= 3 {
            hits.push(Span {
                start: offset + start,
                end: offset + end,
            });
        }
        start = markup::find_first_of(bytes, end, bytes.len(), [b'!']);
    }
}

/// A word as lists keep it: trimmed, inner whitespace collapsed to one space, lower-cased.
pub(crate) fn normalise(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for part in word.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(part.chars().flat_map(char::to_lowercase));
    }
    out
}

fn validate(word: &str) -> Result<(), LexiconError> {
    if word.is_empty() {
        return Err(LexiconError::EmptyWord);
    }
    if word.chars().count() > MAX_WORD_CHARS {
        return Err(LexiconError::TooLong {
            word: word.to_string(),
        });
    }
    if !is_emphasis(word) && !word.chars().any(char::is_alphanumeric) {
        return Err(LexiconError::NoLetters(word.to_string()));
    }
    Ok(())
}

fn is_emphasis(word: &str) -> bool {
    word.len() >= 3 && word.bytes().all(|b| b == b'!')
}

/// A letter or digit of a script that separates words with spaces. Chinese, Japanese and Thai
/// write words without spaces, so a word in those scripts matches inside a sentence.
fn is_spaced_word_char(c: char) -> bool {
    let unspaced = matches!(c,
        '\u{0E00}'..='\u{0E7F}'     // Thai
        | '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}'); // CJK compatibility ideographs
    c.is_alphanumeric() && !unspaced
}

/// The broadcasts a message contains, as a set (a message with two `<!here>` is one @here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BroadcastSet(u8);

impl BroadcastSet {
    fn bit(kind: Broadcast) -> u8 {
        match kind {
            Broadcast::Here => 1,
            Broadcast::Channel => 2,
            Broadcast::Everyone => 4,
        }
    }

    pub(crate) fn insert(&mut self, kind: Broadcast) {
        self.0 |= Self::bit(kind);
    }

    pub(crate) fn contains(self, kind: Broadcast) -> bool {
        self.0 & Self::bit(kind) != 0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn is_none(&self) -> bool {
        self.is_empty()
    }

    /// The broadcasts in the set, widest last: here, channel, everyone.
    pub(crate) fn iter(self) -> impl Iterator<Item = Broadcast> {
        [Broadcast::Here, Broadcast::Channel, Broadcast::Everyone]
            .into_iter()
            .filter(move |b| self.contains(*b))
    }
}

/// What one reading of a message found; the input of the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan<'a> {
    text: &'a str,
    mentions: Vec<&'a str>,
    groups: Vec<&'a str>,
    channels: Vec<&'a str>,
    broadcasts: BroadcastSet,
    words: Vec<Span>,
    emphasis: Vec<Span>,
}

impl<'a> Scan<'a> {
    /// The message text that was scanned.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// Mentioned user ids in order of appearance, repeats included.
    pub(crate) fn mentions(&self) -> &[&'a str] {
        &self.mentions
    }

    /// Referenced channel ids in order of appearance.
    #[cfg(test)]
    pub(crate) fn channels(&self) -> &[&'a str] {
        &self.channels
    }

    pub(crate) fn broadcasts(&self) -> BroadcastSet {
        self.broadcasts
    }

    /// Urgency-word hits, in order, never overlapping.
    pub(crate) fn word_hits(&self) -> &[Span] {
        &self.words
    }

    /// Emphasis hits (runs of three or more `!`), in order.
    pub(crate) fn emphasis_hits(&self) -> &[Span] {
        &self.emphasis
    }

    /// The distinct hit words as the sender typed them (unescaped), in order of first
    /// appearance, compared without regard to case.
    #[cfg(test)]
    pub(crate) fn typed_words(&self) -> Vec<String> {
        let mut typed: Vec<String> = Vec::new();
        for span in &self.words {
            let word = markup::unescape(span.of(self.text));
            if !typed.iter().any(|t| same_word(t, &word)) {
                typed.push(word.into_owned());
            }
        }
        typed
    }
}

/// What the rules read of a scanned message. [`Scan`] borrows the text it read; [`ScanFacts`]
/// keeps only what the rules need of it, so a message can be judged after its text is gone.
pub trait Scanned {
    /// The urgency words and `!!!` that [`judge`](crate::norms::judge) reads as demands.
    fn judged(&self) -> crate::norms::judge::Judged;
    fn broadcasts(&self) -> BroadcastSet;
}

impl Scanned for Scan<'_> {
    fn judged(&self) -> crate::norms::judge::Judged {
        crate::norms::judge::Judged::of(self)
    }

    fn broadcasts(&self) -> BroadcastSet {
        self.broadcasts
    }
}

/// The findings of one scan without the text: mentioned ids, broadcasts, and the demands the
/// judgment found, each as its phrase as typed and its pressure. This is all of a message the
/// bot writes to disk, so it holds no word that is not on the workspace's urgency list (or a
/// run of `!`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ScanFacts {
    /// Mentioned user ids in order of first appearance, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) mentions: Vec<String>,
    /// Mentioned user group ids (`S…`) in order of first appearance, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) groups: Vec<String>,
    #[serde(default, skip_serializing_if = "BroadcastSet::is_none")]
    pub(crate) broadcasts: BroadcastSet,
    /// The demands found, judged at intake while the text was there.
    #[serde(default, skip_serializing_if = "crate::norms::judge::Judged::is_empty")]
    pub(crate) judged: crate::norms::judge::Judged,
}

impl ScanFacts {
    pub(crate) fn of(scan: &Scan<'_>) -> Self {
        ScanFacts {
            mentions: each_once(&scan.mentions),
            groups: each_once(&scan.groups),
            broadcasts: scan.broadcasts,
            judged: Scanned::judged(scan),
        }
    }

    /// Whether any rule could fire on it: a demand or a broadcast.
    pub(crate) fn may_be_urgent(&self) -> bool {
        self.judged.words.is_some() || self.judged.emphasis.is_some() || !self.broadcasts.is_empty()
    }
}

/// The ids in order of first appearance, each once.
fn each_once(ids: &[&str]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.iter()
        .filter(|id| seen.insert(**id))
        .map(|id| id.to_string())
        .collect()
}

impl Scanned for ScanFacts {
    fn judged(&self) -> crate::norms::judge::Judged {
        self.judged.clone()
    }

    fn broadcasts(&self) -> BroadcastSet {
        self.broadcasts
    }
}

#[cfg(test)]
fn same_word(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;

    static DEFAULT: LazyLock<UrgencyLexicon> =
        LazyLock::new(|| UrgencyLexicon::with_defaults().unwrap());

    fn lexicon() -> &'static UrgencyLexicon {
        &DEFAULT
    }

    fn hits(text: &str) -> Vec<&str> {
        let lexicon = lexicon();
        let scan = lexicon.scan(text);
        scan.word_hits().iter().map(|s| s.of(text)).collect()
    }

    #[test]
    fn the_shipped_list_compiles() {
        let lexicon = lexicon();
        assert!(lexicon.has_emphasis());
        assert!(lexicon.words().iter().any(|w| w == "right now"));
    }

    #[test]
    fn words_match_whole_and_in_any_case() {
        assert_eq!(hits("ASAP please, Urgent!"), vec!["ASAP", "Urgent"]);
        assert_eq!(hits("urgently asaparagus nonurgent"), Vec::<&str>::new());
        assert_eq!(
            hits("(urgent) urgent: \"asap\""),
            vec!["urgent", "urgent", "asap"]
        );
    }

    #[test]
    fn non_ascii_capitals_are_matched_through_lowering() {
        let lexicon = UrgencyLexicon::with_words(["überfällig"]).unwrap();
        let text = "Das ist ÜBERFÄLLIG, ja überfällig und Überfällig";
        let scan = lexicon.scan(text);
        let found: Vec<&str> = scan.word_hits().iter().map(|s| s.of(text)).collect();
        assert_eq!(found, vec!["ÜBERFÄLLIG", "überfällig", "Überfällig"]);
    }

    #[test]
    fn a_longer_word_failing_its_boundary_leaves_a_shorter_one() {
        let lexicon = UrgencyLexicon::with_words(["right", "right now"]).unwrap();
        let text = "right nowhere";
        let scan = lexicon.scan(text);
        let found: Vec<&str> = scan.word_hits().iter().map(|s| s.of(text)).collect();
        assert_eq!(found, vec!["right"]);
        let text = "right now";
        let scan = lexicon.scan(text);
        let found: Vec<&str> = scan.word_hits().iter().map(|s| s.of(text)).collect();
        assert_eq!(found, vec!["right now"]);
    }

    #[test]
    fn words_with_ampersands_match_escaped_text() {
        let lexicon = UrgencyLexicon::with_words(["p&l now", "amp"]).unwrap();
        let text = "need the P&amp;L now &amp; soon";
        let scan = lexicon.scan(text);
        assert_eq!(scan.typed_words(), vec!["P&L now".to_string()]);
    }

    #[test]
    fn words_of_unspaced_scripts_match_inside_a_sentence() {
        let lexicon = UrgencyLexicon::with_words(["紧急"]).unwrap();
        assert_eq!(lexicon.scan("这个很紧急了").word_hits().len(), 1);
    }

    #[test]
    fn emphasis_is_one_hit_per_run_of_three_or_more() {
        let lexicon = lexicon();
        let text = "no!! yes!!! and!!!!!!";
        let scan = lexicon.scan(text);
        let found: Vec<&str> = scan.emphasis_hits().iter().map(|s| s.of(text)).collect();
        assert_eq!(found, vec!["!!!", "!!!!!!"]);
    }

    #[test]
    fn other_languages_are_matched_once_added() {
        assert!(lexicon().scan("Das ist dringend").word_hits().is_empty());
        let german = UrgencyLexicon::customised(GERMAN.iter(), [EMPHASIS]).unwrap();
        assert_eq!(german.scan("Das ist dringend").word_hits().len(), 1);
        assert!(!german.has_emphasis());
        assert!(
            LANGUAGES
                .iter()
                .any(|(code, words)| *code == "es" && words.contains(&"urgente"))
        );
    }

    #[test]
    fn a_customised_list_adds_and_removes_words() {
        let lexicon =
            UrgencyLexicon::customised(["  Pronto  ", "EILT sofort"], ["ASAP", "!!!"]).unwrap();
        assert!(lexicon.words().contains(&"pronto".to_string()));
        assert!(lexicon.words().contains(&"eilt sofort".to_string()));
        assert!(!lexicon.words().contains(&"asap".to_string()));
        assert!(!lexicon.has_emphasis());
        assert!(lexicon.scan("asap!!!").word_hits().is_empty());
        assert!(lexicon.scan("asap!!!").emphasis_hits().is_empty());
        assert_eq!(lexicon.scan("PRONTO").word_hits().len(), 1);
    }

    #[test]
    fn bad_words_are_rejected_with_the_fix() {
        let cases = [
            ("   ", LexiconError::EmptyWord),
            ("??", LexiconError::NoLetters("??".into())),
            ("!!", LexiconError::NoLetters("!!".into())),
        ];
        for (word, expected) in cases {
            assert_eq!(
                UrgencyLexicon::with_words([word]).unwrap_err(),
                expected,
                "{word}"
            );
        }
        let long = "x".repeat(MAX_WORD_CHARS + 1);
        assert!(matches!(
            UrgencyLexicon::with_words([long]),
            Err(LexiconError::TooLong { .. })
        ));
        let many: Vec<String> = (0..=MAX_WORDS).map(|i| format!("w{i}")).collect();
        assert_eq!(
            UrgencyLexicon::with_words(many).unwrap_err(),
            LexiconError::TooMany {
                count: MAX_WORDS + 1
            }
        );
        assert!(
            LexiconError::NoLetters("??".into())
                .to_string()
                .contains("!!!")
        );
    }

    #[test]
    fn mentions_broadcasts_and_channels_are_collected() {
        let lexicon = lexicon();
        let scan = lexicon.scan("<@U1> <@U2|bob> <!here> <!here|here> <#C9|ops>");
        assert_eq!(scan.mentions(), &["U1", "U2"]);
        assert_eq!(scan.channels(), &["C9"]);
        assert_eq!(
            scan.broadcasts().iter().collect::<Vec<_>>(),
            vec![Broadcast::Here]
        );
    }

    #[test]
    fn the_facts_kept_of_a_scan_judge_as_the_scan_does_and_hold_no_other_words() {
        use crate::ids::UserId;
        use crate::norms::rules::{ChannelContext, classify};
        let off = [UserId::new("U2")];
        for text in [
            "secret plans, please review ASAP <@U2> <@U2> <!here>",
            "URGENT!!! need this by EOD, <@U3>",
            "nothing to see here, zq7 <@U9>",
            "`asap` in code and &lt;!channel&gt; escaped !!!",
            "",
        ] {
            let scan = lexicon().scan(text);
            let facts = ScanFacts::of(&scan);
            for context in [
                ChannelContext::default(),
                ChannelContext {
                    is_urgent_channel: false,
                    off_hours_mentions: &off,
                },
            ] {
                assert_eq!(
                    classify(&scan, &context),
                    classify(&facts, &context),
                    "{text}"
                );
            }
            let kept = serde_json::to_string(&facts).unwrap();
            for secret in ["secret", "plans", "review", "nothing", "zq7", "code"] {
                assert!(!kept.contains(secret), "{secret} kept of {text:?}: {kept}");
            }
        }
        let facts = ScanFacts::of(&lexicon().scan("<@U2> and <@U2> and <@U3>"));
        assert_eq!(facts.mentions, ["U2", "U3"]);
    }

    fn assert_scan_is_sound(lexicon: &UrgencyLexicon, text: &str) {
        let scan = lexicon.scan(text);
        let on_boundaries = |span: &Span| {
            span.start <= span.end
                && span.end <= text.len()
                && text.is_char_boundary(span.start)
                && text.is_char_boundary(span.end)
        };
        for span in scan.word_hits().iter().chain(scan.emphasis_hits()) {
            assert!(on_boundaries(span), "{span:?} in {text:?}");
        }
        for token in markup::tokens(text) {
            if let Token::Prose { text: piece, start } = token {
                let span = Span {
                    start,
                    end: start + piece.len(),
                };
                assert!(on_boundaries(&span), "{span:?} in {text:?}");
                assert_eq!(span.of(text), piece);
            }
        }
        // Every word hit is, lower-cased, one of the listed words.
        for span in scan.word_hits() {
            let found = normalise(&markup::unescape(span.of(text)));
            assert!(lexicon.words().contains(&found), "{found:?} in {text:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::property_test_config())]
        #[test]
        fn scanning_any_text_never_panics_and_spans_fall_on_char_boundaries(text in ".*") {
            assert_scan_is_sound(lexicon(), &text);
        }

        #[test]
        fn scanning_markup_heavy_text_never_panics_and_spans_fall_on_char_boundaries(
            text in "(<@U1>|<!here>|<#C1|x>|<https://a.b/asap\\|asap>|`|```|&gt;|>|\n|<|\\||&amp;|&|;|!| |asap|URGENT|Right now|ü|ÜBER|İ|ß|紧急|dringend|a|1)*"
        ) {
            let lexicon = UrgencyLexicon::with_words(["asap", "urgent", "right now", "über", "i", "紧急", "amp", "!!!"]).unwrap();
            assert_scan_is_sound(&lexicon, &text);
            assert_scan_is_sound(self::lexicon(), &text);
        }
    }
}

//! Input generators the targets share: text people paste (control characters, direction
//! marks, emoji, escapes), byte-level mutations of a known-good input, and JSON-level
//! mutations (a value swapped for one of another type, a field dropped, deep nesting).

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

/// Characters that break naive text handling: controls, zero-width and direction marks,
/// combining marks, multi-byte and astral characters, quotes, Slack's markup characters.
pub const NASTY_CHARS: &[char] = &[
    '\0',
    '\u{1}',
    '\u{7}',
    '\u{8}',
    '\t',
    '\n',
    '\r',
    '\u{b}',
    '\u{c}',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{9f}',
    '\u{a0}',
    '\u{ad}',
    '\u{200b}',
    '\u{200c}',
    '\u{200d}',
    '\u{200e}',
    '\u{200f}',
    '\u{2028}',
    '\u{2029}',
    '\u{202a}',
    '\u{202b}',
    '\u{202d}',
    '\u{202e}',
    '\u{2060}',
    '\u{2066}',
    '\u{2069}',
    '\u{3000}',
    '\u{feff}',
    '\u{fffd}',
    '\u{301}',
    '\u{20dd}',
    '\u{1f600}',
    '\u{1f468}',
    '\u{1f3fd}',
    '\u{fe0f}',
    '\u{e0067}',
    '\u{10ffff}',
    'İ',
    'ß',
    'ﬃ',
    'Σ',
    'ς',
    '\u{2013}',
    '\u{2014}',
    '\u{2212}',
    '\u{201c}',
    '\u{201d}',
    '\u{201e}',
    '"',
    '\'',
    '`',
    '<',
    '>',
    '&',
    '|',
    ';',
    ',',
    ':',
    '-',
    '@',
    '#',
    '!',
    '^',
    '/',
    '\\',
    '٠',
    '٩',
    '０',
    '９',
    '：',
    '＠',
    '＃',
    '\u{600}',
    '\u{61c}',
    'ا',
    'ש',
    '日',
    '至',
    '急',
];

/// One character: usually an ordinary one, often a nasty one.
pub fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(NASTY_CHARS),
        2 => prop::char::range('a', 'z'),
        1 => prop::char::range('0', '9'),
        1 => any::<char>(),
    ]
}

/// Text of up to `max` characters drawn from [`any_char`].
pub fn junk(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any_char(), 0..=max).prop_map(|chars| chars.into_iter().collect())
}

/// Short byte strings that mean something to JSON, forms or UTF-8 decoders.
const INTERESTING_BYTES: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"\\udc00\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-0",
    b"1e999",
    b"-1e999",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"0.0000000000000000000000001",
    b"\xff",
    b"\xc3",
    b"\xe2\x80",
    b"\xed\xa0\x80",
    b"\0",
    b"%",
    b"%ZZ",
    b"%ff",
    b"%00",
    b"&",
    b"=",
    b"+",
    b"&payload=",
    b"\r\n",
    b"\n",
    b" ",
    b"\xef\xbb\xbf",
    b"/*",
    b"NaN",
];

/// One change to a byte string. Positions are [`Index`]es, so one edit means something
/// whatever the length of the input it lands on.
#[derive(Debug, Clone)]
pub enum ByteEdit {
    Flip {
        at: Index,
        mask: u8,
    },
    Delete {
        at: Index,
        len: usize,
    },
    Duplicate {
        at: Index,
        len: usize,
    },
    Insert {
        at: Index,
        bytes: Vec<u8>,
    },
    Truncate {
        at: Index,
    },
    /// Wraps the whole input in `depth` arrays or objects.
    Nest {
        depth: usize,
        objects: bool,
    },
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        4 => (any::<Index>(), 1..=255u8).prop_map(|(at, mask)| ByteEdit::Flip { at, mask }),
        2 => (any::<Index>(), 1..64usize).prop_map(|(at, len)| ByteEdit::Delete { at, len }),
        2 => (any::<Index>(), 1..64usize).prop_map(|(at, len)| ByteEdit::Duplicate { at, len }),
        3 => (
            any::<Index>(),
            prop_oneof![
                prop::sample::select(INTERESTING_BYTES).prop_map(<[u8]>::to_vec),
                prop::collection::vec(any::<u8>(), 1..8),
            ]
        )
            .prop_map(|(at, bytes)| ByteEdit::Insert { at, bytes }),
        1 => any::<Index>().prop_map(|at| ByteEdit::Truncate { at }),
        1 => (prop_oneof![1..200usize, Just(129usize), 1000..20_000usize], any::<bool>())
            .prop_map(|(depth, objects)| ByteEdit::Nest { depth, objects }),
    ]
}

/// One to four byte edits.
pub fn byte_edits() -> impl Strategy<Value = Vec<ByteEdit>> {
    prop::collection::vec(byte_edit(), 1..=4)
}

pub fn apply_byte_edit(data: &mut Vec<u8>, edit: &ByteEdit) {
    let position = |at: &Index, data: &Vec<u8>| at.index(data.len() + 1);
    match edit {
        ByteEdit::Flip { at, mask } => {
            if !data.is_empty() {
                let i = at.index(data.len());
                data[i] ^= mask;
            }
        }
        ByteEdit::Delete { at, len } => {
            let start = position(at, data);
            let end = (start + len).min(data.len());
            data.drain(start..end);
        }
        ByteEdit::Duplicate { at, len } => {
            let start = position(at, data);
            let end = (start + len).min(data.len());
            let copy = data[start..end].to_vec();
            data.splice(end..end, copy);
        }
        ByteEdit::Insert { at, bytes } => {
            let at = position(at, data);
            data.splice(at..at, bytes.iter().copied());
        }
        ByteEdit::Truncate { at } => {
            let at = position(at, data);
            data.truncate(at);
        }
        ByteEdit::Nest { depth, objects } => {
            let (open, close): (&[u8], &[u8]) = match objects {
                true => (b"{\"a\":", b"}"),
                false => (b"[", b"]"),
            };
            let mut nested = open.repeat(*depth);
            nested.append(data);
            nested.extend(close.repeat(*depth));
            *data = nested;
        }
    }
}

pub fn apply_byte_edits(data: &mut Vec<u8>, edits: &[ByteEdit]) {
    for edit in edits {
        apply_byte_edit(data, edit);
    }
}

/// JSON values of every type, with the awkward members of each: numbers at the edges of
/// i64/u64/f64, strings that look like ids, times and markup, empty and nested containers.
pub fn odd_json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(i64::MIN),
            json!(i64::MAX),
            json!(u64::MAX),
            json!(1.5),
            json!(-0.0),
            json!(1e308),
            json!(-1e308),
            json!(5e-324),
            json!(1_709_524_086.073_7),
        ]),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "",
            " ",
            "message",
            "event_callback",
            "block_actions",
            "view_submission",
            "message_changed",
            "bot_message",
            "T111",
            "U111",
            "C111",
            "1709524086.073700",
            "-1709524086.073700",
            "99999999999999999999.999999",
            "1.",
            ".5",
            "<@U1|a> <!here> URGENT!!!",
            "null",
            "{}",
        ])
        .prop_map(Value::from),
        junk(24).prop_map(Value::String),
        Just(Value::String("x".repeat(70_000))),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "type", "text", "user", "ts", "id", "team", "team_id", "event", "channel",
                        "subtype", "message", "payload", "view", "state", "values", "actions",
                    ]),
                    inner
                ),
                0..4
            )
            .prop_map(|fields| Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect()
            )),
        ]
    })
}

/// One change to a JSON document: the `at`-th node replaced, or an entry of the `at`-th
/// array or object removed, or a field added to the `at`-th object.
#[derive(Debug, Clone)]
pub enum JsonEdit {
    Replace { at: Index, with: Value },
    Remove { at: Index, which: Index },
    Add { at: Index, key: String, with: Value },
}

pub fn json_edits() -> impl Strategy<Value = Vec<JsonEdit>> {
    let edit = prop_oneof![
        4 => (any::<Index>(), odd_json_value()).prop_map(|(at, with)| JsonEdit::Replace { at, with }),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(at, which)| JsonEdit::Remove { at, which }),
        1 => (any::<Index>(), "[a-z_]{1,12}", odd_json_value())
            .prop_map(|(at, key, with)| JsonEdit::Add { at, key, with }),
    ];
    prop::collection::vec(edit, 1..=4)
}

fn count_nodes(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `n`-th node in depth-first order (the root is 0).
fn nth_node<'a>(value: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
    if *n == 0 {
        return Some(value);
    }
    *n -= 1;
    match value {
        Value::Array(items) => items.iter_mut().find_map(|item| nth_node(item, n)),
        Value::Object(map) => map.values_mut().find_map(|item| nth_node(item, n)),
        _ => None,
    }
}

pub fn apply_json_edit(value: &mut Value, edit: &JsonEdit) {
    let mut n = match edit {
        JsonEdit::Replace { at, .. } | JsonEdit::Remove { at, .. } | JsonEdit::Add { at, .. } => {
            at.index(count_nodes(value))
        }
    };
    let Some(node) = nth_node(value, &mut n) else {
        return;
    };
    match edit {
        JsonEdit::Replace { with, .. } => *node = with.clone(),
        JsonEdit::Remove { which, .. } => match node {
            Value::Array(items) if !items.is_empty() => {
                items.remove(which.index(items.len()));
            }
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(which.index(map.len())).cloned();
                if let Some(key) = key {
                    map.remove(&key);
                }
            }
            _ => {}
        },
        JsonEdit::Add { key, with, .. } => {
            if let Value::Object(map) = node {
                map.insert(key.clone(), with.clone());
            }
        }
    }
}

pub fn apply_json_edits(value: &mut Value, edits: &[JsonEdit]) {
    for edit in edits {
        apply_json_edit(value, edit);
    }
}

//! Target 4: the export readers. The audit's Slack-export reader (`audit::run`, a folder or
//! a `.zip`) fed small exports cut from `examples/sample-export` and then damaged: bytes
//! flipped, cut and copied, JSON values of the wrong type, odd `ts` strings (threads
//! spanning the whole calendar chrono knows), missing lists, stray and nested folders, a day
//! file that is a folder, names that are not UTF-8, and zips with broken bytes. And the
//! store's `import`, fed edited export lines.
//!
//! The audit must finish with a report that names every day file it could not read, or with
//! a clear error when the export is not one; a folder and a zip of the same export give the
//! same report. An import either takes every record or writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use async_norms::audit::export::{ExportUser, ListedConversation, parse_day, parse_list};
use async_norms::audit::{AuditError, AuditOptions, run, summary};
use async_norms::store::{Store, StoreError};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

use crate::strategies::{
    ByteEdit, JsonEdit, apply_byte_edits, apply_json_edits, byte_edits, json_edits, junk,
    odd_json_value,
};

// ---------------------------------------------------------------------------------------------
// Exports in memory
// ---------------------------------------------------------------------------------------------

/// An export as paths (bytes, `/`-separated) to contents; `None` is an empty folder.
type Tree = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Named files, in order.
type Files = Vec<(String, Vec<u8>)>;

/// The sample export, read once: top-level lists and each folder's day files in order.
struct Sample {
    lists: Files,
    folders: Vec<(String, Files)>,
}

static SAMPLE: LazyLock<Sample> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-export");
    let mut lists = Vec::new();
    let mut folders = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&root)
        .expect("the sample export")
        .map(|e| e.expect("an entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut days: Vec<_> = std::fs::read_dir(&path)
                .expect("a channel folder")
                .map(|e| e.expect("an entry").path())
                .collect();
            days.sort();
            let days = days
                .into_iter()
                .map(|day| {
                    let file = day.file_name().unwrap().to_string_lossy().into_owned();
                    (file, std::fs::read(&day).expect("a day file"))
                })
                .collect();
            folders.push((name, days));
        } else {
            lists.push((name, std::fs::read(&path).expect("a list")));
        }
    }
    Sample { lists, folders }
});

/// Which part of the sample a case starts from: up to three folders, a few days of each.
fn base_tree(picks: &[(Index, Index, usize)]) -> Tree {
    let mut tree = Tree::new();
    for (name, bytes) in &SAMPLE.lists {
        tree.insert(name.clone().into_bytes(), Some(bytes.clone()));
    }
    for (folder, first_day, days) in picks {
        let (name, files) = &SAMPLE.folders[folder.index(SAMPLE.folders.len())];
        let start = first_day.index(files.len());
        for (file, bytes) in files.iter().skip(start).take(*days) {
            tree.insert(format!("{name}/{file}").into_bytes(), Some(bytes.clone()));
        }
    }
    tree
}

/// Timestamps a damaged export may hold: ordinary, malformed, and at the ends of the
/// calendar (chrono reaches about ±262,000 years).
fn odd_ts() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (-8_210_266_876_800i64..8_210_298_412_800, 0..1_000_000u32)
            .prop_map(|(secs, micros)| format!("{secs}.{micros:06}")),
        1 => (1_600_000_000i64..1_800_000_000).prop_map(|secs| format!("{secs}.000100")),
        1 => any::<i64>().prop_map(|secs| format!("{secs}.000000")),
        2 => prop::sample::select(
            &[
                "", ".", "1.", ".5", "-1.0", "1e9", "99999999999999999999", "-99999999999.999999",
                "-62135596800.000000", "-8210266876800.000000", "8210298412799.999999",
                "-9000000000000.000000", "253402300800.000000", "170953.1234567890123",
                "١٧٠٩٥٢٤٠٨٦.٠٧٣٧٠٠", "+1709524086.1", " 1709524086.1", "1709524086.-1",
                "1709524086..1", "0x10", "1709524086.000100\0", "9223372036854.775807",
                "-9223372036854.775808",
            ][..]
        )
        .prop_map(str::to_string),
    ]
}

const NOT_UTF8_PATHS: &[&[u8]] = &[
    b"general/\xff\xfe.json",
    b"\xff/2024-03-04.json",
    b"general/2024-03-0\xe9.json",
];

/// Paths a damaged export may add, relative to its top.
fn odd_path() -> impl Strategy<Value = Vec<u8>> {
    let folder = prop_oneof![
        prop::sample::select(
            &[
                "general",
                "random",
                "ops",
                "leads",
                "unlisted",
                "C0R2N8CZSX4",
                "général",
                "a b",
                ".",
                "sub/deeper"
            ][..]
        )
        .prop_map(str::to_string),
        "[a-z]{1,8}",
    ];
    let file = prop::sample::select(
        &[
            "2024-03-04.json",
            "2024-13-45.json",
            "0000-00-00.json",
            "2024-03-04.JSON",
            "2024-03-04.json.bak",
            "2024-3-4.json",
            "users.json",
            "notes.txt",
            ".json",
        ][..],
    );
    prop_oneof![
        4 => (folder, file.clone()).prop_map(|(folder, file)| format!("{folder}/{file}").into_bytes()),
        1 => file.prop_map(|file| file.as_bytes().to_vec()),
        1 => prop::sample::select(NOT_UTF8_PATHS).prop_map(<[u8]>::to_vec),
    ]
}

#[derive(Debug, Clone)]
enum ExportEdit {
    Bytes {
        file: Index,
        edits: Vec<ByteEdit>,
    },
    Json {
        file: Index,
        edits: Vec<JsonEdit>,
    },
    /// A thread whose parent and reply carry the given `ts` strings.
    Thread {
        file: Index,
        parent: Index,
        reply: Index,
        parent_ts: String,
        reply_ts: String,
    },
    Ts {
        file: Index,
        message: Index,
        thread: bool,
        ts: String,
    },
    Text {
        file: Index,
        message: Index,
        text: String,
    },
    Remove {
        file: Index,
    },
    RemoveList {
        name: &'static str,
    },
    Add {
        path: Vec<u8>,
        contents: Vec<u8>,
    },
    DayFileIsFolder {
        file: Index,
    },
}

fn export_edit() -> impl Strategy<Value = ExportEdit> {
    let contents = prop_oneof![
        Just(b"[]".to_vec()),
        Just(b"".to_vec()),
        Just(br#"[{"type":"message","user":"U081YY1N603","text":"URGENT <!here>","ts":"1709546400.000100"}]"#.to_vec()),
        odd_json_value().prop_map(|v| serde_json::to_vec(&v).expect("JSON encodes")),
        prop::collection::vec(any::<u8>(), 0..64),
    ];
    prop_oneof![
        4 => (any::<Index>(), byte_edits()).prop_map(|(file, edits)| ExportEdit::Bytes { file, edits }),
        4 => (any::<Index>(), json_edits()).prop_map(|(file, edits)| ExportEdit::Json { file, edits }),
        3 => (any::<Index>(), any::<Index>(), any::<Index>(), odd_ts(), odd_ts()).prop_map(
            |(file, parent, reply, parent_ts, reply_ts)| ExportEdit::Thread { file, parent, reply, parent_ts, reply_ts }
        ),
        2 => (any::<Index>(), any::<Index>(), any::<bool>(), odd_ts())
            .prop_map(|(file, message, thread, ts)| ExportEdit::Ts { file, message, thread, ts }),
        1 => (any::<Index>(), any::<Index>(), prop_oneof![junk(200), any::<String>()])
            .prop_map(|(file, message, text)| ExportEdit::Text { file, message, text }),
        1 => any::<Index>().prop_map(|file| ExportEdit::Remove { file }),
        1 => prop::sample::select(&["users.json", "channels.json", "groups.json"][..])
            .prop_map(|name| ExportEdit::RemoveList { name }),
        1 => (odd_path(), contents).prop_map(|(path, contents)| ExportEdit::Add { path, contents }),
        1 => any::<Index>().prop_map(|file| ExportEdit::DayFileIsFolder { file }),
    ]
}

fn file_paths(tree: &Tree) -> Vec<Vec<u8>> {
    tree.iter()
        .filter(|(_, contents)| contents.is_some())
        .map(|(path, _)| path.clone())
        .collect()
}

/// Applies `change` to the `message`-th message object of the `file`-th file, when it is a
/// JSON list of objects.
fn edit_message(tree: &mut Tree, file: &Index, change: impl FnOnce(&mut Vec<Value>)) {
    let paths = file_paths(tree);
    if paths.is_empty() {
        return;
    }
    let path = &paths[file.index(paths.len())];
    let Some(Some(bytes)) = tree.get_mut(path) else {
        return;
    };
    let Ok(mut messages) = serde_json::from_slice::<Vec<Value>>(bytes) else {
        return;
    };
    if messages.is_empty() {
        return;
    }
    change(&mut messages);
    *bytes = serde_json::to_vec_pretty(&messages).expect("JSON encodes");
}

fn set_field(message: &mut Value, field: &str, value: &str) {
    if let Some(map) = message.as_object_mut() {
        map.insert(field.to_string(), json!(value));
    }
}

fn apply_export_edit(tree: &mut Tree, edit: &ExportEdit) {
    let paths = file_paths(tree);
    let pick = |file: &Index| (!paths.is_empty()).then(|| paths[file.index(paths.len())].clone());
    match edit {
        ExportEdit::Bytes { file, edits } => {
            if let Some(Some(bytes)) = pick(file).and_then(|p| tree.get_mut(&p)) {
                apply_byte_edits(bytes, edits);
            }
        }
        ExportEdit::Json { file, edits } => {
            if let Some(Some(bytes)) = pick(file).and_then(|p| tree.get_mut(&p))
                && let Ok(mut value) = serde_json::from_slice::<Value>(bytes)
            {
                apply_json_edits(&mut value, edits);
                *bytes = serde_json::to_vec(&value).expect("JSON encodes");
            }
        }
        ExportEdit::Thread {
            file,
            parent,
            reply,
            parent_ts,
            reply_ts,
        } => {
            edit_message(tree, file, |messages| {
                let (p, r) = (parent.index(messages.len()), reply.index(messages.len()));
                let (p, r) = (p.min(r), p.max(r));
                set_field(&mut messages[p], "ts", parent_ts);
                set_field(&mut messages[p], "thread_ts", parent_ts);
                set_field(&mut messages[r], "thread_ts", parent_ts);
                if r != p {
                    set_field(&mut messages[r], "ts", reply_ts);
                    // Someone other than the author answers.
                    set_field(&mut messages[r], "user", "UREPLIER");
                }
            });
        }
        ExportEdit::Ts {
            file,
            message,
            thread,
            ts,
        } => edit_message(tree, file, |messages| {
            let i = message.index(messages.len());
            set_field(
                &mut messages[i],
                if *thread { "thread_ts" } else { "ts" },
                ts,
            );
        }),
        ExportEdit::Text {
            file,
            message,
            text,
        } => edit_message(tree, file, |messages| {
            let i = message.index(messages.len());
            set_field(&mut messages[i], "text", text);
        }),
        ExportEdit::Remove { file } => {
            if let Some(path) = pick(file) {
                tree.remove(&path);
            }
        }
        ExportEdit::RemoveList { name } => {
            tree.remove(name.as_bytes());
        }
        ExportEdit::Add { path, contents } => {
            // Never where a file or folder already is, nor under a file.
            let clashes = tree.contains_key(path)
                || tree.keys().any(|existing| {
                    existing.starts_with(path) && existing.get(path.len()) == Some(&b'/')
                })
                || (1..path.len()).any(|cut| {
                    path[cut] == b'/' && tree.get(&path[..cut]).is_some_and(Option::is_some)
                });
            if !clashes {
                tree.insert(path.clone(), Some(contents.clone()));
            }
        }
        ExportEdit::DayFileIsFolder { file } => {
            if let Some(path) = pick(file).filter(|p| p.ends_with(b".json") && p.contains(&b'/')) {
                tree.insert(path, None);
            }
        }
    }
}

fn os_path(root: &Path, relative: &[u8]) -> PathBuf {
    root.join(OsStr::from_bytes(relative))
}

fn write_folder(tree: &Tree, root: &Path) -> std::io::Result<()> {
    for (relative, contents) in tree {
        let path = os_path(root, relative);
        match contents {
            None => std::fs::create_dir_all(&path)?,
            Some(bytes) => {
                std::fs::create_dir_all(path.parent().unwrap_or(root))?;
                std::fs::write(&path, bytes)?;
            }
        }
    }
    Ok(())
}

/// The tree as a zip, every name under `prefix`. Folders become directory entries.
fn zip_bytes(tree: &Tree, prefix: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (relative, contents) in tree {
        let name = format!("{prefix}{}", String::from_utf8_lossy(relative));
        match contents {
            None => {
                let _ = zip.add_directory(name, options);
            }
            Some(bytes) => {
                if zip.start_file(name, options).is_ok() {
                    zip.write_all(bytes).expect("zip data");
                }
            }
        }
    }
    zip.finish().expect("a finished zip").into_inner()
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn audit(export: &Path, out: &Path) -> Result<async_norms::audit::Outcome, AuditError> {
    run(&AuditOptions {
        export: export.to_path_buf(),
        out: out.to_path_buf(),
        hours: None,
        norms: None,
        tz: None,
        include_dms: true,
        progress: false,
    })
}

/// The folder of a listed conversation's day files: the name, or the id when the name is
/// null or empty.
fn folder_of(listed: &ListedConversation) -> &str {
    match listed.name.as_deref() {
        Some(name) if !name.is_empty() => name,
        _ => &listed.id,
    }
}

fn is_day_file(name: &str) -> bool {
    name.strip_suffix(".json").is_some_and(|date| {
        date.len() == 10
            && date.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            })
    })
}

/// Whether users.json or channels.json is at the top of the export, which makes it one.
fn has_top_list(tree: &Tree) -> bool {
    [b"users.json".as_slice(), b"channels.json"]
        .iter()
        .any(|list| tree.get(*list).is_some_and(Option::is_some))
}

/// A folder name that means the same in a folder and in a zip.
fn is_plain_folder(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// Runs the audit on an export on disk and checks what it promises; `tree` is what was
/// written, when known. Returns the report for comparisons.
fn check_audit(
    export: &Path,
    tree: Option<&Tree>,
) -> Result<Option<async_norms::audit::analysis::Report>, TestCaseError> {
    let out = tempfile::tempdir().expect("a temp folder");
    let outcome = match audit(export, out.path()) {
        Ok(outcome) => outcome,
        // Day files, but not one message a person wrote: a clear error, the report written.
        Err(AuditError::NothingRead { .. }) => return Ok(None),
        Err(error) => {
            let message = error.to_string();
            prop_assert!(
                !message.trim().is_empty() && !message.contains('\n'),
                "{:?}",
                message
            );
            if let Some(tree) = tree {
                prop_assert!(
                    !has_top_list(tree),
                    "refused an export with a list: {}",
                    message
                );
            }
            return Ok(None);
        }
    };
    let report = &outcome.report;
    let _ = summary(&outcome);
    prop_assert!(outcome.html.is_file(), "no report.html");
    let Some(tree) = tree else {
        return Ok(Some(outcome.report));
    };
    let skipped: BTreeSet<&str> = report
        .skipped_files
        .iter()
        .map(|s| s.path.as_str())
        .collect();
    // Each list that is there but unreadable (not a JSON list) is named.
    if let Some(Some(users)) = tree.get(b"users.json".as_slice()) {
        let readable = parse_list::<ExportUser>(users, "members").is_ok();
        prop_assert_eq!(readable, !skipped.contains("users.json"), "users.json");
    }
    for list in ["channels.json", "groups.json"] {
        if let Some(Some(bytes)) = tree.get(list.as_bytes()) {
            // A list is named when it is not a JSON list, or when one of its conversations
            // has no folder that can be followed: its name, or its id when the name is null
            // or empty.
            let followed = parse_list::<ListedConversation>(bytes, "conversations")
                .is_ok_and(|listed| listed.iter().all(|c| is_plain_folder(folder_of(c))));
            prop_assert_eq!(followed, !skipped.contains(list), "{}", list);
        }
    }
    // No reason quotes the export: every reason is one of the reader's own sentences.
    for file in &report.skipped_files {
        prop_assert!(
            !file.reason.contains('"') && !file.reason.contains('`'),
            "{}: {}",
            file.path,
            file.reason
        );
    }
    // Every day file of a conversation read is either counted or named; a conversation's
    // folder is its name (the id for DMs, or when it has no name), inside its Grid
    // workspace's folder when it has one.
    let mut readable_messages = 0;
    for conversation in &report.conversations {
        let name = &conversation.name;
        if !is_plain_folder(name) {
            continue;
        }
        let folder = match &conversation.workspace {
            Some(workspace) => format!("{workspace}/{name}"),
            None => name.clone(),
        };
        let prefix = format!("{folder}/");
        for (path, contents) in tree.range(prefix.clone().into_bytes()..) {
            let Ok(path) = std::str::from_utf8(path) else {
                continue;
            };
            let Some(name) = path.strip_prefix(&prefix) else {
                break;
            };
            if !is_day_file(name) {
                continue;
            }
            let outcome = contents
                .as_ref()
                .map(|bytes| parse_day(bytes).map(|m| m.len()));
            match outcome {
                Some(Ok(count)) => {
                    readable_messages += count;
                    prop_assert!(!skipped.contains(path), "{} reads but was skipped", path);
                }
                // A folder named like a day file is read like one in an export folder; a zip
                // holds no folders, only names.
                None => {}
                Some(Err(_)) => prop_assert!(skipped.contains(path), "{} was not named", path),
            }
        }
    }
    let counted: usize = report
        .conversations
        .iter()
        .map(|c| c.totals.messages as usize)
        .sum();
    if report
        .conversations
        .iter()
        .all(|c| is_plain_folder(&c.name))
    {
        prop_assert!(
            counted <= readable_messages,
            "{} messages counted of {} readable",
            counted,
            readable_messages
        );
    }
    Ok(Some(outcome.report))
}

/// The same export as a folder and as a zip (`zip_is_whole` unless its bytes were damaged).
fn check_folder_and_zip(tree: &Tree, zip: &[u8], zip_is_whole: bool) -> Result<(), TestCaseError> {
    let temp = tempfile::tempdir().expect("a temp folder");
    let folder = temp.path().join("export");
    write_folder(tree, &folder).expect("the export is written");
    let from_folder = check_audit(&folder, Some(tree))?;
    let zip_path = temp.path().join("export.zip");
    std::fs::write(&zip_path, zip).expect("the zip is written");
    if !zip_is_whole {
        return check_audit(&zip_path, None).map(|_| ());
    }
    // Without a list at its top, a zip is read from the shallowest folder that has one.
    let from_zip = check_audit(&zip_path, has_top_list(tree).then_some(tree))?;
    // A zip holds no folders, only UTF-8 names, and keeps `.` as a name where a folder
    // resolves it: compare where the two hold the same.
    let same_contents = tree.iter().all(|(path, contents)| {
        contents.is_some()
            && std::str::from_utf8(path).is_ok_and(|p| p.split('/').all(|part| part != "."))
    });
    if let (Some(a), Some(b), true) = (&from_folder, &from_zip, same_contents)
        && a.conversations.iter().all(|c| is_plain_folder(&c.name))
        && a != b
    {
        return Err(TestCaseError::fail(format!(
            "a folder and a zip of the same export differ: {}",
            report_difference(a, b)
        )));
    }
    Ok(())
}

/// The top-level fields in which two reports differ, each value cut short.
fn report_difference(
    a: &async_norms::audit::analysis::Report,
    b: &async_norms::audit::analysis::Report,
) -> String {
    let (a, b) = (json!(a), json!(b));
    let short = |v: &Value| v.to_string().chars().take(300).collect::<String>();
    a.as_object()
        .into_iter()
        .flatten()
        .filter(|(key, value)| b.get(key.as_str()) != Some(*value))
        .map(|(key, value)| format!("{key}: folder {} / zip {}", short(value), short(&b[key])))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A saved audit input: a folder or a `.zip`, checked without knowing what it should hold.
pub fn check_audit_of(path: &Path) -> Result<(), TestCaseError> {
    let tree = match path.is_dir() {
        true => Some(read_folder(path).map_err(|e| TestCaseError::fail(e.to_string()))?),
        false => None,
    };
    check_audit(path, tree.as_ref()).map(|_| ())
}

/// A saved export folder read back as the tree that would have written it, so a saved case
/// gets every check a generated one gets.
fn read_folder(root: &Path) -> std::io::Result<Tree> {
    let mut tree = Tree::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let relative = relative.as_os_str().as_encoded_bytes().to_vec();
            if path.is_dir() {
                tree.insert(relative, None);
                pending.push(path);
            } else {
                tree.insert(relative, Some(std::fs::read(&path)?));
            }
        }
    }
    Ok(tree)
}

// ---------------------------------------------------------------------------------------------
// Store import
// ---------------------------------------------------------------------------------------------

const HEADER: &str = r#"{"format":"async-norms-export","schema_version":1}"#;

/// Whether the first line of an import file that is not blank is the header `export` writes.
fn has_header(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let first = text.lines().find(|line| !line.trim().is_empty());
    first
        .and_then(|line| serde_json::from_str::<Value>(line).ok())
        .is_some_and(|header| {
            header["format"] == "async-norms-export"
                && header["schema_version"].as_u64().is_some_and(|v| v <= 1)
        })
}

/// Every record line, as the store should hold it afterwards (the last line for a key wins).
fn expected_records(bytes: &[u8]) -> BTreeMap<(String, String), Value> {
    let text = String::from_utf8_lossy(bytes);
    let mut records = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()).skip(1) {
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let (Some(table), Some(key)) = (record["table"].as_str(), record["key"].as_str()) {
            records.insert(
                (table.to_string(), key.to_string()),
                record["value"].clone(),
            );
        }
    }
    records
}

fn exported_records(store: &Store) -> BTreeMap<(String, String), Value> {
    let mut dump = Vec::new();
    store.export(&mut dump).expect("the store exports");
    String::from_utf8(dump)
        .expect("exports are UTF-8")
        .lines()
        .skip(1)
        .map(|line| {
            let record: Value = serde_json::from_str(line).expect("export lines are JSON");
            let table = record["table"].as_str().expect("a table").to_string();
            let key = record["key"].as_str().expect("a key").to_string();
            ((table, key), record["value"].clone())
        })
        .collect()
}

/// One import file into a fresh store: every record or nothing, and never without the header.
pub fn check_import(bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("a temp folder");
    let store = Store::open(dir.path()).expect("a store");
    match store.import(bytes) {
        Ok(count) => {
            prop_assert!(
                has_header(bytes),
                "imported {} records from a file without the header",
                count
            );
            let expected = expected_records(bytes);
            prop_assert!(
                count >= expected.len(),
                "{} records imported of {}",
                count,
                expected.len()
            );
            prop_assert_eq!(exported_records(&store), expected);
        }
        Err(error) => {
            prop_assert!(
                matches!(error, StoreError::BadImport { .. } | StoreError::Io(_)),
                "{}",
                error
            );
            prop_assert!(!error.to_string().trim().is_empty());
            prop_assert!(
                exported_records(&store).is_empty(),
                "a refused import wrote records"
            );
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum LineEdit {
    Json { line: Index, edits: Vec<JsonEdit> },
    Blank { at: Index },
    Duplicate { line: Index },
    Remove { line: Index },
    Swap { a: Index, b: Index },
    Replace { line: Index, with: String },
}

fn line_edit() -> impl Strategy<Value = LineEdit> {
    let odd_line = prop_oneof![
        Just(String::new()),
        Just("   ".to_string()),
        Just(HEADER.to_string()),
        Just(r#"{"format":"async-norms-export","schema_version":2}"#.to_string()),
        Just(r#"{"format":"async-norms-export","schema_version":"1"}"#.to_string()),
        Just(r#"{"format":"async-norms-export"}"#.to_string()),
        Just(r#"{"table":"meta","key":"schema_version","value":9}"#.to_string()),
        Just(r#"{"table":"__sled__default","key":"k","value":1}"#.to_string()),
        Just(r#"{"table":"","key":"k","value":1}"#.to_string()),
        Just(r#"{"table":"t","key":"k"}"#.to_string()),
        Just(format!(
            r#"{{"table":"t","key":"{}","value":1}}"#,
            "k".repeat(100_000)
        )),
        odd_json_value().prop_map(|v| v.to_string()),
        junk(40),
    ];
    prop_oneof![
        4 => (any::<Index>(), json_edits()).prop_map(|(line, edits)| LineEdit::Json { line, edits }),
        1 => any::<Index>().prop_map(|at| LineEdit::Blank { at }),
        1 => any::<Index>().prop_map(|line| LineEdit::Duplicate { line }),
        1 => any::<Index>().prop_map(|line| LineEdit::Remove { line }),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| LineEdit::Swap { a, b }),
        2 => (any::<Index>(), odd_line).prop_map(|(line, with)| LineEdit::Replace { line, with }),
    ]
}

fn apply_line_edit(lines: &mut Vec<String>, edit: &LineEdit) {
    let pick = |at: &Index, lines: &Vec<String>| at.index(lines.len().max(1)).min(lines.len());
    match edit {
        LineEdit::Json { line, edits } => {
            let i = pick(line, lines);
            if let Some(text) = lines.get_mut(i)
                && let Ok(mut value) = serde_json::from_str::<Value>(text)
            {
                apply_json_edits(&mut value, edits);
                *text = value.to_string();
            }
        }
        LineEdit::Blank { at } => {
            let i = at.index(lines.len() + 1);
            lines.insert(i, String::new());
        }
        LineEdit::Duplicate { line } => {
            if let Some(text) = lines.get(pick(line, lines)).cloned() {
                lines.insert(pick(line, lines), text);
            }
        }
        LineEdit::Remove { line } => {
            let i = pick(line, lines);
            if i < lines.len() {
                lines.remove(i);
            }
        }
        LineEdit::Swap { a, b } => {
            let (a, b) = (pick(a, lines), pick(b, lines));
            if a < lines.len() && b < lines.len() {
                lines.swap(a, b);
            }
        }
        LineEdit::Replace { line, with } => {
            let i = pick(line, lines);
            match lines.get_mut(i) {
                Some(text) => *text = with.clone(),
                None => lines.push(with.clone()),
            }
        }
    }
}

/// An export file as `async-norms export` writes it, then edited line by line and byte by byte.
fn import_file() -> impl Strategy<Value = Vec<u8>> {
    let record = (
        prop::sample::select(&["hours", "norms", "checkins", "roles", "findings", "journal"][..]),
        "T[0-9]{1,2}/[A-Z0-9]{1,6}",
        odd_json_value(),
    )
        .prop_map(|(table, key, value)| {
            json!({ "table": table, "key": key, "value": value }).to_string()
        });
    (
        prop::collection::vec(record, 0..8),
        prop::collection::vec(line_edit(), 0..4),
        prop::option::weighted(0.25, byte_edits()),
        prop::sample::select(&["\n", "\r\n"][..]),
    )
        .prop_map(|(records, edits, bytes, newline)| {
            let mut lines = vec![HEADER.to_string()];
            lines.extend(records);
            for edit in &edits {
                apply_line_edit(&mut lines, edit);
            }
            let mut file = lines.join(newline).into_bytes();
            if let Some(bytes) = bytes {
                apply_byte_edits(&mut file, &bytes);
            }
            file
        })
}

proptest! {
    #![proptest_config(crate::config(24))]

    #[test]
    fn audit_reads_any_damaged_export_to_a_report_or_a_clear_error(
        picks in prop::collection::vec((any::<Index>(), any::<Index>(), 1..4usize), 1..=3),
        edits in prop::collection::vec(export_edit(), 0..5),
        zip_prefix in prop::sample::select(&["", "export/", "a/b/"][..]),
        zip_edits in prop::option::weighted(0.15, byte_edits()),
    ) {
        let mut tree = base_tree(&picks);
        for edit in &edits {
            apply_export_edit(&mut tree, edit);
        }
        let mut zip = zip_bytes(&tree, zip_prefix);
        if let Some(edits) = &zip_edits {
            apply_byte_edits(&mut zip, edits);
        }
        let save = |path: &Path| {
            write_folder(&tree, &path.join("export"))?;
            std::fs::write(path.join("export.zip"), &zip)
        };
        crate::keep_failing_input("audit-failure", save, || {
            check_folder_and_zip(&tree, &zip, zip_edits.is_none())
        })?;
    }

    #[test]
    fn store_import_takes_every_record_or_none(file in import_file()) {
        crate::keep_failing_bytes("import-failure.jsonl", &file, || check_import(&file))?;
    }
}

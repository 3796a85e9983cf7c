//! Reading a standard Slack export, a folder or the `.zip` Slack hands out, one file at a
//! time. An export can hold years of messages, so nothing here keeps more than one day file
//! in memory: the caller asks for the workspace's lists first ([`Export::workspace`]), then
//! for each conversation's day files in date order ([`Export::day_files`],
//! [`Export::read_day`]). A file that cannot be read or parsed becomes a [`SkippedFile`]
//! with its path and the reason; it never stops the audit.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Why an export could not be opened at all. Everything later is a [`SkippedFile`] instead.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}: no such file or folder; give the folder or .zip of a Slack export")]
    NotFound(PathBuf),
    #[error(
        "{0} is not a Slack export: it has neither users.json nor channels.json at its top level"
    )]
    NotAnExport(PathBuf),
    #[error("{path} is not a readable .zip ({reason}); give the export's folder or .zip")]
    UnreadableZip { path: PathBuf, reason: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A file of the export that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedFile {
    /// The path inside the export, with `/` separators (`general/2024-03-05.json`).
    pub path: String,
    pub reason: String,
}

/// A member as `users.json` lists them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExportUser {
    pub id: String,
    pub name: String,
    pub real_name: Option<String>,
    /// IANA zone from the profile; absent for some bots and old accounts.
    pub tz: Option<String>,
    pub tz_offset: Option<i64>,
    pub is_bot: bool,
    pub deleted: bool,
}

/// Which list a conversation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// `channels.json`: public channels.
    Channel,
    /// `groups.json`: private channels.
    Private,
    /// `mpims.json`: group direct messages.
    GroupDm,
    /// `dms.json`: direct messages.
    Dm,
}

/// A conversation as the export lists it, with the folder its day files are in.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: String,
    /// The channel's name; the id for direct messages, which have none.
    pub name: String,
    pub kind: ConversationKind,
    pub created: Option<i64>,
    pub members: Vec<String>,
    /// The folder holding `<YYYY-MM-DD>.json` files: the name, or the id for DMs.
    pub folder: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawConversation {
    id: String,
    name: Option<String>,
    created: Option<i64>,
    members: Option<Vec<String>>,
}

/// The workspace's lists: members and conversations.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub users: Vec<ExportUser>,
    pub conversations: Vec<Conversation>,
}

/// One message object of a day file, read leniently (every field optional) and borrowing
/// from the file's bytes where it can. Fields the audit does not use are skipped.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawMessage<'a> {
    #[serde(rename = "type", borrow, deserialize_with = "borrow_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "borrow_str")]
    pub subtype: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "borrow_str")]
    pub user: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "borrow_str")]
    pub bot_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "borrow_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "borrow_str")]
    pub ts: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "borrow_str")]
    pub thread_ts: Option<Cow<'a, str>>,
    pub reply_count: Option<u64>,
}

/// A string borrowed from the file when it has no escapes (most do not), owned otherwise.
/// Serde only borrows a `Cow` that is a field by itself, not one inside an `Option`.
fn borrow_str<'de, D>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Borrowed<'de>>::deserialize(deserializer)?.map(|b| b.0))
}

/// An opened export.
pub struct Export {
    source: Source,
}

enum Source {
    Folder(PathBuf),
    Zip {
        archive: Box<zip::ZipArchive<BufReader<File>>>,
        /// Entry index by path relative to the export's top level.
        entries: BTreeMap<String, usize>,
    },
}

/// Whether `folder` names one folder at the export's top level: not empty, not `.` or `..`,
/// no separators. The lists come from the export, so a name like `../elsewhere` would
/// otherwise have the audit read files outside it.
fn is_plain_folder(folder: &str) -> bool {
    !matches!(folder, "" | "." | "..") && !folder.contains(['/', '\\', '\0'])
}

/// Whether `name` is a day file's name, `YYYY-MM-DD.json`.
fn is_day_file(name: &str) -> bool {
    let Some(date) = name.strip_suffix(".json") else {
        return false;
    };
    let bytes = date.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

impl Export {
    /// Opens a folder or a `.zip`. The zip's directory is read once; a zip whose files sit
    /// under one top folder (as some tools write them) is read from that folder.
    pub fn open(path: &Path) -> Result<Export, ExportError> {
        let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ExportError::NotFound(path.to_path_buf()),
            _ => ExportError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        })?;
        let export = if metadata.is_dir() {
            Export {
                source: Source::Folder(path.to_path_buf()),
            }
        } else {
            Self::open_zip(path)?
        };
        if !export.has("users.json") && !export.has("channels.json") {
            return Err(ExportError::NotAnExport(path.to_path_buf()));
        }
        Ok(export)
    }

    fn open_zip(path: &Path) -> Result<Export, ExportError> {
        let unreadable = |reason: String| ExportError::UnreadableZip {
            path: path.to_path_buf(),
            reason,
        };
        let file = File::open(path).map_err(|e| ExportError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let archive =
            zip::ZipArchive::new(BufReader::new(file)).map_err(|e| unreadable(e.to_string()))?;
        let mut names = Vec::with_capacity(archive.len());
        for index in 0..archive.len() {
            match archive.name_for_index(index) {
                Some(Ok(name)) if !name.ends_with('/') => names.push((name.into_owned(), index)),
                Some(Err(e)) => return Err(unreadable(e.to_string())),
                _ => {}
            }
        }
        // The top level is where users.json or channels.json is, the shallowest one.
        let prefix = names
            .iter()
            .filter_map(|(name, _)| {
                name.strip_suffix("users.json")
                    .or_else(|| name.strip_suffix("channels.json"))
                    .filter(|p| p.is_empty() || p.ends_with('/'))
            })
            .min_by_key(|p| p.len())
            .unwrap_or("")
            .to_string();
        let entries = names
            .into_iter()
            .filter_map(|(name, index)| Some((name.strip_prefix(&prefix)?.to_string(), index)))
            .collect();
        Ok(Export {
            source: Source::Zip {
                archive: Box::new(archive),
                entries,
            },
        })
    }

    fn has(&self, relative: &str) -> bool {
        match &self.source {
            Source::Folder(root) => root.join(relative).is_file(),
            Source::Zip { entries, .. } => entries.contains_key(relative),
        }
    }

    /// Reads one file into `buf` (replacing its contents). `Ok(false)` when it is absent.
    fn read(&mut self, relative: &str, buf: &mut Vec<u8>) -> Result<bool, String> {
        buf.clear();
        match &mut self.source {
            Source::Folder(root) => {
                let path = root.join(relative);
                match File::open(&path) {
                    Ok(mut file) => file
                        .read_to_end(buf)
                        .map(|_| true)
                        .map_err(|e| e.to_string()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                    Err(e) => Err(e.to_string()),
                }
            }
            Source::Zip { archive, entries } => {
                let Some(&index) = entries.get(relative) else {
                    return Ok(false);
                };
                let mut entry = archive.by_index(index).map_err(|e| e.to_string())?;
                entry
                    .read_to_end(buf)
                    .map(|_| true)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Reads a top-level list (`users.json`, …); `None` when absent or unreadable, in which
    /// case an unreadable one is recorded in `skipped`.
    fn read_list<T: DeserializeOwned>(
        &mut self,
        relative: &str,
        skipped: &mut Vec<SkippedFile>,
    ) -> Option<Vec<T>> {
        let mut buf = Vec::new();
        let outcome = self.read(relative, &mut buf).and_then(|present| {
            if !present {
                return Ok(None);
            }
            serde_json::from_slice::<Vec<T>>(&buf)
                .map(Some)
                .map_err(|e| format!("not a JSON list of the expected objects: {e}"))
        });
        outcome.unwrap_or_else(|reason| {
            skipped.push(SkippedFile {
                path: relative.to_string(),
                reason,
            });
            None
        })
    }

    /// The members and conversations: `users.json`, then conversations from `channels.json`,
    /// `groups.json`, `mpims.json` and `dms.json`, in that order, each when present.
    pub fn workspace(&mut self, skipped: &mut Vec<SkippedFile>) -> Workspace {
        let users = self
            .read_list::<ExportUser>("users.json", skipped)
            .unwrap_or_default();
        let mut conversations = Vec::new();
        let lists = [
            ("channels.json", ConversationKind::Channel),
            ("groups.json", ConversationKind::Private),
            ("mpims.json", ConversationKind::GroupDm),
            ("dms.json", ConversationKind::Dm),
        ];
        for (file, kind) in lists {
            let Some(list) = self.read_list::<RawConversation>(file, skipped) else {
                continue;
            };
            for raw in list {
                // A conversation without a name (a DM, or a list entry whose name is null or
                // empty) lives in the folder named by its id.
                let (name, folder) = match (kind, raw.name) {
                    (ConversationKind::Dm, _) | (_, None) => (raw.id.clone(), raw.id.clone()),
                    (_, Some(name)) if name.is_empty() => (raw.id.clone(), raw.id.clone()),
                    (_, Some(name)) => (name.clone(), name),
                };
                if !is_plain_folder(&folder) {
                    skipped.push(SkippedFile {
                        path: file.to_string(),
                        reason: format!(
                            "conversation {}: {folder:?} is not a folder name, so its messages were not read",
                            raw.id
                        ),
                    });
                }
                conversations.push(Conversation {
                    id: raw.id,
                    name,
                    kind,
                    created: raw.created,
                    members: raw.members.unwrap_or_default(),
                    folder,
                });
            }
        }
        Workspace {
            users,
            conversations,
        }
    }

    /// The day files of a conversation's folder, as paths inside the export, oldest first;
    /// none for a folder that is not a plain name at the export's top level.
    pub fn day_files(&self, folder: &str) -> Vec<String> {
        if !is_plain_folder(folder) {
            return Vec::new();
        }
        let mut files: Vec<String> = match &self.source {
            Source::Folder(root) => std::fs::read_dir(root.join(folder))
                .into_iter()
                .flatten()
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| is_day_file(name))
                .map(|name| format!("{folder}/{name}"))
                .collect(),
            Source::Zip { entries, .. } => {
                let prefix = format!("{folder}/");
                entries
                    .range(prefix.clone()..)
                    .map(|(name, _)| name)
                    .take_while(|name| name.starts_with(&prefix))
                    .filter(|name| is_day_file(&name[prefix.len()..]))
                    .cloned()
                    .collect()
            }
        };
        files.sort_unstable();
        files
    }

    /// Folders holding day files that no list names, so the report can say they were left
    /// out.
    pub fn unlisted_folders(&self, workspace: &Workspace) -> Vec<String> {
        let listed = |name: &str| workspace.conversations.iter().any(|c| c.folder == name);
        let mut folders: Vec<String> = match &self.source {
            Source::Folder(root) => std::fs::read_dir(root)
                .into_iter()
                .flatten()
                .filter_map(|entry| {
                    let entry = entry.ok()?;
                    entry.file_type().ok()?.is_dir().then_some(())?;
                    entry.file_name().into_string().ok()
                })
                .collect(),
            Source::Zip { entries, .. } => entries
                .keys()
                .filter_map(|name| name.split_once('/').map(|(folder, _)| folder.to_string()))
                .collect(),
        };
        folders.sort_unstable();
        folders.dedup();
        folders.retain(|folder| !listed(folder) && !self.day_files(folder).is_empty());
        folders
    }

    /// Reads one day file into `buf` and parses its messages, borrowing from `buf`. A file
    /// that cannot be read or is not a JSON list of message objects is an `Err` with the
    /// reason, and nothing of it is used.
    pub fn read_day<'b>(
        &mut self,
        relative: &str,
        buf: &'b mut Vec<u8>,
    ) -> Result<Vec<RawMessage<'b>>, String> {
        match self.read(relative, buf) {
            Ok(true) => {}
            Ok(false) => return Err("the file disappeared while the export was read".into()),
            Err(reason) => return Err(reason),
        }
        serde_json::from_slice::<Vec<RawMessage<'b>>>(buf)
            .map_err(|e| format!("not a JSON list of messages: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_name_is_a_folder() {
        assert!(is_plain_folder("general"));
        assert!(is_plain_folder("D0123"));
        assert!(is_plain_folder("release.notes"));
        for name in ["", ".", "..", "../elsewhere", "a/b", "/etc", "a\\b", "a\0b"] {
            assert!(!is_plain_folder(name), "{name:?}");
        }
    }

    #[test]
    fn day_file_names_are_dates() {
        assert!(is_day_file("2024-03-05.json"));
        assert!(!is_day_file("2024-3-5.json"));
        assert!(!is_day_file("users.json"));
        assert!(!is_day_file("2024-03-05.json.bak"));
    }

    #[test]
    fn a_message_borrows_its_text_and_ignores_other_fields() {
        let bytes = br#"[{"type":"message","user":"U1","text":"hi <@U2>","ts":"1.000100",
            "blocks":[{"type":"rich_text"}],"reply_count":2}]"#;
        let messages: Vec<RawMessage<'_>> = serde_json::from_slice(bytes).unwrap();
        assert!(matches!(messages[0].text, Some(Cow::Borrowed("hi <@U2>"))));
        assert_eq!(messages[0].reply_count, Some(2));
    }
}

//! Reading a Slack export, a folder or the `.zip` Slack hands out, one file at a time. An
//! export can hold years of messages, so nothing here keeps more than one day file in
//! memory: the caller asks for the workspace's lists first ([`Export::workspace`]), then for
//! each conversation's day files in date order ([`Export::day_files`], [`Export::read_day`]).
//!
//! Exports in the wild differ: Slack's own (several eras and plans; an Enterprise Grid org
//! export has `org_users.json` and a folder per workspace with its own lists) and tools such
//! as slackdump write the same layout with other field types, extra fields and `null`s. Only
//! what the audit needs is read, leniently ([`lenient`](super::lenient)). A file that cannot
//! be read becomes a [`SkippedFile`] with its path and a reason that never quotes its
//! content; it never stops the audit. A list that cannot be read is named, and the folders
//! beside it are read as unlisted conversations rather than not at all.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::audit::lenient::{self, Entry};

/// The largest day file read; a larger one is skipped and named (Slack writes one file per
/// conversation and day, so a real one is far smaller, and memory stays bounded).
pub const MAX_DAY_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The largest list (`users.json`, `channels.json`…) read: a large org's member list with
/// full profiles runs to hundreds of megabytes.
pub(crate) const MAX_LIST_BYTES: u64 = 1024 * 1024 * 1024;

/// The lists of members an export may have at its top (`org_users.json`: Enterprise Grid).
const USER_LISTS: [&str; 2] = ["users.json", "org_users.json"];

/// Why an export could not be opened at all. Everything later is a [`SkippedFile`] instead.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}: no such file or folder; give the folder or .zip of a Slack export")]
    NotFound(PathBuf),
    #[error(
        "{0} is not a Slack export: it has neither users.json, org_users.json nor channels.json at its top level"
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
    /// Why, in words; never the file's content.
    pub reason: String,
}

/// A member as `users.json` (or `org_users.json`) lists them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExportUser {
    #[serde(deserialize_with = "lenient::text_or_empty")]
    pub(crate) id: String,
    #[serde(deserialize_with = "lenient::text_or_empty")]
    pub(crate) name: String,
    #[serde(deserialize_with = "lenient::owned_text")]
    pub(crate) real_name: Option<String>,
    /// IANA zone from the profile; absent for some bots and old accounts.
    #[serde(deserialize_with = "lenient::owned_text")]
    pub(crate) tz: Option<String>,
    #[serde(deserialize_with = "lenient::integer")]
    pub(crate) tz_offset: Option<i64>,
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) is_bot: bool,
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) deleted: bool,
}

/// Which list a conversation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConversationKind {
    /// `channels.json`: public channels.
    Channel,
    /// `groups.json`: private channels.
    Private,
    /// `mpims.json`: group direct messages.
    GroupDm,
    /// `dms.json`: direct messages.
    Dm,
    /// A folder of day files that no readable list names, read because a list could not be.
    Unlisted,
}

impl ConversationKind {
    /// Direct and group messages: left out of an audit unless asked for.
    pub(crate) fn is_private_message(self) -> bool {
        matches!(self, ConversationKind::GroupDm | ConversationKind::Dm)
    }
}

/// A conversation as the export lists it, with the folder its day files are in.
#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    pub(crate) id: String,
    /// The channel's name; the id for direct messages and conversations listed without one.
    pub(crate) name: String,
    pub(crate) kind: ConversationKind,
    pub(crate) members: Vec<String>,
    /// The folder holding `<YYYY-MM-DD>.json` files, inside the export: the name (the id
    /// without one), under the workspace's folder in an Enterprise Grid export.
    pub(crate) folder: String,
    /// The workspace folder of an Enterprise Grid export; `None` at the export's top.
    pub(crate) workspace: Option<String>,
}

/// An entry of `channels.json`, `groups.json`, `mpims.json` or `dms.json`: only what the
/// audit uses, every field optional and read leniently.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListedConversation {
    #[serde(deserialize_with = "lenient::text_or_empty")]
    pub id: String,
    #[serde(deserialize_with = "lenient::owned_text")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::integer")]
    pub(crate) created: Option<i64>,
    #[serde(deserialize_with = "lenient::ids")]
    pub(crate) members: Vec<String>,
}

/// Reads a list file's bytes: the objects of a JSON list, anything else in it left out; an
/// `Err` (with a reason that quotes nothing) when the bytes are not a JSON list.
pub fn parse_list<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
) -> Result<Vec<T>, String> {
    serde_json::from_slice::<Vec<Entry<T>>>(bytes)
        .map(|entries| entries.into_iter().filter_map(|e| e.0).collect())
        .map_err(|e| lenient::describe(&e, what))
}

/// Reads a day file's bytes: its messages, borrowing from the bytes; an entry that is not an
/// object is kept as an empty message (counted as unreadable). An `Err` when the bytes are
/// not a JSON list.
pub fn parse_day(bytes: &[u8]) -> Result<Vec<RawMessage<'_>>, String> {
    serde_json::from_slice::<Vec<Entry<RawMessage<'_>>>>(bytes)
        .map(|entries| {
            entries
                .into_iter()
                .map(|e| e.0.unwrap_or_default())
                .collect()
        })
        .map_err(|e| lenient::describe(&e, "messages"))
}

/// The workspace's lists: members and conversations.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workspace {
    pub(crate) users: Vec<ExportUser>,
    /// Whether a list of members was read. Without one, members are known only by the ids
    /// the conversations and messages name, and none has a known zone.
    pub(crate) users_listed: bool,
    /// The conversations to read, in list order (channels, private channels, group DMs,
    /// DMs; then folders read as unlisted), top level first, then each Grid workspace.
    pub(crate) conversations: Vec<Conversation>,
    /// Folders of direct and group messages left out because they were not asked for.
    pub(crate) private_folders: Vec<String>,
    /// Folders with day files that no list names and that were not read.
    pub(crate) unlisted_folders: Vec<String>,
}

/// One message object of a day file, read leniently (every field optional, numbers and
/// strings either way) and borrowing from the file's bytes where it can. Fields the audit
/// does not use are skipped.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawMessage<'a> {
    #[serde(rename = "type", borrow, deserialize_with = "lenient::text")]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub(crate) subtype: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub(crate) user: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub(crate) bot_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub(crate) ts: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "lenient::text")]
    pub(crate) thread_ts: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::count")]
    pub(crate) reply_count: Option<u64>,
}

/// An opened export.
pub(crate) struct Export {
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

/// Whether `folder` names one folder: not empty, not `.` or `..`, no separators. The lists
/// come from the export, so a name like `../elsewhere` would otherwise have the audit read
/// files outside it.
fn is_plain_folder(folder: &str) -> bool {
    !matches!(folder, "" | "." | "..") && !folder.contains(['/', '\\', '\0'])
}

/// Whether `folder` is a conversation's folder path the reader built: one plain name, or a
/// Grid workspace's plain name and one below it.
fn is_conversation_folder(folder: &str) -> bool {
    let parts: Vec<&str> = folder.split('/').collect();
    parts.len() <= 2 && parts.iter().all(|p| is_plain_folder(p))
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

/// Which kind of private conversation a folder name looks like, for folders no list names:
/// Slack names a DM's folder by its id (`D…`) and a group DM's by `mpdm-…`.
fn private_kind_of_folder(name: &str) -> Option<ConversationKind> {
    if name.starts_with("mpdm-") {
        return Some(ConversationKind::GroupDm);
    }
    let is_dm_id = name.len() >= 9
        && name.starts_with('D')
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    is_dm_id.then_some(ConversationKind::Dm)
}

/// Why something at a file's place is not read: anything but a regular file. Symbolic links
/// are not followed (they may point outside the export), and a FIFO or device would block or
/// never end.
fn not_a_regular_file(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_symlink() {
        return Some("a symbolic link, which the audit does not follow");
    }
    if file_type.is_dir() {
        return Some("a folder where a file was expected");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe), not a regular file");
        }
        if file_type.is_socket() {
            return Some("a socket, not a regular file");
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return Some("a device, not a regular file");
        }
    }
    Some("not a regular file")
}

fn too_large(size: u64, limit: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    format!(
        "larger than the {} MiB a file may have ({} MiB)",
        limit / MIB,
        size.div_ceil(MIB)
    )
}

/// Reads at most `limit` bytes into `buf`; more is an error (a zip's stated size can lie).
fn read_limited(reader: impl Read, buf: &mut Vec<u8>, limit: u64) -> Result<(), String> {
    reader
        .take(limit.saturating_add(1))
        .read_to_end(buf)
        .map_err(|e| e.to_string())?;
    match buf.len() as u64 > limit {
        true => Err(too_large(buf.len() as u64, limit)),
        false => Ok(()),
    }
}

impl Export {
    /// Opens a folder or a `.zip`. The zip's directory is read once; a zip whose files sit
    /// under one top folder (as some tools write them) is read from that folder.
    pub(crate) fn open(path: &Path) -> Result<Export, ExportError> {
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
        let is_export = USER_LISTS
            .iter()
            .chain(&["channels.json"])
            .any(|list| export.has(list));
        if !is_export {
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
        // The top level is where a member or channel list is, the shallowest one.
        let prefix = names
            .iter()
            .filter_map(|(name, _)| {
                USER_LISTS
                    .iter()
                    .chain(&["channels.json"])
                    .filter_map(|list| name.strip_suffix(list))
                    .find(|p| p.is_empty() || p.ends_with('/'))
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

    /// Reads one file into `buf` (replacing its contents), at most `limit` bytes.
    /// `Ok(false)` when it is absent; an `Err` with the reason when it is not a regular file,
    /// is larger than `limit` or cannot be read.
    fn read(&mut self, relative: &str, buf: &mut Vec<u8>, limit: u64) -> Result<bool, String> {
        buf.clear();
        match &mut self.source {
            Source::Folder(root) => {
                let path = root.join(relative);
                let metadata = match std::fs::symlink_metadata(&path) {
                    Ok(metadata) => metadata,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                    Err(e) => return Err(e.to_string()),
                };
                if let Some(why) = not_a_regular_file(metadata.file_type()) {
                    return Err(why.to_string());
                }
                if metadata.len() > limit {
                    return Err(too_large(metadata.len(), limit));
                }
                let file = File::open(&path).map_err(|e| e.to_string())?;
                read_limited(file, buf, limit).map(|()| true)
            }
            Source::Zip { archive, entries } => {
                let Some(&index) = entries.get(relative) else {
                    return Ok(false);
                };
                let entry = archive.by_index(index).map_err(|e| e.to_string())?;
                if entry.is_symlink() {
                    return Err("a symbolic link, which the audit does not follow".to_string());
                }
                if entry.size() > limit {
                    return Err(too_large(entry.size(), limit));
                }
                read_limited(entry, buf, limit).map(|()| true)
            }
        }
    }

    /// Reads a list (`users.json`, …); an unreadable one is recorded in `skipped`.
    fn read_list<T: serde::de::DeserializeOwned>(
        &mut self,
        relative: &str,
        what: &str,
        skipped: &mut Vec<SkippedFile>,
    ) -> ListRead<T> {
        let mut buf = Vec::new();
        let outcome =
            self.read(relative, &mut buf, MAX_LIST_BYTES)
                .and_then(|present| match present {
                    true => parse_list(&buf, what).map(Some),
                    false => Ok(None),
                });
        match outcome {
            Ok(Some(list)) => ListRead::Read(list),
            Ok(None) => ListRead::Absent,
            Err(reason) => {
                skipped.push(SkippedFile {
                    path: relative.to_string(),
                    reason,
                });
                ListRead::Unreadable
            }
        }
    }

    /// The plain-named folders directly inside `scope` (the top level when `None`); symbolic
    /// links are not followed.
    fn subfolders(&self, scope: Option<&str>) -> Vec<String> {
        let mut folders: Vec<String> = match &self.source {
            Source::Folder(root) => {
                let dir = scope.map_or_else(|| root.clone(), |scope| root.join(scope));
                std::fs::read_dir(dir)
                    .into_iter()
                    .flatten()
                    .filter_map(|entry| {
                        let entry = entry.ok()?;
                        entry.file_type().ok()?.is_dir().then_some(())?;
                        entry.file_name().into_string().ok()
                    })
                    .collect()
            }
            Source::Zip { entries, .. } => {
                let prefix = scope.map_or_else(String::new, |scope| format!("{scope}/"));
                entries
                    .range(prefix.clone()..)
                    .map(|(name, _)| name)
                    .take_while(|name| name.starts_with(&prefix))
                    .filter_map(|name| {
                        let (folder, _) = name[prefix.len()..].split_once('/')?;
                        Some(folder.to_string())
                    })
                    .collect()
            }
        };
        folders.retain(|folder| is_plain_folder(folder));
        folders.sort_unstable();
        folders.dedup();
        folders
    }

    /// An Enterprise Grid org export's workspace folders: top-level folders with lists of
    /// their own.
    fn grid_workspaces(&self) -> Vec<String> {
        let mut workspaces = self.subfolders(None);
        workspaces.retain(|folder| {
            CONVERSATION_LISTS
                .iter()
                .map(|(list, _)| *list)
                .chain(USER_LISTS)
                .any(|list| self.has(&format!("{folder}/{list}")))
        });
        workspaces
    }

    /// The members and conversations. Members: `users.json` and `org_users.json` (an id
    /// listed twice counts once). Conversations: from `channels.json`, `groups.json`,
    /// `mpims.json` and `dms.json`, in that order, each when present, at the top and then in
    /// each Grid workspace's folder. Direct and group messages are left out unless
    /// `include_dms`. When a conversation list cannot be read, or there is none, the folders
    /// of day files that no list names are read as unlisted conversations.
    pub(crate) fn workspace(
        &mut self,
        include_dms: bool,
        skipped: &mut Vec<SkippedFile>,
    ) -> Workspace {
        let grid = self.grid_workspaces();
        let scopes: Vec<Option<String>> = std::iter::once(None)
            .chain(grid.iter().cloned().map(Some))
            .collect();
        let mut workspace = Workspace::default();
        let mut user_ids = BTreeSet::new();
        let (mut any_list, mut list_failed) = (false, false);
        for scope in &scopes {
            let at = |file: &str| match scope {
                Some(scope) => format!("{scope}/{file}"),
                None => file.to_string(),
            };
            for list in USER_LISTS {
                if let ListRead::Read(users) =
                    self.read_list::<ExportUser>(&at(list), "members", skipped)
                {
                    workspace.users_listed = true;
                    let new = users
                        .into_iter()
                        .filter(|user| !user.id.is_empty() && user_ids.insert(user.id.clone()));
                    workspace.users.extend(new);
                }
            }
            for (file, kind) in CONVERSATION_LISTS {
                let list =
                    match self.read_list::<ListedConversation>(&at(file), "conversations", skipped)
                    {
                        ListRead::Absent => continue,
                        ListRead::Unreadable => {
                            (any_list, list_failed) = (true, true);
                            continue;
                        }
                        ListRead::Read(list) => {
                            any_list = true;
                            list
                        }
                    };
                for (position, listed) in list.into_iter().enumerate() {
                    // DMs have no name; a conversation listed without one is in the folder
                    // named by its id.
                    let name = match (kind, listed.name) {
                        (ConversationKind::Dm, _) | (_, None) => listed.id.clone(),
                        (_, Some(name)) if name.is_empty() => listed.id.clone(),
                        (_, Some(name)) => name,
                    };
                    if !is_plain_folder(&name) {
                        skipped.push(SkippedFile {
                            path: at(file),
                            reason: format!(
                                "entry {} is named with no plain folder name (empty, . or .., or holding a slash), so its messages were not read",
                                position + 1
                            ),
                        });
                        continue;
                    }
                    let folder = at(&name);
                    if kind.is_private_message() && !include_dms {
                        workspace.private_folders.push(folder);
                        continue;
                    }
                    workspace.conversations.push(Conversation {
                        id: listed.id,
                        name,
                        kind,
                        members: listed.members,
                        folder,
                        workspace: scope.clone(),
                    });
                }
            }
        }

        // Folders of day files that no list names.
        let listed: BTreeSet<String> = workspace
            .conversations
            .iter()
            .map(|c| c.folder.clone())
            .chain(workspace.private_folders.iter().cloned())
            .collect();
        let read_unlisted = list_failed || !any_list;
        for scope in &scopes {
            for name in self.subfolders(scope.as_deref()) {
                if scope.is_none() && grid.contains(&name) {
                    continue;
                }
                let folder = match scope {
                    Some(scope) => format!("{scope}/{name}"),
                    None => name.clone(),
                };
                if listed.contains(&folder) || self.day_files(&folder).is_ok_and(|f| f.is_empty()) {
                    continue;
                }
                match private_kind_of_folder(&name) {
                    Some(_) if !include_dms => workspace.private_folders.push(folder),
                    _ if !read_unlisted => workspace.unlisted_folders.push(folder),
                    kind => workspace.conversations.push(Conversation {
                        id: name.clone(),
                        name,
                        kind: kind.unwrap_or(ConversationKind::Unlisted),
                        members: Vec::new(),
                        folder,
                        workspace: scope.clone(),
                    }),
                }
            }
        }
        workspace
    }

    /// The day files of a conversation's folder, as paths inside the export, oldest first;
    /// none for a folder that is absent or not one the reader built. A folder that is a
    /// symbolic link is not followed: an `Err` with the reason.
    pub(crate) fn day_files(&self, folder: &str) -> Result<Vec<String>, String> {
        if !is_conversation_folder(folder) {
            return Ok(Vec::new());
        }
        let mut files: Vec<String> = match &self.source {
            Source::Folder(root) => {
                let path = root.join(folder);
                match std::fs::symlink_metadata(&path) {
                    Ok(m) if m.file_type().is_symlink() => {
                        return Err("a symbolic link, which the audit does not follow".into());
                    }
                    Ok(m) if m.is_dir() => {}
                    _ => return Ok(Vec::new()),
                }
                std::fs::read_dir(path)
                    .into_iter()
                    .flatten()
                    .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                    .filter(|name| is_day_file(name))
                    .map(|name| format!("{folder}/{name}"))
                    .collect()
            }
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
        Ok(files)
    }

    /// Reads one day file into `buf` and parses its messages, borrowing from `buf`. A file
    /// that cannot be read, is not a regular file, is larger than [`MAX_DAY_FILE_BYTES`] or
    /// is not a JSON list is an `Err` with the reason, and nothing of it is used.
    pub(crate) fn read_day<'b>(
        &mut self,
        relative: &str,
        buf: &'b mut Vec<u8>,
    ) -> Result<Vec<RawMessage<'b>>, String> {
        match self.read(relative, buf, MAX_DAY_FILE_BYTES) {
            Ok(true) => {}
            Ok(false) => return Err("the file disappeared while the export was read".into()),
            Err(reason) => return Err(reason),
        }
        parse_day(buf)
    }
}

/// The lists of conversations, in the order the report shows them.
const CONVERSATION_LISTS: [(&str, ConversationKind); 4] = [
    ("channels.json", ConversationKind::Channel),
    ("groups.json", ConversationKind::Private),
    ("mpims.json", ConversationKind::GroupDm),
    ("dms.json", ConversationKind::Dm),
];

enum ListRead<T> {
    Absent,
    Unreadable,
    Read(Vec<T>),
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
        assert!(is_conversation_folder("acme/general"));
        assert!(!is_conversation_folder("a/b/c"));
        assert!(!is_conversation_folder("acme/.."));
    }

    #[test]
    fn day_file_names_are_dates() {
        assert!(is_day_file("2024-03-05.json"));
        assert!(!is_day_file("2024-3-5.json"));
        assert!(!is_day_file("users.json"));
        assert!(!is_day_file("2024-03-05.json.bak"));
    }

    #[test]
    fn private_folders_are_known_by_their_names() {
        assert_eq!(
            private_kind_of_folder("D0123ABCD"),
            Some(ConversationKind::Dm)
        );
        assert_eq!(
            private_kind_of_folder("mpdm-ana--bo-1"),
            Some(ConversationKind::GroupDm)
        );
        for name in ["general", "D1", "design", "Dxxxxxxxxx"] {
            assert_eq!(private_kind_of_folder(name), None, "{name}");
        }
    }

    #[test]
    fn a_message_borrows_its_text_and_ignores_other_fields() {
        let bytes = br#"[{"type":"message","user":"U1","text":"hi <@U2>","ts":"1.000100",
            "blocks":[{"type":"rich_text"}],"reply_count":2}]"#;
        let messages = parse_day(bytes).unwrap();
        assert!(matches!(messages[0].text, Some(Cow::Borrowed("hi <@U2>"))));
        assert_eq!(messages[0].reply_count, Some(2));
    }

    #[test]
    fn a_message_reads_numbers_and_strings_either_way() {
        let bytes = br#"[{"type":"message","user":"U1","ts":1709546400.0001,"thread_ts":null,
            "reply_count":"2","text":{"rich":true}}, 7]"#;
        let messages = parse_day(bytes).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].ts.as_deref(), Some("1709546400.0001"));
        assert_eq!(messages[0].thread_ts, None);
        assert_eq!(messages[0].reply_count, Some(2));
        assert_eq!(messages[0].text, None);
        assert_eq!(
            messages[1].user, None,
            "a number in the list is an empty message"
        );
    }

    #[test]
    fn a_list_reads_what_it_can_and_leaves_out_the_rest() {
        let bytes = br#"[{"id":"C1","name":"general","created":"1460742065","members":null,
            "topic":{"value":"x"}}, "junk", {"id":"C2","name":null,"created":1.5e9}]"#;
        let list: Vec<ListedConversation> = parse_list(bytes, "conversations").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].created, Some(1_460_742_065));
        assert!(list[0].members.is_empty());
        assert_eq!(list[1].name, None);
        assert_eq!(list[1].created, Some(1_500_000_000));
        let err = parse_list::<ListedConversation>(br#"{"channels":[]}"#, "conversations");
        assert_eq!(
            err.unwrap_err(),
            "not a JSON list of conversations (line 1, column 0)"
        );
    }
}

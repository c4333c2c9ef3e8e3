//! Editing single paths of a tree: cost proportional to the edit, not to the tree. Also the
//! read side the edit needs: listing a folder's files by blob id, reading a blob, a commit's
//! metadata and the branch's log.

use std::collections::BTreeMap;

use gix::ObjectId;
use gix::objs::tree::{Entry, EntryKind, EntryMode};

use super::paths::components;
use super::trailer::{Trailer, parse_trailers};
use super::write::{Author, Batch};
use super::{HistoryEntry, LocalRepo};
use crate::error::{Error, Result};

/// Files written and paths removed on top of a commit; everything else is left as it is.
///
/// ```
/// let mut edit = glueops_git::Edit::default();
/// edit.write("clusters/a/x.yaml", b"x: 1\n".to_vec())?;
/// edit.remove("clusters/b")?; // a file, or a whole folder
/// assert_eq!(edit.len(), 2);
/// # Ok::<(), glueops_git::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    changes: BTreeMap<String, Option<Vec<u8>>>,
}

impl Edit {
    /// Writes `bytes` at `path` (a file; a folder there is replaced).
    pub fn write(&mut self, path: &str, bytes: Vec<u8>) -> Result<()> {
        if path.is_empty() {
            return Err(Error::PathConflict {
                path: String::new(),
                conflict: "is empty: a file needs a name",
            });
        }
        components(path)?;
        self.changes.insert(path.to_string(), Some(bytes));
        Ok(())
    }

    /// Removes the file or folder at `path` (nothing when there is none).
    pub fn remove(&mut self, path: &str) -> Result<()> {
        components(path)?;
        self.changes.insert(path.to_string(), None);
        Ok(())
    }

    /// How many paths are written or removed.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// True when the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The paths written, with their bytes, sorted.
    pub fn writes(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.changes
            .iter()
            .filter_map(|(p, b)| b.as_deref().map(|b| (p.as_str(), b)))
    }

    /// The paths removed, sorted.
    pub fn removals(&self) -> impl Iterator<Item = &str> {
        self.changes
            .iter()
            .filter(|(_, b)| b.is_none())
            .map(|(p, _)| p.as_str())
    }
}

/// The edits below one folder, by entry name.
#[derive(Default)]
struct Level<'a> {
    /// Start from an empty folder (the path was removed, or was a file, before).
    fresh: bool,
    entries: BTreeMap<&'a str, Step<'a>>,
}

enum Step<'a> {
    Write(ObjectId),
    Remove,
    Into(Level<'a>),
}

/// The id a SHA-1 repository gives `bytes` as a blob (what `git hash-object` prints): compare
/// rendered files with a tree's entries without reading them.
///
/// ```
/// assert_eq!(glueops_git::blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
/// ```
pub fn blob_id(bytes: &[u8]) -> String {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes)
        .map(|id| id.to_string())
        .unwrap_or_default()
}

impl LocalRepo {
    /// The branch `HEAD` points to (for a bare clone: the remote's default branch).
    pub fn head_branch(&self) -> Result<Option<String>> {
        self.with_gix(|repo| {
            let head = repo.head().map_err(|e| self.err("read HEAD", e))?;
            Ok(head.referent_name().and_then(|n| {
                n.as_bstr()
                    .to_string()
                    .strip_prefix("refs/heads/")
                    .map(str::to_string)
            }))
        })
    }

    /// Every file under `prefix` (`""` for all) at `rev`: path (relative to the repository
    /// root) → blob id. Reads trees only, never file contents.
    pub fn list(&self, rev: &str, prefix: &str) -> Result<BTreeMap<String, String>> {
        let parts = components(prefix)?;
        let tree = self.tree_of(self.resolve_id(rev)?)?;
        let mut out = BTreeMap::new();
        match self.entry_at(tree, &parts)? {
            Some((mode, id)) if mode.is_tree() => self.list_tree(id, prefix, &mut out)?,
            Some((_, id)) if !prefix.is_empty() => {
                out.insert(prefix.to_string(), id.to_string());
            }
            _ => {}
        }
        Ok(out)
    }

    fn list_tree(
        &self,
        tree: ObjectId,
        prefix: &str,
        out: &mut BTreeMap<String, String>,
    ) -> Result<()> {
        for (name, mode, id) in self.entries(tree)? {
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if mode.is_tree() {
                self.list_tree(id, &path, out)?;
            } else if !mode.is_commit() {
                out.insert(path, id.to_string());
            }
        }
        Ok(())
    }

    /// The bytes of the blob `id`.
    pub fn read_blob(&self, id: &str) -> Result<Vec<u8>> {
        let oid = ObjectId::from_hex(id.as_bytes()).map_err(|e| self.err("read blob", e))?;
        self.with_gix(|repo| {
            let blob = repo.find_blob(oid).map_err(|e| self.err("read blob", e))?;
            Ok(blob.data.clone())
        })
    }

    /// The commit `rev` names: id, author, time, title and trailers.
    pub fn commit_info(&self, rev: &str) -> Result<HistoryEntry> {
        self.entry_of(self.resolve_id(rev)?)
    }

    /// The parents of the commit `rev` names, first parent first (two or more for a merge).
    pub fn parents(&self, rev: &str) -> Result<Vec<String>> {
        let id = self.resolve_id(rev)?;
        self.with_gix(|repo| {
            let commit = repo
                .find_commit(id)
                .map_err(|e| self.err("read commit", e))?;
            Ok(commit.parent_ids().map(|p| p.to_string()).collect())
        })
    }

    pub(super) fn entry_of(&self, id: ObjectId) -> Result<HistoryEntry> {
        self.with_gix(|repo| {
            let commit = repo
                .find_commit(id)
                .map_err(|e| self.err("read commit", e))?;
            self.history_entry(id, &commit)
        })
    }

    /// A commit read once, as a [`HistoryEntry`].
    pub(super) fn history_entry(
        &self,
        id: ObjectId,
        commit: &gix::Commit<'_>,
    ) -> Result<HistoryEntry> {
        let message = commit.message_raw_sloppy().to_string();
        let author = commit.author().map_err(|e| self.err("read commit", e))?;
        Ok(HistoryEntry {
            commit: id.to_string(),
            author: author.name.to_string(),
            time: commit
                .time()
                .map_err(|e| self.err("read commit", e))?
                .seconds,
            title: message.lines().next().unwrap_or("").to_string(),
            trailers: parse_trailers(&message),
        })
    }

    /// The commits from `rev` back along first parents, newest first, at most `limit`.
    pub fn log(&self, rev: &str, limit: usize) -> Result<Vec<HistoryEntry>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.walk_log(rev, |entry| {
            out.push(entry);
            out.len() < limit
        })?;
        Ok(out)
    }

    /// Hands the commits from `rev` back along first parents to `visit`, newest first, until
    /// it returns false (or the first commit): a search that stops at what it looks for.
    pub fn walk_log(&self, rev: &str, mut visit: impl FnMut(HistoryEntry) -> bool) -> Result<()> {
        let mut next = Some(self.resolve_id(rev)?);
        while let Some(id) = next {
            let (parent, entry) = self.with_gix(|repo| {
                let commit = repo
                    .find_commit(id)
                    .map_err(|e| self.err("read commit", e))?;
                let parent = commit.parent_ids().next().map(|p| p.detach());
                Ok::<_, Error>((parent, self.history_entry(id, &commit)?))
            })?;
            next = parent;
            if !visit(entry) {
                break;
            }
        }
        Ok(())
    }

    /// Writes the commit of `edit` on top of `base` (a commit id; `None` for a first commit)
    /// without moving any ref. `None` when the tree would not change. Only the folders on the
    /// edited paths are read and rewritten.
    pub fn commit_edit(
        &self,
        base: Option<&str>,
        edit: &Edit,
        author: &Author,
        message: &str,
        trailers: &[Trailer],
    ) -> Result<Option<String>> {
        let base = base.map(|b| self.resolve_id(b)).transpose()?;
        let hash_kind = self.repo.hash;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let mut batch = Batch::default();
        let mut root = Level::default();
        for (path, bytes) in &edit.changes {
            let step = match bytes {
                Some(b) => {
                    let id = gix::objs::compute_hash(hash_kind, gix::objs::Kind::Blob, b)
                        .map_err(|e| self.err("hash blob", e))?;
                    batch.add(id, gix::objs::Kind::Blob, std::borrow::Cow::Borrowed(b));
                    Step::Write(id)
                }
                None => Step::Remove,
            };
            place(&mut root, path, step)?;
        }
        let base_tree = base.map(|b| self.tree_of(b)).transpose()?;
        let new_tree = match self.apply_level(base_tree, &root, &cache, &mut batch)? {
            Some(t) => t,
            None => self.tree_of_entries(Vec::new(), &cache, &mut batch)?,
        };
        if Some(new_tree) == base_tree {
            return Ok(None);
        }
        self.flush(batch, &mut cache)?;
        drop(cache);
        let id = self.write_commit(new_tree, base, author, message, trailers)?;
        Ok(Some(id.to_string()))
    }

    fn apply_level(
        &self,
        base: Option<ObjectId>,
        level: &Level<'_>,
        cache: &super::write::WriteCache,
        batch: &mut Batch<'_>,
    ) -> Result<Option<ObjectId>> {
        let mut entries: BTreeMap<String, (EntryMode, ObjectId)> = match base {
            Some(t) => self
                .entries(t)?
                .into_iter()
                .map(|(n, m, i)| (n, (m, i)))
                .collect(),
            None => BTreeMap::new(),
        };
        for (name, step) in &level.entries {
            match step {
                Step::Write(id) => {
                    entries.insert((*name).to_string(), (EntryKind::Blob.into(), *id));
                }
                Step::Remove => {
                    entries.remove(*name);
                }
                Step::Into(inner) => {
                    let child = entries
                        .get(*name)
                        .filter(|(m, _)| m.is_tree() && !inner.fresh)
                        .map(|(_, i)| *i);
                    match self.apply_level(child, inner, cache, batch)? {
                        Some(t) => {
                            entries.insert((*name).to_string(), (EntryKind::Tree.into(), t));
                        }
                        None => {
                            entries.remove(*name);
                        }
                    }
                }
            }
        }
        if entries.is_empty() {
            return Ok(None);
        }
        let entries = entries
            .into_iter()
            .map(|(name, (mode, oid))| Entry {
                mode,
                filename: name.into(),
                oid,
            })
            .collect();
        self.tree_of_entries(entries, cache, batch).map(Some)
    }

    /// Points `branch` at `commit` if it still points at `expected` (`None`: does not exist).
    pub fn set_branch(&self, branch: &str, commit: &str, expected: Option<&str>) -> Result<()> {
        let commit = self.resolve_id(commit)?;
        let expected = expected.map(|e| self.resolve_id(e)).transpose()?;
        self.move_ref(&format!("refs/heads/{branch}"), commit, expected)
    }
}

fn place<'a>(root: &mut Level<'a>, path: &'a str, step: Step<'a>) -> Result<()> {
    let parts = components(path)?;
    let Some((last, folders)) = parts.split_last() else {
        return Err(Error::PathConflict {
            path: path.to_string(),
            conflict: "is the whole tree, which cannot be written or removed as one path",
        });
    };
    let mut level = root;
    for part in folders {
        let entry = level
            .entries
            .entry(part)
            .or_insert_with(|| Step::Into(Level::default()));
        if !matches!(entry, Step::Into(_)) {
            // A path removed (or written as a file) and a path below it written too: the
            // folder is replaced by one holding only the deeper edits.
            *entry = Step::Into(Level {
                fresh: true,
                ..Level::default()
            });
        }
        let Step::Into(inner) = entry else {
            return Err(Error::PathConflict {
                path: path.to_string(),
                conflict: "is below a file",
            });
        };
        level = inner;
    }
    level.entries.insert(last, step);
    Ok(())
}

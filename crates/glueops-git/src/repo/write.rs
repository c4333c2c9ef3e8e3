//! Writing a prefix: new blobs and trees only where content changed, one commit, a
//! compare-and-swap update of the branch.

use std::collections::BTreeMap;

use gix::ObjectId;
use gix::objs::tree::{Entry, EntryKind, EntryMode};
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use super::ManifestRepo;
use super::paths::{Trailer, components};
use crate::error::{Error, Result};

/// Who a commit is by, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Commit time; `None` is now. Fix it for reproducible commit ids.
    pub time: Option<jiff::Timestamp>,
}

impl Author {
    /// An author committing now.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Author {
        Author {
            name: name.into(),
            email: email.into(),
            time: None,
        }
    }

    fn signature(&self) -> gix::actor::Signature {
        let seconds = self.time.unwrap_or_else(jiff::Timestamp::now).as_second();
        gix::actor::Signature {
            name: self.name.as_str().into(),
            email: self.email.as_str().into(),
            time: gix::date::Time { seconds, offset: 0 },
        }
    }
}

/// What [`ManifestRepo::write_tree`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The tree under the prefix already held exactly these files: no commit.
    Unchanged {
        /// The branch's commit, if the branch exists.
        commit: Option<String>,
    },
    /// A new commit on the branch.
    Committed {
        /// The new commit.
        commit: String,
        /// Its parent, unless it is the first commit of the branch.
        parent: Option<String>,
    },
}

enum Node {
    File(ObjectId),
    Dir(BTreeMap<String, Node>),
}

impl ManifestRepo {
    /// Makes everything under `prefix` on `branch` exactly `files` (paths relative to the
    /// prefix, `/`-separated), commits it with `message` and `trailers`, and moves the branch,
    /// only if it still points where it did (another writer in between is an error, not a
    /// lost update). Files outside the prefix are untouched; unchanged subtrees are reused.
    /// When nothing changes, nothing is committed.
    pub fn write_tree(
        &self,
        branch: &str,
        prefix: &str,
        files: &BTreeMap<String, Vec<u8>>,
        author: &Author,
        message: &str,
        trailers: &[Trailer],
    ) -> Result<WriteOutcome> {
        let full = format!("refs/heads/{branch}");
        let base = self.try_resolve(&full)?;
        let base = base.map(|b| self.resolve_id(&b)).transpose()?;
        match self.commit_on(base, prefix, files, author, message, trailers)? {
            None => Ok(WriteOutcome::Unchanged {
                commit: base.map(|b| b.to_string()),
            }),
            Some(commit) => {
                self.move_ref(&full, commit, base)?;
                Ok(WriteOutcome::Committed {
                    commit: commit.to_string(),
                    parent: base.map(|b| b.to_string()),
                })
            }
        }
    }

    /// Writes the commit for `files` under `prefix` on top of `base`, without moving any ref.
    /// `None` when the tree would not change.
    pub(crate) fn commit_on(
        &self,
        base: Option<ObjectId>,
        prefix: &str,
        files: &BTreeMap<String, Vec<u8>>,
        author: &Author,
        message: &str,
        trailers: &[Trailer],
    ) -> Result<Option<ObjectId>> {
        let prefix_parts = components(prefix)?;
        // Check every path before writing a single object.
        let mut root = BTreeMap::new();
        let hash_kind = self.gix().object_hash();
        for (path, bytes) in files {
            let parts = components(path)?;
            let id = gix::objs::compute_hash(hash_kind, gix::objs::Kind::Blob, bytes)
                .map_err(|e| self.err("hash blob", e))?;
            insert(&mut root, &parts, id).map_err(|reason| Error::InvalidPath {
                path: path.clone(),
                reason,
            })?;
        }
        for bytes in files.values() {
            self.gix()
                .write_blob(bytes)
                .map_err(|e| self.err("write blob", e))?;
        }
        let subtree = if root.is_empty() {
            None
        } else {
            Some(self.write_dir(&root)?)
        };
        let base_tree = base.map(|b| self.tree_of(b)).transpose()?;
        let new_tree = match self.splice(base_tree, &prefix_parts, subtree)? {
            Some(tree) => tree,
            None => self.write_entries(Vec::new())?,
        };
        if Some(new_tree) == base_tree {
            return Ok(None);
        }
        let mut text = message.trim_end().to_string();
        if !trailers.is_empty() {
            text.push_str("\n\n");
            for t in trailers {
                text.push_str(&format!("{}: {}\n", t.key, t.value));
            }
        } else {
            text.push('\n');
        }
        let signature = author.signature();
        let commit = gix::objs::Commit {
            tree: new_tree,
            parents: base.into_iter().collect(),
            author: signature.clone(),
            committer: signature,
            encoding: None,
            message: text.into(),
            extra_headers: Vec::new(),
        };
        let id = self
            .gix()
            .write_object(&commit)
            .map_err(|e| self.err("write commit", e))?;
        Ok(Some(id.detach()))
    }

    fn write_entries(&self, mut entries: Vec<Entry>) -> Result<ObjectId> {
        entries.sort();
        let tree = gix::objs::Tree { entries };
        self.gix()
            .write_object(&tree)
            .map(|id| id.detach())
            .map_err(|e| self.err("write tree", e))
    }

    fn write_dir(&self, dir: &BTreeMap<String, Node>) -> Result<ObjectId> {
        let mut entries = Vec::with_capacity(dir.len());
        for (name, node) in dir {
            let (mode, oid) = match node {
                Node::File(id) => (EntryKind::Blob, *id),
                Node::Dir(children) => (EntryKind::Tree, self.write_dir(children)?),
            };
            entries.push(Entry {
                mode: EntryMode::from(mode),
                filename: name.as_str().into(),
                oid,
            });
        }
        self.write_entries(entries)
    }

    /// `base` with the entry at `path` replaced by `subtree` (removed when `None`); trees that
    /// end up empty disappear. Returns the new tree, `None` when it is empty.
    fn splice(
        &self,
        base: Option<ObjectId>,
        path: &[&str],
        subtree: Option<ObjectId>,
    ) -> Result<Option<ObjectId>> {
        let Some((first, rest)) = path.split_first() else {
            return Ok(subtree);
        };
        let mut entries: Vec<Entry> = match base {
            Some(tree) => self
                .entries(tree)?
                .into_iter()
                .map(|(name, mode, oid)| Entry {
                    mode,
                    filename: name.into(),
                    oid,
                })
                .collect(),
            None => Vec::new(),
        };
        let existing = entries
            .iter()
            .position(|e| e.filename == *first)
            .map(|i| entries.remove(i));
        let child_base = existing.filter(|e| e.mode.is_tree()).map(|e| e.oid);
        if let Some(child) = self.splice(child_base, rest, subtree)? {
            entries.push(Entry {
                mode: EntryKind::Tree.into(),
                filename: (*first).into(),
                oid: child,
            });
        }
        if entries.is_empty() {
            return Ok(None);
        }
        self.write_entries(entries).map(Some)
    }

    /// Points `name` at `commit` if it still points at `expected` (or does not exist).
    pub(crate) fn move_ref(
        &self,
        name: &str,
        commit: ObjectId,
        expected: Option<ObjectId>,
    ) -> Result<()> {
        let name = gix::refs::FullName::try_from(name).map_err(|e| self.err("update ref", e))?;
        let previous = match expected {
            Some(id) => PreviousValue::MustExistAndMatch(Target::Object(id)),
            None => PreviousValue::MustNotExist,
        };
        let edit = RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: false,
                    message: "glueops: write tree".into(),
                },
                expected: previous,
                new: Target::Object(commit),
            },
            name,
            deref: false,
        };
        self.gix()
            .edit_reference(edit)
            .map_err(|e| self.err("update ref (another writer moved it?)", e))?;
        Ok(())
    }
}

fn insert(
    dir: &mut BTreeMap<String, Node>,
    parts: &[&str],
    id: ObjectId,
) -> std::result::Result<(), String> {
    match parts {
        [] => Err("is empty".into()),
        [name] => match dir.get(*name) {
            Some(Node::Dir(_)) => Err("is both a file and a folder".into()),
            _ => {
                dir.insert((*name).to_string(), Node::File(id));
                Ok(())
            }
        },
        [name, rest @ ..] => {
            let entry = dir
                .entry((*name).to_string())
                .or_insert_with(|| Node::Dir(BTreeMap::new()));
            match entry {
                Node::Dir(children) => insert(children, rest, id),
                Node::File(_) => Err(format!("`{name}` is both a file and a folder")),
            }
        }
    }
}

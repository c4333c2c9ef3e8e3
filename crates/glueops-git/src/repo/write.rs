//! Writing a prefix: new blobs and trees only where content changed, one commit, a
//! compare-and-swap update of the branch.

use std::collections::BTreeMap;

use gix::ObjectId;
use gix::objs::tree::{Entry, EntryKind, EntryMode};
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use glueops_files::Files;

use super::LocalRepo;
use super::paths::components;
use super::trailer::Trailer;
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

/// What [`LocalRepo::commit`] did.
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

/// From this many new objects on, they go into one pack instead of loose files.
const PACK_THRESHOLD: usize = 128;

/// What a repository handle remembers between writes, so a write that changes one file of a
/// large tree hashes and checks only what changed (like git's index does for a work tree).
#[derive(Default)]
pub(crate) struct WriteCache {
    /// Random keys: a content digest collision cannot be arranged from outside.
    hasher: std::collections::hash_map::RandomState,
    /// Full path -> (digest and length of the content last written there, blob id).
    blobs: std::collections::HashMap<String, ((u64, usize), ObjectId)>,
    /// Objects this handle wrote or saw written, so they exist.
    known: std::collections::HashSet<ObjectId>,
}

impl WriteCache {
    pub(super) fn digest(&self, bytes: &[u8]) -> (u64, usize) {
        use std::hash::BuildHasher as _;
        (self.hasher.hash_one(bytes), bytes.len())
    }
}

/// Objects to write, deduplicated.
#[derive(Default)]
pub(super) struct Batch<'a> {
    objects: Vec<(ObjectId, gix::objs::Kind, std::borrow::Cow<'a, [u8]>)>,
    ids: std::collections::HashSet<ObjectId>,
}

impl<'a> Batch<'a> {
    pub(super) fn add(
        &mut self,
        id: ObjectId,
        kind: gix::objs::Kind,
        data: std::borrow::Cow<'a, [u8]>,
    ) {
        if self.ids.insert(id) {
            self.objects.push((id, kind, data));
        }
    }
}

/// One change to a branch: everything under `prefix` becomes exactly `files` (paths relative
/// to the prefix), committed by `author` with `message` and `trailers`. Files outside the
/// prefix are untouched.
#[derive(Debug, Clone, Copy)]
pub struct TreeChange<'a> {
    /// The folder the change owns (`""` for the whole tree), `/`-separated.
    pub prefix: &'a str,
    /// What the folder holds afterwards.
    pub files: &'a Files,
    /// Author and committer.
    pub author: &'a Author,
    /// The commit message's subject and body.
    pub message: &'a str,
    /// Trailers appended to the message.
    pub trailers: &'a [Trailer],
}

impl LocalRepo {
    /// Applies `change` to `branch` in this repository and moves the branch, only if it still
    /// points where it did (another writer in between is an error, not a lost update).
    /// Unchanged subtrees are reused. When nothing changes, nothing is committed.
    pub fn commit(&self, branch: &str, change: &TreeChange<'_>) -> Result<WriteOutcome> {
        let full = format!("refs/heads/{branch}");
        let base = self.try_resolve_id(&full)?;
        match self.commit_on(base, change)? {
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

    /// Writes the commit for `change` on top of `base`, without moving any ref. `None` when
    /// the tree would not change.
    pub(crate) fn commit_on(
        &self,
        base: Option<ObjectId>,
        change: &TreeChange<'_>,
    ) -> Result<Option<ObjectId>> {
        let TreeChange {
            prefix,
            files,
            author,
            message,
            trailers,
        } = *change;
        let prefix_parts = components(prefix)?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let mut batch = Batch::default();
        // Every id is computed before a single object is written (the paths were checked when
        // they entered the `Files`).
        let mut root = BTreeMap::new();
        let hash_kind = self.repo.hash;
        let mut seen = Vec::with_capacity(files.len());
        for (path, bytes) in files.iter() {
            let parts: Vec<&str> = path.split('/').collect();
            let full = if prefix.is_empty() {
                path.to_string()
            } else {
                format!("{prefix}/{path}")
            };
            let digest = cache.digest(bytes);
            let id = match cache.blobs.get(&full) {
                Some((d, id)) if *d == digest => *id,
                _ => gix::objs::compute_hash(hash_kind, gix::objs::Kind::Blob, bytes)
                    .map_err(|e| self.err("hash blob", e))?,
            };
            insert(&mut root, &parts, id).map_err(|conflict| Error::PathConflict {
                path: path.to_string(),
                conflict,
            })?;
            if !cache.known.contains(&id) {
                batch.add(id, gix::objs::Kind::Blob, std::borrow::Cow::Borrowed(bytes));
            }
            seen.push((full, (digest, id)));
        }
        let subtree = if root.is_empty() {
            None
        } else {
            Some(self.tree_of_dir(&root, &cache, &mut batch)?)
        };
        let base_tree = base.map(|b| self.tree_of(b)).transpose()?;
        let new_tree = match self.splice(base_tree, &prefix_parts, subtree, &cache, &mut batch)? {
            Some(tree) => tree,
            None => self.tree_of_entries(Vec::new(), &cache, &mut batch)?,
        };
        if Some(new_tree) == base_tree {
            return Ok(None);
        }
        self.flush(batch, &mut cache)?;
        for (full, entry) in seen {
            cache.blobs.insert(full, entry);
        }
        drop(cache);
        self.write_commit(new_tree, base, author, message, trailers)
            .map(Some)
    }

    /// Writes a commit of `tree` on `base` with `message` and `trailers`.
    pub(super) fn write_commit(
        &self,
        tree: ObjectId,
        base: Option<ObjectId>,
        author: &Author,
        message: &str,
        trailers: &[Trailer],
    ) -> Result<ObjectId> {
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
            tree,
            parents: base.into_iter().collect(),
            author: signature.clone(),
            committer: signature,
            encoding: None,
            message: text.into(),
            extra_headers: Vec::new(),
        };
        self.with_gix(|repo| {
            repo.write_object(&commit)
                .map(|id| id.detach())
                .map_err(|e| self.err("write commit", e))
        })
    }

    /// Writes the batch: one pack when it is large, loose objects otherwise.
    pub(super) fn flush(&self, batch: Batch<'_>, cache: &mut WriteCache) -> Result<()> {
        self.with_gix(|repo| {
            let objects: Vec<(ObjectId, gix::objs::Kind, &[u8])> = batch
                .objects
                .iter()
                .filter(|(id, _, _)| !repo.objects.exists_without_refresh(id))
                .map(|(id, kind, data)| (*id, *kind, data.as_ref()))
                .collect();
            if objects.len() >= PACK_THRESHOLD {
                super::pack::write(&repo.common_dir().join("objects"), &objects)
            } else {
                use gix::objs::Write as _;
                for (id, kind, data) in &objects {
                    repo.objects
                        .write_buf_with_known_id(*kind, data, *id)
                        .map_err(|e| self.err("write object", e))?;
                }
                Ok(())
            }
        })?;
        cache
            .known
            .extend(batch.objects.iter().map(|(id, _, _)| *id));
        Ok(())
    }

    /// The id of a tree with `entries`, queued for writing unless known to exist.
    pub(super) fn tree_of_entries(
        &self,
        mut entries: Vec<Entry>,
        cache: &WriteCache,
        batch: &mut Batch<'_>,
    ) -> Result<ObjectId> {
        use gix::objs::WriteTo as _;
        entries.sort();
        let tree = gix::objs::Tree { entries };
        let mut bytes = Vec::with_capacity(tree.entries.len() * 40);
        tree.write_to(&mut bytes)
            .map_err(|e| self.err("encode tree", e))?;
        let id = gix::objs::compute_hash(self.repo.hash, gix::objs::Kind::Tree, &bytes)
            .map_err(|e| self.err("hash tree", e))?;
        if !cache.known.contains(&id) {
            batch.add(id, gix::objs::Kind::Tree, std::borrow::Cow::Owned(bytes));
        }
        Ok(id)
    }

    fn tree_of_dir(
        &self,
        dir: &BTreeMap<String, Node>,
        cache: &WriteCache,
        batch: &mut Batch<'_>,
    ) -> Result<ObjectId> {
        let mut entries = Vec::with_capacity(dir.len());
        for (name, node) in dir {
            let (mode, oid) = match node {
                Node::File(id) => (EntryKind::Blob, *id),
                Node::Dir(children) => (EntryKind::Tree, self.tree_of_dir(children, cache, batch)?),
            };
            entries.push(Entry {
                mode: EntryMode::from(mode),
                filename: name.as_str().into(),
                oid,
            });
        }
        self.tree_of_entries(entries, cache, batch)
    }

    /// `base` with the entry at `path` replaced by `subtree` (removed when `None`); trees that
    /// end up empty disappear. Returns the new tree, `None` when it is empty.
    fn splice(
        &self,
        base: Option<ObjectId>,
        path: &[&str],
        subtree: Option<ObjectId>,
        cache: &WriteCache,
        batch: &mut Batch<'_>,
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
        if let Some(child) = self.splice(child_base, rest, subtree, cache, batch)? {
            entries.push(Entry {
                mode: EntryKind::Tree.into(),
                filename: (*first).into(),
                oid: child,
            });
        }
        if entries.is_empty() {
            return Ok(None);
        }
        self.tree_of_entries(entries, cache, batch).map(Some)
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
        self.with_gix(|repo| {
            repo.edit_reference(edit)
                .map(|_| ())
                .map_err(|e| self.err("update ref (another writer moved it?)", e))
        })
    }
}

fn insert(
    dir: &mut BTreeMap<String, Node>,
    parts: &[&str],
    id: ObjectId,
) -> std::result::Result<(), &'static str> {
    match parts {
        [] => Err("is empty"),
        [name] => match dir.get(*name) {
            Some(Node::Dir(_)) => Err("is both a file and a folder"),
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
                Node::File(_) => Err("is below a path that is both a file and a folder"),
            }
        }
    }
}

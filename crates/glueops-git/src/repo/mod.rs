//! A manifest repository: read, diff, walk history and write commits with `gix`; push and
//! fetch with the `git` CLI (transport only).

mod compact;
mod edit;
mod handles;
mod pack;
mod paths;
mod push;
mod trailer;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::objs::tree::EntryMode;

use crate::error::{BoxError, Error, Result};
use crate::remote::Remote;

pub use compact::LOOSE_LIMIT;
pub use edit::{Edit, blob_id};
pub use push::PushOutcome;
pub use trailer::Trailer;
pub use write::{Author, TreeChange, WriteOutcome};

/// A local git repository glueops reads and commits to (bare or not): the cache clones of the
/// config and manifest repos, or any repository on disk.
///
/// A handle remembers the blobs and trees it wrote, so the next write of a large tree hashes and
/// checks only what changed. It assumes those objects are not pruned while it lives (git's
/// default `gc` keeps unreachable objects for two weeks); open a new handle after an aggressive
/// `git gc --prune=now`.
pub struct LocalRepo {
    repo: handles::Handles,
    path: PathBuf,
    cache: std::sync::Mutex<write::WriteCache>,
}

/// A repository handle may be shared between threads (and async tasks).
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<LocalRepo>();
};

impl std::fmt::Debug for LocalRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRepo")
            .field("path", &self.path)
            .finish()
    }
}

/// Paths that differ between two commits, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChangeSet {
    /// Files only in the newer commit.
    pub added: Vec<String>,
    /// Files in both, with different content or mode.
    pub modified: Vec<String>,
    /// Files only in the older commit.
    pub removed: Vec<String>,
}

impl ChangeSet {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

/// A commit that changed a path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    /// Commit id.
    pub commit: String,
    /// Author name.
    pub author: String,
    /// Commit time (seconds since the epoch, UTC).
    pub time: i64,
    /// First line of the message.
    pub title: String,
    /// Its trailers (`Glueops-App: api`, ...).
    pub trailers: Vec<Trailer>,
}

impl LocalRepo {
    /// Creates a bare repository in `dir`.
    pub fn init_bare(dir: impl AsRef<Path>) -> Result<LocalRepo> {
        let dir = dir.as_ref();
        let repo = gix::init_bare(dir).map_err(|e| Error::repo(dir, "init", e))?;
        Ok(LocalRepo {
            repo: handles::Handles::new(repo),
            path: dir.to_path_buf(),
            cache: Default::default(),
        })
    }

    /// Opens the repository at `dir` (a bare repository or a work tree).
    pub fn open(dir: impl AsRef<Path>) -> Result<LocalRepo> {
        let dir = dir.as_ref();
        let repo = gix::open(dir).map_err(|e| Error::repo(dir, "open", e))?;
        Ok(LocalRepo {
            repo: handles::Handles::new(repo),
            path: dir.to_path_buf(),
            cache: Default::default(),
        })
    }

    /// Clones `remote` into a new bare repository at `dir`, with the `git` CLI (network
    /// transport is the one thing gix does not do here), then opens it.
    pub fn clone_bare(remote: &Remote, dir: impl AsRef<Path>) -> Result<LocalRepo> {
        let dir = dir.as_ref();
        let target = dir.to_string_lossy();
        crate::run::git_remote(None, &["clone", "--bare", "--quiet"], remote, &[&target])?;
        LocalRepo::open(dir)
    }

    /// The repository's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with a `gix` handle of this repository (see `handles`).
    pub(crate) fn with_gix<T>(&self, f: impl FnOnce(&gix::Repository) -> T) -> T {
        self.repo.with(f)
    }

    fn err(&self, operation: &'static str, e: impl Into<crate::error::BoxError>) -> Error {
        Error::repo(&self.path, operation, e)
    }

    /// The commit a revision names: a full commit id, a branch, a tag or any full ref name.
    pub fn resolve(&self, rev: &str) -> Result<String> {
        self.resolve_id(rev).map(|id| id.to_string())
    }

    /// The commit a revision names, `None` when the ref does not exist (yet).
    pub fn try_resolve(&self, rev: &str) -> Result<Option<String>> {
        self.try_resolve_id(rev)
            .map(|id| id.map(|id| id.to_string()))
    }

    pub(crate) fn try_resolve_id(&self, rev: &str) -> Result<Option<ObjectId>> {
        match self.resolve_id(rev) {
            Ok(id) => Ok(Some(id)),
            Err(Error::NoSuchRef { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn resolve_id(&self, rev: &str) -> Result<ObjectId> {
        let bad = |what: &'static str, source: BoxError| Error::BadRevision {
            repo: self.path.clone(),
            rev: rev.to_string(),
            what,
            source,
        };
        let id = if let Some(at) = rev.find(['~', '^']).filter(|at| *at > 0) {
            self.ancestor(&rev[..at], &rev[at..])?
        } else if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            ObjectId::from_hex(rev.as_bytes()).map_err(|e| bad("not a commit id", e.into()))?
        } else {
            let mut found = None;
            for name in [
                rev.to_string(),
                format!("refs/heads/{rev}"),
                format!("refs/tags/{rev}"),
            ] {
                let peeled = self.with_gix(|repo| {
                    let reference = repo
                        .try_find_reference(name.as_str())
                        .map_err(|e| bad("cannot read the ref", e.into()))?;
                    reference
                        .map(|mut r| {
                            r.peel_to_id()
                                .map(|id| id.detach())
                                .map_err(|e| bad("the ref points to nothing readable", e.into()))
                        })
                        .transpose()
                })?;
                if peeled.is_some() {
                    found = peeled;
                    break;
                }
            }
            found.ok_or_else(|| Error::NoSuchRef {
                repo: self.path.clone(),
                rev: rev.to_string(),
            })?
        };
        self.with_gix(|repo| {
            repo.find_commit(id)
                .map(|_| ())
                .map_err(|e| bad("not a readable commit", e.into()))
        })?;
        Ok(id)
    }

    /// The first-parent ancestor of `name` that `suffix` (`~N` and `^` steps) names.
    fn ancestor(&self, name: &str, suffix: &str) -> Result<ObjectId> {
        let bad = || Error::NoSuchRef {
            repo: self.path.clone(),
            rev: format!("{name}{suffix}"),
        };
        let mut steps = 0usize;
        let mut rest = suffix;
        while let Some(c) = rest.chars().next() {
            rest = &rest[1..];
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let n = match (c, digits) {
                ('~' | '^', 0) => 1,
                ('~', _) => rest[..digits].parse().map_err(|_| bad())?,
                _ => return Err(bad()),
            };
            steps += n;
            rest = &rest[digits..];
        }
        let mut id = self.resolve_id(name)?;
        for _ in 0..steps {
            let parent = self.with_gix(|repo| {
                let commit = repo
                    .find_commit(id)
                    .map_err(|e| self.err("read commit", e))?;
                Ok::<_, Error>(commit.parent_ids().next().map(|p| p.detach()))
            })?;
            id = parent.ok_or_else(bad)?;
        }
        Ok(id)
    }

    pub(crate) fn tree_of(&self, commit: ObjectId) -> Result<ObjectId> {
        self.with_gix(|repo| {
            let commit = repo
                .find_commit(commit)
                .map_err(|e| self.err("read commit", e))?;
            commit
                .tree_id()
                .map(|id| id.detach())
                .map_err(|e| self.err("read commit", e))
        })
    }

    /// The entries of a tree: (name, mode, id).
    pub(crate) fn entries(&self, tree: ObjectId) -> Result<Vec<(String, EntryMode, ObjectId)>> {
        self.with_gix(|repo| {
            let tree = repo.find_tree(tree).map_err(|e| self.err("read tree", e))?;
            let decoded = tree.decode().map_err(|e| self.err("read tree", e))?;
            Ok(decoded
                .entries
                .iter()
                .map(|e| (e.filename.to_string(), e.mode, e.oid.to_owned()))
                .collect())
        })
    }

    /// The entry at `path` under `tree`, if any.
    fn entry_at(&self, tree: ObjectId, path: &[&str]) -> Result<Option<(EntryMode, ObjectId)>> {
        let mut current = (EntryMode::from(gix::objs::tree::EntryKind::Tree), tree);
        for part in path {
            if !current.0.is_tree() {
                return Ok(None);
            }
            match self
                .entries(current.1)?
                .into_iter()
                .find(|(n, _, _)| n == part)
            {
                Some((_, mode, id)) => current = (mode, id),
                None => return Ok(None),
            }
        }
        Ok(Some(current))
    }

    /// The bytes of `path` at `rev`, `None` when there is no such file.
    pub fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let parts = paths::components(path)?;
        let tree = self.tree_of(self.resolve_id(rev)?)?;
        match self.entry_at(tree, &parts)? {
            Some((mode, id)) if mode.is_blob() => self.with_gix(|repo| {
                let blob = repo.find_blob(id).map_err(|e| self.err("read blob", e))?;
                Ok(Some(blob.data.clone()))
            }),
            _ => Ok(None),
        }
    }

    /// Files that differ between `from` and `to` (commits or refs).
    pub fn changed_paths(&self, from: &str, to: &str) -> Result<ChangeSet> {
        let a = self.tree_of(self.resolve_id(from)?)?;
        let b = self.tree_of(self.resolve_id(to)?)?;
        let mut changes = ChangeSet::default();
        self.diff(Some(a), Some(b), "", &mut changes)?;
        changes.added.sort();
        changes.modified.sort();
        changes.removed.sort();
        Ok(changes)
    }

    fn diff(
        &self,
        a: Option<ObjectId>,
        b: Option<ObjectId>,
        prefix: &str,
        out: &mut ChangeSet,
    ) -> Result<()> {
        if a == b {
            return Ok(());
        }
        let left = match a {
            Some(t) => self.entries(t)?,
            None => Vec::new(),
        };
        let right = match b {
            Some(t) => self.entries(t)?,
            None => Vec::new(),
        };
        // One pass over both sides by name (a linear `find` per name would be quadratic in
        // a folder of thousands of apps).
        type Side = (EntryMode, ObjectId);
        let mut by_name: BTreeMap<&str, (Option<Side>, Option<Side>)> = BTreeMap::new();
        for (n, m, i) in &left {
            by_name.entry(n.as_str()).or_default().0 = Some((*m, *i));
        }
        for (n, m, i) in &right {
            by_name.entry(n.as_str()).or_default().1 = Some((*m, *i));
        }
        for (name, (l, r)) in by_name {
            let path = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            };
            let tree =
                |e: Option<(EntryMode, ObjectId)>| e.filter(|(m, _)| m.is_tree()).map(|(_, i)| i);
            let file = |e: Option<(EntryMode, ObjectId)>| e.filter(|(m, _)| !m.is_tree());
            if l == r {
                continue;
            }
            // Subtrees on either side recurse (a file replaced by a folder is both).
            if tree(l).is_some() || tree(r).is_some() {
                self.diff(tree(l), tree(r), &path, out)?;
            }
            match (file(l), file(r)) {
                (Some(x), Some(y)) if x != y => out.modified.push(path),
                (Some(_), None) => out.removed.push(path),
                (None, Some(_)) => out.added.push(path),
                _ => {}
            }
        }
        Ok(())
    }

    /// The commits (newest first, following first parents from `rev`) that changed `path` (a
    /// file or a folder), at most `limit`, with their trailers.
    pub fn history(&self, rev: &str, path: &str, limit: usize) -> Result<Vec<HistoryEntry>> {
        let parts = paths::components(path)?;
        let mut out = Vec::new();
        let mut next = Some(self.resolve_id(rev)?);
        // The entry at `path` in the commit about to be visited, when the previous step
        // already looked it up (as its parent's).
        let mut known: Option<Option<(EntryMode, ObjectId)>> = None;
        while let Some(id) = next {
            if out.len() >= limit {
                break;
            }
            let (tree, parent) = self.with_gix(|repo| {
                let commit = repo
                    .find_commit(id)
                    .map_err(|e| self.err("read commit", e))?;
                let tree = commit
                    .tree_id()
                    .map_err(|e| self.err("read commit", e))?
                    .detach();
                Ok::<_, Error>((tree, commit.parent_ids().next().map(|p| p.detach())))
            })?;
            let here = match known.take() {
                Some(entry) => entry,
                None => self.entry_at(tree, &parts)?,
            };
            let before = match parent {
                Some(p) => self.entry_at(self.tree_of(p)?, &parts)?,
                None => None,
            };
            known = Some(before);
            if here != before {
                out.push(self.entry_of(id)?);
            }
            next = parent;
        }
        Ok(out)
    }
}

//! Repositories the loop works on: bare clones in a cache folder, fetched before every plan;
//! the config repo read from a commit (or from a plain folder).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::git::{LocalRepo, Remote};
use crate::model::{Repo, SourceTree};
use crate::{Error, Options};

/// A remote repository and the bare clone glueops works in.
#[derive(Debug)]
pub struct Checkout {
    /// The clone in the cache folder.
    pub repo: LocalRepo,
    /// What `git fetch`/`git push` talk to: the URL (its credentials kept apart, never
    /// printed) or the absolute path given, with the deadline of every git process.
    pub remote: Remote,
    /// The branch.
    pub branch: String,
    /// The caller's session: the tips it knows, the claims it keeps.
    pub(crate) session: std::sync::Arc<crate::Session>,
}

impl Checkout {
    /// Opens (creating it on first use) the cache clone of `spec` under `opts.cache`; every git
    /// process talking to it is killed after `opts.git_timeout`. `branch` `None` is the
    /// remote's default branch. `spec` is parsed into a [`Remote`] first: a string that could
    /// be read as an option, or names a transport other than a path, `file://`, `http(s)://`,
    /// `ssh://`, `git://` or `user@host:path`, is refused; so is a branch git would refuse.
    pub fn open(spec: &str, opts: &Options, branch: Option<&str>) -> Result<Checkout, Error> {
        let mut remote = Remote::parse(spec)
            .map_err(crate::git::Error::from)?
            .with_timeout(opts.git_timeout);
        if remote.is_path() {
            let path = std::fs::canonicalize(spec).map_err(|e| Error::Invalid {
                message: format!("`{}` is not a repository ({e})", spec.escape_debug()),
                help: "pass the path of a git repository, or a file://, http(s):// or ssh:// URL"
                    .into(),
            })?;
            remote = remote.at_path(path);
        }
        let dir = opts.cache.join(folder_name(remote.url()));
        let repo = if dir.join("HEAD").is_file() {
            LocalRepo::open(&dir)?
        } else {
            init(&dir)?
        };
        let branch = match branch {
            Some(b) => b.to_string(),
            None => default_branch(&repo, &remote)?,
        };
        crate::git::check_branch(&branch).map_err(crate::git::Error::from)?;
        Ok(Checkout {
            repo,
            remote,
            branch,
            session: std::sync::Arc::clone(&opts.session),
        })
    }

    /// Fetches the branch: its commit at the remote, `None` when it does not exist yet. A
    /// long-running [`Session`](crate::Session) remembers it: its next write to the branch is
    /// a compare-and-swap on this tip, without fetching again (any fetch also clears the
    /// just-pushed mark).
    pub fn fetch(&self) -> Result<Option<String>, Error> {
        let tip = self.repo.fetch(&self.remote, &self.branch)?;
        self.session
            .remember_tip(self.tip_key(), tip.as_deref(), false, None);
        Ok(tip)
    }

    /// This checkout's branch, as a session keys its tips.
    pub(crate) fn tip_key(&self) -> crate::session::TipKey {
        (self.remote.url().to_string(), self.branch.clone())
    }
}

/// The remote's default branch, asked once per clone (`git ls-remote`) and remembered beside
/// it.
fn default_branch(repo: &LocalRepo, remote: &Remote) -> Result<String, Error> {
    let memo = repo.path().join("glueops-default-branch");
    if let Ok(name) = std::fs::read_to_string(&memo)
        && !name.trim().is_empty()
    {
        return Ok(name.trim().to_string());
    }
    match repo.remote_default_branch(remote)? {
        Some(name) => {
            let _ = std::fs::write(&memo, &name);
            Ok(name)
        }
        // An empty remote names no branch yet: ask again next time.
        None => Ok("main".to_string()),
    }
}

/// Packs the loose objects of every clone in the `cache` folder holding more than
/// [`LOOSE_LIMIT`](crate::git::LOOSE_LIMIT) of them (fetches and commits leave them, and
/// thousands slow every later fetch and push); the clones packed. Cheap when there is nothing
/// to do (a directory listing per clone): call it after a command, or when a server is idle.
pub fn keep_packed(cache: &Path) -> Result<Vec<PathBuf>, Error> {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return Ok(Vec::new());
    };
    let mut clones: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "git") && p.join("HEAD").is_file())
        .collect();
    clones.sort();
    let mut packed = Vec::new();
    for dir in clones {
        if LocalRepo::open(&dir)?.pack_loose_objects(crate::git::LOOSE_LIMIT)? {
            packed.push(dir);
        }
    }
    Ok(packed)
}

/// A cache folder name for a remote: readable, and unique by a hash of the whole remote.
fn folder_name(remote: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(remote.as_bytes());
    let tail: String = remote
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("repo")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    format!("{tail}-{}.git", hex::encode(&digest[..6]))
}

/// Creates the bare clone atomically: initialized beside, then renamed into place (another
/// process that got there first wins, and its clone is used).
fn init(dir: &Path) -> Result<LocalRepo, Error> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| Error::Io {
        path: parent.display().to_string(),
        source,
    })?;
    let staging: PathBuf = parent.join(format!(
        ".{}.{}.tmp",
        dir.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        unique()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    LocalRepo::init_bare(&staging)?;
    if std::fs::rename(&staging, dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(LocalRepo::open(dir)?)
}

/// A name part no other writer uses at the same time: this process, this thread, and the
/// clock's nanoseconds (two calls on one thread read different times).
pub(crate) fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    format!("{}-{thread}-{nanos}", std::process::id())
}

/// The config files of `commit` needed for `apps` (`glueops.yaml`, `common/`, `env-overlays/`
/// and those apps' folders), loaded and validated.
pub(crate) fn load_apps(
    repo: &LocalRepo,
    commit: &str,
    edit: Option<(&str, &[u8])>,
    apps: &BTreeSet<String>,
) -> Result<Repo, Error> {
    let mut dirs: Vec<String> = vec![
        "glueops.yaml".into(),
        "common".into(),
        "env-overlays".into(),
    ];
    dirs.extend(apps.iter().map(|a| format!("apps/{a}")));
    Repo::from_sources(&read_dirs(repo, commit, edit, &dirs)?).map_err(Error::Config)
}

/// Loads the config repo at `commit` of `repo`, with `edit` (path → bytes) applied on top.
pub(crate) fn load_at(
    repo: &LocalRepo,
    commit: &str,
    edit: Option<(&str, &[u8])>,
) -> Result<Repo, Error> {
    Repo::from_sources(&sources_at(repo, commit, edit)?).map_err(Error::Config)
}

/// The files of `commit` as a source tree, with `edit` applied.
pub(crate) fn sources_at(
    repo: &LocalRepo,
    commit: &str,
    edit: Option<(&str, &[u8])>,
) -> Result<SourceTree, Error> {
    let dirs = ["glueops.yaml", "apps", "common", "env-overlays"].map(String::from);
    read_dirs(repo, commit, edit, &dirs)
}

/// The files under `dirs` at `commit` as a source tree, with `edit` applied.
fn read_dirs(
    repo: &LocalRepo,
    commit: &str,
    edit: Option<(&str, &[u8])>,
    dirs: &[String],
) -> Result<SourceTree, Error> {
    let mut tree = SourceTree::new();
    let mut files = std::collections::BTreeMap::new();
    for dir in dirs {
        files.extend(repo.list(commit, dir)?);
    }
    for (path, id) in files {
        if edit.is_some_and(|(p, _)| p == path) {
            continue;
        }
        tree.insert(path, repo.read_blob(&id)?);
    }
    if let Some((path, bytes)) = edit {
        tree.insert(path, bytes.to_vec());
    }
    Ok(tree)
}

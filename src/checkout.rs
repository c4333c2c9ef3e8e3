//! Repositories the loop works on: bare clones in a cache folder, fetched before every plan;
//! the config repo read from a commit (or from a plain folder).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::git::{ManifestRepo, Remote};
use crate::model::{Repo, SourceTree};
use crate::{Error, Options};

/// A remote repository and the bare clone glueops works in.
#[derive(Debug)]
pub struct Checkout {
    /// The clone in the cache folder.
    pub repo: ManifestRepo,
    /// What `git fetch`/`git push` talk to: the URL (its credentials kept apart, never
    /// printed) or the absolute path given, with the deadline of every git process.
    pub remote: Remote,
    /// The branch.
    pub branch: String,
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
            ManifestRepo::open(&dir)?
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
        })
    }

    /// Fetches the branch: its commit at the remote, `None` when it does not exist yet. A
    /// process that plans on known tips ([`crate::plan_on_pushed_tips`]) remembers it: its
    /// next write to the branch is a compare-and-swap on this tip, without fetching again.
    pub fn fetch(&self) -> Result<Option<String>, Error> {
        let tip = self.repo.fetch(&self.remote, &self.branch)?;
        crate::publish::remember_fetched(self, tip.as_deref());
        Ok(tip)
    }
}

/// The remote's default branch, asked once per clone (`git ls-remote`) and remembered beside
/// it.
fn default_branch(repo: &ManifestRepo, remote: &Remote) -> Result<String, Error> {
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
        if ManifestRepo::open(&dir)?.pack_loose_objects(crate::git::LOOSE_LIMIT)? {
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
fn init(dir: &Path) -> Result<ManifestRepo, Error> {
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
    ManifestRepo::init_bare(&staging)?;
    if std::fs::rename(&staging, dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(ManifestRepo::open(dir)?)
}

/// A name part no other writer uses at the same time: this process, and a count within it.
pub(crate) fn unique() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// The config repo at one commit (fetched, loaded on demand), or a plain folder.
#[derive(Debug)]
pub struct Config {
    /// The commit read (a folder: its work tree's `HEAD`, if any).
    pub commit: Option<String>,
    /// The checkout, when the config is a repository.
    pub checkout: Option<Checkout>,
    /// The push of `commit` when it was still in flight as the config was opened: what is
    /// planned on it is pushed only once the remote accepted it.
    pub(crate) after: Option<std::sync::Arc<crate::publish::Pending>>,
    folder: Option<PathBuf>,
    full: std::sync::OnceLock<Repo>,
    platform: std::sync::OnceLock<crate::model::Platform>,
}

impl Config {
    /// Opens the config: a folder holding `glueops.yaml` is read as files unless
    /// `need_repository`; anything else is a repository, fetched (read when first needed).
    pub fn open(
        spec: &str,
        opts: &Options,
        branch: Option<&str>,
        need_repository: bool,
    ) -> Result<Config, Error> {
        let folder = Remote::parse(spec).is_ok_and(|r| r.is_path())
            && Path::new(spec).join("glueops.yaml").is_file();
        if folder && !need_repository {
            let commit = ManifestRepo::open(spec)
                .ok()
                .and_then(|r| r.resolve("HEAD").ok());
            return Ok(Config {
                commit,
                checkout: None,
                after: None,
                folder: Some(PathBuf::from(spec)),
                full: Default::default(),
                platform: Default::default(),
            });
        }
        let checkout = Checkout::open(spec, opts, branch)?;
        let (fetched, after) = match crate::publish::take_just_pushed(&checkout) {
            Some((commit, pending)) => (Some(commit), pending),
            None => (checkout.fetch()?, None),
        };
        let commit = fetched.ok_or_else(|| Error::Invalid {
            message: format!(
                "the config repo {} has no branch `{}`",
                checkout.remote, checkout.branch
            ),
            help: "push the config repo first, or name its branch with --config-branch".into(),
        })?;
        Ok(Config {
            commit: Some(commit),
            checkout: Some(checkout),
            after,
            folder: None,
            full: Default::default(),
            platform: Default::default(),
        })
    }

    /// The whole config repo, loaded and validated (once).
    pub fn repo(&self) -> Result<&Repo, Error> {
        if let Some(repo) = self.full.get() {
            return Ok(repo);
        }
        let repo = match (&self.folder, &self.checkout, &self.commit) {
            (Some(folder), _, _) => Repo::load(folder).map_err(Error::Config)?,
            (None, Some(checkout), Some(commit)) => {
                let repo = load_at(&checkout.repo, commit, None)?;
                crate::claims::remember(checkout, commit, &repo);
                repo
            }
            _ => {
                return Err(Error::Invalid {
                    message: "the config repo has no commit to read".into(),
                    help: "push the config repo first".into(),
                });
            }
        };
        Ok(self.full.get_or_init(|| repo))
    }

    /// The platform (`glueops.yaml`), without loading the apps when they are not loaded yet
    /// (a `glueops.yaml` that does not read is reported, located, by a load of it).
    pub fn platform(&self) -> Result<&crate::model::Platform, Error> {
        if let Some(repo) = self.full.get() {
            return Ok(repo.platform());
        }
        if let Some(platform) = self.platform.get() {
            return Ok(platform);
        }
        let (Some(checkout), Some(commit)) = (&self.checkout, &self.commit) else {
            return Ok(self.repo()?.platform());
        };
        crate::model::prepare();
        let text = checkout.repo.read_file(commit, "glueops.yaml")?;
        let platform = match text.as_deref().and_then(|t| std::str::from_utf8(t).ok()) {
            Some(text) => crate::model::Platform::from_yaml(text),
            None => None,
        };
        let platform = match platform {
            Some(p) => p,
            None => load_apps(&checkout.repo, commit, None, &BTreeSet::new())?
                .platform()
                .clone(),
        };
        Ok(self.platform.get_or_init(|| platform))
    }

    /// The config with only `apps` loaded, when the other apps' claims (hostnames, object
    /// names) are known from the config commit `base` and none of them conflicts; otherwise the
    /// whole repo. The flag says whether it is whole.
    pub(crate) fn with_apps(
        &self,
        base: Option<&str>,
        apps: &BTreeSet<String>,
    ) -> Result<(std::borrow::Cow<'_, Repo>, bool), Error> {
        if let (Some(checkout), Some(commit), Some(base), None) =
            (&self.checkout, &self.commit, base, self.full.get())
            && let Some(repo) = crate::claims::load_partial(checkout, commit, base, apps)?
        {
            return Ok((std::borrow::Cow::Owned(repo), false));
        }
        Ok((std::borrow::Cow::Borrowed(self.repo()?), true))
    }
}

/// The config files of `commit` needed for `apps` (`glueops.yaml`, `common/`, `env-overlays/`
/// and those apps' folders), loaded and validated.
pub(crate) fn load_apps(
    repo: &ManifestRepo,
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
    repo: &ManifestRepo,
    commit: &str,
    edit: Option<(&str, &[u8])>,
) -> Result<Repo, Error> {
    Repo::from_sources(&sources_at(repo, commit, edit)?).map_err(Error::Config)
}

/// The files of `commit` as a source tree, with `edit` applied.
pub(crate) fn sources_at(
    repo: &ManifestRepo,
    commit: &str,
    edit: Option<(&str, &[u8])>,
) -> Result<SourceTree, Error> {
    let dirs = ["glueops.yaml", "apps", "common", "env-overlays"].map(String::from);
    read_dirs(repo, commit, edit, &dirs)
}

/// The files under `dirs` at `commit` as a source tree, with `edit` applied.
fn read_dirs(
    repo: &ManifestRepo,
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

//! [`Config`]: the config repo at one commit, fetched and loaded on demand (only the apps a
//! change touches when the claims of the others are known), or a plain folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::checkout::{Checkout, load_apps, load_at};
use crate::git::{LocalRepo, Remote};
use crate::model::Repo;
use crate::{Error, Options};

/// The config repo at one commit (fetched, loaded on demand), or a plain folder.
#[derive(Debug)]
pub struct Config {
    /// The commit read (a folder: its work tree's `HEAD`, if any).
    pub commit: Option<String>,
    /// The checkout, when the config is a repository.
    pub checkout: Option<Checkout>,
    /// The push of `commit` when it was still in flight as the config was opened: what is
    /// planned on it is pushed only once the remote accepted it.
    pub(crate) after: Option<std::sync::Arc<crate::session::Pending>>,
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
            let commit = LocalRepo::open(spec)
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
        let (fetched, after) = match checkout.session.take_just_pushed(&checkout.tip_key()) {
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

/// The manifest branch of `config`'s platform.
pub(crate) fn manifest_checkout(
    config: &Config,
    manifests: &str,
    opts: &Options,
) -> Result<Checkout, Error> {
    let platform = config.platform()?;
    let branch = opts
        .branch
        .clone()
        .or_else(|| platform.spec.manifest_repo.branch.clone())
        .unwrap_or_else(|| "main".to_string());
    Checkout::open(manifests, opts, Some(&branch))
}

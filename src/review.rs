//! What a config change (a pull request) would change in the manifests: both sides rendered
//! natively, compared file by file.

use crate::Error;
use crate::Options;
use crate::checkout::{Checkout, load_at};

/// What merging a config change would do: the manifest changes, and for each environment
/// they touch whether it would release at once or be held (and why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigReview {
    /// The config commit reviewed (the pull request's head).
    pub head: String,
    /// The manifest files that would change, sorted by path.
    pub changes: Vec<crate::render::Change>,
    /// Each environment a change touches, with what its gate would hold at the time given
    /// (empty: it would release at once).
    pub environments: Vec<(String, Vec<crate::gate::Hold>)>,
}

/// The manifest changes between the config at `base` and at `head` (branch names or commit
/// ids of the config repository `spec`).
pub fn config_diff(
    spec: &str,
    base: &str,
    head: &str,
    opts: &Options,
) -> Result<Vec<crate::render::Change>, Error> {
    Ok(review_config(spec, base, head, opts)?.changes)
}

/// What merging `head` into `base` would do at `opts.now`: [`config_diff`], and the gates of
/// the environments it touches (approvals not counted: a pull request has none yet).
pub fn review_config(
    spec: &str,
    base: &str,
    head: &str,
    opts: &Options,
) -> Result<ConfigReview, Error> {
    let checkout = Checkout::open(spec, opts, opts.config_branch.as_deref())?;
    checkout.repo.fetch_branches(&checkout.remote)?;
    // A branch name (with git's `~N`/`^` suffixes) reads the fetched branch; anything else
    // is a commit id.
    let resolve = |rev: &str| -> Result<String, Error> {
        let name_end = rev.find(['~', '^']).unwrap_or(rev.len());
        let tracking = format!("refs/glueops/remotes/{}", &rev[..name_end]);
        if checkout.repo.try_resolve(&tracking)?.is_some() {
            return Ok(checkout
                .repo
                .resolve(&format!("{tracking}{}", &rev[name_end..]))?);
        }
        Ok(checkout.repo.resolve(rev)?)
    };
    let (old, new) = (resolve(base)?, resolve(head)?);
    let old_repo = load_at(&checkout.repo, &old, None)?;
    let new_repo = load_at(&checkout.repo, &new, None)?;
    let files = |repo: &crate::model::Repo| -> Result<crate::files::Files, Error> {
        Ok(crate::render::render(repo, &[])?.files()?)
    };
    let changes = crate::render::diff(&files(&old_repo)?, &files(&new_repo)?);
    let platform = new_repo.platform();
    let layout = crate::render::Layout::new(platform);
    let mut envs: Vec<String> = changes
        .iter()
        .filter_map(|c| match layout.owner_of(&c.path) {
            crate::render::Owner::Deployment { env, .. } => Some(env),
            _ => None,
        })
        .collect();
    envs.sort();
    envs.dedup();
    let environments = envs
        .into_iter()
        .map(|env| {
            let holds = platform
                .environment(&env)
                .map(|e| crate::gate::check(e, opts.now, &[]))
                .unwrap_or_default();
            (env, holds)
        })
        .collect();
    Ok(ConfigReview {
        head: new,
        changes,
        environments,
    })
}

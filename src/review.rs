//! What a config change (a pull request) would change in the manifests: both sides rendered
//! natively, compared file by file.

use std::collections::{BTreeMap, BTreeSet};

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
    Ok(review_config(spec, None, base, head, opts)?.changes)
}

/// What merging `head` into `base` would do at `opts.now`: [`config_diff`], and the gates of
/// the environments it touches (approvals not counted: a pull request has none yet). With
/// the manifest repo, the verification gates too (soak and checks of each app's release in
/// `from`, read through `opts.checks`).
pub fn review_config(
    spec: &str,
    manifests: Option<&str>,
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
    let touched: BTreeSet<(String, String)> = changes
        .iter()
        .filter_map(|c| match layout.owner_of(&c.path) {
            crate::render::Owner::Deployment { app, env, .. } => Some((app, env)),
            _ => None,
        })
        .collect();
    let evidence = match manifests {
        Some(spec) => verification_evidence(spec, &new_repo, opts)?,
        None => BTreeMap::new(),
    };
    let mut by_env: BTreeMap<String, Vec<crate::gate::Hold>> = BTreeMap::new();
    for (app, env) in &touched {
        let Some(e) = platform.environment(env) else {
            continue;
        };
        let holds = by_env
            .entry(env.clone())
            .or_insert_with(|| crate::gate::check(e, opts.now, &[]));
        if manifests.is_some() {
            let key = (app.clone(), env.clone());
            for hold in crate::gate::verify(e, opts.now, evidence.get(&key)) {
                if !holds.contains(&hold) {
                    holds.push(hold);
                }
            }
        }
    }
    let environments: Vec<(String, Vec<crate::gate::Hold>)> = by_env.into_iter().collect();
    Ok(ConfigReview {
        head: new,
        changes,
        environments,
    })
}

/// The verification evidence of `repo`'s gated deployments on the manifest branch of
/// `manifests`.
fn verification_evidence(
    manifests: &str,
    repo: &crate::model::Repo,
    opts: &Options,
) -> Result<BTreeMap<(String, String), crate::gate::Evidence>, Error> {
    let branch = opts
        .branch
        .clone()
        .or_else(|| repo.platform().spec.manifest_repo.branch.clone())
        .unwrap_or_else(|| "main".to_string());
    let checkout = Checkout::open(manifests, opts, Some(&branch))?;
    let tip = checkout.fetch()?;
    crate::verification::gather(&checkout, tip.as_deref(), repo, opts)
}

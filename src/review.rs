//! What a config change (a pull request) would change in the manifests: both sides rendered
//! natively, compared file by file.

use crate::Error;
use crate::Options;
use crate::checkout::{Checkout, load_at};

/// The manifest changes between the config at `base` and at `head` (branch names or commit
/// ids of the config repository `spec`).
pub fn config_diff(
    spec: &str,
    base: &str,
    head: &str,
    opts: &Options,
) -> Result<Vec<crate::render::Change>, Error> {
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
    let render = |commit: &str| -> Result<crate::files::Files, Error> {
        let repo = load_at(&checkout.repo, commit, None)?;
        Ok(crate::render::render(&repo, &[])?.files()?)
    };
    Ok(crate::render::diff(&render(&old)?, &render(&new)?))
}

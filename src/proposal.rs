//! Changes proposed as pull requests (`promotion.mode: pull-request`): a bump is committed on
//! its own branch `glueops/bump/<app>/<env>`, one commit on the config branch's tip, and the
//! forge is asked for a pull request from it ([`crate::feedback::Feedback::proposal`]). A newer
//! tag for the same app and environment replaces that commit (the branch is moved with a
//! compare-and-swap, only while it holds glueops' own commit): one pull request per app and
//! environment, whatever number of bumps. A branch someone else committed to is never
//! overwritten.

use crate::git::{Author, Edit, Trailer};
use crate::release::{Bump, values_path};
use crate::trailers as t;
use crate::{Error, Options};

/// A change proposed on a branch of the config repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// The branch (`glueops/bump/<app>/<env>`).
    pub branch: String,
    /// The branch it merges into (the config branch).
    pub base: String,
    /// The branch's commit, when the branch holds the change.
    pub commit: Option<String>,
    /// Whether this call moved the branch.
    pub changed: bool,
    /// The pull request's title.
    pub title: String,
    /// What the change is (Markdown), for the pull request's description.
    pub summary: String,
    /// Set when the branch holds a commit that is not glueops' (someone pushed to it): it was
    /// left as it is, and this says whose commit it is.
    pub moved: Option<String>,
    /// The environment's `promotion.autoMerge`: the forge is asked to merge once the pull
    /// request's required checks pass.
    pub auto_merge: bool,
    /// The branches of older proposals for the same app and environment (a promotion a
    /// bump replaces, or the other way round): their pull requests are closed, naming this
    /// one.
    pub supersedes: Vec<String>,
}

/// Attempts at most when another writer moves the branch between the read and the push.
const ATTEMPTS: u32 = 3;

/// Proposes `request` (a bump of an environment whose `promotion.mode` is `pull-request`):
/// its branch holds one commit on the config branch's tip setting the tag; nothing is
/// committed to the config branch itself.
pub fn propose_bump(spec: &str, request: &Bump<'_>, opts: &Options) -> Result<Proposal, Error> {
    let Bump { app, env, tag, .. } = *request;
    let summary = format!(
        "Sets `image.tag` of `{app}` in `{env}` to `{tag}` (`{}`).",
        values_path(app, env)
    );
    let title = format!("glueops: {app} {tag} to {env}");
    propose(spec, request, ("bump", title, summary), opts)
}

/// Proposes promoting `app` to `env` (its `promotion.from` environment's release) on the
/// branch `glueops/promote/<app>/<env>`, the description listing what it brings: the
/// releases in `from` since the tag `env` runs, with their config commits, authors and
/// source commits (from the manifest branch's trailers).
pub fn propose_promotion(
    config: &str,
    manifests: &str,
    app: &str,
    env: &str,
    opts: &Options,
) -> Result<Proposal, Error> {
    let notes = crate::release::release_notes(config, manifests, app, env, opts)?;
    let source = crate::release::SourceCommit::from_trailers(&notes.source);
    let request = Bump {
        app,
        env,
        tag: &notes.tag,
        source: source.as_ref(),
        extra: &[],
    };
    let title = format!("glueops: promote {app} {} to {env}", notes.tag);
    propose(config, &request, ("promote", title, notes.markdown), opts)
}

/// `request` on the branch `glueops/<kind>/<app>/<env>`, described by `title` and `summary`.
fn propose(
    spec: &str,
    request: &Bump<'_>,
    (kind, title, summary): (&str, String, String),
    opts: &Options,
) -> Result<Proposal, Error> {
    let Bump { app, env, tag, .. } = *request;
    crate::model::check::image_tag(tag).map_err(|reason| Error::Unsafe {
        path: values_path(app, env),
        reason: reason.to_string(),
    })?;
    let checkout = crate::checkout::Checkout::open(spec, opts, opts.config_branch.as_deref())?;
    let branch = format!("glueops/{kind}/{app}/{env}");
    crate::git::check_branch(&branch).map_err(crate::git::Error::from)?;
    let mut proposal = Proposal {
        branch: branch.clone(),
        base: checkout.branch.clone(),
        commit: None,
        changed: false,
        title,
        summary,
        moved: None,
        supersedes: ["bump", "promote"]
            .iter()
            .filter(|k| **k != kind)
            .map(|k| format!("glueops/{k}/{app}/{env}"))
            .collect(),
        auto_merge: crate::config::Config::open(spec, opts, opts.config_branch.as_deref(), false)?
            .platform()?
            .environment(env)
            .and_then(|e| e.promotion.as_ref())
            .and_then(|p| p.auto_merge)
            .unwrap_or(false),
    };
    let marker = format!("{app}/{env} image.tag=");
    for _ in 0..ATTEMPTS {
        let base = checkout.fetch()?.ok_or_else(|| Error::Invalid {
            message: format!("the config repo has no branch `{}`", checkout.branch),
            help: "push the config repo first, or name its branch with --config-branch".into(),
        })?;
        let current = checkout.repo.fetch(&checkout.remote, &branch)?;
        if let Some(tip) = &current {
            let own = checkout.repo.log(tip, 1)?.first().is_some_and(|e| {
                t::values(e, t::BUMP).any(|v| v.starts_with(&marker)) && e.author == "glueops"
            });
            if !own {
                proposal.moved = Some(tip.clone());
                proposal.commit = Some(tip.clone());
                return Ok(proposal);
            }
        }
        let Some(commit) = commit_on(&checkout, &base, request, opts)? else {
            // The config branch already runs this tag: nothing to propose.
            return Ok(proposal);
        };
        if let Some(tip) = &current
            && same_change(&checkout, tip, &commit, &base)?
        {
            proposal.commit = Some(tip.clone());
            return Ok(proposal);
        }
        if checkout.repo.push_commit_if_at(
            &checkout.remote,
            &commit,
            &branch,
            current.as_deref(),
        )? {
            proposal.commit = Some(commit);
            proposal.changed = true;
            return Ok(proposal);
        }
    }
    Err(Error::Contention {
        remote: checkout.remote.to_string(),
        branch,
        attempts: ATTEMPTS,
    })
}

/// The bump's commit on `base` (`None`: `base` has the tag already).
fn commit_on(
    checkout: &crate::checkout::Checkout,
    base: &str,
    request: &Bump<'_>,
    opts: &Options,
) -> Result<Option<String>, Error> {
    let Bump {
        app,
        env,
        tag,
        source,
        extra,
    } = *request;
    let path = values_path(app, env);
    let Some(new) = crate::release::tagged_values(checkout, base, (app, env), tag)? else {
        return Ok(None);
    };
    let mut edit = Edit::default();
    edit.write(&path, new.into_bytes())?;
    let mut trailers: Vec<Trailer> = Vec::new();
    trailers.extend(t::make(t::BUMP, format!("{app}/{env} image.tag={tag}")));
    if let Some(s) = source {
        trailers.extend(t::make(t::SOURCE_COMMIT, &s.commit));
        trailers.extend(t::make(t::SOURCE_TIME, s.time.to_string()));
    }
    trailers.extend(extra.iter().cloned());
    let author = Author {
        time: Some(opts.now),
        ..Author::new("glueops", "glueops@glueops.dev")
    };
    Ok(checkout.repo.commit_edit(
        Some(base),
        &edit,
        &author,
        &format!("bump: {app} {env} image.tag={tag}"),
        &trailers,
    )?)
}

/// Whether `tip` already is the change `commit` makes on `base` (the same files, on `base`).
fn same_change(
    checkout: &crate::checkout::Checkout,
    tip: &str,
    commit: &str,
    base: &str,
) -> Result<bool, Error> {
    let files = |c: &str| checkout.repo.list(c, "");
    Ok(checkout.repo.parents(tip)? == [base.to_string()] && files(tip)? == files(commit)?)
}

//! The I/O around [`crate::plan`]: fetch both repositories, plan on the manifest branch's tip,
//! commit and push (re-planning on a moved tip). Sync, promote, rollback and drift.

use std::collections::BTreeSet;

use crate::checkout::Checkout;
use crate::config::Config;
use crate::git::{ChangeSet, Trailer};
use crate::ledger::Ledger;
use crate::plan::{self, ConfigState, ManifestState, Plan, Request, Scope};
use crate::publish::{self, Commit, Published};
use crate::render::Layout;
use crate::trailers as t;
use crate::{Error, Options};

/// What a sync (or promotion, rollback, drift check) did.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The plan.
    pub plan: Plan,
    /// The commit pushed, if any.
    pub commit: Option<String>,
    /// Push attempts (more than 1 when another writer got in between).
    pub attempts: u32,
    /// Nothing was committed because `--dry-run` was given.
    pub dry_run: bool,
    /// Time spent planning (reading, rendering, comparing), every attempt together; the rest
    /// of the call is fetching, committing and pushing.
    #[serde(skip)]
    pub plan_time: std::time::Duration,
}

/// Makes the manifest branch what the gates allow from the config's tip.
pub fn sync(config: &str, manifests: &str, opts: &Options) -> Result<Outcome, Error> {
    let config = Config::open(config, opts, opts.config_branch.as_deref(), false)?;
    sync_with(&config, manifests, &Request::Sync, opts, false)
}

/// [`sync`], counting at every gate the approvals `ledger` holds for the config commit
/// released ([`Ledger::approvers_of`]: reviews of that commit, or of the pull request a merge
/// commit merged). The commit's trailers name who approved.
pub fn sync_approved(
    config: &str,
    manifests: &str,
    ledger: &Ledger,
    opts: &Options,
) -> Result<Outcome, Error> {
    let config = Config::open(config, opts, opts.config_branch.as_deref(), false)?;
    let approved_by = match (&config.checkout, &config.commit) {
        (Some(checkout), Some(commit)) => {
            ledger.approvers_of(commit, &checkout.repo.parents(commit)?)
        }
        _ => Vec::new(),
    };
    let request = if approved_by.is_empty() {
        Request::Sync
    } else {
        Request::Approved { approved_by }
    };
    sync_with(&config, manifests, &request, opts, false)
}

/// Plans and applies `request` against the manifest branch. `full` compares every file.
pub(crate) fn sync_with(
    config: &Config,
    manifests: &str,
    request: &Request,
    opts: &Options,
    full: bool,
) -> Result<Outcome, Error> {
    let checkout = crate::config::manifest_checkout(config, manifests, opts)?;
    let layout = Layout::new(config.platform()?);
    let mut plan_time = std::time::Duration::ZERO;
    let beside = publish::Beside {
        after: config.after.clone(),
        during: None,
    };
    let (plan, published) =
        publish::publish_beside(&checkout, opts.now, opts.dry_run, beside, |base| {
            let started = std::time::Instant::now();
            let mut p = plan_on(config, &checkout, &layout, base, request, opts, full)?;
            plan_time += started.elapsed();
            if p.refused.is_some() || p.is_empty() {
                return Ok((p, None));
            }
            if opts.dry_run {
                return Ok((p, Some(Commit::default())));
            }
            let commit = Commit {
                edit: std::mem::take(&mut p.edit),
                title: p.title.clone(),
                trailers: p.trailers.clone(),
            };
            Ok((p, Some(commit)))
        })?;
    // Planned on a config push in flight: the outcome stands only once that push landed
    // (a release was pushed only then; one that released nothing waits here).
    if let Some(config) = &config.after
        && !config.accepted()
    {
        return Err(Error::Superseded {
            commit: config.commit.clone(),
        });
    }
    let dry_run = published == Published::DryRun;
    let (commit, attempts) = match published {
        Published::Pushed { commit, attempts } => (Some(commit), attempts),
        _ => (None, 1),
    };
    Ok(Outcome {
        plan,
        commit,
        attempts,
        dry_run,
        plan_time,
    })
}

/// The plan of `request` on the manifest branch at `base`: the deployments in scope loaded,
/// rendered and compared with the branch's files.
fn plan_on(
    config: &Config,
    checkout: &Checkout,
    layout: &Layout,
    base: Option<&str>,
    request: &Request,
    opts: &Options,
    full: bool,
) -> Result<Plan, Error> {
    let mut state = publish::state_of(checkout, base)?;
    let since = since(config, &state);
    let carried = carried(config, &state);
    let scope = if full {
        Scope::Full {
            reason: "a fresh render of every deployment".into(),
        }
    } else {
        plan::scope(since.as_ref(), &state, request, &Index(config))
    };
    let selected = selected(&scope);
    let (repo, complete) = match &selected {
        None => (std::borrow::Cow::Borrowed(config.repo()?), true),
        Some(pairs) => {
            let apps: BTreeSet<String> = pairs.iter().map(|(a, _)| a.clone()).collect();
            let base_config = state.last_own.as_ref().and_then(|o| t::value(o, t::CONFIG));
            config.with_apps(base_config, &apps)?
        }
    };
    let cs = ConfigState {
        repo: &repo,
        commit: config.commit.as_deref(),
        since: since.as_ref(),
        carried: &carried,
        complete,
    };
    state.files = list(checkout, base, layout, &scope, repo.platform())?;
    state.verification = crate::verification::gather(checkout, base, &repo, opts)?;
    let rendered = crate::render::render_selected(&repo, &[], &|d| {
        selected.as_ref().is_none_or(|s| {
            d.environment()
                .is_some_and(|e| s.contains(&(d.app.clone(), e.to_string())))
        })
    })?
    .files()?;
    plan::plan(
        &cs,
        &state,
        scope,
        rendered,
        request,
        opts.now,
        opts.allow_delete,
    )
}

/// The (app, env) pairs a scope names; `None` for every deployment.
fn selected(scope: &Scope) -> Option<BTreeSet<(String, String)>> {
    match scope {
        Scope::Full { .. } => None,
        Scope::Deployments { deployments } => Some(
            deployments
                .iter()
                .filter_map(|d| d.split_once('/'))
                .map(|(a, e)| (a.to_string(), e.to_string()))
                .collect(),
        ),
    }
}

/// The config's tree read for [`plan::scope`]: `apps/<app>/envs/<env>/values.yaml` names a
/// deployment; `glueops.yaml` the namespaces of environments.
struct Index<'a>(&'a Config);

impl Index<'_> {
    fn deployments_under(&self, dir: &str) -> Option<Vec<(String, String)>> {
        let (Some(checkout), Some(commit)) = (&self.0.checkout, &self.0.commit) else {
            return None;
        };
        let files = checkout.repo.list(commit, dir).ok()?;
        Some(
            files
                .keys()
                .filter_map(|p| match p.split('/').collect::<Vec<_>>().as_slice() {
                    ["apps", app, "envs", env, "values.yaml"] if *env != "previews" => {
                        Some(((*app).to_string(), (*env).to_string()))
                    }
                    _ => None,
                })
                .collect(),
        )
    }
}

impl plan::ConfigIndex for Index<'_> {
    fn envs_of(&self, app: &str) -> Option<Vec<String>> {
        let pairs = self.deployments_under(&format!("apps/{app}/envs"))?;
        Some(pairs.into_iter().map(|(_, e)| e).collect())
    }

    fn in_namespace(&self, namespace: &str) -> Option<Vec<(String, String)>> {
        let platform = self.0.platform().ok()?;
        let envs: BTreeSet<&str> = platform
            .spec
            .environments
            .iter()
            .filter(|e| e.namespace() == namespace)
            .map(|e| e.name.as_str())
            .collect();
        if envs.is_empty() {
            // The previews overlay, or a folder no environment uses: no deployment.
            return Some(Vec::new());
        }
        let mut pairs = self.deployments_under("apps")?;
        pairs.retain(|(_, e)| envs.contains(e.as_str()));
        Some(pairs)
    }
}

/// The config paths changed since the config commit of glueops' newest manifest commit.
fn since(config: &Config, state: &ManifestState) -> Option<ChangeSet> {
    let checkout = config.checkout.as_ref()?;
    let head = config.commit.as_deref()?;
    let from = state
        .last_own
        .as_ref()
        .and_then(|o| t::value(o, t::CONFIG))?;
    checkout.repo.changed_paths(from, head).ok()
}

/// The source trailers of the config commits since the last release (newest first).
fn carried(config: &Config, state: &ManifestState) -> Vec<Trailer> {
    let (Some(checkout), Some(head)) = (&config.checkout, &config.commit) else {
        return Vec::new();
    };
    let from = state.last_own.as_ref().and_then(|o| t::value(o, t::CONFIG));
    let mut out: Vec<Trailer> = Vec::new();
    for entry in checkout.repo.log(head, 200).unwrap_or_default() {
        if Some(entry.commit.as_str()) == from {
            break;
        }
        for tr in &entry.trailers {
            if (tr.key == t::SOURCE_COMMIT || tr.key == t::SOURCE_TIME) && !out.contains(tr) {
                out.push(tr.clone());
            }
        }
        if from.is_none() {
            break;
        }
    }
    out
}

/// The manifest files a plan with `scope` compares.
fn list(
    checkout: &Checkout,
    base: Option<&str>,
    layout: &Layout,
    scope: &Scope,
    platform: &crate::model::Platform,
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let Some(base) = base else {
        return Ok(Default::default());
    };
    match scope {
        Scope::Full { .. } => Ok(checkout.repo.list(base, layout.root())?),
        Scope::Deployments { deployments } => {
            let mut files = std::collections::BTreeMap::new();
            for d in deployments {
                let Some((app, env)) = d.split_once('/') else {
                    continue;
                };
                if let Some(e) = platform.environment(env) {
                    files.extend(
                        checkout
                            .repo
                            .list(base, &layout.deployment_dir(&e.cluster, env, app))?,
                    );
                }
            }
            for cluster in platform.cluster_names() {
                files.extend(checkout.repo.list(base, &layout.delivery_dir(cluster))?);
            }
            Ok(files)
        }
    }
}

/// A fresh render of every deployment against the manifest branch, nothing written: the
/// files a sync would change (held changes are not drift).
pub fn drift(config: &str, manifests: &str, opts: &Options) -> Result<Outcome, Error> {
    let config = Config::open(config, opts, opts.config_branch.as_deref(), false)?;
    let opts = Options {
        dry_run: true,
        ..opts.clone()
    };
    sync_with(&config, manifests, &Request::Sync, &opts, true)
}

/// The bytes of `path` on the manifest branch before and in a dry-run plan, for `--diff`.
pub fn drift_diff(
    manifests: &str,
    outcome: &Outcome,
    opts: &Options,
) -> Result<Vec<crate::render::Change>, Error> {
    let branch = opts.branch.as_deref().unwrap_or("main");
    let checkout = Checkout::open(manifests, opts, Some(branch))?;
    let Some(base) = &outcome.plan.base else {
        return Ok(Vec::new());
    };
    let mut old = crate::files::Files::new();
    let mut new = crate::files::Files::new();
    for path in outcome.plan.written.iter().chain(&outcome.plan.removed) {
        if let Some(bytes) = checkout.repo.read_file(base, path)? {
            old.insert(path, bytes)
                .map_err(crate::render::Error::from)?;
        }
    }
    for (path, bytes) in outcome.plan.edit.writes() {
        new.insert(path, bytes.to_vec())
            .map_err(crate::render::Error::from)?;
    }
    Ok(crate::render::diff(&old, &new))
}

//! Pull-request previews on the manifest branch: open (or update) one, close exactly its
//! files, and collect the ones older than `previews.ttl`.

use std::collections::BTreeSet;

use crate::Error;
use crate::Options;
use crate::checkout::Checkout;
use crate::config::Config;
use crate::config::manifest_checkout;
use crate::model::platform::Previews;
use crate::publish::{self, Commit, Published};
use crate::render::{Layout, Owner};

mod batch;

pub use batch::{PreviewChange, apply_previews};

/// Which apps a pull request's preview is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewTarget {
    /// One app.
    App(String),
    /// Every app whose `source.repo` is this `OWNER/NAME` (a monorepo may build several).
    SourceRepo(String),
}

/// A pull request, as a preview needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Its head commit: the preview's image tag.
    pub sha: Option<String>,
    /// Its head branch.
    pub branch: Option<String>,
    /// Its labels (for `previews.labels`).
    pub labels: Vec<String>,
}

/// What a preview command did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewOutcome {
    /// Previews opened or updated (`<app>-pr-<N>`).
    pub opened: Vec<String>,
    /// Previews closed.
    pub closed: Vec<String>,
    /// Why the pull request gets no preview, when its labels say so.
    pub skipped: Option<String>,
    /// Files written.
    pub written: Vec<String>,
    /// Files and folders removed.
    pub removed: Vec<String>,
    /// The commit pushed, if anything changed.
    pub commit: Option<String>,
    /// The ingress hostnames of each preview opened (`<app>-pr-<N>` → hosts, in the
    /// order the values list them).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub hosts: std::collections::BTreeMap<String, Vec<String>>,
    /// The manifest commit that holds each opened preview as rendered (`commit`, or the
    /// earlier one when the branch already held it).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub commits: std::collections::BTreeMap<String, String>,
}

fn settings(config: &Config) -> Result<&Previews, Error> {
    config.platform()?.previews().ok_or_else(|| Error::Invalid {
        message: "previews are not enabled".into(),
        help: "set spec.previews.enabled: true in glueops.yaml".into(),
    })
}

/// Whether the config has an app called `app` (from its tree, without loading it).
fn has_app(config: &Config, app: &str) -> Result<bool, Error> {
    match (&config.checkout, &config.commit) {
        (Some(checkout), Some(commit)) if !app.is_empty() && !app.contains('/') => Ok(!checkout
            .repo
            .list(commit, &format!("apps/{app}"))?
            .is_empty()),
        _ => Ok(config.repo()?.apps().any(|a| a == app)),
    }
}

/// The apps `target` names.
fn apps(config: &Config, target: &PreviewTarget) -> Result<Vec<String>, Error> {
    let apps: BTreeSet<String> = match target {
        PreviewTarget::App(app) => {
            if !has_app(config, app)? {
                return Err(Error::Invalid {
                    message: format!("no app is named `{app}`"),
                    help: "use a folder name under apps/".into(),
                });
            }
            BTreeSet::from([app.clone()])
        }
        PreviewTarget::SourceRepo(source) => config
            .repo()?
            .deployments()
            .filter(|d| {
                d.values
                    .source
                    .as_ref()
                    .and_then(|s| s.repo.as_deref())
                    .is_some_and(|r| r.eq_ignore_ascii_case(source))
            })
            .map(|d| d.app.clone())
            .collect(),
    };
    if apps.is_empty() {
        return Err(Error::Invalid {
            message: format!(
                "no app has `source.repo: {}`",
                match target {
                    PreviewTarget::App(a) | PreviewTarget::SourceRepo(a) => a,
                }
            ),
            help: "set source.repo in the app's base values".into(),
        });
    }
    Ok(apps.into_iter().collect())
}

/// Opens or updates the preview of `pr` for the apps of `target`; a pull request its labels
/// exclude has its previews closed instead.
pub fn open_preview(
    config: &str,
    manifests: &str,
    target: &PreviewTarget,
    pr: &PullRequest,
    opts: &Options,
) -> Result<PreviewOutcome, Error> {
    let config = Config::open(config, opts, opts.config_branch.as_deref(), false)?;
    let settings = settings(&config)?;
    let change = PreviewChange::Open {
        target: target.clone(),
        pr: pr.clone(),
    };
    let mut out = batch::apply_loaded(&config, manifests, &[change], opts)?;
    if let Some(labels) = &settings.labels
        && !labels.admits(&pr.labels)
    {
        out.skipped = Some(if labels.opt_out.iter().any(|l| pr.labels.contains(l)) {
            format!(
                "the pull request has an opt-out label ({})",
                labels.opt_out.join(", ")
            )
        } else {
            format!(
                "the pull request has none of the opt-in labels ({})",
                labels.opt_in.join(", ")
            )
        });
    }
    Ok(out)
}

/// Closes the previews of pull request `number` for the apps of `target`: their folders and
/// delivery objects, and the previews project when no preview is left. Nothing else.
pub fn close_preview(
    config: &str,
    manifests: &str,
    target: &PreviewTarget,
    number: u64,
    opts: &Options,
) -> Result<PreviewOutcome, Error> {
    let change = PreviewChange::Close {
        target: target.clone(),
        number,
    };
    apply_previews(config, manifests, &[change], opts)
}

/// The previews on the branch: folder names under `clusters/<cluster>/previews/`.
fn open_previews(
    checkout: &Checkout,
    base: &str,
    layout: &Layout,
    cluster: &str,
) -> Result<BTreeSet<String>, Error> {
    let files = checkout.repo.list(base, &layout.previews_dir(cluster))?;
    Ok(files
        .keys()
        .filter_map(|p| match layout.owner_of(p) {
            Owner::Preview { name: Some(n), .. } => Some(n),
            _ => None,
        })
        .collect())
}

/// The open previews on the manifest branch at `base`, each with when it was last opened or
/// updated (Unix seconds).
pub(crate) fn open_with_times(
    config: &Config,
    checkout: &Checkout,
    base: &str,
) -> Result<Vec<(String, i64)>, Error> {
    let Some(settings) = config.platform()?.previews() else {
        return Ok(Vec::new());
    };
    let layout = Layout::new(config.platform()?);
    let mut out = Vec::new();
    for name in open_previews(checkout, base, &layout, &settings.cluster)? {
        let dir = layout.preview_dir(&settings.cluster, &name);
        let time = checkout
            .repo
            .history(base, &dir, 1)?
            .first()
            .map_or(0, |e| e.time);
        out.push((name, time));
    }
    Ok(out)
}

/// Closes every preview whose last open or update is older than `previews.ttl` at
/// `opts.now`.
pub fn gc_previews(config: &str, manifests: &str, opts: &Options) -> Result<PreviewOutcome, Error> {
    let config = Config::open(config, opts, opts.config_branch.as_deref(), false)?;
    let settings = settings(&config)?;
    let Some(ttl) = &settings.ttl else {
        return Ok(PreviewOutcome {
            skipped: Some("previews.ttl is not set: previews live until closed".into()),
            ..PreviewOutcome::default()
        });
    };
    let ttl = crate::model::check::go_duration_seconds(ttl).map_err(|message| Error::Invalid {
        message: message.to_string(),
        help: "fix previews.ttl in glueops.yaml".into(),
    })?;
    let checkout = manifest_checkout(&config, manifests, opts)?;
    let Some(base) = checkout.fetch()? else {
        return Ok(PreviewOutcome::default());
    };
    let why = format!(
        "older than previews.ttl ({})",
        settings.ttl.as_deref().unwrap_or_default()
    );
    let ttl = i64::try_from(ttl).unwrap_or(i64::MAX);
    // By name: a preview of an app the config no longer has is collected too.
    let stale: batch::WantedPreviews = open_with_times(&config, &checkout, &base)?
        .into_iter()
        .filter(|(_, updated)| opts.now.as_second() - updated > ttl)
        .filter_map(|(name, _)| {
            let (app, n) = name.rsplit_once("-pr-")?;
            let entry = (
                app.to_string(),
                n.parse().ok()?,
                batch::Wanted::Close(why.clone()),
            );
            Some((name, entry))
        })
        .collect();
    if stale.is_empty() {
        return Ok(PreviewOutcome::default());
    }
    batch::publish_wanted(&config, manifests, &stale, opts)
}

fn run(
    checkout: &Checkout,
    opts: &Options,
    plan: impl FnMut(Option<&str>) -> Result<(PreviewOutcome, Option<Commit>), Error>,
) -> Result<PreviewOutcome, Error> {
    let (mut out, published) = publish::publish(checkout, opts.now, opts.dry_run, plan)?;
    if let Published::Pushed { commit, .. } = published {
        out.commit = Some(commit);
    } else if published == Published::Unchanged {
        out.written.clear();
    }
    Ok(out)
}

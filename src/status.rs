//! What is released where, what a gate holds and why, which previews are open: the answer to
//! "what is running?" read from the manifest branch's trailers (for `glueops serve`'s
//! `/status`, or any dashboard).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Options;
use crate::config::Config;
use crate::config::manifest_checkout;
use crate::gate::{self, Hold};
use crate::ledger::Ledger;
use crate::plan::Held;
use crate::{Error, publish, trailers as t};

/// One deployment's release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStatus {
    /// The app.
    pub app: String,
    /// The environment.
    pub env: String,
    /// The config commit its manifests were rendered from (`None`: never released).
    pub config: Option<String>,
    /// The image tag released.
    pub tag: Option<String>,
    /// The image released: the config's `image.registry`/`image.repository` at that tag.
    pub image: Option<String>,
    /// The manifest commit that released it.
    pub commit: Option<String>,
    /// When (Unix seconds).
    pub released_at: Option<i64>,
    /// When a gate holds a newer config: every rule that holds (with the next window).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<Hold>,
}

/// One open preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewStatus {
    /// `<app>-pr-<N>`.
    pub name: String,
    /// When it was last opened or updated (Unix seconds).
    pub updated_at: i64,
    /// Seconds since then.
    pub age_seconds: i64,
}

/// The platform's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The config commit read.
    pub config: Option<String>,
    /// The manifest branch's head.
    pub manifests: Option<String>,
    /// Every deployment of the config, by app then environment.
    pub deployments: Vec<DeploymentStatus>,
    /// Open previews, by name.
    pub previews: Vec<PreviewStatus>,
}

/// The status of every deployment of `config` in `manifests` at `opts.now`. `held`: what the
/// last sync held (a hold commits nothing, so only the sync knows it); without it, the holds
/// the manifest branch's trailers name, evaluated with the approvals `ledger` records for
/// the config's tip.
pub fn status(
    config: &str,
    manifests: &str,
    held: Option<&[Held]>,
    ledger: &Ledger,
    opts: &Options,
) -> Result<Status, Error> {
    let config = Config::open(config, opts, opts.config_branch.as_deref(), false)?;
    let checkout = manifest_checkout(&config, manifests, opts)?;
    let repo = config.repo()?;
    let platform = repo.platform();
    let mut wanted: BTreeMap<(String, String), Option<DeploymentStatus>> = repo
        .deployments()
        .filter_map(|d| Some(((d.app.clone(), d.environment()?.to_string()), None)))
        .collect();
    let Some(tip) = checkout.fetch()? else {
        return Ok(Status {
            config: config.commit.clone(),
            manifests: None,
            deployments: finish(wanted),
            previews: Vec::new(),
        });
    };
    last_releases(&checkout, &tip, &mut wanted)?;
    let mut deployments = finish(wanted);
    for d in &mut deployments {
        let image = repo
            .deployment(&d.app, &d.env)
            .and_then(|i| i.values.image.as_ref());
        if let (Some(image), Some(tag)) = (image, &d.tag)
            && let Some(repository) = &image.repository
        {
            d.image = Some(match &image.registry {
                Some(registry) => format!("{registry}/{repository}:{tag}"),
                None => format!("{repository}:{tag}"),
            });
        }
    }
    match held {
        Some(held) => {
            for d in &mut deployments {
                if let Some(h) = held.iter().find(|h| h.app == d.app && h.env == d.env) {
                    d.held.clone_from(&h.holds);
                }
            }
        }
        None => {
            let state = publish::state_of(&checkout, Some(&tip))?;
            let named: Vec<String> = state
                .last_own
                .as_ref()
                .map(|o| t::values(o, t::HELD).map(str::to_string).collect())
                .unwrap_or_default();
            let approved_by = match (&config.checkout, &config.commit) {
                (Some(c), Some(commit)) => ledger.approvers_of(commit, &c.repo.parents(commit)?),
                _ => Vec::new(),
            };
            for d in &mut deployments {
                if named.contains(&format!("{}/{}", d.app, d.env))
                    && let Some(env) = platform.environment(&d.env)
                {
                    d.held = gate::check(env, opts.now, &approved_by);
                }
            }
        }
    }
    let previews = crate::preview::open_with_times(&config, &checkout, &tip)?
        .into_iter()
        .map(|(name, updated_at)| PreviewStatus {
            name,
            updated_at,
            age_seconds: opts.now.as_second() - updated_at,
        })
        .collect();
    Ok(Status {
        config: config.commit.clone(),
        manifests: Some(tip),
        deployments,
        previews,
    })
}

/// Fills each wanted deployment with its newest release (or removal) the branch's history
/// from `tip` names, walking back only until every one is found.
pub(crate) fn last_releases(
    checkout: &crate::checkout::Checkout,
    tip: &str,
    wanted: &mut BTreeMap<(String, String), Option<DeploymentStatus>>,
) -> Result<(), Error> {
    let mut missing = wanted.len();
    checkout.repo.walk_log(tip, |entry| {
        for key in [t::DEPLOY, t::REMOVE] {
            for value in t::values(&entry, key) {
                let Some(((app, env), fields)) = t::parse_deployment(value) else {
                    continue;
                };
                let Some(slot) = wanted.get_mut(&(app.to_string(), env.to_string())) else {
                    continue;
                };
                if slot.is_some() {
                    continue;
                }
                let field = |k: &str| {
                    fields
                        .iter()
                        .find(|(f, _)| *f == k)
                        .map(|(_, v)| (*v).to_string())
                        .filter(|v| v != "-")
                };
                *slot = Some(DeploymentStatus {
                    app: app.to_string(),
                    env: env.to_string(),
                    config: field("config"),
                    tag: field("tag"),
                    image: None,
                    commit: Some(entry.commit.clone()),
                    released_at: Some(entry.time),
                    held: Vec::new(),
                });
                missing -= 1;
            }
        }
        missing > 0
    })?;
    Ok(())
}

fn finish(wanted: BTreeMap<(String, String), Option<DeploymentStatus>>) -> Vec<DeploymentStatus> {
    wanted
        .into_iter()
        .map(|((app, env), s)| {
            s.unwrap_or(DeploymentStatus {
                app,
                env,
                config: None,
                tag: None,
                image: None,
                commit: None,
                released_at: None,
                held: Vec::new(),
            })
        })
        .collect()
}

//! What a dashboard shows: per app its environments in promotion order (the tag each runs,
//! since when, by what, and what holds the next one), the open previews, the latest releases
//! and the DORA figures of the last 30 days with a count per day — read from the manifest
//! branch's trailers, the config and the ledger. [`Board`] is plain data; `glueops serve`
//! renders it as HTML.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{Config, manifest_checkout};
use crate::gate::Hold;
use crate::git::HistoryEntry;
use crate::status::Status;
use crate::{Error, Options, dora, trailers as t};

/// Days the releases and DORA figures look back.
pub const DAYS: usize = 30;
/// Releases listed at most.
const RELEASES: usize = 50;

/// Everything the dashboard shows, at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Board {
    /// `metadata.name` of the platform.
    pub platform: String,
    /// When it was read (Unix seconds).
    pub now: i64,
    /// The config commit read.
    pub config: Option<String>,
    /// The manifest branch's head.
    pub manifests: Option<String>,
    /// The manifest repo's web address (commit links), when it has one.
    pub manifests_web: Option<String>,
    /// One per app, by name.
    pub pipelines: Vec<Pipeline>,
    /// Open previews, by name.
    pub previews: Vec<PreviewCard>,
    /// The latest releases, newest first (at most 50).
    pub releases: Vec<ReleaseEntry>,
    /// Every release of the last [`DAYS`] days (at least the last 50), newest first: the
    /// history of each deployment.
    pub history: Vec<ReleaseEntry>,
    /// DORA figures per app and environment.
    pub dora: Vec<DoraCard>,
}

/// An app's environments in promotion order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pipeline {
    /// The app.
    pub app: String,
    /// Its environments, each after the one it is promoted from.
    pub stages: Vec<Stage>,
}

/// One environment of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    /// The environment.
    pub env: String,
    /// The tag released (`None`: never released).
    pub tag: Option<String>,
    /// The config commit it was rendered from.
    pub config: Option<String>,
    /// The manifest commit that released it.
    pub commit: Option<String>,
    /// When (Unix seconds).
    pub released_at: Option<i64>,
    /// What released it.
    pub cause: Cause,
    /// Every rule that holds a newer config.
    pub holds: Vec<Hold>,
    /// The tag the config asks for that is not released yet.
    pub waiting: Option<String>,
    /// The environment it is promoted from.
    pub from: Option<String>,
}

/// What made a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// A config change (a push to the config branch).
    Push,
    /// A bump of the image tag.
    Bump,
    /// A promotion from another environment.
    Promotion,
    /// A rollback.
    Rollback,
    /// Not released yet.
    None,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cause::Push => "config push",
            Cause::Bump => "bump",
            Cause::Promotion => "promotion",
            Cause::Rollback => "rollback",
            Cause::None => "not released",
        })
    }
}

/// An open preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewCard {
    /// `<app>-pr-<N>`.
    pub name: String,
    /// The app.
    pub app: String,
    /// The pull request.
    pub number: u64,
    /// Its ingress hostnames.
    pub hosts: Vec<String>,
    /// The head commit previewed.
    pub head: Option<String>,
    /// When it was last opened or updated (Unix seconds).
    pub updated_at: i64,
    /// When the preview gc closes it (`previews.ttl`), when set.
    pub closes_at: Option<i64>,
}

/// One release commit of the manifest branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseEntry {
    /// The manifest commit.
    pub commit: String,
    /// When (Unix seconds).
    pub time: i64,
    /// `(app, env, tag)` of each deployment it released.
    pub deployments: Vec<(String, String, Option<String>)>,
    /// Whether it was a rollback.
    pub rollback: bool,
}

/// The DORA figures of one deployment over the last [`DAYS`] days.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DoraCard {
    /// The figures over the whole period.
    pub metrics: dora::Metrics,
    /// The figures of each day, oldest first ([`DAYS`] entries, the last one ending now).
    pub days: Vec<DayFigures>,
}

/// The DORA figures of one deployment on one day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayFigures {
    /// Releases (rollbacks not counted).
    pub releases: usize,
    /// Median seconds from source commit to release.
    pub lead_time: Option<i64>,
    /// Releases of the day rolled back, over releases.
    pub failure_rate: Option<f64>,
    /// Median seconds from a release to its rollback.
    pub time_to_restore: Option<i64>,
}

/// The board of `config` and `manifests` at `opts.now`, from `status` (as [`crate::status`]
/// answered it) and the manifest branch's history.
pub fn board(
    config: &str,
    manifests: &str,
    status: &Status,
    opts: &Options,
) -> Result<Board, Error> {
    let config = Config::open(config, opts, opts.config_branch.as_deref(), false)?;
    let checkout = manifest_checkout(&config, manifests, opts)?;
    let repo = config.repo()?;
    let platform = repo.platform();
    let now = opts.now.as_second();
    let since = now - i64::try_from(DAYS).unwrap_or(30) * 86_400;
    let mut history: Vec<HistoryEntry> = Vec::new();
    if let Some(tip) = &status.manifests {
        checkout.repo.walk_log(tip, |e| {
            let keep = e.time >= since || history.len() < RELEASES;
            if keep {
                history.push(e);
            }
            keep
        })?;
    }
    let bumps = config_bumps(&config, &status.deployments)?;
    let order = promotion_order(platform);
    let mut pipelines: BTreeMap<String, Vec<Stage>> = BTreeMap::new();
    for d in &status.deployments {
        let waiting = repo
            .deployment(&d.app, &d.env)
            .and_then(|i| i.values.image.as_ref())
            .and_then(|i| i.tag.clone())
            .filter(|tag| d.tag.as_ref() != Some(tag) && !d.held.is_empty());
        pipelines.entry(d.app.clone()).or_default().push(Stage {
            env: d.env.clone(),
            tag: d.tag.clone(),
            config: d.config.clone(),
            commit: d.commit.clone(),
            released_at: d.released_at,
            cause: cause(d, &history, &bumps),
            holds: d.held.clone(),
            waiting,
            from: platform
                .environment(&d.env)
                .and_then(|e| e.promotion.as_ref())
                .and_then(|p| p.from.clone()),
        });
    }
    let pipelines = pipelines
        .into_iter()
        .map(|(app, mut stages)| {
            stages.sort_by_key(|s| order.iter().position(|e| *e == s.env).unwrap_or(usize::MAX));
            Pipeline { app, stages }
        })
        .collect();
    let ttl = platform
        .previews()
        .and_then(|p| p.ttl.as_deref())
        .and_then(|ttl| crate::model::check::go_duration_seconds(ttl).ok())
        .and_then(|s| i64::try_from(s).ok());
    let previews = status
        .previews
        .iter()
        .filter_map(|p| {
            let (app, number) = p.name.rsplit_once("-pr-")?;
            let number: u64 = number.parse().ok()?;
            let head = preview_head(&history, app, number);
            let hosts = repo
                .preview_at(app, number, head.as_deref())
                .map(|d| d.hostnames().into_iter().map(|(h, _)| h).collect())
                .unwrap_or_default();
            Some(PreviewCard {
                name: p.name.clone(),
                app: app.to_string(),
                number,
                hosts,
                head,
                updated_at: p.updated_at,
                closes_at: ttl.map(|ttl| p.updated_at + ttl),
            })
        })
        .collect();
    Ok(Board {
        platform: platform.metadata.name.clone(),
        now,
        config: status.config.clone(),
        manifests: status.manifests.clone(),
        manifests_web: crate::feedback::web_url(&platform.spec.manifest_repo.url),
        pipelines,
        previews,
        releases: releases(&history).into_iter().take(RELEASES).collect(),
        history: releases(&history),
        dora: dora_cards(&history, opts),
    })
}

/// The environments, each after the one it is promoted from (else in the config's order).
fn promotion_order(platform: &crate::model::platform::Platform) -> Vec<String> {
    let envs = &platform.spec.environments;
    let mut order: Vec<String> = Vec::new();
    while order.len() < envs.len() {
        let before = order.len();
        for e in envs {
            let from = e.promotion.as_ref().and_then(|p| p.from.as_ref());
            let ready =
                from.is_none_or(|f| order.contains(f) || !envs.iter().any(|x| &x.name == f));
            if ready && !order.contains(&e.name) {
                order.push(e.name.clone());
            }
        }
        if order.len() == before {
            // A cycle (refused by validation): the rest in the config's order.
            order.extend(
                envs.iter()
                    .map(|e| e.name.clone())
                    .filter(|n| !order.contains(n))
                    .collect::<Vec<_>>(),
            );
        }
    }
    order
}

/// Config commits (of the released deployments) whose trailers name a bump, as
/// `(commit, "app/env")`.
fn config_bumps(
    config: &Config,
    deployments: &[crate::status::DeploymentStatus],
) -> Result<Vec<(String, String)>, Error> {
    let Some(checkout) = &config.checkout else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for commit in deployments.iter().filter_map(|d| d.config.as_deref()) {
        if out.iter().any(|(c, _): &(String, String)| c == commit) {
            continue;
        }
        let Ok(log) = checkout.repo.log(commit, 1) else {
            continue;
        };
        for entry in log {
            for value in t::values(&entry, t::BUMP) {
                if let Some((deployment, _)) = value.split_once(' ') {
                    out.push((commit.to_string(), deployment.to_string()));
                }
            }
        }
    }
    Ok(out)
}

fn cause(
    d: &crate::status::DeploymentStatus,
    history: &[HistoryEntry],
    bumps: &[(String, String)],
) -> Cause {
    let Some(commit) = &d.commit else {
        return Cause::None;
    };
    let named = |entry: &HistoryEntry, key: &str| {
        t::values(entry, key)
            .filter_map(t::parse_deployment)
            .any(|((a, e), _)| a == d.app && e == d.env)
    };
    let deployment = format!("{}/{}", d.app, d.env);
    match history.iter().find(|e| &e.commit == commit) {
        Some(e) if named(e, t::ROLLBACK) => Cause::Rollback,
        Some(e) if named(e, t::PROMOTION) => Cause::Promotion,
        _ if d
            .config
            .as_ref()
            .is_some_and(|c| bumps.iter().any(|(bc, bd)| bc == c && *bd == deployment)) =>
        {
            Cause::Bump
        }
        _ => Cause::Push,
    }
}

/// The head commit of the newest `Glueops-Preview-Open: <app>#<N> sha=<head>`.
fn preview_head(history: &[HistoryEntry], app: &str, number: u64) -> Option<String> {
    let prefix = format!("{app}#{number} sha=");
    history.iter().find_map(|e| {
        t::values(e, t::PREVIEW_OPEN)
            .find_map(|v| v.strip_prefix(&prefix))
            .filter(|sha| *sha != "-")
            .map(str::to_string)
    })
}

fn releases(history: &[HistoryEntry]) -> Vec<ReleaseEntry> {
    history
        .iter()
        .filter_map(|e| {
            let deployments: Vec<(String, String, Option<String>)> = t::values(e, t::DEPLOY)
                .filter_map(t::parse_deployment)
                .map(|((app, env), fields)| {
                    let tag = fields
                        .iter()
                        .find(|(k, _)| *k == "tag")
                        .map(|(_, v)| (*v).to_string());
                    (app.to_string(), env.to_string(), tag)
                })
                .collect();
            (!deployments.is_empty()).then(|| ReleaseEntry {
                commit: e.commit.clone(),
                time: e.time,
                rollback: t::values(e, t::ROLLBACK).next().is_some(),
                deployments,
            })
        })
        .collect()
}

fn dora_cards(history: &[HistoryEntry], opts: &Options) -> Vec<DoraCard> {
    // Releases made this very second count: the period ends a second after now.
    let end = opts.now.as_second() + 1;
    let days = i64::try_from(DAYS).unwrap_or(30);
    let at = |s: i64| jiff::Timestamp::from_second(s).ok();
    // The figures of each day, oldest first, by deployment.
    let mut by_day: BTreeMap<(String, String), Vec<DayFigures>> = BTreeMap::new();
    for day in 0..days {
        let from = end - (days - day) * 86_400;
        for m in dora::metrics(history, at(from), at(from + 86_400)) {
            let series = by_day
                .entry((m.app.clone(), m.env.clone()))
                .or_insert_with(|| vec![DayFigures::default(); DAYS]);
            if let Some(slot) = usize::try_from(day).ok().and_then(|d| series.get_mut(d)) {
                *slot = DayFigures {
                    releases: m.releases,
                    lead_time: m.median_lead_time,
                    failure_rate: m.change_failure_rate,
                    time_to_restore: m.median_time_to_restore,
                };
            }
        }
    }
    dora::metrics(history, at(end - days * 86_400), at(end))
        .into_iter()
        .map(|metrics| {
            let key = (metrics.app.clone(), metrics.env.clone());
            let days = by_day
                .remove(&key)
                .unwrap_or_else(|| vec![DayFigures::default(); DAYS]);
            DoraCard { metrics, days }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::Trailer;

    fn entry(commit: &str, time: i64, trailers: &[(&str, &str)]) -> HistoryEntry {
        HistoryEntry {
            commit: commit.into(),
            author: "glueops".into(),
            time,
            title: "release".into(),
            trailers: trailers
                .iter()
                .map(|(k, v)| Trailer {
                    key: (*k).into(),
                    value: (*v).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn releases_are_listed_newest_first_with_rollbacks_marked() {
        let history = [
            entry(
                "c3",
                300,
                &[
                    (t::DEPLOY, "web/staging tag=2.8.0"),
                    (t::ROLLBACK, "web/staging to=2.8.0"),
                ],
            ),
            entry("c2", 200, &[(t::DEPLOY, "web/staging tag=2.9.0")]),
            entry("c1", 100, &[(t::PREVIEW_OPEN, "web#7 sha=abc1234")]),
        ];
        let r = releases(&history);
        assert_eq!(r.len(), 2, "a preview is not a release");
        assert_eq!((r[0].commit.as_str(), r[0].rollback), ("c3", true));
        assert_eq!(
            r[1].deployments,
            [("web".into(), "staging".into(), Some("2.9.0".into()))]
        );
        assert_eq!(preview_head(&history, "web", 7).as_deref(), Some("abc1234"));
    }

    #[test]
    fn a_release_says_what_made_it() {
        let history = [
            entry(
                "m3",
                300,
                &[
                    (t::DEPLOY, "api/production tag=1.6.0"),
                    (
                        t::PROMOTION,
                        "api/production from=staging tag=1.6.0 approved-by=alice",
                    ),
                ],
            ),
            entry("m2", 200, &[(t::DEPLOY, "api/staging tag=1.6.0")]),
            entry(
                "m1",
                100,
                &[
                    (t::DEPLOY, "api/staging tag=1.5.0"),
                    (t::DEPLOY, "api/staging2 tag=1.5.0"),
                ],
            ),
        ];
        let released = |env: &str, commit: &str, config: &str| crate::status::DeploymentStatus {
            app: "api".into(),
            env: env.into(),
            config: Some(config.into()),
            tag: None,
            image: None,
            commit: Some(commit.into()),
            released_at: None,
            held: Vec::new(),
        };
        let bumps = [("c2".to_string(), "api/staging".to_string())];
        assert_eq!(
            cause(&released("production", "m3", "c3"), &history, &bumps),
            Cause::Promotion
        );
        assert_eq!(
            cause(&released("staging", "m2", "c2"), &history, &bumps),
            Cause::Bump
        );
        assert_eq!(
            cause(&released("staging", "m1", "c1"), &history, &bumps),
            Cause::Push
        );
        // A promotion of api/production says nothing of api/production2.
        assert_eq!(
            cause(&released("production2", "m3", "c3"), &history, &bumps),
            Cause::Push
        );
        let never = crate::status::DeploymentStatus {
            commit: None,
            ..released("dev", "-", "-")
        };
        assert_eq!(cause(&never, &history, &bumps), Cause::None);
    }
}

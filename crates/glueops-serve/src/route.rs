//! From a verified event to the work it asks for, by the config: pushes to the config branch
//! sync, pull requests on an app's `source.repo` open or close its preview, a published image
//! or a green pipeline bumps the environments whose promotion is `auto`, reviews of config
//! pull requests are approvals. Pure: the index is built from the config once per commit.

use std::collections::BTreeMap;

use glueops::git::{
    Conclusion, PipelineCompleted, PullRequest, PullRequestAction, RepoEvent, Trigger,
};
use serde::{Deserialize, Serialize};

/// Why a verified delivery does nothing: it is answered 202 with this, logged and counted as
/// `ignored`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub(crate) struct Ignored {
    /// What the event was, and why it does not route to any work.
    pub(crate) reason: String,
}

impl Ignored {
    pub(crate) fn new(reason: impl Into<String>) -> Ignored {
        Ignored {
            reason: reason.into(),
        }
    }
}

/// One piece of work, as journaled and applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub(crate) enum Work {
    /// Release what the gates allow from the config's tip.
    Sync,
    /// Open (or update) or close an app's preview of a pull request on its source repo.
    Preview {
        /// The app (its `source.repo` is the pull request's repository).
        app: String,
        /// The pull request's repository, `owner/name` (empty in journals written before
        /// feedback: nothing is told then).
        #[serde(default)]
        repo: String,
        /// The pull request.
        number: u64,
        /// Open or update (true), close (false).
        open: bool,
        /// Its head commit.
        sha: String,
        /// Its head branch.
        branch: String,
        /// Its labels.
        labels: Vec<String>,
    },
    /// Set an app's image tag in an environment, then sync.
    Bump {
        /// The app.
        app: String,
        /// The environment (its promotion is `auto`).
        env: String,
        /// The tag.
        tag: String,
        /// When the event happened by its payload (Unix seconds): a bump older than the
        /// newest one applied to the same app and environment is never applied.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<i64>,
    },
    /// A config pull request was opened or got new commits: tell it what merging does.
    ConfigReview {
        /// The pull request.
        number: u64,
        /// Its head commit.
        sha: String,
        /// The branch it merges into.
        base: String,
    },
    /// A reviewer approved (or withdrew their approval of) a config pull request's commit.
    Review {
        /// `owner/name`.
        repo: String,
        /// The pull request.
        number: u64,
        /// The commit.
        sha: String,
        /// Who.
        reviewer: String,
        /// Approved, or withdrawn.
        approved: bool,
    },
}

/// An app as events find it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AppRoute {
    app: String,
    /// `source.branch` (default `main`): the branch whose pipelines deploy.
    branch: String,
    /// `image.repository`.
    image: Option<String>,
    /// `source.workflow`: the one workflow whose runs deploy, when set.
    workflow: Option<String>,
    /// The environments it deploys to whose promotion is `auto`.
    auto_envs: Vec<String>,
}

/// What the config says events mean.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Routes {
    /// The config repo, `owner/name` (lowercase).
    pub(crate) config_repo: String,
    /// The config branch.
    pub(crate) config_branch: String,
    /// The manifest branch releases go to.
    pub(crate) manifest_branch: String,
    /// The manifest repo's name on its forge, from `spec.manifestRepo.url`.
    pub(crate) manifest_repo: Option<String>,
    /// The environments whose changes are proposed as pull requests
    /// (`promotion.mode: pull-request`).
    pub(crate) proposed_envs: Vec<String>,
    /// Apps by `source.repo` (lowercase).
    apps: BTreeMap<String, Vec<AppRoute>>,
    /// `spec.previews.forks: allow`.
    fork_previews: bool,
    /// `spec.previews.labels.optIn`.
    opt_in: Vec<String>,
}

impl Routes {
    /// The index of `repo` (the config) for events naming `config_repo` and `config_branch`.
    pub(crate) fn new(
        config_repo: &str,
        config_branch: &str,
        repo: &glueops::model::Repo,
    ) -> Routes {
        let platform = repo.platform();
        let auto = |env: &str| {
            platform
                .environment(env)
                .and_then(|e| e.promotion.as_ref())
                .and_then(|p| p.auto)
                .unwrap_or(false)
        };
        // By (source repo, app): one route per app, grouped by the repository it builds from.
        let mut by_app: BTreeMap<(String, String), AppRoute> = BTreeMap::new();
        for d in repo.deployments() {
            let Some(env) = d.environment() else { continue };
            let source = d.values.source.as_ref();
            let Some(source_repo) = source.and_then(|s| s.repo.as_ref()) else {
                continue;
            };
            let key = (source_repo.to_ascii_lowercase(), d.app.clone());
            let route = by_app.entry(key).or_insert_with(|| AppRoute {
                app: d.app.clone(),
                branch: source
                    .and_then(|s| s.branch.clone())
                    .unwrap_or_else(|| "main".into()),
                image: d.values.image.as_ref().and_then(|i| i.repository.clone()),
                workflow: source.and_then(|s| s.workflow.clone()),
                auto_envs: Vec::new(),
            });
            if auto(env) {
                route.auto_envs.push(env.to_string());
            }
        }
        let mut apps: BTreeMap<String, Vec<AppRoute>> = BTreeMap::new();
        for ((source_repo, _), route) in by_app {
            apps.entry(source_repo).or_default().push(route);
        }
        let previews = platform.spec.previews.as_ref();
        Routes {
            config_repo: config_repo.to_ascii_lowercase(),
            config_branch: config_branch.to_string(),
            manifest_branch: "main".into(),
            manifest_repo: glueops::feedback::forge_name(&platform.spec.manifest_repo.url),
            proposed_envs: platform
                .spec
                .environments
                .iter()
                .filter(|e| {
                    e.promotion.as_ref().and_then(|p| p.mode)
                        == Some(glueops::model::platform::PromotionMode::PullRequest)
                })
                .map(|e| e.name.clone())
                .collect(),
            apps,
            fork_previews: previews.and_then(|p| p.forks)
                == Some(glueops::model::platform::ForkPreviews::Allow),
            opt_in: previews
                .and_then(|p| p.labels.as_ref())
                .map(|l| l.opt_in.clone())
                .unwrap_or_default(),
        }
    }

    /// The work `event` asks for, or why it asks for none; `at` is the event's own time
    /// (Unix seconds), when it has one.
    pub(crate) fn route(&self, event: &RepoEvent, at: Option<i64>) -> Result<Vec<Work>, Ignored> {
        match event {
            RepoEvent::Push(push) => {
                let repo = push.repo.full_name.to_ascii_lowercase();
                if repo != self.config_repo {
                    return Err(Ignored::new(format!(
                        "a push to {repo}, not the config repo"
                    )));
                }
                if push.git_ref != format!("refs/heads/{}", self.config_branch) {
                    return Err(Ignored::new(format!(
                        "a push to {}, not the config branch {}",
                        push.git_ref, self.config_branch
                    )));
                }
                Ok(vec![Work::Sync])
            }
            RepoEvent::PullRequest(pr) => self.pull_request(pr),
            RepoEvent::ImagePublished(image) => self.image(image, at),
            RepoEvent::PipelineCompleted(run) => self.pipeline(run, at),
            RepoEvent::Review(review) => {
                let repo = review.repo.full_name.to_ascii_lowercase();
                if repo != self.config_repo {
                    return Err(Ignored::new(format!(
                        "a review on {repo}: only config reviews approve"
                    )));
                }
                Ok(vec![Work::Review {
                    repo,
                    number: review.number,
                    sha: review.sha.clone(),
                    reviewer: review.reviewer.clone(),
                    approved: review.approved,
                }])
            }
            RepoEvent::BranchDeleted { branch, .. } => Err(Ignored::new(format!(
                "branch {branch} deleted (previews close with their pull request)"
            ))),
            RepoEvent::Ping { .. } => Err(Ignored::new("ping")),
            RepoEvent::Ignored { reason } => Err(Ignored::new(reason.clone())),
        }
    }

    /// Previews of the apps built from the pull request's repository.
    fn pull_request(&self, pr: &PullRequest) -> Result<Vec<Work>, Ignored> {
        let repo = pr.repo.full_name.to_ascii_lowercase();
        if repo == self.config_repo && !self.apps.contains_key(&repo) {
            return config_pull_request(pr);
        }
        let Some(apps) = self.apps.get(&repo) else {
            return Err(Ignored::new(format!(
                "a pull request on {repo}, which no app builds"
            )));
        };
        let open = if pr.fork {
            self.fork_preview(pr)?
        } else {
            !matches!(pr.action, PullRequestAction::Closed { .. })
        };
        Ok(apps
            .iter()
            .map(|a| Work::Preview {
                app: a.app.clone(),
                repo: pr.repo.full_name.clone(),
                number: pr.number,
                open,
                sha: pr.head_sha.clone(),
                branch: pr.head_branch.clone(),
                labels: pr.labels.clone(),
            })
            .collect())
    }

    /// Bumps of the apps whose image was published.
    fn image(
        &self,
        image: &glueops::git::ImagePublished,
        at: Option<i64>,
    ) -> Result<Vec<Work>, Ignored> {
        let Some(tag) = &image.tag else {
            return Err(Ignored::new(format!(
                "{} was published without a tag",
                image.name
            )));
        };
        let routes = self.apps_of(&image.repo.full_name)?;
        let name = image.name.to_ascii_lowercase();
        let matching: Vec<&AppRoute> = if routes.len() == 1 {
            routes.iter().collect()
        } else {
            routes
                .iter()
                .filter(|r| {
                    r.image.as_deref().is_some_and(|i| {
                        let i = i.to_ascii_lowercase();
                        i == name || i.rsplit('/').next() == Some(name.as_str())
                    })
                })
                .collect()
        };
        bumps(&matching, tag, &image.name, at)
    }

    /// Bumps of the apps a trusted, successful run built.
    fn pipeline(&self, run: &PipelineCompleted, at: Option<i64>) -> Result<Vec<Work>, Ignored> {
        if run.conclusion != Conclusion::Success {
            return Err(Ignored::new(format!(
                "{} did not succeed",
                describe_run(&run.name)
            )));
        }
        trusted_run(run)?;
        let routes = self.apps_of(&run.repo.full_name)?;
        let matching: Vec<&AppRoute> = routes
            .iter()
            .filter(|r| r.branch == run.branch && runs_workflow(r, run))
            .collect();
        if matching.is_empty() {
            return Err(Ignored::new(format!(
                "{} ran on {}, not a branch (and workflow) an app deploys from",
                describe_run(&run.name),
                run.branch
            )));
        }
        bumps(&matching, &run.sha, &run.repo.full_name, at)
    }

    /// Whether a fork's pull-request event opens or updates (true) or closes (false) its
    /// preview, or why it does neither. A fork's code runs only when the platform allows
    /// forks and someone other than the author added an opt-in label (a label event: the
    /// host lets only people with triage or write access add labels); new commits on the
    /// fork change nothing until the label is added again.
    fn fork_preview(&self, pr: &PullRequest) -> Result<bool, Ignored> {
        let from = pr.head_repo.as_deref().unwrap_or("a deleted fork");
        match &pr.action {
            PullRequestAction::Closed { .. } => Ok(false),
            PullRequestAction::Unlabeled { label } if self.opt_in.contains(label) => Ok(false),
            _ if !self.fork_previews => Err(Ignored::new(format!(
                "a pull request from the fork {from}: previews of forks are off (spec.previews.forks: allow turns them on, behind an opt-in label)"
            ))),
            PullRequestAction::Labeled { label }
                if self.opt_in.contains(label)
                    && !pr.sender.is_empty()
                    && !pr.sender.eq_ignore_ascii_case(&pr.author) =>
            {
                Ok(true)
            }
            PullRequestAction::Labeled { label } if self.opt_in.contains(label) => {
                Err(Ignored::new(format!(
                    "the opt-in label `{label}` on the fork {from}'s pull request was added by its author: someone else must add it"
                )))
            }
            _ => Err(Ignored::new(format!(
                "a pull request from the fork {from}: its preview opens or follows new commits only when someone other than the author adds an opt-in label ({})",
                self.opt_in.join(", ")
            ))),
        }
    }

    fn apps_of(&self, repo: &str) -> Result<&[AppRoute], Ignored> {
        let repo = repo.to_ascii_lowercase();
        self.apps
            .get(&repo)
            .map(Vec::as_slice)
            .ok_or_else(|| Ignored::new(format!("{repo} is no app's source.repo")))
    }
}

/// A config pull request: reviewed when opened or given new commits (its config is only
/// read and rendered, never run, but a fork's head is not in the config repo to fetch).
fn config_pull_request(pr: &PullRequest) -> Result<Vec<Work>, Ignored> {
    match pr.action {
        PullRequestAction::Opened
        | PullRequestAction::Synchronized
        | PullRequestAction::Reopened => {}
        _ => {
            return Err(Ignored::new(format!(
                "config pull request #{}: only opened and new commits are reviewed",
                pr.number
            )));
        }
    }
    if pr.fork {
        return Err(Ignored::new(format!(
            "config pull request #{} comes from a fork: its head is not in the config repo",
            pr.number
        )));
    }
    Ok(vec![Work::ConfigReview {
        number: pr.number,
        sha: pr.head_sha.clone(),
        base: pr.base_branch.clone(),
    }])
}

fn describe_run(name: &str) -> String {
    if name.is_empty() {
        "the pipeline".into()
    } else {
        format!("`{name}`")
    }
}

/// Only a run triggered by a push to the app's own repository may release: not one for a
/// pull request (a fork's code), and not one whose code came from another repository.
fn trusted_run(run: &PipelineCompleted) -> Result<(), Ignored> {
    let name = describe_run(&run.name);
    match &run.trigger {
        Trigger::Push => {}
        Trigger::PullRequest => {
            return Err(Ignored::new(format!(
                "{name} ran for a pull request: only runs triggered by a push release"
            )));
        }
        Trigger::Other(why) => {
            return Err(Ignored::new(format!(
                "{name} was triggered by `{why}`: only runs triggered by a push release"
            )));
        }
    }
    match run.head_repo.as_deref() {
        Some(head) if head.eq_ignore_ascii_case(&run.repo.full_name) => Ok(()),
        Some(head) => Err(Ignored::new(format!(
            "{name} built {head}, not {}: a fork's run never releases",
            run.repo.full_name
        ))),
        None => Err(Ignored::new(format!(
            "{name} does not name the repository whose code it built: it does not release"
        ))),
    }
}

/// Whether `run` is of the workflow the app names in `source.workflow` (any, when unset):
/// its path, its file name or its name.
fn runs_workflow(route: &AppRoute, run: &PipelineCompleted) -> bool {
    let Some(wanted) = route.workflow.as_deref() else {
        return true;
    };
    let path = run.workflow_path.as_deref().unwrap_or_default();
    wanted == run.name
        || (!path.is_empty() && (wanted == path || path.rsplit('/').next() == Some(wanted)))
}

fn bumps(
    routes: &[&AppRoute],
    tag: &str,
    what: &str,
    at: Option<i64>,
) -> Result<Vec<Work>, Ignored> {
    let work: Vec<Work> = routes
        .iter()
        .flat_map(|r| {
            r.auto_envs.iter().map(|env| Work::Bump {
                app: r.app.clone(),
                env: env.clone(),
                tag: tag.to_string(),
                at,
            })
        })
        .collect();
    if work.is_empty() {
        return Err(Ignored::new(format!(
            "{what}: no app it builds deploys to an environment with promotion.auto"
        )));
    }
    Ok(work)
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;

//! From a verified event to the work it asks for, by the config: pushes to the config branch
//! sync, pull requests on an app's `source.repo` open or close its preview, a published image
//! or a green pipeline bumps the environments whose promotion is `auto`, reviews of config
//! pull requests are approvals. Pure: the index is built from the config once per commit.

use std::collections::BTreeMap;

use glueops::git::{Conclusion, PullRequestAction, RepoEvent};
use serde::{Deserialize, Serialize};

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
    /// Apps by `source.repo` (lowercase).
    apps: BTreeMap<String, Vec<AppRoute>>,
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
        Routes {
            config_repo: config_repo.to_ascii_lowercase(),
            config_branch: config_branch.to_string(),
            manifest_branch: "main".into(),
            apps,
        }
    }

    /// The work `event` asks for, or why it asks for none.
    pub(crate) fn route(&self, event: &RepoEvent) -> Result<Vec<Work>, String> {
        match event {
            RepoEvent::Push(push) => {
                let repo = push.repo.full_name.to_ascii_lowercase();
                if repo != self.config_repo {
                    return Err(format!("a push to {repo}, not the config repo"));
                }
                if push.git_ref != format!("refs/heads/{}", self.config_branch) {
                    return Err(format!(
                        "a push to {}, not the config branch {}",
                        push.git_ref, self.config_branch
                    ));
                }
                Ok(vec![Work::Sync])
            }
            RepoEvent::PullRequest(pr) => {
                let repo = pr.repo.full_name.to_ascii_lowercase();
                let Some(apps) = self.apps.get(&repo) else {
                    return Err(format!("a pull request on {repo}, which no app builds"));
                };
                let open = !matches!(pr.action, PullRequestAction::Closed { .. });
                Ok(apps
                    .iter()
                    .map(|a| Work::Preview {
                        app: a.app.clone(),
                        number: pr.number,
                        open,
                        sha: pr.head_sha.clone(),
                        branch: pr.head_branch.clone(),
                        labels: pr.labels.clone(),
                    })
                    .collect())
            }
            RepoEvent::ImagePublished(image) => {
                let Some(tag) = &image.tag else {
                    return Err(format!("{} was published without a tag", image.name));
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
                bumps(&matching, tag, &image.name)
            }
            RepoEvent::PipelineCompleted(run) => {
                if run.conclusion != Conclusion::Success {
                    return Err(format!("{} did not succeed", describe_run(&run.name)));
                }
                let routes = self.apps_of(&run.repo.full_name)?;
                let matching: Vec<&AppRoute> =
                    routes.iter().filter(|r| r.branch == run.branch).collect();
                if matching.is_empty() {
                    return Err(format!(
                        "{} ran on {}, not a branch an app deploys from",
                        describe_run(&run.name),
                        run.branch
                    ));
                }
                bumps(&matching, &run.sha, &run.repo.full_name)
            }
            RepoEvent::Review(review) => {
                let repo = review.repo.full_name.to_ascii_lowercase();
                if repo != self.config_repo {
                    return Err(format!("a review on {repo}: only config reviews approve"));
                }
                Ok(vec![Work::Review {
                    repo,
                    number: review.number,
                    sha: review.sha.clone(),
                    reviewer: review.reviewer.clone(),
                    approved: review.approved,
                }])
            }
            RepoEvent::BranchDeleted { branch, .. } => Err(format!(
                "branch {branch} deleted (previews close with their pull request)"
            )),
            RepoEvent::Ping { .. } => Err("ping".into()),
            RepoEvent::Ignored { reason } => Err(reason.clone()),
        }
    }

    fn apps_of(&self, repo: &str) -> Result<&[AppRoute], String> {
        let repo = repo.to_ascii_lowercase();
        self.apps
            .get(&repo)
            .map(Vec::as_slice)
            .ok_or_else(|| format!("{repo} is no app's source.repo"))
    }
}

fn describe_run(name: &str) -> String {
    if name.is_empty() {
        "the pipeline".into()
    } else {
        format!("`{name}`")
    }
}

fn bumps(routes: &[&AppRoute], tag: &str, what: &str) -> Result<Vec<Work>, String> {
    let work: Vec<Work> = routes
        .iter()
        .flat_map(|r| {
            r.auto_envs.iter().map(|env| Work::Bump {
                app: r.app.clone(),
                env: env.clone(),
                tag: tag.to_string(),
            })
        })
        .collect();
    if work.is_empty() {
        return Err(format!(
            "{what}: no app it builds deploys to an environment with promotion.auto"
        ));
    }
    Ok(work)
}

#[cfg(test)]
mod tests {
    use super::*;
    use glueops::git::{ImagePublished, PipelineCompleted, PullRequest, Push, Repository, Review};

    fn routes() -> Routes {
        let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo-config");
        let repo = glueops::model::Repo::load(demo).unwrap();
        Routes::new("Acme/Config", "main", &repo)
    }

    fn repo(name: &str) -> Repository {
        Repository {
            full_name: name.into(),
            clone_url: None,
        }
    }

    fn push(name: &str, git_ref: &str) -> RepoEvent {
        RepoEvent::Push(Push {
            repo: repo(name),
            git_ref: git_ref.into(),
            before: "0".repeat(40),
            after: "1".repeat(40),
            commits: Vec::new(),
            pusher: "dev".into(),
        })
    }

    #[test]
    fn only_a_push_to_the_config_branch_syncs() {
        let r = routes();
        assert_eq!(
            r.route(&push("acme/config", "refs/heads/main")),
            Ok(vec![Work::Sync])
        );
        assert!(r.route(&push("acme/config", "refs/heads/feature")).is_err());
        assert!(r.route(&push("acme/web", "refs/heads/main")).is_err());
    }

    #[test]
    fn pull_requests_on_an_app_repo_open_and_close_previews() {
        let r = routes();
        let pr = |action| {
            RepoEvent::PullRequest(PullRequest {
                repo: repo("acme/web"),
                number: 7,
                action,
                head_branch: "feature".into(),
                head_sha: "abc".into(),
                base_branch: "main".into(),
                labels: vec!["preview".into()],
                author: "dev".into(),
            })
        };
        let open = r.route(&pr(PullRequestAction::Synchronized)).unwrap();
        assert!(matches!(
            &open[..],
            [Work::Preview {
                open: true,
                number: 7,
                app,
                ..
            }] if app == "web"
        ));
        let closed = r
            .route(&pr(PullRequestAction::Closed { merged: true }))
            .unwrap();
        assert!(matches!(&closed[..], [Work::Preview { open: false, .. }]));
        let RepoEvent::PullRequest(mut other) = pr(PullRequestAction::Opened) else {
            unreachable!()
        };
        other.repo = repo("acme/unknown");
        assert!(r.route(&RepoEvent::PullRequest(other)).is_err());
    }

    #[test]
    fn an_image_or_a_green_pipeline_bumps_the_auto_environments() {
        let r = routes();
        let image = RepoEvent::ImagePublished(ImagePublished {
            repo: repo("acme/api"),
            name: "api".into(),
            package_type: "container".into(),
            version: "1.2.3".into(),
            tag: Some("1.2.3".into()),
            digest: None,
        });
        assert_eq!(
            r.route(&image),
            Ok(vec![Work::Bump {
                app: "api".into(),
                env: "staging".into(),
                tag: "1.2.3".into()
            }])
        );
        let run = |branch: &str, conclusion| {
            RepoEvent::PipelineCompleted(PipelineCompleted {
                repo: repo("acme/web"),
                name: "build".into(),
                branch: branch.into(),
                sha: "f".repeat(40),
                conclusion,
            })
        };
        assert!(matches!(
            &r.route(&run("main", Conclusion::Success)).unwrap()[..],
            [Work::Bump { env, .. }] if env == "staging"
        ));
        assert!(r.route(&run("main", Conclusion::Failure)).is_err());
        assert!(r.route(&run("feature", Conclusion::Success)).is_err());
    }

    #[test]
    fn reviews_count_on_the_config_repo_only() {
        let r = routes();
        let review = |name: &str| {
            RepoEvent::Review(Review {
                repo: repo(name),
                number: 3,
                sha: "abc".into(),
                reviewer: "alice".into(),
                approved: true,
            })
        };
        assert!(matches!(
            &r.route(&review("acme/config")).unwrap()[..],
            [Work::Review { .. }]
        ));
        assert!(r.route(&review("acme/web")).is_err());
    }
}

//! The calls glueops makes to a forge, as desired states the outbox journals.

use serde::{Deserialize, Serialize};

/// Which forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Host {
    /// github.com or a GitHub Enterprise Server.
    GitHub,
    /// gitlab.com or a self-managed GitLab.
    GitLab,
}

impl Host {
    /// `github` or `gitlab`.
    pub fn name(self) -> &'static str {
        match self {
            Host::GitHub => "github",
            Host::GitLab => "gitlab",
        }
    }
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A commit status's state (GitHub's names; GitLab's `failed` is [`Failure`](Self::Failure)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusState {
    /// Waiting (a window, an approval).
    Pending,
    /// Done.
    Success,
    /// Failed (the config does not validate).
    Failure,
}

impl StatusState {
    /// GitHub's name.
    pub fn github(self) -> &'static str {
        match self {
            StatusState::Pending => "pending",
            StatusState::Success => "success",
            StatusState::Failure => "failure",
        }
    }

    /// GitLab's name.
    pub fn gitlab(self) -> &'static str {
        match self {
            StatusState::Pending => "pending",
            StatusState::Success => "success",
            StatusState::Failure => "failed",
        }
    }
}

/// A deployment's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// Being released.
    InProgress,
    /// Released.
    Success,
    /// Replaced or removed (a closed preview, a rolled-back release).
    Inactive,
}

impl DeploymentState {
    /// GitHub's name.
    pub fn github(self) -> &'static str {
        match self {
            DeploymentState::InProgress => "in_progress",
            DeploymentState::Success => "success",
            DeploymentState::Inactive => "inactive",
        }
    }

    /// GitLab's name.
    pub fn gitlab(self) -> &'static str {
        match self {
            DeploymentState::InProgress => "running",
            DeploymentState::Success => "success",
            DeploymentState::Inactive => "canceled",
        }
    }
}

/// Something to tell the notification endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// `release`, `hold`, `rollback`, `drift` or `failure`.
    pub kind: String,
    /// One line for people.
    pub summary: String,
    /// The details, as JSON (apps, environments, commits).
    #[serde(default)]
    pub details: serde_json::Value,
    /// An identity for this event: the same id is sent once.
    pub id: String,
}

/// One desired state on a forge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Call {
    /// The comment carrying `marker` on pull (merge) request `number` of `repo` says `body`
    /// (created when missing, edited when different).
    Comment {
        /// The forge.
        host: Host,
        /// `owner/name` (GitLab: the project's full path).
        repo: String,
        /// The pull request (merge request iid).
        number: u64,
        /// A name for the comment (`preview`, `config`): written as a hidden marker.
        marker: String,
        /// The Markdown body (without the marker).
        body: String,
    },
    /// Commit `sha` of `repo` has, for `context`, this state and description.
    Status {
        /// The forge.
        host: Host,
        /// `owner/name`.
        repo: String,
        /// The commit.
        sha: String,
        /// `glueops/<env>`, `glueops/validate`.
        context: String,
        /// The state.
        state: StatusState,
        /// One line (at most 140 characters are sent).
        description: String,
        /// A link.
        target_url: Option<String>,
    },
    /// The deployment of `sha` to `environment` (for `task`) exists and its latest status is
    /// `state` (`in_progress` only for a deployment without a status yet: it never moves
    /// one back); when `state` is success, older deployments of the environment and task
    /// are marked inactive.
    Deployment {
        /// The forge.
        host: Host,
        /// `owner/name`.
        repo: String,
        /// The commit deployed.
        sha: String,
        /// The branch it is on (GitLab needs one).
        branch: Option<String>,
        /// The environment (`prod`, `<app>-pr-<n>`).
        environment: String,
        /// What is deployed (`deploy:<app>`): one deployment per app in a shared
        /// environment.
        task: String,
        /// An environment that goes away (a preview).
        transient: bool,
        /// The state.
        state: DeploymentState,
        /// The environment's address.
        url: Option<String>,
        /// One line.
        description: String,
        /// Extra facts (the manifest commit).
        #[serde(default)]
        payload: serde_json::Value,
    },
    /// A pull request from `head` into `base` is open with this title and description
    /// (opened when missing, edited when different): one per branch.
    PullRequest {
        /// The forge.
        host: Host,
        /// `owner/name`.
        repo: String,
        /// The branch with the change.
        head: String,
        /// The branch it merges into.
        base: String,
        /// The title.
        title: String,
        /// The description (Markdown).
        body: String,
        /// Ask the forge to merge it once its required checks pass (GitHub auto-merge, GitLab
        /// merge when the pipeline succeeds).
        #[serde(default)]
        auto_merge: bool,
    },
    /// The open pull request from `head` (an older proposal of the same change) is closed,
    /// with a comment naming its successor, the pull request from `successor`.
    Supersede {
        /// The forge.
        host: Host,
        /// `owner/name`.
        repo: String,
        /// The older pull request's branch.
        head: String,
        /// The branch of the pull request that replaces it.
        successor: String,
    },
    /// Every deployment of `repo` to `environment` for `task` is inactive (a closed preview,
    /// a release rolled back).
    Retire {
        /// The forge.
        host: Host,
        /// `owner/name`.
        repo: String,
        /// The environment.
        environment: String,
        /// What was deployed.
        task: String,
        /// Keep this commit's deployment (the one rolled back to).
        keep: Option<String>,
    },
    /// The notification endpoints are told `event` (once per event id and endpoint): a
    /// call without an endpoint becomes one call per configured endpoint in the outbox.
    Notify {
        /// The event.
        event: Event,
        /// The endpoint's id ([`Endpoint::id`](crate::Endpoint::id)); `None`: all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
    },
}

impl Call {
    /// The forge it is for (`None` for notifications).
    pub fn host(&self) -> Option<Host> {
        match self {
            Call::Comment { host, .. }
            | Call::PullRequest { host, .. }
            | Call::Supersede { host, .. }
            | Call::Status { host, .. }
            | Call::Deployment { host, .. }
            | Call::Retire { host, .. } => Some(*host),
            Call::Notify { .. } => None,
        }
    }

    /// The repository it is on (`None` for notifications).
    pub fn repo(&self) -> Option<&str> {
        match self {
            Call::Comment { repo, .. }
            | Call::PullRequest { repo, .. }
            | Call::Supersede { repo, .. }
            | Call::Status { repo, .. }
            | Call::Deployment { repo, .. }
            | Call::Retire { repo, .. } => Some(repo),
            Call::Notify { .. } => None,
        }
    }

    /// What it is about: a newer call with the same key supersedes an older one waiting in
    /// the outbox.
    pub fn key(&self) -> String {
        match self {
            Call::Comment {
                host,
                repo,
                number,
                marker,
                ..
            } => format!("comment {host} {repo}#{number} {marker}"),
            Call::Status {
                host,
                repo,
                sha,
                context,
                ..
            } => format!("status {host} {repo}@{sha} {context}"),
            Call::PullRequest {
                host, repo, head, ..
            } => format!("pull {host} {repo} {head}"),
            Call::Supersede {
                host, repo, head, ..
            } => format!("supersede {host} {repo} {head}"),
            Call::Deployment {
                host,
                repo,
                sha,
                environment,
                task,
                ..
            } => format!("deployment {host} {repo}@{sha} {environment} {task}"),
            Call::Retire {
                host,
                repo,
                environment,
                task,
                ..
            } => format!("retire {host} {repo} {environment} {task}"),
            Call::Notify { event, endpoint } => {
                format!("notify {} {}", event.id, endpoint.as_deref().unwrap_or("*"))
            }
        }
    }

    /// Refuses a call whose commit id is not one (it reaches URLs and queries): 7 to 64
    /// hexadecimal digits.
    pub(crate) fn check(&self) -> Result<(), crate::Error> {
        let sha = match self {
            Call::Status { sha, .. } | Call::Deployment { sha, .. } => sha,
            Call::Retire {
                keep: Some(sha), ..
            } => sha,
            _ => return Ok(()),
        };
        if (7..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(())
        } else {
            Err(crate::Error::Answer {
                operation: self.operation(),
                reason: format!("`{}` is not a commit id", sha.escape_debug()),
            })
        }
    }

    /// The operation's name, for logs.
    pub fn operation(&self) -> &'static str {
        match self {
            Call::Comment { .. } => "comment",
            Call::PullRequest { .. } => "pull_request",
            Call::Supersede { .. } => "supersede",
            Call::Status { .. } => "status",
            Call::Deployment { .. } => "deployment",
            Call::Retire { .. } => "retire",
            Call::Notify { .. } => "notify",
        }
    }
}

/// The hidden marker a comment named `marker` carries.
pub(crate) fn marker_line(marker: &str) -> String {
    format!("<!-- glueops:{marker} -->")
}

/// A status description as the forges take it (at most 140 characters).
pub(crate) fn short(description: &str) -> String {
    if description.chars().count() <= 140 {
        return description.to_string();
    }
    let mut out: String = description.chars().take(139).collect();
    out.push('…');
    out
}

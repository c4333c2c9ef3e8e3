//! [`RepoEvent`]: what a webhook says happened, the same shape for GitHub and GitLab.

use serde::Serialize;

/// Which host sent a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Host {
    /// GitHub (`X-GitHub-Event`).
    GitHub,
    /// GitLab (`X-Gitlab-Event`).
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

/// The repository an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repository {
    /// `owner/name` (GitHub) or `group/project` (GitLab).
    pub full_name: String,
    /// Clone URL, when the payload has one.
    pub clone_url: Option<String>,
}

/// One commit of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    /// Commit id.
    pub id: String,
    /// When it was authored, as the host reported (RFC 3339).
    pub timestamp: Option<String>,
    /// The first line of the message.
    pub title: String,
    /// Paths added.
    pub added: Vec<String>,
    /// Paths modified.
    pub modified: Vec<String>,
    /// Paths removed.
    pub removed: Vec<String>,
}

impl Commit {
    /// Every path the commit touched, sorted, without duplicates.
    pub fn changed_paths(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .added
            .iter()
            .chain(&self.modified)
            .chain(&self.removed)
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Commits pushed to a branch or tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Push {
    /// The repository.
    pub repo: Repository,
    /// The full ref (`refs/heads/main`, `refs/tags/v1.0.0`).
    pub git_ref: String,
    /// The ref's commit before the push (all zeros when the ref is new).
    pub before: String,
    /// The ref's commit after the push.
    pub after: String,
    /// The commits, oldest first.
    pub commits: Vec<Commit>,
    /// Who pushed.
    pub pusher: String,
}

/// What happened to a pull or merge request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PullRequestAction {
    /// Opened.
    Opened,
    /// New commits on the head branch.
    Synchronized,
    /// Reopened.
    Reopened,
    /// Closed, merged or not.
    Closed {
        /// True when merged.
        merged: bool,
    },
    /// A label was added.
    Labeled {
        /// The label added.
        label: String,
    },
    /// A label was removed (a preview opted in by it closes).
    Unlabeled {
        /// The label removed.
        label: String,
    },
}

/// A pull request (GitHub) or merge request (GitLab).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    /// The repository.
    pub repo: Repository,
    /// The number (GitHub) or iid (GitLab).
    pub number: u64,
    /// What happened.
    pub action: PullRequestAction,
    /// The head branch.
    pub head_branch: String,
    /// The head commit.
    pub head_sha: String,
    /// The branch it merges into.
    pub base_branch: String,
    /// Labels after the event, sorted.
    pub labels: Vec<String>,
    /// Who opened it (GitLab: empty unless the event's user is the author).
    pub author: String,
    /// The repository the head branch lives in (`owner/name`; GitHub `head.repo`, GitLab the
    /// source project), when the payload names it.
    pub head_repo: Option<String>,
    /// The head branch lives in another repository than the one the pull request is on (a
    /// fork): its code is untrusted.
    pub fork: bool,
    /// Who caused this event (GitHub `sender`, GitLab `user`): for a label, who added it.
    pub sender: String,
}

/// A review that approves a pull request's commits, or withdraws an approval (a dismissed
/// GitHub review, a GitLab `unapproved`). A review that only comments approves nothing and is
/// [`RepoEvent::Ignored`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    /// The repository.
    pub repo: Repository,
    /// The pull request number (GitHub) or merge request iid (GitLab).
    pub number: u64,
    /// The commit the review is of (GitHub `review.commit_id`; GitLab: the last commit).
    pub sha: String,
    /// Who reviewed (as the host verified them).
    pub reviewer: String,
    /// True for an approval, false for one withdrawn.
    pub approved: bool,
}

/// A container image (or other package) was published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImagePublished {
    /// The repository.
    pub repo: Repository,
    /// Package name.
    pub name: String,
    /// Package type as the host names it (`container`, `docker`, `npm`, ...).
    pub package_type: String,
    /// The version (a tag, or a digest for untagged images).
    pub version: String,
    /// The tag, when there is one.
    pub tag: Option<String>,
    /// The digest, when there is one.
    pub digest: Option<String>,
}

/// Why a pipeline or workflow ran (GitHub `workflow_run.event`, GitLab pipeline `source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Commits pushed to a branch of the repository itself.
    Push,
    /// A pull or merge request (possibly from a fork).
    PullRequest,
    /// Anything else (`schedule`, `workflow_dispatch`, `web`, `api`, ...), as the host names it.
    Other(String),
}

/// How a pipeline or workflow ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    /// Succeeded.
    Success,
    /// Failed.
    Failure,
    /// Cancelled.
    Cancelled,
    /// Anything else the host reports (`skipped`, `timed_out`, ...).
    Other(String),
}

/// A CI pipeline (GitLab) or workflow run (GitHub) finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineCompleted {
    /// The repository.
    pub repo: Repository,
    /// The workflow or pipeline name, when given.
    pub name: String,
    /// The branch.
    pub branch: String,
    /// The commit.
    pub sha: String,
    /// The result.
    pub conclusion: Conclusion,
    /// Why it ran: only a push to the repository itself may release.
    pub trigger: Trigger,
    /// The repository whose code ran (GitHub `head_repository`, GitLab the project), when
    /// the payload names it.
    pub head_repo: Option<String>,
    /// The workflow file (GitHub `workflow_run.path`, e.g. `.github/workflows/build.yml`).
    pub workflow_path: Option<String>,
}

/// The normalized event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RepoEvent {
    /// Commits pushed (branches and tags; a deleted branch is [`RepoEvent::BranchDeleted`]).
    Push(Push),
    /// A pull or merge request changed.
    PullRequest(PullRequest),
    /// An image was published.
    ImagePublished(ImagePublished),
    /// A pipeline or workflow run completed.
    PipelineCompleted(PipelineCompleted),
    /// A pull or merge request was approved, or an approval withdrawn.
    Review(Review),
    /// A branch was deleted.
    BranchDeleted {
        /// The repository.
        repo: Repository,
        /// The branch (short name).
        branch: String,
    },
    /// The host checking the webhook works.
    Ping {
        /// The repository, when the hook belongs to one.
        repo: Option<Repository>,
        /// The hook id.
        hook_id: Option<u64>,
    },
    /// Any other event or action: not an error, just nothing glueops acts on.
    Ignored {
        /// What it was.
        reason: String,
    },
}

/// A verified, parsed webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Who sent it.
    pub host: Host,
    /// The delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`), when sent.
    pub id: Option<String>,
    /// What happened.
    pub event: RepoEvent,
    /// When it happened, by the payload's own clock (`updated_at`, `finished_at`), for the
    /// events whose replay could re-apply an older state (pull requests, published images,
    /// pipelines): the freshness check of a body sent again under a new delivery id.
    #[serde(serialize_with = "rfc3339")]
    pub at: Option<jiff::Timestamp>,
}

fn rfc3339<S: serde::Serializer>(at: &Option<jiff::Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(t) => s.serialize_some(&t.to_string()),
        None => s.serialize_none(),
    }
}

impl Delivery {
    /// Whether the payload's own time is more than `window` before `now`: a body captured
    /// and sent again (GitHub does not sign the delivery id). A delivery without a time is
    /// never stale.
    pub fn is_stale(&self, now: jiff::Timestamp, window: std::time::Duration) -> bool {
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        self.at
            .is_some_and(|at| at.as_second() < now.as_second().saturating_sub(window))
    }
}

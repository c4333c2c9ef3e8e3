//! GitHub payloads (`X-GitHub-Event`), only the fields glueops reads.

use serde::Deserialize;

use super::{PushedCommit, decode, push_event};
use crate::error::Result;
use crate::event::{
    Conclusion, ImagePublished, PipelineCompleted, PullRequest, PullRequestAction, RepoEvent,
    Repository, Review, Trigger,
};

#[derive(Deserialize)]
struct Repo {
    full_name: String,
    #[serde(default)]
    clone_url: Option<String>,
}

impl From<Repo> for Repository {
    fn from(r: Repo) -> Self {
        Repository {
            full_name: r.full_name,
            clone_url: r.clone_url,
        }
    }
}

#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Login {
    #[serde(default)]
    login: String,
}

#[derive(Deserialize)]
struct PushPayload {
    #[serde(rename = "ref")]
    git_ref: String,
    before: String,
    after: String,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    commits: Vec<PushedCommit>,
    repository: Repo,
    pusher: Named,
}

#[derive(Deserialize)]
struct PullPayload {
    action: String,
    number: u64,
    pull_request: Pull,
    #[serde(default)]
    label: Option<Named>,
    repository: Repo,
    #[serde(default)]
    sender: Option<Login>,
}

#[derive(Deserialize)]
struct Pull {
    head: Branch,
    base: Branch,
    #[serde(default)]
    labels: Vec<Named>,
    #[serde(default)]
    merged: Option<bool>,
    user: Login,
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct Branch {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
    /// `null` when the fork was deleted.
    #[serde(default)]
    repo: Option<Repo>,
}

#[derive(Deserialize)]
struct ReviewPayload {
    action: String,
    review: ReviewBody,
    pull_request: ReviewedPull,
    repository: Repo,
}

#[derive(Deserialize)]
struct ReviewBody {
    #[serde(default)]
    state: String,
    #[serde(default)]
    commit_id: Option<String>,
    user: Login,
}

#[derive(Deserialize)]
struct ReviewedPull {
    number: u64,
    head: Branch,
}

#[derive(Deserialize)]
struct PackagePayload {
    action: String,
    #[serde(alias = "registry_package")]
    package: Package,
    repository: Repo,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    #[serde(default)]
    package_type: String,
    package_version: Option<PackageVersion>,
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct PackageVersion {
    #[serde(default)]
    version: String,
    #[serde(default)]
    container_metadata: Option<ContainerMetadata>,
}

#[derive(Deserialize)]
struct ContainerMetadata {
    #[serde(default)]
    tag: Option<Tag>,
}

#[derive(Deserialize)]
struct Tag {
    #[serde(default)]
    name: String,
    #[serde(default)]
    digest: String,
}

#[derive(Deserialize)]
struct WorkflowPayload {
    action: String,
    workflow_run: WorkflowRun,
    repository: Repo,
}

#[derive(Deserialize)]
struct WorkflowRun {
    #[serde(default)]
    name: Option<String>,
    head_branch: Option<String>,
    head_sha: String,
    conclusion: Option<String>,
    #[serde(default)]
    event: String,
    #[serde(default)]
    head_repository: Option<Repo>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct DeletePayload {
    #[serde(rename = "ref")]
    git_ref: String,
    ref_type: String,
    repository: Repo,
}

#[derive(Deserialize)]
struct PingPayload {
    #[serde(default)]
    hook_id: Option<u64>,
    #[serde(default)]
    repository: Option<Repo>,
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

pub(crate) fn conclusion(text: &str) -> Conclusion {
    match text {
        "success" => Conclusion::Success,
        "failure" | "failed" => Conclusion::Failure,
        "cancelled" | "canceled" => Conclusion::Cancelled,
        other => Conclusion::Other(other.to_string()),
    }
}

fn ignored(reason: String) -> RepoEvent {
    RepoEvent::Ignored { reason }
}

/// The event, and its time as the payload states it (for the freshness check; `None` for
/// events whose replay re-applies nothing old: pushes sync from the config's tip).
pub(crate) fn parse(event: &str, body: &[u8]) -> Result<(RepoEvent, Option<String>)> {
    match event {
        "pull_request" => {
            let p: PullPayload = decode("github", event, body)?;
            let at = p.pull_request.updated_at.clone();
            return Ok((pull_request(p), at));
        }
        "package" | "registry_package" => {
            let p: PackagePayload = decode("github", event, body)?;
            let at = p.package.updated_at.clone();
            return Ok((package(event, p), at));
        }
        "workflow_run" => {
            let p: WorkflowPayload = decode("github", event, body)?;
            let at = p.workflow_run.updated_at.clone();
            return Ok((workflow_run(p), at));
        }
        _ => {}
    }
    parse_untimed(event, body).map(|e| (e, None))
}

fn parse_untimed(event: &str, body: &[u8]) -> Result<RepoEvent> {
    match event {
        "push" => {
            let p: PushPayload = decode("github", event, body)?;
            Ok(push_event(
                p.repository.into(),
                p.git_ref,
                p.before,
                p.after,
                p.deleted,
                p.commits,
                p.pusher.name,
            ))
        }
        "pull_request_review" => Ok(review(decode("github", event, body)?)),
        "delete" => {
            let p: DeletePayload = decode("github", event, body)?;
            Ok(if p.ref_type == "branch" {
                RepoEvent::BranchDeleted {
                    repo: p.repository.into(),
                    branch: p.git_ref,
                }
            } else {
                ignored(format!("{} `{}` deleted", p.ref_type, p.git_ref))
            })
        }
        "ping" => {
            let p: PingPayload = decode("github", event, body)?;
            Ok(RepoEvent::Ping {
                repo: p.repository.map(Into::into),
                hook_id: p.hook_id,
            })
        }
        other => {
            // Still require well-formed JSON: a garbled body is an error whatever the event.
            decode::<serde_json::Value>("github", other, body)?;
            Ok(ignored(format!("github event `{other}`")))
        }
    }
}

fn pull_request(p: PullPayload) -> RepoEvent {
    let action = match p.action.as_str() {
        "opened" => PullRequestAction::Opened,
        "synchronize" => PullRequestAction::Synchronized,
        "reopened" => PullRequestAction::Reopened,
        "closed" => PullRequestAction::Closed {
            merged: p.pull_request.merged.unwrap_or(false),
        },
        "labeled" => PullRequestAction::Labeled {
            label: p.label.map(|l| l.name).unwrap_or_default(),
        },
        "unlabeled" => PullRequestAction::Unlabeled {
            label: p.label.map(|l| l.name).unwrap_or_default(),
        },
        other => return ignored(format!("pull_request action `{other}`")),
    };
    let mut labels: Vec<String> = p.pull_request.labels.into_iter().map(|l| l.name).collect();
    labels.sort();
    // A head repository other than the base one, or one deleted since: a fork.
    let head_repo = p.pull_request.head.repo.map(|r| r.full_name);
    let fork = !head_repo
        .as_deref()
        .is_some_and(|h| h.eq_ignore_ascii_case(&p.repository.full_name));
    RepoEvent::PullRequest(PullRequest {
        head_repo,
        fork,
        sender: p.sender.map(|s| s.login).unwrap_or_default(),
        repo: p.repository.into(),
        number: p.number,
        action,
        head_branch: p.pull_request.head.name,
        head_sha: p.pull_request.head.sha,
        base_branch: p.pull_request.base.name,
        labels,
        author: p.pull_request.user.login,
    })
}

fn review(p: ReviewPayload) -> RepoEvent {
    let approved = match (
        p.action.as_str(),
        p.review.state.to_ascii_lowercase().as_str(),
    ) {
        ("submitted", "approved") => true,
        ("dismissed", _) => false,
        (action, state) => {
            return ignored(format!(
                "pull_request_review `{action}` with state `{state}` approves nothing"
            ));
        }
    };
    RepoEvent::Review(Review {
        repo: p.repository.into(),
        number: p.pull_request.number,
        sha: p.review.commit_id.unwrap_or(p.pull_request.head.sha),
        reviewer: p.review.user.login,
        approved,
    })
}

fn package(event: &str, p: PackagePayload) -> RepoEvent {
    if p.action != "published" {
        return ignored(format!("{event} action `{}`", p.action));
    }
    let version = p.package.package_version;
    let tag = version
        .as_ref()
        .and_then(|v| v.container_metadata.as_ref())
        .and_then(|m| m.tag.as_ref());
    RepoEvent::ImagePublished(ImagePublished {
        repo: p.repository.into(),
        name: p.package.name,
        package_type: p.package.package_type,
        tag: tag.and_then(|t| non_empty(t.name.clone())),
        digest: tag.and_then(|t| non_empty(t.digest.clone())),
        version: version.map(|v| v.version).unwrap_or_default(),
    })
}

fn workflow_run(p: WorkflowPayload) -> RepoEvent {
    if p.action != "completed" {
        return ignored(format!("workflow_run action `{}`", p.action));
    }
    let run = p.workflow_run;
    RepoEvent::PipelineCompleted(PipelineCompleted {
        repo: p.repository.into(),
        name: run.name.unwrap_or_default(),
        branch: run.head_branch.unwrap_or_default(),
        sha: run.head_sha,
        conclusion: conclusion(run.conclusion.as_deref().unwrap_or("")),
        trigger: match run.event.as_str() {
            "push" => Trigger::Push,
            "pull_request" | "pull_request_target" => Trigger::PullRequest,
            other => Trigger::Other(other.to_string()),
        },
        head_repo: run.head_repository.map(|r| r.full_name),
        workflow_path: run.path,
    })
}

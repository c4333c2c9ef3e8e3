//! GitLab payloads (`X-Gitlab-Event`), only the fields glueops reads.

use serde::Deserialize;

use super::github::conclusion;
use super::{PushedCommit, decode, push_event};
use crate::error::Result;
use crate::event::{
    PipelineCompleted, PullRequest, PullRequestAction, RepoEvent, Repository, Review, Trigger,
};

const ZERO: &str = "0000000000000000000000000000000000000000";

#[derive(Deserialize)]
struct Project {
    path_with_namespace: String,
    #[serde(default)]
    git_http_url: Option<String>,
}

impl From<Project> for Repository {
    fn from(p: Project) -> Self {
        Repository {
            full_name: p.path_with_namespace,
            clone_url: p.git_http_url,
        }
    }
}

#[derive(Deserialize)]
struct PushPayload {
    #[serde(rename = "ref")]
    git_ref: String,
    before: String,
    after: String,
    #[serde(default)]
    user_username: String,
    #[serde(default)]
    commits: Vec<PushedCommit>,
    project: Project,
}

#[derive(Deserialize)]
struct Label {
    title: String,
}

#[derive(Deserialize)]
struct MergePayload {
    object_attributes: MergeAttributes,
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default)]
    changes: Option<Changes>,
    user: MergeUser,
    project: Project,
}

#[derive(Deserialize)]
struct MergeAttributes {
    iid: u64,
    #[serde(default)]
    action: Option<String>,
    source_branch: String,
    target_branch: String,
    #[serde(default)]
    oldrev: Option<String>,
    last_commit: LastCommit,
    #[serde(default)]
    source_project_id: Option<u64>,
    #[serde(default)]
    target_project_id: Option<u64>,
    #[serde(default)]
    source: Option<Project>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    author_id: Option<u64>,
}

#[derive(Deserialize)]
struct MergeUser {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    username: String,
}

#[derive(Deserialize)]
struct LastCommit {
    id: String,
}

#[derive(Deserialize)]
struct Changes {
    #[serde(default)]
    labels: Option<LabelChange>,
}

#[derive(Deserialize)]
struct LabelChange {
    #[serde(default)]
    previous: Vec<Label>,
    #[serde(default)]
    current: Vec<Label>,
}

#[derive(Deserialize)]
struct PipelinePayload {
    object_attributes: PipelineAttributes,
    project: Project,
}

#[derive(Deserialize)]
struct PipelineAttributes {
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
    status: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    tag: bool,
    #[serde(default)]
    finished_at: Option<String>,
}

fn ignored(reason: String) -> RepoEvent {
    RepoEvent::Ignored { reason }
}

/// A merge request event: an approval as a review, else the pull-request action (or why it is
/// ignored), with the time the payload states.
fn merge_request(p: MergePayload) -> (RepoEvent, Option<String>) {
    let a = p.object_attributes;
    let at = a.updated_at.clone();
    let changed = p.changes.and_then(|c| c.labels);
    let added_label = changed.as_ref().and_then(|l| {
        l.current
            .iter()
            .map(|l| l.title.clone())
            .find(|t| !l.previous.iter().any(|p| &p.title == t))
    });
    let removed_label = changed.as_ref().and_then(|l| {
        l.previous
            .iter()
            .map(|l| l.title.clone())
            .find(|t| !l.current.iter().any(|c| &c.title == t))
    });
    let approval = match a.action.as_deref() {
        Some("approved" | "approval") => Some(true),
        Some("unapproved" | "unapproval") => Some(false),
        _ => None,
    };
    if let Some(approved) = approval {
        let review = RepoEvent::Review(Review {
            repo: p.project.into(),
            number: a.iid,
            sha: a.last_commit.id,
            reviewer: p.user.username,
            approved,
        });
        return (review, None);
    }
    let action = match (
        a.action.as_deref().unwrap_or(""),
        &a.oldrev,
        added_label,
        removed_label,
    ) {
        ("open", ..) => PullRequestAction::Opened,
        ("reopen", ..) => PullRequestAction::Reopened,
        ("close", ..) => PullRequestAction::Closed { merged: false },
        ("merge", ..) => PullRequestAction::Closed { merged: true },
        ("update", Some(_), ..) => PullRequestAction::Synchronized,
        ("update", None, Some(label), _) => PullRequestAction::Labeled { label },
        ("update", None, None, Some(label)) => PullRequestAction::Unlabeled { label },
        (other, ..) => {
            let reason = format!("merge_request action `{other}` (no new commits or labels)");
            return (ignored(reason), None);
        }
    };
    let mut labels: Vec<String> = p.labels.into_iter().map(|l| l.title).collect();
    labels.sort();
    // A source project other than the target (or none named): a fork.
    let fork = match (a.source_project_id, a.target_project_id) {
        (Some(source), Some(target)) => source != target,
        _ => true,
    };
    // The author is named by id; the user is who caused this event.
    let by_author = a.author_id.is_some() && a.author_id == p.user.id;
    let event = RepoEvent::PullRequest(PullRequest {
        head_repo: a.source.map(|s| s.path_with_namespace),
        fork,
        sender: p.user.username.clone(),
        repo: p.project.into(),
        number: a.iid,
        action,
        head_branch: a.source_branch,
        head_sha: a.last_commit.id,
        base_branch: a.target_branch,
        labels,
        author: if by_author {
            p.user.username
        } else {
            String::new()
        },
    });
    (event, at)
}

/// The event, and its time as the payload states it (see the GitHub parser).
pub(crate) fn parse(event: &str, body: &[u8]) -> Result<(RepoEvent, Option<String>)> {
    Ok(match event {
        "Push Hook" | "Tag Push Hook" => {
            let p: PushPayload = decode("gitlab", event, body)?;
            let deleted = p.after == ZERO;
            let event = push_event(
                p.project.into(),
                p.git_ref,
                p.before,
                p.after,
                deleted,
                p.commits,
                p.user_username,
            );
            (event, None)
        }
        "Merge Request Hook" => merge_request(decode("gitlab", event, body)?),
        "Pipeline Hook" => {
            let p: PipelinePayload = decode("gitlab", event, body)?;
            let a = p.object_attributes;
            if !matches!(
                a.status.as_str(),
                "success" | "failed" | "canceled" | "skipped"
            ) {
                return Ok((ignored(format!("pipeline status `{}`", a.status)), None));
            }
            let head_repo = Some(p.project.path_with_namespace.clone());
            let event = RepoEvent::PipelineCompleted(PipelineCompleted {
                repo: p.project.into(),
                name: a.name.unwrap_or_default(),
                branch: a.git_ref,
                sha: a.sha,
                conclusion: conclusion(&a.status),
                trigger: match a.source.as_str() {
                    "push" if !a.tag => Trigger::Push,
                    "merge_request_event" | "external_pull_request_event" => Trigger::PullRequest,
                    other => Trigger::Other(other.to_string()),
                },
                head_repo,
                workflow_path: None,
            });
            (event, a.finished_at)
        }
        other => {
            decode::<serde_json::Value>("gitlab", other, body)?;
            (ignored(format!("gitlab event `{other}`")), None)
        }
    })
}

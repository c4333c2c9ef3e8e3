//! GitLab payloads (`X-Gitlab-Event`), only the fields glueops reads.

use serde::Deserialize;

use super::github::conclusion;
use super::{PushedCommit, decode, push_event};
use crate::error::Result;
use crate::event::{
    PipelineCompleted, PullRequest, PullRequestAction, RepoEvent, Repository, Review,
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
struct User {
    #[serde(default)]
    username: String,
}

#[derive(Deserialize)]
struct MergePayload {
    object_attributes: MergeAttributes,
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default)]
    changes: Option<Changes>,
    user: User,
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
}

fn ignored(reason: String) -> RepoEvent {
    RepoEvent::Ignored { reason }
}

pub(crate) fn parse(event: &str, body: &[u8]) -> Result<RepoEvent> {
    Ok(match event {
        "Push Hook" | "Tag Push Hook" => {
            let p: PushPayload = decode("gitlab", event, body)?;
            let deleted = p.after == ZERO;
            push_event(
                p.project.into(),
                p.git_ref,
                p.before,
                p.after,
                deleted,
                p.commits,
                p.user_username,
            )
        }
        "Merge Request Hook" => {
            let p: MergePayload = decode("gitlab", event, body)?;
            let a = p.object_attributes;
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
                return Ok(RepoEvent::Review(Review {
                    repo: p.project.into(),
                    number: a.iid,
                    sha: a.last_commit.id,
                    reviewer: p.user.username,
                    approved,
                }));
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
                    return Ok(ignored(format!(
                        "merge_request action `{other}` (no new commits or labels)"
                    )));
                }
            };
            let mut labels: Vec<String> = p.labels.into_iter().map(|l| l.title).collect();
            labels.sort();
            RepoEvent::PullRequest(PullRequest {
                repo: p.project.into(),
                number: a.iid,
                action,
                head_branch: a.source_branch,
                head_sha: a.last_commit.id,
                base_branch: a.target_branch,
                labels,
                author: p.user.username,
            })
        }
        "Pipeline Hook" => {
            let p: PipelinePayload = decode("gitlab", event, body)?;
            let a = p.object_attributes;
            if !matches!(
                a.status.as_str(),
                "success" | "failed" | "canceled" | "skipped"
            ) {
                return Ok(ignored(format!("pipeline status `{}`", a.status)));
            }
            RepoEvent::PipelineCompleted(PipelineCompleted {
                repo: p.project.into(),
                name: a.name.unwrap_or_default(),
                branch: a.git_ref,
                sha: a.sha,
                conclusion: conclusion(&a.status),
            })
        }
        other => {
            decode::<serde_json::Value>("gitlab", other, body)?;
            ignored(format!("gitlab event `{other}`"))
        }
    })
}

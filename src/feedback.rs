//! What glueops tells the people on the pull request, composed from what a call did: the
//! [`forge::Call`](crate::forge::Call)s for a preview, a release or hold, a config that does
//! not validate, a config pull request. Pure: the calls are desired states that
//! [`forge::Outbox`](crate::forge::Outbox) journals and delivers.
//!
//! ```
//! use glueops::feedback::{Feedback, PreviewPull};
//! use glueops::forge::{Call, Host};
//!
//! let feedback = Feedback::new(Host::GitHub, "acme/config");
//! let pull = PreviewPull {
//!     repo: "acme/web".into(),
//!     number: 5,
//!     sha: "0123456789abcdef0123456789abcdef01234567".into(),
//!     branch: "feature".into(),
//!     apps: vec!["web".into()],
//!     open: true,
//! };
//! let mut out = glueops::PreviewOutcome::default();
//! out.opened.push("web-pr-5".into());
//! out.hosts.insert("web-pr-5".into(), vec!["web-pr-5.apps.example.com".into()]);
//! let calls = feedback.preview(&pull, &out);
//! assert!(matches!(&calls[0], Call::Deployment { environment, url: Some(u), .. }
//!     if environment == "web-pr-5" && u == "https://web-pr-5.apps.example.com"));
//! assert!(matches!(&calls[1], Call::Comment { body, .. } if body.contains("https://web-pr-5.apps.example.com")));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::forge::{Call, DeploymentState, Event, Host, StatusState};
use crate::gate::Hold;
use crate::plan::Change;
use crate::{ConfigReview, Outcome, PreviewOutcome};

/// Largest diff shown per file in a config pull request's comment (characters).
const FILE_DIFF: usize = 6_000;
/// Largest comment body (GitHub takes 65,536 characters).
const COMMENT: usize = 60_000;

/// Where feedback goes and how its links are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// The forge the config repo is on.
    pub host: Host,
    /// The config repo, `owner/name`.
    pub config_repo: String,
    /// The config branch (GitLab deployments name one).
    pub config_branch: Option<String>,
    /// The manifest repo's web address (`https://github.com/acme/manifests`), for links to
    /// manifest commits.
    pub manifests_web: Option<String>,
    /// Where glueops itself is reached (`glueops serve`'s public URL), for status links.
    pub public_url: Option<String>,
}

/// A pull request on an app's source repository, as its preview feedback needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewPull {
    /// The source repository, `owner/name`.
    pub repo: String,
    /// The pull request.
    pub number: u64,
    /// Its head commit.
    pub sha: String,
    /// Its head branch.
    pub branch: String,
    /// The apps built from the repository.
    pub apps: Vec<String>,
    /// Opened or updated (true), closed (false).
    pub open: bool,
}

impl Feedback {
    /// Feedback to `host` about the config repo `config_repo` (`owner/name`).
    pub fn new(host: Host, config_repo: &str) -> Feedback {
        Feedback {
            host,
            config_repo: config_repo.to_string(),
            config_branch: None,
            manifests_web: None,
            public_url: None,
        }
    }

    fn commit_link(&self, sha: &str) -> String {
        let short = &sha[..sha.len().min(7)];
        match &self.manifests_web {
            Some(web) if self.host == Host::GitLab => format!("[`{short}`]({web}/-/commit/{sha})"),
            Some(web) => format!("[`{short}`]({web}/commit/{sha})"),
            None => format!("`{short}`"),
        }
    }

    fn status_url(&self) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|u| format!("{}/status", u.trim_end_matches('/')))
    }

    /// The previews are being rendered: each app's deployment `in_progress`.
    pub fn preview_started(&self, pull: &PreviewPull) -> Vec<Call> {
        if !pull.open {
            return Vec::new();
        }
        pull.apps
            .iter()
            .map(|app| self.preview_deployment(pull, app, DeploymentState::InProgress, None, None))
            .collect()
    }

    fn preview_deployment(
        &self,
        pull: &PreviewPull,
        app: &str,
        state: DeploymentState,
        url: Option<String>,
        manifests: Option<&str>,
    ) -> Call {
        Call::Deployment {
            host: self.host,
            repo: pull.repo.clone(),
            sha: pull.sha.clone(),
            branch: Some(pull.branch.clone()),
            environment: format!("{app}-pr-{}", pull.number),
            task: "preview".into(),
            transient: true,
            state,
            url,
            description: match state {
                DeploymentState::InProgress => "rendering the preview".into(),
                DeploymentState::Success => "preview released".into(),
                DeploymentState::Inactive => "preview removed".into(),
            },
            payload: manifests.map_or(
                serde_json::Value::Null,
                |m| serde_json::json!({ "manifestCommit": m }),
            ),
        }
    }

    /// What a preview change did, told on its pull request: a deployment per preview
    /// opened (or retired when closed), and one comment edited in place.
    pub fn preview(&self, pull: &PreviewPull, out: &PreviewOutcome) -> Vec<Call> {
        let mut calls = Vec::new();
        let mut rows = String::new();
        let mut closed = Vec::new();
        for app in &pull.apps {
            let name = format!("{app}-pr-{}", pull.number);
            if out.opened.contains(&name) {
                let hosts = out.hosts.get(&name).cloned().unwrap_or_default();
                let url = hosts.first().map(|h| format!("https://{h}"));
                let manifests = out.commits.get(&name).map(String::as_str);
                calls.push(self.preview_deployment(
                    pull,
                    app,
                    DeploymentState::Success,
                    url,
                    manifests,
                ));
                let links = if hosts.is_empty() {
                    "(no ingress host)".to_string()
                } else {
                    hosts
                        .iter()
                        .map(|h| format!("https://{h}"))
                        .collect::<Vec<_>>()
                        .join("<br>")
                };
                let commit = manifests.map_or_else(|| "-".into(), |m| self.commit_link(m));
                let _ = writeln!(rows, "| `{app}` | {links} | {commit} |");
            } else if pull.open && !out.closed.contains(&name) {
                // Not opened (its labels exclude it): the deployment begun is not one.
                calls.push(self.preview_deployment(
                    pull,
                    app,
                    DeploymentState::Inactive,
                    None,
                    None,
                ));
            } else if out.closed.contains(&name) {
                calls.push(Call::Retire {
                    host: self.host,
                    repo: pull.repo.clone(),
                    environment: name.clone(),
                    task: "preview".into(),
                    keep: None,
                });
                closed.push(name);
            }
        }
        let short = &pull.sha[..pull.sha.len().min(7)];
        let mut body = format!("#### glueops preview of #{}\n\n", pull.number);
        if !rows.is_empty() {
            let _ = write!(
                body,
                "| App | Address | Manifests |\n|---|---|---|\n{rows}\nRuns commit `{short}` of `{}`.\n",
                inline_code(&pull.branch)
            );
        }
        if !closed.is_empty() {
            let names: Vec<String> = closed.iter().map(|n| format!("`{n}`")).collect();
            let _ = writeln!(body, "Removed: {}.", names.join(", "));
        }
        if rows.is_empty() && closed.is_empty() {
            return calls;
        }
        calls.push(Call::Comment {
            host: self.host,
            repo: pull.repo.clone(),
            number: pull.number,
            marker: "preview".into(),
            body,
        });
        calls
    }

    /// What a sync (or a bump, promote or rollback: `kind` names it in notifications) did
    /// on the config commit it read: a status per environment released or held, a
    /// deployment per app and environment released, notifications.
    pub fn release(&self, out: &Outcome, kind: &str) -> Vec<Call> {
        let Some(sha) = out.plan.config.clone() else {
            return Vec::new();
        };
        let mut envs: BTreeMap<&str, (usize, Vec<&Hold>)> = BTreeMap::new();
        let mut calls = Vec::new();
        for d in out.plan.deployments.iter().filter(|d| !d.repair) {
            envs.entry(&d.env).or_default().0 += 1;
            let task = format!("deploy:{}", d.app);
            if d.change == Change::Removed {
                calls.push(Call::Retire {
                    host: self.host,
                    repo: self.config_repo.clone(),
                    environment: d.env.clone(),
                    task,
                    keep: None,
                });
                continue;
            }
            let Some(manifests) = &out.commit else {
                continue;
            };
            calls.push(Call::Deployment {
                host: self.host,
                repo: self.config_repo.clone(),
                sha: sha.clone(),
                branch: self.config_branch.clone(),
                environment: d.env.clone(),
                task,
                transient: false,
                state: DeploymentState::Success,
                url: d.hosts.first().map(|h| format!("https://{h}")),
                description: match &d.tag {
                    Some(tag) => format!("{} {tag} released to {}", d.app, d.env),
                    None => format!("{} released to {}", d.app, d.env),
                },
                payload: serde_json::json!({ "app": d.app, "tag": d.tag, "manifestCommit": manifests }),
            });
        }
        for h in &out.plan.held {
            envs.entry(&h.env).or_default().1.extend(h.holds.iter());
        }
        let mut statuses = Vec::new();
        for (env, (released, holds)) in &envs {
            let (state, description) = match holds.first() {
                Some(_) => (
                    StatusState::Pending,
                    holds.iter().map(|h| held(h)).collect::<Vec<_>>().join("; "),
                ),
                None if out.commit.is_none() => continue,
                None => (
                    StatusState::Success,
                    format!(
                        "released to {env} ({released} deployment{})",
                        if *released == 1 { "" } else { "s" }
                    ),
                ),
            };
            if state == StatusState::Pending {
                statuses.push(format!("{env}: {description}"));
            }
            calls.push(Call::Status {
                host: self.host,
                repo: self.config_repo.clone(),
                sha: sha.clone(),
                context: format!("glueops/{env}"),
                state,
                description,
                target_url: self.status_url(),
            });
        }
        calls.extend(self.release_events(out, kind, &sha, &statuses));
        calls
    }

    /// The notifications of a release: what was released, what was restored, and the
    /// environments held (`statuses`: `env: why`).
    fn release_events(
        &self,
        out: &Outcome,
        kind: &str,
        sha: &str,
        statuses: &[String],
    ) -> Vec<Call> {
        let mut events = Vec::new();
        let released: Vec<String> = out
            .plan
            .deployments
            .iter()
            .filter(|d| !d.repair)
            .map(|d| match &d.tag {
                Some(tag) => format!("{} {tag} → {}", d.app, d.env),
                None => format!("{} → {}", d.app, d.env),
            })
            .collect();
        if let Some(commit) = &out.commit {
            if !released.is_empty() {
                events.push((
                    kind,
                    format!("{kind}:{commit}"),
                    format!("glueops {kind}: {}", released.join(", ")),
                ));
            }
            if !out.plan.repaired.is_empty() {
                events.push((
                    "drift",
                    format!("drift:{commit}"),
                    format!(
                        "glueops restored {} file(s) changed by hand on the manifest branch",
                        out.plan.repaired.len()
                    ),
                ));
            }
        }
        // `statuses`: the environments held, each with why.
        let holds: Vec<&String> = statuses.iter().collect();
        if !holds.is_empty() {
            let envs: Vec<&str> = out.plan.held.iter().map(|h| h.env.as_str()).collect();
            events.push((
                "hold",
                format!("hold:{sha}:{}", envs.join(",")),
                format!(
                    "glueops holds {}",
                    holds
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ));
        }
        events
            .into_iter()
            .map(|(kind, id, summary)| Call::Notify {
                event: Event {
                    kind: kind.to_string(),
                    summary,
                    details: serde_json::json!({
                        "configRepo": self.config_repo,
                        "config": sha,
                        "manifestCommit": out.commit,
                        "deployments": out.plan.deployments,
                        "held": out.plan.held,
                    }),
                    id,
                },
                endpoint: None,
            })
            .collect()
    }

    /// The config at `sha` does not validate: `glueops/validate` and every environment's
    /// status fail with the first located error, and a failure notification.
    pub fn invalid(&self, sha: &str, envs: &[String], error: &crate::Error) -> Vec<Call> {
        let first = first_error(error);
        let error = error.to_string();
        let mut calls: Vec<Call> = std::iter::once("validate".to_string())
            .chain(envs.iter().cloned())
            .map(|context| Call::Status {
                host: self.host,
                repo: self.config_repo.clone(),
                sha: sha.to_string(),
                context: format!("glueops/{context}"),
                state: StatusState::Failure,
                description: first.clone(),
                target_url: self.status_url(),
            })
            .collect();
        calls.push(Call::Notify {
            event: Event {
                kind: "failure".into(),
                summary: format!("glueops cannot release {}: {first}", self.config_repo),
                details: serde_json::json!({ "configRepo": self.config_repo, "config": sha, "error": error.as_str() }),
                id: format!("failure:{sha}"),
            },
            endpoint: None,
        });
        calls
    }

    /// What merging config pull request `number` would do: one comment edited in place and
    /// a successful `glueops/validate`.
    pub fn config_review(&self, number: u64, review: &ConfigReview) -> Vec<Call> {
        let description = format!(
            "the config validates; {} manifest file{} would change",
            review.changes.len(),
            if review.changes.len() == 1 { "" } else { "s" }
        );
        self.config_pull(
            number,
            &review.head,
            (StatusState::Success, description),
            review_body(review),
        )
    }

    /// The `glueops/validate` status of `sha` and the comment on config pull request `number`.
    fn config_pull(
        &self,
        number: u64,
        sha: &str,
        (state, description): (StatusState, String),
        body: String,
    ) -> Vec<Call> {
        vec![
            Call::Status {
                host: self.host,
                repo: self.config_repo.clone(),
                sha: sha.to_string(),
                context: "glueops/validate".into(),
                state,
                description,
                target_url: self.status_url(),
            },
            Call::Comment {
                host: self.host,
                repo: self.config_repo.clone(),
                number,
                marker: "config".into(),
                body,
            },
        ]
    }

    /// A change proposed on a branch: its pull request, opened once and edited in place,
    /// describing the change and, when `review` is given, what merging it does. A branch
    /// someone else moved gets no pull request from glueops.
    pub fn proposal(&self, proposal: &crate::Proposal, review: Option<&ConfigReview>) -> Vec<Call> {
        if proposal.moved.is_some() || proposal.commit.is_none() {
            return Vec::new();
        }
        let mut body = format!(
            "{}\n\nMerging it is a push to `{}`: glueops releases it as any other config change.\n\n",
            proposal.summary, proposal.base
        );
        if let Some(review) = review {
            body.push_str(&review_body(review));
        }
        let mut calls = vec![Call::PullRequest {
            host: self.host,
            repo: self.config_repo.clone(),
            head: proposal.branch.clone(),
            base: proposal.base.clone(),
            title: proposal.title.clone(),
            body: cut(&body, COMMENT),
            auto_merge: proposal.auto_merge,
        }];
        // After it (the outbox keeps the order): the older proposals, closed naming it.
        calls.extend(proposal.supersedes.iter().map(|head| Call::Supersede {
            host: self.host,
            repo: self.config_repo.clone(),
            head: head.clone(),
            successor: proposal.branch.clone(),
        }));
        calls
    }

    /// Config pull request `number` at `sha` does not validate: a failing `glueops/validate`
    /// naming the first located error, and the comment saying so.
    pub fn config_review_failed(&self, number: u64, sha: &str, error: &crate::Error) -> Vec<Call> {
        let body = format!(
            "#### glueops: this config does not validate\n\nAt `{}`:\n\n```\n{}\n```\n",
            &sha[..sha.len().min(7)],
            cut(error.to_string().trim_end(), FILE_DIFF)
        );
        self.config_pull(
            number,
            sha,
            (StatusState::Failure, first_error(error)),
            body,
        )
    }
}

/// Text from a payload (a branch name) made safe inside an inline code span: no backtick to
/// end it early and no line break (a branch name is its author's to choose).
fn inline_code(text: &str) -> String {
    text.chars()
        .map(|c| if c == '`' || c.is_control() { '\'' } else { c })
        .collect()
}

/// A hold as a status description.
fn held(hold: &Hold) -> String {
    match hold {
        Hold::Window { windows, next_open } => {
            let mut s = format!("held by window `{}`", windows.join("; "));
            if let Some(next) = next_open {
                let _ = write!(s, ": opens {next}");
            }
            s
        }
        Hold::Approval { .. } => format!("waiting: {hold}"),
        Hold::Soak { .. } | Hold::Checks { .. } => hold.to_string(),
    }
}

/// The first error, located (`file:line:column: message`) when it is the config's.
pub fn first_error(error: &crate::Error) -> String {
    if let crate::Error::Config(d) = error
        && let Some(first) = d
            .iter()
            .find(|d| d.severity == crate::model::Severity::Error)
    {
        return format!("{}: {}", first.location, first.message);
    }
    first_line(&error.to_string())
}

/// The first line that says something.
fn first_line(error: &str) -> String {
    let line = error
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("the config does not validate");
    line.to_string()
}

/// At most `max` characters of `text`, cut at a line end, saying how much was left out.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    format!(
        "{}\n… ({} more lines: run `glueops diff` to see them all)\n",
        &text[..end],
        text[end..].lines().count().saturating_sub(1)
    )
}

/// A config pull request's comment: what would release where, then the diff per file.
fn review_body(review: &ConfigReview) -> String {
    let mut body = format!(
        "#### glueops: what merging this does\n\nRendered from `{}`: {} manifest file{} change.\n\n",
        &review.head[..review.head.len().min(7)],
        review.changes.len(),
        if review.changes.len() == 1 { "" } else { "s" }
    );
    if !review.environments.is_empty() {
        body.push_str("| Environment | On merge |\n|---|---|\n");
        for (env, holds) in &review.environments {
            let verdict = match holds.first() {
                None => "released at once".to_string(),
                Some(_) => holds.iter().map(held).collect::<Vec<_>>().join("; "),
            };
            let _ = writeln!(body, "| `{env}` | {verdict} |");
        }
        body.push('\n');
    }
    let mut shown = 0;
    for change in &review.changes {
        let section = format!(
            "<details><summary>{:?}: <code>{}</code></summary>\n\n```diff\n{}```\n</details>\n",
            change.kind,
            change.path,
            cut(&change.diff, FILE_DIFF)
        );
        if body.len() + section.len() > COMMENT {
            break;
        }
        body.push_str(&section);
        shown += 1;
    }
    if shown < review.changes.len() {
        let _ = writeln!(
            body,
            "\n… and {} more file(s): run `glueops diff` to see them all.",
            review.changes.len() - shown
        );
    }
    body
}

/// The web address of a git remote on a forge (`https://host/owner/name`), when it is one.
pub fn web_url(remote: &str) -> Option<String> {
    let remote = remote.trim_end_matches('/');
    let remote = remote.strip_suffix(".git").unwrap_or(remote);
    if let Some(rest) = remote.strip_prefix("https://") {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        return rest.contains('/').then(|| format!("https://{rest}"));
    }
    let rest = remote.strip_prefix("ssh://").unwrap_or(remote);
    let (user_host, path) = rest.split_once(':').or_else(|| rest.split_once('/'))?;
    let host = user_host.rsplit_once('@').map_or(user_host, |(_, h)| h);
    if host.is_empty() || path.is_empty() || host.contains('/') || !host.contains('.') {
        return None;
    }
    Some(format!("https://{host}/{}", path.trim_start_matches('/')))
}

/// `owner/name` from any repository string (a URL or a path): its last two parts, without
/// `.git` — the name webhooks and forges use when nothing names it otherwise.
pub fn repo_name(spec: &str) -> String {
    let trimmed = spec.trim_end_matches('/');
    let mut parts = trimmed.rsplit(['/', ':']);
    let name = parts.next().unwrap_or_default();
    let owner = parts.next().unwrap_or_default();
    format!("{owner}/{}", name.strip_suffix(".git").unwrap_or(name))
}

/// The repository's name on its forge (`owner/name`, GitLab `group/sub/name`) from a git
/// remote on one, when it is.
pub fn forge_name(remote: &str) -> Option<String> {
    let web = web_url(remote)?;
    let rest = web.strip_prefix("https://")?;
    let (_, path) = rest.split_once('/')?;
    path.contains('/').then(|| path.to_string())
}

#[cfg(test)]
#[path = "feedback_tests.rs"]
mod tests;

//! Reading the checks on a commit: GitHub's commit statuses and check runs, GitLab's commit
//! statuses, as one list of named results.

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::http::{array, credential, send};
use crate::{Error, Forge, Host};

/// A check's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Queued or running.
    Pending,
    /// Green (a skipped or neutral check run counts as green, as branch protection does).
    Success,
    /// Red: failed, errored, cancelled, timed out, or waiting for an action.
    Failure,
}

/// One named check on a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The status context or check run name.
    pub name: String,
    /// Its result.
    pub status: CheckStatus,
    /// Its link.
    pub url: Option<String>,
}

impl Forge {
    /// The checks on `sha` of `repo` (`owner/name`) on `host`: the newest result of each name.
    pub async fn checks(&self, host: Host, repo: &str, sha: &str) -> Result<Vec<Check>, Error> {
        crate::Call::Status {
            host,
            repo: repo.to_string(),
            sha: sha.to_string(),
            context: String::new(),
            state: crate::StatusState::Pending,
            description: String::new(),
            target_url: None,
        }
        .check()?;
        match host {
            Host::GitHub => self.github_checks(repo, sha).await,
            Host::GitLab => self.gitlab_checks(repo, sha).await,
        }
    }

    async fn github_checks(&self, repo: &str, sha: &str) -> Result<Vec<Check>, Error> {
        let github = self
            .github
            .as_ref()
            .ok_or(Error::NotConfigured { host: Host::GitHub })?;
        if !crate::github::valid_repo(repo) {
            return Err(Error::Answer {
                operation: "checks",
                reason: format!("`{repo}` is not an owner/name repository"),
            });
        }
        let auth = crate::github::auth(self, github, repo).await?;
        let get = |path: String| {
            self.http
                .get(format!("{}/repos/{repo}{path}", github.api))
                .header(auth.0.clone(), auth.1.clone())
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
        };
        let combined = send(
            self,
            "github",
            "status.get",
            get(format!("/commits/{sha}/status?per_page=100")),
        )
        .await?;
        let mut out: Vec<Check> = Vec::new();
        for s in combined["statuses"].as_array().into_iter().flatten() {
            let status = match s["state"].as_str() {
                Some("success") => CheckStatus::Success,
                Some("pending") => CheckStatus::Pending,
                _ => CheckStatus::Failure,
            };
            push(&mut out, s["context"].as_str(), status, &s["target_url"]);
        }
        let runs = send(
            self,
            "github",
            "checks.list",
            get(format!("/commits/{sha}/check-runs?per_page=100")),
        )
        .await?;
        for r in runs["check_runs"].as_array().into_iter().flatten() {
            let status = match (r["status"].as_str(), r["conclusion"].as_str()) {
                (Some("completed"), Some("success" | "neutral" | "skipped")) => {
                    CheckStatus::Success
                }
                (Some("completed"), _) => CheckStatus::Failure,
                _ => CheckStatus::Pending,
            };
            let url = if r["html_url"].is_string() {
                &r["html_url"]
            } else {
                &r["details_url"]
            };
            push(&mut out, r["name"].as_str(), status, url);
        }
        Ok(out)
    }

    async fn gitlab_checks(&self, repo: &str, sha: &str) -> Result<Vec<Check>, Error> {
        let gitlab = self
            .gitlab
            .as_ref()
            .ok_or(Error::NotConfigured { host: Host::GitLab })?;
        let auth = credential("private-token", "", &gitlab.token)?;
        let url = format!(
            "{}/projects/{}/repository/commits/{sha}/statuses?per_page=100",
            gitlab.api,
            crate::github::encode(repo)
        );
        let request = self.http.request(Method::GET, url).header(auth.0, auth.1);
        let mut statuses = array(
            send(self, "gitlab", "status.get", request).await?,
            "status.get",
        )?;
        // Newest first: the first of each name wins.
        statuses.sort_by_key(|s| std::cmp::Reverse(s["id"].as_u64().unwrap_or(0)));
        let mut out = Vec::new();
        for s in &statuses {
            let status = match s["status"].as_str() {
                Some("success" | "skipped") => CheckStatus::Success,
                Some("pending" | "running" | "created" | "manual") => CheckStatus::Pending,
                _ => CheckStatus::Failure,
            };
            push(&mut out, s["name"].as_str(), status, &s["target_url"]);
        }
        Ok(out)
    }
}

/// Adds a check unless one of its name is there already (the newer result came first).
fn push(out: &mut Vec<Check>, name: Option<&str>, status: CheckStatus, url: &Value) {
    let Some(name) = name else { return };
    if out.iter().any(|c| c.name == name) {
        return;
    }
    out.push(Check {
        name: name.to_string(),
        status,
        url: url.as_str().map(str::to_string),
    });
}

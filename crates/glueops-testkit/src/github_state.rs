//! The operations the GitHub stand-in keeps state for, answered in the shapes of GitHub's
//! descriptions (the fields a client reads).

use serde_json::{Value, json};

use crate::forge_http::{Answer, Request};
use std::collections::BTreeMap;

use crate::github_spec::Params;

/// The test GitHub App's id.
pub const TEST_APP_ID: u64 = 4242;
/// The installation the test app has on every repository.
pub const INSTALLATION: u64 = 77;

/// A comment as the forge keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Its id.
    pub id: u64,
    /// `owner/name`.
    pub repo: String,
    /// The issue or pull request.
    pub issue: u64,
    /// The body.
    pub body: String,
    /// Who wrote it: `glueops-ci` (the test token's user), the test app's bot, or anyone a
    /// test plants.
    pub author: String,
    /// Written through the test GitHub App.
    pub by_app: bool,
}

/// The login of the user the test token belongs to.
pub const TOKEN_USER: &str = "glueops-ci";

/// A commit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Its id (creation order).
    pub id: u64,
    /// `owner/name`.
    pub repo: String,
    /// The commit.
    pub sha: String,
    /// The context.
    pub context: String,
    /// `pending`, `success`, ...
    pub state: String,
    /// The description.
    pub description: String,
    /// Its link.
    pub target_url: Option<String>,
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    /// `owner/name`.
    pub repo: String,
    /// Its number.
    pub number: u64,
    /// The branch with the change.
    pub head: String,
    /// The branch it merges into.
    pub base: String,
    /// The title.
    pub title: String,
    /// The description.
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    /// Whether auto-merge was turned on (GraphQL `enablePullRequestAutoMerge`).
    pub auto_merge: bool,
}

/// A check run (what GitHub Actions and other apps report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// `owner/name`.
    pub repo: String,
    /// The commit.
    pub sha: String,
    /// Its name.
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// When completed: `success`, `failure`, `neutral`, ...
    pub conclusion: Option<String>,
    /// Its page.
    pub html_url: Option<String>,
}

/// A deployment and its statuses (oldest first).
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Its id.
    pub id: u64,
    /// `owner/name`.
    pub repo: String,
    /// The commit (`ref` as given).
    pub sha: String,
    /// The environment.
    pub environment: String,
    /// The task.
    pub task: String,
    /// Whether the environment is transient.
    pub transient: bool,
    /// The payload.
    pub payload: Value,
    /// Its statuses' states and environment URLs, oldest first.
    pub statuses: Vec<(String, Option<String>)>,
}

/// The stores the operations read and write.
pub(crate) struct View<'a> {
    pub(crate) next_id: &'a mut u64,
    pub(crate) comments: &'a mut Vec<Comment>,
    pub(crate) statuses: &'a mut Vec<Status>,
    pub(crate) deployments: &'a mut Vec<Deployment>,
    pub(crate) issued: &'a mut Vec<String>,
    pub(crate) check_runs: &'a [CheckRun],
    pub(crate) pulls: &'a mut Vec<Pull>,
    /// The request came with an installation token of the test app.
    pub(crate) by_app: bool,
}

impl View<'_> {
    pub(crate) fn id(&mut self) -> u64 {
        *self.next_id += 1;
        *self.next_id
    }
}

/// Groups statuses by context, newest first (as the combined status lists them).
pub(crate) fn latest_per_context(statuses: &[Status]) -> Vec<&Status> {
    let mut seen: BTreeMap<&str, &Status> = BTreeMap::new();
    for s in statuses {
        seen.insert(&s.context, s);
    }
    let mut out: Vec<&Status> = seen.into_values().collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.id));
    out
}

fn repo_of(p: &Params) -> String {
    format!(
        "{}/{}",
        p.get("owner").map_or("", String::as_str),
        p.get("repo").map_or("", String::as_str)
    )
}

fn number(p: &Params, name: &str) -> u64 {
    p.get(name).and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn page<T: Clone>(items: &[T], r: &Request) -> Vec<T> {
    let per_page: usize = r
        .param("per_page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let page: usize = r
        .param("page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect()
}

fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

fn comment_json(c: &Comment) -> Value {
    json!({
        "id": c.id, "body": c.body,
        "user": { "login": c.author, "type": if c.by_app { "Bot" } else { "User" } },
        "performed_via_github_app": if c.by_app { json!({ "id": TEST_APP_ID, "slug": "glueops-test" }) } else { Value::Null },
    })
}

fn deployment_json(d: &Deployment) -> Value {
    json!({
        "id": d.id, "sha": d.sha, "ref": d.sha, "environment": d.environment, "task": d.task,
        "transient_environment": d.transient, "payload": d.payload,
    })
}

pub(crate) fn answer(s: &mut View<'_>, op: &str, p: &Params, r: &Request) -> Answer {
    if op == "users/get-authenticated" {
        // An installation token is no user (GitHub answers 403 too).
        return if s.by_app {
            Answer::json(
                403,
                json!({ "message": "Resource not accessible by integration" }),
            )
        } else {
            Answer::json(200, json!({ "login": TOKEN_USER, "type": "User" }))
        };
    }
    if op.starts_with("apps/") {
        return app(s, op, p);
    }
    if op.starts_with("issues/") {
        return comments(s, op, p, r);
    }
    if op.starts_with("pulls/") {
        return pulls(s, op, p, r);
    }
    if op == "checks/list-for-ref" {
        return check_runs(s, p);
    }
    if op.contains("deployment") {
        return deployments(s, op, p, r);
    }
    statuses(s, op, p, r)
}

fn not_kept(op: &str) -> Answer {
    Answer::json(
        501,
        json!({ "message": format!("the test forge does not keep state for {op}") }),
    )
}

fn not_found() -> Answer {
    Answer::json(404, json!({ "message": "Not Found" }))
}

fn app(s: &mut View<'_>, op: &str, p: &Params) -> Answer {
    match op {
        "apps/get-repo-installation" => {
            Answer::json(200, json!({ "id": INSTALLATION, "app_id": TEST_APP_ID }))
        }
        "apps/create-installation-access-token" => {
            if number(p, "installation_id") != INSTALLATION {
                return not_found();
            }
            let token = format!("ghs_test_{}", s.id());
            s.issued.push(token.clone());
            let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
            Answer::json(
                201,
                json!({ "token": token, "expires_at": expires.to_string() }),
            )
        }
        _ => not_kept(op),
    }
}

fn comments(s: &mut View<'_>, op: &str, p: &Params, r: &Request) -> Answer {
    let repo = repo_of(p);
    match op {
        "issues/list-comments" => {
            let issue = number(p, "issue_number");
            let all: Vec<Comment> = s
                .comments
                .iter()
                .filter(|c| c.repo == repo && c.issue == issue)
                .cloned()
                .collect();
            Answer::json(
                200,
                Value::Array(page(&all, r).iter().map(comment_json).collect()),
            )
        }
        "issues/create-comment" => {
            let c = Comment {
                id: s.id(),
                repo,
                issue: number(p, "issue_number"),
                body: body(r)["body"].as_str().unwrap_or_default().to_string(),
                author: if s.by_app {
                    "glueops-test[bot]".into()
                } else {
                    TOKEN_USER.into()
                },
                by_app: s.by_app,
            };
            let out = comment_json(&c);
            s.comments.push(c);
            Answer::json(201, out)
        }
        "issues/update-comment" => {
            let id = number(p, "comment_id");
            match s.comments.iter_mut().find(|c| c.id == id && c.repo == repo) {
                Some(c) => {
                    c.body = body(r)["body"].as_str().unwrap_or_default().to_string();
                    Answer::json(200, comment_json(c))
                }
                None => not_found(),
            }
        }
        _ => not_kept(op),
    }
}

fn statuses(s: &mut View<'_>, op: &str, p: &Params, r: &Request) -> Answer {
    let repo = repo_of(p);
    match op {
        "repos/get-combined-status-for-ref" => {
            let sha = p.get("ref").cloned().unwrap_or_default();
            let of: Vec<Status> = s
                .statuses
                .iter()
                .filter(|x| x.repo == repo && x.sha == sha)
                .cloned()
                .collect();
            let latest: Vec<Value> = latest_per_context(&of)
                .into_iter()
                .map(|x| json!({ "id": x.id, "context": x.context, "state": x.state, "description": x.description, "target_url": x.target_url }))
                .collect();
            Answer::json(
                200,
                json!({ "state": "pending", "sha": sha, "statuses": latest }),
            )
        }
        "repos/create-commit-status" => {
            let b = body(r);
            let st = Status {
                id: s.id(),
                repo,
                sha: p.get("sha").cloned().unwrap_or_default(),
                context: b["context"].as_str().unwrap_or("default").to_string(),
                state: b["state"].as_str().unwrap_or_default().to_string(),
                description: b["description"].as_str().unwrap_or_default().to_string(),
                target_url: b["target_url"].as_str().map(str::to_string),
            };
            let out = json!({ "id": st.id, "context": st.context, "state": st.state });
            s.statuses.push(st);
            Answer::json(201, out)
        }
        _ => not_kept(op),
    }
}

fn pull_json(x: &Pull) -> Value {
    json!({ "number": x.number, "node_id": format!("PR_{}", x.number), "title": x.title,
            "body": x.body, "state": x.state, "head": { "ref": x.head }, "base": { "ref": x.base },
            "auto_merge": if x.auto_merge { json!({ "merge_method": "merge" }) } else { Value::Null } })
}

fn pulls(s: &mut View<'_>, op: &str, p: &Params, r: &Request) -> Answer {
    let repo = repo_of(p);
    match op {
        "pulls/list" => {
            let owner = repo.split('/').next().unwrap_or_default().to_string();
            let found: Vec<Value> = s
                .pulls
                .iter()
                .filter(|x| x.repo == repo)
                .filter(|x| {
                    r.param("state")
                        .is_none_or(|st| st == "all" || st == x.state)
                })
                .filter(|x| {
                    r.param("head")
                        .is_none_or(|h| h == format!("{owner}:{}", x.head))
                })
                .map(pull_json)
                .collect();
            Answer::json(200, Value::Array(found))
        }
        "pulls/create" => {
            let b = body(r);
            let number = s.id();
            let pull = Pull {
                repo,
                number,
                head: b["head"].as_str().unwrap_or_default().to_string(),
                base: b["base"].as_str().unwrap_or_default().to_string(),
                title: b["title"].as_str().unwrap_or_default().to_string(),
                body: b["body"].as_str().unwrap_or_default().to_string(),
                state: "open".into(),
                auto_merge: false,
            };
            let out = pull_json(&pull);
            s.pulls.push(pull);
            Answer::json(201, out)
        }
        "pulls/update" => {
            let number = number(p, "pull_number");
            let b = body(r);
            match s
                .pulls
                .iter_mut()
                .find(|x| x.repo == repo && x.number == number)
            {
                Some(x) => {
                    if let Some(t) = b["title"].as_str() {
                        x.title = t.to_string();
                    }
                    if let Some(t) = b["body"].as_str() {
                        x.body = t.to_string();
                    }
                    if let Some(t) = b["state"].as_str() {
                        x.state = t.to_string();
                    }
                    Answer::json(200, pull_json(x))
                }
                None => not_found(),
            }
        }
        _ => not_kept(op),
    }
}

fn check_runs(s: &View<'_>, p: &Params) -> Answer {
    let repo = repo_of(p);
    let sha = p.get("ref").cloned().unwrap_or_default();
    let runs: Vec<Value> = s
        .check_runs
        .iter()
        .rev()
        .filter(|c| c.repo == repo && c.sha == sha)
        .map(|c| json!({ "name": c.name, "status": c.status, "conclusion": c.conclusion, "html_url": c.html_url }))
        .collect();
    Answer::json(
        200,
        json!({ "total_count": runs.len(), "check_runs": runs }),
    )
}

fn deployments(s: &mut View<'_>, op: &str, p: &Params, r: &Request) -> Answer {
    let repo = repo_of(p);
    match op {
        "repos/list-deployments" => {
            let mut all: Vec<&Deployment> = s
                .deployments
                .iter()
                .filter(|d| d.repo == repo)
                .filter(|d| r.param("sha").is_none_or(|x| x == d.sha))
                .filter(|d| r.param("environment").is_none_or(|x| x == d.environment))
                .filter(|d| r.param("task").is_none_or(|x| x == d.task))
                .collect();
            all.reverse();
            let shown: Vec<Value> = page(&all, r).into_iter().map(deployment_json).collect();
            Answer::json(200, Value::Array(shown))
        }
        "repos/create-deployment" => {
            let b = body(r);
            let d = Deployment {
                id: s.id(),
                repo,
                sha: b["ref"].as_str().unwrap_or_default().to_string(),
                environment: b["environment"]
                    .as_str()
                    .unwrap_or("production")
                    .to_string(),
                task: b["task"].as_str().unwrap_or("deploy").to_string(),
                transient: b["transient_environment"] == true,
                payload: b["payload"].clone(),
                statuses: Vec::new(),
            };
            let out = deployment_json(&d);
            s.deployments.push(d);
            Answer::json(201, out)
        }
        "repos/list-deployment-statuses" => {
            let id = number(p, "deployment_id");
            let Some(d) = s.deployments.iter().find(|d| d.id == id && d.repo == repo) else {
                return not_found();
            };
            let newest_first: Vec<Value> = d
                .statuses
                .iter()
                .rev()
                .map(|(state, url)| json!({ "state": state, "environment_url": url }))
                .collect();
            Answer::json(200, Value::Array(page(&newest_first, r)))
        }
        "repos/create-deployment-status" => {
            let id = number(p, "deployment_id");
            let b = body(r);
            let Some(d) = s
                .deployments
                .iter_mut()
                .find(|d| d.id == id && d.repo == repo)
            else {
                return not_found();
            };
            let state = b["state"].as_str().unwrap_or_default().to_string();
            let url = b["environment_url"].as_str().map(str::to_string);
            d.statuses.push((state.clone(), url));
            Answer::json(201, json!({ "id": id, "state": state }))
        }
        _ => not_kept(op),
    }
}

//! Calls on GitHub's REST API (github.com and Enterprise Server): issue comments, commit
//! statuses, deployments and their statuses; each looked up before it is written.

use reqwest::Method;
use serde_json::{Value, json};

use crate::call::{marker_line, short};
use crate::http::{array, credential, find_marked, id, send};
use crate::{Call, DeploymentState, Error, Forge, GitHub, GitHubAuth};

/// Older deployments of an environment looked at when one succeeds or is retired.
const RECENT: usize = 10;

/// A signed-in view of one repository.
struct Repo<'a> {
    forge: &'a Forge,
    api: &'a str,
    repo: &'a str,
    auth: (reqwest::header::HeaderName, reqwest::header::HeaderValue),
}

impl Repo<'_> {
    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let url = format!("{}/repos/{}{path}", self.api, self.repo);
        let mut request = self
            .forge
            .http
            .request(method, url)
            .header(self.auth.0.clone(), self.auth.1.clone())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(body) = body {
            request = request.json(body);
        }
        send(self.forge, "github", operation, request).await
    }
}

pub(crate) async fn apply(forge: &Forge, github: &GitHub, call: &Call) -> Result<bool, Error> {
    let Some(repo_name) = call.repo() else {
        return Ok(false);
    };
    if !valid_repo(repo_name) {
        return Err(Error::Answer {
            operation: call.operation(),
            reason: format!("`{repo_name}` is not an owner/name repository"),
        });
    }
    let repo = Repo {
        forge,
        api: &github.api,
        repo: repo_name,
        auth: auth(forge, github, repo_name).await?,
    };
    match call {
        Call::Comment {
            number,
            marker,
            body,
            ..
        } => comment(&repo, *number, marker, body).await,
        Call::Status { .. } => status(&repo, call).await,
        Call::Supersede {
            head, successor, ..
        } => supersede(&repo, repo_name, head, successor).await,
        Call::Deployment { .. } => deployment(&repo, call).await,
        Call::PullRequest {
            head,
            base,
            title,
            body,
            auto_merge,
            ..
        } => {
            let (changed, node) = pull_request(&repo, repo_name, (head, base), title, body).await?;
            match node {
                Some(id) if *auto_merge => {
                    Ok(enable_auto_merge(&repo, github, &id).await? || changed)
                }
                _ => Ok(changed),
            }
        }
        Call::Retire {
            environment,
            task,
            keep,
            ..
        } => retire(&repo, environment, task, keep.as_deref(), None).await,
        Call::Notify { .. } => Ok(false),
    }
}

/// The newest status of the call's context on its commit is as the call wants it.
async fn status(repo: &Repo<'_>, call: &Call) -> Result<bool, Error> {
    let Call::Status {
        sha,
        context,
        state,
        description,
        target_url,
        ..
    } = call
    else {
        return Ok(false);
    };
    let current = repo
        .call(
            "status.get",
            Method::GET,
            &format!("/commits/{sha}/status?per_page=100"),
            None,
        )
        .await?;
    let description = short(description);
    let same = current["statuses"].as_array().is_some_and(|all| {
        all.iter().any(|s| {
            s["context"] == context.as_str()
                && s["state"] == state.github()
                && s["description"] == description.as_str()
                && s["target_url"].as_str() == target_url.as_deref()
        })
    });
    if same {
        return Ok(false);
    }
    let mut body = json!({"state": state.github(), "context": context, "description": description});
    if let Some(url) = target_url {
        body["target_url"] = json!(url);
    }
    repo.call(
        "status.create",
        Method::POST,
        &format!("/statuses/{sha}"),
        Some(&body),
    )
    .await?;
    Ok(true)
}

/// `owner/name`, each part of the characters GitHub allows.
pub(crate) fn valid_repo(repo: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    matches!(repo.split_once('/'), Some((owner, name)) if ok(owner) && ok(name))
}

/// The credential for `repo`: the token, or the app's installation token for its owner.
pub(crate) async fn auth(
    forge: &Forge,
    github: &GitHub,
    repo: &str,
) -> Result<(reqwest::header::HeaderName, reqwest::header::HeaderValue), Error> {
    let app = match &github.auth {
        GitHubAuth::Token(token) => return credential("authorization", "Bearer ", token),
        GitHubAuth::App(app) => app,
    };
    let owner = repo.split('/').next().unwrap_or_default();
    let now = jiff::Timestamp::now().as_second();
    if let Some(token) = forge.tokens.get(owner, now) {
        return credential("authorization", "Bearer ", &token);
    }
    let jwt = credential("authorization", "Bearer ", &app.jwt(now))?;
    let request = |method: Method, url: String| {
        forge
            .http
            .request(method, url)
            .header(jwt.0.clone(), jwt.1.clone())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    };
    let installation = send(
        forge,
        "github",
        "app.installation",
        request(
            Method::GET,
            format!("{}/repos/{repo}/installation", github.api),
        ),
    )
    .await?;
    let installation = id(&installation, "app.installation")?;
    let url = format!(
        "{}/app/installations/{installation}/access_tokens",
        github.api
    );
    let answer = send(forge, "github", "app.token", request(Method::POST, url)).await?;
    let token = answer["token"].as_str().ok_or_else(|| Error::Answer {
        operation: "app.token",
        reason: "the answer has no `token`".into(),
    })?;
    let expires = answer["expires_at"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map_or(now + 3600, jiff::Timestamp::as_second);
    let token = secrecy::SecretString::from(token.to_string());
    forge.tokens.put(owner, token.clone(), expires);
    credential("authorization", "Bearer ", &token)
}

/// The marked comment on pull request `number` says `body`.
async fn comment(repo: &Repo<'_>, number: u64, marker: &str, body: &str) -> Result<bool, Error> {
    let mark = marker_line(marker);
    let full = format!("{body}\n\n{mark}");
    let me = identity(repo).await?;
    let own = move |c: &Value| match &me {
        Identity::App(id) => c["performed_via_github_app"]["id"].as_u64() == Some(*id),
        Identity::User(login) => c["user"]["login"].as_str() == Some(login.as_str()),
    };
    let found = find_marked(&mark, &own, |page| async move {
        let path = format!("/issues/{number}/comments?per_page=100&page={page}");
        array(
            repo.call("comment.list", Method::GET, &path, None).await?,
            "comment.list",
        )
    })
    .await?;
    let payload = json!({ "body": full });
    match found {
        Some((_, text)) if text == full => Ok(false),
        Some((comment, _)) => {
            repo.call(
                "comment.update",
                Method::PATCH,
                &format!("/issues/comments/{comment}"),
                Some(&payload),
            )
            .await?;
            Ok(true)
        }
        None => {
            repo.call(
                "comment.create",
                Method::POST,
                &format!("/issues/{number}/comments"),
                Some(&payload),
            )
            .await?;
            Ok(true)
        }
    }
}

/// Who glueops writes as: its GitHub App, or the token's user.
enum Identity {
    App(u64),
    User(String),
}

/// Glueops' identity on this forge (the token's login asked once per client).
async fn identity(repo: &Repo<'_>) -> Result<Identity, Error> {
    if let Some(GitHubAuth::App(app)) = repo.forge.github.as_ref().map(|g| &g.auth) {
        return Ok(Identity::App(app.id));
    }
    if let Some(login) = repo.forge.login(crate::Host::GitHub) {
        return Ok(Identity::User(login));
    }
    let request = repo
        .forge
        .http
        .get(format!("{}/user", repo.api))
        .header(repo.auth.0.clone(), repo.auth.1.clone())
        .header("accept", "application/vnd.github+json");
    let me = send(repo.forge, "github", "user.get", request).await?;
    let login = me["login"].as_str().ok_or_else(|| Error::Answer {
        operation: "user.get",
        reason: "the answer has no `login`".into(),
    })?;
    repo.forge.remember_login(crate::Host::GitHub, login);
    Ok(Identity::User(login.to_string()))
}

/// The pull request from `head` into `base` is open with `title` and `body`: whether it
/// changed, and its node id when auto-merge is not on yet.
async fn pull_request(
    repo: &Repo<'_>,
    name: &str,
    (head, base): (&str, &str),
    title: &str,
    body: &str,
) -> Result<(bool, Option<String>), Error> {
    let owner = name.split('/').next().unwrap_or_default();
    let query = format!(
        "/pulls?head={}&state=open&per_page=10",
        encode(&format!("{owner}:{head}"))
    );
    let open = array(
        repo.call("pull.list", Method::GET, &query, None).await?,
        "pull.list",
    )?;
    let waiting = |p: &Value| {
        p["auto_merge"]
            .is_null()
            .then(|| p["node_id"].as_str().map(str::to_string))
            .flatten()
    };
    match open.first() {
        Some(p) if p["title"] == title && p["body"] == body => Ok((false, waiting(p))),
        Some(p) => {
            let number = p["number"].as_u64().ok_or_else(|| Error::Answer {
                operation: "pull.list",
                reason: "the answer has no `number`".into(),
            })?;
            let edit = json!({ "title": title, "body": body });
            repo.call(
                "pull.update",
                Method::PATCH,
                &format!("/pulls/{number}"),
                Some(&edit),
            )
            .await?;
            Ok((true, waiting(p)))
        }
        None => {
            let new = json!({ "title": title, "head": head, "base": base, "body": body });
            let created = repo
                .call("pull.create", Method::POST, "/pulls", Some(&new))
                .await?;
            Ok((true, waiting(&created)))
        }
    }
}

/// The open pull requests from `head` (newest first).
async fn open_from(repo: &Repo<'_>, name: &str, head: &str) -> Result<Vec<Value>, Error> {
    let owner = name.split('/').next().unwrap_or_default();
    let query = format!(
        "/pulls?head={}&state=open&per_page=10",
        encode(&format!("{owner}:{head}"))
    );
    array(
        repo.call("pull.list", Method::GET, &query, None).await?,
        "pull.list",
    )
}

/// Closes the open pull request from `head`, saying the one from `successor` replaces it.
async fn supersede(
    repo: &Repo<'_>,
    name: &str,
    head: &str,
    successor: &str,
) -> Result<bool, Error> {
    let Some(old) = open_from(repo, name, head).await?.first().cloned() else {
        return Ok(false);
    };
    let number = old["number"].as_u64().ok_or_else(|| Error::Answer {
        operation: "pull.list",
        reason: "the answer has no `number`".into(),
    })?;
    let next = open_from(repo, name, successor)
        .await?
        .first()
        .and_then(|p| p["number"].as_u64())
        .map_or_else(
            || format!("`{successor}`"),
            |n| format!("#{n} (`{successor}`)"),
        );
    let note =
        json!({ "body": format!("Superseded by {next}: glueops proposes this change there now.") });
    repo.call(
        "comment.create",
        Method::POST,
        &format!("/issues/{number}/comments"),
        Some(&note),
    )
    .await?;
    repo.call(
        "pull.close",
        Method::PATCH,
        &format!("/pulls/{number}"),
        Some(&json!({ "state": "closed" })),
    )
    .await?;
    Ok(true)
}

/// Turns on auto-merge of the pull request `node` (GraphQL: the REST API has no call for it).
async fn enable_auto_merge(repo: &Repo<'_>, github: &GitHub, node: &str) -> Result<bool, Error> {
    let url = match github.api.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{}/graphql", github.api),
    };
    let query = json!({
        "query": "mutation($id: ID!) { enablePullRequestAutoMerge(input: {pullRequestId: $id}) { clientMutationId } }",
        "variables": { "id": node },
    });
    let request = repo
        .forge
        .http
        .post(url)
        .header(repo.auth.0.clone(), repo.auth.1.clone())
        .json(&query);
    let answer = send(repo.forge, "github", "pull.auto_merge", request).await?;
    if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
        return Err(Error::Status {
            operation: "pull.auto_merge",
            status: 422,
            message: errors[0]["message"]
                .as_str()
                .unwrap_or("GraphQL error")
                .to_string(),
            retry_after: None,
        });
    }
    Ok(true)
}

/// The deployment exists with `state` as its latest status.
async fn deployment(repo: &Repo<'_>, call: &Call) -> Result<bool, Error> {
    let Call::Deployment {
        sha,
        environment,
        task,
        transient,
        state,
        url,
        description,
        payload,
        ..
    } = call
    else {
        return Ok(false);
    };
    let query = format!(
        "/deployments?sha={}&environment={}&task={}&per_page=100",
        encode(sha),
        encode(environment),
        encode(task)
    );
    let existing = array(
        repo.call("deployment.list", Method::GET, &query, None)
            .await?,
        "deployment.list",
    )?;
    let found = existing.iter().find(|d| {
        d["sha"] == sha.as_str()
            && d["environment"] == environment.as_str()
            && d["task"] == task.as_str()
    });
    let mut changed = false;
    let deployment = match found {
        Some(d) => id(d, "deployment.list")?,
        None => {
            let body = json!({
                "ref": sha,
                "task": task,
                "auto_merge": false,
                "required_contexts": [],
                // GitHub takes an object or a string.
                "payload": if payload.is_null() { json!({}) } else { payload.clone() },
                "environment": environment,
                "description": short(description),
                "transient_environment": transient,
                "production_environment": false,
            });
            let created = repo
                .call(
                    "deployment.create",
                    Method::POST,
                    "/deployments",
                    Some(&body),
                )
                .await?;
            changed = true;
            id(&created, "deployment.create")?
        }
    };
    changed |= deployment_status(repo, deployment, *state, url.as_deref(), description).await?;
    if *state == DeploymentState::Success {
        changed |= retire(repo, environment, task, Some(sha), Some(deployment)).await?;
    }
    Ok(changed)
}

/// Deployment `id`'s latest status is `state`.
async fn deployment_status(
    repo: &Repo<'_>,
    deployment: u64,
    state: DeploymentState,
    url: Option<&str>,
    description: &str,
) -> Result<bool, Error> {
    let path = format!("/deployments/{deployment}/statuses");
    let latest = array(
        repo.call(
            "deployment_status.list",
            Method::GET,
            &format!("{path}?per_page=1"),
            None,
        )
        .await?,
        "deployment_status.list",
    )?;
    match latest.first() {
        Some(s) if s["state"] == state.github() => return Ok(false),
        // `in_progress` only starts a deployment: it never moves one back from where it got.
        Some(_) if state == DeploymentState::InProgress => return Ok(false),
        _ => {}
    }
    let mut body = json!({
        "state": state.github(),
        "description": short(description),
        // Other apps share the environment: glueops retires only this app's deployments.
        "auto_inactive": false,
    });
    if let Some(url) = url {
        body["environment_url"] = json!(url);
    }
    repo.call("deployment_status.create", Method::POST, &path, Some(&body))
        .await?;
    Ok(true)
}

/// The recent deployments of `environment` for `task` other than `keep` (a commit) and
/// `keep_id` are inactive.
async fn retire(
    repo: &Repo<'_>,
    environment: &str,
    task: &str,
    keep: Option<&str>,
    keep_id: Option<u64>,
) -> Result<bool, Error> {
    let query = format!(
        "/deployments?environment={}&task={}&per_page={RECENT}",
        encode(environment),
        encode(task)
    );
    let recent = array(
        repo.call("deployment.list", Method::GET, &query, None)
            .await?,
        "deployment.list",
    )?;
    let mut changed = false;
    for d in recent {
        let deployment = id(&d, "deployment.list")?;
        if Some(deployment) == keep_id || keep.is_some_and(|k| d["sha"] == k) {
            continue;
        }
        changed |= deployment_status(
            repo,
            deployment,
            DeploymentState::Inactive,
            None,
            "replaced or removed by glueops",
        )
        .await?;
    }
    Ok(changed)
}

/// A query value, percent-encoded.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owner_name_repositories_are_called() {
        assert!(valid_repo("acme/app.js"));
        for bad in ["acme", "acme/../x", "acme/a b", "/x", "acme/x/y", "acme/?"] {
            assert!(!valid_repo(bad), "{bad}");
        }
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("deploy:web app"), "deploy%3Aweb%20app");
        assert_eq!(encode("app-pr-5"), "app-pr-5");
    }
}

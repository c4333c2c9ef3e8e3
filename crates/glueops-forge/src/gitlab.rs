//! Calls on GitLab's REST API (v4): merge-request notes, commit statuses, deployments and
//! environments; each looked up before it is written. GitLab deployments have no task, so a
//! deployment of an app to a shared environment goes to the environment `<env>/<app>` (a
//! folder of environments in GitLab's view); a preview's environment is its own.

use reqwest::Method;
use serde_json::{Value, json};

use crate::call::{marker_line, short};
use crate::github::encode;
use crate::http::{array, credential, find_marked, id, send};
use crate::{Call, DeploymentState, Error, Forge, GitLab};

struct Project<'a> {
    forge: &'a Forge,
    base: String,
    auth: (reqwest::header::HeaderName, reqwest::header::HeaderValue),
}

impl Project<'_> {
    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let mut request = self
            .forge
            .http
            .request(method, format!("{}{path}", self.base))
            .header(self.auth.0.clone(), self.auth.1.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        send(self.forge, "gitlab", operation, request).await
    }
}

pub(crate) async fn apply(forge: &Forge, gitlab: &GitLab, call: &Call) -> Result<bool, Error> {
    let Some(repo) = call.repo() else {
        return Ok(false);
    };
    let project = Project {
        forge,
        base: format!("{}/projects/{}", gitlab.api, encode(repo)),
        auth: credential("private-token", "", &gitlab.token)?,
    };
    match call {
        Call::Comment {
            number,
            marker,
            body,
            ..
        } => note(&project, *number, marker, body).await,
        Call::Status { .. } => status(&project, call).await,
        Call::Deployment { .. } => deployment(&project, call).await,
        Call::Supersede {
            head, successor, ..
        } => supersede(&project, head, successor).await,
        Call::PullRequest {
            head,
            base,
            title,
            body,
            auto_merge,
            ..
        } => merge_request(&project, (head, base), (title, body), *auto_merge).await,
        Call::Retire {
            environment,
            task,
            keep,
            ..
        } => {
            // A rollback: GitLab shows the newest successful deployment as the
            // environment's, so the older ones need no change.
            if keep.is_some() {
                return Ok(false);
            }
            stop(&project, &environment_name(environment, task, true)).await
        }
        Call::Notify { .. } => Ok(false),
    }
}

/// The newest status of the call's name on its commit is as the call wants it.
async fn status(project: &Project<'_>, call: &Call) -> Result<bool, Error> {
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
    let path = format!(
        "/repository/commits/{sha}/statuses?name={}&per_page=100",
        encode(context)
    );
    let current = array(
        project.call("status.get", Method::GET, &path, None).await?,
        "status.get",
    )?;
    let description = short(description);
    // The newest status of the name is first.
    let latest = current
        .iter()
        .filter(|s| s["name"] == context.as_str())
        .max_by_key(|s| s["id"].as_u64().unwrap_or(0));
    if latest.is_some_and(|s| {
        s["status"] == state.gitlab()
            && s["description"] == description.as_str()
            && s["target_url"].as_str() == target_url.as_deref()
    }) {
        return Ok(false);
    }
    let mut body = json!({"state": state.gitlab(), "name": context, "description": description});
    if let Some(url) = target_url {
        body["target_url"] = json!(url);
    }
    project
        .call(
            "status.create",
            Method::POST,
            &format!("/statuses/{sha}"),
            Some(&body),
        )
        .await?;
    Ok(true)
}

/// The token's user (asked once per client): whose notes are glueops'.
async fn username(project: &Project<'_>) -> Result<String, Error> {
    if let Some(name) = project.forge.login(crate::Host::GitLab) {
        return Ok(name);
    }
    let api = project.base.split("/projects/").next().unwrap_or_default();
    let request = project
        .forge
        .http
        .get(format!("{api}/user"))
        .header(project.auth.0.clone(), project.auth.1.clone());
    let me = send(project.forge, "gitlab", "user.get", request).await?;
    let name = me["username"].as_str().ok_or_else(|| Error::Answer {
        operation: "user.get",
        reason: "the answer has no `username`".into(),
    })?;
    project.forge.remember_login(crate::Host::GitLab, name);
    Ok(name.to_string())
}

/// The GitLab environment of a deployment: a preview's own, else `<env>/<app>`.
fn environment_name(environment: &str, task: &str, transient: bool) -> String {
    if transient {
        return environment.to_string();
    }
    let app = task.strip_prefix("deploy:").unwrap_or(task);
    format!("{environment}/{app}")
}

async fn note(project: &Project<'_>, iid: u64, marker: &str, body: &str) -> Result<bool, Error> {
    let mark = marker_line(marker);
    let full = format!("{body}\n\n{mark}");
    let me = username(project).await?;
    let own = move |n: &Value| n["author"]["username"].as_str() == Some(me.as_str());
    let found = find_marked(&mark, &own, |page| async move {
        let path = format!("/merge_requests/{iid}/notes?sort=asc&per_page=100&page={page}");
        array(
            project
                .call("comment.list", Method::GET, &path, None)
                .await?,
            "comment.list",
        )
    })
    .await?;
    let payload = json!({ "body": full });
    match found {
        Some((_, text)) if text == full => Ok(false),
        Some((note, _)) => {
            project
                .call(
                    "comment.update",
                    Method::PUT,
                    &format!("/merge_requests/{iid}/notes/{note}"),
                    Some(&payload),
                )
                .await?;
            Ok(true)
        }
        None => {
            project
                .call(
                    "comment.create",
                    Method::POST,
                    &format!("/merge_requests/{iid}/notes"),
                    Some(&payload),
                )
                .await?;
            Ok(true)
        }
    }
}

/// The merge request from `head` into `base` is open with `title` and `body`, set to merge
/// when its pipeline succeeds when `auto_merge`.
async fn merge_request(
    project: &Project<'_>,
    (head, base): (&str, &str),
    (title, body): (&str, &str),
    auto_merge: bool,
) -> Result<bool, Error> {
    let query = format!(
        "/merge_requests?source_branch={}&state=opened",
        encode(head)
    );
    let open = array(
        project.call("pull.list", Method::GET, &query, None).await?,
        "pull.list",
    )?;
    let (mut changed, mr) = match open.first() {
        Some(m) if m["title"] == title && m["description"] == body => (false, m.clone()),
        Some(m) => {
            let iid = m["iid"].as_u64().unwrap_or(0);
            let edit = json!({ "title": title, "description": body });
            let updated = project
                .call(
                    "pull.update",
                    Method::PUT,
                    &format!("/merge_requests/{iid}"),
                    Some(&edit),
                )
                .await?;
            (true, updated)
        }
        None => {
            let new = json!({ "source_branch": head, "target_branch": base, "title": title, "description": body });
            let created = project
                .call("pull.create", Method::POST, "/merge_requests", Some(&new))
                .await?;
            (true, created)
        }
    };
    if auto_merge && mr["merge_when_pipeline_succeeds"] != true {
        let iid = mr["iid"].as_u64().ok_or_else(|| Error::Answer {
            operation: "pull.auto_merge",
            reason: "the answer has no `iid`".into(),
        })?;
        project
            .call(
                "pull.auto_merge",
                Method::PUT,
                &format!("/merge_requests/{iid}/merge"),
                Some(&json!({ "merge_when_pipeline_succeeds": true })),
            )
            .await?;
        changed = true;
    }
    Ok(changed)
}

/// The open merge requests from `head`.
async fn open_from(project: &Project<'_>, head: &str) -> Result<Vec<Value>, Error> {
    let query = format!(
        "/merge_requests?source_branch={}&state=opened",
        encode(head)
    );
    array(
        project.call("pull.list", Method::GET, &query, None).await?,
        "pull.list",
    )
}

/// Closes the open merge request from `head`, saying the one from `successor` replaces it.
async fn supersede(project: &Project<'_>, head: &str, successor: &str) -> Result<bool, Error> {
    let Some(old) = open_from(project, head).await?.first().cloned() else {
        return Ok(false);
    };
    let iid = old["iid"].as_u64().ok_or_else(|| Error::Answer {
        operation: "pull.list",
        reason: "the answer has no `iid`".into(),
    })?;
    let next = open_from(project, successor)
        .await?
        .first()
        .and_then(|m| m["iid"].as_u64())
        .map_or_else(
            || format!("`{successor}`"),
            |n| format!("!{n} (`{successor}`)"),
        );
    let note =
        json!({ "body": format!("Superseded by {next}: glueops proposes this change there now.") });
    project
        .call(
            "comment.create",
            Method::POST,
            &format!("/merge_requests/{iid}/notes"),
            Some(&note),
        )
        .await?;
    project
        .call(
            "pull.close",
            Method::PUT,
            &format!("/merge_requests/{iid}"),
            Some(&json!({ "state_event": "close" })),
        )
        .await?;
    Ok(true)
}

async fn deployment(project: &Project<'_>, call: &Call) -> Result<bool, Error> {
    let Call::Deployment {
        sha,
        branch,
        environment,
        task,
        transient,
        state,
        url,
        ..
    } = call
    else {
        return Ok(false);
    };
    let name = environment_name(environment, task, *transient);
    if *state == DeploymentState::Inactive {
        return stop(project, &name).await;
    }
    let query = format!(
        "/deployments?environment={}&order_by=id&sort=desc&per_page=100",
        encode(&name)
    );
    let existing = array(
        project
            .call("deployment.list", Method::GET, &query, None)
            .await?,
        "deployment.list",
    )?;
    let found = existing.iter().find(|d| d["sha"] == sha.as_str());
    let mut changed = false;
    match found {
        Some(d) if d["status"] == state.gitlab() => {}
        // `running` only starts a deployment: it never moves one back.
        Some(_) if *state == DeploymentState::InProgress => {}
        Some(d) => {
            let deployment = id(d, "deployment.list")?;
            project
                .call(
                    "deployment.update",
                    Method::PUT,
                    &format!("/deployments/{deployment}"),
                    Some(&json!({"status": state.gitlab()})),
                )
                .await?;
            changed = true;
        }
        None => {
            let body = json!({
                "environment": name,
                "sha": sha,
                "ref": branch.as_deref().unwrap_or(sha),
                "tag": false,
                "status": state.gitlab(),
            });
            project
                .call(
                    "deployment.create",
                    Method::POST,
                    "/deployments",
                    Some(&body),
                )
                .await?;
            changed = true;
        }
    }
    if let Some(url) = url {
        changed |= external_url(project, &name, url).await?;
    }
    Ok(changed)
}

/// The environment `name` (when it exists).
async fn environment(project: &Project<'_>, name: &str) -> Result<Option<Value>, Error> {
    let found = array(
        project
            .call(
                "environment.list",
                Method::GET,
                &format!("/environments?name={}", encode(name)),
                None,
            )
            .await?,
        "environment.list",
    )?;
    Ok(found.into_iter().find(|e| e["name"] == name))
}

async fn external_url(project: &Project<'_>, name: &str, url: &str) -> Result<bool, Error> {
    let Some(env) = environment(project, name).await? else {
        return Ok(false);
    };
    if env["external_url"] == url {
        return Ok(false);
    }
    let env_id = id(&env, "environment.list")?;
    project
        .call(
            "environment.update",
            Method::PUT,
            &format!("/environments/{env_id}"),
            Some(&json!({"external_url": url})),
        )
        .await?;
    Ok(true)
}

/// The environment `name` is stopped (a closed preview).
async fn stop(project: &Project<'_>, name: &str) -> Result<bool, Error> {
    let Some(env) = environment(project, name).await? else {
        return Ok(false);
    };
    if env["state"] == "stopped" {
        return Ok(false);
    }
    let env_id = id(&env, "environment.list")?;
    project
        .call(
            "environment.stop",
            Method::POST,
            &format!("/environments/{env_id}/stop"),
            None,
        )
        .await?;
    Ok(true)
}

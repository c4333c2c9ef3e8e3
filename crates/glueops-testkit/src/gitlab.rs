//! A GitLab stand-in on 127.0.0.1. GitLab publishes no complete OpenAPI description, so every
//! request is checked against the request shapes of GitLab's REST API docs (v4) for the
//! resources glueops uses — merge-request notes, commit statuses, deployments and
//! environments: the path and method exist, the project is an id or an encoded path, the
//! required fields are there with the documented types and values, no unknown field is sent,
//! and `PRIVATE-TOKEN` and `User-Agent` are present.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::forge_http::{Answer, Handler, HttpServer, Request, decode};

/// A merge-request note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Its id.
    pub id: u64,
    /// The project path.
    pub project: String,
    /// The merge request iid.
    pub iid: u64,
    /// The body.
    pub body: String,
    /// Its author's username (`glueops-ci`, the test token's user, or whoever a test plants).
    pub author: String,
}

/// The username of the user the test token belongs to.
pub const TOKEN_USER: &str = "glueops-ci";

/// A commit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Its id.
    pub id: u64,
    /// The project path.
    pub project: String,
    /// The commit.
    pub sha: String,
    /// Its name (glueops' context).
    pub name: String,
    /// `pending`, `success`, `failed`, ...
    pub state: String,
    /// The description.
    pub description: String,
    /// Its link.
    pub target_url: Option<String>,
}

/// A deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Its id.
    pub id: u64,
    /// The project path.
    pub project: String,
    /// The environment's name.
    pub environment: String,
    /// The commit.
    pub sha: String,
    /// The branch.
    pub git_ref: String,
    /// `running`, `success`, ...
    pub status: String,
}

/// A merge request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRequest {
    /// Its iid.
    pub iid: u64,
    /// The project path.
    pub project: String,
    /// The branch with the change.
    pub source_branch: String,
    /// The branch it merges into.
    pub target_branch: String,
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// Set to merge when its pipeline succeeds.
    pub merge_when_pipeline_succeeds: bool,
}

/// An environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Its id.
    pub id: u64,
    /// The project path.
    pub project: String,
    /// Its name.
    pub name: String,
    /// `available` or `stopped`.
    pub state: String,
    /// Its URL.
    pub external_url: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    notes: Vec<Note>,
    statuses: Vec<Status>,
    deployments: Vec<Deployment>,
    environments: Vec<Environment>,
    merge_requests: Vec<MergeRequest>,
    violations: Vec<String>,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// The running stand-in.
#[derive(Debug)]
pub struct GitLabForge {
    server: HttpServer,
    state: Arc<Mutex<State>>,
}

impl GitLabForge {
    /// Starts the stand-in accepting `token`.
    ///
    /// # Panics
    /// When no port of 127.0.0.1 can be listened on.
    #[expect(
        clippy::panic,
        reason = "test support: a stand-in that cannot start fails the test that needs it"
    )]
    pub fn start(token: &str) -> GitLabForge {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let token = token.to_string();
        let handler: Handler = Arc::new(move |r: &Request| {
            let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
            match check(r, &token) {
                Err(v) => {
                    s.violations.push(v.clone());
                    Answer::json(400, json!({ "message": v }))
                }
                Ok(route) => answer(&mut s, &route, r),
            }
        });
        let server = HttpServer::start(handler)
            .unwrap_or_else(|e| panic!("cannot start the GitLab stand-in: {e}"));
        GitLabForge { server, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The API root (`http://127.0.0.1:PORT/api/v4`), as `--gitlab-api` takes it.
    pub fn url(&self) -> String {
        format!("{}/api/v4", self.server.url())
    }

    /// The address listened on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// Requests that broke the documented shapes.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// The notes, oldest first.
    pub fn notes(&self) -> Vec<Note> {
        self.lock().notes.clone()
    }

    /// The commit statuses, oldest first.
    pub fn statuses(&self) -> Vec<Status> {
        self.lock().statuses.clone()
    }

    /// The deployments, oldest first.
    pub fn deployments(&self) -> Vec<Deployment> {
        self.lock().deployments.clone()
    }

    /// A note someone else wrote (`username`), e.g. one that pastes glueops' marker.
    pub fn plant_note(&self, project: &str, iid: u64, username: &str, body: &str) {
        let mut s = self.lock();
        let id = s.id();
        s.notes.push(Note {
            id,
            project: project.into(),
            iid,
            body: body.into(),
            author: username.into(),
        });
    }

    /// The merge requests.
    pub fn merge_requests(&self) -> Vec<MergeRequest> {
        self.lock().merge_requests.clone()
    }

    /// The environments.
    pub fn environments(&self) -> Vec<Environment> {
        self.lock().environments.clone()
    }
}

/// A documented request: its name, project, and the ids in its path.
struct Route {
    name: &'static str,
    project: String,
    ids: Vec<String>,
}

/// (method, path after `/projects/:id`, name, query names, body fields: (name, type,
/// required, allowed values)).
type Field = (&'static str, &'static str, bool, &'static [&'static str]);
const STATES: &[&str] = &[
    "pending", "running", "success", "failed", "canceled", "skipped",
];
const DEPLOYMENT_STATES: &[&str] = &["running", "success", "failed", "canceled"];
const PAGES: &[&str] = &["per_page", "page"];

#[expect(clippy::type_complexity, reason = "a table of the documented requests")]
const DOCUMENTED: &[(&str, &str, &str, &[&str], &[Field])] = &[
    (
        "GET",
        "merge_requests",
        "mrs.list",
        &[
            "source_branch",
            "target_branch",
            "state",
            "order_by",
            "sort",
            "per_page",
            "page",
        ],
        &[],
    ),
    (
        "POST",
        "merge_requests",
        "mrs.create",
        &[],
        &[
            ("source_branch", "string", true, &[]),
            ("target_branch", "string", true, &[]),
            ("title", "string", true, &[]),
            ("description", "string", false, &[]),
            ("remove_source_branch", "boolean", false, &[]),
            ("squash", "boolean", false, &[]),
        ],
    ),
    (
        "PUT",
        "merge_requests/:iid",
        "mrs.update",
        &[],
        &[
            ("title", "string", false, &[]),
            ("description", "string", false, &[]),
            ("state_event", "string", false, &["close", "reopen"]),
            ("target_branch", "string", false, &[]),
        ],
    ),
    (
        "PUT",
        "merge_requests/:iid/merge",
        "mrs.merge",
        &[],
        &[
            ("merge_when_pipeline_succeeds", "boolean", false, &[]),
            ("auto_merge", "boolean", false, &[]),
            ("should_remove_source_branch", "boolean", false, &[]),
            ("sha", "string", false, &[]),
        ],
    ),
    (
        "GET",
        "merge_requests/:iid/notes",
        "notes.list",
        &["sort", "order_by", "per_page", "page"],
        &[],
    ),
    (
        "POST",
        "merge_requests/:iid/notes",
        "notes.create",
        &[],
        &[
            ("body", "string", true, &[]),
            ("created_at", "string", false, &[]),
            ("internal", "boolean", false, &[]),
        ],
    ),
    (
        "PUT",
        "merge_requests/:iid/notes/:note_id",
        "notes.update",
        &[],
        &[("body", "string", true, &[])],
    ),
    (
        "GET",
        "repository/commits/:sha/statuses",
        "statuses.list",
        &[
            "ref",
            "stage",
            "name",
            "pipeline_id",
            "order_by",
            "sort",
            "all",
            "per_page",
            "page",
        ],
        &[],
    ),
    (
        "POST",
        "statuses/:sha",
        "statuses.create",
        &[],
        &[
            ("state", "string", true, STATES),
            ("ref", "string", false, &[]),
            ("name", "string", false, &[]),
            ("context", "string", false, &[]),
            ("target_url", "string", false, &[]),
            ("description", "string", false, &[]),
            ("coverage", "number", false, &[]),
            ("pipeline_id", "integer", false, &[]),
        ],
    ),
    (
        "GET",
        "deployments",
        "deployments.list",
        &[
            "order_by",
            "sort",
            "updated_after",
            "updated_before",
            "finished_after",
            "finished_before",
            "environment",
            "status",
            "per_page",
            "page",
        ],
        &[],
    ),
    (
        "POST",
        "deployments",
        "deployments.create",
        &[],
        &[
            ("environment", "string", true, &[]),
            ("sha", "string", true, &[]),
            ("ref", "string", true, &[]),
            ("tag", "boolean", true, &[]),
            ("status", "string", true, DEPLOYMENT_STATES),
        ],
    ),
    (
        "PUT",
        "deployments/:deployment_id",
        "deployments.update",
        &[],
        &[("status", "string", true, DEPLOYMENT_STATES)],
    ),
    (
        "GET",
        "environments",
        "environments.list",
        &["name", "search", "states", "per_page", "page"],
        &[],
    ),
    (
        "PUT",
        "environments/:environment_id",
        "environments.update",
        &[],
        &[
            ("name", "string", false, &[]),
            ("external_url", "string", false, &[]),
            ("tier", "string", false, &[]),
        ],
    ),
    (
        "POST",
        "environments/:environment_id/stop",
        "environments.stop",
        &[],
        &[("force", "boolean", false, &[])],
    ),
];

fn check(r: &Request, token: &str) -> Result<Route, String> {
    let what = format!("{} {}", r.method, r.path);
    if r.header("user-agent").is_none_or(str::is_empty) {
        return Err(format!("{what}: no User-Agent"));
    }
    if r.header("private-token") != Some(token) {
        return Err(format!("{what}: no PRIVATE-TOKEN, or not the token"));
    }
    if r.path == "/api/v4/user" && r.method == "GET" {
        return Ok(Route {
            name: "user.get",
            project: String::new(),
            ids: Vec::new(),
        });
    }
    let rest = r
        .path
        .strip_prefix("/api/v4/projects/")
        .ok_or_else(|| format!("{what}: not under /api/v4/projects/"))?;
    let (id, tail) = rest
        .split_once('/')
        .ok_or_else(|| format!("{what}: no resource"))?;
    let project = decode(id);
    if !(project.contains('/') || project.bytes().all(|b| b.is_ascii_digit())) || id.contains('/') {
        return Err(format!(
            "{what}: the project is neither an id nor a URL-encoded path"
        ));
    }
    let segments: Vec<&str> = tail.split('/').collect();
    for (method, template, name, query, fields) in DOCUMENTED {
        let t: Vec<&str> = template.split('/').collect();
        if *method != r.method || t.len() != segments.len() {
            continue;
        }
        let mut ids = Vec::new();
        let fits = t.iter().zip(&segments).all(|(a, b)| {
            if a.starts_with(':') {
                ids.push(decode(b));
                !b.is_empty()
            } else {
                a == b
            }
        });
        if !fits {
            continue;
        }
        for (k, _) in &r.query {
            if !query.contains(&k.as_str()) && !PAGES.contains(&k.as_str()) {
                return Err(format!(
                    "{what} ({name}): no query parameter `{k}` in the docs"
                ));
            }
        }
        check_body(&what, name, fields, &r.body)?;
        return Ok(Route { name, project, ids });
    }
    Err(format!(
        "{what}: not a documented request of the resources glueops uses"
    ))
}

fn check_body(what: &str, name: &str, fields: &[Field], body: &[u8]) -> Result<(), String> {
    if body.is_empty() {
        return match fields.iter().find(|f| f.2) {
            Some(f) => Err(format!("{what} ({name}): `{}` is required", f.0)),
            None => Ok(()),
        };
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("{what} ({name}): not JSON: {e}"))?;
    let object = v
        .as_object()
        .ok_or_else(|| format!("{what} ({name}): not an object"))?;
    for (k, x) in object {
        let Some((_, ty, _, allowed)) = fields.iter().find(|f| f.0 == k) else {
            return Err(format!(
                "{what} ({name}): `{k}` is not a documented attribute"
            ));
        };
        let typed = match *ty {
            "string" => x.is_string(),
            "boolean" => x.is_boolean(),
            "integer" => x.is_u64(),
            _ => x.is_number(),
        };
        if !typed {
            return Err(format!("{what} ({name}): `{k}` must be a {ty}"));
        }
        if !allowed.is_empty() && !x.as_str().is_some_and(|s| allowed.contains(&s)) {
            return Err(format!("{what} ({name}): `{k}` must be one of {allowed:?}"));
        }
    }
    match fields.iter().find(|f| f.2 && !object.contains_key(f.0)) {
        Some(f) => Err(format!("{what} ({name}): `{}` is required", f.0)),
        None => Ok(()),
    }
}

fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

fn text(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

fn answer(s: &mut State, route: &Route, r: &Request) -> Answer {
    match route.name.split('.').next() {
        Some("user") => Answer::json(200, json!({"id": 1, "username": TOKEN_USER})),
        Some("notes") => notes(s, route, r),
        Some("mrs") => merge_requests(s, route, r),
        Some("statuses") => statuses(s, route, r),
        Some("deployments") => deployments(s, route, r),
        _ => environments(s, route, r),
    }
}

fn mr_json(m: &MergeRequest) -> Value {
    json!({"iid": m.iid, "title": m.title, "description": m.description, "source_branch": m.source_branch,
           "target_branch": m.target_branch, "state": "opened", "merge_when_pipeline_succeeds": m.merge_when_pipeline_succeeds})
}

fn merge_requests(s: &mut State, route: &Route, r: &Request) -> Answer {
    let iid = id_at(route, 0);
    let p = &route.project;
    let b = body(r);
    match route.name {
        "mrs.list" => Answer::json(
            200,
            Value::Array(
                s.merge_requests
                    .iter()
                    .filter(|m| {
                        &m.project == p
                            && r.param("source_branch")
                                .is_none_or(|x| x == m.source_branch)
                    })
                    .map(mr_json)
                    .collect(),
            ),
        ),
        "mrs.create" => {
            let m = MergeRequest {
                iid: s.id(),
                project: p.clone(),
                source_branch: text(&b, "source_branch"),
                target_branch: text(&b, "target_branch"),
                title: text(&b, "title"),
                description: text(&b, "description"),
                merge_when_pipeline_succeeds: false,
            };
            let out = mr_json(&m);
            s.merge_requests.push(m);
            Answer::json(201, out)
        }
        _ => match s
            .merge_requests
            .iter_mut()
            .find(|m| &m.project == p && m.iid == iid)
        {
            Some(m) if route.name == "mrs.merge" => {
                m.merge_when_pipeline_succeeds =
                    b["merge_when_pipeline_succeeds"] == true || b["auto_merge"] == true;
                Answer::json(200, mr_json(m))
            }
            Some(m) => {
                if let Some(t) = b["title"].as_str() {
                    m.title = t.to_string();
                }
                if let Some(t) = b["description"].as_str() {
                    m.description = t.to_string();
                }
                Answer::json(200, mr_json(m))
            }
            None => not_found(),
        },
    }
}

fn id_at(route: &Route, i: usize) -> u64 {
    route
        .ids
        .get(i)
        .and_then(|x| x.parse::<u64>().ok())
        .unwrap_or(0)
}

fn not_found() -> Answer {
    Answer::json(404, json!({"message": "404 Not found"}))
}

fn notes(s: &mut State, route: &Route, r: &Request) -> Answer {
    let n = |i: usize| id_at(route, i);
    let p = &route.project;
    match route.name {
        "notes.list" => {
            let v: Vec<Value> = s
                .notes
                .iter()
                .filter(|x| &x.project == p && x.iid == n(0))
                .map(|x| json!({"id": x.id, "body": x.body, "author": {"username": x.author}}))
                .collect();
            Answer::json(200, Value::Array(v))
        }
        "notes.create" => {
            let note = Note {
                id: s.id(),
                project: p.clone(),
                iid: n(0),
                body: text(&body(r), "body"),
                author: TOKEN_USER.into(),
            };
            let out = json!({"id": note.id, "body": note.body, "author": {"username": TOKEN_USER}});
            s.notes.push(note);
            Answer::json(201, out)
        }
        "notes.update" => match s
            .notes
            .iter_mut()
            .find(|x| &x.project == p && x.iid == n(0) && x.id == n(1))
        {
            Some(x) => {
                x.body = text(&body(r), "body");
                Answer::json(200, json!({"id": x.id, "body": x.body}))
            }
            None => not_found(),
        },
        _ => not_found(),
    }
}

fn statuses(s: &mut State, route: &Route, r: &Request) -> Answer {
    let p = &route.project;
    match route.name {
        "statuses.list" => {
            let sha = route.ids.first().cloned().unwrap_or_default();
            let v: Vec<Value> = s.statuses.iter().rev().filter(|x| &x.project == p && x.sha == sha && r.param("name").is_none_or(|want| want == x.name)).map(|x| json!({"id": x.id, "name": x.name, "status": x.state, "description": x.description, "target_url": x.target_url})).collect();
            Answer::json(200, Value::Array(v))
        }
        "statuses.create" => {
            let b = body(r);
            let st = Status {
                id: s.id(),
                project: p.clone(),
                sha: route.ids.first().cloned().unwrap_or_default(),
                name: b["name"].as_str().unwrap_or("default").to_string(),
                state: text(&b, "state"),
                description: text(&b, "description"),
                target_url: b["target_url"].as_str().map(str::to_string),
            };
            let out = json!({"id": st.id, "status": st.state, "name": st.name});
            s.statuses.push(st);
            Answer::json(201, out)
        }
        _ => not_found(),
    }
}

fn deployments(s: &mut State, route: &Route, r: &Request) -> Answer {
    let n = |i: usize| id_at(route, i);
    let p = &route.project;
    match route.name {
        "deployments.list" => {
            let v: Vec<Value> = s.deployments.iter().rev().filter(|x| &x.project == p && r.param("environment").is_none_or(|e| e == x.environment)).map(|x| json!({"id": x.id, "sha": x.sha, "ref": x.git_ref, "status": x.status, "environment": {"name": x.environment}})).collect();
            Answer::json(200, Value::Array(v))
        }
        "deployments.create" => {
            let b = body(r);
            let name = text(&b, "environment");
            if !s
                .environments
                .iter()
                .any(|e| &e.project == p && e.name == name)
            {
                let id = s.id();
                s.environments.push(Environment {
                    id,
                    project: p.clone(),
                    name: name.clone(),
                    state: "available".into(),
                    external_url: None,
                });
            } else if let Some(e) = s
                .environments
                .iter_mut()
                .find(|e| &e.project == p && e.name == name)
            {
                e.state = "available".into();
            }
            let d = Deployment {
                id: s.id(),
                project: p.clone(),
                environment: name,
                sha: text(&b, "sha"),
                git_ref: text(&b, "ref"),
                status: text(&b, "status"),
            };
            let out = json!({"id": d.id, "status": d.status});
            s.deployments.push(d);
            Answer::json(201, out)
        }
        "deployments.update" => match s
            .deployments
            .iter_mut()
            .find(|x| &x.project == p && x.id == n(0))
        {
            Some(x) => {
                x.status = text(&body(r), "status");
                Answer::json(200, json!({"id": x.id, "status": x.status}))
            }
            None => not_found(),
        },
        _ => not_found(),
    }
}

fn environments(s: &mut State, route: &Route, r: &Request) -> Answer {
    let n = |i: usize| id_at(route, i);
    let p = &route.project;
    match route.name {
        "environments.list" => {
            let v: Vec<Value> = s.environments.iter().filter(|e| &e.project == p && r.param("name").is_none_or(|want| want == e.name)).map(|e| json!({"id": e.id, "name": e.name, "state": e.state, "external_url": e.external_url})).collect();
            Answer::json(200, Value::Array(v))
        }
        "environments.update" => match s
            .environments
            .iter_mut()
            .find(|e| &e.project == p && e.id == n(0))
        {
            Some(e) => {
                if let Some(url) = body(r)["external_url"].as_str() {
                    e.external_url = Some(url.to_string());
                }
                Answer::json(200, json!({"id": e.id, "name": e.name}))
            }
            None => not_found(),
        },
        "environments.stop" => match s
            .environments
            .iter_mut()
            .find(|e| &e.project == p && e.id == n(0))
        {
            Some(e) => {
                e.state = "stopped".into();
                Answer::json(200, json!({"id": e.id, "state": e.state}))
            }
            None => not_found(),
        },
        other => Answer::json(501, json!({"message": format!("no state for {other}")})),
    }
}

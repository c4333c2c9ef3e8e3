//! A GitHub stand-in on 127.0.0.1 that checks **every request against GitHub's official
//! OpenAPI description** (npm `@octokit/openapi`, `generated/api.github.com.json`): the
//! operation exists, its query names are the operation's parameters, its JSON body is valid
//! against the operation's schema, and `Authorization` and `User-Agent` are present. It keeps
//! issue comments, commit statuses, deployments and their statuses, signs in GitHub Apps
//! (JWTs verified with the public half of [`TEST_APP_KEY`]), and can answer errors for a
//! while (an outage, a rate limit).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::forge_http::{Answer, Handler, HttpServer, Request};
use crate::github_spec::Spec;
use crate::github_state::View;
pub use crate::github_state::{
    CheckRun, Comment, Deployment, INSTALLATION, Pull, Status, TEST_APP_ID, TOKEN_USER,
};

/// The private key of the test GitHub App (PKCS#1 PEM; see `fixtures/SOURCES.md`).
pub const TEST_APP_KEY: &str = include_str!("../fixtures/github-app-test-key.pem");
/// One request as answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// The OpenAPI operation id (empty when none matched).
    pub operation: String,
    /// The status answered.
    pub status: u16,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    comments: Vec<Comment>,
    statuses: Vec<Status>,
    deployments: Vec<Deployment>,
    log: Vec<Logged>,
    violations: Vec<String>,
    /// The next answers, whatever is asked: (status, Retry-After seconds).
    faults: VecDeque<(u16, Option<u64>)>,
    tokens: Vec<String>,
    issued: Vec<String>,
    jwts: usize,
    check_runs: Vec<crate::github_state::CheckRun>,
    pulls: Vec<crate::github_state::Pull>,
}

/// The running stand-in.
#[derive(Debug)]
pub struct GitHubForge {
    server: HttpServer,
    state: Arc<Mutex<State>>,
}

fn spec() -> Arc<Spec> {
    static SPEC: OnceLock<Arc<Spec>> = OnceLock::new();
    Arc::clone(SPEC.get_or_init(|| Arc::new(Spec::load())))
}

impl GitHubForge {
    /// Starts the stand-in; `token` is the personal token it accepts (installation tokens it
    /// issued are accepted too).
    ///
    /// # Panics
    /// When the OpenAPI description cannot be installed or read (with what to install).
    #[expect(
        clippy::panic,
        reason = "test support: a stand-in that cannot start fails the test that needs it"
    )]
    pub fn start(token: &str) -> GitHubForge {
        let spec = spec();
        let state = Arc::new(Mutex::new(State {
            tokens: vec![token.to_string()],
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        let handler: Handler = Arc::new(move |r: &Request| handle(&spec, &shared, r));
        let server = HttpServer::start(handler)
            .unwrap_or_else(|e| panic!("cannot start the test forge: {e}"));
        GitHubForge { server, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://127.0.0.1:PORT` (the API root, as `--github-api` takes it).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Answers the next `n` requests with `status` (and `Retry-After`), changing nothing.
    pub fn fail_next(&self, n: usize, status: u16, retry_after: Option<u64>) {
        let mut s = self.lock();
        for _ in 0..n {
            s.faults.push_back((status, retry_after));
        }
    }

    /// A comment someone else wrote (`login`), e.g. one that pastes glueops' marker.
    pub fn plant_comment(&self, repo: &str, issue: u64, login: &str, body: &str) {
        let mut s = self.lock();
        s.next_id += 1;
        let id = s.next_id;
        s.comments.push(Comment {
            id,
            repo: repo.into(),
            issue,
            body: body.into(),
            author: login.into(),
            by_app: false,
        });
    }

    /// A commit status reported by someone else (a CI system): `state` is `pending`,
    /// `success`, `failure` or `error`.
    pub fn report_status(
        &self,
        repo: &str,
        sha: &str,
        context: &str,
        state: &str,
        url: Option<&str>,
    ) {
        let mut s = self.lock();
        s.next_id += 1;
        let id = s.next_id;
        s.statuses.push(Status {
            id,
            repo: repo.into(),
            sha: sha.into(),
            context: context.into(),
            state: state.into(),
            description: String::new(),
            target_url: url.map(str::to_string),
        });
    }

    /// A check run reported by an app: `status` `queued`, `in_progress` or `completed`
    /// (with a `conclusion`).
    pub fn report_check_run(&self, run: crate::github_state::CheckRun) {
        self.lock().check_runs.push(run);
    }

    /// Forgets the faults not yet answered (the forge is back).
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Faults not yet answered.
    pub fn faults_left(&self) -> usize {
        self.lock().faults.len()
    }

    /// Every request that broke the API description (empty when all were valid).
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// The comments, oldest first.
    pub fn comments(&self) -> Vec<Comment> {
        self.lock().comments.clone()
    }

    /// The commit statuses, oldest first.
    pub fn statuses(&self) -> Vec<Status> {
        self.lock().statuses.clone()
    }

    /// The pull requests, oldest first.
    pub fn pulls(&self) -> Vec<crate::github_state::Pull> {
        self.lock().pulls.clone()
    }

    /// The deployments, oldest first.
    pub fn deployments(&self) -> Vec<Deployment> {
        self.lock().deployments.clone()
    }

    /// The requests, in order.
    pub fn log(&self) -> Vec<Logged> {
        self.lock().log.clone()
    }

    /// How many app JWTs were presented.
    pub fn jwts_seen(&self) -> usize {
        self.lock().jwts
    }

    /// The installation tokens issued.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued.clone()
    }
}

fn error(status: u16, message: &str) -> Answer {
    Answer::json(status, json!({ "message": message }))
}

fn handle(spec: &Spec, state: &Mutex<State>, r: &Request) -> Answer {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    if r.path == "/graphql" {
        let answer = graphql(&mut s, r);
        s.log.push(Logged {
            method: r.method.clone(),
            path: r.path.clone(),
            operation: "graphql".into(),
            status: answer.status,
        });
        return answer;
    }
    let checked = spec.check(r);
    let operation = checked
        .as_ref()
        .map(|(op, _)| op.clone())
        .unwrap_or_default();
    let answer = match checked {
        Err(v) => {
            s.violations.push(v.clone());
            error(400, &v)
        }
        Ok((op, params)) => match s.faults.pop_front() {
            Some((status, retry)) => {
                let mut a = error(status, "the test forge is failing on purpose");
                if let Some(secs) = retry {
                    a.headers.push(("Retry-After".into(), secs.to_string()));
                }
                a
            }
            None => match authorize(&mut s, &op, r) {
                Err(a) => a,
                Ok(()) => {
                    let by_app = r
                        .header("authorization")
                        .and_then(|h| h.strip_prefix("Bearer "))
                        .is_some_and(|t| s.issued.iter().any(|i| i == t));
                    crate::github_state::answer(&mut s_view(&mut s, by_app), &op, &params, r)
                }
            },
        },
    };
    s.log.push(Logged {
        method: r.method.clone(),
        path: r.path.clone(),
        operation,
        status: answer.status,
    });
    answer
}

fn s_view(s: &mut State, by_app: bool) -> View<'_> {
    View {
        next_id: &mut s.next_id,
        comments: &mut s.comments,
        statuses: &mut s.statuses,
        deployments: &mut s.deployments,
        issued: &mut s.issued,
        check_runs: &s.check_runs,
        pulls: &mut s.pulls,
        by_app,
    }
}

/// GitHub's GraphQL endpoint, for the one mutation the REST description lacks
/// (`enablePullRequestAutoMerge`): checked against that mutation's documented input (a
/// `pullRequestId` of an open pull request), with the same credentials as REST.
fn graphql(s: &mut State, r: &Request) -> Answer {
    let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let query = body["query"].as_str().unwrap_or_default();
    let id = body["variables"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let bearer = r
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let problem = if r.method != "POST" || r.header("user-agent").is_none_or(str::is_empty) {
        Some("POST /graphql needs a User-Agent".to_string())
    } else if !(s.tokens.contains(&bearer) || s.issued.contains(&bearer)) {
        return error(401, "Bad credentials");
    } else if !query.contains("enablePullRequestAutoMerge") || !query.contains("pullRequestId: $id")
    {
        Some(format!(
            "/graphql: not the enablePullRequestAutoMerge mutation: {query}"
        ))
    } else {
        None
    };
    if let Some(v) = problem {
        s.violations.push(v.clone());
        return error(400, &v);
    }
    match s
        .pulls
        .iter_mut()
        .find(|p| format!("PR_{}", p.number) == id && p.state == "open")
    {
        Some(p) => {
            p.auto_merge = true;
            Answer::json(
                200,
                json!({ "data": { "enablePullRequestAutoMerge": { "clientMutationId": null } } }),
            )
        }
        None => Answer::json(
            200,
            json!({ "errors": [{ "message": format!("Could not resolve to a node with the global id of '{id}'") }] }),
        ),
    }
}

/// App endpoints take the app's JWT; everything else a token the forge knows.
fn authorize(s: &mut State, op: &str, r: &Request) -> Result<(), Answer> {
    let bearer = r
        .header("authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("token "))
        })
        .unwrap_or_default()
        .to_string();
    let app_operation = matches!(
        op,
        "apps/get-repo-installation" | "apps/create-installation-access-token"
    );
    if app_operation {
        s.jwts += 1;
        return verify_jwt(&bearer).map_err(|why| error(401, &why));
    }
    if s.tokens.contains(&bearer) || s.issued.contains(&bearer) {
        Ok(())
    } else {
        Err(error(401, "Bad credentials"))
    }
}

/// Checks an app JWT: RS256 by the test app's key, issued by the test app, valid now, for
/// at most ten minutes.
fn verify_jwt(jwt: &str) -> Result<(), String> {
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::signature::Verifier as _;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("not a JWT".into());
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).map_err(|e| e.to_string());
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|e| e.to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {} is not RS256", header["alg"]));
    }
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(TEST_APP_KEY).map_err(|e| e.to_string())?;
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
    let signature = rsa::pkcs1v15::Signature::try_from(decode(signature)?.as_slice())
        .map_err(|e| e.to_string())?;
    verifier
        .verify(format!("{}.{claims}", parts[0]).as_bytes(), &signature)
        .map_err(|_| "the JWT's signature is not the test app's".to_string())?;
    let claims: Value = serde_json::from_slice(&decode(claims)?).map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap_or(0),
        claims["exp"].as_i64().unwrap_or(0),
    );
    if claims["iss"].as_str() != Some(TEST_APP_ID.to_string().as_str()) {
        return Err(format!("iss {} is not the test app", claims["iss"]));
    }
    if exp <= now || iat > now + 60 || exp - iat > 600 {
        return Err(format!(
            "the JWT is not valid now (iat {iat}, exp {exp}, now {now})"
        ));
    }
    Ok(())
}

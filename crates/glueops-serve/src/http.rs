//! The routes: two webhook endpoints, `/healthz` and `/readyz` for anyone, and `/status` and
//! `/metrics` for operators (on `--admin-listen` when given, behind `--admin-token-file`
//! when given). A webhook is answered as soon as it is verified and journaled:
//! 202 accepted or ignored, 200 for a replay, 401/400/413 for bad input, 503 with
//! `Retry-After` when the queue is full.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use glueops::git::{Error as GitError, Headers, Host, RepoEvent};
use serde_json::json;

use crate::Shared;
use crate::guard::{authorized, unauthorized};

/// Seconds a sender is asked to wait when the queue is full.
const RETRY_AFTER: &str = "5";

/// The routes anyone may reach: the two webhook endpoints (each delivery verified), and
/// `/healthz`, `/readyz` (reason codes, no error text). With `admin` the operators' routes
/// are served here too (behind the bearer token, when one is set).
pub(crate) fn router(shared: Arc<Shared>, admin: bool) -> Router {
    let hooks = Router::new()
        .route("/webhooks/github", post(github))
        .route("/webhooks/gitlab", post(gitlab))
        .route("/webhooks/registry", post(crate::images::webhook));
    let public = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz));
    // Read only (`glueops dashboard`): no webhook is taken.
    let public = if shared.settings.read_only {
        public
    } else {
        public.merge(hooks)
    };
    let router = if admin {
        public.merge(admin_routes(&shared))
    } else {
        public
    };
    router.with_state(shared)
}

/// The operators' routes alone (`--admin-listen`).
pub(crate) fn admin_router(shared: Arc<Shared>) -> Router {
    admin_routes(&shared).with_state(shared)
}

/// `/status`, `/metrics` and (unless `--dashboard off`) the dashboard.
fn admin_routes(shared: &Shared) -> Router<Arc<Shared>> {
    let routes = Router::new()
        .route("/status", get(status))
        .route("/metrics", get(metrics));
    if shared.settings.dashboard {
        routes.merge(crate::dashboard::routes())
    } else {
        routes
    }
}

async fn github(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    match read_body(&s, body).await {
        Ok(body) => off_the_runtime(s, Host::GitHub, headers, body).await,
        Err(response) => response,
    }
}

async fn gitlab(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    match read_body(&s, body).await {
        Ok(body) => off_the_runtime(s, Host::GitLab, headers, body).await,
        Err(response) => response,
    }
}

/// The body, within the request timeout and the size limit: a client that declares a large
/// body and sends it slowly (or never) is answered 408 and its connection freed.
async fn read_body(s: &Shared, body: Body) -> Result<Bytes, Response> {
    let (limit, timeout) = (s.settings.max_body, s.settings.request_timeout);
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            "rejected",
            &format!("the body is over the {limit}-byte limit, or broke off"),
        )),
        Err(_) => Err(answer(
            StatusCode::REQUEST_TIMEOUT,
            "rejected",
            &format!("the body did not arrive within {}s", timeout.as_secs()),
        )),
    }
}

/// Verifying, parsing and journaling (a synced file write) block: not on the async threads.
async fn off_the_runtime(s: Arc<Shared>, host: Host, headers: HeaderMap, body: Bytes) -> Response {
    tokio::task::spawn_blocking(move || webhook(&s, host, &headers, &body))
        .await
        .unwrap_or_else(|e| {
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "refused",
                &format!("the handler failed: {e}"),
            )
        })
}

fn answer(code: StatusCode, outcome: &str, detail: &str) -> Response {
    (
        code,
        axum::Json(json!({"outcome": outcome, "detail": detail})),
    )
        .into_response()
}

/// The events each host sends that get their own metrics label; any other is `unknown`, so
/// no request can add a series.
const GITHUB_EVENTS: &[&str] = &[
    "push",
    "pull_request",
    "pull_request_review",
    "package",
    "registry_package",
    "workflow_run",
    "delete",
    "create",
    "ping",
    "release",
    "check_run",
    "check_suite",
    "status",
    "workflow_job",
    "deployment",
    "deployment_status",
    "issue_comment",
    "issues",
];
const GITLAB_EVENTS: &[&str] = &[
    "push_hook",
    "tag_push_hook",
    "merge_request_hook",
    "pipeline_hook",
    "note_hook",
    "issue_hook",
    "job_hook",
    "deployment_hook",
    "release_hook",
    "system_hook",
];

/// The event type as a metrics label and log field, from a fixed set: read only once the
/// signature matched (`unverified` before).
fn event_type(host: Host, headers: &Headers) -> &'static str {
    let (name, known) = match host {
        Host::GitHub => (headers.get("x-github-event"), GITHUB_EVENTS),
        Host::GitLab => (headers.get("x-gitlab-event"), GITLAB_EVENTS),
    };
    let name = name
        .unwrap_or_default()
        .to_ascii_lowercase()
        .replace(' ', "_");
    known
        .iter()
        .find(|k| **k == name)
        .copied()
        .unwrap_or("unknown")
}

/// A delivery id as it is logged: ids are UUIDs; anything else is logged as `invalid`, so a
/// header can never forge a log field.
fn loggable(id: Option<&str>) -> String {
    match id {
        None => "-".into(),
        Some(id)
            if id.len() <= 100
                && id.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')
                }) =>
        {
            id.to_string()
        }
        Some(_) => "invalid".into(),
    }
}

fn webhook(s: &Shared, path_host: Host, headers: &HeaderMap, body: &[u8]) -> Response {
    let pairs = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())));
    let headers = Headers::new(pairs);
    let intake = Intake {
        s,
        host: path_host.name(),
        delivery_id: loggable(
            headers
                .get("x-github-delivery")
                .or_else(|| headers.get("x-gitlab-event-uuid")),
        ),
        kind: std::cell::Cell::new("unverified"),
        started: Instant::now(),
    };
    let delivery = match verify(&intake, path_host, &headers, body) {
        Ok(delivery) => delivery,
        Err(response) => return response,
    };
    let work = match admit(&intake, &delivery) {
        Ok(work) => work,
        Err(response) => return response,
    };
    let host = intake.host;
    match s
        .queue
        .push(delivery.id.clone(), host, intake.kind.get(), work)
    {
        Ok(true) => {
            s.metrics.event(host, intake.kind.get(), "accepted");
            s.metrics
                .queued
                .set(i64::try_from(s.queue.len()).unwrap_or(i64::MAX));
            answer(StatusCode::ACCEPTED, "accepted", "queued")
        }
        Ok(false) => {
            if let Some(id) = &delivery.id {
                s.receiver.forget(id);
            }
            intake.log("refused", "the queue is full");
            busy("the queue is full: retry later")
        }
        Err(e) => {
            if let Some(id) = &delivery.id {
                s.receiver.forget(id);
            }
            let reason = crate::steps::chain(&e);
            intake.log("refused", &reason);
            answer(StatusCode::INTERNAL_SERVER_ERROR, "refused", &reason)
        }
    }
}

/// One delivery being taken in: where it came from, and its log line and metric.
struct Intake<'a> {
    s: &'a Shared,
    host: &'static str,
    delivery_id: String,
    /// The event type counts only once the signature matched: until then it is `unverified`.
    kind: std::cell::Cell<&'static str>,
    started: Instant,
}

impl Intake<'_> {
    fn log(&self, outcome: &str, reason: &str) {
        let kind = self.kind.get();
        self.s.metrics.event(self.host, kind, outcome);
        tracing::info!(
            delivery = %self.delivery_id,
            host = self.host,
            event = kind,
            outcome,
            reason,
            latency_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            "delivery"
        );
    }
}

/// The delivery, verified (size, signature or token, replay) and sent to its host's endpoint;
/// else the answer that refuses it.
#[expect(
    clippy::result_large_err,
    reason = "the refusal is the HTTP answer itself, returned once per request straight to the client"
)]
fn verify(
    intake: &Intake<'_>,
    path_host: Host,
    headers: &Headers,
    body: &[u8],
) -> Result<glueops::git::Delivery, Response> {
    match intake.s.receiver.receive(headers, body) {
        Ok(d) if d.host != path_host => {
            intake.kind.set(event_type(d.host, headers));
            intake.log("rejected", "sent to the other host's endpoint");
            Err(answer(
                StatusCode::BAD_REQUEST,
                "rejected",
                &format!(
                    "this is a {} webhook: send it to /webhooks/{}",
                    d.host.name(),
                    d.host.name()
                ),
            ))
        }
        Ok(d) => {
            intake.kind.set(event_type(d.host, headers));
            Ok(d)
        }
        Err(e) => {
            if matches!(
                e,
                GitError::Duplicate { .. } | GitError::MalformedPayload { .. }
            ) {
                intake.kind.set(event_type(path_host, headers));
            }
            let reason = crate::steps::chain(&e);
            let (code, outcome) = match &e {
                GitError::Duplicate { .. } => (StatusCode::OK, "duplicate"),
                GitError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "rejected"),
                GitError::MissingSignature { .. } | GitError::BadSignature { .. } => {
                    (StatusCode::UNAUTHORIZED, "rejected")
                }
                _ => (StatusCode::BAD_REQUEST, "rejected"),
            };
            intake.log(outcome, &reason);
            Err(answer(code, outcome, &reason))
        }
    }
}

/// The work a verified delivery routes to; else the answer: applied before, the server not
/// ready, too old, or nothing to do.
#[expect(
    clippy::result_large_err,
    reason = "the refusal is the HTTP answer itself, returned once per request straight to the client"
)]
fn admit(
    intake: &Intake<'_>,
    delivery: &glueops::git::Delivery,
) -> Result<Vec<crate::route::Work>, Response> {
    let s = intake.s;
    if let Some(id) = &delivery.id
        && s.already_applied(id)
    {
        intake.log("duplicate", "applied before (the ledger has it)");
        return Err(answer(
            StatusCode::OK,
            "duplicate",
            "this delivery was applied before",
        ));
    }
    let Some(routes) = s.routes() else {
        if let Some(id) = &delivery.id {
            s.receiver.forget(id);
        }
        intake.log("refused", "the config is not read yet");
        return Err(busy("the server is starting: the config is not read yet"));
    };
    let now = s.settings.clock.now();
    if delivery.is_stale(now, s.settings.max_event_age) {
        let reason = format!(
            "stale: the event happened at {}, more than {}s before now; a body sent again is never applied (GitHub does not sign delivery ids)",
            delivery.at.map(|t| t.to_string()).unwrap_or_default(),
            s.settings.max_event_age.as_secs()
        );
        intake.log("ignored", &reason);
        return Err(answer(StatusCode::ACCEPTED, "ignored", &reason));
    }
    let at = delivery.at.map(|t| t.as_second());
    routes.route(&delivery.event, at).map_err(|ignored| {
        let reason = if matches!(delivery.event, RepoEvent::Ping { .. }) {
            "ping: the webhook reaches glueops".to_string()
        } else {
            ignored.reason
        };
        intake.log("ignored", &reason);
        answer(StatusCode::ACCEPTED, "ignored", &reason)
    })
}

fn busy(detail: &str) -> Response {
    let mut response = answer(StatusCode::SERVICE_UNAVAILABLE, "refused", detail);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
    response
}

async fn readyz(State(s): State<Arc<Shared>>) -> Response {
    let health = s.health();
    let code = if health.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(health)).into_response()
}

async fn status(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorized(&s, &headers) {
        return unauthorized();
    }
    match s.status() {
        Some(status) => axum::Json(status.as_ref().clone()).into_response(),
        None => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting",
            "the first resync has not finished",
        ),
    }
}

async fn metrics(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorized(&s, &headers) {
        return unauthorized();
    }
    s.metrics
        .queued
        .set(i64::try_from(s.queue.len()).unwrap_or(i64::MAX));
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        s.metrics.encode(),
    )
        .into_response()
}

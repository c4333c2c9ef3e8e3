//! The routes: two webhook endpoints and four for operators (`/healthz`, `/readyz`,
//! `/status`, `/metrics`). A webhook is answered as soon as it is verified and journaled:
//! 202 accepted or ignored, 200 for a replay, 401/400/413 for bad input, 503 with
//! `Retry-After` when the queue is full.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use glueops::git::{Error as GitError, Headers, Host, RepoEvent};
use serde_json::json;

use crate::Shared;

/// Seconds a sender is asked to wait when the queue is full.
const RETRY_AFTER: &str = "5";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.settings.max_body;
    Router::new()
        .route("/webhooks/github", post(github))
        .route("/webhooks/gitlab", post(gitlab))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(shared)
}

async fn github(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    off_the_runtime(s, Host::GitHub, headers, body).await
}

async fn gitlab(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    off_the_runtime(s, Host::GitLab, headers, body).await
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

fn event_type(host: Host, headers: &Headers) -> String {
    let name = match host {
        Host::GitHub => headers.get("x-github-event"),
        Host::GitLab => headers.get("x-gitlab-event"),
    };
    name.unwrap_or("unknown")
        .to_ascii_lowercase()
        .replace(' ', "_")
        .chars()
        .take(40)
        .collect()
}

fn webhook(s: &Shared, path_host: Host, headers: &HeaderMap, body: &[u8]) -> Response {
    let started = Instant::now();
    let pairs = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())));
    let headers = Headers::new(pairs);
    let host = path_host.name();
    let kind = event_type(path_host, &headers);
    let delivery_id = headers
        .get("x-github-delivery")
        .or_else(|| headers.get("x-gitlab-event-uuid"))
        .unwrap_or("-")
        .to_string();
    let log = |outcome: &str, reason: &str| {
        s.metrics.event(host, &kind, outcome);
        tracing::info!(
            delivery = %delivery_id,
            host,
            event = %kind,
            outcome,
            reason,
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "delivery"
        );
    };
    let delivery = match s.receiver.receive(&headers, body) {
        Ok(d) if d.host != path_host => {
            log("rejected", "sent to the other host's endpoint");
            return answer(
                StatusCode::BAD_REQUEST,
                "rejected",
                &format!(
                    "this is a {} webhook: send it to /webhooks/{}",
                    d.host.name(),
                    d.host.name()
                ),
            );
        }
        Ok(d) => d,
        Err(e) => {
            let reason = crate::worker::chain(&e);
            let (code, outcome) = match &e {
                GitError::Duplicate { .. } => (StatusCode::OK, "duplicate"),
                GitError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "rejected"),
                GitError::MissingSignature { .. } | GitError::BadSignature { .. } => {
                    (StatusCode::UNAUTHORIZED, "rejected")
                }
                _ => (StatusCode::BAD_REQUEST, "rejected"),
            };
            log(outcome, &reason);
            return answer(code, outcome, &reason);
        }
    };
    if let Some(id) = &delivery.id
        && s.already_applied(id)
    {
        log("duplicate", "applied before (the ledger has it)");
        return answer(
            StatusCode::OK,
            "duplicate",
            "this delivery was applied before",
        );
    }
    let Some(routes) = s.routes() else {
        if let Some(id) = &delivery.id {
            s.receiver.forget(id);
        }
        log("refused", "the config is not read yet");
        return busy("the server is starting: the config is not read yet");
    };
    let work = match routes.route(&delivery.event) {
        Ok(work) => work,
        Err(reason) => {
            let reason = if matches!(delivery.event, RepoEvent::Ping { .. }) {
                "ping: the webhook reaches glueops".to_string()
            } else {
                reason
            };
            log("ignored", &reason);
            return answer(StatusCode::ACCEPTED, "ignored", &reason);
        }
    };
    match s.queue.push(delivery.id.clone(), host, &kind, work) {
        Ok(true) => {
            s.metrics.event(host, &kind, "accepted");
            s.metrics
                .queued
                .set(i64::try_from(s.queue.len()).unwrap_or(i64::MAX));
            answer(StatusCode::ACCEPTED, "accepted", "queued")
        }
        Ok(false) => {
            if let Some(id) = &delivery.id {
                s.receiver.forget(id);
            }
            log("refused", "the queue is full");
            busy("the queue is full: retry later")
        }
        Err(e) => {
            if let Some(id) = &delivery.id {
                s.receiver.forget(id);
            }
            let reason = crate::worker::chain(&e);
            log("refused", &reason);
            answer(StatusCode::INTERNAL_SERVER_ERROR, "refused", &reason)
        }
    }
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

async fn status(State(s): State<Arc<Shared>>) -> Response {
    match s.status() {
        Some(status) => axum::Json(status.as_ref().clone()).into_response(),
        None => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting",
            "the first resync has not finished",
        ),
    }
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    s.metrics
        .queued
        .set(i64::try_from(s.queue.len()).unwrap_or(i64::MAX));
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        s.metrics.encode(),
    )
        .into_response()
}

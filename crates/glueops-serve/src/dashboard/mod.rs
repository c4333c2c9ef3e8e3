//! The dashboard: `GET /` (the platform at a glance, `?app=&env=&page=`), `GET
//! /apps/{app}/{env}` (one deployment's history), `GET /events` (server-sent events: `board`
//! whenever it changed) and its stylesheet and script, all in the binary. Read-only: it shows
//! what `/status` and the manifest history say, never a secret value or a webhook payload.
//! Served with the operators' routes (behind `--admin-token-file` when one is set).

mod chart;
mod page;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use glueops::board::Board;

use crate::Shared;

const CSS: &str = include_str!("dashboard.css");
const JS: &str = include_str!("dashboard.js");
const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0550ae"/><path d="M4 8h8M9 5l3 3-3 3" stroke="#fff" stroke-width="2" fill="none"/></svg>"##;

/// Event streams open at once at most (each holds a connection of `--max-connections`).
pub(crate) const EVENT_STREAMS: usize = 32;

/// The board as last read, with its version (raised whenever it changed).
#[derive(Debug, Clone, Default)]
pub(crate) struct Shown {
    pub(crate) version: u64,
    pub(crate) board: Option<Arc<Board>>,
    /// Manifest files the last resync found changed by someone else (and repaired).
    pub(crate) drift: Arc<Vec<String>>,
}

/// The dashboard's routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(overview))
        .route("/apps/{app}/{env}", get(deployment))
        .route("/events", get(events))
        .route(
            "/dashboard.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/dashboard.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .route(
            "/favicon.svg",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// An HTML answer with the headers a read-only internal page wants.
fn html(body: String) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn starting() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "2")],
        "the first resync has not finished; this page is ready in a moment\n",
    )
        .into_response()
}

async fn overview(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(filter): Query<page::Filter>,
) -> Response {
    if !crate::guard::authorized(&s, &headers) {
        return crate::guard::unauthorized();
    }
    let shown = s.shown();
    let Some(board) = shown.board else {
        return starting();
    };
    html(page::overview(&board, shown.version, &filter, &shown.drift))
}

async fn deployment(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((app, env)): Path<(String, String)>,
) -> Response {
    if !crate::guard::authorized(&s, &headers) {
        return crate::guard::unauthorized();
    }
    let shown = s.shown();
    let Some(board) = shown.board else {
        return starting();
    };
    match page::deployment(&board, shown.version, &app, &env) {
        Some(body) => html(body),
        None => (StatusCode::NOT_FOUND, "no such app and environment\n").into_response(),
    }
}

/// `board` with the board's version whenever it changes (and at once on connecting).
async fn events(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !crate::guard::authorized(&s, &headers) {
        return crate::guard::unauthorized();
    }
    // A stream holds its connection open: at most `EVENT_STREAMS` at once, so pages left
    // open (or a client opening many) never take the connections webhooks need.
    let Ok(permit) = Arc::clone(&s.event_streams).try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "30")],
            "too many open dashboards; the page still works, and refreshes itself\n",
        )
            .into_response();
    };
    let receiver = s.board_changes();
    let stream = futures_util::stream::unfold(
        (receiver, true, permit),
        |(mut rx, first, permit)| async move {
            if !first && rx.changed().await.is_err() {
                return None;
            }
            let version = rx.borrow_and_update().version;
            let event = Event::default().event("board").data(version.to_string());
            Some((Ok::<Event, Infallible>(event), (rx, false, permit)))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

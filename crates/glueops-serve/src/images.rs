//! Registry watching: every `--registry-interval` (or at once when `POST /webhooks/registry`
//! says a registry took a push) each watched image's registry is read once, and a bump is
//! queued for every environment whose promotion is `auto` and whose policy allows a newer
//! tag. The registry is the only source of tags: a webhook only wakes the poll, so a forged
//! or replayed notification can at most cause one more read.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use glueops::images::{Known, Watch};
use glueops::registry::Registries;
use serde_json::json;

use crate::Shared;
use crate::route::Work;

/// The watcher's parts the server shares: the client (its tokens kept between polls) and
/// the bell a registry webhook rings.
#[derive(Debug)]
pub(crate) struct Watcher {
    registries: Registries,
    wake: tokio::sync::Notify,
}

impl Watcher {
    pub(crate) fn new(watch: &crate::RegistryWatch) -> Result<Watcher, crate::Error> {
        let registries = Registries::new(watch.settings.clone())
            .map_err(|e| crate::Error::worker("building the registry client", e))?;
        Ok(Watcher {
            registries,
            wake: tokio::sync::Notify::new(),
        })
    }
}

/// Polls until `stop` turns true: at start, every interval, and when woken; after a
/// `Retry-After`, not before it passed.
pub(crate) async fn watch(shared: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let (Some(watcher), Some(settings)) = (&shared.watcher, &shared.settings.registry) else {
        return;
    };
    let mut known = Known::default();
    loop {
        let pause = poll_once(&shared, watcher, &mut known).await;
        let wait = settings.interval.max(pause.unwrap_or_default());
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = watcher.wake.notified(), if pause.is_none() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// One poll of every watched image; the `Retry-After` a registry asked for.
async fn poll_once(shared: &Arc<Shared>, watcher: &Watcher, known: &mut Known) -> Option<Duration> {
    let watches: Arc<Vec<Watch>> = shared.watches();
    if watches.is_empty() {
        return None;
    }
    let poll = glueops::images::poll(&watches, &watcher.registries, known).await;
    shared.metrics.registry_requests.inc_by(poll.requests);
    let mut work = Vec::new();
    for s in &poll.statuses {
        if let Some(e) = &s.error {
            tracing::warn!(app = %s.app, env = %s.env, image = %s.image, error = %e, "registry: cannot read the image's tags; asked again at the next poll");
            continue;
        }
        let (true, Some(tag)) = (s.moves, s.latest.clone()) else {
            continue;
        };
        let bump = Work::Bump {
            app: s.app.clone(),
            env: s.env.clone(),
            tag,
            at: None,
        };
        if shared.queue.holds(&bump) {
            continue;
        }
        tracing::info!(app = %s.app, env = %s.env, from = s.current.as_deref().unwrap_or("-"), to = s.latest.as_deref().unwrap_or("-"), "registry: the image policy allows a newer tag");
        work.push(bump);
    }
    let outcome = if poll.statuses.iter().any(|s| s.error.is_some()) {
        "error"
    } else {
        "ok"
    };
    shared.metrics.registry_poll(outcome);
    if !work.is_empty() {
        let queued = Arc::clone(shared);
        let pushed =
            tokio::task::spawn_blocking(move || queued.queue.push(None, "registry", "image", work))
                .await;
        match pushed {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                tracing::warn!("registry: the queue is full; the bump is queued at the next poll")
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "registry: the bump cannot be journaled; queued at the next poll")
            }
            Err(e) => tracing::warn!(error = %e, "registry: queuing the bump failed"),
        }
    }
    poll.retry_after
}

/// `POST /webhooks/registry`: a distribution notification envelope, with one of the
/// configured bearer tokens. Pushes wake the poll; nothing in the body is taken as a tag.
pub(crate) async fn webhook(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (Some(watcher), Some(settings)) = (&s.watcher, &s.settings.registry) else {
        return answer(
            StatusCode::NOT_FOUND,
            "refused",
            "registry watching is off: start glueops serve with --registry-interval",
        );
    };
    let known = crate::guard::bearer_is_one_of(
        &headers,
        settings.webhook_tokens.iter().map(String::as_str),
    );
    if !known {
        s.metrics.event("registry", "push", "rejected");
        return answer(
            StatusCode::UNAUTHORIZED,
            "rejected",
            "give the registry webhook token: Authorization: Bearer <token>",
        );
    }
    let limit = s.settings.max_body;
    let bytes = match tokio::time::timeout(
        s.settings.request_timeout,
        axum::body::to_bytes(body, limit),
    )
    .await
    {
        Ok(Ok(b)) => b,
        _ => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                "rejected",
                "the body is too large or did not arrive",
            );
        }
    };
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&bytes) else {
        s.metrics.event("registry", "push", "rejected");
        return answer(
            StatusCode::BAD_REQUEST,
            "rejected",
            "not a distribution notification: {\"events\": [{\"action\": \"push\", \"target\": {\"repository\": …}}]}",
        );
    };
    let watched = s.watches();
    let pushed = envelope.events.iter().any(|e| {
        e.action == "push"
            && watched
                .iter()
                .any(|w| w.image.repository() == e.target.repository)
    });
    if !pushed {
        s.metrics.event("registry", "push", "ignored");
        return answer(
            StatusCode::ACCEPTED,
            "ignored",
            "no push of a watched repository",
        );
    }
    watcher.wake.notify_one();
    s.metrics.event("registry", "push", "accepted");
    answer(
        StatusCode::ACCEPTED,
        "accepted",
        "the watched registries are read now",
    )
}

/// The distribution notification format (`application/vnd.docker.distribution.events.v1+json`).
#[derive(Debug, serde::Deserialize)]
struct Envelope {
    events: Vec<Event>,
}

#[derive(Debug, serde::Deserialize)]
struct Event {
    action: String,
    target: Target,
}

#[derive(Debug, serde::Deserialize)]
struct Target {
    #[serde(default)]
    repository: String,
}

fn answer(code: StatusCode, outcome: &str, detail: &str) -> Response {
    (
        code,
        axum::Json(json!({"outcome": outcome, "detail": detail})),
    )
        .into_response()
}

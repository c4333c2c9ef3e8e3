//! Webhooks in: size check, signature check (constant time), deduplication, then parsing into
//! a [`RepoEvent`](crate::RepoEvent). Transport-agnostic: give it the headers and the exact
//! body bytes from any HTTP server (axum, hyper, a Lambda event).

mod dedup;
mod github;
mod gitlab;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::event::{Delivery, Host};

pub use dedup::DeliveryLog;

/// GitHub's cap on webhook payloads: 25 MB.
pub const DEFAULT_MAX_BODY: usize = 25 * 1024 * 1024;

/// Request headers, looked up case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// Headers from `(name, value)` pairs.
    pub fn new<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Headers {
        Headers(
            pairs
                .into_iter()
                .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.as_ref().to_string()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.0
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Verifies and parses webhook deliveries. Several secrets may be configured at once, so a
/// secret can be rotated without dropping deliveries. Share one receiver (it is `Sync`) so
/// its delivery log sees every request.
#[derive(Debug)]
pub struct WebhookReceiver {
    github_secrets: Vec<SecretString>,
    gitlab_tokens: Vec<SecretString>,
    max_body: usize,
    seen: Mutex<DeliveryLog>,
}

impl WebhookReceiver {
    /// A receiver with no secrets yet (every delivery fails verification until one is added),
    /// the 25 MB body limit, and a delivery log of 10,000 ids or one hour.
    pub fn new() -> WebhookReceiver {
        WebhookReceiver {
            github_secrets: Vec::new(),
            gitlab_tokens: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
            seen: Mutex::new(DeliveryLog::new(10_000, Duration::from_secs(3600))),
        }
    }

    /// Accepts GitHub deliveries signed with `secret` (`X-Hub-Signature-256`).
    pub fn github_secret(mut self, secret: impl Into<String>) -> Self {
        self.github_secrets.push(SecretString::from(secret.into()));
        self
    }

    /// Accepts GitLab deliveries carrying `token` (`X-Gitlab-Token`).
    pub fn gitlab_token(mut self, token: impl Into<String>) -> Self {
        self.gitlab_tokens.push(SecretString::from(token.into()));
        self
    }

    /// Rejects bodies over `bytes`.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Remembers delivery ids for `window`, at most `capacity` of them.
    pub fn dedup_window(self, capacity: usize, window: Duration) -> Self {
        WebhookReceiver {
            seen: Mutex::new(DeliveryLog::new(capacity, window)),
            ..self
        }
    }

    /// Checks size and signature, rejects replays, and parses the event.
    pub fn receive(&self, headers: &Headers, body: &[u8]) -> Result<Delivery> {
        self.receive_at(headers, body, Instant::now())
    }

    /// [`receive`](Self::receive) at a given time (for tests of the window).
    pub fn receive_at(&self, headers: &Headers, body: &[u8], now: Instant) -> Result<Delivery> {
        if body.len() > self.max_body {
            return Err(Error::BodyTooLarge {
                size: body.len(),
                max: self.max_body,
            });
        }
        let host = self.verify(headers, body)?;
        let id = match host {
            Host::GitHub => headers.get("x-github-delivery"),
            Host::GitLab => headers
                .get("x-gitlab-event-uuid")
                .or_else(|| headers.get("x-gitlab-webhook-uuid")),
        }
        .map(str::to_string);
        if let Some(id) = &id {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if !seen.insert(id, now) {
                return Err(Error::Duplicate { id: id.clone() });
            }
        }
        let (event, at) = parse(host, headers, body)?;
        let at = at.as_deref().and_then(event_time);
        Ok(Delivery {
            host,
            id,
            event,
            at,
        })
    }

    /// Forgets delivery `id`: its next arrival is not a replay (call it when a delivery
    /// could not be accepted after all, e.g. a full queue answered 503).
    pub fn forget(&self, id: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .forget(id);
    }

    /// Which host sent the request, once its signature (GitHub) or token (GitLab) matches one
    /// of the configured secrets. Constant-time comparisons throughout.
    pub fn verify(&self, headers: &Headers, body: &[u8]) -> Result<Host> {
        if headers.get("x-github-event").is_some() {
            let header = headers
                .get("x-hub-signature-256")
                .ok_or(Error::MissingSignature {
                    host: "github",
                    header: "X-Hub-Signature-256",
                })?;
            let signature = header
                .strip_prefix("sha256=")
                .and_then(|h| hex::decode(h.trim()).ok())
                .ok_or(Error::BadSignature { host: "github" })?;
            // Check every secret, so timing does not tell which one matched.
            let mut matched = false;
            for secret in &self.github_secrets {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
                    .map_err(|_| Error::BadSignature { host: "github" })?;
                mac.update(body);
                matched |= mac.verify_slice(&signature).is_ok();
            }
            return if matched {
                Ok(Host::GitHub)
            } else {
                Err(Error::BadSignature { host: "github" })
            };
        }
        if headers.get("x-gitlab-event").is_some() {
            let token = headers
                .get("x-gitlab-token")
                .ok_or(Error::MissingSignature {
                    host: "gitlab",
                    header: "X-Gitlab-Token",
                })?;
            let mut matched = subtle::Choice::from(0);
            for expected in &self.gitlab_tokens {
                matched |= expected.expose_secret().as_bytes().ct_eq(token.as_bytes());
            }
            return if bool::from(matched) {
                Ok(Host::GitLab)
            } else {
                Err(Error::BadSignature { host: "gitlab" })
            };
        }
        Err(Error::UnknownSender)
    }
}

impl Default for WebhookReceiver {
    fn default() -> Self {
        WebhookReceiver::new()
    }
}

/// A payload's time: RFC 3339 (GitHub, GitLab's newer fields) or GitLab's
/// `2016-08-12 15:23:28 UTC`. Years before 2000 (GitHub's `0001-01-01` placeholders) are no
/// time at all.
fn event_time(text: &str) -> Option<jiff::Timestamp> {
    let parsed = text.parse::<jiff::Timestamp>().ok().or_else(|| {
        let utc = text.strip_suffix(" UTC")?.replacen(' ', "T", 1);
        format!("{utc}Z").parse().ok()
    })?;
    (parsed.as_second() > 946_684_800).then_some(parsed)
}

/// Parses an already verified body, with the time the payload states. Unknown events and
/// actions are [`RepoEvent::Ignored`](crate::RepoEvent::Ignored), never errors.
pub(crate) fn parse(
    host: Host,
    headers: &Headers,
    body: &[u8],
) -> Result<(crate::RepoEvent, Option<String>)> {
    match host {
        Host::GitHub => github::parse(headers.get("x-github-event").unwrap_or(""), body),
        Host::GitLab => gitlab::parse(headers.get("x-gitlab-event").unwrap_or(""), body),
    }
}

/// Decodes JSON into `T`, or says where the body is malformed.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    host: &'static str,
    event: &str,
    body: &[u8],
) -> Result<T> {
    serde_json::from_slice(body).map_err(|source| Error::MalformedPayload {
        host,
        event: event.to_string(),
        line: source.line(),
        column: source.column(),
        source,
    })
}

/// A pushed commit as both hosts send it.
#[derive(serde::Deserialize)]
pub(crate) struct PushedCommit {
    id: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    added: Vec<String>,
    #[serde(default)]
    modified: Vec<String>,
    #[serde(default)]
    removed: Vec<String>,
}

/// A push, or the deletion of a branch (other deleted refs are ignored).
pub(crate) fn push_event(
    repo: crate::Repository,
    git_ref: String,
    before: String,
    after: String,
    deleted: bool,
    commits: Vec<PushedCommit>,
    pusher: String,
) -> crate::RepoEvent {
    use crate::RepoEvent;
    if deleted {
        return match git_ref.strip_prefix("refs/heads/") {
            Some(branch) => RepoEvent::BranchDeleted {
                repo,
                branch: branch.to_string(),
            },
            None => RepoEvent::Ignored {
                reason: format!("push deleting {git_ref}"),
            },
        };
    }
    RepoEvent::Push(crate::Push {
        repo,
        git_ref,
        before,
        after,
        commits: commits
            .into_iter()
            .map(|c| crate::Commit {
                id: c.id,
                timestamp: c.timestamp,
                title: c.message.lines().next().unwrap_or("").to_string(),
                added: c.added,
                modified: c.modified,
                removed: c.removed,
            })
            .collect(),
        pusher,
    })
}

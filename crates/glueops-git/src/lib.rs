//! Webhooks in, commits out: the git edge of a GitOps platform.
//!
//! **Webhooks.** [`WebhookReceiver`] checks a delivery's size, its signature (GitHub
//! `X-Hub-Signature-256`, HMAC-SHA256 over the exact body; GitLab `X-Gitlab-Token`; both
//! compared in constant time, several secrets accepted while one is rotated), drops replays by
//! delivery id within a bounded window, and parses the body into one [`RepoEvent`], the same
//! shape for both hosts. Events glueops does not act on are [`RepoEvent::Ignored`], never
//! errors.
//!
//! **Repositories.** [`LocalRepo`] wraps a git repository through `gix` (objects, trees,
//! commits and history in-process): read files at a revision, list the paths changed between
//! two commits, walk the history of a path with its commit trailers, and
//! [`LocalRepo::commit`]: replace everything under a prefix with a [`TreeChange`]'s files,
//! reusing unchanged subtrees, committing with trailers, and committing nothing when nothing
//! changed. [`LocalRepo::publish`] uses the `git` CLI for transport only, with optimistic
//! concurrency: a rejected push is rebased by re-applying the same tree change on the new tip.
//!
//! ```
//! use glueops_git::{Headers, RepoEvent, WebhookReceiver};
//! use hmac::{Hmac, Mac};
//!
//! let body = br#"{"zen":"Keep it logically awesome.","hook_id":7}"#;
//! let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
//! mac.update(body);
//! let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
//! let headers = Headers::new([
//!     ("X-GitHub-Event", "ping"),
//!     ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
//!     ("X-Hub-Signature-256", signature.as_str()),
//! ]);
//! let receiver = WebhookReceiver::new().github_secret("s3cret");
//! let delivery = receiver.receive(&headers, body)?;
//! assert_eq!(delivery.event, RepoEvent::Ping { repo: None, hook_id: Some(7) });
//! // The same delivery again is a replay.
//! assert!(receiver.receive(&headers, body).is_err());
//! # Ok::<(), glueops_git::Error>(())
//! ```

mod error;
mod event;
mod remote;
mod repo;
mod run;
mod webhook;

pub use error::{BoxError, Error, Result};
pub use event::{
    Commit, Conclusion, Delivery, Host, ImagePublished, PipelineCompleted, PullRequest,
    PullRequestAction, Push, RepoEvent, Repository, Review, Trigger,
};
pub use glueops_files::{BranchError, check_branch};
pub use remote::{DEFAULT_GIT_TIMEOUT, Remote, RemoteError, Transport, redact};
pub use repo::{
    Author, ChangeSet, Edit, HistoryEntry, LOOSE_LIMIT, LocalRepo, PushOutcome, Trailer,
    TreeChange, WriteOutcome, blob_id,
};
pub use webhook::{DEFAULT_MAX_BODY, DeliveryLog, Headers, WebhookReceiver};

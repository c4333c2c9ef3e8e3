//! The one error type of the crate.

use std::path::PathBuf;
use std::time::Duration;

use crate::Host;

/// Why a call to a forge, or the outbox, failed. No variant carries a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The HTTP client cannot be built (no TLS roots).
    #[error("cannot build the HTTP client: {source}")]
    Client {
        /// The cause.
        source: reqwest::Error,
    },
    /// No answer came (a refused connection, a timeout): retried.
    #[error("{operation}: no answer from the forge: {source}")]
    Transport {
        /// What was asked.
        operation: &'static str,
        /// The cause.
        source: reqwest::Error,
    },
    /// The forge answered with an error status.
    #[error("{operation}: the forge answered {status}: {message}")]
    Status {
        /// What was asked.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The forge's message (its JSON `message`, or the start of the body).
        message: String,
        /// When to ask again, from `Retry-After` or a rate-limit reset.
        retry_after: Option<Duration>,
    },
    /// An answer is not what the forge's API describes, or a call cannot be made as given.
    #[error("{operation}: {reason}")]
    Answer {
        /// What was asked.
        operation: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The GitHub App's private key cannot be used.
    #[error(
        "the GitHub App key cannot be read: {reason}; give the PEM file GitHub generated for the app"
    )]
    Key {
        /// What is wrong.
        reason: String,
        /// The cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A call names a host no client was configured for.
    #[error(
        "no {host} client: give --{host}-api and a token (feedback for {host} waits in the outbox)"
    )]
    NotConfigured {
        /// The host.
        host: Host,
    },
    /// A notification endpoint is not a URL glueops sends to.
    #[error("notification endpoint `{url}`: {reason}")]
    Endpoint {
        /// The endpoint, without its query.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A file of the outbox cannot be read or written.
    #[error("cannot use `{}`: {source}; check the cache folder's permissions and free space", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file of the outbox is not one glueops wrote.
    #[error("`{}` is not a journaled call: {source}; move it out of the outbox folder", path.display())]
    Journal {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

impl Error {
    /// Whether asking again later may succeed: no answer, a server error, a rate limit.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::NotConfigured { .. } => true,
            Error::Status {
                status,
                retry_after,
                ..
            } => *status >= 500 || *status == 429 || *status == 408 || retry_after.is_some(),
            _ => false,
        }
    }

    /// When the forge asked to be called again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

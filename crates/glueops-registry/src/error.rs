//! The one error type of the crate.

use std::time::Duration;

/// Why reading a registry failed. No variant carries a credential or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The HTTP client cannot be built (no TLS roots).
    #[error("cannot build the HTTP client: {source}")]
    Client {
        /// The cause.
        source: reqwest::Error,
    },
    /// An image name glueops will not send to a registry.
    #[error("`{image}` is not an image a registry can be asked about: {reason}")]
    Image {
        /// The name as given.
        image: String,
        /// What is wrong.
        reason: String,
    },
    /// A Docker `config.json` that cannot be read.
    #[error("the registry credentials file cannot be used: {reason}")]
    Credentials {
        /// What is wrong (never a secret).
        reason: String,
    },
    /// No answer came (a refused connection, a timeout): asked again at the next poll.
    #[error("{operation} on {registry}: no answer: {source}")]
    Transport {
        /// What was asked.
        operation: &'static str,
        /// The registry host.
        registry: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// The registry answered with an error status.
    #[error("{operation} on {registry}: the registry answered {status}: {message}")]
    Status {
        /// What was asked.
        operation: &'static str,
        /// The registry host.
        registry: String,
        /// The HTTP status.
        status: u16,
        /// The registry's own message (its `errors[0].message`, or the start of the body).
        message: String,
        /// When to ask again (`Retry-After`), for 429 and 503.
        retry_after: Option<Duration>,
    },
    /// The registry asked for credentials glueops does not have, or refused them.
    #[error("{operation} on {registry}: {reason}")]
    Auth {
        /// What was asked.
        operation: &'static str,
        /// The registry host.
        registry: String,
        /// What is missing or refused, and what to give.
        reason: String,
    },
    /// An answer is not what the distribution API describes.
    #[error("{operation} on {registry}: {reason}")]
    Answer {
        /// What was asked.
        operation: &'static str,
        /// The registry host.
        registry: String,
        /// What is wrong.
        reason: String,
    },
    /// Plain HTTP to a registry that is neither on loopback nor named insecure.
    #[error(
        "{registry} would be reached over plain HTTP; glueops only does that for loopback registries and those named by --insecure-registry {registry}"
    )]
    Insecure {
        /// The registry host.
        registry: String,
    },
}

impl Error {
    /// When the registry asked to be left alone for a while (429 or 503 with `Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether asking again later may succeed (no answer, rate limits, server errors).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// Whether the registry does not know the repository or the tag.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Status { status: 404, .. })
    }
}

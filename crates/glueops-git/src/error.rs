//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in `glueops-git`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Neither `X-GitHub-Event` nor `X-Gitlab-Event` is present.
    #[error("not a GitHub or GitLab webhook: neither X-GitHub-Event nor X-Gitlab-Event is set")]
    UnknownSender,
    /// The request carries no signature (GitHub) or token (GitLab) header.
    #[error("{host} webhook without {header}; configure the webhook's secret on the {host} side")]
    MissingSignature {
        /// `github` or `gitlab`.
        host: &'static str,
        /// The header expected.
        header: &'static str,
    },
    /// The signature or token matches none of the configured secrets.
    #[error(
        "{host} webhook signature does not match any configured secret; check that both sides use the same secret"
    )]
    BadSignature {
        /// `github` or `gitlab`.
        host: &'static str,
    },
    /// The body is larger than allowed.
    #[error("webhook body of {size} bytes is over the {max}-byte limit")]
    BodyTooLarge {
        /// Body size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The body is not the JSON the event promises.
    #[error("{host} `{event}` webhook body is malformed at line {line}, column {column}")]
    MalformedPayload {
        /// `github` or `gitlab`.
        host: &'static str,
        /// The event header's value.
        event: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser saw.
        #[source]
        source: serde_json::Error,
    },
    /// The delivery id was seen within the deduplication window.
    #[error("webhook delivery `{id}` was already received; a replay is ignored")]
    Duplicate {
        /// The delivery id.
        id: String,
    },
    /// A path that would leave its prefix, or that git refuses.
    #[error("invalid path `{path}`: it {}", source.reason)]
    InvalidPath {
        /// The path.
        path: String,
        /// What the path check found.
        #[source]
        source: glueops_files::PathError,
    },
    /// Paths of one tree that cannot all hold: a file and a folder at one path, a path below
    /// a file, the whole tree as one path.
    #[error("path `{path}` {conflict}")]
    PathConflict {
        /// The path.
        path: String,
        /// What it conflicts with.
        conflict: &'static str,
    },
    /// A commit trailer that is not `Key: value` on one line.
    #[error(
        "invalid trailer `{key}: {value}`: a trailer is `Key: value`, the key letters, digits and '-', the value one non-empty line"
    )]
    InvalidTrailer {
        /// The key as given.
        key: String,
        /// The value as given.
        value: String,
    },
    /// No branch, tag or ref of that name exists.
    #[error("{repo}: no branch, tag or ref is named `{rev}`; check the name (`git branch -a`)")]
    NoSuchRef {
        /// The repository.
        repo: PathBuf,
        /// The revision.
        rev: String,
    },
    /// A revision that names something, but not a readable commit.
    #[error("{repo}: `{rev}` does not name a readable commit ({what})")]
    BadRevision {
        /// The repository.
        repo: PathBuf,
        /// The revision.
        rev: String,
        /// Which step failed.
        what: &'static str,
        /// What git reported.
        #[source]
        source: BoxError,
    },
    /// A git object or repository problem (missing object, corrupt data, ...).
    #[error("{repo}: {operation} failed")]
    Repository {
        /// The repository.
        repo: PathBuf,
        /// What glueops was doing.
        operation: &'static str,
        /// What git reported.
        #[source]
        source: BoxError,
    },
    /// The `git` command could not be started (used only for network transport).
    #[error(
        "cannot run `git {args}`; glueops uses the git command to fetch and push: install git 2.x"
    )]
    GitMissing {
        /// The arguments.
        args: String,
        /// Why it did not start.
        #[source]
        source: std::io::Error,
    },
    /// The `git` command ran and failed.
    #[error("git {args}: {stderr}")]
    GitCommand {
        /// The arguments (credentials redacted).
        args: String,
        /// What git printed on stderr (credentials redacted).
        stderr: String,
    },
    /// A `git` process passed its deadline and was killed with its children.
    #[error(
        "git {args}: no answer within {after:?}, so it was stopped; check that the remote is reachable, or allow more time with --git-timeout"
    )]
    GitTimeout {
        /// The arguments (credentials redacted).
        args: String,
        /// The deadline.
        after: std::time::Duration,
    },
    /// A repository string that cannot be a remote.
    #[error(transparent)]
    InvalidRemote(#[from] crate::remote::RemoteError),
    /// A branch name git would refuse, or that could be read as an option.
    #[error(transparent)]
    InvalidBranch(#[from] glueops_files::BranchError),
    /// A push kept losing the race after all retries.
    #[error(
        "push to {remote} {branch} still rejected after {attempts} attempts; the branch is busy, retry later"
    )]
    PushContention {
        /// The remote.
        remote: String,
        /// The branch.
        branch: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A cause from gix (its error types differ per operation), kept whole.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    pub(crate) fn repo(
        repo: &std::path::Path,
        operation: &'static str,
        source: impl Into<BoxError>,
    ) -> Error {
        Error::Repository {
            repo: repo.to_path_buf(),
            operation,
            source: source.into(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

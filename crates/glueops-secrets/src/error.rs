//! The crate's one error type. No variant ever carries a secret value: messages name paths,
//! keys, versions, files and backends, never what a secret holds.

use std::path::PathBuf;

/// Everything that can go wrong in `glueops-secrets`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A secret path that does not follow `<app>/<name>`.
    #[error(
        "invalid secret path `{path}`: {reason} (paths are `<app>/<name>`, each a lowercase DNS label: a-z, 0-9 and '-', at most 63 characters)"
    )]
    InvalidPath {
        /// The rejected path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key inside a secret that Kubernetes would not accept.
    #[error(
        "invalid key `{key}` in secret `{path}`: keys are 1-253 characters of a-z, A-Z, 0-9, '-', '_' and '.'"
    )]
    InvalidKey {
        /// The secret.
        path: String,
        /// The rejected key.
        key: String,
    },
    /// A secret with no keys at all.
    #[error("secret `{path}` has no keys; give it at least one key and value")]
    EmptySecret {
        /// The secret.
        path: String,
    },
    /// A store URL that cannot be opened.
    #[error("cannot open secret store `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, without its query or user info (a key or token pasted there is not shown).
        url: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The secret (or the asked version of it) does not exist.
    #[error("secret `{path}`{} not found", version.as_ref().map(|v| format!(" version {v}")).unwrap_or_default())]
    NotFound {
        /// The secret.
        path: String,
        /// The version asked for, if one was.
        version: Option<String>,
    },
    /// The backend refused the credentials.
    #[error("{backend}: permission denied for `{path}`: {hint}")]
    PermissionDenied {
        /// `vault`, `awssm`, ...
        backend: &'static str,
        /// The secret or endpoint.
        path: String,
        /// How to fix it.
        hint: String,
    },
    /// The backend answered with an error, or could not be reached.
    #[error("{backend}: {operation} `{path}` failed: {message}")]
    Backend {
        /// `vault`, `awssm`, `sops`, ...
        backend: &'static str,
        /// `get`, `put`, `list`, ...
        operation: &'static str,
        /// The secret or prefix.
        path: String,
        /// What failed, in the backend's terms (checked to carry no secret value).
        message: String,
        /// The cause: the HTTP client's or the SDK's error, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// An encrypted file or archive failed its integrity check.
    #[error(
        "{file}: {what} failed its integrity check: the file was modified or corrupted; restore it from git history or a backup"
    )]
    Tampered {
        /// The file (or archive entry).
        file: String,
        /// Which part: a value at a key path, the MAC, the data key, ...
        what: String,
    },
    /// None of the identities can open the file's data key.
    #[error(
        "{file}: none of the {identities} age identities given can decrypt this file (it is encrypted for {recipients}); set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY to a matching key"
    )]
    WrongKey {
        /// The file or archive.
        file: String,
        /// How many identities were tried.
        identities: usize,
        /// The recipients the file is encrypted for (public keys).
        recipients: String,
    },
    /// A file that is not in the format expected.
    #[error("{file}: {reason}")]
    Format {
        /// The file.
        file: String,
        /// What does not match, and what was expected.
        reason: String,
    },
    /// A secret file that is not YAML (its text is never shown: it may hold secrets).
    #[error("{file} is not a readable SOPS file")]
    Yaml {
        /// The file.
        file: String,
        /// Where the YAML breaks.
        #[source]
        source: glueops_yaml::Error,
    },
    /// A key (age recipient or identity) that cannot be parsed.
    #[error("invalid age key: {0}")]
    InvalidAgeKey(String),
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The audit log could not be written. The operation itself may have completed.
    #[error("audit log: cannot append the record for {operation} `{path}`: {source}")]
    Audit {
        /// The operation being recorded.
        operation: &'static str,
        /// The secret.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A backup archive that cannot be restored; nothing was written.
    #[error("backup archive {archive}: {reason}; nothing was restored")]
    Archive {
        /// The archive.
        archive: String,
        /// What is wrong.
        reason: String,
    },
    /// A restore that would overwrite secrets the target store already holds.
    #[error(
        "restore target already holds {count} of the archive's secrets (first: `{first}`); restore into an empty store, delete them, or pass `OnExisting::AddVersions`"
    )]
    RestoreConflict {
        /// How many paths exist already.
        count: usize,
        /// The first of them.
        first: String,
    },
    /// A backend compiled out of this build.
    #[error("the `{scheme}://` store needs glueops-secrets built with the `{feature}` feature")]
    FeatureDisabled {
        /// URL scheme.
        scheme: &'static str,
        /// Cargo feature that enables it.
        feature: &'static str,
    },
    /// An internal step failed: a blocking task cancelled or panicked, a lock poisoned, a
    /// cipher refusing its key.
    #[error("internal task failed: {what}")]
    Task {
        /// Which step.
        what: String,
        /// The cause, when there is one.
        #[source]
        source: Option<Cause>,
    },
}

/// The cause of a backend or task failure, as the library that failed gave it.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn not_found(path: impl ToString, version: Option<impl ToString>) -> Error {
        Error::NotFound {
            path: path.to_string(),
            version: version.map(|v| v.to_string()),
        }
    }

    /// An internal step that failed on its own.
    pub(crate) fn task(what: impl Into<String>) -> Error {
        Error::Task {
            what: what.into(),
            source: None,
        }
    }

    /// An internal step that failed because of `source`.
    pub(crate) fn task_from(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Task {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }

    /// True when the secret or version does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

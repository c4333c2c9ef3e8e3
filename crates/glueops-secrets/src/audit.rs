//! The audit trail: one JSON line per mutating call, never a value.

use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::secret::{Secret, SecretData, SecretPath, VersionId, VersionInfo};
use crate::store::SecretStore;

/// Where audit records go: any writer the caller supplies (a file opened for append, stderr, a
/// pipe to a log shipper), shared by every store that writes to it. Cloning shares the writer.
///
/// Each record is one JSON object on one line:
/// `{"time":"2026-11-24T02:41:11Z","actor":"ci","backend":"sops","operation":"put","path":"api/db","version":"3","outcome":"ok"}`.
/// Records name keys never; values never.
#[derive(Clone)]
pub struct AuditLog {
    sink: Arc<Mutex<Box<dyn Write + Send>>>,
    actor: String,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// One audit record, as written.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    /// When, UTC, RFC 3339.
    pub time: String,
    /// Who (the actor given to [`AuditLog::new`]).
    pub actor: &'a str,
    /// Which backend.
    pub backend: &'a str,
    /// `put`, `delete`, `rotate`, `restore`, `reveal` (values printed in clear).
    pub operation: &'a str,
    /// Which secret.
    pub path: &'a str,
    /// The version written, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    /// `ok`, or `error: <kind>` (the kind only, never the message).
    pub outcome: String,
}

impl AuditLog {
    /// Records go to `sink`, attributed to `actor` (a user, a CI job, a controller).
    pub fn new(sink: impl Write + Send + 'static, actor: impl Into<String>) -> AuditLog {
        AuditLog {
            sink: Arc::new(Mutex::new(Box::new(sink))),
            actor: actor.into(),
        }
    }

    /// Opens (creating) `file` for append.
    pub fn to_file(
        file: impl AsRef<std::path::Path>,
        actor: impl Into<String>,
    ) -> Result<AuditLog> {
        let path = file.as_ref();
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(AuditLog::new(f, actor))
    }

    /// The actor records are attributed to.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Appends one record and flushes it. This blocks (a write to the sink); the audited
    /// stores call it off the async runtime (on tokio's blocking pool).
    pub fn record(
        &self,
        backend: &str,
        operation: &'static str,
        path: &str,
        version: Option<&str>,
        outcome: std::result::Result<(), &Error>,
    ) -> Result<()> {
        self.record_kind(
            backend,
            operation,
            path,
            version,
            outcome.err().map(error_kind),
        )
    }

    /// One record; `failed` is the error kind when the operation failed.
    fn record_kind(
        &self,
        backend: &str,
        operation: &'static str,
        path: &str,
        version: Option<&str>,
        failed: Option<&'static str>,
    ) -> Result<()> {
        let record = AuditRecord {
            time: jiff::Timestamp::now()
                .round(jiff::Unit::Millisecond)
                .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string()),
            actor: &self.actor,
            backend,
            operation,
            path,
            version,
            outcome: match failed {
                None => "ok".to_string(),
                Some(kind) => format!("error: {kind}"),
            },
        };
        let audit_error = |source| Error::Audit {
            operation,
            path: path.to_string(),
            source,
        };
        let mut line =
            serde_json::to_vec(&record).map_err(|e| audit_error(std::io::Error::other(e)))?;
        line.push(b'\n');
        let mut sink = self
            .sink
            .lock()
            .map_err(|_| audit_error(std::io::Error::other("audit writer poisoned")))?;
        sink.write_all(&line).map_err(audit_error)?;
        sink.flush().map_err(audit_error)
    }
}

impl AuditLog {
    /// [`AuditLog::record`] on tokio's blocking pool, so an async caller never waits on the
    /// sink's I/O on a runtime thread.
    async fn record_off_runtime(
        &self,
        backend: &'static str,
        operation: &'static str,
        path: &str,
        version: Option<&str>,
        outcome: std::result::Result<(), &Error>,
    ) -> Result<()> {
        let log = self.clone();
        let (path, version) = (path.to_string(), version.map(str::to_string));
        let failed = outcome.err().map(error_kind);
        tokio::task::spawn_blocking(move || {
            log.record_kind(backend, operation, &path, version.as_deref(), failed)
        })
        .await
        .map_err(|e| Error::task_from("audit writer", e))?
    }
}

/// The variant name of an error: what an audit record says about a failure.
fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::InvalidPath { .. } => "invalid-path",
        Error::InvalidKey { .. } => "invalid-key",
        Error::EmptySecret { .. } => "empty-secret",
        Error::NotFound { .. } => "not-found",
        Error::PermissionDenied { .. } => "permission-denied",
        Error::Tampered { .. } => "tampered",
        Error::WrongKey { .. } => "wrong-key",
        Error::Io { .. } => "io",
        _ => "backend",
    }
}

/// A store whose every `put` and `delete` (success or failure) is recorded in an [`AuditLog`].
/// [`open`](crate::open) always returns one of these.
#[derive(Debug)]
pub struct Audited<S> {
    inner: S,
    log: AuditLog,
}

impl<S: SecretStore> Audited<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, log: AuditLog) -> Audited<S> {
        Audited { inner, log }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The log records go to.
    pub fn log(&self) -> &AuditLog {
        &self.log
    }
}

#[async_trait]
impl<S: SecretStore> SecretStore for Audited<S> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn get(&self, path: &SecretPath, version: Option<&VersionId>) -> Result<Secret> {
        self.inner.get(path, version).await
    }

    async fn put(&self, path: &SecretPath, data: &SecretData) -> Result<VersionId> {
        let result = self.inner.put(path, data).await;
        let (version, outcome) = match &result {
            Ok(v) => (Some(v.as_str()), Ok(())),
            Err(e) => (None, Err(e)),
        };
        self.log
            .record_off_runtime(self.backend(), "put", path.as_str(), version, outcome)
            .await?;
        result
    }

    async fn list(&self, prefix: &str) -> Result<Vec<SecretPath>> {
        self.inner.list(prefix).await
    }

    async fn versions(&self, path: &SecretPath) -> Result<Vec<VersionInfo>> {
        self.inner.versions(path).await
    }

    async fn delete(&self, path: &SecretPath) -> Result<()> {
        let result = self.inner.delete(path).await;
        self.log
            .record_off_runtime(
                self.backend(),
                "delete",
                path.as_str(),
                None,
                result.as_ref().map(|_| ()),
            )
            .await?;
        result
    }
}

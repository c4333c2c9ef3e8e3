//! [`Options`]: what every operation of the loop is given — the cache folder, the time, the
//! branches, the git deadline, and the caller's [`Session`](crate::Session).

use std::path::PathBuf;

use jiff::Timestamp;

/// Settings every flow shares.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the bare clones live.
    pub cache: PathBuf,
    /// The time used for windows, ages and commit timestamps.
    pub now: Timestamp,
    /// Plan only: nothing is committed or pushed.
    pub dry_run: bool,
    /// Let a plan remove deployments the config did not delete.
    pub allow_delete: bool,
    /// The manifest branch (default `spec.manifestRepo.branch`, else `main`).
    pub branch: Option<String>,
    /// The config branch (default the config repository's default branch).
    pub config_branch: Option<String>,
    /// How long one git process (a fetch, a push) may run before it is killed with its
    /// children and the call fails with a timeout (default
    /// [`DEFAULT_GIT_TIMEOUT`](crate::git::DEFAULT_GIT_TIMEOUT)).
    pub git_timeout: std::time::Duration,
    /// What the calls sharing these options remember between them (branch tips, claims):
    /// a fresh one-shot [`Session`](crate::Session) from [`Options::new`]; a long-running
    /// caller puts one [`Session::long_running`](crate::Session::long_running) per
    /// config/manifest pair here and keeps it.
    pub session: std::sync::Arc<crate::Session>,
    /// Where the verification gates read checks from (`promotion.requires.checks`); `None`:
    /// required checks hold, saying no forge was given.
    pub checks: Option<std::sync::Arc<dyn crate::verification::CheckSource>>,
}

impl Options {
    /// Options with the cache under `cache`, at `now`.
    pub fn new(cache: impl Into<PathBuf>, now: Timestamp) -> Options {
        Options {
            cache: cache.into(),
            now,
            dry_run: false,
            allow_delete: false,
            branch: None,
            config_branch: None,
            git_timeout: crate::git::DEFAULT_GIT_TIMEOUT,
            session: std::sync::Arc::default(),
            checks: None,
        }
    }
}

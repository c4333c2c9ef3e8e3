//! What the server knows of its own health: `/readyz`'s state and reason codes, and the lock
//! files a killed process left in the cache, cleared at start.

use serde::Serialize;

/// What `/readyz` reports: reachability and a reason code, never an error's text (it is
/// answered to anyone; the text, credentials redacted, is in the log).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Health {
    pub(crate) config_reachable: bool,
    pub(crate) manifests_reachable: bool,
    pub(crate) last_sync_ok: bool,
    /// Why the last batch or sync failed: `git-timeout`, `git-failed`, `config-invalid`,
    /// `render-failed` or `failed`; `null` after a success.
    pub(crate) reason: Option<&'static str>,
}

impl Health {
    pub(crate) fn ready(&self) -> bool {
        self.config_reachable && self.manifests_reachable && self.last_sync_ok
    }
}

/// The reason code of a failure, for `/readyz`.
pub(crate) fn reason_code(e: &glueops::Error) -> &'static str {
    match e {
        glueops::Error::Git(glueops::git::Error::GitTimeout { .. }) => "git-timeout",
        glueops::Error::Git(_) | glueops::Error::Contention { .. } => "git-failed",
        glueops::Error::Config(_) => "config-invalid",
        glueops::Error::Render(_) => "render-failed",
        _ => "failed",
    }
}

/// Removes the lock files a killed process left in the cache's clones (`refs/**.lock`,
/// `packed-refs.lock`, ...): the cache is this replica's alone, so no live writer holds one.
pub(crate) fn clear_stale_locks(cache: &std::path::Path) {
    fn walk(dir: &std::path::Path, removed: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, removed);
            } else if path.extension().is_some_and(|e| e == "lock")
                && std::fs::remove_file(&path).is_ok()
            {
                *removed += 1;
            }
        }
    }
    let Ok(clones) = std::fs::read_dir(cache) else {
        return;
    };
    let mut removed = 0;
    for clone in clones
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("HEAD").is_file())
    {
        if let Ok(top) = std::fs::read_dir(&clone) {
            for entry in top.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "lock")
                    && std::fs::remove_file(&path).is_ok()
                {
                    removed += 1;
                }
            }
        }
        walk(&clone.join("refs"), &mut removed);
    }
    if removed > 0 {
        tracing::info!(
            removed,
            "removed lock files a stopped process left in the cache"
        );
    }
}

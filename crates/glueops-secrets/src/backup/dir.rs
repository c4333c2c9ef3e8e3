//! A folder of backup archives with retention: keep the newest N.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{Archive, BackupSummary, backup, verify};
use crate::atomic;
use crate::error::{Error, Result};
use crate::keys::{Identities, Recipients};
use crate::store::SecretStore;

const PREFIX: &str = "secrets-";
const SUFFIX: &str = ".age";

/// A folder of archives named `secrets-<UTC time>.age`, newest kept, oldest pruned.
///
/// An archive is complete in memory before its file is created, is written to a temp file,
/// fsynced and linked into place under a new name, and only then are old archives pruned: a
/// backup that fails or is killed never replaces or removes a good one.
#[derive(Debug, Clone)]
pub struct BackupDir {
    dir: PathBuf,
    keep: usize,
}

impl BackupDir {
    /// Archives in `dir` (created when missing), keeping the newest `keep` (at least 1).
    pub fn new(dir: impl Into<PathBuf>, keep: usize) -> Result<BackupDir> {
        let dir = dir.into();
        if keep == 0 {
            return Err(Error::Archive {
                archive: dir.display().to_string(),
                reason: "retention must keep at least one archive".into(),
            });
        }
        atomic::create_dirs(&dir)?;
        Ok(BackupDir { dir, keep })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Backs `store` up into a new archive, then prunes to the newest `keep`.
    pub async fn backup(
        &self,
        store: &dyn SecretStore,
        recipients: &Recipients,
    ) -> Result<(PathBuf, BackupSummary)> {
        let (bytes, summary) = backup(store, recipients).await?;
        let now = jiff::Timestamp::now();
        let stamp = format!(
            "{}{:03}Z",
            now.strftime("%Y%m%dT%H%M%S."),
            now.subsec_millisecond()
        );
        let mut n = 0;
        let file = loop {
            let name = match n {
                0 => format!("{PREFIX}{stamp}{SUFFIX}"),
                n => format!("{PREFIX}{stamp}-{n}{SUFFIX}"),
            };
            let file = self.dir.join(name);
            if atomic::create_new(&file, &bytes)? {
                break file;
            }
            n += 1;
        };
        self.prune()?;
        Ok((file, summary))
    }

    /// The archives, oldest first.
    pub fn archives(&self) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))? {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(PREFIX) && name.ends_with(SUFFIX) {
                out.push(entry.path());
            }
        }
        // Names sort by time (`-N` suffixes sort after their base name).
        out.sort_by_key(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = name.trim_end_matches(SUFFIX).to_string();
            match stem.rsplit_once('-') {
                Some((base, n)) if base.ends_with('Z') => {
                    (base.to_string(), n.parse::<u64>().unwrap_or(0))
                }
                _ => (stem, 0),
            }
        });
        Ok(out)
    }

    /// The newest archive, decrypted and verified.
    pub fn latest(&self, identities: &Identities) -> Result<Option<Archive>> {
        let Some(file) = self.archives()?.pop() else {
            return Ok(None);
        };
        let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
        verify(&bytes, identities, &file.display().to_string()).map(Some)
    }

    /// Removes archives beyond the newest `keep`, and temp files of backups killed over an
    /// hour ago.
    fn prune(&self) -> Result<()> {
        let archives = self.archives()?;
        let excess = archives.len().saturating_sub(self.keep);
        for old in &archives[..excess] {
            std::fs::remove_file(old).map_err(|e| Error::io(old, e))?;
        }
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(&self.dir)
            .map_err(|e| Error::io(&self.dir, e))?
            .flatten()
        {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < hour_ago);
            if atomic::is_temp(&entry.file_name().to_string_lossy()) && stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        atomic::sync_dir(&self.dir)
    }
}

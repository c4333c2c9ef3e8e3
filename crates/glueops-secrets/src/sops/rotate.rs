//! Key rotation: every file re-encrypted for a new recipient set with a fresh data key (what
//! `sops updatekeys` followed by `sops rotate` does), all files verified before any is written.

use std::path::PathBuf;

use super::{HISTORY_EXT, Inner, SopsStore, format};
use crate::atomic;
use crate::audit::AuditLog;
use crate::error::{Error, Result};
use crate::keys::Recipients;
use crate::secret::SecretPath;

/// What a rotation changed, or would change in a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// True when nothing was written.
    pub dry_run: bool,
    /// The new recipients.
    pub recipients: Vec<String>,
    /// Every file, in path and version order.
    pub files: Vec<RotationFile>,
}

/// One file of a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationFile {
    /// The file.
    pub file: PathBuf,
    /// The secret it holds.
    pub path: SecretPath,
    /// The version it holds.
    pub version: u64,
    /// Recipients that gain access.
    pub added: Vec<String>,
    /// Recipients that lose access.
    pub removed: Vec<String>,
}

impl std::fmt::Display for Rotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run {
            "would re-encrypt"
        } else {
            "re-encrypted"
        };
        writeln!(
            f,
            "{verb} {} files for {}",
            self.files.len(),
            self.recipients.join(", ")
        )?;
        for file in &self.files {
            write!(
                f,
                "  {} ({} v{})",
                file.file.display(),
                file.path,
                file.version
            )?;
            for r in &file.added {
                write!(f, " +{r}")?;
            }
            for r in &file.removed {
                write!(f, " -{r}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

struct Planned {
    entry: RotationFile,
    data: crate::secret::SecretData,
    /// Also rewrite the newest-version file with these bytes.
    is_current: bool,
}

impl SopsStore {
    /// Re-encrypts every version of every secret for `recipients`, each with a new data key,
    /// and makes them the recipients of later writes. With `dry_run`, only reports.
    /// Every file is decrypted and verified first; a file that fails stops the rotation before
    /// anything is written. Each secret rotated is recorded in `audit`, when given.
    pub async fn rotate(
        &self,
        recipients: Recipients,
        dry_run: bool,
        audit: Option<&AuditLog>,
    ) -> Result<Rotation> {
        let audit = audit.cloned();
        self.blocking(move |inner| inner.rotate(recipients, dry_run, audit.as_ref()))
            .await
    }
}

impl Inner {
    fn rotate(
        &self,
        recipients: Recipients,
        dry_run: bool,
        audit: Option<&AuditLog>,
    ) -> Result<Rotation> {
        let new_keys = recipients.sorted();
        let mut plan: Vec<Planned> = Vec::new();
        for path in self.list("")? {
            let history = self.history(&path)?;
            let mut files: Vec<(PathBuf, Option<u64>)> = history
                .iter()
                .map(|n| {
                    let file = self.history_dir(&path).join(format!("{n}.{HISTORY_EXT}"));
                    (file, Some(*n))
                })
                .collect();
            if history.is_empty() {
                files.push((self.current_file(&path), None));
            }
            let last = files.len().saturating_sub(1);
            for (i, (file, number)) in files.into_iter().enumerate() {
                let decoded = self
                    .read(&file)?
                    .ok_or_else(|| Error::not_found(&path, number))?;
                let version = number
                    .or_else(|| decoded.version.as_deref().and_then(|v| v.parse().ok()))
                    .unwrap_or(1);
                let mut old = decoded.recipients.clone();
                old.sort();
                plan.push(Planned {
                    entry: RotationFile {
                        file,
                        path: path.clone(),
                        version,
                        added: new_keys
                            .iter()
                            .filter(|k| !old.contains(k))
                            .cloned()
                            .collect(),
                        removed: old
                            .iter()
                            .filter(|k| !new_keys.contains(k))
                            .cloned()
                            .collect(),
                    },
                    data: decoded.data,
                    is_current: i == last,
                });
            }
        }
        if !dry_run {
            for item in &plan {
                let e = &item.entry;
                let text = format::encode(
                    &e.path,
                    e.version,
                    &item.data,
                    &recipients,
                    jiff::Timestamp::now(),
                )?;
                let result = atomic::replace(&e.file, text.as_bytes()).and_then(|()| {
                    if item.is_current && e.file != self.current_file(&e.path) {
                        atomic::replace(&self.current_file(&e.path), text.as_bytes())
                    } else {
                        Ok(())
                    }
                });
                if let Some(log) = audit {
                    let version = e.version.to_string();
                    log.record(
                        "sops",
                        "rotate",
                        e.path.as_str(),
                        Some(&version),
                        result.as_ref().map(|_| ()),
                    )?;
                }
                result?;
            }
            *self
                .recipients
                .write()
                .map_err(|_| Error::task("recipients lock poisoned"))? = recipients.clone();
        }
        Ok(Rotation {
            dry_run,
            recipients: recipients.keys().map(str::to_string).collect(),
            files: plan.into_iter().map(|p| p.entry).collect(),
        })
    }
}

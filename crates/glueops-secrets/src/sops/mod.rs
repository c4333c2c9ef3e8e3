//! `sops://`: one SOPS-encrypted Kubernetes Secret per file under a folder (a git checkout,
//! typically), readable by the `sops` CLI and decryptable by Flux in the cluster.
//!
//! Layout, for secret `api/database`:
//! - `<dir>/api/database.yaml` — the newest version, a `v1` Secret named `database` with its
//!   values under `stringData`, encrypted with `encrypted_regex: ^(data|stringData)$`. Point a
//!   Flux `Kustomization` (with `decryption.provider: sops`) at the folder.
//! - `<dir>/api/.history/database/<N>.sops` — every version, `1`, `2`, ... (same format; the
//!   extension keeps kustomize and Flux from applying them). Decrypt one with
//!   `sops decrypt --input-type yaml --output-type yaml <file>`.
//!
//! Every write is crash-safe: a version file is created with a temp file, fsync and a link
//! that never overwrites, then the newest-version file is replaced by rename. A writer killed
//! at any point leaves the previous version readable.

mod format;
mod rotate;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::atomic;
use crate::error::{Error, Result};
use crate::keys::{Identities, Recipients};
use crate::secret::{Secret, SecretData, SecretPath, VersionId, VersionInfo};
use crate::store::SecretStore;

pub use rotate::{Rotation, RotationFile};

const HISTORY: &str = ".history";
const HISTORY_EXT: &str = "sops";
const LOCK: &str = ".lock";

/// A folder of SOPS-encrypted secrets. Cheap to clone; clones share state.
#[derive(Clone, Debug)]
pub struct SopsStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    recipients: RwLock<Recipients>,
    identities: std::result::Result<Identities, String>,
}

impl SopsStore {
    /// A store in `dir` (created when missing) that encrypts for `recipients` and decrypts with
    /// `identities`.
    pub fn new(
        dir: impl Into<PathBuf>,
        recipients: Recipients,
        identities: Identities,
    ) -> SopsStore {
        SopsStore::with_identities(dir.into(), recipients, Ok(identities))
    }

    /// A store that decrypts with the identities `sops` would use
    /// ([`Identities::from_env`]). When none are found, writes still work and reads fail with
    /// the reason.
    pub fn from_env(dir: impl Into<PathBuf>, recipients: Recipients) -> SopsStore {
        let identities = Identities::from_env().map_err(|e| match e {
            Error::InvalidAgeKey(reason) => reason,
            other => other.to_string(),
        });
        SopsStore::with_identities(dir.into(), recipients, identities)
    }

    fn with_identities(
        dir: PathBuf,
        recipients: Recipients,
        identities: std::result::Result<Identities, String>,
    ) -> SopsStore {
        SopsStore {
            inner: Arc::new(Inner {
                dir,
                recipients: RwLock::new(recipients),
                identities,
            }),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The file holding the newest version of `path`.
    pub fn current_file(&self, path: &SecretPath) -> PathBuf {
        self.inner.current_file(path)
    }

    /// The file holding version `version` of `path`.
    pub fn version_file(&self, path: &SecretPath, version: u64) -> PathBuf {
        self.inner
            .history_dir(path)
            .join(format!("{version}.{HISTORY_EXT}"))
    }

    /// The recipients new writes are encrypted for.
    pub fn recipients(&self) -> Result<Recipients> {
        self.inner.recipients()
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| Error::task_from("sops worker", e))?
    }
}

impl Inner {
    fn current_file(&self, path: &SecretPath) -> PathBuf {
        self.dir
            .join(path.app())
            .join(format!("{}.yaml", path.name()))
    }

    fn history_dir(&self, path: &SecretPath) -> PathBuf {
        self.dir.join(path.app()).join(HISTORY).join(path.name())
    }

    fn recipients(&self) -> Result<Recipients> {
        self.recipients
            .read()
            .map(|r| r.clone())
            .map_err(|_| Error::task("recipients lock poisoned"))
    }

    fn identities(&self) -> Result<&Identities> {
        self.identities
            .as_ref()
            .map_err(|reason| Error::InvalidAgeKey(reason.clone()))
    }

    /// Version numbers in the history, ascending.
    fn history(&self, path: &SecretPath) -> Result<Vec<u64>> {
        let dir = self.history_dir(path);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&dir, e)),
        };
        let mut versions = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| Error::io(&dir, e))?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_suffix(&format!(".{HISTORY_EXT}"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                versions.push(n);
            }
        }
        versions.sort_unstable();
        Ok(versions)
    }

    fn read(&self, file: &Path) -> Result<Option<format::Decoded>> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(Error::Format {
                    file: file.display().to_string(),
                    reason: "not UTF-8 text".into(),
                });
            }
            Err(e) => return Err(Error::io(file, e)),
        };
        format::decode(&text, &file.display().to_string(), self.identities()?).map(Some)
    }

    fn get(&self, path: &SecretPath, version: Option<&VersionId>) -> Result<Secret> {
        let history = self.history(path)?;
        let wanted = match version {
            None => history.last().copied(),
            Some(v) => Some(
                v.as_str()
                    .parse::<u64>()
                    .map_err(|_| Error::not_found(path, Some(v)))?,
            ),
        };
        let from_history = match wanted {
            Some(n) if history.contains(&n) => {
                let file = self.history_dir(path).join(format!("{n}.{HISTORY_EXT}"));
                self.read(&file)?.map(|d| (n.to_string(), d))
            }
            _ => None,
        };
        let found = match from_history {
            Some(found) => Some(found),
            // A file put here by hand (`sops encrypt`), with no history: version 1 unless it
            // says otherwise.
            None => self.read(&self.current_file(path))?.and_then(|d| {
                let n = d.version.clone().unwrap_or_else(|| "1".into());
                let matches = match &wanted {
                    None => history.is_empty(),
                    Some(w) => n == w.to_string(),
                };
                matches.then_some((n, d))
            }),
        };
        let (id, decoded) = found.ok_or_else(|| Error::not_found(path, version))?;
        Ok(Secret {
            path: path.clone(),
            version: VersionId::new(id),
            data: decoded.data,
        })
    }

    fn put(&self, path: &SecretPath, data: &SecretData) -> Result<VersionId> {
        data.validate(path)?;
        let recipients = self.recipients()?;
        let history_dir = self.history_dir(path);
        let _lock = self.lock(path)?;
        let mut next = self.history(path)?.last().copied().unwrap_or(0) + 1;
        let current_file = self.current_file(path);
        if next == 1 && current_file.exists() {
            // A file put here by hand: it becomes the first version in the history (checked
            // first, so a tampered file is never carried forward).
            let current = self
                .read(&current_file)?
                .ok_or_else(|| Error::not_found(path, None::<&str>))?;
            let n = current
                .version
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1);
            let bytes = std::fs::read(&current_file).map_err(|e| Error::io(&current_file, e))?;
            atomic::create_new(&history_dir.join(format!("{n}.{HISTORY_EXT}")), &bytes)?;
            next = n + 1;
        }
        loop {
            let text = format::encode(path, next, data, &recipients, jiff::Timestamp::now())?;
            let file = history_dir.join(format!("{next}.{HISTORY_EXT}"));
            if atomic::create_new(&file, text.as_bytes())? {
                atomic::replace(&self.current_file(path), text.as_bytes())?;
                return Ok(VersionId::new(next.to_string()));
            }
            // Another writer took this number (one that does not lock); take the next.
            next += 1;
        }
    }

    /// Holds the secret's lock file (`.history/<name>/.lock`) until dropped, so writers in
    /// other processes take version numbers and replace the newest-version file one at a
    /// time (and the newest-version file always holds the highest version). The OS releases
    /// it when a writer dies.
    fn lock(&self, path: &SecretPath) -> Result<std::fs::File> {
        let history_dir = self.history_dir(path);
        atomic::create_dirs(&history_dir)?;
        let file = history_dir.join(LOCK);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&file)
            .map_err(|e| Error::io(&file, e))?;
        lock.lock().map_err(|e| Error::io(&file, e))?;
        Ok(lock)
    }

    fn list(&self, prefix: &str) -> Result<Vec<SecretPath>> {
        let mut out = Vec::new();
        let apps = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        for app in apps {
            let app = app.map_err(|e| Error::io(&self.dir, e))?;
            let app_name = app.file_name().to_string_lossy().into_owned();
            if app_name.starts_with('.') || !app.path().is_dir() {
                continue;
            }
            // A secret exists when its newest-version file does, or (after a crash before
            // that file was first written) when its history holds a version.
            let valid = |name: &str| {
                SecretPath::new(&format!("{app_name}/{name}"))
                    .ok()
                    .filter(|p| p.as_str().starts_with(prefix))
            };
            let mut found = std::collections::BTreeSet::new();
            for entry in std::fs::read_dir(app.path()).map_err(|e| Error::io(app.path(), e))? {
                let entry = entry.map_err(|e| Error::io(app.path(), e))?;
                let file = entry.file_name().to_string_lossy().into_owned();
                if let Some(path) = file.strip_suffix(".yaml").and_then(valid) {
                    found.insert(path);
                }
            }
            if let Ok(entries) = std::fs::read_dir(app.path().join(HISTORY)) {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if let Some(path) = valid(&name)
                        && !found.contains(&path)
                        && !self.history(&path)?.is_empty()
                    {
                        found.insert(path);
                    }
                }
            }
            out.extend(found);
        }
        out.sort();
        Ok(out)
    }

    fn versions(&self, path: &SecretPath) -> Result<Vec<VersionInfo>> {
        let created = |file: &Path| {
            std::fs::read_to_string(file)
                .ok()
                .and_then(|text| format::lastmodified(&text))
        };
        let history = self.history(path)?;
        if history.is_empty() {
            let file = self.current_file(path);
            let current = self
                .read(&file)?
                .ok_or_else(|| Error::not_found(path, None::<&str>))?;
            return Ok(vec![VersionInfo {
                id: VersionId::new(current.version.unwrap_or_else(|| "1".into())),
                created: created(&file),
                stages: Vec::new(),
            }]);
        }
        let dir = self.history_dir(path);
        Ok(history
            .into_iter()
            .map(|n| VersionInfo {
                id: VersionId::new(n.to_string()),
                created: created(&dir.join(format!("{n}.{HISTORY_EXT}"))),
                stages: Vec::new(),
            })
            .collect())
    }

    fn delete(&self, path: &SecretPath) -> Result<()> {
        let current = self.current_file(path);
        let history = self.history_dir(path);
        if !current.exists() && self.history(path)?.is_empty() {
            return Err(Error::not_found(path, None::<&str>));
        }
        let _lock = self.lock(path)?;
        // The deployable file goes first, so a crash never leaves it without its history.
        match std::fs::remove_file(&current) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&current, e)),
        }
        if history.exists() {
            std::fs::remove_dir_all(&history).map_err(|e| Error::io(&history, e))?;
        }
        let app = self.dir.join(path.app());
        let _ = std::fs::remove_dir(app.join(HISTORY));
        let _ = std::fs::remove_dir(&app);
        atomic::sync_dir(&self.dir)
    }
}

#[async_trait]
impl SecretStore for SopsStore {
    fn backend(&self) -> &'static str {
        "sops"
    }

    async fn get(&self, path: &SecretPath, version: Option<&VersionId>) -> Result<Secret> {
        let (path, version) = (path.clone(), version.cloned());
        self.blocking(move |s| s.get(&path, version.as_ref())).await
    }

    async fn put(&self, path: &SecretPath, data: &SecretData) -> Result<VersionId> {
        let (path, data) = (path.clone(), data.clone());
        self.blocking(move |s| s.put(&path, &data)).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<SecretPath>> {
        let prefix = prefix.to_string();
        self.blocking(move |s| s.list(&prefix)).await
    }

    async fn versions(&self, path: &SecretPath) -> Result<Vec<VersionInfo>> {
        let path = path.clone();
        self.blocking(move |s| s.versions(&path)).await
    }

    async fn delete(&self, path: &SecretPath) -> Result<()> {
        let path = path.clone();
        self.blocking(move |s| s.delete(&path)).await
    }
}

//! `memory://`: an in-process store for tests of callers. Nothing persists.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::secret::{Secret, SecretData, SecretPath, VersionId, VersionInfo};
use crate::store::SecretStore;

/// Versions `"1"`, `"2"`, ... per path, like Vault.
#[derive(Debug, Default)]
pub struct MemoryStore {
    secrets: Mutex<Secrets>,
}

type Secrets = BTreeMap<SecretPath, Vec<(VersionInfo, SecretData)>>;

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn locked(&self) -> Result<std::sync::MutexGuard<'_, Secrets>> {
        self.secrets
            .lock()
            .map_err(|_| Error::task("memory store lock poisoned"))
    }
}

#[async_trait]
impl SecretStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, path: &SecretPath, version: Option<&VersionId>) -> Result<Secret> {
        let secrets = self.locked()?;
        let versions = secrets
            .get(path)
            .ok_or_else(|| Error::not_found(path, version))?;
        let found = match version {
            None => versions.last(),
            Some(id) => versions.iter().find(|(info, _)| &info.id == id),
        };
        let (info, data) = found.ok_or_else(|| Error::not_found(path, version))?;
        Ok(Secret {
            path: path.clone(),
            version: info.id.clone(),
            data: data.clone(),
        })
    }

    async fn put(&self, path: &SecretPath, data: &SecretData) -> Result<VersionId> {
        data.validate(path)?;
        let mut secrets = self.locked()?;
        let versions = secrets.entry(path.clone()).or_default();
        let next = versions
            .last()
            .and_then(|(info, _)| info.id.as_str().parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        let id = VersionId::new(next.to_string());
        versions.push((
            VersionInfo {
                id: id.clone(),
                created: Some(jiff::Timestamp::now()),
                stages: Vec::new(),
            },
            data.clone(),
        ));
        Ok(id)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<SecretPath>> {
        Ok(self
            .locked()?
            .keys()
            .filter(|p| p.as_str().starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn versions(&self, path: &SecretPath) -> Result<Vec<VersionInfo>> {
        let secrets = self.locked()?;
        let versions = secrets
            .get(path)
            .ok_or_else(|| Error::not_found(path, None::<&str>))?;
        Ok(versions.iter().map(|(info, _)| info.clone()).collect())
    }

    async fn delete(&self, path: &SecretPath) -> Result<()> {
        self.locked()?
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| Error::not_found(path, None::<&str>))
    }
}

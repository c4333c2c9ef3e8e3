//! `vault://`: Vault or OpenBao KV v2, over its HTTP API (a few calls; no client crate).

use std::collections::BTreeMap;

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::secret::{Secret, SecretData, SecretPath, VersionId, VersionInfo, WireValue, to_json};
use crate::store::SecretStore;

const BACKEND: &str = "vault";

/// A KV v2 mount. Versions are KV v2 version numbers; `delete` removes all versions and the
/// metadata (`DELETE <mount>/metadata/<path>`).
#[derive(Debug, Clone)]
pub struct VaultStore {
    http: reqwest::Client,
    address: String,
    mount: String,
    token: SecretString,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct ReadData {
    data: Option<BTreeMap<String, WireValue>>,
    metadata: ReadMetadata,
}

#[derive(Deserialize)]
struct ReadMetadata {
    version: u64,
}

#[derive(Deserialize)]
struct WriteData {
    version: u64,
}

#[derive(Deserialize)]
struct Keys {
    keys: Vec<String>,
}

#[derive(Deserialize)]
struct Metadata {
    versions: BTreeMap<String, VersionMetadata>,
}

#[derive(Deserialize)]
struct VersionMetadata {
    created_time: String,
    #[serde(default)]
    deletion_time: String,
    #[serde(default)]
    destroyed: bool,
}

#[derive(Deserialize, Default)]
struct Errors {
    #[serde(default)]
    errors: Vec<String>,
}

impl VaultStore {
    /// A store for the KV v2 mount `mount` at `address` (`https://vault.example:8200`).
    pub fn new(address: &str, mount: &str, token: SecretString) -> Result<VaultStore> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Backend {
                backend: BACKEND,
                operation: "connect",
                path: address.to_string(),
                message: "cannot build the HTTP client".into(),
                source: Some(Box::new(e)),
            })?;
        Ok(VaultStore {
            http,
            address: address.trim_end_matches('/').to_string(),
            mount: mount.trim_matches('/').to_string(),
            token,
        })
    }

    /// Sends one request; `Ok(None)` on 404.
    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        operation: &'static str,
        method: Method,
        api_path: &str,
        what: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Option<T>> {
        let url = format!("{}/v1/{}/{api_path}", self.address, self.mount);
        let failed = |message: String, source: Option<crate::error::Cause>| Error::Backend {
            backend: BACKEND,
            operation,
            path: what.to_string(),
            message,
            source,
        };
        let backend_error = |message: String| failed(message, None);
        let mut request = self
            .http
            .request(method, &url)
            .header("X-Vault-Token", self.token.expose_secret());
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| failed(format!("cannot reach {}", self.address), Some(Box::new(e))))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| failed("reading the answer".into(), Some(Box::new(e))))?;
        match status {
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::NO_CONTENT => serde_json::from_slice(b"null")
                .map(Some)
                .map_err(|_| backend_error("unexpected empty answer".into())),
            StatusCode::FORBIDDEN => Err(Error::PermissionDenied {
                backend: BACKEND,
                path: what.to_string(),
                hint:
                    "the token (VAULT_TOKEN) is invalid, expired, or lacks a policy for this path"
                        .into(),
            }),
            s if s.is_success() => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| failed("unexpected answer".into(), Some(Box::new(e)))),
            s => {
                let errors: Errors = serde_json::from_slice(&bytes).unwrap_or_default();
                Err(backend_error(format!(
                    "HTTP {s}: {}",
                    errors.errors.join("; ")
                )))
            }
        }
    }

    async fn list_keys(&self, folder: &str) -> Result<Vec<String>> {
        let keys: Option<Envelope<Keys>> = self
            .call(
                "list",
                Method::from_bytes(b"LIST").unwrap_or(Method::GET),
                &format!("metadata/{folder}?list=true"),
                folder,
                None,
            )
            .await?;
        Ok(keys.map(|k| k.data.keys).unwrap_or_default())
    }
}

fn alive(v: &VersionMetadata) -> bool {
    v.deletion_time.is_empty() && !v.destroyed
}

#[async_trait]
impl SecretStore for VaultStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn get(&self, path: &SecretPath, version: Option<&VersionId>) -> Result<Secret> {
        let query = match version {
            None => String::new(),
            Some(v) => match v.as_str().parse::<u64>() {
                Ok(n) => format!("?version={n}"),
                Err(_) => return Err(Error::not_found(path, Some(v))),
            },
        };
        let read: Option<Envelope<ReadData>> = self
            .call(
                "get",
                Method::GET,
                &format!("data/{path}{query}"),
                path.as_str(),
                None,
            )
            .await?;
        let read = read.ok_or_else(|| Error::not_found(path, version))?.data;
        let data = read.data.ok_or_else(|| Error::not_found(path, version))?;
        Ok(Secret {
            path: path.clone(),
            version: VersionId::new(read.metadata.version.to_string()),
            data: data.into_iter().map(|(k, v)| (k, v.0)).collect(),
        })
    }

    async fn put(&self, path: &SecretPath, data: &SecretData) -> Result<VersionId> {
        data.validate(path)?;
        let mut body = b"{\"data\":".to_vec();
        body.extend_from_slice(&to_json(data));
        body.push(b'}');
        let written: Option<Envelope<WriteData>> = self
            .call(
                "put",
                Method::POST,
                &format!("data/{path}"),
                path.as_str(),
                Some(body),
            )
            .await?;
        let written = written.ok_or_else(|| Error::Backend {
            backend: BACKEND,
            operation: "put",
            path: path.to_string(),
            message: format!("mount `{}` not found; is it a KV v2 mount?", self.mount),
            source: None,
        })?;
        Ok(VersionId::new(written.data.version.to_string()))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<SecretPath>> {
        let mut out = Vec::new();
        for app in self.list_keys("").await? {
            let Some(app) = app.strip_suffix('/') else {
                continue;
            };
            let folder = format!("{app}/");
            if !(folder.starts_with(prefix) || prefix.starts_with(&folder)) {
                continue;
            }
            for name in self.list_keys(&folder).await? {
                if let Ok(path) = SecretPath::new(&format!("{folder}{name}"))
                    && path.as_str().starts_with(prefix)
                {
                    out.push(path);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    async fn versions(&self, path: &SecretPath) -> Result<Vec<VersionInfo>> {
        let meta: Option<Envelope<Metadata>> = self
            .call(
                "versions",
                Method::GET,
                &format!("metadata/{path}"),
                path.as_str(),
                None,
            )
            .await?;
        let meta = meta.ok_or_else(|| Error::not_found(path, None::<&str>))?;
        let mut versions: Vec<(u64, VersionInfo)> = meta
            .data
            .versions
            .iter()
            .filter(|(_, v)| alive(v))
            .filter_map(|(n, v)| {
                let number = n.parse::<u64>().ok()?;
                Some((
                    number,
                    VersionInfo {
                        id: VersionId::new(n.clone()),
                        created: v.created_time.parse().ok(),
                        stages: Vec::new(),
                    },
                ))
            })
            .collect();
        versions.sort_by_key(|(n, _)| *n);
        if versions.is_empty() {
            return Err(Error::not_found(path, None::<&str>));
        }
        Ok(versions.into_iter().map(|(_, v)| v).collect())
    }

    async fn delete(&self, path: &SecretPath) -> Result<()> {
        // KV v2 answers 204 for a path that does not exist; check first.
        self.versions(path).await?;
        let _: Option<serde_json::Value> = self
            .call(
                "delete",
                Method::DELETE,
                &format!("metadata/{path}"),
                path.as_str(),
                None,
            )
            .await?;
        Ok(())
    }
}

//! `awssm://`: AWS Secrets Manager, through the official SDK.
//!
//! A secret `<app>/<name>` is the Secrets Manager secret of that name; its value is a JSON
//! object of strings (`SecretString`), the form the AWS console and External Secrets use.
//! Versions are Secrets Manager version ids, listed oldest first by creation time. AWS keeps
//! every version that has a staging label and, of the unlabelled ones, about 100; older
//! unlabelled versions are removed by AWS and disappear from [`SecretStore::versions`].
//! `delete` is immediate (`ForceDeleteWithoutRecovery`), so the name can be reused at once.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::{Secret, SecretData, SecretPath, VersionId, VersionInfo, from_json, to_json};
use crate::store::SecretStore;

const BACKEND: &str = "awssm";

/// AWS Secrets Manager in one region.
#[derive(Debug, Clone)]
pub struct AwsStore {
    client: Client,
}

impl AwsStore {
    /// Uses an SDK client the caller configured.
    pub fn new(client: Client) -> AwsStore {
        AwsStore { client }
    }

    /// Credentials from the AWS default chain (environment, profile, web identity, instance
    /// metadata), in `region`, optionally at another endpoint.
    pub async fn from_env(region: &str, endpoint: Option<&str>) -> AwsStore {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string()));
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        AwsStore::new(Client::new(&loader.load().await))
    }

    /// Fixed credentials, in `region`, at `endpoint` (moto, LocalStack). Reads nothing from
    /// the environment and never contacts instance metadata.
    pub fn with_static_credentials(
        region: &str,
        endpoint: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> AwsStore {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new(
                access_key_id,
                secret_access_key,
                None,
                None,
                "glueops-static",
            ))
            .build();
        AwsStore::new(Client::from_conf(config))
    }
}

/// Maps an SDK error: not-found, permission, or the service's code and message.
fn sdk_error<E, R>(
    operation: &'static str,
    path: &str,
    version: Option<&VersionId>,
    e: SdkError<E, R>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = e.code().unwrap_or("").to_string();
    match code.as_str() {
        "ResourceNotFoundException" => Error::not_found(path, version),
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException" => Error::PermissionDenied {
            backend: BACKEND,
            path: path.to_string(),
            hint: format!(
                "{code}: check the AWS credentials and the IAM policy for secretsmanager:*"
            ),
        },
        _ => Error::Backend {
            backend: BACKEND,
            operation,
            path: path.to_string(),
            message: match (code.is_empty(), e.message()) {
                (false, Some(m)) => format!("{code}: {m}"),
                (false, None) => code,
                _ => format!("{}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e)),
            },
            source: Some(Box::new(e)),
        },
    }
}

impl AwsStore {
    /// Fails with not-found unless the secret exists and is not scheduled for deletion (AWS
    /// keeps a deleted secret's versions listable until it is purged).
    async fn ensure_live(&self, operation: &'static str, path: &SecretPath) -> Result<()> {
        let described = self
            .client
            .describe_secret()
            .secret_id(path.as_str())
            .send()
            .await
            .map_err(|e| sdk_error(operation, path.as_str(), None, e))?;
        match described.deleted_date() {
            Some(_) => Err(Error::not_found(path, None::<&str>)),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl SecretStore for AwsStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn get(&self, path: &SecretPath, version: Option<&VersionId>) -> Result<Secret> {
        let mut request = self.client.get_secret_value().secret_id(path.as_str());
        if let Some(v) = version {
            request = request.version_id(v.as_str());
        }
        let out = request
            .send()
            .await
            .map_err(|e| sdk_error("get", path.as_str(), version, e))?;
        let text = out.secret_string().ok_or_else(|| Error::Format {
            file: format!("awssm secret {path}"),
            reason: "holds a binary value; glueops stores a JSON object of strings".into(),
        })?;
        let data = from_json(text.as_bytes()).map_err(|reason| Error::Format {
            file: format!("awssm secret {path}"),
            reason,
        })?;
        Ok(Secret {
            path: path.clone(),
            version: VersionId::new(out.version_id().unwrap_or_default()),
            data,
        })
    }

    async fn put(&self, path: &SecretPath, data: &SecretData) -> Result<VersionId> {
        data.validate(path)?;
        let json = to_json(data);
        let text = Zeroizing::new(String::from_utf8_lossy(&json).into_owned());
        for _attempt in 0..3 {
            let put = self
                .client
                .put_secret_value()
                .secret_id(path.as_str())
                .secret_string(text.as_str())
                .send()
                .await;
            match put {
                Ok(out) => return Ok(VersionId::new(out.version_id().unwrap_or_default())),
                Err(e) if e.code() == Some("ResourceNotFoundException") => {}
                Err(e) => return Err(sdk_error("put", path.as_str(), None, e)),
            }
            let create = self
                .client
                .create_secret()
                .name(path.as_str())
                .secret_string(text.as_str())
                .description("managed by glueops")
                .send()
                .await;
            match create {
                Ok(out) => return Ok(VersionId::new(out.version_id().unwrap_or_default())),
                // Another writer created it first: put a new version on top.
                Err(e) if e.code() == Some("ResourceExistsException") => {}
                Err(e) => return Err(sdk_error("put", path.as_str(), None, e)),
            }
        }
        Err(Error::Backend {
            backend: BACKEND,
            operation: "put",
            path: path.to_string(),
            message: "the secret was created and deleted concurrently three times; retry".into(),
            source: None,
        })
    }

    async fn list(&self, prefix: &str) -> Result<Vec<SecretPath>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = self.client.list_secrets().max_results(100);
            if !prefix.is_empty() {
                request = request.filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .values(prefix)
                        .build(),
                );
            }
            if let Some(t) = &token {
                request = request.next_token(t);
            }
            let page = request
                .send()
                .await
                .map_err(|e| sdk_error("list", prefix, None, e))?;
            for entry in page.secret_list() {
                let name = entry.name().unwrap_or_default();
                if let Ok(path) = SecretPath::new(name)
                    && name.starts_with(prefix)
                    && entry.deleted_date().is_none()
                {
                    out.push(path);
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn versions(&self, path: &SecretPath) -> Result<Vec<VersionInfo>> {
        self.ensure_live("versions", path).await?;
        let mut entries = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = self
                .client
                .list_secret_version_ids()
                .secret_id(path.as_str())
                .include_deprecated(true)
                .max_results(100);
            if let Some(t) = &token {
                request = request.next_token(t);
            }
            let page = request
                .send()
                .await
                .map_err(|e| sdk_error("versions", path.as_str(), None, e))?;
            for v in page.versions() {
                let stages = v.version_stages();
                // Newest last: by creation time, then AWSPREVIOUS before AWSCURRENT.
                let rank = if stages.iter().any(|s| s == "AWSCURRENT") {
                    2
                } else if stages.iter().any(|s| s == "AWSPREVIOUS") {
                    1
                } else {
                    0
                };
                let created = v.created_date().map(|d| (d.secs(), d.subsec_nanos()));
                let info = VersionInfo {
                    id: VersionId::new(v.version_id().unwrap_or_default()),
                    created: created.and_then(|(s, n)| jiff::Timestamp::new(s, n as i32).ok()),
                    stages: stages.to_vec(),
                };
                entries.push((created, rank, info));
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        if entries.is_empty() {
            return Err(Error::not_found(path, None::<&str>));
        }
        entries.sort_by_key(|(created, rank, _)| (*created, *rank));
        Ok(entries.into_iter().map(|(_, _, info)| info).collect())
    }

    async fn delete(&self, path: &SecretPath) -> Result<()> {
        self.ensure_live("delete", path).await?;
        self.client
            .delete_secret()
            .secret_id(path.as_str())
            .force_delete_without_recovery(true)
            .send()
            .await
            .map_err(|e| sdk_error("delete", path.as_str(), None, e))?;
        Ok(())
    }
}

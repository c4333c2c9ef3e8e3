//! Store URLs, and [`open`]: one call from a URL to an audited store.

use std::path::PathBuf;
use std::sync::Arc;

use crate::audit::{AuditLog, Audited};
use crate::error::{Error, Result};
use crate::keys::Recipients;
use crate::memory::MemoryStore;
use crate::sops::SopsStore;
use crate::store::SecretStore;

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreUrl {
    /// `memory://`
    Memory,
    /// `sops:///<dir>?recipient=<age1...>[,<age1...>]` (or `recipient=` repeated; falls back to
    /// `SOPS_AGE_RECIPIENTS`). Decryption keys come from `SOPS_AGE_KEY` / `SOPS_AGE_KEY_FILE`.
    Sops {
        /// The folder (`sops:///abs/path`, or `sops://relative/path`).
        dir: PathBuf,
        /// `age1...` keys.
        recipients: Vec<String>,
    },
    /// `awssm://<region>[?endpoint=<url>]`; credentials from the AWS default chain.
    Aws {
        /// AWS region.
        region: String,
        /// Endpoint override (moto, LocalStack, a VPC endpoint).
        endpoint: Option<String>,
    },
    /// `vault://<host:port>/<mount>` (HTTPS) or `vault+http://<host:port>/<mount>` (plain
    /// HTTP, for dev servers on loopback); token from `VAULT_TOKEN` (or `BAO_TOKEN`).
    Vault {
        /// `https://host:port` or `http://host:port`.
        address: String,
        /// The KV v2 mount (`secret`).
        mount: String,
    },
}

impl StoreUrl {
    /// Parses a store URL.
    ///
    /// ```
    /// use glueops_secrets::StoreUrl;
    /// let url = StoreUrl::parse("vault+http://127.0.0.1:8200/secret")?;
    /// assert_eq!(url, StoreUrl::Vault { address: "http://127.0.0.1:8200".into(), mount: "secret".into() });
    /// # Ok::<(), glueops_secrets::Error>(())
    /// ```
    pub fn parse(url: &str) -> Result<StoreUrl> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: shown(url),
            reason: reason.to_string(),
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            invalid("expected <scheme>://...; schemes: memory, sops, awssm, vault, vault+http")
        })?;
        let (body, query) = rest.split_once('?').unwrap_or((rest, ""));
        let params: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        let known: &[&str] = match scheme {
            "sops" => &["recipient"],
            "awssm" => &["endpoint"],
            _ => &[],
        };
        if let Some((k, _)) = params.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            return Err(invalid(&format!("unknown parameter `{k}`")));
        }
        let param = |name: &str| -> Vec<String> {
            params
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect()
        };
        match scheme {
            "memory" if body.is_empty() => Ok(StoreUrl::Memory),
            "memory" => Err(invalid("memory:// takes nothing after the scheme")),
            "sops" => sops_url(body, param("recipient")).map_err(invalid),
            "awssm" if body.is_empty() || body.contains('/') => Err(invalid(
                "give the region: awssm://us-east-1[?endpoint=http://127.0.0.1:5000]",
            )),
            "awssm" => Ok(StoreUrl::Aws {
                region: body.to_string(),
                endpoint: param("endpoint").into_iter().next(),
            }),
            "vault" | "vault+http" => vault_url(scheme, body).map_err(invalid),
            _ => Err(invalid(
                "unknown scheme; use memory, sops, awssm, vault or vault+http",
            )),
        }
    }
}

/// `sops:///dir?recipient=age1...` (recipients also from `SOPS_AGE_RECIPIENTS`).
fn sops_url(body: &str, given: Vec<String>) -> std::result::Result<StoreUrl, &'static str> {
    if body.is_empty() {
        return Err("give the folder: sops:///path/to/dir?recipient=age1...");
    }
    let mut recipients: Vec<String> = given
        .iter()
        .flat_map(|v| v.split(',').map(str::to_string))
        .filter(|r| !r.is_empty())
        .collect();
    if recipients.is_empty()
        && let Ok(env) = std::env::var("SOPS_AGE_RECIPIENTS")
    {
        recipients = env.split(',').map(|r| r.trim().to_string()).collect();
    }
    if recipients.is_empty() {
        return Err("no recipients: add ?recipient=age1... (or set SOPS_AGE_RECIPIENTS)");
    }
    Ok(StoreUrl::Sops {
        dir: PathBuf::from(body),
        recipients,
    })
}

/// `vault://host:port/mount` (HTTPS) or `vault+http://...`.
fn vault_url(scheme: &str, body: &str) -> std::result::Result<StoreUrl, &'static str> {
    const FORM: &str = "give host:port and mount: vault://vault.example:8200/secret";
    let (host, mount) = body.split_once('/').ok_or(FORM)?;
    let mount = mount.trim_matches('/');
    if host.is_empty() || mount.is_empty() {
        return Err(FORM);
    }
    let proto = if scheme == "vault" { "https" } else { "http" };
    Ok(StoreUrl::Vault {
        address: format!("{proto}://{host}"),
        mount: mount.to_string(),
    })
}

/// Percent-decoding for query values (`%2F` -> `/`); malformed escapes stay as they are.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Opens the store a URL names, with every `put` and `delete` recorded in `audit`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), glueops_secrets::Error> {
/// use glueops_secrets::{AuditLog, SecretData, SecretPath, open};
/// let store = open("memory://", AuditLog::new(std::io::sink(), "docs")).await?;
/// let path: SecretPath = "api/database".parse()?;
/// let v1 = store.put(&path, &SecretData::new().with("password", "hunter2")).await?;
/// let secret = store.get(&path, None).await?;
/// assert_eq!(secret.version, v1);
/// assert_eq!(format!("{:?}", secret.data.get("password")), "Some([redacted])");
/// # Ok(()) }
/// ```
pub async fn open(url: &str, audit: AuditLog) -> Result<Arc<dyn SecretStore>> {
    let store: Arc<dyn SecretStore> = match StoreUrl::parse(url)? {
        StoreUrl::Memory => Arc::new(Audited::new(MemoryStore::new(), audit)),
        StoreUrl::Sops { dir, recipients } => {
            let recipients = Recipients::parse(&recipients)?;
            // Reads the age key file: off the runtime.
            let store = tokio::task::spawn_blocking(move || SopsStore::from_env(dir, recipients))
                .await
                .map_err(|e| Error::task_from("opening the SOPS store", e))?;
            Arc::new(Audited::new(store, audit))
        }
        StoreUrl::Aws { region, endpoint } => aws(url, region, endpoint, audit).await?,
        StoreUrl::Vault { address, mount } => vault(url, address, mount, audit)?,
    };
    Ok(store)
}

#[cfg(feature = "aws")]
async fn aws(
    _url: &str,
    region: String,
    endpoint: Option<String>,
    audit: AuditLog,
) -> Result<Arc<dyn SecretStore>> {
    let store = crate::aws::AwsStore::from_env(&region, endpoint.as_deref()).await;
    Ok(Arc::new(Audited::new(store, audit)))
}

#[cfg(not(feature = "aws"))]
async fn aws(
    _url: &str,
    _region: String,
    _endpoint: Option<String>,
    _audit: AuditLog,
) -> Result<Arc<dyn SecretStore>> {
    Err(Error::FeatureDisabled {
        scheme: "awssm",
        feature: "aws",
    })
}

#[cfg(feature = "vault")]
fn vault(
    url: &str,
    address: String,
    mount: String,
    audit: AuditLog,
) -> Result<Arc<dyn SecretStore>> {
    let token = std::env::var("VAULT_TOKEN")
        .or_else(|_| std::env::var("BAO_TOKEN"))
        .map_err(|_| Error::InvalidUrl {
            url: url.to_string(),
            reason: "set VAULT_TOKEN (or BAO_TOKEN) to a token that can read and write the mount"
                .into(),
        })?;
    let store =
        crate::vault::VaultStore::new(&address, &mount, secrecy::SecretString::from(token))?;
    Ok(Arc::new(Audited::new(store, audit)))
}

#[cfg(not(feature = "vault"))]
fn vault(
    _url: &str,
    _address: String,
    _mount: String,
    _audit: AuditLog,
) -> Result<Arc<dyn SecretStore>> {
    Err(Error::FeatureDisabled {
        scheme: "vault",
        feature: "vault",
    })
}

/// A store URL as an error shows it: without its query (a key pasted as `recipient=`) and
/// without user info (a token).
fn shown(url: &str) -> String {
    let base = url.split('?').next().unwrap_or_default();
    let query = if base.len() < url.len() { "?..." } else { "" };
    match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority
                .rsplit_once('@')
                .map_or(authority.to_string(), |(_, h)| format!("***@{h}"));
            format!("{scheme}://{host}{path}{query}")
        }
        None => format!("{base}{query}"),
    }
}

//! One secret-store abstraction for GitOps tooling, with real backends, an audit trail, and
//! backups that restore across backends.
//!
//! A CI check, a controller or an operator's shell reads, writes, versions, backs up and
//! migrates secrets through [`SecretStore`] without caring where they live:
//!
//! | URL | backend | versions |
//! |---|---|---|
//! | `memory://` | [`MemoryStore`], for tests of callers | `1`, `2`, ... |
//! | `sops:///<dir>?recipient=<age1...>` | [`SopsStore`]: SOPS-encrypted Kubernetes Secrets in a folder, for Flux | `1`, `2`, ... |
//! | `awssm://<region>?endpoint=<url>` | `AwsStore` (feature `aws`): AWS Secrets Manager | AWS version ids |
//! | `vault://<host:port>/<mount>` | `VaultStore` (feature `vault`): Vault / OpenBao KV v2 | KV v2 versions |
//!
//! Values never leak: [`SecretValue`] prints `[redacted]` and is zeroized on drop, errors name
//! paths and keys but never values, and files and archives are only ever written encrypted.
//! Every mutating call through [`open`] appends one JSON line to the caller's [`AuditLog`].
//! [`backup`] writes every version of every secret into one age-encrypted archive that
//! [`restore`] verifies in full before writing anything, into any backend.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), glueops_secrets::Error> {
//! use glueops_secrets::{AuditLog, Identities, SecretData, SecretPath, SopsStore, SecretStore};
//!
//! let dir = std::env::temp_dir().join(format!("glueops-doc-{}", std::process::id()));
//! let key = Identities::generate();
//! let store = SopsStore::new(&dir, key.recipients(), key.clone());
//! let path: SecretPath = "api/database".parse()?;
//! store.put(&path, &SecretData::new().with("password", "hunter2")).await?;
//! let v2 = store.put(&path, &SecretData::new().with("password", "correct horse")).await?;
//!
//! let newest = store.get(&path, None).await?;
//! assert_eq!((newest.version.as_str(), newest.data.get("password").map(|v| v.expose())),
//!            ("2", Some("correct horse")));
//! assert_eq!(store.versions(&path).await?.len(), 2);
//! // On disk, only ciphertext.
//! let file = std::fs::read_to_string(store.current_file(&path)).unwrap_or_default();
//! assert!(file.contains("ENC[AES256_GCM,") && !file.contains("correct horse"));
//! # std::fs::remove_dir_all(&dir).ok();
//! # let _ = v2;
//! # Ok(()) }
//! ```

mod atomic;
mod audit;
#[cfg(feature = "aws")]
mod aws;
mod backup;
mod error;
mod keys;
mod location;
mod memory;
mod secret;
mod sops;
mod store;
#[cfg(feature = "vault")]
mod vault;

pub use audit::{AuditLog, AuditRecord, Audited};
#[cfg(feature = "aws")]
pub use aws::AwsStore;
pub use backup::{
    Archive, BackupDir, BackupSummary, OnExisting, RestoreSummary, backup, restore, verify,
};
pub use error::{Cause, Error, Result};
pub use keys::{Identities, Recipients};
pub use location::{StoreUrl, open};
pub use memory::MemoryStore;
pub use secret::{Secret, SecretData, SecretPath, SecretValue, VersionId, VersionInfo};
pub use sops::{Rotation, RotationFile, SopsStore};
pub use store::SecretStore;
#[cfg(feature = "vault")]
pub use vault::VaultStore;

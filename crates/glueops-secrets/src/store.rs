//! The [`SecretStore`] trait every backend implements.

use async_trait::async_trait;

use crate::error::Result;
use crate::secret::{Secret, SecretData, SecretPath, VersionId, VersionInfo};

/// One API over every place secrets live. Object-safe: use it as `Box<dyn SecretStore>` or
/// `Arc<dyn SecretStore>` from async (tokio) code.
///
/// Semantics every backend keeps (the conformance suite checks them against each one):
/// - `put` never changes an existing version; it adds a new one and returns its id.
/// - `get(path, None)` reads the newest version; `get(path, Some(id))` an older one.
/// - `versions` lists the readable versions oldest first; the last one is what `get` returns.
/// - `list` returns the paths starting with `prefix`, sorted.
/// - `delete` removes the secret and all its versions; reading it afterwards is
///   [`Error::NotFound`](crate::Error::NotFound).
#[async_trait]
pub trait SecretStore: Send + Sync + std::fmt::Debug {
    /// Short backend name for messages and audit records: `memory`, `sops`, `awssm`, `vault`.
    fn backend(&self) -> &'static str;

    /// Reads the newest version, or the given one.
    async fn get(&self, path: &SecretPath, version: Option<&VersionId>) -> Result<Secret>;

    /// Writes a new version and returns its id.
    async fn put(&self, path: &SecretPath, data: &SecretData) -> Result<VersionId>;

    /// The secrets whose path starts with `prefix` (`""` for all), sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<SecretPath>>;

    /// The versions of a secret, oldest first.
    async fn versions(&self, path: &SecretPath) -> Result<Vec<VersionInfo>>;

    /// Removes a secret and all its versions.
    async fn delete(&self, path: &SecretPath) -> Result<()>;
}

/// `Box<dyn SecretStore>` and `Arc<dyn SecretStore>` are stores too.
macro_rules! forward_store {
    ($($pointer:ident)::+) => {
        #[async_trait]
        impl<S: SecretStore + ?Sized> SecretStore for $($pointer)::+<S> {
            fn backend(&self) -> &'static str {
                (**self).backend()
            }
            async fn get(&self, path: &SecretPath, version: Option<&VersionId>) -> Result<Secret> {
                (**self).get(path, version).await
            }
            async fn put(&self, path: &SecretPath, data: &SecretData) -> Result<VersionId> {
                (**self).put(path, data).await
            }
            async fn list(&self, prefix: &str) -> Result<Vec<SecretPath>> {
                (**self).list(prefix).await
            }
            async fn versions(&self, path: &SecretPath) -> Result<Vec<VersionInfo>> {
                (**self).versions(path).await
            }
            async fn delete(&self, path: &SecretPath) -> Result<()> {
                (**self).delete(path).await
            }
        }
    };
}

forward_store!(Box);
forward_store!(std::sync::Arc);

//! Config and storage: `externalSecret`, `secret` (refused), `configMap`,
//! `persistentVolumeClaim`, `serviceAccount`, `podDisruptionBudget`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{IntOrString, Labels};

/// External Secrets settings.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecret {
    /// Render ExternalSecrets.
    pub enabled: Option<bool>,
    /// The store of every secret (default the platform's `secretStore`).
    pub secret_store: Option<SecretStoreRef>,
    /// How often to re-read the store (Go duration, e.g. `1h`).
    pub refresh_interval: Option<String>,
    /// Secrets by name suffix: each becomes the Secret `<appName>-<suffix>`, and its keys
    /// environment variables of every container.
    pub secrets: Option<BTreeMap<String, SecretSource>>,
}

/// A reference to an External Secrets store.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretStoreRef {
    /// Store name.
    pub name: Option<String>,
    /// `SecretStore` or `ClusterSecretStore` (default).
    pub kind: Option<SecretStoreKind>,
}

/// The kind of an External Secrets store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SecretStoreKind {
    /// A namespaced store.
    SecretStore,
    /// A cluster-wide store.
    ClusterSecretStore,
}

/// Where one Kubernetes Secret's keys come from.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretSource {
    /// The Secret's name (default `<appName>-<suffix>`).
    pub name: Option<String>,
    /// Keys of the Secret, each from one remote reference.
    pub data: Option<BTreeMap<String, SecretKeySource>>,
    /// Every property of one remote secret.
    pub data_from: Option<RemoteKey>,
    /// This secret's store (default `externalSecret.secretStore`).
    pub secret_store: Option<SecretStoreRef>,
    /// This secret's refresh interval (default `externalSecret.refreshInterval`).
    pub refresh_interval: Option<String>,
    /// The Secret's type (default `Opaque`), e.g. `kubernetes.io/dockerconfigjson`.
    #[serde(rename = "type")]
    pub secret_type: Option<String>,
    /// Labels on the Secret.
    pub labels: Option<Labels>,
    /// Annotations on the Secret.
    pub annotations: Option<Labels>,
}

/// One key of a Secret.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeySource {
    /// The environment variable it becomes (default the key).
    pub env_name: Option<String>,
    /// The remote reference.
    pub remote_ref: Option<RemoteRef>,
}

/// A secret in the store.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteRef {
    /// Path in the store, e.g. `api/db`.
    pub key: Option<String>,
    /// Property within the secret.
    pub property: Option<String>,
    /// Version (default latest).
    pub version: Option<String>,
    /// `None` (default), `Base64`, `Base64URL` or `Auto`.
    pub decoding_strategy: Option<DecodingStrategy>,
    /// `Default` or `Unicode`.
    pub conversion_strategy: Option<ConversionStrategy>,
    /// `None` (default) or `Fetch` (read the remote's metadata).
    pub metadata_policy: Option<MetadataPolicy>,
}

/// A whole remote secret.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteKey {
    /// Path in the store.
    pub key: Option<String>,
    /// Property within the secret.
    pub property: Option<String>,
    /// Version (default latest).
    pub version: Option<String>,
    /// How values are decoded.
    pub decoding_strategy: Option<DecodingStrategy>,
    /// How values are converted.
    pub conversion_strategy: Option<ConversionStrategy>,
}

/// How External Secrets decodes a remote value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[expect(missing_docs, reason = "the variants are External Secrets' own names")]
pub enum DecodingStrategy {
    None,
    Base64,
    #[serde(rename = "Base64URL")]
    Base64Url,
    Auto,
}

/// How External Secrets converts a remote value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[expect(missing_docs, reason = "the variants are External Secrets' own names")]
pub enum ConversionStrategy {
    Default,
    Unicode,
}

/// Whether External Secrets reads a remote's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[expect(missing_docs, reason = "the variants are External Secrets' own names")]
pub enum MetadataPolicy {
    None,
    Fetch,
}

/// The chart's `secret:` section: plaintext Secret values in values files. glueops refuses
/// it; the type exists so the refusal can point at the exact keys.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaintextSecret {
    /// Whether the chart would render the Secrets.
    pub enabled: Option<bool>,
    /// Labels.
    pub labels: Option<Labels>,
    /// Annotations.
    pub annotations: Option<Labels>,
    /// Secrets by name suffix, each with its plaintext `data`.
    pub secrets: Option<BTreeMap<String, serde_json::Value>>,
}

/// ConfigMaps.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMaps {
    /// Render the ConfigMaps.
    pub enabled: Option<bool>,
    /// Labels on every ConfigMap.
    pub labels: Option<Labels>,
    /// Annotations on every ConfigMap.
    pub annotations: Option<Labels>,
    /// ConfigMaps by name suffix: each becomes `<appName>-<suffix>`.
    pub configs: Option<BTreeMap<String, Option<ConfigEntry>>>,
}

/// The data of one ConfigMap: `data` (YAML text of a map, as the chart takes it) or
/// `dataMap` (a map), not both.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigEntry {
    /// YAML text of a string-to-string map, e.g. `data: |\n  LOG_LEVEL: info`.
    pub data: Option<String>,
    /// Keys and values (quote numbers and booleans).
    pub data_map: Option<BTreeMap<String, String>>,
}

/// A PersistentVolumeClaim mounted into every pod of the app.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersistentVolumeClaim {
    /// Render and mount the claim.
    pub enabled: Option<bool>,
    /// Labels on the claim.
    pub labels: Option<Labels>,
    /// Annotations on the claim.
    pub annotations: Option<Labels>,
    /// Mount the claim into the pods (default true).
    #[serde(rename = "mountPVC")]
    pub mount_pvc: Option<bool>,
    /// Where the app's container mounts it.
    pub mount_path: Option<String>,
    /// The claim's name (default `<appName>-pvc`).
    pub name: Option<String>,
    /// Mount this existing claim instead of rendering one.
    pub existing_claim: Option<String>,
    /// Access mode (default `ReadWriteOnce`).
    pub access_mode: Option<String>,
    /// Storage class (`-` for none, empty for the cluster default).
    pub storage_class: Option<String>,
    /// Size (default `8Gi`).
    pub storage_size: Option<String>,
    /// `Filesystem` or `Block` (empty: the default).
    pub volume_mode: Option<String>,
    /// Bind to this PersistentVolume.
    pub volume_name: Option<String>,
}

/// The app's ServiceAccount (glueops always renders one; `create` is accepted for the
/// chart's sake).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccount {
    /// The chart renders a ServiceAccount only when true; glueops renders one for every app
    /// that runs pods, and when this is true.
    pub create: Option<bool>,
    /// Its name (default `<appName>`).
    pub name: Option<String>,
    /// Labels.
    pub labels: Option<Labels>,
    /// Annotations, e.g. a cloud IAM role.
    pub annotations: Option<Labels>,
}

/// The PodDisruptionBudget; `minAvailable` (default 1) wins over `maxUnavailable`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodDisruptionBudget {
    /// Render a PodDisruptionBudget.
    pub enabled: Option<bool>,
    /// Pods that must stay available.
    pub min_available: Option<IntOrString>,
    /// Pods that may be unavailable.
    pub max_unavailable: Option<IntOrString>,
}

//! Config and storage: `externalSecret`, `secret` (refused), `configMap`,
//! `persistentVolumeClaim`, `serviceAccount`, `podDisruptionBudget`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{IntOrString, Labels};

/// External Secrets settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecret {
    /// Render ExternalSecrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The store of every secret (default the platform's `secretStore`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_store: Option<SecretStoreRef>,
    /// How often to re-read the store (Go duration, e.g. `1h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<String>,
    /// Secrets by name suffix: each becomes the Secret `<appName>-<suffix>`, and its keys
    /// environment variables of every container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<BTreeMap<String, SecretSource>>,
}

/// A reference to an External Secrets store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretStoreRef {
    /// Store name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `SecretStore` or `ClusterSecretStore` (default).
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretSource {
    /// The Secret's name (default `<appName>-<suffix>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Keys of the Secret, each from one remote reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<BTreeMap<String, SecretKeySource>>,
    /// Every property of one remote secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_from: Option<RemoteKey>,
    /// This secret's store (default `externalSecret.secretStore`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_store: Option<SecretStoreRef>,
    /// This secret's refresh interval (default `externalSecret.refreshInterval`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<String>,
    /// The Secret's type (default `Opaque`), e.g. `kubernetes.io/dockerconfigjson`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<String>,
    /// Labels on the Secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Annotations on the Secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Labels>,
}

/// One key of a Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeySource {
    /// The environment variable it becomes (default the key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_name: Option<String>,
    /// The remote reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ref: Option<RemoteRef>,
}

/// A secret in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteRef {
    /// Path in the store, e.g. `api/db`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Property within the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// Version (default latest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `None` (default), `Base64`, `Base64URL` or `Auto`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoding_strategy: Option<DecodingStrategy>,
    /// `Default` or `Unicode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversion_strategy: Option<ConversionStrategy>,
    /// `None` (default) or `Fetch` (read the remote's metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_policy: Option<MetadataPolicy>,
}

/// A whole remote secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteKey {
    /// Path in the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Property within the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// Version (default latest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// How values are decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoding_strategy: Option<DecodingStrategy>,
    /// How values are converted.
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaintextSecret {
    /// Whether the chart would render the Secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Labels>,
    /// Secrets by name suffix, each with its plaintext `data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<BTreeMap<String, serde_json::Value>>,
}

/// ConfigMaps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMaps {
    /// Render the ConfigMaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Labels on every ConfigMap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Annotations on every ConfigMap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Labels>,
    /// ConfigMaps by name suffix: each becomes `<appName>-<suffix>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configs: Option<BTreeMap<String, Option<ConfigEntry>>>,
}

/// The data of one ConfigMap: `data` (YAML text of a map, as the chart takes it) or
/// `dataMap` (a map), not both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigEntry {
    /// YAML text of a string-to-string map, e.g. `data: |\n  LOG_LEVEL: info`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Keys and values (quote numbers and booleans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_map: Option<BTreeMap<String, String>>,
}

/// A PersistentVolumeClaim mounted into every pod of the app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersistentVolumeClaim {
    /// Render and mount the claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Labels on the claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Annotations on the claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Labels>,
    /// Mount the claim into the pods (default true).
    #[serde(rename = "mountPVC", skip_serializing_if = "Option::is_none")]
    pub mount_pvc: Option<bool>,
    /// Where the app's container mounts it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
    /// The claim's name (default `<appName>-pvc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Mount this existing claim instead of rendering one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_claim: Option<String>,
    /// Access mode (default `ReadWriteOnce`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_mode: Option<String>,
    /// Storage class (`-` for none, empty for the cluster default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// Size (default `8Gi`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_size: Option<String>,
    /// `Filesystem` or `Block` (empty: the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_mode: Option<String>,
    /// Bind to this PersistentVolume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_name: Option<String>,
}

/// The app's ServiceAccount (glueops always renders one; `create` is accepted for the
/// chart's sake).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccount {
    /// The chart renders a ServiceAccount only when true; glueops renders one for every app
    /// that runs pods, and when this is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create: Option<bool>,
    /// Its name (default `<appName>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Annotations, e.g. a cloud IAM role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Labels>,
}

/// The PodDisruptionBudget; `minAvailable` (default 1) wins over `maxUnavailable`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodDisruptionBudget {
    /// Render a PodDisruptionBudget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Pods that must stay available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_available: Option<IntOrString>,
    /// Pods that may be unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
}

//! Custom resources glueops renders, typed with only the fields it sets. Each serializes as
//! `apiVersion`, `kind`, `metadata`, `spec`, and satisfies the upstream CRD schema (tested
//! against the real CRDs).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// A custom resource: its group/version and kind.
pub trait CustomResource {
    /// `apiVersion`, e.g. `argoproj.io/v1alpha1`.
    const API_VERSION: &'static str;
    /// `kind`, e.g. `Application`.
    const KIND: &'static str;
    /// The object's metadata.
    fn metadata(&self) -> &ObjectMeta;
}

macro_rules! custom_resource {
    ($(#[$doc:meta])* $name:ident, $spec:ty, $api:expr, $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Always the resource's `apiVersion`.
            pub api_version: &'static str,
            /// Always the resource's `kind`.
            pub kind: &'static str,
            /// Name, namespace, labels, annotations.
            pub metadata: ObjectMeta,
            /// The resource's spec.
            pub spec: $spec,
        }

        impl $name {
            /// A resource with this metadata and spec.
            pub fn new(metadata: ObjectMeta, spec: $spec) -> Self {
                Self { api_version: $api, kind: $kind, metadata, spec }
            }
        }

        impl $crate::custom::CustomResource for $name {
            const API_VERSION: &'static str = $api;
            const KIND: &'static str = $kind;
            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }
        }
    };
}

pub(crate) use custom_resource;

custom_resource!(
    /// External Secrets: syncs a Secret from the secret store.
    ExternalSecret, ExternalSecretSpec, "external-secrets.io/v1", "ExternalSecret"
);
custom_resource!(
    /// Prometheus Operator: scrape a Service.
    ServiceMonitor, ServiceMonitorSpec, "monitoring.coreos.com/v1", "ServiceMonitor"
);
custom_resource!(
    /// Prometheus Operator: alerting rules.
    PrometheusRule, PrometheusRuleSpec, "monitoring.coreos.com/v1", "PrometheusRule"
);
custom_resource!(
    /// Argo CD: a project (one per environment).
    AppProject, AppProjectSpec, "argoproj.io/v1alpha1", "AppProject"
);
custom_resource!(
    /// Argo CD: one deployed folder of the manifest repo.
    Application, ApplicationSpec, "argoproj.io/v1alpha1", "Application"
);
custom_resource!(
    /// KEDA: scales a workload on events.
    ScaledObject, ScaledObjectSpec, "keda.sh/v1alpha1", "ScaledObject"
);
custom_resource!(
    /// KEDA: credentials for triggers.
    TriggerAuthentication, serde_json::Value, "keda.sh/v1alpha1", "TriggerAuthentication"
);
custom_resource!(
    /// Flux: the manifest repo as a source.
    GitRepository, GitRepositorySpec, "source.toolkit.fluxcd.io/v1", "GitRepository"
);
custom_resource!(
    /// Flux: one deployed folder of the manifest repo.
    Kustomization, KustomizationSpec, "kustomize.toolkit.fluxcd.io/v1", "Kustomization"
);

/// `ExternalSecret.spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    /// How often to re-read the store.
    pub refresh_interval: String,
    /// The store.
    pub secret_store_ref: StoreRef,
    /// The Secret to create.
    pub target: ExternalSecretTarget,
    /// Keys, each from one remote reference.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<ExternalSecretData>,
    /// Whole remote secrets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_from: Vec<DataFrom>,
}

/// A secret store reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreRef {
    /// Store name.
    pub name: String,
    /// `SecretStore` or `ClusterSecretStore`.
    pub kind: String,
}

/// The Secret an ExternalSecret creates.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretTarget {
    /// Secret name.
    pub name: String,
    /// `Owner`: the Secret is deleted with the ExternalSecret.
    pub creation_policy: String,
    /// The Secret's type and metadata.
    pub template: Option<TargetTemplate>,
}

/// The shape of the Secret an ExternalSecret creates.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetTemplate {
    /// The Secret's type, e.g. `Opaque`.
    #[serde(rename = "type")]
    pub secret_type: String,
    /// Labels and annotations of the Secret.
    pub metadata: Option<TemplateMetadata>,
}

/// Labels and annotations of a created Secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateMetadata {
    /// Labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// One key of the Secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretData {
    /// Key in the Secret.
    pub secret_key: String,
    /// Where the value comes from.
    pub remote_ref: ExternalSecretRemoteRef,
}

/// A value in the store.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretRemoteRef {
    /// Path in the store.
    pub key: String,
    /// Property of that secret.
    pub property: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// How the value is decoded.
    pub decoding_strategy: Option<String>,
    /// How the value is converted.
    pub conversion_strategy: Option<String>,
    /// Whether the remote's metadata is read.
    pub metadata_policy: Option<String>,
}

/// Every property of one remote secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataFrom {
    /// What to extract.
    pub extract: Extract,
}

/// A remote secret to extract.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extract {
    /// Path in the store.
    pub key: String,
    /// Property of that secret.
    pub property: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// How values are decoded.
    pub decoding_strategy: Option<String>,
    /// How values are converted.
    pub conversion_strategy: Option<String>,
}

/// `ServiceMonitor.spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    /// Which Services.
    pub selector: Selector,
    /// What to scrape.
    pub endpoints: Vec<Endpoint>,
}

/// A label selector.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// Labels that must match.
    pub match_labels: BTreeMap<String, String>,
}

/// A scrape endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// Service port name.
    pub port: String,
    /// Metrics path.
    pub path: String,
    /// Scrape interval.
    pub interval: String,
}

/// `PrometheusRule.spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrometheusRuleSpec {
    /// Rule groups.
    pub groups: Vec<RuleGroup>,
}

/// A group of rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleGroup {
    /// Group name.
    pub name: String,
    /// Rules.
    pub rules: Vec<Rule>,
}

/// An alerting rule.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// Alert name.
    pub alert: String,
    /// PromQL expression.
    pub expr: String,
    /// Pending duration.
    #[serde(rename = "for")]
    pub for_duration: Option<String>,
    /// Labels (severity, app, environment).
    pub labels: BTreeMap<String, String>,
    /// Annotations (summary).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `AppProject.spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppProjectSpec {
    /// Description.
    pub description: String,
    /// Repos Applications may deploy from.
    pub source_repos: Vec<String>,
    /// Where Applications may deploy to.
    pub destinations: Vec<Destination>,
    /// Cluster-scoped kinds Applications may create (Namespaces only).
    pub cluster_resource_whitelist: Vec<GroupKind>,
}

/// A deploy destination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Destination {
    /// API server URL.
    pub server: String,
    /// Namespace (or a glob).
    pub namespace: String,
}

/// An API group and kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupKind {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
}

/// `Application.spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    /// The AppProject.
    pub project: String,
    /// What to deploy.
    pub source: ApplicationSource,
    /// Where to deploy it.
    pub destination: Destination,
    /// How to sync.
    pub sync_policy: SyncPolicy,
}

/// An Application's source folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSource {
    /// Manifest repo URL.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Branch.
    pub target_revision: String,
    /// Folder.
    pub path: String,
}

/// Automated sync with prune, self-heal and retries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// Automated sync.
    pub automated: Automated,
    /// Retries with backoff.
    pub retry: Retry,
    /// Sync options.
    pub sync_options: Vec<String>,
}

/// Automated sync settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    /// Delete what is no longer in git.
    pub prune: bool,
    /// Undo drift.
    pub self_heal: bool,
}

/// Sync retries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retry {
    /// Attempts.
    pub limit: i64,
    /// Backoff.
    pub backoff: Backoff,
}

/// Retry backoff.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    /// First wait.
    pub duration: String,
    /// Growth factor.
    pub factor: i64,
    /// Longest wait.
    pub max_duration: String,
}

/// `GitRepository.spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GitRepositorySpec {
    /// Poll interval.
    pub interval: String,
    /// Clone URL.
    pub url: String,
    /// Branch.
    #[serde(rename = "ref")]
    pub reference: GitRef,
}

/// A Git branch reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GitRef {
    /// Branch.
    pub branch: String,
}

/// `Kustomization.spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationSpec {
    /// Reconcile interval.
    pub interval: String,
    /// Retry interval after a failure.
    pub retry_interval: String,
    /// Folder in the source.
    pub path: String,
    /// Delete what is no longer in git.
    pub prune: bool,
    /// Wait for readiness.
    pub wait: bool,
    /// Timeout for apply and health checks.
    pub timeout: String,
    /// The namespace every namespaced object is applied in, whatever it names.
    pub target_namespace: String,
    /// The service account Flux impersonates (in the Kustomization's namespace): one per
    /// target namespace, bound to the `admin` ClusterRole in that namespace alone.
    pub service_account_name: String,
    /// The GitRepository.
    pub source_ref: SourceRef,
}

/// A Flux source reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRef {
    /// `GitRepository`.
    pub kind: String,
    /// Its name.
    pub name: String,
}

/// `ScaledObject.spec`: KEDA's fields as the values set them, the target, the triggers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    /// The scaled workload.
    pub scale_target_ref: serde_json::Value,
    /// Every other field of the values' `spec` (polling, cooldown, bounds, fallback,
    /// advanced), as KEDA names them.
    #[serde(flatten)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// The triggers.
    pub triggers: Vec<serde_json::Value>,
}

/// An object of any kind from `customResources`, as written (templates rendered).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RawObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Its metadata.
    pub metadata: ObjectMeta,
    /// Every other field.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

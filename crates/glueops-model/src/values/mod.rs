//! The typed app values: the GlueOps app-chart vocabulary (camelCase keys).
//!
//! Every field is optional because any layer may set any part; the merged result of all
//! layers is decoded into [`AppValues`]. The JSON Schema under `schema/app-values.schema.json` is
//! generated from these types, so editors and glueops agree on what is valid.

mod workload;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use workload::{
    DeploymentSpec, EnvSecret, EnvVariable, ExecAction, HttpGetAction, Probe, ResourceList,
    Resources, RollingUpdate, Strategy, StrategyType, TcpSocketAction, Toleration,
    TopologySpreadConstraint, compare_quantities,
};

/// A value Kubernetes accepts as either an integer or a string (`2` or `"25%"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum IntOrString {
    /// A plain number.
    Int(i32),
    /// A string such as a percentage (`"25%"`) or a named port.
    String(String),
}

/// All values of one app in one environment (or one preview), after layering.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppValues {
    /// The app's code repository (for previews and image bumps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The container image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// The app's Deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentSpec>,
    /// The app's Service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Service>,
    /// Ingress entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Ingress>,
    /// Secrets synced from the platform secret store by External Secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_secret: Option<ExternalSecret>,
    /// ConfigMaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMaps>,
    /// The PodDisruptionBudget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_disruption_budget: Option<PodDisruptionBudget>,
    /// The HorizontalPodAutoscaler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    /// CronJobs by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron_jobs: Option<BTreeMap<String, CronJob>>,
    /// ServiceMonitor and alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
    /// The NetworkPolicy (on by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_policy: Option<NetworkPolicy>,
}

/// Where the app's code lives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    /// The Git host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// `<owner>/<name>` on the Git host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The branch that deploys (default `main`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// A Git host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// github.com or GitHub Enterprise.
    Github,
    /// gitlab.com or self-hosted GitLab.
    Gitlab,
}

/// The container image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    /// Registry host, e.g. `ghcr.io`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// Repository within the registry, e.g. `acme/api`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Image tag, e.g. `1.4.2` (quote tags that look like numbers: `"1.10"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Image digest, e.g. `sha256:<64 hex>`; pins the image when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The port the container listens on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Image pull policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    /// Overrides the image entrypoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Overrides the image arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
}

impl Image {
    /// The reference a container runs: `registry/repository[:tag][@digest]`, with `tag` in
    /// place of [`Image::tag`] (a preview runs its head commit).
    ///
    /// ```
    /// use glueops_model::values::Image;
    /// let image = Image {
    ///     registry: Some("ghcr.io".into()),
    ///     repository: Some("acme/api".into()),
    ///     ..Image::default()
    /// };
    /// assert_eq!(image.reference(Some("1.4.2")), "ghcr.io/acme/api:1.4.2");
    /// ```
    pub fn reference(&self, tag: Option<&str>) -> String {
        let mut out = [self.registry.as_deref(), self.repository.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("/");
        if let Some(tag) = tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }
}

/// Kubernetes image pull policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PullPolicy {
    /// Always pull.
    Always,
    /// Pull when not present on the node.
    IfNotPresent,
    /// Never pull.
    Never,
}

/// The app's Service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Service {
    /// Render a Service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Service type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub service_type: Option<ServiceType>,
    /// Ports; default one port `http` on `image.port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<ServicePort>>,
}

/// Kubernetes Service type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ServiceType {
    /// Cluster-internal virtual IP.
    ClusterIP,
    /// A port on every node.
    NodePort,
    /// A cloud load balancer.
    LoadBalancer,
}

/// One Service port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePort {
    /// Port name (unique per Service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Service port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The container port or its name (default `port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    /// Protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
}

/// A network protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    /// TCP.
    TCP,
    /// UDP.
    UDP,
    /// SCTP.
    SCTP,
}

/// Ingress settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ingress {
    /// Render the Ingress entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Annotations on every Ingress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// One Ingress per entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<IngressEntry>>,
}

/// One Ingress object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressEntry {
    /// Name suffix of the Ingress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Ingress class (default `public`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_class_name: Option<String>,
    /// Hosts; hostnames may use `{{ .Values.captain_domain }}` and
    /// `{{ .Values.glueops_app_name }}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<IngressHost>>,
    /// TLS settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Vec<IngressTls>>,
}

/// One host of an Ingress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressHost {
    /// The hostname (after templating, a DNS name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Paths (default `/`, Prefix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<IngressPath>>,
}

/// One path of an Ingress host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressPath {
    /// The path (starts with `/`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How the path matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_type: Option<PathType>,
}

/// Ingress path matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PathType {
    /// Prefix match by path element.
    Prefix,
    /// Exact match.
    Exact,
    /// Up to the ingress controller.
    ImplementationSpecific,
}

/// TLS for some hosts of an Ingress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressTls {
    /// Hosts covered (default: all hosts of the entry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<String>>,
    /// Secret holding the certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

/// External Secrets settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecret {
    /// Render ExternalSecrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Overrides the platform secret store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_store: Option<SecretStoreRef>,
    /// How often to re-read the store (Go duration, e.g. `1h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<String>,
    /// Secrets by name suffix.
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
    /// `SecretStore` or `ClusterSecretStore`.
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
    /// Keys of the Secret, each from one remote reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<BTreeMap<String, SecretData>>,
    /// Every property of one remote secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_from: Option<RemoteKey>,
}

/// One key of a Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretData {
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
}

/// A whole remote secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteKey {
    /// Path in the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// ConfigMaps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMaps {
    /// ConfigMaps by name suffix; values are strings (quote numbers and booleans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configs: Option<BTreeMap<String, BTreeMap<String, String>>>,
}

/// The PodDisruptionBudget; set one of `minAvailable` and `maxUnavailable`.
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

/// The HorizontalPodAutoscaler.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Autoscaling {
    /// Render a HorizontalPodAutoscaler (replaces `deployment.replicas`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Lower bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<u32>,
    /// Upper bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<u32>,
    /// Target average CPU utilization, percent of requests.
    #[serde(
        rename = "targetCPUUtilizationPercentage",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_cpu_utilization_percentage: Option<u32>,
    /// Target average memory utilization, percent of requests.
    #[serde(
        rename = "targetMemoryUtilizationPercentage",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_memory_utilization_percentage: Option<u32>,
}

/// One CronJob running the app image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronJob {
    /// Five-field cron schedule or a macro such as `@daily`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// IANA time zone of the schedule (default UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// What to do when a run is still going.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_policy: Option<ConcurrencyPolicy>,
    /// Pause scheduling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// CronJob concurrency policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConcurrencyPolicy {
    /// Runs may overlap.
    Allow,
    /// Skip a run while one is going.
    Forbid,
    /// Replace the running one.
    Replace,
}

/// Monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Monitoring {
    /// The ServiceMonitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_monitor: Option<ServiceMonitor>,
    /// Alerts (one PrometheusRule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<Alert>>,
}

/// Prometheus scraping of the app's Service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceMonitor {
    /// Render a ServiceMonitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Service port name to scrape (default `http`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Metrics path (default `/metrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Scrape interval (Prometheus duration, e.g. `30s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

/// One Prometheus alerting rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alert {
    /// Alert name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// PromQL expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    /// How long the condition must hold (Prometheus duration).
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_duration: Option<String>,
    /// Severity label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Summary annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// Alert severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Page someone.
    Critical,
    /// Look at it soon.
    Warning,
    /// For information.
    Info,
}

/// The NetworkPolicy: ingress is denied except from the same namespace, the ingress
/// controller and `allowFrom`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkPolicy {
    /// Render the NetworkPolicy (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Extra allowed peers; each sets exactly one of `namespace`, `app`, `cidr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_from: Option<Vec<AllowFrom>>,
}

/// One allowed ingress peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowFrom {
    /// Every pod of a namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Pods of another glueops app in the same namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// An IP block, e.g. `10.0.0.0/8`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
}

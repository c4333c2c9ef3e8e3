//! The `deployment:` section: the pod template of the app's Deployment.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::IntOrString;

/// The app's Deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentSpec {
    /// Render a Deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Pod count (ignored when autoscaling is enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Rollout strategy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// Plain environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_variables: Option<Vec<EnvVariable>>,
    /// Environment variables read from Secrets that `externalSecret` declares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_secrets: Option<Vec<EnvSecret>>,
    /// CPU and memory requests and limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Liveness probe (default: TCP on `image.port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    /// Readiness probe (default: TCP on `image.port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    /// Startup probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    /// Node labels the pods must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Taints the pods tolerate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    /// How pods spread over zones or nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    /// Mount the ServiceAccount token into pods (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
}

/// Rollout strategy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Strategy {
    /// `RollingUpdate` (default) or `Recreate`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub strategy_type: Option<StrategyType>,
    /// Rolling update bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdate>,
}

/// Deployment strategy type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StrategyType {
    /// Replace pods gradually.
    RollingUpdate,
    /// Stop all pods, then start new ones.
    Recreate,
}

/// Rolling update bounds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollingUpdate {
    /// Extra pods during a rollout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_surge: Option<IntOrString>,
    /// Pods that may be unavailable during a rollout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
}

/// A plain environment variable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvVariable {
    /// Variable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Value (quote numbers and booleans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// An environment variable read from a Secret key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvSecret {
    /// Variable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// A secret declared under `externalSecret.secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// A key of that secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
}

/// Requests and limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourceList>,
    /// The most the container may use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceList>,
}

/// Kubernetes quantities per resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceList {
    /// CPU, e.g. `100m` or `"1"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Memory, e.g. `128Mi`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// Ephemeral storage, e.g. `1Gi`.
    #[serde(rename = "ephemeral-storage", skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<String>,
}

impl ResourceList {
    /// `(name, quantity)` for every resource that is set.
    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        [
            ("cpu", &self.cpu),
            ("memory", &self.memory),
            ("ephemeral-storage", &self.ephemeral_storage),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// Compares two Kubernetes resource quantities (`100m` < `1` < `1.5` < `2Gi`); `None` when
/// either is not a quantity.
///
/// ```
/// use std::cmp::Ordering;
/// use glueops_model::values::compare_quantities;
/// assert_eq!(compare_quantities("500m", "1"), Some(Ordering::Less));
/// assert_eq!(compare_quantities("1Gi", "1024Mi"), Some(Ordering::Equal));
/// assert_eq!(compare_quantities("lots", "1"), None);
/// ```
pub fn compare_quantities(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let a = crate::formats::parse_quantity(a).ok()?;
    let b = crate::formats::parse_quantity(b).ok()?;
    a.partial_cmp(&b)
}

/// A container probe; set one of `httpGet`, `tcpSocket`, `exec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Probe {
    /// HTTP GET check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    /// TCP connect check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketAction>,
    /// Command check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecAction>,
    /// Seconds before the first check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<u32>,
    /// Seconds between checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u32>,
    /// Seconds before a check times out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// Failures before the probe fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
    /// Successes before the probe passes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<u32>,
}

/// HTTP GET probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpGetAction {
    /// Path, e.g. `/healthz`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Port number or name (default `image.port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<IntOrString>,
}

/// TCP probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TcpSocketAction {
    /// Port number or name (default `image.port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<IntOrString>,
}

/// Command probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecAction {
    /// The command; exit 0 is healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
}

/// A toleration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    /// Taint key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `Equal` or `Exists`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Taint value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
    /// For `NoExecute`: how long the pod stays bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

/// A topology spread constraint over the app's own pods.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopologySpreadConstraint {
    /// Largest allowed difference in pod count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_skew: Option<u32>,
    /// Node label, e.g. `topology.kubernetes.io/zone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_key: Option<String>,
    /// `DoNotSchedule` or `ScheduleAnyway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when_unsatisfiable: Option<String>,
}

//! What every pod template of the chart accepts: Deployment, StatefulSet, each Job and
//! CronJob (and their shared `job`/`cronJob` defaults).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ImageOverride, Labels, Protocol, PullPolicy};

/// The pod-template fields of a workload, as the chart names them.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pod {
    /// This workload's image: a full reference (`ghcr.io/acme/worker:1.2`) or parts that
    /// override the top-level `image`.
    pub image: Option<ImageOverride>,
    /// Registry pull secret (overrides `image.pullSecrets`; `""` means none).
    pub image_pull_secrets: Option<String>,
    /// Image pull policy (default `IfNotPresent`).
    pub image_pull_policy: Option<PullPolicy>,
    /// Entrypoint (`image.command` wins when set).
    pub command: Option<Vec<String>>,
    /// Arguments (`image.args` wins when set).
    pub args: Option<Vec<String>>,
    /// Container lifecycle hooks.
    pub lifecycle: Option<core::Lifecycle>,
    /// Name of the app's container port (default `http`).
    pub port_name: Option<String>,
    /// Protocol of the app's container port (`image.protocol` wins when set).
    pub protocol: Option<Protocol>,
    /// Labels on the pods (for a Job or CronJob entry: on the object too).
    pub labels: Option<Labels>,
    /// Annotations on the pods (for a Job or CronJob entry: on the object too).
    pub annotations: Option<Labels>,
    /// Labels added to the selector and the pods.
    pub match_labels: Option<Labels>,
    /// Pod security context, merged over glueops' restricted defaults.
    pub security_context: Option<core::PodSecurityContext>,
    /// Container security context, merged over glueops' restricted defaults.
    pub container_security_context: Option<core::SecurityContext>,
    /// DNS policy.
    pub dns_policy: Option<String>,
    /// DNS configuration.
    pub dns_config: Option<core::PodDNSConfig>,
    /// Share one process namespace between the pod's containers.
    pub share_process_namespace: Option<bool>,
    /// Inject the environment variables of the namespace's Services (default true).
    pub enable_service_links: Option<bool>,
    /// Use the node's network (refused: the restricted pod-security profile forbids it).
    pub host_network: Option<bool>,
    /// Extra `/etc/hosts` entries.
    pub host_aliases: Option<Vec<core::HostAlias>>,
    /// Container ports besides the app's port.
    pub container_ports: Option<Vec<ContainerPort>>,
    /// Plain environment variables.
    pub env_variables: Option<Vec<EnvVariable>>,
    /// Environment variables from Secret keys.
    pub env_secrets: Option<Vec<EnvSecret>>,
    /// Environment variables from ConfigMap keys.
    pub env_config_maps: Option<Vec<EnvConfigMap>>,
    /// Environment variables by name: a value or a Kubernetes `valueFrom`.
    pub env_map: Option<BTreeMap<String, Option<EnvMapValue>>>,
    /// Whole ConfigMaps or Secrets as environment variables.
    pub env_from: Option<Vec<EnvFrom>>,
    /// Which ServiceAccount the pods run as.
    pub service_account: Option<WorkloadServiceAccount>,
    /// Node labels the pods must match.
    pub node_selector: Option<Labels>,
    /// Taints the pods tolerate.
    pub tolerations: Option<Vec<core::Toleration>>,
    /// Affinity rules.
    pub affinity: Option<core::Affinity>,
    /// Topology spread (default: spread over zones).
    pub topology_spread_constraints: Option<Vec<core::TopologySpreadConstraint>>,
    /// `maxSkew` of the default zone spread (default 1).
    pub topology_spread_constraints_max_skew: Option<i32>,
    /// Liveness probe.
    pub liveness_probe: Option<core::Probe>,
    /// Readiness probe.
    pub readiness_probe: Option<core::Probe>,
    /// Startup probe.
    pub startup_probe: Option<core::Probe>,
    /// Init containers.
    pub init_containers: Option<Vec<core::Container>>,
    /// Sidecar containers.
    pub sidecar: Option<Vec<core::Container>>,
    /// CPU and memory requests and limits of the app's container.
    pub resources: Option<Resources>,
    /// Volume mounts of the app's container.
    pub volume_mounts: Option<Vec<core::VolumeMount>>,
    /// Volumes of the pod.
    pub volumes: Option<Vec<core::Volume>>,
    /// Seconds a pod gets to stop (default 60).
    pub termination_grace_period_seconds: Option<i64>,
    /// Priority class.
    pub priority_class_name: Option<String>,
    /// Restart policy (Jobs default `Never`, CronJobs `OnFailure`).
    pub restart_policy: Option<String>,
}

macro_rules! inherit {
    ($own:ident, $base:ident; $($field:ident),*) => {
        $(if $own.$field.is_none() { $own.$field.clone_from(&$base.$field); })*
    };
}

impl Pod {
    /// This pod with every field it leaves unset taken from `base` (a Job entry over the
    /// `job:` defaults).
    pub fn or(&self, base: &Pod) -> Pod {
        let mut own = self.clone();
        inherit!(own, base; image, image_pull_secrets, image_pull_policy, command, args,
            lifecycle, port_name, protocol, match_labels, security_context,
            container_security_context, dns_policy, dns_config, share_process_namespace,
            enable_service_links, host_network, host_aliases, container_ports, env_variables,
            env_secrets, env_config_maps, env_map, env_from, service_account, node_selector,
            tolerations, affinity, topology_spread_constraints,
            topology_spread_constraints_max_skew, liveness_probe, readiness_probe,
            startup_probe, init_containers, sidecar, resources, volume_mounts, volumes,
            termination_grace_period_seconds, priority_class_name, restart_policy);
        own
    }
}

/// Which ServiceAccount a workload's pods run as.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadServiceAccount {
    /// Run as the named account instead of the app's.
    pub enabled: Option<bool>,
    /// The account's name.
    pub name: Option<String>,
    /// Mount the account's token into the pods (default false).
    pub automount_service_account_token: Option<bool>,
}

/// A container port besides the app's.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerPort {
    /// Port name.
    pub name: Option<String>,
    /// Port number.
    pub port: Option<u16>,
    /// Protocol (default TCP).
    pub protocol: Option<Protocol>,
}

/// A plain environment variable.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvVariable {
    /// Variable name.
    pub name: Option<String>,
    /// Value (quote numbers and booleans).
    pub value: Option<String>,
}

/// An environment variable read from a key of a Kubernetes Secret.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvSecret {
    /// Variable name.
    pub variable: Option<String>,
    /// The Secret's name.
    pub secret_name: Option<String>,
    /// A key of that Secret.
    pub secret_key: Option<String>,
}

/// An environment variable read from a key of a ConfigMap.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvConfigMap {
    /// Variable name.
    pub variable: Option<String>,
    /// The ConfigMap's name.
    pub config_map_name: Option<String>,
    /// A key of that ConfigMap.
    pub config_map_key: Option<String>,
}

/// One `envMap` entry: a value or where the value comes from.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvMapValue {
    /// The value (quote numbers and booleans).
    pub value: Option<String>,
    /// A Kubernetes `valueFrom` (secretKeyRef, configMapKeyRef, fieldRef, ...).
    pub value_from: Option<core::EnvVarSource>,
}

/// A whole ConfigMap or Secret as environment variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvFrom {
    /// `configMapRef` or `secretRef`.
    #[serde(rename = "type")]
    pub kind: EnvFromKind,
    /// The object's name.
    pub name: String,
}

/// What an `envFrom` entry reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum EnvFromKind {
    /// A ConfigMap.
    ConfigMapRef,
    /// A Secret.
    SecretRef,
}

/// Requests and limits.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves.
    pub requests: Option<ResourceList>,
    /// The most the container may use.
    pub limits: Option<ResourceList>,
}

/// Kubernetes quantities per resource.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceList {
    /// CPU, e.g. `100m` or `"1"`.
    pub cpu: Option<String>,
    /// Memory, e.g. `128Mi`.
    pub memory: Option<String>,
    /// Ephemeral storage, e.g. `1Gi`.
    #[serde(rename = "ephemeral-storage")]
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

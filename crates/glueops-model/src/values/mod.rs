//! The typed app values: the GlueOps app chart's vocabulary (chart `app` 0.14.1, camelCase
//! keys), plus the few keys glueops adds (`source`, `imagePolicy`, `autoscaling`, `monitoring`,
//! `networkPolicy`).
//!
//! Every field is optional because any layer may set any part; the merged result of all
//! layers is decoded into [`AppValues`]. The JSON Schema under `schema/app-values.schema.json` is
//! generated from these types, so editors and glueops agree on what is valid. Pod-level fields
//! that the chart passes to Kubernetes as they are (affinity, probes, volumes, sidecars, ...)
//! use the `k8s-openapi` types, made strict: an unknown key there is an error too.

mod config;
mod extras;
mod keda;
mod network;
mod pod;
mod policy;
mod resolve;
mod workload;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use config::{
    ConfigEntry, ConfigMaps, ConversionStrategy, DecodingStrategy, ExternalSecret, MetadataPolicy,
    PersistentVolumeClaim, PlaintextSecret, PodDisruptionBudget, RemoteKey, RemoteRef,
    SecretKeySource, SecretSource, SecretStoreKind, SecretStoreRef, ServiceAccount,
};
pub use extras::{
    Alert, AllowFrom, Autoscaling, Monitoring, NetworkPolicy, ServiceMonitor, Severity,
};
pub use keda::{
    Advanced, AuthenticationRef, BoundToken, EnvTarget, Fallback, HpaConfig, Keda, PodIdentity,
    ScaleTargetRef, ScaledObject, ScaledObjectSpec, ScalingModifiers, TargetRef, Trigger,
    TriggerAuthentication, TriggerAuthenticationSpec,
};
pub use network::{
    Ingress, IngressEntry, IngressHost, IngressPath, IngressTls, PathType, Protocol, Service,
    ServicePort, ServiceType,
};
pub use pod::{
    ContainerPort, EnvConfigMap, EnvFrom, EnvFromKind, EnvMapValue, EnvSecret, EnvVariable, Pod,
    ResourceList, Resources, WorkloadServiceAccount, compare_quantities,
};
pub use policy::{Candidate, Choice, ImagePolicy, Pin, Rank, TagPolicy};
pub use resolve::{ImageProblem, Workload, WorkloadKind, config_data, custom_objects};

pub use workload::{
    Analysis, AnalysisStep, CanaryStep, ClaimTemplate, ConcurrencyPolicy, CronJobEntry, CronJobs,
    DeploymentSpec, JobEntry, JobSpec, Jobs, Pause, Progressive, ProgressiveKind, StatefulSetSpec,
    Strategy, StrategyType, UpdateStrategy,
};

/// Labels or annotations: string keys to string values.
pub type Labels = BTreeMap<String, String>;

/// The image the chart runs when no layer names a repository (its `values.yaml` default).
pub const CHART_DEFAULT_IMAGE: &str = "docker.io/nginx:1.29.5@sha256:341bf0f3ce6c5277d6002cf6e1fb0319fa4252add24ab6a0e262e0056d313208";

/// The port the chart assumes when no layer sets `image.port` (or `deployment.port`).
pub const CHART_DEFAULT_PORT: u16 = 8080;

/// The registry the chart assumes when no layer sets one.
pub const CHART_DEFAULT_REGISTRY: &str = "docker.io";

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
// The big sections are boxed: an instance is moved and cloned often, and most leave them unset.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppValues {
    /// The name of the app's objects (default: the instance name, `<app>-<env>` or
    /// `<app>-pr-<N>`, like the chart's Helm release name); also the `app.kubernetes.io/name`
    /// label.
    pub app_name: Option<String>,
    /// The `app.kubernetes.io/version` label and `ENV_APP_VERSION` (default: the image tag);
    /// also the image tag when no layer sets `image.tag`.
    pub app_version: Option<String>,
    /// `ENV_APP_ENV` in every container (default: the environment name, `previews` for a
    /// preview).
    pub app_env: Option<String>,
    /// The namespace of the app's objects (default: the environment's namespace). glueops
    /// does not create this namespace.
    pub namespace_override: Option<String>,
    /// Labels on every object of the app.
    pub common_labels: Option<Labels>,
    /// Annotations on every object of the app.
    pub common_annotations: Option<Labels>,
    /// The app's code repository (for previews and image bumps).
    pub source: Option<Source>,
    /// The container image every workload inherits.
    pub image: Option<Image>,
    /// Which registry tags environments whose promotion is `auto` follow (glueops).
    pub image_policy: Option<ImagePolicy>,
    /// The app's Deployment.
    pub deployment: Option<Box<DeploymentSpec>>,
    /// The app's StatefulSet (instead of the Deployment).
    pub stateful_set: Option<Box<StatefulSetSpec>>,
    /// CronJobs, one per `cronJob.jobs` entry.
    pub cron_job: Option<Box<CronJobs>>,
    /// Jobs, one per `job.jobs` entry.
    pub job: Option<Box<Jobs>>,
    /// The app's Service (also rendered when `ingress.enabled`).
    pub service: Option<Service>,
    /// The ServiceAccount's name, labels and annotations.
    pub service_account: Option<ServiceAccount>,
    /// Ingress entries.
    pub ingress: Option<Ingress>,
    /// Secrets synced from the platform secret store by External Secrets.
    pub external_secret: Option<ExternalSecret>,
    /// The chart's plaintext Secrets: refused by glueops (secret values do not belong in
    /// git); use `externalSecret` and `glueops secrets put`.
    pub secret: Option<PlaintextSecret>,
    /// ConfigMaps.
    pub config_map: Option<ConfigMaps>,
    /// A PersistentVolumeClaim mounted into the app's pods.
    pub persistent_volume_claim: Option<PersistentVolumeClaim>,
    /// The PodDisruptionBudget.
    pub pod_disruption_budget: Option<PodDisruptionBudget>,
    /// KEDA autoscaling: a ScaledObject and TriggerAuthentications.
    pub keda: Option<Box<Keda>>,
    /// The HorizontalPodAutoscaler (glueops; use `keda` or this, not both).
    pub autoscaling: Option<Autoscaling>,
    /// ServiceMonitor and alerts (glueops).
    pub monitoring: Option<Monitoring>,
    /// The NetworkPolicy (glueops; on by default).
    pub network_policy: Option<NetworkPolicy>,
    /// Extra objects as YAML text; may use the templates the chart documents.
    pub custom_resources: Option<Vec<String>>,
    /// Extra objects as YAML text by any key (so several files can add them).
    pub custom_resources_map: Option<BTreeMap<String, Option<String>>>,
    /// Any other top-level key: a value for the templates of `customResources`
    /// (`{{ .Values.<key> }}`); a key no template reads is an error.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Where the app's code lives.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    /// The Git host.
    pub provider: Option<Provider>,
    /// `<owner>/<name>` on the Git host.
    pub repo: Option<String>,
    /// The branch that deploys (default `main`).
    pub branch: Option<String>,
    /// The CI workflow whose successful runs deploy (GitHub: its file, `build.yml` or
    /// `.github/workflows/build.yml`, or its name); when unset, any workflow run on `branch`
    /// triggered by a push to `repo` deploys.
    pub workflow: Option<String>,
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

/// The container image every workload inherits.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    /// Registry host (default `docker.io`).
    pub registry: Option<String>,
    /// Repository within the registry, e.g. `acme/api`.
    pub repository: Option<String>,
    /// Image tag, e.g. `1.4.2`; may carry a digest (`1.4.2@sha256:...`). A tag written as a
    /// YAML number is taken as written (`1.10` stays `1.10`, with a warning: Helm would
    /// print `1.1`); quoting it says what you mean.
    #[serde(default)]
    #[schemars(schema_with = "crate::values::text_or_number")]
    pub tag: Option<String>,
    /// Image digest, e.g. `sha256:<64 hex>`; pins the image when set.
    pub digest: Option<String>,
    /// The chart falls back to its own version as the tag; glueops has no chart version,
    /// so an image without a tag is an error whatever this says. `true`/`false`, or the
    /// same quoted (`"false"`), as the chart reads it.
    #[serde(default, deserialize_with = "bool_or_text")]
    #[schemars(schema_with = "crate::values::bool_or_text_schema")]
    pub use_chart_version_as_tag_fallback: Option<bool>,
    /// The port the app listens on (default 8080).
    pub port: Option<u16>,
    /// The protocol of that port (default TCP).
    pub protocol: Option<Protocol>,
    /// Overrides every workload's entrypoint.
    pub command: Option<Vec<String>>,
    /// Overrides every workload's arguments.
    pub args: Option<Vec<String>>,
    /// Registry pull secret of every pod; a workload's `imagePullSecrets` overrides it, `""`
    /// means none.
    pub pull_secrets: Option<String>,
}

/// A workload's own image: a full reference, or parts that override the top-level `image`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ImageOverride {
    /// A full reference such as `ghcr.io/acme/worker:1.2.0`, used as it is.
    Reference(String),
    /// Parts; what is not set is inherited from the top-level `image`.
    Parts(ImageParts),
}

/// The parts of a workload's image that override the top-level `image`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageParts {
    /// Registry host.
    pub registry: Option<String>,
    /// Repository within the registry.
    pub repository: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// Digest (`sha256:<64 hex>`).
    pub digest: Option<String>,
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

impl PullPolicy {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

impl AppValues {
    /// `externalSecret`, when it is on (`enabled: true`): what ExternalSecrets are rendered
    /// from.
    pub fn enabled_external_secret(&self) -> Option<&ExternalSecret> {
        self.external_secret
            .as_ref()
            .filter(|e| e.enabled == Some(true))
    }
}

/// The schema of a value glueops reads as text even when YAML reads a number there (as
/// written): a string or a number.
pub(crate) fn text_or_number(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": ["string", "number", "null"]})
}

/// A flag written as a boolean or as the text `"true"` / `"false"` (the chart reads both).
fn bool_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Option::<Flag>::deserialize(d)? {
        None => Ok(None),
        Some(Flag::Bool(b)) => Ok(Some(b)),
        Some(Flag::Text(t)) => match t.trim() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            other => Err(serde::de::Error::custom(format!(
                "`{other}` is not true or false"
            ))),
        },
    }
}

/// The schema of [`bool_or_text`]: a boolean, or `"true"` / `"false"`.
pub(crate) fn bool_or_text_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"anyOf": [{"type": ["boolean", "null"]}, {"enum": ["true", "false"]}]})
}

//! `keda`: a KEDA ScaledObject for the app's workload, and TriggerAuthentications.

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Labels;

/// KEDA autoscaling (replaces the workload's `replicas`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Keda {
    /// Render the KEDA objects.
    pub enabled: Option<bool>,
    /// The ScaledObject.
    pub scaled_object: Option<ScaledObject>,
    /// TriggerAuthentications by name (`<appName>-<key>`).
    pub trigger_authentication: Option<BTreeMap<String, Option<TriggerAuthentication>>>,
}

/// The ScaledObject.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaledObject {
    /// Render it.
    pub enabled: Option<bool>,
    /// Labels.
    pub labels: Option<Labels>,
    /// Annotations.
    pub annotations: Option<Labels>,
    /// Its spec, as KEDA names it.
    pub spec: Option<ScaledObjectSpec>,
}

/// The ScaledObject's spec (KEDA's fields, plus `triggersMap`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaledObjectSpec {
    /// Seconds between trigger checks (default 30).
    pub polling_interval: Option<i32>,
    /// Seconds after the last active trigger before scaling to zero (default 300).
    pub cooldown_period: Option<i32>,
    /// Seconds after creation before scaling to zero.
    pub initial_cooldown_period: Option<i32>,
    /// Replicas while no trigger is active (less than `minReplicaCount`).
    pub idle_replica_count: Option<i32>,
    /// Lower bound (default 0).
    pub min_replica_count: Option<i32>,
    /// Upper bound (default 100).
    pub max_replica_count: Option<i32>,
    /// Replicas to fall back to when triggers fail.
    pub fallback: Option<Fallback>,
    /// HPA behaviour and scaling modifiers.
    pub advanced: Option<Advanced>,
    /// What to scale (default: the app's Deployment or StatefulSet).
    pub scale_target_ref: Option<ScaleTargetRef>,
    /// Triggers; when empty, the non-null entries of `triggersMap` in key order.
    pub triggers: Option<Vec<Trigger>>,
    /// Triggers by any key, so several values files can add and remove them.
    pub triggers_map: Option<BTreeMap<String, Option<Trigger>>>,
}

/// Replicas to fall back to when triggers fail.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fallback {
    /// Failures before falling back.
    pub failure_threshold: Option<i32>,
    /// Replicas while falling back.
    pub replicas: Option<i32>,
    /// `static`, `currentReplicas`, `currentReplicasIfHigher` or `currentReplicasIfLower`.
    pub behavior: Option<String>,
}

/// Advanced ScaledObject options.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Advanced {
    /// Restore the original replica count when the ScaledObject is deleted.
    pub restore_to_original_replica_count: Option<bool>,
    /// The HPA KEDA manages.
    pub horizontal_pod_autoscaler_config: Option<HpaConfig>,
    /// A formula over the triggers' metrics.
    pub scaling_modifiers: Option<ScalingModifiers>,
}

/// The HPA KEDA manages.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaConfig {
    /// The HPA's name.
    pub name: Option<String>,
    /// Scale-up and scale-down behaviour.
    pub behavior: Option<HorizontalPodAutoscalerBehavior>,
}

/// A formula over the triggers' metrics.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingModifiers {
    /// The formula, e.g. `(trig_one + trig_two)/2`.
    pub formula: Option<String>,
    /// Target of the formula's value.
    pub target: Option<String>,
    /// Activation target.
    pub activation_target: Option<String>,
    /// `AverageValue` (default), `Value` or `Utilization`.
    pub metric_type: Option<String>,
}

/// What a ScaledObject scales.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleTargetRef {
    /// API version (default `apps/v1`).
    pub api_version: Option<String>,
    /// Kind (default `Deployment`).
    pub kind: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// The container whose environment triggers may read.
    pub env_source_container_name: Option<String>,
}

/// One KEDA trigger.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trigger {
    /// The scaler, e.g. `cpu`, `cron`, `aws-sqs-queue`.
    #[serde(rename = "type")]
    pub trigger_type: Option<String>,
    /// The scaler's settings (quote numbers: `value: "80"`).
    pub metadata: Option<BTreeMap<String, String>>,
    /// A name to refer to it in formulas.
    pub name: Option<String>,
    /// `AverageValue`, `Value` or `Utilization`.
    pub metric_type: Option<String>,
    /// Cache the metric between polls.
    pub use_cached_metrics: Option<bool>,
    /// The TriggerAuthentication to use.
    pub authentication_ref: Option<AuthenticationRef>,
}

/// A reference to a TriggerAuthentication.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticationRef {
    /// Its name.
    pub name: Option<String>,
    /// `TriggerAuthentication` (default) or `ClusterTriggerAuthentication`.
    pub kind: Option<String>,
}

/// One TriggerAuthentication.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerAuthentication {
    /// Render it.
    pub enabled: Option<bool>,
    /// Its spec, as KEDA names it.
    pub spec: Option<TriggerAuthenticationSpec>,
}

/// A TriggerAuthentication's spec. The secret-manager sources (`awsSecretManager`,
/// `azureKeyVault`, `gcpSecretManager`, `hashiCorpVault`, `oauth2`) are passed to KEDA as
/// written.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerAuthenticationSpec {
    /// Parameters from Secret keys.
    pub secret_target_ref: Option<Vec<TargetRef>>,
    /// Parameters from ConfigMap keys.
    pub config_map_target_ref: Option<Vec<TargetRef>>,
    /// Parameters from the target container's environment.
    pub env: Option<Vec<EnvTarget>>,
    /// A cloud workload identity.
    pub pod_identity: Option<PodIdentity>,
    /// Parameters from ServiceAccount tokens.
    pub bound_service_account_token: Option<Vec<BoundToken>>,
    /// A file on the KEDA operator.
    pub file_path: Option<String>,
    /// AWS Secrets Manager (as KEDA takes it).
    pub aws_secret_manager: Option<serde_json::Value>,
    /// Azure Key Vault (as KEDA takes it).
    pub azure_key_vault: Option<serde_json::Value>,
    /// GCP Secret Manager (as KEDA takes it).
    pub gcp_secret_manager: Option<serde_json::Value>,
    /// HashiCorp Vault (as KEDA takes it).
    pub hashi_corp_vault: Option<serde_json::Value>,
    /// OAuth2 (as KEDA takes it).
    pub oauth2: Option<serde_json::Value>,
}

/// A trigger parameter from a key of a Secret or ConfigMap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetRef {
    /// The trigger parameter.
    pub parameter: String,
    /// The object's name.
    pub name: String,
    /// The key.
    pub key: String,
}

/// A trigger parameter from an environment variable.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvTarget {
    /// The trigger parameter.
    pub parameter: String,
    /// The variable.
    pub name: String,
    /// The container (default the first).
    pub container_name: Option<String>,
}

/// A cloud workload identity.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodIdentity {
    /// `aws`, `azure-workload`, `gcp` or `none` (KEDA requires it).
    pub provider: String,
    /// Azure identity id.
    pub identity_id: Option<String>,
    /// Azure tenant id.
    pub identity_tenant_id: Option<String>,
    /// Azure authority host.
    pub identity_authority_host: Option<String>,
    /// AWS role ARN.
    pub role_arn: Option<String>,
    /// Use the workload's own AWS identity.
    pub identity_owner: Option<String>,
}

/// A trigger parameter from a ServiceAccount token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BoundToken {
    /// The trigger parameter.
    pub parameter: String,
    /// The ServiceAccount.
    pub service_account_name: String,
}

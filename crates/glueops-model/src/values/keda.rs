//! `keda`: a KEDA ScaledObject for the app's workload, and TriggerAuthentications.

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Labels;

/// KEDA autoscaling (replaces the workload's `replicas`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Keda {
    /// Render the KEDA objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The ScaledObject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaled_object: Option<ScaledObject>,
    /// TriggerAuthentications by name (`<appName>-<key>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_authentication: Option<BTreeMap<String, Option<TriggerAuthentication>>>,
}

/// The ScaledObject.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaledObject {
    /// Render it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// Annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Labels>,
    /// Its spec, as KEDA names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<ScaledObjectSpec>,
}

/// The ScaledObject's spec (KEDA's fields, plus `triggersMap`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaledObjectSpec {
    /// Seconds between trigger checks (default 30).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polling_interval: Option<i32>,
    /// Seconds after the last active trigger before scaling to zero (default 300).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooldown_period: Option<i32>,
    /// Seconds after creation before scaling to zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_cooldown_period: Option<i32>,
    /// Replicas while no trigger is active (less than `minReplicaCount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_replica_count: Option<i32>,
    /// Lower bound (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_replica_count: Option<i32>,
    /// Upper bound (default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_replica_count: Option<i32>,
    /// Replicas to fall back to when triggers fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// HPA behaviour and scaling modifiers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced: Option<Advanced>,
    /// What to scale (default: the app's Deployment or StatefulSet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_target_ref: Option<ScaleTargetRef>,
    /// Triggers; when empty, the non-null entries of `triggersMap` in key order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Vec<Trigger>>,
    /// Triggers by any key, so several values files can add and remove them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggers_map: Option<BTreeMap<String, Option<Trigger>>>,
}

/// Replicas to fall back to when triggers fail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fallback {
    /// Failures before falling back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<i32>,
    /// Replicas while falling back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// `static`, `currentReplicas`, `currentReplicasIfHigher` or `currentReplicasIfLower`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behavior: Option<String>,
}

/// Advanced ScaledObject options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Advanced {
    /// Restore the original replica count when the ScaledObject is deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_to_original_replica_count: Option<bool>,
    /// The HPA KEDA manages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub horizontal_pod_autoscaler_config: Option<HpaConfig>,
    /// A formula over the triggers' metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_modifiers: Option<ScalingModifiers>,
}

/// The HPA KEDA manages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaConfig {
    /// The HPA's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Scale-up and scale-down behaviour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behavior: Option<HorizontalPodAutoscalerBehavior>,
}

/// A formula over the triggers' metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingModifiers {
    /// The formula, e.g. `(trig_one + trig_two)/2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// Target of the formula's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Activation target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_target: Option<String>,
    /// `AverageValue` (default), `Value` or `Utilization`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<String>,
}

/// What a ScaledObject scales.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleTargetRef {
    /// API version (default `apps/v1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind (default `Deployment`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The container whose environment triggers may read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_source_container_name: Option<String>,
}

/// One KEDA trigger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trigger {
    /// The scaler, e.g. `cpu`, `cron`, `aws-sqs-queue`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub trigger_type: Option<String>,
    /// The scaler's settings (quote numbers: `value: "80"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// A name to refer to it in formulas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `AverageValue`, `Value` or `Utilization`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<String>,
    /// Cache the metric between polls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_cached_metrics: Option<bool>,
    /// The TriggerAuthentication to use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_ref: Option<AuthenticationRef>,
}

/// A reference to a TriggerAuthentication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticationRef {
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `TriggerAuthentication` (default) or `ClusterTriggerAuthentication`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// One TriggerAuthentication.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerAuthentication {
    /// Render it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Its spec, as KEDA names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<TriggerAuthenticationSpec>,
}

/// A TriggerAuthentication's spec. The secret-manager sources (`awsSecretManager`,
/// `azureKeyVault`, `gcpSecretManager`, `hashiCorpVault`, `oauth2`) are passed to KEDA as
/// written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerAuthenticationSpec {
    /// Parameters from Secret keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_target_ref: Option<Vec<TargetRef>>,
    /// Parameters from ConfigMap keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_target_ref: Option<Vec<TargetRef>>,
    /// Parameters from the target container's environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<EnvTarget>>,
    /// A cloud workload identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_identity: Option<PodIdentity>,
    /// Parameters from ServiceAccount tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound_service_account_token: Option<Vec<BoundToken>>,
    /// A file on the KEDA operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    /// AWS Secrets Manager (as KEDA takes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_secret_manager: Option<serde_json::Value>,
    /// Azure Key Vault (as KEDA takes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure_key_vault: Option<serde_json::Value>,
    /// GCP Secret Manager (as KEDA takes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcp_secret_manager: Option<serde_json::Value>,
    /// HashiCorp Vault (as KEDA takes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashi_corp_vault: Option<serde_json::Value>,
    /// OAuth2 (as KEDA takes it).
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvTarget {
    /// The trigger parameter.
    pub parameter: String,
    /// The variable.
    pub name: String,
    /// The container (default the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
}

/// A cloud workload identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodIdentity {
    /// `aws`, `azure-workload`, `gcp` or `none` (KEDA requires it).
    pub provider: String,
    /// Azure identity id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    /// Azure tenant id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_tenant_id: Option<String>,
    /// Azure authority host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_authority_host: Option<String>,
    /// AWS role ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Use the workload's own AWS identity.
    #[serde(skip_serializing_if = "Option::is_none")]
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

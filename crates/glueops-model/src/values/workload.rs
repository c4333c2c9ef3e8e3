//! The workloads: `deployment`, `statefulSet`, `cronJob` and `job`.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::PodFailurePolicy;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{IntOrString, Pod};

/// The app's Deployment.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentSpec {
    /// Render a Deployment.
    pub enabled: Option<bool>,
    /// Pod count (default 1; left to the autoscaler when `keda` or `autoscaling` is on).
    pub replicas: Option<u32>,
    /// The chart's `RollingUpdate` (default) or `Recreate`; or glueops' progressive form
    /// `{type: rollingUpdate | blueGreen | canary, steps, analysis}` (Argo Rollouts).
    pub strategy: Option<Strategy>,
    /// Extra pods during a rollout (default `100%` for one replica, `50%` for more).
    pub max_surge: Option<IntOrString>,
    /// Pods that may be unavailable during a rollout (default 0 for one replica, half of
    /// them for more).
    pub max_unavailable: Option<IntOrString>,
    /// Old ReplicaSets kept (default 5).
    pub revision_history_limit: Option<i32>,
    /// The app's port when `image.port` is not set.
    pub port: Option<u16>,
    /// The pod template.
    #[serde(flatten)]
    pub pod: Pod,
}

/// Deployment strategy type (the chart's vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StrategyType {
    /// Replace pods gradually.
    RollingUpdate,
    /// Stop all pods, then start new ones.
    Recreate,
}

/// How a new version replaces the running one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Strategy {
    /// The chart's form: `RollingUpdate` or `Recreate`.
    Kind(StrategyType),
    /// glueops' form, for blue/green and canary releases through Argo Rollouts.
    Progressive(Progressive),
}

impl Strategy {
    /// The progressive kind: `None` for a plain Deployment (rolling update or recreate).
    pub fn progressive(&self) -> Option<(ProgressiveKind, &Progressive)> {
        match self {
            Strategy::Progressive(p) => match p.kind {
                Some(kind @ (ProgressiveKind::BlueGreen | ProgressiveKind::Canary)) => {
                    Some((kind, p))
                }
                _ => None,
            },
            Strategy::Kind(_) => None,
        }
    }

    /// True for the chart's `Recreate`.
    pub fn recreates(&self) -> bool {
        matches!(self, Strategy::Kind(StrategyType::Recreate))
    }
}

/// `deployment.strategy` as a map.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Progressive {
    /// `rollingUpdate` (the default: a plain Deployment), `blueGreen` (an Argo Rollouts
    /// Rollout with active and preview Services) or `canary` (a Rollout stepping traffic).
    #[serde(rename = "type")]
    pub kind: Option<ProgressiveKind>,
    /// Canary only: the steps, in Argo Rollouts' vocabulary (`setWeight`, `pause`,
    /// `analysis`); default 20 %, pause 1m, analysis, 50 %, pause 1m, analysis.
    pub steps: Option<Vec<CanaryStep>>,
    /// The success-rate analysis that aborts a bad release (on by default).
    pub analysis: Option<Analysis>,
}

/// The kinds of `deployment.strategy.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProgressiveKind {
    /// A plain Deployment with a rolling update.
    RollingUpdate,
    /// Blue/green: the new version runs beside the old behind a preview Service, is
    /// analysed, then takes the active Service at once.
    BlueGreen,
    /// Canary: the new version takes a growing share of the pods, analysed between steps.
    Canary,
}

/// One canary step: exactly one of its keys.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CanaryStep {
    /// The share of pods (percent, 1–100) on the new version.
    pub set_weight: Option<u32>,
    /// Wait: for `duration`, or until promoted by hand when it has none.
    pub pause: Option<Pause>,
    /// Run the app's success-rate analysis (`analysis: {}`); a failure aborts the release.
    pub analysis: Option<AnalysisStep>,
}

/// A canary pause.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pause {
    /// How long (`30s`, `10m`, `1h`); absent: until promoted by hand.
    pub duration: Option<String>,
}

/// A canary analysis step: the app's analysis, as `deployment.strategy.analysis` sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalysisStep {}

/// The success-rate analysis: a Prometheus query that must stay at or above `threshold`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Analysis {
    /// Run it (default true).
    pub enabled: Option<bool>,
    /// The lowest success rate accepted, 0–1 (default 0.95).
    pub threshold: Option<f64>,
    /// Time between measurements (default `1m`).
    pub interval: Option<String>,
    /// Measurements per analysis (default 5).
    pub count: Option<u32>,
    /// Failed measurements tolerated before the release is aborted (default 1).
    pub failure_limit: Option<u32>,
    /// The success rate as PromQL (one number, 0–1); default: the share of the app's
    /// requests through ingress-nginx over the last 5 minutes that did not answer 5xx.
    pub query: Option<String>,
    /// Prometheus' address (default: GlueOps' in-cluster Prometheus).
    pub prometheus: Option<String>,
}

/// The app's StatefulSet (the chart renders it only while `deployment` is off).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatefulSetSpec {
    /// Render a StatefulSet.
    pub enabled: Option<bool>,
    /// Pod count (default 1).
    pub replicas: Option<u32>,
    /// `RollingUpdate` (default) or `OnDelete`.
    pub update_strategy: Option<UpdateStrategy>,
    /// The governing Service (default: the app's Service; see `service.headlessService`).
    pub service_name: Option<String>,
    /// Seconds a new pod must be ready before it counts.
    pub min_ready_seconds: Option<i32>,
    /// Old revisions kept.
    pub revision_history_limit: Option<i32>,
    /// A PersistentVolumeClaim per pod, by name, each mounted into the app's container.
    pub volume_claim_templates: Option<BTreeMap<String, ClaimTemplate>>,
    /// The pod template.
    #[serde(flatten)]
    pub pod: Pod,
}

/// StatefulSet update strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum UpdateStrategy {
    /// Replace pods one by one.
    RollingUpdate,
    /// Replace a pod only when it is deleted.
    OnDelete,
}

/// One claim per StatefulSet pod.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimTemplate {
    /// One access mode, e.g. `ReadWriteOnce`.
    pub access_modes: Option<String>,
    /// Storage class.
    pub storage_class_name: Option<String>,
    /// Size, e.g. `1Gi`.
    pub requests_storage: Option<String>,
    /// Where the app's container mounts it.
    pub mount_path: Option<String>,
}

/// The Job spec fields a Job or CronJob entry sets (or inherits from `job`/`cronJob`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobSpec {
    /// Pods running at once.
    pub parallelism: Option<i32>,
    /// Successful pods needed.
    pub completions: Option<i32>,
    /// Retries before the Job fails (0: never retry).
    pub backoff_limit: Option<i32>,
    /// Seconds after finishing before the Job is deleted.
    pub ttl_seconds_after_finished: Option<i32>,
    /// Seconds the Job may run in total.
    pub active_deadline_seconds: Option<i64>,
    /// `NonIndexed` or `Indexed`.
    pub completion_mode: Option<String>,
    /// `TerminatingOrFailed` or `Failed`.
    pub pod_replacement_policy: Option<String>,
    /// How pod failures count (needs `restartPolicy: Never`).
    pub pod_failure_policy: Option<PodFailurePolicy>,
}

impl JobSpec {
    /// These fields, with the ones left unset taken from `base`.
    pub fn or(&self, base: &JobSpec) -> JobSpec {
        let pick = |own: &Option<i32>, b: &Option<i32>| own.or(*b);
        JobSpec {
            parallelism: pick(&self.parallelism, &base.parallelism),
            completions: pick(&self.completions, &base.completions),
            backoff_limit: pick(&self.backoff_limit, &base.backoff_limit),
            ttl_seconds_after_finished: pick(
                &self.ttl_seconds_after_finished,
                &base.ttl_seconds_after_finished,
            ),
            active_deadline_seconds: self
                .active_deadline_seconds
                .or(base.active_deadline_seconds),
            completion_mode: self
                .completion_mode
                .clone()
                .or_else(|| base.completion_mode.clone()),
            pod_replacement_policy: self
                .pod_replacement_policy
                .clone()
                .or_else(|| base.pod_replacement_policy.clone()),
            pod_failure_policy: self
                .pod_failure_policy
                .clone()
                .or_else(|| base.pod_failure_policy.clone()),
        }
    }
}

/// `cronJob`: CronJobs running the app's image, and what they share.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronJobs {
    /// Render the CronJobs.
    pub enabled: Option<bool>,
    /// One CronJob per entry, named `<appName>-<key>`.
    pub jobs: Option<BTreeMap<String, Option<CronJobEntry>>>,
    /// Job spec defaults of every entry.
    #[serde(flatten)]
    pub job: JobSpec,
    /// Pod defaults of every entry (`labels` and `annotations` go on every CronJob object).
    #[serde(flatten)]
    pub pod: Pod,
}

/// One CronJob.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronJobEntry {
    /// Render this entry (default true).
    pub enabled: Option<bool>,
    /// Five-field cron schedule or a macro such as `@daily`.
    pub schedule: Option<String>,
    /// IANA time zone of the schedule.
    pub time_zone: Option<String>,
    /// What to do when a run is still going (default `Replace`).
    pub concurrency_policy: Option<ConcurrencyPolicy>,
    /// Seconds a missed run may still start (default 30).
    pub starting_deadline_seconds: Option<i64>,
    /// Pause scheduling (default false).
    pub suspend: Option<bool>,
    /// Finished Jobs kept.
    pub successful_jobs_history_limit: Option<i32>,
    /// Failed Jobs kept.
    pub failed_jobs_history_limit: Option<i32>,
    /// The Job spec.
    #[serde(flatten)]
    pub job: JobSpec,
    /// The pod template.
    #[serde(flatten)]
    pub pod: Pod,
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

impl ConcurrencyPolicy {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConcurrencyPolicy::Allow => "Allow",
            ConcurrencyPolicy::Forbid => "Forbid",
            ConcurrencyPolicy::Replace => "Replace",
        }
    }
}

/// `job`: Jobs running the app's image, and what they share.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Jobs {
    /// Render the Jobs.
    pub enabled: Option<bool>,
    /// One Job per entry, named `<appName>-<key>`.
    pub jobs: Option<BTreeMap<String, Option<JobEntry>>>,
    /// Job spec defaults of every entry.
    #[serde(flatten)]
    pub job: JobSpec,
    /// Pod defaults of every entry (`labels` and `annotations` go on every Job object).
    #[serde(flatten)]
    pub pod: Pod,
}

/// One Job.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobEntry {
    /// Render this entry (default true).
    pub enabled: Option<bool>,
    /// Create the Job suspended.
    pub suspend: Option<bool>,
    /// The Job spec.
    #[serde(flatten)]
    pub job: JobSpec,
    /// The pod template.
    #[serde(flatten)]
    pub pod: Pod,
}

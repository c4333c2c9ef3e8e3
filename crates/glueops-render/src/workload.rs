//! The workloads of one app instance (Deployment, StatefulSet, CronJobs, Jobs) and what
//! belongs to them: ServiceAccount, ConfigMaps, PersistentVolumeClaim, HPA, PDB.

use std::collections::BTreeMap;

use glueops_model::values::{
    self, IntOrString as ValueIntOrString, JobSpec as JobValues, UpdateStrategy, Workload,
    WorkloadKind,
};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment, StatefulSet,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, PersistentVolumeClaimSpec, ServiceAccount,
    VolumeResourceRequirements,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::instance::Instance;
use crate::pod;

pub(crate) fn int_or_string(v: &ValueIntOrString) -> IntOrString {
    match v {
        ValueIntOrString::Int(i) => IntOrString::Int(*i),
        ValueIntOrString::String(s) => IntOrString::String(s.clone()),
    }
}

fn clamp(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The app's ServiceAccount (token not mounted unless a workload asks).
pub(crate) fn service_account(i: &Instance) -> ServiceAccount {
    let sa = i.values.service_account.as_ref();
    ServiceAccount {
        metadata: i.meta_with(
            &i.service_account_name(),
            sa.and_then(|s| s.labels.as_ref()),
            sa.and_then(|s| s.annotations.as_ref()),
        ),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

/// One ConfigMap per `configMap.configs` entry, named `<name>-<suffix>`.
pub(crate) fn config_maps(i: &Instance) -> Vec<ConfigMap> {
    let Some(cm) = i
        .values
        .config_map
        .as_ref()
        .filter(|c| c.enabled == Some(true))
    else {
        return Vec::new();
    };
    cm.configs
        .iter()
        .flatten()
        .filter_map(|(suffix, entry)| {
            let entry = entry.as_ref()?;
            let data = match (&entry.data, &entry.data_map) {
                (Some(text), _) => values::config_data(text).unwrap_or_default(),
                (None, Some(map)) => map.clone(),
                (None, None) => BTreeMap::new(),
            };
            Some(ConfigMap {
                metadata: i.meta_with(
                    &i.named(suffix),
                    cm.labels.as_ref(),
                    cm.annotations.as_ref(),
                ),
                data: Some(data),
                ..ConfigMap::default()
            })
        })
        .collect()
}

/// Whether the replica count is left to KEDA or the HPA.
fn autoscaled(i: &Instance) -> bool {
    i.values
        .autoscaling
        .as_ref()
        .is_some_and(|a| a.enabled == Some(true))
        || i.values
            .keda
            .as_ref()
            .is_some_and(|k| k.enabled == Some(true))
}

/// The Deployment.
pub(crate) fn deployment(i: &Instance, w: &Workload<'_>, config_hash: &str) -> Option<Deployment> {
    let spec = i.values.deployment.as_ref()?;
    let replicas = spec.replicas.unwrap_or(1);
    let recreate = spec
        .strategy
        .as_ref()
        .is_some_and(values::Strategy::recreates);
    let (surge, unavailable) = if replicas > 1 {
        (
            IntOrString::String("50%".into()),
            IntOrString::Int(clamp(replicas / 2)),
        )
    } else {
        (IntOrString::String("100%".into()), IntOrString::Int(0))
    };
    Some(Deployment {
        metadata: i.workload_meta(&i.name),
        spec: Some(DeploymentSpec {
            replicas: (!autoscaled(i)).then(|| clamp(replicas)),
            revision_history_limit: Some(spec.revision_history_limit.unwrap_or(5)),
            selector: i.selector(&w.pod),
            strategy: Some(DeploymentStrategy {
                type_: Some(
                    if recreate {
                        "Recreate"
                    } else {
                        "RollingUpdate"
                    }
                    .to_string(),
                ),
                rolling_update: (!recreate).then(|| RollingUpdateDeployment {
                    max_surge: Some(spec.max_surge.as_ref().map_or(surge, int_or_string)),
                    max_unavailable: Some(
                        spec.max_unavailable
                            .as_ref()
                            .map_or(unavailable, int_or_string),
                    ),
                }),
            }),
            template: pod::template(i, w, config_hash),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    })
}

/// The StatefulSet, governed by the app's Service, with one claim per template.
pub(crate) fn stateful_set(
    i: &Instance,
    w: &Workload<'_>,
    config_hash: &str,
) -> Option<StatefulSet> {
    let spec = i.values.stateful_set.as_ref()?;
    let claims: Vec<PersistentVolumeClaim> = spec
        .volume_claim_templates
        .iter()
        .flatten()
        .map(|(name, c)| PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec![
                    c.access_modes
                        .clone()
                        .unwrap_or_else(|| "ReadWriteOnce".into()),
                ]),
                storage_class_name: c.storage_class_name.clone(),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_string(),
                        Quantity(c.requests_storage.clone().unwrap_or_else(|| "1Gi".into())),
                    )])),
                    limits: None,
                }),
                ..PersistentVolumeClaimSpec::default()
            }),
            status: None,
        })
        .collect();
    Some(StatefulSet {
        metadata: i.workload_meta(&i.name),
        spec: Some(StatefulSetSpec {
            replicas: (!autoscaled(i)).then(|| clamp(spec.replicas.unwrap_or(1))),
            selector: i.selector(&w.pod),
            service_name: Some(spec.service_name.clone().unwrap_or_else(|| i.name.clone())),
            min_ready_seconds: spec.min_ready_seconds,
            revision_history_limit: spec.revision_history_limit,
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some(
                    match spec.update_strategy {
                        Some(UpdateStrategy::OnDelete) => "OnDelete",
                        _ => "RollingUpdate",
                    }
                    .to_string(),
                ),
                rolling_update: None,
            }),
            template: pod::template(i, w, config_hash),
            volume_claim_templates: (!claims.is_empty()).then_some(claims),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    })
}

/// The Job spec of an entry: its fields over the shared `job`/`cronJob` ones.
fn job_spec(
    i: &Instance,
    w: &Workload<'_>,
    own: &JobValues,
    shared: &JobValues,
    config_hash: &str,
) -> JobSpec {
    let j = own.or(shared);
    JobSpec {
        parallelism: j.parallelism,
        completions: j.completions,
        backoff_limit: j.backoff_limit,
        ttl_seconds_after_finished: j.ttl_seconds_after_finished,
        active_deadline_seconds: j.active_deadline_seconds,
        completion_mode: j.completion_mode,
        pod_replacement_policy: j.pod_replacement_policy,
        pod_failure_policy: j.pod_failure_policy,
        template: pod::template(i, w, config_hash),
        ..JobSpec::default()
    }
}

/// Labels and annotations of a Job or CronJob object: the shared ones, then the entry's.
fn job_meta(i: &Instance, key: &str, shared: &values::Pod, own: &values::Pod) -> ObjectMeta {
    let mut meta = i.workload_meta(&i.named(key));
    let mut labels = meta.labels.take().unwrap_or_default();
    labels.extend(shared.labels.clone().unwrap_or_default());
    labels.extend(own.labels.clone().unwrap_or_default());
    labels.insert("app.kubernetes.io/name".to_string(), i.named(key));
    meta.labels = Some(labels);
    let mut annotations = meta.annotations.take().unwrap_or_default();
    annotations.extend(shared.annotations.clone().unwrap_or_default());
    annotations.extend(own.annotations.clone().unwrap_or_default());
    meta.annotations = (!annotations.is_empty()).then_some(annotations);
    meta
}

/// One CronJob per enabled `cronJob.jobs` entry, named `<name>-<key>`.
pub(crate) fn cron_job(i: &Instance, w: &Workload<'_>, config_hash: &str) -> Option<CronJob> {
    let c = i.values.cron_job.as_ref()?;
    let key = w.key?;
    let entry = c.jobs.as_ref()?.get(key)?.as_ref()?;
    Some(CronJob {
        metadata: job_meta(i, key, &c.pod, &entry.pod),
        spec: Some(CronJobSpec {
            schedule: entry.schedule.clone().unwrap_or_default(),
            time_zone: entry.time_zone.clone(),
            concurrency_policy: Some(
                entry
                    .concurrency_policy
                    .unwrap_or(values::ConcurrencyPolicy::Replace)
                    .as_str()
                    .to_string(),
            ),
            starting_deadline_seconds: Some(entry.starting_deadline_seconds.unwrap_or(30)),
            suspend: Some(entry.suspend.unwrap_or(false)),
            successful_jobs_history_limit: entry.successful_jobs_history_limit,
            failed_jobs_history_limit: entry.failed_jobs_history_limit,
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(job_spec(i, w, &entry.job, &c.job, config_hash)),
            },
        }),
        ..CronJob::default()
    })
}

/// One Job per enabled `job.jobs` entry, named `<name>-<key>`.
pub(crate) fn job(i: &Instance, w: &Workload<'_>, config_hash: &str) -> Option<Job> {
    let j = i.values.job.as_ref()?;
    let key = w.key?;
    let entry = j.jobs.as_ref()?.get(key)?.as_ref()?;
    let mut spec = job_spec(i, w, &entry.job, &j.job, config_hash);
    spec.suspend = entry.suspend;
    Some(Job {
        metadata: job_meta(i, key, &j.pod, &entry.pod),
        spec: Some(spec),
        ..Job::default()
    })
}

/// The kind and name of the app's long-running workload, if any.
pub(crate) fn scale_target(i: &Instance) -> Option<(&'static str, &'static str, String)> {
    i.workloads.iter().find_map(|w| match w.kind {
        WorkloadKind::Deployment if crate::rollouts::progressive(i).is_some() => {
            Some(("argoproj.io/v1alpha1", "Rollout", i.name.clone()))
        }
        WorkloadKind::Deployment => Some(("apps/v1", "Deployment", i.name.clone())),
        WorkloadKind::StatefulSet => Some(("apps/v1", "StatefulSet", i.name.clone())),
        _ => None,
    })
}

/// The HorizontalPodAutoscaler, when `autoscaling.enabled` and a Deployment or StatefulSet runs.
pub(crate) fn autoscaler(i: &Instance) -> Option<HorizontalPodAutoscaler> {
    let a = i
        .values
        .autoscaling
        .as_ref()
        .filter(|a| a.enabled == Some(true))?;
    let (api_version, kind, name) = scale_target(i)?;
    let metric = |name: &str, target: Option<u32>| {
        target.map(|t| MetricSpec {
            type_: "Resource".to_string(),
            resource: Some(ResourceMetricSource {
                name: name.to_string(),
                target: MetricTarget {
                    type_: "Utilization".to_string(),
                    average_utilization: Some(clamp(t)),
                    ..MetricTarget::default()
                },
            }),
            ..MetricSpec::default()
        })
    };
    let mut metrics: Vec<MetricSpec> = [
        metric("cpu", a.target_cpu_utilization_percentage),
        metric("memory", a.target_memory_utilization_percentage),
    ]
    .into_iter()
    .flatten()
    .collect();
    if metrics.is_empty() {
        metrics.extend(metric("cpu", Some(80)));
    }
    Some(HorizontalPodAutoscaler {
        metadata: i.meta(&i.name),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some(api_version.to_string()),
                kind: kind.to_string(),
                name,
            },
            min_replicas: Some(clamp(a.min_replicas.unwrap_or(1))),
            max_replicas: clamp(a.max_replicas.unwrap_or(1)),
            metrics: Some(metrics),
            behavior: None,
        }),
        ..HorizontalPodAutoscaler::default()
    })
}

/// The PodDisruptionBudget, when enabled and a Deployment or StatefulSet runs:
/// `minAvailable` (default 1) unless only `maxUnavailable` is set.
pub(crate) fn disruption_budget(i: &Instance) -> Option<PodDisruptionBudget> {
    let p = i
        .values
        .pod_disruption_budget
        .as_ref()
        .filter(|p| p.enabled == Some(true))?;
    let pod = &i
        .workloads
        .iter()
        .find(|w| matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet))?
        .pod;
    let (min, max) = match (&p.min_available, &p.max_unavailable) {
        (None, Some(max)) => (None, Some(int_or_string(max))),
        (Some(min), _) => (Some(int_or_string(min)), None),
        (None, None) => (Some(IntOrString::Int(1)), None),
    };
    Some(PodDisruptionBudget {
        metadata: i.meta(&i.name),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: min,
            max_unavailable: max,
            selector: Some(i.selector(pod)),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    })
}

/// The PersistentVolumeClaim of `persistentVolumeClaim` (none for an `existingClaim`).
pub(crate) fn volume_claim(i: &Instance) -> Option<PersistentVolumeClaim> {
    let p = i
        .values
        .persistent_volume_claim
        .as_ref()
        .filter(|p| p.enabled == Some(true))?;
    if p.existing_claim.is_some() {
        return None;
    }
    let name = p
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| i.named("pvc"));
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    Some(PersistentVolumeClaim {
        metadata: i.meta_with(&name, p.labels.as_ref(), p.annotations.as_ref()),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![
                p.access_mode
                    .clone()
                    .unwrap_or_else(|| "ReadWriteOnce".into()),
            ]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(p.storage_size.clone().unwrap_or_else(|| "8Gi".into())),
                )])),
                limits: None,
            }),
            storage_class_name: match p.storage_class.as_deref() {
                Some("-") => Some(String::new()),
                _ => nonempty(&p.storage_class),
            },
            volume_mode: nonempty(&p.volume_mode),
            volume_name: nonempty(&p.volume_name),
            ..PersistentVolumeClaimSpec::default()
        }),
        status: None,
    })
}

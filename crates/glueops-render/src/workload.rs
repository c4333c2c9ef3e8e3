//! Deployment, CronJob, ServiceAccount, ConfigMaps, HPA and PDB of one app instance, with a
//! pod template that is secure by default (restricted pod security).

use std::collections::BTreeMap;

use glueops_model::values::{self, AppValues, IntOrString as ValueIntOrString};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapEnvSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvFromSource, EnvVar, EnvVarSource, ExecAction, HTTPGetAction, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecretKeySelector,
    SecurityContext, ServiceAccount, TCPSocketAction, Toleration, TopologySpreadConstraint, Volume,
    VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::instance::Instance;

/// The user and group glueops runs containers as (a high UID, not root).
pub const RUN_AS_ID: i64 = 10001;

/// Requests and limits used when no layer sets them.
const DEFAULT_REQUESTS: [(&str, &str); 2] = [("cpu", "50m"), ("memory", "64Mi")];
const DEFAULT_LIMITS: [(&str, &str); 2] = [("cpu", "500m"), ("memory", "256Mi")];

pub(crate) fn int_or_string(v: &ValueIntOrString) -> IntOrString {
    match v {
        ValueIntOrString::Int(i) => IntOrString::Int(*i),
        ValueIntOrString::String(s) => IntOrString::String(s.clone()),
    }
}

/// The ServiceAccount of the app.
pub(crate) fn service_account(i: &Instance) -> ServiceAccount {
    ServiceAccount {
        metadata: i.meta(&i.app),
        automount_service_account_token: Some(i.automount_token()),
        ..ServiceAccount::default()
    }
}

/// One ConfigMap per `configMap.configs` entry, named `<app>-<name>`.
pub(crate) fn config_maps(i: &Instance) -> Vec<ConfigMap> {
    let configs = i
        .values
        .config_map
        .as_ref()
        .and_then(|c| c.configs.as_ref());
    configs
        .into_iter()
        .flatten()
        .map(|(name, data)| ConfigMap {
            metadata: i.meta(&format!("{}-{name}", i.app)),
            data: Some(data.clone()),
            ..ConfigMap::default()
        })
        .collect()
}

/// The Deployment, when `deployment.enabled`.
pub(crate) fn deployment(i: &Instance, config_hash: &str) -> Option<Deployment> {
    let spec = i
        .values
        .deployment
        .as_ref()
        .filter(|d| d.enabled == Some(true))?;
    let autoscaled = i
        .values
        .autoscaling
        .as_ref()
        .is_some_and(|a| a.enabled == Some(true));
    let mut container = container(i, i.values);
    container.liveness_probe = probe(i.values, spec.liveness_probe.as_ref());
    container.readiness_probe = probe(i.values, spec.readiness_probe.as_ref());
    container.startup_probe = spec
        .startup_probe
        .as_ref()
        .and_then(|p| probe(i.values, Some(p)));
    let mut pod = pod_spec(i, container);
    pod.node_selector = spec.node_selector.clone();
    pod.tolerations = spec
        .tolerations
        .as_ref()
        .map(|t| t.iter().map(toleration).collect());
    pod.topology_spread_constraints = spec
        .topology_spread_constraints
        .as_ref()
        .map(|t| t.iter().map(|c| spread(i, c)).collect());
    Some(Deployment {
        metadata: i.workload_meta(&i.app),
        spec: Some(DeploymentSpec {
            replicas: (!autoscaled)
                .then(|| i32::try_from(spec.replicas.unwrap_or(1)).unwrap_or(i32::MAX)),
            revision_history_limit: Some(5),
            selector: i.selector(),
            strategy: spec.strategy.as_ref().map(strategy),
            template: pod_template(i, pod, config_hash),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    })
}

/// One CronJob per `cronJobs` entry, named `<app>-<job>`, running the app image.
pub(crate) fn cron_jobs(i: &Instance, config_hash: &str) -> Vec<CronJob> {
    let mut out = Vec::new();
    for (name, job) in i.values.cron_jobs.iter().flatten() {
        let mut container = container(i, i.values);
        if job.command.is_some() {
            container.command.clone_from(&job.command);
        }
        if job.args.is_some() {
            container.args.clone_from(&job.args);
        }
        container.ports = None;
        let mut pod = pod_spec(i, container);
        pod.restart_policy = Some("OnFailure".to_string());
        out.push(CronJob {
            metadata: i.workload_meta(&format!("{}-{name}", i.app)),
            spec: Some(CronJobSpec {
                schedule: job.schedule.clone().unwrap_or_default(),
                time_zone: job.time_zone.clone(),
                concurrency_policy: Some(format!(
                    "{:?}",
                    job.concurrency_policy
                        .unwrap_or(values::ConcurrencyPolicy::Forbid)
                )),
                suspend: job.suspend,
                successful_jobs_history_limit: Some(3),
                failed_jobs_history_limit: Some(3),
                job_template: JobTemplateSpec {
                    metadata: None,
                    spec: Some(JobSpec {
                        backoff_limit: Some(3),
                        template: pod_template(i, pod, config_hash),
                        ..JobSpec::default()
                    }),
                },
                ..CronJobSpec::default()
            }),
            ..CronJob::default()
        });
    }
    out
}

/// The HorizontalPodAutoscaler, when `autoscaling.enabled` and the Deployment exists.
pub(crate) fn autoscaler(i: &Instance) -> Option<HorizontalPodAutoscaler> {
    let a = i
        .values
        .autoscaling
        .as_ref()
        .filter(|a| a.enabled == Some(true))?;
    i.values
        .deployment
        .as_ref()
        .filter(|d| d.enabled == Some(true))?;
    let metric = |name: &str, target: Option<u32>| {
        target.map(|t| MetricSpec {
            type_: "Resource".to_string(),
            resource: Some(ResourceMetricSource {
                name: name.to_string(),
                target: MetricTarget {
                    type_: "Utilization".to_string(),
                    average_utilization: Some(i32::try_from(t).unwrap_or(i32::MAX)),
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
        metadata: i.meta(&i.app),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".to_string()),
                kind: "Deployment".to_string(),
                name: i.app.clone(),
            },
            min_replicas: Some(i32::try_from(a.min_replicas.unwrap_or(1)).unwrap_or(i32::MAX)),
            max_replicas: i32::try_from(a.max_replicas.unwrap_or(1)).unwrap_or(i32::MAX),
            metrics: Some(metrics),
            behavior: None,
        }),
        ..HorizontalPodAutoscaler::default()
    })
}

/// The PodDisruptionBudget, when `podDisruptionBudget.enabled` and the Deployment exists.
pub(crate) fn disruption_budget(i: &Instance) -> Option<PodDisruptionBudget> {
    let p = i
        .values
        .pod_disruption_budget
        .as_ref()
        .filter(|p| p.enabled == Some(true))?;
    i.values
        .deployment
        .as_ref()
        .filter(|d| d.enabled == Some(true))?;
    Some(PodDisruptionBudget {
        metadata: i.meta(&i.app),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: p.min_available.as_ref().map(int_or_string),
            max_unavailable: p.max_unavailable.as_ref().map(int_or_string),
            selector: Some(i.selector()),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    })
}

fn container(i: &Instance, v: &AppValues) -> Container {
    let image = v.image.clone().unwrap_or_default();
    let spec = v.deployment.clone().unwrap_or_default();
    let mut env: Vec<EnvVar> = spec
        .env_variables
        .iter()
        .flatten()
        .map(|e| EnvVar {
            name: e.name.clone().unwrap_or_default(),
            value: e.value.clone(),
            value_from: None,
        })
        .collect();
    env.extend(spec.env_secrets.iter().flatten().map(|e| EnvVar {
        name: e.variable.clone().unwrap_or_default(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: format!("{}-{}", i.app, e.secret_name.clone().unwrap_or_default()),
                key: e.secret_key.clone().unwrap_or_default(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
    }));
    let env_from: Vec<EnvFromSource> = v
        .config_map
        .iter()
        .flat_map(|c| c.configs.iter().flatten())
        .map(|(name, _)| EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: format!("{}-{name}", i.app),
                optional: None,
            }),
            ..EnvFromSource::default()
        })
        .collect();
    Container {
        name: i.app.clone(),
        image: Some(i.image()),
        image_pull_policy: Some(
            image
                .pull_policy
                .map_or_else(|| "IfNotPresent".to_string(), |p| format!("{p:?}")),
        ),
        command: image.command.clone(),
        args: image.args.clone(),
        ports: image.port.map(|p| {
            vec![ContainerPort {
                name: Some("http".to_string()),
                container_port: i32::from(p),
                protocol: Some("TCP".to_string()),
                ..ContainerPort::default()
            }]
        }),
        env: (!env.is_empty()).then_some(env),
        env_from: (!env_from.is_empty()).then_some(env_from),
        resources: Some(resources(spec.resources.as_ref())),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(RUN_AS_ID),
            run_as_group: Some(RUN_AS_ID),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_string()]),
                add: None,
            }),
            seccomp_profile: Some(runtime_default()),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: "tmp".to_string(),
            mount_path: "/tmp".to_string(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    }
}

/// The pod template of a workload: workload labels, and the config hash that rolls pods when
/// ConfigMaps or ExternalSecret specs change.
fn pod_template(i: &Instance, pod: PodSpec, config_hash: &str) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(i.workload_labels()),
            annotations: Some(BTreeMap::from([(
                "glueops.dev/config-hash".to_string(),
                config_hash.to_string(),
            )])),
            ..ObjectMeta::default()
        }),
        spec: Some(pod),
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_string(),
        localhost_profile: None,
    }
}

fn pod_spec(i: &Instance, container: Container) -> PodSpec {
    PodSpec {
        service_account_name: Some(i.app.clone()),
        automount_service_account_token: Some(i.automount_token()),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(RUN_AS_ID),
            run_as_group: Some(RUN_AS_ID),
            fs_group: Some(RUN_AS_ID),
            seccomp_profile: Some(runtime_default()),
            ..PodSecurityContext::default()
        }),
        containers: vec![container],
        volumes: Some(vec![Volume {
            name: "tmp".to_string(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        }]),
        ..PodSpec::default()
    }
}

/// Requests and limits: the merged values, with platform defaults for what no layer set, and
/// limits raised to the request where a default would fall below it.
fn resources(r: Option<&values::Resources>) -> ResourceRequirements {
    let pick = |list: Option<&values::ResourceList>, defaults: [(&str, &str); 2]| {
        let mut out: BTreeMap<String, Quantity> = defaults
            .iter()
            .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
            .collect();
        for (k, v) in list.map(values::ResourceList::entries).unwrap_or_default() {
            out.insert(k.to_string(), Quantity(v.to_string()));
        }
        out
    };
    let requests = pick(r.and_then(|r| r.requests.as_ref()), DEFAULT_REQUESTS);
    let mut limits = pick(r.and_then(|r| r.limits.as_ref()), DEFAULT_LIMITS);
    let user_limits = r.and_then(|r| r.limits.as_ref());
    for (k, req) in &requests {
        let set_by_user = user_limits.is_some_and(|l| l.entries().iter().any(|(n, _)| n == k));
        let below = limits.get(k).is_some_and(|lim| {
            values::compare_quantities(&lim.0, &req.0) == Some(std::cmp::Ordering::Less)
        });
        if !set_by_user && below {
            limits.insert(k.clone(), req.clone());
        }
    }
    ResourceRequirements {
        requests: Some(requests),
        limits: Some(limits),
        ..ResourceRequirements::default()
    }
}

/// A probe from values; with none given, a TCP check on the app's port.
fn probe(v: &AppValues, p: Option<&values::Probe>) -> Option<Probe> {
    let port = v.image.as_ref().and_then(|i| i.port);
    let default_port = || {
        port.map_or(IntOrString::Int(80), |_| {
            IntOrString::String("http".to_string())
        })
    };
    let Some(p) = p else {
        port?;
        return Some(Probe {
            tcp_socket: Some(TCPSocketAction {
                port: default_port(),
                host: None,
            }),
            period_seconds: Some(10),
            ..Probe::default()
        });
    };
    Some(Probe {
        http_get: p.http_get.as_ref().map(|h| HTTPGetAction {
            path: Some(h.path.clone().unwrap_or_else(|| "/".to_string())),
            port: h.port.as_ref().map_or_else(default_port, int_or_string),
            ..HTTPGetAction::default()
        }),
        tcp_socket: p.tcp_socket.as_ref().map(|t| TCPSocketAction {
            port: t.port.as_ref().map_or_else(default_port, int_or_string),
            host: None,
        }),
        exec: p.exec.as_ref().map(|e| ExecAction {
            command: e.command.clone(),
        }),
        initial_delay_seconds: p.initial_delay_seconds.map(clamp),
        period_seconds: p.period_seconds.map(clamp),
        timeout_seconds: p.timeout_seconds.map(clamp),
        failure_threshold: p.failure_threshold.map(clamp),
        success_threshold: p.success_threshold.map(clamp),
        ..Probe::default()
    })
}

fn clamp(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn strategy(s: &values::Strategy) -> DeploymentStrategy {
    let recreate = s.strategy_type == Some(values::StrategyType::Recreate);
    DeploymentStrategy {
        type_: Some(
            if recreate {
                "Recreate"
            } else {
                "RollingUpdate"
            }
            .to_string(),
        ),
        rolling_update: (!recreate)
            .then(|| {
                s.rolling_update.as_ref().map(|r| RollingUpdateDeployment {
                    max_surge: r.max_surge.as_ref().map(int_or_string),
                    max_unavailable: r.max_unavailable.as_ref().map(int_or_string),
                })
            })
            .flatten(),
    }
}

fn toleration(t: &values::Toleration) -> Toleration {
    Toleration {
        key: t.key.clone(),
        operator: t.operator.clone(),
        value: t.value.clone(),
        effect: t.effect.clone(),
        toleration_seconds: t.toleration_seconds,
    }
}

fn spread(i: &Instance, c: &values::TopologySpreadConstraint) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: clamp(c.max_skew.unwrap_or(1)),
        topology_key: c
            .topology_key
            .clone()
            .unwrap_or_else(|| "kubernetes.io/hostname".to_string()),
        when_unsatisfiable: c
            .when_unsatisfiable
            .clone()
            .unwrap_or_else(|| "ScheduleAnyway".to_string()),
        label_selector: Some(LabelSelector {
            match_labels: Some(i.selector_labels()),
            match_expressions: None,
        }),
        ..TopologySpreadConstraint::default()
    }
}

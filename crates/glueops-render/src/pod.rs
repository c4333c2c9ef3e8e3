//! The pod template of a workload, the chart's way (environment, ports, volumes, scheduling,
//! sidecars), on glueops' restricted pod-security defaults.

use std::collections::BTreeMap;

use glueops_model::values::{self, EnvFromKind, Pod, Workload, WorkloadKind};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, ConfigMapKeySelector, Container, ContainerPort,
    EmptyDirVolumeSource, EnvFromSource, EnvVar, EnvVarSource, LocalObjectReference,
    ObjectFieldSelector, PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecretEnvSource,
    SecretKeySelector, SecurityContext, TCPSocketAction, TopologySpreadConstraint, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::instance::Instance;

/// The user and group glueops runs containers as (a high UID, not root).
pub const RUN_AS_ID: i64 = 10001;

/// Requests and limits used when no layer sets them.
const DEFAULT_REQUESTS: [(&str, &str); 2] = [("cpu", "50m"), ("memory", "64Mi")];
const DEFAULT_LIMITS: [(&str, &str); 2] = [("cpu", "500m"), ("memory", "256Mi")];

/// The pod template of `w`: workload labels (plus the Job labels the chart adds), the
/// config hash that rolls pods when ConfigMaps or ExternalSecret specs change, the pod's own
/// labels and annotations.
pub(crate) fn template(i: &Instance, w: &Workload<'_>, config_hash: &str) -> PodTemplateSpec {
    let pod = &w.pod;
    let mut labels = i.workload_labels();
    labels.extend(pod.match_labels.clone().unwrap_or_default());
    if let Some(key) = w.key {
        let kind = if w.kind == WorkloadKind::CronJob {
            "cronjob"
        } else {
            "job"
        };
        labels.insert("resource-type".to_string(), kind.to_string());
        labels.insert(kind.to_string(), i.named(key));
        // Job pods must not match the app's Service or Deployment selector.
        labels.insert("app.kubernetes.io/name".to_string(), i.named(key));
    }
    labels.extend(pod.labels.clone().unwrap_or_default());
    let mut annotations = i.values.common_annotations.clone().unwrap_or_default();
    annotations.extend(pod.annotations.clone().unwrap_or_default());
    annotations.insert(
        "glueops.dev/config-hash".to_string(),
        config_hash.to_string(),
    );
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        }),
        spec: Some(spec(i, w)),
    }
}

fn spec(i: &Instance, w: &Workload<'_>) -> PodSpec {
    let pod = &w.pod;
    let mut containers = vec![app_container(i, w)];
    containers.extend(pod.sidecar.iter().flatten().map(harden));
    let init: Vec<Container> = pod.init_containers.iter().flatten().map(harden).collect();
    let secrets = image_pull_secret(i, pod);
    let restart = match w.kind {
        WorkloadKind::CronJob => Some(
            pod.restart_policy
                .clone()
                .unwrap_or_else(|| "OnFailure".into()),
        ),
        WorkloadKind::Job => Some(pod.restart_policy.clone().unwrap_or_else(|| "Never".into())),
        _ => pod.restart_policy.clone(),
    };
    let account = pod.service_account.as_ref();
    let own_account = account
        .filter(|s| s.enabled == Some(true) && w.key.is_some())
        .and_then(|s| s.name.clone());
    PodSpec {
        service_account_name: Some(own_account.unwrap_or_else(|| i.service_account_name())),
        automount_service_account_token: Some(
            account
                .and_then(|s| s.automount_service_account_token)
                .unwrap_or(false),
        ),
        security_context: Some(pod_security(pod.security_context.as_ref())),
        enable_service_links: Some(pod.enable_service_links.unwrap_or(true)),
        termination_grace_period_seconds: Some(pod.termination_grace_period_seconds.unwrap_or(60)),
        host_aliases: pod.host_aliases.clone().filter(|h| !h.is_empty()),
        node_selector: pod.node_selector.clone().filter(|n| !n.is_empty()),
        tolerations: pod.tolerations.clone().filter(|t| !t.is_empty()),
        affinity: pod.affinity.clone().filter(|a| *a != Default::default()),
        topology_spread_constraints: Some(spread(i, w)),
        image_pull_secrets: secrets.map(|name| vec![LocalObjectReference { name }]),
        dns_policy: pod.dns_policy.clone(),
        dns_config: pod.dns_config.clone(),
        share_process_namespace: pod.share_process_namespace.filter(|s| *s),
        priority_class_name: pod.priority_class_name.clone(),
        restart_policy: restart,
        volumes: Some(volumes(i, w)),
        init_containers: (!init.is_empty()).then_some(init),
        containers,
        ..PodSpec::default()
    }
}

/// `imagePullSecrets` of a workload, else `image.pullSecrets`; `""` at a level means none.
fn image_pull_secret(i: &Instance, pod: &Pod) -> Option<String> {
    let chosen = pod.image_pull_secrets.clone().or_else(|| {
        i.values
            .image
            .as_ref()
            .and_then(|img| img.pull_secrets.clone())
    })?;
    let trimmed = chosen.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// The chart's default spread: over zones, on the workload's own pods.
fn spread(i: &Instance, w: &Workload<'_>) -> Vec<TopologySpreadConstraint> {
    let pod = &w.pod;
    let mut labels = i.selector_labels();
    labels.extend(pod.match_labels.clone().unwrap_or_default());
    if let Some(key) = w.key {
        labels.insert("app.kubernetes.io/name".to_string(), i.named(key));
    }
    if let Some(mut own) = pod
        .topology_spread_constraints
        .clone()
        .filter(|t| !t.is_empty())
    {
        // A constraint without a selector would count no pods: spread the app's own.
        for c in &mut own {
            if c.label_selector.is_none() {
                c.label_selector = Some(LabelSelector {
                    match_labels: Some(labels.clone()),
                    match_expressions: None,
                });
            }
        }
        return own;
    }
    vec![TopologySpreadConstraint {
        label_selector: Some(LabelSelector {
            match_labels: Some(labels),
            match_expressions: None,
        }),
        max_skew: pod.topology_spread_constraints_max_skew.unwrap_or(1),
        topology_key: "topology.kubernetes.io/zone".to_string(),
        when_unsatisfiable: "ScheduleAnyway".to_string(),
        ..TopologySpreadConstraint::default()
    }]
}

fn volumes(i: &Instance, w: &Workload<'_>) -> Vec<Volume> {
    let mut out = Vec::new();
    if let Some(claim) = mounted_claim(i, w) {
        out.push(Volume {
            name: i.named("pvc"),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim,
                read_only: None,
            }),
            ..Volume::default()
        });
    }
    out.extend(w.pod.volumes.iter().flatten().cloned());
    if !out.iter().any(|v| v.name == "tmp") {
        out.push(Volume {
            name: "tmp".to_string(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        });
    }
    out
}

/// The claim `persistentVolumeClaim` mounts into this workload's pods (not a StatefulSet's).
fn mounted_claim(i: &Instance, w: &Workload<'_>) -> Option<String> {
    let pvc = i
        .values
        .persistent_volume_claim
        .as_ref()
        .filter(|p| p.enabled == Some(true) && p.mount_pvc != Some(false))?;
    if w.kind == WorkloadKind::StatefulSet {
        return None;
    }
    Some(
        pvc.existing_claim
            .clone()
            .or_else(|| pvc.name.clone().filter(|n| !n.is_empty()))
            .unwrap_or_else(|| i.named("pvc")),
    )
}

fn app_container(i: &Instance, w: &Workload<'_>) -> Container {
    let pod = &w.pod;
    let top = i.values.image.clone().unwrap_or_default();
    let port = i.values.port();
    let protocol = top
        .protocol
        .or(pod.protocol)
        .map_or("TCP", values::Protocol::as_str);
    let mut ports = vec![ContainerPort {
        name: Some(pod.port_name.clone().unwrap_or_else(|| "http".to_string())),
        container_port: i32::from(port),
        protocol: Some(protocol.to_string()),
        ..ContainerPort::default()
    }];
    ports.extend(pod.container_ports.iter().flatten().map(|p| {
        ContainerPort {
            name: p.name.clone(),
            container_port: i32::from(p.port.unwrap_or_default()),
            protocol: Some(
                p.protocol
                    .map_or("TCP", values::Protocol::as_str)
                    .to_string(),
            ),
            ..ContainerPort::default()
        }
    }));
    let (env, env_from) = environment(i, pod, port);
    let default_probe = || {
        i.values.port_is_set().then(|| Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::String("http".to_string()),
                host: None,
            }),
            period_seconds: Some(10),
            ..Probe::default()
        })
    };
    let runs_forever = matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet);
    Container {
        name: i.name.clone(),
        image: Some(
            i.values
                .image_reference(pod, i.tag.as_deref())
                .unwrap_or_default(),
        ),
        image_pull_policy: Some(
            pod.image_pull_policy
                .map_or("IfNotPresent", values::PullPolicy::as_str)
                .to_string(),
        ),
        command: top
            .command
            .clone()
            .filter(|c| !c.is_empty())
            .or_else(|| pod.command.clone()),
        args: top
            .args
            .clone()
            .filter(|a| !a.is_empty())
            .or_else(|| pod.args.clone()),
        lifecycle: pod.lifecycle.clone(),
        ports: Some(ports),
        env: Some(env),
        env_from: (!env_from.is_empty()).then_some(env_from),
        resources: Some(resources(pod.resources.as_ref())),
        liveness_probe: pod
            .liveness_probe
            .clone()
            .or_else(|| if runs_forever { default_probe() } else { None }),
        readiness_probe: pod
            .readiness_probe
            .clone()
            .or_else(|| if runs_forever { default_probe() } else { None }),
        startup_probe: pod.startup_probe.clone().filter(|p| *p != Probe::default()),
        security_context: Some(container_security(
            pod.container_security_context.as_ref(),
            true,
        )),
        volume_mounts: Some(mounts(i, w)),
        ..Container::default()
    }
}

fn mounts(i: &Instance, w: &Workload<'_>) -> Vec<VolumeMount> {
    let mut out = Vec::new();
    if w.kind == WorkloadKind::StatefulSet {
        let claims = i
            .values
            .stateful_set
            .as_ref()
            .and_then(|s| s.volume_claim_templates.as_ref());
        for (name, claim) in claims.into_iter().flatten() {
            if let Some(path) = &claim.mount_path {
                out.push(VolumeMount {
                    name: name.clone(),
                    mount_path: path.clone(),
                    ..VolumeMount::default()
                });
            }
        }
    }
    if mounted_claim(i, w).is_some()
        && let Some(path) = i
            .values
            .persistent_volume_claim
            .as_ref()
            .and_then(|p| p.mount_path.clone())
    {
        out.push(VolumeMount {
            name: i.named("pvc"),
            mount_path: path,
            ..VolumeMount::default()
        });
    }
    out.extend(w.pod.volume_mounts.iter().flatten().cloned());
    if !out.iter().any(|m| m.mount_path == "/tmp") {
        out.push(VolumeMount {
            name: "tmp".to_string(),
            mount_path: "/tmp".to_string(),
            ..VolumeMount::default()
        });
    }
    out
}

/// The chart's default variables, then `envVariables`, `envSecrets`, the keys of
/// `externalSecret` secrets, `envConfigMaps`, `envMap`; and `envFrom` with the `dataFrom`
/// secrets.
fn environment(i: &Instance, pod: &Pod, port: u16) -> (Vec<EnvVar>, Vec<EnvFromSource>) {
    let mut env = vec![
        value("ENV_APP_NAME", i.name.clone()),
        value("ENV_APP_VERSION", i.app_version(pod)),
        value("ENV_APP_ENV", i.app_env()),
        value("ENV_APP_PORT", port.to_string()),
        field("ENV_NODE_NAME", "spec.nodeName"),
        field("ENV_POD_NAME", "metadata.name"),
        field("ENV_POD_NAMESPACE", "metadata.namespace"),
        field("ENV_POD_IP", "status.podIP"),
    ];
    env.extend(pod.env_variables.iter().flatten().map(|e| {
        value(
            e.name.as_deref().unwrap_or_default(),
            e.value.clone().unwrap_or_default(),
        )
    }));
    env.extend(pod.env_secrets.iter().flatten().map(|e| EnvVar {
        name: e.variable.clone().unwrap_or_default(),
        value: None,
        value_from: Some(secret_ref(
            e.secret_name.clone().unwrap_or_default(),
            e.secret_key.clone().unwrap_or_default(),
        )),
    }));
    let mut env_from = Vec::new();
    external_secret_env(i, &mut env, &mut env_from);
    env.extend(pod.env_config_maps.iter().flatten().map(|e| EnvVar {
        name: e.variable.clone().unwrap_or_default(),
        value: None,
        value_from: Some(EnvVarSource {
            config_map_key_ref: Some(ConfigMapKeySelector {
                name: e.config_map_name.clone().unwrap_or_default(),
                key: e.config_map_key.clone().unwrap_or_default(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
    }));
    for (name, v) in pod.env_map.iter().flatten() {
        let v = v.clone().unwrap_or_default();
        env.push(EnvVar {
            name: name.clone(),
            value: v.value,
            value_from: v.value_from,
        });
    }
    env_from.extend(pod.env_from.iter().flatten().map(|from| match from.kind {
        EnvFromKind::ConfigMapRef => EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: from.name.clone(),
                optional: None,
            }),
            ..EnvFromSource::default()
        },
        EnvFromKind::SecretRef => EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: from.name.clone(),
                optional: None,
            }),
            ..EnvFromSource::default()
        },
    }));
    (env, env_from)
}

/// Every key of the enabled `externalSecret` secrets as a variable (`envName`, default the
/// key), and each `dataFrom` secret whole as an `envFrom`.
fn external_secret_env(i: &Instance, env: &mut Vec<EnvVar>, env_from: &mut Vec<EnvFromSource>) {
    let Some(es) = i
        .values
        .external_secret
        .as_ref()
        .filter(|e| e.enabled == Some(true))
    else {
        return;
    };
    for (suffix, source) in es.secrets.iter().flatten() {
        let secret = source.name.clone().unwrap_or_else(|| i.named(suffix));
        for (key, data) in source.data.iter().flatten() {
            env.push(EnvVar {
                name: data.env_name.clone().unwrap_or_else(|| key.clone()),
                value: None,
                value_from: Some(secret_ref(secret.clone(), key.clone())),
            });
        }
        if source.data_from.as_ref().is_some_and(|f| f.key.is_some()) {
            env_from.push(EnvFromSource {
                secret_ref: Some(SecretEnvSource {
                    name: secret,
                    optional: None,
                }),
                ..EnvFromSource::default()
            });
        }
    }
}

/// A variable with a value.
fn value(name: &str, v: String) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(v),
        value_from: None,
    }
}

/// A variable from a field of the pod (the downward API).
fn field(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.to_string(),
                api_version: None,
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// A key of a Secret.
fn secret_ref(name: String, key: String) -> EnvVarSource {
    EnvVarSource {
        secret_key_ref: Some(SecretKeySelector {
            name,
            key,
            optional: None,
        }),
        ..EnvVarSource::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_string(),
        localhost_profile: None,
    }
}

/// glueops' restricted pod defaults with the values' fields over them.
fn pod_security(own: Option<&PodSecurityContext>) -> PodSecurityContext {
    let own = own.cloned().unwrap_or_default();
    PodSecurityContext {
        run_as_non_root: own.run_as_non_root.or(Some(true)),
        run_as_user: own.run_as_user.or(Some(RUN_AS_ID)),
        run_as_group: own.run_as_group.or(Some(RUN_AS_ID)),
        fs_group: own.fs_group.or(Some(RUN_AS_ID)),
        seccomp_profile: own.seccomp_profile.or_else(|| Some(runtime_default())),
        ..own
    }
}

/// glueops' restricted container defaults with the values' fields over them; a sidecar keeps
/// the pod's user unless it names its own.
fn container_security(own: Option<&SecurityContext>, app: bool) -> SecurityContext {
    let own = own.cloned().unwrap_or_default();
    let mut caps = own.capabilities.clone().unwrap_or_default();
    if caps.drop.as_ref().is_none_or(Vec::is_empty) {
        caps.drop = Some(vec!["ALL".to_string()]);
    }
    SecurityContext {
        allow_privilege_escalation: own.allow_privilege_escalation.or(Some(false)),
        read_only_root_filesystem: own.read_only_root_filesystem.or(Some(true)),
        run_as_non_root: own.run_as_non_root.or(Some(true)),
        run_as_user: own.run_as_user.or(app.then_some(RUN_AS_ID)),
        run_as_group: own.run_as_group.or(app.then_some(RUN_AS_ID)),
        capabilities: Some(Capabilities {
            drop: caps.drop,
            add: caps.add.filter(|a| !a.is_empty()),
        }),
        seccomp_profile: own
            .seccomp_profile
            .clone()
            .or_else(|| Some(runtime_default())),
        ..own
    }
}

/// A sidecar or init container as written, with the security context and resources the
/// restricted profile and glueops' defaults need.
fn harden(c: &Container) -> Container {
    let mut c = c.clone();
    c.security_context = Some(container_security(c.security_context.as_ref(), false));
    if c.resources.is_none() {
        c.resources = Some(resources(None));
    }
    if c.image_pull_policy.is_none() {
        c.image_pull_policy = Some("IfNotPresent".to_string());
    }
    c
}

/// Requests and limits: the merged values, with platform defaults for what no layer set, and
/// limits raised to the request where a default would fall below it.
pub(crate) fn resources(r: Option<&values::Resources>) -> ResourceRequirements {
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

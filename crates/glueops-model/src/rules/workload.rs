//! Rules for what runs: every workload's resources, environment, image and pod security,
//! and the sections glueops refuses or that contradict each other.

use k8s_openapi::api::core::v1::{Container, PodSecurityContext, SeccompProfile, SecurityContext};

use crate::diagnostics::{Code, Report};
use crate::formats::{check_digest, check_tag};

use crate::instance::{AppInstance, Placement};
use crate::node::Segment;
use crate::rules::config;
use crate::rules::diagnose::{at, enabled, i, k};
use crate::values::{ImageOverride, ImageProblem, Workload};

/// Checks every workload that runs, and the sections around them.
pub(crate) fn check_workloads(workloads: &[Workload<'_>], d: &AppInstance, report: &mut Report) {
    let v = &d.values;
    for w in workloads {
        config::check_resources(w, d, report);
        config::check_env(w, d, report);
        check_pod_security(w, d, report);
        check_image(w, d, report);
    }
    crate::rules::pull::check_pull_secret_names(workloads, d, report);
    let on = |flag: Option<bool>| enabled(flag);
    if v.deployment.as_ref().is_some_and(|s| on(s.enabled))
        && v.stateful_set.as_ref().is_some_and(|s| on(s.enabled))
    {
        report.push(
            at(
                &d.tree,
                &[k("statefulSet"), k("enabled")],
                Code::Conflict,
                "both `deployment` and `statefulSet` are enabled; the chart renders neither",
            )
            .help("enable one of them (set the other's `enabled: false`)"),
        );
    }
    if v.keda.as_ref().is_some_and(|s| on(s.enabled))
        && v.autoscaling.as_ref().is_some_and(|s| on(s.enabled))
    {
        report.push(
            at(
                &d.tree,
                &[k("autoscaling"), k("enabled")],
                Code::Conflict,
                "both `keda` and `autoscaling` scale the app; they would fight over its replicas",
            )
            .help("use one of them"),
        );
    }
    if let Some(secret) = &v.secret
        && (on(secret.enabled) || secret.secrets.as_ref().is_some_and(|s| !s.is_empty()))
    {
        let name = secret
            .secrets
            .as_ref()
            .and_then(|s| s.keys().next().cloned())
            .unwrap_or_else(|| "credentials".to_string());
        let app = &d.app;
        report.push(
            crate::diagnostics::Diagnostic::new(
                Code::PlaintextSecret,
                d.tree.locate_key(&[k("secret")]),
                "secret",
                "`secret:` puts plaintext secret values in git; glueops does not render it",
            )
            .help(format!(
                "move each secret to the secret store: `glueops secrets put {app}/{name} KEY=@file ...`, read it with `externalSecret: {{enabled: true, secrets: {{{name}: {{dataFrom: {{key: {app}/{name}}}}}}}}}`, then delete `secret:` (and the values from git history)"
            )),
        );
    }
    check_custom_resources(d, report);
    check_keda(d, report);
}

/// An enabled ScaledObject without a trigger: rendered as the chart renders it (`triggers:
/// []`), with a warning, since KEDA's admission webhook rejects it.
fn check_keda(d: &AppInstance, report: &mut Report) {
    let Some(keda) = d.values.keda.as_ref().filter(|k| enabled(k.enabled)) else {
        return;
    };
    let Some(so) = keda.scaled_object.as_ref().filter(|s| enabled(s.enabled)) else {
        return;
    };
    let spec = so.spec.clone().unwrap_or_default();
    let listed = spec.triggers.as_ref().is_some_and(|t| !t.is_empty());
    let keyed = spec.triggers_map.iter().flatten().any(|(_, t)| t.is_some());
    if !listed && !keyed {
        report.push(
            at(&d.tree, &[k("keda"), k("scaledObject")], Code::MissingKey, "the ScaledObject has no trigger: it is rendered with `triggers: []`, as the chart renders it, and KEDA's admission webhook rejects that")
                .help("add spec.triggers (e.g. [{type: cpu, metricType: Utilization, metadata: {value: \"80\"}}]) or spec.triggersMap")
                .warning(),
        );
    }
}

fn check_image(w: &Workload<'_>, d: &AppInstance, report: &mut Report) {
    let tree = &d.tree;
    if let Some(ImageOverride::Parts(parts)) = &w.pod.image {
        let base = [&w.path[..], &[k("image")]].concat();
        let shown = format!("{}.tag", crate::node::display_path(&base));
        if let Some(e) = parts.tag.as_deref().and_then(|t| tag_problem(t, &shown)) {
            report.push(
                at(tree, &[&base[..], &[k("tag")]].concat(), Code::Image, e)
                    .help("use the tag your CI pushed, e.g. 1.4.2"),
            );
        }
        if let Some(repository) = parts.repository.as_deref().filter(|r| r.contains('@')) {
            report.push(
                at(tree, &[&base[..], &[k("repository")]].concat(), Code::Image, format!("`{}.repository` must not contain a digest: `{repository}`", crate::node::display_path(&base)))
                    .help("put the digest in `digest: sha256:<64 hex>` and the repository alone in `repository`"),
            );
        }
        if let Some(digest) = &parts.digest
            && let Err(e) = check_digest(digest)
        {
            report.push(
                at(tree, &[&base[..], &[k("digest")]].concat(), Code::Image, e)
                    .help("copy the digest from `docker buildx imagetools inspect`"),
            );
        }
    }
    if !matches!(d.placement, Placement::Environment(_)) {
        return;
    }
    let top_tag = d.values.image.as_ref().and_then(|i| i.tag.as_deref());
    if let Err(ImageProblem::NoTag { image }) = d.values.image_reference(&w.pod, top_tag) {
        let fallback = d
            .values
            .image
            .as_ref()
            .and_then(|i| i.use_chart_version_as_tag_fallback);
        let chart = if fallback == Some(false) {
            "the chart refuses it too".to_string()
        } else {
            format!(
                "the chart would run `{image}:{}`, its own version as the tag, which is not a version of this app",
                crate::template::CHART_VERSION
            )
        };
        report.push(
            at(tree, &[k("image")], Code::Image, format!("`{image}` has no tag or digest: `image.tag` and `appVersion` are both unset, so it would float on `latest` ({chart})"))
                .help("set image.tag (e.g. in envs/<env>/values.yaml), image.digest or appVersion; glueops has no chart version to fall back to"),
        );
    }
}

/// What the namespace's `restricted` pod-security profile rejects, reported where it is set.
fn check_pod_security(w: &Workload<'_>, d: &AppInstance, report: &mut Report) {
    let pod = &w.pod;
    let mut refuse = |path: Vec<Segment>, what: String| {
        report.push(
            at(&d.tree, &path, Code::PodSecurity, format!("{what}: the restricted pod-security profile of glueops namespaces rejects this pod"))
                .help("remove it; glueops runs pods as non-root with no privileges, capabilities or host access (Kubernetes Pod Security Standards, restricted)"),
        );
    };
    let here = |keys: &[Segment]| [&w.path[..], keys].concat();
    if pod.host_network == Some(true) {
        refuse(here(&[k("hostNetwork")]), "`hostNetwork: true`".into());
    }
    for (n, volume) in pod.volumes.iter().flatten().enumerate() {
        if volume.host_path.is_some() {
            refuse(
                here(&[k("volumes"), i(n), k("hostPath")]),
                format!("volume `{}` is a hostPath", volume.name),
            );
        }
    }
    if let Some(sc) = &pod.security_context {
        pod_context(sc, here(&[k("securityContext")]), &mut refuse);
    }
    if let Some(sc) = &pod.container_security_context {
        container_context(sc, here(&[k("containerSecurityContext")]), &mut refuse);
    }
    for (list, containers) in [
        ("initContainers", &pod.init_containers),
        ("sidecar", &pod.sidecar),
    ] {
        for (n, c) in containers.iter().flatten().enumerate() {
            check_container(c, here(&[k(list), i(n)]), &mut refuse);
        }
    }
}

fn check_container(
    c: &Container,
    base: Vec<Segment>,
    refuse: &mut impl FnMut(Vec<Segment>, String),
) {
    if let Some(sc) = &c.security_context {
        container_context(sc, [&base[..], &[k("securityContext")]].concat(), refuse);
    }
    for (n, port) in c.ports.iter().flatten().enumerate() {
        if port.host_port.is_some() {
            refuse(
                [&base[..], &[k("ports"), i(n), k("hostPort")]].concat(),
                format!("container `{}` binds a host port", c.name),
            );
        }
    }
}

/// What a pod and a container security context share: who runs, and the seccomp profile.
fn identity(
    run_as_non_root: Option<bool>,
    run_as_user: Option<i64>,
    seccomp: Option<&SeccompProfile>,
    at: &impl Fn(&str) -> Vec<Segment>,
    refuse: &mut impl FnMut(Vec<Segment>, String),
) {
    if run_as_non_root == Some(false) {
        refuse(at("runAsNonRoot"), "`runAsNonRoot: false`".into());
    }
    if run_as_user == Some(0) {
        refuse(at("runAsUser"), "`runAsUser: 0` (root)".into());
    }
    if seccomp.is_some_and(|p| p.type_ == "Unconfined") {
        refuse(
            at("seccompProfile"),
            "an `Unconfined` seccomp profile".into(),
        );
    }
}

fn pod_context(
    sc: &PodSecurityContext,
    base: Vec<Segment>,
    refuse: &mut impl FnMut(Vec<Segment>, String),
) {
    let at = |key: &str| [&base[..], &[k(key)]].concat();
    identity(
        sc.run_as_non_root,
        sc.run_as_user,
        sc.seccomp_profile.as_ref(),
        &at,
        refuse,
    );
}

fn container_context(
    sc: &SecurityContext,
    base: Vec<Segment>,
    refuse: &mut impl FnMut(Vec<Segment>, String),
) {
    let at = |key: &str| [&base[..], &[k(key)]].concat();
    if sc.privileged == Some(true) {
        refuse(at("privileged"), "`privileged: true`".into());
    }
    if sc.allow_privilege_escalation == Some(true) {
        refuse(
            at("allowPrivilegeEscalation"),
            "`allowPrivilegeEscalation: true`".into(),
        );
    }
    identity(
        sc.run_as_non_root,
        sc.run_as_user,
        sc.seccomp_profile.as_ref(),
        &at,
        refuse,
    );
    if sc.proc_mount.as_deref() == Some("Unmasked") {
        refuse(at("procMount"), "`procMount: Unmasked`".into());
    }
    let added = sc.capabilities.as_ref().and_then(|c| c.add.as_ref());
    for (n, cap) in added.into_iter().flatten().enumerate() {
        if cap != "NET_BIND_SERVICE" {
            refuse(
                [&base[..], &[k("capabilities"), k("add"), i(n)]].concat(),
                format!("adding capability `{cap}` (only NET_BIND_SERVICE may be added)"),
            );
        }
    }
}

/// Every `customResources` entry parses into objects with `apiVersion`, `kind` and a name.
fn check_custom_resources(d: &AppInstance, report: &mut Report) {
    for (path, text) in crate::rules::diagnose::custom_resource_texts(&d.values) {
        if let Err(e) = crate::values::custom_objects(text) {
            report.push(
                at(
                    &d.tree,
                    &path,
                    Code::InvalidValue,
                    format!("this custom resource does not read as Kubernetes objects: {e}"),
                )
                .help("write whole objects (apiVersion, kind, metadata.name), separated by `---`"),
            );
        }
    }
}

/// What is wrong with an image tag as written at `shown`, if anything: surrounding whitespace
/// is trimmed and a tag of only whitespace is unset (as the chart reads them); whitespace
/// inside is an error.
pub(crate) fn tag_problem(tag: &str, shown: &str) -> Option<String> {
    let tag = tag.trim();
    if tag.is_empty() {
        None
    } else if tag.contains(char::is_whitespace) {
        Some(format!("`{shown}` must not contain whitespace: `{tag}`"))
    } else {
        check_tag(tag).err()
    }
}

//! Rules for the merged values of one deployment or preview: names, image, ports, scaling,
//! network peers (and, through [`config`], everything the app is configured with).

use std::collections::BTreeMap;

use crate::diagnostics::{Code, Report};
use crate::formats::check_digest;
use crate::instance::{AppInstance, Placement};
use crate::names::{MAX_LABEL, is_dns_label, is_dns_subdomain};
use crate::node::{Location, Node};
use crate::rules::config;
use crate::rules::diagnose::{at, enabled, i, k};
use crate::rules::workload::tag_problem;
use crate::values::{AppValues, IntOrString, ServicePort};

/// Checks one deployment's merged values.
pub(crate) fn check_deployment(d: &AppInstance, report: &mut Report) {
    let v = &d.values;
    let tree = &d.tree;
    if d.name.len() > MAX_LABEL {
        report.push(
            crate::diagnostics::Diagnostic::new(
                Code::InvalidName,
                Location::file(tree.location.file.clone()),
                "",
                format!(
                    "`{}` is {} characters; Kubernetes names of this kind fit in {MAX_LABEL}",
                    d.name,
                    d.name.len()
                ),
            )
            .help("shorten the app or environment name"),
        );
    }
    if let Placement::Preview { .. } = d.placement
        && !is_dns_label(&d.namespace)
    {
        report.push(
            crate::diagnostics::Diagnostic::new(
                Code::InvalidName,
                Location::file(tree.location.file.clone()),
                "",
                format!(
                    "the preview namespace `{}` is not a DNS-1123 label",
                    d.namespace
                ),
            )
            .help("shorten the app name or spec.previews.namespacePattern"),
        );
    }
    check_image(d, report);
    check_image_policy(v, d, report);
    check_source(v, d, report);
    check_ports(v, d, report);
    check_ingress(v, d, report);
    let workloads = v.workloads();
    super::workload::check_workloads(&workloads, d, report);
    config::check_schedules(&workloads, v, d, report);
    check_scaling(v, d, report);
    config::check_config_maps(v, d, report);
    config::check_external_secret(v, d, report);
    config::check_monitoring(v, d, report);
    super::strategy::check_strategy(d, report);
    check_network(v, d, report);
}

fn check_image(d: &AppInstance, report: &mut Report) {
    let tree = &d.tree;
    let image = d.values.image.clone().unwrap_or_default();
    if let Some(e) = image
        .tag
        .as_deref()
        .and_then(|t| tag_problem(t, "image.tag"))
    {
        report.push(
            at(tree, &[k("image"), k("tag")], Code::Image, e)
                .help("use the tag your CI pushed, e.g. 1.4.2 or the commit sha"),
        );
    }
    if let Some(r) = image.repository.as_deref().filter(|r| r.contains('@')) {
        report.push(
            at(tree, &[k("image"), k("repository")], Code::Image, format!("`image.repository` must not contain a digest: `{r}`"))
                .help("put the digest in `image.digest: sha256:<64 hex>` and the repository alone in `image.repository`"),
        );
    }
    if let Some(r) = image.repository.as_deref()
        && r.trim().contains(char::is_whitespace)
    {
        report.push(
            at(
                tree,
                &[k("image"), k("repository")],
                Code::Image,
                format!("`image.repository` must not contain interior whitespace: `{r}`"),
            )
            .help("write the repository without spaces, e.g. acme/api"),
        );
    }
    if let Some(r) = image.registry.as_deref()
        && !r.is_empty()
        && r.trim().is_empty()
    {
        report.push(
            at(
                tree,
                &[k("image"), k("registry")],
                Code::Image,
                "`image.registry` is empty/whitespace-only after trimming",
            )
            .help("write a registry host, or leave `image.registry` out for docker.io"),
        );
    }
    if let Some(v) = d.values.app_version.as_deref()
        && v.trim().contains(char::is_whitespace)
    {
        report.push(
            at(tree, &[k("appVersion")], Code::InvalidValue, format!("`appVersion` must not contain interior whitespace: `{v}` is neither a version label nor an image tag"))
                .help("write the version without spaces, e.g. 1.4.2"),
        );
    }
    if let Some(digest) = &image.digest
        && let Err(e) = check_digest(digest)
    {
        report.push(
            at(tree, &[k("image"), k("digest")], Code::Image, e)
                .help("copy the digest from `docker buildx imagetools inspect`"),
        );
    }
    // `ghcr.io/acme/api` as the repository under the default registry renders
    // `docker.io/ghcr.io/acme/api`, which no registry serves; the chart renders it anyway.
    if let Some(repository) = image.repository.as_deref()
        && image.registry.as_deref().is_none_or(|r| r == "docker.io")
        && let Some((first, _)) = repository.split_once('/')
        && (first.contains('.') || first.contains(':') || first == "localhost")
        && first != "docker.io"
    {
        report.push(
            at(tree, &[k("image"), k("repository")], Code::Image, format!(
                "image.repository `{repository}` starts with the registry `{first}`, but image.registry is docker.io: the image would be docker.io/{repository}"
            ))
            .help(format!("set image.registry: {first} and image.repository: {}", repository.split_once('/').map_or("", |(_, r)| r)))
            .warning(),
        );
    }
    if image.port == Some(0) {
        report.push(
            at(
                tree,
                &[k("image"), k("port")],
                Code::InvalidValue,
                "port 0 is not a valid port",
            )
            .help("use a port from 1 to 65535"),
        );
    }
}

/// Ingress hostnames and TLS hosts (templates resolved) are DNS names.
fn check_ingress(v: &AppValues, d: &AppInstance, report: &mut Report) {
    let Some(ingress) = &v.ingress else { return };
    let mut hosts: Vec<(Vec<crate::node::Segment>, &String)> = Vec::new();
    for (n, entry) in ingress.entries.iter().flatten().enumerate() {
        let base = [k("ingress"), k("entries"), i(n)];
        for (j, host) in entry.hosts.iter().flatten().enumerate() {
            if let Some(h) = &host.hostname {
                hosts.push(([&base[..], &[k("hosts"), i(j), k("hostname")]].concat(), h));
            }
        }
        for (j, tls) in entry.tls.iter().flatten().enumerate() {
            for (m, h) in tls.hosts.iter().flatten().enumerate() {
                hosts.push(([&base[..], &[k("tls"), i(j), k("hosts"), i(m)]].concat(), h));
            }
        }
    }
    for (j, tls) in ingress.tls.iter().flatten().enumerate() {
        for (m, h) in tls.hosts.iter().flatten().enumerate() {
            hosts.push((vec![k("ingress"), k("tls"), i(j), k("hosts"), i(m)], h));
        }
    }
    for (path, host) in hosts {
        if !check_hostname(host) {
            report.push(
                at(
                    &d.tree,
                    &path,
                    Code::InvalidName,
                    format!("hostname `{host}` is not a valid DNS name"),
                )
                .help("use lowercase DNS labels separated by dots"),
            );
        }
    }
}

fn check_ports(v: &AppValues, d: &AppInstance, report: &mut Report) {
    let tree = &d.tree;
    let Some(service) = &v.service else { return };
    let mut firsts = PortFirsts::default();
    for (n, port) in service.ports.iter().flatten().enumerate() {
        check_port(tree, n, port, &mut firsts, report);
    }
    if service.ports.as_ref().is_some_and(|p| p.len() > 1)
        && service.ports.iter().flatten().any(|p| p.name.is_none())
    {
        report.push(
            at(
                tree,
                &[k("service"), k("ports")],
                Code::MissingKey,
                "a Service with several ports needs a name on each",
            )
            .help("add name: to every port"),
        );
    }
}

/// Where each port number and name of a Service was first listed.
#[derive(Default)]
struct PortFirsts<'a> {
    by_port: BTreeMap<u16, usize>,
    by_name: BTreeMap<&'a str, usize>,
}

/// `service.ports[n]`: a port from 1 to 65535, listed once; a valid name, used once.
fn check_port<'a>(
    tree: &Node,
    n: usize,
    port: &'a ServicePort,
    firsts: &mut PortFirsts<'a>,
    report: &mut Report,
) {
    let path = |index: usize, key: &str| [k("service"), k("ports"), i(index), k(key)];
    let duplicate = |key: &str, first: usize, message: String, note: &str, help: &str| {
        at(tree, &path(n, key), Code::Duplicate, message)
            .note(tree.locate(&path(first, key)), note)
            .help(help)
    };
    match port.port {
        Some(0) => report.push(
            at(
                tree,
                &path(n, "port"),
                Code::InvalidValue,
                "port 0 is not a valid port",
            )
            .help("use a port from 1 to 65535"),
        ),
        Some(p) => {
            if let Some(first) = firsts.by_port.insert(p, n) {
                report.push(duplicate(
                    "port",
                    first,
                    format!("port {p} is listed twice in this Service"),
                    "first listed here",
                    "each Service port must be unique",
                ));
            }
        }
        None => report.push(
            at(
                tree,
                &[k("service"), k("ports"), i(n)],
                Code::MissingKey,
                "a Service port needs `port`",
            )
            .help("add port: 80"),
        ),
    }
    if let Some(name) = &port.name {
        if !is_dns_label(name) || name.len() > 15 {
            report.push(
                at(
                    tree,
                    &path(n, "name"),
                    Code::InvalidName,
                    format!("port name `{name}` is not valid"),
                )
                .help("use at most 15 lowercase letters, digits and `-`"),
            );
        }
        if let Some(first) = firsts.by_name.insert(name, n) {
            report.push(duplicate(
                "name",
                first,
                format!("port name `{name}` is used twice in this Service"),
                "first used here",
                "each Service port needs its own name",
            ));
        }
    }
    if let Some(IntOrString::Int(t)) = port.target_port
        && !(1..=65535).contains(&t)
    {
        report.push(
            at(
                tree,
                &path(n, "targetPort"),
                Code::InvalidValue,
                format!("target port {t} is out of range"),
            )
            .help("use a port from 1 to 65535"),
        );
    }
}

fn check_scaling(v: &AppValues, d: &AppInstance, report: &mut Report) {
    let tree = &d.tree;
    if let Some(a) = v.autoscaling.as_ref().filter(|a| enabled(a.enabled)) {
        let min = a.min_replicas.unwrap_or(1);
        match a.max_replicas {
            None => report.push(
                at(
                    tree,
                    &[k("autoscaling")],
                    Code::MissingKey,
                    "autoscaling is enabled but `maxReplicas` is not set",
                )
                .help("add maxReplicas:"),
            ),
            Some(max) if max < min => report.push(
                at(
                    tree,
                    &[k("autoscaling"), k("maxReplicas")],
                    Code::InvalidValue,
                    format!("maxReplicas {max} is below minReplicas {min}"),
                )
                .help("raise maxReplicas or lower minReplicas"),
            ),
            _ => {}
        }
        if a.min_replicas == Some(0) {
            report.push(
                at(
                    tree,
                    &[k("autoscaling"), k("minReplicas")],
                    Code::InvalidValue,
                    "minReplicas must be at least 1",
                )
                .help("use 1 or more"),
            );
        }
        for (key, t) in [
            (
                "targetCPUUtilizationPercentage",
                a.target_cpu_utilization_percentage,
            ),
            (
                "targetMemoryUtilizationPercentage",
                a.target_memory_utilization_percentage,
            ),
        ] {
            if t == Some(0) {
                report.push(
                    at(
                        tree,
                        &[k("autoscaling"), k(key)],
                        Code::InvalidValue,
                        "a utilization target of 0% never scales down",
                    )
                    .help("use a percentage such as 80"),
                );
            }
        }
    }
    check_disruption_budget(v, d, report);
}

/// `podDisruptionBudget`: both bounds set, or a budget the app's own files enable over no pods
/// (one an overlay enables for every app of a namespace is not the app's mistake).
fn check_disruption_budget(v: &AppValues, d: &AppInstance, report: &mut Report) {
    let tree = &d.tree;
    // A budget over no pods protects nothing: the chart renders it anyway, glueops does not.
    let runs_pods = v.deployment.as_ref().is_some_and(|s| enabled(s.enabled))
        || v.stateful_set.as_ref().is_some_and(|s| enabled(s.enabled));
    if v.pod_disruption_budget
        .as_ref()
        .is_some_and(|p| enabled(p.enabled))
        && !runs_pods
        && tree
            .locate(&[k("podDisruptionBudget"), k("enabled")])
            .file
            .starts_with("apps/")
    {
        report.push(
            at(
                tree,
                &[k("podDisruptionBudget"), k("enabled")],
                Code::InvalidValue,
                "`podDisruptionBudget` is enabled but the app runs no Deployment or StatefulSet: glueops renders no PodDisruptionBudget (the chart would render one that selects no pods)",
            )
            .help("enable `deployment` or `statefulSet`, or set `podDisruptionBudget.enabled: false`")
            .warning(),
        );
    }
    // The chart keeps `minAvailable` and drops `maxUnavailable` silently; glueops says so.
    if let Some(pdb) = v
        .pod_disruption_budget
        .as_ref()
        .filter(|p| enabled(p.enabled))
        && pdb.min_available.is_some()
        && pdb.max_unavailable.is_some()
    {
        report.push(
            at(
                tree,
                &[k("podDisruptionBudget"), k("maxUnavailable")],
                Code::Conflict,
                "set either `minAvailable` or `maxUnavailable`, not both: the chart would use `minAvailable` and silently drop `maxUnavailable`",
            )
            .help(
                "remove one of them (set `minAvailable: null` in this layer to use maxUnavailable)",
            ),
        );
    }
}

fn check_network(v: &AppValues, d: &AppInstance, report: &mut Report) {
    let tree = &d.tree;
    for (n, peer) in v
        .network_policy
        .iter()
        .flat_map(|p| p.allow_from.iter().flatten())
        .enumerate()
    {
        let path = [k("networkPolicy"), k("allowFrom"), i(n)];
        let set = [
            peer.namespace.is_some(),
            peer.app.is_some(),
            peer.cidr.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set != 1 {
            report.push(
                at(
                    tree,
                    &path,
                    Code::Conflict,
                    "each allowFrom entry sets exactly one of `namespace`, `app`, `cidr`",
                )
                .help("split it into one entry per peer"),
            );
        }
        if let Some(cidr) = &peer.cidr
            && !valid_cidr(cidr)
        {
            report.push(
                at(
                    tree,
                    &[&path[..], &[k("cidr")]].concat(),
                    Code::InvalidValue,
                    format!("`{cidr}` is not a CIDR block"),
                )
                .help("write an address and prefix length, e.g. 10.0.0.0/8"),
            );
        }
    }
}

fn valid_cidr(s: &str) -> bool {
    let Some((addr, len)) = s.split_once('/') else {
        return false;
    };
    match (addr.parse::<std::net::IpAddr>(), len.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(l)) => l <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(l)) => l <= 128,
        _ => false,
    }
}

/// Hostnames after templating must be DNS names (a leading `*.` is allowed).
pub(crate) fn check_hostname(host: &str) -> bool {
    is_dns_subdomain(host.strip_prefix("*.").unwrap_or(host))
}

/// `imagePolicy` must choose tags one way, with a range and a pattern that parse, and needs
/// the repository it watches.
fn check_image_policy(v: &AppValues, d: &AppInstance, report: &mut Report) {
    let Some(policy) = &v.image_policy else {
        return;
    };
    if let Err((key, message)) = policy.compile() {
        report.push(
            at(&d.tree, &[k("imagePolicy"), k(key)], Code::InvalidValue, message)
                .help("e.g. `imagePolicy: {semver: \">=1.4.0 <2.0.0\"}`, `{pattern: \"^main-(?P<ts>[0-9]+)-\", order: ts}` or `{newest: true}`"),
        );
    }
    if v.image
        .as_ref()
        .and_then(|i| i.repository.as_deref())
        .is_none()
    {
        report.push(
            at(
                &d.tree,
                &[k("imagePolicy")],
                Code::Conflict,
                "`imagePolicy` watches `image.repository`, which is not set",
            )
            .help("name the image: `image: {registry: ghcr.io, repository: acme/api}`"),
        );
    }
}

/// `source.branch` reaches git and webhook matching: it must be a branch name git accepts.
fn check_source(v: &crate::values::AppValues, d: &AppInstance, report: &mut Report) {
    let Some(branch) = v.source.as_ref().and_then(|s| s.branch.as_deref()) else {
        return;
    };
    if let Err(e) = glueops_files::check_branch(branch) {
        report.push(
            at(
                &d.tree,
                &[k("source"), k("branch")],
                Code::InvalidValue,
                format!("source.branch {e}"),
            )
            .help("name the branch whose pipelines deploy, e.g. `main`"),
        );
    }
}

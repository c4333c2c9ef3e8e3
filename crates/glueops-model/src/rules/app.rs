//! Rules for the merged values of one deployment or preview.

use std::collections::BTreeMap;

use crate::diagnostics::{Code, Report};
use crate::formats::{
    check_cron, check_digest, check_go_duration, check_prometheus_duration, check_tag,
    check_time_zone, parse_quantity,
};
use crate::names::{
    MAX_LABEL, is_config_key, is_dns_label, is_dns_subdomain, is_env_name, label_help,
};
use crate::node::{Location, Segment};
use crate::repo::{Deployment, Target, at};
use crate::rules::platform::{undeclared, undeclared_because};
use crate::values::{AppValues, IntOrString};

fn k(key: &str) -> Segment {
    Segment::from(key)
}

fn i(index: usize) -> Segment {
    Segment::Index(index)
}

/// Checks one deployment's merged values.
pub(crate) fn check_deployment(d: &Deployment, report: &mut Report) {
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
    if let Target::Preview { .. } = d.target
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
    check_ports(v, d, report);
    check_resources(v, d, report);
    check_env(v, d, report);
    check_schedules(v, d, report);
    check_scaling(v, d, report);
    check_config_maps(v, d, report);
    check_external_secret(v, d, report);
    check_monitoring(v, d, report);
    check_network(v, d, report);
}

fn enabled(flag: Option<bool>) -> bool {
    flag == Some(true)
}

fn check_image(d: &Deployment, report: &mut Report) {
    let v = &d.values;
    let tree = &d.tree;
    let image = v.image.clone().unwrap_or_default();
    if let Some(tag) = &image.tag
        && let Err(e) = check_tag(tag)
    {
        report.push(
            at(tree, &[k("image"), k("tag")], Code::Image, e)
                .help("use the tag your CI pushed, e.g. 1.4.2 or the commit sha"),
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
    let runs = v.deployment.as_ref().is_some_and(|s| enabled(s.enabled))
        || v.cron_jobs.as_ref().is_some_and(|c| !c.is_empty());
    if !runs {
        return;
    }
    if image.repository.is_none() {
        report.push(
            at(
                tree,
                &[k("image"), k("repository")],
                Code::Image,
                "the app runs containers but `image.repository` is not set",
            )
            .help("set image.repository (e.g. acme/api) in base-values.yaml"),
        );
    }
    let is_env = matches!(d.target, Target::Environment(_));
    if is_env && image.tag.is_none() && image.digest.is_none() {
        report.push(
            at(tree, &[k("image")], Code::Image, "neither `image.tag` nor `image.digest` is set, so the image would float on `latest`")
                .help("set image.tag (e.g. in envs/<env>/values.yaml) or image.digest"),
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

fn check_ports(v: &AppValues, d: &Deployment, report: &mut Report) {
    let tree = &d.tree;
    let Some(service) = &v.service else { return };
    let mut by_port: BTreeMap<u16, usize> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, port) in service.ports.iter().flatten().enumerate() {
        let path = |key: &str| [k("service"), k("ports"), i(n), k(key)];
        match port.port {
            Some(0) => report.push(
                at(
                    tree,
                    &path("port"),
                    Code::InvalidValue,
                    "port 0 is not a valid port",
                )
                .help("use a port from 1 to 65535"),
            ),
            Some(p) => {
                if let Some(first) = by_port.insert(p, n) {
                    report.push(
                        at(
                            tree,
                            &path("port"),
                            Code::Duplicate,
                            format!("port {p} is listed twice in this Service"),
                        )
                        .note(
                            tree.locate(&[k("service"), k("ports"), i(first), k("port")]),
                            "first listed here",
                        )
                        .help("each Service port must be unique"),
                    );
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
                        &path("name"),
                        Code::InvalidName,
                        format!("port name `{name}` is not valid"),
                    )
                    .help("use at most 15 lowercase letters, digits and `-`"),
                );
            }
            if let Some(first) = by_name.insert(name, n) {
                report.push(
                    at(
                        tree,
                        &path("name"),
                        Code::Duplicate,
                        format!("port name `{name}` is used twice in this Service"),
                    )
                    .note(
                        tree.locate(&[k("service"), k("ports"), i(first), k("name")]),
                        "first used here",
                    )
                    .help("each Service port needs its own name"),
                );
            }
        }
        if let Some(IntOrString::Int(t)) = port.target_port
            && !(1..=65535).contains(&t)
        {
            report.push(
                at(
                    tree,
                    &path("targetPort"),
                    Code::InvalidValue,
                    format!("target port {t} is out of range"),
                )
                .help("use a port from 1 to 65535"),
            );
        }
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

fn check_resources(v: &AppValues, d: &Deployment, report: &mut Report) {
    let tree = &d.tree;
    let Some(resources) = v.deployment.as_ref().and_then(|s| s.resources.as_ref()) else {
        return;
    };
    let base = [k("deployment"), k("resources")];
    let mut parsed: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for (kind, list) in [
        ("requests", &resources.requests),
        ("limits", &resources.limits),
    ] {
        for (name, quantity) in list.iter().flat_map(|l| l.entries()) {
            let path = [&base[..], &[k(kind), k(name)]].concat();
            match parse_quantity(quantity) {
                Ok(q) => {
                    parsed.insert((kind, name), q);
                }
                Err(e) => report.push(
                    at(tree, &path, Code::Resources, e)
                        .help("write a quantity such as 100m (CPU) or 256Mi (memory)"),
                ),
            }
        }
    }
    for name in ["cpu", "memory", "ephemeral-storage"] {
        if let (Some(req), Some(lim)) = (
            parsed.get(&("requests", name)),
            parsed.get(&("limits", name)),
        ) && lim < req
        {
            let path = [&base[..], &[k("limits"), k(name)]].concat();
            report.push(
                at(
                    tree,
                    &path,
                    Code::Resources,
                    format!("the {name} limit is below the {name} request"),
                )
                .note(
                    tree.locate(&[&base[..], &[k("requests"), k(name)]].concat()),
                    "the request is set here",
                )
                .help(format!(
                    "raise limits.{name} to at least the request, or lower the request"
                )),
            );
        }
    }
}

fn check_env(v: &AppValues, d: &Deployment, report: &mut Report) {
    let tree = &d.tree;
    let Some(spec) = &v.deployment else { return };
    let mut names: BTreeMap<String, Vec<Segment>> = BTreeMap::new();
    let mut seen = |name: &str, path: Vec<Segment>, report: &mut Report| {
        if !is_env_name(name) {
            report.push(
                at(
                    tree,
                    &path,
                    Code::InvalidName,
                    format!("`{name}` is not a valid environment variable name"),
                )
                .help("use letters, digits and `_`, not starting with a digit"),
            );
        }
        if let Some(first) = names.get(name) {
            report.push(
                at(
                    tree,
                    &path,
                    Code::Duplicate,
                    format!("environment variable `{name}` is set twice"),
                )
                .note(tree.locate(first), "first set here")
                .help("set each variable once"),
            );
        } else {
            names.insert(name.to_string(), path);
        }
    };
    for (n, var) in spec.env_variables.iter().flatten().enumerate() {
        let path = vec![k("deployment"), k("envVariables"), i(n)];
        match &var.name {
            Some(name) => seen(name, [&path[..], &[k("name")]].concat(), report),
            None => report.push(
                at(
                    tree,
                    &path,
                    Code::MissingKey,
                    "an environment variable needs `name`",
                )
                .help("add name: and value:"),
            ),
        }
    }
    let secrets = v
        .external_secret
        .as_ref()
        .filter(|e| enabled(e.enabled))
        .and_then(|e| e.secrets.as_ref());
    let declared: Vec<&str> = secrets
        .map(|s| s.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for (n, env) in spec.env_secrets.iter().flatten().enumerate() {
        let path = |key: &str| vec![k("deployment"), k("envSecrets"), i(n), k(key)];
        match &env.variable {
            Some(name) => seen(name, path("variable"), report),
            None => report.push(
                at(
                    tree,
                    &[k("deployment"), k("envSecrets"), i(n)],
                    Code::MissingKey,
                    "an env secret needs `variable`",
                )
                .help("add variable: NAME"),
            ),
        }
        let Some(secret_name) = &env.secret_name else {
            report.push(
                at(
                    tree,
                    &[k("deployment"), k("envSecrets"), i(n)],
                    Code::MissingKey,
                    "an env secret needs `secretName`",
                )
                .help("name a secret declared under externalSecret.secrets"),
            );
            continue;
        };
        let Some(source) = secrets.and_then(|s| s.get(secret_name)) else {
            let mut diag = undeclared(
                tree,
                &path("secretName"),
                "secret",
                secret_name,
                &declared,
                "externalSecret.secrets",
            );
            if declared.is_empty() {
                diag.help = Some(format!(
                    "declare it: externalSecret: {{enabled: true, secrets: {{{secret_name}: {{data: {{...}}}}}}}}"
                ));
            }
            report.push(diag);
            continue;
        };
        match (&env.secret_key, &source.data, &source.data_from) {
            (None, _, _) => report.push(
                at(
                    tree,
                    &[k("deployment"), k("envSecrets"), i(n)],
                    Code::MissingKey,
                    "an env secret needs `secretKey`",
                )
                .help("name a key of the secret"),
            ),
            (Some(key), Some(data), None) if !data.contains_key(key) => {
                let keys: Vec<&str> = data.keys().map(String::as_str).collect();
                report.push(undeclared_because(
                    tree,
                    &path("secretKey"),
                    format!("secret `{secret_name}` has no key `{key}`"),
                    key,
                    &keys,
                    &format!("externalSecret.secrets.{secret_name}.data"),
                ));
            }
            _ => {}
        }
    }
}

fn check_schedules(v: &AppValues, d: &Deployment, report: &mut Report) {
    let tree = &d.tree;
    for (name, job) in v.cron_jobs.iter().flatten() {
        let path = |key: &str| vec![k("cronJobs"), k(name), k(key)];
        if !is_dns_label(name) || name.len() + d.name.len() + 1 > 52 {
            report.push(
                at(tree, &[k("cronJobs"), k(name)], Code::InvalidName, format!("cron job name `{name}` is not usable"))
                    .help(format!("CronJob names are `<app>-<env>-<job>` and must be a DNS label of at most 52 characters; {}", label_help(name))),
            );
        }
        match &job.schedule {
            None => report.push(
                at(
                    tree,
                    &[k("cronJobs"), k(name)],
                    Code::MissingKey,
                    format!("cron job `{name}` has no `schedule`"),
                )
                .help("add schedule: \"0 3 * * *\""),
            ),
            Some(s) => {
                if let Err(e) = check_cron(s) {
                    report.push(at(tree, &path("schedule"), Code::Cron, e).help("five fields: minute hour day-of-month month day-of-week, e.g. \"*/15 * * * *\""));
                }
            }
        }
        if let Some(tz) = &job.time_zone
            && let Err(e) = check_time_zone(tz)
        {
            report.push(
                at(tree, &path("timeZone"), Code::Time, e)
                    .help("see the tz database list of time zone names"),
            );
        }
    }
}

fn check_scaling(v: &AppValues, d: &Deployment, report: &mut Report) {
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
    if let Some(pdb) = v
        .pod_disruption_budget
        .as_ref()
        .filter(|p| enabled(p.enabled))
    {
        match (&pdb.min_available, &pdb.max_unavailable) {
            (Some(_), Some(_)) => report.push(
                at(
                    tree,
                    &[k("podDisruptionBudget"), k("maxUnavailable")],
                    Code::Conflict,
                    "set either `minAvailable` or `maxUnavailable`, not both",
                )
                .help("remove one of them (set it to null in this layer)"),
            ),
            (None, None) => report.push(
                at(
                    tree,
                    &[k("podDisruptionBudget")],
                    Code::MissingKey,
                    "the PodDisruptionBudget needs `minAvailable` or `maxUnavailable`",
                )
                .help("add minAvailable: 1"),
            ),
            _ => {}
        }
    }
}

fn check_config_maps(v: &AppValues, d: &Deployment, report: &mut Report) {
    let tree = &d.tree;
    for (name, data) in v.config_map.iter().flat_map(|c| c.configs.iter().flatten()) {
        if !is_dns_label(name) {
            report.push(
                at(
                    tree,
                    &[k("configMap"), k("configs"), k(name)],
                    Code::InvalidName,
                    format!("ConfigMap name `{name}` is not a DNS-1123 label"),
                )
                .help(label_help(name)),
            );
        }
        for key in data.keys() {
            if !is_config_key(key) {
                report.push(
                    at(
                        tree,
                        &[k("configMap"), k("configs"), k(name), k(key)],
                        Code::InvalidName,
                        format!("`{key}` is not a valid ConfigMap key"),
                    )
                    .help("use letters, digits, `-`, `_` and `.`"),
                );
            }
        }
    }
}

fn check_external_secret(v: &AppValues, d: &Deployment, report: &mut Report) {
    let tree = &d.tree;
    let Some(es) = v.external_secret.as_ref().filter(|e| enabled(e.enabled)) else {
        return;
    };
    if let Some(interval) = &es.refresh_interval
        && let Err(e) = check_go_duration(interval)
    {
        report.push(
            at(
                tree,
                &[k("externalSecret"), k("refreshInterval")],
                Code::Time,
                e,
            )
            .help("e.g. refreshInterval: 1h"),
        );
    }
    for (name, source) in es.secrets.iter().flatten() {
        let base = [k("externalSecret"), k("secrets"), k(name)];
        if !is_dns_label(name) {
            report.push(
                at(
                    tree,
                    &base,
                    Code::InvalidName,
                    format!("secret name `{name}` is not a DNS-1123 label"),
                )
                .help(label_help(name)),
            );
        }
        match (&source.data, &source.data_from) {
            (Some(_), Some(_)) => report.push(
                at(
                    tree,
                    &[&base[..], &[k("dataFrom")]].concat(),
                    Code::Conflict,
                    "set either `data` or `dataFrom`, not both",
                )
                .help("remove one of them"),
            ),
            (None, None) => report.push(
                at(
                    tree,
                    &base,
                    Code::MissingKey,
                    format!("secret `{name}` has neither `data` nor `dataFrom`"),
                )
                .help("add data: {<key>: {remoteRef: {key: <path>, property: <property>}}}"),
            ),
            (None, Some(from)) if from.key.is_none() => report.push(
                at(
                    tree,
                    &[&base[..], &[k("dataFrom")]].concat(),
                    Code::MissingKey,
                    "`dataFrom` needs `key`",
                )
                .help("add key: <path in the secret store>"),
            ),
            _ => {}
        }
        for (key, data) in source.data.iter().flatten() {
            let path = [&base[..], &[k("data"), k(key)]].concat();
            if !is_config_key(key) {
                report.push(
                    at(
                        tree,
                        &path,
                        Code::InvalidName,
                        format!("`{key}` is not a valid Secret key"),
                    )
                    .help("use letters, digits, `-`, `_` and `.`"),
                );
            }
            if data
                .remote_ref
                .as_ref()
                .and_then(|r| r.key.as_ref())
                .is_none()
            {
                report.push(
                    at(tree, &path, Code::MissingKey, "`remoteRef.key` is not set")
                        .help("add remoteRef: {key: <path in the secret store>}"),
                );
            }
        }
    }
}

fn check_monitoring(v: &AppValues, d: &Deployment, report: &mut Report) {
    let tree = &d.tree;
    let Some(m) = &v.monitoring else { return };
    if let Some(interval) = m.service_monitor.as_ref().and_then(|s| s.interval.as_ref())
        && let Err(e) = check_prometheus_duration(interval)
    {
        report.push(
            at(
                tree,
                &[k("monitoring"), k("serviceMonitor"), k("interval")],
                Code::Time,
                e,
            )
            .help("e.g. interval: 30s"),
        );
    }
    for (n, alert) in m.alerts.iter().flatten().enumerate() {
        let base = [k("monitoring"), k("alerts"), i(n)];
        for (key, missing) in [
            ("name", alert.name.is_none()),
            ("expr", alert.expr.is_none()),
        ] {
            if missing {
                report.push(
                    at(
                        tree,
                        &base,
                        Code::MissingKey,
                        format!("an alert needs `{key}`"),
                    )
                    .help(format!("add {key}:")),
                );
            }
        }
        if let Some(f) = &alert.for_duration
            && let Err(e) = check_prometheus_duration(f)
        {
            report.push(
                at(tree, &[&base[..], &[k("for")]].concat(), Code::Time, e).help("e.g. for: 5m"),
            );
        }
    }
}

fn check_network(v: &AppValues, d: &Deployment, report: &mut Report) {
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

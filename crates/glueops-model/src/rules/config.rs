//! Rules for the configuration an app carries: resources, environment variables and secret
//! references, schedules, ConfigMaps, ExternalSecrets and monitoring.

use std::collections::BTreeMap;

use crate::diagnostics::{Code, Report};
use crate::formats::{
    check_cron, check_go_duration, check_prometheus_duration, check_time_zone, parse_quantity,
};
use crate::instance::AppInstance;
use crate::names::{is_config_key, is_dns_label, is_env_name, label_help};
use crate::node::{Node, Segment};
use crate::rules::diagnose::{at, enabled, i, k, undeclared, undeclared_because};
use crate::values::{AppValues, EnvSecret, SecretSource};

pub(crate) fn check_resources(v: &AppValues, d: &AppInstance, report: &mut Report) {
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

pub(crate) fn check_env(v: &AppValues, d: &AppInstance, report: &mut Report) {
    let Some(spec) = &v.deployment else { return };
    let mut names = VariableNames {
        tree: &d.tree,
        first: BTreeMap::new(),
    };
    for (n, var) in spec.env_variables.iter().flatten().enumerate() {
        let path = vec![k("deployment"), k("envVariables"), i(n)];
        match &var.name {
            Some(name) => names.add(name, [&path[..], &[k("name")]].concat(), report),
            None => report.push(
                at(
                    &d.tree,
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
    for (n, env) in spec.env_secrets.iter().flatten().enumerate() {
        check_env_secret(n, env, secrets, &mut names, report);
    }
}

/// Environment variable names seen so far: each valid, and set once.
struct VariableNames<'a> {
    tree: &'a Node,
    first: BTreeMap<String, Vec<Segment>>,
}

impl VariableNames<'_> {
    fn add(&mut self, name: &str, path: Vec<Segment>, report: &mut Report) {
        if !is_env_name(name) {
            report.push(
                at(
                    self.tree,
                    &path,
                    Code::InvalidName,
                    format!("`{name}` is not a valid environment variable name"),
                )
                .help("use letters, digits and `_`, not starting with a digit"),
            );
        }
        if let Some(first) = self.first.get(name) {
            report.push(
                at(
                    self.tree,
                    &path,
                    Code::Duplicate,
                    format!("environment variable `{name}` is set twice"),
                )
                .note(self.tree.locate(first), "first set here")
                .help("set each variable once"),
            );
        } else {
            self.first.insert(name.to_string(), path);
        }
    }
}

/// `deployment.envSecrets[n]`: a variable from a key of a declared secret.
fn check_env_secret(
    n: usize,
    env: &EnvSecret,
    secrets: Option<&BTreeMap<String, SecretSource>>,
    names: &mut VariableNames<'_>,
    report: &mut Report,
) {
    let tree = names.tree;
    let here = [k("deployment"), k("envSecrets"), i(n)];
    let path = |key: &str| [&here[..], &[k(key)]].concat();
    let missing = |what: &str, help: &str| {
        at(
            tree,
            &here,
            Code::MissingKey,
            format!("an env secret needs `{what}`"),
        )
        .help(help)
    };
    match &env.variable {
        Some(name) => names.add(name, path("variable"), report),
        None => report.push(missing("variable", "add variable: NAME")),
    }
    let Some(secret_name) = &env.secret_name else {
        report.push(missing(
            "secretName",
            "name a secret declared under externalSecret.secrets",
        ));
        return;
    };
    let Some(source) = secrets.and_then(|s| s.get(secret_name)) else {
        let declared: Vec<&str> = secrets
            .map(|s| s.keys().map(String::as_str).collect())
            .unwrap_or_default();
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
        return;
    };
    match (&env.secret_key, &source.data, &source.data_from) {
        (None, _, _) => report.push(missing("secretKey", "name a key of the secret")),
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

pub(crate) fn check_schedules(v: &AppValues, d: &AppInstance, report: &mut Report) {
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

pub(crate) fn check_config_maps(v: &AppValues, d: &AppInstance, report: &mut Report) {
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

pub(crate) fn check_external_secret(v: &AppValues, d: &AppInstance, report: &mut Report) {
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

pub(crate) fn check_monitoring(v: &AppValues, d: &AppInstance, report: &mut Report) {
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

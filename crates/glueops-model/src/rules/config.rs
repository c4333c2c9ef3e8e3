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
use crate::rules::diagnose::{at, enabled, i, k};
use crate::values::{AppValues, EnvSecret, SecretSource, Workload, WorkloadKind};

/// A workload's `resources`: quantities, and limits not below requests.
pub(crate) fn check_resources(w: &Workload<'_>, d: &AppInstance, report: &mut Report) {
    let tree = &d.tree;
    let Some(resources) = w.pod.resources.as_ref() else {
        return;
    };
    let base = [&w.path[..], &[k("resources")]].concat();
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

/// A workload's environment variables: valid names, each set once, required keys.
pub(crate) fn check_env(w: &Workload<'_>, d: &AppInstance, report: &mut Report) {
    let spec = &w.pod;
    let mut names = VariableNames {
        tree: &d.tree,
        first: BTreeMap::new(),
    };
    // The keys of every `externalSecret` secret with `data` are variables of every container.
    if let Some(es) = d
        .values
        .external_secret
        .as_ref()
        .filter(|e| enabled(e.enabled))
    {
        for (secret, source) in es.secrets.iter().flatten() {
            for (key, data) in source.data.iter().flatten() {
                let base = [
                    k("externalSecret"),
                    k("secrets"),
                    k(secret),
                    k("data"),
                    k(key),
                ];
                match &data.env_name {
                    Some(name) => names.add(name, [&base[..], &[k("envName")]].concat(), report),
                    // Kubernetes 1.34 accepts a Secret key such as `mongo-password` as a name.
                    None => names.track(key, base.to_vec(), report),
                }
            }
        }
    }
    for (n, var) in spec.env_variables.iter().flatten().enumerate() {
        let path = [&w.path[..], &[k("envVariables"), i(n)]].concat();
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
    for (n, env) in spec.env_secrets.iter().flatten().enumerate() {
        check_env_secret(&w.path, n, env, &mut names, report);
    }
    for (n, env) in spec.env_config_maps.iter().flatten().enumerate() {
        let here = [&w.path[..], &[k("envConfigMaps"), i(n)]].concat();
        for (key, missing) in [
            ("variable", env.variable.is_none()),
            ("configMapName", env.config_map_name.is_none()),
            ("configMapKey", env.config_map_key.is_none()),
        ] {
            if missing {
                report.push(
                    at(
                        &d.tree,
                        &here,
                        Code::MissingKey,
                        format!("an env ConfigMap variable needs `{key}`"),
                    )
                    .help(format!("add {key}:")),
                );
            }
        }
        if let Some(name) = &env.variable {
            names.add(name, [&here[..], &[k("variable")]].concat(), report);
        }
    }
    for (name, value) in spec.env_map.iter().flatten() {
        let here = [&w.path[..], &[k("envMap"), k(name)]].concat();
        names.add(name, here.clone(), report);
        let set = value.as_ref().map_or(0, |v| {
            usize::from(v.value.is_some()) + usize::from(v.value_from.is_some())
        });
        if set != 1 {
            report.push(
                at(
                    &d.tree,
                    &here,
                    Code::Conflict,
                    format!(
                        "envMap `{name}` sets {set} of `value` and `valueFrom`; set exactly one"
                    ),
                )
                .help("e.g. envMap: {LOG_LEVEL: {value: info}}"),
            );
        }
    }
}

/// Environment variable names seen so far: each valid, and set once.
struct VariableNames<'a> {
    tree: &'a Node,
    first: BTreeMap<String, Vec<Segment>>,
}

impl VariableNames<'_> {
    fn add(&mut self, name: &str, path: Vec<Segment>, report: &mut Report) {
        self.check(name, &path, report);
        self.track(name, path, report);
    }

    fn check(&self, name: &str, path: &[Segment], report: &mut Report) {
        if !is_env_name(name) {
            report.push(
                at(
                    self.tree,
                    path,
                    Code::InvalidName,
                    format!("`{name}` is not a valid environment variable name"),
                )
                .help("use letters, digits and `_`, not starting with a digit"),
            );
        }
    }

    /// Records `name`; a second one is a duplicate.
    fn track(&mut self, name: &str, path: Vec<Segment>, report: &mut Report) {
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

/// `envSecrets[n]`: a variable from a key of a Kubernetes Secret.
fn check_env_secret(
    base: &[Segment],
    n: usize,
    env: &EnvSecret,
    names: &mut VariableNames<'_>,
    report: &mut Report,
) {
    let tree = names.tree;
    let here = [base, &[k("envSecrets"), i(n)]].concat();
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
        Some(name) => names.add(name, [&here[..], &[k("variable")]].concat(), report),
        None => report.push(missing("variable", "add variable: NAME")),
    }
    if env.secret_name.is_none() {
        report.push(missing(
            "secretName",
            "name the Kubernetes Secret, e.g. `<appName>-<externalSecret suffix>`",
        ));
    }
    if env.secret_key.is_none() {
        report.push(missing("secretKey", "name a key of the secret"));
    }
}

/// `cronJob.jobs`: usable names, valid schedules and time zones.
pub(crate) fn check_schedules(
    workloads: &[Workload<'_>],
    v: &AppValues,
    d: &AppInstance,
    report: &mut Report,
) {
    let tree = &d.tree;
    let object_name = v.object_name(&d.name);
    for w in workloads {
        let Some(name) = w.key else { continue };
        let limit = if w.kind == WorkloadKind::CronJob {
            52
        } else {
            63
        };
        if !is_dns_label(name) || name.len() + object_name.len() + 1 > limit {
            report.push(
                at(tree, &w.path, Code::InvalidName, format!("job name `{name}` is not usable: the chart would render `{object_name}-{name}`, which the API server rejects"))
                    .help(format!("the object is named `{object_name}-{name}`, a DNS label of at most {limit} characters; {}", label_help(name))),
            );
        }
    }
    let Some(cron) = v.cron_job.as_ref().filter(|c| enabled(c.enabled)) else {
        return;
    };
    for (name, job) in cron.jobs.iter().flatten() {
        let Some(job) = job.as_ref().filter(|j| j.enabled != Some(false)) else {
            continue;
        };
        let path = |key: &str| vec![k("cronJob"), k("jobs"), k(name), k(key)];
        match &job.schedule {
            None => report.push(
                at(
                    tree,
                    &[k("cronJob"), k("jobs"), k(name)],
                    Code::MissingKey,
                    format!("cron job `{name}` has no `schedule`: the chart would render a CronJob without one, which the API server rejects"),
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

/// `configMap.configs`: DNS names, `data` (YAML text of a map) or `dataMap`, valid keys.
pub(crate) fn check_config_maps(v: &AppValues, d: &AppInstance, report: &mut Report) {
    let tree = &d.tree;
    let Some(configs) = v
        .config_map
        .as_ref()
        .filter(|c| enabled(c.enabled))
        .and_then(|c| c.configs.as_ref())
    else {
        return;
    };
    for (name, entry) in configs {
        let base = [k("configMap"), k("configs"), k(name)];
        if !is_dns_label(name) {
            not_a_label(tree, &base, "ConfigMap", name, report);
        }
        let Some(entry) = entry else { continue };
        let keys: Vec<(String, Vec<Segment>)> = match (&entry.data, &entry.data_map) {
            (Some(_), Some(_)) => {
                report.push(
                    at(
                        tree,
                        &[&base[..], &[k("dataMap")]].concat(),
                        Code::Conflict,
                        "set either `data` or `dataMap`, not both",
                    )
                    .help("keep one of them (set the other to null in this layer)"),
                );
                continue;
            }
            (None, None) => {
                report.push(
                    at(
                        tree,
                        &base,
                        Code::MissingKey,
                        format!("ConfigMap `{name}` has neither `data` nor `dataMap`"),
                    )
                    .help("add dataMap: {KEY: value}"),
                );
                continue;
            }
            (Some(text), None) => match crate::values::config_data(text) {
                Ok(map) => map
                    .into_keys()
                    .map(|key| (key, [&base[..], &[k("data")]].concat()))
                    .collect(),
                Err(e) => {
                    report.push(
                        at(tree, &[&base[..], &[k("data")]].concat(), Code::InvalidValue, format!("`data` of ConfigMap `{name}` is not a YAML map of text: {e}"))
                            .help("write `KEY: value` lines (quote values that look like numbers), or use dataMap"),
                    );
                    continue;
                }
            },
            (None, Some(map)) => map
                .keys()
                .map(|key| (key.clone(), [&base[..], &[k("dataMap"), k(key)]].concat()))
                .collect(),
        };
        for (key, path) in keys {
            if !is_config_key(&key) {
                report.push(
                    at(
                        tree,
                        &path,
                        Code::InvalidName,
                        format!("`{key}` is not a valid ConfigMap key"),
                    )
                    .help("use letters, digits, `-`, `_` and `.`"),
                );
            }
        }
    }
}

/// `name` (of a `what`, written at `path`) cannot be an object name: not a DNS-1123 label.
fn not_a_label(tree: &Node, path: &[Segment], what: &str, name: &str, report: &mut Report) {
    report.push(
        at(
            tree,
            path,
            Code::InvalidName,
            format!("{what} name `{name}` is not a DNS-1123 label"),
        )
        .help(label_help(name)),
    );
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
        check_secret(tree, name, source, report);
    }
}

/// One `externalSecret.secrets` entry: its name, refresh interval and sources.
fn check_secret(tree: &Node, name: &str, source: &SecretSource, report: &mut Report) {
    let base = [k("externalSecret"), k("secrets"), k(name)];
    if let Some(interval) = &source.refresh_interval
        && let Err(e) = check_go_duration(interval)
    {
        report.push(
            at(
                tree,
                &[&base[..], &[k("refreshInterval")]].concat(),
                Code::Time,
                e,
            )
            .help("e.g. refreshInterval: 1h"),
        );
    }
    if !is_dns_label(name) {
        not_a_label(tree, &base, "secret", name, report);
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
        (None, Some(from)) => match from.key.as_deref().map(str::trim) {
            None => report.push(
                at(
                    tree,
                    &[&base[..], &[k("dataFrom"), k("key")]].concat(),
                    Code::MissingKey,
                    format!("`dataFrom.key` is required for secret `{name}`"),
                )
                .help("add key: <path in the secret store>"),
            ),
            Some("") => report.push(
                at(
                    tree,
                    &[&base[..], &[k("dataFrom"), k("key")]].concat(),
                    Code::InvalidValue,
                    format!("`dataFrom.key` must be non-empty for secret `{name}`"),
                )
                .help("write the path of the secret in the secret store"),
            ),
            Some(_) => {}
        },
        (Some(data), None) if data.is_empty() => report.push(
            at(
                tree,
                &[&base[..], &[k("data")]].concat(),
                Code::MissingKey,
                format!("`data` must contain at least one entry for secret `{name}`"),
            )
            .help("add data: {<key>: {remoteRef: {key: <path>, property: <property>}}}, or use dataFrom"),
        ),
        _ => {}
    }
    check_secret_data(tree, name, source, report);
}

/// The `data` entries of one secret: valid keys, each with a remote key.
fn check_secret_data(tree: &Node, name: &str, source: &SecretSource, report: &mut Report) {
    let base = [k("externalSecret"), k("secrets"), k(name)];
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
        let remote_ref = [&path[..], &[k("remoteRef")]].concat();
        let problem = match data
            .remote_ref
            .as_ref()
            .map(|r| r.key.as_deref().map(str::trim))
        {
            None => Some((remote_ref, Code::MissingKey, "`remoteRef` is required")),
            Some(None) => Some((
                [&remote_ref[..], &[k("key")]].concat(),
                Code::MissingKey,
                "`remoteRef.key` is required",
            )),
            Some(Some("")) => Some((
                [&remote_ref[..], &[k("key")]].concat(),
                Code::InvalidValue,
                "`remoteRef.key` must be non-empty",
            )),
            Some(Some(_)) => None,
        };
        if let Some((at_path, code, what)) = problem {
            report.push(
                at(
                    tree,
                    &at_path,
                    code,
                    format!("{what} for secretKey `{key}` in secret `{name}`"),
                )
                .help("add remoteRef: {key: <path in the secret store>}"),
            );
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
        if let Some(expr) = &alert.expr
            && let Err(e) = promql_parser::parser::parse(expr)
        {
            report.push(
                at(
                    tree,
                    &[&base[..], &[k("expr")]].concat(),
                    Code::Promql,
                    format!("the alert's `expr` is not valid PromQL: {e}"),
                )
                .help("fix the expression; `promtool check rules` would reject it"),
            );
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

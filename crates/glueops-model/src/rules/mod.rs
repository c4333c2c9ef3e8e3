//! Semantic rules: what the schema cannot say. Each rule reports a located diagnostic with a
//! fix; all rules run, so one load reports every problem.

mod app;
mod config;
mod containment;
mod diagnose;
mod platform;
mod pull;
mod strategy;
mod templates;
mod verification;
mod workload;

use std::collections::BTreeMap;

use crate::diagnostics::{Code, Diagnostic, Report};
use crate::instance::AppInstance;
use crate::names::{is_dns_label, label_help};
use crate::node::{Location, Segment};
use crate::rules::diagnose::at;
use crate::values::AppValues;

pub(crate) use app::check_deployment;
pub(crate) use containment::{check_containment, check_preview_secrets};
pub(crate) use platform::check_platform;
pub(crate) use pull::check_pull_secrets;
pub(crate) use templates::resolve as resolve_templates;

/// App folder names become object names, normalised as GlueOps does (lowercase, `_` and `.`
/// as `-`): a folder that is not a DNS label but normalises to one is a warning; one that
/// does not is an error; two folders that normalise to one name are an error naming both.
pub(crate) fn check_app_names<'a>(apps: impl Iterator<Item = &'a str>, report: &mut Report) {
    let mut taken: BTreeMap<String, &str> = BTreeMap::new();
    for app in apps {
        let name = crate::names::app_object_name(app);
        let location = Location::file(format!("apps/{app}"));
        if let Some(first) = taken.get(&name) {
            report.push(
                Diagnostic::new(
                    Code::Duplicate,
                    location,
                    "",
                    format!("app folders `{first}` and `{app}` both name their objects `{name}`"),
                )
                .help("rename one of the folders"),
            );
            continue;
        }
        taken.insert(name.clone(), app);
        if is_dns_label(app) {
            continue;
        }
        let diagnostic = if is_dns_label(&name) {
            Diagnostic::new(
                Code::InvalidName,
                location,
                "",
                format!("app folder `{app}` is not a DNS-1123 label: its objects are named `{name}`, as GlueOps names them"),
            )
            .help(format!("rename the folder `{name}` to say so, if it need not match its repository"))
            .warning()
        } else {
            Diagnostic::new(
                Code::InvalidName,
                location,
                "",
                format!("app name `{app}` is not a DNS-1123 label"),
            )
            .help(format!("rename the folder: {}", label_help(app)))
        };
        report.push(diagnostic);
    }
}

/// A hostname may be claimed by one app per environment.
pub(crate) fn check_hostnames(deployments: &[AppInstance], report: &mut Report) {
    // One ingress controller serves a cluster: a hostname is one instance's per cluster.
    let mut claimed: BTreeMap<(&str, String), (&AppInstance, Vec<Segment>)> = BTreeMap::new();
    for d in deployments {
        for (host, path) in d.hostnames() {
            match claimed.get(&(d.cluster.as_str(), host.clone())) {
                Some((first, first_path)) if first.name != d.name => report.push(
                    at(
                        &d.tree,
                        &path,
                        Code::HostnameConflict,
                        format!(
                            "hostname `{host}` is claimed by `{}` and `{}` on cluster `{}`",
                            first.name, d.name, d.cluster
                        ),
                    )
                    .note(
                        first.tree.locate(first_path),
                        format!("`{}` claims it here", first.name),
                    )
                    .help("give each its own hostname, e.g. `{{ .Values.glueops_app_name }}.apps.{{ .Values.captain_domain }}`"),
                ),
                Some(_) => {}
                None => {
                    claimed.insert((d.cluster.as_str(), host), (d, path));
                }
            }
        }
    }
}

/// A top-level key glueops does not know is a value for templates; one that no template of
/// any app reads is a mistake (most often a typo of a key glueops knows).
pub(crate) fn check_template_values<'a>(
    instances: impl Iterator<Item = &'a AppInstance>,
    read: &std::collections::BTreeSet<String>,
    report: &mut Report,
) {
    let known = AppValues::known_keys();
    let mut seen = std::collections::BTreeSet::new();
    for d in instances {
        for key in d.values.extra.keys() {
            if read.contains(key) {
                continue;
            }
            let location = d.tree.locate_key(&[Segment::from(key.as_str())]);
            if !seen.insert((location.clone(), key.clone())) {
                continue;
            }
            // A near miss of a known key is a mistake; any other key no template reads is
            // one the chart ignores: a warning.
            let diagnostic = match crate::suggest::did_you_mean(key, known.iter().map(String::as_str)) {
                Some(s) => Diagnostic::new(
                    Code::UnknownKey,
                    location,
                    key.clone(),
                    format!("unknown key `{key}` at the top level"),
                )
                .help(format!("did you mean `{s}`?")),
                None => Diagnostic::new(
                    Code::UnknownKey,
                    location,
                    key.clone(),
                    format!("unknown key `{key}` at the top level: no template reads it, so the chart ignores it, and so does glueops"),
                )
                .help("remove it, or read it in a customResources template as {{ .Values.<key> }}")
                .warning(),
            };
            report.push(diagnostic);
        }
    }
}

/// Two app instances may not own an object of the same name in one namespace of one
/// cluster (environments that share a namespace get distinct names unless `appName` says
/// otherwise).
pub(crate) fn check_object_names<'a>(
    instances: impl Iterator<Item = &'a AppInstance>,
    report: &mut Report,
) {
    let mut owners: BTreeMap<(String, String, String), &AppInstance> = BTreeMap::new();
    for d in instances {
        let name = d.values.object_name(&d.name).to_string();
        let key = (d.cluster.clone(), d.namespace.clone(), name.clone());
        match owners.get(&key) {
            Some(first) => {
                let path = [Segment::from("appName")];
                report.push(
                    at(&d.tree, &path, Code::NameConflict, format!(
                        "`{}` and `{}` both name their objects `{name}` in namespace `{}` of cluster `{}`",
                        first.name, d.name, d.namespace, d.cluster
                    ))
                    .note(first.tree.locate(&path), format!("`{}` is named here", first.name))
                    .help("give each its own appName (or leave appName unset: objects are then named after the instance, `<app>-<env>`)"),
                );
            }
            None => {
                owners.insert(key, d);
            }
        }
    }
}

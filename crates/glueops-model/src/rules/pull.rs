//! Pull secrets: a pod that pulls with a Secret nothing creates fails with ImagePullBackOff
//! once deployed. The chart renders it regardless; glueops warns.

use std::collections::BTreeSet;

use crate::diagnostics::{Code, Report};
use crate::instance::AppInstance;
use crate::platform::Platform;
use crate::rules::diagnose::{at, custom_resource_texts, k};

/// The Secrets an instance's render creates: its ExternalSecrets' targets, and the Secrets
/// and ExternalSecrets of its custom resources.
fn created(d: &AppInstance) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let base = d.values.object_name(&d.name);
    if let Some(es) = d.values.enabled_external_secret() {
        for (suffix, source) in es.secrets.iter().flatten() {
            out.insert(
                source
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{base}-{suffix}")),
            );
        }
    }
    for (_, text) in custom_resource_texts(&d.values) {
        for object in crate::values::custom_objects(text).unwrap_or_default() {
            let kind = object
                .get("kind")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let name = object
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(|v| v.as_str());
            let target = object
                .get("spec")
                .and_then(|s| s.get("target"))
                .and_then(|t| t.get("name"))
                .and_then(|v| v.as_str());
            match kind {
                "Secret" => out.extend(name.map(str::to_string)),
                "ExternalSecret" => out.extend(target.or(name).map(str::to_string)),
                _ => {}
            }
        }
    }
    out
}

/// Every workload's pull secret names a Secret the render creates or the platform provides.
pub(crate) fn check_pull_secrets<'a>(
    platform: &Platform,
    instances: impl Iterator<Item = &'a AppInstance>,
    report: &mut Report,
) {
    for d in instances {
        let created = created(d);
        let mut seen = BTreeSet::new();
        for w in d.values.workloads() {
            let (secret, path) = match &w.pod.image_pull_secrets {
                Some(own) => (
                    own.clone(),
                    [&w.path[..], &[k("imagePullSecrets")]].concat(),
                ),
                None => match d.values.image.as_ref().and_then(|i| i.pull_secrets.clone()) {
                    Some(shared) => (shared, vec![k("image"), k("pullSecrets")]),
                    None => continue,
                },
            };
            let secret = secret.trim().to_string();
            if secret.is_empty()
                || created.contains(&secret)
                || platform.spec.provided_secrets.contains(&secret)
                || !seen.insert(secret.clone())
            {
                continue;
            }
            report.push(
                at(
                    &d.tree,
                    &path,
                    Code::Undeclared,
                    format!(
                        "`{}` pulls its image with the Secret `{secret}`, which nothing in its render creates and glueops.yaml does not list as provided: its pods would fail with ImagePullBackOff",
                        d.name
                    ),
                )
                .help(format!(
                    "create it with externalSecret (type: kubernetes.io/dockerconfigjson), or add `{secret}` to spec.providedSecrets in glueops.yaml if the platform puts it in every namespace"
                ))
                .warning(),
            );
        }
    }
}

/// A pull secret as written must name one Secret: `""` means none, but whitespace alone or
/// inside the name is a mistake the chart refuses too (it would never match a Secret).
pub(crate) fn check_pull_secret_names(
    workloads: &[crate::values::Workload<'_>],
    d: &AppInstance,
    report: &mut Report,
) {
    let shared = d
        .values
        .image
        .as_ref()
        .and_then(|i| i.pull_secrets.as_deref());
    let mut written: Vec<(&str, Vec<crate::node::Segment>)> = shared
        .map(|s| (s, vec![k("image"), k("pullSecrets")]))
        .into_iter()
        .collect();
    for w in workloads {
        if let Some(own) = w.pod.image_pull_secrets.as_deref() {
            let path = [&w.path[..], &[k("imagePullSecrets")]].concat();
            if !written.iter().any(|(_, p)| *p == path) {
                written.push((own, path));
            }
        }
    }
    for (secret, path) in written {
        let shown = crate::node::display_path(&path);
        let problem = if !secret.is_empty() && secret.trim().is_empty() {
            format!("`{shown}` must not be empty or whitespace only; write \"\" for no pull secret")
        } else if secret.trim().contains(char::is_whitespace) {
            format!("`{shown}` must not contain whitespace: `{secret}` cannot name a Secret")
        } else {
            continue;
        };
        report.push(
            at(&d.tree, &path, Code::InvalidValue, problem)
                .help("write the name of one Secret in the app's namespace, or \"\" for none"),
        );
    }
}

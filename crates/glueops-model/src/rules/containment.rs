//! What an app may render: objects in its own namespace, and cluster-scoped objects only of
//! the kinds `spec.clusterScopedKinds` lists. Argo CD's AppProject would refuse the rest at
//! sync time; Flux applies whatever its service account may, so glueops refuses it at load.

use crate::diagnostics::{Code, Report};
use crate::instance::AppInstance;
use crate::platform::Platform;
use crate::rules::diagnose::{at, custom_resource_texts, k};

/// Every custom resource of every instance stays in the instance's namespace, and is
/// cluster-scoped only when the platform allows its kind.
pub(crate) fn check_containment<'a>(
    platform: &Platform,
    instances: impl Iterator<Item = &'a AppInstance>,
    report: &mut Report,
) {
    let allowed = &platform.spec.cluster_scoped_kinds;
    for d in instances {
        for (path, text) in custom_resource_texts(&d.values) {
            // Objects that do not read are reported by the workload rules.
            for object in crate::values::custom_objects(text).unwrap_or_default() {
                let field =
                    |key: &str| object.get(key).and_then(|v| v.as_str()).unwrap_or_default();
                let kind = field("kind");
                let meta = |key: &str| {
                    object
                        .get("metadata")
                        .and_then(|m| m.get(key))
                        .and_then(|v| v.as_str())
                };
                let name = meta("name").unwrap_or_default();
                if kind == "Secret"
                    && field("apiVersion") == "v1"
                    && (object.contains_key("data") || object.contains_key("stringData"))
                {
                    report.push(
                        at(
                            &d.tree,
                            &path,
                            Code::PlaintextSecret,
                            format!("`Secret/{name}` puts plaintext secret values in git, as `secret:` would; glueops does not render it"),
                        )
                        .help(format!(
                            "move the values to the secret store (`glueops secrets put {}/{name} KEY=@file ...`) and read them with externalSecret",
                            d.app
                        )),
                    );
                }
                if crate::check::cluster_scoped(kind) && !allowed.iter().any(|a| a == kind) {
                    report.push(
                        at(
                            &d.tree,
                            &path,
                            Code::InvalidValue,
                            format!("`{kind}/{name}` is cluster-scoped: an app may render only the cluster-scoped kinds spec.clusterScopedKinds allows (none by default)"),
                        )
                        .help(format!("create it from the platform's own manifests, or add `{kind}` to spec.clusterScopedKinds in glueops.yaml if every app may")),
                    );
                }
                if let Some(ns) = meta("namespace")
                    && ns != d.namespace
                {
                    report.push(
                        at(
                            &d.tree,
                            &path,
                            Code::InvalidValue,
                            format!("`{kind}/{name}` names the namespace `{ns}`: an app's objects live in its own namespace `{}`", d.namespace),
                        )
                        .help("remove metadata.namespace: glueops puts the object in the app's namespace"),
                    );
                }
            }
        }
    }
}

/// The store keys an instance's ExternalSecrets read, with the key path that sets each.
fn secret_keys(d: &AppInstance) -> Vec<(String, Vec<crate::node::Segment>)> {
    let Some(es) = d.values.enabled_external_secret() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, source) in es.secrets.iter().flatten() {
        let base = [k("externalSecret"), k("secrets"), k(name)];
        for (key, data) in source.data.iter().flatten() {
            if let Some(remote) = data.remote_ref.as_ref().and_then(|r| r.key.as_ref()) {
                let path = [&base[..], &[k("data"), k(key), k("remoteRef"), k("key")]].concat();
                out.push((remote.trim().to_string(), path));
            }
        }
        if let Some(remote) = source.data_from.as_ref().and_then(|f| f.key.as_ref()) {
            out.push((
                remote.trim().to_string(),
                [&base[..], &[k("dataFrom"), k("key")]].concat(),
            ));
        }
    }
    out
}

/// A preview runs a pull request's code: it never reads a store key that a non-preview
/// deployment (of any app) reads. A preview that inherits such a key from `base/` or
/// `common/` without overriding it under `envs/previews/` is refused, located where the key
/// is set.
pub(crate) fn check_preview_secrets(
    deployments: &[AppInstance],
    previews: &[AppInstance],
    report: &mut Report,
) {
    let guarded: std::collections::BTreeMap<String, &AppInstance> = deployments
        .iter()
        .flat_map(|d| secret_keys(d).into_iter().map(move |(key, _)| (key, d)))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for p in previews {
        for (key, path) in secret_keys(p) {
            let Some(owner) = guarded.get(&key) else {
                continue;
            };
            let location = p.tree.locate(&path);
            if !seen.insert((location.clone(), key.clone())) {
                continue;
            }
            report.push(
                at(
                    &p.tree,
                    &path,
                    Code::InvalidValue,
                    format!(
                        "the preview `{}` would read the store key `{key}`, which `{}` reads: a preview runs a pull request's code and never reads the secrets of a non-preview environment",
                        p.name, owner.name
                    ),
                )
                .help(format!(
                    "set a preview-only key in apps/{}/envs/previews/common/values.yaml (e.g. `{key}-preview`), or turn externalSecret off there",
                    p.app
                )),
            );
        }
    }
}

//! Templates in values: rendered where the chart renders them (ingress hostnames and TLS
//! hosts, a pod's volumes, volume mounts, affinity and topology spread, ConfigMap `data`,
//! custom resources), an error anywhere else.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::diagnostics::{Code, Report};
use crate::node::{Node, Segment};
use crate::rules::diagnose::at;
use crate::template::{Scope, render};

const WHERE: &str = "templates are read in ingress hostnames and TLS hosts and secret names, a workload's volumes, volumeMounts, affinity and topologySpreadConstraints, configMap data and customResources";

/// Renders every template in `json` (the merged values) in place; returns the top-level
/// `.Values` keys the templates read.
pub(crate) fn resolve(
    json: &mut Json,
    tree: &Node,
    scope: &Scope<'_>,
    report: &mut Report,
) -> BTreeSet<String> {
    let mut read = BTreeSet::new();
    let mut path = Vec::new();
    walk(json, &mut path, tree, scope, report, &mut read);
    read
}

fn walk(
    json: &mut Json,
    path: &mut Vec<Segment>,
    tree: &Node,
    scope: &Scope<'_>,
    report: &mut Report,
    read: &mut BTreeSet<String>,
) {
    match json {
        Json::String(s) if s.contains("{{") => {
            if !templated(path) {
                report.push(
                    at(
                        tree,
                        path,
                        Code::Template,
                        format!("`{s}` is a template where glueops does not read templates"),
                    )
                    .help(WHERE),
                );
                return;
            }
            match render(s, scope) {
                Ok((out, keys)) => {
                    *s = out;
                    read.extend(keys);
                }
                Err(e) => report.push(at(tree, path, Code::Template, e).help(
                    "the forms glueops reads: {{ .Values.<key> }}, .Release.Name, .Release.Namespace, .Chart.Name, include \"app.name\" . and include \"app.namespace\" ., if/else/end, range, and the pure functions trunc, default, lower, upper, trim, replace, trimSuffix, trimPrefix, quote, squote, printf, b64enc, sha256sum, toString (called or piped)",
                )),
            }
        }
        Json::Object(map) => {
            for (key, value) in map.iter_mut() {
                path.push(Segment::from(key.as_str()));
                walk(value, path, tree, scope, report, read);
                path.pop();
            }
        }
        Json::Array(list) => {
            for (index, value) in list.iter_mut().enumerate() {
                path.push(Segment::Index(index));
                walk(value, path, tree, scope, report, read);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Whether the chart renders templates at `path`.
fn templated(path: &[Segment]) -> bool {
    let keys: Vec<Option<&str>> = path
        .iter()
        .map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    match keys.as_slice() {
        [
            Some("ingress"),
            Some("entries"),
            None,
            Some("hosts"),
            None,
            Some("hostname"),
        ]
        | [
            Some("ingress"),
            Some("entries"),
            None,
            Some("tls"),
            None,
            Some("hosts"),
            None,
        ]
        | [Some("ingress"), Some("tls"), None, Some("hosts"), None]
        // The chart runs the whole tls block through tpl: secretName too.
        | [
            Some("ingress"),
            Some("entries"),
            None,
            Some("tls"),
            None,
            Some("secretName"),
        ]
        | [Some("ingress"), Some("tls"), None, Some("secretName")]
        | [Some("configMap"), Some("configs"), Some(_), Some("data")]
        | [Some("customResources"), None]
        | [Some("customResourcesMap"), Some(_)] => true,
        [
            Some("deployment" | "statefulSet" | "cronJob" | "job"),
            Some(field),
            ..,
        ] if pod_templated(field) => true,
        [
            Some("cronJob" | "job"),
            Some("jobs"),
            Some(_),
            Some(field),
            ..,
        ] => pod_templated(field),
        _ => false,
    }
}

fn pod_templated(field: &str) -> bool {
    matches!(
        field,
        "volumes" | "volumeMounts" | "affinity" | "topologySpreadConstraints"
    )
}

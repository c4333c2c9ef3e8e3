//! Templates in values: rendered where the chart renders them (ingress hostnames and TLS
//! hosts, a pod's volumes, volume mounts, affinity and topology spread, ConfigMap `data`,
//! custom resources), an error anywhere else.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value as Json;

use crate::diagnostics::{Code, Diagnostic, Report};
use crate::node::{Location, Node, Segment};
use crate::rules::diagnose::at;
use crate::template::{Scope, render};

const WHERE: &str = "templates are read in ingress hostnames and TLS hosts and secret names, a workload's volumes, volumeMounts, affinity and topologySpreadConstraints, configMap data and customResources";

/// Renders every template in `json` (the merged values) in place; returns the top-level
/// `.Values` keys the templates read.
pub(crate) fn resolve(
    json: &mut Json,
    tree: &Node,
    scope: &Scope<'_>,
    sources: &BTreeMap<Arc<str>, Arc<str>>,
    report: &mut Report,
) -> BTreeSet<String> {
    let mut walk = Walk {
        tree,
        scope,
        sources,
        report,
        read: BTreeSet::new(),
    };
    walk.value(json, &mut Vec::new());
    walk.read
}

/// What a walk over the values carries.
struct Walk<'a, 'r> {
    tree: &'a Node,
    scope: &'a Scope<'a>,
    sources: &'a BTreeMap<Arc<str>, Arc<str>>,
    report: &'r mut Report,
    read: BTreeSet<String>,
}

/// Where byte `offset` of a string value written at `start` is in its file: for a quoted
/// scalar one column past the quote, for a block scalar on the following lines at the
/// block's indentation (escapes in double quotes are not counted).
fn locate(start: &Location, text: Option<&str>, value: &str, offset: usize) -> Location {
    let before = value.get(..offset).unwrap_or(value);
    let line_in_value = before.matches('\n').count();
    let column_in_line = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count();
    let quoted = text
        .and_then(|t| t.lines().nth((start.line as usize).saturating_sub(1)))
        .and_then(|l| l.chars().nth((start.column as usize).saturating_sub(1)))
        .is_some_and(|c| c == '"' || c == '\'');
    let column = start.column as usize + column_in_line + usize::from(quoted && line_in_value == 0);
    Location::new(
        start.file.clone(),
        start.line + u32::try_from(line_in_value).unwrap_or(0),
        u32::try_from(column).unwrap_or(start.column),
    )
}

impl Walk<'_, '_> {
    fn value(&mut self, json: &mut Json, path: &mut Vec<Segment>) {
        let (tree, scope) = (self.tree, self.scope);
        match json {
            Json::String(s) if s.contains("{{") => {
                if !templated(path) {
                    self.report.push(
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
                        self.read.extend(keys);
                    }
                    Err(failures) => {
                        let start = tree.locate(path);
                        let text = self.sources.get(&start.file).map(|t| t.as_ref());
                        for (offset, message) in failures {
                            let location = locate(&start, text, s, offset);
                            self.report.push(
                                Diagnostic::new(
                                    Code::Template,
                                    location,
                                    crate::node::display_path(path),
                                    message,
                                )
                                .help(FORMS),
                            );
                        }
                    }
                }
            }
            Json::Object(map) => {
                for (key, value) in map.iter_mut() {
                    path.push(Segment::from(key.as_str()));
                    self.value(value, path);
                    path.pop();
                }
            }
            Json::Array(list) => {
                for (index, value) in list.iter_mut().enumerate() {
                    path.push(Segment::Index(index));
                    self.value(value, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

/// The help of a template that does not render.
const FORMS: &str = "the forms glueops reads: {{ .Values.<key> }}, .Release.Name, .Release.Namespace, .Chart.Name, include \"app.name\" . and include \"app.namespace\" ., if/else/end, range, and the pure functions trunc, default, lower, upper, trim, replace, trimSuffix, trimPrefix, quote, squote, printf, b64enc, sha256sum, toString (called or piped)";

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

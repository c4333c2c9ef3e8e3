//! Values generated from the app-values JSON Schema itself (`Document::AppValues`): walking
//! its properties, types, enums and `$ref`s, every generated document loads, renders the same
//! bytes twice, and what it renders passes kubernetes-validate --strict, the upstream CRDs and
//! checkov.
//!
//! The walk leaves out what the schema cannot say is valid: the Kubernetes pass-through types
//! (`io.k8s.*`: affinity, probes, volumes, sidecars), glueops' own extras with cross-field
//! rules (`monitoring`, `networkPolicy`, `autoscaling`, `source`), the refused `secret`, the
//! free-text `customResources` and the settings the restricted profile rejects. Strings get
//! a value of the shape their key needs (a quantity under `cpu`, a cron line under
//! `schedule`, a DNS label under a name), numbers stay small, lists hold at most one item, and
//! of two keys that exclude each other only one is written.

use std::path::Path;

use glueops_model::{Document, Repo, SourceTree};
use glueops_render::render;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};

/// Top-level sections generated (one of `deployment` and `statefulSet`, of `keda` and none).
const SECTIONS: &[&str] = &[
    "appVersion",
    "appEnv",
    "commonLabels",
    "commonAnnotations",
    "cronJob",
    "job",
    "service",
    "serviceAccount",
    "ingress",
    "externalSecret",
    "configMap",
    "persistentVolumeClaim",
    "podDisruptionBudget",
    "keda",
];

/// Keys never generated: each is either unbounded text the schema cannot constrain or a
/// setting a rule or the restricted profile rejects on purpose.
const SKIP: &[&str] = &[
    "hostNetwork",
    "restartPolicy",
    "dnsPolicy",
    "completionMode",
    "podReplacementPolicy",
    "automountServiceAccountToken",
    "useChartVersionAsTagFallback",
    "idleReplicaCount",
    "priorityClassName",
    "digest",
    "image",
    "scaleTargetRef",
    "advanced",
    "fallback",
    "namespaceOverride",
    "secretStore",
    "existingClaim",
    "volumeName",
    "storageClass",
    "storageClassName",
    "serviceName",
    "timeZone",
    "nodePort",
    "envFrom",
    "portName",
    "protocol",
    "headlessService",
    // The progressive strategy's values have cross-field rules; `properties.rs` generates
    // them on their own.
    "strategy",
];

/// Keys always written where they are allowed (what a rule requires).
const ALWAYS: &[&str] = &[
    "enabled",
    "name",
    "port",
    "schedule",
    "value",
    "key",
    "remoteRef",
    "parameter",
    "provider",
    "serviceAccountName",
    "variable",
    "secretName",
    "secretKey",
    "configMapName",
    "configMapKey",
    "type",
    "metadata",
    "dataMap",
    "data",
    "triggers",
    "spec",
    "hostname",
    "mountPath",
];

/// Of each pair, at most the first is written.
const EXCLUSIVE: &[(&str, &str)] = &[
    ("minAvailable", "maxUnavailable"),
    ("dataMap", "data"),
    ("data", "dataFrom"),
    ("triggers", "triggersMap"),
];

struct Walk<'a> {
    defs: &'a Map<String, Value>,
}

impl Walk<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> Option<&'s Value> {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.strip_prefix("#/$defs/")?;
                (!name.starts_with("io.k8s"))
                    .then(|| self.defs.get(name))
                    .flatten()
            }
            None => Some(schema),
        }
    }

    /// A strategy for values of `schema` at `path` (`None`: this part is not generated).
    fn value(&self, schema: &Value, path: &[String]) -> Option<BoxedStrategy<Value>> {
        let schema = self.resolve(schema)?;
        if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
            let choices: Vec<BoxedStrategy<Value>> = options
                .iter()
                .filter(|o| o.get("type") != Some(&Value::from("null")))
                .filter_map(|o| self.value(o, path))
                .collect();
            return (!choices.is_empty()).then(|| proptest::strategy::Union::new(choices).boxed());
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let values: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
            return Some(proptest::sample::select(values).boxed());
        }
        if let Some(c) = schema.get("const") {
            return Some(Just(c.clone()).boxed());
        }
        let ty = match schema.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null")?,
            _ => return None,
        };
        let key = path.last().map(String::as_str).unwrap_or_default();
        match ty {
            "boolean" => Some(if key == "enabled" {
                Just(Value::Bool(true)).boxed()
            } else {
                any::<bool>().prop_map(Value::Bool).boxed()
            }),
            "integer" => Some(integer(key).prop_map(Value::from).boxed()),
            "string" => Some(text(path).prop_map(Value::String).boxed()),
            "array" => {
                let item = self.value(schema.get("items")?, path)?;
                // KEDA needs a trigger; every other list may be empty.
                let least = usize::from(key == "triggers");
                Some(
                    prop::collection::vec(item, least..=1)
                        .prop_map(Value::Array)
                        .boxed(),
                )
            }
            "object" => self.object(schema, path),
            _ => None,
        }
    }

    fn object(&self, schema: &Value, path: &[String]) -> Option<BoxedStrategy<Value>> {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
            for (name, sub) in props {
                let excluded = EXCLUSIVE
                    .iter()
                    .any(|(a, b)| b == name && props.contains_key(*a));
                if SKIP.contains(&name.as_str()) || excluded {
                    continue;
                }
                let mut sub_path = path.to_vec();
                sub_path.push(name.clone());
                let Some(value) = self.value(sub, &sub_path) else {
                    continue;
                };
                let name = name.clone();
                let keyed = value.prop_map(move |v| (name.clone(), v));
                fields.push(if ALWAYS.contains(&sub_path[sub_path.len() - 1].as_str()) {
                    keyed.prop_map(Some).boxed()
                } else {
                    proptest::option::weighted(0.6, keyed).boxed()
                });
            }
            return Some(
                fields
                    .prop_map(|kv| Value::Object(kv.into_iter().flatten().collect()))
                    .boxed(),
            );
        }
        let item = schema
            .get("additionalProperties")
            .filter(|a| a.is_object())?;
        let mut sub_path = path.to_vec();
        sub_path.push("*".to_string());
        let value = self.value(item, &sub_path)?;
        let keys = map_key(path);
        // A secret's `data` needs an entry (an empty one is an error, as in the chart).
        let fewest = usize::from(path.last().is_some_and(|p| p == "data") && path.len() >= 4);
        Some(
            prop::collection::btree_map(keys, value, fewest..=1)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed(),
        )
    }
}

fn integer(key: &str) -> BoxedStrategy<i64> {
    match key {
        "port" | "servicePortNumber" => (1024i64..9000).boxed(),
        "replicas" | "minReplicaCount" => (1i64..4).boxed(),
        "maxReplicaCount" => (4i64..10).boxed(),
        _ => (1i64..6).boxed(),
    }
}

/// Keys of a map at `path`: environment variable names where they become variables.
fn map_key(path: &[String]) -> BoxedStrategy<String> {
    let parent = path.last().map(String::as_str).unwrap_or_default();
    match parent {
        "envMap" => "MAP_[A-Z]{3}".boxed(),
        "data" => "ES_[A-Z]{3}".boxed(),
        "dataMap" | "metadata" => "[a-z][a-z_.-]{0,6}[a-z]".boxed(),
        "commonLabels" | "commonAnnotations" | "labels" | "annotations" | "nodeSelector"
        | "matchLabels" => "example\\.com/[a-z]{1,6}".boxed(),
        _ => "[a-z][a-z0-9]{0,5}".boxed(),
    }
}

/// A string of the shape `path` needs.
fn text(path: &[String]) -> BoxedStrategy<String> {
    let key = path.last().map(String::as_str).unwrap_or_default();
    let parent = path
        .len()
        .checked_sub(2)
        .map(|i| path[i].as_str())
        .unwrap_or_default();
    match (parent, key) {
        ("requests", "cpu") => "[1-4]0m".boxed(),
        ("limits", "cpu") => "[5-9]00m".boxed(),
        ("requests", "memory") => "[1-6]4Mi".boxed(),
        ("limits", "memory") => "[1-4]28Mi".boxed(),
        ("requests", "ephemeral-storage") => "[1-2]Gi".boxed(),
        ("limits", "ephemeral-storage") => "[3-9]Gi".boxed(),
        (_, "requestsStorage" | "storageSize") => "[1-9]Gi".boxed(),
        (_, "schedule") => "(0|15|30) [1-5] \\* \\* \\*".boxed(),
        (_, "refreshInterval") => "[1-9](h|m)".boxed(),
        (_, "tag" | "appVersion") => "[1-3]\\.[0-9]\\.[0-9]".boxed(),
        (_, "hostname") => "[a-z]{3,8}\\.example\\.com".boxed(),
        ("hosts", "*") | ("tls", "hosts") => "[a-z]{3,8}\\.example\\.com".boxed(),
        (_, "path") => "/[a-z]{0,6}".boxed(),
        (_, "mountPath") => "/data/[a-z]{1,5}".boxed(),
        (_, "key") => "[a-z]{1,6}/[a-z]{1,6}".boxed(),
        (_, "envName") => "ENV_[A-Z]{3}".boxed(),
        ("envVariables", "name") => "VAR_[A-Z]{3}".boxed(),
        ("envSecrets", "variable") => "SEC_[A-Z]{3}".boxed(),
        ("envConfigMaps", "variable") => "CFG_[A-Z]{3}".boxed(),
        ("containerPorts" | "ports", "name") => "p[a-z]{2,6}".boxed(),
        (_, "accessModes" | "accessMode") => "ReadWriteOnce".boxed(),
        (_, "repository") => "acme/[a-z]{2,6}".boxed(),
        (_, "registry") => "(ghcr\\.io|docker\\.io)".boxed(),
        (_, "pullSecrets" | "imagePullSecrets") => "[a-z]{3,8}-pull".boxed(),
        (_, "volumeMode") => "Filesystem".boxed(),
        (_, "maxSurge" | "maxUnavailable" | "minAvailable") => "[1-5]0%".boxed(),
        (_, "targetPort") => "p[a-z]{2,6}".boxed(),
        ("metadata", _)
        | ("dataMap", _)
        | ("commonLabels" | "labels" | "matchLabels" | "nodeSelector", _) => {
            "[a-z0-9]{1,8}".boxed()
        }
        (_, "version" | "property") => "[a-z0-9]{1,8}".boxed(),
        ("podIdentity", "provider") => "(aws|gcp|none)".boxed(),
        (_, "identityOwner") => "(keda|workload)".boxed(),
        (_, "metricType") => "(AverageValue|Value|Utilization)".boxed(),
        ("authenticationRef", "kind") => {
            "(TriggerAuthentication|ClusterTriggerAuthentication)".boxed()
        }
        _ => "[a-z][a-z0-9]{0,5}".boxed(),
    }
}

/// Generated app values: the chosen sections, a workload, an image with a port.
fn arb_values() -> BoxedStrategy<Value> {
    let schema = Document::AppValues.schema();
    let defs = schema["$defs"].as_object().unwrap().clone();
    let props = schema["properties"].as_object().unwrap().clone();
    let walk = Walk { defs: &defs };
    let mut sections: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for name in SECTIONS {
        let value = walk.value(&props[*name], &[name.to_string()]).unwrap();
        let name = name.to_string();
        sections.push(
            proptest::option::weighted(0.5, value.prop_map(move |v| (name.clone(), v))).boxed(),
        );
    }
    let workload = proptest::sample::select(vec!["deployment", "statefulSet"])
        .prop_flat_map(move |w| walk_value(w).prop_map(move |v| (w.to_string(), v)));
    let image = walk.value(&props["image"], &["image".to_string()]).unwrap();
    (sections, workload, image)
        .prop_map(|(sections, (w, mut workload), mut image)| {
            let mut out: Map<String, Value> = sections.into_iter().flatten().collect();
            workload["enabled"] = Value::Bool(true);
            out.insert(w, workload);
            image["repository"] = Value::from("acme/app");
            image["tag"] = Value::from("1.0.0");
            image["port"] = Value::from(8080);
            out.insert("image".into(), image);
            Value::Object(out)
        })
        .boxed()
}

fn walk_value(name: &str) -> BoxedStrategy<Value> {
    let schema = Document::AppValues.schema();
    let defs = schema["$defs"].as_object().unwrap().clone();
    let walk = Walk { defs: &defs };
    walk.value(&schema["properties"][name], &[name.to_string()])
        .unwrap()
}

const PLATFORM: &str = "apiVersion: glueops.dev/v1alpha1
kind: Platform
metadata: {name: acme}
spec:
  delivery: argocd
  manifestRepo: {url: \"https://github.com/acme/manifests.git\"}
  clusters:
    - {name: nonprod, server: \"https://nonprod.k8s.acme.example:6443\", captainDomain: nonprod.acme.example}
    - {name: prod, server: \"https://prod.k8s.acme.example:6443\", captainDomain: prod.acme.example}
  environments: [{name: staging, cluster: nonprod}, {name: production, cluster: prod}]
";

fn load(values: &Value) -> Repo {
    let text = glueops_yaml::to_string(values).unwrap();
    let mut tree = SourceTree::new();
    tree.insert("glueops.yaml", PLATFORM);
    tree.insert("apps/app/base/base-values.yaml", text.clone());
    tree.insert("apps/app/envs/staging/values.yaml", "");
    tree.insert("apps/app/envs/production/values.yaml", "");
    Repo::from_sources(&tree)
        .unwrap_or_else(|d| panic!("generated values do not load:\n{d}\n{text}"))
}

proptest! {
    #![proptest_config(Config { cases: 64, ..Config::default() })]

    #[test]
    fn values_from_the_schema_load_and_render_deterministically(values in arb_values()) {
        let repo = load(&values);
        let first = render(&repo, &[]).unwrap().files().unwrap();
        let again = render(&load(&values), &[]).unwrap().files().unwrap();
        prop_assert_eq!(first, again);
    }
}

#[test]
fn what_values_from_the_schema_render_passes_the_oracles() {
    let mut runner = TestRunner::deterministic();
    let strategy = arb_values();
    let dir = crate::oracles::visible_tempdir();
    let mut core = Vec::new();
    let mut custom = Vec::new();
    for n in 0..24 {
        let values = strategy.new_tree(&mut runner).unwrap().current();
        let set = render(&load(&values), &[]).unwrap();
        for m in set.iter() {
            let path = dir.path().join(format!("case{n}")).join(&m.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, m.to_yaml().unwrap()).unwrap();
            if m.object.is_custom() {
                custom.push(serde_json::to_value(&m.object).unwrap());
            } else {
                core.push(path);
            }
        }
    }
    let (ok, text) = crate::oracles::kubernetes_validate(&core);
    assert!(ok, "kubernetes-validate --strict failed:\n{text}");
    let schemas = crate::crds::schemas();
    for object in &custom {
        let problems = crate::crds::errors(&schemas, object);
        assert!(
            problems.is_empty(),
            "{object} violates its CRD:\n{}",
            problems.join("\n")
        );
    }
    let (passed, failed, ids) = crate::oracles::summary(&crate::oracles::checkov(dir.path()));
    assert!(passed > 500, "checkov ran only {passed} checks");
    assert_eq!(failed, 0, "checkov failed:\n{}", ids.join("\n"));
    assert!(Path::new(&core[0]).exists());
}

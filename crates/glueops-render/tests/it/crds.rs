//! Every custom object glueops renders validates against the `openAPIV3Schema` of its real
//! upstream CRD (tests/fixtures/crds, see SOURCES.md), strictly: a field the CRD does not know
//! is an error, because the API server would silently prune it.

use std::collections::BTreeMap;

use glueops_render::{PreviewRequest, render};
use serde_json::{Value, json};

/// [`schemas`], read once per test binary.
pub(crate) fn schemas_cached() -> &'static BTreeMap<(String, String), Value> {
    static SCHEMAS: std::sync::OnceLock<BTreeMap<(String, String), Value>> =
        std::sync::OnceLock::new();
    SCHEMAS.get_or_init(schemas)
}

pub(crate) fn schemas() -> BTreeMap<(String, String), Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crds");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let crd: Value = glueops_yaml::deserialize(&text, glueops_yaml::Limits::Schema).unwrap();
        let group = crd["spec"]["group"].as_str().unwrap();
        let kind = crd["spec"]["names"]["kind"].as_str().unwrap();
        for version in crd["spec"]["versions"].as_array().unwrap() {
            let mut schema = version["schema"]["openAPIV3Schema"].clone();
            strict(&mut schema);
            out.insert(
                (
                    format!("{group}/{}", version["name"].as_str().unwrap()),
                    kind.to_string(),
                ),
                schema,
            );
        }
    }
    out
}

/// Objects with declared properties accept no others, unless the CRD preserves unknown fields.
fn strict(schema: &mut Value) {
    if let Some(obj) = schema.as_object_mut() {
        let preserves = obj.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        if obj.contains_key("properties") && !obj.contains_key("additionalProperties") && !preserves
        {
            obj.insert("additionalProperties".to_string(), Value::Bool(false));
        }
        for v in obj.values_mut() {
            strict(v);
        }
    } else if let Some(items) = schema.as_array_mut() {
        items.iter_mut().for_each(strict);
    }
}

pub(crate) fn errors(schemas: &BTreeMap<(String, String), Value>, object: &Value) -> Vec<String> {
    let key = (
        object["apiVersion"].as_str().unwrap().to_string(),
        object["kind"].as_str().unwrap().to_string(),
    );
    let schema = schemas
        .get(&key)
        .unwrap_or_else(|| panic!("no CRD for {key:?}"));
    let validator = jsonschema::validator_for(schema).unwrap();
    validator
        .iter_errors(object)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn every_custom_object_satisfies_its_crd() {
    let schemas = schemas();
    let previews = [PreviewRequest {
        app: "web".into(),
        number: 42,
        head_sha: Some("4f2a9c1".into()),
        branch: Some("feat/checkout".into()),
    }];
    let mut kinds = std::collections::BTreeSet::new();
    for repo in [crate::support::demo(), crate::support::demo_flux()] {
        let set = render(&repo, &previews).unwrap();
        for m in set.iter().filter(|m| m.object.is_custom()) {
            let object = serde_json::to_value(&m.object).unwrap();
            let problems = errors(&schemas, &object);
            assert!(
                problems.is_empty(),
                "{} violates its CRD:\n{}",
                m.path,
                problems.join("\n")
            );
            kinds.insert(m.object.kind().to_string());
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "AppProject",
            "Application",
            "ExternalSecret",
            "GitRepository",
            "Kustomization",
            "PrometheusRule",
            "ServiceMonitor"
        ]
    );
}

#[test]
fn the_check_rejects_what_a_controller_would_reject() {
    let schemas = schemas();
    let missing = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "x"}, "spec": {"project": "p"}});
    assert!(
        !errors(&schemas, &missing).is_empty(),
        "an Application without destination and source must fail"
    );
    let typo = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "x"},
        "spec": {"secretStoreRef": {"name": "s", "kind": "ClusterSecretStore"}, "refreshIntervall": "1h"}});
    assert!(
        !errors(&schemas, &typo).is_empty(),
        "an unknown field must fail"
    );
}

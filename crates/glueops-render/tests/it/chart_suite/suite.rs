//! Reading the chart's helm-unittest suites: each case's values (values files, then the
//! suite's `set`, then the case's `set`, as helm-unittest merges them) and its asserts.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// One `*_test.yaml` file.
pub(crate) struct Suite {
    /// `suite:`.
    pub name: String,
    /// The one template the suite renders, e.g. `deployment.yaml` (`templates/` stripped).
    pub template: String,
    /// Its cases, in file order.
    pub cases: Vec<Case>,
}

/// One `it:` case.
pub(crate) struct Case {
    /// `it:`, made unique within the suite (a repeated name gets ` (2)`).
    pub it: String,
    /// The merged values the case renders with.
    pub values: Value,
    /// The case's asserts, in order.
    pub asserts: Vec<Value>,
    /// A case-level `documentSelector`, if any.
    pub selector: Option<Value>,
}

/// The fixture folder with the chart's suites.
pub(crate) fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/glueops-app-chart/tests")
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    glueops_yaml::deserialize(&text, glueops_yaml::Limits::Config)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every suite of the fixture folder, sorted by file name.
pub(crate) fn all() -> Vec<Suite> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("_test.yaml"))
        .collect();
    files.sort();
    files.iter().map(|f| parse(f)).collect()
}

fn parse(file: &Path) -> Suite {
    let doc = read_yaml(file);
    let name = doc["suite"].as_str().unwrap().to_string();
    let templates = doc["templates"].as_array().unwrap();
    assert_eq!(templates.len(), 1, "{name}: one template per suite");
    let template = templates[0].as_str().unwrap();
    let template = template.strip_prefix("templates/").unwrap_or(template);
    let suite_set = doc.get("set").cloned().unwrap_or(Value::Null);
    let mut cases: Vec<Case> = Vec::new();
    for test in doc["tests"].as_array().unwrap() {
        let mut it = test["it"].as_str().unwrap().to_string();
        let repeats = cases
            .iter()
            .filter(|c| c.it == it || c.it.starts_with(&format!("{it} (")))
            .count();
        if repeats > 0 {
            it = format!("{it} ({})", repeats + 1);
        }
        let mut values = Value::Object(Map::new());
        for f in test
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let path = file.parent().unwrap().join(f.as_str().unwrap());
            merge(&mut values, read_yaml(&path));
        }
        apply_set(&mut values, &suite_set);
        apply_set(&mut values, test.get("set").unwrap_or(&Value::Null));
        cases.push(Case {
            it,
            values,
            asserts: test["asserts"].as_array().cloned().unwrap_or_default(),
            selector: test.get("documentSelector").cloned(),
        });
    }
    Suite {
        name,
        template: template.to_string(),
        cases,
    }
}

/// Applies a helm-unittest `set:` map: each key is a dotted path (`deployment.replicas`),
/// each value merged in at that path.
fn apply_set(values: &mut Value, set: &Value) {
    let Some(set) = set.as_object() else {
        return;
    };
    for (key, value) in set {
        let mut nested = value.clone();
        for part in key.split('.').rev() {
            let mut map = Map::new();
            map.insert(part.to_string(), nested);
            nested = Value::Object(map);
        }
        merge(values, nested);
    }
}

/// Deep merge: maps merge key by key, anything else (nulls included) replaces.
pub(crate) fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(old) if old.is_object() && v.is_object() => merge(old, v),
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (into, from) => *into = from,
    }
}

#[test]
fn the_fixture_holds_the_charts_324_cases_in_14_suites() {
    let suites = all();
    assert_eq!(suites.len(), 14);
    assert_eq!(suites.iter().map(|s| s.cases.len()).sum::<usize>(), 324);
    let deployment = suites.iter().find(|s| s.name == "Deployment").unwrap();
    assert_eq!(deployment.template, "deployment.yaml");
    // The suite's `set` and the case's dotted keys end up nested.
    let case = deployment
        .cases
        .iter()
        .find(|c| c.it == "should use the correct port")
        .unwrap();
    assert_eq!(case.values["appName"], "example-app");
    assert_eq!(case.values["image"]["port"], 9999);
    assert_eq!(case.values["deployment"]["enabled"], true);
}

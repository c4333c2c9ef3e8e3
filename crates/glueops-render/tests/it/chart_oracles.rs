//! The chart's examples against the oracles: every object they render passes
//! kubernetes-validate --strict, its upstream CRD and checkov, and matches its reviewed
//! snapshot.

use std::path::{Path, PathBuf};

use glueops_render::render;
use serde_json::Value;

use crate::chart_examples::{EXAMPLES, REFUSED, load};

/// Every rendered example, written to `dir`; returns the core files and the custom objects.
fn render_all(dir: &Path) -> (Vec<PathBuf>, Vec<Value>) {
    let mut core = Vec::new();
    let mut custom = Vec::new();
    for name in EXAMPLES.iter().filter(|n| !REFUSED.contains(n)) {
        let repo = load(name).unwrap();
        for m in render(&repo, &[]).unwrap().iter() {
            let path = dir.join(name).join(&m.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, m.to_yaml().unwrap()).unwrap();
            if m.object.is_custom() {
                custom.push(serde_json::to_value(&m.object).unwrap());
            } else {
                core.push(path);
            }
        }
    }
    (core, custom)
}

#[test]
fn every_example_object_passes_kubernetes_validate_strict_and_its_crd() {
    let dir = tempfile::tempdir().unwrap();
    let (core, custom) = render_all(dir.path());
    let (ok, text) = crate::oracles::kubernetes_validate(&core);
    assert!(ok, "kubernetes-validate --strict -k 1.34.0 failed:\n{text}");
    assert_eq!(text.matches("passed").count(), core.len(), "{text}");
    let schemas = crate::crds::schemas();
    let mut kinds = std::collections::BTreeSet::new();
    for object in custom
        .iter()
        .filter(|o| !o["apiVersion"].as_str().unwrap().starts_with("argoproj.io"))
    {
        let problems = crate::crds::errors(&schemas, object);
        assert!(
            problems.is_empty(),
            "{} violates its CRD:\n{}",
            object["metadata"]["name"],
            problems.join("\n")
        );
        kinds.insert(object["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        // PrometheusRule: glueops' default alerts.
        [
            "ExternalSecret",
            "PrometheusRule",
            "ScaledObject",
            "TriggerAuthentication"
        ]
    );
}

#[test]
fn every_example_passes_checkov() {
    let dir = crate::oracles::visible_tempdir();
    render_all(dir.path());
    let report = crate::oracles::checkov_with(dir.path(), &skips());
    let (passed, failed, ids) = crate::oracles::summary(&report);
    assert!(passed > 500, "checkov ran only {passed} checks");
    assert_eq!(failed, 0, "checkov failed checks:\n{}", ids.join("\n"));
}

/// The demo's justified skips plus the examples' own (tests/fixtures/glueops-app-chart/checkov-skips.txt).
fn skips() -> Vec<String> {
    let mut out = crate::oracles::skips();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/glueops-app-chart/checkov-skips.txt"),
    )
    .unwrap();
    out.extend(crate::oracles::parse_skips(&text));
    out
}

#[test]
fn every_example_renders_as_reviewed() {
    for name in EXAMPLES.iter().filter(|n| !REFUSED.contains(n)) {
        let repo = load(name).unwrap();
        let set = render(&repo, &[]).unwrap();
        let mut text = String::new();
        for m in set
            .iter()
            .filter(|m| m.path.contains(&format!("/stage/{name}/")))
        {
            text.push_str(&format!("# {}\n{}", m.path, m.to_yaml().unwrap()));
        }
        insta::assert_snapshot!(format!("example-{name}"), text);
    }
}

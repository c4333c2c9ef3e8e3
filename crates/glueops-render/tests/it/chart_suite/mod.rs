//! The GlueOps app chart's own unit-test suite (helm-unittest, 14 suites, 324 cases) run
//! against glueops: each case's values become an app's `base-values.yaml`, glueops renders
//! it, and the case's asserts are evaluated on the objects glueops renders for the chart
//! template the suite names. Every case passes, or is listed with its reason in
//! `docs/coming-from-glueops.md` (a deliberate difference or an open gap); the pass count
//! only goes up.

mod asserts;
mod path;
mod suite;

use std::collections::BTreeMap;
use std::path::Path;

use glueops_model::{Repo, Severity, SourceTree};
use glueops_render::{Object, render};
use serde_json::Value;

use asserts::Rendered;

/// Cases that pass today; the suite fails if fewer pass.
const PASS_FLOOR: usize = 295;

// The platform of the chart's example fixtures: one environment, `stage`.
use crate::chart_examples::PLATFORM;

/// Whether glueops renders `object` for the chart template `template`.
fn from_template(template: &str, object: &Object) -> bool {
    if let Object::Raw(_) = object {
        return template == "custom-resources.yaml";
    }
    let kind = match template {
        "configmap.yaml" => "ConfigMap",
        "cronjob.yaml" => "CronJob",
        "deployment.yaml" => "Deployment",
        "externalsecret.yaml" => "ExternalSecret",
        "ingress.yaml" => "Ingress",
        "job.yaml" => "Job",
        "keda-scaledObject.yaml" => "ScaledObject",
        "keda-triggerAuthentication.yaml" => "TriggerAuthentication",
        "pdb.yaml" => "PodDisruptionBudget",
        "pvc.yaml" => "PersistentVolumeClaim",
        "service.yaml" => "Service",
        "serviceaccount.yaml" => "ServiceAccount",
        "statefulset.yaml" => "StatefulSet",
        other => panic!("no mapping for the chart template {other}"),
    };
    object.kind() == kind
}

/// Renders `values` as the base values of app `app` in `stage`; the objects of `template`.
fn run(template: &str, values: &Value) -> Rendered {
    let mut tree = SourceTree::new();
    tree.insert("glueops.yaml", PLATFORM);
    tree.insert(
        "apps/app/base/base-values.yaml",
        glueops_yaml::to_string(values).unwrap(),
    );
    tree.insert("apps/app/envs/stage/values.yaml", "");
    let repo = match Repo::from_sources(&tree) {
        Ok(repo) => repo,
        Err(diagnostics) => {
            return Rendered::Refused(
                diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .map(|d| {
                        let located =
                            d.location.file.ends_with("values.yaml") && d.location.line > 0;
                        (d.path.clone(), d.message.clone(), located)
                    })
                    .collect(),
            );
        }
    };
    match render(&repo, &[]) {
        Ok(set) => Rendered::Objects(
            set.iter()
                .filter(|m| m.path.contains("/stage/app/") && from_template(template, &m.object))
                .map(|m| serde_json::to_value(&m.object).unwrap())
                .collect(),
        ),
        Err(e) => Rendered::Refused(vec![(String::new(), e.to_string(), false)]),
    }
}

/// The cases listed in the docs: (suite, case) → (section, reason).
fn listed() -> BTreeMap<(String, String), (String, String)> {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/coming-from-glueops.md");
    let text = std::fs::read_to_string(&doc).unwrap();
    let mut section = String::new();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            section = h.trim().to_string();
            continue;
        }
        let cells: Vec<&str> = line
            .split(" | ")
            .map(|c| c.trim_matches(['|', ' ']))
            .collect();
        if !line.starts_with("| ") || cells.len() != 3 || cells[0] == "Suite" {
            continue;
        }
        if section.starts_with("Deliberate") || section.starts_with("Open") {
            let key = (cells[0].to_string(), cells[1].replace("\\|", "|"));
            let old = out.insert(key.clone(), (section.clone(), cells[2].to_string()));
            assert!(old.is_none(), "{key:?} is listed twice");
        }
    }
    out
}

#[test]
fn the_charts_unit_tests_pass_or_are_listed_with_their_reason() {
    let mut listed = listed();
    let (mut pass, mut deliberate, mut open) = (0, 0, 0);
    let mut wrong: Vec<String> = Vec::new();
    for suite in suite::all() {
        for case in &suite.cases {
            let rendered = run(&suite.template, &case.values);
            let failure = case
                .asserts
                .iter()
                .find_map(|a| asserts::check(a, &rendered, case.selector.as_ref()).err());
            let entry = listed.remove(&(suite.name.clone(), case.it.clone()));
            match (failure, entry) {
                (None, None) => pass += 1,
                (None, Some(_)) => wrong.push(format!(
                    "{} / {}: passes now; remove it from docs/coming-from-glueops.md",
                    suite.name, case.it
                )),
                (Some(why), None) => wrong.push(format!("{} / {}: {why}", suite.name, case.it)),
                (Some(_), Some((section, _))) if section.starts_with("Deliberate") => {
                    deliberate += 1
                }
                (Some(_), Some(_)) => open += 1,
            }
        }
    }
    for (suite, case) in listed.keys() {
        wrong.push(format!(
            "{suite} / {case}: listed, but there is no such case"
        ));
    }
    // Written past the test harness's capture, so every `cargo test` run shows the figure.
    let summary =
        format!("chart conformance: {pass}/324 pass, {deliberate} deliberate, {open} failing\n");
    std::io::Write::write_all(&mut std::io::stderr(), summary.as_bytes()).unwrap();
    assert!(
        wrong.is_empty(),
        "{} cases:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        pass >= PASS_FLOOR,
        "{pass} pass, fewer than the {PASS_FLOOR} that passed before"
    );
}

//! Every PrometheusRule glueops renders (the demo repo, the progressive fixture, the GlueOps
//! chart's examples: the app's own alerts and glueops' defaults) passes `promtool check
//! rules` (Debian's `prometheus` package, unpacked into `.venv/` by glueops-testkit), and promtool rejects a
//! broken rule in the same run. The defaults are opt-out per app.

use std::path::Path;
use std::process::Command;

use glueops_model::{Repo, SourceTree};
use glueops_render::render;
use serde_json::Value;

/// Debian's promtool, unpacked into `.venv/promtool` on first use (the test fails with what
/// to install when it cannot be had).
fn promtool() -> std::path::PathBuf {
    glueops_testkit::oracle("promtool", "usr/bin/promtool")
}

/// `promtool check rules` on the `spec` of each rule (a `groups:` document each).
fn check_rules(dir: &Path, rules: &[(String, Value)]) -> (bool, String) {
    let mut files = Vec::new();
    for (n, (path, rule)) in rules.iter().enumerate() {
        let file = dir.join(format!("{n}.rules.yaml"));
        std::fs::write(&file, glueops_yaml::to_string(&rule["spec"]).unwrap()).unwrap();
        files.push((path, file));
    }
    let out = Command::new(promtool())
        .args(["check", "rules"])
        .args(files.iter().map(|(_, f)| f))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn rules_of(repo: &Repo) -> Vec<(String, Value)> {
    render(repo, &[])
        .unwrap()
        .iter()
        .filter(|m| m.object.kind() == "PrometheusRule")
        .map(|m| (m.path.clone(), serde_json::to_value(&m.object).unwrap()))
        .collect()
}

fn progressive() -> Repo {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/progressive");
    Repo::load(root).map_err(|d| d.to_string()).unwrap()
}

#[test]
fn rendered_rules_pass_promtool_and_a_broken_one_does_not() {
    let mut rules = rules_of(&crate::support::demo());
    rules.extend(rules_of(&progressive()));
    let alerts: Vec<&str> = rules
        .iter()
        .flat_map(|(_, r)| r["spec"]["groups"].as_array().unwrap().iter())
        .flat_map(|g| g["rules"].as_array().unwrap().iter())
        .filter_map(|r| r["alert"].as_str())
        .collect();
    for wanted in [
        "GlueopsPodCrashLooping",
        "GlueopsPodsBelowDisruptionBudget",
        "GlueopsAutoscalerAtMaximum",
        "GlueopsExternalSecretNotSynced",
        "CartSlowCheckout",
    ] {
        assert!(alerts.contains(&wanted), "no {wanted} among {alerts:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check_rules(dir.path(), &rules);
    assert!(ok, "promtool check rules failed:\n{text}");
    assert_eq!(text.matches("SUCCESS").count(), rules.len(), "{text}");

    // Live negative control: the same rules with one expression broken.
    let mut broken = rules.clone();
    broken[0].1["spec"]["groups"][0]["rules"][0]["expr"] = "sum(rate(up[5m])".into();
    let bad_dir = tempfile::tempdir().unwrap();
    let (ok, text) = check_rules(bad_dir.path(), &broken);
    assert!(!ok, "promtool accepted a broken expression:\n{text}");
}

#[test]
fn the_chart_examples_rules_pass_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let mut rules = Vec::new();
    for example in crate::chart_examples::EXAMPLES {
        if crate::chart_examples::REFUSED.contains(&example) {
            continue;
        }
        rules.extend(rules_of(&crate::chart_examples::load(example).unwrap()));
    }
    assert!(rules.len() >= 10, "only {} rules", rules.len());
    let (ok, text) = check_rules(dir.path(), &rules);
    assert!(ok, "promtool check rules failed:\n{text}");
}

#[test]
fn default_alerts_are_opt_out_and_previews_get_none() {
    let mut tree = SourceTree::new();
    for (path, text) in [
        (
            "glueops.yaml",
            "apiVersion: glueops.dev/v1alpha1\nkind: Platform\nmetadata: {name: acme}\nspec:\n  delivery: argocd\n  manifestRepo: {url: \"https://github.com/acme/m.git\"}\n  clusters: [{name: c, server: \"https://c.example:6443\", captainDomain: c.example}]\n  environments: [{name: staging, cluster: c}]\n  previews: {enabled: true, cluster: c}\n",
        ),
        (
            "common/common-values.yaml",
            "deployment:\n  resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 250m, memory: 128Mi}}\n",
        ),
        (
            "apps/quiet/base/base-values.yaml",
            "image: {repository: acme/quiet, tag: \"1.0\"}\ndeployment: {enabled: true}\nmonitoring: {defaultAlerts: false}\n",
        ),
        ("apps/quiet/envs/staging/values.yaml", ""),
        (
            "apps/loud/base/base-values.yaml",
            "image: {repository: acme/loud, tag: \"1.0\"}\ndeployment: {enabled: true}\n",
        ),
        ("apps/loud/envs/staging/values.yaml", ""),
        ("apps/loud/envs/previews/common/values.yaml", ""),
    ] {
        tree.insert(path, text);
    }
    let repo = Repo::from_sources(&tree)
        .map_err(|d| d.to_string())
        .unwrap();
    let previews = [glueops_render::PreviewRequest {
        app: "loud".into(),
        number: 3,
        head_sha: Some("abc1234".into()),
        branch: None,
    }];
    let paths: Vec<String> = render(&repo, &previews)
        .unwrap()
        .iter()
        .filter(|m| m.object.kind() == "PrometheusRule")
        .map(|m| m.path.clone())
        .collect();
    assert_eq!(
        paths,
        ["clusters/c/staging/loud/prometheusrule-loud-staging.yaml"]
    );
}

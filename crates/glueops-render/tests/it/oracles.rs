//! The rendered demo repo, checked by real third-party tools, installed from PyPI into
//! `.venv/` on first use: `kubernetes-validate --strict` (the Kubernetes 1.34 schemas) for every
//! core object, and `checkov` (security and best-practice policies) with a short, justified
//! skip list (tests/checkov-skips.txt).

use std::path::{Path, PathBuf};
use std::process::Command;

use glueops_render::{PreviewRequest, render};

/// Renders the demo (Argo CD and Flux, plus a preview) and the GlueOps-shaped example into
/// `dir`; returns the core files.
fn render_demo(dir: &Path) -> Vec<PathBuf> {
    let previews = [PreviewRequest {
        app: "web".into(),
        number: 42,
        head_sha: Some("4f2a9c1".into()),
        branch: None,
    }];
    let mut core = Vec::new();
    let glueops_config =
        glueops_model::Repo::load(crate::support::workspace().join("examples/glueops-config"))
            .map_err(|d| d.to_string())
            .unwrap();
    for (name, repo) in [
        ("argocd", crate::support::demo()),
        ("flux", crate::support::demo_flux()),
        ("glueops-config", glueops_config),
    ] {
        let set = render(&repo, &previews).unwrap();
        for m in set.iter() {
            let path = dir.join(name).join(&m.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, m.to_yaml().unwrap()).unwrap();
            if !m.object.is_custom() {
                core.push(path);
            }
        }
    }
    core
}

/// checkov skips hidden folders, and `tempfile`'s default names start with a dot.
pub(crate) fn visible_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("glueops-")
        .tempdir()
        .unwrap()
}

pub(crate) fn kubernetes_validate(files: &[PathBuf]) -> (bool, String) {
    let tool = crate::support::oracle("kubernetes-validate", "kubernetes-validate");
    let out = Command::new(tool)
        .args(["--strict", "-k", "1.34.0"])
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn core_objects_pass_kubernetes_validate_strict() {
    let dir = tempfile::tempdir().unwrap();
    let files = render_demo(dir.path());
    assert!(files.len() > 80, "only {} core objects", files.len());
    let (ok, text) = kubernetes_validate(&files);
    assert!(ok, "kubernetes-validate --strict -k 1.34.0 failed:\n{text}");
    let passed = text.matches("passed").count();
    assert_eq!(
        passed,
        files.len(),
        "every file must be reported as passed:\n{text}"
    );

    // The oracle is live: a typo'd field fails it.
    let bad = dir.path().join("bad.yaml");
    let deployment = std::fs::read_to_string(
        files
            .iter()
            .find(|f| f.ends_with("deployment-api.yaml"))
            .unwrap(),
    )
    .unwrap();
    std::fs::write(
        &bad,
        deployment.replace("imagePullPolicy", "imagePullPolicyy"),
    )
    .unwrap();
    let (ok, text) = kubernetes_validate(&[bad]);
    assert!(!ok, "a typo must fail strict validation:\n{text}");
}

pub(crate) fn skips() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/checkov-skips.txt"),
    )
    .unwrap();
    parse_skips(&text)
}

/// Check ids of a skip file: one per line, each with a `# reason` of some length.
pub(crate) fn parse_skips(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, why) = l
                .split_once('#')
                .unwrap_or_else(|| panic!("skip without a reason: {l}"));
            assert!(why.trim().len() > 20, "the reason for {id} is too short");
            id.trim().to_string()
        })
        .collect()
}

pub(crate) fn checkov(dir: &Path) -> serde_json::Value {
    checkov_with(dir, &skips())
}

/// checkov over `dir` with these checks skipped.
pub(crate) fn checkov_with(dir: &Path, skips: &[String]) -> serde_json::Value {
    let tool = crate::support::oracle("checkov", "checkov");
    let out = Command::new(tool)
        .args([
            "--framework",
            "kubernetes",
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
            "-d",
        ])
        .arg(dir)
        .args(["--skip-check", &skips.join(",")])
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub(crate) fn summary(report: &serde_json::Value) -> (u64, u64, Vec<String>) {
    let reports: Vec<&serde_json::Value> = match report {
        serde_json::Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let (mut passed, mut failed, mut ids) = (0, 0, Vec::new());
    for r in reports {
        passed += r["summary"]["passed"].as_u64().unwrap_or(0);
        failed += r["summary"]["failed"].as_u64().unwrap_or(0);
        for f in r["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            ids.push(format!(
                "{} {} ({})",
                f["check_id"].as_str().unwrap_or("?"),
                f["resource"].as_str().unwrap_or("?"),
                f["file_path"].as_str().unwrap_or("?")
            ));
        }
    }
    (passed, failed, ids)
}

#[test]
fn the_demo_render_passes_checkov() {
    let dir = visible_tempdir();
    render_demo(dir.path());
    let (passed, failed, ids) = summary(&checkov(dir.path()));
    assert!(passed > 1000, "checkov ran only {passed} checks");
    assert_eq!(failed, 0, "checkov failed checks:\n{}", ids.join("\n"));

    // The oracle is live: a Deployment without glueops' hardening fails it.
    let bare = visible_tempdir();
    std::fs::write(
        bare.path().join("deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bare, namespace: default}\nspec:\n  selector: {matchLabels: {app: bare}}\n  template:\n    metadata: {labels: {app: bare}}\n    spec:\n      containers: [{name: bare, image: nginx}]\n",
    )
    .unwrap();
    let (_, failed, _) = summary(&checkov(bare.path()));
    assert!(
        failed >= 10,
        "an unhardened Deployment must fail many checks, got {failed}"
    );
}

#[test]
fn a_yaml_1_1_reader_reads_back_every_string_as_written() {
    let tricky = [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Yes",
        "NO",
        "true",
        "False",
        "null",
        "~",
        "",
        "1.10",
        "1.4.2",
        "0755",
        "1_000",
        "0x1F",
        "0o17",
        "1e3",
        "2024-01-01",
        "2024-01-01T10:00:00Z",
        "1:20",
        "12:30:45",
        "-1",
        "+1",
        ".5",
        ".inf",
        ".NaN",
        "-",
        "- x",
        "? x",
        "a: b",
        "a #b",
        "#x",
        "*x",
        "&x",
        "!x",
        "|",
        ">",
        "%x",
        "@x",
        "`x",
        "{x}",
        "[x]",
        "x,y",
        "'q'",
        "\"q\"",
        " lead",
        "trail ",
        "multi\nline",
        "tab\tin",
        "back\\slash",
        "ünïcödé",
        "http://x/y?z=1&w=2",
        "50m",
    ];
    let data: std::collections::BTreeMap<String, String> = tricky
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("k{i:02}"), s.to_string()))
        .collect();
    let yaml = glueops_yaml::to_string(
        &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": data}),
    )
    .unwrap();
    let python = crate::support::oracle("kubernetes-validate", "python");
    let mut child = Command::new(python)
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)['data']))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), yaml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "PyYAML failed on:\n{yaml}");
    let back: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    for (k, v) in &data {
        assert_eq!(
            back[k],
            serde_json::Value::String(v.clone()),
            "PyYAML (YAML 1.1) misread {v:?} written as:\n{yaml}"
        );
    }
}

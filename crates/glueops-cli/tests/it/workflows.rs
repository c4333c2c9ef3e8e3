//! The action and the reusable workflows are checked by real linters: actionlint on every
//! workflow (with a negative control), the SchemaStore schemas of action and workflow files
//! (check-jsonschema's vendored copies), shellcheck on the action's scripts and on every
//! workflow's `run` blocks; and every call is checked against what it calls: the inputs a
//! step gives the action, the inputs and secrets a caller gives a reusable workflow.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    glueops_testkit::workspace()
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no workflows in {dir}");
    files
}

fn workflows() -> Vec<PathBuf> {
    let mut all = yaml_files(".github/workflows");
    all.extend(yaml_files("examples/ci"));
    all
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    glueops_yaml::deserialize(&text, glueops_yaml::Limits::Config)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn actionlint_passes_on_every_workflow_and_fails_a_broken_one() {
    let files = workflows();
    let out = glueops_testkit::actionlint(&files);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("{} file(s), 0 problem(s)", files.len())),
        "{}",
        text(&out)
    );
    // Negative control: a typo in an expression and in a permission.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    let good = std::fs::read_to_string(&files[0]).unwrap();
    let bad = good
        .replace(
            "github.event.pull_request.base.sha",
            "github.event.pull_requestt.base.sha",
        )
        .replace("contents: read", "contents: reed");
    assert_ne!(good, bad, "the control must break something");
    std::fs::write(&broken, bad).unwrap();
    let out = glueops_testkit::actionlint(&[broken]);
    assert!(!out.status.success(), "actionlint passed a broken workflow");
    assert!(text(&out).contains("\"reed\" is invalid"), "{}", text(&out));
}

#[test]
fn action_and_workflows_match_the_schemastore_schemas() {
    let check = glueops_testkit::oracle("check-jsonschema", "check-jsonschema");
    let out = Command::new(&check)
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(root().join("action.yml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "action.yml: {}", text(&out));
    let out = Command::new(&check)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(workflows())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // Negative control: an action without `runs`.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("action.yml");
    std::fs::write(&broken, "name: x\ndescription: y\n").unwrap();
    let out = Command::new(&check)
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success(), "an action without runs passed");
}

#[test]
fn shellcheck_passes_on_the_scripts_and_every_run_block() {
    let shellcheck = glueops_testkit::oracle("shellcheck", "shellcheck");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root().join("action"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    scripts.sort();
    assert_eq!(scripts.len(), 3, "{scripts:?}");
    // Each workflow's run blocks as the runner writes them (bash, expressions replaced by a
    // value the way the runner substitutes them before the shell sees the script).
    let dir = tempfile::tempdir().unwrap();
    for file in workflows() {
        let wf = load(&file);
        for (job_name, job) in wf["jobs"].as_object().unwrap() {
            for (i, step) in job["steps"].as_array().into_iter().flatten().enumerate() {
                if let Some(run) = step.get("run").and_then(Value::as_str) {
                    let script = dir.path().join(format!(
                        "{}-{job_name}-{i}.sh",
                        file.file_stem().unwrap().to_string_lossy()
                    ));
                    std::fs::write(
                        &script,
                        format!("#!/usr/bin/env bash\nset -eo pipefail\n{}", expand(run)),
                    )
                    .unwrap();
                    scripts.push(script);
                }
            }
        }
    }
    let out = Command::new(&shellcheck)
        .args(["--shell=bash", "--severity=style"])
        .args(&scripts)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// `${{ expr }}` replaced by a word, as the runner substitutes it.
fn expand(run: &str) -> String {
    let mut out = String::new();
    let mut rest = run;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").unwrap() + start;
        out.push_str("expression");
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_call_gives_what_it_calls_needs() {
    let action = load(&root().join("action.yml"));
    let action_inputs = action["inputs"].as_object().unwrap();
    let mut checked = (0, 0);
    for file in workflows() {
        let wf = load(&file);
        let name = file.display();
        for (job_name, job) in wf["jobs"].as_object().unwrap() {
            // A job that calls a reusable workflow of this repository.
            if let Some(uses) = job.get("uses").and_then(Value::as_str) {
                let path = uses
                    .strip_prefix("glueops/glueops/")
                    .and_then(|p| p.split_once('@'))
                    .map(|(p, _)| p)
                    .unwrap_or_else(|| panic!("{name}: {job_name} calls {uses}"));
                let called = load(&root().join(path));
                let call = &called["on"]["workflow_call"];
                check_given(
                    &format!("{name}: {job_name}"),
                    &call["inputs"],
                    &job["with"],
                );
                check_given(
                    &format!("{name}: {job_name} secrets"),
                    &call["secrets"],
                    &job["secrets"],
                );
                checked.0 += 1;
            }
            for step in job["steps"].as_array().into_iter().flatten() {
                let Some(uses) = step.get("uses").and_then(Value::as_str) else {
                    continue;
                };
                if uses.starts_with("glueops/glueops@") {
                    let given = step["with"].as_object().cloned().unwrap_or_default();
                    for key in given.keys() {
                        assert!(
                            action_inputs.contains_key(key),
                            "{name}: {job_name}: the action has no input `{key}`"
                        );
                    }
                    for (key, spec) in action_inputs {
                        if spec["required"] == Value::Bool(true) {
                            assert!(
                                given.contains_key(key),
                                "{name}: {job_name}: required input `{key}` missing"
                            );
                        }
                    }
                    checked.1 += 1;
                }
            }
        }
    }
    assert_eq!(checked, (3, 5), "calls checked (workflows, action steps)");
}

/// Every key given is declared; every required one is given.
fn check_given(what: &str, declared: &Value, given: &Value) {
    let declared = declared.as_object().cloned().unwrap_or_default();
    let given = given.as_object().cloned().unwrap_or_default();
    for key in given.keys() {
        assert!(
            declared.contains_key(key),
            "{what}: `{key}` is not declared by the called workflow"
        );
    }
    for (key, spec) in &declared {
        if spec["required"] == Value::Bool(true) {
            assert!(
                given.contains_key(key),
                "{what}: required `{key}` not given"
            );
        }
    }
}

//! `write_tree` writes only changed files, removes stale ones under `clusters/`, never leaves
//! the output folder, and the `render` example writes nothing for a bad config repo.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::Command;

use glueops::{Error, write_tree};

fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

#[test]
fn writes_only_what_changed_and_removes_what_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let first = files(&[
        ("clusters/a/x.yaml", "x: 1\n"),
        ("clusters/a/y.yaml", "y: 1\n"),
        ("README.md", "keep\n"),
    ]);
    let s = write_tree(dir.path(), &first, |_| {}).unwrap();
    assert_eq!((s.written, s.unchanged, s.removed), (3, 0, 0));
    std::fs::write(dir.path().join("notes.yaml"), "not ours\n").unwrap();

    let second = files(&[("clusters/a/x.yaml", "x: 2\n"), ("README.md", "keep\n")]);
    let s = write_tree(dir.path(), &second, |_| {}).unwrap();
    assert_eq!((s.written, s.unchanged, s.removed), (1, 1, 1));
    assert!(!dir.path().join("clusters/a/y.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("clusters/a/x.yaml")).unwrap(),
        "x: 2\n"
    );
    assert!(
        dir.path().join("notes.yaml").exists(),
        "files outside clusters/ are never removed"
    );
}

#[test]
fn refuses_paths_that_leave_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["../escape.yaml", "/etc/passwd", "clusters//x.yaml"] {
        let err = write_tree(dir.path(), &files(&[(bad, "x\n")]), |_| {}).unwrap_err();
        assert!(matches!(err, Error::UnsafePath { .. }), "{bad}: {err}");
    }
}

#[test]
fn the_render_example_writes_nothing_for_a_bad_repo() {
    let src = tempfile::tempdir().unwrap();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-config");
    let copy = Command::new("cp")
        .arg("-r")
        .arg(demo)
        .arg(src.path().join("repo"))
        .status()
        .unwrap();
    assert!(copy.success());
    let values = src.path().join("repo/apps/api/envs/production/values.yaml");
    std::fs::write(&values, "image: {tag: 1.4.2}\ndeployment: {replica: 3}\n").unwrap();
    let out = src.path().join("out");
    let status = Command::new(env!("CARGO"))
        .args(["run", "-q", "--example", "render", "--"])
        .arg(src.path().join("repo"))
        .arg("--out")
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(
        stderr.contains("apps/api/envs/production/values.yaml:2:14"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `replicas`?"), "{stderr}");
    assert!(!out.exists(), "nothing may be written");
}

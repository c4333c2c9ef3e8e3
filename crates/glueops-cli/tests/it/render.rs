//! `glueops render`: the demo repo's objects, written once, rewritten never; a bad repo
//! writes nothing; previews and streams.

use std::ffi::OsStr;

use crate::{demo, demo_copy, glueops, stderr, stdout};

#[test]
fn renders_the_demo_repo_and_writes_nothing_the_second_time() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("manifests");
    let demo = demo();
    let args = [
        OsStr::new("render"),
        demo.as_os_str(),
        OsStr::new("--out"),
        dir.as_os_str(),
    ];
    let first = glueops(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    let text = stdout(&first);
    assert!(
        text.contains(
            "64 objects from 8 deployments and 0 previews; 64 files written, 0 unchanged"
        ),
        "{text}"
    );
    assert!(text.contains("Deployment "), "{text}");
    let deployment = dir.join("clusters/prod/production/api/deployment-api.yaml");
    assert!(
        std::fs::read_to_string(&deployment)
            .unwrap()
            .contains("kind: Deployment")
    );

    let again = glueops(&args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("0 files written, 64 unchanged, 0 removed"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn a_preview_and_a_stream() {
    let out = tempfile::tempdir().unwrap();
    let stream = out.path().join("all.yaml");
    let run = glueops(&[
        OsStr::new("render"),
        demo().as_os_str(),
        OsStr::new("--preview"),
        OsStr::new("web:42:4f2a9c1"),
        OsStr::new("--stream"),
        stream.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = std::fs::read_to_string(&stream).unwrap();
    assert!(text.starts_with("---\n"), "a `---` stream");
    assert!(
        text.contains("image: ghcr.io/acme/web:4f2a9c1"),
        "the preview runs its head commit"
    );
    assert!(stdout(&run).contains("and 1 previews"), "{}", stdout(&run));

    let bad = glueops(&[
        OsStr::new("render"),
        demo().as_os_str(),
        OsStr::new("--preview"),
        OsStr::new("web:seven"),
        OsStr::new("--stream"),
        stream.as_os_str(),
    ]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a bad --preview is a usage error"
    );
    assert!(
        stderr(&bad).contains("`web:seven` is not <app>:<pull-request number>[:<head sha>]"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_bad_repo_is_reported_located_and_nothing_is_written() {
    let (src, repo) = demo_copy();
    let values = repo.join("apps/api/envs/production/values.yaml");
    std::fs::write(&values, "image: {tag: 1.4.2}\ndeployment: {replica: 3}\n").unwrap();
    let out = src.path().join("out");
    let run = glueops(&[
        OsStr::new("render"),
        repo.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(
        err.contains("apps/api/envs/production/values.yaml:2:14"),
        "{err}"
    );
    assert!(err.contains("did you mean `replicas`?"), "{err}");
    assert!(!out.exists(), "nothing may be written");
}

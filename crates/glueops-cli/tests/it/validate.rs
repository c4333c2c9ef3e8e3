//! `glueops validate` and `glueops explain` on the demo repo and on broken input.

use std::ffi::OsStr;

use crate::{demo, demo_copy, glueops, stderr, stdout};

#[test]
fn validate_prints_every_deployment_and_preview() {
    let run = glueops(&[OsStr::new("validate"), demo().as_os_str()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = stdout(&run);
    let header = text.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["APP", "ENVIRONMENT", "REPLICAS", "IMAGE", "HOSTNAMES"]
    );
    let api = text
        .lines()
        .find(|l| l.starts_with("api ") && l.contains("production"))
        .unwrap();
    assert!(api.contains("ghcr.io/acme/api:"), "{api}");
    assert!(text.lines().any(|l| l.contains("preview #")), "{text}");
    assert!(text.trim_end().ends_with("valid"), "{text}");
}

#[test]
fn validate_fails_with_every_problem_located() {
    let (_dir, repo) = demo_copy();
    std::fs::write(
        repo.join("apps/api/envs/staging/values.yaml"),
        "deployment: {replica: 2}\nimage: {tagg: x}\n",
    )
    .unwrap();
    let run = glueops(&[OsStr::new("validate"), repo.as_os_str()]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(
        err.contains("apps/api/envs/staging/values.yaml:1:14"),
        "{err}"
    );
    assert!(
        err.contains("apps/api/envs/staging/values.yaml:2:9"),
        "{err}"
    );
    assert!(stdout(&run).is_empty(), "no table for a bad repo");
}

#[test]
fn explain_shows_where_each_value_came_from() {
    let run = glueops(&[
        OsStr::new("explain"),
        demo().as_os_str(),
        OsStr::new("api"),
        OsStr::new("production"),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = stdout(&run);
    assert!(
        text.contains("# apps/api/envs/production/values.yaml:"),
        "{text}"
    );
    assert!(text.contains("# apps/api/base/base-values.yaml:"), "{text}");

    let preview = glueops(&[
        OsStr::new("explain"),
        demo().as_os_str(),
        OsStr::new("web"),
        OsStr::new("pr-42"),
    ]);
    assert!(preview.status.success(), "{}", stderr(&preview));
    assert!(
        stdout(&preview).contains("previews/"),
        "{}",
        stdout(&preview)
    );

    let missing = glueops(&[
        OsStr::new("explain"),
        demo().as_os_str(),
        OsStr::new("api"),
        OsStr::new("qa"),
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("`api` is not deployed to `qa`; deployments: "),
        "{}",
        stderr(&missing)
    );

    let bad = glueops(&[
        OsStr::new("explain"),
        demo().as_os_str(),
        OsStr::new("web"),
        OsStr::new("pr-x"),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("`pr-x` is not pr-<pull-request number>"),
        "{}",
        stderr(&bad)
    );
}

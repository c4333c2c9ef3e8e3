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

/// A repo laid out the GlueOps way (examples/glueops-config): environments stage and qa share
/// the nonprod namespace, env-overlays/ keyed by namespace, the ingress class set once at the
/// top of `ingress`, objects named `<app>-<env>`.
fn glueops_config() -> std::path::PathBuf {
    glueops_testkit::workspace().join("examples/glueops-config")
}

#[test]
fn a_glueops_shaped_repo_validates_clean() {
    let run = glueops(&[OsStr::new("validate"), glueops_config().as_os_str()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = stdout(&run);
    assert!(
        text.trim_end()
            .ends_with("9 apps, 26 deployments, 0 previews: valid"),
        "{text}"
    );
    let api_qa = text
        .lines()
        .find(|l| l.starts_with("api ") && l.contains(" qa "))
        .unwrap();
    assert!(
        api_qa.contains("api-qa.apps.nonprod.acme.onglueops.rocks"),
        "{api_qa}"
    );
    let dir = tempfile::tempdir().unwrap();
    let run = glueops(&[
        OsStr::new("render"),
        glueops_config().as_os_str(),
        OsStr::new("--out"),
        dir.path().as_os_str(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let stage = dir.path().join("clusters/nonprod/stage/api");
    let deployment = std::fs::read_to_string(stage.join("deployment-api-stage.yaml")).unwrap();
    assert!(deployment.contains("namespace: nonprod"), "{deployment}");
    assert!(
        deployment.contains("cpu: 25m"),
        "the nonprod overlay applies:\n{deployment}"
    );
    let ingress = std::fs::read_to_string(stage.join("ingress-api-stage-public.yaml")).unwrap();
    assert!(ingress.contains("ingressClassName: public"), "{ingress}");
    assert!(
        dir.path()
            .join("clusters/nonprod/qa/api/deployment-api-qa.yaml")
            .exists()
    );
}

#[test]
fn an_overlay_folder_no_namespace_matches_is_a_warning_naming_the_namespaces() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(glueops_config())
        .arg(&repo)
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::rename(
        repo.join("env-overlays/nonprod"),
        repo.join("env-overlays/stage"),
    )
    .unwrap();
    // GlueOps' ApplicationSet never reads it: a warning, and the repo loads.
    let run = glueops(&[OsStr::new("validate"), repo.as_os_str()]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning[undeclared]: no environment runs in namespace `stage`"),
        "{err}"
    );
    assert!(err.contains("nonprod, prod"), "{err}");
}

/// An app may not render cluster-scoped objects the platform does not allow, nor objects in
/// another namespace: both located at the entry. Allowed by `spec.clusterScopedKinds` and
/// without the foreign namespace, the same entries load (positive control).
#[test]
fn apps_render_only_in_their_namespace_and_allowed_cluster_kinds() {
    let (_dir, repo) = demo_copy();
    let values = repo.join("apps/api/envs/staging/values.yaml");
    let with = |binding_ns: &str| {
        format!(
            "image: {{tag: 2.8.0}}\ncustomResources:\n  - |\n    apiVersion: rbac.authorization.k8s.io/v1\n    kind: ClusterRoleBinding\n    metadata: {{name: take-over}}\n    roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\n    subjects: [{{kind: ServiceAccount, name: api, namespace: staging}}]\n  - |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {{name: planted{binding_ns}}}\n    data: {{a: b}}\n"
        )
    };
    std::fs::write(&values, with(", namespace: kube-system")).unwrap();
    let run = glueops(&[OsStr::new("validate"), repo.as_os_str()]);
    assert_eq!(run.status.code(), Some(1), "{}", stdout(&run));
    let err = stderr(&run);
    assert!(
        err.contains("apps/api/envs/staging/values.yaml:4:"),
        "{err}"
    );
    assert!(
        err.contains("`ClusterRoleBinding/take-over` is cluster-scoped"),
        "{err}"
    );
    assert!(
        err.contains("apps/api/envs/staging/values.yaml:10:"),
        "{err}"
    );
    assert!(err.contains("names the namespace `kube-system`"), "{err}");

    std::fs::write(&values, with("")).unwrap();
    let platform = repo.join("glueops.yaml");
    let text = std::fs::read_to_string(&platform).unwrap();
    let allowed = text.replacen(
        "spec:\n",
        "spec:\n  clusterScopedKinds: [ClusterRoleBinding]\n",
        1,
    );
    assert_ne!(text, allowed, "glueops.yaml has a `spec:` line");
    std::fs::write(&platform, allowed).unwrap();
    let run = glueops(&[OsStr::new("validate"), repo.as_os_str()]);
    assert!(run.status.success(), "{}", stderr(&run));
}

/// A preview that inherits a store key of a non-preview environment is refused, located
/// where the key is set, at validate and when a pull request's preview is rendered; with
/// its own preview key it renders (positive control).
#[test]
fn a_preview_never_reads_the_secrets_of_another_environment() {
    let (dir, repo) = demo_copy();
    let previews = repo.join("apps/api/envs/previews/common/values.yaml");
    let own = std::fs::read_to_string(&previews).unwrap();
    assert!(own.contains("api/db-preview"), "{own}");
    std::fs::write(&previews, own.replace("api/db-preview", "api/db")).unwrap();
    // A pull request with values of its own is loaded (and checked) with the repo.
    let pr = repo.join("apps/api/envs/previews/pull-request-number/12");
    std::fs::create_dir_all(&pr).unwrap();
    std::fs::write(
        pr.join("values.yaml"),
        "# PR 12 changes nothing but the code.\n",
    )
    .unwrap();
    let run = glueops(&[OsStr::new("validate"), repo.as_os_str()]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(err.contains("would read the store key `api/db`"), "{err}");
    assert!(
        err.contains("apps/api/envs/previews/common/values.yaml:3:"),
        "{err}"
    );
    let out = dir.path().join("out");
    let render = |repo: &std::path::Path| {
        glueops(&[
            OsStr::new("render"),
            repo.as_os_str(),
            OsStr::new("--preview"),
            OsStr::new("api:77:4f2a9c1"),
            OsStr::new("--out"),
            out.as_os_str(),
        ])
    };
    let refused = render(&repo);
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains("would read the store key `api/db`"),
        "{}",
        stderr(&refused)
    );

    std::fs::write(&previews, own).unwrap();
    let run = glueops(&[OsStr::new("validate"), repo.as_os_str()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let ok = render(&repo);
    assert!(ok.status.success(), "{}", stderr(&ok));
}

/// A template that does not render is reported at the `{{` of each failing action, inside a
/// block scalar too, once per action.
#[test]
fn template_errors_point_at_each_failing_action() {
    let (_dir, repo) = demo_copy();
    std::fs::write(
        repo.join("apps/api/envs/staging/values.yaml"),
        "image: {tag: 1.5.0}\ncustomResources:\n  - |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: {{ include \"app.name\" . }}-x}\n    data:\n      home: {{ env \"HOME\" }}\n      when: \"{{ now }}\"\ningress:\n  enabled: true\n  entries: [{name: public, hosts: [{hostname: 'api.{{ .Values.nope }}.example'}]}]\n",
    )
    .unwrap();
    let run = glueops(&[OsStr::new("validate"), repo.as_os_str()]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    for at in [
        "apps/api/envs/staging/values.yaml:8:13",
        "apps/api/envs/staging/values.yaml:9:14",
        "apps/api/envs/staging/values.yaml:12:52",
    ] {
        assert!(err.contains(at), "{at} not in:\n{err}");
    }
    assert_eq!(err.matches("error[template]").count(), 3, "{err}");
}

/// An app that has only previews is checked too: its broken preview template fails
/// validate, located; fixed, it passes.
#[test]
fn a_preview_only_app_is_validated_with_a_sample_pull_request() {
    let (_dir, repo) = demo_copy();
    let values = repo.join("apps/previewonly/envs/previews/common/values.yaml");
    std::fs::create_dir_all(values.parent().unwrap()).unwrap();
    let write = |key: &str| {
        let text = format!(
            "image: {{repository: acme/po}}\ndeployment: {{enabled: true}}\ningress:\n  enabled: true\n  entries: [{{name: public, hosts: [{{hostname: \"po-{{{{ .Values.{key} | trunc 7 }}}}.example.com\"}}]}}]\n"
        );
        std::fs::write(&values, text).unwrap();
    };
    write("nope");
    let run = glueops(&[OsStr::new("validate"), repo.as_os_str()]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("apps/previewonly/envs/previews/common/values.yaml:5:51"),
        "{}",
        stderr(&run)
    );
    write("image.tag");
    let run = glueops(&[OsStr::new("validate"), repo.as_os_str()]);
    assert!(run.status.success(), "{}", stderr(&run));
}

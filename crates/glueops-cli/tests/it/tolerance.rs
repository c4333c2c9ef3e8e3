//! What GlueOps itself tolerates loads with a warning (located, like an error, exit 0;
//! `--deny-warnings` makes it fail): keys no chart template reads, files GlueOps never reads,
//! overlay folders no environment uses, preview values without preview defaults. A near miss
//! of a known key or file name stays an error, and so does a plaintext Secret.

use std::ffi::OsStr;
use std::path::Path;

use crate::{demo_copy, glueops, stderr, stdout};

fn validate(repo: &Path, deny: bool) -> std::process::Output {
    let mut args = vec![OsStr::new("validate"), repo.as_os_str()];
    if deny {
        args.push(OsStr::new("--deny-warnings"));
    }
    glueops(&args)
}

fn render(repo: &Path, out: &Path) -> std::process::Output {
    glueops(&[
        OsStr::new("render"),
        repo.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
    ])
}

fn append(file: &Path, text: &str) {
    let mut old = std::fs::read_to_string(file).unwrap_or_default();
    old.push_str(text);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, old).unwrap();
}

#[test]
fn what_glueops_tolerates_is_a_located_warning_and_deny_warnings_fails_on_it() {
    let (_dir, repo) = demo_copy();
    let staging = repo.join("apps/api/envs/staging/values.yaml");
    std::fs::write(
        &staging,
        "image: {tag: 1.5.0-rc.1, pullPolicy: IfNotPresent}\nteamOwner: payments\n",
    )
    .unwrap();
    append(
        &repo.join("apps/api/envs/staging/env-values.yaml"),
        "# nothing yet\n",
    );
    append(
        &repo.join("env-overlays/qa-sandbox/env-values.yaml"),
        "deployment: {replicas: 1}\n",
    );
    let pr = repo.join("apps/reports/envs/previews/pull-request-number/9/values.yaml");
    append(&pr, "# reports PR 9\n");
    let run = validate(&repo, false);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    for (needle, at) in [
        (
            "warning[unknown-key]: unknown key `pullPolicy` in `image`",
            "apps/api/envs/staging/values.yaml:1:26",
        ),
        (
            "warning[unknown-key]: unknown key `teamOwner` at the top level",
            "apps/api/envs/staging/values.yaml:2:1",
        ),
        (
            "warning[unexpected-file]",
            "apps/api/envs/staging/env-values.yaml",
        ),
        (
            "warning[undeclared]: no environment runs in namespace `qa-sandbox`",
            "env-overlays/qa-sandbox/env-values.yaml",
        ),
        (
            "warning[unexpected-file]: pull-request values for `reports`",
            "apps/reports/envs/previews/pull-request-number/9/values.yaml",
        ),
    ] {
        assert!(err.contains(needle), "{needle} not in:\n{err}");
        assert!(err.contains(at), "{at} not in:\n{err}");
    }
    assert!(
        err.contains("warning: the config repo has 5 warnings"),
        "{err}"
    );
    assert!(
        stdout(&run).contains("reports") && stdout(&run).contains("preview #9"),
        "{}",
        stdout(&run)
    );
    assert!(
        stdout(&run).contains("valid, 5 warnings"),
        "{}",
        stdout(&run)
    );
    let denied = validate(&repo, true);
    assert_eq!(denied.status.code(), Some(1), "{}", stderr(&denied));
    // The ignored key is not rendered: the chart reads no imagePullPolicy from it.
    let out = repo.parent().unwrap().join("out");
    let render = render(&repo, &out);
    assert!(render.status.success(), "{}", stderr(&render));
    assert!(
        stderr(&render).contains("warning[unknown-key]"),
        "{}",
        stderr(&render)
    );
}

#[test]
fn near_misses_and_plaintext_secrets_stay_errors() {
    let (_dir, repo) = demo_copy();
    let staging = repo.join("apps/api/envs/staging/values.yaml");
    for (text, needle) in [
        ("image: {tagg: 1.5.0}\n", "did you mean `tag`?"),
        (
            "image: {tag: 1.5.0}\ningres: {enabled: true}\n",
            "did you mean `ingress`?",
        ),
        (
            "image: {tag: 1.5.0}\ncustomResources:\n  - |\n    apiVersion: v1\n    kind: Secret\n    metadata: {name: db}\n    stringData: {password: hunter2}\n",
            "error[plaintext-secret]: `Secret/db` puts plaintext secret values in git",
        ),
    ] {
        std::fs::write(&staging, text).unwrap();
        let run = validate(&repo, false);
        assert_eq!(run.status.code(), Some(1), "{text}");
        assert!(
            stderr(&run).contains(needle),
            "{needle} not in:\n{}",
            stderr(&run)
        );
    }
    std::fs::remove_file(&staging).unwrap();
    append(
        &repo.join("apps/api/envs/staging/values.yml"),
        "image: {tag: 1.5.0}\n",
    );
    let typo = validate(&repo, false);
    assert_eq!(typo.status.code(), Some(1));
    assert!(
        stderr(&typo).contains("rename it to `values.yaml`"),
        "{}",
        stderr(&typo)
    );
}

/// `image.tag` written as a YAML number renders as written: `5.6` as Helm would too, `1.10`
/// as written where Helm would print `1.1` (with a warning saying so).
#[test]
fn a_numeric_tag_renders_as_written() {
    let (dir, repo) = demo_copy();
    let staging = repo.join("apps/api/envs/staging/values.yaml");
    let out = dir.path().join("out");
    let render_tag = |tag: &str| {
        std::fs::write(&staging, format!("image: {{tag: {tag}}}\n")).unwrap();
        let run = render(&repo, &out);
        assert!(run.status.success(), "{}", stderr(&run));
        let deployment =
            std::fs::read_to_string(out.join("clusters/nonprod/staging/api/deployment-api.yaml"))
                .unwrap();
        (deployment, stderr(&run))
    };
    let (deployment, warnings) = render_tag("5.6");
    assert!(
        deployment.contains("image: ghcr.io/acme/api:5.6"),
        "{deployment}"
    );
    assert!(!warnings.contains("warning"), "{warnings}");
    let (deployment, warnings) = render_tag("1.10");
    assert!(
        deployment.contains("image: ghcr.io/acme/api:1.10"),
        "{deployment}"
    );
    assert!(
        warnings.contains("Helm would render it as `1.1`"),
        "{warnings}"
    );
    assert!(
        warnings.contains("apps/api/envs/staging/values.yaml:1:14"),
        "{warnings}"
    );
}

/// A pull secret nothing creates is a warning at the key that names it; a Secret the app's
/// externalSecret creates, or one glueops.yaml lists as provided, is not.
#[test]
fn a_pull_secret_nothing_creates_is_a_warning() {
    let (_dir, repo) = demo_copy();
    let staging = repo.join("apps/api/envs/staging/values.yaml");
    std::fs::write(&staging, "image: {tag: 1.5.0, pullSecrets: regcred}\n").unwrap();
    let run = validate(&repo, false);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(
        err.contains("`api-staging` pulls its image with the Secret `regcred`"),
        "{err}"
    );
    assert!(
        err.contains("apps/api/envs/staging/values.yaml:1:"),
        "{err}"
    );
    // Created by the app itself: no warning.
    std::fs::write(
        &staging,
        "image: {tag: 1.5.0, pullSecrets: regcred}\nexternalSecret:\n  secrets: {registry: {name: regcred, type: kubernetes.io/dockerconfigjson, dataFrom: {key: api/registry}}}\n",
    )
    .unwrap();
    let run = validate(&repo, true);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    // Provided by the platform: no warning either.
    std::fs::write(&staging, "image: {tag: 1.5.0, pullSecrets: regcred}\n").unwrap();
    let platform = repo.join("glueops.yaml");
    let text = std::fs::read_to_string(&platform).unwrap();
    std::fs::write(
        &platform,
        text.replacen("spec:\n", "spec:\n  providedSecrets: [regcred]\n", 1),
    )
    .unwrap();
    let run = validate(&repo, true);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
}

/// App folders are named after repositories and need not be DNS labels: objects take the
/// name GlueOps derives (lowercase, `_` and `.` as `-`) with a warning; two folders that
/// derive one name are an error naming both.
#[test]
fn app_folders_are_normalised_as_glueops_does() {
    let (dir, repo) = demo_copy();
    std::fs::rename(repo.join("apps/worker"), repo.join("apps/Worker.Queue_x")).unwrap();
    let run = validate(&repo, false);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(
        err.contains("its objects are named `worker-queue-x`"),
        "{err}"
    );
    let out = dir.path().join("out");
    let render = render(&repo, &out);
    assert!(render.status.success(), "{}", stderr(&render));
    // The release (and Application) name comes from the folder; the manifest path keeps it.
    let application = out.join("clusters/nonprod/argocd/application-worker-queue-x-staging.yaml");
    let text = std::fs::read_to_string(&application).unwrap();
    assert!(text.contains("name: worker-queue-x-staging"), "{text}");
    assert!(
        text.contains("path: clusters/nonprod/staging/Worker.Queue_x"),
        "{text}"
    );

    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(repo.join("apps/Worker.Queue_x"))
        .arg(repo.join("apps/worker-queue-x"))
        .status()
        .unwrap();
    assert!(copied.success());
    let clash = validate(&repo, false);
    assert_eq!(clash.status.code(), Some(1));
    assert!(
        stderr(&clash).contains("app folders `Worker.Queue_x` and `worker-queue-x` both name their objects `worker-queue-x`"),
        "{}",
        stderr(&clash)
    );
}

//! The platform loop end to end through the binary, on the demo repo and real git remotes:
//! sync, a one-app change, a preview opened and closed, a bump, a promotion refused by the
//! window and the approvals then released, a rollback, drift, and the DORA figures.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use glueops_testkit::repos::{Repos, git};

use crate::{demo, glueops};

/// Runs `glueops <args> --config C --manifests M --cache K --now <now>`.
fn run(repos: &Repos, args: &[&str], now: &str) -> Output {
    let mut all: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let with_manifests = !matches!(args.first(), Some(&"bump" | &"dora" | &"diff"));
    if args.first() != Some(&"dora") {
        all.extend([OsStr::new("--config"), repos.config.as_os_str()]);
    }
    if with_manifests {
        all.extend([OsStr::new("--manifests"), repos.manifests.as_os_str()]);
    }
    all.extend([OsStr::new("--cache"), repos.cache.as_os_str()]);
    all.extend([OsStr::new("--now"), OsStr::new(now)]);
    glueops(&all)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Files changed by the manifest branch's last commit.
fn last_change(repos: &Repos) -> Vec<String> {
    git(&repos.manifests, &["diff", "--name-only", "main~1", "main"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn show(repos: &Repos, path: &str) -> String {
    git(&repos.manifests, &["show", &format!("main:{path}")])
}

const STAGING: &str = "clusters/nonprod/staging/api/deployment-api.yaml";
const PRODUCTION: &str = "clusters/prod/production/api/deployment-api.yaml";

#[test]
fn the_whole_loop_on_the_demo_repo() {
    let dir = tempfile::tempdir().unwrap();
    let repos = Repos::new(dir.path(), &demo());
    // A Friday: the first sync releases the config as it stands (the baseline).
    let out = run(&repos, &["sync"], "2026-11-27T08:00:00Z");
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        text(&out).contains("added    api/production at 1.4.2"),
        "{}",
        text(&out)
    );
    let again = run(&repos, &["sync"], "2026-11-27T08:01:00Z");
    assert!(
        text(&again).contains("nothing to change"),
        "{}",
        text(&again)
    );
    assert_eq!(repos.manifest_commits(), 1, "a second sync commits nothing");

    // One app's staging values change: exactly that deployment's files change.
    repos.change_config("api: trace logs in staging", |work| {
        let path = work.join("apps/api/envs/staging/values.yaml");
        let values = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, values.replace("value: debug", "value: trace")).unwrap();
    });
    let out = run(&repos, &["sync"], "2026-11-27T09:00:00Z");
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(last_change(&repos), vec![STAGING.to_string()]);

    // A preview opened then closed leaves the tree byte for byte as it was.
    let before = repos.manifest_tree();
    let out = run(
        &repos,
        &[
            "preview", "open", "--app", "web", "--pr", "42", "--sha", "4f2a9c1",
        ],
        "2026-11-27T10:00:00Z",
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        show(
            &repos,
            "clusters/nonprod/previews/web-pr-42/deployment-web.yaml"
        )
        .contains(":4f2a9c1")
    );
    assert!(
        last_change(&repos)
            .iter()
            .all(|p| p.contains("web-pr-42") || p.ends_with("appproject-previews.yaml"))
    );
    let out = run(
        &repos,
        &["preview", "close", "--app", "web", "--pr", "42"],
        "2026-11-27T10:30:00Z",
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(repos.manifest_tree(), before);

    // Bump staging: the values file differs in one line; the staging Deployment runs the tag.
    let out = run(
        &repos,
        &[
            "bump",
            "--app",
            "api",
            "--env",
            "staging",
            "--tag",
            "1.5.0",
            "--source-commit",
            "4f2a9c1d0e5b",
            "--source-time",
            "2026-11-27T10:30:00Z",
            "--manifests",
            &repos.manifests.to_string_lossy(),
        ],
        "2026-11-27T11:00:00Z",
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let edit = git(
        &repos.config,
        &[
            "diff",
            "-U0",
            "main~1",
            "main",
            "--",
            "apps/api/envs/staging/values.yaml",
        ],
    );
    let lines: Vec<&str> = edit
        .lines()
        .filter(|l| l.starts_with(['+', '-']) && !l.starts_with("+++") && !l.starts_with("---"))
        .collect();
    assert_eq!(
        lines,
        vec!["-image: {tag: 1.5.0-rc.1}", "+image: {tag: 1.5.0}"]
    );
    assert!(show(&repos, STAGING).contains("image: ghcr.io/acme/api:1.5.0\n"));

    // Promote on a Saturday: held by the window, named with its next opening.
    let promote = ["promote", "--app", "api", "--to", "production"];
    let out = run(&repos, &promote, "2026-11-28T12:00:00Z");
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(text(&out).contains("outside the deploy windows (Mon,Tue,Wed,Thu 09:00-16:00 Europe/Berlin); the next opens Mon 2026-11-30 09:00 CET"), "{}", text(&out));
    // Tuesday 10:00 in Berlin without approval, then with someone who may not approve.
    let out = run(&repos, &promote, "2026-12-01T09:00:00Z");
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        text(&out).contains("needs 1 more approval (of 1) from alice, bob"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("deploy windows"), "{}", text(&out));
    let mallory = [&promote[..], &["--approved-by", "mallory"]].concat();
    let out = run(&repos, &mallory, "2026-12-01T09:00:00Z");
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        text(&out).contains("`mallory` may not approve"),
        "{}",
        text(&out)
    );
    assert!(
        show(&repos, PRODUCTION).contains("api:1.4.2"),
        "nothing was released"
    );
    let alice = [&promote[..], &["--approved-by", "alice"]].concat();
    let out = run(&repos, &alice, "2026-12-01T09:00:00Z");
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(show(&repos, PRODUCTION).contains("image: ghcr.io/acme/api:1.5.0\n"));
    let message = git(&repos.manifests, &["log", "-1", "--format=%B", "main"]);
    assert!(
        message
            .contains("Glueops-Promotion: api/production from=staging tag=1.5.0 approved-by=alice"),
        "{message}"
    );

    // Roll back: the previous tag, at once, gates bypassed.
    let out = run(
        &repos,
        &[
            "rollback",
            "--app",
            "api",
            "--env",
            "production",
            "--reason",
            "p99 doubled",
        ],
        "2026-12-01T09:30:00Z",
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(text(&out).contains("bypassed"), "{}", text(&out));
    assert!(show(&repos, PRODUCTION).contains("image: ghcr.io/acme/api:1.4.2\n"));
    let message = git(&repos.manifests, &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains("Glueops-Rollback: api/production to=1.4.2 reason=p99 doubled"),
        "{message}"
    );

    // No drift; then a hand edit in the manifest repo is drift, named.
    let out = run(&repos, &["drift"], "2026-12-01T10:00:00Z");
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(text(&out).contains("drift: none"), "{}", text(&out));
    hand_edit(&repos, dir.path(), PRODUCTION);
    let out = run(&repos, &["drift", "--diff"], "2026-12-01T10:05:00Z");
    assert_eq!(code(&out), 4, "{}", text(&out));
    assert!(
        text(&out).contains(&format!("differs  {PRODUCTION}")),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("-          value: debug\n+          value: info"),
        "{}",
        text(&out)
    );
    // The next sync restores the file (a gated deployment too: its config did not change),
    // says so, and records no new release.
    let out = run(&repos, &["sync"], "2026-12-01T10:10:00Z");
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        text(&out).contains(&format!("repaired {PRODUCTION} (changed by someone else)")),
        "{}",
        text(&out)
    );
    let message = git(&repos.manifests, &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains(&format!("Glueops-Repaired: {PRODUCTION}"))
            && !message.contains("Glueops-Deploy"),
        "{message}"
    );
    let out = run(&repos, &["drift"], "2026-12-01T10:15:00Z");
    assert_eq!(code(&out), 0, "{}", text(&out));

    // DORA: two production releases, one rolled back.
    let out = run(
        &repos,
        &[
            "dora",
            "--manifests",
            &repos.manifests.to_string_lossy(),
            "--json",
        ],
        "2026-12-01T11:00:00Z",
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let prod = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["app"] == "api" && r["env"] == "production")
        .unwrap();
    assert_eq!(
        (prod["releases"].as_u64(), prod["rollbacks"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(prod["changeFailureRate"].as_f64(), Some(0.5));
    assert_eq!(prod["medianTimeToRestore"].as_i64(), Some(30 * 60));
    // Lead time from the source commit's time: to staging by the bump, to production by the
    // promotion, which carries the staging release's source trailers.
    let staging = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["app"] == "api" && r["env"] == "staging")
        .unwrap();
    assert_eq!(staging["medianLeadTime"].as_i64(), Some(30 * 60));
    let to_production = (3 * 24 + 22) * 3600 + 30 * 60; // 2026-11-27T10:30Z → 2026-12-01T09:00Z
    assert_eq!(prod["medianLeadTime"].as_i64(), Some(to_production));
    repos.fsck();
}

/// Someone edits a rendered file in the manifest repo by hand and pushes.
fn hand_edit(repos: &Repos, root: &Path, path: &str) {
    let clone = root.join("hand");
    git(
        root,
        &[
            "clone",
            "--quiet",
            &repos.manifests.to_string_lossy(),
            &clone.to_string_lossy(),
        ],
    );
    let file = clone.join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("value: info"));
    std::fs::write(&file, text.replace("value: info", "value: debug")).unwrap();
    git(&clone, &["commit", "--quiet", "-am", "hotfix by hand"]);
    git(&clone, &["push", "--quiet", "origin", "HEAD:main"]);
}

/// A sync killed at any point leaves the remote at the old commit or the new one, and the
/// next sync (with the same clone) converges.
#[test]
fn a_killed_sync_leaves_old_or_new_and_the_next_converges() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    glueops_testkit::generated::write_repo(&source, 150);
    let repos = Repos::new(dir.path(), &source);
    let out = run(&repos, &["sync"], "2026-12-01T09:00:00Z");
    assert_eq!(code(&out), 0, "{}", text(&out));
    let old = repos.manifest_tree();
    // A change to the common values touches every deployment: a big commit to push.
    repos.change_config("common: more memory", |w| {
        let path = w.join("common/common-values.yaml");
        let values = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, values.replace("memory: 256Mi", "memory: 320Mi")).unwrap();
    });
    let args = |repos: &Repos| {
        vec![
            "sync".to_string(),
            "--config".into(),
            repos.config.to_string_lossy().into_owned(),
            "--manifests".into(),
            repos.manifests.to_string_lossy().into_owned(),
            "--cache".into(),
            repos.cache.to_string_lossy().into_owned(),
        ]
    };
    let mut seen = Vec::new();
    for delay in [5, 30, 80, 150, 300, 600] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_glueops"))
            .args(args(&repos))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        // A `git push` the kill orphaned finishes or fails on its own; fsck waits for it.
        glueops_testkit::repos::fsck_settled(&repos.manifests);
        seen.push(repos.manifest_tree());
    }
    let out = run(&repos, &["sync"], "2026-12-01T09:10:00Z");
    assert_eq!(code(&out), 0, "{}", text(&out));
    let new = repos.manifest_tree();
    assert_ne!(new, old);
    for tree in &seen {
        assert!(
            tree == &old || tree == &new,
            "a killed sync left a third state"
        );
    }
    let out = run(&repos, &["drift"], "2026-12-01T09:11:00Z");
    assert_eq!(code(&out), 0, "{}", text(&out));
    repos.fsck();
}

/// `glueops diff`: what a config branch would change in the manifests, as Markdown.
#[test]
fn diff_of_a_config_branch_as_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let repos = Repos::new(dir.path(), &demo());
    git(&repos.work, &["checkout", "--quiet", "-b", "more-replicas"]);
    let path = repos.work.join("apps/worker/envs/staging/values.yaml");
    let values = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{values}deployment: {{replicas: 4}}\n")).unwrap();
    git(
        &repos.work,
        &["commit", "--quiet", "-am", "worker: 4 replicas in staging"],
    );
    git(
        &repos.work,
        &[
            "push",
            "--quiet",
            &repos.config.to_string_lossy(),
            "more-replicas",
        ],
    );
    let out = run(
        &repos,
        &[
            "diff",
            "--base",
            "main",
            "--head",
            "more-replicas",
            "--markdown",
        ],
        "2026-12-01T09:00:00Z",
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let markdown = String::from_utf8_lossy(&out.stdout);
    assert!(
        markdown.starts_with("**glueops**: 0 added, 1 changed, 0 removed\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("<code>clusters/nonprod/staging/worker/deployment-worker.yaml</code>"),
        "{markdown}"
    );
    assert!(markdown.contains("+  replicas: 4"), "{markdown}");
}

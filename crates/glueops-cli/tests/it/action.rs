//! The GitHub Action end to end: `action.yml`'s steps run as the runner runs them (see
//! `action_runner`) on a checkout of the demo config repo and a bare manifest remote: a sync
//! (then a second one that commits nothing), a held deployment annotated by its rule, a diff
//! of a pull request's branches, and a promotion held by the deploy window (failing with the
//! rule, or only warning).

use std::path::Path;

use glueops_testkit::repos::{Repos, fsck, git};

use crate::action_runner::{ActionRun, Runner};
use crate::demo;

/// Saturday 2026-12-05 11:00 in Berlin: outside the demo's production window.
const OUTSIDE: &str = "2026-12-05T10:00:00Z";

/// The demo config repo as `actions/checkout` leaves it (a clone of the config remote with
/// `main` checked out), a runner whose cache service already holds this checkout's build.
fn setup(root: &Path) -> (Repos, Runner) {
    let repos = Repos::new(root, &demo());
    let checkout = root.join("checkout");
    git(
        root,
        &[
            "clone",
            "--quiet",
            &repos.config.to_string_lossy(),
            &checkout.to_string_lossy(),
        ],
    );
    let runner = Runner::new(&root.join("runner"), &checkout);
    runner.seed_cache(Path::new(env!("CARGO_BIN_EXE_glueops")));
    (repos, runner)
}

fn run(runner: &Runner, root: &Path, inputs: &[(&str, &str)]) -> ActionRun {
    let cache = root.join("xdg-cache");
    runner.run(inputs, &[("XDG_CACHE_HOME", &cache.to_string_lossy())])
}

fn report(r: &ActionRun) -> String {
    format!(
        "exit {}\n--- outputs {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- summary\n{}",
        r.code, r.outputs, r.stdout, r.stderr, r.summary
    )
}

#[test]
fn sync_through_the_action_sets_outputs_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (repos, runner) = setup(root);
    let manifests = repos.manifests.to_string_lossy().into_owned();
    let inputs = [
        ("command", "sync"),
        ("manifests", manifests.as_str()),
        ("args", "--now 2026-11-27T08:00:00Z"),
    ];
    let first = run(&runner, root, &inputs);
    assert_eq!(first.code, 0, "{}", report(&first));
    assert!(first.cache_hit, "the seeded build was not restored");
    let head = git(&repos.manifests, &["rev-parse", "main"]);
    assert_eq!(first.outputs["changed"], "true", "{}", report(&first));
    assert_eq!(first.outputs["result"], "released");
    assert_eq!(first.outputs["commit"], head.trim());
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&first.outputs["plan"]).unwrap()).unwrap();
    assert_eq!(
        plan["commit"],
        head.trim(),
        "the plan output is the JSON result"
    );
    assert!(
        first.summary.starts_with("### glueops sync\n")
            && first
                .summary
                .contains("| `api/production` | added | `1.4.2` |")
            && first
                .summary
                .contains(&format!("Committed `{}`", &head.trim()[..12])),
        "{}",
        first.summary
    );

    // The same again: nothing committed, `changed` false.
    let second = run(&runner, root, &inputs);
    assert_eq!(second.code, 0, "{}", report(&second));
    assert_eq!(second.outputs["changed"], "false");
    assert_eq!(second.outputs["result"], "unchanged");
    assert_eq!(second.outputs["commit"], "");
    assert_eq!(repos.manifest_commits(), 1, "a second sync committed");

    // A production change outside its window: the sync holds it and says why, per rule.
    repos.change_config("web: 4 replicas in production", |work| {
        let path = work.join("apps/web/envs/production/values.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("replicas: 3", "replicas: 4")).unwrap();
    });
    // The next job's checkout has it.
    git(&runner.workspace, &["pull", "--quiet", "--ff-only"]);
    let args = format!("--now {OUTSIDE}");
    let held = run(
        &runner,
        root,
        &[
            ("command", "sync"),
            ("manifests", &manifests),
            ("args", &args),
        ],
    );
    assert_eq!(held.code, 0, "a hold is not a failure: {}", report(&held));
    assert_eq!(held.outputs["changed"], "false");
    let warnings = held.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|(title, message)| title == "glueops sync: held"
                && message
                    .starts_with("web/production: rule `window`: outside the deploy windows")),
        "{warnings:?}\n{}",
        report(&held)
    );
    assert!(
        held.summary.contains("**Held** (not released)"),
        "{}",
        held.summary
    );
    assert_eq!(repos.manifest_commits(), 1, "a held change was committed");
    repos.fsck();
}

#[test]
fn diff_of_two_branches_goes_to_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (repos, runner) = setup(root);
    let checkout = &runner.workspace;
    git(checkout, &["checkout", "--quiet", "-b", "feature"]);
    let path = checkout.join("apps/web/envs/staging/values.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("tag: 2.8.0", "tag: 2.9.0")).unwrap();
    git(
        checkout,
        &["commit", "--quiet", "-am", "web 2.9.0 in staging"],
    );
    let out = run(
        &runner,
        root,
        &[("command", "diff"), ("args", "--base main --head feature")],
    );
    assert_eq!(out.code, 0, "{}", report(&out));
    assert_eq!(out.outputs["changed"], "true");
    assert_eq!(out.outputs["result"], "planned");
    assert!(
        out.summary.starts_with("### glueops diff\n")
            && out.summary.contains("0 added, 1 changed, 0 removed")
            && out
                .summary
                .contains("clusters/nonprod/staging/web/deployment-web.yaml")
            && out
                .summary
                .contains("+        image: ghcr.io/acme/web:2.9.0"),
        "{}",
        out.summary
    );
    assert_eq!(
        git(&repos.manifests, &["for-each-ref"]).trim(),
        "",
        "a diff wrote to the manifest remote"
    );
}

#[test]
fn a_held_promotion_fails_with_the_rule_or_only_warns() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (repos, runner) = setup(root);
    let manifests = repos.manifests.to_string_lossy().into_owned();
    let first = run(
        &runner,
        root,
        &[("command", "sync"), ("manifests", &manifests)],
    );
    assert_eq!(first.code, 0, "{}", report(&first));
    let config_before = git(&repos.config, &["rev-parse", "main"]);
    let manifests_before = git(&repos.manifests, &["rev-parse", "main"]);

    let args = format!("--app web --to production --approved-by alice --now {OUTSIDE}");
    let promote = [
        ("command", "promote"),
        ("manifests", manifests.as_str()),
        ("args", args.as_str()),
    ];
    let held = run(&runner, root, &promote);
    assert_eq!(held.code, 3, "{}", report(&held));
    let errors = held.annotations("error");
    assert_eq!(errors.len(), 1, "{}", report(&held));
    let (title, message) = &errors[0];
    assert_eq!(title, "glueops promote: refused");
    assert!(
        message.starts_with("web/production is held by rule `window`: outside the deploy windows")
            && message.contains("the next opens Mon 2026-12-07 09:00 CET (Europe/Berlin)"),
        "{message}"
    );
    assert_eq!(held.outputs["result"], "refused");
    assert_eq!(held.outputs["changed"], "false");
    assert!(
        held.summary
            .contains("**Held**: `web/production` is not released.")
            && held
                .summary
                .contains("- rule `window`: outside the deploy windows"),
        "{}",
        held.summary
    );
    assert!(
        !held.stderr.contains("panicked"),
        "a refusal reads as a message: {}",
        held.stderr
    );

    // `fail-on-refusal: false`: the same refusal as a warning, and the step succeeds.
    let mut lenient = promote.to_vec();
    lenient.push(("fail-on-refusal", "false"));
    let warned = run(&runner, root, &lenient);
    assert_eq!(warned.code, 0, "{}", report(&warned));
    assert!(
        warned.annotations("error").is_empty(),
        "{}",
        report(&warned)
    );
    assert!(
        warned
            .annotations("warning")
            .iter()
            .any(|(t, m)| t == "glueops promote: refused" && m.contains("rule `window`")),
        "{}",
        report(&warned)
    );
    assert_eq!(warned.outputs["result"], "refused");

    // Nothing was committed anywhere.
    assert_eq!(git(&repos.config, &["rev-parse", "main"]), config_before);
    assert_eq!(
        git(&repos.manifests, &["rev-parse", "main"]),
        manifests_before
    );
    fsck(&repos.config);
    fsck(&repos.manifests);
}

#[test]
fn bad_inputs_are_annotated_not_crashed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (_repos, runner) = setup(root);
    let unknown = run(&runner, root, &[("command", "validate")]);
    assert_eq!(unknown.code, 2, "{}", report(&unknown));
    assert!(
        unknown.annotations("error")[0]
            .1
            .contains("is not one the action runs"),
        "{}",
        report(&unknown)
    );
    let quote = run(
        &runner,
        root,
        &[
            ("command", "sync"),
            ("manifests", "m"),
            ("args", "--now 'x"),
        ],
    );
    assert_eq!(quote.code, 2, "{}", report(&quote));
    assert!(
        quote.annotations("error")[0].1.contains("unmatched quote"),
        "{}",
        report(&quote)
    );
    // glueops itself fails (no such manifest remote): its error is the annotation.
    let failed = run(
        &runner,
        root,
        &[
            ("command", "sync"),
            ("manifests", "/nonexistent/manifests.git"),
        ],
    );
    assert_eq!(failed.code, 1, "{}", report(&failed));
    let (title, message) = &failed.annotations("error")[0];
    assert_eq!(title, "glueops sync failed (exit 1)");
    assert!(message.starts_with("error: "), "{message}");
    assert_eq!(failed.outputs["result"], "error");
}

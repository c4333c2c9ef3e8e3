//! Committing a rendered manifest tree, against the `git` CLI in the same run:
//!
//! 1. First commit of N files (default 30,000 = 10,000 apps x 3 environments; set
//!    `GLUEOPS_BENCH_FILES`): glueops `write_tree` from memory into a new bare repository, vs
//!    `git add -A && git commit` of the same files already on disk in a new work tree.
//! 2. Incremental commit changing one file of that tree: glueops `write_tree` with the whole
//!    file set (one changed), vs editing the file and `git add -A && git commit`.
//!
//! Each is run `GLUEOPS_BENCH_RUNS` times (default 3), alternating, and the medians reported.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly on bad setup")]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use glueops::files::Files;
use glueops::git::{Author, LocalRepo, TreeChange, WriteOutcome};

fn manifest(app: usize, env: &str, version: usize) -> Vec<u8> {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{app}\n  namespace: {env}\n  labels:\n    app.kubernetes.io/name: app-{app}\n    app.kubernetes.io/version: \"1.{version}.0\"\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: app-{app}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: app-{app}\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/example/app-{app}:1.{version}.0\n          resources:\n            requests: {{cpu: 100m, memory: 128Mi}}\n            limits: {{cpu: 500m, memory: 256Mi}}\n"
    )
    .into_bytes()
}

fn tree(files: usize) -> Files {
    let envs = ["development", "staging", "production"];
    let pairs = (0..files).map(|i| {
        let (app, env) = (i / 3, envs[i % 3]);
        (
            format!("clusters/main/{env}/app-{app}/deployment.yaml"),
            manifest(app, env, 0),
        )
    });
    Files::try_from_iter(pairs).unwrap()
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn author() -> Author {
    Author::new("bench", "bench@glueops.dev")
}

/// glueops: the first commit of `files`, then the commit of `changed` (one file differs).
fn time_glueops(files: &Files, changed: &Files) -> (Duration, Duration) {
    // glueops
    let dir = tempfile::Builder::new()
        .prefix("glueops-bench")
        .tempdir()
        .unwrap();
    let repo = LocalRepo::init_bare(dir.path()).unwrap();
    let start = Instant::now();
    let first = repo
        .commit(
            "main",
            &TreeChange {
                prefix: "",
                files,
                author: &author(),
                message: "render",
                trailers: &[],
            },
        )
        .unwrap();
    let first_took = start.elapsed();
    assert!(matches!(first, WriteOutcome::Committed { .. }));
    let start = Instant::now();
    let second = repo
        .commit(
            "main",
            &TreeChange {
                prefix: "",
                files: changed,
                author: &author(),
                message: "bump one",
                trailers: &[],
            },
        )
        .unwrap();
    let incr_took = start.elapsed();
    assert!(matches!(second, WriteOutcome::Committed { .. }));
    (first_took, incr_took)
}

/// The git CLI on the same files, written to a work tree first (not timed).
fn time_git_cli(files: &Files, changed: &Files, changed_path: &str) -> (Duration, Duration) {
    // git CLI on the same files, written to a work tree first (not timed).
    let work = tempfile::Builder::new()
        .prefix("glueops-bench")
        .tempdir()
        .unwrap();
    git(work.path(), &["init", "--quiet", "-b", "main"]);
    git(work.path(), &["config", "user.name", "bench"]);
    git(work.path(), &["config", "user.email", "bench@glueops.dev"]);
    for (path, bytes) in files.iter() {
        let p = work.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let start = Instant::now();
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "--quiet", "-m", "render"]);
    let first_took = start.elapsed();
    std::fs::write(
        work.path().join(changed_path),
        changed.get(changed_path).unwrap(),
    )
    .unwrap();
    let start = Instant::now();
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "--quiet", "-m", "bump one"]);
    let incr_took = start.elapsed();
    (first_took, incr_took)
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let n = support::env_usize("GLUEOPS_BENCH_FILES", 30_000);
    let runs = support::env_usize("GLUEOPS_BENCH_RUNS", 3);
    let files = tree(n);
    let changed_path = files.paths().nth(n / 2).unwrap().to_string();
    let mut changed = files.clone();
    changed
        .insert(changed_path.clone(), manifest(999_999, "staging", 1))
        .unwrap();

    let (mut ours_first, mut ours_incr, mut cli_first, mut cli_incr) =
        (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let (first, incr) = time_glueops(&files, &changed);
        ours_first.push(first);
        ours_incr.push(incr);
        let (first, incr) = time_git_cli(&files, &changed, &changed_path);
        cli_first.push(first);
        cli_incr.push(incr);
    }
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let (of, oi, cf, ci) = (
        support::median(ours_first),
        support::median(ours_incr),
        support::median(cli_first),
        support::median(cli_incr),
    );
    println!("{n} files, median of {runs} runs");
    println!(
        "  first commit        glueops {:>9}   git add -A && git commit {:>9}   {:.1}x faster",
        ms(of),
        ms(cf),
        cf.as_secs_f64() / of.as_secs_f64()
    );
    println!(
        "  one file changed    glueops {:>9}   git add -A && git commit {:>9}   {:.1}x faster",
        ms(oi),
        ms(ci),
        ci.as_secs_f64() / oi.as_secs_f64()
    );
}

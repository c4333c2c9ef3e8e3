//! The reconcile loop against real git remotes (bare repositories on disk): a change on the
//! channel reaches the manifest remote once, errors back off and recover, and a pass
//! abandoned at any point leaves the remote whole and the next pass converges.

use std::path::Path;
use std::time::Duration;

use glueops_testkit::repos::{Repos, fsck, git};
use tokio::sync::{mpsc, watch};

use super::{Desired, Pass, Settings, reconcile};

fn demo() -> std::path::PathBuf {
    glueops_testkit::workspace().join("examples/demo-config")
}

fn settings(cache: &Path) -> Settings {
    Settings {
        cache: cache.to_path_buf(),
        // Long enough that only changes on the channel trigger passes in these tests.
        resync: Duration::from_secs(3600),
        backoff: Duration::from_millis(40),
        max_backoff: Duration::from_millis(160),
        session: std::sync::Arc::new(glueops::Session::long_running()),
    }
}

fn desired(repos: &Repos) -> Desired {
    Desired {
        config: repos.config.to_string_lossy().into_owned(),
        config_branch: None,
        manifests: repos.manifests.to_string_lossy().into_owned(),
        generation: 0,
    }
}

async fn next(passes: &mut mpsc::Receiver<Pass>) -> Pass {
    tokio::time::timeout(Duration::from_secs(120), passes.recv())
        .await
        .expect("no pass within 2 minutes")
        .expect("the loop stopped")
}

fn bump_replicas(repos: &Repos, to: u32) {
    repos.change_config(&format!("web: {to} replicas in staging"), |work| {
        let path = work.join("apps/web/envs/staging/values.yaml");
        std::fs::write(
            &path,
            format!("image: {{tag: 2.8.0}}\ndeployment: {{replicas: {to}}}\n"),
        )
        .unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_the_channel_reaches_the_remote_once() {
    let dir = tempfile::tempdir().unwrap();
    let repos = Repos::new(dir.path(), &demo());
    let (tx, rx) = watch::channel(desired(&repos));
    let (report, mut passes) = mpsc::channel(16);
    let task = tokio::spawn(reconcile(settings(&repos.cache), rx, report));
    assert!(matches!(
        next(&mut passes).await,
        Pass::Released { generation: 0, .. }
    ));
    assert_eq!(repos.manifest_commits(), 1);

    // The config moves and the spec's generation with it: one release.
    repos.change_config("api: trace logs in staging", |work| {
        let path = work.join("apps/api/envs/staging/values.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("value: debug", "value: trace")).unwrap();
    });
    tx.send_modify(|d| d.generation = 1);
    match next(&mut passes).await {
        Pass::Released { commit, generation } => {
            assert_eq!(generation, 1);
            assert_eq!(git(&repos.manifests, &["rev-parse", "main"]).trim(), commit);
        }
        other => panic!("expected a release, got {other:?}"),
    }
    assert_eq!(repos.manifest_commits(), 2);

    // The same state signalled again, several times at once: nothing more is committed.
    for g in 2..=6 {
        tx.send_modify(|d| d.generation = g);
    }
    loop {
        match next(&mut passes).await {
            Pass::Unchanged { generation: 6 } => break,
            Pass::Unchanged { .. } => {}
            other => panic!("expected no change, got {other:?}"),
        }
    }
    assert_eq!(repos.manifest_commits(), 2, "a repeated signal committed");

    // Dropping the sender stops the loop.
    drop(tx);
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the loop did not stop")
        .unwrap();
    repos.fsck();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_back_off_then_the_next_change_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let repos = Repos::new(dir.path(), &demo());
    let mut wrong = desired(&repos);
    wrong.manifests = dir.path().join("no-such-remote.git").display().to_string();
    let (tx, rx) = watch::channel(wrong);
    let (report, mut passes) = mpsc::channel(16);
    tokio::spawn(reconcile(settings(&repos.cache), rx, report));
    let mut waits = Vec::new();
    for _ in 0..4 {
        match next(&mut passes).await {
            Pass::Failed { error, retry_in } => {
                assert!(error.contains("no-such-remote"), "{error}");
                waits.push(retry_in.as_millis());
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
    assert_eq!(
        waits,
        [40, 80, 160, 160],
        "backoff doubles up to the maximum"
    );
    let right = desired(&repos);
    tx.send_replace(right);
    loop {
        match next(&mut passes).await {
            Pass::Released { .. } => break,
            Pass::Failed { .. } => {} // a pass that started before the fix
            other => panic!("expected a release, got {other:?}"),
        }
    }
    assert_eq!(repos.manifest_commits(), 1);
}

/// One release abandoned `delay` after it starts: the runtime's task is aborted and the
/// runtime shut down (its blocking pass finishes or not); the remote is the old commit or
/// one new whole commit; a fresh loop then converges with exactly one commit in all.
fn abandoned_after(delay: Duration, repos: &Repos, round: u32) -> bool {
    let old = git(&repos.manifests, &["rev-parse", "main"])
        .trim()
        .to_string();
    bump_replicas(repos, round);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = watch::channel(desired(repos));
    let (report, _passes) = mpsc::channel(16);
    let task = runtime.spawn(reconcile(settings(&repos.cache), rx, report));
    std::thread::sleep(delay);
    task.abort();
    // The branch is read atomically, so it is checked while the abandoned pass may still
    // push; fsck only once that pass has ended (fsck beside a landing push reads "missing").
    let whole = |when: &str| {
        let tip = git(&repos.manifests, &["rev-parse", "main"])
            .trim()
            .to_string();
        if tip != old {
            let parent = git(&repos.manifests, &["rev-parse", "main~1"]);
            assert_eq!(
                parent.trim(),
                old,
                "{when}: the remote moved by more than one commit"
            );
        }
    };
    whole("right after the abort");
    drop(tx);
    drop(runtime); // waits for the abandoned blocking pass, if it still runs
    whole("after the abandoned pass ended");
    fsck(&repos.manifests);
    let landed = git(&repos.manifests, &["rev-parse", "main"]).trim() != old;

    let converge = tokio::runtime::Runtime::new().unwrap();
    converge.block_on(async {
        let (_tx, rx) = watch::channel(desired(repos));
        let (report, mut passes) = mpsc::channel(16);
        tokio::spawn(reconcile(settings(&repos.cache), rx, report));
        match next(&mut passes).await {
            Pass::Released { .. } | Pass::Unchanged { .. } => {}
            other => panic!("the next pass did not converge: {other:?}"),
        }
    });
    let count = git(
        &repos.manifests,
        &["rev-list", "--count", &format!("{old}..main")],
    );
    assert_eq!(
        count.trim(),
        "1",
        "round {round} ({delay:?}): not exactly one new commit"
    );
    let opts = glueops::Options::new(repos.cache.clone(), jiff::Timestamp::now());
    let drift = glueops::drift(
        &repos.config.to_string_lossy(),
        &repos.manifests.to_string_lossy(),
        &opts,
    )
    .unwrap();
    assert!(
        drift.plan.written.is_empty() && drift.plan.removed.is_empty(),
        "round {round}: drift after converging: {:?}",
        drift.plan.written
    );
    landed
}

#[test]
fn a_pass_abandoned_at_any_point_leaves_the_remote_whole() {
    let dir = tempfile::tempdir().unwrap();
    let repos = Repos::new(dir.path(), &demo());
    let first = glueops::sync(
        &repos.config.to_string_lossy(),
        &repos.manifests.to_string_lossy(),
        &glueops::Options::new(repos.cache.clone(), jiff::Timestamp::now()),
    )
    .unwrap();
    assert!(first.commit.is_some());
    // From before the pass starts to after it is done: every stage of fetch, plan, commit
    // and push is cut somewhere in this range on a 2-core machine.
    let mut landed = Vec::new();
    for (round, ms) in [0u64, 2, 5, 10, 20, 40, 80, 160, 320]
        .into_iter()
        .enumerate()
    {
        let round = u32::try_from(round).unwrap() + 10;
        landed.push((
            ms,
            abandoned_after(Duration::from_millis(ms), &repos, round),
        ));
    }
    eprintln!("(delay ms, the abandoned pass's commit landed): {landed:?}");
    // A pass abandoned once it runs still lands whole: its blocking push is not torn.
    assert_eq!(landed.last(), Some(&(320, true)), "{landed:?}");
    repos.fsck();
}

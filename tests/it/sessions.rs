//! Two loops in one process, each with its own [`Session`]: neither sees the other's branch
//! tips, and each still converges when the other moved a branch it also writes.

use std::path::Path;
use std::sync::Arc;

use glueops::{Options, Session};
use glueops_testkit::repos::{Repos, git};

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn pair(dir: &Path) -> Repos {
    let source = dir.join("source");
    glueops_testkit::generated::write_repo(&source, 3);
    Repos::new(dir, &source)
}

fn opts(repos: &Repos, session: &Arc<Session>) -> Options {
    at(repos, session, "2026-12-01T09:00:00Z")
}

fn at(repos: &Repos, session: &Arc<Session>, now: &str) -> Options {
    let mut opts = Options::new(&repos.cache, now.parse().unwrap());
    opts.session = Arc::clone(session);
    opts
}

/// The URL a checkout keys the manifest remote by (the canonical path).
fn url(repos: &Repos) -> String {
    s(&std::fs::canonicalize(&repos.manifests).unwrap())
}

#[test]
fn two_sessions_in_one_process_do_not_see_each_others_tips() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (pair(one.path()), pair(two.path()));
    let (first, second) = (
        Arc::new(Session::long_running()),
        Arc::new(Session::long_running()),
    );
    let synced_a = glueops::sync(&s(&a.config), &s(&a.manifests), &opts(&a, &first)).unwrap();
    let synced_b = glueops::sync(&s(&b.config), &s(&b.manifests), &opts(&b, &second)).unwrap();
    let (tip_a, tip_b) = (synced_a.commit.unwrap(), synced_b.commit.unwrap());
    // Each knows the tip it pushed, and only that one.
    assert_eq!(first.known_tip(&url(&a), "main"), Some(Some(tip_a.clone())));
    assert_eq!(second.known_tip(&url(&b), "main"), Some(Some(tip_b)));
    assert_eq!(second.known_tip(&url(&a), "main"), None);
    assert_eq!(first.known_tip(&url(&b), "main"), None);
    // A one-shot session remembers nothing, even after a sync of its own.
    let one_shot = Arc::new(Session::default());
    glueops::sync(&s(&a.config), &s(&a.manifests), &opts(&a, &one_shot)).unwrap();
    assert_eq!(one_shot.known_tip(&url(&a), "main"), None);

    // The second session writes a's branch too: the first one's tip is stale now, and its
    // next sync (a compare-and-swap on that tip) is refused, fetches and converges.
    a.change_config("config: more replicas", |work| {
        let file = work.join("apps/app00000/envs/dev/values.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace("replicas: 1", "replicas: 7")).unwrap();
    });
    // (At another time: the same plan at the same time would be the same commit, bytes and
    // all, and the first session's push of it a no-op.)
    let later = at(&a, &second, "2026-12-01T10:00:00Z");
    let other = glueops::sync(&s(&a.config), &s(&a.manifests), &later).unwrap();
    let moved = other.commit.unwrap();
    assert_ne!(moved, tip_a);
    assert_eq!(first.known_tip(&url(&a), "main"), Some(Some(tip_a.clone())));
    let again = glueops::sync(&s(&a.config), &s(&a.manifests), &opts(&a, &first)).unwrap();
    assert_eq!(again.commit, None, "nothing left to release: {again:?}");
    assert_eq!(
        again.plan.base.as_deref(),
        Some(moved.as_str()),
        "planned on the fetched tip"
    );
    assert_eq!(git(&a.manifests, &["rev-parse", "main"]).trim(), moved);
    assert_eq!(first.known_tip(&url(&a), "main"), Some(Some(moved)));
}

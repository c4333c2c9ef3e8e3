//! The loop's flows through the library against real git remotes on disk: incremental syncs
//! on a generated repo, the delete guard, bad config, unsafe edits, concurrent writers, and
//! previews by source repo, labels and age.

use std::path::Path;

use glueops::plan::{Change, Scope};
use glueops::{Error, Options};
use glueops::{PreviewChange, PreviewTarget, PullRequest};
use glueops_testkit::repos::{Repos, git};

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn opts(repos: &Repos, now: &str) -> Options {
    Options::new(&repos.cache, at(now))
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn generated(apps: usize) -> (tempfile::TempDir, Repos) {
    generated_with(apps, |_| {})
}

/// A generated repo whose apps all take previews, changed by `tweak` before the first commit.
fn generated_with(apps: usize, tweak: impl FnOnce(&Path)) -> (tempfile::TempDir, Repos) {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    glueops_testkit::generated::write_repo(&source, apps);
    for i in 0..apps {
        let folder = source.join(format!("apps/app{i:05}/envs/previews/common"));
        std::fs::create_dir_all(&folder).unwrap();
        // Previews read throwaway keys, never the environments' own.
        let values = format!(
            "deployment: {{replicas: 1}}\nexternalSecret:\n  secrets: {{db: {{data: {{url: {{envName: DATABASE_URL, remoteRef: {{key: app{i:05}/db-preview, property: url}}}}}}}}}}\n"
        );
        std::fs::write(folder.join("values.yaml"), values).unwrap();
    }
    tweak(&source);
    let repos = Repos::new(dir.path(), &source);
    (dir, repos)
}

fn sync(repos: &Repos, now: &str) -> glueops::Outcome {
    glueops::sync(&s(&repos.config), &s(&repos.manifests), &opts(repos, now)).unwrap()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_change_renders_and_writes_only_what_it_touches() {
    let (_dir, repos) = generated(40);
    let first = sync(&repos, "2026-12-01T09:00:00Z");
    assert_eq!(first.plan.deployments.len(), 120);
    assert!(matches!(first.plan.scope, Scope::Full { .. }));
    // One app's staging values: only that deployment is looked at, only its files change.
    repos.change_config("app00007: 3 replicas in staging", |w| {
        edit(
            &w.join("apps/app00007/envs/staging/values.yaml"),
            "replicas: 2",
            "replicas: 3",
        );
    });
    let out = sync(&repos, "2026-12-01T09:05:00Z");
    assert_eq!(
        out.plan.scope,
        Scope::Deployments {
            deployments: ["app00007/staging".to_string()].into()
        }
    );
    assert_eq!(
        out.plan.written,
        vec!["clusters/nonprod/staging/app00007/deployment-app00007-staging.yaml"]
    );
    let changed = git(&repos.manifests, &["diff", "--name-only", "main~1", "main"]);
    assert_eq!(changed.trim(), out.plan.written[0]);
    // The plan serializes for machines.
    let json = serde_json::to_value(&out.plan).unwrap();
    assert_eq!(json["deployments"][0]["app"], "app00007");
    assert_eq!(json["scope"]["mode"], "deployments");
    // An overlay change touches that environment only; production holds it (approval).
    repos.change_config("dev and production overlays", |w| {
        edit(
            &w.join("env-overlays/dev/env-values.yaml"),
            "value: dev",
            "value: development",
        );
        edit(
            &w.join("env-overlays/production/env-values.yaml"),
            "value: production",
            "value: prod",
        );
    });
    let out = sync(&repos, "2026-12-01T09:10:00Z");
    // Only the deployments in those two namespaces are looked at.
    let Scope::Deployments { deployments } = &out.plan.scope else {
        panic!("{:?}", out.plan.scope)
    };
    assert_eq!(deployments.len(), 80);
    assert!(
        deployments
            .iter()
            .all(|d| d.ends_with("/dev") || d.ends_with("/production"))
    );
    assert_eq!(out.plan.deployments.len(), 40);
    assert!(
        out.plan
            .deployments
            .iter()
            .all(|d| d.env == "dev" && d.change == Change::Changed)
    );
    assert_eq!(out.plan.held.len(), 40);
    assert!(out.plan.held.iter().all(|h| h.env == "production"));
    // The next sync still knows production is held (its trailers say so), and holds it.
    repos.change_config("app00001 staging", |w| {
        edit(
            &w.join("apps/app00001/envs/staging/values.yaml"),
            "replicas: 2",
            "replicas: 4",
        );
    });
    let out = sync(&repos, "2026-12-01T09:15:00Z");
    assert_eq!(out.plan.deployments.len(), 1);
    assert_eq!(out.plan.held.len(), 40);
    // Nothing changed: no commit, whatever the time.
    let commits = repos.manifest_commits();
    assert!(sync(&repos, "2026-12-01T10:00:00Z").commit.is_none());
    assert_eq!(repos.manifest_commits(), commits);
    // A file the model does not read (a README) touches no deployment: nothing but the held
    // ones is looked at.
    repos.change_config("docs", |w| {
        std::fs::write(w.join("README.md"), "# config\n").unwrap()
    });
    let out = sync(&repos, "2026-12-01T10:05:00Z");
    let Scope::Deployments { deployments } = &out.plan.scope else {
        panic!("{:?}", out.plan.scope)
    };
    assert!(
        deployments.iter().all(|d| d.ends_with("/production")),
        "{deployments:?}"
    );
    assert_eq!(repos.manifest_commits(), commits);
    repos.fsck();
}

#[test]
fn deletions_the_config_did_not_ask_for_are_refused() {
    let (dir, repos) = generated(3);
    sync(&repos, "2026-12-01T09:00:00Z");
    let before = repos.manifest_tree();
    // Deleting one deployment's values is a deletion the config asked for.
    repos.change_config("retire app00002 in dev", |w| {
        std::fs::remove_file(w.join("apps/app00002/envs/dev/values.yaml")).unwrap();
    });
    let out = sync(&repos, "2026-12-01T09:05:00Z");
    assert!(out.plan.refused.is_none(), "{:?}", out.plan.refused);
    assert_eq!(out.plan.deployments[0].change, Change::Removed);
    assert!(
        out.plan
            .removed
            .iter()
            .any(|p| p.ends_with("argocd/application-app00002-dev.yaml"))
    );
    assert_ne!(repos.manifest_tree(), before);
    // A deployment folder the config never had (someone else's) is not removed silently.
    let clone = dir.path().join("hand");
    git(
        dir.path(),
        &["clone", "--quiet", &s(&repos.manifests), &s(&clone)],
    );
    std::fs::create_dir_all(clone.join("clusters/nonprod/dev/ghost")).unwrap();
    std::fs::write(
        clone.join("clusters/nonprod/dev/ghost/deployment-ghost.yaml"),
        "kind: Deployment\n",
    )
    .unwrap();
    git(&clone, &["add", "-A"]);
    git(&clone, &["commit", "--quiet", "-m", "ghost"]);
    git(&clone, &["push", "--quiet", "origin", "HEAD:main"]);
    let tree = repos.manifest_tree();
    let out = sync(&repos, "2026-12-01T09:10:00Z");
    let refusal = out.plan.refused.clone().unwrap();
    assert!(refusal.reason.contains("ghost/dev"), "{refusal:?}");
    assert_eq!(repos.manifest_tree(), tree, "nothing written");
    let mut allow = opts(&repos, "2026-12-01T09:11:00Z");
    allow.allow_delete = true;
    let out = glueops::sync(&s(&repos.config), &s(&repos.manifests), &allow).unwrap();
    assert!(out.commit.is_some() && out.plan.refused.is_none());
    // A config commit deleting every app is refused: nothing is written.
    repos.change_config("delete everything", |w| {
        std::fs::remove_dir_all(w.join("apps")).unwrap();
    });
    let tree = repos.manifest_tree();
    let out = sync(&repos, "2026-12-01T09:20:00Z");
    assert!(
        out.plan
            .refused
            .unwrap()
            .reason
            .contains("every deployment")
    );
    assert_eq!(repos.manifest_tree(), tree);
    repos.fsck();
}

#[test]
fn bad_config_and_unsafe_edits_write_nothing() {
    let (_dir, repos) = generated(2);
    sync(&repos, "2026-12-01T09:00:00Z");
    let (tree, config_head) = (
        repos.manifest_tree(),
        git(&repos.config, &["rev-parse", "main"]),
    );
    // A tag that is not an image tag, and a values file set through an anchor.
    let o = opts(&repos, "2026-12-01T09:01:00Z");
    let bad_tag = glueops::bump(
        &s(&repos.config),
        "app00000",
        "dev",
        "1.0 beta",
        None,
        &[],
        &o,
    );
    assert!(matches!(bad_tag, Err(Error::Unsafe { .. })), "{bad_tag:?}");
    repos.change_config("anchored tag", |w| {
        std::fs::write(
            w.join("apps/app00001/envs/dev/values.yaml"),
            "tag: &t 1.0.0\nimage: {tag: *t}\n",
        )
        .unwrap();
    });
    let config_head_2 = git(&repos.config, &["rev-parse", "main"]);
    assert_ne!(config_head, config_head_2);
    let unsafe_edit = glueops::bump(&s(&repos.config), "app00001", "dev", "2.0.0", None, &[], &o);
    let Err(Error::Unsafe { reason, .. }) = &unsafe_edit else {
        panic!("{unsafe_edit:?}")
    };
    assert!(reason.contains("alias"), "{reason}");
    assert_eq!(
        git(&repos.config, &["rev-parse", "main"]),
        config_head_2,
        "nothing committed"
    );
    // Invalid YAML in the config: the problems come back, nothing is written.
    repos.change_config("broken", |w| {
        std::fs::write(
            w.join("apps/app00000/envs/dev/values.yaml"),
            "image: {tag: [\n",
        )
        .unwrap();
    });
    let broken = glueops::sync(&s(&repos.config), &s(&repos.manifests), &o);
    assert!(matches!(broken, Err(Error::Config(_))), "{broken:?}");
    assert_eq!(repos.manifest_tree(), tree);
    repos.fsck();
}

#[test]
fn a_clash_with_an_app_not_loaded_is_still_found() {
    let (_dir, repos) = generated(4);
    sync(&repos, "2026-12-01T09:00:00Z");
    let tree = repos.manifest_tree();
    // app00002 takes app00001's hostname on the same cluster: only app00002 changed, yet the
    // clash is found (its claims are checked against the others', then the whole repo says where).
    repos.change_config("app00002 steals a hostname", |w| {
        edit(
            &w.join("apps/app00002/envs/staging/values.yaml"),
            "{{ .Values.glueops_app_name }}.{{ .Values.captain_domain }}",
            "app00001-staging.nonprod.acme.example",
        );
    });
    let clash = glueops::sync(
        &s(&repos.config),
        &s(&repos.manifests),
        &opts(&repos, "2026-12-01T09:05:00Z"),
    );
    let Err(Error::Config(diagnostics)) = &clash else {
        panic!("{clash:?}")
    };
    let text = diagnostics.to_string();
    assert!(
        text.contains("is claimed by `app00001-staging` and `app00002-staging`"),
        "{text}"
    );
    assert!(
        text.contains("apps/app00002/envs/staging/values.yaml"),
        "{text}"
    );
    assert_eq!(repos.manifest_tree(), tree);
}

/// Opens the preview of pull request `number` of `app` (head sha: the number, 7 digits).
fn open_preview(repos: &Repos, app: &str, number: u64, o: &Options) -> Result<(), Error> {
    let pr = PullRequest {
        number,
        sha: Some(format!("{number:0>7}")),
        ..PullRequest::default()
    };
    let target = PreviewTarget::App(app.into());
    glueops::open_preview(&s(&repos.config), &s(&repos.manifests), &target, &pr, o).map(|_| ())
}

/// Runs each writer on its own thread at once; every one must succeed.
fn at_once(writers: Vec<Box<dyn FnOnce() -> Result<(), Error> + Send>>) {
    let handles: Vec<_> = writers.into_iter().map(std::thread::spawn).collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
}

fn assert_previews(repos: &Repos, app: &str, numbers: std::ops::Range<u64>) {
    let files = git(&repos.manifests, &["ls-tree", "-r", "--name-only", "main"]);
    for n in numbers {
        assert!(
            files.contains(&format!("previews/{app}-pr-{n}/")),
            "preview {n} lost"
        );
    }
}

#[test]
fn concurrent_writers_all_land() {
    let (dir, repos) = generated(6);
    sync(&repos, "2026-12-01T09:00:00Z");
    repos.change_config("app00003 dev", |w| {
        edit(
            &w.join("apps/app00003/envs/dev/values.yaml"),
            "replicas: 1",
            "replicas: 2",
        );
    });
    // One sync and three previews at once, each with its own clone (as separate CI jobs).
    let cache = |i: u64| {
        Options::new(
            dir.path().join(format!("cache-{i}")),
            at("2026-12-01T09:05:00Z"),
        )
    };
    let mut writers: Vec<Box<dyn FnOnce() -> Result<(), Error> + Send>> = Vec::new();
    let (r, o) = (repos.clone(), cache(0));
    writers.push(Box::new(move || {
        glueops::sync(&s(&r.config), &s(&r.manifests), &o).map(|_| ())
    }));
    for i in 1..4 {
        let (r, o) = (repos.clone(), cache(i));
        writers.push(Box::new(move || open_preview(&r, "app00001", i, &o)));
    }
    at_once(writers);
    assert_previews(&repos, "app00001", 1..4);
    let dev = git(
        &repos.manifests,
        &[
            "show",
            "main:clusters/nonprod/dev/app00003/deployment-app00003-dev.yaml",
        ],
    );
    assert!(dev.contains("replicas: 2"), "the sync's change was lost");
    // Writers sharing one cache folder (two jobs on one machine) land too.
    let shared = Options::new(dir.path().join("cache-shared"), at("2026-12-01T09:10:00Z"));
    let writers: Vec<Box<dyn FnOnce() -> Result<(), Error> + Send>> = (4..7)
        .map(|i| {
            let (r, o) = (repos.clone(), shared.clone());
            Box::new(move || open_preview(&r, "app00002", i, &o))
                as Box<dyn FnOnce() -> Result<(), Error> + Send>
        })
        .collect();
    at_once(writers);
    assert_previews(&repos, "app00002", 4..7);
    repos.fsck();
}

#[test]
fn two_platforms_syncing_at_once_into_one_manifest_repo_both_land() {
    // Two teams' config repos, each owning a folder of the same manifest repo.
    let team = |name: &str| {
        generated_with(3, |source| {
            edit(
                &source.join("glueops.yaml"),
                "manifestRepo: {url: \"https://github.com/acme/manifests.git\"}",
                &format!(
                    "manifestRepo: {{url: \"https://github.com/acme/manifests.git\", path: {name}}}"
                ),
            );
        })
    };
    let ((_a, a), (_b, b)) = (team("team-a"), team("team-b"));
    let shared = s(&a.manifests);
    let handles: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|r| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                glueops::sync(&s(&r.config), &shared, &opts(&r, "2026-12-01T09:00:00Z"))
                    .map(|o| o.attempts)
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let files = git(&a.manifests, &["ls-tree", "-r", "--name-only", "main"]);
    for team in ["team-a", "team-b"] {
        assert!(
            files.contains(&format!("{team}/clusters/prod/production/app00002/")),
            "{team} lost"
        );
    }
    // Each team's next sync has nothing to do: neither overwrote the other.
    for r in [&a, &b] {
        let again =
            glueops::sync(&s(&r.config), &shared, &opts(r, "2026-12-01T09:01:00Z")).unwrap();
        assert!(again.commit.is_none(), "{:?}", again.plan.written);
    }
    glueops_testkit::repos::fsck(&a.manifests);
}

#[test]
fn previews_by_source_repo_labels_and_age() {
    // Opt in by label; app00002 shares app00001's source repo (a monorepo).
    let (_dir, repos) = generated_with(3, |source| {
        edit(
            &source.join("glueops.yaml"),
            "previews: {enabled: true, cluster: nonprod}",
            "previews: {enabled: true, cluster: nonprod, ttl: 24h, labels: {optIn: [preview], optOut: [no-preview]}}",
        );
        edit(
            &source.join("apps/app00002/base/base-values.yaml"),
            "repo: acme/app00002",
            "repo: acme/app00001",
        );
    });
    sync(&repos, "2026-12-01T09:00:00Z");
    let base = repos.manifest_tree();
    let target = PreviewTarget::SourceRepo("acme/app00001".into());
    let mut pr = PullRequest {
        number: 7,
        sha: Some("abc1234".into()),
        labels: vec![],
        ..PullRequest::default()
    };
    let o = opts(&repos, "2026-12-01T09:01:00Z");
    let (c, m) = (s(&repos.config), s(&repos.manifests));
    let skipped = glueops::open_preview(&c, &m, &target, &pr, &o).unwrap();
    assert!(skipped.skipped.unwrap().contains("opt-in"));
    assert_eq!(repos.manifest_tree(), base);
    pr.labels = vec!["preview".into()];
    let opened = glueops::open_preview(&c, &m, &target, &pr, &o).unwrap();
    assert_eq!(opened.opened, vec!["app00001-pr-7", "app00002-pr-7"]);
    // Losing the label closes both previews, and only them.
    pr.labels = vec!["preview".into(), "no-preview".into()];
    let closed = glueops::open_preview(&c, &m, &target, &pr, &o).unwrap();
    assert_eq!(closed.closed, vec!["app00001-pr-7", "app00002-pr-7"]);
    assert_eq!(repos.manifest_tree(), base);
    // A preview older than the ttl is collected; a younger one stays.
    pr.labels = vec!["preview".into()];
    glueops::open_preview(
        &c,
        &m,
        &PreviewTarget::App("app00000".into()),
        &pr,
        &opts(&repos, "2026-12-01T10:00:00Z"),
    )
    .unwrap();
    pr.number = 8;
    glueops::open_preview(
        &c,
        &m,
        &PreviewTarget::App("app00000".into()),
        &pr,
        &opts(&repos, "2026-12-02T09:00:00Z"),
    )
    .unwrap();
    let gc = glueops::gc_previews(&c, &m, &opts(&repos, "2026-12-02T11:00:00Z")).unwrap();
    assert_eq!(gc.closed, vec!["app00000-pr-7"]);
    let files = git(&repos.manifests, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(files.contains("app00000-pr-8") && !files.contains("app00000-pr-7"));
    // A batch that re-opens a preview as it stands names only what it changed: #8 as it
    // is, #9 new; the same batch again commits nothing.
    let app0 = || PreviewTarget::App("app00000".into());
    let mut pr9 = pr.clone();
    pr9.number = 9;
    let batch = [
        PreviewChange::Open {
            target: app0(),
            pr: pr.clone(),
        },
        PreviewChange::Open {
            target: app0(),
            pr: pr9,
        },
    ];
    let later = opts(&repos, "2026-12-02T11:01:00Z");
    let out = glueops::apply_previews(&c, &m, &batch, &later).unwrap();
    assert!(out.commit.is_some());
    let message = git(&repos.manifests, &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains("Glueops-Preview-Open: app00000#9 "),
        "{message}"
    );
    assert!(
        !message.contains("app00000#8"),
        "an unchanged preview was claimed opened: {message}"
    );
    let again = glueops::apply_previews(&c, &m, &batch, &later).unwrap();
    assert!(again.commit.is_none());
    // Previews never disturb the deployments: the next sync has nothing to do.
    assert!(sync(&repos, "2026-12-02T11:05:00Z").commit.is_none());
    repos.fsck();
}

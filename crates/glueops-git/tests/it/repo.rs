//! Repositories against the real `git`: every write passes `git fsck --strict`, trailers show
//! in `git log`, diffs agree with `git diff`, and corrupt input is refused with nothing written.

use std::process::Command;

use crate::support::{author, bare, files, fsck, git, trailers};
use glueops_files::Files;
use glueops_git::{Error, LocalRepo, TreeChange, WriteOutcome};

#[test]
fn write_tree_commits_with_trailers_and_only_on_change() {
    let (dir, repo) = bare();
    let set = files(&[
        ("deployment.yaml", "kind: Deployment\n"),
        ("service.yaml", "kind: Service\n"),
    ]);
    let first = repo
        .commit(
            "main",
            &TreeChange {
                prefix: "clusters/prod/production/api",
                files: &set,
                author: &author(),
                message: "Deploy api 1.4.2",
                trailers: &trailers("api"),
            },
        )
        .unwrap();
    let WriteOutcome::Committed {
        commit,
        parent: None,
    } = &first
    else {
        panic!("{first:?}")
    };
    fsck(dir.path());
    assert_eq!(git(dir.path(), &["rev-parse", "main"]).trim(), commit);
    let log = git(dir.path(), &["log", "-1", "--format=%B", "main"]);
    assert_eq!(
        log,
        "Deploy api 1.4.2\n\nGlueops-App: api\nGlueops-Env: production\nGlueops-Image-Tag: 1.4.2\n\n"
    );
    let trailers_seen = git(
        dir.path(),
        &[
            "log",
            "-1",
            "--format=%(trailers:key=Glueops-App,valueonly)",
            "main",
        ],
    );
    assert_eq!(trailers_seen.trim(), "api");
    let listed = git(dir.path(), &["ls-tree", "-r", "--name-only", "main"]);
    assert_eq!(
        listed,
        "clusters/prod/production/api/deployment.yaml\nclusters/prod/production/api/service.yaml\n"
    );
    assert_eq!(
        repo.read_file("main", "clusters/prod/production/api/service.yaml")
            .unwrap()
            .unwrap(),
        b"kind: Service\n"
    );
    assert_eq!(
        repo.read_file("main", "clusters/prod/nope.yaml").unwrap(),
        None
    );

    // The same files again: no commit.
    let again = repo
        .commit(
            "main",
            &TreeChange {
                prefix: "clusters/prod/production/api",
                files: &set,
                author: &author(),
                message: "Deploy api 1.4.2",
                trailers: &[],
            },
        )
        .unwrap();
    assert_eq!(
        again,
        WriteOutcome::Unchanged {
            commit: Some(commit.clone())
        }
    );
    assert_eq!(
        git(dir.path(), &["rev-list", "--count", "main"]).trim(),
        "1"
    );
    // Commit ids are reproducible: same content, author and time, same commit.
    let (dir2, repo2) = bare();
    let twin = repo2
        .commit(
            "main",
            &TreeChange {
                prefix: "clusters/prod/production/api",
                files: &set,
                author: &author(),
                message: "Deploy api 1.4.2",
                trailers: &trailers("api"),
            },
        )
        .unwrap();
    assert_eq!(twin, first);
    drop(dir2);
}

#[test]
fn large_writes_go_into_one_pack_git_accepts() {
    let (dir, repo) = bare();
    let many = Files::try_from_iter((0..600).map(|i| {
        (
            format!("env-{}/app-{i}/deployment.yaml", i % 3),
            format!("kind: Deployment\nname: app-{i}\n").into_bytes(),
        )
    }))
    .unwrap();
    repo.commit(
        "main",
        &TreeChange {
            prefix: "clusters/c1",
            files: &many,
            author: &author(),
            message: "render 600",
            trailers: &[],
        },
    )
    .unwrap();
    let packs: Vec<_> = std::fs::read_dir(dir.path().join("objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        packs.iter().filter(|p| p.ends_with(".idx")).count(),
        1,
        "{packs:?}"
    );
    let idx = packs.iter().find(|p| p.ends_with(".idx")).unwrap();
    git(dir.path(), &["verify-pack", &format!("objects/pack/{idx}")]);
    fsck(dir.path());
    assert_eq!(
        git(dir.path(), &["ls-tree", "-r", "--name-only", "main"])
            .lines()
            .count(),
        600
    );

    // One file changed: a few loose objects, everything else reused; a fresh handle (no
    // cache) agrees byte for byte with git.
    let mut changed = many.clone();
    changed
        .insert(
            "env-1/app-301/deployment.yaml",
            b"kind: Deployment\nname: changed\n".to_vec(),
        )
        .unwrap();
    let before = repo.resolve("main").unwrap();
    repo.commit(
        "main",
        &TreeChange {
            prefix: "clusters/c1",
            files: &changed,
            author: &author(),
            message: "bump one",
            trailers: &[],
        },
    )
    .unwrap();
    fsck(dir.path());
    let diff = repo.changed_paths(&before, "main").unwrap();
    assert_eq!(diff.modified, ["clusters/c1/env-1/app-301/deployment.yaml"]);
    assert_eq!(
        git(
            dir.path(),
            &["show", "main:clusters/c1/env-1/app-301/deployment.yaml"]
        ),
        "kind: Deployment\nname: changed\n"
    );
    // Going back through another handle gives back the first tree exactly.
    let other = LocalRepo::open(dir.path()).unwrap();
    other
        .commit(
            "main",
            &TreeChange {
                prefix: "clusters/c1",
                files: &many,
                author: &author(),
                message: "revert",
                trailers: &[],
            },
        )
        .unwrap();
    assert_eq!(
        git(dir.path(), &["rev-parse", "main^{tree}"]),
        git(dir.path(), &["rev-parse", &format!("{before}^{{tree}}")])
    );
    // The first handle's cache is still right after someone else moved the branch.
    let outcome = repo
        .commit(
            "main",
            &TreeChange {
                prefix: "clusters/c1",
                files: &many,
                author: &author(),
                message: "same again",
                trailers: &[],
            },
        )
        .unwrap();
    assert!(
        matches!(outcome, WriteOutcome::Unchanged { .. }),
        "{outcome:?}"
    );
    repo.commit(
        "main",
        &TreeChange {
            prefix: "clusters/c1",
            files: &changed,
            author: &author(),
            message: "bump again",
            trailers: &[],
        },
    )
    .unwrap();
    fsck(dir.path());
    assert_eq!(
        git(
            dir.path(),
            &["show", "main:clusters/c1/env-1/app-301/deployment.yaml"]
        ),
        "kind: Deployment\nname: changed\n"
    );
}

#[test]
fn a_prefix_is_replaced_and_everything_else_kept() {
    let (dir, repo) = bare();
    repo.commit(
        "main",
        &TreeChange {
            prefix: "apps/web",
            files: &files(&[("a.yaml", "1"), ("sub/b.yaml", "2")]),
            author: &author(),
            message: "web",
            trailers: &[],
        },
    )
    .unwrap();
    repo.commit(
        "main",
        &TreeChange {
            prefix: "apps/api",
            files: &files(&[("old.yaml", "x"), ("keep.yaml", "k")]),
            author: &author(),
            message: "api",
            trailers: &[],
        },
    )
    .unwrap();
    let web_tree = git(dir.path(), &["rev-parse", "main:apps/web"]);
    let before = git(dir.path(), &["rev-parse", "main"]).trim().to_string();

    repo.commit(
        "main",
        &TreeChange {
            prefix: "apps/api",
            files: &files(&[("keep.yaml", "k"), ("new.yaml", "n")]),
            author: &author(),
            message: "api again",
            trailers: &[],
        },
    )
    .unwrap();
    fsck(dir.path());
    let listed = git(dir.path(), &["ls-tree", "-r", "--name-only", "main"]);
    assert_eq!(
        listed,
        "apps/api/keep.yaml\napps/api/new.yaml\napps/web/a.yaml\napps/web/sub/b.yaml\n"
    );
    assert_eq!(
        git(dir.path(), &["rev-parse", "main:apps/web"]),
        web_tree,
        "the untouched subtree is the same object"
    );

    let changes = repo.changed_paths(&before, "main").unwrap();
    assert_eq!(changes.added, ["apps/api/new.yaml"]);
    assert_eq!(changes.removed, ["apps/api/old.yaml"]);
    assert!(changes.modified.is_empty());
    let name_status = git(dir.path(), &["diff", "--name-status", &before, "main"]);
    assert_eq!(name_status, "A\tapps/api/new.yaml\nD\tapps/api/old.yaml\n");

    // An empty file set removes the prefix (and folders left empty).
    repo.commit(
        "main",
        &TreeChange {
            prefix: "apps/api",
            files: &Files::new(),
            author: &author(),
            message: "remove api",
            trailers: &[],
        },
    )
    .unwrap();
    fsck(dir.path());
    assert_eq!(
        git(dir.path(), &["ls-tree", "-r", "--name-only", "main"]),
        "apps/web/a.yaml\napps/web/sub/b.yaml\n"
    );
}

#[test]
fn changed_paths_agree_with_git_diff() {
    let (dir, repo) = bare();
    repo.commit(
        "main",
        &TreeChange {
            prefix: "",
            files: &files(&[("a", "1"), ("d/x", "1"), ("d/y", "1"), ("f", "file")]),
            author: &author(),
            message: "one",
            trailers: &[],
        },
    )
    .unwrap();
    let one = repo.resolve("main").unwrap();
    // Modify, add, remove, and turn a file into a folder.
    repo.commit(
        "main",
        &TreeChange {
            prefix: "",
            files: &files(&[
                ("a", "2"),
                ("d/x", "1"),
                ("d/z", "1"),
                ("f/inner", "now a folder"),
            ]),
            author: &author(),
            message: "two",
            trailers: &[],
        },
    )
    .unwrap();
    let changes = repo.changed_paths(&one, "main").unwrap();
    let mut ours: Vec<String> = Vec::new();
    ours.extend(changes.added.iter().map(|p| format!("A\t{p}")));
    ours.extend(changes.modified.iter().map(|p| format!("M\t{p}")));
    ours.extend(changes.removed.iter().map(|p| format!("D\t{p}")));
    ours.sort_by(|a, b| a[2..].cmp(&b[2..]).then(a.cmp(b)));
    let mut theirs: Vec<String> = git(
        dir.path(),
        &["diff", "--no-renames", "--name-status", &one, "main"],
    )
    .lines()
    .map(str::to_string)
    .collect();
    theirs.sort_by(|a, b| a[2..].cmp(&b[2..]).then(a.cmp(b)));
    assert_eq!(ours, theirs);
    assert!(repo.changed_paths("main", "main").unwrap().is_empty());
}

#[test]
fn history_of_a_path_carries_trailers() {
    let (dir, repo) = bare();
    for (i, (app, prefix)) in [
        ("api", "prod/api"),
        ("web", "prod/web"),
        ("api", "prod/api"),
        ("web", "prod/web"),
    ]
    .iter()
    .enumerate()
    {
        let set = files(&[("deploy.yaml", &format!("version {i}"))]);
        repo.commit(
            "main",
            &TreeChange {
                prefix,
                files: &set,
                author: &author(),
                message: &format!("deploy {app} #{i}"),
                trailers: &trailers(app),
            },
        )
        .unwrap();
    }
    let history = repo.history("main", "prod/api", 10).unwrap();
    let ours: Vec<&str> = history.iter().map(|h| h.commit.as_str()).collect();
    let theirs = git(
        dir.path(),
        &["log", "--format=%H", "main", "--", "prod/api"],
    );
    assert_eq!(ours, theirs.lines().collect::<Vec<_>>());
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].title, "deploy api #2");
    assert_eq!(history[0].trailers, trailers("api"));
    assert_eq!(history[0].author, "glueops-bot");
    assert_eq!(
        repo.history("main", "prod/api/deploy.yaml", 1)
            .unwrap()
            .len(),
        1,
        "limit"
    );
    assert!(repo.history("main", "prod/none", 10).unwrap().is_empty());
}

#[test]
fn corrupt_input_is_refused_and_nothing_written() {
    let (dir, repo) = bare();
    repo.commit(
        "main",
        &TreeChange {
            prefix: "apps/api",
            files: &files(&[("a.yaml", "1")]),
            author: &author(),
            message: "one",
            trailers: &[],
        },
    )
    .unwrap();
    let tip = repo.resolve("main").unwrap();
    let objects = git(dir.path(), &["count-objects"]);

    // A bad file path never gets into a `Files`; a bad prefix is refused by the commit.
    for (path, says) in [
        ("../escape.yaml", "`..`"),
        ("sub/./x.yaml", "`.`"),
        (".git/config", "`.git`"),
        ("sub/.GIT/hooks", "`.git`"),
        ("a//b.yaml", "empty component"),
        ("nul\0.yaml", "NUL"),
    ] {
        let err = glueops_files::Files::try_from_iter([(path, "bad")]).unwrap_err();
        assert!(
            err.to_string().contains(says),
            "{path}: `{err}` should say {says}"
        );
    }
    let bad_prefixes: &[(&str, &str, &str)] = &[
        ("apps/../../etc", "a.yaml", "`..`"),
        ("apps/.git", "a.yaml", "`.git`"),
        ("/abs", "a.yaml", "absolute"),
        ("apps//api", "a.yaml", "empty component"),
    ];
    for (prefix, path, says) in bad_prefixes {
        let err = repo
            .commit(
                "main",
                &TreeChange {
                    prefix,
                    files: &files(&[("ok.yaml", "fine"), (path, "bad")]),
                    author: &author(),
                    message: "bad",
                    trailers: &[],
                },
            )
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidPath { .. }),
            "{prefix} {path}: {err}"
        );
        assert!(
            err.to_string().contains(says),
            "{prefix} {path}: `{err}` should say {says}"
        );
    }
    let err = repo
        .commit(
            "main",
            &TreeChange {
                prefix: "x",
                files: &files(&[("a", "file"), ("a/b", "folder")]),
                author: &author(),
                message: "bad",
                trailers: &[],
            },
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("both a file and a folder"),
        "{err}"
    );
    assert_eq!(
        repo.resolve("main").unwrap(),
        tip,
        "the branch did not move"
    );
    assert_eq!(
        git(dir.path(), &["count-objects"]),
        objects,
        "no object was written"
    );

    // A ref pointing nowhere.
    std::fs::write(
        dir.path().join("refs/heads/broken"),
        "1111111111111111111111111111111111111111\n",
    )
    .unwrap();
    let err = repo.read_file("broken", "apps/api/a.yaml").unwrap_err();
    assert!(matches!(err, Error::BadRevision { .. }), "{err}");
    let err = repo
        .commit(
            "broken",
            &TreeChange {
                prefix: "x",
                files: &files(&[("a", "1")]),
                author: &author(),
                message: "m",
                trailers: &[],
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::BadRevision { .. }), "{err}");
    assert!(matches!(
        repo.resolve("no-such-branch").unwrap_err(),
        Error::NoSuchRef { .. }
    ));

    // A missing object: delete the tree of apps/api from the object store.
    let tree = git(dir.path(), &["rev-parse", "main:apps/api"])
        .trim()
        .to_string();
    std::fs::remove_file(dir.path().join("objects").join(&tree[..2]).join(&tree[2..])).unwrap();
    let fresh = LocalRepo::open(dir.path()).unwrap();
    let err = fresh.read_file("main", "apps/api/a.yaml").unwrap_err();
    assert!(matches!(err, Error::Repository { .. }), "{err}");
    let err = fresh
        .changed_paths(&tip, &tip)
        .map(|_| ())
        .and_then(|()| fresh.history("main", "apps/api/a.yaml", 5).map(|_| ()));
    assert!(err.is_err(), "reading through a missing tree fails");
    assert!(LocalRepo::open(dir.path().join("not-a-repo")).is_err());
}

const NO_GIT: &str = "GLUEOPS_TEST_NO_GIT";

/// Without `git` on PATH, transport fails with what to install (the test re-runs itself with
/// an empty PATH for that).
#[test]
fn missing_git_is_a_clear_error() {
    if std::env::var_os(NO_GIT).is_some() {
        let dir = tempfile::tempdir().unwrap();
        let err = LocalRepo::clone_bare(
            &glueops_git::Remote::parse("file:///x.git").unwrap(),
            dir.path().join("c"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("install git 2.x"), "{err}");
        // Objects and commits need no git at all.
        let repo = LocalRepo::init_bare(dir.path().join("b")).unwrap();
        repo.commit(
            "main",
            &TreeChange {
                prefix: "p",
                files: &files(&[("a", "1")]),
                author: &author(),
                message: "m",
                trailers: &[],
            },
        )
        .unwrap();
        assert_eq!(repo.read_file("main", "p/a").unwrap().unwrap(), b"1");
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "repo::missing_git_is_a_clear_error",
            "--nocapture",
        ])
        .env(NO_GIT, "1")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

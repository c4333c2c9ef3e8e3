//! Pushing to a manifest repo: over file:// and git:// (a `git daemon` on 127.0.0.1), eight
//! writers at once, and two racing for the same prefix.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{author, files, fsck, git, trailers};
use glueops_files::Files;
use glueops_git::{Error, LocalRepo, PushOutcome, Remote, TreeChange};
use glueops_testkit::{Server, free_port};

fn remote() -> (tempfile::TempDir, Remote) {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("manifests.git");
    let out = Command::new("git")
        .args(["init", "--bare", "--quiet", "-b", "main"])
        .arg(&bare)
        .output()
        .unwrap();
    assert!(out.status.success());
    let url = Remote::parse(&format!("file://{}", bare.display())).unwrap();
    (dir, url)
}

#[test]
fn publish_over_file_url_and_retry_on_a_moved_tip() {
    let (remote_dir, url) = remote();
    let work = tempfile::tempdir().unwrap();
    let a = LocalRepo::clone_bare(&url, work.path().join("a")).unwrap();
    let b = LocalRepo::clone_bare(&url, work.path().join("b")).unwrap();
    let first = a
        .publish(
            &url,
            "main",
            &TreeChange {
                prefix: "previews/web-pr-1",
                files: &files(&[("d.yaml", "1")]),
                author: &author(),
                message: "pr 1",
                trailers: &trailers("web"),
            },
            5,
        )
        .unwrap();
    assert!(
        matches!(first, PushOutcome::Pushed { attempts: 1, .. }),
        "{first:?}"
    );
    // b's last fetch predates a's push; publish fetches and lands on top.
    let second = b
        .publish(
            &url,
            "main",
            &TreeChange {
                prefix: "previews/web-pr-2",
                files: &files(&[("d.yaml", "2")]),
                author: &author(),
                message: "pr 2",
                trailers: &trailers("web"),
            },
            5,
        )
        .unwrap();
    assert!(matches!(second, PushOutcome::Pushed { .. }), "{second:?}");
    let bare = remote_dir.path().join("manifests.git");
    fsck(&bare);
    assert_eq!(
        git(&bare, &["ls-tree", "-r", "--name-only", "main"]),
        "previews/web-pr-1/d.yaml\npreviews/web-pr-2/d.yaml\n"
    );
    let again = b
        .publish(
            &url,
            "main",
            &TreeChange {
                prefix: "previews/web-pr-2",
                files: &files(&[("d.yaml", "2")]),
                author: &author(),
                message: "pr 2",
                trailers: &[],
            },
            5,
        )
        .unwrap();
    assert!(matches!(again, PushOutcome::Unchanged { .. }), "{again:?}");
    let err = LocalRepo::clone_bare(
        &Remote::parse("file:///nonexistent/repo.git").unwrap(),
        work.path().join("c"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::GitCommand { .. }), "{err}");
}

/// `git daemon` serving `root` with pushes enabled, on 127.0.0.1 and a free port.
fn daemon(root: &Path) -> Server {
    glueops_testkit::hostile::git_daemon(root).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn eight_writers_at_once_through_git_daemon_all_land() {
    let (remote_dir, _) = remote();
    let server = daemon(remote_dir.path());
    let url = Remote::parse(&format!("git://127.0.0.1:{}/manifests.git", server.port())).unwrap();
    let work = tempfile::tempdir().unwrap();
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let url = url.clone();
            let dir = work.path().join(format!("w{i}"));
            std::thread::spawn(move || {
                let repo = LocalRepo::clone_bare(&url, &dir).unwrap();
                let set = files(&[
                    ("deployment.yaml", &format!("writer {i}")),
                    ("service.yaml", "svc"),
                ]);
                repo.publish(
                    &url,
                    "main",
                    &TreeChange {
                        prefix: &format!("previews/app-pr-{i}"),
                        files: &set,
                        author: &author(),
                        message: &format!("preview {i}"),
                        trailers: &trailers("app"),
                    },
                    30,
                )
                .unwrap()
            })
        })
        .collect();
    let mut retried = 0;
    for w in writers {
        match w.join().unwrap() {
            PushOutcome::Pushed { attempts, .. } => retried += u32::from(attempts > 1),
            other => panic!("{other:?}"),
        }
    }
    let bare = remote_dir.path().join("manifests.git");
    fsck(&bare);
    let listed = git(&bare, &["ls-tree", "-r", "--name-only", "main"]);
    for i in 0..8 {
        assert!(
            listed.contains(&format!("previews/app-pr-{i}/deployment.yaml")),
            "writer {i} lost:\n{listed}"
        );
    }
    assert_eq!(
        git(&bare, &["rev-list", "--count", "main"]).trim(),
        "8",
        "one commit per writer"
    );
    println!("{retried} of 8 writers retried after losing a race");

    // Two writers of the same prefix at once: whichever lands last wins, whole (never a mix).
    let sets = [
        files(&[("a.yaml", "A1"), ("only-a.yaml", "a")]),
        files(&[("a.yaml", "B1"), ("only-b.yaml", "b")]),
    ];
    let racers: Vec<_> = sets
        .iter()
        .enumerate()
        .map(|(i, set)| {
            let (url, set) = (url.clone(), set.clone());
            let dir = work.path().join(format!("race{i}"));
            std::thread::spawn(move || {
                let repo = LocalRepo::clone_bare(&url, &dir).unwrap();
                repo.publish(
                    &url,
                    "main",
                    &TreeChange {
                        prefix: "previews/contested",
                        files: &set,
                        author: &author(),
                        message: "race",
                        trailers: &[],
                    },
                    30,
                )
                .unwrap()
            })
        })
        .collect();
    for r in racers {
        r.join().unwrap();
    }
    fsck(&bare);
    let contested = Files::try_from_iter(
        git(
            &bare,
            &["ls-tree", "-r", "--name-only", "main", "previews/contested"],
        )
        .lines()
        .map(|p| {
            (
                p.trim_start_matches("previews/contested/").to_string(),
                git(&bare, &["show", &format!("main:{p}")]).into_bytes(),
            )
        }),
    )
    .unwrap();
    assert!(
        contested == sets[0] || contested == sets[1],
        "a mix of two writers: {contested:?}"
    );

    // Two writers of the same prefix: the later write wins, whole.
    let checkout = LocalRepo::clone_bare(&url, work.path().join("x")).unwrap();
    let one = files(&[("a.yaml", "from one"), ("only-one.yaml", "1")]);
    let two = files(&[("a.yaml", "from two"), ("only-two.yaml", "2")]);
    checkout
        .publish(
            &url,
            "main",
            &TreeChange {
                prefix: "previews/shared",
                files: &one,
                author: &author(),
                message: "one",
                trailers: &[],
            },
            5,
        )
        .unwrap();
    let other = LocalRepo::clone_bare(&url, work.path().join("y")).unwrap();
    other
        .publish(
            &url,
            "main",
            &TreeChange {
                prefix: "previews/shared",
                files: &two,
                author: &author(),
                message: "two",
                trailers: &[],
            },
            5,
        )
        .unwrap();
    let shared = git(
        &bare,
        &["ls-tree", "-r", "--name-only", "main", "previews/shared"],
    );
    assert_eq!(
        shared,
        "previews/shared/a.yaml\npreviews/shared/only-two.yaml\n"
    );
    fsck(&bare);
}

#[test]
fn clone_and_read_over_http() {
    let (remote_dir, url) = remote();
    let work = tempfile::tempdir().unwrap();
    let writer = LocalRepo::clone_bare(&url, work.path().join("w")).unwrap();
    writer
        .publish(
            &url,
            "main",
            &TreeChange {
                prefix: "apps/api",
                files: &files(&[("d.yaml", "over http")]),
                author: &author(),
                message: "m",
                trailers: &trailers("api"),
            },
            3,
        )
        .unwrap();
    let bare = remote_dir.path().join("manifests.git");
    // Git's "dumb" HTTP protocol: static files, served by Python's http.server on 127.0.0.1.
    git(&bare, &["update-server-info"]);
    let port = free_port().unwrap();
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        &port.to_string(),
        "--directory",
    ])
    .arg(remote_dir.path());
    let server = Server::start(
        "python3 -m http.server",
        cmd,
        port,
        Duration::from_secs(20),
        "needs python3",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let http = Remote::parse(&format!("{}/manifests.git", server.url())).unwrap();
    let reader = LocalRepo::clone_bare(&http, work.path().join("r")).unwrap();
    assert_eq!(
        reader
            .read_file("main", "apps/api/d.yaml")
            .unwrap()
            .unwrap(),
        b"over http"
    );
    let history = reader.history("main", "apps/api", 5).unwrap();
    assert_eq!(history[0].trailers, trailers("api"));
}

#[test]
fn a_push_moves_the_tracking_ref_so_the_next_fetch_has_nothing_to_walk() {
    let (_remote_dir, url) = remote();
    let work = tempfile::tempdir().unwrap();
    let a = LocalRepo::clone_bare(&url, work.path().join("a")).unwrap();
    let b = LocalRepo::clone_bare(&url, work.path().join("b")).unwrap();
    let tracking = "refs/glueops/remotes/main";
    let tracked = |repo: &LocalRepo| repo.try_resolve(tracking).unwrap();
    let (author, trailers) = (author(), trailers("web"));
    let (one, two) = (files(&[("d.yaml", "1")]), files(&[("d.yaml", "2")]));
    let preview = |prefix, files| TreeChange {
        prefix,
        files,
        author: &author,
        message: "pr",
        trailers: &trailers,
    };
    // publish: fetch, commit, push; the ref names what landed.
    let PushOutcome::Pushed { commit: first, .. } = a
        .publish(&url, "main", &preview("previews/web-pr-1", &one), 3)
        .unwrap()
    else {
        panic!("nothing pushed")
    };
    assert_eq!(tracked(&a), Some(first.clone()));
    // push_commit and push_commit_if_at, of commits written without moving any ref.
    let commit_on = |base: &str, body: &str| {
        let mut edit = glueops_git::Edit::default();
        edit.write("clusters/a.yaml", body.as_bytes().to_vec())
            .unwrap();
        a.commit_edit(Some(base), &edit, &author, body, &[])
            .unwrap()
            .unwrap()
    };
    let second = commit_on(&first, "a: 1\n");
    assert!(a.push_commit(&url, &second, "main").unwrap());
    assert_eq!(tracked(&a), Some(second.clone()));
    let third = commit_on(&second, "a: 2\n");
    assert!(
        a.push_commit_if_at(&url, &third, "main", Some(&second))
            .unwrap()
    );
    assert_eq!(tracked(&a), Some(third.clone()));
    // A refused push leaves it where it was.
    let stale = commit_on(&second, "a: 3\n");
    assert!(
        !a.push_commit_if_at(&url, &stale, "main", Some(&second))
            .unwrap()
    );
    assert_eq!(tracked(&a), Some(third.clone()));
    // Another writer lands: a fetch says what the remote has.
    let PushOutcome::Pushed { commit: theirs, .. } = b
        .publish(&url, "main", &preview("previews/web-pr-2", &two), 3)
        .unwrap()
    else {
        panic!("nothing pushed")
    };
    assert_eq!(a.fetch(&url, "main").unwrap(), Some(theirs.clone()));
    assert_eq!(tracked(&a), Some(theirs));
}

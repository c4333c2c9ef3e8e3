//! `Edit`s: single paths written and removed on a commit, against the real `git`.

use crate::support::{author, bare, fsck, git, trailers};
use glueops_git::{Edit, blob_id};

fn edit(pairs: &[(&str, Option<&str>)]) -> Edit {
    let mut e = Edit::default();
    for (path, text) in pairs {
        match text {
            Some(t) => e.write(path, t.as_bytes().to_vec()).unwrap(),
            None => e.remove(path).unwrap(),
        }
    }
    e
}

#[test]
fn edits_touch_only_their_paths_and_empty_folders_go() {
    let (dir, repo) = bare();
    let first = edit(&[
        ("clusters/a/x.yaml", Some("x: 1\n")),
        ("clusters/a/sub/y.yaml", Some("y: 1\n")),
        ("clusters/b/z.yaml", Some("z: 1\n")),
        ("README.md", Some("hello\n")),
    ]);
    let c1 = repo
        .commit_edit(None, &first, &author(), "first", &trailers("api"))
        .unwrap()
        .unwrap();
    repo.set_branch("main", &c1, None).unwrap();
    // Remove a folder and write below it: the folder holds only the new file afterwards.
    let second = edit(&[
        ("clusters/a", None),
        ("clusters/a/new.yaml", Some("n: 1\n")),
        ("clusters/b/z.yaml", None),
    ]);
    let c2 = repo
        .commit_edit(Some(&c1), &second, &author(), "second", &[])
        .unwrap()
        .unwrap();
    repo.set_branch("main", &c2, Some(&c1)).unwrap();
    let files = git(dir.path(), &["ls-tree", "-r", "--name-only", "main"]);
    assert_eq!(files, "README.md\nclusters/a/new.yaml\n");
    fsck(dir.path());
    // The same edit again changes nothing: no commit.
    assert_eq!(
        repo.commit_edit(Some(&c2), &second, &author(), "again", &[])
            .unwrap(),
        None
    );
    // Listing by blob id agrees with git, and `main~1` is the first commit.
    let listed = repo.list("main", "clusters").unwrap();
    assert_eq!(
        listed.get("clusters/a/new.yaml").unwrap(),
        &blob_id(b"n: 1\n")
    );
    assert_eq!(
        git(dir.path(), &["rev-parse", "main:clusters/a/new.yaml"]).trim(),
        blob_id(b"n: 1\n")
    );
    assert_eq!(repo.resolve("main~1").unwrap(), c1);
    assert_eq!(repo.resolve("main^").unwrap(), c1);
    assert!(repo.resolve("main~2").is_err());
    let log = repo.log("main", 10).unwrap();
    assert_eq!(
        log.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(),
        ["second", "first"]
    );
    assert_eq!(log[1].trailers, trailers("api"));
    // A stale expectation is refused: another writer moved the branch.
    assert!(repo.set_branch("main", &c1, Some(&c1)).is_err());
    // Paths that leave the tree are refused before anything is written.
    assert!(Edit::default().write("../x", vec![]).is_err());
    assert!(Edit::default().remove("a//b").is_err());
}

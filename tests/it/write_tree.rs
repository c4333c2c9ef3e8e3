//! `write_tree` writes only changed files, removes stale ones under `clusters/`, and never
//! leaves the output folder.

use glueops::files::Files;
use glueops::{Error, write_tree};

fn files(pairs: &[(&str, &str)]) -> Files {
    Files::try_from_iter(pairs.iter().copied()).unwrap()
}

#[test]
fn writes_only_what_changed_and_removes_what_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let first = files(&[
        ("clusters/a/x.yaml", "x: 1\n"),
        ("clusters/a/y.yaml", "y: 1\n"),
        ("README.md", "keep\n"),
    ]);
    let s = write_tree(dir.path(), &first, |_| {}).unwrap();
    assert_eq!((s.written, s.unchanged, s.removed), (3, 0, 0));
    std::fs::write(dir.path().join("notes.yaml"), "not ours\n").unwrap();

    let second = files(&[("clusters/a/x.yaml", "x: 2\n"), ("README.md", "keep\n")]);
    let s = write_tree(dir.path(), &second, |_| {}).unwrap();
    assert_eq!((s.written, s.unchanged, s.removed), (1, 1, 1));
    assert!(!dir.path().join("clusters/a/y.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("clusters/a/x.yaml")).unwrap(),
        "x: 2\n"
    );
    assert!(
        dir.path().join("notes.yaml").exists(),
        "files outside clusters/ are never removed"
    );
}

#[test]
fn a_path_that_leaves_the_folder_never_reaches_the_writer() {
    // The only way to hand write_tree files is a `Files`, which checks every path.
    for bad in ["../escape.yaml", "/etc/passwd", "clusters//x.yaml"] {
        let err = Files::try_from_iter([(bad, "x\n")]).unwrap_err();
        assert_eq!(err.path, bad);
    }
}

#[test]
fn a_file_that_cannot_be_written_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // `clusters/a` is a file, so `clusters/a/x.yaml` cannot be created.
    std::fs::create_dir(dir.path().join("clusters")).unwrap();
    std::fs::write(dir.path().join("clusters/a"), "not a folder\n").unwrap();
    let err = write_tree(dir.path(), &files(&[("clusters/a/x.yaml", "x\n")]), |_| {}).unwrap_err();
    assert!(
        matches!(&err, Error::Io { path, .. } if path.ends_with("clusters/a")),
        "{err}"
    );
}

/// A symlink planted in the output tree (a file, or a folder on the way) is refused: nothing
/// outside the folder is written. Without the links, the same render writes (positive
/// control).
#[cfg(unix)]
#[test]
fn a_symlink_in_the_output_tree_is_never_written_through() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let tree = files(&[
        ("clusters/a/x.yaml", "x: 1\n"),
        ("clusters/b/y.yaml", "y: 1\n"),
    ]);

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("clusters/a")).unwrap();
    symlink(&victim, dir.path().join("clusters/a/x.yaml")).unwrap();
    let err = write_tree(dir.path(), &tree, |_| {}).unwrap_err();
    assert!(
        matches!(err, Error::Invalid { .. }) && err.to_string().contains("symlink"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("clusters")).unwrap();
    symlink(outside.path(), dir.path().join("clusters/b")).unwrap();
    let err = write_tree(dir.path(), &tree, |_| {}).unwrap_err();
    assert!(err.to_string().contains("symlink"), "{err}");
    assert!(
        !outside.path().join("y.yaml").exists(),
        "written through the link"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");

    std::fs::remove_file(dir.path().join("clusters/b")).unwrap();
    let s = write_tree(dir.path(), &tree, |_| {}).unwrap();
    assert_eq!(s.written, 2);
}

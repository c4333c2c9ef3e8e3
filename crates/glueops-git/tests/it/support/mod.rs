//! Shared helpers for the repository tests: the real `git`, and fixed authors and trailers.

use std::path::Path;
use std::process::Command;

use glueops_files::Files;
use glueops_git::{Author, LocalRepo, Trailer};

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
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
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn fsck(dir: &Path) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["fsck", "--strict", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git fsck --strict: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn files(pairs: &[(&str, &str)]) -> Files {
    Files::try_from_iter(pairs.iter().copied()).unwrap()
}

pub(crate) fn author() -> Author {
    Author {
        name: "glueops-bot".into(),
        email: "bot@glueops.dev".into(),
        time: Some("2026-11-24T12:00:00Z".parse().unwrap()),
    }
}

pub(crate) fn trailers(app: &str) -> Vec<Trailer> {
    vec![
        Trailer::new("Glueops-App", app).unwrap(),
        Trailer::new("Glueops-Env", "production").unwrap(),
        Trailer::new("Glueops-Image-Tag", "1.4.2").unwrap(),
    ]
}

pub(crate) fn bare() -> (tempfile::TempDir, LocalRepo) {
    let dir = tempfile::tempdir().unwrap();
    let repo = LocalRepo::init_bare(dir.path()).unwrap();
    (dir, repo)
}

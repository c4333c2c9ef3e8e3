//! The cache's clones stay packed: a command packs the loose objects its fetches and commits
//! (and earlier runs) left once they pass the limit, and so does an idle server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use glueops_testkit::repos::git;

use crate::serve::{INSIDE, Platform, SECRET, payload, post, wait_outcome, wait_until};

/// The clones in a cache folder.
fn clones(cache: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "git"))
        .collect();
    all.sort();
    all
}

fn loose(clone: &Path) -> usize {
    let counted = git(clone, &["count-objects", "-v"]);
    counted
        .lines()
        .find_map(|l| l.strip_prefix("count: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Adds 300 loose objects no ref points to (a long history of small fetches, in short).
fn pile_up(clone: &Path) {
    let files = tempfile::tempdir().unwrap();
    let paths: String = (0..300)
        .map(|i| {
            let path = files.path().join(format!("f{i}"));
            std::fs::write(&path, format!("{} {i}\n", clone.display())).unwrap();
            format!("{}\n", path.display())
        })
        .collect();
    let mut child = Command::new("git")
        .arg("-C")
        .arg(clone)
        .args(["hash-object", "-w", "--stdin-paths"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), paths.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(loose(clone) >= 300);
}

fn fsck(clone: &Path) {
    git(clone, &["fsck", "--strict", "--no-dangling"]);
}

#[test]
fn a_command_packs_the_clones_of_its_cache_once_loose_objects_pile_up() {
    let p = Platform::new();
    let cache = p.root.path().join("cli-cache");
    let sync = || {
        let out = Command::new(env!("CARGO_BIN_EXE_glueops"))
            .arg("sync")
            .args(["--config".as_ref(), p.repos.config.as_os_str()])
            .args(["--manifests".as_ref(), p.repos.manifests.as_os_str()])
            .args(["--cache".as_ref(), cache.as_os_str()])
            .args(["--now", INSIDE])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sync();
    let all = clones(&cache);
    assert_eq!(all.len(), 2, "{all:?}");
    for clone in &all {
        pile_up(clone);
    }
    // Nothing to release: the command still leaves its clones packed, none of it lost.
    sync();
    for clone in &all {
        assert_eq!(loose(clone), 0, "{} was not packed", clone.display());
        fsck(clone);
    }
}

#[test]
fn an_idle_server_packs_the_clones_of_its_cache() {
    let p = Platform::new();
    let served = p.start("cache", &["--resync", "1h"]);
    let cache = p.root.path().join("cache");
    let image = payload(
        "package/published.docker.payload.json",
        &[
            ("/repository/full_name", "acme/api".into()),
            ("/package/name", "api".into()),
            (
                "/package/package_version/container_metadata/tag/name",
                "9.9.1".into(),
            ),
        ],
    );
    post(&served, "package", "img-1", &image, SECRET);
    wait_outcome(&served, "img-1", "applied");
    let all = clones(&cache);
    assert!(!all.is_empty());
    for clone in &all {
        pile_up(clone);
    }
    post(&served, "package", "img-2", &image, SECRET);
    wait_outcome(&served, "img-2", "applied");
    assert!(
        wait_until(|| all.iter().all(|c| loose(c) <= 256)),
        "the idle server left its clones loose: {:?}\n{}",
        all.iter().map(|c| loose(c)).collect::<Vec<_>>(),
        served.log_text()
    );
    assert!(
        served
            .log_text()
            .contains("packed the cache's loose objects")
    );
    for clone in &all {
        fsck(clone);
    }
}

//! The cache's clones stay packed: a command packs the loose objects its fetches and commits
//! (and earlier runs) left once they pass the limit, and so does an idle server.

use std::path::{Path, PathBuf};

use glueops_testkit::repos::{git, loose_count as loose, write_loose_blobs};

use crate::serve::{Platform, SECRET, payload, post, wait_outcome, wait_until};

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

/// Adds 300 loose objects no ref points to (a long history of small fetches, in short).
fn pile_up(clone: &Path) {
    write_loose_blobs(clone, "pile", 300);
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
        let out = p.cli(&["sync"]);
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
    // Once the server idled after it (the objects are piled up between two idle passes).
    let idled_after_img_1 = || {
        let log = served.log_text();
        log.find("\"img-1\"")
            .is_some_and(|at| log[at..].contains("status refreshed"))
    };
    assert!(wait_until(idled_after_img_1), "{}", served.log_text());
    let all = clones(&cache);
    assert!(!all.is_empty());
    for clone in &all {
        pile_up(clone);
    }
    post(&served, "package", "img-2", &image, SECRET);
    wait_outcome(&served, "img-2", "applied");
    // The server logs the packing once git finished it.
    let packed = || {
        served
            .log_text()
            .contains("packed the cache's loose objects")
    };
    assert!(
        wait_until(packed),
        "the idle server did not pack its clones: {:?}\n{}",
        all.iter().map(|c| loose(c)).collect::<Vec<_>>(),
        served.log_text()
    );
    for clone in &all {
        assert!(loose(clone) <= 256, "{} left loose", clone.display());
        fsck(clone);
    }
}

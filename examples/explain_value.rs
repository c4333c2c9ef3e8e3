//! Where did this value come from? Load a repo and print the file and line that set one key
//! of one deployment, and the layers that were merged to get there.
//!
//! `cargo run -p glueops-examples --example explain_value -- examples/demo-config api production deployment.replicas`

use std::process::ExitCode;

use glueops::model::{Repo, Segment};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, app, env, key] = args.as_slice() else {
        eprintln!("usage: explain_value <config-repo> <app> <env> <dotted.key>");
        return ExitCode::from(2);
    };
    let repo = match Repo::load(dir) {
        Ok(repo) => repo,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return ExitCode::FAILURE;
        }
    };
    let Some(tree) = repo.effective_values(app, env) else {
        eprintln!("`{app}` is not deployed to `{env}`");
        return ExitCode::FAILURE;
    };
    // A dotted key is a path of map keys (and list indexes, written as numbers).
    let path: Vec<Segment> = key
        .split('.')
        .map(|part| match part.parse::<usize>() {
            Ok(i) => Segment::Index(i),
            Err(_) => Segment::from(part),
        })
        .collect();
    match tree.get(&path) {
        Some(node) => {
            println!("{key} = {}", node.to_json());
            println!("set at {}", node.location);
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("`{key}` is not set for {app} in {env}");
            ExitCode::FAILURE
        }
    }
}

//! `cargo run --example explain -- <repo> <app> <env>`: prints the merged values of one app
//! in one environment, each leaf annotated with the file and line it came from. Use
//! `pr-<N>` as the environment for the preview of pull request N.

use std::process::ExitCode;

use glueops::model::{Repo, explain};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, app, env] = args.as_slice() else {
        eprintln!("usage: explain <config-repo> <app> <env|pr-N>");
        return ExitCode::from(2);
    };
    let repo = match Repo::load(path) {
        Ok(repo) => repo,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return ExitCode::FAILURE;
        }
    };
    let preview;
    let tree = match env.strip_prefix("pr-").and_then(|n| n.parse::<u64>().ok()) {
        Some(number) => match repo.preview(app, number) {
            Ok(p) => {
                preview = p;
                &preview.tree
            }
            Err(diagnostics) => {
                eprintln!("{diagnostics}");
                return ExitCode::FAILURE;
            }
        },
        None => match repo.effective_values(app, env) {
            Some(tree) => tree,
            None => {
                let known: Vec<String> = repo
                    .deployments()
                    .map(|d| format!("{} {}", d.app, d.environment().unwrap_or_default()))
                    .collect();
                eprintln!(
                    "error: `{app}` is not deployed to `{env}`; deployments: {}",
                    known.join(", ")
                );
                return ExitCode::FAILURE;
            }
        },
    };
    print!("{}", explain(tree));
    ExitCode::SUCCESS
}

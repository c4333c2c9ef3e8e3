//! `glueops`: the command line over the glueops libraries. Argument parsing, progress and
//! printing live here; everything else is a library call.
//!
//! Exit codes: 0 done, 1 error or bad config, 2 usage, 3 refused or held by a rule, 4 drift
//! found.

mod error;
mod explain;
mod flags;
mod flows;
mod forge;
mod history;
mod images;
mod previews;
mod render;
mod report;
mod secrets;
mod serve;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Rendering allocates many small objects on every core; glibc's per-thread arenas grow with
// one `mprotect` per few pages, which cost a third of a render (`benches/kustomize_vs_glueops.py`
// measured 41.6 ms with glibc's allocator against 25.9 ms with mimalloc at 100 apps × 3).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// GitOps for deployment-configurations repos: validate, explain and render them into
/// Kubernetes manifests; release them to a manifest repo behind approvals and deploy windows,
/// with previews, bumps, promotions, rollbacks, drift and DORA figures; keep their secrets in
/// a store.
#[derive(Debug, Parser)]
#[command(name = "glueops", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load a config repo and print its apps × environments (replicas, image, hostnames), or
    /// every problem, located.
    Validate {
        /// The config repo (the folder holding glueops.yaml).
        repo: PathBuf,
        /// Fail (exit 1) on warnings too: for CI.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Print the merged values of one app in one environment, each leaf annotated with the
    /// file and line it came from.
    Explain {
        /// The config repo.
        repo: PathBuf,
        /// The app.
        app: String,
        /// The environment, or `pr-<N>` for the preview of pull request N.
        env: String,
    },
    /// Render every deployment (and the previews asked for) into a manifest-repo tree.
    Render(render::Args),
    /// Read, write, version, back up and migrate secrets in any store.
    Secrets(secrets::Args),
    /// Make the manifest branch what the gates allow: only changed files written, one commit.
    Sync(flows::SyncArgs),
    /// Open, close and collect pull-request previews.
    Preview(previews::PreviewArgs),
    /// Set an app's image tag in one environment of the config repo (only that scalar's
    /// bytes change), then optionally sync.
    Bump(flows::BumpArgs),
    /// Promote an app to an environment: the tag released in its `promotion.from`, through
    /// its deploy windows and approvals.
    Promote(flows::PromoteArgs),
    /// Per app and environment with an `imagePolicy`: the tag it runs and the newest its
    /// registry offers that the policy allows; `--update` bumps the `auto` environments.
    Images(images::ImagesArgs),
    /// Roll an app back to its previous (or a named) tag, released at once.
    Rollback(flows::RollbackArgs),
    /// Compare a fresh render with the manifest branch: exit 4 when files differ.
    Drift(flows::DriftArgs),
    /// What a config change would change in the manifests (Markdown for a PR comment).
    Diff(history::DiffArgs),
    /// Deployment frequency, lead time, change failure rate and time to restore, from the
    /// manifest history.
    Dora(history::DoraArgs),
    /// Run the platform as a webhook server: GitHub and GitLab events in, releases out;
    /// /healthz, /readyz, /status and /metrics for operators.
    Serve(Box<serve::ServeArgs>),
    /// Serve the dashboard alone on 127.0.0.1, read only: every app's path to production,
    /// previews, releases and DORA figures, from the config and manifest repos.
    Dashboard(serve::DashboardArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate {
            repo,
            deny_warnings,
        } => validate::run(&repo, deny_warnings),
        Command::Explain { repo, app, env } => explain::run(&repo, &app, &env).map(|()| 0),
        Command::Render(args) => render::run(&args).map(|()| 0),
        Command::Secrets(args) => secrets::run(args).map(|()| 0),
        Command::Sync(args) => flows::sync(&args),
        Command::Preview(args) => previews::preview(&args),
        Command::Bump(args) => flows::bump(&args),
        Command::Images(args) => images::run(&args),
        Command::Promote(args) => flows::promote(&args),
        Command::Rollback(args) => flows::rollback(&args),
        Command::Drift(args) => flows::drift(&args),
        Command::Diff(args) => history::diff(&args),
        Command::Dora(args) => history::dora(&args),
        Command::Serve(args) => serve::serve(*args),
        Command::Dashboard(args) => serve::dashboard(args),
    };
    flows::keep_cache_packed();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            e.report();
            ExitCode::from(e.exit_code())
        }
    }
}

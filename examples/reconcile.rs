//! A controller's reconcile loop over glueops: the desired state (which config repo and
//! branch, which manifest repo) arrives on a `watch` channel, as a custom resource's spec
//! would; the loop makes the manifest branch what that config renders, on every change and
//! on a timer, with exponential backoff after errors. `glueops::sync` blocks (git, files),
//! so it runs on tokio's blocking pool; abandoning a pass at any point (the task aborted,
//! the process killed) leaves the manifest branch at the old commit or the new one, and the
//! next pass converges.
//!
//! ```sh
//! cargo run -p glueops-examples --example reconcile -- CONFIG_REPO MANIFEST_REPO
//! ```

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

/// What the manifest branch should be rendered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// The config repo (path or URL).
    pub config: String,
    /// Its branch (`None`: the remote's default branch).
    pub config_branch: Option<String>,
    /// The manifest repo (path or URL).
    pub manifests: String,
    /// Bumped by whoever changes the desired state without changing the fields above (a
    /// push to the config branch, say), so the loop reconciles at once.
    pub generation: u64,
}

/// How the loop runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where glueops keeps its clones.
    pub cache: PathBuf,
    /// A pass at least this often, even with no change (repairs what a lost signal missed).
    pub resync: Duration,
    /// The first wait after an error; doubled after each one that follows.
    pub backoff: Duration,
    /// The longest wait after errors.
    pub max_backoff: Duration,
    /// What the passes remember between them (branch tips, config claims): one long-running
    /// session, since this loop is its manifest branch's usual writer.
    pub session: std::sync::Arc<glueops::Session>,
}

/// What one pass did.
#[derive(Debug)]
pub enum Pass {
    /// A commit was pushed to the manifest branch.
    Released {
        /// The commit.
        commit: String,
        /// The generation it was made for.
        generation: u64,
    },
    /// The manifest branch already was what the config renders (or what the gates allow).
    Unchanged {
        /// The generation checked.
        generation: u64,
    },
    /// The pass failed; the next one runs after `retry_in` (or on the next change).
    Failed {
        /// Why, with its causes.
        error: String,
        /// The backoff before the next attempt.
        retry_in: Duration,
    },
}

/// Runs until the desired-state sender is dropped (or the report receiver is), reporting
/// each pass on `report`.
pub async fn reconcile(
    settings: Settings,
    mut desired: watch::Receiver<Desired>,
    report: mpsc::Sender<Pass>,
) {
    let mut backoff = settings.backoff;
    loop {
        let want = desired.borrow_and_update().clone();
        let pass = match sync(&settings, &want).await {
            Err(error) => {
                let retry_in = backoff;
                backoff = (backoff * 2).min(settings.max_backoff);
                Pass::Failed { error, retry_in }
            }
            Ok(pass) => {
                backoff = settings.backoff;
                pass
            }
        };
        let (failed, wait) = match &pass {
            Pass::Failed { retry_in, .. } => (true, *retry_in),
            _ => (false, settings.resync),
        };
        if report.send(pass).await.is_err() {
            return;
        }
        if failed {
            // Errors back off even when changes keep coming; the change is kept (a watch
            // channel holds the latest) and taken by the next pass.
            tokio::time::sleep(wait).await;
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            changed = desired.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// One `glueops::sync` of `want`, off the async runtime; `Err` says why it failed.
async fn sync(settings: &Settings, want: &Desired) -> Result<Pass, String> {
    let mut opts = glueops::Options::new(settings.cache.clone(), jiff::Timestamp::now());
    opts.config_branch = want.config_branch.clone();
    opts.session = std::sync::Arc::clone(&settings.session);
    let (config, manifests) = (want.config.clone(), want.manifests.clone());
    let result =
        tokio::task::spawn_blocking(move || glueops::sync(&config, &manifests, &opts)).await;
    match result {
        Ok(Ok(outcome)) => Ok(match outcome.commit {
            Some(commit) => Pass::Released {
                commit,
                generation: want.generation,
            },
            None => Pass::Unchanged {
                generation: want.generation,
            },
        }),
        Ok(Err(e)) => Err(chain(&e)),
        Err(join) => Err(format!("the sync task stopped: {join}")),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(config), Some(manifests)) = (args.next(), args.next()) else {
        eprintln!("usage: reconcile CONFIG_REPO MANIFEST_REPO");
        std::process::exit(2);
    };
    let settings = Settings {
        cache: std::env::temp_dir().join("glueops-reconcile"),
        resync: Duration::from_secs(60),
        backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(60),
        session: std::sync::Arc::new(glueops::Session::long_running()),
    };
    let (_keep, desired) = watch::channel(Desired {
        config,
        config_branch: None,
        manifests,
        generation: 0,
    });
    let (report, mut passes) = mpsc::channel(16);
    tokio::spawn(reconcile(settings, desired, report));
    while let Some(pass) = passes.recv().await {
        println!("{pass:?}");
    }
}

#[cfg(test)]
#[path = "reconcile_test.rs"]
mod tests;

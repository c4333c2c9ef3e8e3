//! `glueops preview open|close|gc`.

use glueops::{PreviewOutcome, PreviewTarget, PullRequest};

use crate::error::Error;
use crate::flows::{Branch, Common, Repos};
use crate::report::Report;
use crate::report::short;

/// `glueops preview`.
#[derive(Debug, clap::Args)]
pub(crate) struct PreviewArgs {
    #[command(subcommand)]
    action: PreviewAction,
    /// The manifest branch (default `spec.manifestRepo.branch` in glueops.yaml, else `main`).
    #[arg(long, global = true)]
    manifest_branch: Option<String>,
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    feedback: crate::forge::FeedbackArgs,
}

/// The app, or the source repository whose apps get the preview.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub(crate) struct Target {
    /// The app.
    #[arg(long)]
    app: Option<String>,
    /// The source repository (`OWNER/NAME`): every app whose `source.repo` it is.
    #[arg(long)]
    source_repo: Option<String>,
}

impl Target {
    fn target(&self) -> PreviewTarget {
        match (&self.app, &self.source_repo) {
            (Some(app), _) => PreviewTarget::App(app.clone()),
            (None, Some(repo)) => PreviewTarget::SourceRepo(repo.clone()),
            (None, None) => PreviewTarget::App(String::new()),
        }
    }
}

#[derive(Debug, clap::Subcommand)]
enum PreviewAction {
    /// Render one pull request's preview (image tag = its head sha) and its delivery object.
    Open {
        #[command(flatten)]
        repos: Repos,
        #[command(flatten)]
        target: Target,
        /// The pull request number.
        #[arg(long)]
        pr: u64,
        /// Its head commit.
        #[arg(long)]
        sha: String,
        /// Its head branch.
        #[arg(long)]
        branch: Option<String>,
        /// Its labels; repeatable (for `previews.labels`).
        #[arg(long = "label")]
        labels: Vec<String>,
    },
    /// Remove exactly one pull request's preview.
    Close {
        #[command(flatten)]
        repos: Repos,
        #[command(flatten)]
        target: Target,
        /// The pull request number.
        #[arg(long)]
        pr: u64,
    },
    /// Remove previews older than `previews.ttl`.
    Gc {
        #[command(flatten)]
        repos: Repos,
    },
}

pub(crate) fn preview(args: &PreviewArgs) -> Result<u8, Error> {
    let opts = args.common.options(&Branch {
        branch: args.manifest_branch.clone(),
    });
    let outcome = match &args.action {
        PreviewAction::Open {
            repos,
            target,
            pr,
            sha,
            branch,
            labels,
        } => {
            let pr = PullRequest {
                number: *pr,
                sha: Some(sha.clone()),
                branch: branch.clone(),
                labels: labels.clone(),
            };
            glueops::open_preview(
                &repos.config,
                &repos.manifests,
                &target.target(),
                &pr,
                &opts,
            )?
        }
        PreviewAction::Close { repos, target, pr } => glueops::close_preview(
            &repos.config,
            &repos.manifests,
            &target.target(),
            *pr,
            &opts,
        )?,
        PreviewAction::Gc { repos } => {
            glueops::gc_previews(&repos.config, &repos.manifests, &opts)?
        }
    };
    tell_preview(args, &opts, &outcome)?;
    args.common.report(|| Report::preview(&outcome))?;
    if !args.common.json(&outcome)? {
        print_preview(&outcome);
    }
    Ok(0)
}

/// Tells the pull request what became of its previews (open and close only).
fn tell_preview(
    args: &PreviewArgs,
    opts: &glueops::Options,
    outcome: &PreviewOutcome,
) -> Result<(), Error> {
    let (repos, target, number, sha, branch, open) = match &args.action {
        PreviewAction::Open {
            repos,
            target,
            pr,
            sha,
            branch,
            ..
        } => (repos, target, *pr, sha.clone(), branch.clone(), true),
        PreviewAction::Close { repos, target, pr } => {
            (repos, target, *pr, String::new(), None, false)
        }
        PreviewAction::Gc { .. } => return Ok(()),
    };
    let names: Vec<&String> = outcome.opened.iter().chain(&outcome.closed).collect();
    let apps: Vec<String> = names
        .iter()
        .filter_map(|n| n.rsplit_once("-pr-").map(|(app, _)| app.to_string()))
        .collect();
    // The pull request's repository: given, or the app's `source.repo`.
    let repo = match (&target.source_repo, &target.app) {
        (Some(repo), _) => Some(repo.clone()),
        (None, Some(app)) => source_repo(repos, app, opts),
        (None, None) => None,
    };
    let Some(repo) = repo else {
        return Ok(());
    };
    let pull = glueops::feedback::PreviewPull {
        repo,
        number,
        sha,
        branch: branch.unwrap_or_default(),
        apps,
        open,
    };
    args.feedback
        .tell(&args.common.destination(opts, repos), |f| {
            f.preview(&pull, outcome)
        })
}

/// The `source.repo` of `app` (any of its deployments).
fn source_repo(repos: &Repos, app: &str, opts: &glueops::Options) -> Option<String> {
    let config =
        glueops::Config::open(&repos.config, opts, opts.config_branch.as_deref(), false).ok()?;
    let repo = config.repo().ok()?;
    repo.deployments()
        .filter(|d| d.app == app)
        .find_map(|d| d.values.source.as_ref().and_then(|s| s.repo.clone()))
}

fn print_preview(o: &PreviewOutcome) {
    if let Some(why) = &o.skipped {
        println!("no preview: {why}");
    }
    for name in &o.opened {
        println!("  opened   {name}");
    }
    for name in &o.closed {
        println!("  closed   {name}");
    }
    match &o.commit {
        Some(c) => println!(
            "preview: committed {} ({} files written, {} removed)",
            short(c),
            o.written.len(),
            o.removed.len()
        ),
        None => println!("preview: nothing to change"),
    }
}

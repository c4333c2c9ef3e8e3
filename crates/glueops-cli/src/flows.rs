//! The platform loop's subcommands: sync, bump, promote, rollback and drift here; preview in
//! `previews`, diff and dora in `history`.
//! Each parses its arguments, calls one library function and prints the result (or its JSON).
//!
//! Exit codes: 0 done, 1 error or bad config, 2 usage, 3 refused or held by a rule, 4 drift.

use std::path::PathBuf;

use glueops::plan::{Change, Plan};
use glueops::{Options, Outcome, Release};
use jiff::Timestamp;

use crate::error::Error;
use crate::report::{Report, short};

/// Exit code: refused or held by a rule.
pub(crate) const REFUSED: u8 = 3;
/// Exit code: drift found.
pub(crate) const DRIFT: u8 = 4;

/// Settings every loop command takes.
#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// Print the plan or result as JSON.
    #[arg(long, global = true)]
    json: bool,
    /// The time used for windows, ages and commit timestamps (RFC 3339; default now).
    #[arg(long, global = true)]
    now: Option<Timestamp>,
    /// Where the bare clones are kept (default: the user's cache folder, `glueops/repos`).
    #[arg(long, global = true)]
    cache: Option<PathBuf>,
    /// The config branch (default the config repository's default branch).
    #[arg(long, global = true)]
    config_branch: Option<String>,
    /// Also append the result as Markdown to FILE (a CI job summary: `$GITHUB_STEP_SUMMARY`).
    #[arg(long, global = true, value_name = "FILE")]
    summary: Option<PathBuf>,
    /// Also append `result`, `changed`, `commit`, `reason` and `held` as `name=value` lines to
    /// FILE (the format of `$GITHUB_OUTPUT`).
    #[arg(long, global = true, value_name = "FILE")]
    outputs: Option<PathBuf>,
    /// How long one git process (a fetch, a push) may run before it is stopped, e.g. `120s`
    /// or `5m`.
    #[arg(long, global = true, env = "GLUEOPS_GIT_TIMEOUT", default_value = "120s", value_parser = crate::flags::duration)]
    git_timeout: std::time::Duration,
}

impl Common {
    pub(crate) fn options(&self, branch: &Branch) -> Options {
        let cache = self.cache.clone().unwrap_or_else(default_cache);
        let _first = CACHE_USED.set(cache.clone());
        let mut opts = Options::new(cache, self.now.unwrap_or_else(Timestamp::now));
        opts.branch = branch.branch.clone();
        opts.config_branch = self.config_branch.clone();
        opts.git_timeout = self.git_timeout;
        opts
    }

    /// Where feedback about `repos` goes.
    pub(crate) fn destination<'a>(
        &'a self,
        opts: &'a Options,
        repos: &'a Repos,
    ) -> crate::forge::Destination<'a> {
        crate::forge::Destination {
            cache: &opts.cache,
            config: &repos.config,
            manifests: &repos.manifests,
            config_branch: self.config_branch.as_deref(),
        }
    }

    /// Writes the CI summary and outputs when asked (`report` is only made then).
    pub(crate) fn report(&self, report: impl FnOnce() -> Report) -> Result<(), Error> {
        if self.summary.is_none() && self.outputs.is_none() {
            return Ok(());
        }
        report().write(self.summary.as_deref(), self.outputs.as_deref())
    }

    /// Prints `value` as JSON when asked; true when it did.
    pub(crate) fn json<T: serde::Serialize>(&self, value: &T) -> Result<bool, Error> {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).map_err(Error::Json)?
            );
        }
        Ok(self.json)
    }
}

/// The cache folder the command works in, its clones packed once the command is done.
static CACHE_USED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Packs the clones of the cache folder the command used when their loose objects piled up
/// (every fetch and commit leaves some; thousands slow each later fetch and push). A failure
/// is a warning: the command's own result stands.
pub(crate) fn keep_cache_packed() {
    let Some(cache) = CACHE_USED.get() else {
        return;
    };
    if let Err(e) = glueops::keep_packed(cache) {
        eprintln!(
            "warning: could not pack the clones in {}: {e} (they still work; `git repack -d` in one, or removing the folder, fixes it)",
            cache.display()
        );
    }
}

/// The manifest branch.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct Branch {
    /// The manifest branch (default `spec.manifestRepo.branch` in glueops.yaml, else `main`).
    #[arg(long)]
    pub(crate) branch: Option<String>,
}

pub(crate) fn default_cache() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("glueops").join("repos")
}

/// The config and manifest repositories.
#[derive(Debug, clap::Args)]
pub(crate) struct Repos {
    /// The config repo: a git repository (path, file://, http(s)://, ssh://) or a folder.
    #[arg(long)]
    pub(crate) config: String,
    /// The manifest repo: a git repository (path or URL).
    #[arg(long)]
    pub(crate) manifests: String,
}

/// `glueops sync`.
#[derive(Debug, clap::Args)]
pub(crate) struct SyncArgs {
    #[command(flatten)]
    repos: Repos,
    /// Plan and print; commit nothing.
    #[arg(long)]
    dry_run: bool,
    /// Allow removing deployments the config commits did not delete.
    #[arg(long)]
    allow_delete: bool,
    #[command(flatten)]
    branch: Branch,
    #[command(flatten)]
    feedback: crate::forge::FeedbackArgs,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn sync(args: &SyncArgs) -> Result<u8, Error> {
    let mut opts = args.common.options(&args.branch);
    opts.dry_run = args.dry_run;
    opts.allow_delete = args.allow_delete;
    opts.checks = args.feedback.checks(&args.repos.config, &opts)?;
    let outcome = glueops::sync(&args.repos.config, &args.repos.manifests, &opts)?;
    if !outcome.dry_run {
        args.feedback
            .tell(&args.common.destination(&opts, &args.repos), |f| {
                f.release(&outcome, "release")
            })?;
    }
    args.common.report(|| Report::outcome("sync", &outcome))?;
    if !args.common.json(&outcome)? {
        print_outcome("sync", &outcome);
    }
    Ok(if outcome.plan.refused.is_some() {
        REFUSED
    } else {
        0
    })
}

fn print_outcome(what: &str, o: &Outcome) {
    let p = &o.plan;
    if let Some(r) = &p.refused {
        eprintln!("{what} refused: {}\n  help: {}", r.reason, r.help);
        return;
    }
    print_plan(p);
    match (&o.commit, o.dry_run) {
        (Some(c), _) => println!(
            "{what}: committed {} ({} files written, {} removed{})",
            short(c),
            p.written.len(),
            p.removed.len(),
            if o.attempts > 1 {
                format!(", {} attempts", o.attempts)
            } else {
                String::new()
            }
        ),
        (None, true) => println!(
            "{what} (dry run): would write {} and remove {} files",
            p.written.len(),
            p.removed.len()
        ),
        (None, false) => println!("{what}: nothing to change"),
    }
}

fn print_plan(p: &Plan) {
    for d in &p.deployments {
        let verb = match d.change {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        };
        let tag = d
            .tag
            .as_deref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default();
        println!("  {verb:8} {}/{}{tag} ({} files)", d.app, d.env, d.files);
    }
    for h in &p.held {
        for hold in &h.holds {
            println!("  held     {}/{}: {hold}", h.app, h.env);
        }
    }
    for path in &p.repaired {
        println!("  repaired {path} (changed by someone else)");
    }
}

/// `glueops bump`.
#[derive(Debug, clap::Args)]
pub(crate) struct BumpArgs {
    /// The config repo (a git repository).
    #[arg(long)]
    config: String,
    /// The app.
    #[arg(long)]
    app: String,
    /// The environment.
    #[arg(long)]
    env: String,
    /// The new image tag.
    #[arg(long)]
    tag: String,
    /// The source commit the image was built from (for lead time).
    #[arg(long, requires = "source_time")]
    source_commit: Option<String>,
    /// When that commit was made (RFC 3339).
    #[arg(long, requires = "source_commit")]
    source_time: Option<Timestamp>,
    /// The manifest repo: sync after the edit.
    #[arg(long)]
    manifests: Option<String>,
    #[command(flatten)]
    branch: Branch,
    #[command(flatten)]
    feedback: crate::forge::FeedbackArgs,
    #[command(flatten)]
    common: Common,
}

/// The bump, and the sync that releases it planned while the bump's push is in flight (this
/// one process writes both branches, as `glueops serve` does): the release is pushed only once
/// the config remote accepted the bump; when it refused it (another writer moved the config
/// branch), the bump is made again on the new tip and the sync runs after it.
fn bump_then_sync(
    config: &str,
    request: &glueops::Bump<'_>,
    manifests: &str,
    opts: &glueops::Options,
) -> Result<(glueops::ConfigEdit, glueops::Outcome), Error> {
    // One session for both: the sync plans on the config commit the bump pushed.
    let mut opts = opts.clone();
    opts.session = std::sync::Arc::new(glueops::Session::long_running());
    let opts = &opts;
    let (edit, beside) = glueops::bump_beside(config, request, opts, || {
        glueops::sync(config, manifests, opts)
    })?;
    let synced = match beside {
        Some(Err(glueops::Error::Superseded { .. })) | None => {
            glueops::sync(config, manifests, opts)?
        }
        Some(result) => result?,
    };
    Ok((edit, synced))
}

pub(crate) fn bump(args: &BumpArgs) -> Result<u8, Error> {
    let opts = args.common.options(&args.branch);
    let source = match (&args.source_commit, args.source_time) {
        (Some(commit), Some(time)) => Some(glueops::SourceCommit {
            commit: commit.clone(),
            time,
        }),
        _ => None,
    };
    let request = glueops::Bump {
        app: &args.app,
        env: &args.env,
        tag: &args.tag,
        source: source.as_ref(),
        extra: &[],
    };
    if let Some(code) = propose_if_asked(args, &request, &opts)? {
        return Ok(code);
    }
    let (edit, synced) = match &args.manifests {
        Some(m) => {
            let (edit, synced) = bump_then_sync(&args.config, &request, m, &opts)?;
            (edit, Some(synced))
        }
        None => (
            glueops::bump(
                &args.config,
                request.app,
                request.env,
                request.tag,
                request.source,
                request.extra,
                &opts,
            )?,
            None,
        ),
    };
    if let (Some(manifests), Some(synced)) = (&args.manifests, &synced) {
        let repos = Repos {
            config: args.config.clone(),
            manifests: manifests.clone(),
        };
        args.feedback
            .tell(&args.common.destination(&opts, &repos), |f| {
                f.release(synced, "release")
            })?;
    }
    args.common
        .report(|| Report::bump(&edit, &args.tag, synced.as_ref()))?;
    if args
        .common
        .json(&serde_json::json!({ "config": edit, "sync": synced }))?
    {
        return Ok(0);
    }
    match edit.changed {
        true => println!(
            "bump: {} image.tag = {} (config {})",
            edit.path,
            args.tag,
            short(&edit.commit)
        ),
        false => println!("bump: {} already has image.tag {}", edit.path, args.tag),
    }
    if let Some(o) = &synced {
        print_outcome("sync", o);
    }
    Ok(0)
}

/// `glueops promote`.
#[derive(Debug, clap::Args)]
pub(crate) struct PromoteArgs {
    #[command(flatten)]
    repos: Repos,
    /// The app.
    #[arg(long)]
    app: String,
    /// The environment to promote to (its `promotion.from` is the source).
    #[arg(long)]
    to: String,
    /// An approver (identity verified by the caller); repeatable.
    #[arg(long = "approved-by")]
    approved_by: Vec<String>,
    /// Propose the promotion as a pull request (branch `glueops/promote/<app>/<env>`, the
    /// release notes in its description) instead of committing it; the forge's reviews are
    /// its approvals, and the gates hold the release after the merge as any other.
    #[arg(long, conflicts_with = "approved_by")]
    pull_request: bool,
    #[command(flatten)]
    branch: Branch,
    #[command(flatten)]
    feedback: crate::forge::FeedbackArgs,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn promote(args: &PromoteArgs) -> Result<u8, Error> {
    let mut opts = args.common.options(&args.branch);
    opts.checks = args.feedback.checks(&args.repos.config, &opts)?;
    if args.pull_request {
        let proposal = glueops::propose_promotion(
            &args.repos.config,
            &args.repos.manifests,
            &args.app,
            &args.to,
            &opts,
        )?;
        return report_proposal(&args.feedback, &args.common, &opts, &args.repos, &proposal);
    }
    let r = glueops::promote(
        &args.repos.config,
        &args.repos.manifests,
        &args.app,
        &args.to,
        &args.approved_by,
        &opts,
    )?;
    tell_release(
        &args.feedback,
        &args.common,
        &opts,
        &args.repos,
        &r,
        "release",
    )?;
    report_release("promote", &args.common, &r)
}

/// `glueops rollback`.
#[derive(Debug, clap::Args)]
pub(crate) struct RollbackArgs {
    #[command(flatten)]
    repos: Repos,
    /// The app.
    #[arg(long)]
    app: String,
    /// The environment.
    #[arg(long)]
    env: String,
    /// The tag to go back to (default: the release before the current one).
    #[arg(long)]
    to: Option<String>,
    /// Why (recorded in the trailers).
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    branch: Branch,
    #[command(flatten)]
    feedback: crate::forge::FeedbackArgs,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn rollback(args: &RollbackArgs) -> Result<u8, Error> {
    let opts = args.common.options(&args.branch);
    let r = glueops::rollback(
        &args.repos.config,
        &args.repos.manifests,
        &args.app,
        &args.env,
        args.to.as_deref(),
        &args.reason,
        &opts,
    )?;
    tell_release(
        &args.feedback,
        &args.common,
        &opts,
        &args.repos,
        &r,
        "rollback",
    )?;
    report_release("rollback", &args.common, &r)
}

/// A bump of an environment whose `promotion.mode` is `pull-request`: proposed on its branch,
/// with its pull request (nothing committed to the config branch); `None` for a direct one.
fn propose_if_asked(
    args: &BumpArgs,
    request: &glueops::Bump<'_>,
    opts: &Options,
) -> Result<Option<u8>, Error> {
    let config = glueops::Config::open(&args.config, opts, opts.config_branch.as_deref(), false)?;
    let mode = config
        .platform()?
        .environment(&args.env)
        .and_then(|e| e.promotion.as_ref())
        .and_then(|p| p.mode);
    if mode != Some(glueops::model::platform::PromotionMode::PullRequest) {
        return Ok(None);
    }
    let proposal = glueops::propose_bump(&args.config, request, opts)?;
    let repos = Repos {
        config: args.config.clone(),
        manifests: args.manifests.clone().unwrap_or_default(),
    };
    report_proposal(&args.feedback, &args.common, opts, &repos, &proposal).map(Some)
}

/// Tells the forge a proposal's pull request, with what merging it does (the rendered diff
/// and each environment's gate; a branch someone else committed to is only reported).
pub(crate) fn tell_proposal(
    feedback: &crate::forge::FeedbackArgs,
    common: &Common,
    opts: &Options,
    repos: &Repos,
    proposal: &glueops::Proposal,
) -> Result<(), Error> {
    let review = match &proposal.commit {
        Some(commit) if proposal.moved.is_none() => Some(glueops::review_config(
            &repos.config,
            (!repos.manifests.is_empty()).then_some(repos.manifests.as_str()),
            &proposal.base,
            commit,
            opts,
        )?),
        _ => None,
    };
    feedback.tell(&common.destination(opts, repos), |f| {
        f.proposal(proposal, review.as_ref())
    })?;
    Ok(())
}

/// Tells the forge a proposal's pull request (with what merging it does) and prints it:
/// exit 3 when the branch holds someone else's commit.
fn report_proposal(
    feedback: &crate::forge::FeedbackArgs,
    common: &Common,
    opts: &Options,
    repos: &Repos,
    proposal: &glueops::Proposal,
) -> Result<u8, Error> {
    tell_proposal(feedback, common, opts, repos, proposal)?;
    if common.json(proposal)? {
        return Ok(0);
    }
    match (&proposal.moved, &proposal.commit) {
        (Some(commit), _) => {
            println!(
                "{}: holds {}, a commit that is not glueops': left as it is (push your change there, or delete the branch)",
                proposal.branch,
                short(commit)
            );
            Ok(REFUSED)
        }
        (None, Some(commit)) => {
            println!(
                "proposed on {} ({}{}); merging it releases it",
                proposal.branch,
                short(commit),
                if proposal.changed { "" } else { ", unchanged" }
            );
            Ok(0)
        }
        (None, None) => {
            println!(
                "{}: nothing to propose, the config branch has it already",
                proposal.branch
            );
            Ok(0)
        }
    }
}

/// Tells the forge what a promote or rollback released (`kind` names it in notifications).
fn tell_release(
    feedback: &crate::forge::FeedbackArgs,
    common: &Common,
    opts: &Options,
    repos: &Repos,
    r: &Release,
    kind: &str,
) -> Result<(), Error> {
    if let Release::Released { sync, .. } = r {
        feedback.tell(&common.destination(opts, repos), |f| f.release(sync, kind))?;
    }
    Ok(())
}

fn report_release(what: &str, common: &Common, r: &Release) -> Result<u8, Error> {
    let code = match r {
        Release::Released { .. } => 0,
        Release::Refused(_) => REFUSED,
    };
    common.report(|| Report::release(what, r))?;
    if common.json(r)? {
        return Ok(code);
    }
    match r {
        Release::Released { tag, sync, .. } => {
            if what == "rollback" {
                println!(
                    "rollback to {tag}: released at once (deploy windows and approvals bypassed)"
                );
            }
            print_outcome(what, sync);
        }
        Release::Refused(refused) => {
            eprintln!("{what} refused: {}/{} is held", refused.app, refused.env);
            for hold in &refused.holds {
                eprintln!("  {hold}");
            }
        }
    }
    Ok(code)
}

/// `glueops drift`.
#[derive(Debug, clap::Args)]
pub(crate) struct DriftArgs {
    #[command(flatten)]
    repos: Repos,
    /// Print a unified diff of each drifted file.
    #[arg(long)]
    diff: bool,
    #[command(flatten)]
    branch: Branch,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn drift(args: &DriftArgs) -> Result<u8, Error> {
    let opts = args.common.options(&args.branch);
    let outcome = glueops::drift(&args.repos.config, &args.repos.manifests, &opts)?;
    let p = &outcome.plan;
    let drifted = !p.written.is_empty() || !p.removed.is_empty();
    let code = if drifted { DRIFT } else { 0 };
    args.common.report(|| Report::drift(p))?;
    if args.common.json(p)? {
        return Ok(code);
    }
    for path in &p.written {
        println!("  differs  {path}");
    }
    for path in &p.removed {
        println!("  removed  {path} (not rendered)");
    }
    if args.diff && drifted {
        for c in glueops::drift_diff(&args.repos.manifests, &outcome, &opts)? {
            print!("{}", c.diff);
        }
    }
    println!(
        "drift: {}",
        if drifted {
            format!(
                "{} file(s) differ from a fresh render",
                p.written.len() + p.removed.len()
            )
        } else {
            "none".into()
        }
    );
    Ok(code)
}

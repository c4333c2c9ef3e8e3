//! The platform loop's subcommands: sync, preview, bump, promote, rollback, drift, diff, dora.
//! Each parses its arguments, calls one library function and prints the result (or its JSON).
//!
//! Exit codes: 0 done, 1 error or bad config, 2 usage, 3 refused or held by a rule, 4 drift.

use std::path::PathBuf;

use glueops::plan::{Change, Plan};
use glueops::preview::{PreviewOutcome, PreviewTarget, PullRequest};
use glueops::{Options, Outcome, Release};
use jiff::Timestamp;

use crate::error::Error;

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
}

impl Common {
    pub(crate) fn options(&self, branch: &Branch) -> Options {
        let cache = self.cache.clone().unwrap_or_else(default_cache);
        let mut opts = Options::new(cache, self.now.unwrap_or_else(Timestamp::now));
        opts.branch = branch.branch.clone();
        opts.config_branch = self.config_branch.clone();
        opts
    }

    /// Prints `value` as JSON when asked; true when it did.
    fn json<T: serde::Serialize>(&self, value: &T) -> Result<bool, Error> {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).map_err(Error::Json)?
            );
        }
        Ok(self.json)
    }
}

/// The manifest branch.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct Branch {
    /// The manifest branch (default `spec.manifestRepo.branch` in glueops.yaml, else `main`).
    #[arg(long)]
    branch: Option<String>,
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
    config: String,
    /// The manifest repo: a git repository (path or URL).
    #[arg(long)]
    manifests: String,
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
    common: Common,
}

pub(crate) fn sync(args: &SyncArgs) -> Result<u8, Error> {
    let mut opts = args.common.options(&args.branch);
    opts.dry_run = args.dry_run;
    opts.allow_delete = args.allow_delete;
    let outcome = glueops::sync(&args.repos.config, &args.repos.manifests, &opts)?;
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

fn short(c: &str) -> &str {
    c.get(..12).unwrap_or(c)
}

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
            glueops::preview::open(
                &repos.config,
                &repos.manifests,
                &target.target(),
                &pr,
                &opts,
            )?
        }
        PreviewAction::Close { repos, target, pr } => glueops::preview::close(
            &repos.config,
            &repos.manifests,
            &target.target(),
            *pr,
            &opts,
        )?,
        PreviewAction::Gc { repos } => {
            glueops::preview::gc(&repos.config, &repos.manifests, &opts)?
        }
    };
    if !args.common.json(&outcome)? {
        print_preview(&outcome);
    }
    Ok(0)
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
    common: Common,
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
    let edit = glueops::bump(
        &args.config,
        &args.app,
        &args.env,
        &args.tag,
        source.as_ref(),
        &[],
        &opts,
    )?;
    let synced = match &args.manifests {
        Some(m) => Some(glueops::sync(&args.config, m, &opts)?),
        None => None,
    };
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
    #[command(flatten)]
    branch: Branch,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn promote(args: &PromoteArgs) -> Result<u8, Error> {
    let opts = args.common.options(&args.branch);
    let r = glueops::promote(
        &args.repos.config,
        &args.repos.manifests,
        &args.app,
        &args.to,
        &args.approved_by,
        &opts,
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
    report_release("rollback", &args.common, &r)
}

fn report_release(what: &str, common: &Common, r: &Release) -> Result<u8, Error> {
    let code = match r {
        Release::Released { .. } => 0,
        Release::Refused(_) => REFUSED,
    };
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

/// `glueops diff`.
#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    /// The config repo (a git repository).
    #[arg(long)]
    config: String,
    /// The base revision (a branch or commit).
    #[arg(long)]
    base: String,
    /// The head revision.
    #[arg(long)]
    head: String,
    /// Markdown for a pull-request comment.
    #[arg(long)]
    markdown: bool,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn diff(args: &DiffArgs) -> Result<u8, Error> {
    let opts = args.common.options(&Branch::default());
    let changes = glueops::config_diff(&args.config, &args.base, &args.head, &opts)?;
    if args.common.json(&changes.iter().map(|c| serde_json::json!({"path": c.path, "kind": format!("{:?}", c.kind), "diff": c.diff})).collect::<Vec<_>>())? {
        return Ok(0);
    }
    if args.markdown {
        print!("{}", glueops::render::markdown(&changes));
    } else {
        for c in &changes {
            print!("{}", c.diff);
        }
        println!("diff: {} file(s) change", changes.len());
    }
    Ok(0)
}

/// `glueops dora`.
#[derive(Debug, clap::Args)]
pub(crate) struct DoraArgs {
    /// The manifest repo (a git repository).
    #[arg(long)]
    manifests: String,
    /// Start of the period (RFC 3339).
    #[arg(long)]
    since: Option<Timestamp>,
    /// End of the period (RFC 3339, exclusive).
    #[arg(long)]
    until: Option<Timestamp>,
    #[command(flatten)]
    branch: Branch,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn dora(args: &DoraArgs) -> Result<u8, Error> {
    let opts = args.common.options(&args.branch);
    let branch = args.branch.branch.clone().unwrap_or_else(|| "main".into());
    let rows = glueops::dora_of(&args.manifests, &branch, args.since, args.until, &opts)?;
    if args.common.json(&rows)? {
        return Ok(0);
    }
    let opt = |v: Option<i64>| v.map_or_else(|| "-".to_string(), glueops::dora::human);
    println!(
        "{:<20} {:<14} {:>8} {:>9} {:>7} {:>12} {:>7} {:>12}",
        "APP", "ENVIRONMENT", "RELEASES", "ROLLBACKS", "PER DAY", "LEAD TIME", "CFR", "RESTORE"
    );
    for m in &rows {
        println!(
            "{:<20} {:<14} {:>8} {:>9} {:>7.2} {:>12} {:>7} {:>12}",
            m.app,
            m.env,
            m.releases,
            m.rollbacks,
            m.per_day,
            opt(m.median_lead_time),
            m.change_failure_rate
                .map_or_else(|| "-".into(), |r| format!("{:.0}%", r * 100.0)),
            opt(m.median_time_to_restore),
        );
    }
    Ok(0)
}

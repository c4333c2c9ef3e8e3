//! `glueops diff` (what a config change would change in the manifests) and `glueops dora`
//! (delivery metrics from the manifest history).

use jiff::Timestamp;

use crate::error::Error;
use crate::flows::{Branch, Common};
use crate::report::Report;

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
    args.common.report(|| Report::diff(&changes))?;
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
    let rows = glueops::dora_metrics(&args.manifests, &branch, args.since, args.until, &opts)?;
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

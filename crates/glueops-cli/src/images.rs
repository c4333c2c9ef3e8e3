//! `glueops images`: per app and environment with an `imagePolicy`, the tag it runs, the
//! newest its registry offers that the policy allows, and why other tags were skipped; with
//! `--update`, the environments whose promotion is `auto` are bumped (or proposed) and synced.

use std::path::PathBuf;
use std::time::Duration;

use glueops::images::{ImageStatus, Known, Poll};
use glueops::registry::{Credentials, Registries, Settings};

use crate::error::Error;
use crate::flows::{Branch, Common, Repos, tell_proposal};

/// `glueops images`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImagesArgs {
    /// The config repo (a folder, or a git repository; `--update` needs a repository).
    #[arg(long)]
    config: String,
    /// Bump the environments whose promotion is `auto` to the tag their policy allows (as a
    /// pull request where `promotion.mode` is `pull-request`).
    #[arg(long)]
    update: bool,
    /// With `--update`, the manifest repo: sync after the bumps.
    #[arg(long)]
    manifests: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    branch: Branch,
    #[command(flatten)]
    feedback: crate::forge::FeedbackArgs,
    #[command(flatten)]
    common: Common,
}

/// How registries are reached (also `glueops serve`'s).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RegistryArgs {
    /// A Docker `config.json` (what `docker login` writes) with the registries' credentials.
    #[arg(long, value_name = "FILE", env = "GLUEOPS_REGISTRY_AUTH_FILE")]
    pub(crate) registry_auth_file: Option<PathBuf>,
    /// A registry reached over plain HTTP although it is not on loopback (repeatable).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) insecure_registry: Vec<String>,
    /// A registry that takes Amazon ECR tokens besides `<account>.dkr.ecr.<region>.amazonaws.com`
    /// (repeatable; tokens come from the AWS SDK's default credentials, `aws` builds only).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) ecr_registry: Vec<String>,
    /// Another endpoint for the ECR API (a VPC endpoint).
    #[arg(long, value_name = "URL", env = "GLUEOPS_ECR_ENDPOINT")]
    pub(crate) ecr_endpoint: Option<String>,
    /// How long one registry request may take.
    #[arg(long, default_value = "30s", value_parser = crate::flags::duration)]
    pub(crate) registry_timeout: Duration,
}

impl RegistryArgs {
    /// The client settings, with the credentials file read (a regular file).
    pub(crate) fn settings(&self) -> Result<Settings, Error> {
        let credentials = match &self.registry_auth_file {
            None => Credentials::default(),
            Some(path) => {
                let file = |source| Error::File {
                    path: path.clone(),
                    source,
                };
                if !std::fs::metadata(path).map_err(file)?.is_file() {
                    return Err(Error::Invalid(format!(
                        "{} is not a regular file: give the Docker config.json itself",
                        path.display()
                    )));
                }
                let bytes = std::fs::read(path).map_err(file)?;
                Credentials::from_docker_config(&bytes)?
            }
        };
        Ok(Settings {
            credentials,
            insecure: self.insecure_registry.clone(),
            timeout: self.registry_timeout,
            ecr: glueops::registry::Ecr {
                hosts: self.ecr_registry.clone(),
                endpoint: self.ecr_endpoint.clone(),
            },
            ..Settings::default()
        })
    }
}

pub(crate) fn run(args: &ImagesArgs) -> Result<u8, Error> {
    let opts = args.common.options(&args.branch);
    let config = glueops::Config::open(&args.config, &opts, opts.config_branch.as_deref(), false)?;
    let watches = glueops::images::watches(config.repo()?)?;
    let registries = Registries::new(args.registry.settings()?)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let poll = runtime.block_on(glueops::images::poll(
        &watches,
        &registries,
        &mut Known::default(),
    ));
    let failed = poll.statuses.iter().any(|s| s.error.is_some());
    if !args.update {
        if !args.common.json(&poll.statuses)? {
            print_statuses(&poll);
        }
        return Ok(u8::from(failed));
    }
    let updates = update(args, &opts, &poll)?;
    if !args
        .common
        .json(&serde_json::json!({"images": poll.statuses, "updates": updates}))?
    {
        print_statuses(&poll);
        for u in &updates {
            println!("{u}");
        }
    }
    Ok(u8::from(failed))
}

/// Bumps (or proposes) every deployment that moves, then syncs once; a line per change.
fn update(args: &ImagesArgs, opts: &glueops::Options, poll: &Poll) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    let mut changed = false;
    for s in poll.statuses.iter().filter(|s| s.moves) {
        let Some(tag) = s.latest.as_deref() else {
            continue;
        };
        let request = glueops::Bump {
            app: &s.app,
            env: &s.env,
            tag,
            source: None,
            extra: &[],
        };
        if s.proposed {
            let p = glueops::propose_bump(&args.config, &request, opts)?;
            let repos = Repos {
                config: args.config.clone(),
                manifests: args.manifests.clone().unwrap_or_default(),
            };
            tell_proposal(&args.feedback, &args.common, opts, &repos, &p)?;
            lines.push(match &p.moved {
                Some(_) => format!(
                    "kept     {}/{} {tag}: {} holds a commit that is not glueops'",
                    s.app, s.env, p.branch
                ),
                None => format!("proposed {}/{} {tag} on {}", s.app, s.env, p.branch),
            });
            continue;
        }
        let edit = glueops::bump(&args.config, &s.app, &s.env, tag, None, &[], opts)?;
        changed |= edit.changed;
        lines.push(format!(
            "bumped   {}/{} {tag} ({})",
            s.app,
            s.env,
            crate::report::short(&edit.commit)
        ));
    }
    if let Some(manifests) = &args.manifests
        && changed
    {
        let outcome = glueops::sync(&args.config, manifests, opts)?;
        lines.push(format!("synced   {}", outcome_line(&outcome)));
    }
    Ok(lines)
}

fn outcome_line(outcome: &glueops::Outcome) -> String {
    match &outcome.commit {
        Some(c) => format!("manifest commit {}", crate::report::short(c)),
        None => "nothing to release".into(),
    }
}

fn print_statuses(poll: &Poll) {
    if poll.statuses.is_empty() {
        println!("no app has an imagePolicy");
    }
    let images: std::collections::BTreeSet<&str> =
        poll.statuses.iter().map(|s| s.image.as_str()).collect();
    if !poll.statuses.is_empty() {
        println!(
            "{} image(s) read in {} registry request(s)",
            images.len(),
            poll.requests
        );
    }
    for s in &poll.statuses {
        println!("{}", line(s));
        for (reason, tags) in &s.skipped {
            let shown: Vec<&str> = tags.iter().take(3).map(String::as_str).collect();
            let more = tags.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            println!(
                "    skipped {} ({reason}): {}{more}",
                tags.len(),
                shown.join(", ")
            );
        }
    }
}

fn line(s: &ImageStatus) -> String {
    let current = s.current.as_deref().unwrap_or("-");
    let head = format!("{}/{} {}", s.app, s.env, s.image);
    if let Some(e) = &s.error {
        return format!("{head}: runs {current}; the registry could not be read: {e}");
    }
    let latest = s.latest.as_deref().unwrap_or("none allowed");
    let what = match (s.moves, s.follows) {
        (true, _) if s.proposed => "moves (as a pull request)",
        (true, _) => "moves",
        (false, true) => "up to date",
        (false, false) => "not followed (promotion is not auto)",
    };
    format!(
        "{head}: runs {current}, policy allows {latest} of {} tags: {what}",
        s.allowed
    )
}

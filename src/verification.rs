//! What the verification gates (`promotion.requires`) need to know, read before planning:
//! the release of each app in the environment promoted from (the manifest branch's
//! trailers: its config commit, manifest commit and time), and the checks on those commits
//! (a forge adapter reads them: [`CheckSource`]).

use std::collections::BTreeMap;

use crate::checkout::Checkout;
use crate::gate::{CheckState, Evidence};
use crate::model::Repo;
use crate::{Error, Options};

/// Which repository a commit is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitIn {
    /// The config repository.
    Config,
    /// The manifest repository.
    Manifests,
}

/// Reads the checks (commit statuses and check runs) on a commit, by name. `glueops serve`
/// and the command line implement it over their forge client; a controller may bring its own.
pub trait CheckSource: std::fmt::Debug + Send + Sync {
    /// The checks on `sha` in the repository `repo`; `Err` says why they cannot be read.
    fn checks(&self, repo: CommitIn, sha: &str) -> Result<BTreeMap<String, CheckState>, String>;
}

/// The evidence of every (app, environment) whose environment has `promotion.requires`,
/// on the manifest branch at `base`.
pub(crate) fn gather(
    checkout: &Checkout,
    base: Option<&str>,
    repo: &Repo,
    opts: &Options,
) -> Result<BTreeMap<(String, String), Evidence>, Error> {
    let platform = repo.platform();
    let mut gated: BTreeMap<(String, String), (String, bool)> = BTreeMap::new();
    for d in repo.deployments() {
        let Some(env) = d.environment() else { continue };
        let Some(promotion) = platform.environment(env).and_then(|e| e.promotion.as_ref()) else {
            continue;
        };
        if let (Some(from), Some(requires)) = (&promotion.from, &promotion.requires) {
            let wants_checks = requires.checks.as_ref().is_some_and(|c| !c.is_empty());
            gated.insert(
                (d.app.clone(), env.to_string()),
                (from.clone(), wants_checks),
            );
        }
    }
    let mut out = BTreeMap::new();
    if gated.is_empty() {
        return Ok(out);
    }
    let mut releases = BTreeMap::new();
    for ((app, _), (from, _)) in &gated {
        releases.insert((app.clone(), from.clone()), None);
    }
    if let Some(base) = base {
        crate::status::last_releases(checkout, base, &mut releases)?;
    }
    let mut read = ChecksRead::new();
    for ((app, env), (from, wants_checks)) in gated {
        let release = releases.get(&(app.clone(), from)).cloned().flatten();
        let mut evidence = Evidence {
            config: release.as_ref().and_then(|r| r.config.clone()),
            manifest: release.as_ref().and_then(|r| r.commit.clone()),
            released_at: release.as_ref().and_then(|r| r.released_at),
            ..Evidence::default()
        };
        if wants_checks {
            checks_of(&mut evidence, opts, &mut read);
        }
        out.insert((app, env), evidence);
    }
    Ok(out)
}

/// Checks read so far in one plan, by (config repo?, commit).
type ChecksRead = BTreeMap<(bool, String), Result<BTreeMap<String, CheckState>, String>>;

/// Fills the evidence's checks from its config and manifest commits (each read once per
/// plan): a check on either counts, green over pending over failed.
fn checks_of(evidence: &mut Evidence, opts: &Options, read: &mut ChecksRead) {
    let Some(source) = &opts.checks else {
        evidence.unreadable = Some(
            "no forge to read them from: give --github-token-file (or a GitHub App, or --gitlab-api-token-file)".into(),
        );
        return;
    };
    let commits = [
        (CommitIn::Config, evidence.config.clone()),
        (CommitIn::Manifests, evidence.manifest.clone()),
    ];
    for (repo, sha) in commits {
        let Some(sha) = sha else { continue };
        let key = (repo == CommitIn::Config, sha.clone());
        let found = read.entry(key).or_insert_with(|| source.checks(repo, &sha));
        match found {
            Ok(checks) => {
                for (name, state) in checks {
                    let better = match evidence.checks.get(name) {
                        None => true,
                        Some(old) => rank(state) > rank(old),
                    };
                    if better {
                        evidence.checks.insert(name.clone(), state.clone());
                    }
                }
            }
            Err(why) => evidence.unreadable = Some(why.clone()),
        }
    }
}

fn rank(state: &CheckState) -> u8 {
    match state {
        CheckState::Failure { .. } => 0,
        CheckState::Pending { .. } => 1,
        CheckState::Success => 2,
    }
}

/// Reads checks through a forge client: the config repository's and the manifest
/// repository's names on one host (what `glueops serve` and the command line give the
/// verification gates).
#[derive(Debug, Clone)]
pub struct ForgeChecks {
    /// The client.
    pub forge: crate::forge::Forge,
    /// The host both repositories are on.
    pub host: crate::forge::Host,
    /// The config repository, `owner/name`.
    pub config_repo: String,
    /// The manifest repository, `owner/name` (`None`: its commits' checks are not read).
    pub manifests_repo: Option<String>,
}

impl CheckSource for ForgeChecks {
    fn checks(&self, repo: CommitIn, sha: &str) -> Result<BTreeMap<String, CheckState>, String> {
        let name = match repo {
            CommitIn::Config => &self.config_repo,
            CommitIn::Manifests => match &self.manifests_repo {
                Some(name) => name,
                None => return Ok(BTreeMap::new()),
            },
        };
        // A blocking call (the loop's functions are): a small runtime of its own.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime to ask the forge: {e}"))?;
        let found = runtime
            .block_on(self.forge.checks(self.host, name, sha))
            .map_err(|e| e.to_string())?;
        Ok(found
            .into_iter()
            .map(|c| {
                let state = match c.status {
                    crate::forge::CheckStatus::Success => CheckState::Success,
                    crate::forge::CheckStatus::Pending => CheckState::Pending { url: c.url },
                    crate::forge::CheckStatus::Failure => CheckState::Failure { url: c.url },
                };
                (c.name, state)
            })
            .collect())
    }
}

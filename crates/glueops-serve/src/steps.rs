//! The steps a batch is made of, shared by the worker, its bumps and the scheduled backup:
//! the approved sync (with the metrics and routes it refreshes), the routing index, and how a
//! failure is told and classified.

use std::collections::BTreeMap;
use std::time::Instant;

use glueops::ledger::Ledger;

use crate::Shared;
use crate::route::Routes;

pub(crate) fn gauge(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The error and its causes on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

pub(crate) fn transient(e: &glueops::Error) -> bool {
    matches!(
        e,
        glueops::Error::Git(_) | glueops::Error::Io { .. } | glueops::Error::Contention { .. }
    )
}

/// What a batch's steps report for the jobs not applied: the outcome (`failed` for good, or
/// `ignored`) and why.
pub(crate) type Failures = BTreeMap<u64, (&'static str, String)>;

fn waits_for_approval(out: &glueops::Outcome) -> bool {
    out.plan.held.iter().any(|h| {
        h.holds
            .iter()
            .any(|r| matches!(r, glueops::gate::Hold::Approval { .. }))
    })
}

/// Syncs with the ledger's approvals (read afresh, and the sync made again, when it holds for
/// want of an approval another replica may have recorded); refreshes the routes when the
/// config moved.
pub(crate) fn sync(
    shared: &Shared,
    ledger: &Ledger,
    opts: &glueops::Options,
) -> Result<(), glueops::Error> {
    let s = &shared.settings;
    let started = Instant::now();
    let mut result = glueops::sync_approved(&s.config, &s.manifests, ledger, opts);
    if let Ok(out) = &result
        && waits_for_approval(out)
    {
        let fresh = glueops::read_ledger(&s.manifests, opts)?;
        shared.remember_applied(&fresh);
        if fresh.approvals != ledger.approvals {
            result = glueops::sync_approved(&s.config, &s.manifests, &fresh, opts);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    match &result {
        Ok(out) => {
            shared
                .metrics
                .timed("sync", Some(out.plan_time.as_secs_f64()), elapsed);
            if out.commit.is_some() {
                shared.metrics.pushed("manifests", out.attempts);
            }
            shared.metrics.held.set(gauge(out.plan.held.len()));
            shared.set_drift(out.plan.repaired.clone());
            let before = shared
                .held
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .replace(out.plan.held.clone());
            if let Some(talk) = &shared.talkback {
                talk.recovered();
                if out.commit.is_some() || before.as_ref() != Some(&out.plan.held) {
                    talk.tell(
                        talk.config_feedback(shared).release(out, "release"),
                        &shared.metrics,
                    );
                }
            }
            shared.set_synced(None);
            if out.plan.config.as_deref() != shared.routes_commit().as_deref() {
                match load_routes(shared) {
                    Ok(routes) => shared.set_routes(routes),
                    Err(e) => {
                        tracing::warn!(error = %chain(&e), "the config moved but cannot be read for routing")
                    }
                }
            }
        }
        // Planned on a bump the config remote refused: nothing was pushed, and the batch
        // syncs again on the remote's branch.
        Err(glueops::Error::Superseded { .. }) => {}
        Err(e) => {
            shared.metrics.failed("sync");
            shared.set_synced(Some(e));
            if let glueops::Error::Config(_) = e {
                tell_invalid(shared, opts, e);
            }
        }
    }
    result.map(|_| ())
}

/// The config at the branch's tip does not validate: told once per commit, on the
/// `glueops/validate` status and every environment's.
fn tell_invalid(shared: &Shared, opts: &glueops::Options, error: &glueops::Error) {
    let Some(talk) = &shared.talkback else { return };
    let s = &shared.settings;
    let Ok(config) = glueops::Config::open(&s.config, opts, s.config_branch.as_deref(), false)
    else {
        return;
    };
    let Some(sha) = config.commit.as_deref() else {
        return;
    };
    if !talk.first_failure(sha) {
        return;
    }
    let envs: Vec<String> = config
        .platform()
        .map(|p| p.spec.environments.iter().map(|e| e.name.clone()).collect())
        .unwrap_or_default();
    talk.tell(
        talk.config_feedback(shared).invalid(sha, &envs, error),
        &shared.metrics,
    );
}

/// The config's routing index, read at the config branch's tip.
pub(crate) fn load_routes(shared: &Shared) -> Result<(Routes, Option<String>), glueops::Error> {
    let s = &shared.settings;
    let config = glueops::Config::open(
        &s.config,
        &shared.options(),
        s.config_branch.as_deref(),
        false,
    )
    .inspect_err(|_| shared.set_config_ok(false))?;
    shared.set_config_ok(true);
    let branch = config
        .checkout
        .as_ref()
        .map_or_else(|| "main".to_string(), |c| c.branch.clone());
    let repo = config.repo()?;
    let mut routes = Routes::new(&s.config_repo_name(), &branch, repo);
    match glueops::images::watches(repo) {
        Ok(watches) => shared.set_watches(watches),
        Err(e) => {
            tracing::warn!(error = %chain(&e), "registry watching: the image policies cannot be read; images are not watched")
        }
    }
    routes.manifest_branch = s
        .manifest_branch
        .clone()
        .or_else(|| repo.platform().spec.manifest_repo.branch.clone())
        .unwrap_or_else(|| "main".into());
    Ok((routes, config.commit.clone()))
}

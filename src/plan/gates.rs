//! The gates a plan asks of each changed deployment in a gated environment: approvals and
//! windows, and the verification gates, which look at the release in `from` (the one this
//! plan makes, else the one the branch records).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::{Group, Key, ManifestState, Request, Scope, same};
use crate::gate::{self, Hold};

/// Deployments a plan releases in ungated environments: an environment promoted from one
/// of them verifies that new release (made now, no checks yet), not the one before.
pub(super) fn releasing<'a>(
    keys: &BTreeSet<&'a Key>,
    (want, have): (&BTreeMap<Key, Group<'_>>, &BTreeMap<Key, Group<'_>>),
    scope: &Scope,
    platform: &crate::model::Platform,
) -> BTreeSet<(&'a str, &'a str)> {
    let empty = Group::new();
    keys.iter()
        .filter_map(|k| match k {
            Key::Deployment(app, env) => Some((*k, app.as_str(), env.as_str())),
            Key::Platform => None,
        })
        .filter(|(k, app, env)| {
            let in_scope = match scope {
                Scope::Full { .. } => true,
                Scope::Deployments { deployments } => deployments.contains(&format!("{app}/{env}")),
            };
            in_scope
                && !same(
                    want.get(*k).unwrap_or(&empty),
                    have.get(*k).unwrap_or(&empty),
                )
                && !platform.environment(env).is_some_and(gate::is_gated)
        })
        .map(|(_, app, env)| (app, env))
        .collect()
}

/// What the verification gates of (app, env) look at: the release in `from` this plan makes,
/// else the one the manifest branch records.
pub(super) fn evidence_of<'a>(
    manifests: &'a ManifestState,
    environment: &crate::model::platform::Environment,
    (app, env): (&String, &String),
    releasing: &BTreeSet<(&str, &str)>,
    fresh: &'a crate::gate::Evidence,
) -> Option<&'a crate::gate::Evidence> {
    let from = environment.promotion.as_ref()?.from.as_deref()?;
    if releasing.contains(&(app.as_str(), from)) {
        return Some(fresh);
    }
    manifests.verification.get(&(app.clone(), env.clone()))
}

/// What holds `deployment` (app, env) in a gated `environment` at `now`, unless the request
/// is its rollback (which bypasses gates) or its holds are empty.
pub(super) fn holds(
    environment: &crate::model::platform::Environment,
    request: &Request,
    (app, env): (&String, &String),
    now: Timestamp,
    evidence: Option<&crate::gate::Evidence>,
) -> Option<Vec<Hold>> {
    let bypass =
        matches!(request, Request::Rollback { app: a, env: e, .. } if a == app && e == env);
    let approvals = match request {
        Request::Promote {
            app: a,
            env: e,
            approved_by,
            ..
        } if a == app && e == env => approved_by.as_slice(),
        Request::Approved { approved_by } => approved_by.as_slice(),
        _ => &[],
    };
    let mut holds = gate::check(environment, now, approvals);
    holds.extend(gate::verify(environment, now, evidence));
    (!bypass && !holds.is_empty()).then_some(holds)
}

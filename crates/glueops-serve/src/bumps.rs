//! The bumps of a batch: per app and environment the newest event's tag (never one older
//! than the newest applied there), the last one's sync planned beside its config push.

use std::collections::BTreeMap;
use std::time::Instant;

use glueops::ledger::Ledger;

use crate::Shared;
use crate::queue::Job;
use crate::route::Work;
use crate::steps::{Failures, chain, sync, transient};

/// The last tag per deployment wins; true when the config changed. The last bump's push
/// overlaps the sync that follows it (planned on the bump, pushed once the bump landed): its
/// result comes back when that sync ran.
pub(crate) fn apply(
    shared: &Shared,
    jobs: &[&Job],
    ledger: &Ledger,
    opts: &glueops::Options,
    failures: &mut Failures,
    applied: &mut Vec<(String, String, i64)>,
) -> Result<(bool, Option<Result<(), glueops::Error>>), glueops::Error> {
    // Per app and environment the newest event wins (by its own time; arrival order among
    // events of one time or without one).
    let mut last: BTreeMap<(&str, &str), NewestBump<'_>> = BTreeMap::new();
    for job in jobs {
        for w in &job.work {
            if let Work::Bump { app, env, tag, at } = w {
                let entry =
                    last.entry((app.as_str(), env.as_str()))
                        .or_insert((tag, *at, Vec::new()));
                if at.unwrap_or(i64::MAX) >= entry.1.unwrap_or(i64::MIN) {
                    (entry.0, entry.1) = (tag, *at);
                }
                entry.2.push(job.seq);
            }
        }
    }
    // Never back: an event older than the newest bump applied there is not applied.
    last.retain(|(app, env), (_, at, seqs)| {
        let Some(newest) = ledger.bumped_at(app, env) else {
            return true;
        };
        if at.is_some_and(|at| at < newest) {
            for seq in seqs.iter() {
                failures.insert(
                    *seq,
                    ("ignored", format!("{app}/{env} already runs a bump from a newer event; a webhook never moves an environment back")),
                );
            }
            return false;
        }
        true
    });
    let mut changed = false;
    let mut synced = None;
    let count = last.len();
    for (i, ((app, env), (tag, at, seqs))) in last.iter().enumerate() {
        if let Some(at) = at {
            // A payload's clock ahead of ours must not hold back every later event: an event
            // time is recorded as at most now.
            let at = (*at).min(opts.now.as_second());
            applied.push((app.to_string(), env.to_string(), at));
        }
        let started = Instant::now();
        let request = glueops::Bump {
            app,
            env,
            tag,
            source: None,
            extra: &[],
        };
        let config = &shared.settings.config;
        if proposed(shared, &request, opts, (seqs, failures))? {
            continue;
        }
        let result = if i + 1 == count {
            glueops::bump_beside(config, &request, opts, || sync(shared, ledger, opts)).map(
                |(edit, result)| {
                    synced = result;
                    edit
                },
            )
        } else {
            glueops::bump(config, app, env, tag, None, &[], opts)
        };
        // The last bump's time includes the sync beside its push when that sync took longer
        // (the sync is timed on its own too).
        shared
            .metrics
            .timed("bump", None, started.elapsed().as_secs_f64());
        match result {
            Ok(edit) if edit.changed => {
                shared.metrics.pushed("config", 1);
                changed = true;
            }
            Ok(_) => {}
            Err(e) if transient(&e) => return Err(e),
            Err(e) => {
                shared.metrics.failed("bump");
                for seq in seqs {
                    failures.insert(*seq, ("failed", chain(&e)));
                }
            }
        }
    }
    Ok((changed, synced))
}

/// Proposes `request` as a pull request when its environment takes changes that way (the
/// merge is a push that syncs); true when it did (or failed for good, recorded for `seqs`).
fn proposed(
    shared: &Shared,
    request: &glueops::Bump<'_>,
    opts: &glueops::Options,
    (seqs, failures): (&[u64], &mut Failures),
) -> Result<bool, glueops::Error> {
    let env = request.env;
    if !shared
        .routes()
        .is_some_and(|r| r.proposed_envs.iter().any(|e| e == env))
    {
        return Ok(false);
    }
    match crate::talkback::propose(shared, request, opts) {
        Ok(()) => {}
        Err(e) if transient(&e) => return Err(e),
        Err(e) => {
            shared.metrics.failed("bump");
            for seq in seqs {
                failures.insert(*seq, ("failed", chain(&e)));
            }
        }
    }
    Ok(true)
}

/// Per app and environment: the tag of the newest bump event, its time, and every job that
/// asked for a bump there.
type NewestBump<'a> = (&'a str, Option<i64>, Vec<u64>);

//! The one thread that writes: takes every waiting job, applies them in arrival order
//! (previews, bumps, approvals, then one sync for the lot), records their delivery ids in the
//! ledger, and between batches runs the level-triggered resync. A transient failure (a remote
//! down) puts the batch back and retries it with growing pauses; nothing is dropped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use glueops::{PreviewChange, PreviewTarget, PullRequest};

use crate::Shared;
use crate::queue::Job;
use crate::route::Work;
use crate::steps::{Failures, chain, gauge, load_routes, sync, transient};

/// Jobs applied together at most.
const BATCH: usize = 256;
/// How long the queue stays empty before `/status` and the gauges are recomputed.
const IDLE: Duration = Duration::from_millis(500);
/// Batches applied back to back between two checks of the cache's loose objects.
const PACK_EVERY: u32 = 64;
/// The longest pause between retries of a failing batch.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs until the queue is closed and drained.
pub(crate) fn run(shared: &Arc<Shared>) {
    let mut next_resync = Instant::now();
    let mut backoff = Duration::from_millis(250);
    let mut dirty = true;
    let mut batches: u32 = 0;
    loop {
        if Instant::now() >= next_resync {
            if shared.settings.read_only {
                refresh(shared);
            } else if !shared.queue.is_closed() {
                resync(shared);
                dirty = true;
            }
            next_resync = Instant::now() + shared.settings.resync;
        }
        // The status and gauges are recomputed once the server has been idle for a moment,
        // not between the batches of a burst.
        let mut wait = next_resync.saturating_duration_since(Instant::now());
        if dirty {
            wait = wait.min(IDLE);
        }
        let jobs = shared.queue.take(BATCH, wait);
        shared.metrics.queued.set(gauge(shared.queue.len()));
        if jobs.is_empty() {
            if shared.queue.is_closed() {
                break;
            }
            if dirty {
                refresh(shared);
                dirty = false;
            }
            continue;
        }
        match apply(shared, &jobs) {
            Ok(()) => {
                // The batch fetched and pushed: both remotes answer.
                shared.set_config_ok(true);
                shared.set_manifests_ok(true);
                shared.queue.done(&jobs);
                backoff = Duration::from_millis(250);
                dirty = true;
                batches = (batches + 1) % PACK_EVERY;
                if batches == 0 {
                    keep_packed(shared);
                }
            }
            Err(e) => {
                shared.set_failed(&e);
                probe(shared);
                tracing::warn!(error = %chain(&e), jobs = jobs.len(), retry_in_ms = backoff.as_millis() as u64, "the batch is kept and retried");
                shared.queue.requeue(jobs);
                if shared.queue.is_closed() {
                    // Shutting down with a remote away: the journal keeps the work for the
                    // next start.
                    break;
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Applies `jobs`; `Err` only for a transient failure (the whole batch is retried, and every
/// step is idempotent, so what already landed lands again as nothing).
fn apply(shared: &Shared, jobs: &[Job]) -> Result<(), glueops::Error> {
    let opts = shared.options();
    let s = &shared.settings;
    // The ledger as this replica last wrote or read it (no fetch on the way to a release): a
    // delivery another replica applied meanwhile is applied again as nothing (every step is
    // idempotent); approvals are read afresh when a sync holds for want of one.
    let ledger = shared.applied_ledger();
    let (fresh, seen): (Vec<&Job>, Vec<&Job>) = jobs
        .iter()
        .partition(|j| j.delivery.as_deref().is_none_or(|d| !ledger.applied(d)));
    for job in &seen {
        finish(shared, job, "duplicate", None);
    }
    let mut failures = Failures::new();
    let mut ledger = ledger;
    if let Some(reviewed) = record_reviews(shared, &fresh, &opts)? {
        ledger = reviewed;
    }
    previews(shared, &fresh, &opts, &mut failures)?;
    crate::talkback::config_reviews(shared, &fresh, &opts, &mut failures)?;
    let mut bump_times = Vec::new();
    let (bumped, synced) = crate::bumps::apply(
        shared,
        &fresh,
        &ledger,
        &opts,
        &mut failures,
        &mut bump_times,
    )?;
    let wants_sync = works(&fresh).any(|w| matches!(w, Work::Sync | Work::Review { .. })) || bumped;
    if wants_sync {
        // The sync planned while the last bump was pushed stands, unless the config remote
        // refused that bump (then sync on what the remote has).
        let synced = match synced {
            Some(Err(glueops::Error::Superseded { .. })) | None => sync(shared, &ledger, &opts),
            Some(result) => result,
        };
        synced.or_else(|e| {
            if transient(&e) {
                return Err(e);
            }
            for job in fresh.iter().filter(|j| {
                j.work
                    .iter()
                    .any(|w| matches!(w, Work::Sync | Work::Bump { .. }))
            }) {
                failures
                    .entry(job.seq)
                    .or_insert_with(|| ("failed", chain(&e)));
            }
            Ok(())
        })?;
    }
    let ids: Vec<&str> = fresh.iter().filter_map(|j| j.delivery.as_deref()).collect();
    if !ids.is_empty() || !bump_times.is_empty() {
        let written = glueops::update_ledger(
            &s.manifests,
            &format!("ledger: {} deliveries applied", ids.len()),
            &opts,
            |l| {
                l.record(ids.iter().copied(), opts.now.as_second());
                for (app, env, at) in &bump_times {
                    l.record_bump(app, env, *at);
                }
            },
        )?;
        shared.remember_applied(&written);
    }
    for job in fresh {
        match failures.get(&job.seq) {
            Some((outcome, why)) => finish(shared, job, outcome, Some(why)),
            None => finish(shared, job, "applied", None),
        }
    }
    Ok(())
}

/// Records the batch's reviews of config pull requests in the ledger, in one commit; the
/// ledger written (`None` when the batch has none).
fn record_reviews(
    shared: &Shared,
    fresh: &[&Job],
    opts: &glueops::Options,
) -> Result<Option<glueops::ledger::Ledger>, glueops::Error> {
    let reviews: Vec<&Work> = works(fresh)
        .filter(|w| matches!(w, Work::Review { .. }))
        .collect();
    if reviews.is_empty() {
        return Ok(None);
    }
    let started = Instant::now();
    let ledger = glueops::update_ledger(
        &shared.settings.manifests,
        &format!("ledger: {} review(s)", reviews.len()),
        opts,
        |l| {
            for w in &reviews {
                if let Work::Review {
                    repo,
                    number,
                    sha,
                    reviewer,
                    approved,
                } = w
                {
                    l.review(
                        repo,
                        *number,
                        reviewer,
                        sha,
                        *approved,
                        opts.now.as_second(),
                    );
                }
            }
        },
    )?;
    shared
        .metrics
        .timed("review", None, started.elapsed().as_secs_f64());
    Ok(Some(ledger))
}

fn works<'a>(jobs: &'a [&'a Job]) -> impl Iterator<Item = &'a Work> {
    jobs.iter().flat_map(|j| j.work.iter())
}

fn finish(shared: &Shared, job: &Job, outcome: &str, why: Option<&str>) {
    let latency = job.received.elapsed();
    shared.metrics.event(&job.host, &job.event, outcome);
    if outcome == "applied" {
        shared.metrics.event_seconds.observe(latency.as_secs_f64());
    }
    tracing::info!(
        delivery = job.delivery.as_deref().unwrap_or("-"),
        host = %job.host,
        event = %job.event,
        outcome,
        reason = why.unwrap_or(""),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "delivery"
    );
}

/// The pull-request events of the batch, in one commit (the last event of each pull request
/// wins: its state is what counts). When that fails for a reason the events carry (an app
/// without previews), each pull request is tried alone so only its deliveries fail. Each
/// pull request is told what became of its previews.
fn previews(
    shared: &Shared,
    jobs: &[&Job],
    opts: &glueops::Options,
    failures: &mut Failures,
) -> Result<(), glueops::Error> {
    let mut changes: Vec<(PreviewChange, u64)> = Vec::new();
    let mut pulls = crate::talkback::Pulls::default();
    for job in jobs {
        for w in &job.work {
            if let Work::Preview {
                app,
                repo,
                number,
                open,
                sha,
                branch,
                labels,
            } = w
            {
                pulls.add(&job.host, repo, app, (*number, *open, sha, branch));
                // By app: only that app is read and rendered.
                let target = PreviewTarget::App(app.clone());
                let change = if *open {
                    PreviewChange::Open {
                        target,
                        pr: PullRequest {
                            number: *number,
                            sha: Some(sha.clone()),
                            branch: Some(branch.clone()),
                            labels: labels.clone(),
                        },
                    }
                } else {
                    PreviewChange::Close {
                        target,
                        number: *number,
                    }
                };
                changes.push((change, job.seq));
            }
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    pulls.started(shared);
    let s = &shared.settings;
    let all: Vec<PreviewChange> = changes.iter().map(|(c, _)| c.clone()).collect();
    let started = Instant::now();
    let result = glueops::apply_previews(&s.config, &s.manifests, &all, opts);
    shared
        .metrics
        .timed("preview", None, started.elapsed().as_secs_f64());
    match result {
        Ok(out) => {
            if out.commit.is_some() {
                shared.metrics.pushed("manifests", 1);
            }
            pulls.done(shared, &out);
            Ok(())
        }
        Err(e) if transient(&e) => Err(e),
        Err(_) if changes.len() > 1 => {
            for (change, seq) in &changes {
                match glueops::apply_previews(
                    &s.config,
                    &s.manifests,
                    std::slice::from_ref(change),
                    opts,
                ) {
                    Ok(out) => {
                        if out.commit.is_some() {
                            shared.metrics.pushed("manifests", 1);
                        }
                        pulls.done(shared, &out);
                    }
                    Err(e) if transient(&e) => return Err(e),
                    Err(e) => {
                        shared.metrics.failed("preview");
                        failures.insert(*seq, ("failed", chain(&e)));
                    }
                }
            }
            Ok(())
        }
        Err(e) => {
            shared.metrics.failed("preview");
            failures.insert(changes[0].1, ("failed", chain(&e)));
            Ok(())
        }
    }
}

/// After a transient failure: which remote answers (for `/readyz`).
fn probe(shared: &Shared) {
    let opts = shared.options();
    let s = &shared.settings;
    shared.set_manifests_ok(glueops::read_ledger(&s.manifests, &opts).is_ok());
    let config = glueops::Checkout::open(&s.config, &opts, s.config_branch.as_deref())
        .and_then(|c| c.fetch());
    shared.set_config_ok(config.is_ok());
}

/// The level-triggered pass: sync (what a lost event left behind, and what a newly open
/// window allows), preview gc, and the secret store's scheduled backup.
fn resync(shared: &Shared) {
    let opts = shared.options();
    let s = &shared.settings;
    let started = Instant::now();
    if shared.routes_commit().is_none() {
        match load_routes(shared) {
            Ok(routes) => shared.set_routes(routes),
            Err(e) => {
                shared.set_failed(&e);
                probe(shared);
                tracing::warn!(error = %chain(&e), "resync: the config cannot be read");
                shared.metrics.failed("resync");
                return;
            }
        }
    }
    let ledger = match glueops::read_ledger(&s.manifests, &opts) {
        Ok(l) => {
            shared.set_manifests_ok(true);
            shared.remember_applied(&l);
            l
        }
        Err(e) => {
            shared.set_manifests_ok(false);
            tracing::warn!(error = %chain(&e), "resync: the manifest remote cannot be read");
            shared.metrics.failed("resync");
            return;
        }
    };
    let mut problems = Vec::new();
    if let Err(e) = sync(shared, &ledger, &opts) {
        problems.push(format!("sync: {}", chain(&e)));
    }
    match glueops::gc_previews(&s.config, &s.manifests, &opts) {
        Ok(out) if out.commit.is_some() => shared.metrics.pushed("manifests", 1),
        Ok(_) => {}
        Err(glueops::Error::Invalid { .. }) => {} // previews not enabled
        Err(e) => problems.push(format!("preview gc: {}", chain(&e))),
    }
    if let Err(e) = crate::backup::run_if_due(shared, &opts) {
        shared.metrics.failed("backup");
        problems.push(chain(&e));
    }
    shared
        .metrics
        .timed("resync", None, started.elapsed().as_secs_f64());
    if problems.is_empty() {
        tracing::info!(ms = started.elapsed().as_millis() as u64, "resync done");
    } else {
        shared.metrics.failed("resync");
        tracing::warn!(problems = %problems.join("; "), "resync finished with problems");
    }
}

/// Recomputes `/status`, the held and preview gauges and the DORA figures.
fn refresh(shared: &Shared) {
    let started = Instant::now();
    let opts = shared.options();
    let s = &shared.settings;
    let ledger = shared.applied_ledger();
    let held = shared
        .held
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let mut board_ms = 0;
    match glueops::status(&s.config, &s.manifests, held.as_deref(), &ledger, &opts) {
        Ok(status) => {
            let held = status
                .deployments
                .iter()
                .filter(|d| !d.held.is_empty())
                .count();
            shared.metrics.held.set(gauge(held));
            shared.metrics.previews.set(gauge(status.previews.len()));
            if s.dashboard {
                let read = Instant::now();
                match glueops::board::board(&s.config, &s.manifests, &status, &opts) {
                    Ok(board) => shared.set_board(board),
                    Err(e) => tracing::warn!(error = %chain(&e), "the dashboard cannot be read"),
                }
                board_ms = read.elapsed().as_millis() as u64;
            }
            shared.set_status(status);
        }
        Err(e) => tracing::warn!(error = %chain(&e), "status cannot be read"),
    }
    let branch = shared.manifest_branch();
    match glueops::dora_metrics(&s.manifests, &branch, None, None, &opts) {
        Ok(metrics) => shared.metrics.dora(&metrics),
        Err(e) => tracing::warn!(error = %chain(&e), "DORA figures cannot be read"),
    }
    keep_packed(shared);
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        board_ms,
        "status refreshed"
    );
}

/// Packs the cache's clones when fetches and commits left many loose objects (when idle, and
/// every [`PACK_EVERY`] batches under a load that never lets the server idle).
fn keep_packed(shared: &Shared) {
    match glueops::keep_packed(&shared.settings.cache) {
        Ok(packed) if !packed.is_empty() => {
            tracing::info!(clones = packed.len(), "packed the cache's loose objects")
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %chain(&e), "the cache's clones cannot be packed (they still work)")
        }
    }
}

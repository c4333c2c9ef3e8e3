//! Feedback to the forge: the worker composes calls ([`glueops::feedback`]) and journals them
//! in the outbox; one task delivers them, retrying with backoff while a forge is away. A
//! release never waits for its feedback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use glueops::feedback::Feedback;
use glueops::forge::{Call, Forge, Host, Outbox};

use crate::steps::gauge;
use crate::{Error, Settings, Shared};

/// The longest pause between two deliveries when nothing wakes the task (retries that came
/// due, a forge that answers again).
const IDLE: Duration = Duration::from_secs(30);

/// The outbox and the clients that empty it.
#[derive(Debug)]
pub(crate) struct Talkback {
    pub(crate) outbox: Outbox,
    forge: Forge,
    wake: tokio::sync::Notify,
    /// The config commit last told it does not validate (told once per commit).
    failed: Mutex<Option<String>>,
    template: Feedback,
}

impl Talkback {
    /// The outbox under the cache and the clients of `settings`; `None` when no forge and
    /// no notification endpoint is configured.
    pub(crate) fn open(
        settings: &Settings,
        metrics: &Arc<crate::metrics::Metrics>,
    ) -> Result<Option<Talkback>, Error> {
        let forge = Forge::new(
            settings.github.clone(),
            settings.gitlab.clone(),
            settings.notify.clone(),
        )
        .map_err(|e| Error::worker("building the forge client", e))?;
        if !forge.is_configured() {
            return Ok(None);
        }
        let metrics = Arc::clone(metrics);
        let forge = forge.observed(Arc::new(move |r| metrics.forge_request(r)));
        let outbox = Outbox::open(&settings.cache.join("feedback-outbox"))
            .map_err(|e| Error::worker("opening the feedback outbox", e))?;
        let host = if settings.github.is_some() || settings.gitlab.is_none() {
            Host::GitHub
        } else {
            Host::GitLab
        };
        let mut template = Feedback::new(host, &settings.config_repo_name());
        template.config_branch.clone_from(&settings.config_branch);
        template.manifests_web = glueops::feedback::web_url(&settings.manifests);
        template.public_url.clone_from(&settings.public_url);
        Ok(Some(Talkback {
            outbox,
            forge,
            wake: tokio::sync::Notify::new(),
            failed: Mutex::new(None),
            template,
        }))
    }

    /// The composer for events that came from `host` (`github`, `gitlab`); `None` for the
    /// host of the config repo.
    pub(crate) fn feedback(&self, host: Option<&str>) -> Feedback {
        let mut f = self.template.clone();
        match host {
            Some("gitlab") => f.host = Host::GitLab,
            Some("github") => f.host = Host::GitHub,
            _ => {}
        }
        f
    }

    /// The composer for the config repo's own feedback (its branch from the routes when
    /// none was configured: GitLab deployments name one).
    pub(crate) fn config_feedback(&self, shared: &Shared) -> Feedback {
        let mut f = self.feedback(None);
        if f.config_branch.is_none() {
            f.config_branch = shared.routes().map(|r| r.config_branch.clone());
        }
        f
    }

    /// Where the verification gates read checks: this server's forge client, on the config
    /// repo and the manifest repo (`spec.manifestRepo.url`).
    pub(crate) fn checks(&self, shared: &Shared) -> Arc<dyn glueops::verification::CheckSource> {
        Arc::new(glueops::verification::ForgeChecks {
            forge: self.forge.clone(),
            host: self.template.host,
            config_repo: self.template.config_repo.clone(),
            manifests_repo: read_routes(shared).and_then(|r| r.manifest_repo.clone()),
        })
    }

    /// Journals `calls` and wakes the delivery task. An outbox that cannot be written loses
    /// feedback, never a release: it is logged and counted.
    pub(crate) fn tell(&self, calls: Vec<Call>, metrics: &crate::metrics::Metrics) {
        let calls: Vec<Call> = calls.into_iter().filter(|c| self.forge.takes(c)).collect();
        if calls.is_empty() {
            return;
        }
        for call in &calls {
            if let Err(e) = self.outbox.put(call) {
                metrics.failed("feedback");
                tracing::warn!(call = %call.key(), error = %e, "feedback cannot be journaled; it is not sent");
            }
        }
        if let Ok(n) = self.outbox.len() {
            metrics.feedback_queued.set(gauge(n));
        }
        self.wake.notify_one();
    }

    /// Whether `sha`'s failure is new (and remembers it).
    pub(crate) fn first_failure(&self, sha: &str) -> bool {
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        if failed.as_deref() == Some(sha) {
            return false;
        }
        *failed = Some(sha.to_string());
        true
    }

    /// A valid config again: a later failure is told.
    pub(crate) fn recovered(&self) {
        *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn read_routes(shared: &Shared) -> Option<Arc<crate::route::Routes>> {
    shared.routes()
}

/// Delivers until `stop` turns true, then once more for at most `grace` (what is left stays
/// journaled for the next start).
pub(crate) async fn deliver(
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    grace: Duration,
) {
    let Some(talk) = shared.talkback.as_ref() else {
        return;
    };
    loop {
        let wait = round(&shared, talk).await;
        tokio::select! {
            () = talk.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    if tokio::time::timeout(grace, round(&shared, talk))
        .await
        .is_err()
    {
        tracing::info!("feedback still waiting at shutdown stays in the outbox for the next start");
    }
}

/// One pass over the outbox; how long until the next is due.
async fn round(shared: &Shared, talk: &Talkback) -> Duration {
    let now = jiff::Timestamp::now();
    let wait = match talk.outbox.deliver(&talk.forge, now).await {
        Ok(report) => {
            if report.delivered + report.unchanged + report.dropped > 0 {
                tracing::info!(
                    delivered = report.delivered,
                    unchanged = report.unchanged,
                    dropped = report.dropped,
                    waiting = report.waiting,
                    "feedback"
                );
            }
            if report.dropped > 0 {
                shared.metrics.failed("feedback");
            }
            report.next_attempt.map_or(IDLE, |at| {
                let secs = at.as_second().saturating_sub(now.as_second()).clamp(1, 30);
                Duration::from_secs(secs.unsigned_abs())
            })
        }
        Err(e) => {
            shared.metrics.failed("feedback");
            tracing::warn!(error = %e, "the feedback outbox cannot be read");
            IDLE
        }
    };
    if let Ok(n) = talk.outbox.len() {
        shared.metrics.feedback_queued.set(gauge(n));
    }
    wait
}

/// The pull requests of a batch's preview work, each as its feedback needs it (the last
/// event of a pull request wins, as it does for the preview).
#[derive(Debug, Default)]
pub(crate) struct Pulls {
    by: std::collections::BTreeMap<(String, String, u64), glueops::feedback::PreviewPull>,
}

impl Pulls {
    /// Adds the preview of `app` for pull request `number` on `repo` (from `host`).
    pub(crate) fn add(
        &mut self,
        host: &str,
        repo: &str,
        app: &str,
        (number, open, sha, branch): (u64, bool, &str, &str),
    ) {
        // Journaled before feedback existed: nothing names the repository to tell.
        if repo.is_empty() {
            return;
        }
        let pull = self
            .by
            .entry((host.to_string(), repo.to_ascii_lowercase(), number))
            .or_insert_with(|| glueops::feedback::PreviewPull {
                repo: repo.to_string(),
                number,
                sha: String::new(),
                branch: String::new(),
                apps: Vec::new(),
                open,
            });
        sha.clone_into(&mut pull.sha);
        branch.clone_into(&mut pull.branch);
        pull.open = open;
        if !pull.apps.iter().any(|a| a == app) {
            pull.apps.push(app.to_string());
        }
    }

    /// The previews are being rendered.
    pub(crate) fn started(&self, shared: &Shared) {
        let Some(talk) = &shared.talkback else { return };
        for ((host, _, _), pull) in &self.by {
            talk.tell(
                talk.feedback(Some(host)).preview_started(pull),
                &shared.metrics,
            );
        }
    }

    /// What `out` did to each pull request's previews.
    pub(crate) fn done(&self, shared: &Shared, out: &glueops::PreviewOutcome) {
        let Some(talk) = &shared.talkback else { return };
        for ((host, _, _), pull) in &self.by {
            talk.tell(
                talk.feedback(Some(host)).preview(pull, out),
                &shared.metrics,
            );
        }
    }
}

/// Proposes a bump on its branch and tells the forge its pull request (without a forge the
/// branch alone is pushed).
pub(crate) fn propose(
    shared: &Shared,
    request: &glueops::Bump<'_>,
    opts: &glueops::Options,
) -> Result<(), glueops::Error> {
    let config = &shared.settings.config;
    let proposal = glueops::propose_bump(config, request, opts)?;
    tracing::info!(branch = %proposal.branch, changed = proposal.changed, moved = proposal.moved.is_some(), "bump proposed");
    let Some(talk) = &shared.talkback else {
        return Ok(());
    };
    let review = match &proposal.commit {
        Some(commit) if proposal.moved.is_none() => Some(glueops::review_config(
            config,
            Some(&shared.settings.manifests),
            &proposal.base,
            commit,
            opts,
        )?),
        _ => None,
    };
    talk.tell(
        talk.config_feedback(shared)
            .proposal(&proposal, review.as_ref()),
        &shared.metrics,
    );
    Ok(())
}

/// Tells each config pull request of the batch what merging it would do (the last event of
/// a pull request wins). Nothing to do without a forge to tell.
pub(crate) fn config_reviews(
    shared: &Shared,
    jobs: &[&crate::queue::Job],
    opts: &glueops::Options,
    failures: &mut crate::steps::Failures,
) -> Result<(), glueops::Error> {
    let Some(talk) = &shared.talkback else {
        return Ok(());
    };
    let mut last: std::collections::BTreeMap<u64, (&str, &str, &str, u64)> =
        std::collections::BTreeMap::new();
    for job in jobs {
        for w in &job.work {
            if let crate::route::Work::ConfigReview { number, sha, base } = w {
                last.insert(*number, (job.host.as_str(), sha, base, job.seq));
            }
        }
    }
    for (number, (host, sha, base, seq)) in last {
        // A branch name and commit id from a payload reach git only once checked.
        if let Err(e) = glueops::git::check_branch(base) {
            failures.insert(seq, ("failed", e.to_string()));
            continue;
        }
        if let Err(e) = glueops::model::check::commit_id(sha) {
            failures.insert(seq, ("failed", e.to_string()));
            continue;
        }
        let feedback = talk.feedback(Some(host));
        let started = std::time::Instant::now();
        let result = glueops::review_config(
            &shared.settings.config,
            Some(&shared.settings.manifests),
            base,
            sha,
            opts,
        );
        shared
            .metrics
            .timed("config_review", None, started.elapsed().as_secs_f64());
        let calls = match result {
            Ok(review) => feedback.config_review(number, &review),
            Err(e) if crate::steps::transient(&e) => return Err(e),
            Err(e @ glueops::Error::Config(_)) => feedback.config_review_failed(number, sha, &e),
            Err(e) => {
                shared.metrics.failed("config_review");
                failures.insert(seq, ("failed", crate::steps::chain(&e)));
                continue;
            }
        };
        talk.tell(calls, &shared.metrics);
    }
    Ok(())
}

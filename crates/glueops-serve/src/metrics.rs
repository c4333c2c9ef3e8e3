//! `/metrics`: the server's counters, histograms and gauges, encoded by `prometheus-client`
//! in the Prometheus text format.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of an event.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct EventLabels {
    /// `github` or `gitlab`.
    pub(crate) host: String,
    /// The event type.
    pub(crate) r#type: String,
    /// `accepted`, `ignored`, `duplicate`, `rejected`, `refused` (queue full), `applied`,
    /// `failed`.
    pub(crate) outcome: String,
}

/// Labels of a piece of work.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KindLabels {
    /// `sync`, `preview`, `bump`, `review`, `resync`, `backup`.
    pub(crate) kind: String,
}

/// Labels of a repository.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RepoLabels {
    /// `config`, `manifests` or `ledger`.
    pub(crate) repo: String,
}

/// Labels of a request to a forge.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ForgeLabels {
    /// `github`, `gitlab` or `notify`.
    pub(crate) host: String,
    /// `comment.create`, `status.get`, `deployment.create`, ...
    pub(crate) operation: String,
    /// `ok`, `retry` (429, 5xx, no answer) or `error`.
    pub(crate) outcome: String,
}

/// Labels of a registry poll.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PollLabels {
    /// `ok`, or `error` (a registry could not be read).
    pub(crate) outcome: String,
}

/// Labels of a deployment.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DeploymentLabels {
    pub(crate) app: String,
    pub(crate) env: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Every metric the server exports.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) events: Family<EventLabels, Counter>,
    pub(crate) plan_seconds: Family<KindLabels, Histogram>,
    pub(crate) apply_seconds: Family<KindLabels, Histogram>,
    pub(crate) event_seconds: Histogram,
    pub(crate) commits: Family<RepoLabels, Counter>,
    pub(crate) push_retries: Counter,
    pub(crate) failures: Family<KindLabels, Counter>,
    pub(crate) queued: Gauge,
    pub(crate) held: Gauge,
    pub(crate) previews: Gauge,
    pub(crate) forge_calls: Family<ForgeLabels, Counter>,
    pub(crate) feedback_queued: Gauge,
    pub(crate) registry_polls: Family<PollLabels, Counter>,
    pub(crate) registry_requests: Counter,
    pub(crate) dora_per_day: Family<DeploymentLabels, FloatGauge>,
    pub(crate) dora_lead_time: Family<DeploymentLabels, FloatGauge>,
    pub(crate) dora_failure_rate: Family<DeploymentLabels, FloatGauge>,
    pub(crate) dora_restore: Family<DeploymentLabels, FloatGauge>,
    dora_known: Mutex<Vec<DeploymentLabels>>,
}

fn seconds_histogram() -> Histogram {
    // 1 ms to ~65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

impl Metrics {
    /// Every metric at zero, registered under `glueops_`.
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("glueops");
        let m = Metrics {
            registry: Registry::default(),
            events: Family::default(),
            plan_seconds: Family::new_with_constructor(seconds_histogram),
            apply_seconds: Family::new_with_constructor(seconds_histogram),
            event_seconds: seconds_histogram(),
            commits: Family::default(),
            push_retries: Counter::default(),
            failures: Family::default(),
            queued: Gauge::default(),
            held: Gauge::default(),
            previews: Gauge::default(),
            forge_calls: Family::default(),
            feedback_queued: Gauge::default(),
            registry_polls: Family::default(),
            registry_requests: Counter::default(),
            dora_per_day: Family::default(),
            dora_lead_time: Family::default(),
            dora_failure_rate: Family::default(),
            dora_restore: Family::default(),
            dora_known: Mutex::new(Vec::new()),
        };
        registry.register(
            "webhook_events",
            "Webhook deliveries by host, event type and outcome",
            m.events.clone(),
        );
        registry.register(
            "plan_seconds",
            "Time to plan a change (render and compare)",
            m.plan_seconds.clone(),
        );
        registry.register(
            "apply_seconds",
            "Time to apply a piece of work: plan, commit and push",
            m.apply_seconds.clone(),
        );
        registry.register(
            "event_to_push_seconds",
            "From a delivery's arrival to its work applied",
            m.event_seconds.clone(),
        );
        registry.register(
            "commits_pushed",
            "Commits pushed, by repository",
            m.commits.clone(),
        );
        registry.register(
            "push_retries",
            "Pushes that lost the race to another writer and were planned again",
            m.push_retries.clone(),
        );
        registry.register(
            "work_failures",
            "Work that failed, by kind (retried when the cause is transient)",
            m.failures.clone(),
        );
        registry.register(
            "queue_depth",
            "Deliveries accepted and waiting",
            m.queued.clone(),
        );
        registry.register(
            "held_deployments",
            "Deployments whose newer config a gate holds",
            m.held.clone(),
        );
        registry.register(
            "open_previews",
            "Pull-request previews open",
            m.previews.clone(),
        );
        m.register_feedback(&mut registry);
        m.register_dora(&mut registry);
        Metrics { registry, ..m }
    }

    fn register_feedback(&self, registry: &mut Registry) {
        registry.register(
            "forge_requests",
            "Requests to forges and notification endpoints, by host, operation and outcome",
            self.forge_calls.clone(),
        );
        registry.register(
            "feedback_queued",
            "Comments, statuses, deployments and notifications waiting in the outbox",
            self.feedback_queued.clone(),
        );
        registry.register(
            "registry_polls",
            "Polls of the watched container registries, by outcome",
            self.registry_polls.clone(),
        );
        registry.register(
            "registry_requests",
            "HTTP requests to container registries (token requests included)",
            self.registry_requests.clone(),
        );
    }

    fn register_dora(&self, registry: &mut Registry) {
        registry.register(
            "dora_deployments_per_day",
            "DORA deployment frequency over the manifest history",
            self.dora_per_day.clone(),
        );
        registry.register(
            "dora_lead_time_seconds",
            "DORA median lead time (source commit to release)",
            self.dora_lead_time.clone(),
        );
        registry.register(
            "dora_change_failure_ratio",
            "DORA change failure rate (releases rolled back)",
            self.dora_failure_rate.clone(),
        );
        registry.register(
            "dora_time_to_restore_seconds",
            "DORA median time to restore",
            self.dora_restore.clone(),
        );
    }

    /// Counts one delivery outcome.
    pub(crate) fn event(&self, host: &str, kind: &str, outcome: &str) {
        self.events
            .get_or_create(&EventLabels {
                host: host.to_string(),
                r#type: kind.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Counts one registry poll.
    pub(crate) fn registry_poll(&self, outcome: &str) {
        self.registry_polls
            .get_or_create(&PollLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Observes how long `kind` took to plan and to apply.
    pub(crate) fn timed(&self, kind: &str, plan: Option<f64>, apply: f64) {
        let labels = KindLabels { kind: kind.into() };
        if let Some(plan) = plan {
            self.plan_seconds.get_or_create(&labels).observe(plan);
        }
        self.apply_seconds.get_or_create(&labels).observe(apply);
    }

    /// Counts a pushed commit to `repo` that took `attempts` pushes.
    pub(crate) fn pushed(&self, repo: &str, attempts: u32) {
        self.commits
            .get_or_create(&RepoLabels { repo: repo.into() })
            .inc();
        self.push_retries
            .inc_by(u64::from(attempts.saturating_sub(1)));
    }

    /// Counts one request to a forge.
    pub(crate) fn forge_request(&self, r: &glueops::forge::Request) {
        let outcome = match r.status {
            Some(s) if s < 400 => "ok",
            Some(s) if s == 429 || s >= 500 => "retry",
            None => "retry",
            Some(_) => "error",
        };
        self.forge_calls
            .get_or_create(&ForgeLabels {
                host: r.host.to_string(),
                operation: r.operation.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Counts a failure of `kind`.
    pub(crate) fn failed(&self, kind: &str) {
        self.failures
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
    }

    /// Replaces the DORA gauges with `metrics`.
    pub(crate) fn dora(&self, metrics: &[glueops::dora::Metrics]) {
        let mut known = self.dora_known.lock().unwrap_or_else(|p| p.into_inner());
        for old in known.drain(..) {
            self.dora_per_day.remove(&old);
            self.dora_lead_time.remove(&old);
            self.dora_failure_rate.remove(&old);
            self.dora_restore.remove(&old);
        }
        for m in metrics {
            let labels = DeploymentLabels {
                app: m.app.clone(),
                env: m.env.clone(),
            };
            self.dora_per_day.get_or_create(&labels).set(m.per_day);
            if let Some(v) = m.median_lead_time {
                self.dora_lead_time.get_or_create(&labels).set(v as f64);
            }
            if let Some(v) = m.change_failure_rate {
                self.dora_failure_rate.get_or_create(&labels).set(v);
            }
            if let Some(v) = m.median_time_to_restore {
                self.dora_restore.get_or_create(&labels).set(v as f64);
            }
            known.push(labels);
        }
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// The `Content-Type` of [`Metrics::encode`].
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_gauges_reach_the_exposition() {
        let m = Metrics::new();
        m.event("github", "push", "accepted");
        m.pushed("manifests", 3);
        m.timed("sync", Some(0.01), 0.02);
        m.held.set(2);
        m.dora(&[glueops::dora::Metrics {
            app: "api".into(),
            env: "prod".into(),
            releases: 2,
            rollbacks: 0,
            per_day: 0.5,
            median_lead_time: Some(60),
            change_failure_rate: Some(0.0),
            median_time_to_restore: None,
        }]);
        let text = m.encode();
        assert!(
            text.contains(
                "glueops_webhook_events_total{host=\"github\",type=\"push\",outcome=\"accepted\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("glueops_push_retries_total 2"), "{text}");
        assert!(text.contains("glueops_held_deployments 2"), "{text}");
        assert!(
            text.contains("glueops_dora_lead_time_seconds{app=\"api\",env=\"prod\"} 60"),
            "{text}"
        );
        assert!(
            text.contains("glueops_plan_seconds_count{kind=\"sync\"} 1"),
            "{text}"
        );
        // Replacing the DORA figures drops deployments that are gone.
        m.dora(&[]);
        assert!(!m.encode().contains("dora_lead_time_seconds{"));
    }
}

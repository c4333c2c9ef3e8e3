//! The PrometheusRule of one app instance: the app's own `monitoring.alerts`, and glueops'
//! default alerts (opt out with `monitoring.defaultAlerts: false`) for what the instance
//! renders: pods crash-looping, healthy pods below the disruption budget, the autoscaler
//! pinned at its maximum, ExternalSecrets not synced. The defaults read kube-state-metrics
//! and the External Secrets operator's metrics, which GlueOps' monitoring stack scrapes;
//! previews get none (nobody is paged for a pull request).

use std::collections::BTreeMap;

use glueops_model::values::Severity;

use crate::custom::{PrometheusRule, PrometheusRuleSpec, Rule, RuleGroup};
use crate::instance::Instance;
use crate::object::Object;

/// The instance's PrometheusRule, given the other objects it renders; `None` when it has
/// no alert.
pub(crate) fn prometheus_rule(i: &Instance, objects: &[Object]) -> Option<PrometheusRule> {
    let mut groups = Vec::new();
    let own: Vec<Rule> = i
        .values
        .monitoring
        .as_ref()
        .and_then(|m| m.alerts.as_ref())
        .into_iter()
        .flatten()
        .map(|a| Rule {
            alert: a.name.clone().unwrap_or_default(),
            expr: a.expr.clone().unwrap_or_default(),
            for_duration: a.for_duration.clone(),
            labels: labels(i, a.severity.unwrap_or(Severity::Warning)),
            annotations: a
                .summary
                .iter()
                .map(|s| ("summary".to_string(), s.clone()))
                .collect(),
        })
        .collect();
    if !own.is_empty() {
        groups.push(RuleGroup {
            name: format!("{}.rules", i.instance),
            rules: own,
        });
    }
    let defaults = default_rules(i, objects);
    if !defaults.is_empty() {
        groups.push(RuleGroup {
            name: format!("{}.glueops.rules", i.instance),
            rules: defaults,
        });
    }
    (!groups.is_empty())
        .then(|| PrometheusRule::new(i.meta(&i.name), PrometheusRuleSpec { groups }))
}

fn labels(i: &Instance, severity: Severity) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        ("app".to_string(), i.app.clone()),
        (
            "severity".to_string(),
            format!("{severity:?}").to_ascii_lowercase(),
        ),
    ]);
    if let Some(env) = &i.environment {
        labels.insert("environment".to_string(), env.clone());
    }
    labels
}

fn default_rules(i: &Instance, objects: &[Object]) -> Vec<Rule> {
    let wanted = i.values.monitoring.as_ref().and_then(|m| m.default_alerts) != Some(false);
    if !wanted || i.preview.is_some() {
        return Vec::new();
    }
    let ns = &i.namespace;
    let named = |kind: &str| -> Vec<&str> {
        objects
            .iter()
            .filter(|o| o.kind() == kind)
            .map(Object::name)
            .collect()
    };
    let rule = |alert: &str, expr: String, for_duration: &str, summary: String| Rule {
        alert: alert.to_string(),
        expr,
        for_duration: Some(for_duration.to_string()),
        labels: labels(i, Severity::Warning),
        annotations: BTreeMap::from([("summary".to_string(), summary)]),
    };
    let mut rules = Vec::new();
    let runs = ["Deployment", "Rollout", "StatefulSet", "CronJob", "Job"]
        .iter()
        .any(|k| !named(k).is_empty());
    if runs {
        rules.push(rule(
            "GlueopsPodCrashLooping",
            format!(
                "max by (namespace, pod, container) (kube_pod_container_status_waiting_reason{{namespace=\"{ns}\", container=\"{}\", reason=\"CrashLoopBackOff\"}}) == 1",
                i.name
            ),
            "5m",
            format!("{} pod {{{{ $labels.pod }}}} is crash-looping", i.instance),
        ));
    }
    for pdb in named("PodDisruptionBudget") {
        rules.push(rule(
            "GlueopsPodsBelowDisruptionBudget",
            format!(
                "kube_poddisruptionbudget_status_current_healthy{{namespace=\"{ns}\", poddisruptionbudget=\"{pdb}\"}} < kube_poddisruptionbudget_status_desired_healthy{{namespace=\"{ns}\", poddisruptionbudget=\"{pdb}\"}}"
            ),
            "10m",
            format!("{} has fewer healthy pods than its disruption budget allows", i.instance),
        ));
    }
    let mut autoscalers: Vec<String> = named("HorizontalPodAutoscaler")
        .into_iter()
        .map(str::to_string)
        .collect();
    // KEDA scales through an HPA of its own, `keda-hpa-<ScaledObject>`.
    autoscalers.extend(
        named("ScaledObject")
            .into_iter()
            .map(|n| format!("keda-hpa-{n}")),
    );
    for hpa in autoscalers {
        rules.push(rule(
            "GlueopsAutoscalerAtMaximum",
            format!(
                "kube_horizontalpodautoscaler_status_current_replicas{{namespace=\"{ns}\", horizontalpodautoscaler=\"{hpa}\"}} >= kube_horizontalpodautoscaler_spec_max_replicas{{namespace=\"{ns}\", horizontalpodautoscaler=\"{hpa}\"}}"
            ),
            "15m",
            format!("{} has run at its autoscaler's maximum for 15 minutes", i.instance),
        ));
    }
    let secrets = named("ExternalSecret");
    if !secrets.is_empty() {
        rules.push(rule(
            "GlueopsExternalSecretNotSynced",
            format!(
                "max by (namespace, name) (externalsecret_status_condition{{namespace=\"{ns}\", name=~\"{}\", condition=\"Ready\", status=\"False\"}}) == 1",
                secrets.join("|")
            ),
            "10m",
            format!(
                "{} ExternalSecret {{{{ $labels.name }}}} has not synced from the secret store",
                i.instance
            ),
        ));
    }
    rules
}

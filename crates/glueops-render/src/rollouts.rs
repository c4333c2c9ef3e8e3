//! Progressive delivery through Argo Rollouts: for `deployment.strategy.type: blueGreen` or
//! `canary` an environment's Deployment becomes a `Rollout` with the very same pod template
//! (hardened as the Deployment's is), an `AnalysisTemplate` measures the app's success rate
//! in Prometheus, and a failing analysis aborts the release, leaving the stable version
//! serving. Blue/green adds a preview Service the new version answers on before promotion.
//! Previews (pull-request environments) always render a plain Deployment.

use glueops_model::values::{CanaryStep as StepValues, Progressive, ProgressiveKind};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{PodTemplateSpec, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use crate::custom::custom_resource;
use crate::instance::Instance;

custom_resource!(
    /// Argo Rollouts: a Deployment that releases blue/green or canary.
    Rollout, RolloutSpec, "argoproj.io/v1alpha1", "Rollout"
);
custom_resource!(
    /// Argo Rollouts: how a release is measured.
    AnalysisTemplate, AnalysisTemplateSpec, "argoproj.io/v1alpha1", "AnalysisTemplate"
);

/// `Rollout.spec`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    /// Pod count (absent when an autoscaler owns it).
    pub replicas: Option<i32>,
    /// Old ReplicaSets kept.
    pub revision_history_limit: Option<i32>,
    /// The pods it owns.
    pub selector: LabelSelector,
    /// The pod template (the Deployment's).
    pub template: PodTemplateSpec,
    /// Blue/green or canary.
    pub strategy: RolloutStrategy,
}

/// `Rollout.spec.strategy`: exactly one of the two.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStrategy {
    /// Blue/green.
    pub blue_green: Option<BlueGreen>,
    /// Canary.
    pub canary: Option<Canary>,
}

/// The blue/green strategy.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreen {
    /// The Service production traffic uses.
    pub active_service: String,
    /// The Service the new version answers on before promotion.
    pub preview_service: String,
    /// Promote once the pre-promotion analysis passes (no manual step).
    pub auto_promotion_enabled: bool,
    /// The analysis that must pass before the active Service switches.
    pub pre_promotion_analysis: Option<AnalysisRun>,
}

/// The canary strategy.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Canary {
    /// Extra pods during a step.
    pub max_surge: Option<IntOrString>,
    /// Pods that may be unavailable during a step.
    pub max_unavailable: Option<IntOrString>,
    /// The steps; after the last the new version takes every pod.
    pub steps: Vec<CanaryStep>,
}

/// One canary step (one key set).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStep {
    /// Percent of pods on the new version.
    pub set_weight: Option<i32>,
    /// Wait.
    pub pause: Option<RolloutPause>,
    /// Measure.
    pub analysis: Option<AnalysisRun>,
}

/// A pause: for a duration, or (empty) until promoted.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutPause {
    /// How long.
    pub duration: Option<String>,
}

/// An analysis run from templates, with arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisRun {
    /// The templates.
    pub templates: Vec<TemplateRef>,
    /// Their arguments.
    pub args: Vec<AnalysisArg>,
}

/// A template by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRef {
    /// The AnalysisTemplate's name.
    pub template_name: String,
}

/// A named argument.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisArg {
    /// Its name.
    pub name: String,
    /// Its value (absent in a template: the run supplies it).
    pub value: Option<String>,
}

/// `AnalysisTemplate.spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisTemplateSpec {
    /// Arguments a run supplies (`service`: the Service whose traffic is measured).
    pub args: Vec<AnalysisArg>,
    /// What is measured.
    pub metrics: Vec<Metric>,
}

/// One measured metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// Its name.
    pub name: String,
    /// Time between measurements.
    pub interval: String,
    /// Measurements.
    pub count: i32,
    /// Failed measurements tolerated.
    pub failure_limit: i32,
    /// When a measurement succeeds.
    pub success_condition: String,
    /// Where it is measured.
    pub provider: Provider,
}

/// A metric provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provider {
    /// Prometheus.
    pub prometheus: PrometheusQuery,
}

/// A Prometheus query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrometheusQuery {
    /// Prometheus' URL.
    pub address: String,
    /// PromQL.
    pub query: String,
}

/// Where the analysis asks by default: the Service the Prometheus Operator creates for its
/// Prometheus instances.
pub const DEFAULT_PROMETHEUS: &str = "http://prometheus-operated.monitoring.svc:9090";

/// The progressive strategy of a non-preview instance's Deployment, if any.
pub(crate) fn progressive<'a>(i: &Instance<'a>) -> Option<(ProgressiveKind, &'a Progressive)> {
    if i.preview.is_some() {
        return None;
    }
    i.values
        .deployment
        .as_ref()?
        .strategy
        .as_ref()?
        .progressive()
}

fn analysis_on(p: &Progressive) -> bool {
    p.analysis.as_ref().and_then(|a| a.enabled) != Some(false)
}

fn template_name(i: &Instance) -> String {
    i.named("success-rate")
}

fn preview_service_name(i: &Instance) -> String {
    i.named("preview")
}

/// What runs an instance's Deployment workload.
pub(crate) enum Released {
    /// A plain Deployment.
    Deployment(Deployment),
    /// The Rollout that replaces it under a progressive strategy.
    Rollout(Rollout),
}

/// The instance's Deployment, or the Rollout that replaces it under a progressive strategy.
pub(crate) fn workload(i: &Instance, deployment: Deployment) -> Released {
    let Some((kind, p)) = progressive(i) else {
        return Released::Deployment(deployment);
    };
    let Deployment { metadata, spec, .. } = deployment;
    Released::Rollout(rollout(i, kind, p, metadata, spec.unwrap_or_default()))
}

/// The Rollout with the Deployment's metadata, selector, replicas and pod template.
fn rollout(
    i: &Instance,
    kind: ProgressiveKind,
    p: &Progressive,
    metadata: ObjectMeta,
    spec: DeploymentSpec,
) -> Rollout {
    let run = |service: String| {
        analysis_on(p).then(|| AnalysisRun {
            templates: vec![TemplateRef {
                template_name: template_name(i),
            }],
            args: vec![AnalysisArg {
                name: "service".into(),
                value: Some(service),
            }],
        })
    };
    let strategy = match kind {
        ProgressiveKind::BlueGreen => RolloutStrategy {
            blue_green: Some(BlueGreen {
                active_service: i.name.clone(),
                preview_service: preview_service_name(i),
                auto_promotion_enabled: true,
                pre_promotion_analysis: run(preview_service_name(i)),
            }),
            canary: None,
        },
        _ => {
            let rolling = spec.strategy.and_then(|s| s.rolling_update);
            RolloutStrategy {
                blue_green: None,
                canary: Some(Canary {
                    max_surge: rolling.as_ref().and_then(|r| r.max_surge.clone()),
                    max_unavailable: rolling.and_then(|r| r.max_unavailable),
                    steps: canary_steps(p, run(i.name.clone())),
                }),
            }
        }
    };
    Rollout::new(
        metadata,
        RolloutSpec {
            replicas: spec.replicas,
            revision_history_limit: spec.revision_history_limit,
            selector: spec.selector,
            template: spec.template,
            strategy,
        },
    )
}

/// The steps as written, or 20 %, a minute, analysis, 50 %, a minute, analysis.
fn canary_steps(p: &Progressive, analysis: Option<AnalysisRun>) -> Vec<CanaryStep> {
    let step = |set_weight: Option<i32>, pause: Option<RolloutPause>, measure: bool| CanaryStep {
        set_weight,
        pause,
        analysis: if measure { analysis.clone() } else { None },
    };
    match &p.steps {
        Some(steps) => steps
            .iter()
            .map(|s: &StepValues| {
                step(
                    s.set_weight.map(|w| i32::try_from(w).unwrap_or(100)),
                    s.pause.as_ref().map(|p| RolloutPause {
                        duration: p.duration.clone(),
                    }),
                    s.analysis.is_some(),
                )
            })
            .filter(|s| s.set_weight.is_some() || s.pause.is_some() || s.analysis.is_some())
            .collect(),
        None => {
            let mut steps = Vec::new();
            for weight in [20, 50] {
                steps.push(step(Some(weight), None, false));
                steps.push(step(
                    None,
                    Some(RolloutPause {
                        duration: Some("1m".into()),
                    }),
                    false,
                ));
                if analysis.is_some() {
                    steps.push(step(None, None, true));
                }
            }
            steps
        }
    }
}

/// The success-rate AnalysisTemplate of a progressive instance (unless turned off).
pub(crate) fn analysis_template(i: &Instance) -> Option<AnalysisTemplate> {
    let (_, p) = progressive(i)?;
    if !analysis_on(p) {
        return None;
    }
    let a = p.analysis.clone().unwrap_or_default();
    Some(AnalysisTemplate::new(
        i.meta(&template_name(i)),
        AnalysisTemplateSpec {
            args: vec![AnalysisArg {
                name: "service".into(),
                value: None,
            }],
            metrics: vec![Metric {
                name: "success-rate".into(),
                interval: a.interval.clone().unwrap_or_else(|| "1m".into()),
                count: i32::try_from(a.count.unwrap_or(5)).unwrap_or(i32::MAX),
                failure_limit: i32::try_from(a.failure_limit.unwrap_or(1)).unwrap_or(i32::MAX),
                success_condition: format!("result[0] >= {}", a.threshold.unwrap_or(0.95)),
                provider: Provider {
                    prometheus: PrometheusQuery {
                        address: a
                            .prometheus
                            .clone()
                            .unwrap_or_else(|| DEFAULT_PROMETHEUS.into()),
                        query: a.query.clone().unwrap_or_else(|| default_query(i)),
                    },
                },
            }],
        },
    ))
}

/// The share of the Service's requests through ingress-nginx over 5 minutes that did not
/// answer 5xx; no traffic at all counts as success (nothing failed).
fn default_query(i: &Instance) -> String {
    let labels = format!(
        "exported_namespace=\"{}\",exported_service=\"{{{{args.service}}}}\"",
        i.namespace
    );
    format!(
        "(sum(rate(nginx_ingress_controller_requests{{{labels},status!~\"5..\"}}[5m])) / sum(rate(nginx_ingress_controller_requests{{{labels}}}[5m]))) or vector(1)"
    )
}

/// Blue/green's preview Service: the app's Service under another name (Argo Rollouts points
/// each at its ReplicaSet).
pub(crate) fn preview_service(i: &Instance, service: Option<&Service>) -> Option<Service> {
    let (kind, _) = progressive(i)?;
    if kind != ProgressiveKind::BlueGreen {
        return None;
    }
    let mut preview = service?.clone();
    preview.metadata.name = Some(preview_service_name(i));
    Some(preview)
}

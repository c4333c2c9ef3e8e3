//! The keys glueops adds to the chart's vocabulary: `autoscaling` (an HPA), `monitoring`
//! (ServiceMonitor and alerts) and `networkPolicy`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The HorizontalPodAutoscaler.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Autoscaling {
    /// Render a HorizontalPodAutoscaler (replaces `deployment.replicas`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Lower bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<u32>,
    /// Upper bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<u32>,
    /// Target average CPU utilization, percent of requests.
    #[serde(
        rename = "targetCPUUtilizationPercentage",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_cpu_utilization_percentage: Option<u32>,
    /// Target average memory utilization, percent of requests.
    #[serde(
        rename = "targetMemoryUtilizationPercentage",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_memory_utilization_percentage: Option<u32>,
}

/// Monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Monitoring {
    /// The ServiceMonitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_monitor: Option<ServiceMonitor>,
    /// Alerts (one PrometheusRule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<Alert>>,
    /// glueops' alerts for every app (default true): pods crash-looping, available replicas
    /// below the disruption budget, the autoscaler pinned at its maximum, ExternalSecrets not
    /// synced (each only where the app has that object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_alerts: Option<bool>,
}

/// Prometheus scraping of the app's Service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceMonitor {
    /// Render a ServiceMonitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Service port name to scrape (default `http`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Metrics path (default `/metrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Scrape interval (Prometheus duration, e.g. `30s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

/// One Prometheus alerting rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alert {
    /// Alert name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// PromQL expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    /// How long the condition must hold (Prometheus duration).
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_duration: Option<String>,
    /// Severity label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Summary annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// Alert severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Page someone.
    Critical,
    /// Look at it soon.
    Warning,
    /// For information.
    Info,
}

/// The NetworkPolicy: ingress is denied except from the same namespace, the ingress
/// controller and `allowFrom`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkPolicy {
    /// Render the NetworkPolicy (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Extra allowed peers; each sets exactly one of `namespace`, `app`, `cidr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_from: Option<Vec<AllowFrom>>,
}

/// One allowed ingress peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowFrom {
    /// Every pod of a namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Pods of another glueops app in the same namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// An IP block, e.g. `10.0.0.0/8`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
}

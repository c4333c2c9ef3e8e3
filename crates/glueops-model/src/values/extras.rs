//! The keys glueops adds to the chart's vocabulary: `autoscaling` (an HPA), `monitoring`
//! (ServiceMonitor and alerts) and `networkPolicy`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The HorizontalPodAutoscaler.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Autoscaling {
    /// Render a HorizontalPodAutoscaler (replaces `deployment.replicas`).
    pub enabled: Option<bool>,
    /// Lower bound.
    pub min_replicas: Option<u32>,
    /// Upper bound.
    pub max_replicas: Option<u32>,
    /// Target average CPU utilization, percent of requests.
    #[serde(rename = "targetCPUUtilizationPercentage")]
    pub target_cpu_utilization_percentage: Option<u32>,
    /// Target average memory utilization, percent of requests.
    #[serde(rename = "targetMemoryUtilizationPercentage")]
    pub target_memory_utilization_percentage: Option<u32>,
}

/// Monitoring.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Monitoring {
    /// The ServiceMonitor.
    pub service_monitor: Option<ServiceMonitor>,
    /// Alerts (one PrometheusRule).
    pub alerts: Option<Vec<Alert>>,
    /// glueops' alerts for every app (default true): pods crash-looping, available replicas
    /// below the disruption budget, the autoscaler pinned at its maximum, ExternalSecrets not
    /// synced (each only where the app has that object).
    pub default_alerts: Option<bool>,
}

/// Prometheus scraping of the app's Service.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceMonitor {
    /// Render a ServiceMonitor.
    pub enabled: Option<bool>,
    /// Service port name to scrape (default `http`).
    pub port: Option<String>,
    /// Metrics path (default `/metrics`).
    pub path: Option<String>,
    /// Scrape interval (Prometheus duration, e.g. `30s`).
    pub interval: Option<String>,
}

/// One Prometheus alerting rule.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alert {
    /// Alert name.
    pub name: Option<String>,
    /// PromQL expression.
    pub expr: Option<String>,
    /// How long the condition must hold (Prometheus duration).
    #[serde(rename = "for")]
    pub for_duration: Option<String>,
    /// Severity label.
    pub severity: Option<Severity>,
    /// Summary annotation.
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkPolicy {
    /// Render the NetworkPolicy (default true).
    pub enabled: Option<bool>,
    /// Extra allowed peers; each sets exactly one of `namespace`, `app`, `cidr`.
    pub allow_from: Option<Vec<AllowFrom>>,
}

/// One allowed ingress peer.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowFrom {
    /// Every pod of a namespace.
    pub namespace: Option<String>,
    /// Pods of another glueops app in the same namespace.
    pub app: Option<String>,
    /// An IP block, e.g. `10.0.0.0/8`.
    pub cidr: Option<String>,
}

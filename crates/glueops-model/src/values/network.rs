//! `service` and `ingress`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{IntOrString, Labels};

/// The app's Service (rendered when `service.enabled` or `ingress.enabled`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Service {
    /// Render a Service.
    pub enabled: Option<bool>,
    /// Labels on the Service.
    pub labels: Option<Labels>,
    /// Annotations on the Service.
    pub annotations: Option<Labels>,
    /// Service type (default `ClusterIP`).
    #[serde(rename = "type")]
    pub service_type: Option<ServiceType>,
    /// The port of the `http` Service port (default: the app's port).
    pub port: Option<u16>,
    /// Ports besides `http`.
    pub ports: Option<Vec<ServicePort>>,
    /// Make the Service headless (`clusterIP: None`), e.g. to govern a StatefulSet.
    pub headless_service: Option<bool>,
}

/// Kubernetes Service type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ServiceType {
    /// Cluster-internal virtual IP.
    ClusterIP,
    /// A port on every node.
    NodePort,
    /// A cloud load balancer.
    LoadBalancer,
}

impl ServiceType {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// One Service port.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePort {
    /// Port name (unique per Service).
    pub name: Option<String>,
    /// The Service port.
    pub port: Option<u16>,
    /// The container port or its name (default `port`).
    pub target_port: Option<IntOrString>,
    /// Protocol (default TCP).
    pub protocol: Option<Protocol>,
    /// The node port (type `NodePort` or `LoadBalancer`).
    pub node_port: Option<u16>,
}

/// A network protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    /// TCP.
    TCP,
    /// UDP.
    UDP,
    /// SCTP.
    SCTP,
}

impl Protocol {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::TCP => "TCP",
            Protocol::UDP => "UDP",
            Protocol::SCTP => "SCTP",
        }
    }
}

/// Ingress settings.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ingress {
    /// Render the Ingress entries.
    pub enabled: Option<bool>,
    /// Ingress class of every entry (an entry's own wins; default `public`).
    pub ingress_class_name: Option<String>,
    /// Labels on every Ingress.
    pub labels: Option<Labels>,
    /// Annotations on every Ingress.
    pub annotations: Option<Labels>,
    /// TLS of every entry that sets none of its own.
    pub tls: Option<Vec<IngressTls>>,
    /// One Ingress per entry, named `<appName>-<name>`.
    pub entries: Option<Vec<IngressEntry>>,
}

/// One Ingress object.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressEntry {
    /// Name suffix of the Ingress.
    pub name: Option<String>,
    /// Ingress class (default `ingress.ingressClassName`, then `public`).
    pub ingress_class_name: Option<String>,
    /// Labels on this Ingress.
    pub labels: Option<Labels>,
    /// Annotations on this Ingress.
    pub annotations: Option<Labels>,
    /// Hosts; hostnames may use `{{ .Values.captain_domain }}` and
    /// `{{ .Values.glueops_app_name }}`.
    pub hosts: Option<Vec<IngressHost>>,
    /// TLS settings (default `ingress.tls`).
    pub tls: Option<Vec<IngressTls>>,
}

/// One host of an Ingress.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressHost {
    /// The hostname (after templating, a DNS name).
    pub hostname: Option<String>,
    /// Paths (default `/`, Prefix, to the app's Service).
    pub paths: Option<Vec<IngressPath>>,
}

/// One path of an Ingress host.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressPath {
    /// The path (default `/`).
    pub path: Option<String>,
    /// How the path matches (default `ImplementationSpecific`).
    pub path_type: Option<PathType>,
    /// The backend Service (default: the app's).
    pub service_name: Option<String>,
    /// The backend port by name (wins over a number).
    pub service_port_name: Option<String>,
    /// The backend port by number (default `service.port`, then the app's port).
    pub service_port_number: Option<u16>,
}

/// Ingress path matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PathType {
    /// Prefix match by path element.
    Prefix,
    /// Exact match.
    Exact,
    /// Up to the ingress controller.
    ImplementationSpecific,
}

impl PathType {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PathType::Prefix => "Prefix",
            PathType::Exact => "Exact",
            PathType::ImplementationSpecific => "ImplementationSpecific",
        }
    }
}

/// TLS for some hosts of an Ingress.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressTls {
    /// Hosts covered (default: all hosts of the entry); may use the hostname templates.
    pub hosts: Option<Vec<String>>,
    /// Secret holding the certificate.
    pub secret_name: Option<String>,
}

//! Service, Ingresses and NetworkPolicy of one app instance.

use std::collections::BTreeMap;

use glueops_model::values::{self, PathType};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, IPBlock, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, NetworkPolicy, NetworkPolicyIngressRule,
    NetworkPolicyPeer, NetworkPolicySpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::instance::Instance;
use crate::workload::int_or_string;

/// Namespaces whose pods may reach every app: label the ingress controller's namespace with it.
pub const INGRESS_NAMESPACE_LABEL: &str = "glueops.dev/ingress-controller";

/// The ingress class used when an entry names none.
pub const DEFAULT_INGRESS_CLASS: &str = "public";

/// The Service's ports: from values, or one port `http` (80) to the container port.
fn service_ports(v: &values::AppValues) -> Vec<ServicePort> {
    match v.service.as_ref().and_then(|s| s.ports.as_ref()) {
        Some(ports) => ports
            .iter()
            .map(|p| {
                let port = i32::from(p.port.unwrap_or(80));
                ServicePort {
                    name: p.name.clone(),
                    port,
                    target_port: Some(
                        p.target_port
                            .as_ref()
                            .map_or(IntOrString::Int(port), int_or_string),
                    ),
                    protocol: Some(format!("{:?}", p.protocol.unwrap_or(values::Protocol::TCP))),
                    ..ServicePort::default()
                }
            })
            .collect(),
        None => vec![ServicePort {
            name: Some("http".to_string()),
            port: 80,
            target_port: Some(IntOrString::String("http".to_string())),
            protocol: Some("TCP".to_string()),
            ..ServicePort::default()
        }],
    }
}

/// The Service, when `service.enabled`.
pub(crate) fn service(i: &Instance) -> Option<Service> {
    let s = i
        .values
        .service
        .as_ref()
        .filter(|s| s.enabled == Some(true))?;
    Some(Service {
        metadata: i.meta(&i.app),
        spec: Some(ServiceSpec {
            type_: Some(format!(
                "{:?}",
                s.service_type.unwrap_or(values::ServiceType::ClusterIP)
            )),
            selector: Some(i.selector_labels()),
            ports: Some(service_ports(i.values)),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    })
}

/// One Ingress per entry, named `<app>-<entry>`, routing to the Service's first port.
pub(crate) fn ingresses(i: &Instance) -> Vec<Ingress> {
    let Some(ingress) = i
        .values
        .ingress
        .as_ref()
        .filter(|g| g.enabled == Some(true))
    else {
        return Vec::new();
    };
    let first = service_ports(i.values).into_iter().next();
    let backend_port = match first {
        Some(ServicePort {
            name: Some(name), ..
        }) => ServiceBackendPort {
            name: Some(name),
            number: None,
        },
        Some(p) => ServiceBackendPort {
            name: None,
            number: Some(p.port),
        },
        None => ServiceBackendPort {
            name: Some("http".to_string()),
            number: None,
        },
    };
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: i.app.clone(),
            port: Some(backend_port),
        }),
        resource: None,
    };
    let mut out = Vec::new();
    for (n, entry) in ingress.entries.iter().flatten().enumerate() {
        let name = entry.name.clone().unwrap_or_else(|| format!("entry{n}"));
        let hosts: Vec<&values::IngressHost> = entry.hosts.iter().flatten().collect();
        let rules = hosts
            .iter()
            .map(|h| {
                let default_path = [values::IngressPath {
                    path: Some("/".to_string()),
                    path_type: None,
                }];
                let paths = h.paths.as_deref().unwrap_or(&default_path);
                IngressRule {
                    host: h.hostname.clone(),
                    http: Some(HTTPIngressRuleValue {
                        paths: paths
                            .iter()
                            .map(|p| HTTPIngressPath {
                                path: Some(p.path.clone().unwrap_or_else(|| "/".to_string())),
                                path_type: format!("{:?}", p.path_type.unwrap_or(PathType::Prefix)),
                                backend: backend.clone(),
                            })
                            .collect(),
                    }),
                }
            })
            .collect();
        let tls = entry.tls.as_ref().map(|tls| {
            tls.iter()
                .map(|t| IngressTLS {
                    hosts: Some(t.hosts.clone().unwrap_or_else(|| {
                        hosts.iter().filter_map(|h| h.hostname.clone()).collect()
                    })),
                    secret_name: t.secret_name.clone(),
                })
                .collect()
        });
        let mut meta = i.meta(&format!("{}-{name}", i.app));
        meta.annotations = ingress.annotations.clone().filter(|a| !a.is_empty());
        out.push(Ingress {
            metadata: meta,
            spec: Some(IngressSpec {
                ingress_class_name: Some(
                    entry
                        .ingress_class_name
                        .clone()
                        .unwrap_or_else(|| DEFAULT_INGRESS_CLASS.to_string()),
                ),
                rules: Some(rules),
                tls,
                ..IngressSpec::default()
            }),
            ..Ingress::default()
        });
    }
    out
}

/// The NetworkPolicy (unless `networkPolicy.enabled: false`): ingress only from the same
/// namespace, from namespaces labelled [`INGRESS_NAMESPACE_LABEL`], and from `allowFrom`.
pub(crate) fn network_policy(i: &Instance) -> Option<NetworkPolicy> {
    let np = i.values.network_policy.clone().unwrap_or_default();
    if np.enabled == Some(false) {
        return None;
    }
    let labels = |pairs: &[(&str, &str)]| LabelSelector {
        match_labels: Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        ),
        match_expressions: None,
    };
    let mut peers = vec![
        NetworkPolicyPeer {
            pod_selector: Some(LabelSelector::default()),
            ..NetworkPolicyPeer::default()
        },
        NetworkPolicyPeer {
            namespace_selector: Some(labels(&[(INGRESS_NAMESPACE_LABEL, "true")])),
            ..NetworkPolicyPeer::default()
        },
    ];
    for allow in np.allow_from.iter().flatten() {
        if let Some(ns) = &allow.namespace {
            peers.push(NetworkPolicyPeer {
                namespace_selector: Some(labels(&[("kubernetes.io/metadata.name", ns)])),
                ..NetworkPolicyPeer::default()
            });
        } else if let Some(app) = &allow.app {
            peers.push(NetworkPolicyPeer {
                pod_selector: Some(labels(&[("app.kubernetes.io/name", app)])),
                ..NetworkPolicyPeer::default()
            });
        } else if let Some(cidr) = &allow.cidr {
            peers.push(NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: cidr.clone(),
                    except: None,
                }),
                ..NetworkPolicyPeer::default()
            });
        }
    }
    Some(NetworkPolicy {
        metadata: i.meta(&i.app),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(i.selector()),
            policy_types: Some(vec!["Ingress".to_string()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(peers),
                ports: None,
            }]),
            egress: None,
        }),
    })
}

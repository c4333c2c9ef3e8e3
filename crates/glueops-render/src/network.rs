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

/// The Service's ports: `http` (`service.port`, default the app's port, to the app's
/// port), then `service.ports`.
fn service_ports(v: &values::AppValues) -> Vec<ServicePort> {
    let app_port = i32::from(v.port());
    let service = v.service.clone().unwrap_or_default();
    let mut out = vec![ServicePort {
        name: Some("http".to_string()),
        port: service.port.map_or(app_port, i32::from),
        target_port: Some(IntOrString::Int(app_port)),
        protocol: Some("TCP".to_string()),
        ..ServicePort::default()
    }];
    for p in service.ports.iter().flatten() {
        let port = i32::from(p.port.unwrap_or(80));
        let name = p.name.clone();
        if name.as_deref() == Some("http") {
            out.retain(|o| o.name.as_deref() != Some("http"));
        }
        out.push(ServicePort {
            name,
            port,
            target_port: Some(
                p.target_port
                    .as_ref()
                    .map_or(IntOrString::Int(port), int_or_string),
            ),
            protocol: Some(
                p.protocol
                    .unwrap_or(values::Protocol::TCP)
                    .as_str()
                    .to_string(),
            ),
            node_port: p.node_port.map(i32::from),
            ..ServicePort::default()
        });
    }
    out
}

/// The Service, when `service.enabled` or `ingress.enabled` (the chart's rule); headless when
/// `service.headlessService`.
pub(crate) fn service(i: &Instance) -> Option<Service> {
    let v = i.values;
    let wanted = v.service.as_ref().is_some_and(|s| s.enabled == Some(true))
        || v.ingress.as_ref().is_some_and(|g| g.enabled == Some(true));
    if !wanted {
        return None;
    }
    let s = v.service.clone().unwrap_or_default();
    let headless = s.headless_service == Some(true);
    Some(Service {
        metadata: i.meta_with(&i.name, s.labels.as_ref(), s.annotations.as_ref()),
        spec: Some(ServiceSpec {
            type_: Some(
                s.service_type
                    .unwrap_or(values::ServiceType::ClusterIP)
                    .as_str()
                    .to_string(),
            ),
            cluster_ip: headless.then(|| "None".to_string()),
            selector: Some(i.selector_labels()),
            ports: Some(service_ports(v)),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    })
}

/// One Ingress per entry, named `<name>-<entry>`: class, labels and annotations from
/// `ingress` and the entry, each path to its Service and port (default the app's), TLS from
/// the entry or else `ingress.tls`.
pub(crate) fn ingresses(i: &Instance) -> Vec<Ingress> {
    let Some(ingress) = i
        .values
        .ingress
        .as_ref()
        .filter(|g| g.enabled == Some(true))
    else {
        return Vec::new();
    };
    let app_port = i32::from(
        i.values
            .service
            .as_ref()
            .and_then(|s| s.port)
            .unwrap_or(i.values.port()),
    );
    let service_port = i
        .values
        .service
        .as_ref()
        .and_then(|s| s.port)
        .map(i32::from);
    let ports = Ports {
        app: app_port,
        service: service_port,
    };
    let mut out = Vec::new();
    for (n, entry) in ingress.entries.iter().flatten().enumerate() {
        let name = entry.name.clone().unwrap_or_else(|| format!("entry{n}"));
        let hosts: Vec<&values::IngressHost> = entry.hosts.iter().flatten().collect();
        let rules = hosts.iter().map(|h| host_rule(i, h, ports)).collect();
        let tls = entry.tls.as_ref().or(ingress.tls.as_ref()).map(|tls| {
            tls.iter()
                .map(|t| IngressTLS {
                    hosts: Some(t.hosts.clone().unwrap_or_else(|| {
                        hosts.iter().filter_map(|h| h.hostname.clone()).collect()
                    })),
                    secret_name: t.secret_name.clone(),
                })
                .collect()
        });
        let mut meta = i.meta_with(
            &i.named(&name),
            ingress.labels.as_ref(),
            ingress.annotations.as_ref(),
        );
        if let Some(labels) = entry.labels.as_ref().filter(|l| !l.is_empty()) {
            meta.labels
                .get_or_insert_with(BTreeMap::new)
                .extend(labels.clone());
        }
        if let Some(annotations) = entry.annotations.as_ref().filter(|a| !a.is_empty()) {
            meta.annotations
                .get_or_insert_with(BTreeMap::new)
                .extend(annotations.clone());
        }
        let class = entry
            .ingress_class_name
            .clone()
            .or_else(|| ingress.ingress_class_name.clone())
            .unwrap_or_else(|| DEFAULT_INGRESS_CLASS.to_string());
        out.push(Ingress {
            metadata: meta,
            spec: Some(IngressSpec {
                ingress_class_name: Some(class),
                rules: Some(rules),
                tls,
                ..IngressSpec::default()
            }),
            ..Ingress::default()
        });
    }
    out
}

/// The ports an ingress path falls back to: the Service's port when set, else the app's.
#[derive(Clone, Copy)]
struct Ports {
    app: i32,
    service: Option<i32>,
}

/// One host of an entry: its paths, each to its Service and port, or `/` to the app.
fn host_rule(i: &Instance, h: &values::IngressHost, ports: Ports) -> IngressRule {
    let paths = match h.paths.as_deref() {
        Some(paths) if !paths.is_empty() => paths
            .iter()
            .map(|p| {
                let port = match &p.service_port_name {
                    Some(port) => ServiceBackendPort {
                        name: Some(port.clone()),
                        number: None,
                    },
                    None => ServiceBackendPort {
                        name: None,
                        number: Some(
                            ports
                                .service
                                .or(p.service_port_number.map(i32::from))
                                .unwrap_or(ports.app),
                        ),
                    },
                };
                HTTPIngressPath {
                    path: Some(p.path.clone().unwrap_or_else(|| "/".to_string())),
                    path_type: p
                        .path_type
                        .unwrap_or(PathType::ImplementationSpecific)
                        .as_str()
                        .to_string(),
                    backend: backend(i, p.service_name.as_ref(), port),
                }
            })
            .collect(),
        _ => vec![HTTPIngressPath {
            path: Some("/".to_string()),
            path_type: PathType::Prefix.as_str().to_string(),
            backend: backend(
                i,
                None,
                ServiceBackendPort {
                    name: None,
                    number: Some(ports.app),
                },
            ),
        }],
    };
    IngressRule {
        host: h.hostname.clone(),
        http: Some(HTTPIngressRuleValue { paths }),
    }
}

/// The Service `name` (default the app's) at `port`.
fn backend(i: &Instance, name: Option<&String>, port: ServiceBackendPort) -> IngressBackend {
    IngressBackend {
        service: Some(IngressServiceBackend {
            name: name.cloned().unwrap_or_else(|| i.name.clone()),
            port: Some(port),
        }),
        resource: None,
    }
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
        metadata: i.meta(&i.name),
        spec: Some(NetworkPolicySpec {
            // Every pod of the instance, its Jobs' too.
            pod_selector: Some(labels(&[("app.kubernetes.io/instance", &i.instance)])),
            policy_types: Some(vec!["Ingress".to_string()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(peers),
                ports: None,
            }]),
            egress: None,
        }),
    })
}

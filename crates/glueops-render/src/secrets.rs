//! ExternalSecrets and the ServiceMonitor of one app instance.

use glueops_model::Platform;
use glueops_model::values::{self, SecretStoreKind, SecretStoreRef};

use crate::custom::{
    DataFrom, Endpoint, ExternalSecret, ExternalSecretData, ExternalSecretRemoteRef,
    ExternalSecretSpec, ExternalSecretTarget, Extract, Selector, ServiceMonitor,
    ServiceMonitorSpec, StoreRef, TargetTemplate, TemplateMetadata,
};
use crate::instance::Instance;

/// The store used when neither the platform nor the values name one (GlueOps' default).
pub const DEFAULT_SECRET_STORE: &str = "vault-backend";

/// One ExternalSecret per declared secret, named `<name>-<suffix>`, creating the Secret of
/// the same name (or the secret's `name`). glueops never renders a plaintext Secret.
pub(crate) fn external_secrets(i: &Instance, platform: &Platform) -> Vec<ExternalSecret> {
    let Some(es) = i.values.enabled_external_secret() else {
        return Vec::new();
    };
    let platform_store = platform.spec.secret_store.as_ref();
    let store = |own: Option<&SecretStoreRef>| {
        let pick = |s: Option<&SecretStoreRef>| s.and_then(|s| s.name.clone());
        StoreRef {
            name: pick(own)
                .or_else(|| pick(es.secret_store.as_ref()))
                .or_else(|| platform_store.map(|s| s.name.clone()))
                .unwrap_or_else(|| DEFAULT_SECRET_STORE.to_string()),
            // A secret's own store is a ClusterSecretStore unless it says otherwise (the
            // chart's rule); it does not inherit the shared store's kind.
            kind: format!(
                "{:?}",
                match own {
                    Some(own) => own.kind,
                    None => es
                        .secret_store
                        .as_ref()
                        .and_then(|s| s.kind)
                        .or_else(|| platform_store.and_then(|s| s.kind)),
                }
                .unwrap_or(SecretStoreKind::ClusterSecretStore)
            ),
        }
    };
    es.secrets
        .iter()
        .flatten()
        .map(|(suffix, source)| {
            let secret_name = source.name.clone().unwrap_or_else(|| i.named(suffix));
            let (data, data_from) = (secret_data(source), secret_data_from(source));
            let labels = source.labels.clone().unwrap_or_default();
            let annotations = source.annotations.clone().unwrap_or_default();
            let metadata =
                (!labels.is_empty() || !annotations.is_empty()).then_some(TemplateMetadata {
                    labels,
                    annotations,
                });
            ExternalSecret::new(
                i.meta(&i.named(suffix)),
                ExternalSecretSpec {
                    refresh_interval: source
                        .refresh_interval
                        .clone()
                        .or_else(|| es.refresh_interval.clone())
                        .unwrap_or_else(|| DEFAULT_REFRESH.to_string()),
                    secret_store_ref: store(source.secret_store.as_ref()),
                    target: ExternalSecretTarget {
                        name: secret_name,
                        creation_policy: "Owner".to_string(),
                        template: Some(TargetTemplate {
                            secret_type: source
                                .secret_type
                                .clone()
                                .unwrap_or_else(|| "Opaque".to_string()),
                            metadata,
                        }),
                    },
                    data,
                    data_from,
                },
            )
        })
        .collect()
}

/// A secret's `data`: each key from its remote reference (the key trimmed).
fn secret_data(source: &values::SecretSource) -> Vec<ExternalSecretData> {
    source
        .data
        .iter()
        .flatten()
        .map(|(key, d)| {
            let r = d.remote_ref.clone().unwrap_or_default();
            ExternalSecretData {
                secret_key: key.clone(),
                remote_ref: ExternalSecretRemoteRef {
                    key: r.key.unwrap_or_default().trim().to_string(),
                    property: r.property,
                    version: r.version,
                    decoding_strategy: r.decoding_strategy.map(|s| enum_name(&s)),
                    conversion_strategy: r.conversion_strategy.map(|s| enum_name(&s)),
                    metadata_policy: r.metadata_policy.map(|s| enum_name(&s)),
                },
            }
        })
        .collect()
}

/// A secret's `dataFrom`: the whole remote secret extracted (the key trimmed).
fn secret_data_from(source: &values::SecretSource) -> Vec<DataFrom> {
    source
        .data_from
        .iter()
        .map(|f| DataFrom {
            extract: Extract {
                key: f.key.clone().unwrap_or_default().trim().to_string(),
                property: f.property.clone(),
                version: f.version.clone(),
                decoding_strategy: f.decoding_strategy.map(|s| enum_name(&s)),
                conversion_strategy: f.conversion_strategy.map(|s| enum_name(&s)),
            },
        })
        .collect()
}

/// How often a secret is re-read when no layer says (the chart's default, `2s`, would read
/// the store every two seconds per secret).
pub const DEFAULT_REFRESH: &str = "1h";

/// A model enum as External Secrets spells it.
fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The ServiceMonitor, when `monitoring.serviceMonitor.enabled` and the Service exists.
pub(crate) fn service_monitor(i: &Instance) -> Option<ServiceMonitor> {
    let m = i
        .values
        .monitoring
        .as_ref()?
        .service_monitor
        .as_ref()
        .filter(|s| s.enabled == Some(true))?;
    i.values
        .service
        .as_ref()
        .filter(|s| s.enabled == Some(true))?;
    Some(ServiceMonitor::new(
        i.meta(&i.name),
        ServiceMonitorSpec {
            selector: Selector {
                match_labels: i.selector_labels(),
            },
            endpoints: vec![Endpoint {
                port: m.port.clone().unwrap_or_else(|| "http".to_string()),
                path: m.path.clone().unwrap_or_else(|| "/metrics".to_string()),
                interval: m.interval.clone().unwrap_or_else(|| "30s".to_string()),
            }],
        },
    ))
}

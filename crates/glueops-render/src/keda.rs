//! KEDA objects of one app instance: the ScaledObject and TriggerAuthentications.

use glueops_model::values::Trigger;

use crate::custom::{ScaledObject, ScaledObjectSpec, TriggerAuthentication};
use crate::instance::Instance;
use crate::workload::scale_target;

/// The ScaledObject, when `keda.enabled` and `keda.scaledObject.enabled`: the values' spec,
/// the app's workload as target unless `scaleTargetRef` says otherwise, and `triggers` (or,
/// when empty, the non-null entries of `triggersMap` in key order).
pub(crate) fn scaled_object(i: &Instance) -> Option<ScaledObject> {
    let keda = i.values.keda.as_ref().filter(|k| k.enabled == Some(true))?;
    let so = keda
        .scaled_object
        .as_ref()
        .filter(|s| s.enabled == Some(true))?;
    let spec = so.spec.clone().unwrap_or_default();
    let triggers: Vec<&Trigger> = match spec.triggers.as_deref() {
        Some(list) if !list.is_empty() => list.iter().collect(),
        _ => spec
            .triggers_map
            .iter()
            .flatten()
            .filter_map(|(_, t)| t.as_ref())
            .collect(),
    };
    let target = match &spec.scale_target_ref {
        Some(own) => serde_json::to_value(own).unwrap_or_default(),
        None => {
            let (api_version, kind, name) =
                scale_target(i).unwrap_or(("apps/v1", "Deployment", i.name.clone()));
            let mut target = serde_json::json!({"name": name});
            if kind != "Deployment" {
                target["apiVersion"] = api_version.into();
                target["kind"] = kind.into();
            }
            target
        }
    };
    let mut settings = match serde_json::to_value(&spec) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    for key in ["triggers", "triggersMap", "scaleTargetRef"] {
        settings.remove(key);
    }
    Some(ScaledObject::new(
        i.meta_with(&i.name, so.labels.as_ref(), so.annotations.as_ref()),
        ScaledObjectSpec {
            scale_target_ref: target,
            settings,
            triggers: triggers
                .into_iter()
                .filter_map(|t| serde_json::to_value(t).ok())
                .collect(),
        },
    ))
}

/// One TriggerAuthentication per enabled `keda.triggerAuthentication` entry, named
/// `<name>-<key>`.
pub(crate) fn trigger_authentications(i: &Instance) -> Vec<TriggerAuthentication> {
    let Some(keda) = i.values.keda.as_ref().filter(|k| k.enabled == Some(true)) else {
        return Vec::new();
    };
    keda.trigger_authentication
        .iter()
        .flatten()
        .filter_map(|(key, t)| {
            let t = t.as_ref().filter(|t| t.enabled == Some(true))?;
            let spec = serde_json::to_value(t.spec.clone().unwrap_or_default()).ok()?;
            Some(TriggerAuthentication::new(i.meta(&i.named(key)), spec))
        })
        .collect()
}

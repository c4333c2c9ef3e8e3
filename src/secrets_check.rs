//! `secrets check`: every remote reference the rendered ExternalSecrets read exists in the
//! store, property included. Values are never read into output: only presence is reported.

use std::collections::BTreeMap;

use crate::model::node::Segment;
use crate::model::{AppInstance, Repo};
use crate::secrets::{SecretPath, SecretStore};

/// A reference the store cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingSecret {
    /// The app.
    pub app: String,
    /// The environment (or `pr-<N>` for a preview).
    pub env: String,
    /// The key in the store.
    pub key: String,
    /// The property, when one is referenced.
    pub property: Option<String>,
    /// `file:line` of the reference.
    pub at: String,
    /// What is missing: the secret, or the property in it.
    pub problem: String,
}

/// One reference to check: who makes it, where, and what.
struct Reference<'a> {
    instance: &'a AppInstance,
    path: Vec<Segment>,
    key: String,
    property: Option<String>,
}

fn references(repo: &Repo) -> Vec<Reference<'_>> {
    let mut out = Vec::new();
    for d in repo.deployments() {
        let Some(es) = d.values.enabled_external_secret() else {
            continue;
        };
        for (suffix, source) in es.secrets.iter().flatten() {
            let base = |rest: &[&str]| {
                let mut p: Vec<Segment> = ["externalSecret", "secrets", suffix.as_str()]
                    .iter()
                    .map(|s| Segment::from(*s))
                    .collect();
                p.extend(rest.iter().map(|s| Segment::from(*s)));
                p
            };
            for (name, data) in source.data.iter().flatten() {
                if let Some(key) = data.remote_ref.as_ref().and_then(|r| r.key.clone()) {
                    out.push(Reference {
                        instance: d,
                        path: base(&["data", name, "remoteRef", "key"]),
                        key,
                        property: data.remote_ref.as_ref().and_then(|r| r.property.clone()),
                    });
                }
            }
            if let Some(from) = &source.data_from
                && let Some(key) = from.key.clone()
            {
                out.push(Reference {
                    instance: d,
                    path: base(&["dataFrom", "key"]),
                    key,
                    property: from.property.clone(),
                });
            }
        }
    }
    out
}

/// Checks every remote reference of `repo`'s deployments against `store`; each secret is read
/// once however many deployments reference it.
pub async fn check_secrets(
    repo: &Repo,
    store: &dyn SecretStore,
) -> Result<Vec<MissingSecret>, crate::secrets::Error> {
    // key -> the properties the secret has (`None` when it does not exist).
    let mut found: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    let mut missing = Vec::new();
    for r in references(repo) {
        if !found.contains_key(&r.key) {
            let keys = match SecretPath::new(&r.key) {
                Ok(path) => match store.get(&path, None).await {
                    Ok(secret) => Some(secret.data.keys().map(str::to_string).collect()),
                    Err(e) if e.is_not_found() => None,
                    Err(e) => return Err(e),
                },
                Err(_) => None,
            };
            found.insert(r.key.clone(), keys);
        }
        let problem = match (found.get(&r.key).and_then(Option::as_ref), &r.property) {
            (None, _) => "no such secret in the store".to_string(),
            (Some(keys), Some(p)) if !keys.contains(p) => {
                format!("the secret has no property `{p}`")
            }
            _ => continue,
        };
        let at = r.instance.tree.locate(&r.path);
        missing.push(MissingSecret {
            app: r.instance.app.clone(),
            env: r.instance.environment().map_or_else(
                || format!("pr-{}", r.instance.preview_number().unwrap_or(0)),
                str::to_string,
            ),
            key: r.key,
            property: r.property,
            at: format!("{}:{}", at.file, at.line),
            problem,
        });
    }
    Ok(missing)
}

//! What the values mean once layered: the workloads that run, the image each resolves to,
//! the app's name and port — the chart's rules, in one place for the rules and the renderer.

use crate::node::Segment;

use super::{
    AppValues, CHART_DEFAULT_IMAGE, CHART_DEFAULT_PORT, CHART_DEFAULT_REGISTRY, ImageOverride,
    ImageParts, Pod,
};

/// What kind of workload runs a pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// `deployment`.
    Deployment,
    /// `statefulSet`.
    StatefulSet,
    /// An entry of `cronJob.jobs`.
    CronJob,
    /// An entry of `job.jobs`.
    Job,
}

/// One workload that runs, with its effective pod template.
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    /// What runs it.
    pub kind: WorkloadKind,
    /// The entry's key, for Jobs and CronJobs.
    pub key: Option<&'a str>,
    /// Where its pod fields are written, e.g. `cronJob.jobs.cleanup`.
    pub path: Vec<Segment>,
    /// The pod template: the entry's fields over the shared `job`/`cronJob` ones.
    pub pod: Pod,
}

/// Why a workload has no image to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageProblem {
    /// A repository is set but no tag, digest or `appVersion`.
    NoTag {
        /// `registry/repository`.
        image: String,
    },
}

impl AppValues {
    /// The name of the app's objects: `appName`, else the instance name.
    pub fn object_name<'a>(&'a self, instance: &'a str) -> &'a str {
        self.app_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(instance)
    }

    /// The app's port: `image.port`, else `deployment.port`, else 8080.
    pub fn port(&self) -> u16 {
        self.image
            .as_ref()
            .and_then(|i| i.port)
            .or_else(|| self.deployment.as_ref().and_then(|d| d.port))
            .unwrap_or(CHART_DEFAULT_PORT)
    }

    /// True when some layer sets the port (glueops then adds TCP probes where none are set).
    pub fn port_is_set(&self) -> bool {
        self.image.as_ref().and_then(|i| i.port).is_some()
            || self.deployment.as_ref().and_then(|d| d.port).is_some()
    }

    /// The workloads that run, in the order the chart renders them.
    pub fn workloads(&self) -> Vec<Workload<'_>> {
        let mut out = Vec::new();
        if let Some(d) = self.deployment.as_ref().filter(|d| d.enabled == Some(true)) {
            out.push(Workload {
                kind: WorkloadKind::Deployment,
                key: None,
                path: vec![Segment::from("deployment")],
                pod: d.pod.clone(),
            });
        }
        if let Some(s) = self
            .stateful_set
            .as_ref()
            .filter(|s| s.enabled == Some(true))
        {
            out.push(Workload {
                kind: WorkloadKind::StatefulSet,
                key: None,
                path: vec![Segment::from("statefulSet")],
                pod: s.pod.clone(),
            });
        }
        if let Some(c) = self.cron_job.as_ref().filter(|c| c.enabled == Some(true)) {
            for (key, entry) in c.jobs.iter().flatten() {
                let Some(entry) = entry.as_ref().filter(|e| e.enabled != Some(false)) else {
                    continue;
                };
                out.push(Workload {
                    kind: WorkloadKind::CronJob,
                    key: Some(key),
                    path: vec![
                        Segment::from("cronJob"),
                        Segment::from("jobs"),
                        Segment::from(key.as_str()),
                    ],
                    pod: entry.pod.or(&c.pod),
                });
            }
        }
        if let Some(j) = self.job.as_ref().filter(|j| j.enabled == Some(true)) {
            for (key, entry) in j.jobs.iter().flatten() {
                let Some(entry) = entry.as_ref().filter(|e| e.enabled != Some(false)) else {
                    continue;
                };
                out.push(Workload {
                    kind: WorkloadKind::Job,
                    key: Some(key),
                    path: vec![
                        Segment::from("job"),
                        Segment::from("jobs"),
                        Segment::from(key.as_str()),
                    ],
                    pod: entry.pod.or(&j.pod),
                });
            }
        }
        out
    }

    /// The image a pod runs, the chart's way: a workload's full reference as written; else
    /// its parts over the top-level `image` (registry default `docker.io`), the tag from the
    /// workload, then `top_tag` (the top-level `image.tag`, or a preview's head commit), then
    /// `appVersion`. With no repository anywhere, the chart's default image.
    ///
    /// ```
    /// use glueops_model::values::{AppValues, Image, Pod};
    /// let v = AppValues {
    ///     image: Some(Image { registry: Some("ghcr.io".into()), repository: Some("acme/api".into()), ..Image::default() }),
    ///     ..AppValues::default()
    /// };
    /// assert_eq!(v.image_reference(&Pod::default(), Some("1.4.2")).unwrap(), "ghcr.io/acme/api:1.4.2");
    /// assert!(v.image_reference(&Pod::default(), None).is_err());
    /// ```
    pub fn image_reference(
        &self,
        pod: &Pod,
        top_tag: Option<&str>,
    ) -> Result<String, ImageProblem> {
        let parts = match &pod.image {
            Some(ImageOverride::Reference(r)) if !r.trim().is_empty() => {
                return Ok(r.trim().to_string());
            }
            Some(ImageOverride::Parts(p)) => p.clone(),
            _ => ImageParts::default(),
        };
        let top = self.image.clone().unwrap_or_default();
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let Some(repository) = nonempty(&parts.repository).or_else(|| nonempty(&top.repository))
        else {
            let tag = nonempty(&parts.tag).or_else(|| top_tag.map(str::to_string));
            return Ok(match tag {
                Some(tag) => format!("{CHART_DEFAULT_REGISTRY}/nginx:{tag}"),
                None => CHART_DEFAULT_IMAGE.to_string(),
            });
        };
        let registry = nonempty(&parts.registry)
            .or_else(|| nonempty(&top.registry))
            .unwrap_or_else(|| CHART_DEFAULT_REGISTRY.to_string());
        let tag = nonempty(&parts.tag)
            .or_else(|| {
                top_tag
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
            })
            .or_else(|| nonempty(&self.app_version));
        let digest = nonempty(&parts.digest).or_else(|| {
            if parts.repository.is_none() {
                nonempty(&top.digest)
            } else {
                None
            }
        });
        let mut out = format!("{registry}/{repository}");
        if tag.is_none() && digest.is_none() {
            return Err(ImageProblem::NoTag { image: out });
        }
        if let Some(tag) = tag {
            out.push(':');
            out.push_str(&tag);
        }
        if let Some(digest) = digest {
            out.push('@');
            out.push_str(&digest);
        }
        Ok(out)
    }
}

/// The data of a ConfigMap written the chart's way: YAML text of a map from keys to text.
///
/// ```
/// let data = glueops_model::values::config_data("LOG_LEVEL: info\nPORT: \"8080\"\n").unwrap();
/// assert_eq!(data["PORT"], "8080");
/// assert!(glueops_model::values::config_data("PORT: 8080\n").is_err());
/// ```
pub fn config_data(text: &str) -> Result<std::collections::BTreeMap<String, String>, crate::Error> {
    if text.trim().is_empty() {
        return Ok(std::collections::BTreeMap::new());
    }
    let map: std::collections::BTreeMap<String, serde_json::Value> =
        glueops_yaml::deserialize(text, glueops_yaml::Limits::Config).map_err(|source| {
            crate::Error::Yaml {
                what: "the ConfigMap data",
                source,
            }
        })?;
    map.into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(s) => Ok((key, s)),
            other => Err(crate::Error::invalid(format!(
                "`{key}` is {other}, not text; quote it"
            ))),
        })
        .collect()
}

/// The objects of one `customResources` entry (templates already rendered): every
/// document a map with `apiVersion`, `kind` and `metadata.name`.
///
/// ```
/// let objects = glueops_model::values::custom_objects(
///     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
/// ).unwrap();
/// assert_eq!(objects.len(), 2);
/// assert!(glueops_model::values::custom_objects("kind: ConfigMap\n").is_err());
/// ```
pub fn custom_objects(
    text: &str,
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, crate::Error> {
    let docs: Vec<serde_json::Value> =
        glueops_yaml::deserialize_stream(text, glueops_yaml::Limits::Config).map_err(|source| {
            crate::Error::Yaml {
                what: "the custom resource",
                source,
            }
        })?;
    let mut out = Vec::new();
    for (n, doc) in docs.into_iter().enumerate() {
        let serde_json::Value::Object(map) = doc else {
            return Err(crate::Error::invalid(format!(
                "document {} is not a map",
                n + 1
            )));
        };
        for field in ["apiVersion", "kind"] {
            if !map.get(field).is_some_and(serde_json::Value::is_string) {
                return Err(crate::Error::invalid(format!(
                    "document {} has no `{field}`",
                    n + 1
                )));
            }
        }
        let name = map
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(serde_json::Value::as_str);
        if name.is_none_or(str::is_empty) {
            return Err(crate::Error::invalid(format!(
                "document {} has no `metadata.name`",
                n + 1
            )));
        }
        out.push(map);
    }
    Ok(out)
}

//! One app instance being rendered: names, labels and the image it runs.

use std::collections::BTreeMap;

use glueops_model::values::{AppValues, Labels, Pod, Workload};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

/// Everything the builders need to know about one deployment or preview.
pub(crate) struct Instance<'a> {
    /// The app (its folder under `apps/`).
    pub app: String,
    /// The name of its objects: `appName`, else `instance`.
    pub name: String,
    /// `<app>-<env>` or `<app>-pr-<N>`.
    pub instance: String,
    /// The namespace.
    pub namespace: String,
    /// The environment (for a preview: none).
    pub environment: Option<String>,
    /// The pull request of a preview.
    pub preview: Option<u64>,
    /// The merged values.
    pub values: &'a AppValues,
    /// The workloads that run ([`AppValues::workloads`], resolved once).
    pub workloads: Vec<Workload<'a>>,
    /// The top-level image tag (for a preview: the head sha).
    pub tag: Option<String>,
    /// The platform name (`app.kubernetes.io/part-of`).
    pub part_of: String,
}

impl Instance<'_> {
    /// `app.kubernetes.io/name`: `appName`, else the app.
    fn app_label(&self) -> &str {
        self.values
            .app_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.app)
    }

    /// Labels that select the app's pods (plus the workload's `matchLabels`).
    pub(crate) fn selector_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "app.kubernetes.io/name".to_string(),
                self.app_label().to_string(),
            ),
            (
                "app.kubernetes.io/instance".to_string(),
                self.instance.clone(),
            ),
        ])
    }

    /// The standard labels on every object of the instance, with `commonLabels`.
    pub(crate) fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.values.common_labels.clone().unwrap_or_default();
        labels.extend(self.selector_labels());
        labels.insert(
            "app.kubernetes.io/managed-by".to_string(),
            "glueops".to_string(),
        );
        labels.insert(
            "app.kubernetes.io/part-of".to_string(),
            self.part_of.clone(),
        );
        if let Some(env) = &self.environment {
            labels.insert("glueops.dev/environment".to_string(), env.clone());
        }
        if self.preview.is_some() {
            labels.insert("glueops.dev/preview".to_string(), "true".to_string());
        }
        labels
    }

    /// Labels of workloads and their pods: [`Instance::labels`] plus
    /// `app.kubernetes.io/version` (kept off other objects so an image bump changes only the
    /// workload files).
    pub(crate) fn workload_labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.labels();
        if let Some(version) = self.version() {
            labels.insert("app.kubernetes.io/version".to_string(), version);
        }
        labels
    }

    /// Metadata of a workload named `name`.
    pub(crate) fn workload_meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            labels: Some(self.workload_labels()),
            ..self.meta(name)
        }
    }

    /// A selector on [`Instance::selector_labels`] and `matchLabels`.
    pub(crate) fn selector(&self, pod: &Pod) -> LabelSelector {
        let mut labels = self.selector_labels();
        labels.extend(pod.match_labels.clone().unwrap_or_default());
        LabelSelector {
            match_labels: Some(labels),
            match_expressions: None,
        }
    }

    /// Metadata for an object of the instance named `name`, with `commonAnnotations`.
    pub(crate) fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels()),
            annotations: self
                .values
                .common_annotations
                .clone()
                .filter(|a| !a.is_empty()),
            ..ObjectMeta::default()
        }
    }

    /// [`Instance::meta`] with a section's own labels and annotations added.
    pub(crate) fn meta_with(
        &self,
        name: &str,
        labels: Option<&Labels>,
        annotations: Option<&Labels>,
    ) -> ObjectMeta {
        let mut meta = self.meta(name);
        add(&mut meta.labels, labels);
        add(&mut meta.annotations, annotations);
        meta
    }

    /// The name of an object of the instance with a suffix: `<name>-<suffix>`.
    pub(crate) fn named(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.name)
    }

    /// The `app.kubernetes.io/version` label value: `appVersion`, else the tag, cut to a valid
    /// label value.
    fn version(&self) -> Option<String> {
        let raw = [self.values.app_version.as_deref(), self.tag.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|s| !s.is_empty())?;
        let v: String = raw.chars().take(63).collect();
        let v = v
            .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string();
        (!v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .then_some(v)
    }

    /// `ENV_APP_VERSION`: `appVersion`, else the tag, else the tag of the image `pod` runs.
    pub(crate) fn app_version(&self, pod: &Pod) -> String {
        let set = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        set(&self.values.app_version)
            .or_else(|| set(&self.tag))
            .or_else(|| {
                let image = self.values.image_reference(pod, None).ok()?;
                let name = image.rsplit('/').next()?;
                let name = name.split('@').next()?;
                name.split_once(':').map(|(_, tag)| tag.to_string())
            })
            .unwrap_or_default()
    }

    /// `ENV_APP_ENV`: `appEnv`, else the environment (`previews` for a preview).
    pub(crate) fn app_env(&self) -> String {
        self.values
            .app_env
            .clone()
            .or_else(|| self.environment.clone())
            .unwrap_or_else(|| "previews".to_string())
    }

    /// The name of the ServiceAccount glueops renders for the app: `serviceAccount.name`,
    /// else the enabled workload's `serviceAccount.name`, else the app's name (the chart's
    /// order).
    pub(crate) fn service_account_name(&self) -> String {
        let v = self.values;
        let workload_name = |pod: &Pod, enabled: bool| {
            enabled
                .then(|| pod.service_account.as_ref().and_then(|s| s.name.clone()))
                .flatten()
        };
        v.service_account
            .as_ref()
            .and_then(|s| s.name.clone())
            .or_else(|| {
                v.deployment
                    .as_ref()
                    .and_then(|d| workload_name(&d.pod, d.enabled == Some(true)))
            })
            .or_else(|| {
                v.stateful_set
                    .as_ref()
                    .and_then(|s| workload_name(&s.pod, s.enabled == Some(true)))
            })
            .unwrap_or_else(|| self.name.clone())
    }
}

fn add(into: &mut Option<BTreeMap<String, String>>, extra: Option<&Labels>) {
    if let Some(extra) = extra.filter(|e| !e.is_empty()) {
        into.get_or_insert_with(BTreeMap::new).extend(extra.clone());
    }
}

//! One app instance being rendered: names, labels and the image it runs.

use std::collections::BTreeMap;

use glueops_model::values::AppValues;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

/// Everything the builders need to know about one deployment or preview.
pub(crate) struct Instance<'a> {
    /// The app name: the name of its Deployment, Service, ServiceAccount.
    pub app: String,
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
    /// The image tag (for a preview: the head sha).
    pub tag: Option<String>,
    /// The platform name (`app.kubernetes.io/part-of`).
    pub part_of: String,
}

impl Instance<'_> {
    /// Labels that select the app's pods.
    pub(crate) fn selector_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), self.app.clone()),
            (
                "app.kubernetes.io/instance".to_string(),
                self.instance.clone(),
            ),
        ])
    }

    /// The standard labels on every object of the instance.
    pub(crate) fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.selector_labels();
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

    /// A selector on [`Instance::selector_labels`].
    pub(crate) fn selector(&self) -> LabelSelector {
        LabelSelector {
            match_labels: Some(self.selector_labels()),
            match_expressions: None,
        }
    }

    /// Metadata for an object of the instance named `name`.
    pub(crate) fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels()),
            ..ObjectMeta::default()
        }
    }

    /// The image reference the containers run (see [`glueops_model::values::Image::reference`]).
    pub(crate) fn image(&self) -> String {
        self.values
            .image
            .clone()
            .unwrap_or_default()
            .reference(self.tag.as_deref())
    }

    /// The `app.kubernetes.io/version` label value: the tag, cut to a valid label value.
    fn version(&self) -> Option<String> {
        let v: String = self.tag.as_deref()?.chars().take(63).collect();
        let v = v
            .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string();
        (!v.is_empty()).then_some(v)
    }

    /// Whether pods mount the ServiceAccount token (off unless the values ask).
    pub(crate) fn automount_token(&self) -> bool {
        self.values
            .deployment
            .as_ref()
            .and_then(|d| d.automount_service_account_token)
            .unwrap_or(false)
    }
}

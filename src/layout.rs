//! Who owns a manifest-repo path: a deployment, a preview or the platform.

use crate::model::Platform;

/// The manifest-repo layout of one platform (see `glueops_render`).
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// `clusters` under `spec.manifestRepo.path`.
    pub(crate) root: String,
    engine: &'static str,
    delivery_kind: &'static str,
}

/// What a manifest-repo path belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The files of deployment (app, env): its folder.
    Deployment {
        /// The app.
        app: String,
        /// The environment.
        env: String,
    },
    /// A preview's folder, its delivery object, or the previews project.
    Preview {
        /// `<app>-pr-<N>`, or `None` for the previews project.
        name: Option<String>,
    },
    /// A file of the delivery folder that is not a preview's: Namespaces, projects, the
    /// source, and the delivery objects of deployments.
    Delivery {
        /// The cluster.
        cluster: String,
        /// The file name.
        file: String,
    },
    /// Not glueops' (outside `clusters/`): never written or removed.
    Foreign,
}

impl Layout {
    pub(crate) fn new(platform: &Platform) -> Layout {
        let prefix = platform
            .spec
            .manifest_repo
            .path
            .as_deref()
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty());
        let delivery = platform.spec.delivery;
        Layout {
            root: prefix.map_or_else(|| "clusters".to_string(), |p| format!("{p}/clusters")),
            engine: delivery.folder(),
            delivery_kind: match delivery {
                crate::model::platform::Delivery::Argocd => "application",
                crate::model::platform::Delivery::Flux => "kustomization",
            },
        }
    }

    pub(crate) fn deployment_dir(&self, cluster: &str, env: &str, app: &str) -> String {
        format!("{}/{cluster}/{env}/{app}", self.root)
    }

    pub(crate) fn delivery_dir(&self, cluster: &str) -> String {
        format!("{}/{cluster}/{}", self.root, self.engine)
    }

    /// The delivery object (Application or Kustomization) of an instance.
    pub(crate) fn delivery_file(&self, cluster: &str, instance: &str) -> String {
        format!(
            "{}/{}-{instance}.yaml",
            self.delivery_dir(cluster),
            self.delivery_kind
        )
    }

    pub(crate) fn preview_dir(&self, cluster: &str, name: &str) -> String {
        format!("{}/{cluster}/previews/{name}", self.root)
    }

    /// The previews AppProject (Argo CD only).
    pub(crate) fn previews_project(&self, cluster: &str) -> String {
        format!("{}/appproject-previews.yaml", self.delivery_dir(cluster))
    }

    pub(crate) fn classify(&self, path: &str) -> Owner {
        let Some(rest) = path
            .strip_prefix(self.root.as_str())
            .and_then(|r| r.strip_prefix('/'))
        else {
            return Owner::Foreign;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            [_, "previews", name, _, ..] => Owner::Preview {
                name: Some((*name).to_string()),
            },
            [cluster, engine, file] if *engine == self.engine => {
                if *file == "appproject-previews.yaml" {
                    return Owner::Preview { name: None };
                }
                let instance = file
                    .strip_prefix(self.delivery_kind)
                    .and_then(|f| f.strip_prefix('-'))
                    .and_then(|f| f.strip_suffix(".yaml"));
                match instance.filter(|i| is_preview_name(i)) {
                    Some(i) => Owner::Preview {
                        name: Some(i.to_string()),
                    },
                    None => Owner::Delivery {
                        cluster: (*cluster).to_string(),
                        file: (*file).to_string(),
                    },
                }
            }
            [_, env, app, _, ..] if *env != self.engine => Owner::Deployment {
                app: (*app).to_string(),
                env: (*env).to_string(),
            },
            _ => Owner::Foreign,
        }
    }
}

/// `<app>-pr-<N>`.
pub(crate) fn is_preview_name(name: &str) -> bool {
    name.rsplit_once("-pr-").is_some_and(|(app, n)| {
        !app.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

//! Who owns a path: manifest-repo paths by deployment, preview or platform; config-repo paths
//! by the deployments a change to them affects.

use std::collections::BTreeSet;

use crate::model::{Platform, Repo};

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

/// The deployments a set of changed config paths affects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Affected {
    /// Every deployment (glueops.yaml, common values, an unknown file).
    pub(crate) all: bool,
    /// (app, env) pairs.
    pub(crate) deployments: BTreeSet<(String, String)>,
}

impl Affected {
    pub(crate) fn contains(&self, app: &str, env: &str) -> bool {
        self.all
            || self
                .deployments
                .contains(&(app.to_string(), env.to_string()))
    }
}

/// Maps changed config paths to deployments: `glueops.yaml` and `common/` → all; an overlay
/// `env-overlays/<namespace>/` → the environments in that namespace; `apps/<app>/base/` →
/// that app everywhere; `apps/<app>/envs/<env>/` → that deployment; previews' values →
/// nothing (sync leaves previews alone). An app or environment removed shows as its deleted
/// `envs/<env>/values.yaml`.
pub(crate) fn affected<'a>(changed: impl IntoIterator<Item = &'a str>, repo: &Repo) -> Affected {
    let mut out = Affected::default();
    let repos = [repo];
    for path in changed {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["apps", _, "envs", "previews", ..] => {}
            ["apps", app, "envs", env, _, ..] => {
                out.deployments
                    .insert(((*app).to_string(), (*env).to_string()));
            }
            ["apps", app, "base", ..] => {
                for repo in &repos {
                    for d in repo.deployments().filter(|d| d.app == *app) {
                        if let Some(env) = d.environment() {
                            out.deployments.insert((d.app.clone(), env.to_string()));
                        }
                    }
                }
            }
            ["env-overlays", namespace, ..] => {
                for repo in &repos {
                    let envs: Vec<&str> = repo
                        .platform()
                        .spec
                        .environments
                        .iter()
                        .filter(|e| e.namespace() == *namespace)
                        .map(|e| e.name.as_str())
                        .collect();
                    for d in repo.deployments() {
                        if let Some(env) = d.environment().filter(|e| envs.contains(e)) {
                            out.deployments.insert((d.app.clone(), env.to_string()));
                        }
                    }
                }
            }
            [file] if file.starts_with('.') || file.ends_with(".md") => {}
            _ => out.all = true,
        }
    }
    out
}

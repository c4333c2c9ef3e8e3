//! [`Layout`]: the manifest repo's folders, both ways — where render writes an object
//! ([`Layout::path_for`]) and whose a path on the branch is ([`Layout::owner_of`]).
//!
//! ```text
//! <path>/clusters/<cluster>/<env>/<app>/<file>          a deployment's objects
//! <path>/clusters/<cluster>/previews/<app>-pr-<N>/...    a preview's objects
//! <path>/clusters/<cluster>/<argocd|flux>/<file>         Namespaces, projects, delivery objects
//! ```

use glueops_model::Platform;
use glueops_model::platform::Delivery;

/// The manifest-repo layout of one platform (`spec.manifestRepo.path`, `spec.delivery`).
///
/// ```
/// use glueops_render::{Layout, Owner};
/// let platform = glueops_model::Platform::from_yaml(
///     "apiVersion: glueops.dev/v1alpha1\nkind: Platform\nmetadata: {name: acme}\nspec:\n  delivery: argocd\n  manifestRepo: {url: \"https://git.example/m.git\", path: gitops}\n  clusters: [{name: prod, server: \"https://k8s.example:6443\", captainDomain: prod.acme.example}]\n  environments: [{name: production, cluster: prod}]\n",
/// ).unwrap();
/// let layout = Layout::new(&platform);
/// let owner = Owner::Deployment { cluster: "prod".into(), env: "production".into(), app: "api".into() };
/// let path = layout.path_for(&owner, "deployment-api.yaml");
/// assert_eq!(path, "gitops/clusters/prod/production/api/deployment-api.yaml");
/// assert_eq!(layout.owner_of(&path), owner);
/// assert_eq!(layout.owner_of("README.md"), Owner::Foreign);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `clusters`, under `spec.manifestRepo.path` when it is set.
    root: String,
    /// `argocd` or `flux`.
    engine: &'static str,
    /// The file-name prefix of a delivery object: `application` or `kustomization`.
    delivery_kind: &'static str,
}

/// What a manifest-repo path belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// A deployment's folder: `clusters/<cluster>/<env>/<app>/`.
    Deployment {
        /// The cluster.
        cluster: String,
        /// The environment.
        env: String,
        /// The app.
        app: String,
    },
    /// A preview's folder or delivery object (`name`: `<app>-pr-<N>`), or the previews
    /// project (`name: None`).
    Preview {
        /// The cluster.
        cluster: String,
        /// The preview.
        name: Option<String>,
    },
    /// Another file of a cluster's delivery folder: Namespaces, projects, the source, the
    /// delivery objects of deployments.
    Delivery {
        /// The cluster.
        cluster: String,
    },
    /// Not glueops' (outside `clusters/`, or not in its shape): never written or removed.
    Foreign,
}

/// The previews AppProject's file name.
const PREVIEWS_PROJECT: &str = "appproject-previews.yaml";

impl Layout {
    /// The layout `platform` asks for.
    pub fn new(platform: &Platform) -> Layout {
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
                Delivery::Argocd => "application",
                Delivery::Flux => "kustomization",
            },
        }
    }

    /// The folder every glueops file is under: `clusters` (under `spec.manifestRepo.path`).
    pub fn root(&self) -> &str {
        &self.root
    }

    /// A deployment's folder.
    pub fn deployment_dir(&self, cluster: &str, env: &str, app: &str) -> String {
        format!("{}/{cluster}/{env}/{app}", self.root)
    }

    /// A cluster's delivery folder (`argocd` or `flux`).
    pub fn delivery_dir(&self, cluster: &str) -> String {
        format!("{}/{cluster}/{}", self.root, self.engine)
    }

    /// The folder of a cluster's previews.
    pub fn previews_dir(&self, cluster: &str) -> String {
        format!("{}/{cluster}/previews", self.root)
    }

    /// A preview's folder (`name`: `<app>-pr-<N>`).
    pub fn preview_dir(&self, cluster: &str, name: &str) -> String {
        format!("{}/{name}", self.previews_dir(cluster))
    }

    /// The delivery object (Application or Kustomization) of an instance (`<app>-<env>` or
    /// `<app>-pr-<N>`).
    pub fn delivery_file(&self, cluster: &str, instance: &str) -> String {
        format!(
            "{}/{}-{instance}.yaml",
            self.delivery_dir(cluster),
            self.delivery_kind
        )
    }

    /// The previews AppProject (Argo CD only).
    pub fn previews_project(&self, cluster: &str) -> String {
        format!("{}/{PREVIEWS_PROJECT}", self.delivery_dir(cluster))
    }

    /// The path of the file `file` of `owner`: in a deployment's or preview's folder, or a
    /// cluster's delivery folder (a preview's delivery object is [`Layout::delivery_file`],
    /// the previews project [`Layout::previews_project`]). A [`Owner::Foreign`] file is
    /// `file` itself.
    pub fn path_for(&self, owner: &Owner, file: &str) -> String {
        match owner {
            Owner::Deployment { cluster, env, app } => {
                format!("{}/{file}", self.deployment_dir(cluster, env, app))
            }
            Owner::Preview {
                cluster,
                name: Some(name),
            } => format!("{}/{file}", self.preview_dir(cluster, name)),
            Owner::Preview {
                cluster,
                name: None,
            } => self.previews_project(cluster),
            Owner::Delivery { cluster } => format!("{}/{file}", self.delivery_dir(cluster)),
            Owner::Foreign => file.to_string(),
        }
    }

    /// Whose `path` is.
    pub fn owner_of(&self, path: &str) -> Owner {
        let Some(rest) = path
            .strip_prefix(self.root.as_str())
            .and_then(|r| r.strip_prefix('/'))
        else {
            return Owner::Foreign;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let cluster = |c: &str| c.to_string();
        match parts.as_slice() {
            [c, "previews", name, _, ..] => Owner::Preview {
                cluster: cluster(c),
                name: Some((*name).to_string()),
            },
            [c, engine, file] if *engine == self.engine => {
                if *file == PREVIEWS_PROJECT {
                    return Owner::Preview {
                        cluster: cluster(c),
                        name: None,
                    };
                }
                let instance = file
                    .strip_prefix(self.delivery_kind)
                    .and_then(|f| f.strip_prefix('-'))
                    .and_then(|f| f.strip_suffix(".yaml"));
                match instance.filter(|i| is_preview_name(i)) {
                    Some(i) => Owner::Preview {
                        cluster: cluster(c),
                        name: Some(i.to_string()),
                    },
                    None => Owner::Delivery {
                        cluster: cluster(c),
                    },
                }
            }
            [c, env, app, _, ..] if *env != self.engine => Owner::Deployment {
                cluster: cluster(c),
                env: (*env).to_string(),
                app: (*app).to_string(),
            },
            _ => Owner::Foreign,
        }
    }
}

/// Whether `name` is a preview's: `<app>-pr-<N>`.
pub fn is_preview_name(name: &str) -> bool {
    name.rsplit_once("-pr-").is_some_and(|(app, n)| {
        !app.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

//! Delivery objects: what makes Argo CD or Flux deploy each folder of the manifest repo.

use std::collections::BTreeMap;

use glueops_model::Platform;
use glueops_model::platform::Delivery;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::custom::{
    AppProject, AppProjectSpec, Application, ApplicationSource, ApplicationSpec, Automated,
    Backoff, Destination, GitRef, GitRepository, GitRepositorySpec, GroupKind, Kustomization,
    KustomizationSpec, Retry, SourceRef, SyncPolicy,
};
use crate::object::Object;

/// Namespace the Argo CD objects live in.
pub const ARGOCD_NAMESPACE: &str = "argocd";
/// Namespace the Flux objects live in.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// Name of the Flux GitRepository of the manifest repo.
pub const FLUX_SOURCE: &str = "manifests";
/// AppProject of previews.
pub const PREVIEWS_PROJECT: &str = "previews";

/// What one delivery object deploys.
pub(crate) struct Deliverable<'a> {
    /// `<app>-<env>` or `<app>-pr-<N>`.
    pub name: &'a str,
    /// AppProject: the environment, or previews.
    pub project: &'a str,
    /// Folder in the manifest repo.
    pub path: &'a str,
    /// API server of the cluster.
    pub server: &'a str,
    /// Namespace deployed into.
    pub namespace: &'a str,
    /// Extra labels (previews).
    pub labels: BTreeMap<String, String>,
    /// Extra annotations (previews: pull request, branch, head sha).
    pub annotations: BTreeMap<String, String>,
}

fn meta(
    name: &str,
    namespace: &str,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
) -> ObjectMeta {
    let mut all = BTreeMap::from([(
        "app.kubernetes.io/managed-by".to_string(),
        "glueops".to_string(),
    )]);
    all.extend(labels);
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(namespace.to_string()),
        labels: Some(all),
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..ObjectMeta::default()
    }
}

/// The Application or Kustomization deploying one folder.
pub(crate) fn deploy(platform: &Platform, t: Deliverable<'_>) -> Object {
    let repo = &platform.spec.manifest_repo;
    let branch = repo.branch.clone().unwrap_or_else(|| "main".to_string());
    match platform.spec.delivery {
        Delivery::Argocd => Application::new(
            meta(t.name, ARGOCD_NAMESPACE, t.labels, t.annotations),
            ApplicationSpec {
                project: t.project.to_string(),
                source: ApplicationSource {
                    repo_url: repo.url.clone(),
                    target_revision: branch,
                    path: t.path.to_string(),
                },
                destination: Destination {
                    server: t.server.to_string(),
                    namespace: t.namespace.to_string(),
                },
                sync_policy: SyncPolicy {
                    automated: Automated {
                        prune: true,
                        self_heal: true,
                    },
                    retry: Retry {
                        limit: 5,
                        backoff: Backoff {
                            duration: "5s".to_string(),
                            factor: 2,
                            max_duration: "3m".to_string(),
                        },
                    },
                    sync_options: vec![
                        "PrunePropagationPolicy=foreground".to_string(),
                        "PruneLast=true".to_string(),
                    ],
                },
            },
        )
        .into(),
        Delivery::Flux => Kustomization::new(
            meta(t.name, FLUX_NAMESPACE, t.labels, t.annotations),
            KustomizationSpec {
                interval: "5m".to_string(),
                retry_interval: "1m".to_string(),
                path: format!("./{}", t.path),
                prune: true,
                wait: true,
                timeout: "3m".to_string(),
                target_namespace: t.namespace.to_string(),
                service_account_name: flux_account(t.namespace),
                source_ref: SourceRef {
                    kind: "GitRepository".to_string(),
                    name: FLUX_SOURCE.to_string(),
                },
            },
        )
        .into(),
    }
}

/// The service account a Flux Kustomization deploying into `namespace` impersonates.
fn flux_account(namespace: &str) -> String {
    format!("glueops-{namespace}")
}

/// What lets a Flux Kustomization deploy into `namespace` and nowhere else (Flux only): its
/// ServiceAccount in `flux-system`, bound to the built-in `admin` ClusterRole in `namespace`
/// alone (a RoleBinding: no cluster-scoped objects, no other namespace). Rendered into the
/// cluster's `flux/` folder, which the platform's own bootstrap applies with full rights.
pub(crate) fn access(platform: &Platform, namespace: &str) -> Vec<Object> {
    use k8s_openapi::api::core::v1::ServiceAccount;
    use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
    if platform.spec.delivery != Delivery::Flux {
        return Vec::new();
    }
    let account = flux_account(namespace);
    let binding = RoleBinding {
        metadata: meta(
            &format!("glueops-flux-{namespace}"),
            namespace,
            BTreeMap::new(),
            BTreeMap::new(),
        ),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_string(),
            kind: "ClusterRole".to_string(),
            name: "admin".to_string(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_string(),
            name: account.clone(),
            namespace: Some(FLUX_NAMESPACE.to_string()),
            ..Subject::default()
        }]),
    };
    let sa = ServiceAccount {
        metadata: meta(&account, FLUX_NAMESPACE, BTreeMap::new(), BTreeMap::new()),
        ..ServiceAccount::default()
    };
    vec![sa.into(), binding.into()]
}

/// The AppProject of an environment (Argo CD only): deploys from the manifest repo into the
/// namespaces of that environment on its cluster.
pub(crate) fn project(
    platform: &Platform,
    name: &str,
    server: &str,
    namespace: &str,
    description: String,
) -> Option<Object> {
    (platform.spec.delivery == Delivery::Argocd).then(|| {
        AppProject::new(
            meta(name, ARGOCD_NAMESPACE, BTreeMap::new(), BTreeMap::new()),
            AppProjectSpec {
                description,
                source_repos: vec![platform.spec.manifest_repo.url.clone()],
                destinations: vec![Destination {
                    server: server.to_string(),
                    namespace: namespace.to_string(),
                }],
                cluster_resource_whitelist: vec![GroupKind {
                    group: String::new(),
                    kind: "Namespace".to_string(),
                }],
            },
        )
        .into()
    })
}

/// The Flux source of the manifest repo (Flux only).
pub(crate) fn source(platform: &Platform) -> Option<Object> {
    let repo = &platform.spec.manifest_repo;
    (platform.spec.delivery == Delivery::Flux).then(|| {
        GitRepository::new(
            meta(
                FLUX_SOURCE,
                FLUX_NAMESPACE,
                BTreeMap::new(),
                BTreeMap::new(),
            ),
            GitRepositorySpec {
                interval: "1m".to_string(),
                url: repo.url.clone(),
                reference: GitRef {
                    branch: repo.branch.clone().unwrap_or_else(|| "main".to_string()),
                },
            },
        )
        .into()
    })
}

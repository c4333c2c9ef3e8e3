//! # glueops-render
//!
//! A pure function from the [`glueops_model`] of a config repo to typed Kubernetes objects
//! (`k8s-openapi` for core kinds, small typed structs for custom resources) and deterministic
//! YAML in a manifest-repo layout. No helm, no kustomize, no text templates.
//!
//! ## What it renders, per deployment (app, env) and per preview (app, PR)
//! What the GlueOps app chart renders for the same values — Deployment or StatefulSet,
//! Jobs and CronJobs, Service (headless on request), Ingresses, PodDisruptionBudget,
//! PersistentVolumeClaim, ServiceAccount, ConfigMaps, ExternalSecrets, KEDA ScaledObject and
//! TriggerAuthentications, custom resources — named `appName` or else `<app>-<env>`, on a pod
//! template that is secure by default (restricted pod security: non-root UID 10001, no
//! privilege escalation, read-only root filesystem with an emptyDir `/tmp`, all capabilities
//! dropped, seccomp `RuntimeDefault`, for sidecars and init containers too; requests and
//! limits always set; a `glueops.dev/config-hash` pod annotation over the ConfigMaps and
//! ExternalSecret specs so pods roll when they change); plus glueops' own
//! HorizontalPodAutoscaler, NetworkPolicy, ServiceMonitor and PrometheusRule (the app's
//! alerts and glueops' default ones). With `deployment.strategy.type: blueGreen` or `canary`
//! an environment's Deployment is an Argo Rollouts `Rollout` on the same pod template, with an
//! `AnalysisTemplate` (and for blue/green a preview Service): see [`rollouts`]. Per namespace a
//! Namespace labelled `pod-security.kubernetes.io/enforce: restricted`. Delivery objects per
//! `spec.delivery`: Argo CD AppProjects and Applications, or a Flux GitRepository and
//! Kustomizations.
//!
//! ## Layout in the manifest repo
//! ```text
//! clusters/<cluster>/<env>/<app>/<kind>-<name>.yaml       one object per file
//! clusters/<cluster>/previews/<app>-pr-<N>/...            previews, with their Namespace
//! clusters/<cluster>/<argocd|flux>/...                    Namespaces of environments, delivery objects
//! ```
//! prefixed by `spec.manifestRepo.path` when set.
//!
//! ## Example
//! ```
//! use glueops_model::{Repo, SourceTree};
//!
//! let mut files = SourceTree::new();
//! files.insert("glueops.yaml", &include_bytes!("../../glueops-model/tests/data/minimal-platform.yaml")[..]);
//! files.insert("apps/api/base/base-values.yaml", "image: {repository: acme/api, port: 8080}\ndeployment: {enabled: true}\nservice: {enabled: true}\n");
//! files.insert("apps/api/envs/staging/values.yaml", "image: {tag: 1.4.2}\n");
//! let repo = Repo::from_sources(&files).unwrap();
//!
//! let set = glueops_render::render(&repo, &[]).unwrap();
//! let files = set.files().unwrap();
//! // Objects are named after the instance (`<app>-<env>`) unless `appName` says otherwise.
//! let deployment = files.get("clusters/nonprod/staging/api/deployment-api-staging.yaml").unwrap();
//! let deployment = std::str::from_utf8(deployment).unwrap();
//! assert!(deployment.contains("image: docker.io/acme/api:1.4.2"));
//! assert!(deployment.contains("readOnlyRootFilesystem: true"));
//! assert!(files.contains("clusters/nonprod/argocd/application-api-staging.yaml"));
//! ```

mod alerts;
pub mod custom;
mod delivery;
mod diff;
mod instance;
mod keda;
mod layout;
mod manifest;
mod network;
mod object;
mod pod;
pub mod rollouts;
mod secrets;
mod workload;

use std::collections::BTreeMap;

use glueops_model::values::WorkloadKind;
use glueops_model::{AppInstance, Diagnostics, Placement, Platform, Repo};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

pub use delivery::{ARGOCD_NAMESPACE, FLUX_NAMESPACE, FLUX_SOURCE, PREVIEWS_PROJECT};
pub use diff::{Change, ChangeKind, diff, markdown};
pub use layout::{Layout, Owner, is_preview_name};
pub use manifest::{Manifest, ManifestSet, stream};
pub use network::{DEFAULT_INGRESS_CLASS, INGRESS_NAMESPACE_LABEL};
pub use object::Object;
pub use pod::RUN_AS_ID;
pub use secrets::DEFAULT_REFRESH;
pub use secrets::DEFAULT_SECRET_STORE;

/// What can go wrong while rendering a valid model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The preview's values have problems.
    #[error("the preview of pull request {number} of `{app}` cannot be built:\n{diagnostics}")]
    Preview {
        /// The app.
        app: String,
        /// The pull request.
        number: u64,
        /// What is wrong.
        diagnostics: Diagnostics,
    },
    /// A preview needs an image tag: the head sha, or `image.tag` in its values.
    #[error(
        "the preview of pull request {number} of `{app}` has no image tag; pass the pull request's head sha (e.g. `{app}:{number}:<sha>`)"
    )]
    PreviewTag {
        /// The app.
        app: String,
        /// The pull request.
        number: u64,
    },
    /// Two objects would be written to one file.
    #[error(
        "two objects would be written to `{path}`; rename one of the apps, ingress entries or config maps"
    )]
    Collision {
        /// The file.
        path: String,
    },
    /// An object could not be serialized.
    #[error("cannot write `{path}` as YAML")]
    Serialize {
        /// The file.
        path: String,
        /// What the emitter said.
        source: glueops_yaml::Error,
    },
    /// A rendered path would leave the manifest repo (check `spec.manifestRepo.path`).
    #[error(transparent)]
    Path(#[from] glueops_files::PathError),
}

/// A pull-request preview to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRequest {
    /// The app.
    pub app: String,
    /// The pull request number.
    pub number: u64,
    /// The head commit: the preview's image tag and an annotation.
    pub head_sha: Option<String>,
    /// The head branch, for an annotation.
    pub branch: Option<String>,
}

impl From<glueops_model::PreviewRef> for PreviewRequest {
    fn from(p: glueops_model::PreviewRef) -> Self {
        Self {
            app: p.app,
            number: p.number,
            head_sha: p.head_sha,
            branch: None,
        }
    }
}

impl std::str::FromStr for PreviewRequest {
    type Err = glueops_model::InvalidPreviewRef;

    /// Parses `<app>:<N>[:<sha>]` (see [`glueops_model::PreviewRef`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<glueops_model::PreviewRef>().map(Self::from)
    }
}

/// Renders every app instance of `repo` and the requested previews.
pub fn render(repo: &Repo, previews: &[PreviewRequest]) -> Result<ManifestSet, Error> {
    render_selected(repo, previews, &|_| true)
}

/// Renders the deployments `select` keeps, the requested previews, and what the platform
/// needs around them (Namespaces and projects of the active environments, the delivery
/// source). A deployment's files are the same bytes [`render`] gives it: the loop renders
/// only the deployments a config change touches.
pub fn render_selected(
    repo: &Repo,
    previews: &[PreviewRequest],
    select: &(dyn Fn(&AppInstance) -> bool + Sync),
) -> Result<ManifestSet, Error> {
    let platform = repo.platform();
    let layout = Layout::new(platform);
    let deployments: Vec<&AppInstance> = repo.deployments().filter(|d| select(d)).collect();
    // Contiguous batches, each rendered into one Vec, joined in order.
    let parts: Vec<Vec<Manifest>> = deployments
        .par_chunks(manifest::batch_size(deployments.len(), 8))
        .map(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * 12);
            for d in chunk {
                render_instance(&mut out, platform, d, &layout);
            }
            out
        })
        .collect();
    let mut out: Vec<Manifest> = parts.into_iter().flatten().collect();
    let mut clusters: BTreeMap<String, ()> = repo
        .deployments()
        .map(|d| (d.cluster.clone(), ()))
        .collect();
    render_environments(&mut out, repo, &layout);
    for request in previews {
        let cluster = render_preview(&mut out, repo, request, &layout)?;
        clusters.insert(cluster, ());
    }
    for cluster in clusters.keys() {
        if let Some(source) = delivery::source(platform) {
            out.push(manifest(&layout.delivery_dir(cluster), source));
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path && a.object == b.object);
    ManifestSet::new(out)
}

/// The Namespace of every (cluster, namespace) that has deployments (labelled with its
/// environment when only one uses it), and the AppProject of every such environment.
fn render_environments(out: &mut Vec<Manifest>, repo: &Repo, layout: &Layout) {
    let platform = repo.platform();
    let mut namespaces: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for env in repo.active_environments() {
        let Some(e) = platform.environment(env) else {
            continue;
        };
        namespaces
            .entry((e.cluster.as_str(), e.namespace()))
            .or_default()
            .push(env);
        let dir = layout.delivery_dir(&e.cluster);
        let description = format!("glueops environment {env}");
        if let Some(p) = delivery::project(
            platform,
            env,
            server(platform, &e.cluster),
            e.namespace(),
            description,
        ) {
            out.push(manifest(&dir, p));
        }
    }
    for ((cluster, ns), envs) in namespaces {
        let dir = layout.delivery_dir(cluster);
        let env = match envs.as_slice() {
            [one] => Some(*one),
            _ => None,
        };
        out.push(manifest(&dir, namespace(ns, env, None)));
        for object in delivery::access(platform, ns) {
            out.push(manifest(&dir, object));
        }
    }
}

/// One pull request's preview: its Namespace, objects and delivery object (and the previews
/// AppProject). Returns the cluster it runs on.
fn render_preview(
    out: &mut Vec<Manifest>,
    repo: &Repo,
    request: &PreviewRequest,
    layout: &Layout,
) -> Result<String, Error> {
    let platform = repo.platform();
    let d = repo
        .preview_at(&request.app, request.number, request.head_sha.as_deref())
        .map_err(|diagnostics| Error::Preview {
            app: request.app.clone(),
            number: request.number,
            diagnostics,
        })?;
    let tag = request
        .head_sha
        .clone()
        .or_else(|| d.values.image.as_ref().and_then(|i| i.tag.clone()))
        .ok_or_else(|| Error::PreviewTag {
            app: request.app.clone(),
            number: request.number,
        })?;
    let folder = layout.preview_dir(&d.cluster, &d.name);
    let dir = layout.delivery_dir(&d.cluster);
    // Under Flux the preview's Kustomization may write only inside its namespace: the
    // Namespace and its access come with the delivery objects, applied by the bootstrap.
    let access = delivery::access(platform, &d.namespace);
    let namespace_dir = if access.is_empty() { &folder } else { &dir };
    out.push(manifest(
        namespace_dir,
        namespace(&d.namespace, None, Some(request.number)),
    ));
    for object in access {
        out.push(manifest(&dir, object));
    }
    push_instance(out, platform, &d, Some(tag), &folder);
    let mut annotations = BTreeMap::from([(
        "glueops.dev/pull-request".to_string(),
        request.number.to_string(),
    )]);
    if let Some(branch) = &request.branch {
        annotations.insert("glueops.dev/branch".to_string(), branch.clone());
    }
    if let Some(sha) = &request.head_sha {
        annotations.insert("glueops.dev/head-sha".to_string(), sha.clone());
    }
    if let Placement::Preview { hostname, .. } = &d.placement {
        annotations.insert("glueops.dev/hostname".to_string(), hostname.clone());
    }
    let server = server(platform, &d.cluster);
    out.push(manifest(
        &dir,
        delivery::deploy(
            platform,
            delivery::Deliverable {
                name: &d.name,
                project: PREVIEWS_PROJECT,
                path: &folder,
                server,
                namespace: &d.namespace,
                labels: BTreeMap::from([("glueops.dev/preview".to_string(), "true".to_string())]),
                annotations,
            },
        ),
    ));
    if let Some(p) = delivery::project(
        platform,
        PREVIEWS_PROJECT,
        server,
        "*-pr-*",
        "glueops pull-request previews".to_string(),
    ) {
        out.push(manifest(&dir, p));
    }
    Ok(d.cluster)
}

/// The objects of one app instance in an environment and its delivery object.
fn render_instance(out: &mut Vec<Manifest>, platform: &Platform, d: &AppInstance, layout: &Layout) {
    let env = d.environment().unwrap_or_default();
    let folder = layout.deployment_dir(&d.cluster, env, &d.app);
    let tag = d.values.image.as_ref().and_then(|i| i.tag.clone());
    push_instance(out, platform, d, tag, &folder);
    out.push(manifest(
        &layout.delivery_dir(&d.cluster),
        delivery::deploy(
            platform,
            delivery::Deliverable {
                name: &d.name,
                project: env,
                path: &folder,
                server: server(platform, &d.cluster),
                namespace: &d.namespace,
                labels: BTreeMap::from([("glueops.dev/environment".to_string(), env.to_string())]),
                annotations: BTreeMap::new(),
            },
        ),
    ));
}

fn server<'a>(platform: &'a Platform, cluster: &str) -> &'a str {
    platform
        .cluster(cluster)
        .map_or("https://kubernetes.default.svc", |c| c.server.as_str())
}

fn manifest(dir: &str, object: Object) -> Manifest {
    Manifest {
        path: format!("{dir}/{}", object.file_name()),
        object,
    }
}

fn namespace(name: &str, env: Option<&str>, preview: Option<u64>) -> Object {
    let mut labels = BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_string(),
            "glueops".to_string(),
        ),
        (
            "pod-security.kubernetes.io/enforce".to_string(),
            "restricted".to_string(),
        ),
        (
            "pod-security.kubernetes.io/enforce-version".to_string(),
            "latest".to_string(),
        ),
    ]);
    if let Some(env) = env {
        labels.insert("glueops.dev/environment".to_string(), env.to_string());
    }
    if let Some(n) = preview {
        labels.insert("glueops.dev/preview".to_string(), "true".to_string());
        labels.insert("glueops.dev/pull-request".to_string(), n.to_string());
    }
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
    .into()
}

/// Renders the objects of one app instance into `folder`.
fn push_instance(
    out: &mut Vec<Manifest>,
    platform: &Platform,
    d: &AppInstance,
    tag: Option<String>,
    folder: &str,
) {
    let i = instance::Instance {
        app: glueops_model::names::app_object_name(&d.app),
        name: d.values.object_name(&d.name).to_string(),
        instance: d.name.clone(),
        namespace: d.namespace.clone(),
        environment: d.environment().map(str::to_string),
        preview: d.preview_number(),
        values: &d.values,
        workloads: d.values.workloads(),
        tag,
        part_of: platform.metadata.name.clone(),
    };
    let config_maps = workload::config_maps(&i);
    let external_secrets = secrets::external_secrets(&i, platform);
    let hash = config_hash(&config_maps, &external_secrets);
    let runs = !i.workloads.is_empty();
    let create = d.values.service_account.as_ref().and_then(|s| s.create) == Some(true);
    let mut objects: Vec<Object> = Vec::new();
    if runs || create {
        objects.push(workload::service_account(&i).into());
    }
    objects.extend(config_maps.into_iter().map(Object::from));
    objects.extend(external_secrets.into_iter().map(Object::from));
    objects.extend(workload::volume_claim(&i).map(Object::from));
    for w in &i.workloads {
        let object: Option<Object> = match w.kind {
            WorkloadKind::Deployment => {
                workload::deployment(&i, w, &hash).map(|d| rollouts::workload(&i, d).into())
            }
            WorkloadKind::StatefulSet => workload::stateful_set(&i, w, &hash).map(Object::from),
            WorkloadKind::CronJob => workload::cron_job(&i, w, &hash).map(Object::from),
            WorkloadKind::Job => workload::job(&i, w, &hash).map(Object::from),
        };
        objects.extend(object);
    }
    objects.extend(workload::autoscaler(&i).map(Object::from));
    objects.extend(keda::scaled_object(&i).map(Object::from));
    objects.extend(
        keda::trigger_authentications(&i)
            .into_iter()
            .map(Object::from),
    );
    objects.extend(workload::disruption_budget(&i).map(Object::from));
    let service = network::service(&i);
    objects.extend(rollouts::preview_service(&i, service.as_ref()).map(Object::from));
    objects.extend(service.map(Object::from));
    objects.extend(rollouts::analysis_template(&i).map(Object::from));
    objects.extend(network::ingresses(&i).into_iter().map(Object::from));
    if runs {
        objects.extend(network::network_policy(&i).map(Object::from));
    }
    objects.extend(secrets::service_monitor(&i).map(Object::from));
    let rule = alerts::prometheus_rule(&i, &objects);
    objects.extend(rule.map(Object::from));
    objects.extend(
        custom_resources(&d.values, &d.namespace)
            .into_iter()
            .map(Object::from),
    );
    out.extend(objects.into_iter().map(|o| manifest(folder, o)));
}

/// The objects of `customResources` and `customResourcesMap` (in key order), as written.
fn custom_resources(v: &glueops_model::AppValues, namespace: &str) -> Vec<custom::RawObject> {
    let texts = v.custom_resources.iter().flatten().chain(
        v.custom_resources_map
            .iter()
            .flatten()
            .filter_map(|(_, t)| t.as_ref()),
    );
    let mut out = Vec::new();
    for text in texts {
        // The model checked that every document reads as an object.
        for mut map in glueops_model::values::custom_objects(text).unwrap_or_default() {
            let take = |map: &mut serde_json::Map<String, serde_json::Value>, key: &str| {
                map.remove(key)
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            };
            let api_version = take(&mut map, "apiVersion");
            let kind = take(&mut map, "kind");
            let mut metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta = map
                .remove("metadata")
                .and_then(|m| serde_json::from_value(m).ok())
                .unwrap_or_default();
            // As Helm installs them: namespaced objects land in the release's namespace.
            if metadata.namespace.is_none() && !glueops_model::check::cluster_scoped(&kind) {
                metadata.namespace = Some(namespace.to_string());
            }
            out.push(custom::RawObject {
                api_version,
                kind,
                metadata,
                rest: map,
            });
        }
    }
    out
}

/// sha256 over the ConfigMaps' data and the ExternalSecret specs, so pods roll when either
/// changes.
fn config_hash(
    config_maps: &[k8s_openapi::api::core::v1::ConfigMap],
    secrets: &[custom::ExternalSecret],
) -> String {
    let mut hasher = Sha256::new();
    for cm in config_maps {
        hasher.update(cm.metadata.name.as_deref().unwrap_or_default().as_bytes());
        hasher.update(serde_json::to_vec(&cm.data).unwrap_or_default());
    }
    for es in secrets {
        hasher.update(es.metadata.name.as_deref().unwrap_or_default().as_bytes());
        hasher.update(serde_json::to_vec(&es.spec).unwrap_or_default());
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for b in hasher.finalize() {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    hex
}

//! # glueops-model
//!
//! The typed model of a GlueOps *deployment-configurations* repo: which apps run in which
//! environment, and with which values. [`Repo::load`] reads the repo, layers its values files
//! the way Helm would, validates every file against a JSON Schema generated from the types in
//! [`values`] and [`platform`], runs the semantic rules, and returns either a [`Repo`] or
//! every problem at once as [`Diagnostics`], each naming file, line and column.
//!
//! This crate is pure data: it reads the config repo and nothing else, and everything it
//! returns can be printed, compared and snapshot-tested.
//!
//! Loading spreads the files over rayon's global thread pool (each file is parsed on the
//! thread that read it); call it inside your own `rayon::ThreadPool::install` to bound or
//! isolate that, e.g. in a controller that must keep cores free.
//!
//! ## Layout
//! ```text
//! glueops.yaml                                        platform: environments, clusters, previews
//! common/common-values.yaml                           every app, every environment
//! env-overlays/<namespace>/env-values.yaml            every app whose namespace it is
//! apps/<app>/base/base-values.yaml                    <app> in every environment
//! apps/<app>/envs/<env>/values.yaml                   <app> is deployed to <env> iff this exists
//! apps/<app>/envs/previews/common/values.yaml         <app>'s preview defaults (enables previews)
//! apps/<app>/envs/previews/pull-request-number/<N>/values.yaml   one pull request
//! ```
//!
//! ## Semantics
//! - **Layering** for (app, env): common → the overlay of the environment's namespace (GlueOps
//!   keys `env-overlays/` by namespace) → base → env values. For the preview of pull request N:
//!   common → the overlay `spec.previews.environment` names (default `previews`) → base →
//!   previews/common → the pull request's values. An overlay folder no namespace matches is
//!   an error. Maps merge key by key; scalars and
//!   lists replace; an explicit `null` removes the key. See [`node`] for the exact rules and
//!   [`AppInstance::tree`] for the provenance of every leaf.
//! - **Vocabulary**: the GlueOps app chart's (chart `app` [`CHART_VERSION`]) — see [`values`].
//! - **Templates**, where the chart renders them (ingress hostnames and TLS hosts, a
//!   workload's volumes, volume mounts, affinity and spread, ConfigMap `data`, custom
//!   resources), in the forms it documents: `{{ .Values.captain_domain }}` — the
//!   `captainDomain` of the cluster the environment (or previews) runs on —,
//!   `{{ .Values.glueops_app_name }}` — `<app>-<env>`, or `<app>-pr-<N>` for a preview —, any
//!   other value, `.Release.Name`, `.Chart.Name`, `include "app.name" $`, `if`, `range`. Any
//!   other `{{ }}`, or one anywhere else, is an error. [`AppInstance::values`] holds the
//!   rendered values, [`AppInstance::tree`] the text as written.
//! - **Namespaces**: an environment's `namespace` (default its name); a preview's from
//!   `spec.previews.namespacePattern` (default `{app}-pr-{number}`).
//! - **Errors** are [`Diagnostic`]s with a stable [`Code`]; [`Diagnostics`] displays them
//!   rustc-style with the source line.
//!
//! ## Example
//! ```
//! use glueops_model::{Repo, SourceTree};
//!
//! let mut files = SourceTree::new();
//! files.insert("glueops.yaml", &include_bytes!("../tests/data/minimal-platform.yaml")[..]);
//! files.insert("apps/api/base/base-values.yaml", "image: {repository: acme/api, port: 8080}\n");
//! files.insert(
//!     "apps/api/envs/staging/values.yaml",
//!     "image: {tag: 1.4.2}\ndeployment: {enabled: true, replicas: 2}\n",
//! );
//! let repo = Repo::from_sources(&files).unwrap();
//! let api = repo.deployment("api", "staging").unwrap();
//! assert_eq!(api.name, "api-staging");
//! assert_eq!(api.values.image.as_ref().unwrap().tag.as_deref(), Some("1.4.2"));
//!
//! // A typo is reported with its file, line, column and a fix.
//! files.insert("apps/api/envs/staging/values.yaml", "deployment: {replica: 2}\n");
//! let problems = Repo::from_sources(&files).unwrap_err();
//! let first = problems.iter().next().unwrap();
//! assert_eq!(first.location.to_string(), "apps/api/envs/staging/values.yaml:1:14");
//! assert_eq!(first.help.as_deref(), Some("did you mean `replicas`?"));
//! ```

pub mod check;
mod diagnostics;
mod error;
mod explain;
mod formats;
mod instance;
mod layer;
mod layout;
pub mod names;
pub mod node;
mod parallel;
pub mod platform;
mod repo;
mod rules;
mod schema;
mod source;
mod suggest;
mod template;
pub mod values;
mod yaml;

pub use diagnostics::{Code, Diagnostic, Diagnostics, Severity};
pub use error::Error;

/// Starts compiling the built-in schemas on a background thread, so that a load that comes
/// later does not wait for them (a tool that first fetches a repository can overlap the two).
pub fn prepare() {
    schema::prepare_in_background();
}
pub use explain::explain;
pub use instance::{AppInstance, InvalidPreviewRef, Placement, PreviewRef};
pub use node::{Location, Node, NodeValue, Segment};
pub use platform::Platform;
pub use repo::Repo;
pub use schema::Document;
pub use source::{MAX_FILE_BYTES, SourceTree};
pub use template::{CHART_NAME, CHART_VERSION};
pub use values::AppValues;

//! # glueops
//!
//! A toolkit for GitOps: a repo of app and environment descriptions in, Kubernetes manifests
//! committed to a manifest repo out. This crate composes the workspace's libraries; today it
//! re-exports [`model`] (the typed config repo). Rendering, secrets and git arrive as their
//! own crates.
//!
//! ```
//! let repo = glueops::model::Repo::load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-config"))
//!     .map_err(|d| d.to_string())
//!     .unwrap();
//! assert!(repo.deployments().count() >= 8);
//! ```

pub use glueops_model as model;

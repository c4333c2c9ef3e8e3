//! # glueops
//!
//! A toolkit for GitOps: a repo of app and environment descriptions in, Kubernetes manifests
//! committed to a manifest repo out. This crate composes the workspace's libraries:
//! [`model`] (the typed config repo), [`render`] (typed Kubernetes objects and their YAML) and
//! [`secrets`] (one secret-store API over SOPS files, AWS Secrets Manager and Vault/OpenBao),
//! [`git`] (verified webhooks in, commits to the manifest repo out), [`files`] (the tree of
//! files they pass between them),
//! plus the I/O at the edge ([`write_tree`]). Features `aws` and `vault` turn on those secret
//! backends.
//!
//! ```
//! let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-config");
//! let repo = glueops::model::Repo::load(demo).map_err(|d| d.to_string()).unwrap();
//! let set = glueops::render::render(&repo, &[]).unwrap();
//! assert!(set.counts()["Deployment"] >= 6);
//!
//! let out = tempfile::tempdir().unwrap();
//! let first = glueops::write_tree(out.path(), &set.files().unwrap(), |_| {}).unwrap();
//! let again = glueops::write_tree(out.path(), &set.files().unwrap(), |_| {}).unwrap();
//! assert_eq!((again.written, again.unchanged), (0, first.written));
//! ```

mod output;

pub use glueops_files as files;
pub use glueops_git as git;
pub use glueops_model as model;
pub use glueops_render as render;
pub use glueops_secrets as secrets;
pub use output::{WriteSummary, write_tree};

/// Errors of the composed operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error(
        "cannot write `{path}`: {source}; check the output folder's permissions and free space"
    )]
    Io {
        /// The file or folder.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

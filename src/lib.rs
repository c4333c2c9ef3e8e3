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
//! ## The platform loop
//! The config repo is the request, the manifest repo is the release, glueops is the gate.
//! [`plan::plan`] is pure: from the config, the manifest branch's files and trailers, a
//! [`plan::Request`] and the time, it decides what to write and remove, what is released and
//! what a [`gate`] holds, and the commit's trailers ([`trailers`]).
//!
//! One style for the API: every operation that reads or writes a repository is a free
//! function at the crate root — [`sync`], [`sync_approved`], [`drift`], [`bump`],
//! [`bump_beside`], [`promote`], [`rollback`], [`open_preview`], [`close_preview`],
//! [`gc_previews`], [`apply_previews`], [`status`], [`dora_metrics`], [`read_ledger`],
//! [`update_ledger`], [`config_diff`], [`check_secrets`], [`write_tree`] — taking
//! [`Options`] (whose [`Session`] carries what the calls remember between them); the public
//! modules ([`plan`], [`gate`], [`dora`], [`ledger`], [`trailers`]) hold types and pure
//! functions. For a long-running server (`glueops-serve`): [`sync_approved`] counts the
//! approvals the [`ledger`] kept in git holds, [`apply_previews`] applies a burst of
//! pull-request events in one commit, [`bump_beside`] plans the sync that follows a bump
//! while the bump's push is in flight (releasing it only once the config remote accepted the
//! bump), and [`status`] says what is released where.
//!
//! ## Blocking, async and cancellation (for controllers)
//! Every loop function ([`sync`], [`open_preview`], [`bump`], [`promote`], [`rollback`],
//! [`drift`], [`config_diff`], [`dora_metrics`], [`status`]) is a plain blocking call: it runs
//! `git` and reads and writes files. None is `async`, so none blocks a runtime thread behind
//! an `.await`; from async code run it with `tokio::task::spawn_blocking` (the inputs are
//! owned `String`s and an [`Options`], all `Send`). The only `async` function here,
//! [`check_secrets`], awaits the secret store and does no blocking work itself.
//!
//! The main types ([`Options`], [`Outcome`], [`Release`], [`Config`], [`Checkout`],
//! [`plan::Plan`], [`ledger::Ledger`], [`Status`], [`Error`]) are `Send + Sync`
//! (asserted at compile time), so a controller can share them across tasks.
//!
//! An apply is safe to abandon at any point: what reaches the remote is one `git push` of
//! one commit, which the remote takes whole or not at all. Dropping the future of a
//! `spawn_blocking` call, aborting its task or killing the process leaves the manifest
//! branch at the old commit or the new one, never between; the next call plans on whatever
//! is there and converges, committing nothing when it already is. `examples/reconcile.rs`
//! is a reconcile loop built on this, with a test that cancels it mid-apply.
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

mod apply;
pub mod board;
mod bump;
mod checkout;
mod claims;
mod config;
pub mod dora;
pub mod feedback;
pub mod gate;
pub mod images;
pub mod ledger;
mod options;
mod output;
pub mod plan;
mod preview;
mod proposal;
mod publish;
mod release;
mod review;
mod secrets_check;
mod session;
mod status;
pub mod trailers;
pub mod verification;

pub use apply::{Outcome, drift, drift_diff, sync, sync_approved};
pub use bump::{Unsafe, set_image_tag};
pub use checkout::{Checkout, keep_packed};
pub use config::Config;
pub use glueops_files as files;
pub use glueops_forge as forge;
pub use glueops_git as git;
pub use glueops_model as model;
pub use glueops_registry as registry;
pub use glueops_render as render;
pub use glueops_secrets as secrets;
pub use ledger::{read_ledger, update_ledger};
pub use options::Options;
pub use output::{WriteSummary, write_tree};
pub use preview::{
    PreviewChange, PreviewOutcome, PreviewTarget, PullRequest, apply_previews, close_preview,
    gc_previews, open_preview,
};
pub use proposal::{Proposal, propose_bump, propose_promotion};
pub use release::{
    Bump, ConfigEdit, Refused, Release, SourceCommit, bump, bump_beside, promote, rollback,
};
pub use review::{ConfigReview, config_diff, review_config};
pub use secrets_check::{MissingSecret, check_secrets};
pub use session::Session;
pub use status::{DeploymentStatus, PreviewStatus, Status, status};

/// The main types may be shared across threads and tasks: a controller holds them in an
/// `Arc`, sends them to `spawn_blocking` and back.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<Options>();
    shared::<Outcome>();
    shared::<Release>();
    shared::<ConfigEdit>();
    shared::<Config>();
    shared::<Checkout>();
    shared::<plan::Plan>();
    shared::<PreviewOutcome>();
    shared::<ledger::Ledger>();
    shared::<Status>();
    shared::<Error>();
};

/// The DORA metrics of the manifest branch `branch` of `manifests` over `[since, until)`.
pub fn dora_metrics(
    manifests: &str,
    branch: &str,
    since: Option<jiff::Timestamp>,
    until: Option<jiff::Timestamp>,
    opts: &Options,
) -> Result<Vec<dora::Metrics>, Error> {
    let checkout = Checkout::open(manifests, opts, Some(branch))?;
    let Some(tip) = checkout.fetch()? else {
        return Ok(Vec::new());
    };
    let log = checkout.repo.log(&tip, 1_000_000)?;
    Ok(dora::metrics(&log, since, until))
}

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
    /// The config repo has problems (printed as they are, located).
    #[error("{0}")]
    Config(model::Diagnostics),
    /// Rendering failed.
    #[error(transparent)]
    Render(#[from] render::Error),
    /// A git operation failed.
    #[error(transparent)]
    Git(#[from] git::Error),
    /// A values file cannot be edited safely.
    #[error("cannot edit `{path}`: {reason}")]
    Unsafe {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The request names something that does not exist, or cannot be done.
    #[error("{message}; {help}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// What to do.
        help: String,
    },
    /// A release was planned on a config commit while its push was in flight, and the config
    /// remote refused that push: nothing planned on it was pushed.
    #[error(
        "the config remote did not accept commit {commit}, so the release planned on it was not pushed; sync again (it plans on the config remote's branch)"
    )]
    Superseded {
        /// The config commit the remote refused.
        commit: String,
    },
    /// Pushes kept losing the race to other writers.
    #[error(
        "{remote} `{branch}` kept moving: {attempts} pushes lost the race to other writers; retry later"
    )]
    Contention {
        /// The remote.
        remote: String,
        /// The branch.
        branch: String,
        /// Attempts made.
        attempts: u32,
    },
}

impl From<files::PathError> for Error {
    fn from(e: files::PathError) -> Self {
        Error::Render(render::Error::Path(e))
    }
}

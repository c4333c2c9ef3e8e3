//! The integration tests of this crate, in one binary (one link instead of one per file).
#![expect(
    clippy::unwrap_used,
    reason = "tests fail loudly: a panic with the value is the failure report"
)]

mod api;
mod aws_conformance;
mod backup;
mod memory;
mod sops_conformance;
mod sops_files;
mod support;
mod vault_conformance;

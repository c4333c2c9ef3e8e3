//! The integration tests of this crate, in one binary (one link instead of one per file).
#![expect(
    clippy::too_many_lines,
    reason = "an end-to-end test reads as one story from setup to the last assert; library code keeps the 90-line limit"
)]
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

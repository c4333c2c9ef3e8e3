//! The integration tests of this crate, in one binary (one link instead of one per file).
#![expect(
    clippy::unwrap_used,
    reason = "tests fail loudly: a panic with the value is the failure report"
)]

mod architecture;
mod bump_props;
mod loop_flows;
mod secrets_check;
mod sessions;
mod write_tree;

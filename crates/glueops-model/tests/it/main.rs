//! The integration tests of this crate, in one binary (one link instead of one per file).
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests fail loudly: a panic with the value is the failure report"
)]

mod bad_repos;
mod chart_forms;
mod demo;
mod hostile;
mod layering;
mod schema;
mod support;

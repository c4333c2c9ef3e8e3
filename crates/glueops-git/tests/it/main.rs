//! The integration tests of this crate, in one binary (one link instead of one per file).
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests fail loudly: a panic with the value is the failure report"
)]

mod compact;
mod edit;
mod push;
mod repo;
mod support;
mod trust;
mod webhooks;

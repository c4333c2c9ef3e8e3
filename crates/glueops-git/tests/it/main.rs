//! The integration tests of this crate, in one binary (one link instead of one per file).
#![expect(
    clippy::too_many_lines,
    reason = "an end-to-end test reads as one story from setup to the last assert; library code keeps the 90-line limit"
)]
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

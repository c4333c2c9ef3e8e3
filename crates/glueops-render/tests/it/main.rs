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

mod alerts;
mod chart_examples;
mod chart_oracles;
mod chart_suite;
mod crds;
mod glueops_repos;
mod oracles;
mod properties;
mod rollouts;
mod schema_values;
mod snapshots;
mod strategies;
mod support;

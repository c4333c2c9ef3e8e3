//! The outbox and the clients against loopback forges.
#![expect(
    clippy::unwrap_used,
    reason = "tests fail loudly: a panic with the value is the failure report"
)]

mod github;
mod gitlab;
mod outbox;

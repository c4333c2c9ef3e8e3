//! The outbox and the clients against loopback forges.

mod github;
mod outbox;

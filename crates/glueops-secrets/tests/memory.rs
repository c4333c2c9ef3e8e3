//! The conformance suite against the in-memory store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use glueops_secrets::{MemoryStore, SecretStore};

conformance_suite!(async { ((), Arc::new(MemoryStore::new()) as Arc<dyn SecretStore>) });

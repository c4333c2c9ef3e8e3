//! The conformance suite against the in-memory store.

use std::sync::Arc;

use glueops_secrets::{MemoryStore, SecretStore};

use crate::conformance_suite;

conformance_suite!(async { ((), Arc::new(MemoryStore::new()) as Arc<dyn SecretStore>) });

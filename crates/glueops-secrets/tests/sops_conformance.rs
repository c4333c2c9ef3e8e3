//! The conformance suite against SOPS files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use glueops_secrets::SecretStore;

conformance_suite!(async {
    let (dir, store, _key) = support::sops_store();
    (dir, Arc::new(store) as Arc<dyn SecretStore>)
});

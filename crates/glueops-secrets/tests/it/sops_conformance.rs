//! The conformance suite against SOPS files.

use std::sync::Arc;

use glueops_secrets::SecretStore;

use crate::conformance_suite;

conformance_suite!(async {
    let (dir, store, _key) = crate::support::sops_store();
    (dir, Arc::new(store) as Arc<dyn SecretStore>)
});

//! Shared test support: the real tools (installed on first use into `.venv/`) and servers
//! started on 127.0.0.1 with a free port.

pub(crate) mod conformance;

use glueops_secrets::{Identities, SopsStore};

pub(crate) use glueops_testkit::{moto, openbao, sops};

/// A SOPS store in a fresh temp dir, with a fresh key.
pub(crate) fn sops_store() -> (tempfile::TempDir, SopsStore, Identities) {
    let dir = tempfile::Builder::new()
        .prefix("glueops-sops")
        .tempdir()
        .unwrap();
    let key = Identities::generate();
    let store = SopsStore::new(dir.path(), key.recipients(), key.clone());
    (dir, store, key)
}

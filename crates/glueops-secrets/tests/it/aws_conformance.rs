//! The conformance suite against AWS Secrets Manager, as served by `moto_server` on 127.0.0.1.

use std::sync::Arc;

use glueops_secrets::{AwsStore, Error, SecretPath, SecretStore};

use crate::conformance_suite;

conformance_suite!(async {
    let server = crate::support::moto();
    let store = AwsStore::with_static_credentials("us-east-1", &server.url(), "test", "test");
    (server, Arc::new(store) as Arc<dyn SecretStore>)
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_aws_version_ids_and_stages() {
    let server = crate::support::moto();
    let store = AwsStore::with_static_credentials("us-east-1", &server.url(), "test", "test");
    let path: SecretPath = "api/db".parse().unwrap();
    let v1 = store
        .put(&path, &[("pw", "a")].into_iter().collect())
        .await
        .unwrap();
    let v2 = store
        .put(&path, &[("pw", "b")].into_iter().collect())
        .await
        .unwrap();
    // AWS version ids are UUIDs.
    for v in [&v1, &v2] {
        assert_eq!(v.as_str().len(), 36, "{v}");
        assert_eq!(v.as_str().matches('-').count(), 4, "{v}");
    }
    assert_ne!(v1, v2);
    assert_eq!(
        store.get(&path, None).await.unwrap().version,
        v2,
        "AWSCURRENT is the newest"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_is_a_clear_error() {
    let port = glueops_testkit::free_port().unwrap();
    let store = AwsStore::with_static_credentials(
        "us-east-1",
        &format!("http://127.0.0.1:{port}"),
        "test",
        "test",
    );
    let err = store
        .get(&"api/db".parse().unwrap(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "awssm",
                ..
            }
        ),
        "{err}"
    );
    // The SDK's error is kept as the cause.
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

//! `check_secrets` on the demo repo against a store holding some of its references.

use glueops::secrets::{MemoryStore, SecretData, SecretStore};

#[tokio::test]
async fn missing_secrets_and_properties_are_listed_with_their_place() {
    let demo = glueops_testkit::workspace().join("examples/demo-config");
    let repo = glueops::model::Repo::load(&demo).unwrap();
    let store = MemoryStore::new();
    // api/db has its `url`; worker/queue exists without the property it is read by (if any).
    store
        .put(
            &"api/db".parse().unwrap(),
            &SecretData::new().with("url", "postgres://x"),
        )
        .await
        .unwrap();
    let missing = glueops::check_secrets(&repo, &store).await.unwrap();
    assert!(missing.iter().all(|m| m.key != "api/db"), "{missing:?}");
    let worker: Vec<_> = missing.iter().filter(|m| m.app == "worker").collect();
    assert_eq!(worker.len(), 2, "one per environment: {missing:?}");
    assert_eq!(worker[0].key, "worker/queue");
    assert_eq!(worker[0].problem, "no such secret in the store");
    assert_eq!(worker[0].at, "apps/worker/base/base-values.yaml:12");
    // The same secret without the property referenced is still missing, as a property.
    store
        .put(
            &"api/db".parse().unwrap(),
            &SecretData::new().with("password", "hunter2-secret"),
        )
        .await
        .unwrap();
    let missing = glueops::check_secrets(&repo, &store).await.unwrap();
    let api: Vec<_> = missing.iter().filter(|m| m.key == "api/db").collect();
    assert_eq!(api.len(), 2);
    assert_eq!(api[0].problem, "the secret has no property `url`");
    // Values never reach the report.
    assert!(!format!("{missing:?}").contains("hunter2"));
}

//! Backups: across real backends, verified before anything is written, with retention.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use glueops_secrets::{
    AwsStore, BackupDir, Error, Identities, MemoryStore, OnExisting, Result, Secret, SecretData,
    SecretPath, SecretStore, VaultStore, VersionId, VersionInfo, backup, restore, verify,
};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

fn path(p: &str) -> SecretPath {
    p.parse().unwrap()
}

/// Every path with every version's data, oldest first, in clear (for comparing stores).
async fn contents(store: &dyn SecretStore) -> Vec<(String, Vec<Vec<(String, String)>>)> {
    let mut out = Vec::new();
    for p in store.list("").await.unwrap() {
        let mut versions = Vec::new();
        for v in store.versions(&p).await.unwrap() {
            let s = store.get(&p, Some(&v.id)).await.unwrap();
            versions.push(
                s.data
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.expose().to_string()))
                    .collect(),
            );
        }
        out.push((p.to_string(), versions));
    }
    out
}

async fn fill(store: &dyn SecretStore) {
    for (p, versions) in [
        (
            "api/database",
            vec![
                vec![("password", "one"), ("user", "app")],
                vec![("password", "two"), ("user", "app")],
            ],
        ),
        (
            "api/stripe",
            vec![
                vec![("key", "sk_live_1")],
                vec![("key", "sk_live_2")],
                vec![("key", "sk_live_3")],
            ],
        ),
        (
            "web/session",
            vec![vec![("secret", "päss\nwörd 🔑"), ("empty", "")]],
        ),
    ] {
        for data in versions {
            store
                .put(&path(p), &data.into_iter().collect())
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openbao_backup_restores_into_aws_identically() {
    let bao = crate::support::openbao("root-for-backup");
    let source =
        VaultStore::new(&bao.url(), "secret", SecretString::from("root-for-backup")).unwrap();
    fill(&source).await;
    let key = Identities::generate();
    let (archive, summary) = backup(&source, &key.recipients()).await.unwrap();
    assert_eq!((summary.secrets, summary.versions), (3, 6));
    assert!(
        !String::from_utf8_lossy(&archive).contains("sk_live"),
        "the archive is encrypted"
    );

    let moto = crate::support::moto();
    let target = AwsStore::with_static_credentials("us-east-1", &moto.url(), "test", "test");
    let verified = verify(&archive, &key, "backup.age").unwrap();
    assert_eq!(verified.source(), "vault");
    let restored = restore(&verified, &target, OnExisting::Fail).await.unwrap();
    assert_eq!((restored.secrets, restored.versions), (3, 6));
    let expected = contents(&source).await;
    assert_eq!(expected.len(), 3);
    assert_eq!(contents(&target).await, expected);

    // And on into a SOPS folder and back out, still identical.
    let (_dir, sops, _k) = crate::support::sops_store();
    let (again, _) = backup(&target, &key.recipients()).await.unwrap();
    restore(
        &verify(&again, &key, "again.age").unwrap(),
        &sops,
        OnExisting::Fail,
    )
    .await
    .unwrap();
    assert_eq!(contents(&sops).await, expected);
}

/// Decrypts an archive, lets `edit` change the JSON, re-encrypts it for the same key.
fn reseal(archive: &[u8], key: &Identities, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let identity: age::x25519::Identity = key.expose().trim().parse().unwrap();
    let decryptor = age::Decryptor::new(archive).unwrap();
    let mut plain = Vec::new();
    decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    // Re-serializing reorders each entry's keys, so first make the manifest hashes match the
    // re-serialized entries: what `edit` changes afterwards is the only difference.
    let entries = doc["entries"].as_array().unwrap().clone();
    for (i, entry) in entries.iter().enumerate() {
        let hash = Sha256::digest(serde_json::to_vec(entry).unwrap());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        doc["manifest"][i]["sha256"] = hex.into();
    }
    edit(&mut doc);
    let recipient = identity.to_public();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let mut w = encryptor.wrap_output(&mut out).unwrap();
    w.write_all(&serde_json::to_vec(&doc).unwrap()).unwrap();
    w.finish().unwrap();
    out
}

#[tokio::test]
async fn restore_verifies_everything_before_writing() {
    let source = MemoryStore::new();
    fill(&source).await;
    let key = Identities::generate();
    let (archive, _) = backup(&source, &key.recipients()).await.unwrap();

    let mut flipped = archive.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x01;
    let truncated = archive[..archive.len() - 100].to_vec();
    let changed_value = reseal(&archive, &key, |doc| {
        doc["entries"][1]["data"]["password"] = "evil".into();
    });
    let dropped_entry = reseal(&archive, &key, |doc| {
        doc["entries"].as_array_mut().unwrap().pop();
    });
    let reordered = reseal(&archive, &key, |doc| {
        doc["entries"].as_array_mut().unwrap().swap(0, 1);
        doc["manifest"].as_array_mut().unwrap().swap(0, 1);
    });
    let unchanged = reseal(&archive, &key, |_| {});
    assert_eq!(
        verify(&unchanged, &key, "b.age").unwrap().versions(),
        6,
        "control: resealing alone is fine"
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("flipped byte", flipped, "authentication"),
        ("truncated", truncated, "authentication"),
        ("changed value", changed_value, "manifest hash"),
        (
            "dropped entry",
            dropped_entry,
            "manifest lists 6 entries but the archive holds 5",
        ),
        ("reordered versions", reordered, "out of order"),
        ("not an archive", b"hello".to_vec(), "age header"),
    ];
    for (what, bytes, expect) in cases {
        let err = verify(&bytes, &key, "b.age").unwrap_err();
        assert!(matches!(err, Error::Archive { .. }), "{what}: {err}");
        assert!(
            err.to_string().contains(expect),
            "{what}: `{err}` should say {expect}"
        );
        assert!(err.to_string().contains("nothing was restored"), "{err}");
    }
    let err = verify(&archive, &Identities::generate(), "b.age").unwrap_err();
    assert!(err.to_string().contains("none of the identities"), "{err}");
}

#[tokio::test]
async fn restore_refuses_to_overwrite_unless_asked() {
    let source = MemoryStore::new();
    fill(&source).await;
    let key = Identities::generate();
    let (archive, _) = backup(&source, &key.recipients()).await.unwrap();
    let archive = verify(&archive, &key, "b.age").unwrap();

    let target = MemoryStore::new();
    target
        .put(
            &path("api/stripe"),
            &[("key", "existing")].into_iter().collect(),
        )
        .await
        .unwrap();
    let err = restore(&archive, &target, OnExisting::Fail)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RestoreConflict { count: 1, .. }),
        "{err}"
    );
    assert_eq!(
        target.list("").await.unwrap(),
        vec![path("api/stripe")],
        "nothing was written"
    );

    restore(&archive, &target, OnExisting::AddVersions)
        .await
        .unwrap();
    let stripe = target.versions(&path("api/stripe")).await.unwrap();
    assert_eq!(
        stripe.len(),
        4,
        "the existing version and the three archived ones"
    );
    let newest = target.get(&path("api/stripe"), None).await.unwrap();
    assert_eq!(newest.data.get("key").unwrap().expose(), "sk_live_3");
}

/// A store that fails after `ok` reads: a backup interrupted half-way.
#[derive(Debug)]
struct FailingAfter {
    inner: MemoryStore,
    ok: usize,
    calls: AtomicUsize,
}

#[async_trait]
impl SecretStore for FailingAfter {
    fn backend(&self) -> &'static str {
        "failing"
    }
    async fn get(&self, path: &SecretPath, version: Option<&VersionId>) -> Result<Secret> {
        if self.calls.fetch_add(1, Ordering::SeqCst) >= self.ok {
            return Err(Error::PermissionDenied {
                backend: "failing",
                path: path.to_string(),
                hint: "test".into(),
            });
        }
        self.inner.get(path, version).await
    }
    async fn put(&self, path: &SecretPath, data: &SecretData) -> Result<VersionId> {
        self.inner.put(path, data).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<SecretPath>> {
        self.inner.list(prefix).await
    }
    async fn versions(&self, path: &SecretPath) -> Result<Vec<VersionInfo>> {
        self.inner.versions(path).await
    }
    async fn delete(&self, path: &SecretPath) -> Result<()> {
        self.inner.delete(path).await
    }
}

#[tokio::test]
async fn retention_keeps_the_newest_and_failures_replace_nothing() {
    let store = Arc::new(MemoryStore::new());
    fill(&*store).await;
    let key = Identities::generate();
    let dir = tempfile::tempdir().unwrap();
    let backups = BackupDir::new(dir.path(), 3).unwrap();
    let mut made = Vec::new();
    for i in 0..5 {
        store
            .put(
                &path("api/counter"),
                &[("n", i.to_string())].into_iter().collect(),
            )
            .await
            .unwrap();
        made.push(backups.backup(&*store, &key.recipients()).await.unwrap().0);
    }
    assert_eq!(
        backups.archives().unwrap(),
        made[2..].to_vec(),
        "the newest three, oldest first"
    );
    let latest = backups.latest(&key).unwrap().unwrap();
    let counter = latest.versions_of(&path("api/counter")).unwrap();
    assert_eq!(counter.len(), 5);
    assert_eq!(counter[4].1.get("n").unwrap().expose(), "4");

    // A backup that fails half-way writes no archive and prunes nothing.
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = backups
        .archives()
        .unwrap()
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    let failing = FailingAfter {
        inner: MemoryStore::new(),
        ok: 3,
        calls: AtomicUsize::new(0),
    };
    fill(&failing.inner).await;
    let err = backups
        .backup(&failing, &key.recipients())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err}");
    let after: Vec<(std::path::PathBuf, Vec<u8>)> = backups
        .archives()
        .unwrap()
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    assert_eq!(after, before);
    // A temp file left by a killed backup is not an archive.
    std::fs::write(
        dir.path().join(".secrets-20990101T000000.000Z.age.tmp-1-1"),
        b"partial",
    )
    .unwrap();
    assert_eq!(backups.archives().unwrap().len(), 3);
    assert_eq!(backups.latest(&key).unwrap().unwrap().versions(), 6 + 5);
    assert!(
        BackupDir::new(dir.path(), 0).is_err(),
        "keeping zero archives is refused"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn label() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9-]{0,10}[a-z0-9]"
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// backup then restore reproduces every path, every version in order, every byte.
        #[test]
        fn backup_restore_is_identity(
            secrets in proptest::collection::btree_map(
                (label(), label()),
                proptest::collection::vec(
                    proptest::collection::btree_map("[A-Za-z0-9._-]{1,20}", any::<String>(), 1..4),
                    1..4,
                ),
                0..6,
            )
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                let source = MemoryStore::new();
                for ((app, name), versions) in &secrets {
                    let p = path(&format!("{app}/{name}"));
                    for data in versions {
                        source.put(&p, &data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()).await.unwrap();
                    }
                }
                let key = Identities::generate();
                let (archive, summary) = backup(&source, &key.recipients()).await.unwrap();
                prop_assert_eq!(summary.secrets, secrets.len());
                let target = MemoryStore::new();
                restore(&verify(&archive, &key, "p.age").unwrap(), &target, OnExisting::Fail).await.unwrap();
                prop_assert_eq!(contents(&target).await, contents(&source).await);
                Ok(())
            })?;
        }
    }
}

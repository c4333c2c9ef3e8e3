//! The conformance suite: the same checks against every backend. A backend's test file calls
//! `conformance_suite!(async { (guard, store) })`, which makes one test per check.

use std::io::Write;
use std::sync::{Arc, Mutex};

use glueops_secrets::{AuditLog, Audited, Error, SecretData, SecretPath, SecretStore};

/// Generates one `#[tokio::test]` per conformance check; `$make` is an async block returning
/// `(guard, store)`, the guard keeping servers and folders alive for the test.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@tests $make;
            put_then_get, versions_accumulate, list_by_prefix, delete_removes_everything,
            missing_is_not_found, bad_data_is_refused, awkward_values_round_trip,
            values_never_printed, concurrent_writers_all_land, audit_records_mutations);
    };
    (@tests $make:expr; $($check:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_guard, store) = $make.await;
                $crate::support::conformance::$check(store).await;
            }
        )*
    };
}

fn path(p: &str) -> SecretPath {
    p.parse().unwrap()
}

fn data(pairs: &[(&str, &str)]) -> SecretData {
    pairs.iter().map(|(k, v)| (*k, *v)).collect()
}

fn exposed(d: &SecretData) -> Vec<(String, String)> {
    d.iter()
        .map(|(k, v)| (k.to_string(), v.expose().to_string()))
        .collect()
}

pub(crate) async fn put_then_get(store: Arc<dyn SecretStore>) {
    let p = path("api/database");
    let d = data(&[("password", "hunter2"), ("user", "admin")]);
    let v = store.put(&p, &d).await.unwrap();
    let got = store.get(&p, None).await.unwrap();
    assert_eq!(got.path, p);
    assert_eq!(got.version, v);
    assert_eq!(exposed(&got.data), exposed(&d));
    let same = store.get(&p, Some(&v)).await.unwrap();
    assert_eq!(exposed(&same.data), exposed(&d));
}

pub(crate) async fn versions_accumulate(store: Arc<dyn SecretStore>) {
    let p = path("api/token");
    let mut ids = Vec::new();
    for i in 1..=3 {
        ids.push(
            store
                .put(&p, &data(&[("token", &format!("t{i}"))]))
                .await
                .unwrap(),
        );
    }
    let listed: Vec<_> = store
        .versions(&p)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(listed, ids, "versions are listed oldest first, as written");
    for (i, id) in ids.iter().enumerate() {
        let got = store.get(&p, Some(id)).await.unwrap();
        assert_eq!(
            got.data.get("token").unwrap().expose(),
            format!("t{}", i + 1)
        );
        assert_eq!(&got.version, id);
    }
    let newest = store.get(&p, None).await.unwrap();
    assert_eq!(newest.version, ids[2]);
    assert_eq!(newest.data.get("token").unwrap().expose(), "t3");
}

pub(crate) async fn list_by_prefix(store: Arc<dyn SecretStore>) {
    for p in ["web/session", "api/cache", "api/database", "apix/other"] {
        store.put(&path(p), &data(&[("k", "v")])).await.unwrap();
    }
    let all: Vec<String> = store
        .list("")
        .await
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        all,
        ["api/cache", "api/database", "apix/other", "web/session"]
    );
    let api: Vec<String> = store
        .list("api/")
        .await
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(api, ["api/cache", "api/database"]);
    assert_eq!(store.list("web").await.unwrap(), vec![path("web/session")]);
    assert!(store.list("nothing").await.unwrap().is_empty());
}

pub(crate) async fn delete_removes_everything(store: Arc<dyn SecretStore>) {
    let p = path("api/old");
    store.put(&p, &data(&[("a", "1")])).await.unwrap();
    store.put(&p, &data(&[("a", "2")])).await.unwrap();
    store
        .put(&path("api/kept"), &data(&[("b", "1")]))
        .await
        .unwrap();
    store.delete(&p).await.unwrap();
    assert!(store.get(&p, None).await.unwrap_err().is_not_found());
    assert!(store.versions(&p).await.unwrap_err().is_not_found());
    assert!(store.delete(&p).await.unwrap_err().is_not_found());
    assert_eq!(store.list("").await.unwrap(), vec![path("api/kept")]);
    // The path can be used again, starting afresh.
    store.put(&p, &data(&[("a", "3")])).await.unwrap();
    assert_eq!(
        store
            .get(&p, None)
            .await
            .unwrap()
            .data
            .get("a")
            .unwrap()
            .expose(),
        "3"
    );
    assert_eq!(store.versions(&p).await.unwrap().len(), 1);
}

pub(crate) async fn missing_is_not_found(store: Arc<dyn SecretStore>) {
    let p = path("api/missing");
    let err = store.get(&p, None).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(err.to_string().contains("api/missing"), "{err}");
    store.put(&p, &data(&[("a", "1")])).await.unwrap();
    let bogus = "00000000-0000-0000-0000-000000000099".into();
    let err = store.get(&p, Some(&bogus)).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

pub(crate) async fn bad_data_is_refused(store: Arc<dyn SecretStore>) {
    let p = path("api/bad");
    let err = store.put(&p, &SecretData::new()).await.unwrap_err();
    assert!(matches!(err, Error::EmptySecret { .. }), "{err}");
    let err = store
        .put(&p, &data(&[("has space", "s3cret-value")]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidKey { .. }), "{err}");
    assert!(!err.to_string().contains("s3cret-value"), "{err}");
    assert!(
        store.get(&p, None).await.unwrap_err().is_not_found(),
        "nothing was written"
    );
}

pub(crate) async fn awkward_values_round_trip(store: Arc<dyn SecretStore>) {
    let long = "x".repeat(20_000);
    let values: Vec<(&str, &str)> = vec![
        ("multi-line", "line one\nline two\n  indented: yes\n"),
        ("quotes", "it's \"quoted\" \\ back"),
        ("unicode", "päss wörd 🔑 パスワード"),
        ("yaml-ish", "yes"),
        ("number", "0755"),
        (
            "enc-lookalike",
            "ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]",
        ),
        ("spaces", "  padded  "),
        ("empty", ""),
        ("long", &long),
        (
            "tls.crt",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        ),
    ];
    let d = data(&values);
    let p = path("api/awkward");
    store.put(&p, &d).await.unwrap();
    let got = store.get(&p, None).await.unwrap();
    assert_eq!(exposed(&got.data), exposed(&d));
}

pub(crate) async fn values_never_printed(store: Arc<dyn SecretStore>) {
    let p = path("api/leak");
    let v = store
        .put(&p, &data(&[("password", "zebra-violin-42")]))
        .await
        .unwrap();
    let got = store.get(&p, Some(&v)).await.unwrap();
    let shown = format!("{got:?} {}", got.data.get("password").unwrap());
    assert!(!shown.contains("zebra-violin-42"), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

pub(crate) async fn concurrent_writers_all_land(store: Arc<dyn SecretStore>) {
    let p = path("api/contended");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, p) = (Arc::clone(&store), p.clone());
        tasks.push(tokio::spawn(async move {
            store
                .put(&p, &data(&[("writer", &i.to_string())]))
                .await
                .unwrap()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    let mut listed: Vec<_> = store
        .versions(&p)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(listed.len(), 8, "every concurrent write is its own version");
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);
    let mut writers = Vec::new();
    for id in &ids {
        let got = store.get(&p, Some(id)).await.unwrap();
        writers.push(got.data.get("writer").unwrap().expose().to_string());
    }
    writers.sort();
    assert_eq!(writers, ["0", "1", "2", "3", "4", "5", "6", "7"]);
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) async fn audit_records_mutations(store: Arc<dyn SecretStore>) {
    let sink = Shared::default();
    let audited = Audited::new(store, AuditLog::new(sink.clone(), "ci-job-7"));
    let p = path("api/audited");
    let v1 = audited
        .put(&p, &data(&[("password", "kiwi-lantern-9")]))
        .await
        .unwrap();
    audited.get(&p, None).await.unwrap();
    audited.delete(&p).await.unwrap();
    let _ = audited.delete(&p).await.unwrap_err();
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(
        !text.contains("kiwi-lantern-9") && !text.contains("password"),
        "{text}"
    );
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        records.len(),
        3,
        "put, delete, failed delete; reads are not recorded:\n{text}"
    );
    let field = |i: usize, k: &str| records[i][k].as_str().unwrap_or("").to_string();
    assert_eq!(field(0, "operation"), "put");
    assert_eq!(field(0, "version"), v1.as_str());
    assert_eq!(field(0, "outcome"), "ok");
    assert_eq!(field(1, "operation"), "delete");
    assert_eq!(field(2, "outcome"), "error: not-found");
    for i in 0..3 {
        assert_eq!(field(i, "actor"), "ci-job-7");
        assert_eq!(field(i, "path"), "api/audited");
        assert_eq!(field(i, "backend"), audited.backend());
        assert!(
            field(i, "time").parse::<jiff::Timestamp>().is_ok(),
            "{text}"
        );
    }
}

//! SOPS files against the real `sops` 3.x binary: what glueops writes, `sops` reads, and the
//! other way round; tampering and wrong keys are caught; rotation; writers killed mid-write.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glueops_secrets::{
    AuditLog, Error, Identities, SecretData, SecretPath, SecretStore, SopsStore,
};

fn path(p: &str) -> SecretPath {
    p.parse().unwrap()
}

fn key_file(dir: &Path, key: &Identities) -> PathBuf {
    let file = dir.join("key.txt");
    std::fs::write(&file, key.expose().as_bytes()).unwrap();
    file
}

/// Runs the real `sops` with `key` as its age identity.
fn sops(key_file: &Path, args: &[&str]) -> Output {
    Command::new(crate::support::sops())
        .args(args)
        .env("SOPS_AGE_KEY_FILE", key_file)
        .env_remove("SOPS_AGE_KEY")
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "sops failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn sops_decrypts_what_glueops_writes() {
    let (dir, store, key) = crate::support::sops_store();
    let keys = tempfile::tempdir().unwrap();
    let kf = key_file(keys.path(), &key);
    let p = path("api/database");
    store
        .put(&p, &SecretData::new().with("password", "first"))
        .await
        .unwrap();
    store
        .put(
            &p,
            &SecretData::new()
                .with("password", "hunter2: \"yes\"\nline 2")
                .with("user", "admin"),
        )
        .await
        .unwrap();
    let current = store.current_file(&p);
    let extract = |file: &Path, field: &str, extra: &[&str]| {
        let mut args = vec!["decrypt"];
        args.extend_from_slice(extra);
        let expr = format!("[\"stringData\"][\"{field}\"]");
        args.extend_from_slice(&["--extract", &expr]);
        args.push(file.to_str().unwrap());
        ok(sops(&kf, &args))
    };
    assert_eq!(
        extract(&current, "password", &[]),
        "hunter2: \"yes\"\nline 2"
    );
    assert_eq!(extract(&current, "user", &[]), "admin");
    // The whole decrypted file is a plain Kubernetes Secret.
    let plain = ok(sops(&kf, &["decrypt", current.to_str().unwrap()]));
    for line in [
        "apiVersion: v1",
        "kind: Secret",
        "name: database",
        "secrets.glueops.dev/version: \"2\"",
    ] {
        assert!(plain.contains(line), "{line} missing from\n{plain}");
    }
    // Older versions too.
    let v1 = store.version_file(&p, 1);
    let yaml = ["--input-type", "yaml", "--output-type", "yaml"];
    assert_eq!(extract(&v1, "password", &yaml), "first");
    drop(dir);
}

#[tokio::test]
async fn glueops_reads_what_sops_encrypts() {
    let (dir, store, key) = crate::support::sops_store();
    let keys = tempfile::tempdir().unwrap();
    let kf = key_file(keys.path(), &key);
    let recipient = key.recipients().keys().next().unwrap().to_string();
    std::fs::create_dir_all(dir.path().join("api")).unwrap();
    let plain = dir.path().join("api/db.plain.yaml");
    std::fs::write(
        &plain,
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: from sops\n  port: \"5432\"\ndata:\n  token: c2VjcmV0LXRva2Vu\n",
    )
    .unwrap();
    let encrypted = ok(sops(
        &kf,
        &[
            "encrypt",
            "--age",
            &recipient,
            "--encrypted-regex",
            "^(data|stringData)$",
            plain.to_str().unwrap(),
        ],
    ));
    std::fs::remove_file(&plain).unwrap();
    std::fs::write(dir.path().join("api/db.yaml"), &encrypted).unwrap();

    let p = path("api/db");
    let got = store.get(&p, None).await.unwrap();
    assert_eq!(got.version.as_str(), "1");
    let values: Vec<(&str, &str)> = got.data.iter().map(|(k, v)| (k, v.expose())).collect();
    assert_eq!(
        values,
        [
            ("password", "from sops"),
            ("port", "5432"),
            ("token", "secret-token")
        ]
    );
    assert_eq!(store.list("").await.unwrap(), vec![p.clone()]);

    // Writing on top keeps the hand-made file as version 1.
    let v2 = store
        .put(&p, &SecretData::new().with("password", "rotated"))
        .await
        .unwrap();
    assert_eq!(v2.as_str(), "2");
    let v1 = store.get(&p, Some(&"1".into())).await.unwrap();
    assert_eq!(v1.data.get("password").unwrap().expose(), "from sops");
    assert_eq!(
        std::fs::read_to_string(store.version_file(&p, 1)).unwrap(),
        encrypted
    );
}

/// Flips one base64 character inside `field:` of the line containing `marker`.
fn flip(text: &str, marker: &str, field: &str) -> String {
    let line_start = text.find(marker).unwrap();
    let at = line_start + text[line_start..].find(field).unwrap() + field.len();
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn tampering_is_detected_and_named() {
    let (_dir, store, _key) = crate::support::sops_store();
    let p = path("api/database");
    store
        .put(
            &p,
            &SecretData::new()
                .with("password", "tamper-me-not")
                .with("user", "admin"),
        )
        .await
        .unwrap();
    let file = store.current_file(&p);
    let original = std::fs::read_to_string(&file).unwrap();
    let cases = [
        (
            "value data",
            flip(&original, "password", "data:"),
            "stringData.password",
        ),
        (
            "value iv",
            flip(&original, "password", "iv:"),
            "stringData.password",
        ),
        (
            "value tag",
            flip(&original, "password", "tag:"),
            "stringData.password",
        ),
        ("mac data", flip(&original, "mac: ENC", "data:"), "MAC"),
        ("mac tag", flip(&original, "mac: ENC", "tag:"), "MAC"),
        (
            "plain metadata",
            original.replace("name: database", "name: databasf"),
            "MAC",
        ),
        (
            "lastmodified",
            original.replacen("lastmodified: \"20", "lastmodified: \"19", 1),
            "MAC",
        ),
        (
            "swapped values",
            {
                let lines: Vec<&str> = original.lines().collect();
                let a = lines
                    .iter()
                    .position(|l| l.contains("\"password\":"))
                    .unwrap();
                let b = lines.iter().position(|l| l.contains("\"user\":")).unwrap();
                let (va, vb) = (
                    lines[a].split_once(": ").unwrap().1,
                    lines[b].split_once(": ").unwrap().1,
                );
                original
                    .replace(lines[a], &format!("    \"password\": {vb}"))
                    .replace(lines[b], &format!("    \"user\": {va}"))
            },
            "stringData",
        ),
        (
            "removed value",
            original
                .lines()
                .filter(|l| !l.contains("\"user\":"))
                .collect::<Vec<_>>()
                .join("\n"),
            "MAC",
        ),
        (
            "age stanza",
            {
                let i = original.find("-----BEGIN AGE ENCRYPTED FILE-----").unwrap() + 60;
                let mut b = original.clone().into_bytes();
                b[i] = if b[i] == b'A' { b'B' } else { b'A' };
                String::from_utf8(b).unwrap()
            },
            "age",
        ),
    ];
    for (what, text, names) in cases {
        assert_ne!(text, original, "{what}: the test must change the file");
        std::fs::write(&file, &text).unwrap();
        // The history copy is what `get` reads; tamper with it the same way.
        std::fs::write(store.version_file(&p, 1), &text).unwrap();
        let err = store.get(&p, None).await.unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, Error::Tampered { .. }), "{what}: {message}");
        assert!(
            message.contains(names),
            "{what}: `{message}` should name {names}"
        );
        assert!(!message.contains("tamper-me-not"), "{what}: {message}");
    }
}

#[tokio::test]
async fn wrong_key_is_a_clear_error() {
    let (dir, store, _key) = crate::support::sops_store();
    let p = path("api/database");
    store
        .put(&p, &SecretData::new().with("password", "x"))
        .await
        .unwrap();
    let other = Identities::generate();
    let stranger = SopsStore::new(dir.path(), other.recipients(), other);
    let err = stranger.get(&p, None).await.unwrap_err();
    assert!(matches!(err, Error::WrongKey { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("SOPS_AGE_KEY_FILE") && message.contains("age1"),
        "{message}"
    );
    // And sops agrees the file is not for that key.
    let keys = tempfile::tempdir().unwrap();
    let kf = key_file(keys.path(), &Identities::generate());
    assert!(
        !sops(&kf, &["decrypt", store.current_file(&p).to_str().unwrap()])
            .status
            .success()
    );
}

#[tokio::test]
async fn every_recipient_can_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Identities::generate(), Identities::generate());
    let both =
        glueops_secrets::Recipients::parse(a.recipients().keys().chain(b.recipients().keys()))
            .unwrap();
    let store = SopsStore::new(dir.path(), both, a.clone());
    let p = path("web/session");
    store
        .put(&p, &SecretData::new().with("key", "shared"))
        .await
        .unwrap();
    let keys = tempfile::tempdir().unwrap();
    for key in [&a, &b] {
        let kf = key_file(keys.path(), key);
        let file = store.current_file(&p);
        let out = ok(sops(
            &kf,
            &[
                "decrypt",
                "--extract",
                "[\"stringData\"][\"key\"]",
                file.to_str().unwrap(),
            ],
        ));
        assert_eq!(out, "shared");
        let reader = SopsStore::new(dir.path(), key.recipients(), key.clone());
        assert_eq!(
            reader
                .get(&p, None)
                .await
                .unwrap()
                .data
                .get("key")
                .unwrap()
                .expose(),
            "shared"
        );
    }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != ".lock" {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn rotation_reencrypts_everything_for_new_keys() {
    let (dir, store, old) = crate::support::sops_store();
    for (p, values) in [("api/db", ["a1", "a2"]), ("web/session", ["w1", "w2"])] {
        for v in values {
            store
                .put(&path(p), &SecretData::new().with("v", v))
                .await
                .unwrap();
        }
    }
    let new = Identities::generate();
    let before = snapshot(dir.path());
    let sink = tempfile::NamedTempFile::new().unwrap();
    let audit = AuditLog::to_file(sink.path(), "rotator").unwrap();

    let plan = store
        .rotate(new.recipients(), true, Some(&audit))
        .await
        .unwrap();
    assert!(plan.dry_run);
    assert_eq!(plan.files.len(), 4, "{plan}");
    let new_key = new.recipients().keys().next().unwrap().to_string();
    let old_key = old.recipients().keys().next().unwrap().to_string();
    for f in &plan.files {
        assert_eq!(
            (f.added.clone(), f.removed.clone()),
            (vec![new_key.clone()], vec![old_key.clone()])
        );
    }
    assert!(
        plan.to_string().starts_with("would re-encrypt 4 files"),
        "{plan}"
    );
    assert_eq!(snapshot(dir.path()), before, "a dry run writes nothing");

    let done = store
        .rotate(new.recipients(), false, Some(&audit))
        .await
        .unwrap();
    assert_eq!(done.files, plan.files);
    let after = snapshot(dir.path());
    assert_eq!(after.len(), before.len());
    for ((p1, b1), (p2, b2)) in before.iter().zip(&after) {
        assert_eq!(p1, p2);
        assert_ne!(b1, b2, "{} was not re-encrypted", p1.display());
    }
    // The old key opens nothing; the new key opens every version, and `sops` agrees.
    let err = store.get(&path("api/db"), None).await.unwrap_err();
    assert!(matches!(err, Error::WrongKey { .. }), "{err}");
    let reader = SopsStore::new(dir.path(), new.recipients(), new.clone());
    for (p, values) in [("api/db", ["a1", "a2"]), ("web/session", ["w1", "w2"])] {
        for (i, v) in values.iter().enumerate() {
            let got = reader
                .get(&path(p), Some(&(i + 1).to_string().as_str().into()))
                .await
                .unwrap();
            assert_eq!(got.data.get("v").unwrap().expose(), *v);
        }
    }
    let keys = tempfile::tempdir().unwrap();
    let kf = key_file(keys.path(), &new);
    let current = reader.current_file(&path("web/session"));
    assert_eq!(
        ok(sops(
            &kf,
            &[
                "decrypt",
                "--extract",
                "[\"stringData\"][\"v\"]",
                current.to_str().unwrap()
            ]
        )),
        "w2"
    );
    // Later writes go to the new key only.
    store
        .put(&path("api/db"), &SecretData::new().with("v", "a3"))
        .await
        .unwrap();
    assert_eq!(
        reader
            .get(&path("api/db"), None)
            .await
            .unwrap()
            .data
            .get("v")
            .unwrap()
            .expose(),
        "a3"
    );
    let log = std::fs::read_to_string(sink.path()).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("\"operation\":\"rotate\""))
            .count(),
        4,
        "{log}"
    );
}

#[tokio::test]
async fn rotation_stops_before_writing_when_a_file_is_bad() {
    let (dir, store, _old) = crate::support::sops_store();
    store
        .put(&path("api/db"), &SecretData::new().with("v", "1"))
        .await
        .unwrap();
    store
        .put(&path("web/x"), &SecretData::new().with("v", "1"))
        .await
        .unwrap();
    let bad = store.version_file(&path("web/x"), 1);
    let text = std::fs::read_to_string(&bad).unwrap();
    std::fs::write(&bad, flip(&text, "\"v\":", "data:")).unwrap();
    let before = snapshot(dir.path());
    let err = store
        .rotate(Identities::generate().recipients(), false, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tampered { .. }), "{err}");
    assert_eq!(snapshot(dir.path()), before, "nothing was re-encrypted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_leave_the_newest_version_deployed() {
    let (_dir, store, _key) = crate::support::sops_store();
    let p = path("api/database");
    for round in 0..5 {
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (store, p) = (store.clone(), p.clone());
                tokio::spawn(async move {
                    store
                        .put(
                            &p,
                            &SecretData::new().with("writer", format!("{round}-{i}")),
                        )
                        .await
                        .unwrap()
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let versions = store.versions(&p).await.unwrap();
        assert_eq!(versions.len(), 8 * (round + 1));
        let newest: u64 = versions.last().unwrap().id.as_str().parse().unwrap();
        assert_eq!(
            std::fs::read(store.current_file(&p)).unwrap(),
            std::fs::read(store.version_file(&p, newest)).unwrap(),
            "the deployable file holds the newest version"
        );
    }
}

const CHILD: &str = "GLUEOPS_TEST_WRITER_DIR";

/// A writer killed at random points (SIGKILL, mid-write) leaves every version it finished
/// readable, the newest finished one (or the one in flight) as the newest, and no clear text
/// anywhere on disk. The test binary re-runs itself as the writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_writer_leaves_previous_version_readable() {
    if let Ok(dir) = std::env::var(CHILD) {
        // Writer role: put forever until killed.
        let key = Identities::parse(&std::env::var("SOPS_AGE_KEY").unwrap()).unwrap();
        let store = SopsStore::new(dir, key.recipients(), key);
        let p = path("api/database");
        for i in 0.. {
            let data = SecretData::new().with("password", format!("plaintext-marker-{i}"));
            store.put(&p, &data).await.unwrap();
        }
        return;
    }
    let (dir, store, key) = crate::support::sops_store();
    let p = path("api/database");
    store
        .put(
            &p,
            &SecretData::new().with("password", "plaintext-marker-first"),
        )
        .await
        .unwrap();
    let me = std::env::current_exe().unwrap();
    let mut seen_versions = 1;
    for round in 0..25u64 {
        let mut child = Command::new(&me)
            .args([
                "--exact",
                "sops_files::killed_writer_leaves_previous_version_readable",
                "--nocapture",
            ])
            .env(CHILD, dir.path())
            .env("SOPS_AGE_KEY", key.expose().as_str())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kill over start-up and many writes.
        std::thread::sleep(std::time::Duration::from_millis(20 + (round * 37) % 180));
        child.kill().unwrap();
        child.wait().unwrap();

        let newest = store.get(&p, None).await.unwrap();
        let value = newest.data.get("password").unwrap().expose().to_string();
        assert!(
            value.starts_with("plaintext-marker-"),
            "round {round}: {value}"
        );
        let versions = store.versions(&p).await.unwrap();
        assert!(
            versions.len() >= seen_versions,
            "round {round}: versions were lost"
        );
        assert_eq!(versions.last().unwrap().id, newest.version);
        // Every version written since the last round reads back (older ones were checked).
        for v in &versions[seen_versions - 1..] {
            store.get(&p, Some(&v.id)).await.unwrap();
        }
        seen_versions = versions.len();
        for (file, bytes) in snapshot(dir.path()) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("plaintext-marker"),
                "clear text in {}",
                file.display()
            );
        }
    }
    assert!(
        seen_versions > 25,
        "the writer should have finished some writes ({seen_versions})"
    );
    // The deployable file is always whole: `sops` reads it.
    let keys = tempfile::tempdir().unwrap();
    let kf = key_file(keys.path(), &key);
    let current = store.current_file(&p);
    let out = ok(sops(
        &kf,
        &[
            "decrypt",
            "--extract",
            "[\"stringData\"][\"password\"]",
            current.to_str().unwrap(),
        ],
    ));
    assert!(out.starts_with("plaintext-marker-"), "{out}");
}

//! `glueops serve` backs the secret store up on the schedule `spec.secretStore.backup` sets:
//! once per period however often it restarts (the ledger says when the last ran), and the
//! archive restores.

use std::path::Path;

use glueops_testkit::serve::Served;

use super::serve::{Platform, wait_until};

fn glueops(env: &[(&str, &str)], args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glueops"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "glueops {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new age key in `root/<name>`: its recipient and the key file.
fn keygen(root: &Path, name: &str) -> (String, String) {
    let key = root.join(name).to_string_lossy().into_owned();
    let recipient = glueops(&[], &["secrets", "keygen", "--out", &key]);
    (recipient.trim().to_string(), key)
}

/// A SOPS store in `root/secrets` for `recipient`, holding api/database.
fn store_with_a_secret(root: &Path, recipient: &str, key: &str) -> String {
    let store = format!(
        "sops://{}?recipient={recipient}",
        root.join("secrets").display()
    );
    let put = [
        "secrets",
        "--store",
        &store,
        "put",
        "api/database",
        "password=hunter2",
    ];
    glueops(&[("SOPS_AGE_KEY_FILE", key)], &put);
    store
}

#[test]
fn the_store_is_backed_up_once_per_period_across_restarts() {
    let p = Platform::new();
    let root = p.root.path();
    let (recipient, key_text) = keygen(root, "age.key");
    let store = store_with_a_secret(root, &recipient, &key_text);
    let env = [("SOPS_AGE_KEY_FILE", key_text.as_str())];
    let backups = root.join("backups");
    p.repos.change_config("back the store up hourly", |w| {
        let f = w.join("glueops.yaml");
        let text = std::fs::read_to_string(&f).unwrap();
        let line = "secretStore: {name: vault-backend, kind: ClusterSecretStore}";
        assert!(text.contains(line));
        let with = format!(
            "secretStore: {{name: vault-backend, kind: ClusterSecretStore, backup: {{schedule: 1h, to: \"{}/\", recipients: [{recipient}], keep: 3}}}}",
            backups.display()
        );
        std::fs::write(&f, text.replace(line, &with)).unwrap();
    });
    let own = root.join("backup.recipients");
    std::fs::write(&own, format!("# who reads the archives\n{recipient}\n")).unwrap();
    let own = own.to_string_lossy().into_owned();
    let start = || {
        let args = p.args(
            "cache",
            &[
                "--resync",
                "1h",
                "--store",
                &store,
                "--backup-recipients",
                &own,
            ],
        );
        Served::start_with_env(Path::new(env!("CARGO_BIN_EXE_glueops")), &args, &env)
    };
    let archives = || std::fs::read_dir(&backups).map(|d| d.count()).unwrap_or(0);
    let mut served = start();
    assert!(
        wait_until(|| archives() == 1),
        "no backup: {}",
        served.log_text()
    );
    assert!(
        served
            .wait_log(std::time::Duration::from_secs(30), |l| l
                .contains("secret store backed up"))
            .is_some()
    );
    assert!(
        served
            .terminate(std::time::Duration::from_secs(60))
            .is_some_and(|s| s.success())
    );
    // A restart inside the period does not back up again.
    let served = start();
    assert!(
        served
            .wait_log(std::time::Duration::from_secs(30), |l| l
                .contains("resync done"))
            .is_some(),
        "{}",
        served.log_text()
    );
    assert_eq!(archives(), 1, "backed up twice in one period");
    let ledger = p.manifest(&["show", "glueops-ledger:ledger.json"]).unwrap();
    assert!(ledger.contains("\"backup\""), "{ledger}");
    // The archive restores into a fresh store.
    let archive = std::fs::read_dir(&backups)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let fresh = format!(
        "sops://{}?recipient={recipient}",
        root.join("restored").display()
    );
    glueops(
        &env,
        &[
            "secrets",
            "--store",
            &fresh,
            "restore",
            "--from",
            &archive.to_string_lossy(),
            "--identity",
            &key_text,
        ],
    );
    let got = glueops(
        &env,
        &[
            "secrets",
            "--store",
            &fresh,
            "get",
            "api/database",
            "--reveal",
        ],
    );
    assert!(got.contains("hunter2"), "{got}");
}

/// A merged config change that names another recipient is refused, not followed: no archive
/// is made for anyone until the server's own file allows it; without the stranger, the
/// backup runs (positive control).
#[test]
fn recipients_come_from_the_server_not_the_config_repo() {
    let p = Platform::new();
    let root = p.root.path();
    let ((ours, key_text), (theirs, _)) = (keygen(root, "ours.key"), keygen(root, "theirs.key"));
    let store = store_with_a_secret(root, &ours, &key_text);
    let env = [("SOPS_AGE_KEY_FILE", key_text.as_str())];
    let backups = root.join("backups");
    let set_recipients = |list: &str| {
        p.repos.change_config("backup recipients", |w| {
            let f = w.join("glueops.yaml");
            let text = std::fs::read_to_string(&f).unwrap();
            let start = text.find("secretStore:").unwrap();
            let end = start + text[start..].find('\n').unwrap();
            let with = format!(
                "secretStore: {{name: vault-backend, kind: ClusterSecretStore, backup: {{schedule: 1h, to: \"{}/\", recipients: [{list}]}}}}",
                backups.display()
            );
            std::fs::write(&f, format!("{}{with}{}", &text[..start], &text[end..])).unwrap();
        });
    };
    set_recipients(&format!("{ours}, {theirs}"));
    let own = root.join("backup.recipients");
    std::fs::write(&own, format!("{ours}\n")).unwrap();
    let own = own.to_string_lossy().into_owned();
    let args = p.args(
        "cache",
        &[
            "--resync",
            "1s",
            "--store",
            &store,
            "--backup-recipients",
            &own,
        ],
    );
    let served = Served::start_with_env(Path::new(env!("CARGO_BIN_EXE_glueops")), &args, &env);
    assert!(
        served
            .wait_log(std::time::Duration::from_secs(30), |l| l
                .contains(&format!("names `{theirs}`")))
            .is_some(),
        "{}",
        served.log_text()
    );
    assert_eq!(
        std::fs::read_dir(&backups).map(|d| d.count()).unwrap_or(0),
        0
    );
    set_recipients(&ours);
    assert!(
        wait_until(|| std::fs::read_dir(&backups).map(|d| d.count()).unwrap_or(0) == 1),
        "no backup after the config matched: {}",
        served.log_text()
    );
}

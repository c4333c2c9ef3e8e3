//! `glueops secrets` end to end, through `open(url)` and the environment the way an
//! operator runs it: OpenBao dev server and moto on 127.0.0.1, a SOPS folder.

use std::path::Path;
use std::process::{Command, Output};

use glueops::secrets::Identities;
use glueops_testkit::{moto, openbao};

fn run(env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glueops"));
    cmd.arg("secrets")
        .args(args)
        .env_remove("SOPS_AGE_KEY")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    for (k, v) in env {
        cmd.env(k, v);
    }
    match stdin {
        None => cmd.output().unwrap(),
        Some(text) => {
            use std::io::Write;
            let mut child = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        }
    }
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn vault_to_archive_to_aws_from_the_command_line() {
    let bao = openbao("cli-root");
    let vault = format!("vault+http://127.0.0.1:{}/secret", bao.port());
    let venv = [("VAULT_TOKEN", "cli-root")];
    ok(run(
        &venv,
        &[
            "--store",
            &vault,
            "put",
            "api/database",
            "password=first",
            "user=app",
        ],
        None,
    ));
    ok(run(
        &venv,
        &["--store", &vault, "put", "api/database", "-"],
        Some(r#"{"password":"second","user":"app"}"#),
    ));
    let shown = ok(run(
        &venv,
        &["--store", &vault, "get", "api/database"],
        None,
    ));
    assert!(
        shown.contains("version 2") && shown.contains("password: [redacted]"),
        "{shown}"
    );
    assert!(!shown.contains("second"), "{shown}");

    let dir = tempfile::tempdir().unwrap();
    let key = Identities::generate();
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, key.expose().as_bytes()).unwrap();
    let recipient = key.recipients().keys().next().unwrap().to_string();
    let archive = dir.path().join("vault.age");
    let said = ok(run(
        &venv,
        &[
            "--store",
            &vault,
            "backup",
            "--to",
            archive.to_str().unwrap(),
            "--recipient",
            &recipient,
        ],
        None,
    ));
    assert!(said.contains("1 secrets, 2 versions"), "{said}");

    let moto = moto();
    let aws = format!(
        "awssm://us-east-1?endpoint=http://127.0.0.1:{}",
        moto.port()
    );
    let aenv = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let audit = dir.path().join("audit.log");
    ok(run(
        &aenv,
        &[
            "--store",
            &aws,
            "--audit",
            audit.to_str().unwrap(),
            "--actor",
            "restorer",
            "restore",
            "--from",
            archive.to_str().unwrap(),
            "--identity",
            key_file.to_str().unwrap(),
        ],
        None,
    ));
    let versions = ok(run(
        &aenv,
        &["--store", &aws, "versions", "api/database"],
        None,
    ));
    assert_eq!(versions.lines().count(), 2, "{versions}");
    let first_id = versions
        .lines()
        .next()
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let newest = ok(run(
        &aenv,
        &["--store", &aws, "get", "api/database", "--reveal"],
        None,
    ));
    let newest: serde_json::Value = serde_json::from_str(&newest).unwrap();
    assert_eq!(
        newest,
        serde_json::json!({"password": "second", "user": "app"})
    );
    let oldest = ok(run(
        &aenv,
        &[
            "--store",
            &aws,
            "get",
            "api/database",
            "--version",
            &first_id,
            "--reveal",
        ],
        None,
    ));
    assert!(oldest.contains("\"first\""), "{oldest}");
    let log = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(
        log.contains("\"actor\":\"restorer\"") && !log.contains("second"),
        "{log}"
    );

    // Restoring again is refused: the secret is there already.
    let again = run(
        &aenv,
        &[
            "--store",
            &aws,
            "restore",
            "--from",
            archive.to_str().unwrap(),
            "--identity",
            key_file.to_str().unwrap(),
        ],
        None,
    );
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds 1"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A bad token is a clear error, not a crash.
    let denied = run(
        &[("VAULT_TOKEN", "wrong")],
        &["--store", &vault, "list"],
        None,
    );
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("permission denied"));
}

#[test]
fn sops_folder_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.txt");
    let recipient = ok(run(
        &[],
        &["keygen", "--out", key_file.to_str().unwrap()],
        None,
    ))
    .trim()
    .to_string();
    let key = Identities::from_file(&key_file).unwrap();
    assert_eq!(
        key.recipients().keys().collect::<Vec<_>>(),
        [recipient.as_str()]
    );
    let again = run(&[], &["keygen", "--out", key_file.to_str().unwrap()], None);
    assert!(!again.status.success(), "keygen never overwrites a key");
    let store = format!(
        "sops://{}?recipient={recipient}",
        dir.path().join("secrets").display()
    );
    let env = [("SOPS_AGE_KEY_FILE", key_file.to_str().unwrap())];
    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, "from-a-file").unwrap();
    ok(run(
        &env,
        &[
            "--store",
            &store,
            "put",
            "api/database",
            &format!("password=@{}", pw.display()),
        ],
        None,
    ));
    let revealed = ok(run(
        &env,
        &["--store", &store, "get", "api/database", "--reveal"],
        None,
    ));
    assert!(revealed.contains("from-a-file"), "{revealed}");
    assert_eq!(
        ok(run(&env, &["--store", &store, "list", "api/"], None)),
        "api/database\n"
    );
    let on_disk = std::fs::read_to_string(dir.path().join("secrets/api/database.yaml")).unwrap();
    assert!(!on_disk.contains("from-a-file") && on_disk.contains("ENC[AES256_GCM,"));

    let new_key = Identities::generate();
    let new_recipient = new_key.recipients().keys().next().unwrap().to_string();
    let plan = ok(run(
        &env,
        &[
            "--store",
            &store,
            "rotate",
            "--recipient",
            &new_recipient,
            "--dry-run",
        ],
        None,
    ));
    assert!(plan.starts_with("would re-encrypt 1 files"), "{plan}");
    ok(run(
        &env,
        &["--store", &store, "rotate", "--recipient", &new_recipient],
        None,
    ));
    let old = run(&env, &["--store", &store, "get", "api/database"], None);
    assert!(String::from_utf8_lossy(&old.stderr).contains("SOPS_AGE_KEY_FILE"));
    let new_file = dir.path().join("new.txt");
    std::fs::write(&new_file, new_key.expose().as_bytes()).unwrap();
    let got = ok(run(
        &[("SOPS_AGE_KEY_FILE", new_file.to_str().unwrap())],
        &["--store", &store, "get", "api/database", "--reveal"],
        None,
    ));
    assert!(got.contains("from-a-file"), "{got}");
    ok(run(
        &env,
        &["--store", &store, "delete", "api/database"],
        None,
    ));
    assert!(!Path::new(&dir.path().join("secrets/api/database.yaml")).exists());
    let bad = run(&env, &["--store", &store, "put", "api/x", "novalue"], None);
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(
        said.contains("is not KEY=VALUE") && !said.contains("novalue"),
        "{said}"
    );
}

#[test]
fn relative_folders_work_from_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run_here = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_glueops"))
            .arg("secrets")
            .args(args)
            .current_dir(dir.path())
            .env("SOPS_AGE_KEY_FILE", "key.txt")
            .env_remove("SOPS_AGE_KEY")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let recipient = run_here(&["keygen", "--out", "key.txt"]).trim().to_string();
    let store = format!("sops://store?recipient={recipient}");
    run_here(&["--store", &store, "put", "api/db", "k=v"]);
    assert!(dir.path().join("store/api/db.yaml").exists());
    let said = run_here(&[
        "--store",
        &store,
        "backup",
        "--to",
        "backups/",
        "--recipient",
        &recipient,
    ]);
    assert!(said.contains("1 secrets"), "{said}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("backups"))
            .unwrap()
            .count(),
        1
    );
}

/// A value typed without its key, a JSON value of the wrong shape on stdin, and a private key
/// pasted as a recipient are refused without being echoed; revealing values is audited. The
/// same commands written correctly work (positive controls).
#[test]
fn secrets_are_never_echoed_and_reveals_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("age.key");
    let recipient = ok(run(&[], &["keygen", "--out", key.to_str().unwrap()], None));
    let identity = std::fs::read_to_string(&key).unwrap();
    let private = identity
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_string();
    let folder = dir.path().join("store");
    let store = format!("sops://{}?recipient={}", folder.display(), recipient.trim());
    let audit = dir.path().join("audit.log");
    let audit_flag = ["--audit", audit.to_str().unwrap()];
    let env = [("SOPS_AGE_KEY_FILE", key.to_str().unwrap())];
    let leaked = |out: &Output, secret: &str| {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "accepted: {all}");
        assert!(!all.contains(secret), "echoed: {all}");
    };
    let no_key = run(&env, &["--store", &store, "put", "api/db", "hunter2"], None);
    leaked(&no_key, "hunter2");
    let json = run(
        &env,
        &["--store", &store, "put", "api/db", "-"],
        Some(r#"{"password": ["hunter2"]}"#),
    );
    leaked(&json, "hunter2");
    let pasted = format!("sops://{}?recipient={private}", folder.display());
    let as_recipient = run(
        &env,
        &["--store", &pasted, "put", "api/db", "password=x"],
        None,
    );
    leaked(&as_recipient, &private[15..]);

    ok(run(
        &env,
        &["--store", &store, "put", "api/db", "password=hunter2"],
        None,
    ));
    let json = ok(run(
        &env,
        &["--store", &store, "put", "api/db", "-"],
        Some(r#"{"password": "hunter3"}"#),
    ));
    assert!(json.contains("version"), "{json}");
    let shown = ok(run(
        &env,
        &[
            &audit_flag[..],
            &["--store", &store, "get", "api/db", "--reveal"],
        ]
        .concat(),
        None,
    ));
    assert!(shown.contains("hunter3"), "{shown}");
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("\"operation\":\"reveal\"") && l.contains("\"path\":\"api/db\"")),
        "{log}"
    );
    assert!(
        !log.contains("hunter"),
        "the audit log holds a value: {log}"
    );
}

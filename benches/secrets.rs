//! Secret-store figures, each against a real peer or floor measured in the same run:
//!
//! 1. SOPS backend: put + get of N secrets (default 1,000; `GLUEOPS_BENCH_SECRETS`), every
//!    put durable (fsync), against the real `sops` 3.x CLI encrypting and decrypting the same
//!    N files (`sops encrypt` + `sops decrypt`, one process per file, how CI scripts use it).
//! 2. Backup + verify + restore of M secrets (default 10,000; `GLUEOPS_BENCH_BACKUP`) from and
//!    into the in-memory store, against the floor: age-encrypting and decrypting the same
//!    plaintext bytes (what any encrypted archive costs).
//! 3. The same backup taken from a SOPS folder of M secrets (decrypting M files).
//!
//! A custom harness: one run takes tens of seconds, so criterion's sampling does not fit.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly on bad setup")]

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use glueops::secrets::{
    Identities, MemoryStore, OnExisting, SecretData, SecretPath, SecretStore, SopsStore, backup,
    restore, verify,
};

fn secret(i: usize) -> (SecretPath, SecretData) {
    let path: SecretPath = format!("app-{}/secret-{}", i / 10, i % 10).parse().unwrap();
    let data = SecretData::new()
        .with(
            "password",
            format!("pw-{i:08}-correct-horse-battery-staple"),
        )
        .with("username", format!("user-{i}"))
        .with("url", format!("postgres://db-{i}.internal:5432/app"));
    (path, data)
}

fn sops_cli(key_file: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(glueops_testkit::sops())
        .args(args)
        .env("SOPS_AGE_KEY_FILE", key_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

async fn sops_put_get(n: usize) {
    let dir = tempfile::Builder::new()
        .prefix("glueops-bench")
        .tempdir()
        .unwrap();
    let key = Identities::generate();
    let store = SopsStore::new(dir.path().join("store"), key.recipients(), key.clone());
    let start = Instant::now();
    for i in 0..n {
        let (path, data) = secret(i);
        store.put(&path, &data).await.unwrap();
    }
    let put = start.elapsed();
    let start = Instant::now();
    for i in 0..n {
        let (path, data) = secret(i);
        assert_eq!(store.get(&path, None).await.unwrap().data, data);
    }
    let get = start.elapsed();

    // The peer: the same N Secrets through the sops CLI.
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, key.expose().as_bytes()).unwrap();
    let recipient = key.recipients().keys().next().unwrap().to_string();
    let plain_dir = dir.path().join("plain");
    std::fs::create_dir_all(&plain_dir).unwrap();
    for i in 0..n {
        let (path, data) = secret(i);
        let mut yaml = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {}\nstringData:\n",
            path.name()
        );
        for (k, v) in data.iter() {
            yaml.push_str(&format!("  {k}: {}\n", v.expose()));
        }
        std::fs::write(plain_dir.join(format!("{i}.yaml")), yaml).unwrap();
    }
    let start = Instant::now();
    for i in 0..n {
        let file = plain_dir.join(format!("{i}.yaml"));
        let enc = sops_cli(
            &key_file,
            &[
                "encrypt",
                "--age",
                &recipient,
                "--encrypted-regex",
                "^(data|stringData)$",
                file.to_str().unwrap(),
            ],
        );
        std::fs::write(plain_dir.join(format!("{i}.enc.yaml")), enc).unwrap();
    }
    let peer_put = start.elapsed();
    let start = Instant::now();
    for i in 0..n {
        let file = plain_dir.join(format!("{i}.enc.yaml"));
        sops_cli(&key_file, &["decrypt", file.to_str().unwrap()]);
    }
    let peer_get = start.elapsed();
    println!("SOPS backend, {n} secrets x 3 keys");
    println!(
        "  glueops put (fsync each)   {:>9}   sops encrypt: {:>9}   {:.0}x faster",
        secs(put),
        secs(peer_put),
        peer_put.as_secs_f64() / put.as_secs_f64()
    );
    println!(
        "  glueops get                {:>9}   sops decrypt: {:>9}   {:.0}x faster",
        secs(get),
        secs(peer_get),
        peer_get.as_secs_f64() / get.as_secs_f64()
    );
    let total = put + get;
    let peer = peer_put + peer_get;
    println!(
        "  put + get                  {:>9}   sops CLI:     {:>9}   {:.0}x faster",
        secs(total),
        secs(peer),
        peer.as_secs_f64() / total.as_secs_f64()
    );
}

async fn backup_restore(m: usize) {
    let source = MemoryStore::new();
    for i in 0..m {
        let (path, data) = secret(i);
        source.put(&path, &data).await.unwrap();
    }
    let key = Identities::generate();
    let start = Instant::now();
    let (archive, summary) = backup(&source, &key.recipients()).await.unwrap();
    let took_backup = start.elapsed();
    let start = Instant::now();
    let verified = verify(&archive, &key, "bench.age").unwrap();
    let took_verify = start.elapsed();
    let target = MemoryStore::new();
    let start = Instant::now();
    restore(&verified, &target, OnExisting::Fail).await.unwrap();
    let took_restore = start.elapsed();
    assert_eq!(target.list("").await.unwrap().len(), m);

    // The floor: age alone over the same number of plaintext bytes.
    let identity: age::x25519::Identity = key.expose().trim().parse().unwrap();
    let plain = {
        let mut p = Vec::new();
        let dec = age::Decryptor::new(&archive[..]).unwrap();
        dec.decrypt(std::iter::once(&identity as &dyn age::Identity))
            .unwrap()
            .read_to_end(&mut p)
            .unwrap();
        p
    };
    let start = Instant::now();
    let recipient = identity.to_public();
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .unwrap();
    let mut sealed = Vec::new();
    let mut w = enc.wrap_output(&mut sealed).unwrap();
    w.write_all(&plain).unwrap();
    w.finish().unwrap();
    let floor_enc = start.elapsed();
    let start = Instant::now();
    let mut opened = Vec::new();
    age::Decryptor::new(&sealed[..])
        .unwrap()
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut opened)
        .unwrap();
    let floor_dec = start.elapsed();
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    println!(
        "Backup of {m} secrets ({} versions), archive {} KiB",
        summary.versions,
        archive.len() / 1024
    );
    println!(
        "  backup (read + hash + encrypt)   {:>8}   floor (age encrypt): {:>8}   {:.1}x the floor",
        ms(took_backup),
        ms(floor_enc),
        took_backup.as_secs_f64() / floor_enc.as_secs_f64()
    );
    println!(
        "  verify (decrypt + check)         {:>8}   floor (age decrypt): {:>8}   {:.1}x the floor",
        ms(took_verify),
        ms(floor_dec),
        took_verify.as_secs_f64() / floor_dec.as_secs_f64()
    );
    println!("  restore into memory              {:>8}", ms(took_restore));
}

async fn backup_from_sops(m: usize) {
    let dir = tempfile::Builder::new()
        .prefix("glueops-bench")
        .tempdir()
        .unwrap();
    let key = Identities::generate();
    let store = SopsStore::new(dir.path(), key.recipients(), key.clone());
    let start = Instant::now();
    for i in 0..m {
        let (path, data) = secret(i);
        store.put(&path, &data).await.unwrap();
    }
    let fill = start.elapsed();
    let start = Instant::now();
    let (archive, _) = backup(&store, &key.recipients()).await.unwrap();
    let took = start.elapsed();
    let target_dir = tempfile::Builder::new()
        .prefix("glueops-bench")
        .tempdir()
        .unwrap();
    let target = SopsStore::new(target_dir.path(), key.recipients(), key.clone());
    let start = Instant::now();
    restore(
        &verify(&archive, &key, "b").unwrap(),
        &target,
        OnExisting::Fail,
    )
    .await
    .unwrap();
    let back = start.elapsed();
    println!(
        "SOPS folder of {m} secrets: filled in {}, backed up in {}, restored into a new folder in {}",
        secs(fill),
        secs(took),
        secs(back)
    );
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let n = support::env_usize("GLUEOPS_BENCH_SECRETS", 1_000);
    let m = support::env_usize("GLUEOPS_BENCH_BACKUP", 10_000);
    sops_put_get(n).await;
    backup_restore(m).await;
    backup_from_sops(m).await;
}

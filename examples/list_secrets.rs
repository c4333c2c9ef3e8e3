//! Open a secret store by URL and list what it holds, with every version's id, without ever
//! printing a value.
//!
//! `cargo run -p glueops-examples --example list_secrets -- memory://`
//! (or `sops:///srv/secrets?recipient=age1...`, `vault+http://127.0.0.1:8200/secret` with
//! `VAULT_TOKEN`, `awssm://eu-west-1` with the `aws` feature of `glueops`)

use glueops::secrets::{AuditLog, SecretData, SecretPath, open};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), glueops::secrets::Error> {
    let url = std::env::args().nth(1).unwrap_or("memory://".into());
    // Every write through the store is recorded (never a value): here on stderr.
    let store = open(
        &url,
        AuditLog::new(std::io::stderr(), "list-secrets-example"),
    )
    .await?;

    if url.starts_with("memory://") {
        // An empty in-memory store has nothing to list: give it two versions of one secret.
        let path: SecretPath = "api/database".parse()?;
        let mut data = SecretData::new();
        data.insert("password", "first");
        store.put(&path, &data).await?;
        data.insert("password", "second");
        store.put(&path, &data).await?;
    }

    for path in store.list("").await? {
        let versions = store.versions(&path).await?;
        let ids: Vec<String> = versions.iter().map(|v| v.id.to_string()).collect();
        let newest = store.get(&path, None).await?;
        // Values print as `[redacted]`: only the keys are shown.
        let keys: Vec<&str> = newest.data.iter().map(|(k, _)| k).collect();
        println!("{path}: versions {} keys {}", ids.join(","), keys.join(","));
    }
    Ok(())
}

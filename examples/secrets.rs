//! `cargo run --example secrets -- --store <url> put|get|list|versions|delete|backup|restore|rotate`
//!
//! One command line over every secret store glueops speaks. Values are printed only with
//! `get --reveal`; every write is recorded in the audit log (`--audit <file>`, default stderr).
//!
//! ```text
//! export SOPS_AGE_KEY_FILE=key.txt
//! secrets --store "sops:///srv/secrets?recipient=age1..." put api/database password=@pw.txt user=app
//! secrets --store "sops:///srv/secrets?recipient=age1..." get api/database --reveal
//! VAULT_TOKEN=... secrets --store vault://vault.internal:8200/secret backup --to backups/ --recipient age1... --keep 7
//! secrets --store awssm://eu-west-1 restore --from backups/secrets-....age --identity key.txt
//! ```

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use glueops::secrets::{
    AuditLog, BackupDir, Error, Identities, OnExisting, Recipients, SecretData, SecretPath,
    SecretStore, SopsStore, StoreUrl, backup, open, restore, verify,
};

/// Read, write, version, back up and migrate secrets in any glueops secret store.
#[derive(Parser)]
struct Args {
    /// The store: memory://, sops:///<dir>?recipient=<age1...>, awssm://<region>[?endpoint=<url>],
    /// vault://<host:port>/<mount> (or vault+http:// for a dev server).
    #[arg(long)]
    store: Option<String>,
    /// Append audit records (JSON lines) to this file instead of stderr.
    #[arg(long)]
    audit: Option<PathBuf>,
    /// Who the audit records name (default: $USER).
    #[arg(long)]
    actor: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new age key: the private key into a file (mode 0600), the recipient to stdout.
    Keygen {
        /// Where to write the key; refuses to overwrite.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a new version: `KEY=VALUE`, `KEY=@file`, or `-` for a JSON object on stdin.
    Put {
        /// `<app>/<name>`.
        path: SecretPath,
        /// The keys and values.
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Show a secret's keys (values only with --reveal).
    Get {
        /// `<app>/<name>`.
        path: SecretPath,
        /// A version id (default: the newest).
        #[arg(long)]
        version: Option<String>,
        /// Print the values, as a JSON object.
        #[arg(long)]
        reveal: bool,
    },
    /// List secrets whose path starts with a prefix.
    List {
        /// The prefix (default: everything).
        #[arg(default_value = "")]
        prefix: String,
    },
    /// List a secret's versions, oldest first.
    Versions {
        /// `<app>/<name>`.
        path: SecretPath,
    },
    /// Remove a secret and all its versions.
    Delete {
        /// `<app>/<name>`.
        path: SecretPath,
    },
    /// Back every version of every secret up into an age-encrypted archive.
    Backup {
        /// An archive file, or a folder (an existing one, or a path ending in `/`): then archives
        /// are named by time and pruned.
        #[arg(long)]
        to: PathBuf,
        /// Who can restore it: `age1...`; repeatable.
        #[arg(long = "recipient", required = true)]
        recipients: Vec<String>,
        /// With a folder: how many archives to keep.
        #[arg(long, default_value_t = 7)]
        keep: usize,
    },
    /// Verify an archive in full, then restore it into the store.
    Restore {
        /// The archive.
        #[arg(long)]
        from: PathBuf,
        /// An age identity file (default: SOPS_AGE_KEY / SOPS_AGE_KEY_FILE).
        #[arg(long)]
        identity: Option<PathBuf>,
        /// Add versions on top of secrets the store already has (default: refuse).
        #[arg(long)]
        add_versions: bool,
    },
    /// Re-encrypt every SOPS file for a new set of recipients (sops:// only).
    Rotate {
        /// The new recipients: `age1...`; repeatable.
        #[arg(long = "recipient", required = true)]
        recipients: Vec<String>,
        /// Only list what would change.
        #[arg(long)]
        dry_run: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read_pairs(pairs: &[String]) -> Result<SecretData, String> {
    let mut data = SecretData::new();
    for pair in pairs {
        if pair == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("stdin: {e}"))?;
            let map: std::collections::BTreeMap<String, String> = serde_json::from_str(&text)
                .map_err(|e| format!("stdin is not a JSON object of strings: {e}"))?;
            for (k, v) in map {
                data.insert(k, v);
            }
            continue;
        }
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            format!(
                "`{}`: expected KEY=VALUE or KEY=@file",
                pair.split('=').next().unwrap_or("")
            )
        })?;
        let value = match value.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?,
            None => value.to_string(),
        };
        data.insert(key, value);
    }
    Ok(data)
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let actor = args
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into());
    let audit = match &args.audit {
        Some(file) => AuditLog::to_file(file, actor)?,
        None => AuditLog::new(std::io::stderr(), actor),
    };
    if let Command::Keygen { out } = &args.command {
        let key = Identities::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(out)
            .map_err(|e| format!("{}: {e}", out.display()))?;
        std::io::Write::write_all(&mut file, key.expose().as_bytes())?;
        for recipient in key.recipients().keys() {
            println!("{recipient}");
        }
        return Ok(());
    }
    let url = args
        .store
        .clone()
        .ok_or("--store <url> is required for this command")?;
    if let Command::Rotate {
        recipients,
        dry_run,
    } = &args.command
    {
        let StoreUrl::Sops {
            dir,
            recipients: current,
        } = StoreUrl::parse(&url)?
        else {
            return Err("rotate works on sops:// stores only".into());
        };
        let store = SopsStore::from_env(dir, Recipients::parse(&current)?);
        let rotation = store
            .rotate(Recipients::parse(recipients)?, *dry_run, Some(&audit))
            .await?;
        print!("{rotation}");
        return Ok(());
    }
    let store = open(&url, audit).await?;
    match args.command {
        Command::Put { path, pairs } => {
            let version = store.put(&path, &read_pairs(&pairs)?).await?;
            println!("{path} version {version}");
        }
        Command::Get {
            path,
            version,
            reveal,
        } => {
            let secret = store
                .get(&path, version.map(|v| v.as_str().into()).as_ref())
                .await?;
            if reveal {
                let map: std::collections::BTreeMap<&str, &str> =
                    secret.data.iter().map(|(k, v)| (k, v.expose())).collect();
                println!("{}", serde_json::to_string_pretty(&map)?);
            } else {
                println!("{} version {}", secret.path, secret.version);
                for (key, value) in secret.data.iter() {
                    println!("  {key}: {value}");
                }
            }
        }
        Command::List { prefix } => {
            for path in store.list(&prefix).await? {
                println!("{path}");
            }
        }
        Command::Versions { path } => {
            // id, creation time (or -), staging labels: one version a line, oldest first.
            for v in store.versions(&path).await? {
                let created = v.created.map_or_else(|| "-".to_string(), |t| t.to_string());
                println!("{}\t{created}\t{}", v.id, v.stages.join(","));
            }
        }
        Command::Delete { path } => {
            store.delete(&path).await?;
            println!("deleted {path}");
        }
        Command::Backup {
            to,
            recipients,
            keep,
        } => {
            let recipients = Recipients::parse(&recipients)?;
            if to.is_dir() || to.as_os_str().to_string_lossy().ends_with('/') {
                let (file, s) = BackupDir::new(&to, keep)?
                    .backup(store.as_ref(), &recipients)
                    .await?;
                println!(
                    "{}: {} secrets, {} versions, {} bytes",
                    file.display(),
                    s.secrets,
                    s.versions,
                    s.bytes
                );
            } else {
                let (bytes, s) = backup(store.as_ref(), &recipients).await?;
                std::fs::write(&to, bytes).map_err(|e| Error::Io {
                    path: to.clone(),
                    source: e,
                })?;
                println!(
                    "{}: {} secrets, {} versions, {} bytes",
                    to.display(),
                    s.secrets,
                    s.versions,
                    s.bytes
                );
            }
        }
        Command::Restore {
            from,
            identity,
            add_versions,
        } => {
            let identities = match identity {
                Some(file) => Identities::from_file(file)?,
                None => Identities::from_env()?,
            };
            let bytes = std::fs::read(&from).map_err(|e| Error::Io {
                path: from.clone(),
                source: e,
            })?;
            let archive = verify(&bytes, &identities, &from.display().to_string())?;
            let mode = if add_versions {
                OnExisting::AddVersions
            } else {
                OnExisting::Fail
            };
            let s = restore(&archive, store.as_ref(), mode).await?;
            println!(
                "restored {} secrets, {} versions from a {} backup taken {}",
                s.secrets,
                s.versions,
                archive.source(),
                archive.created()
            );
        }
        Command::Rotate { .. } | Command::Keygen { .. } => {
            return Err("handled before the store is opened".into());
        }
    }
    Ok(())
}

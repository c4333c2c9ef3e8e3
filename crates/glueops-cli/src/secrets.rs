//! `glueops secrets`: one command line over every secret store glueops speaks. Values are
//! printed only with `get --reveal`; every write is recorded in the audit log (`--audit
//! <file>`, default stderr).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use glueops::secrets::{
    AuditLog, BackupDir, Identities, OnExisting, Recipients, SecretData, SecretPath, SecretStore,
    SopsStore, StoreUrl, backup, open, restore, verify,
};

use crate::error::Error;

/// `glueops secrets [--store <url>] [--audit <file>] [--actor <name>] <command>`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The store: memory://, sops:///<dir>?recipient=<age1...>, awssm://<region>[?endpoint=<url>],
    /// vault://<host:port>/<mount> (or vault+http:// for a dev server).
    #[arg(long, global = true)]
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

#[derive(Debug, Subcommand)]
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
    /// Check that every remote reference the config's ExternalSecrets read exists in the
    /// store, property included (values are never printed); exit 1 if any is missing.
    Check {
        /// The config repo: a folder, or a git repository (path or URL).
        #[arg(long)]
        config: String,
        /// Print the missing references as JSON.
        #[arg(long)]
        json: bool,
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

pub(crate) fn run(args: Args) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: Args) -> Result<(), Error> {
    if let Command::Keygen { out } = &args.command {
        let key = Identities::generate_to_file(out)?;
        for recipient in key.recipients().keys() {
            println!("{recipient}");
        }
        return Ok(());
    }
    let audit = audit_log(&args)?;
    let url = args
        .store
        .clone()
        .ok_or_else(|| Error::Invalid("--store <url> is required for this command".into()))?;
    if let Command::Rotate {
        recipients,
        dry_run,
    } = &args.command
    {
        return rotate(&url, recipients, *dry_run, &audit).await;
    }
    let store = open(&url, audit.clone()).await?;
    if let Command::Check { config, json } = &args.command {
        return check(config, *json, store.as_ref()).await;
    }
    run_on(store.as_ref(), &audit, args.command).await
}

/// `secrets check`: the missing references, located; an error when there is any.
async fn check(config: &str, json: bool, store: &dyn SecretStore) -> Result<(), Error> {
    let opts = glueops::Options::new(crate::flows::default_cache(), jiff::Timestamp::now());
    let config = glueops::Config::open(config, &opts, None, false)?;
    let missing = glueops::check_secrets(config.repo()?, store).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&missing).map_err(Error::Json)?
        );
    } else {
        for m in &missing {
            let property = m
                .property
                .as_deref()
                .map(|p| format!(" property {p}"))
                .unwrap_or_default();
            println!(
                "{}: {}/{}: `{}`{property}: {}",
                m.at, m.app, m.env, m.key, m.problem
            );
        }
    }
    if missing.is_empty() {
        if !json {
            println!("secrets check: every reference exists in the store");
        }
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{} secret reference(s) are missing from the store; add them with `glueops secrets put`",
            missing.len()
        )))
    }
}

/// The audit log: `--audit <file>`, or stderr; records name `--actor`, or `$USER`.
fn audit_log(args: &Args) -> Result<AuditLog, Error> {
    let actor = args
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into());
    Ok(match &args.audit {
        Some(file) => AuditLog::to_file(file, actor)?,
        None => AuditLog::new(std::io::stderr(), actor),
    })
}

async fn rotate(url: &str, to: &[String], dry_run: bool, audit: &AuditLog) -> Result<(), Error> {
    let StoreUrl::Sops {
        dir,
        recipients: current,
    } = StoreUrl::parse(url)?
    else {
        return Err(Error::Invalid("rotate works on sops:// stores only".into()));
    };
    let store = SopsStore::from_env(dir, Recipients::parse(&current)?);
    let rotation = store
        .rotate(Recipients::parse(to)?, dry_run, Some(audit))
        .await?;
    print!("{rotation}");
    Ok(())
}

/// The commands that work on an open store.
async fn run_on(store: &dyn SecretStore, audit: &AuditLog, command: Command) -> Result<(), Error> {
    match command {
        Command::Put { path, pairs } => {
            let version = store.put(&path, &read_pairs(&pairs)?).await?;
            println!("{path} version {version}");
        }
        Command::Get {
            path,
            version,
            reveal,
        } => get(store, audit, &path, version, reveal).await?,
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
        } => back_up(store, &to, &recipients, keep).await?,
        Command::Restore {
            from,
            identity,
            add_versions,
        } => restore_from(store, &from, identity.as_deref(), add_versions).await?,
        Command::Rotate { .. } | Command::Keygen { .. } | Command::Check { .. } => {
            return Err(Error::Invalid(
                "keygen and rotate do not work on an opened store".into(),
            ));
        }
    }
    Ok(())
}

/// `KEY=VALUE`, `KEY=@file`, or `-` for a JSON object of strings on stdin.
fn read_pairs(pairs: &[String]) -> Result<SecretData, Error> {
    let mut data = SecretData::new();
    for pair in pairs {
        if pair == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| Error::File {
                    path: "<stdin>".into(),
                    source,
                })?;
            // serde's message quotes the offending value: only its position is reported.
            let map: BTreeMap<String, String> =
                serde_json::from_str(&text).map_err(|e| Error::Stdin {
                    line: e.line(),
                    column: e.column(),
                })?;
            for (k, v) in map {
                data.insert(k, v);
            }
            continue;
        }
        // The argument may be the value itself, typed without its key: never echo it.
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            Error::Invalid(format!(
                "argument {} is not KEY=VALUE, KEY=@file or `-` (its text is not shown: it may be a secret)",
                data.len() + 1
            ))
        })?;
        let value = match value.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file).map_err(|source| Error::File {
                path: file.into(),
                source,
            })?,
            None => value.to_string(),
        };
        data.insert(key, value);
    }
    Ok(data)
}

async fn get(
    store: &dyn SecretStore,
    audit: &AuditLog,
    path: &SecretPath,
    version: Option<String>,
    reveal: bool,
) -> Result<(), Error> {
    let secret = store
        .get(path, version.map(|v| v.as_str().into()).as_ref())
        .await?;
    if reveal {
        // Values leave the store in clear: recorded before they are printed.
        let (audit, backend, at, version) = (
            audit.clone(),
            store.backend(),
            secret.path.to_string(),
            secret.version.to_string(),
        );
        tokio::task::spawn_blocking(move || {
            audit.record(backend, "reveal", &at, Some(&version), Ok(()))
        })
        .await
        .map_err(|e| Error::Invalid(format!("the audit record could not be written: {e}")))??;
        let map: BTreeMap<&str, &str> = secret.data.iter().map(|(k, v)| (k, v.expose())).collect();
        let text = serde_json::to_string_pretty(&map).map_err(Error::Json)?;
        println!("{text}");
    } else {
        println!("{} version {}", secret.path, secret.version);
        for (key, value) in secret.data.iter() {
            println!("  {key}: {value}");
        }
    }
    Ok(())
}

async fn back_up(
    store: &dyn SecretStore,
    to: &Path,
    recipients: &[String],
    keep: usize,
) -> Result<(), Error> {
    let recipients = Recipients::parse(recipients)?;
    let (file, s) = if to.is_dir() || to.as_os_str().to_string_lossy().ends_with('/') {
        BackupDir::new(to, keep)?.backup(store, &recipients).await?
    } else {
        let (bytes, s) = backup(store, &recipients).await?;
        std::fs::write(to, bytes).map_err(|source| Error::File {
            path: to.to_path_buf(),
            source,
        })?;
        (to.to_path_buf(), s)
    };
    println!(
        "{}: {} secrets, {} versions, {} bytes",
        file.display(),
        s.secrets,
        s.versions,
        s.bytes
    );
    Ok(())
}

async fn restore_from(
    store: &dyn SecretStore,
    from: &Path,
    identity: Option<&Path>,
    add_versions: bool,
) -> Result<(), Error> {
    let identities = match identity {
        Some(file) => Identities::from_file(file)?,
        None => Identities::from_env()?,
    };
    let bytes = std::fs::read(from).map_err(|source| Error::File {
        path: from.to_path_buf(),
        source,
    })?;
    let archive = verify(&bytes, &identities, &from.display().to_string())?;
    let mode = if add_versions {
        OnExisting::AddVersions
    } else {
        OnExisting::Fail
    };
    let s = restore(&archive, store, mode).await?;
    println!(
        "restored {} secrets, {} versions from a {} backup taken {}",
        s.secrets,
        s.versions,
        archive.source(),
        archive.created()
    );
    Ok(())
}

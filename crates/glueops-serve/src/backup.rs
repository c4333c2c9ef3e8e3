//! The secret store's scheduled backups (`spec.secretStore.backup` in glueops.yaml, run
//! against `--store URL`). The ledger decides who runs one: a replica first claims the slot
//! with a compare-and-swap push, so two replicas back up once per period, not twice.

use glueops::ledger;
use glueops::secrets::{AuditLog, BackupDir, Recipients};

use crate::{Error, Shared};

/// No cause beyond the message.
const NONE: Option<std::io::Error> = None;

/// The ledger's job name.
const JOB: &str = "backup";

/// The recipients archives are encrypted to: the server's own file (`--backup-recipients`),
/// never the config repo. `listed` (the config's `recipients`) may only name recipients
/// that file holds: a config change naming another reader is refused, not followed.
fn server_recipients(
    file: Option<&std::path::Path>,
    listed: &[String],
) -> Result<Recipients, Error> {
    let Some(file) = file else {
        return Err(Error::backup(
            "backups need --backup-recipients FILE (age recipients, one per line): archives are never encrypted to recipients from the config repo",
            NONE,
        ));
    };
    let text = std::fs::read_to_string(file).map_err(|e| {
        Error::backup(
            format!("cannot read --backup-recipients {}", file.display()),
            Some(e),
        )
    })?;
    let own: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if let Some(stranger) = listed.iter().find(|r| !own.contains(r)) {
        return Err(Error::backup(
            format!(
                "spec.secretStore.backup.recipients names `{stranger}`, which {} does not hold: no backup is made until the server's own recipients file allows it",
                file.display()
            ),
            NONE,
        ));
    }
    Recipients::parse(&own)
        .map_err(|e| Error::backup(format!("--backup-recipients {}", file.display()), Some(e)))
}

/// Runs the backup when one is configured and due. `Err` says what to fix.
pub(crate) fn run_if_due(shared: &Shared, opts: &glueops::Options) -> Result<(), Error> {
    let s = &shared.settings;
    let Some(url) = &s.store else {
        return Ok(());
    };
    let loop_failed = |what: &str| {
        let what = what.to_string();
        move |e: glueops::Error| Error::backup(what, Some(e))
    };
    let config = glueops::Config::open(&s.config, opts, s.config_branch.as_deref(), false)
        .map_err(loop_failed("reading the config"))?;
    let platform = config
        .platform()
        .map_err(loop_failed("reading glueops.yaml"))?;
    let Some(backup) = platform
        .spec
        .secret_store
        .as_ref()
        .and_then(|store| store.backup.clone())
    else {
        return Ok(());
    };
    let every = glueops::model::check::go_duration_seconds(&backup.schedule)
        .map_err(|e| Error::backup(format!("spec.secretStore.backup.schedule: {e}"), NONE))?;
    let recipients = server_recipients(s.backup_recipients.as_deref(), &backup.recipients)?;
    let now = opts.now;
    // What this replica last read says it is not due: it is not (times only move forward).
    if !ledger::due(shared.applied_ledger().jobs.get(JOB).copied(), every, now) {
        return Ok(());
    }
    let mut claimed = false;
    let written = glueops::update_ledger(&s.manifests, "ledger: secret store backup", opts, |l| {
        claimed = ledger::due(l.jobs.get(JOB).copied(), every, now);
        if claimed {
            l.jobs.insert(JOB.to_string(), now.as_second());
        }
    })
    .map_err(loop_failed("claiming the backup in the ledger"))?;
    shared.remember_applied(&written);
    if !claimed {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::backup("cannot start the backup's runtime", Some(e)))?;
    let started = std::time::Instant::now();
    let (file, summary) = runtime
        .block_on(async {
            let store =
                glueops::secrets::open(url, AuditLog::new(std::io::stderr(), "glueops-serve"))
                    .await?;
            BackupDir::new(&backup.to, backup.keep.unwrap_or(7))?
                .backup(store.as_ref(), &recipients)
                .await
        })
        .map_err(|e| Error::backup("backing up the store", Some(e)))?;
    shared
        .metrics
        .timed("backup", None, started.elapsed().as_secs_f64());
    tracing::info!(
        file = %file.display(),
        secrets = summary.secrets,
        versions = summary.versions,
        "secret store backed up"
    );
    Ok(())
}

//! `glueops validate`: a table of apps × environments, or every problem.

use std::path::Path;

use glueops::model::{AppInstance, Repo};

use crate::error::Error;

/// The table, then the warnings (located, like errors) on stderr; exit 1 on an error, or on
/// a warning with `deny_warnings`.
pub(crate) fn run(repo: &Path, deny_warnings: bool) -> Result<u8, Error> {
    let repo = Repo::load(repo).map_err(Error::Config)?;
    sample_previews(&repo)?;
    let rows: Vec<[String; 5]> = repo
        .deployments()
        .chain(repo.previews())
        .map(|d| [d.app.clone(), place(d), replicas(d), image(d), hostnames(d)])
        .collect();
    let header = ["APP", "ENVIRONMENT", "REPLICAS", "IMAGE", "HOSTNAMES"].map(String::from);
    print_table(&header, &rows);
    let warnings = repo.warnings();
    println!(
        "\n{} apps, {} deployments, {} previews: valid{}",
        repo.apps().count(),
        repo.deployments().count(),
        repo.previews().count(),
        match warnings.len() {
            0 => String::new(),
            1 => ", 1 warning".to_string(),
            n => format!(", {n} warnings"),
        }
    );
    print_warnings(&repo);
    Ok(u8::from(deny_warnings && !warnings.is_empty()))
}

/// The pull request number of the sample preview an app is checked with.
const SAMPLE_PULL_REQUEST: u64 = 1;

/// Every app with previews and no pull request of its own in the repo is checked as the
/// preview of a sample pull request: a preview that cannot be built fails here, not first
/// when a pull request opens.
fn sample_previews(repo: &Repo) -> Result<(), Error> {
    for app in repo.preview_apps() {
        if repo.previews().any(|p| p.app == app) {
            continue;
        }
        repo.preview(app, SAMPLE_PULL_REQUEST)
            .map_err(Error::Config)?;
    }
    Ok(())
}

/// The repo's warnings on stderr, located, with their summary line.
pub(crate) fn print_warnings(repo: &Repo) {
    if !repo.warnings().is_empty() {
        eprintln!("{}", repo.warnings());
    }
}

/// Prints `rows` under `header`, each column as wide as its widest cell.
fn print_table<const N: usize>(header: &[String; N], rows: &[[String; N]]) {
    let widths: Vec<usize> = (0..N)
        .map(|c| {
            rows.iter()
                .chain([header])
                .map(|r| r[c].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in [header].into_iter().chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

fn place(d: &AppInstance) -> String {
    match d.preview_number() {
        Some(n) => format!("preview #{n}"),
        None => d.environment().unwrap_or_default().to_string(),
    }
}

fn replicas(d: &AppInstance) -> String {
    use glueops::model::values::WorkloadKind;
    let v = &d.values;
    if let Some(a) = v.autoscaling.as_ref().filter(|a| a.enabled == Some(true)) {
        return format!(
            "{}-{} (hpa)",
            a.min_replicas.unwrap_or(1),
            a.max_replicas.unwrap_or(0)
        );
    }
    if v.keda.as_ref().is_some_and(|k| k.enabled == Some(true)) {
        return "keda".to_string();
    }
    let workloads = v.workloads();
    match workloads.first().map(|w| w.kind) {
        Some(WorkloadKind::Deployment) => v
            .deployment
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1)
            .to_string(),
        Some(WorkloadKind::StatefulSet) => {
            format!(
                "{} (sts)",
                v.stateful_set
                    .as_ref()
                    .and_then(|s| s.replicas)
                    .unwrap_or(1)
            )
        }
        Some(WorkloadKind::CronJob) => "cron".to_string(),
        Some(WorkloadKind::Job) => "job".to_string(),
        None => "-".to_string(),
    }
}

/// The image the first workload runs; a preview runs its pull request's head commit.
fn image(d: &AppInstance) -> String {
    let v = &d.values;
    let Some(w) = v.workloads().into_iter().next() else {
        return "-".to_string();
    };
    let tag = match d.preview_number() {
        Some(_) => Some("<head sha>"),
        None => v.image.as_ref().and_then(|i| i.tag.as_deref()),
    };
    v.image_reference(&w.pod, tag)
        .unwrap_or_else(|_| "-".to_string())
}

fn hostnames(d: &AppInstance) -> String {
    let hosts: Vec<String> = d.hostnames().into_iter().map(|(h, _)| h).collect();
    if hosts.is_empty() {
        "-".to_string()
    } else {
        hosts.join(", ")
    }
}

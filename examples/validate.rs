//! `cargo run --example validate -- <repo>`: loads a config repo and prints a table of apps ×
//! environments (replicas, image, hostnames), or every problem and exit code 1.

use std::process::ExitCode;

use glueops::model::{Deployment, Repo};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: validate <config-repo>");
        return ExitCode::from(2);
    };
    let repo = match Repo::load(&path) {
        Ok(repo) => repo,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return ExitCode::FAILURE;
        }
    };
    let rows: Vec<[String; 5]> = repo
        .deployments()
        .chain(repo.previews())
        .map(|d| {
            [
                d.app.clone(),
                target(d),
                replicas(d),
                image(d),
                hostnames(d),
            ]
        })
        .collect();
    let header = ["APP", "ENVIRONMENT", "REPLICAS", "IMAGE", "HOSTNAMES"].map(String::from);
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            rows.iter()
                .chain([&header])
                .map(|r| r[c].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in [&header].into_iter().chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    println!(
        "\n{} apps, {} deployments, {} previews: valid",
        repo.apps().count(),
        repo.deployments().count(),
        repo.previews().count()
    );
    ExitCode::SUCCESS
}

fn target(d: &Deployment) -> String {
    match d.preview_number() {
        Some(n) => format!("preview #{n}"),
        None => d.environment().unwrap_or_default().to_string(),
    }
}

fn replicas(d: &Deployment) -> String {
    let v = &d.values;
    match &v.autoscaling {
        Some(a) if a.enabled == Some(true) => {
            format!(
                "{}-{} (hpa)",
                a.min_replicas.unwrap_or(1),
                a.max_replicas.unwrap_or(0)
            )
        }
        _ => match &v.deployment {
            Some(dep) if dep.enabled == Some(true) => dep.replicas.unwrap_or(1).to_string(),
            _ if v.cron_jobs.as_ref().is_some_and(|c| !c.is_empty()) => "cron".to_string(),
            _ => "-".to_string(),
        },
    }
}

fn image(d: &Deployment) -> String {
    let Some(image) = &d.values.image else {
        return "-".to_string();
    };
    let repo = [image.registry.as_deref(), image.repository.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/");
    match (&image.digest, &image.tag, d.preview_number()) {
        (Some(digest), _, _) => format!("{repo}@{digest}"),
        (None, Some(tag), None) => format!("{repo}:{tag}"),
        (None, _, Some(_)) => format!("{repo}:<head sha>"),
        (None, None, None) => repo,
    }
}

fn hostnames(d: &Deployment) -> String {
    let hosts: Vec<String> = d.hostnames().into_iter().map(|(h, _)| h).collect();
    if hosts.is_empty() {
        "-".to_string()
    } else {
        hosts.join(", ")
    }
}

//! Forms the GlueOps chart converts, read the same way (each with a located warning), and
//! their limits: what is not such a form stays an error.

use glueops_model::{Code, Repo, Severity};

fn load(values: &str) -> Result<Repo, glueops_model::Diagnostics> {
    let case = format!("-- apps/api/envs/production/values.yaml --\n{values}");
    let (_, tree) = crate::support::repo_with(&case);
    Repo::from_sources(&tree)
}

/// The repo with `values`, which must load.
fn loaded(values: &str) -> Repo {
    load(values).map_err(|d| d.to_string()).unwrap()
}

fn warnings(repo: &Repo) -> Vec<(String, String)> {
    repo.warnings()
        .iter()
        .map(|d| (d.path.clone(), d.location.to_string()))
        .collect()
}

#[test]
fn a_quoted_number_is_read_as_the_number_with_a_warning() {
    let repo = load("image: {tag: 1.4.1}\ncronJob:\n  enabled: true\n  jobs:\n    nightly: {schedule: \"0 1 * * *\", startingDeadlineSeconds: \"30\"}\n")
        .map_err(|d| d.to_string())
        .unwrap();
    let d = repo.deployment("api", "production").unwrap();
    let entry = d.values.cron_job.as_ref().unwrap().jobs.as_ref().unwrap()["nightly"]
        .clone()
        .unwrap();
    assert_eq!(entry.starting_deadline_seconds, Some(30));
    let w = warnings(&repo);
    assert!(
        w.iter().any(
            |(p, at)| p == "cronJob.jobs.nightly.startingDeadlineSeconds"
                && at.starts_with("apps/api/envs/production/values.yaml:5:")
        ),
        "{w:?}"
    );
    // Not a number: still the type error it was.
    let bad = load("image: {tag: 1.4.1}\ncronJob:\n  enabled: true\n  jobs:\n    nightly: {schedule: \"0 1 * * *\", startingDeadlineSeconds: \"soon\"}\n")
        .unwrap_err();
    assert!(
        bad.iter()
            .any(|d| d.code == Code::WrongType && d.severity == Severity::Error),
        "{bad}"
    );
}

#[test]
fn labels_as_a_key_value_list_are_read_as_a_map_with_a_warning() {
    let repo = loaded(
        "image: {tag: 1.4.1}\njob:\n  enabled: true\n  jobs:\n    migrate:\n      labels: [{key: team, value: payments}]\n",
    );
    let d = repo.deployment("api", "production").unwrap();
    let entry = d.values.job.as_ref().unwrap().jobs.as_ref().unwrap()["migrate"]
        .clone()
        .unwrap();
    assert_eq!(entry.pod.labels.unwrap()["team"], "payments");
    assert!(
        warnings(&repo)
            .iter()
            .any(|(p, _)| p == "job.jobs.migrate.labels")
    );
    // A list of anything else is not labels.
    let bad = load(
        "image: {tag: 1.4.1}\njob:\n  enabled: true\n  jobs:\n    migrate:\n      labels: [team]\n",
    )
    .unwrap_err();
    assert!(
        bad.iter().any(|d| d.path == "job.jobs.migrate.labels"),
        "{bad}"
    );
}

#[test]
fn a_scaled_object_without_triggers_loads_with_a_warning() {
    let repo = loaded(
        "image: {tag: 1.4.1}\nkeda:\n  enabled: true\n  scaledObject: {enabled: true, spec: {minReplicaCount: 1, maxReplicaCount: 5}}\n",
    );
    let w: Vec<_> = repo
        .warnings()
        .iter()
        .filter(|d| d.path == "keda.scaledObject")
        .collect();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].message.contains("KEDA's admission webhook rejects"),
        "{}",
        w[0].message
    );
    // With a trigger: no warning.
    let repo = load("image: {tag: 1.4.1}\nkeda:\n  enabled: true\n  scaledObject: {enabled: true, spec: {triggers: [{type: cpu, metadata: {value: \"80\"}}]}}\n")
        .map_err(|d| d.to_string())
        .unwrap();
    assert!(
        repo.warnings()
            .iter()
            .all(|d| d.path != "keda.scaledObject")
    );
}

#[test]
fn where_glueops_is_stricter_the_message_says_what_the_chart_would_have_done() {
    // A budget over no pods: rendered by the chart, not by glueops, with a warning.
    let repo = loaded("deployment: {enabled: false}\npodDisruptionBudget: {enabled: true}\n");
    let w: Vec<_> = repo
        .warnings()
        .iter()
        .filter(|d| d.path == "podDisruptionBudget.enabled")
        .collect();
    assert_eq!(w.len(), 1, "{:?}", repo.warnings().to_string());
    assert!(
        w[0].message
            .contains("the chart would render one that selects no pods")
    );
    // Enabled for every app of the platform (common values): not this app's mistake.
    let case = "-- common/common-values.yaml --\npodDisruptionBudget: {enabled: true}\n-- apps/api/envs/production/values.yaml --\ndeployment: {enabled: false}\n";
    let (_, tree) = crate::support::repo_with(case);
    let repo = Repo::from_sources(&tree)
        .map_err(|d| d.to_string())
        .unwrap();
    assert!(
        repo.warnings()
            .iter()
            .all(|d| d.path != "podDisruptionBudget.enabled")
    );
    // With the Deployment it protects: no warning.
    let repo = loaded("image: {tag: 1.4.1}\npodDisruptionBudget: {enabled: true}\n");
    assert!(
        repo.warnings()
            .iter()
            .all(|d| d.path != "podDisruptionBudget.enabled")
    );
    // A CronJob without a schedule: refused, saying what the chart would render.
    let refused = load(
        "image: {tag: 1.4.1}\ncronJob:\n  enabled: true\n  jobs: {nightly: {suspend: false}}\n",
    )
    .unwrap_err();
    assert!(
        refused.iter().any(|d| d.path == "cronJob.jobs.nightly"
            && d.message
                .contains("the chart would render a CronJob without one")),
        "{refused}"
    );
}

#[test]
fn a_label_value_written_as_a_yaml_scalar_is_read_as_text_with_a_warning() {
    let repo = loaded("image: {tag: 1.4.1}\ncommonLabels: {expose: true, tier: 2}\n");
    let d = repo.deployment("api", "production").unwrap();
    let labels = d.values.common_labels.as_ref().unwrap();
    assert_eq!(
        (labels["expose"].as_str(), labels["tier"].as_str()),
        ("true", "2")
    );
    assert!(
        repo.warnings()
            .iter()
            .any(|w| w.path == "commonLabels.expose")
    );
    // Outside labels a boolean where text goes is still the type error it was.
    let bad = load("image: {tag: 1.4.1}\nappEnv: true\n").unwrap_err();
    assert!(
        bad.iter()
            .any(|d| d.path == "appEnv" && d.code == Code::WrongType),
        "{bad}"
    );
}

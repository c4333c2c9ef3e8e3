//! Snapshots of the layered model of the demo repo: for every deployment and preview, the
//! merged values with the file and line each leaf came from.

use std::path::PathBuf;

use glueops_model::{AppInstance, Repo, explain};
use glueops_yaml::{Limits, deserialize, to_string as to_yaml};

fn demo() -> Repo {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-config");
    Repo::load(path).map_err(|d| d.to_string()).unwrap()
}

fn describe(d: &AppInstance) -> String {
    let hosts: Vec<String> = d.hostnames().into_iter().map(|(h, _)| h).collect();
    format!(
        "name: {}\ncluster: {}\nnamespace: {}\nhostnames: {:?}\n---\n{}",
        d.name,
        d.cluster,
        d.namespace,
        hosts,
        explain(&d.tree)
    )
}

#[test]
fn layered_model_of_the_demo_repo() {
    let repo = demo();
    let names: Vec<&str> = repo
        .deployments()
        .chain(repo.previews())
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "api-production",
            "api-staging",
            "reports-production",
            "reports-staging",
            "web-production",
            "web-staging",
            "worker-production",
            "worker-staging",
            "web-pr-42"
        ]
    );
    for d in repo.deployments().chain(repo.previews()) {
        insta::assert_snapshot!(d.name.clone(), describe(d));
    }
}

#[test]
fn previews_without_a_folder_use_the_app_defaults() {
    let repo = demo();
    let preview = repo.preview("api", 7).map_err(|d| d.to_string()).unwrap();
    assert_eq!(preview.name, "api-pr-7");
    assert_eq!(preview.namespace, "api-pr-7");
    let secret = &preview
        .values
        .external_secret
        .as_ref()
        .unwrap()
        .secrets
        .as_ref()
        .unwrap()["db"];
    let key = secret.data.as_ref().unwrap()["url"]
        .remote_ref
        .as_ref()
        .unwrap()
        .key
        .as_deref();
    assert_eq!(key, Some("api/db-preview"));
    let err = repo.preview("worker", 7).unwrap_err().to_string();
    assert!(err.contains("`worker` has no previews"), "{err}");
}

#[test]
fn typed_values_round_trip_through_yaml() {
    for d in demo().deployments() {
        let text = to_yaml(&d.values).unwrap();
        let back: glueops_model::AppValues = deserialize(&text, Limits::Config).unwrap();
        assert_eq!(back, d.values, "{}:\n{text}", d.name);
    }
}

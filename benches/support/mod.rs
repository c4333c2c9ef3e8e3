//! Generates large config repos for benchmarks.
#![expect(dead_code, reason = "each bench uses a part of the shared support")]

use std::fs;
use std::path::{Path, PathBuf};

/// The environments of generated repos.
pub(crate) const ENVIRONMENTS: [&str; 3] = ["dev", "staging", "production"];

/// Writes a config repo of `apps` apps (see [`repo_files`]) under `root`.
pub(crate) fn generate_repo(root: &Path, apps: usize) {
    for (rel, text) in repo_files(apps) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

/// The same repo in memory.
pub(crate) fn repo_sources(apps: usize) -> glueops::model::SourceTree {
    let mut tree = glueops::model::SourceTree::new();
    for (rel, text) in repo_files(apps) {
        tree.insert(rel, text);
    }
    tree
}

/// The files of a config repo of `apps` apps, each deployed to the three environments, with
/// values shaped like the demo repo's api (secrets, probes, ingress, resources).
pub(crate) fn repo_files(apps: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut write = |rel: &str, text: String| files.push((rel.to_string(), text));
    write(
        "glueops.yaml",
        r#"apiVersion: glueops.dev/v1alpha1
kind: Platform
metadata: {name: bench}
spec:
  delivery: argocd
  manifestRepo: {url: "https://github.com/acme/manifests.git"}
  secretStore: {name: vault-backend, kind: ClusterSecretStore}
  clusters:
    - {name: nonprod, server: "https://nonprod.example:6443", captainDomain: nonprod.acme.example}
    - {name: prod, server: "https://prod.example:6443", captainDomain: prod.acme.example}
  environments:
    - {name: dev, cluster: nonprod, promotion: {auto: true}}
    - {name: staging, cluster: nonprod, promotion: {from: dev}}
    - {name: production, cluster: prod, promotion: {from: staging, approval: {required: 1, approvers: [alice]}}}
  previews: {enabled: true, cluster: nonprod}
"#
        .to_string(),
    );
    write(
        "common/common-values.yaml",
        "image: {registry: ghcr.io}\ndeployment:\n  resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 250m, memory: 256Mi}}\n".to_string(),
    );
    for env in ENVIRONMENTS {
        write(
            &format!("env-overlays/{env}/env-values.yaml"),
            format!("deployment:\n  envVariables: [{{name: ENVIRONMENT, value: {env}}}]\n"),
        );
    }
    for i in 0..apps {
        let app = format!("app{i:05}");
        write(
            &format!("apps/{app}/base/base-values.yaml"),
            format!(
                r#"source: {{provider: github, repo: acme/{app}, branch: main}}
image: {{repository: acme/{app}, port: 8080}}
deployment:
  enabled: true
  readinessProbe: {{httpGet: {{path: /ready, port: http}}}}
service: {{enabled: true}}
configMap:
  enabled: true
  configs:
    settings: {{dataMap: {{FEATURE_X: "yes", TIMEOUT: "30s"}}}}
externalSecret:
  enabled: true
  secrets: {{db: {{data: {{url: {{envName: DATABASE_URL, remoteRef: {{key: {app}/db, property: url}}}}}}}}}}
"#
            ),
        );
        for (n, env) in ENVIRONMENTS.iter().enumerate() {
            write(
                &format!("apps/{app}/envs/{env}/values.yaml"),
                format!(
                    "image: {{tag: 1.{i}.{n}}}\ndeployment: {{replicas: {}}}\ningress:\n  enabled: true\n  entries: [{{name: public, hosts: [{{hostname: \"{{{{ .Values.glueops_app_name }}}}.{{{{ .Values.captain_domain }}}}\"}}]}}]\n",
                    n + 1
                ),
            );
        }
    }
    files
}

/// A fresh temporary directory holding a generated repo.
pub(crate) fn generated_repo(apps: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("config");
    generate_repo(&root, apps);
    (dir, root)
}

/// The floor for loading: walk the same folders and read every file, nothing else.
pub(crate) fn read_all(dir: &Path) -> usize {
    let mut bytes = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            bytes += read_all(&path);
        } else {
            bytes += fs::read(&path).unwrap().len();
        }
    }
    bytes
}

/// A whole number from the environment variable `name`, or `default`.
pub(crate) fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median of some timings.
pub(crate) fn median(mut v: Vec<std::time::Duration>) -> std::time::Duration {
    v.sort();
    v[v.len() / 2]
}

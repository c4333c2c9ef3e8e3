//! Generated config repos: many apps shaped like the demo repo's api, each deployed to three
//! environments, for tests and benchmarks at scale.

/// The environments of generated repos.
pub const ENVIRONMENTS: [&str; 3] = ["dev", "staging", "production"];

/// The files of a config repo of `apps` apps, each deployed to the three environments, with
/// values shaped like the demo repo's api (secrets, probes, ingress, resources).
pub fn repo_files(apps: usize) -> Vec<(String, String)> {
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

/// Writes the repo of [`repo_files`] under `root`.
#[expect(
    clippy::panic,
    reason = "test support: a write that fails is the test's failure"
)]
pub fn write_repo(root: &std::path::Path, apps: usize) {
    for (rel, text) in repo_files(apps) {
        let path = root.join(rel);
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            panic!("cannot create {}: {e}", parent.display());
        }
        if let Err(e) = std::fs::write(&path, text) {
            panic!("cannot write {}: {e}", path.display());
        }
    }
}

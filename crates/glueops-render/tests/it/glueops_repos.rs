//! Config repos in the shape of public GlueOps repos (tests/fixtures/glueops-repos/, each with
//! a SOURCES note): they load with no error and no warning, render, and every core object
//! passes `kubernetes-validate --strict`; the templates they use resolve as the chart would.

use std::path::PathBuf;

use glueops_render::{PreviewRequest, render};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/glueops-repos")
        .join(name)
}

#[test]
fn the_examples_shaped_repo_loads_renders_and_validates() {
    let repo = glueops_model::Repo::load(fixture("examples"))
        .map_err(|d| d.to_string())
        .unwrap();
    assert!(repo.warnings().is_empty(), "{}", repo.warnings());
    let previews = [PreviewRequest {
        app: "web".into(),
        number: 7,
        head_sha: Some("4f2a9c1".into()),
        branch: None,
    }];
    let set = render(&repo, &previews).unwrap();
    // include "app.name" / "app.namespace" and .Values.captain_domain in custom resources.
    let route = file(&set, "prod/edge/ingressroute-edge-prod-https.yaml");
    for want in [
        "name: edge-prod-https",
        "Host(`edge-prod.apps.prod.acme.onglueops.rocks`)",
        "- name: edge-prod-redirect",
        "namespace: prod",
    ] {
        assert!(route.contains(want), "{want} not in:\n{route}");
    }
    // A templated TLS secret name and a Sprig pipe in a hostname.
    let ingress = file(&set, "prod/web/ingress-web-prod-public.yaml");
    assert!(ingress.contains("secretName: web-prod-tls"), "{ingress}");
    assert!(
        ingress.contains("host: web.apps.prod.acme.onglueops.rocks"),
        "{ingress}"
    );
    // A preview's templates read its head commit as .Values.image.tag.
    let preview = file(&set, "previews/web-pr-7/ingress-web-pr-7-public.yaml");
    assert!(
        preview.contains("host: web-4f2a9c1.apps.prod.acme.onglueops.rocks"),
        "{preview}"
    );
    validate_core(&set);
}

/// The YAML of the rendered file whose path ends with `suffix`.
fn file(set: &glueops_render::ManifestSet, suffix: &str) -> String {
    set.iter()
        .find(|m| m.path.ends_with(suffix))
        .map(|m| m.to_yaml().unwrap())
        .unwrap_or_else(|| panic!("no {suffix}"))
}

/// Writes the render and checks every core object with `kubernetes-validate --strict`.
fn validate_core(set: &glueops_render::ManifestSet) {
    let dir = tempfile::tempdir().unwrap();
    let mut core = Vec::new();
    for m in set.iter() {
        let path = dir.path().join(&m.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, m.to_yaml().unwrap()).unwrap();
        if !m.object.is_custom() {
            core.push(path);
        }
    }
    let (ok, out) = crate::oracles::kubernetes_validate(&core);
    assert!(ok, "kubernetes-validate --strict failed:\n{out}");
    assert_eq!(out.matches("passed").count(), core.len(), "{out}");
}

#[test]
fn the_tenant_shaped_repo_loads_with_its_three_warnings_and_renders() {
    let repo = glueops_model::Repo::load(fixture("tenant"))
        .map_err(|d| d.to_string())
        .unwrap();
    let warnings: Vec<(String, String)> = repo
        .warnings()
        .iter()
        .map(|d| (d.code.to_string(), d.location.file.to_string()))
        .collect();
    assert_eq!(
        warnings,
        [
            (
                "unknown-key".to_string(),
                "apps/httpd-full/envs/prod/values.yaml".to_string()
            ),
            (
                "unexpected-file".to_string(),
                "apps/sample/demo/values.yaml".to_string()
            ),
            (
                "undeclared".to_string(),
                "apps/sample/envs/uat/values.yaml".to_string()
            ),
        ],
        "{}",
        repo.warnings()
    );
    assert_eq!(repo.deployments().count(), 4);
    let previews = [PreviewRequest {
        app: "tacos-api".into(),
        number: 1,
        head_sha: Some("4f2a9c1".into()),
        branch: None,
    }];
    let set = render(&repo, &previews).unwrap();
    let deployment = set
        .iter()
        .find(|m| {
            m.path
                .ends_with("prod/httpd-full/deployment-httpd-full-prod.yaml")
        })
        .map(|m| m.to_yaml().unwrap())
        .unwrap();
    assert!(
        deployment.contains("image: docker.io/httpd:2-alpine3.20@sha256:0a4ae00d"),
        "{deployment}"
    );
    validate_core(&set);
}

#[test]
fn the_qa_shaped_repo_loads_with_a_warning_per_registry_in_the_repository() {
    let repo = glueops_model::Repo::load(fixture("qa"))
        .map_err(|d| d.to_string())
        .unwrap();
    let warnings: Vec<String> = repo.warnings().iter().map(|d| d.message.clone()).collect();
    assert_eq!(warnings.len(), 2, "{}", repo.warnings());
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("starts with the registry `ghcr.io`")),
        "{}",
        repo.warnings()
    );
    let set = render(&repo, &[]).unwrap();
    validate_core(&set);
}

#[test]
fn the_template_shaped_repo_loads_with_its_warning_and_previews_use_the_head_commit() {
    let repo = glueops_model::Repo::load(fixture("template"))
        .map_err(|d| d.to_string())
        .unwrap();
    let warnings: Vec<String> = repo.warnings().iter().map(|d| d.path.clone()).collect();
    assert_eq!(warnings, ["image.pullPolicy"], "{}", repo.warnings());
    let previews = [PreviewRequest {
        app: "hello-app".into(),
        number: 12,
        head_sha: Some("9b8a7c6d5e4f".into()),
        branch: None,
    }];
    let set = render(&repo, &previews).unwrap();
    let stage = file(&set, "stage/hello-app/ingress-hello-app-stage-public.yaml");
    assert!(
        stage.contains("host: 4f2a9c1e-hello-app-stage.apps.nonprod.acme.onglueops.rocks"),
        "{stage}"
    );
    let preview = file(
        &set,
        "previews/hello-app-pr-12/ingress-hello-app-pr-12-public.yaml",
    );
    assert!(
        preview.contains("host: 9b8a7c6d-hello-app-pr-12.apps.nonprod.acme.onglueops.rocks"),
        "{preview}"
    );
    validate_core(&set);
}

#[test]
fn the_charts_documented_snippets_load_and_render() {
    let repo = glueops_model::Repo::load(fixture("docs"))
        .map_err(|d| d.to_string())
        .unwrap();
    assert!(repo.warnings().is_empty(), "{}", repo.warnings());
    let set = render(&repo, &[]).unwrap();
    let config = file(&set, "prod/snippets/configmap-snippets-prod-example.yaml");
    assert!(config.contains("myKey: from-the-values"), "{config}");
    let ingress = file(&set, "prod/snippets/ingress-snippets-prod-public.yaml");
    assert!(ingress.contains("- snippets-prod.example.com"), "{ingress}");
    assert!(
        ingress.contains("secretName: chart-example-tls"),
        "{ingress}"
    );
    validate_core(&set);
}

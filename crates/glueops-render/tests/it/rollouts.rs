//! Blue/green and canary through Argo Rollouts, on tests/fixtures/progressive (`shop`:
//! production blue/green; `cart`: canary, default steps in staging and its own in
//! production, autoscaled): the Rollout carries exactly the pod template the Deployment
//! would have, the analysis and preview Service are there, previews stay Deployments, and
//! every object passes the upstream CRDs, kubernetes-validate, checkov and the restricted
//! pod-security profile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use glueops_model::{Repo, SourceTree};
use glueops_render::{PreviewRequest, render};
use serde_json::{Value, json};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/progressive")
}

fn sources() -> SourceTree {
    let mut tree = SourceTree::new();
    let root = fixture();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                tree.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    tree
}

fn previews() -> Vec<PreviewRequest> {
    ["shop", "cart"]
        .iter()
        .zip([7, 8])
        .map(|(app, number)| PreviewRequest {
            app: (*app).into(),
            number,
            head_sha: Some("9c1e2f4".into()),
            branch: None,
        })
        .collect()
}

/// Path -> object (as JSON) of a render of `tree`.
fn render_tree(tree: &SourceTree) -> BTreeMap<String, Value> {
    let repo = Repo::from_sources(tree).map_err(|d| d.to_string()).unwrap();
    render(&repo, &previews())
        .unwrap()
        .iter()
        .map(|m| (m.path.clone(), serde_json::to_value(&m.object).unwrap()))
        .collect()
}

fn get<'a>(objects: &'a BTreeMap<String, Value>, path: &str) -> &'a Value {
    objects.get(path).unwrap_or_else(|| {
        panic!(
            "no {path}; rendered:\n{}",
            objects.keys().cloned().collect::<Vec<_>>().join("\n")
        )
    })
}

const SHOP: &str = "clusters/prod/production/shop";
const CART: &str = "clusters/prod/production/cart";

#[test]
fn blue_green_is_a_rollout_with_the_deployments_pod_template() {
    let tree = sources();
    let objects = render_tree(&tree);
    let rollout = get(&objects, &format!("{SHOP}/rollout-shop.yaml"));
    assert!(!objects.contains_key(&format!("{SHOP}/deployment-shop.yaml")));
    let bg = &rollout["spec"]["strategy"]["blueGreen"];
    assert_eq!(bg["activeService"], "shop");
    assert_eq!(bg["previewService"], "shop-preview");
    assert_eq!(bg["autoPromotionEnabled"], true);
    assert_eq!(
        bg["prePromotionAnalysis"],
        json!({"templates": [{"templateName": "shop-success-rate"}], "args": [{"name": "service", "value": "shop-preview"}]})
    );
    // The preview Service is the app's Service under another name.
    let mut service = get(&objects, &format!("{SHOP}/service-shop.yaml")).clone();
    let preview = get(&objects, &format!("{SHOP}/service-shop-preview.yaml"));
    service["metadata"]["name"] = "shop-preview".into();
    assert_eq!(&service, preview);
    // The analysis, with the values' threshold, interval and count.
    let metric = &get(
        &objects,
        &format!("{SHOP}/analysistemplate-shop-success-rate.yaml"),
    )["spec"]["metrics"][0];
    assert_eq!(metric["successCondition"], "result[0] >= 0.99");
    assert_eq!(
        (metric["interval"].as_str(), metric["count"].as_i64()),
        (Some("30s"), Some(10))
    );
    assert_eq!(metric["failureLimit"], 1);
    let query = metric["provider"]["prometheus"]["query"].as_str().unwrap();
    assert!(
        query.contains(r#"exported_namespace="production",exported_service="{{args.service}}""#),
        "{query}"
    );
    assert_eq!(
        metric["provider"]["prometheus"]["address"],
        glueops_render::rollouts::DEFAULT_PROMETHEUS
    );
    // Staging has no strategy: a Deployment, as before.
    assert!(objects.contains_key("clusters/nonprod/staging/shop/deployment-shop.yaml"));
    assert!(!objects.contains_key("clusters/nonprod/staging/shop/rollout-shop.yaml"));

    // Exactly the Deployment the same values render without the strategy: metadata,
    // selector, replicas and the hardened pod template.
    let mut plain = tree.clone();
    plain.insert(
        "apps/shop/envs/production/values.yaml",
        "image: {tag: 2.0.3}\ndeployment:\n  replicas: 3\n",
    );
    let plain = render_tree(&plain);
    let deployment = get(&plain, &format!("{SHOP}/deployment-shop.yaml"));
    for key in ["template", "selector", "replicas", "revisionHistoryLimit"] {
        assert_eq!(
            rollout["spec"][key], deployment["spec"][key],
            "spec.{key} differs"
        );
    }
    assert_eq!(rollout["metadata"], deployment["metadata"]);
}

#[test]
fn canary_steps_are_the_defaults_or_as_written() {
    let objects = render_tree(&sources());
    let staging = get(&objects, "clusters/nonprod/staging/cart/rollout-cart.yaml");
    let analysis = json!({"analysis": {"templates": [{"templateName": "cart-success-rate"}], "args": [{"name": "service", "value": "cart"}]}});
    assert_eq!(
        staging["spec"]["strategy"]["canary"]["steps"],
        json!([{"setWeight": 20}, {"pause": {"duration": "1m"}}, analysis, {"setWeight": 50}, {"pause": {"duration": "1m"}}, analysis])
    );
    let production = get(&objects, &format!("{CART}/rollout-cart.yaml"));
    assert_eq!(
        production["spec"]["strategy"]["canary"]["steps"],
        json!([{"setWeight": 10}, {"pause": {"duration": "5m"}}, analysis, {"setWeight": 50}, {"pause": {}}])
    );
    // The autoscaler owns the replicas and scales the Rollout.
    assert!(production["spec"].get("replicas").is_none());
    assert_eq!(
        get(
            &objects,
            &format!("{CART}/horizontalpodautoscaler-cart.yaml")
        )["spec"]["scaleTargetRef"],
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "cart"})
    );
    let prometheus = &get(
        &objects,
        &format!("{CART}/analysistemplate-cart-success-rate.yaml"),
    )["spec"]["metrics"][0]["provider"]["prometheus"];
    assert_eq!(
        prometheus["address"],
        "http://kps-prometheus.monitoring.svc:9090"
    );
    assert!(
        prometheus["query"]
            .as_str()
            .unwrap()
            .starts_with("sum(rate(http_requests_total{job=\"cart\"")
    );
    // No preview Service for a canary.
    assert!(
        !objects
            .keys()
            .any(|p| p.ends_with("service-cart-preview.yaml"))
    );
}

#[test]
fn previews_render_a_plain_deployment() {
    let objects = render_tree(&sources());
    let folder = "clusters/nonprod/previews/cart-pr-8";
    assert!(
        objects.contains_key(&format!("{folder}/deployment-cart.yaml")),
        "{:?}",
        objects
            .keys()
            .filter(|p| p.contains("pr-8"))
            .collect::<Vec<_>>()
    );
    assert!(!objects.keys().any(
        |p| p.starts_with(folder) && (p.contains("rollout") || p.contains("analysistemplate"))
    ));
    assert_eq!(
        get(
            &objects,
            &format!("{folder}/horizontalpodautoscaler-cart.yaml")
        )["spec"]["scaleTargetRef"]["kind"],
        "Deployment"
    );
}

#[test]
fn every_custom_object_satisfies_its_crd() {
    let schemas = crate::crds::schemas();
    let mut kinds = std::collections::BTreeSet::new();
    for (path, object) in render_tree(&sources()) {
        let kind = object["kind"].as_str().unwrap().to_string();
        let group = object["apiVersion"]
            .as_str()
            .unwrap()
            .rsplit_once('/')
            .map_or("", |(g, _)| g);
        let custom = group.contains('.') && !group.ends_with(".k8s.io");
        if custom {
            let problems = crate::crds::errors(&schemas, &object);
            assert!(
                problems.is_empty(),
                "{path} violates its CRD:\n{}",
                problems.join("\n")
            );
            kinds.insert(kind);
        }
    }
    for kind in ["Rollout", "AnalysisTemplate", "PrometheusRule"] {
        assert!(kinds.contains(kind), "no {kind} checked: {kinds:?}");
    }
    // The check is live: a misspelled strategy field fails it.
    let objects = render_tree(&sources());
    let mut typo = get(&objects, &format!("{SHOP}/rollout-shop.yaml")).clone();
    typo["spec"]["strategy"]["blueGreen"]["activeServise"] = "shop".into();
    assert!(!crate::crds::errors(&schemas, &typo).is_empty());
}

#[test]
fn the_rollouts_pods_pass_checkov_kubernetes_validate_and_the_restricted_profile() {
    let core_dir = tempfile::tempdir().unwrap();
    let pods_dir = crate::oracles::visible_tempdir();
    let mut core = Vec::new();
    let mut rollouts = 0;
    for (path, object) in render_tree(&sources()) {
        let group = object["apiVersion"]
            .as_str()
            .unwrap()
            .rsplit_once('/')
            .map_or("", |(g, _)| g);
        if object["kind"] == "Rollout" {
            // checkov has no policies for argoproj.io kinds: the Rollout's pod template is
            // checked as the Deployment it replaces (same metadata, selector and template).
            let as_deployment = json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": object["metadata"],
                "spec": {"selector": object["spec"]["selector"], "template": object["spec"]["template"]},
            });
            let file = pods_dir.path().join(path.replace('/', "_"));
            std::fs::write(file, glueops_yaml::to_string(&as_deployment).unwrap()).unwrap();
            let pod: k8s_openapi::api::core::v1::PodSpec =
                serde_json::from_value(object["spec"]["template"]["spec"].clone()).unwrap();
            crate::properties::restricted(&pod).unwrap_or_else(|e| panic!("{path}: {e}"));
            rollouts += 1;
        } else if !group.contains('.') || group.ends_with(".k8s.io") {
            let file = core_dir.path().join(path.replace('/', "_"));
            std::fs::write(&file, glueops_yaml::to_string(&object).unwrap()).unwrap();
            core.push(file);
            // checkov's NetworkPolicy check (CKV2_K8S_6) looks for the pods' policy beside them.
            if object["kind"] == "NetworkPolicy" {
                let beside = pods_dir.path().join(path.replace('/', "_"));
                std::fs::write(beside, glueops_yaml::to_string(&object).unwrap()).unwrap();
            }
        }
    }
    assert_eq!(
        rollouts, 3,
        "Rollouts: shop production, cart staging and production"
    );
    assert!(
        core.iter()
            .any(|f| f.to_string_lossy().ends_with("service-shop-preview.yaml"))
    );
    let (ok, text) = crate::oracles::kubernetes_validate(&core);
    assert!(ok, "kubernetes-validate --strict failed:\n{text}");
    assert_eq!(text.matches("passed").count(), core.len(), "{text}");
    let (passed, failed, ids) = crate::oracles::summary(&crate::oracles::checkov(pods_dir.path()));
    assert_eq!(
        failed,
        0,
        "checkov failed on a Rollout's pods:\n{}",
        ids.join("\n")
    );
    assert!(
        passed >= 3 * 20,
        "checkov ran only {passed} checks on the Rollouts' pods"
    );
}

#[test]
fn rollouts_and_analysis_as_reviewed() {
    let objects = render_tree(&sources());
    for path in [
        format!("{SHOP}/rollout-shop.yaml"),
        format!("{SHOP}/analysistemplate-shop-success-rate.yaml"),
        format!("{CART}/rollout-cart.yaml"),
    ] {
        let name = path
            .rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".yaml")
            .to_string();
        insta::assert_snapshot!(name, glueops_yaml::to_string(get(&objects, &path)).unwrap());
    }
}

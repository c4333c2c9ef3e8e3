//! The GlueOps app chart's own 15 example values files (tests/fixtures/glueops-app-chart),
//! each loaded unchanged as an app's `base-values.yaml`: every one renders (but the two
//! glueops refuses on purpose, with exactly those diagnostics), each renders what the chart's
//! templates render for it, and every object passes the oracles.

use std::path::Path;

use glueops_model::{Code, Diagnostics, Repo, SourceTree};
use glueops_render::render;
use serde_json::{Value, json};

pub(crate) const EXAMPLES: [&str; 15] = [
    "configmap",
    "cronjob",
    "customresources",
    "deployment",
    "disable-service-links",
    "externalsecret",
    "ingress",
    "job",
    "keda",
    "pdb",
    "pvc",
    "secrets",
    "service",
    "serviceaccount",
    "statefulset",
];

/// Loaded with exactly these diagnostics, on purpose.
pub(crate) const REFUSED: [&str; 2] = ["secrets", "service"];

pub(crate) const PLATFORM: &str = "apiVersion: glueops.dev/v1alpha1
kind: Platform
metadata: {name: acme}
spec:
  delivery: argocd
  manifestRepo: {url: \"https://github.com/acme/manifests.git\"}
  clusters: [{name: nonprod, server: \"https://nonprod.k8s.acme.example:6443\", captainDomain: nonprod.acme.example}]
  environments: [{name: stage, cluster: nonprod, namespace: nonprod}]
";

fn fixture(name: &str) -> Vec<u8> {
    let file = match name {
        "values" => "values.yaml".to_string(),
        _ => format!("{name}.values.yaml"),
    };
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/glueops-app-chart")
            .join(file),
    )
    .unwrap()
}

/// A repo with one app, `<name>`, whose base values are the example, deployed to `stage`.
pub(crate) fn load(name: &str) -> Result<Repo, Diagnostics> {
    let mut tree = SourceTree::new();
    tree.insert("glueops.yaml", PLATFORM);
    tree.insert(format!("apps/{name}/base/base-values.yaml"), fixture(name));
    tree.insert(format!("apps/{name}/envs/stage/values.yaml"), "");
    Repo::from_sources(&tree)
}

/// Every rendered object of the example's app, as JSON.
fn objects(name: &str) -> Vec<Value> {
    let repo = load(name).map_err(|d| d.to_string()).unwrap();
    let set = render(&repo, &[]).unwrap();
    set.iter()
        .filter(|m| m.path.contains(&format!("/stage/{name}/")))
        .map(|m| serde_json::to_value(&m.object).unwrap())
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| {
            let have: Vec<String> = objects
                .iter()
                .map(|o| format!("{} {}", o["kind"], o["metadata"]["name"]))
                .collect();
            panic!("no {kind} {name}; rendered: {have:?}")
        })
}

/// The kinds rendered, sorted.
fn kinds(objects: &[Value]) -> Vec<String> {
    let mut kinds: Vec<String> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap().to_string())
        .collect();
    kinds.sort();
    kinds
}

fn container(pod_spec: &Value) -> &Value {
    &pod_spec["containers"][0]
}

fn env<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no env {name} in {}", c["env"]))
}

#[test]
fn every_example_renders_but_the_two_refused_on_purpose() {
    for name in EXAMPLES {
        match load(name) {
            Ok(repo) => {
                assert!(!REFUSED.contains(&name), "{name} should have been refused");
                render(&repo, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            Err(d) => assert!(REFUSED.contains(&name), "{name} does not load:\n{d}"),
        }
    }
}

#[test]
fn the_charts_own_values_yaml_loads_as_a_values_file() {
    // Every key with its default; the tag pins a digest (`1.29.5@sha256:...`).
    let repo = load("values").map_err(|d| d.to_string()).unwrap();
    let d = repo.deployment("values", "stage").unwrap();
    let image = d.values.image.as_ref().unwrap();
    assert_eq!(image.repository.as_deref(), Some("nginx"));
    assert_eq!(d.values.app_version.as_deref(), Some("0.0.1"));
    assert!(
        d.values.workloads().is_empty(),
        "everything is off by default"
    );
}

#[test]
fn the_service_example_keeps_its_typo_as_a_located_error() {
    let diagnostics = load("service").unwrap_err();
    let all: Vec<_> = diagnostics.iter().collect();
    assert_eq!(all.len(), 1, "{diagnostics}");
    let d = all[0];
    assert_eq!(d.code, Code::UnknownKey);
    assert_eq!(d.path, "service.ports[0].portocol");
    assert_eq!(
        d.location.to_string(),
        "apps/service/base/base-values.yaml:35:7"
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `protocol`?"));
}

#[test]
fn the_secrets_example_is_refused_with_where_the_values_go() {
    let diagnostics = load("secrets").unwrap_err();
    let all: Vec<_> = diagnostics.iter().collect();
    assert_eq!(all.len(), 1, "{diagnostics}");
    let d = all[0];
    assert_eq!(d.code, Code::PlaintextSecret);
    assert_eq!(
        d.location.to_string(),
        "apps/secrets/base/base-values.yaml:1:1"
    );
    let help = d.help.as_deref().unwrap();
    assert!(
        help.contains("glueops secrets put secrets/credentials"),
        "{help}"
    );
    assert!(help.contains("externalSecret"), "{help}");
}

#[test]
fn cronjob_schedule_job_spec_and_pod() {
    let objects = objects("cronjob");
    let cron = find(&objects, "CronJob", "cronjob-stage-cronjob");
    let spec = &cron["spec"];
    assert_eq!(spec["schedule"], "* * * 8 *");
    assert_eq!(spec["timeZone"], "UTC");
    assert_eq!(spec["concurrencyPolicy"], "Replace");
    assert_eq!(spec["startingDeadlineSeconds"], 60);
    assert_eq!(spec["suspend"], false);
    let job = &spec["jobTemplate"]["spec"];
    assert_eq!(job["backoffLimit"], 3);
    assert_eq!(job["ttlSecondsAfterFinished"], 3600);
    assert_eq!(job["activeDeadlineSeconds"], 1800);
    let pod = &job["template"];
    assert_eq!(pod["metadata"]["labels"]["resource-type"], "cronjob");
    assert_eq!(
        pod["metadata"]["labels"]["cronjob"],
        "cronjob-stage-cronjob"
    );
    assert_eq!(pod["spec"]["restartPolicy"], "OnFailure");
    assert_eq!(pod["spec"]["serviceAccountName"], "cronjob-stage");
    let c = container(&pod["spec"]);
    assert_eq!(c["image"], "docker.io/nginx:v1.2.3");
    assert_eq!(c["command"], json!(["/bin/bash"]));
    assert_eq!(c["args"], json!(["-c", "sleep 5000"]));
    assert_eq!(env(c, "foo")["value"], "bar");
    assert_eq!(
        env(c, "foo1")["valueFrom"]["configMapKeyRef"]["key"],
        "configMapKey"
    );
    assert_eq!(
        env(c, "foo2")["valueFrom"]["secretKeyRef"]["name"],
        "secret-name"
    );
    assert_eq!(c["resources"]["limits"]["memory"], "200Mi");
    let node = &pod["spec"]["affinity"]["nodeAffinity"];
    let term = &node["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0];
    assert_eq!(
        term["matchExpressions"][0]["key"],
        "k8s-node-role/job-worker"
    );
    assert_eq!(
        pod["spec"]["tolerations"][0]["key"],
        "k8s-node-role/job-worker"
    );
    find(&objects, "ServiceAccount", "cronjob-stage");
}

#[test]
fn job_spec_and_pod() {
    let objects = objects("job");
    let job = find(&objects, "Job", "job-stage-db-migration");
    let spec = &job["spec"];
    assert_eq!(spec["backoffLimit"], 2);
    assert_eq!(spec["ttlSecondsAfterFinished"], 300);
    assert_eq!(spec["activeDeadlineSeconds"], 600);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["tolerations"].as_array().unwrap().len(), 2);
    let c = container(pod);
    assert_eq!(c["image"], glueops_model::values::CHART_DEFAULT_IMAGE);
    assert_eq!(env(c, "foo")["value"], "bar");
    // The chart's objects plus glueops' NetworkPolicy and default alerts.
    assert_eq!(
        kinds(&objects),
        ["Job", "NetworkPolicy", "PrometheusRule", "ServiceAccount"]
    );
}

#[test]
fn statefulset_claim_templates_and_headless_service() {
    let objects = objects("statefulset");
    assert!(!kinds(&objects).contains(&"Deployment".to_string()));
    let sts = find(&objects, "StatefulSet", "statefulset-stage");
    let spec = &sts["spec"];
    assert_eq!(spec["replicas"], 2);
    assert_eq!(spec["serviceName"], "statefulset-stage");
    assert_eq!(spec["updateStrategy"]["type"], "RollingUpdate");
    let claim = &spec["volumeClaimTemplates"][0];
    assert_eq!(claim["metadata"]["name"], "www");
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(claim["spec"]["storageClassName"], "my-storage-class");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
    let pod = &spec["template"]["spec"];
    let c = container(pod);
    let mounts = c["volumeMounts"].as_array().unwrap();
    assert!(mounts.contains(&json!({"name": "www", "mountPath": "/usr/share/nginx/html"})));
    assert!(mounts.contains(&json!({"name": "foo", "mountPath": "/etc/foo", "readOnly": true})));
    assert_eq!(pod["serviceAccountName"], "test-example-sa");
    assert_eq!(pod["securityContext"]["fsGroup"], 2000);
    assert_eq!(c["securityContext"]["runAsUser"], 1000);
    assert_eq!(pod["initContainers"][0]["name"], "init-mydb");
    assert_eq!(pod["containers"][1]["name"], "sidecar-contaner");
    let service = find(&objects, "Service", "statefulset-stage");
    assert_eq!(service["spec"]["clusterIP"], "None");
    find(&objects, "ServiceAccount", "test-example-sa");
    find(&objects, "PodDisruptionBudget", "statefulset-stage");
}

#[test]
fn ingress_rules_class_backends_and_tls() {
    let objects = objects("ingress");
    let ingress = find(&objects, "Ingress", "ingress-stage-external");
    assert_eq!(
        ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"],
        "nginx-ingress"
    );
    assert_eq!(
        ingress["metadata"]["annotations"]["ingress.kubernetes.io/force-ssl-redirect"],
        "true"
    );
    let spec = &ingress["spec"];
    assert_eq!(
        spec["ingressClassName"],
        glueops_render::DEFAULT_INGRESS_CLASS
    );
    let rule = &spec["rules"][0];
    assert_eq!(rule["host"], "service1.example.com");
    let paths = &rule["http"]["paths"];
    assert_eq!(paths[0]["path"], "/*");
    assert_eq!(paths[0]["pathType"], "ImplementationSpecific");
    assert_eq!(
        paths[0]["backend"]["service"],
        json!({"name": "ssl-redirect", "port": {"name": "use-annotation"}})
    );
    assert_eq!(paths[1]["path"], "/metrics");
    assert_eq!(
        paths[1]["backend"]["service"],
        json!({"name": "ingress-stage", "port": {"number": 8080}})
    );
    assert_eq!(
        spec["tls"][0]["hosts"],
        json!(["chart-example.local", "app.example.com"])
    );
    assert_eq!(spec["tls"][0]["secretName"], "chart-example-tls");
    // The chart renders the Service for an enabled ingress.
    let service = find(&objects, "Service", "ingress-stage");
    assert_eq!(
        service["spec"]["ports"][0],
        json!({"name": "http", "port": 8080, "protocol": "TCP", "targetPort": 8080})
    );
    let deployment = find(&objects, "Deployment", "ingress-stage");
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        "25%"
    );
}

#[test]
fn keda_scaled_object_triggers_and_authentication() {
    let objects = objects("keda");
    let so = find(&objects, "ScaledObject", "keda-stage");
    assert_eq!(so["spec"]["scaleTargetRef"], json!({"name": "keda-stage"}));
    let triggers = so["spec"]["triggers"].as_array().unwrap();
    assert_eq!(triggers.len(), 3);
    assert_eq!(
        triggers[0],
        json!({"type": "cpu", "metadata": {"type": "Utilization", "value": "90"}})
    );
    assert_eq!(triggers[1]["metadata"]["value"], "80");
    assert_eq!(triggers[2]["type"], "cron");
    assert_eq!(triggers[2]["metadata"]["timezone"], "Asia/Singapore");
    assert_eq!(triggers[2]["metadata"]["desiredReplicas"], "6");
    let auth = find(&objects, "TriggerAuthentication", "keda-stage-kafka");
    assert_eq!(
        auth["spec"]["secretTargetRef"][0],
        json!({"parameter": "connectionString", "name": "my-kubernetes-keda-secret", "key": "my-kubernetes-keda-secret-key-connectionstring"})
    );
    let deployment = find(&objects, "Deployment", "keda-stage");
    assert!(
        deployment["spec"]["replicas"].is_null(),
        "KEDA owns the replicas"
    );
    let c = container(&deployment["spec"]["template"]["spec"]);
    assert_eq!(c["image"], "nginx:1.14.0");
    assert_eq!(c["ports"][0]["containerPort"], 80);
}

#[test]
fn pdb_max_unavailable() {
    let objects = objects("pdb");
    let pdb = find(&objects, "PodDisruptionBudget", "pdb-stage");
    assert_eq!(pdb["spec"]["maxUnavailable"], "50%");
    assert!(pdb["spec"]["minAvailable"].is_null());
    // With only `enabled`, the chart's default `minAvailable: 1`.
    let pdb = &objects_of("deployment", "PodDisruptionBudget")[0];
    assert_eq!(pdb["spec"]["minAvailable"], 1);
}

fn objects_of(name: &str, kind: &str) -> Vec<Value> {
    objects(name)
        .into_iter()
        .filter(|o| o["kind"] == kind)
        .collect()
}

#[test]
fn pvc_claim_and_its_mount() {
    let objects = objects("pvc");
    let pvc = find(&objects, "PersistentVolumeClaim", "example-pvc");
    assert_eq!(pvc["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "8Gi");
    assert!(
        pvc["spec"]["storageClassName"].is_null(),
        "an empty storageClass is left out"
    );
    assert_eq!(pvc["metadata"]["labels"]["key"], "value");
    assert_eq!(
        pvc["metadata"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );
    let pod = &find(&objects, "Deployment", "pvc-stage")["spec"]["template"]["spec"];
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(volumes.contains(
        &json!({"name": "pvc-stage-pvc", "persistentVolumeClaim": {"claimName": "example-pvc"}})
    ));
    assert!(volumes.contains(
        &json!({"name": "foo", "configMap": {"name": "pvc-stage-configmap-nameSuffix"}})
    ));
    let mounts = container(pod)["volumeMounts"].as_array().unwrap().clone();
    assert!(mounts.contains(&json!({"name": "pvc-stage-pvc", "mountPath": "/mnt/test"})));
    assert!(mounts.contains(&json!({"name": "bar", "mountPath": "/etc/foo", "readOnly": true})));
}

#[test]
fn deployment_pod_template() {
    let objects = objects("deployment");
    let d = find(&objects, "Deployment", "deployment-stage");
    let spec = &d["spec"];
    assert_eq!(spec["replicas"], 2);
    assert_eq!(
        spec["strategy"]["rollingUpdate"],
        json!({"maxSurge": "50%", "maxUnavailable": 1})
    );
    let meta = &spec["template"]["metadata"];
    assert_eq!(meta["labels"]["deploy.labels.example.com/name"], "deploy");
    assert_eq!(
        meta["annotations"]["deploy.annotations.example.com/name"],
        "deploy"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "test-example-sa");
    assert_eq!(pod["dnsPolicy"], "ClusterFirstWithHostNet");
    assert_eq!(
        pod["dnsConfig"]["options"][0]["name"],
        "single-request-reopen"
    );
    assert_eq!(
        pod["topologySpreadConstraints"][0]["labelSelector"]["matchExpressions"][0]["key"],
        "disktype"
    );
    let c = container(pod);
    assert_eq!(c["image"], glueops_model::values::CHART_DEFAULT_IMAGE);
    let ports: Vec<(&str, i64)> = c["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["containerPort"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ports, [("http", 8080), ("metrics", 9000), ("grpc", 5000)]);
    assert_eq!(env(c, "ENV_APP_NAME")["value"], "deployment-stage");
    assert_eq!(env(c, "FOO")["value"], "bar");
    assert_eq!(
        env(c, "MYSQL_PASSWORD")["valueFrom"]["secretKeyRef"],
        json!({"name": "databases-secrets", "key": "mysql-password"})
    );
    assert_eq!(
        env(c, "MYSQL_HOST")["valueFrom"]["configMapKeyRef"],
        json!({"name": "mysql-config", "key": "host"})
    );
    assert_eq!(env(c, "envMapKey")["value"], "envMapValue");
    assert_eq!(c["startupProbe"]["tcpSocket"]["port"], 8080);
    assert_eq!(
        c["readinessProbe"]["exec"]["command"],
        json!(["cat", "/tmp/healthy"])
    );
    assert!(c["lifecycle"]["preStop"]["exec"]["command"].is_array());
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(volumes.contains(
        &json!({"name": "foo", "configMap": {"name": "deployment-stage-configmap-nameSuffix"}})
    ));
    let sidecar = &pod["containers"][1];
    assert_eq!(
        sidecar["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert_eq!(
        sidecar["securityContext"]["capabilities"]["drop"],
        json!(["ALL"])
    );
    find(&objects, "ServiceAccount", "test-example-sa");
    find(&objects, "Service", "deployment-stage");
}

#[test]
fn disable_service_links_names_version_and_port() {
    let objects = objects("disable-service-links");
    assert_eq!(
        kinds(&objects),
        [
            "Deployment",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "PrometheusRule",
            "Service",
            "ServiceAccount"
        ]
    );
    let d = find(&objects, "Deployment", "my-secure-app");
    assert_eq!(
        d["metadata"]["labels"]["app.kubernetes.io/name"],
        "my-secure-app"
    );
    assert_eq!(
        d["metadata"]["labels"]["app.kubernetes.io/version"],
        "1.0.0"
    );
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["enableServiceLinks"], false);
    let c = container(pod);
    assert_eq!(c["image"], "docker.io/nginx:1.28.0");
    assert_eq!(env(c, "ENV_APP_ENV")["value"], "prod");
    assert_eq!(env(c, "ENV_APP_VERSION")["value"], "1.0.0");
    let service = find(&objects, "Service", "my-secure-app");
    assert_eq!(service["spec"]["ports"][0]["port"], 80);
    assert_eq!(service["spec"]["ports"][0]["targetPort"], 8080);
}

#[test]
fn configmap_data_text_becomes_keys() {
    let objects = objects("configmap");
    let one = find(&objects, "ConfigMap", "configmap-stage-configmap1");
    assert_eq!(one["data"]["API_PORT"], "8080");
    assert_eq!(one["data"]["LOG_LEVEL"], "info");
    assert_eq!(one["data"][".env"], "FOO=BAR\nAPP=test\n");
    assert_eq!(one["data"]["example.json"], "{\n  \"test\": \"123\"\n}\n");
    assert_eq!(one["metadata"]["labels"]["key"], "value");
    assert_eq!(one["metadata"]["annotations"]["key"], "value");
    let two = find(&objects, "ConfigMap", "configmap-stage-configmap2");
    assert_eq!(two["data"]["example.yaml"], "\"test\": \"123\"\n");
}

#[test]
fn externalsecret_store_refresh_and_decoding() {
    let objects = objects("externalsecret");
    let mongo = find(&objects, "ExternalSecret", "externalsecret-stage-mongodb");
    let spec = &mongo["spec"];
    assert_eq!(spec["refreshInterval"], "15s");
    assert_eq!(
        spec["secretStoreRef"],
        json!({"name": "secret-store-name-2", "kind": "ClusterSecretStore"})
    );
    assert_eq!(
        spec["data"][0],
        json!({"secretKey": "mongo-password", "remoteRef": {"key": "mongodb", "property": "password", "version": "AWSCURRENT", "decodingStrategy": "None"}})
    );
    assert_eq!(
        spec["target"]["template"]["metadata"]["labels"]["labels.example.com/name"],
        "secret"
    );
    let postgres = find(&objects, "ExternalSecret", "externalsecret-stage-postgres");
    assert_eq!(postgres["spec"]["refreshInterval"], "10s");
    assert_eq!(
        postgres["spec"]["secretStoreRef"],
        json!({"name": "vault-backend", "kind": "SecretStore"})
    );
    assert_eq!(
        postgres["spec"]["dataFrom"][0]["extract"]["key"],
        "postgres"
    );
    let reg = find(&objects, "ExternalSecret", "externalsecret-stage-reg-cred");
    assert_eq!(
        reg["spec"]["target"]["template"]["type"],
        "kubernetes.io/dockerconfigjson"
    );
}

#[test]
fn serviceaccount_name_labels_and_annotations() {
    let objects = objects("serviceaccount");
    let sa = find(&objects, "ServiceAccount", "new-service-account");
    assert_eq!(sa["metadata"]["labels"]["key"], "value");
    assert_eq!(
        sa["metadata"]["annotations"]["serviceaccount.annotations.example.com/foo"],
        "bar"
    );
    let d = find(&objects, "Deployment", "serviceaccount-stage");
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["spec"]["template"]["spec"]["serviceAccountName"],
        "new-service-account"
    );
}

#[test]
fn customresources_render_their_templates() {
    let objects = objects("customresources");
    assert_eq!(
        find(&objects, "ConfigMap", "example-resource")["data"]["example"],
        "config-value"
    );
    assert_eq!(
        find(&objects, "ConfigMap", "templated-resource")["data"]["name"],
        "custom-resource-example"
    );
    assert_eq!(
        find(&objects, "ConfigMap", "other-resource")["data"]["domain"],
        "foo.example.com"
    );
    let optional = find(&objects, "ConfigMap", "optional-example");
    assert_eq!(optional["data"]["type"], "pizza");
    assert_eq!(
        optional["data"]["config"],
        "size: large\ntoppings:\n  - cheese\n  - olives\n"
    );
    for (fruit, color) in [("apple", "red"), ("orange", "orange"), ("pear", "green")] {
        assert_eq!(
            find(&objects, "ConfigMap", &format!("example-{fruit}"))["data"]["color"],
            color
        );
    }
    assert!(!kinds(&objects).contains(&"Deployment".to_string()));
}

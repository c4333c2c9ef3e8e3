//! Property test over `deployment.strategy`: values drawn from the strategy vocabulary, good
//! and bad (weights out of range, steps with two actions, bad durations, thresholds, PromQL
//! and URLs). Whatever does not load is refused with located diagnostics that say what to
//! do; whatever loads renders deterministically, and every object it renders satisfies its
//! upstream CRD (the Rollout, the AnalysisTemplate, the autoscaler's target) with a pod
//! template that passes the restricted profile; a preview is always a plain Deployment.

use glueops_model::{Repo, SourceTree};
use glueops_render::{Object, PreviewRequest, render};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const PLATFORM: &str = "apiVersion: glueops.dev/v1alpha1
kind: Platform
metadata: {name: acme}
spec:
  delivery: argocd
  manifestRepo: {url: \"https://github.com/acme/manifests.git\"}
  clusters: [{name: prod, server: \"https://prod.example:6443\", captainDomain: prod.example}]
  environments: [{name: production, cluster: prod}]
  previews: {enabled: true, cluster: prod}
";

fn step() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..=120).prop_map(|w| format!("{{setWeight: {w}}}")),
        Just("{pause: {}}".to_string()),
        prop::sample::select(vec!["30s", "5m", "1h", "soon", "1.5h"])
            .prop_map(|d| format!("{{pause: {{duration: {d}}}}}")),
        Just("{analysis: {}}".to_string()),
        Just("{setWeight: 30, pause: {}}".to_string()),
    ]
}

fn analysis() -> impl Strategy<Value = Option<String>> {
    let field = |key: &'static str, values: Vec<&'static str>| {
        prop::option::of(prop::sample::select(values))
            .prop_map(move |v| v.map(|v| format!("{key}: {v}")))
    };
    prop::option::of(
        (
            field("enabled", vec!["true", "false"]),
            field("threshold", vec!["0", "0.5", "0.99", "1", "1.5", "-0.1"]),
            field("interval", vec!["30s", "1m", "often"]),
            field("count", vec!["0", "1", "5"]),
            field("failureLimit", vec!["0", "3"]),
            field(
                "query",
                vec![
                    "'sum(rate(up[5m]))'",
                    "'sum(rate(up[5m])'",
                    "'up == 1 or vector(1)'",
                ],
            ),
            field(
                "prometheus",
                vec!["http://prometheus.monitoring.svc:9090", "prometheus:9090"],
            ),
        )
            .prop_map(|(a, b, c, d, e, f, g)| {
                let fields: Vec<String> = [a, b, c, d, e, f, g].into_iter().flatten().collect();
                format!("{{{}}}", fields.join(", "))
            }),
    )
}

fn strategy() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "rollingUpdate",
            "blueGreen",
            "canary",
            "RollingUpdate",
            "Recreate",
        ]),
        prop::option::of(prop::collection::vec(step(), 0..5)),
        analysis(),
    )
        .prop_map(|(kind, steps, analysis)| {
            if kind.starts_with(char::is_uppercase) {
                return kind.to_string();
            }
            let mut fields = vec![format!("type: {kind}")];
            if let Some(steps) = steps {
                fields.push(format!("steps: [{}]", steps.join(", ")));
            }
            if let Some(a) = analysis {
                fields.push(format!("analysis: {a}"));
            }
            format!("{{{}}}", fields.join(", "))
        })
}

fn repo(strategy: &str, replicas: u32, service: bool, hpa: bool) -> SourceTree {
    let mut tree = SourceTree::new();
    tree.insert("glueops.yaml", PLATFORM);
    tree.insert(
        "apps/app/base/base-values.yaml",
        format!(
            "image: {{repository: acme/app, tag: \"1.0\"}}\ndeployment:\n  enabled: true\n  replicas: {replicas}\n  strategy: {strategy}\n  resources: {{requests: {{cpu: 50m, memory: 64Mi}}, limits: {{cpu: 250m, memory: 128Mi}}}}\nservice: {{enabled: {service}}}\nautoscaling: {{enabled: {hpa}, minReplicas: 1, maxReplicas: 4}}\n"
        ),
    );
    tree.insert("apps/app/envs/production/values.yaml", "");
    tree.insert("apps/app/envs/previews/common/values.yaml", "");
    tree
}

static LOADED: AtomicUsize = AtomicUsize::new(0);
static ROLLOUTS: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

#[test]
fn strategy_values_that_load_render_valid_objects() {
    let mut runner = TestRunner::new(Config {
        cases: 128,
        ..Config::default()
    });
    let inputs = (strategy(), 1u32..5, any::<bool>(), any::<bool>());
    runner
        .run(&inputs, |(strategy, replicas, service, hpa)| {
            one_case(&strategy, replicas, service, hpa)
        })
        .unwrap();
    // Not vacuous: both sides of the property were exercised.
    let (loaded, rollouts, refused) = (
        LOADED.load(Relaxed),
        ROLLOUTS.load(Relaxed),
        REFUSED.load(Relaxed),
    );
    assert!(
        loaded >= 20 && rollouts >= 10 && refused >= 20,
        "loaded {loaded}, with a Rollout {rollouts}, refused {refused}"
    );
}

fn one_case(strategy: &str, replicas: u32, service: bool, hpa: bool) -> Result<(), TestCaseError> {
    {
        let tree = repo(strategy, replicas, service, hpa);
        let repo = match Repo::from_sources(&tree) {
            Ok(repo) => repo,
            Err(diagnostics) => {
                for d in diagnostics.iter() {
                    prop_assert!(d.help.is_some(), "no help: {}", d);
                    prop_assert_eq!(&*d.location.file, "apps/app/base/base-values.yaml", "{}", d);
                    prop_assert!(d.location.line > 0, "not located: {}", d);
                }
                REFUSED.fetch_add(1, Relaxed);
                return Ok(());
            }
        };
        let previews = [PreviewRequest {
            app: "app".into(),
            number: 5,
            head_sha: Some("abc1234".into()),
            branch: None,
        }];
        let set = render(&repo, &previews).unwrap();
        let again = render(&Repo::from_sources(&tree).unwrap(), &previews).unwrap();
        prop_assert_eq!(set.files().unwrap(), again.files().unwrap());
        let schemas = crate::crds::schemas_cached();
        let progressive = strategy.contains("blueGreen") || strategy.contains("canary");
        let mut rollouts = 0;
        for m in set.iter() {
            let preview = m.path.contains("/previews/");
            if m.object.is_custom() {
                let object = serde_json::to_value(&m.object).unwrap();
                let problems = crate::crds::errors(schemas, &object);
                prop_assert!(
                    problems.is_empty(),
                    "{} violates its CRD:\n{}\n{}",
                    m.path,
                    problems.join("\n"),
                    strategy
                );
            }
            match &m.object {
                Object::Rollout(r) => {
                    prop_assert!(!preview, "a preview got a Rollout");
                    let pod = r.spec.template.spec.clone().unwrap();
                    prop_assert!(crate::properties::restricted(&pod).is_ok(), "{}", m.path);
                    rollouts += 1;
                }
                Object::Deployment(_) => prop_assert!(
                    preview || !progressive,
                    "{} is a Deployment under {}",
                    m.path,
                    strategy
                ),
                Object::HorizontalPodAutoscaler(h) => {
                    let kind = &h.spec.as_ref().unwrap().scale_target_ref.kind;
                    prop_assert_eq!(
                        kind.as_str(),
                        if progressive && !preview {
                            "Rollout"
                        } else {
                            "Deployment"
                        }
                    );
                }
                _ => {}
            }
        }
        prop_assert_eq!(rollouts, usize::from(progressive));
        LOADED.fetch_add(1, Relaxed);
        ROLLOUTS.fetch_add(rollouts, Relaxed);
        Ok(())
    }
}

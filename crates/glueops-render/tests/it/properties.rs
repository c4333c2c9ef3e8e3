//! Property tests over generated config repos: rendering is deterministic (and the parallel
//! stream equals the files joined), every object name is
//! a valid DNS-1123 name within its length limit, no two objects collide on
//! (apiVersion, kind, namespace, name), and every pod template passes the restricted
//! pod-security rules.

use std::collections::{BTreeMap, BTreeSet};

use glueops_model::names::{is_dns_label, is_dns_subdomain};
use glueops_model::values::{
    AppValues, Autoscaling, ConfigEntry, ConfigMaps, CronJobEntry, CronJobs, DeploymentSpec,
    ExternalSecret, Image, Ingress, IngressEntry, IngressHost, RemoteRef, SecretKeySource,
    SecretSource, Service,
};
use glueops_model::{Repo, SourceTree};
use glueops_render::{Object, PreviewRequest, render};
use glueops_yaml::to_string as to_yaml;
use k8s_openapi::api::core::v1::PodSpec;
use proptest::prelude::*;

const PLATFORM: &str = include_str!("../../../glueops-model/tests/data/base.txt");

#[derive(Debug, Clone)]
struct App {
    name: String,
    values: AppValues,
    envs: Vec<&'static str>,
    previews: bool,
}

fn arb_app() -> impl Strategy<Value = App> {
    (
        "[a-z][a-z0-9]{0,11}(-[a-z0-9]{1,6})?",
        (
            any::<bool>(),
            1u16..65535,
            0u32..20,
            any::<bool>(),
            any::<bool>(),
        ),
        (
            prop::collection::btree_map("[a-z][a-z0-9-]{0,8}[a-z0-9]", "[ -z|~]{0,12}", 0..3),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            prop::sample::subsequence(vec!["staging", "production"], 1..=2),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                name,
                (deploy, port, replicas, service, ingress),
                (config, secret, cron),
                (envs, previews, hpa),
            )| {
                let values = AppValues {
                    image: Some(Image {
                        repository: Some(format!("acme/{name}")),
                        tag: Some("1.0.0".into()),
                        port: Some(port),
                        ..Image::default()
                    }),
                    deployment: Some(Box::new(DeploymentSpec {
                        enabled: Some(deploy),
                        replicas: Some(replicas),
                        ..DeploymentSpec::default()
                    })),
                    service: Some(Service {
                        enabled: Some(service),
                        ..Service::default()
                    }),
                    ingress: Some(Ingress {
                        enabled: Some(ingress),
                        entries: Some(vec![IngressEntry {
                            name: Some("public".into()),
                            hosts: Some(vec![IngressHost {
                                hostname: Some(format!("{name}.{{{{ .Values.captain_domain }}}}")),
                                paths: None,
                            }]),
                            ..IngressEntry::default()
                        }]),
                        ..Ingress::default()
                    }),
                    config_map: (!config.is_empty()).then(|| ConfigMaps {
                        enabled: Some(true),
                        configs: Some(BTreeMap::from([(
                            "settings".to_string(),
                            Some(ConfigEntry {
                                data_map: Some(config),
                                data: None,
                            }),
                        )])),
                        ..ConfigMaps::default()
                    }),
                    external_secret: secret.then(|| ExternalSecret {
                        enabled: Some(true),
                        secrets: Some(BTreeMap::from([(
                            "db".to_string(),
                            SecretSource {
                                data: Some(BTreeMap::from([(
                                    "url".to_string(),
                                    SecretKeySource {
                                        env_name: Some("DATABASE_URL".into()),
                                        remote_ref: Some(RemoteRef {
                                            key: Some("k/db".into()),
                                            ..RemoteRef::default()
                                        }),
                                    },
                                )])),
                                ..SecretSource::default()
                            },
                        )])),
                        ..ExternalSecret::default()
                    }),
                    cron_job: cron.then(|| {
                        Box::new(CronJobs {
                            enabled: Some(true),
                            jobs: Some(BTreeMap::from([(
                                "nightly".to_string(),
                                Some(CronJobEntry {
                                    schedule: Some("0 3 * * *".into()),
                                    ..CronJobEntry::default()
                                }),
                            )])),
                            ..CronJobs::default()
                        })
                    }),
                    autoscaling: hpa.then(|| Autoscaling {
                        enabled: Some(true),
                        min_replicas: Some(2),
                        max_replicas: Some(5),
                        ..Autoscaling::default()
                    }),
                    ..AppValues::default()
                };
                App {
                    name,
                    values,
                    envs,
                    previews,
                }
            },
        )
}

fn arb_repo() -> impl Strategy<Value = Vec<App>> {
    prop::collection::vec(arb_app(), 1..16).prop_map(|apps| {
        let mut seen = BTreeSet::new();
        apps.into_iter()
            .filter(|a| seen.insert(a.name.clone()))
            .collect()
    })
}

fn sources(apps: &[App]) -> SourceTree {
    let platform = PLATFORM
        .split("-- glueops.yaml --\n")
        .nth(1)
        .unwrap()
        .split("\n-- ")
        .next()
        .unwrap();
    let mut tree = SourceTree::new();
    tree.insert("glueops.yaml", platform);
    for app in apps {
        tree.insert(
            format!("apps/{}/base/base-values.yaml", app.name),
            to_yaml(&app.values).unwrap(),
        );
        for env in &app.envs {
            tree.insert(format!("apps/{}/envs/{env}/values.yaml", app.name), "{}\n");
        }
        if app.previews {
            // A preview reads its own key, never the environments' (glueops refuses that).
            let own_key = if app.values.external_secret.is_some() {
                "externalSecret:\n  secrets: {db: {data: {url: {remoteRef: {key: k/db-preview}}}}}\n"
            } else {
                ""
            };
            tree.insert(
                format!("apps/{}/envs/previews/common/values.yaml", app.name),
                format!("deployment: {{replicas: 1}}\n{own_key}"),
            );
        }
    }
    tree
}

fn previews(apps: &[App]) -> Vec<PreviewRequest> {
    apps.iter()
        .filter(|a| a.previews)
        .map(|a| PreviewRequest {
            app: a.name.clone(),
            number: 7,
            head_sha: Some("abc1234".into()),
            branch: None,
        })
        .collect()
}

/// The restricted pod-security profile, as the Kubernetes docs define it.
pub(crate) fn restricted(pod: &PodSpec) -> Result<(), String> {
    let psc = pod.security_context.clone().unwrap_or_default();
    if pod.host_network == Some(true) || pod.host_pid == Some(true) || pod.host_ipc == Some(true) {
        return Err("host namespaces".into());
    }
    for v in pod.volumes.iter().flatten() {
        let allowed = v.empty_dir.is_some()
            || v.config_map.is_some()
            || v.secret.is_some()
            || v.projected.is_some()
            || v.downward_api.is_some()
            || v.persistent_volume_claim.is_some();
        if !allowed {
            return Err(format!("volume {} of a restricted type", v.name));
        }
    }
    for c in pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
    {
        let sc = c.security_context.clone().unwrap_or_default();
        if sc.privileged == Some(true) {
            return Err("privileged".into());
        }
        if sc.allow_privilege_escalation != Some(false) {
            return Err(format!(
                "{}: allowPrivilegeEscalation must be false",
                c.name
            ));
        }
        if sc.run_as_non_root.or(psc.run_as_non_root) != Some(true)
            || sc.run_as_user.or(psc.run_as_user) == Some(0)
        {
            return Err(format!("{}: must run as non-root", c.name));
        }
        let seccomp = sc
            .seccomp_profile
            .as_ref()
            .or(psc.seccomp_profile.as_ref())
            .map(|s| s.type_.as_str());
        if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
            return Err(format!(
                "{}: seccomp profile must be RuntimeDefault",
                c.name
            ));
        }
        let caps = sc.capabilities.clone().unwrap_or_default();
        if !caps.drop.iter().flatten().any(|d| d == "ALL") {
            return Err(format!("{}: capabilities must drop ALL", c.name));
        }
        if caps.add.iter().flatten().any(|a| a != "NET_BIND_SERVICE") {
            return Err(format!("{}: only NET_BIND_SERVICE may be added", c.name));
        }
    }
    Ok(())
}

fn name_limit(kind: &str) -> usize {
    match kind {
        "CronJob" => 52,
        "ConfigMap" | "ExternalSecret" => 253,
        _ => 63,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rendering_generated_repos_keeps_its_invariants(apps in arb_repo()) {
        let tree = sources(&apps);
        let repo = Repo::from_sources(&tree).map_err(|d| d.to_string());
        prop_assert!(repo.is_ok(), "generated repo is invalid:\n{}", repo.unwrap_err());
        let repo = repo.unwrap();
        let set = render(&repo, &previews(&apps)).unwrap();
        prop_assert!(!set.is_empty());

        // Deterministic: a second load and render gives the same bytes.
        let again = render(&Repo::from_sources(&tree).unwrap(), &previews(&apps)).unwrap();
        prop_assert_eq!(set.files().unwrap(), again.files().unwrap());
        // The stream, serialized in parallel batches, is the files joined in path order.
        prop_assert_eq!(set.stream().unwrap().into_bytes(), glueops_render::stream(&set.files().unwrap()));
        prop_assert_eq!(set.stream_parts().unwrap().concat(), set.stream().unwrap());

        let mut identities = BTreeSet::new();
        for m in set.iter() {
            let o = &m.object;
            let name = o.name();
            let limit = name_limit(o.kind());
            let valid = if limit == 253 { is_dns_subdomain(name) } else { is_dns_label(name) && name.len() <= limit };
            prop_assert!(valid, "{} {} `{}` is not a valid name (limit {})", o.kind(), m.path, name, limit);
            if let Some(ns) = o.namespace() {
                prop_assert!(is_dns_label(ns), "namespace `{}` of {}", ns, m.path);
            }
            let id = (o.api_version(), o.kind(), o.namespace().map(str::to_string), name.to_string());
            prop_assert!(identities.insert(id.clone()), "two objects are {:?}", id);
            let pod = match o {
                Object::Deployment(d) => d.spec.as_ref().and_then(|s| s.template.spec.clone()),
                Object::CronJob(c) => c.spec.as_ref().and_then(|s| s.job_template.spec.as_ref()).and_then(|j| j.template.spec.clone()),
                _ => None,
            };
            if let Some(pod) = pod {
                prop_assert!(restricted(&pod).is_ok(), "{}: {}", m.path, restricted(&pod).unwrap_err());
                for c in &pod.containers {
                    let r = c.resources.clone().unwrap_or_default();
                    prop_assert!(r.requests.is_some_and(|q| q.len() >= 2) && r.limits.is_some_and(|q| q.len() >= 2), "{}: requests and limits", m.path);
                }
            }
        }
    }
}

#[test]
fn the_pod_security_check_rejects_an_unhardened_pod() {
    let pod = PodSpec {
        containers: vec![k8s_openapi::api::core::v1::Container {
            name: "bare".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert!(restricted(&pod).is_err());
}

/// The manifest repo's layout both ways: every path render would give a deployment's,
/// preview's or delivery folder's file is owned by that owner again.
mod layout_round_trip {
    use glueops_render::{Layout, Owner};
    use proptest::prelude::*;

    fn layout(path: Option<&str>, flux: bool) -> Layout {
        let yaml = format!(
            "apiVersion: glueops.dev/v1alpha1\nkind: Platform\nmetadata: {{name: acme}}\nspec:\n  delivery: {}\n  manifestRepo: {{url: \"https://git.example/m.git\"{}}}\n  clusters: [{{name: prod, server: \"https://k8s.example:6443\", captainDomain: prod.acme.example}}]\n  environments: [{{name: production, cluster: prod}}]\n",
            if flux { "flux" } else { "argocd" },
            path.map(|p| format!(", path: \"{p}\"")).unwrap_or_default()
        );
        Layout::new(&glueops_model::Platform::from_yaml(&yaml).unwrap())
    }

    fn label() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?"
    }

    fn owner() -> impl Strategy<Value = Owner> {
        prop_oneof![
            (label(), label(), label())
                .prop_filter("not a folder glueops reserves", |(_, env, _)| {
                    env != "argocd" && env != "flux" && env != "previews"
                })
                .prop_map(|(cluster, env, app)| Owner::Deployment { cluster, env, app }),
            (label(), label(), 1..100_000u64).prop_map(|(cluster, app, n)| Owner::Preview {
                cluster,
                name: Some(format!("{app}-pr-{n}")),
            }),
            label().prop_map(|cluster| Owner::Preview {
                cluster,
                name: None
            }),
            label().prop_map(|cluster| Owner::Delivery { cluster }),
        ]
    }

    proptest! {
        #[test]
        fn owner_of_path_for_is_the_owner(
            owner in owner(),
            file in "[a-z]{1,12}-[a-z0-9-]{1,20}\\.yaml",
            path in proptest::option::of("[a-z]{1,8}(/[a-z]{1,8})?"),
            flux in any::<bool>(),
        ) {
            let layout = layout(path.as_deref(), flux);
            let written = layout.path_for(&owner, &file);
            prop_assert!(written.starts_with(layout.root()), "{written}");
            prop_assert_eq!(layout.owner_of(&written), owner);
        }

        #[test]
        fn a_preview_delivery_object_is_the_previews_and_a_deployment_one_the_clusters(
            cluster in label(), app in label(), n in 1..1000u64, env in label(),
        ) {
            let layout = layout(None, false);
            let preview = format!("{app}-pr-{n}");
            prop_assert_eq!(
                layout.owner_of(&layout.delivery_file(&cluster, &preview)),
                Owner::Preview { cluster: cluster.clone(), name: Some(preview) }
            );
            prop_assert_eq!(
                layout.owner_of(&layout.delivery_file(&cluster, &format!("{app}-{env}"))),
                Owner::Delivery { cluster }
            );
        }
    }

    #[test]
    fn paths_outside_the_layout_are_foreign() {
        let layout = layout(Some("gitops"), false);
        for path in [
            "README.md",
            "clusters/prod/production/api/x.yaml",
            "gitops/clusters/prod",
            "gitops/other/x",
        ] {
            assert_eq!(layout.owner_of(path), Owner::Foreign, "{path}");
        }
    }
}

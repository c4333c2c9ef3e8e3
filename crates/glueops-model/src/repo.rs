//! [`Repo`]: a config repo loaded, layered and validated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use crate::diagnostics::{Code, Diagnostic, Diagnostics, Report};
use crate::instance::{AppInstance, Placement};
use crate::layer::{AppLayers, Layer, ParsedFile, read_file, validate};
use crate::layout::FileKind;
use crate::names::app_object_name;
use crate::node::{Location, Node};
use crate::platform::Platform;
use crate::rules;
use crate::source::SourceTree;
use crate::suggest::did_you_mean;
use crate::values::AppValues;

/// A config repo, loaded, layered and validated.
///
/// Layering for (app, env): `common/common-values.yaml` → `env-overlays/<namespace>/env-values.yaml`
/// → `apps/<app>/base/base-values.yaml` → `apps/<app>/envs/<env>/values.yaml`. For a preview of
/// pull request N: common → the previews environment's overlay → base →
/// `envs/previews/common/values.yaml` → `envs/previews/pull-request-number/<N>/values.yaml`.
#[derive(Debug, Clone)]
pub struct Repo {
    platform: Platform,
    common: Option<Layer>,
    overlays: BTreeMap<String, Layer>,
    apps: BTreeMap<String, AppLayers>,
    deployments: Vec<AppInstance>,
    previews: Vec<AppInstance>,
    sources: Arc<BTreeMap<Arc<str>, Arc<str>>>,
    warnings: Diagnostics,
}

impl Repo {
    /// Reads, layers and validates the config repo at `path`. On any problem, returns all of
    /// them at once.
    pub fn load(path: impl AsRef<Path>) -> Result<Repo, Diagnostics> {
        crate::schema::prepare_in_background();
        // Each file is parsed by the thread that read it, while the others still read.
        let (parsed, problems) =
            crate::source::walk(path.as_ref(), &|rel, bytes| read_file(&rel, &bytes));
        Repo::from_parsed(problems, parsed)
    }

    /// Layers and validates a config repo held in memory.
    pub fn from_sources(tree: &SourceTree) -> Result<Repo, Diagnostics> {
        crate::schema::prepare_in_background();
        let files: Vec<(&String, &Vec<u8>)> = tree.files.iter().collect();
        let parsed: Vec<ParsedFile> = crate::parallel::map_chunks(&files, |chunk| {
            chunk
                .iter()
                .map(|(path, bytes)| read_file(path, bytes))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
        Repo::from_parsed(tree.problems.clone(), parsed)
    }

    /// Validates parsed files (in path order) and layers them.
    fn from_parsed(
        problems: Vec<Diagnostic>,
        mut parsed: Vec<ParsedFile>,
    ) -> Result<Repo, Diagnostics> {
        let mut report = Report::default();
        let unreadable = problems
            .iter()
            .any(|p| matches!(p.location.file.as_ref(), "." | "glueops.yaml"));
        for problem in problems {
            report.push(problem);
        }
        parsed.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        let has_platform_file = parsed.iter().any(|f| &*f.path == "glueops.yaml");
        validate_all(&mut parsed);
        let layers = Layers::sort(parsed, &mut report);
        rules::check_app_names(layers.apps.keys().map(String::as_str), &mut report);
        let Some((platform_tree, platform_valid)) = layers.platform else {
            if !unreadable && !has_platform_file {
                report.push(
                    Diagnostic::new(Code::MissingPlatform, Location::file("glueops.yaml"), "", "glueops.yaml is missing")
                        .help("create glueops.yaml at the repo root with `apiVersion: glueops.dev/v1alpha1` and `kind: Platform`"),
                );
            }
            return Err(report.finish());
        };
        let Some(platform) = typed_platform(&platform_tree, platform_valid, &mut report) else {
            return Err(report.finish());
        };
        rules::check_platform(&platform, &platform_tree, &mut report);
        let mut repo = Repo {
            platform,
            common: layers.common,
            overlays: layers.overlays,
            apps: layers.apps,
            deployments: Vec::new(),
            previews: Vec::new(),
            sources: Arc::new(layers.sources),
            warnings: Diagnostics::default(),
        };
        repo.check_overlays(&mut report);
        repo.build(&mut report);
        if report.is_empty() {
            repo.warnings = report.finish();
            Ok(repo)
        } else {
            Err(report.finish())
        }
    }

    fn check_overlays(&self, report: &mut Report) {
        let preview_overlay = self
            .platform
            .spec
            .previews
            .as_ref()
            .map(|p| p.environment().to_string());
        let namespaces: BTreeSet<&str> = self
            .platform
            .spec
            .environments
            .iter()
            .map(|e| e.namespace())
            .collect();
        for (folder, layer) in &self.overlays {
            if namespaces.contains(folder.as_str()) || preview_overlay.as_deref() == Some(folder) {
                continue;
            }
            let mut known: Vec<&str> = namespaces.iter().copied().collect();
            known.extend(preview_overlay.as_deref());
            let message = format!(
                "no environment runs in namespace `{folder}`, so env-overlays/{folder}/ applies to nothing"
            );
            let file = Location::file(layer.node.location.file.clone());
            // A typo of a namespace in use is a mistake; any other folder is one GlueOps'
            // ApplicationSet never reads (it reads env-overlays/<its namespace>/ only).
            let diagnostic = match did_you_mean(folder, known.iter().copied()) {
                Some(s) => Diagnostic::new(Code::Undeclared, file, "", message)
                    .help(format!("did you mean `env-overlays/{s}/`?")),
                None => Diagnostic::new(Code::Undeclared, file, "", format!("{message}; GlueOps ignores it, and so does glueops"))
                    .help(format!(
                        "overlays are keyed by namespace: remove the folder, rename it to one of {}, or give an environment `namespace: {folder}` in glueops.yaml",
                        known.join(", ")
                    ))
                    .warning(),
            };
            report.push(diagnostic);
        }
    }

    fn undeclared_env(&self, env: &str, file: Arc<str>) -> Diagnostic {
        let declared: Vec<&str> = self
            .platform
            .spec
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        let message = format!("environment `{env}` is not declared in glueops.yaml");
        match did_you_mean(env, declared.iter().copied()) {
            // A near miss of a declared environment is a mistake.
            Some(s) => Diagnostic::new(Code::Undeclared, Location::file(file), "", message).help(
                format!("did you mean `{s}`? Otherwise declare `{env}` under spec.environments in glueops.yaml"),
            ),
            // Any other folder is one no ApplicationSet of this platform reads: ignored, with a
            // warning.
            None => Diagnostic::new(
                Code::Undeclared,
                Location::file(file),
                "",
                format!("{message}; GlueOps deploys it only where an ApplicationSet reads envs/{env}/, and glueops ignores it"),
            )
            .help(format!(
                "declare `{env}` under spec.environments in glueops.yaml to deploy it (declared: {})",
                declared.join(", ")
            ))
            .warning(),
        }
    }

    fn build(&mut self, report: &mut Report) {
        // Deployments are independent of each other: merge and check them on every core.
        let mut jobs = Vec::new();
        for (app, layers) in &self.apps {
            for (env, layer) in &layers.envs {
                match self.platform.environment(env) {
                    Some(environment) => jobs.push((app, layers, environment, layer)),
                    None => report.push(self.undeclared_env(env, layer.node.location.file.clone())),
                }
            }
        }
        let built = crate::parallel::map_chunks(&jobs, |chunk| {
            let mut local = Report::default();
            let mut out = Vec::new();
            for (app, layers, environment, layer) in chunk {
                let Some(cluster) = self.platform.cluster(&environment.cluster) else {
                    continue;
                };
                let env = &environment.name;
                let stack = [
                    self.common.as_ref(),
                    self.overlays.get(environment.namespace()),
                    layers.base.as_ref(),
                    Some(*layer),
                ];
                let instance = Instance {
                    app,
                    head_sha: None,
                    sources: &self.sources,
                    placement: Placement::Environment(env.clone()),
                    name: format!("{}-{env}", app_object_name(app)),
                    cluster: &cluster.name,
                    captain_domain: &cluster.captain_domain,
                    namespace: environment.namespace().to_string(),
                };
                out.extend(instance.build(&stack, &mut local));
            }
            (out, local.into_items())
        });
        let mut deployments = Vec::new();
        let mut read = BTreeSet::new();
        for (out, items) in built {
            for (d, keys) in out {
                deployments.push(d);
                read.extend(keys);
            }
            report.absorb(items);
        }
        let mut previews = Vec::new();
        for (app, layers) in &self.apps {
            if layers.previews_common.is_none()
                && let Some(first) = layers.pull_requests.values().next()
            {
                report.push(
                    Diagnostic::new(
                        Code::UnexpectedFile,
                        Location::file(first.node.location.file.clone()),
                        "",
                        format!("pull-request values for `{app}`, but no apps/{app}/envs/previews/common/values.yaml: GlueOps reads a missing preview values file as empty (ignoreMissingValueFiles), and so does glueops"),
                    )
                    .help(format!("add apps/{app}/envs/previews/common/values.yaml with the preview defaults, even an empty one, to say previews of `{app}` are meant"))
                    .warning(),
                );
            }
            for number in layers.pull_requests.keys() {
                if let Ok(Some((d, keys))) = self.preview_in(app, *number, None, report) {
                    previews.push(d);
                    read.extend(keys);
                }
            }
        }
        rules::check_hostnames(&deployments, report);
        rules::check_template_values(deployments.iter().chain(&previews), &read, report);
        rules::check_object_names(deployments.iter().chain(&previews), report);
        rules::check_containment(&self.platform, deployments.iter().chain(&previews), report);
        rules::check_preview_secrets(&deployments, &previews, report);
        rules::check_pull_secrets(&self.platform, deployments.iter().chain(&previews), report);
        self.deployments = deployments;
        self.previews = previews;
    }

    /// Builds the preview of pull request `number` of `app`; `Err` when previews are off or
    /// the app has none, `Ok(None)` when the values have problems (recorded in `report`).
    fn preview_in(
        &self,
        app: &str,
        number: u64,
        head_sha: Option<&str>,
        report: &mut Report,
    ) -> Result<Option<(AppInstance, BTreeSet<String>)>, Box<Diagnostic>> {
        let no_previews = |msg: String, help: String| {
            Box::new(
                Diagnostic::new(
                    Code::Undeclared,
                    Location::file("glueops.yaml"),
                    "spec.previews",
                    msg,
                )
                .help(help),
            )
        };
        let Some(settings) = self.platform.previews() else {
            return Err(no_previews(
                "previews are not enabled".to_string(),
                "set spec.previews.enabled: true in glueops.yaml".to_string(),
            ));
        };
        let Some(layers) = self.apps.get(app) else {
            return Err(no_previews(
                format!("there is no app `{app}`"),
                "pass an app folder under apps/".to_string(),
            ));
        };
        // An app has previews when it has preview values at all; each file is optional.
        if layers.previews_common.is_none() && layers.pull_requests.is_empty() {
            return Err(no_previews(
                format!("`{app}` has no previews"),
                format!("add apps/{app}/envs/previews/common/values.yaml"),
            ));
        }
        let Some(cluster) = self.platform.cluster(&settings.cluster) else {
            return Ok(None);
        };
        let env = settings.environment();
        let fill = |pattern: &str| {
            pattern
                .replace("{app}", &app_object_name(app))
                .replace("{number}", &number.to_string())
                .replace("{captainDomain}", &cluster.captain_domain)
        };
        let stack = [
            self.common.as_ref(),
            self.overlays.get(env),
            layers.base.as_ref(),
            layers.previews_common.as_ref(),
            layers.pull_requests.get(&number),
        ];
        let instance = Instance {
            app,
            head_sha: Some(head_sha.unwrap_or(SAMPLE_HEAD_SHA)),
            sources: &self.sources,
            placement: Placement::Preview {
                number,
                hostname: fill(settings.hostname_pattern()),
            },
            name: format!("{}-pr-{number}", app_object_name(app)),
            cluster: &cluster.name,
            captain_domain: &cluster.captain_domain,
            namespace: fill(settings.namespace_pattern()),
        };
        Ok(instance.build(&stack, report))
    }

    /// The platform (`glueops.yaml`).
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// App names, sorted.
    pub fn apps(&self) -> impl Iterator<Item = &str> {
        self.apps.keys().map(String::as_str)
    }

    /// Every (app, environment) deployment, sorted by app then environment.
    pub fn deployments(&self) -> impl Iterator<Item = &AppInstance> {
        self.deployments.iter()
    }

    /// The deployment of `app` to `env`.
    pub fn deployment(&self, app: &str, env: &str) -> Option<&AppInstance> {
        self.deployments
            .iter()
            .find(|d| d.app == app && d.environment() == Some(env))
    }

    /// The merged values of `app` in `env`, with the provenance of every leaf.
    pub fn effective_values(&self, app: &str, env: &str) -> Option<&Node> {
        self.deployment(app, env).map(|d| &d.tree)
    }

    /// The previews of the pull requests that have a folder under
    /// `envs/previews/pull-request-number/`, sorted by app then number.
    pub fn previews(&self) -> impl Iterator<Item = &AppInstance> {
        self.previews.iter()
    }

    /// The apps that have previews (preview values of any kind), when previews are enabled.
    pub fn preview_apps(&self) -> impl Iterator<Item = &str> {
        let enabled = self.platform.previews().is_some();
        self.apps
            .iter()
            .filter(move |(_, l)| {
                enabled && (l.previews_common.is_some() || !l.pull_requests.is_empty())
            })
            .map(|(app, _)| app.as_str())
    }

    /// What the repo loads with but is likely a mistake, or that GlueOps (and glueops)
    /// ignores: located, with help; empty for a clean repo.
    pub fn warnings(&self) -> &Diagnostics {
        &self.warnings
    }

    /// The preview of pull request `number` of `app` (the pull request needs no folder of its
    /// own): the app's preview defaults plus that pull request's values if any.
    pub fn preview(&self, app: &str, number: u64) -> Result<AppInstance, Diagnostics> {
        self.preview_at(app, number, None)
    }

    /// [`preview`](Self::preview) of the pull request whose head commit is `head_sha`: its
    /// templates read it as `.Values.image.tag`, as GlueOps passes it (without one, a
    /// placeholder commit id stands in).
    pub fn preview_at(
        &self,
        app: &str,
        number: u64,
        head_sha: Option<&str>,
    ) -> Result<AppInstance, Diagnostics> {
        let mut report = Report::default();
        for (file, text) in self.sources.iter() {
            report.add_source(file.clone(), text.clone());
        }
        match self.preview_in(app, number, head_sha, &mut report) {
            Ok(Some((d, _))) if report.is_empty() => {
                // What the load checks of its own previews, for this one too.
                let one = std::slice::from_ref(&d);
                rules::check_containment(&self.platform, one.iter(), &mut report);
                rules::check_preview_secrets(&self.deployments, one, &mut report);
                if report.is_empty() {
                    Ok(d)
                } else {
                    Err(report.finish())
                }
            }
            Ok(_) => Err(report.finish()),
            Err(d) => {
                report.push(*d);
                Err(report.finish())
            }
        }
    }

    /// The environments that have at least one deployment, in declaration order.
    pub fn active_environments(&self) -> Vec<&str> {
        let used: BTreeSet<&str> = self
            .deployments
            .iter()
            .filter_map(AppInstance::environment)
            .collect();
        self.platform
            .spec
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .filter(|e| used.contains(e))
            .collect()
    }
}

/// What is known about an app instance before its values are merged.
struct Instance<'a> {
    app: &'a str,
    /// A preview's head commit: what its templates read as `.Values.image.tag`, as GlueOps
    /// sets it.
    head_sha: Option<&'a str>,
    /// The repo's files: where a template's failing action is located.
    sources: &'a BTreeMap<Arc<str>, Arc<str>>,
    placement: Placement,
    name: String,
    cluster: &'a str,
    captain_domain: &'a str,
    namespace: String,
}

impl Instance<'_> {
    /// Merges the layers, renders the templates and checks the result; also returns the
    /// top-level `.Values` keys the templates read.
    fn build(
        self,
        stack: &[Option<&Layer>],
        report: &mut Report,
    ) -> Option<(AppInstance, BTreeSet<String>)> {
        let layers: Vec<&Layer> = stack.iter().flatten().copied().collect();
        if layers.iter().any(|l| !l.valid) {
            return None;
        }
        let top = layers
            .last()
            .map(|l| l.node.location.file.clone())
            .unwrap_or_else(|| Arc::from(""));
        let nodes: Vec<&Node> = layers.iter().map(|l| &l.node).collect();
        let tree = Node::merge(top.clone(), &nodes);
        let mut json = tree.to_json();
        let text = |key: &str| {
            json.get(key)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let app_name = text("appName").unwrap_or_else(|| self.name.clone());
        let namespace = text("namespaceOverride").unwrap_or_else(|| self.namespace.clone());
        let mut scope_values = json.clone();
        if let Some(map) = scope_values.as_object_mut() {
            map.insert("captain_domain".into(), self.captain_domain.into());
            map.insert("glueops_app_name".into(), self.name.clone().into());
            if let Some(sha) = self.head_sha {
                let image = map
                    .entry("image")
                    .or_insert_with(|| serde_json::Value::Object(Default::default()));
                if let Some(image) = image.as_object_mut() {
                    image.insert("tag".into(), sha.into());
                }
            }
        }
        let scope = crate::template::Scope {
            values: &scope_values,
            release: &self.name,
            namespace: &namespace,
            app_name: &app_name,
        };
        let before = report.len();
        let read = rules::resolve_templates(&mut json, &tree, &scope, self.sources, report);
        if report.len() > before {
            return None;
        }
        let values: AppValues = match serde_json::from_value(json) {
            Ok(v) => v,
            Err(e) => {
                report.push(Diagnostic::new(
                    Code::WrongType,
                    Location::file(top),
                    "",
                    format!("the merged values of `{}` do not decode: {e}", self.name),
                ));
                return None;
            }
        };
        let deployment = AppInstance {
            app: self.app.to_string(),
            placement: self.placement,
            name: self.name,
            cluster: self.cluster.to_string(),
            captain_domain: self.captain_domain.to_string(),
            namespace,
            values,
            tree,
        };
        rules::check_deployment(&deployment, report);
        (report.len() == before).then_some((deployment, read))
    }
}

/// What a preview's templates read as `.Values.image.tag` when no pull request names its head
/// commit (a preview checked at load, or by `glueops validate`).
const SAMPLE_HEAD_SHA: &str = "0000000000000000000000000000000000000000";

/// Validates every parsed file against its schema, on every core.
fn validate_all(parsed: &mut [ParsedFile]) {
    let checked = crate::parallel::map_chunks(parsed, |chunk| {
        chunk.iter().map(validate).collect::<Vec<_>>()
    });
    for (file, (valid, problems, ignored)) in parsed.iter_mut().zip(checked.into_iter().flatten()) {
        if let Some((_, layer)) = &mut file.layer {
            layer.valid = valid;
            for path in &ignored.drop {
                layer.node.remove(path);
            }
            for (path, value) in ignored.set {
                if let Some(node) = layer.node.get_mut(&path) {
                    node.value = value;
                }
            }
        }
        file.problems.extend(problems);
    }
}

/// The files of a repo sorted into the layers they are.
#[derive(Default)]
struct Layers {
    /// `glueops.yaml` and whether it passed its schema.
    platform: Option<(Node, bool)>,
    common: Option<Layer>,
    overlays: BTreeMap<String, Layer>,
    apps: BTreeMap<String, AppLayers>,
    sources: BTreeMap<Arc<str>, Arc<str>>,
}

impl Layers {
    /// Sorts `parsed` into layers; every file's problems go to `report`.
    fn sort(parsed: Vec<ParsedFile>, report: &mut Report) -> Layers {
        let mut layers = Layers::default();
        for file in parsed {
            if let Some(text) = &file.text {
                layers.sources.insert(file.path.clone(), text.clone());
                report.add_source(file.path.clone(), text.clone());
            }
            file.problems.into_iter().for_each(|d| report.push(d));
            let Some((kind, layer)) = file.layer else {
                continue;
            };
            let apps = &mut layers.apps;
            match kind {
                FileKind::Platform => layers.platform = Some((layer.node, layer.valid)),
                FileKind::Common => layers.common = Some(layer),
                FileKind::Overlay(env) => {
                    layers.overlays.insert(env, layer);
                }
                FileKind::Base(app) => apps.entry(app).or_default().base = Some(layer),
                FileKind::Env(app, env) => {
                    apps.entry(app).or_default().envs.insert(env, layer);
                }
                FileKind::PreviewCommon(app) => {
                    apps.entry(app).or_default().previews_common = Some(layer)
                }
                FileKind::PullRequest(app, n) => {
                    apps.entry(app).or_default().pull_requests.insert(n, layer);
                }
            }
        }
        layers
    }
}

/// `glueops.yaml` as the typed [`Platform`], when it passed its schema.
fn typed_platform(tree: &Node, valid: bool, report: &mut Report) -> Option<Platform> {
    if !valid {
        return None;
    }
    serde_json::from_value::<Platform>(tree.to_json())
        .map_err(|e| {
            report.push(Diagnostic::new(
                Code::WrongType,
                tree.location.clone(),
                "",
                e.to_string(),
            ));
        })
        .ok()
}

//! Rules for `glueops.yaml`.

use std::collections::BTreeMap;

use crate::diagnostics::{Code, Diagnostic, Report};
use crate::formats::{check_go_duration, check_time_zone, parse_clock};
use crate::names::{is_dns_label, is_dns_subdomain, label_help};
use crate::node::{Node, Segment};
use crate::platform::{API_VERSION, Approval, DeployWindow, Environment, Platform, Promotion};
use crate::rules::diagnose::{at, k, undeclared};

fn p(parts: &[Segment]) -> Vec<Segment> {
    parts.to_vec()
}

/// Checks `glueops.yaml` beyond its schema.
pub(crate) fn check_platform(platform: &Platform, tree: &Node, report: &mut Report) {
    if platform.api_version != API_VERSION {
        report.push(
            at(
                tree,
                &[k("apiVersion")],
                Code::InvalidValue,
                format!("apiVersion `{}` is not supported", platform.api_version),
            )
            .help(format!("use `apiVersion: {API_VERSION}`")),
        );
    }
    if platform.kind != "Platform" {
        report.push(
            at(
                tree,
                &[k("kind")],
                Code::InvalidValue,
                format!("kind `{}` is not `Platform`", platform.kind),
            )
            .help("use `kind: Platform`"),
        );
    }
    if !is_dns_label(&platform.metadata.name) {
        report.push(
            at(
                tree,
                &[k("metadata"), k("name")],
                Code::InvalidName,
                format!(
                    "platform name `{}` is not a DNS-1123 label",
                    platform.metadata.name
                ),
            )
            .help(label_help(&platform.metadata.name)),
        );
    }
    check_requires(platform, tree, report);
    let repo_url = &platform.spec.manifest_repo.url;
    let schemes = ["https://", "http://", "ssh://", "git://", "file://", "git@"];
    if !schemes.iter().any(|s| repo_url.starts_with(s)) || repo_url.len() < 8 {
        report.push(
            at(
                tree,
                &[k("spec"), k("manifestRepo"), k("url")],
                Code::InvalidValue,
                format!("`{repo_url}` is not a Git URL"),
            )
            .help("use a clone URL such as https://github.com/acme/manifests.git"),
        );
    }
    if let Some(branch) = &platform.spec.manifest_repo.branch
        && let Err(e) = glueops_files::check_branch(branch)
    {
        report.push(
            at(
                tree,
                &[k("spec"), k("manifestRepo"), k("branch")],
                Code::InvalidValue,
                format!("spec.manifestRepo.branch {e}"),
            )
            .help("name the manifest repo's branch, e.g. `main`"),
        );
    }
    if let Some((scheme, rest)) = repo_url.split_once("://")
        && matches!(scheme, "http" | "https")
        && rest
            .split('/')
            .next()
            .is_some_and(|authority| authority.contains('@'))
    {
        report.push(
            at(
                tree,
                &[k("spec"), k("manifestRepo"), k("url")],
                Code::InvalidValue,
                "the manifest repo URL holds credentials: it is rendered into every Application or GitRepository and committed".to_string(),
            )
            .help("give the URL without user info; the cluster reads the repo with Argo CD's repository secret or Flux's secretRef"),
        );
    }
    check_clusters(platform, tree, report);
    check_environments(platform, tree, report);
    check_promotion_cycles(platform, tree, report);
    check_previews(platform, tree, report);
}

fn check_requires(platform: &Platform, tree: &Node, report: &mut Report) {
    let Some(requires) = &platform.spec.requires else {
        return;
    };
    let path = [k("spec"), k("requires")];
    match semver::VersionReq::parse(requires) {
        Err(e) => report.push(
            at(
                tree,
                &path,
                Code::InvalidValue,
                format!("`{requires}` is not a semver requirement: {e}"),
            )
            .help("write a requirement such as \">=0.1.0\" or \"^0.1\""),
        ),
        Ok(req) => {
            let version = env!("CARGO_PKG_VERSION");
            if let Ok(v) = semver::Version::parse(version)
                && !req.matches(&v)
            {
                report.push(
                    at(tree, &path, Code::Version, format!("this repo requires glueops {requires}, but this is glueops {version}"))
                        .help("upgrade glueops, or relax spec.requires if the repo works with this version"),
                );
            }
        }
    }
}

/// Reports names that are not DNS labels and duplicates, for a list of named items.
fn check_names<'a>(
    names: impl Iterator<Item = &'a str>,
    list: &str,
    what: &str,
    tree: &Node,
    report: &mut Report,
) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in names.enumerate() {
        let path = p(&[k("spec"), k(list), Segment::Index(i), k("name")]);
        if !is_dns_label(name) {
            report.push(
                at(
                    tree,
                    &path,
                    Code::InvalidName,
                    format!("{what} name `{name}` is not a DNS-1123 label"),
                )
                .help(label_help(name)),
            );
        }
        if let Some(first) = seen.insert(name, i) {
            let first_path = p(&[k("spec"), k(list), Segment::Index(first), k("name")]);
            report.push(
                at(
                    tree,
                    &path,
                    Code::Duplicate,
                    format!("{what} `{name}` is declared twice"),
                )
                .note(tree.locate(&first_path), "first declared here")
                .help(format!("give each {what} a unique name")),
            );
        }
    }
}

fn check_clusters(platform: &Platform, tree: &Node, report: &mut Report) {
    check_names(
        platform.spec.clusters.iter().map(|c| c.name.as_str()),
        "clusters",
        "cluster",
        tree,
        report,
    );
    for (i, c) in platform.spec.clusters.iter().enumerate() {
        let base = [k("spec"), k("clusters"), Segment::Index(i)];
        if !c.server.starts_with("https://") {
            report.push(
                at(
                    tree,
                    &[&base[..], &[k("server")]].concat(),
                    Code::InvalidValue,
                    format!("cluster server `{}` is not an https:// URL", c.server),
                )
                .help("use the API server URL, e.g. https://k8s.example.com:6443"),
            );
        }
        if !is_dns_subdomain(&c.captain_domain) {
            report.push(
                at(
                    tree,
                    &[&base[..], &[k("captainDomain")]].concat(),
                    Code::InvalidName,
                    format!("captain domain `{}` is not a DNS name", c.captain_domain),
                )
                .help(
                    "use lowercase DNS labels separated by dots, e.g. nonprod.acme.onglueops.rocks",
                ),
            );
        }
    }
}

fn check_environments(platform: &Platform, tree: &Node, report: &mut Report) {
    let envs = &platform.spec.environments;
    check_names(
        envs.iter().map(|e| e.name.as_str()),
        "environments",
        "environment",
        tree,
        report,
    );
    let names = EnvNames {
        clusters: platform.cluster_names(),
        environments: envs.iter().map(|e| e.name.as_str()).collect(),
        reserved: platform
            .spec
            .previews
            .as_ref()
            .map_or("previews", |p| p.environment()),
    };
    for (i, env) in envs.iter().enumerate() {
        let at_env = At {
            tree,
            base: vec![k("spec"), k("environments"), Segment::Index(i)],
        };
        check_environment(env, &names, &at_env, report);
        if let Some(promotion) = &env.promotion {
            let at_promotion = at_env.child(&[k("promotion")]);
            check_promotion(&env.name, promotion, &names, &at_promotion, report);
            super::verification::check(promotion, &at_promotion, report);
            if let Some(approval) = &promotion.approval {
                check_approval(approval, &at_promotion.child(&[k("approval")]), report);
            }
            for (j, w) in promotion.windows.iter().flatten().enumerate() {
                check_window(
                    w,
                    &at_promotion.child(&[k("windows"), Segment::Index(j)]),
                    report,
                );
            }
        }
    }
}

/// The names an environment may refer to.
struct EnvNames<'a> {
    clusters: Vec<&'a str>,
    environments: Vec<&'a str>,
    /// The environment name previews use.
    reserved: &'a str,
}

/// A place in `glueops.yaml` that diagnostics point below.
pub(super) struct At<'a> {
    pub(super) tree: &'a Node,
    pub(super) base: Vec<Segment>,
}

impl At<'_> {
    pub(super) fn path(&self, rest: &[Segment]) -> Vec<Segment> {
        [&self.base[..], rest].concat()
    }

    pub(super) fn child(&self, rest: &[Segment]) -> Self {
        At {
            tree: self.tree,
            base: self.path(rest),
        }
    }

    pub(super) fn report(&self, key: &str, code: Code, message: impl Into<String>) -> Diagnostic {
        at(self.tree, &self.path(&[k(key)]), code, message)
    }
}

/// The environment's own fields: its name, cluster and namespace.
fn check_environment(
    env: &Environment,
    names: &EnvNames<'_>,
    at_env: &At<'_>,
    report: &mut Report,
) {
    if env.name == "previews" || env.name == names.reserved {
        report.push(
            at_env
                .report(
                    "name",
                    Code::InvalidName,
                    format!("environment name `{}` is reserved for previews", env.name),
                )
                .help("pick another name; pull-request previews use envs/previews/"),
        );
    }
    if !names.clusters.contains(&env.cluster.as_str()) {
        report.push(undeclared(
            at_env.tree,
            &at_env.path(&[k("cluster")]),
            "cluster",
            &env.cluster,
            &names.clusters,
            "spec.clusters",
        ));
    }
    if env.namespace.is_some() && !is_dns_label(env.namespace()) {
        report.push(
            at_env
                .report(
                    "namespace",
                    Code::InvalidName,
                    format!("namespace `{}` is not a DNS-1123 label", env.namespace()),
                )
                .help(label_help(env.namespace())),
        );
    }
}

/// Where versions come from: another declared environment, not itself, and not with `auto`.
fn check_promotion(
    env: &str,
    promotion: &Promotion,
    names: &EnvNames<'_>,
    at_promotion: &At<'_>,
    report: &mut Report,
) {
    let Some(from) = &promotion.from else {
        return;
    };
    if from == env {
        report.push(
            at_promotion
                .report(
                    "from",
                    Code::PromotionCycle,
                    format!("environment `{from}` promotes from itself"),
                )
                .help("name the environment versions come from, e.g. staging"),
        );
    } else if !names.environments.contains(&from.as_str()) {
        report.push(undeclared(
            at_promotion.tree,
            &at_promotion.path(&[k("from")]),
            "environment",
            from,
            &names.environments,
            "spec.environments",
        ));
    }
    if promotion.auto == Some(true) {
        report.push(
            at_promotion
                .report("auto", Code::Conflict, "`promotion.auto` and `promotion.from` contradict each other")
                .help("an environment either deploys new images itself (auto) or receives them from another one (from)"),
        );
    }
}

/// At least one approval required, no more than there are approvers, each approver once.
fn check_approval(approval: &Approval, at_approval: &At<'_>, report: &mut Report) {
    if approval.required == 0 || approval.required as usize > approval.approvers.len() {
        report.push(
            at_approval
                .report(
                    "required",
                    Code::InvalidValue,
                    format!(
                        "{} approvals required, but {} approvers listed",
                        approval.required,
                        approval.approvers.len()
                    ),
                )
                .help("require at least 1 approval and list at least that many approvers"),
        );
    }
    let mut seen = Vec::new();
    for (j, a) in approval.approvers.iter().enumerate() {
        if seen.contains(&a) {
            report.push(
                at(
                    at_approval.tree,
                    &at_approval.path(&[k("approvers"), Segment::Index(j)]),
                    Code::Duplicate,
                    format!("approver `{a}` is listed twice"),
                )
                .help("list each approver once"),
            );
        }
        seen.push(a);
    }
}

/// A deploy window: some days, a start before its end on one day, a known time zone.
fn check_window(w: &DeployWindow, at_window: &At<'_>, report: &mut Report) {
    if w.days.is_empty() {
        report.push(
            at_window
                .report(
                    "days",
                    Code::InvalidValue,
                    "a deploy window needs at least one day",
                )
                .help("e.g. days: [Mon, Tue, Wed, Thu]"),
        );
    }
    let start = parse_clock(&w.start).map_err(|e| {
        report.push(
            at_window
                .report("start", Code::Time, e)
                .help("e.g. start: \"09:00\""),
        )
    });
    let end = parse_clock(&w.end).map_err(|e| {
        report.push(
            at_window
                .report("end", Code::Time, e)
                .help("e.g. end: \"16:00\""),
        )
    });
    if let (Ok(s), Ok(e)) = (start, end)
        && s >= e
    {
        report.push(
            at_window
                .report(
                    "end",
                    Code::Time,
                    format!("the window ends ({}) before it starts ({})", w.end, w.start),
                )
                .help("windows lie within one day; use two windows to cross midnight"),
        );
    }
    if let Err(e) = check_time_zone(&w.time_zone) {
        report.push(
            at_window
                .report("timeZone", Code::Time, e)
                .help("see the tz database list of time zone names"),
        );
    }
}

fn check_promotion_cycles(platform: &Platform, tree: &Node, report: &mut Report) {
    let envs = &platform.spec.environments;
    let from = |name: &str| {
        envs.iter()
            .find(|e| e.name == name)
            .and_then(|e| e.promotion.as_ref()?.from.clone())
    };
    let mut reported: Vec<Vec<String>> = Vec::new();
    for (i, env) in envs.iter().enumerate() {
        let mut chain = vec![env.name.clone()];
        let mut current = env.name.clone();
        while let Some(next) = from(&current) {
            if next == current {
                break;
            }
            if let Some(pos) = chain.iter().position(|n| n == &next) {
                let mut cycle = chain[pos..].to_vec();
                if pos == 0 {
                    let mut key = cycle.clone();
                    key.sort();
                    if !reported.contains(&key) {
                        reported.push(key);
                        cycle.push(next.clone());
                        report.push(
                            at(tree, &[k("spec"), k("environments"), Segment::Index(i), k("promotion"), k("from")], Code::PromotionCycle,
                                format!("promotions form a cycle: {}", cycle.join(" <- ")))
                            .help("one environment in the chain must receive new versions directly (promotion.auto: true, no from)"),
                        );
                    }
                }
                break;
            }
            chain.push(next.clone());
            current = next;
        }
    }
}

fn check_previews(platform: &Platform, tree: &Node, report: &mut Report) {
    let Some(previews) = &platform.spec.previews else {
        return;
    };
    let path = |key: &str| [k("spec"), k("previews"), k(key)];
    let clusters = platform.cluster_names();
    if !clusters.contains(&previews.cluster.as_str()) {
        report.push(undeclared(
            tree,
            &path("cluster"),
            "cluster",
            &previews.cluster,
            &clusters,
            "spec.clusters",
        ));
    }
    let opt_in = previews.labels.as_ref().map_or(0, |l| l.opt_in.len());
    if previews.forks == Some(crate::platform::ForkPreviews::Allow) && opt_in == 0 {
        report.push(
            at(
                tree,
                &path("forks"),
                Code::InvalidValue,
                "previews of forks need an opt-in label: without one, every fork's pull request would run its code with the platform's credentials".to_string(),
            )
            .help("add spec.previews.labels.optIn, e.g. [safe-to-preview]; someone other than the author adds it to each fork's pull request"),
        );
    }
    let env = previews.environment();
    if !is_dns_label(env) {
        report.push(
            at(
                tree,
                &path("environment"),
                Code::InvalidName,
                format!("`{env}` is not a DNS-1123 label"),
            )
            .help(label_help(env)),
        );
    }
    for (key, pattern, allowed) in [
        (
            "namespacePattern",
            previews.namespace_pattern(),
            &["{app}", "{number}"][..],
        ),
        (
            "hostnamePattern",
            previews.hostname_pattern(),
            &["{app}", "{number}", "{captainDomain}"][..],
        ),
    ] {
        let mut rest = pattern.to_string();
        for a in allowed {
            rest = rest.replace(a, "x");
        }
        if rest.contains(['{', '}']) {
            report.push(
                at(
                    tree,
                    &path(key),
                    Code::Template,
                    format!("`{pattern}` uses an unknown placeholder"),
                )
                .help(format!("the placeholders are {}", allowed.join(", "))),
            );
        } else if !pattern.contains("{number}") {
            report.push(
                at(tree, &path(key), Code::Template, format!("`{pattern}` does not contain {{number}}, so every preview would get the same one"))
                    .help("include {number}, e.g. {app}-pr-{number}"),
            );
        }
    }
    if let Some(ttl) = &previews.ttl
        && let Err(e) = check_go_duration(ttl)
    {
        report.push(at(tree, &path("ttl"), Code::Time, e).help("e.g. ttl: 168h"));
    }
}

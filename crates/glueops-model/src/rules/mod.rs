//! Semantic rules: what the schema cannot say. Each rule reports a located diagnostic with a
//! fix; all rules run, so one load reports every problem.

mod app;
mod config;
mod diagnose;
mod platform;

use std::collections::BTreeMap;

use crate::diagnostics::{Code, Diagnostic, Report};
use crate::instance::{AppInstance, hostname_path};
use crate::names::{is_dns_label, label_help};
use crate::node::{Location, Node, Segment};
use crate::rules::diagnose::at;
use crate::values::AppValues;

pub(crate) use app::check_deployment;
pub(crate) use platform::check_platform;

/// App folder names become object names: they must be DNS labels.
pub(crate) fn check_app_name(app: &str, report: &mut Report) {
    if !is_dns_label(app) {
        report.push(
            Diagnostic::new(
                Code::InvalidName,
                Location::file(format!("apps/{app}")),
                "",
                format!("app name `{app}` is not a DNS-1123 label"),
            )
            .help(format!("rename the folder: {}", label_help(app))),
        );
    }
}

/// The template forms hostnames may use, and what they stand for.
const CAPTAIN_DOMAIN: &str = ".Values.captain_domain";
const APP_NAME: &str = ".Values.glueops_app_name";

/// Resolves `{{ .Values.captain_domain }}` and `{{ .Values.glueops_app_name }}` in ingress
/// hostnames; any other `{{ }}` is an error, not a silent pass-through.
pub(crate) fn resolve_templates(
    values: &mut AppValues,
    tree: &Node,
    app_name: &str,
    captain_domain: &str,
    report: &mut Report,
) {
    let Some(ingress) = values.ingress.as_mut() else {
        return;
    };
    for (i, entry) in ingress.entries.iter_mut().flatten().enumerate() {
        for (j, host) in entry.hosts.iter_mut().flatten().enumerate() {
            let Some(hostname) = host.hostname.as_mut() else {
                continue;
            };
            let path = hostname_path(i, j);
            match render(hostname, app_name, captain_domain) {
                Ok(resolved) => {
                    if !app::check_hostname(&resolved) {
                        report.push(
                            at(
                                tree,
                                &path,
                                Code::InvalidName,
                                format!("hostname `{resolved}` is not a valid DNS name"),
                            )
                            .help("use lowercase DNS labels separated by dots"),
                        );
                    }
                    *hostname = resolved;
                }
                Err(e) => report.push(at(tree, &path, Code::Template, e).help(format!(
                    "hostnames may use only {{{{ {CAPTAIN_DOMAIN} }}}} and {{{{ {APP_NAME} }}}}"
                ))),
            }
        }
    }
}

fn render(template: &str, app_name: &str, captain_domain: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!("`{template}` opens `{{{{` without closing it"));
        };
        let expr = after[..end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        match expr {
            CAPTAIN_DOMAIN => out.push_str(captain_domain),
            APP_NAME => out.push_str(app_name),
            other => return Err(format!("`{{{{ {other} }}}}` is not a supported template")),
        }
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err(format!("`{template}` closes `}}}}` without opening it"));
    }
    out.push_str(rest);
    Ok(out)
}

/// A hostname may be claimed by one app per environment.
pub(crate) fn check_hostnames(deployments: &[AppInstance], report: &mut Report) {
    let mut claimed: BTreeMap<(&str, String), (&AppInstance, Vec<Segment>)> = BTreeMap::new();
    for d in deployments {
        let Some(env) = d.environment() else { continue };
        for (host, path) in d.hostnames() {
            match claimed.get(&(env, host.clone())) {
                Some((first, first_path)) if first.app != d.app => report.push(
                    at(
                        &d.tree,
                        &path,
                        Code::HostnameConflict,
                        format!(
                            "hostname `{host}` is claimed by `{}` and `{}` in `{env}`",
                            first.app, d.app
                        ),
                    )
                    .note(
                        first.tree.locate(first_path),
                        format!("`{}` claims it here", first.app),
                    )
                    .help("give each app its own hostname"),
                ),
                Some(_) => {}
                None => {
                    claimed.insert((env, host), (d, path));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn templates() {
        assert_eq!(
            render("api.{{ .Values.captain_domain }}", "api-prod", "x.io"),
            Ok("api.x.io".into())
        );
        assert_eq!(
            render(
                "{{.Values.glueops_app_name}}.apps.{{ .Values.captain_domain }}",
                "a-b",
                "x.io"
            ),
            Ok("a-b.apps.x.io".into())
        );
        assert!(render("{{ .Values.image.tag }}.x.io", "a", "b").is_err());
        assert!(render("{{ .Values.captain_domain", "a", "b").is_err());
        assert!(render("plain.example.com", "a", "b").is_ok());
    }
}

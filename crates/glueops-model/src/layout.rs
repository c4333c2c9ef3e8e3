//! The file layout of a config repo: which file is which layer.

use crate::diagnostics::{Code, Diagnostic};
use crate::node::Location;
use crate::suggest::did_you_mean;

/// What a file of the config repo is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// `glueops.yaml`.
    Platform,
    /// `common/common-values.yaml`.
    Common,
    /// `env-overlays/<namespace>/env-values.yaml`.
    Overlay(String),
    /// `apps/<app>/base/base-values.yaml`.
    Base(String),
    /// `apps/<app>/envs/<env>/values.yaml`.
    Env(String, String),
    /// `apps/<app>/envs/previews/common/values.yaml`.
    PreviewCommon(String),
    /// `apps/<app>/envs/previews/pull-request-number/<N>/values.yaml`.
    PullRequest(String, u64),
}

const LAYOUT: &str = "glueops reads glueops.yaml, common/common-values.yaml, env-overlays/<namespace>/env-values.yaml, \
apps/<app>/base/base-values.yaml, apps/<app>/envs/<env>/values.yaml, apps/<app>/envs/previews/common/values.yaml \
and apps/<app>/envs/previews/pull-request-number/<N>/values.yaml";

/// Classifies a relative path, or explains why glueops does not expect a YAML file there.
pub(crate) fn classify(path: &str) -> Result<FileKind, Box<Diagnostic>> {
    let parts: Vec<&str> = path.split('/').collect();
    let kind = match parts.as_slice() {
        ["glueops.yaml"] => Some(FileKind::Platform),
        ["common", "common-values.yaml"] => Some(FileKind::Common),
        ["env-overlays", env, "env-values.yaml"] => Some(FileKind::Overlay(env.to_string())),
        ["apps", app, "base", "base-values.yaml"] => Some(FileKind::Base(app.to_string())),
        ["apps", app, "envs", "previews", "common", "values.yaml"] => {
            Some(FileKind::PreviewCommon(app.to_string()))
        }
        [
            "apps",
            app,
            "envs",
            "previews",
            "pull-request-number",
            n,
            "values.yaml",
        ] => {
            return match n.parse::<u64>() {
                Ok(number) if number > 0 && !n.starts_with('0') => Ok(FileKind::PullRequest(app.to_string(), number)),
                _ => Err(Box::new(Diagnostic::new(
                    Code::InvalidName,
                    Location::file(path),
                    "",
                    format!("`{n}` is not a pull-request number"),
                )
                .help("name the folder after the pull request, e.g. pull-request-number/42/values.yaml"))),
            };
        }
        ["apps", _, "envs", "previews", ..] => None,
        ["apps", app, "envs", env, "values.yaml"] => {
            Some(FileKind::Env(app.to_string(), env.to_string()))
        }
        _ => None,
    };
    kind.ok_or_else(|| Box::new(unexpected(path, &parts)))
}

fn unexpected(path: &str, parts: &[&str]) -> Diagnostic {
    let name = parts.last().copied().unwrap_or_default();
    let expected = match parts {
        ["common", _] => Some("common-values.yaml"),
        ["env-overlays", _, _] => Some("env-values.yaml"),
        ["apps", _, "base", _] => Some("base-values.yaml"),
        ["apps", _, "envs", _, _] | ["apps", _, "envs", "previews", "common", _] => {
            Some("values.yaml")
        }
        ["apps", _, "envs", "previews", "pull-request-number", _, _] => Some("values.yaml"),
        _ => None,
    };
    // A near miss of the file's expected name is a mistake that would drop its values; any
    // other file is one GlueOps never reads: a warning.
    match expected.and_then(|e| did_you_mean(name, [e])) {
        Some(e) => Diagnostic::new(
            Code::UnexpectedFile,
            Location::file(path),
            "",
            format!("glueops does not read `{path}`"),
        )
        .help(format!(
            "rename it to `{e}`; glueops would silently ignore it otherwise"
        )),
        None => Diagnostic::new(
            Code::UnexpectedFile,
            Location::file(path),
            "",
            format!("`{path}` is not a file GlueOps reads; glueops ignores it too"),
        )
        .help(match expected {
            Some(e) => format!("the file in this folder is called `{e}`; {LAYOUT}"),
            None => format!("move or remove it; {LAYOUT}"),
        })
        .warning(),
    }
}

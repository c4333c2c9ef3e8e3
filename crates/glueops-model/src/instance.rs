//! [`AppInstance`]: one app in one environment, or in one pull-request preview.

use crate::node::{Node, Segment};
use crate::values::AppValues;

/// Where an app instance runs: an environment, or a pull-request preview.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Placement {
    /// A declared environment.
    Environment(String),
    /// The preview of a pull request.
    Preview {
        /// Pull-request number.
        number: u64,
        /// The preview's hostname from `previews.hostnamePattern`.
        hostname: String,
    },
}

/// One app in one environment (or one preview): everything the renderer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct AppInstance {
    /// The app (folder name under `apps/`).
    pub app: String,
    /// Where it runs.
    pub placement: Placement,
    /// `<app>-<env>` or `<app>-pr-<N>`: the value of `{{ .Values.glueops_app_name }}` and the
    /// name of its delivery object (Argo CD Application or Flux Kustomization).
    pub name: String,
    /// The cluster it runs on.
    pub cluster: String,
    /// The cluster's captain domain: the value of `{{ .Values.captain_domain }}`.
    pub captain_domain: String,
    /// The namespace it runs in.
    pub namespace: String,
    /// The merged values, typed, with hostname templates resolved.
    pub values: AppValues,
    /// The merged values as written (templates unresolved), every leaf located in the layer
    /// that set it.
    pub tree: Node,
}

impl AppInstance {
    /// The environment, for a deployment to an environment.
    pub fn environment(&self) -> Option<&str> {
        match &self.placement {
            Placement::Environment(e) => Some(e),
            Placement::Preview { .. } => None,
        }
    }

    /// The pull-request number, for a preview.
    pub fn preview_number(&self) -> Option<u64> {
        match &self.placement {
            Placement::Preview { number, .. } => Some(*number),
            Placement::Environment(_) => None,
        }
    }

    /// Every ingress hostname (templates resolved) with the key path it was written at.
    pub fn hostnames(&self) -> Vec<(String, Vec<Segment>)> {
        let mut out = Vec::new();
        let Some(ingress) = &self.values.ingress else {
            return out;
        };
        if ingress.enabled != Some(true) {
            return out;
        }
        for (i, entry) in ingress.entries.iter().flatten().enumerate() {
            for (j, host) in entry.hosts.iter().flatten().enumerate() {
                if let Some(h) = &host.hostname {
                    out.push((h.clone(), hostname_path(i, j)));
                }
            }
        }
        out
    }
}

/// The key path of `ingress.entries[entry].hosts[host].hostname`.
pub(crate) fn hostname_path(entry: usize, host: usize) -> Vec<Segment> {
    vec![
        Segment::from("ingress"),
        Segment::from("entries"),
        Segment::Index(entry),
        Segment::from("hosts"),
        Segment::Index(host),
        Segment::from("hostname"),
    ]
}

/// A pull-request preview as a command line names it: `<app>:<N>[:<head sha>]`, or `pr-<N>`
/// in the place of an environment once the app is known.
///
/// ```
/// use glueops_model::PreviewRef;
/// let p: PreviewRef = "web:42:4f2a9c1".parse().unwrap();
/// assert_eq!((p.app.as_str(), p.number, p.head_sha.as_deref()), ("web", 42, Some("4f2a9c1")));
/// assert_eq!(PreviewRef::in_place_of_env("web", "pr-7").unwrap().unwrap().number, 7);
/// assert!(PreviewRef::in_place_of_env("web", "staging").is_none());
/// assert!("web:seven".parse::<PreviewRef>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRef {
    /// The app.
    pub app: String,
    /// The pull-request number.
    pub number: u64,
    /// The pull request's head commit, when given.
    pub head_sha: Option<String>,
}

/// Text that does not name a preview, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not {expected}")]
pub struct InvalidPreviewRef {
    /// The text as given.
    pub input: String,
    /// The form expected.
    pub expected: &'static str,
}

impl PreviewRef {
    /// `pr-<N>` given where an environment of `app` goes: `None` when `env` does not start
    /// with `pr-` (it names an environment).
    pub fn in_place_of_env(app: &str, env: &str) -> Option<Result<PreviewRef, InvalidPreviewRef>> {
        let number = env.strip_prefix("pr-")?;
        Some(
            pull_request_number(number, env, "pr-<pull-request number>").map(|number| PreviewRef {
                app: app.to_string(),
                number,
                head_sha: None,
            }),
        )
    }
}

impl std::str::FromStr for PreviewRef {
    type Err = InvalidPreviewRef;

    /// Parses `<app>:<N>[:<head sha>]` (the sha: 7 to 64 hex digits).
    fn from_str(s: &str) -> Result<Self, InvalidPreviewRef> {
        const EXPECTED: &str = "<app>:<pull-request number>[:<head sha>]";
        let mut parts = s.splitn(3, ':');
        let (Some(app), Some(number)) = (parts.next(), parts.next()) else {
            return Err(InvalidPreviewRef {
                input: s.to_string(),
                expected: EXPECTED,
            });
        };
        let head_sha = parts.next().map(str::to_string);
        if app.is_empty()
            || head_sha
                .as_deref()
                .is_some_and(|sha| crate::check::commit_id(sha).is_err())
        {
            return Err(InvalidPreviewRef {
                input: s.to_string(),
                expected: EXPECTED,
            });
        }
        Ok(PreviewRef {
            app: app.to_string(),
            number: pull_request_number(number, s, EXPECTED)?,
            head_sha,
        })
    }
}

/// A pull-request number: digits, at least 1.
fn pull_request_number(
    digits: &str,
    input: &str,
    expected: &'static str,
) -> Result<u64, InvalidPreviewRef> {
    digits
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0 && digits.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| InvalidPreviewRef {
            input: input.to_string(),
            expected,
        })
}

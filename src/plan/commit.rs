//! The parts of a plan after the comparison: the delete guard, the edit, the commit's title
//! and trailers.

use std::collections::BTreeSet;

use super::{
    Change, ConfigState, Deployment, Group, Held, ManifestState, Plan, Refusal, Request, Scope,
};
use crate::git::{ChangeSet, Edit, Trailer};
use crate::trailers as t;

/// A plan that removes deployments the config did not delete, or every deployment, is refused.
pub(super) fn guard(
    deployments: &[Deployment],
    removes_all: bool,
    since: Option<&ChangeSet>,
    allow_delete: bool,
) -> Option<Refusal> {
    if allow_delete {
        return None;
    }
    let deleted: BTreeSet<&str> = since
        .iter()
        .flat_map(|s| &s.removed)
        .map(String::as_str)
        .collect();
    let unexplained: Vec<String> = deployments
        .iter()
        .filter(|d| d.change == Change::Removed)
        .filter(|d| {
            !deleted.contains(format!("apps/{}/envs/{}/values.yaml", d.app, d.env).as_str())
        })
        .map(|d| format!("{}/{}", d.app, d.env))
        .collect();
    if removes_all {
        return Some(Refusal {
            reason: "the plan would remove every deployment".into(),
            help: "check the config repo (an empty or failed checkout looks like this); pass --allow-delete if this is really meant".into(),
        });
    }
    if unexplained.is_empty() {
        return None;
    }
    Some(Refusal {
        reason: format!(
            "the plan would remove {} deployment(s) whose envs/<env>/values.yaml the applied config commits did not delete: {}",
            unexplained.len(),
            unexplained.join(", ")
        ),
        help: "delete apps/<app>/envs/<env>/values.yaml to remove a deployment, or pass --allow-delete".into(),
    })
}

#[derive(Default)]
pub(super) struct Builder {
    pub(super) edit: Edit,
    pub(super) written: Vec<String>,
    pub(super) removed: Vec<String>,
    pub(super) repaired: Vec<String>,
    pub(super) deployments: Vec<Deployment>,
    pub(super) held: Vec<Held>,
}

impl Builder {
    /// Writes what differs, removes (when `remove`) what is no longer rendered; the paths.
    pub(super) fn files(&mut self, w: &Group<'_>, h: &Group<'_>, remove: bool) -> Vec<String> {
        let mut touched = Vec::new();
        for (path, (id, bytes)) in w {
            if h.get(path).is_some_and(|(i, _)| i == id) {
                continue;
            }
            if *bytes {
                self.written.push((*path).to_string());
                touched.push((*path).to_string());
            }
        }
        if remove {
            for path in h.keys().filter(|p| !w.contains_key(*p)) {
                if self.edit.remove(path).is_ok() {
                    self.removed.push((*path).to_string());
                    touched.push((*path).to_string());
                }
            }
        }
        touched
    }

    pub(super) fn finish(
        self,
        config: &ConfigState<'_>,
        manifests: &ManifestState,
        scope: Scope,
        request: &Request,
        refused: Option<Refusal>,
    ) -> Plan {
        let config_commit = config.commit.map(str::to_string);
        let mut trailers: Vec<Trailer> = Vec::new();
        let mut push = |k: &str, v: String| trailers.extend(t::make(k, v));
        push(
            t::CONFIG,
            config_commit.clone().unwrap_or_else(|| "folder".into()),
        );
        let config_value = config.commit.unwrap_or("folder");
        for d in &self.deployments {
            let target = format!("{}/{}", d.app, d.env);
            match d.change {
                _ if d.repair => {}
                Change::Removed => push(t::REMOVE, target),
                _ => push(
                    t::DEPLOY,
                    format!(
                        "{target} tag={} config={config_value}",
                        d.tag.as_deref().unwrap_or("-")
                    ),
                ),
            }
        }
        for h in &self.held {
            push(t::HELD, format!("{}/{}", h.app, h.env));
        }
        let released = |app: &str, env: &str| {
            self.deployments
                .iter()
                .any(|d| d.app == app && d.env == env)
        };
        match request {
            Request::Promote {
                app,
                env,
                from,
                tag,
                approved_by,
            } if released(app, env) => push(
                t::PROMOTION,
                format!(
                    "{app}/{env} from={from} tag={tag} approved-by={}",
                    approved_by.join(",")
                ),
            ),
            Request::Rollback {
                app,
                env,
                tag,
                reason,
            } if released(app, env) => {
                push(t::ROLLBACK, format!("{app}/{env} to={tag} reason={reason}"));
            }
            Request::Approved { approved_by }
                if !approved_by.is_empty() && self.deployments.iter().any(|d| !d.repair) =>
            {
                push(t::APPROVED, approved_by.join(","));
            }
            _ => {}
        }
        for r in self.repaired.iter().take(100) {
            push(t::REPAIRED, r.clone());
        }
        trailers.extend(config.carried.iter().cloned());
        let title = title(&self.deployments, request, &self.repaired);
        Plan {
            base: manifests.head.as_ref().map(|h| h.commit.clone()),
            config: config_commit,
            scope,
            whole_config: config.complete,
            deployments: self.deployments,
            held: self.held,
            repaired: self.repaired,
            written: self.written,
            removed: self.removed,
            refused,
            title,
            edit: self.edit,
            trailers,
        }
    }
}

fn title(deployments: &[Deployment], request: &Request, repaired: &[String]) -> String {
    match request {
        Request::Promote { app, env, tag, .. } => {
            return format!("promote {app} to {env} at {tag}");
        }
        Request::Rollback { app, env, tag, .. } => {
            return format!("roll back {app} in {env} to {tag}");
        }
        Request::Sync | Request::Approved { .. } => {}
    }
    let released: Vec<&Deployment> = deployments.iter().filter(|d| !d.repair).collect();
    match released.as_slice() {
        [] if !repaired.is_empty() => format!("restore {} hand-edited file(s)", repaired.len()),
        [] => "sync platform files".to_string(),
        [d] => format!(
            "release {}/{}{}",
            d.app,
            d.env,
            d.tag
                .as_deref()
                .map(|t| format!(" at {t}"))
                .unwrap_or_default()
        ),
        many => format!("release {} deployments", many.len()),
    }
}

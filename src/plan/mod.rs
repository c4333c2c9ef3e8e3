//! The pure heart of the loop: from (config state, manifest state, request, now) to a
//! [`Plan`] — the files to write and remove on the manifest branch, what each deployment
//! does, what the gates hold, and the commit's message and trailers.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::Error;

mod commit;
mod gates;

use crate::gate::{self, Hold};
use crate::git::{ChangeSet, Edit, HistoryEntry, Trailer};
use crate::model::Repo;
use crate::render::{Layout, Owner};
use crate::trailers as t;
use commit::{Builder, guard};
use gates::{evidence_of, holds, releasing};

/// The config side of a plan.
#[derive(Debug, Clone, Copy)]
pub struct ConfigState<'a> {
    /// The loaded, valid config repo.
    pub repo: &'a Repo,
    /// Its commit, when it is a git repository.
    pub commit: Option<&'a str>,
    /// What changed in it since the config commit of glueops' newest commit on the manifest
    /// branch, when both are known.
    pub since: Option<&'a ChangeSet>,
    /// Trailers of the config commits being applied that the release records
    /// (`Glueops-Source-Commit`, `Glueops-Source-Time`).
    pub carried: &'a [Trailer],
    /// False when only the apps in scope were loaded.
    pub complete: bool,
}

/// The manifest side of a plan.
#[derive(Debug, Clone, Default)]
pub struct ManifestState {
    /// The branch's head commit; `None` when the branch does not exist yet.
    pub head: Option<HistoryEntry>,
    /// glueops' newest commit on the branch (the head, unless someone wrote after it).
    pub last_own: Option<HistoryEntry>,
    /// The files listed (path → blob id): everything under `clusters/` for a full plan, the
    /// folders of the deployments in scope and the delivery folders otherwise.
    pub files: BTreeMap<String, String>,
    /// For the verification gates (`promotion.requires`): what is known of the release in
    /// the environment promoted from, by (app, environment gated).
    pub verification: BTreeMap<(String, String), crate::gate::Evidence>,
}

/// Which deployments a plan looks at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "mode")]
pub enum Scope {
    /// Every deployment: a first sync, a change to everything, or a branch someone else wrote.
    Full {
        /// Why.
        reason: String,
    },
    /// Only these (app, env) deployments (the config change touched them, or a gate held them).
    Deployments {
        /// `<app>/<env>`.
        deployments: BTreeSet<String>,
    },
}

/// What the caller asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Release what the gates allow.
    Sync,
    /// Release what the gates allow; `app` in `env` with these approvals.
    Promote {
        /// The app.
        app: String,
        /// The environment promoted to.
        env: String,
        /// The environment promoted from.
        from: String,
        /// The tag promoted.
        tag: String,
        /// Who approved (verified by the caller).
        approved_by: Vec<String>,
    },
    /// Release what the gates allow, counting `approved_by` (the approvals recorded for the
    /// config commit being released, e.g. reviews of its pull request) at every gate.
    Approved {
        /// Who approved (verified by the caller).
        approved_by: Vec<String>,
    },
    /// Release `app` in `env` at once, gates bypassed.
    Rollback {
        /// The app.
        app: String,
        /// The environment.
        env: String,
        /// The tag rolled back to.
        tag: String,
        /// Why.
        reason: String,
    },
}

impl Request {
    /// The deployment whose gate the request answers.
    pub fn target(&self) -> Option<(&str, &str)> {
        match self {
            Request::Sync | Request::Approved { .. } => None,
            Request::Promote { app, env, .. } | Request::Rollback { app, env, .. } => {
                Some((app, env))
            }
        }
    }
}

/// How one deployment changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// First release.
    Added,
    /// New files.
    Changed,
    /// Its files are removed.
    Removed,
}

/// One deployment the plan releases.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deployment {
    /// The app.
    pub app: String,
    /// The environment.
    pub env: String,
    /// Added, changed or removed.
    pub change: Change,
    /// The image tag it runs afterwards.
    pub tag: Option<String>,
    /// Files written or removed.
    pub files: usize,
    /// Only files someone else changed were restored: the release stays the same.
    pub repair: bool,
    /// Its ingress hostnames in the config released (none when removed or without ingress).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
}

/// A deployment whose change a gate holds back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Held {
    /// The app.
    pub app: String,
    /// The environment.
    pub env: String,
    /// Every rule that holds it.
    pub holds: Vec<Hold>,
}

/// Why a plan is refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    /// What the plan would have done.
    pub reason: String,
    /// How to go ahead anyway, or what to fix.
    pub help: String,
}

/// The outcome of planning: printable, serializable, and the edit [`crate::sync`] commits.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The manifest commit planned on.
    pub base: Option<String>,
    /// The config commit rendered.
    pub config: Option<String>,
    /// Which deployments were looked at.
    pub scope: Scope,
    /// Whether the whole config was loaded (otherwise only the apps in scope, their claims
    /// checked against the others').
    pub whole_config: bool,
    /// Deployments released.
    pub deployments: Vec<Deployment>,
    /// Deployments a gate holds.
    pub held: Vec<Held>,
    /// Files someone else changed that the plan restores.
    pub repaired: Vec<String>,
    /// Files written.
    pub written: Vec<String>,
    /// Files removed.
    pub removed: Vec<String>,
    /// Set when the plan must not be applied.
    pub refused: Option<Refusal>,
    /// The commit message's subject.
    pub title: String,
    #[serde(skip)]
    pub(crate) edit: Edit,
    #[serde(skip)]
    pub(crate) trailers: Vec<Trailer>,
}

impl Plan {
    /// True when applying it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.edit.is_empty()
    }

    /// The trailers the commit carries.
    pub fn trailers(&self) -> &[Trailer] {
        &self.trailers
    }
}

/// What [`scope`] needs to know of the config without loading it; `None` when it cannot be
/// read (the plan then looks at everything).
pub trait ConfigIndex {
    /// The environments `app` deploys to.
    fn envs_of(&self, app: &str) -> Option<Vec<String>>;
    /// The (app, env) deployments of the environments in `namespace` (an overlay's folder).
    fn in_namespace(&self, namespace: &str) -> Option<Vec<(String, String)>>;
}

/// The config's own answers for [`ConfigIndex`], when it is loaded whole.
impl ConfigIndex for Repo {
    fn envs_of(&self, app: &str) -> Option<Vec<String>> {
        Some(
            self.deployments()
                .filter(|d| d.app == app)
                .filter_map(|d| d.environment().map(str::to_string))
                .collect(),
        )
    }

    fn in_namespace(&self, namespace: &str) -> Option<Vec<(String, String)>> {
        let platform = self.platform();
        Some(
            self.deployments()
                .filter_map(|d| {
                    let env = d.environment()?;
                    let e = platform.environment(env)?;
                    (e.namespace() == namespace).then(|| (d.app.clone(), env.to_string()))
                })
                .collect(),
        )
    }
}

/// The deployments (`<app>/<env>`) a config change touches: an environment's values → that
/// deployment, an app's base → its environments, an overlay → the deployments in its
/// namespace, previews' values and files the model does not read → none. `Err` (why) when it
/// touches everything: `glueops.yaml`, `common/`, a file added or removed, or an index that
/// cannot answer.
fn touched(since: &ChangeSet, index: &dyn ConfigIndex) -> Result<BTreeSet<String>, &'static str> {
    let read = |p: &str| {
        p == "glueops.yaml"
            || ["apps/", "common/", "env-overlays/"]
                .iter()
                .any(|d| p.starts_with(d))
    };
    let previews = |p: &str| p.starts_with("apps/") && p.split('/').nth(3) == Some("previews");
    if since
        .added
        .iter()
        .chain(&since.removed)
        .any(|p| read(p) && !previews(p))
    {
        return Err("a config file was added or removed");
    }
    let mut out = BTreeSet::new();
    for path in since.modified.iter().filter(|p| read(p) && !previews(p)) {
        match path.split('/').collect::<Vec<_>>().as_slice() {
            ["apps", app, "envs", env, _, ..] => {
                out.insert(format!("{app}/{env}"));
            }
            ["apps", app, "base", _, ..] => {
                let envs = index
                    .envs_of(app)
                    .ok_or("the environments of a changed app cannot be read")?;
                out.extend(envs.iter().map(|e| format!("{app}/{e}")));
            }
            ["env-overlays", namespace, _, ..] => {
                let pairs = index
                    .in_namespace(namespace)
                    .ok_or("the deployments of a changed overlay cannot be read")?;
                out.extend(pairs.iter().map(|(a, e)| format!("{a}/{e}")));
            }
            _ => return Err("glueops.yaml or common values changed"),
        }
    }
    Ok(out)
}

/// The deployments glueops' last commit left held (`Glueops-Held`).
fn held(manifests: &ManifestState) -> impl Iterator<Item = String> + '_ {
    manifests
        .last_own
        .iter()
        .flat_map(|o| t::values(o, t::HELD))
        .filter_map(t::parse_deployment)
        .map(|((app, env), _)| format!("{app}/{env}"))
}

/// The deployments a plan must look at: those the config change since glueops' last commit
/// touched (see `touched`), those a gate held then, and the request's. A plan looks at
/// everything when the branch is new or someone else wrote it last, when the config history is
/// unknown, or when the change touches everything.
pub fn scope(
    since: Option<&ChangeSet>,
    manifests: &ManifestState,
    request: &Request,
    index: &dyn ConfigIndex,
) -> Scope {
    let full = |reason: &str| Scope::Full {
        reason: reason.to_string(),
    };
    let Some(head) = &manifests.head else {
        return full("the manifest branch does not exist yet");
    };
    let own = manifests
        .last_own
        .as_ref()
        .is_some_and(|o| o.commit == head.commit);
    if !own {
        return full(&format!(
            "the branch head {} was not written by glueops: every file is compared",
            short(&head.commit)
        ));
    }
    let Some(since) = since else {
        return full("the config commit of the last release is unknown");
    };
    let mut deployments = match touched(since, index) {
        Ok(d) => d,
        Err(reason) => return full(reason),
    };
    deployments.extend(held(manifests));
    if let Some((app, env)) = request.target() {
        deployments.insert(format!("{app}/{env}"));
    }
    Scope::Deployments { deployments }
}

pub(crate) fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Files of one owner: path → (blob id, whether it was rendered).
pub(super) type Group<'a> = BTreeMap<&'a str, (String, bool)>;

/// Plans a sync (or a promotion or rollback, which are syncs with one deployment's gate
/// answered) from rendered files. `rendered` holds the files of the deployments in `scope`
/// and every platform file, as [`glueops_render::render_selected`] gives them.
pub fn plan(
    config: &ConfigState<'_>,
    manifests: &ManifestState,
    scope: Scope,
    mut rendered: crate::files::Files,
    request: &Request,
    now: Timestamp,
    allow_delete: bool,
) -> Result<Plan, Error> {
    let repo = config.repo;
    let platform = repo.platform();
    let layout = Layout::new(platform);
    let delivery = delivery_owners(repo, manifests, &layout);
    let key = |path: &str| -> Option<Key> {
        match layout.owner_of(path) {
            Owner::Deployment { app, env, .. } => Some(Key::Deployment(app, env)),
            Owner::Delivery { .. } => Some(match delivery.get(path) {
                Some((a, e)) => Key::Deployment(a.clone(), e.clone()),
                None => Key::Platform,
            }),
            Owner::Preview { .. } | Owner::Foreign => None,
        }
    };
    let (want, have) = groups(&rendered, manifests, &key);
    let bootstrap =
        manifests.head.is_none() || !have.keys().any(|k| matches!(k, Key::Deployment(..)));
    let in_scope = |app: &str, env: &str| match &scope {
        Scope::Full { .. } => true,
        Scope::Deployments { deployments } => deployments.contains(&format!("{app}/{env}")),
    };
    let foreign_head = matches!(&scope, Scope::Full { .. })
        && manifests.head.is_some()
        && manifests.last_own.as_ref().map(|o| &o.commit)
            != manifests.head.as_ref().map(|h| &h.commit);
    let expected = explained(config, manifests);
    let mut out = Builder::default();
    let keys: BTreeSet<&Key> = want.keys().chain(have.keys()).collect();
    let empty = Group::new();
    let releasing = releasing(&keys, (&want, &have), &scope, platform);
    let fresh = crate::gate::Evidence {
        config: config.commit.map(str::to_string),
        released_at: Some(now.as_second()),
        ..crate::gate::Evidence::default()
    };
    for k in keys {
        let (w, h) = (want.get(k).unwrap_or(&empty), have.get(k).unwrap_or(&empty));
        let Key::Deployment(app, env) = k else {
            // Platform files (Namespaces, projects, the source) follow glueops.yaml and the set
            // of deployments, which only a full plan sees change.
            if matches!(&scope, Scope::Full { .. }) {
                out.files(w, h, true);
            }
            continue;
        };
        if !in_scope(app, env) || same(w, h) {
            continue;
        }
        // A difference in a deployment the config did not change is someone else's edit.
        let hand_edit = foreign_head
            && expected
                .as_ref()
                .is_some_and(|e| !e.contains(&format!("{app}/{env}")) && !h.is_empty());
        let environment = platform.environment(env);
        let gated = environment.is_some_and(gate::is_gated) && !bootstrap && !hand_edit;
        if gated
            && let Some(environment) = environment
            && let Some(holds) = holds(
                environment,
                request,
                (app, env),
                now,
                evidence_of(manifests, environment, (app, env), &releasing, &fresh),
            )
        {
            out.held.push(Held {
                app: app.clone(),
                env: env.clone(),
                holds,
            });
            continue;
        }
        release(&mut out, repo, (app, env), (w, h), hand_edit);
    }
    let had = have.keys().any(|k| matches!(k, Key::Deployment(..)));
    // The rendered bytes move into the edit (a first sync holds every file once, not twice).
    drop(want);
    for path in &out.written {
        if let Some(bytes) = rendered.remove(path) {
            out.edit.write(path, bytes)?;
        }
    }
    let empty_config = config.complete && repo.deployments().next().is_none();
    let refused = guard(
        &out.deployments,
        had && empty_config,
        config.since,
        allow_delete,
    );
    Ok(out.finish(config, manifests, scope, request, refused))
}

/// Who a file belongs to, for grouping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Key {
    Platform,
    Deployment(String, String),
}

/// The deployments the config change since glueops' last commit explains, and those held
/// (`None`: everything).
fn explained(config: &ConfigState<'_>, manifests: &ManifestState) -> Option<BTreeSet<String>> {
    config
        .since
        .and_then(|s| touched(s, config.repo).ok())
        .map(|mut d| {
            d.extend(held(manifests));
            d
        })
}

/// Releases a deployment that changed: its files written and removed, and its line in the
/// plan (a hand edit's files also listed as repaired).
fn release(
    out: &mut Builder,
    repo: &Repo,
    (app, env): (&String, &String),
    (w, h): (&Group<'_>, &Group<'_>),
    hand_edit: bool,
) {
    let change = match (h.is_empty(), w.is_empty()) {
        (true, _) => Change::Added,
        (false, true) => Change::Removed,
        (false, false) => Change::Changed,
    };
    let touched = out.files(w, h, true);
    if hand_edit {
        out.repaired.extend(touched.iter().cloned());
    }
    let instance = repo.deployment(app, env);
    let tag = instance
        .and_then(|d| d.values.image.as_ref())
        .and_then(|i| i.tag.clone());
    let hosts = instance
        .filter(|_| change != Change::Removed)
        .map(|d| d.hostnames().into_iter().map(|(h, _)| h).collect())
        .unwrap_or_default();
    out.deployments.push(Deployment {
        app: app.clone(),
        env: env.clone(),
        change,
        tag,
        files: touched.len(),
        repair: hand_edit,
        hosts,
    });
}

/// Who owns each delivery object (Argo CD Application, Flux Kustomization) by path: the
/// deployments of the config, and those of the folders on the branch (a deployment removed
/// from the config).
fn delivery_owners(
    repo: &Repo,
    manifests: &ManifestState,
    layout: &Layout,
) -> BTreeMap<String, (String, String)> {
    let mut delivery: BTreeMap<String, (String, String)> = BTreeMap::new();
    for d in repo.deployments() {
        if let Some(env) = d.environment() {
            delivery.insert(
                layout.delivery_file(&d.cluster, &d.name),
                (d.app.clone(), env.to_string()),
            );
        }
    }
    for path in manifests.files.keys() {
        if let Owner::Deployment { cluster, env, app } = layout.owner_of(path) {
            let file = layout.delivery_file(&cluster, &format!("{app}-{env}"));
            delivery.entry(file).or_insert((app, env));
        }
    }
    delivery
}

/// The rendered files and the branch's, grouped by owner.
fn groups<'a>(
    rendered: &'a crate::files::Files,
    manifests: &'a ManifestState,
    key: &impl Fn(&str) -> Option<Key>,
) -> (BTreeMap<Key, Group<'a>>, BTreeMap<Key, Group<'a>>) {
    let want = group(
        rendered.iter().map(|(p, b)| (p, crate::git::blob_id(b))),
        true,
        key,
    );
    let have = group(
        manifests
            .files
            .iter()
            .map(|(p, id)| (p.as_str(), id.clone())),
        false,
        key,
    );
    (want, have)
}

/// Files (path, blob id) grouped by owner; `rendered` marks which side they are.
fn group<'a>(
    files: impl Iterator<Item = (&'a str, String)>,
    rendered: bool,
    key: &impl Fn(&str) -> Option<Key>,
) -> BTreeMap<Key, Group<'a>> {
    let mut out: BTreeMap<Key, Group<'a>> = BTreeMap::new();
    for (path, id) in files {
        if let Some(k) = key(path) {
            out.entry(k).or_default().insert(path, (id, rendered));
        }
    }
    out
}

pub(super) fn same(w: &Group<'_>, h: &Group<'_>) -> bool {
    w.len() == h.len()
        && w.iter()
            .all(|(p, (id, _))| h.get(p).is_some_and(|(i, _)| i == id))
}

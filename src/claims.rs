//! Loading only the apps a config change touches, soundly: the rules that look across apps
//! (a hostname is one instance's per cluster; an object name one instance's per namespace)
//! need every app's claims. A full load leaves them in the cache beside the config clone, per
//! config commit; a partial load checks the changed apps' claims against the others' and
//! falls back to a full load (which reports the conflict, located) on any clash. The cache is
//! only ever a shortcut: without it, the load is whole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::Error;
use crate::checkout::{Checkout, load_apps};
use crate::model::Repo;

/// What one instance claims.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Claim {
    app: String,
    cluster: String,
    namespace: String,
    object: String,
    hostnames: Vec<String>,
}

/// Every instance's claims, by instance name.
type Claims = BTreeMap<String, Claim>;

/// How many commits' claims are kept.
const KEEP: usize = 16;

fn folder(checkout: &Checkout) -> PathBuf {
    checkout.repo.path().join("glueops-claims")
}

fn claims_of(repo: &Repo) -> Claims {
    repo.deployments()
        .chain(repo.previews())
        .map(|d| {
            (
                d.name.clone(),
                Claim {
                    app: d.app.clone(),
                    cluster: d.cluster.clone(),
                    namespace: d.namespace.clone(),
                    object: d.values.object_name(&d.name).to_string(),
                    hostnames: d.hostnames().into_iter().map(|(h, _)| h).collect(),
                },
            )
        })
        .collect()
}

/// Saves the claims of `repo` (the config at `commit`), best effort: a cache that cannot be
/// written only means the next load is whole.
pub(crate) fn remember(checkout: &Checkout, commit: &str, repo: &Repo) {
    save(checkout, commit, &claims_of(repo));
}

fn save(checkout: &Checkout, commit: &str, claims: &Claims) {
    let dir = folder(checkout);
    let Ok(json) = serde_json::to_vec(claims) else {
        return;
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let temp = dir.join(format!(".{commit}.{}.tmp", crate::checkout::unique()));
    if std::fs::write(&temp, json).is_ok() && std::fs::rename(&temp, dir.join(commit)).is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    prune(&dir);
}

/// Keeps the newest [`KEEP`] files.
fn prune(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= KEEP {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - KEEP] {
        let _ = std::fs::remove_file(path);
    }
}

fn read(checkout: &Checkout, commit: &str) -> Option<Claims> {
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes = std::fs::read(folder(checkout).join(commit)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The config at `commit` with only `apps` loaded, when `base`'s claims are cached and the
/// changed apps clash with none of the others; `None` when a whole load is needed. The
/// caller guarantees that between `base` and `commit` only files under `apps/<app>/` of
/// `apps` changed (no file added or removed).
pub(crate) fn load_partial(
    checkout: &Checkout,
    commit: &str,
    base: &str,
    apps: &BTreeSet<String>,
) -> Result<Option<Repo>, Error> {
    let Some(mut claims) = read(checkout, base) else {
        return Ok(None);
    };
    let repo = load_apps(&checkout.repo, commit, None, apps)?;
    claims.retain(|_, c| !apps.contains(&c.app));
    claims.extend(claims_of(&repo));
    if clashes(&claims) {
        return Ok(None);
    }
    save(checkout, commit, &claims);
    Ok(Some(repo))
}

/// Whether two instances claim one hostname on a cluster, or one object name in a namespace.
fn clashes(claims: &Claims) -> bool {
    let mut hosts: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    let mut objects: BTreeMap<(&str, &str, &str), &str> = BTreeMap::new();
    for (name, c) in claims {
        for h in &c.hostnames {
            if hosts
                .insert((&c.cluster, h), name)
                .is_some_and(|other| other != name)
            {
                return true;
            }
        }
        let key = (c.cluster.as_str(), c.namespace.as_str(), c.object.as_str());
        if objects.insert(key, name).is_some_and(|other| other != name) {
            return true;
        }
    }
    false
}

/// Validates the config at `base` with `path` (in `app`'s folder) edited: only that app when
/// `base`'s claims are cached and the edit clashes with no other app, the whole repo
/// otherwise (which reports any clash, located).
pub(crate) fn validate_edit(
    checkout: &Checkout,
    base: &str,
    app: &str,
    path: &str,
    bytes: &[u8],
) -> Result<(), Error> {
    if let Some(mut claims) = read(checkout, base) {
        let apps = BTreeSet::from([app.to_string()]);
        let repo = load_apps(&checkout.repo, base, Some((path, bytes)), &apps)?;
        claims.retain(|_, c| c.app != app);
        claims.extend(claims_of(&repo));
        if !clashes(&claims) {
            return Ok(());
        }
    }
    crate::checkout::load_at(&checkout.repo, base, Some((path, bytes))).map(|_| ())
}

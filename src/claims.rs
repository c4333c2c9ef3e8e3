//! Loading only the apps a config change touches, soundly: the rules that look across apps
//! (a hostname is one instance's per cluster; an object name one instance's per namespace)
//! need every app's claims. A full load leaves them in the cache beside the config clone, per
//! config commit; a partial load checks the changed apps' claims against the others' and
//! falls back to a full load (which reports the conflict, located) on any clash. The cache is
//! only ever a shortcut: without it, the load is whole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Error;
use crate::checkout::{Checkout, load_apps};
use crate::model::Repo;
use crate::session::{Claim, Claims};

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
    save(checkout, commit, claims_of(repo));
}

/// Keeps `claims` (of `commit`) in memory and writes them beside the clone for the next
/// process: at once in a one-shot command, off the request's path in a long-running one
/// (which has them in memory; a write that does not finish only makes a later process's
/// first load whole).
fn save(checkout: &Checkout, commit: &str, claims: Claims) {
    let claims = Arc::new(claims);
    let dir = folder(checkout);
    checkout
        .session
        .claims()
        .insert(dir.clone(), (commit.to_string(), Arc::clone(&claims)));
    if checkout.session.is_long_running() {
        let (dir, commit, claims) = (dir.clone(), commit.to_string(), Arc::clone(&claims));
        let spawned = std::thread::Builder::new()
            .name("glueops-claims".into())
            .spawn(move || write(&dir, &commit, &claims));
        if spawned.is_ok() {
            return;
        }
    }
    write(&dir, commit, &claims);
}

fn write(dir: &Path, commit: &str, claims: &Claims) {
    let Ok(json) = serde_json::to_vec(claims) else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let temp = dir.join(format!(".{commit}.{}.tmp", crate::checkout::unique()));
    if std::fs::write(&temp, json).is_ok() && std::fs::rename(&temp, dir.join(commit)).is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    prune(dir);
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

/// The claims of `commit`: taken from memory when this process wrote them last (the caller
/// saves the next commit's), read from the file otherwise.
fn take(checkout: &Checkout, commit: &str) -> Option<Claims> {
    match kept(checkout, commit, true) {
        // Unshared once the file is written; copied while the writer still holds them.
        Some(claims) => Some(Arc::try_unwrap(claims).unwrap_or_else(|a| Claims::clone(&a))),
        None => read(checkout, commit),
    }
}

/// The claims of `commit` kept in memory, if this process wrote them last (`remove`: taken
/// out, for a caller that saves the next commit's).
fn kept(checkout: &Checkout, commit: &str, remove: bool) -> Option<Arc<Claims>> {
    let key = folder(checkout);
    let mut last = checkout.session.claims();
    match last.get(&key) {
        Some((c, _)) if c == commit && remove => last.remove(&key).map(|(_, claims)| claims),
        Some((c, claims)) if c == commit => Some(Arc::clone(claims)),
        _ => None,
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
    let Some(mut claims) = take(checkout, base) else {
        return Ok(None);
    };
    let repo = load_apps(&checkout.repo, commit, None, apps)?;
    let changed = claims_of(&repo);
    if clash_with(&claims, apps, &changed) {
        return Ok(None);
    }
    claims.retain(|_, c| !apps.contains(&c.app));
    claims.extend(changed);
    if commit == base {
        // The same commit's claims: back into memory, the file is already there.
        checkout
            .session
            .claims()
            .insert(folder(checkout), (commit.to_string(), Arc::new(claims)));
    } else {
        save(checkout, commit, claims);
    }
    Ok(Some(repo))
}

/// Whether `changed` (the claims of `apps`, just loaded) clash with each other or with the
/// other apps' claims in `base` (a set saved clash-free: a whole load refuses a clash, a
/// partial one is saved only without one). A few changed instances are compared one by one
/// with every other; many, through an index of the whole set.
fn clash_with(base: &Claims, apps: &BTreeSet<String>, changed: &Claims) -> bool {
    const ONE_BY_ONE: usize = 32;
    let others = || base.iter().filter(|(_, c)| !apps.contains(&c.app));
    if changed.len() > ONE_BY_ONE {
        let mut all: Claims = others().map(|(k, v)| (k.clone(), v.clone())).collect();
        all.extend(changed.iter().map(|(k, v)| (k.clone(), v.clone())));
        return clashes(&all);
    }
    changed.iter().any(|(name, c)| {
        others().chain(changed).any(|(other, o)| {
            other != name
                && o.cluster == c.cluster
                && ((o.namespace == c.namespace && o.object == c.object)
                    || o.hostnames.iter().any(|h| c.hostnames.contains(h)))
        })
    })
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
    let apps = BTreeSet::from([app.to_string()]);
    let repo = load_apps(&checkout.repo, base, Some((path, bytes)), &apps)?;
    let changed = claims_of(&repo);
    let known = kept(checkout, base, false).or_else(|| read(checkout, base).map(Arc::new));
    if known.is_some_and(|claims| !clash_with(&claims, &apps, &changed)) {
        return Ok(());
    }
    crate::checkout::load_at(&checkout.repo, base, Some((path, bytes))).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn claim(app: u8, cluster: u8, namespace: u8, object: u8, hosts: &[u8]) -> Claim {
        Claim {
            app: format!("a{app}"),
            cluster: format!("c{cluster}"),
            namespace: format!("n{namespace}"),
            object: format!("o{object}"),
            hostnames: hosts.iter().map(|h| format!("h{h}.example")).collect(),
        }
    }

    /// Instances `<app>-<i>` built from small numbers, so that clashes are common.
    fn claims(raw: &[(u8, u8, u8, u8, Vec<u8>)]) -> Claims {
        raw.iter()
            .enumerate()
            .map(|(i, (app, cl, ns, ob, hosts))| {
                (format!("a{app}-{i}"), claim(*app, *cl, *ns, *ob, hosts))
            })
            .collect()
    }

    fn raw(
        apps: std::ops::Range<u8>,
        n: usize,
    ) -> impl Strategy<Value = Vec<(u8, u8, u8, u8, Vec<u8>)>> {
        prop::collection::vec(
            (
                apps,
                0..2u8,
                0..3u8,
                0..6u8,
                prop::collection::vec(0..12u8, 0..3),
            ),
            0..n,
        )
    }

    proptest! {
        /// Checking only the changed instances against the others answers what checking the
        /// whole merged set answers, whenever the others were clash-free (the saved sets are),
        /// both one by one and through the index (more than 32 changed).
        #[test]
        fn the_changed_apps_alone_decide_as_the_whole_set_does(
            base in raw(0..4, 24),
            changed in raw(2..4, 48),
        ) {
            let base = claims(&base);
            let apps: BTreeSet<String> = ["a2".to_string(), "a3".to_string()].into();
            let others: Claims = base.iter().filter(|(_, c)| !apps.contains(&c.app))
                .map(|(k, v)| (k.clone(), v.clone())).collect();
            prop_assume!(!clashes(&others));
            let changed: Claims = claims(&changed).into_iter()
                .map(|(k, v)| (format!("new-{k}"), v)).collect();
            let mut all = others.clone();
            all.extend(changed.clone());
            prop_assert_eq!(clash_with(&base, &apps, &changed), clashes(&all));
        }
    }

    #[test]
    fn a_hostname_or_an_object_name_taken_on_the_same_cluster_clashes() {
        let base = claims(&[(0, 0, 0, 0, vec![1]), (1, 1, 0, 0, vec![2])]);
        let apps = BTreeSet::from(["a5".to_string()]);
        let one = |c: Claim| Claims::from([("a5-x".to_string(), c)]);
        assert!(clash_with(&base, &apps, &one(claim(5, 0, 1, 9, &[1]))));
        assert!(clash_with(&base, &apps, &one(claim(5, 0, 0, 0, &[]))));
        assert!(!clash_with(&base, &apps, &one(claim(5, 0, 1, 0, &[2]))));
        // The app's own old claims do not count: they are replaced.
        let apps = BTreeSet::from(["a0".to_string()]);
        assert!(!clash_with(&base, &apps, &one(claim(0, 0, 0, 0, &[1]))));
    }
}

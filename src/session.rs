//! [`Session`]: what a caller of the loop keeps between calls — the branch tips it pushed or
//! fetched, and the claims of the config commits it loaded. A value the caller owns: two
//! sessions in one process share nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// The state one caller of the loop keeps between calls. [`Options::new`](crate::Options::new)
/// starts a one-shot session (it remembers claims in memory for the calls that share it, and
/// always fetches before planning); a long-running caller that is its branches' usual writer
/// (`glueops serve`, a controller) uses [`Session::long_running`], shared by every call on one
/// config/manifest pair through [`Options::session`](crate::Options::session).
///
/// ```
/// use glueops::Session;
/// let server = Session::long_running();
/// let other = Session::default();
/// assert!(server.is_long_running() && !other.is_long_running());
/// assert_eq!(server.known_tip("https://git.example/acme/manifests.git", "main"), None);
/// ```
#[derive(Debug, Default)]
pub struct Session {
    long_running: bool,
    tips: Mutex<BTreeMap<(String, String), Tip>>,
    claims: Mutex<BTreeMap<PathBuf, (String, Arc<Claims>)>>,
}

impl Session {
    /// A session for a long-running caller that writes its branches: it plans on the tip it
    /// pushed last instead of fetching first, and pushes with a compare-and-swap on that tip
    /// (`git push --force-with-lease`); when another writer moved (or rewound) the branch, the
    /// push is refused, the branch fetched and the plan made again. Claims are written to the
    /// cache off the request's path.
    pub fn long_running() -> Session {
        Session {
            long_running: true,
            ..Session::default()
        }
    }

    /// Whether this session plans on the tips it pushed ([`Session::long_running`]).
    pub fn is_long_running(&self) -> bool {
        self.long_running
    }

    /// The tip of `branch` at `remote` this session knows (`Some(None)`: the branch did not
    /// exist), when it is long-running and pushed or fetched that branch.
    pub fn known_tip(&self, remote: &str, branch: &str) -> Option<Option<String>> {
        if !self.long_running {
            return None;
        }
        self.tips()
            .get(&(remote.to_string(), branch.to_string()))
            .map(|t| t.commit.clone())
    }

    fn tips(&self) -> MutexGuard<'_, BTreeMap<(String, String), Tip>> {
        self.tips.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The commit this session pushed to `key`'s branch a moment ago, once (the next call
    /// answers `None` and the caller fetches), with its push still in flight when it is.
    pub(crate) fn take_just_pushed(&self, key: &TipKey) -> Option<(String, Option<Arc<Pending>>)> {
        if !self.long_running {
            return None;
        }
        let mut tips = self.tips();
        let tip = tips.get_mut(key).filter(|t| t.just_pushed)?;
        tip.just_pushed = false;
        Some((tip.commit.clone()?, tip.pending.clone()))
    }

    /// Remembers `key`'s tip (a long-running session only); `just_pushed` when this session
    /// pushed it, `pending` while that push is in flight.
    pub(crate) fn remember_tip(
        &self,
        key: TipKey,
        commit: Option<&str>,
        just_pushed: bool,
        pending: Option<Arc<Pending>>,
    ) {
        if self.long_running {
            let tip = Tip {
                commit: commit.map(str::to_string),
                just_pushed,
                pending,
            };
            self.tips().insert(key, tip);
        }
    }

    /// The push of `key`'s tip settled: nothing is pending on it any more.
    pub(crate) fn settled(&self, key: &TipKey) {
        if let Some(tip) = self.tips().get_mut(key) {
            tip.pending = None;
        }
    }

    /// Forgets `key`'s tip (another writer moved the branch).
    pub(crate) fn forget_tip(&self, key: &TipKey) {
        self.tips().remove(key);
    }

    /// The claims this session saved last, per config clone (its folder): the commit and its
    /// claims.
    pub(crate) fn claims(&self) -> MutexGuard<'_, BTreeMap<PathBuf, (String, Arc<Claims>)>> {
        self.claims.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A branch at a remote: (remote URL, branch).
pub(crate) type TipKey = (String, String);

/// A branch tip a session knows.
#[derive(Debug, Clone)]
struct Tip {
    /// The commit (`None`: the branch did not exist).
    commit: Option<String>,
    /// This session pushed it and nothing has read it since: the sync that follows a bump in
    /// the same batch reads the config at that commit instead of fetching it again (the bump
    /// fetched, or its compare-and-swap proved the tip, a moment ago).
    just_pushed: bool,
    /// Its push is still in flight (work planned on it waits for the outcome).
    pending: Option<Arc<Pending>>,
}

/// A push in flight, for work planned on its commit meanwhile: settled once, when the remote
/// accepted or refused it (refused also when the push failed, or its thread unwound).
#[derive(Debug)]
pub(crate) struct Pending {
    /// The commit being pushed.
    pub(crate) commit: String,
    accepted: Mutex<Option<bool>>,
    settled: std::sync::Condvar,
}

impl Pending {
    pub(crate) fn new(commit: &str) -> Pending {
        Pending {
            commit: commit.to_string(),
            accepted: Mutex::new(None),
            settled: std::sync::Condvar::new(),
        }
    }

    pub(crate) fn settle(&self, accepted: bool) {
        let mut slot = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(accepted);
        self.settled.notify_all();
    }

    /// Waits for the push; true when the remote accepted it.
    pub(crate) fn accepted(&self) -> bool {
        let mut slot = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(accepted) = *slot {
                return accepted;
            }
            slot = self.settled.wait(slot).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// What one instance claims: the names and hostnames no other instance may take.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Claim {
    pub(crate) app: String,
    pub(crate) cluster: String,
    pub(crate) namespace: String,
    pub(crate) object: String,
    pub(crate) hostnames: Vec<String>,
}

/// Every instance's claims, by instance name.
pub(crate) type Claims = BTreeMap<String, Claim>;

//! The write side shared by every flow: read the branch's state, let the flow plan on it,
//! commit the plan, push without force; when another writer moved the branch first, read the
//! new tip and plan again (level-triggered: the plan is always made on what is there).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::Error;
use crate::checkout::Checkout;
use crate::git::{Author, Edit, HistoryEntry, Trailer};
use crate::plan::ManifestState;
use crate::trailers as t;

/// How many times a push that lost the race is planned again.
pub(crate) const ATTEMPTS: u32 = 8;

/// What a flow wants committed.
#[derive(Debug, Default)]
pub(crate) struct Commit {
    pub(crate) edit: Edit,
    pub(crate) title: String,
    pub(crate) trailers: Vec<Trailer>,
}

/// The result of publishing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Published {
    /// Nothing changed: no commit.
    Unchanged,
    /// Pushed.
    Pushed {
        /// The new commit.
        commit: String,
        /// Attempts it took.
        attempts: u32,
    },
    /// Planned only.
    DryRun,
    /// The flow declined (refused or held): nothing committed.
    Declined,
}

/// The branch head and glueops' newest commit on it.
pub(crate) fn state_of(checkout: &Checkout, base: Option<&str>) -> Result<ManifestState, Error> {
    let Some(base) = base else {
        return Ok(ManifestState::default());
    };
    let head = checkout.repo.commit_info(base)?;
    let last_own = if is_own(&head) {
        Some(head.clone())
    } else {
        // Back to glueops' newest commit, and no further.
        let mut found = None;
        checkout.repo.walk_log(base, |entry| {
            if is_own(&entry) {
                found = Some(entry);
            }
            found.is_none()
        })?;
        found
    };
    Ok(ManifestState {
        head: Some(head),
        last_own,
        files: Default::default(),
    })
}

pub(crate) fn is_own(entry: &HistoryEntry) -> bool {
    t::value(entry, t::CONFIG).is_some()
}

/// The state trailers (`Glueops-Config`, `Glueops-Held`) of the head when glueops wrote it,
/// for commits that do not change deployments (previews): the next sync still knows where
/// it stands.
pub(crate) fn carry_state(state: &ManifestState) -> Vec<Trailer> {
    let Some(head) = state.head.as_ref().filter(|h| is_own(h)) else {
        return Vec::new();
    };
    head.trailers
        .iter()
        .filter(|tr| tr.key == t::CONFIG || tr.key == t::HELD)
        .cloned()
        .collect()
}

/// Plans on the branch tip and publishes, re-planning on a moved tip. `plan` returns `None`
/// to decline (nothing is committed) or the commit wanted.
pub(crate) fn publish<R>(
    checkout: &Checkout,
    now: Timestamp,
    dry_run: bool,
    plan: impl FnMut(Option<&str>) -> Result<(R, Option<Commit>), Error>,
) -> Result<(R, Published), Error> {
    publish_beside(checkout, now, dry_run, Beside::default(), plan)
}

/// How one publish overlaps another push (a long-running process only).
#[derive(Default)]
pub(crate) struct Beside<'a> {
    /// The commit is planned on a config commit whose push is still in flight: it is pushed
    /// only once the config remote accepted that one, and never when it refused it.
    pub(crate) after: Option<Arc<Pending>>,
    /// Runs on another thread while this publish's first push is in flight, with the commit
    /// being pushed standing as the branch's just-pushed tip, gated by the push's outcome.
    pub(crate) during: Option<Box<dyn FnOnce() + Send + 'a>>,
}

/// A push in flight, for work planned on its commit meanwhile: settled once, when the remote
/// accepted or refused it (refused also when the push failed, or its thread unwound).
#[derive(Debug)]
pub(crate) struct Pending {
    /// The commit being pushed.
    pub(crate) commit: String,
    accepted: std::sync::Mutex<Option<bool>>,
    settled: std::sync::Condvar,
}

impl Pending {
    fn new(commit: &str) -> Pending {
        Pending {
            commit: commit.to_string(),
            accepted: std::sync::Mutex::new(None),
            settled: std::sync::Condvar::new(),
        }
    }

    fn settle(&self, accepted: bool) {
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

/// Settles a pending push as refused unless it was settled first (an error or an unwinding
/// thread never leaves the work planned on it waiting).
struct Refuse<'a>(&'a Pending);

impl Drop for Refuse<'_> {
    fn drop(&mut self) {
        self.0.settle(false);
    }
}

/// Pushes `id` (a compare-and-swap on `known` when this process knew the tip) while `during`
/// runs beside, the commit standing as the branch's pending just-pushed tip meanwhile.
fn push_beside(
    checkout: &Checkout,
    id: &str,
    known: Option<&Option<String>>,
    during: Option<Box<dyn FnOnce() + Send + '_>>,
) -> Result<bool, Error> {
    let push = || match known {
        Some(tip) => {
            checkout
                .repo
                .push_commit_if_at(&checkout.remote, id, &checkout.branch, tip.as_deref())
        }
        None => checkout
            .repo
            .push_commit(&checkout.remote, id, &checkout.branch),
    };
    let Some(during) = during else {
        return Ok(push()?);
    };
    let pending = Arc::new(Pending::new(id));
    tips().insert(
        key(checkout),
        Tip {
            commit: Some(id.to_string()),
            just_pushed: true,
            pending: Some(Arc::clone(&pending)),
        },
    );
    let pushed = std::thread::scope(|s| {
        let refuse = Refuse(&pending);
        let side = s.spawn(during);
        let pushed = push();
        pending.settle(matches!(pushed, Ok(true)));
        drop(refuse);
        // A `during` that unwound reported nothing; its caller does the work again.
        let _ = side.join();
        pushed
    });
    if let Some(tip) = tips().get_mut(&key(checkout)) {
        tip.pending = None;
    }
    Ok(pushed?)
}

/// Plans on the branch tip and publishes, re-planning on a moved tip, overlapping another
/// push as `beside` says.
pub(crate) fn publish_beside<R>(
    checkout: &Checkout,
    now: Timestamp,
    dry_run: bool,
    mut beside: Beside<'_>,
    mut plan: impl FnMut(Option<&str>) -> Result<(R, Option<Commit>), Error>,
) -> Result<(R, Published), Error> {
    let author = Author {
        time: Some(now),
        ..Author::new("glueops", "glueops@glueops.dev")
    };
    for attempt in 1..=ATTEMPTS {
        // A process that pushed this branch last plans on that tip without fetching; the push
        // is then a compare-and-swap on it, and any other tip means fetch and plan again.
        let known = if attempt == 1 {
            known_tip(checkout)
        } else {
            None
        };
        let base = match &known {
            Some(tip) => tip.clone(),
            None => checkout.fetch()?,
        };
        let (report, commit) = plan(base.as_deref())?;
        let Some(commit) = commit else {
            if known.is_some() {
                // Nothing to do on the tip this process knew: make sure on the remote's.
                continue;
            }
            return Ok((report, Published::Declined));
        };
        if dry_run {
            return Ok((report, Published::DryRun));
        }
        let written = checkout.repo.commit_edit(
            base.as_deref(),
            &commit.edit,
            &author,
            &commit.title,
            &commit.trailers,
        )?;
        let Some(id) = written else {
            if known.is_some() {
                // Unchanged against what this process pushed: the remote may have moved since.
                continue;
            }
            return Ok((report, Published::Unchanged));
        };
        if let Some(config) = &beside.after
            && !config.accepted()
        {
            return Err(Error::Superseded {
                commit: config.commit.clone(),
            });
        }
        let during = beside.during.take().filter(|_| long_running());
        let overlapped = during.is_some();
        let pushed = push_beside(checkout, &id, known.as_ref(), during)?;
        if pushed {
            if !overlapped {
                remember_tip(checkout, Some(&id), true);
            }
            return Ok((
                report,
                Published::Pushed {
                    commit: id,
                    attempts: attempt,
                },
            ));
        }
        forget_tip(checkout);
        if known.is_some() {
            // The tip this process knew is not the remote's: fetch at once.
            continue;
        }
        // Writers that collided wait a little longer each time, jittered (by the clock's
        // nanoseconds: threads of one process collide too).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let jitter = u64::from(nanos % 13) * 3;
        std::thread::sleep(Duration::from_millis(15 * u64::from(attempt) + jitter));
    }
    Err(Error::Contention {
        remote: checkout.remote.to_string(),
        branch: checkout.branch.clone(),
        attempts: ATTEMPTS,
    })
}

/// A branch tip this process knows, per (remote, branch).
#[derive(Debug, Clone)]
struct Tip {
    /// The commit (`None`: the branch did not exist).
    commit: Option<String>,
    /// This process pushed it and nothing has read it since: the sync that follows a bump in
    /// the same batch reads the config at that commit instead of fetching it again (the bump
    /// fetched, or its compare-and-swap proved the tip, a moment ago).
    just_pushed: bool,
    /// Its push is still in flight (work planned on it waits for the outcome).
    pending: Option<Arc<Pending>>,
}

/// The tips this process pushed or fetched last: a server that is the branch's usual writer
/// saves a fetch per release. One-shot commands start empty and always fetch.
static TIPS: std::sync::Mutex<BTreeMap<(String, String), Tip>> =
    std::sync::Mutex::new(BTreeMap::new());

fn tips() -> std::sync::MutexGuard<'static, BTreeMap<(String, String), Tip>> {
    TIPS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The commit this process pushed to `checkout`'s branch a moment ago, once (the next call
/// answers `None` and the caller fetches). Only with [`plan_on_pushed_tips`] on.
/// With it, the push still in flight when there is one.
pub(crate) fn take_just_pushed(checkout: &Checkout) -> Option<(String, Option<Arc<Pending>>)> {
    if !long_running() {
        return None;
    }
    let mut tips = tips();
    let tip = tips.get_mut(&key(checkout)).filter(|t| t.just_pushed)?;
    tip.just_pushed = false;
    Some((tip.commit.clone()?, tip.pending.clone()))
}

fn key(checkout: &Checkout) -> (String, String) {
    (checkout.remote.url().to_string(), checkout.branch.clone())
}

fn known_tip(checkout: &Checkout) -> Option<Option<String>> {
    if !long_running() {
        return None;
    }
    tips().get(&key(checkout)).map(|t| t.commit.clone())
}

fn remember_tip(checkout: &Checkout, commit: Option<&str>, just_pushed: bool) {
    if long_running() {
        let tip = Tip {
            commit: commit.map(str::to_string),
            just_pushed,
            pending: None,
        };
        tips().insert(key(checkout), tip);
    }
}

/// The tip a fetch just found (any fetch also clears the just-pushed mark).
pub(crate) fn remember_fetched(checkout: &Checkout, commit: Option<&str>) {
    remember_tip(checkout, commit, false);
}

fn forget_tip(checkout: &Checkout) {
    tips().remove(&key(checkout));
}

static REMEMBER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this is a long-running process ([`plan_on_pushed_tips`] on): it remembers tips
/// and keeps caches in memory.
pub(crate) fn long_running() -> bool {
    REMEMBER.load(std::sync::atomic::Ordering::Relaxed)
}

/// For a long-running process that is its branches' usual writer (`glueops serve`): plan on
/// the tip it pushed last instead of fetching first, and push with a compare-and-swap on that
/// tip (`git push --force-with-lease`); when another writer moved (or rewound) the branch, the
/// push is refused, the branch fetched and the plan made again. Off by default.
pub fn plan_on_pushed_tips(enabled: bool) {
    REMEMBER.store(enabled, std::sync::atomic::Ordering::Relaxed);
    if !enabled {
        tips().clear();
    }
}

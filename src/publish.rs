//! The write side shared by every flow: read the branch's state, let the flow plan on it,
//! commit the plan, push without force; when another writer moved the branch first, read the
//! new tip and plan again (level-triggered: the plan is always made on what is there).

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::Error;
use crate::checkout::Checkout;
use crate::git::{Author, Edit, HistoryEntry, Trailer};
use crate::plan::ManifestState;
use crate::session::{Pending, TipKey};
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
        verification: Default::default(),
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
    checkout
        .session
        .remember_tip(key(checkout), Some(id), true, Some(Arc::clone(&pending)));
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
    checkout.session.settled(&key(checkout));
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
            checkout
                .session
                .known_tip(checkout.remote.url(), &checkout.branch)
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
        let during = beside
            .during
            .take()
            .filter(|_| checkout.session.is_long_running());
        let overlapped = during.is_some();
        let pushed = push_beside(checkout, &id, known.as_ref(), during)?;
        if pushed {
            if !overlapped {
                checkout
                    .session
                    .remember_tip(key(checkout), Some(&id), true, None);
            }
            return Ok((
                report,
                Published::Pushed {
                    commit: id,
                    attempts: attempt,
                },
            ));
        }
        checkout.session.forget_tip(&key(checkout));
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

fn key(checkout: &Checkout) -> TipKey {
    (checkout.remote.url().to_string(), checkout.branch.clone())
}

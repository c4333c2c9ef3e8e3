//! The write side shared by every flow: read the branch's state, let the flow plan on it,
//! commit the plan, push without force; when another writer moved the branch first, read the
//! new tip and plan again (level-triggered: the plan is always made on what is there).

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
    mut plan: impl FnMut(Option<&str>) -> Result<(R, Option<Commit>), Error>,
) -> Result<(R, Published), Error> {
    let author = Author {
        time: Some(now),
        ..Author::new("glueops", "glueops@glueops.dev")
    };
    for attempt in 1..=ATTEMPTS {
        let base = checkout.fetch()?;
        let (report, commit) = plan(base.as_deref())?;
        let Some(commit) = commit else {
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
            return Ok((report, Published::Unchanged));
        };
        if checkout
            .repo
            .push_commit(&checkout.remote, &id, &checkout.branch)?
        {
            return Ok((
                report,
                Published::Pushed {
                    commit: id,
                    attempts: attempt,
                },
            ));
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
        remote: checkout.remote.clone(),
        branch: checkout.branch.clone(),
        attempts: ATTEMPTS,
    })
}

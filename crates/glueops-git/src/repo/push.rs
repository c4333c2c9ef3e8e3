//! Transport with the `git` CLI (gix cannot push): fetch, push, and the retry loop that
//! re-applies a tree change on a moved tip.

use std::time::Duration;

use super::LocalRepo;
use super::write::TreeChange;
use crate::error::{Error, Result};
use crate::remote::Remote;
use crate::run::git_remote;

/// What [`LocalRepo::publish`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// A commit was pushed.
    Pushed {
        /// The commit now at the remote branch.
        commit: String,
        /// How many attempts it took (1 when no other writer got in between).
        attempts: u32,
    },
    /// The remote branch already had exactly these files under the prefix.
    Unchanged {
        /// The remote branch's commit, if it exists.
        commit: Option<String>,
    },
}

/// `branch` as git would take it, or the error naming what is wrong: checked before it is
/// part of any refspec or ref.
fn checked(branch: &str) -> Result<()> {
    glueops_files::check_branch(branch).map_err(Error::InvalidBranch)
}

/// True for the answers git gives when someone else moved the branch first.
fn lost_race(reason: &str) -> bool {
    [
        "non-fast-forward",
        "fetch first",
        "[rejected]",
        "failed to update ref",
        "cannot lock ref",
        "stale info",
    ]
    .iter()
    .any(|s| reason.contains(s))
}

impl LocalRepo {
    /// Fetches `branch` from `remote` into `refs/glueops/remotes/<branch>`; `None` when the
    /// remote has no such branch yet.
    pub fn fetch(&self, remote: &Remote, branch: &str) -> Result<Option<String>> {
        self.fetch_id(remote, branch)
            .map(|id| id.map(|id| id.to_string()))
    }

    fn fetch_id(&self, remote: &Remote, branch: &str) -> Result<Option<gix::ObjectId>> {
        checked(branch)?;
        let tracking = format!("refs/glueops/remotes/{branch}");
        // Another process fetching into the same clone holds the ref's lock for a moment:
        // wait and try again rather than fail.
        let mut fetched = self.fetch_once(remote, branch, &tracking);
        for pause in [20, 60, 180] {
            match &fetched {
                Err(Error::GitCommand { stderr, .. })
                    if stderr.contains("cannot lock ref") || stderr.contains(".lock") =>
                {
                    std::thread::sleep(Duration::from_millis(pause));
                    fetched = self.fetch_once(remote, branch, &tracking);
                }
                _ => break,
            }
        }
        match fetched {
            Ok(_) => {}
            Err(Error::GitCommand { stderr, .. })
                if stderr.contains("couldn't find remote ref") =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
        self.resolve_id(&tracking).map(Some)
    }

    /// What `refs/glueops/remotes/<branch>` says the remote had when this clone last talked
    /// to it (`None`: nothing yet, or unreadable).
    fn tracked(&self, branch: &str) -> Option<gix::ObjectId> {
        self.try_resolve_id(&format!("refs/glueops/remotes/{branch}"))
            .ok()
            .flatten()
    }

    /// After a push landed: the remote's branch is `commit`, so the tracking ref says so (as
    /// `git push` does for a configured remote), and the next fetch finds it up to date
    /// instead of walking the pushed commit's objects again. Moved only from the value read
    /// before the push; when another process fetched meanwhile, or the write fails, the ref
    /// stays as it is: it is a hint, and the next fetch sets it from the remote either way.
    fn track_pushed(&self, branch: &str, commit: gix::ObjectId, before: Option<gix::ObjectId>) {
        let _ignored = self.move_ref(&format!("refs/glueops/remotes/{branch}"), commit, before);
    }

    fn fetch_once(&self, remote: &Remote, branch: &str, tracking: &str) -> Result<String> {
        // One round trip: a branch the remote does not have yet is an answer, not an error.
        git_remote(
            Some(self.path()),
            &[
                // A clone glueops owns: no commit graph, FETCH_HEAD or auto-maintenance per
                // fetch (each is a process and a write the next run never reads).
                "-c",
                "fetch.writeCommitGraph=false",
                "-c",
                "maintenance.auto=false",
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
            ],
            remote,
            &[&format!("+refs/heads/{branch}:{tracking}")],
        )
    }

    /// Fetches every branch of `remote` into `refs/glueops/remotes/*` (for reading any of
    /// them by name afterwards).
    pub fn fetch_branches(&self, remote: &Remote) -> Result<()> {
        git_remote(
            Some(self.path()),
            &["fetch", "--quiet", "--no-tags"],
            remote,
            &["+refs/heads/*:refs/glueops/remotes/*"],
        )
        .map(|_| ())
    }

    /// The branch the remote's `HEAD` points to (`git ls-remote --symref`); `None` for an
    /// empty remote that names none.
    pub fn remote_default_branch(&self, remote: &Remote) -> Result<Option<String>> {
        let out = git_remote(
            Some(self.path()),
            &["ls-remote", "--symref"],
            remote,
            &["HEAD"],
        )?;
        Ok(out.lines().find_map(|l| {
            l.strip_prefix("ref: refs/heads/")
                .and_then(|r| r.split_once('\t'))
                .map(|(b, _)| b.to_string())
        }))
    }

    /// Pushes `commit` to the remote's `branch` without force: `Ok(false)` when another writer
    /// moved the branch first (fetch, re-plan on the new tip and try again). Once pushed,
    /// `refs/glueops/remotes/<branch>` names `commit`, as after a fetch.
    pub fn push_commit(&self, remote: &Remote, commit: &str, branch: &str) -> Result<bool> {
        checked(branch)?;
        let (id, tracked) = (self.resolve_id(commit)?, self.tracked(branch));
        let refspec = format!("{id}:refs/heads/{branch}");
        match git_remote(Some(self.path()), &["push", "--quiet"], remote, &[&refspec]) {
            Ok(_) => {
                self.track_pushed(branch, id, tracked);
                Ok(true)
            }
            Err(Error::GitCommand { stderr, .. }) if lost_race(&stderr) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Pushes `commit` to the remote's `branch` only if the branch is exactly at `expected`
    /// (`None`: does not exist) — git's `--force-with-lease` compare-and-swap, for a writer that
    /// believes it knows the tip without fetching. `Ok(false)` when the branch is elsewhere
    /// (moved on, or rewound by someone): fetch and plan again. Once pushed, the tracking ref
    /// names `commit`.
    pub fn push_commit_if_at(
        &self,
        remote: &Remote,
        commit: &str,
        branch: &str,
        expected: Option<&str>,
    ) -> Result<bool> {
        checked(branch)?;
        let expected = expected.unwrap_or_default();
        if !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::NoSuchRef {
                repo: self.path().to_path_buf(),
                rev: expected.to_string(),
            });
        }
        let lease = format!("--force-with-lease=refs/heads/{branch}:{expected}");
        let (id, tracked) = (self.resolve_id(commit)?, self.tracked(branch));
        let refspec = format!("{id}:refs/heads/{branch}");
        match git_remote(
            Some(self.path()),
            &["push", "--quiet", &lease],
            remote,
            &[&refspec],
        ) {
            Ok(_) => {
                self.track_pushed(branch, id, tracked);
                Ok(true)
            }
            Err(Error::GitCommand { stderr, .. }) if lost_race(&stderr) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Applies `change` to the remote's `branch` with optimistic concurrency: fetch the tip,
    /// commit the change on it, push without force; if another writer got there first, fetch
    /// again and re-apply the same change on the new tip, up to `attempts` times with growing
    /// pauses. Writers of different prefixes all land; writers of the same prefix end with
    /// the last one's files.
    pub fn publish(
        &self,
        remote: &Remote,
        branch: &str,
        change: &TreeChange<'_>,
        attempts: u32,
    ) -> Result<PushOutcome> {
        let attempts = attempts.max(1);
        for attempt in 1..=attempts {
            let base = self.fetch_id(remote, branch)?;
            let Some(commit) = self.commit_on(base, change)? else {
                return Ok(PushOutcome::Unchanged {
                    commit: base.map(|b| b.to_string()),
                });
            };
            let refspec = format!("{commit}:refs/heads/{branch}");
            match git_remote(Some(self.path()), &["push", "--quiet"], remote, &[&refspec]) {
                Ok(_) => {
                    self.track_pushed(branch, commit, base);
                    return Ok(PushOutcome::Pushed {
                        commit: commit.to_string(),
                        attempts: attempt,
                    });
                }
                Err(Error::GitCommand { stderr, .. }) if lost_race(&stderr) => {
                    // Pause a little longer each time, jittered by attempt and process so
                    // writers that collided do not collide again in lockstep.
                    let jitter = u64::from(std::process::id() % 7) * 5
                        + u64::from(commit.as_bytes()[0] % 16);
                    std::thread::sleep(Duration::from_millis(20 * u64::from(attempt) + jitter));
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::PushContention {
            remote: remote.to_string(),
            branch: branch.to_string(),
            attempts,
        })
    }
}

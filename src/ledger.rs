//! What a long-running glueops (`glueops serve`) must remember across restarts and share
//! between replicas, kept in git rather than in memory: the approvals its webhooks received,
//! the deliveries it applied, and when its scheduled jobs last ran. One JSON file on the
//! branch [`BRANCH`] of the manifest remote, written with the same compare-and-swap push as
//! every release (a writer that lost the race re-applies its change on the new tip).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::checkout::Checkout;
use crate::git::Edit;
use crate::publish::{self, Commit, Published};

/// The manifest remote's branch that holds the ledger (no delivery tool watches it).
pub const BRANCH: &str = "glueops-ledger";
/// The file on [`BRANCH`].
pub const FILE: &str = "ledger.json";
/// How many applied delivery ids are kept (the oldest go first): far more than any host
/// redelivers.
pub const DELIVERIES_KEPT: usize = 20_000;

/// One reviewer's approval of a pull request's commit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Approval {
    /// The repository (`owner/name`).
    pub repo: String,
    /// The pull (merge) request.
    pub number: u64,
    /// Who approved.
    pub reviewer: String,
    /// The commit approved (the pull request's head when the review was given).
    pub sha: String,
    /// When it arrived (Unix seconds).
    pub at: i64,
}

/// The ledger's contents. Deterministic: the same contents serialize to the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    /// Approvals in force: one per (repository, pull request, reviewer), the latest.
    #[serde(default)]
    pub approvals: BTreeSet<Approval>,
    /// Delivery ids applied → when (Unix seconds).
    #[serde(default)]
    pub deliveries: BTreeMap<String, i64>,
    /// Scheduled jobs (`backup`) → when each last ran (Unix seconds).
    #[serde(default)]
    pub jobs: BTreeMap<String, i64>,
    /// `app/env` → the event time (Unix seconds, by the event's own payload) of the newest
    /// bump applied there: an older event is never applied after it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bumps: BTreeMap<String, i64>,
}

impl Ledger {
    /// Records `reviewer`'s approval of `sha` on pull request `number` of `repo` (replacing
    /// their earlier one on that pull request), or withdraws it when `approved` is false.
    pub fn review(
        &mut self,
        repo: &str,
        number: u64,
        reviewer: &str,
        sha: &str,
        approved: bool,
        at: i64,
    ) {
        self.approvals
            .retain(|a| !(a.repo == repo && a.number == number && a.reviewer == reviewer));
        if approved {
            self.approvals.insert(Approval {
                repo: repo.to_string(),
                number,
                reviewer: reviewer.to_string(),
                sha: sha.to_string(),
                at,
            });
        }
    }

    /// Who approved config commit `commit`: reviewers of that commit itself (a pull request
    /// merged by fast-forward, or a release reviewed on the branch), or, for a merge commit,
    /// of a merged parent (`parents` after the first). Sorted, without duplicates.
    pub fn approvers_of(&self, commit: &str, parents: &[String]) -> Vec<String> {
        let merged: Vec<&str> = parents.iter().skip(1).map(String::as_str).collect();
        let names: BTreeSet<&str> = self
            .approvals
            .iter()
            .filter(|a| a.sha == commit || merged.contains(&a.sha.as_str()))
            .map(|a| a.reviewer.as_str())
            .collect();
        names.into_iter().map(str::to_string).collect()
    }

    /// The event time of the newest bump applied to `app` in `env`.
    pub fn bumped_at(&self, app: &str, env: &str) -> Option<i64> {
        self.bumps.get(&format!("{app}/{env}")).copied()
    }

    /// Records that a bump of `app` in `env` by an event of time `at` was applied (the newest
    /// time is kept).
    pub fn record_bump(&mut self, app: &str, env: &str, at: i64) {
        let newest = self.bumps.entry(format!("{app}/{env}")).or_insert(at);
        *newest = (*newest).max(at);
    }

    /// Whether delivery `id` was applied.
    pub fn applied(&self, id: &str) -> bool {
        self.deliveries.contains_key(id)
    }

    /// Records deliveries `ids` as applied at `at`, keeping the newest [`DELIVERIES_KEPT`].
    pub fn record<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>, at: i64) {
        for id in ids {
            self.deliveries.entry(id.to_string()).or_insert(at);
        }
        if self.deliveries.len() > DELIVERIES_KEPT {
            let mut by_age: Vec<(i64, String)> = self
                .deliveries
                .iter()
                .map(|(k, v)| (*v, k.clone()))
                .collect();
            by_age.sort();
            let drop = self.deliveries.len() - DELIVERIES_KEPT;
            for (_, id) in by_age.into_iter().take(drop) {
                self.deliveries.remove(&id);
            }
        }
    }

    /// The ledger's bytes: pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Invalid {
            message: format!("the ledger cannot be written: {e}"),
            help: "report this as a bug".into(),
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Reads a ledger from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Ledger, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::Invalid {
            message: format!("{FILE} on the branch {BRANCH} is not a glueops ledger: {e}"),
            help: format!(
                "restore it from the branch's history (`git log {BRANCH}`), or delete the branch to start empty"
            ),
        })
    }
}

/// The ledger in the manifest remote `manifests` (empty when the branch does not exist yet).
pub fn read_ledger(manifests: &str, opts: &crate::Options) -> Result<Ledger, Error> {
    let checkout = Checkout::open(manifests, opts, Some(BRANCH))?;
    match checkout.fetch()? {
        Some(tip) => read(&checkout, &tip),
        None => Ok(Ledger::default()),
    }
}

fn read(checkout: &Checkout, tip: &str) -> Result<Ledger, Error> {
    match checkout.repo.read_file(tip, FILE)? {
        Some(bytes) => Ledger::from_bytes(&bytes),
        None => Ok(Ledger::default()),
    }
}

/// Applies `change` to the ledger in `manifests` and pushes it (`title` is the commit's
/// title); on a lost race `change` is applied again to the new tip. Nothing is committed
/// when the bytes do not change. Returns the ledger as written.
pub fn update_ledger(
    manifests: &str,
    title: &str,
    opts: &crate::Options,
    mut change: impl FnMut(&mut Ledger),
) -> Result<Ledger, Error> {
    let checkout = Checkout::open(manifests, opts, Some(BRANCH))?;
    let (ledger, published) = publish::publish(&checkout, opts.now, false, |base| {
        let before = match base {
            Some(tip) => read(&checkout, tip)?,
            None => Ledger::default(),
        };
        let mut after = before.clone();
        change(&mut after);
        if after == before && base.is_some() {
            return Ok((after, None));
        }
        let mut edit = Edit::default();
        edit.write(FILE, after.to_bytes()?)?;
        Ok((
            after,
            Some(Commit {
                edit,
                title: title.to_string(),
                trailers: Vec::new(),
            }),
        ))
    })?;
    debug_assert!(!matches!(published, Published::DryRun));
    Ok(ledger)
}

/// When `now` is due for a job last run at `last` (Unix seconds) every `every` seconds.
pub fn due(last: Option<i64>, every: u64, now: Timestamp) -> bool {
    last.is_none_or(|l| {
        now.as_second().saturating_sub(l) >= i64::try_from(every).unwrap_or(i64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_approval_counts_for_its_commit_and_for_the_merge_of_it() {
        let mut l = Ledger::default();
        l.review("acme/config", 7, "alice", "h1", true, 10);
        l.review("acme/config", 7, "bob", "h0", true, 11);
        assert_eq!(l.approvers_of("h1", &[]), vec!["alice"]);
        let merge = ["base".to_string(), "h1".to_string()];
        assert_eq!(l.approvers_of("m", &merge), vec!["alice"]);
        // A commit whose first parent was approved is a later commit: not approved.
        assert!(l.approvers_of("c2", &["h1".to_string()]).is_empty());
        // A new approval replaces the reviewer's older one; a withdrawal removes it.
        l.review("acme/config", 7, "bob", "h1", true, 12);
        assert_eq!(l.approvers_of("h1", &[]), vec!["alice", "bob"]);
        l.review("acme/config", 7, "alice", "h1", false, 13);
        assert_eq!(l.approvers_of("h1", &[]), vec!["bob"]);
    }

    #[test]
    fn deliveries_are_kept_newest_first_up_to_the_cap() {
        let mut l = Ledger::default();
        let ids: Vec<String> = (0..DELIVERIES_KEPT + 5).map(|i| format!("d{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            l.record([id.as_str()], i64::try_from(i).unwrap());
        }
        assert_eq!(l.deliveries.len(), DELIVERIES_KEPT);
        assert!(!l.applied("d0") && !l.applied("d4"));
        assert!(l.applied("d5") && l.applied(&ids[ids.len() - 1]));
        // Recording again keeps the first time.
        l.record(["d5"], 1_000_000);
        assert_eq!(l.deliveries["d5"], 5);
    }

    #[test]
    fn bytes_round_trip_and_are_stable() {
        let mut l = Ledger::default();
        l.review("a/b", 1, "zed", "s", true, 1);
        l.review("a/b", 1, "amy", "s", true, 2);
        l.record(["x", "y"], 3);
        l.jobs.insert("backup".into(), 4);
        let bytes = l.to_bytes().unwrap();
        assert_eq!(Ledger::from_bytes(&bytes).unwrap(), l);
        assert_eq!(
            Ledger::from_bytes(&bytes).unwrap().to_bytes().unwrap(),
            bytes
        );
        assert!(Ledger::from_bytes(b"[1,2]").is_err());
    }

    #[test]
    fn a_job_is_due_once_its_interval_passed() {
        let now = Timestamp::from_second(1_000).unwrap();
        assert!(due(None, 600, now));
        assert!(!due(Some(500), 600, now));
        assert!(due(Some(400), 600, now));
    }
}

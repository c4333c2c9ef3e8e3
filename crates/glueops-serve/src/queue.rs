//! The bounded queue between the webhook handlers and the worker. Every accepted delivery is
//! journaled (written and synced to a file) before it is answered 202, and its file removed
//! once its work is applied, so a `kill -9` loses nothing: the next start replays the journal.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::route::Work;

/// One accepted delivery and the work it asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    /// Arrival order (the journal file's name).
    pub(crate) seq: u64,
    /// The host's delivery id.
    pub(crate) delivery: Option<String>,
    /// `github` or `gitlab`.
    pub(crate) host: String,
    /// The event's type (`push`, `pull_request`, ...).
    pub(crate) event: String,
    /// What to do.
    pub(crate) work: Vec<Work>,
    /// When it arrived (this process; replayed jobs count from their replay).
    #[serde(skip, default = "Instant::now")]
    pub(crate) received: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    jobs: VecDeque<Job>,
    next: u64,
    closed: bool,
}

/// A bounded FIFO with a journal folder.
#[derive(Debug)]
pub(crate) struct Queue {
    inner: Mutex<Inner>,
    ready: Condvar,
    capacity: usize,
    journal: PathBuf,
}

impl Queue {
    /// A queue of at most `capacity` waiting jobs journaled in `journal`, holding the jobs a
    /// previous process accepted and did not finish (in their order; they may exceed the
    /// capacity).
    pub(crate) fn open(journal: &Path, capacity: usize) -> Result<Queue, Error> {
        std::fs::create_dir_all(journal).map_err(|source| Error::Io {
            path: journal.to_path_buf(),
            source,
        })?;
        let mut files: Vec<(u64, PathBuf)> = Vec::new();
        let entries = std::fs::read_dir(journal).map_err(|source| Error::Io {
            path: journal.to_path_buf(),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(seq) = name.strip_suffix(".json").and_then(|n| n.parse().ok()) {
                files.push((seq, path));
            } else if name.ends_with(".tmp") {
                // Written but never acknowledged: the sender got no 202 and retries.
                let _ = std::fs::remove_file(&path);
            }
        }
        files.sort();
        let mut jobs = VecDeque::new();
        for (seq, path) in &files {
            let bytes = std::fs::read(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let job: Job = serde_json::from_slice(&bytes).map_err(|e| Error::Journal {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            debug_assert_eq!(job.seq, *seq);
            jobs.push_back(job);
        }
        let next = files.last().map_or(0, |(s, _)| s + 1);
        Ok(Queue {
            inner: Mutex::new(Inner {
                jobs,
                next,
                closed: false,
            }),
            ready: Condvar::new(),
            capacity: capacity.max(1),
            journal: journal.to_path_buf(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Journals and queues a job; `Ok(false)` when the queue is full or closed (answer 503).
    pub(crate) fn push(
        &self,
        delivery: Option<String>,
        host: &str,
        event: &str,
        work: Vec<Work>,
    ) -> Result<bool, Error> {
        let mut inner = self.lock();
        if inner.closed || inner.jobs.len() >= self.capacity {
            return Ok(false);
        }
        let job = Job {
            seq: inner.next,
            delivery,
            host: host.to_string(),
            event: event.to_string(),
            work,
            received: Instant::now(),
        };
        self.write(&job)?;
        inner.next += 1;
        inner.jobs.push_back(job);
        drop(inner);
        self.ready.notify_one();
        Ok(true)
    }

    fn write(&self, job: &Job) -> Result<(), Error> {
        let path = self.journal.join(format!("{:020}.json", job.seq));
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec(job).map_err(|e| Error::Journal {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        std::io::Write::write_all(&mut file, &bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(())
    }

    /// Waits up to `timeout` for jobs; takes every waiting job, at most `max`. Empty on a
    /// timeout, or when the queue is closed and drained.
    pub(crate) fn take(&self, max: usize, timeout: Duration) -> Vec<Job> {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        while inner.jobs.is_empty() && !inner.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Vec::new();
            }
            inner = self
                .ready
                .wait_timeout(inner, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let n = inner.jobs.len().min(max.max(1));
        inner.jobs.drain(..n).collect()
    }

    /// Puts jobs that could not be applied back at the front, in their order.
    pub(crate) fn requeue(&self, jobs: Vec<Job>) {
        let mut inner = self.lock();
        for job in jobs.into_iter().rev() {
            inner.jobs.push_front(job);
        }
    }

    /// Removes the journal files of jobs that are done.
    pub(crate) fn done(&self, jobs: &[Job]) {
        for job in jobs {
            let _ = std::fs::remove_file(self.journal.join(format!("{:020}.json", job.seq)));
        }
    }

    /// Whether a waiting job already asks for `work`.
    pub(crate) fn holds(&self, work: &Work) -> bool {
        self.lock().jobs.iter().any(|j| j.work.contains(work))
    }

    /// Jobs waiting.
    pub(crate) fn len(&self) -> usize {
        self.lock().jobs.len()
    }

    /// Accepts nothing more; `take` returns what is left, then nothing.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_refuses_and_the_journal_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(dir.path(), 2).unwrap();
        assert!(
            q.push(Some("a".into()), "github", "push", vec![Work::Sync])
                .unwrap()
        );
        assert!(
            q.push(Some("b".into()), "github", "push", vec![Work::Sync])
                .unwrap()
        );
        assert!(
            !q.push(Some("c".into()), "github", "push", vec![Work::Sync])
                .unwrap()
        );
        let taken = q.take(1, Duration::ZERO);
        assert_eq!(taken[0].delivery.as_deref(), Some("a"));
        q.done(&taken);
        // "b" was accepted and not applied: a new process finds it, and numbers after it.
        drop(q);
        let q = Queue::open(dir.path(), 2).unwrap();
        assert_eq!(q.len(), 1);
        assert!(
            q.push(Some("d".into()), "gitlab", "push", vec![Work::Sync])
                .unwrap()
        );
        let left = q.take(10, Duration::ZERO);
        let ids: Vec<_> = left.iter().map(|j| j.delivery.clone().unwrap()).collect();
        assert_eq!(ids, ["b", "d"]);
        assert!(left[0].seq < left[1].seq);
        q.requeue(left);
        assert_eq!(q.len(), 2);
        q.close();
        assert!(!q.push(None, "github", "push", vec![Work::Sync]).unwrap());
        assert_eq!(q.take(10, Duration::from_secs(5)).len(), 2);
        assert!(
            q.take(10, Duration::from_secs(5)).is_empty(),
            "closed and drained"
        );
    }
}

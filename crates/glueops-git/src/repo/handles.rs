//! `gix::Repository` handles for a [`super::LocalRepo`] shared between threads: a
//! `gix::Repository` is `Send` but not `Sync` (its object caches belong to one handle), so the
//! manifest repo keeps the thread-safe repository and lends thread-local handles to each
//! operation, reusing them (with their warm caches) afterwards. An operation that needs a
//! handle while its caller holds one gets a second handle, never a deadlock.

use std::sync::Mutex;

/// The thread-safe repository and the handles not in use.
pub(super) struct Handles {
    shared: gix::ThreadSafeRepository,
    idle: Mutex<Vec<gix::Repository>>,
    /// The repository's object hash (asked on every tree written: kept, not looked up).
    pub(super) hash: gix::hash::Kind,
}

/// Idle handles kept for reuse: enough for the threads that use one repository at a time.
const KEEP: usize = 8;

impl Handles {
    /// Handles of `repo`.
    pub(super) fn new(repo: gix::Repository) -> Handles {
        Handles {
            shared: repo.clone().into_sync(),
            hash: repo.object_hash(),
            idle: Mutex::new(vec![repo]),
        }
    }

    /// Runs `f` with a handle: an idle one, or a new one when all are lent out.
    pub(super) fn with<T>(&self, f: impl FnOnce(&gix::Repository) -> T) -> T {
        let idle = self.lock().pop();
        let repo = idle.unwrap_or_else(|| self.shared.to_thread_local());
        let out = f(&repo);
        let mut idle = self.lock();
        if idle.len() < KEEP {
            idle.push(repo);
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<gix::Repository>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

//! Splitting independent work over the machine's cores with scoped threads, for the glueops
//! crates' hot loops. Results come back in input order, so output stays deterministic.

use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many items per thread, threads cost more than they save.
const MIN_PER_THREAD: usize = 32;

/// Batches handed out per thread: items differ in cost, so threads take small batches as they
/// go instead of one fixed half each, and finish together.
const BATCHES_PER_THREAD: usize = 8;

/// The cores this process may use, asked once (on Linux the answer reads cgroup files).
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// Applies `f` to contiguous batches of `items` on every core (the calling thread included)
/// and returns the results in batch order: concatenated, they are what one call of `f` on
/// all of `items` would give for any `f` that maps items independently.
pub fn map_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = cores().min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(threads * BATCHES_PER_THREAD);
    let batches: Vec<&[T]> = items.chunks(size).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(batch) = batches.get(i) else {
                return done;
            };
            done.push((i, f(batch)));
        }
    };
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            // A helper only panics if `f` does; re-raise that panic here unchanged.
            all.extend(
                helper
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            );
        }
        all
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::map_chunks;

    #[test]
    fn results_come_back_in_input_order() {
        for n in [0, 1, 31, 64, 65, 1000, 4099] {
            let items: Vec<usize> = (0..n).collect();
            let parts = map_chunks(&items, |batch| {
                batch.iter().map(|i| i * 2).collect::<Vec<_>>()
            });
            let joined: Vec<usize> = parts.into_iter().flatten().collect();
            assert_eq!(
                joined,
                items.iter().map(|i| i * 2).collect::<Vec<_>>(),
                "n = {n}"
            );
        }
    }
}

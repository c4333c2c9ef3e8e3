//! Splitting independent work over the machine's cores with scoped threads, for the glueops
//! crates' hot loops. Results come back in input order, so output stays deterministic.

use std::num::NonZeroUsize;

/// Below this many items per thread, threads cost more than they save.
const MIN_PER_THREAD: usize = 256;

/// Applies `f` to contiguous chunks of `items`, one chunk per core, and returns the results in
/// chunk order.
pub fn map_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let threads = cores.min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(size)
            .map(|chunk| scope.spawn(|| f(chunk)))
            .collect();
        // A worker only panics if `f` does; re-raise that panic here unchanged.
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

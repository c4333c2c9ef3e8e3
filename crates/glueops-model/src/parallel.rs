//! Splitting independent work over the machine's cores for the glueops crates' hot loops, on
//! rayon's global thread pool (run a call inside your own `rayon::ThreadPool::install` to bound
//! or isolate it). Results come back in input order, so output stays deterministic.

use rayon::prelude::*;

/// Below this many items per thread, threads cost more than they save.
const MIN_PER_THREAD: usize = 32;

/// Batches handed out per thread: items differ in cost, so threads take small batches as they
/// go instead of one fixed half each, and finish together.
const BATCHES_PER_THREAD: usize = 8;

/// Applies `f` to contiguous batches of `items` on every thread of the current rayon pool and
/// returns the results in batch order: concatenated, they are what one call of `f` on all of
/// `items` would give for any `f` that maps items independently.
///
/// The threads persist between calls, so a process that loads, renders and writes in turn
/// starts its threads (and their allocator heaps) once, not once per step.
pub(crate) fn map_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = rayon::current_num_threads()
        .min(items.len() / MIN_PER_THREAD)
        .max(1);
    if threads == 1 {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(threads * BATCHES_PER_THREAD);
    items.par_chunks(size).map(&f).collect()
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

    #[test]
    fn batches_are_split_over_a_pool_and_joined_in_order() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("a 3-thread pool");
        let items: Vec<usize> = (0..1000).collect();
        let parts = pool.install(|| map_chunks(&items, |batch| batch.to_vec()));
        assert!(
            parts.len() > 3,
            "1000 items over 3 threads come in several batches"
        );
        assert_eq!(parts.concat(), items);
    }
}

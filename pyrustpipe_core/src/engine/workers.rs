//! The worker pools runs share: one per thread count, kept between the runs of a process.
//!
//! A pool started for each run cost ~0.2 ms of thread starts before its first block (a 10-row
//! table's whole run is ~0.5 ms), and its workers' thread-local buffers (`produce::check_block`)
//! started cold every run. Runs at once on one pool share its workers: no job ever blocks a
//! worker (`pipeline::run` spawns jobs and its merge waits on the run's own thread), so runs
//! cannot starve each other. A forked child has none of its parent's threads: a pool serves
//! only the process that started it.

use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};

/// Pools kept at most: a process rarely asks for more than one or two thread counts, and an
/// idle pool's workers only sleep.
const KEPT: usize = 4;

struct Kept {
    threads: usize,
    process: u32,
    pool: Arc<rayon::ThreadPool>,
}

static POOLS: Mutex<Vec<Kept>> = Mutex::new(Vec::new());

/// The pool of `threads` workers (named `pyrustpipe-<i>`), started on first use.
pub(super) fn pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    let process = std::process::id();
    let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
    if pools.iter().any(|kept| kept.process != process) {
        // A fork's copy of its parent's pools: their workers do not exist here, and dropping
        // one would signal them (leaking a few bytes once a fork is the safe side).
        std::mem::forget(std::mem::take(&mut *pools));
    }
    if let Some(kept) = pools.iter().find(|kept| kept.threads == threads) {
        return Ok(Arc::clone(&kept.pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("pyrustpipe-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("cannot start worker threads: {e}")))?;
    let pool = Arc::new(pool);
    if pools.len() == KEPT {
        // The oldest goes; a run still on it holds its own `Arc`.
        pools.remove(0);
    }
    pools.push(Kept {
        threads,
        process,
        pool: Arc::clone(&pool),
    });
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_count_keeps_its_pool_until_more_than_kept_pools_come() {
        // Thread counts no other test asks for, so tests running at once do not interfere.
        let first = pool(9).unwrap();
        assert_eq!(first.current_num_threads(), 9);
        assert!(Arc::ptr_eq(&first, &pool(9).unwrap()));
        let other = pool(10).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        for threads in 11..11 + KEPT {
            pool(threads).unwrap();
        }
        // 9's pool was the oldest of more than `KEPT`: it was let go, a new one takes its place.
        assert!(!Arc::ptr_eq(&first, &pool(9).unwrap()));
        // The pool a caller still holds still works.
        assert_eq!(first.install(rayon::current_num_threads), 9);
    }

    #[test]
    fn runs_at_once_share_a_pool() {
        let shared = pool(2).unwrap();
        let sums: Vec<u64> = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..4u64)
                .map(|run| {
                    let shared = Arc::clone(&shared);
                    scope.spawn(move || {
                        use rayon::prelude::*;
                        shared.install(|| (0..100_000u64).into_par_iter().map(|x| x * run).sum())
                    })
                })
                .collect();
            runs.into_iter().map(|run| run.join().unwrap()).collect()
        });
        let each: u64 = (0..100_000u64).sum();
        assert_eq!(sums, [0, each, 2 * each, 3 * each]);
    }
}

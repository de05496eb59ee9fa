//! The worker threads every question of many runs is answered on.
//!
//! Each worker takes the next index from a shared counter and computes it
//! to the end; a run itself is single-threaded and deterministic, so which
//! thread ran it changes nothing. Workers stop taking indices when `stop`
//! says so or the work runs out; an index once taken is always computed,
//! so the indices done are always `0..n` with no gap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

/// Computes `work(0)`, `work(1)`, ... on `jobs` threads until `work`
/// answers `None` (past the end: it must then answer `None` for every
/// later index too) or `stop()` is true before an index is taken. Each
/// result is handed to `seen` on the calling thread as it comes, in any
/// order; nothing here keeps one.
pub(crate) fn run_indexed<R: Send>(
    jobs: usize,
    stop: &(dyn Fn() -> bool + Sync),
    work: &(dyn Fn(u64) -> Option<R> + Sync),
    mut seen: impl FnMut(R),
) {
    let next = AtomicU64::new(0);
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || loop {
                if stop() {
                    break;
                }
                let Some(result) = work(next.fetch_add(1, Ordering::SeqCst)) else {
                    break;
                };
                if sender.send(result).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for result in receiver {
            seen(result);
        }
    });
}

/// Never stop early.
pub(crate) fn never() -> bool {
    false
}

/// Worker threads when none are asked for: every core.
pub fn jobs_default() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    #[test]
    fn every_index_once_on_any_number_of_threads() {
        for jobs in [1, 2, 5] {
            let mut seen = Vec::new();
            run_indexed(jobs, &never, &|i| (i < 50).then_some(i), |i| seen.push(i));
            seen.sort();
            assert_eq!(seen, (0..50).collect::<Vec<_>>(), "{jobs} jobs");
        }
    }

    #[test]
    fn a_stop_leaves_no_gap() {
        let stop = AtomicBool::new(false);
        let mut seen = Vec::new();
        run_indexed(
            3,
            &|| stop.load(Ordering::SeqCst),
            &|i| {
                if i == 20 {
                    stop.store(true, Ordering::SeqCst);
                }
                Some(i)
            },
            |i| seen.push(i),
        );
        seen.sort();
        let n = seen.len() as u64;
        assert!(n > 20, "{n}");
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
    }
}

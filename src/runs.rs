//! Running many seeds of one scenario on worker threads.
//!
//! Each worker takes the next seed from a shared counter and runs it to the
//! end; a run itself is single-threaded and deterministic, so which thread
//! ran it changes nothing. Workers stop taking seeds when the budget is
//! spent or the stop flag is set; a seed once taken is always run, so the
//! seeds run are always `first..first + n` with no gap.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use stallsim_harness::{Report, WorldConfig};
use stallsim_scenario::Expect;

/// How many runs an exploration may start.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    /// Exactly this many, unless stopped.
    Runs(u64),
    /// As many as start before this much wall-clock time has passed.
    For(Duration),
}

/// Which of the runs this process takes: those whose index (seed minus the
/// first seed) is `index` modulo `count`. The shards of one exploration
/// together run exactly the unsharded runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Every run.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// `I/N`, or `N` alone with `I` from `JOB_COMPLETION_INDEX` (as a
    /// Kubernetes Indexed Job or a CI matrix sets it).
    pub fn parse(text: &str, job_index: Option<&str>) -> Result<Shard, String> {
        let number = |part: &str, what: &str| {
            part.parse::<u64>()
                .map_err(|_| format!("`{part}` is not a {what}; expected --shard I/N, like 0/4"))
        };
        let (index, count) = match text.split_once('/') {
            Some((index, count)) => (number(index, "shard index")?, number(count, "shard count")?),
            None => {
                let index = job_index.ok_or(
                    "--shard N needs JOB_COMPLETION_INDEX for the index; expected --shard I/N",
                )?;
                (number(index, "shard index")?, number(text, "shard count")?)
            }
        };
        if count == 0 || index >= count {
            return Err(format!(
                "shard {index}/{count} does not exist; expected an index below a count of 1 or more"
            ));
        }
        Ok(Shard { index, count })
    }
}

/// Which seeds to run, how many, and on how many threads.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Seeds are `first + index`, index 0, 1, ...
    pub first: u64,
    pub budget: Budget,
    pub shard: Shard,
    /// Worker threads.
    pub jobs: usize,
}

/// What one run came to, against the property.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub seed: u64,
    pub report: Report,
    /// Why the run did not hold the property; empty when it did.
    pub mismatches: Vec<String>,
    /// The order its key events first happened in.
    pub ordering: Vec<String>,
}

impl Outcome {
    pub fn held(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Runs the worlds of seeds `first`, `first + 1`, ... (`world(seed)`) on
/// `jobs` threads until the budget is spent or `stop` is set, checking each
/// against `property`. `seen` is handed each outcome as it comes, in any
/// order, and keeps what it needs of it: nothing here holds on to a run,
/// so memory stays flat however many there are.
pub fn run_seeds(
    world: &(dyn Fn(u64) -> WorldConfig + Sync),
    property: &Expect,
    plan: Plan,
    stop: &AtomicBool,
    mut seen: impl FnMut(Outcome),
) {
    let Plan {
        first,
        budget,
        shard,
        jobs,
    } = plan;
    let next = AtomicU64::new(0);
    let deadline = match budget {
        Budget::For(duration) => Instant::now().checked_add(duration),
        Budget::Runs(_) => None,
    };
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || loop {
                if stop.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let taken = next.fetch_add(1, Ordering::SeqCst);
                let Some(index) = taken
                    .checked_mul(shard.count)
                    .and_then(|i| i.checked_add(shard.index))
                else {
                    break;
                };
                if matches!(budget, Budget::Runs(runs) if index >= runs) {
                    break;
                }
                let Some(seed) = first.checked_add(index) else {
                    break;
                };
                let run = stallsim_harness::run(&world(seed));
                let ordering = stallsim_explore::ordering(&run);
                let report = run.report;
                let mismatches = property.check(&report);
                let outcome = Outcome {
                    seed,
                    report,
                    mismatches,
                    ordering,
                };
                if sender.send(outcome).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for outcome in receiver {
            seen(outcome);
        }
    });
}

//! What an exploration found: the tally of its runs, what they were held
//! to, and the statistics computed from them (rates with their intervals,
//! spreads, loads, the orders of the key events).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::plan::Shard;
use crate::property::Property;
use crate::stats::Rate;
use crate::tally::{FailedRun, Tally, ORDERING_SEPARATOR};

/// The runs of one exploration (or of one shard of it), folded.
#[derive(Clone, Debug, PartialEq)]
pub struct Exploration {
    /// The scenario's `metadata.name`.
    pub scenario: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// The first seed of the whole exploration.
    pub first_seed: u64,
    /// The runs asked for, if the exploration was given a count.
    pub planned: Option<u64>,
    /// Stopped by its interrupt: it covers the runs that finished.
    pub interrupted: bool,
    /// The shard it covers, when it covers one shard of the runs.
    pub shard: Option<Shard>,
    /// The estimated constants each run drew from its plausible range
    /// (`Estimates::Plausible`); empty when every run took them as written.
    pub estimates: Vec<String>,
    /// What every run was held to.
    pub property: Property,
    /// What the runs came to, kept flat.
    pub tally: Tally,
}

/// How many runs came to each verdict.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Verdicts {
    /// Runs that converged.
    pub converges: Rate,
    /// Runs that stalled.
    pub stall: Rate,
    /// Runs in which a replica kept restarting without getting ready.
    pub restart_loop: Rate,
    /// Runs that could not decide.
    pub inconclusive: Rate,
}

impl Verdicts {
    /// Each verdict's name and rate, in the order above.
    pub fn each(&self) -> [(&'static str, &Rate); 4] {
        [
            ("converges", &self.converges),
            ("stall", &self.stall),
            ("restart-loop", &self.restart_loop),
            ("inconclusive", &self.inconclusive),
        ]
    }
}

/// For runs whose flow deleted the CRDs: how long until the flow first saw
/// the deployment ready.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DeletionToReady {
    /// Runs in which the flow deleted the CRDs.
    pub runs: u64,
    /// Of those, runs in which the deployment was never seen ready.
    pub never: u64,
    /// The median time, in seconds, over the runs where it became ready.
    pub median_secs: Option<f64>,
    /// The 99th percentile (nearest rank), in seconds.
    pub p99_secs: Option<f64>,
    /// The longest, in seconds.
    pub max_secs: Option<f64>,
}

/// Container restarts of all replicas in a run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Restarts {
    /// Averaged over runs.
    pub mean: f64,
    /// The most in one run.
    pub max: u64,
}

/// The load on the API server: requests per run, and the busiest minute
/// of any run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiLoad {
    /// Requests answered per run, averaged.
    pub mean_per_run: f64,
    /// The most requests answered in any minute of any run.
    pub peak_per_minute: u64,
    /// Each replica's most LISTs in any minute of any run.
    pub list_peak_per_minute: BTreeMap<String, u64>,
}

/// One order in which the runs' key events first happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ordering {
    /// The key events, in order (`grm-1 discovers`, `CRDs deleted`, ...).
    pub events: Vec<String>,
    /// Runs in this order.
    pub runs: u64,
    /// Of those, runs that stalled.
    pub stalled: u64,
    /// The first seed that came in this order.
    pub first_seed: u64,
}

impl Exploration {
    /// Runs covered.
    pub fn runs(&self) -> u64 {
        self.tally.runs
    }

    /// Runs that did not hold the property.
    pub fn failed(&self) -> u64 {
        self.tally.failures.len() as u64
    }

    /// Runs that held the property.
    pub fn held(&self) -> u64 {
        self.runs() - self.failed()
    }

    /// The runs that did not hold the property, in seed order.
    pub fn failures(&self) -> &BTreeMap<u64, FailedRun> {
        &self.tally.failures
    }

    /// The rate of each verdict.
    pub fn verdicts(&self) -> Verdicts {
        let rate = |verdict: &str| Rate::of(self.tally.count(verdict), self.tally.runs);
        Verdicts {
            converges: rate("converges"),
            stall: rate("stall"),
            restart_loop: rate("restart-loop"),
            inconclusive: rate("inconclusive"),
        }
    }

    /// How often the runs stalled, with its 95% interval.
    pub fn stall_rate(&self) -> Rate {
        self.verdicts().stall
    }

    /// How often the runs broke the property, with its 95% interval.
    pub fn failure_rate(&self) -> Rate {
        Rate::of(self.failed(), self.runs())
    }

    /// The time from the deletion to a ready deployment.
    pub fn deletion_to_ready(&self) -> DeletionToReady {
        let secs = |ms: Option<u64>| ms.map(|ms| ms as f64 / 1000.0);
        DeletionToReady {
            runs: self.tally.deletions,
            never: self.tally.never_ready,
            median_secs: secs(self.tally.deletion_to_ready_quantile(0.5)),
            p99_secs: secs(self.tally.deletion_to_ready_quantile(0.99)),
            max_secs: secs(self.tally.deletion_to_ready_max()),
        }
    }

    /// Container restarts per run.
    pub fn restarts_per_run(&self) -> Restarts {
        Restarts {
            mean: self.per_run(self.tally.restarts),
            max: self.tally.restarts_max,
        }
    }

    /// The load the runs put on the API server.
    pub fn api_requests(&self) -> ApiLoad {
        ApiLoad {
            mean_per_run: self.per_run(self.tally.api_requests),
            peak_per_minute: self.tally.api_peak_per_minute,
            list_peak_per_minute: self.tally.list_peak_per_minute.clone(),
        }
    }

    /// Coverage: each order of key events the runs came in, most runs
    /// first (ties by first seed).
    pub fn orderings(&self) -> Vec<Ordering> {
        let mut all: Vec<Ordering> = self
            .tally
            .orderings
            .iter()
            .map(|(key, o)| Ordering {
                events: key
                    .split(ORDERING_SEPARATOR)
                    .filter(|e| !e.is_empty())
                    .map(str::to_string)
                    .collect(),
                runs: o.runs,
                stalled: o.stalled,
                first_seed: o.first_seed,
            })
            .collect();
        all.sort_by_key(|o| (std::cmp::Reverse(o.runs), o.first_seed));
        all
    }

    fn per_run(&self, total: u64) -> f64 {
        match self.tally.runs {
            0 => 0.0,
            runs => total as f64 / runs as f64,
        }
    }
}

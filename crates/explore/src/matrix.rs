//! The fix matrix: the scenario with no fix, each candidate fix alone, and
//! the combination the file names, the same draws judged under each for
//! convergence, and what each fix did to the stalls of the row without one.

use std::time::Duration;

use serde::Serialize;
use stallsim_harness::manager::Mitigations;
use stallsim_scenario::{Expect, Scenario};

use crate::explore::{Explore, Stop};
use crate::plan::PlanError;
use crate::pool::jobs_default;
use crate::stats::wilson_95;
use crate::tally::Tally;

/// Gardener's `DefaultCacheSyncDeadline` (pkg/healthz/informer.go).
const LIVENESS_CACHE_SYNC_DEADLINE: Duration = Duration::from_secs(180);
/// A lazily created informer is given what a watch source gets: the
/// controller's default CacheSyncTimeout.
const LAZY_INFORMER_SYNC_TIMEOUT: Duration = Duration::from_secs(120);

/// One fix of the matrix: a name as scenario files write it, and the switches.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    /// `none`, `livenessCacheSyncDeadline: 3m`, ...
    pub name: String,
    /// The switches every world of its row runs with.
    pub mitigations: Mitigations,
}

/// No fix, then each fix alone, then the file's own combination when it
/// names one that is not among them.
pub fn matrix_fixes(in_file: &Mitigations) -> Vec<Fix> {
    let none = Mitigations::default();
    let row = |name: &str, mitigations: Mitigations| Fix {
        name: name.to_string(),
        mitigations,
    };
    let mut rows = vec![
        row("none", none.clone()),
        row(
            "livenessCacheSyncDeadline: 3m",
            Mitigations {
                liveness_cache_sync_deadline: Some(LIVENESS_CACHE_SYNC_DEADLINE),
                ..none.clone()
            },
        ),
        row(
            "ignoreNotFound",
            Mitigations {
                ignore_not_found: true,
                ..none.clone()
            },
        ),
        row(
            "rediscoverOnLeadership",
            Mitigations {
                rediscover_on_leadership: true,
                ..none.clone()
            },
        ),
        row(
            "notFoundListIsEmpty",
            Mitigations {
                not_found_list_is_empty: true,
                ..none.clone()
            },
        ),
        row(
            "lazyInformerSyncTimeout: 2m",
            Mitigations {
                lazy_informer_sync_timeout: Some(LAZY_INFORMER_SYNC_TIMEOUT),
                ..none
            },
        ),
    ];
    if !rows.iter().any(|r| r.mitigations == *in_file) {
        rows.push(row("as written in the file", in_file.clone()));
    }
    rows
}

/// What to ask of the matrix.
#[derive(Clone, Copy, Debug)]
pub struct MatrixQuery {
    /// Runs per row, from the scenario's own seed.
    pub runs: u64,
    /// Worker threads.
    pub jobs: usize,
}

impl Default for MatrixQuery {
    fn default() -> Self {
        MatrixQuery {
            runs: crate::plan::RUNS_DEFAULT,
            jobs: jobs_default(),
        }
    }
}

/// The matrix: one row per fix, the same seeds in each.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Matrix {
    /// The first seed of every row.
    pub first_seed: u64,
    /// Runs per row.
    pub runs: u64,
    /// No fix first, then each fix alone, then the file's own combination.
    pub rows: Vec<MatrixRow>,
}

/// What one fix did to the stalls, against the row without a fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Finding {
    /// No run stalled.
    #[serde(rename = "closed")]
    Closed,
    /// Fewer runs stalled than without a fix.
    #[serde(rename = "narrowed")]
    Narrowed,
    /// As many runs stalled as without a fix, or more.
    #[serde(rename = "not closed")]
    NotClosed,
}

impl Finding {
    /// `closed`, `narrowed` or `not closed`.
    pub fn label(self) -> &'static str {
        match self {
            Finding::Closed => "closed",
            Finding::Narrowed => "narrowed",
            Finding::NotClosed => "not closed",
        }
    }
}

/// One row of the matrix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatrixRow {
    /// The fix's name.
    pub mitigation: String,
    /// Runs in the row.
    pub runs: u64,
    /// Of those, runs that stalled.
    pub stalls: u64,
    /// The 95% Wilson interval of the stall rate.
    pub stall_ci95: Option<(f64, f64)>,
    /// Of the runs, those in which a replica kept restarting without
    /// getting ready: they break the convergence property too.
    pub restart_loops: u64,
    /// Runs that could not decide.
    pub inconclusive: u64,
    /// The longest time from the deletion to the deployment first ready,
    /// over the runs where it became ready.
    pub worst_deletion_to_ready_secs: Option<f64>,
    /// Runs where the deployment was never ready after the deletion.
    pub never_ready: u64,
    /// Container restarts per run, averaged.
    pub restarts_per_run: f64,
    /// The most API requests in any minute of any run.
    pub api_peak_per_minute: u64,
    /// Against the row without a fix.
    pub finding: Finding,
}

impl MatrixRow {
    fn new(mitigation: String, tally: &Tally, baseline: Option<u64>) -> MatrixRow {
        let runs = tally.runs;
        let stalls = tally.count("stall");
        let restart_loops = tally.count("restart-loop");
        // A fix that turns stalls into restart loops has not closed them.
        let broken = stalls + restart_loops;
        let finding = match baseline {
            _ if broken == 0 => Finding::Closed,
            Some(base) if broken < base => Finding::Narrowed,
            _ => Finding::NotClosed,
        };
        MatrixRow {
            mitigation,
            runs,
            stalls,
            stall_ci95: wilson_95(stalls, runs),
            restart_loops,
            inconclusive: tally.count("inconclusive"),
            worst_deletion_to_ready_secs: tally
                .deletion_to_ready_max()
                .map(|ms| ms as f64 / 1000.0),
            never_ready: tally.never_ready,
            restarts_per_run: if runs == 0 {
                0.0
            } else {
                tally.restarts as f64 / runs as f64
            },
            api_peak_per_minute: tally.api_peak_per_minute,
            finding,
        }
    }
}

/// Runs the matrix of `scenario`: `query.runs` seeds from its own under
/// each fix, each judged for convergence. `interrupt` stops it early (the
/// rows then cover fewer runs).
pub fn matrix(
    scenario: &Scenario,
    query: &MatrixQuery,
    interrupt: Stop<'_>,
) -> Result<Matrix, PlanError> {
    let mut rows: Vec<MatrixRow> = Vec::new();
    for Fix { name, mitigations } in matrix_fixes(&scenario.config().manager.mitigations) {
        let explored = Explore::new(scenario)
            .runs(query.runs)
            .jobs(query.jobs)
            .property(Expect::converges())
            .mitigations(mitigations)
            .interrupt(interrupt)
            .run()?;
        let baseline = rows.first().map(|r| r.stalls + r.restart_loops);
        rows.push(MatrixRow::new(name, &explored.tally, baseline));
    }
    Ok(Matrix {
        first_seed: scenario.seed(),
        runs: query.runs,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fix_alone_then_the_files_combination() {
        let rows = matrix_fixes(&Mitigations::default());
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0].mitigations, Mitigations::default());
        for row in &rows[1..] {
            assert_ne!(row.mitigations, Mitigations::default(), "{}", row.name);
        }
        let combined = Mitigations {
            ignore_not_found: true,
            rediscover_on_leadership: true,
            ..Mitigations::default()
        };
        let rows = matrix_fixes(&combined);
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[6].mitigations, combined);
    }
}

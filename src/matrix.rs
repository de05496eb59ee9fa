//! `stallsim matrix`: the same draws under no fix, each fix alone and the
//! file's own combination, in one table.

use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::Serialize;
use stallsim_explore::{matrix_rows, MatrixRow};
use stallsim_harness::format_duration;
use stallsim_scenario::{Expect, ExpectedVerdict};

use crate::runs::{run_seeds, Budget, Plan, Shard};
use crate::stats::wilson_95;
use crate::summary::RunRecord;
use crate::tally::Tally;
use crate::{EXIT_BAD_INPUT, EXIT_CONVERGES, EXIT_STALL};

/// One row of the table.
#[derive(Debug, Serialize)]
pub struct Row {
    pub mitigation: String,
    pub runs: u64,
    pub stalls: u64,
    pub stall_ci95: Option<(f64, f64)>,
    pub inconclusive: u64,
    /// The longest time from the deletion to the deployment first ready,
    /// over the runs where it became ready.
    pub worst_deletion_to_ready_secs: Option<f64>,
    /// Runs where the deployment was never ready after the deletion.
    pub never_ready: u64,
    pub restarts_per_run: f64,
    /// The most API requests in any minute of any run.
    pub api_peak_per_minute: u64,
    /// `closed`, `narrowed` or `not closed`, against the row without a fix.
    pub finding: &'static str,
}

pub fn matrix(file: &Path, runs: u64, jobs: Option<usize>, json: bool) -> u8 {
    let Some(scenario) = crate::load_scenario(file) else {
        return EXIT_BAD_INPUT;
    };
    let converges = Expect {
        verdict: ExpectedVerdict::Converges,
        stalled_replica: None,
        deployment_ready_within_flow_timeout: None,
        api_requests: None,
    };
    let jobs = jobs.unwrap_or_else(crate::available_jobs);
    let first = scenario.seed();
    let stop = AtomicBool::new(false);
    let in_file = scenario.config().manager.mitigations;
    let mut rows: Vec<Row> = Vec::new();
    for MatrixRow { name, mitigations } in matrix_rows(&in_file) {
        let world = |seed: u64| {
            let mut config = scenario.world(seed).config;
            config.manager.mitigations = mitigations.clone();
            config
        };
        let mut tally = Tally::default();
        run_seeds(
            &world,
            &converges,
            Plan {
                first,
                budget: Budget::Runs(runs),
                shard: Shard::WHOLE,
                jobs,
            },
            &stop,
            |outcome| tally.add(&RunRecord::of(&outcome)),
        );
        let baseline = rows.first().map(|r| r.stalls);
        rows.push(row(name, &tally, baseline));
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialize")
        );
    } else {
        print!("{}", table(file, first, runs, &rows));
    }
    if rows.iter().any(|r| r.stalls > 0) {
        EXIT_STALL
    } else {
        EXIT_CONVERGES
    }
}

fn row(mitigation: String, tally: &Tally, baseline: Option<u64>) -> Row {
    let runs = tally.runs;
    let stalls = tally.count("stall");
    let finding = match baseline {
        _ if stalls == 0 => "closed",
        Some(base) if stalls < base => "narrowed",
        _ => "not closed",
    };
    Row {
        mitigation,
        runs,
        stalls,
        stall_ci95: wilson_95(stalls, runs),
        inconclusive: tally.count("inconclusive"),
        worst_deletion_to_ready_secs: tally.deletion_to_ready_max().map(|ms| ms as f64 / 1000.0),
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

/// The table in Markdown, so it renders where engineers review.
fn table(file: &Path, first: u64, runs: u64, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: seeds {first} to {} under each fix (the same draws in every row)\n",
        file.display(),
        first + runs.saturating_sub(1)
    );
    let _ = writeln!(
        out,
        "| fix | stalls | stall rate (95% CI) | inconclusive | worst deletion to ready | never ready | restarts per run | API requests, busiest minute | finding |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---|---:|---:|---:|---|");
    for row in rows {
        let (low, high) = row.stall_ci95.unwrap_or((0.0, 0.0));
        let worst = row
            .worst_deletion_to_ready_secs
            .map(|s| format_duration(std::time::Duration::from_secs_f64(s)))
            .unwrap_or_else(|| "-".to_string());
        let _ = writeln!(
            out,
            "| {} | {}/{} | {:.1}% [{:.1}%, {:.1}%] | {} | {worst} | {} | {:.2} | {} | {} |",
            row.mitigation,
            row.stalls,
            row.runs,
            100.0 * row.stalls as f64 / row.runs.max(1) as f64,
            100.0 * low,
            100.0 * high,
            row.inconclusive,
            row.never_ready,
            row.restarts_per_run,
            row.api_peak_per_minute,
            row.finding
        );
    }
    out
}

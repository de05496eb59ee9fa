//! `stallsim matrix`: the same draws under no fix, each fix alone and the
//! file's own combination, in one table.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use stallsim::explore::{jobs_default, Matrix, MatrixQuery};
use stallsim::format_duration;

use super::exit;

/// The fix matrix: the same seeds (the same draws) with no fix, each
/// candidate fix alone, and the file's own combination, judged for
/// convergence, in one Markdown table. Exit 0 when no run stalled, 1
/// when some did, 2 on bad input.
#[derive(clap::Args)]
pub struct Args {
    /// The scenario file (ranged times make the rows cover the race).
    file: PathBuf,
    /// Runs per row.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    runs: u64,
    /// Worker threads (default: the available parallelism).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    jobs: Option<u64>,
    /// Print the rows as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `stallsim matrix`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let Some(scenario) = super::load_scenario(&args.file) else {
        return exit::BAD_INPUT;
    };
    let query = MatrixQuery {
        runs: args.runs,
        jobs: args.jobs.map_or_else(jobs_default, |j| j as usize),
    };
    let matrix = match scenario.matrix(&query) {
        Ok(matrix) => matrix,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::BAD_INPUT;
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&matrix.rows).expect("rows serialize")
        );
    } else {
        print!("{}", table(&args.file, &matrix));
    }
    if matrix.rows.iter().any(|r| r.stalls + r.restart_loops > 0) {
        exit::STALL
    } else {
        exit::CONVERGES
    }
}

/// The table in Markdown, so it renders where engineers review.
fn table(file: &Path, matrix: &Matrix) -> String {
    let first = matrix.first_seed;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: seeds {first} to {} under each fix (the same draws in every row)\n",
        file.display(),
        first + matrix.runs.saturating_sub(1)
    );
    let _ = writeln!(
        out,
        "| fix | stalls | stall rate (95% CI) | restart loops | inconclusive | worst deletion to ready | never ready | restarts per run | API requests, busiest minute | finding |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---:|---|---:|---:|---:|---|");
    for row in &matrix.rows {
        let (low, high) = row.stall_ci95.unwrap_or((0.0, 0.0));
        let worst = row
            .worst_deletion_to_ready_secs
            .map(|s| format_duration(std::time::Duration::from_secs_f64(s)))
            .unwrap_or_else(|| "-".to_string());
        let _ = writeln!(
            out,
            "| {} | {}/{} | {:.1}% [{:.1}%, {:.1}%] | {} | {} | {worst} | {} | {:.2} | {} | {} |",
            row.mitigation,
            row.stalls,
            row.runs,
            100.0 * row.stalls as f64 / row.runs.max(1) as f64,
            100.0 * low,
            100.0 * high,
            row.restart_loops,
            row.inconclusive,
            row.never_ready,
            row.restarts_per_run,
            row.api_peak_per_minute,
            row.finding.label()
        );
    }
    out
}

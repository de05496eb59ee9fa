//! `stallsim sensitivity`: whether a verdict holds for every plausible
//! value of the model's estimated constants, and where it flips.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use stallsim::explore::{
    jobs_default, Moved, Sensitivity, SensitivityQuery, SENSITIVITY_GRID_POINTS_DEFAULT,
};

use super::exit;

/// Move each estimated constant alone across its plausible range (every
/// other draw held at the seed's), bisect every change of verdict to the
/// tick and name the first key event that differs across it. Exit 0 when
/// the verdict is robust to all of them, 1 when it rests on one, 2 on bad
/// input.
#[derive(clap::Args)]
pub struct Args {
    /// The scenario file.
    file: PathBuf,
    /// The seed that fixes the other draws (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Values tried across each range before the changes are refined.
    #[arg(long, default_value_t = SENSITIVITY_GRID_POINTS_DEFAULT, value_parser = clap::value_parser!(u32).range(2..=1000))]
    grid: u32,
    /// Worker threads (default: the available parallelism).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    jobs: Option<u64>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `stallsim sensitivity`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let Some(scenario) = super::load_scenario(&args.file) else {
        return exit::BAD_INPUT;
    };
    let query = SensitivityQuery {
        seed: args.seed.unwrap_or(scenario.seed()),
        grid_points: args.grid,
        jobs: args.jobs.map_or_else(jobs_default, |j| j as usize),
    };
    let found = scenario.sensitivity(&query);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&found).expect("a sensitivity serializes")
        );
    } else {
        print!("{}", render(&args.file, &found));
    }
    if found.rests_on().is_empty() {
        exit::CONVERGES
    } else {
        exit::STALL
    }
}

/// The table: constant, range, verdict across it, edge, the event that flips it.
pub fn render(file: &Path, found: &Sensitivity) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario: {}", file.display());
    let _ = writeln!(
        out,
        "seed:     {} (every other draw, and the network's jitter, as this seed has them)",
        found.seed
    );
    let _ = writeln!(
        out,
        "verdict:  {} with every constant as written; {}",
        found.verdict,
        found.summary()
    );
    let _ = writeln!(
        out,
        "          ({} runs; edges to {})\n",
        found.runs,
        short(found.resolution)
    );
    let _ = writeln!(
        out,
        "{:<22} {:<18} {:<38} {:<16} flips on",
        "constant", "range", "verdict across it", "edge"
    );
    for c in &found.constants {
        let range = format!(
            "{}..{}{}",
            short(c.range.0),
            short(c.range.1),
            if c.from_file { " (file)" } else { "" }
        );
        match &c.moved {
            Moved::NoPart => {
                let _ = writeln!(
                    out,
                    "{:<22} {range:<18} takes no part in this run (every value ran the same trace)",
                    c.name
                );
            }
            Moved::Refused { error } => {
                let _ = writeln!(out, "{:<22} {range:<18} not moved: {error}", c.name);
            }
            Moved::Across { segments, edges } => {
                let across = if edges.is_empty() {
                    format!(
                        "{} throughout",
                        segments.first().map_or("?", |s| &s.verdict)
                    )
                } else {
                    segments
                        .iter()
                        .map(|s| format!("{} {}..{}", s.verdict, short(s.from), short(s.to)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                if edges.is_empty() {
                    let _ = writeln!(out, "{:<22} {range:<18} {across:<38} -", c.name);
                }
                for (i, edge) in edges.iter().enumerate() {
                    let (name, range, across) = if i == 0 {
                        (c.name.as_str(), range.as_str(), across.as_str())
                    } else {
                        ("", "", "")
                    };
                    let at = format!("{} / {}", short(edge.below), short(edge.above));
                    let flips = match (&edge.below_with, &edge.above_with) {
                        (None, None) => "(the runs differ in timing only)".to_string(),
                        (below, above) => format!(
                            "{} -> {}",
                            below.as_deref().unwrap_or("(nothing)"),
                            above.as_deref().unwrap_or("(nothing)")
                        ),
                    };
                    let _ = writeln!(out, "{name:<22} {range:<18} {across:<38} {at:<16} {flips}");
                }
            }
        }
    }
    out
}

/// `1.83s`, `500ms`, `5m`: as a scenario file writes a duration.
fn short(duration: std::time::Duration) -> String {
    stallsim_scenario::format_duration_text(duration)
}

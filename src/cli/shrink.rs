//! `stallsim shrink`: a failing run reduced to what it needs to fail.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use stallsim::explore::Shrunk;
use stallsim::format_duration;
use stallsim::show::replay_command;
use stallsim_harness::render_timeline;

use super::exit;

/// Reduce a run that breaks the property (the file's `expect`, else
/// `converges`) to what it needs: faults dropped while it still fails,
/// ranged times moved toward their least value, to the tick. Prints the
/// shrunk run's timeline. Exit 0 when the run holds the property
/// (nothing to shrink), 1 when it was shrunk, 2 on bad input.
#[derive(clap::Args)]
pub struct Args {
    /// The scenario file.
    file: PathBuf,
    /// The failing run's seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `stallsim shrink`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let (file, json) = (args.file.as_path(), args.json);
    let Some(scenario) = super::load_scenario(file) else {
        return exit::BAD_INPUT;
    };
    let seed = args.seed.unwrap_or(scenario.seed());
    let property = scenario.property();
    let started = Instant::now();
    let Some(shrunk) = scenario.shrink(seed, &property) else {
        println!(
            "seed {seed} of {} holds its property ({}): nothing to shrink",
            file.display(),
            property.verdict.name()
        );
        return exit::CONVERGES;
    };
    let took = started.elapsed();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&shrunk).expect("a shrunk run serializes")
        );
    } else {
        print!("{}", render(file, &shrunk));
    }
    eprintln!(
        "shrunk in {} runs, {:.1}s of wall time",
        shrunk.runs,
        took.as_secs_f64()
    );
    exit::STALL
}

/// A shrunk run for people: what it needs, what it does without, its timeline.
pub fn render(file: &Path, shrunk: &Shrunk) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario: {}", file.display());
    let _ = writeln!(
        out,
        "seed:     {} (shrunk in {} runs)",
        shrunk.seed, shrunk.runs
    );
    let _ = writeln!(out, "fails:    {}", shrunk.mismatches.join("; "));
    let list = |items: &[String]| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join("; ")
        }
    };
    let _ = writeln!(out, "needs:    {}", list(&shrunk.faults_kept));
    let _ = writeln!(out, "without:  {}", list(&shrunk.faults_dropped));
    for (i, (field, drawn, least)) in shrunk.times.iter().enumerate() {
        let label = if i == 0 { "times:" } else { "" };
        let moved = if least == drawn {
            "could not move".to_string()
        } else {
            format!("still fails at {}", format_duration(*least))
        };
        let _ = writeln!(
            out,
            "{label:<10}{field} drawn {}, {moved}",
            format_duration(*drawn)
        );
    }
    let _ = writeln!(
        out,
        "replay:   {} (the run as drawn)",
        replay_command(file, shrunk.seed)
    );
    let _ = writeln!(out, "\nthe shrunk run's timeline:");
    out.push_str(&render_timeline(&shrunk.run.trace));
    out
}

//! `stallsim shrink`: a failing run reduced to what it needs to fail.

use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

use stallsim_explore::{property_of, shrink, Shrunk};
use stallsim_harness::{format_duration, render_timeline};

use crate::output::replay_command;
use crate::{EXIT_BAD_INPUT, EXIT_CONVERGES, EXIT_STALL};

pub fn shrink_command(file: &Path, seed: Option<u64>, json: bool) -> u8 {
    let Some(scenario) = crate::load_scenario(file) else {
        return EXIT_BAD_INPUT;
    };
    let seed = seed.unwrap_or(scenario.seed());
    let (property, _) = property_of(&scenario);
    let started = Instant::now();
    let Some(shrunk) = shrink(&scenario, seed, &property) else {
        println!(
            "seed {seed} of {} holds its property ({}): nothing to shrink",
            file.display(),
            property.verdict.name()
        );
        return EXIT_CONVERGES;
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
    EXIT_STALL
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

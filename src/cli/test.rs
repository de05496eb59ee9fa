//! `stallsim test`: every scenario's expectation, checked under its seed
//! (or a few seeds from it).

use std::path::PathBuf;

use stallsim::explore::check_seeds;
use stallsim::show::replay_command;

use super::exit;

/// Check each scenario's `expect`; exit 0 when all hold, 1 otherwise, 2 on bad input.
#[derive(clap::Args)]
pub struct Args {
    /// Scenario files or directories (default: scenarios/).
    paths: Vec<PathBuf>,
    /// Check each scenario under this many seeds, from its own seed on.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    seeds: u64,
}

/// Runs `stallsim test`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let seeds = args.seeds;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        args.paths
    };
    // (file, whether it was named): a file found in a directory without an
    // `expect` is skipped (it is for exploring); a named one must have one.
    let mut files = Vec::new();
    for path in &paths {
        if path.is_dir() {
            match stallsim_scenario::discover(path) {
                Ok(found) => files.extend(found.into_iter().map(|f| (f, false))),
                Err(error) => {
                    eprintln!("error: {error}");
                    return exit::BAD_INPUT;
                }
            }
        } else {
            files.push((path.clone(), true));
        }
    }
    let mut scenarios = Vec::new();
    let mut skipped = 0;
    for (file, named) in &files {
        let scenario = match stallsim_scenario::load(file) {
            Ok(scenario) => scenario,
            Err(error) => {
                eprintln!("error: {error}");
                return exit::BAD_INPUT;
            }
        };
        if let Some(error) = super::unbound_programs_error(file, &scenario.unbound_programs()) {
            eprintln!("error: {error}");
            return exit::BAD_INPUT;
        }
        match scenario.expectation() {
            Ok(expect) => {
                let expect = expect.clone();
                scenarios.push((scenario, expect));
            }
            Err(_) if !named => {
                skipped += 1;
                println!(
                    "skip  {}: no expect (explore it: cargo run --release -- explore {})",
                    file.display(),
                    file.display()
                );
            }
            Err(error) => {
                eprintln!("error: {error}");
                return exit::BAD_INPUT;
            }
        }
    }
    let (mut passed, mut failed) = (0, 0);
    for (scenario, expect) in &scenarios {
        let name = scenario.path.display();
        let checked = check_seeds(scenario, expect, seeds);
        let seed_note = if seeds == 1 {
            format!("seed {}", scenario.seed())
        } else {
            format!("{seeds} seeds from {}", scenario.seed())
        };
        match checked.failures.first() {
            None => {
                passed += 1;
                println!("ok    {name}: {} ({seed_note})", checked.verdict);
            }
            Some((seed, mismatches)) => {
                failed += 1;
                println!(
                    "FAIL  {name}: {} of {seeds} seeds fail; first, seed {seed}: {}",
                    checked.failures.len(),
                    mismatches.join("; ")
                );
                println!("      replay: {}", replay_command(&scenario.path, *seed));
            }
        }
    }
    if skipped > 0 {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if failed == 0 {
        exit::CONVERGES
    } else {
        exit::STALL
    }
}

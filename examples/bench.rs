//! Benchmark: the cost of one run of a scenario against an empty turmoil
//! world of the same hosts, tick and duration, measured in this process.
//!
//! `cargo run --release --example bench -- [FILE] [RUNS]`

use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "scenarios/grm-deletion-stall.yaml".to_string()),
    );
    let runs: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(5).max(1);
    let scenario = match stallsim_scenario::load(&file) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let config = scenario.world(scenario.seed()).config;

    // Warm up both, then time `runs` of each, interleaved.
    stallsim_harness::run(&config);
    stallsim_harness::run_empty(&config);
    let (mut run_wall, mut empty_wall) = (Duration::ZERO, Duration::ZERO);
    let mut events = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let run = stallsim_harness::run(&config);
        run_wall += start.elapsed();
        events = run.trace.len();
        let start = Instant::now();
        stallsim_harness::run_empty(&config);
        empty_wall += start.elapsed();
    }
    let per_run = run_wall / runs;
    let per_empty = empty_wall / runs;
    let simulated = config.duration.as_secs_f64();
    println!(
        "scenario:              {} ({})",
        config.name,
        file.display()
    );
    println!(
        "shape:                 {} replicas, tick {:?}, {}s simulated, {} trace events",
        config.replicas.len(),
        config.tick,
        simulated,
        events
    );
    println!(
        "wall time per run:     {:.1} ms",
        per_run.as_secs_f64() * 1e3
    );
    println!(
        "empty world per run:   {:.1} ms",
        per_empty.as_secs_f64() * 1e3
    );
    println!(
        "ratio to empty world:  {:.2}x",
        per_run.as_secs_f64() / per_empty.as_secs_f64()
    );
    println!(
        "simulated s per wall s: {:.0}",
        simulated / per_run.as_secs_f64()
    );
}

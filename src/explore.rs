//! `stallsim explore`: many seeds of one scenario, the rates of what they
//! came to, and the runs that did not hold the property saved as files.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stallsim_explore::{property_of, stall_window, WindowQuery};
use stallsim_scenario::Expect;

use crate::runs::{run_seeds, Budget, Plan, Shard};
use crate::save::{default_dir, save_failures};
use crate::summary::{Context, Property, RunRecord, Summary};
use crate::tally::Tally;
use crate::{EXIT_BAD_INPUT, EXIT_CONVERGES, EXIT_STALL};

/// Exit status of a second Ctrl-C, which stops at once (128 + SIGINT).
const EXIT_SECOND_INTERRUPT: i32 = 130;

pub struct Args {
    pub file: PathBuf,
    pub budget: Budget,
    pub jobs: Option<usize>,
    pub seed: Option<u64>,
    pub save: Option<PathBuf>,
    pub json: bool,
    /// Shrink the first failing run.
    pub shrink: bool,
    /// The part of the runs this process takes.
    pub shard: Shard,
    /// Find each ranged time's stall window too, with this many grid points.
    pub window_grid: Option<u32>,
}

/// `--for`: a Go-style duration above zero.
pub fn parse_budget_duration(text: &str) -> Result<Duration, String> {
    match stallsim_scenario::parse_duration(text)? {
        Duration::ZERO => Err("a budget of 0s runs nothing; expected a duration above zero".into()),
        duration => Ok(duration),
    }
}

pub fn explore(args: Args) -> u8 {
    let Some(scenario) = crate::load_scenario(&args.file) else {
        return EXIT_BAD_INPUT;
    };
    let save_dir = args.save.unwrap_or_else(|| default_dir(&args.file));
    if save_dir.exists() && !save_dir.is_dir() {
        eprintln!(
            "error: --save {}: not a directory; expected a directory (created if missing) for the failing runs",
            save_dir.display()
        );
        return EXIT_BAD_INPUT;
    }
    let (property, from_file) = property_of(&scenario);
    let from = if from_file { "file" } else { "default" };
    let stop = Arc::new(AtomicBool::new(false));
    if let Err(error) = on_interrupt(&stop) {
        eprintln!("error: cannot handle Ctrl-C: {error}");
        return EXIT_BAD_INPUT;
    }
    let jobs = args.jobs.unwrap_or_else(crate::available_jobs);
    let first_seed = args.seed.unwrap_or(scenario.seed());
    let started = Instant::now();
    let shard_budget = match args.budget {
        Budget::Runs(runs) => Budget::Runs(
            runs.saturating_sub(args.shard.index)
                .div_ceil(args.shard.count),
        ),
        other => other,
    };
    let mut progress = crate::progress::Progress::new(shard_budget);
    let mut tally = Tally::default();
    run_seeds(
        &|seed| scenario.world(seed).config,
        &property,
        Plan {
            first: first_seed,
            budget: args.budget,
            shard: args.shard,
            jobs,
        },
        &stop,
        |outcome| {
            progress.seen(&outcome);
            tally.add(&RunRecord::of(&outcome));
        },
    );
    progress.finish();
    let interrupted = stop.load(std::sync::atomic::Ordering::SeqCst);
    let elapsed = started.elapsed();
    let saved = save_failures(&scenario, &tally.failures, &save_dir);
    let first_failure = tally.failures.keys().next().copied();
    let name = scenario.config().name;
    let context = Context {
        scenario: &name,
        file: &args.file,
        first_seed,
        planned: match args.budget {
            Budget::Runs(runs) => Some(runs),
            Budget::For(_) => None,
        },
        interrupted,
        shard: (args.shard != Shard::WHOLE)
            .then(|| format!("{}/{}", args.shard.index, args.shard.count)),
        property: Property {
            expect: describe(&property),
            from: from.to_string(),
        },
    };
    let mut summary = Summary::new(context, tally, saved);
    let shrunk = match (args.shrink, first_failure) {
        (true, Some(seed)) => stallsim_explore::shrink(&scenario, seed, &property),
        _ => None,
    };
    summary.shrunk = shrunk.clone();
    if let Some(grid_points) = args.window_grid.filter(|_| !interrupted) {
        summary.windows = scenario
            .world(first_seed)
            .draws
            .iter()
            .filter_map(|draw| {
                let query = WindowQuery {
                    field: draw.field.clone(),
                    seed: first_seed,
                    grid_points,
                };
                stall_window(&scenario, &query)
            })
            .collect();
    }
    if args.json {
        match serde_json::to_string_pretty(&summary) {
            Ok(json) => println!("{json}"),
            Err(error) => eprintln!("error: cannot print the summary as JSON: {error}"),
        }
    } else {
        print!("{}", summary.text());
        if let Some(shrunk) = &shrunk {
            println!("\nthe first failure, shrunk:");
            print!("{}", crate::shrink::render(&args.file, shrunk));
        }
        if !summary.windows.is_empty() {
            println!("\nstall windows, every other draw as seed {first_seed} has them:");
            print!("{}", crate::window::render_windows(&summary.windows));
        }
    }
    eprintln!(
        "{} runs in {:.1}s on {jobs} threads ({:.2} runs/s)",
        summary.runs,
        elapsed.as_secs_f64(),
        summary.runs as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    if summary.failed == 0 {
        EXIT_CONVERGES
    } else {
        EXIT_STALL
    }
}

/// The first Ctrl-C sets `stop`: no run starts after it, runs in progress
/// finish. A second one, while they finish, exits at once.
fn on_interrupt(stop: &Arc<AtomicBool>) -> std::io::Result<()> {
    use signal_hook::consts::SIGINT;
    signal_hook::flag::register_conditional_shutdown(
        SIGINT,
        EXIT_SECOND_INTERRUPT,
        Arc::clone(stop),
    )?;
    signal_hook::flag::register(SIGINT, Arc::clone(stop))?;
    Ok(())
}

/// The property in a few words: `converges`, `stall of grm-1`, and the
/// flow's wait if the file names it.
fn describe(expect: &Expect) -> String {
    let mut text = expect.verdict.name().to_string();
    if let Some(replica) = &expect.stalled_replica {
        text.push_str(&format!(" of {replica}"));
    }
    match expect.deployment_ready_within_flow_timeout {
        Some(true) => text.push_str(", deployment ready within the flow's wait"),
        Some(false) => text.push_str(", deployment not ready within the flow's wait"),
        None => {}
    }
    if let Some(bounds) = &expect.api_requests {
        for (class, _, max) in bounds.bounds() {
            text.push_str(&format!(
                ", at most {max} {} a minute per replica",
                class.label()
            ));
        }
    }
    text
}

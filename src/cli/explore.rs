//! `stallsim explore`: many seeds of one scenario, the rates of what they
//! came to, and the runs that did not hold the property saved as files.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stallsim::explore::{
    jobs_default, Estimates, FoundFailure, RunRecord, Shard, WindowQuery, RUNS_DEFAULT,
};

use super::progress::{Length, Progress};
use super::save::{self, SAVED_FILES_MAX};
use super::summary::Summary;
use super::{exit, window};

/// Run one scenario under many seeds on worker threads and report the
/// rate of each verdict; the runs that do not hold its `expect` (else
/// `converges`) are listed and saved as files. Exit 0 when every run
/// holds it, 1 otherwise, 2 on bad input. Ctrl-C stops early.
#[derive(clap::Args)]
pub struct Args {
    /// The scenario file.
    file: PathBuf,
    /// How many runs (default 100).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "for_")]
    runs: Option<u64>,
    /// Run for this long instead, wall-clock (Go-style: 90s, 10m, 1h).
    #[arg(long = "for", id = "for_", value_name = "DURATION", value_parser = parse_budget_duration)]
    for_: Option<Duration>,
    /// Worker threads (default: the available parallelism).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    jobs: Option<u64>,
    /// The first seed (default: the scenario's); then seed + 1, ...
    #[arg(long)]
    seed: Option<u64>,
    /// Where to write the failing runs (default: found/ beside the file).
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
    /// Print the summary as one JSON document.
    #[arg(long)]
    json: bool,
    /// Shrink the first failing run and print its shrunk timeline.
    #[arg(long)]
    shrink: bool,
    /// Take only shard I of N of the runs (`I/N`; `N` alone reads I from
    /// JOB_COMPLETION_INDEX); `stallsim merge` combines the shards' JSON.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Also find each ranged time's stall window (as `stallsim window`,
    /// under the first seed) and add it to the summary.
    #[arg(long, conflicts_with = "systematic")]
    window: bool,
    /// Instead of sampling seeds, force the key events through every
    /// order the ranges allow (each ranged time moved alone, its order
    /// changes bisected to the tick, then the segments combined), and
    /// report the orders reached and those never reached. For small
    /// scenarios: a few ranged times.
    #[arg(long, conflicts_with_all = ["runs", "for_", "shard", "shrink", "save"])]
    systematic: bool,
    /// With --systematic or --window: values tried along each range
    /// before changes are refined.
    #[arg(long, default_value_t = window::GRID_POINTS_DEFAULT, value_parser = clap::value_parser!(u32).range(2..=1000))]
    grid: u32,
    /// The model's estimated constants: `as-written` (the file's values,
    /// else the model's defaults) or `plausible` (each one the file leaves
    /// unset drawn per run from its plausible range, docs/model.md), so
    /// the rates cover the model's own uncertainty.
    #[arg(long, value_enum, default_value_t = EstimatesArg::AsWritten, conflicts_with = "systematic")]
    estimates: EstimatesArg,
}

/// `--estimates`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EstimatesArg {
    /// The file's values, else the model's defaults.
    AsWritten,
    /// Each one the file leaves unset drawn per run from its plausible range.
    Plausible,
}

impl From<EstimatesArg> for Estimates {
    fn from(arg: EstimatesArg) -> Estimates {
        match arg {
            EstimatesArg::AsWritten => Estimates::AsWritten,
            EstimatesArg::Plausible => Estimates::Plausible,
        }
    }
}

/// `--for`: a Go-style duration above zero.
fn parse_budget_duration(text: &str) -> Result<Duration, String> {
    match stallsim_scenario::parse_duration(text)? {
        Duration::ZERO => Err("a budget of 0s runs nothing; expected a duration above zero".into()),
        duration => Ok(duration),
    }
}

/// Runs `stallsim explore`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let jobs = args.jobs.map_or_else(jobs_default, |j| j as usize);
    if args.systematic {
        return super::systematic::run(super::systematic::Args {
            file: &args.file,
            seed: args.seed,
            grid_points: args.grid,
            jobs,
            json: args.json,
        });
    }
    let shard = match args
        .shard
        .as_deref()
        .map(|s| Shard::parse(s, std::env::var("JOB_COMPLETION_INDEX").ok().as_deref()))
    {
        None => Shard::WHOLE,
        Some(Ok(shard)) => shard,
        Some(Err(error)) => {
            eprintln!("error: --shard {}: {error}", args.shard.unwrap_or_default());
            return exit::BAD_INPUT;
        }
    };
    let Some(scenario) = super::load_scenario(&args.file) else {
        return exit::BAD_INPUT;
    };
    let save_dir = args.save.unwrap_or_else(|| save::default_dir(&args.file));
    if save_dir.exists() && !save_dir.is_dir() {
        eprintln!(
            "error: --save {}: not a directory; expected a directory (created if missing) for the failing runs",
            save_dir.display()
        );
        return exit::BAD_INPUT;
    }
    let first_seed = args.seed.unwrap_or(scenario.seed());
    let deadline = args
        .for_
        .and_then(|duration| Instant::now().checked_add(duration));
    let until = || deadline.is_some_and(|d| Instant::now() >= d);
    let stop = Arc::new(AtomicBool::new(false));
    let interrupt = || stop.load(Ordering::SeqCst);
    let explore = scenario
        .explore()
        .seed(first_seed)
        .shard(shard)
        .jobs(jobs)
        .estimates(args.estimates.into())
        .interrupt(&interrupt);
    let explore = match args.for_ {
        Some(_) => explore.until(&until),
        None => explore.runs(args.runs.unwrap_or(RUNS_DEFAULT)),
    };
    let plan = match explore.plan() {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::BAD_INPUT;
        }
    };
    if let Err(error) = on_interrupt(&stop) {
        eprintln!("error: cannot handle Ctrl-C: {error}");
        return exit::BAD_INPUT;
    }
    let started = Instant::now();
    let mut progress = Progress::new(match (plan.runs_in_shard(), args.for_) {
        (Some(runs), _) => Length::Runs(runs),
        (None, duration) => Length::For(duration.unwrap_or_default()),
    });
    let mut seen = |record: &RunRecord| progress.seen(record);
    let name = scenario.name();
    let estimates = Estimates::from(args.estimates);
    let draw = |found: &FoundFailure<'_>| save::draw(found, &scenario, &name, &save_dir, estimates);
    let explored = explore
        .on_run(&mut seen)
        .run_keeping(SAVED_FILES_MAX, &draw);
    let (exploration, drawn) = match explored {
        Ok(explored) => explored,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::BAD_INPUT;
        }
    };
    progress.finish();
    let elapsed = started.elapsed();
    let saved = save::write(&save_dir, exploration.failures(), drawn);
    let first_failure = exploration.failures().keys().next().copied();
    let interrupted = exploration.interrupted;
    let mut summary = Summary::new(exploration, saved);
    summary.shrunk = match (args.shrink, first_failure) {
        (true, Some(seed)) => scenario.shrink(seed, &scenario.property()),
        _ => None,
    };
    if !interrupted && args.window {
        summary.windows = scenario
            .world(first_seed)
            .draws
            .iter()
            .filter_map(|draw| {
                let query = WindowQuery::new(&draw.field, first_seed, args.grid);
                scenario.window(&query).ok()
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
        if let Some(shrunk) = &summary.shrunk {
            println!("\nthe first failure, shrunk:");
            print!("{}", super::shrink::render(&args.file, shrunk));
        }
        if !summary.windows.is_empty() {
            println!("\nstall windows, every other draw as seed {first_seed} has them:");
            print!("{}", window::render_windows(&summary.windows));
        }
    }
    eprintln!(
        "{} runs in {:.1}s on {jobs} threads ({:.2} runs/s)",
        summary.runs,
        elapsed.as_secs_f64(),
        summary.runs as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    if summary.failed == 0 {
        exit::CONVERGES
    } else {
        exit::STALL
    }
}

/// The first Ctrl-C sets `stop`: no run starts after it, runs in progress
/// finish. A second one, while they finish, exits at once.
fn on_interrupt(stop: &Arc<AtomicBool>) -> std::io::Result<()> {
    use signal_hook::consts::SIGINT;
    signal_hook::flag::register_conditional_shutdown(
        SIGINT,
        exit::SECOND_INTERRUPT,
        Arc::clone(stop),
    )?;
    signal_hook::flag::register(SIGINT, Arc::clone(stop))?;
    Ok(())
}

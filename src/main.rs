//! `stallsim`: run a scenario and judge it, check every scenario's
//! expectation, or explore one scenario under many seeds.

mod explore;
mod logs;
mod matrix;
mod merge;
mod modeline;
mod output;
mod progress;
mod report;
mod runs;
mod save;
mod serve;
mod shrink;
mod stats;
mod summary;
mod systematic;
mod tally;
mod timeline_svg;
mod window;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stallsim_harness::Verdict;

/// A run allocates a few hundred times per API request: mimalloc makes the
/// incident about 1.1x faster than the system allocator (`examples/bench.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Reproduces, explores and judges the resource-manager deletion stall by
/// deterministic simulation.
#[derive(Parser)]
#[command(name = "stallsim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario; exit 0 when it converges, 1 on a stall, 2 on bad
    /// input, 3 when the run cannot decide (inconclusive).
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Seed of the run (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Write every event of the run as JSON lines to this file.
        #[arg(long, value_name = "OUT.jsonl")]
        trace: Option<PathBuf>,
        /// Draw the run's timeline (a lane per replica) as an SVG picture.
        #[arg(long, value_name = "OUT.svg")]
        timeline: Option<PathBuf>,
        /// Write a Markdown report (verdict, replay command, key events, a
        /// Mermaid timeline) for a pull request or an issue.
        #[arg(long, value_name = "OUT.md")]
        report: Option<PathBuf>,
        /// Print the report (verdict, restarts, API requests per replica and
        /// class) as one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Where in its ranges a scenario stalls: for each ranged time, the
    /// sub-ranges whose runs stall (every other draw held at the seed's),
    /// edges refined to the tick and explained by the first key event that
    /// differs across them. Exit 0 when no run stalled, 1 when some did, 2
    /// on bad input.
    Window {
        /// The scenario file; at least one of its times is a range.
        file: PathBuf,
        /// A ranged field (`spec.deletionFlow.deleteAt`); default: every one.
        #[arg(long)]
        field: Vec<String>,
        /// The seed that fixes the other draws (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Values tried across each range before the edges are refined.
        #[arg(long, default_value_t = window::GRID_POINTS_DEFAULT, value_parser = clap::value_parser!(u32).range(2..=1000))]
        grid: u32,
        /// Print the windows as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Reduce a run that breaks the property (the file's `expect`, else
    /// `converges`) to what it needs: faults dropped while it still fails,
    /// ranged times moved toward their least value, to the tick. Prints the
    /// shrunk run's timeline. Exit 0 when the run holds the property
    /// (nothing to shrink), 1 when it was shrunk, 2 on bad input.
    Shrink {
        /// The scenario file.
        file: PathBuf,
        /// The failing run's seed (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The fix matrix: the same seeds (the same draws) with no fix, each
    /// candidate fix alone, and the file's own combination, judged for
    /// convergence, in one Markdown table. Exit 0 when no run stalled, 1
    /// when some did, 2 on bad input.
    Matrix {
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
    },
    /// Check each scenario's `expect`; exit 0 when all hold, 1 otherwise, 2 on bad input.
    Test {
        /// Scenario files or directories (default: scenarios/).
        paths: Vec<PathBuf>,
        /// Check each scenario under this many seeds, from its own seed on.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        seeds: u64,
    },
    /// Run one scenario under many seeds on worker threads and report the
    /// rate of each verdict; the runs that do not hold its `expect` (else
    /// `converges`) are listed and saved as files. Exit 0 when every run
    /// holds it, 1 otherwise, 2 on bad input. Ctrl-C stops early.
    Explore {
        /// The scenario file.
        file: PathBuf,
        /// How many runs (default 100).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "for_")]
        runs: Option<u64>,
        /// Run for this long instead, wall-clock (Go-style: 90s, 10m, 1h).
        #[arg(long = "for", id = "for_", value_name = "DURATION", value_parser = explore::parse_budget_duration)]
        for_: Option<std::time::Duration>,
        /// Worker threads (default: the available parallelism).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
        jobs: Option<u64>,
        /// The first seed (default: the scenario's); then seed + 1, ...
        #[arg(long)]
        seed: Option<u64>,
        /// Where to write the failing runs (default: regressions/ beside the file).
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
    },
    /// Serve the fake API server over HTTP on a real socket, for kubectl
    /// and other Kubernetes clients, until Ctrl-C: prints the address and
    /// writes a kubeconfig for it. Exit 2 on bad input.
    Serve {
        /// A scenario whose CRDs (and API server timings) to start with.
        file: Option<PathBuf>,
        /// The address to listen on (default: loopback, a free port).
        #[arg(long, value_name = "ADDR", default_value = serve::LISTEN_DEFAULT)]
        listen: std::net::SocketAddr,
        /// Where to write the kubeconfig (default: stallsim-PORT.kubeconfig
        /// in the temporary directory).
        #[arg(long, value_name = "OUT")]
        kubeconfig: Option<PathBuf>,
    },
    /// Combine the `--json` summaries of an exploration's shards into the
    /// summary of the whole. Exit 0 when every run held the property, 1
    /// when one did not, 2 on bad input.
    Merge {
        /// The shards' JSON summaries.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the merged summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of scenario files, for editors (the bundled
    /// scenarios point at it with a `yaml-language-server` modeline).
    Schema,
}

/// Runs of `explore` without `--runs` or `--for`.
const EXPLORE_RUNS_DEFAULT: u64 = 100;

pub(crate) const EXIT_CONVERGES: u8 = 0;
pub(crate) const EXIT_STALL: u8 = 1;
pub(crate) const EXIT_BAD_INPUT: u8 = 2;
/// The run ended too early, or something it was told to do never happened.
const EXIT_INCONCLUSIVE: u8 = 3;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                0
            });
        }
    };
    if let Err(error) = logs::init() {
        eprintln!("error: {error}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    ExitCode::from(match cli.command {
        Command::Run {
            file,
            seed,
            trace,
            timeline,
            report,
            json,
        } => run(
            &file,
            seed,
            RunOutputs {
                trace: trace.as_deref(),
                timeline: timeline.as_deref(),
                report: report.as_deref(),
                json,
            },
        ),
        Command::Test { paths, seeds } => test(paths, seeds),
        Command::Serve {
            file,
            listen,
            kubeconfig,
        } => serve::serve(listen, kubeconfig.as_deref(), file.as_deref()),
        Command::Matrix {
            file,
            runs,
            jobs,
            json,
        } => matrix::matrix(&file, runs, jobs.map(|j| j as usize), json),
        Command::Shrink { file, seed, json } => shrink::shrink_command(&file, seed, json),
        Command::Window {
            file,
            field,
            seed,
            grid,
            json,
        } => window::window(&file, &field, seed, grid, json),
        Command::Explore {
            file,
            runs,
            for_,
            jobs,
            seed,
            save,
            json,
            shrink,
            shard,
            window,
            systematic,
            grid,
        } => {
            if systematic {
                return ExitCode::from(systematic::systematic_command(systematic::Args {
                    file: &file,
                    seed,
                    grid_points: grid,
                    jobs: jobs.map_or_else(available_jobs, |j| j as usize),
                    json,
                }));
            }
            let shard = match shard.as_deref().map(|s| {
                runs::Shard::parse(s, std::env::var("JOB_COMPLETION_INDEX").ok().as_deref())
            }) {
                None => runs::Shard::WHOLE,
                Some(Ok(shard)) => shard,
                Some(Err(error)) => {
                    eprintln!("error: --shard {}: {error}", shard.unwrap_or_default());
                    return ExitCode::from(EXIT_BAD_INPUT);
                }
            };
            explore::explore(explore::Args {
                file,
                budget: match for_ {
                    Some(duration) => runs::Budget::For(duration),
                    None => runs::Budget::Runs(runs.unwrap_or(EXPLORE_RUNS_DEFAULT)),
                },
                jobs: jobs.map(|j| j as usize),
                seed,
                save,
                json,
                shrink,
                shard,
                window_grid: window.then_some(grid),
            })
        }
        Command::Merge { files, json } => merge::merge(&files, json),
        Command::Schema => {
            print!("{}", stallsim_scenario::json_schema());
            EXIT_CONVERGES
        }
    })
}

/// Worker threads when `--jobs` is not given: every core.
pub(crate) fn available_jobs() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

/// The scenario at `file`, or `None` after saying on stderr what is wrong
/// with it (the caller exits with `EXIT_BAD_INPUT`).
pub(crate) fn load_scenario(file: &Path) -> Option<stallsim_scenario::Scenario> {
    stallsim_scenario::load(file)
        .map_err(|error| eprintln!("error: {error}"))
        .ok()
}

/// Files `stallsim run` writes besides what it prints.
struct RunOutputs<'a> {
    trace: Option<&'a Path>,
    timeline: Option<&'a Path>,
    report: Option<&'a Path>,
    /// The report as JSON on stdout instead of the text.
    json: bool,
}

fn run(file: &Path, seed: Option<u64>, outputs: RunOutputs) -> u8 {
    let trace_path = outputs.trace;
    let Some(scenario) = crate::load_scenario(file) else {
        return EXIT_BAD_INPUT;
    };
    let drawn = scenario.world(seed.unwrap_or(scenario.seed()));
    let config = drawn.config.clone();
    // A trace that cannot be written fails before the run, not after it.
    let mut trace_out = match trace_path.map(std::fs::File::create).transpose() {
        Ok(out) => out.map(std::io::BufWriter::new),
        Err(error) => {
            let path = trace_path.expect("only a given path fails").display();
            eprintln!("error: cannot write the trace to {path}: {error}");
            return EXIT_BAD_INPUT;
        }
    };
    // Like the trace, a picture or report that cannot be written fails
    // before the run.
    for (path, what) in [(outputs.timeline, "timeline"), (outputs.report, "report")] {
        if let Some(Err(error)) = path.map(std::fs::File::create) {
            let path = path.expect("only a given path fails").display();
            eprintln!("error: cannot write the {what} to {path}: {error}");
            return EXIT_BAD_INPUT;
        }
    }
    let run = stallsim_harness::run(&config);
    let written = outputs
        .timeline
        .map_or(Ok(()), |path| {
            timeline_svg::write(path, file, &config, &run)
        })
        .and_then(|()| {
            outputs.report.map_or(Ok(()), |path| {
                report::write(path, file, &config, &drawn.draws, &run)
            })
        });
    if let Err(error) = written {
        eprintln!("error: {error}");
        return EXIT_BAD_INPUT;
    }
    if let Some(out) = &mut trace_out {
        if let Err(error) = write_trace(out, &config, &run) {
            let path = trace_path.expect("a trace file was opened").display();
            eprintln!("error: cannot write the trace to {path}: {error}");
            return EXIT_BAD_INPUT;
        }
    }
    if outputs.json {
        match serde_json::to_string_pretty(&run.report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("error: cannot write the report as JSON: {error}");
                return EXIT_BAD_INPUT;
            }
        }
    } else {
        print!("{}", output::run_summary(file, &config, &drawn.draws, &run));
    }
    match run.report.verdict {
        Verdict::Converges => EXIT_CONVERGES,
        Verdict::Stall(_) => EXIT_STALL,
        Verdict::Inconclusive { .. } => EXIT_INCONCLUSIVE,
    }
}

/// The run as JSON lines: what ran, every event, the verdict.
fn write_trace(
    out: &mut impl Write,
    config: &stallsim_harness::WorldConfig,
    run: &stallsim_harness::Run,
) -> std::io::Result<()> {
    writeln!(out, "{}", stallsim_harness::header_line(config))?;
    for event in &run.trace {
        writeln!(out, "{}", event.to_json_line())?;
    }
    writeln!(out, "{}", stallsim_harness::verdict_line(&run.report))?;
    out.flush()
}

fn test(paths: Vec<PathBuf>, seeds: u64) -> u8 {
    let paths = if paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        paths
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
                    return EXIT_BAD_INPUT;
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
                return EXIT_BAD_INPUT;
            }
        };
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
                return EXIT_BAD_INPUT;
            }
        }
    }
    let (mut passed, mut failed) = (0, 0);
    for (scenario, expect) in &scenarios {
        let name = scenario.path.display();
        let mut failures = Vec::new();
        let mut verdict = "";
        for seed in scenario.seed()..scenario.seed().saturating_add(seeds) {
            let run = stallsim_harness::run(&scenario.world(seed).config);
            verdict = run.report.verdict.name();
            let mismatches = expect.check(&run.report);
            if !mismatches.is_empty() {
                failures.push((seed, mismatches));
            }
        }
        let seed_note = if seeds == 1 {
            format!("seed {}", scenario.seed())
        } else {
            format!("{seeds} seeds from {}", scenario.seed())
        };
        match failures.first() {
            None => {
                passed += 1;
                println!("ok    {name}: {verdict} ({seed_note})");
            }
            Some((seed, mismatches)) => {
                failed += 1;
                println!(
                    "FAIL  {name}: {} of {seeds} seeds fail; first, seed {seed}: {}",
                    failures.len(),
                    mismatches.join("; ")
                );
                println!(
                    "      replay: {}",
                    output::replay_command(&scenario.path, *seed)
                );
            }
        }
    }
    if skipped > 0 {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if failed == 0 {
        EXIT_CONVERGES
    } else {
        EXIT_STALL
    }
}

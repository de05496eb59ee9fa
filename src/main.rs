//! `stallsim`: run a scenario and judge it, check every scenario's
//! expectation, or explore one scenario under many seeds.
//!
//! This file only parses the arguments and hands each subcommand to its
//! module under `cli/`.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::exit;

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
    Run(cli::run::Args),
    /// Where in its ranges a scenario stalls: for each ranged time, the
    /// sub-ranges whose runs stall (every other draw held at the seed's),
    /// edges refined to the tick and explained by the first key event that
    /// differs across them. Exit 0 when no run stalled, 1 when some did, 2
    /// on bad input.
    Window(cli::window::Args),
    /// Whether a verdict holds for every plausible value of the model's
    /// estimated constants: each moved alone across its plausible range
    /// (every other draw held at the seed's), each change of verdict
    /// bisected to the tick and explained by the first key event that
    /// differs across it. Exit 0 when robust to all, 1 when it rests on
    /// one, 2 on bad input.
    Sensitivity(cli::sensitivity::Args),
    /// Reduce a run that breaks the property (the file's `expect`, else
    /// `converges`) to what it needs: faults dropped while it still fails,
    /// ranged times moved toward their least value, to the tick. Prints the
    /// shrunk run's timeline. Exit 0 when the run holds the property
    /// (nothing to shrink), 1 when it was shrunk, 2 on bad input.
    Shrink(cli::shrink::Args),
    /// The fix matrix: the same seeds (the same draws) with no fix, each
    /// candidate fix alone, and the file's own combination, judged for
    /// convergence, in one Markdown table. Exit 0 when no run stalled, 1
    /// when some did, 2 on bad input.
    Matrix(cli::matrix::Args),
    /// Check each scenario's `expect`; exit 0 when all hold, 1 otherwise, 2 on bad input.
    Test(cli::test::Args),
    /// Run one scenario under many seeds on worker threads and report the
    /// rate of each verdict; the runs that do not hold its `expect` (else
    /// `converges`) are listed and saved as files. Exit 0 when every run
    /// holds it, 1 otherwise, 2 on bad input. Ctrl-C stops early.
    Explore(cli::explore::Args),
    /// Serve the fake API server over HTTP on a real socket, for kubectl
    /// and other Kubernetes clients, until Ctrl-C: prints the address and
    /// writes a kubeconfig for it. Exit 2 on bad input.
    Serve(cli::serve::ServeArgs),
    /// Combine the `--json` summaries of an exploration's shards into the
    /// summary of the whole. Exit 0 when every run held the property, 1
    /// when one did not, 2 on bad input.
    Merge(cli::merge::Args),
    /// Print the JSON Schema of scenario files, for editors (the bundled
    /// scenarios point at it with a `yaml-language-server` modeline).
    Schema,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                exit::BAD_INPUT
            } else {
                0
            });
        }
    };
    if let Err(error) = cli::logs::init() {
        eprintln!("error: {error}");
        return ExitCode::from(exit::BAD_INPUT);
    }
    ExitCode::from(match cli.command {
        Command::Run(args) => cli::run::run(args),
        Command::Window(args) => cli::window::run(args),
        Command::Sensitivity(args) => cli::sensitivity::run(args),
        Command::Shrink(args) => cli::shrink::run(args),
        Command::Matrix(args) => cli::matrix::run(args),
        Command::Test(args) => cli::test::run(args),
        Command::Explore(args) => cli::explore::run(args),
        Command::Serve(args) => cli::serve::serve(args),
        Command::Merge(args) => cli::merge::run(args),
        Command::Schema => {
            print!("{}", stallsim_scenario::json_schema());
            exit::CONVERGES
        }
    })
}

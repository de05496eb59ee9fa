//! `stallsim run`: one run of a scenario, its verdict in words (or as
//! JSON), and the files asked for: the trace, the picture, the report.

use std::io::Write;
use std::path::PathBuf;

use stallsim::{Run, Verdict, WorldConfig};

use super::exit;

/// Run one scenario; exit 0 when it converges, 1 on a stall, 2 on bad
/// input, 3 when the run cannot decide (inconclusive).
#[derive(clap::Args)]
pub struct Args {
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
}

/// Runs `stallsim run`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let file = args.file.as_path();
    let Some(scenario) = super::load_scenario(file) else {
        return exit::BAD_INPUT;
    };
    let drawn = scenario.world(args.seed.unwrap_or(scenario.seed()));
    let config = &drawn.config;
    // A trace that cannot be written fails before the run, not after it.
    let trace_path = args.trace.as_deref();
    let trace_out = trace_path.map(|path| super::create_file(path, "trace"));
    let mut trace_out = match trace_out.transpose() {
        Ok(out) => out.map(std::io::BufWriter::new),
        Err(error) => {
            eprintln!("error: {error}");
            return exit::BAD_INPUT;
        }
    };
    // Like the trace, a picture or report that cannot be written fails
    // before the run.
    let (timeline, report) = (args.timeline.as_deref(), args.report.as_deref());
    for (path, what) in [(timeline, "timeline"), (report, "report")] {
        if let Some(Err(error)) = path.map(|path| super::create_file(path, what)) {
            eprintln!("error: {error}");
            return exit::BAD_INPUT;
        }
    }
    let run = stallsim_harness::run(config);
    let written = timeline
        .map_or(Ok(()), |path| {
            super::write_file(path, "timeline", &stallsim::show::svg(file, config, &run))
        })
        .and_then(|()| {
            report.map_or(Ok(()), |path| {
                let text = stallsim::show::markdown(file, config, &drawn.draws, &run);
                super::write_file(path, "report", &text)
            })
        });
    if let Err(error) = written {
        eprintln!("error: {error}");
        return exit::BAD_INPUT;
    }
    if let Some(out) = &mut trace_out {
        if let Err(error) = write_trace(out, config, &run) {
            let path = trace_path.expect("a trace file was opened").display();
            eprintln!("error: cannot write the trace to {path}: {error}");
            return exit::BAD_INPUT;
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&run.report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("error: cannot write the report as JSON: {error}");
                return exit::BAD_INPUT;
            }
        }
    } else {
        print!(
            "{}",
            stallsim::show::run_text(file, config, &drawn.draws, &run)
        );
    }
    match run.report.verdict {
        Verdict::Converges => exit::CONVERGES,
        Verdict::Stall(_) => exit::STALL,
        Verdict::Inconclusive { .. } => exit::INCONCLUSIVE,
    }
}

/// The run as JSON lines: what ran, every event, the verdict.
fn write_trace(out: &mut impl Write, config: &WorldConfig, run: &Run) -> std::io::Result<()> {
    writeln!(out, "{}", stallsim_harness::header_line(config))?;
    for event in &run.trace {
        writeln!(out, "{}", event.to_json_line())?;
    }
    writeln!(out, "{}", stallsim_harness::verdict_line(&run.report))?;
    out.flush()
}

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
    /// Write every sample the scenario's simulated Prometheus scraped
    /// (`spec.prometheus`) in the OpenMetrics text format, with timestamps,
    /// for `promtool tsdb create-blocks-from openmetrics` or any reader
    #[arg(long, value_name = "OUT.prom")]
    metrics: Option<PathBuf>,
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
    /// End the verdict with whether it holds for every plausible value of
    /// the model's estimated constants, or which it rests on and where
    /// (as `stallsim sensitivity`: tens of runs, seconds on a core).
    #[arg(long)]
    sensitivity: bool,
    /// The estimated constants: `as-written`, or `plausible` (each one the
    /// file leaves unset drawn from its plausible range under the seed, as
    /// `explore --estimates plausible` draws them).
    #[arg(long, value_enum, default_value_t = super::explore::EstimatesArg::AsWritten)]
    estimates: super::explore::EstimatesArg,
}

/// Runs `stallsim run`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let file = args.file.as_path();
    let Some(scenario) = super::load_scenario(file) else {
        return exit::BAD_INPUT;
    };
    let seed = args.seed.unwrap_or(scenario.seed());
    let drawn = match args.estimates {
        super::explore::EstimatesArg::AsWritten => scenario.world(seed),
        super::explore::EstimatesArg::Plausible => scenario.world_estimated(seed),
    };
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
    let metrics = args.metrics.as_deref();
    if metrics.is_some() && config.prometheus.is_none() {
        eprintln!(
            "error: --metrics: {} has no spec.prometheus, so nothing is scraped; \
             add `prometheus: {{}}` under spec (docs/alerts.md)",
            file.display()
        );
        return exit::BAD_INPUT;
    }
    if let Some(Err(error)) = metrics.map(|path| super::create_file(path, "metrics")) {
        eprintln!("error: {error}");
        return exit::BAD_INPUT;
    }
    let run = stallsim_harness::run(config);
    if let (Some(path), Some(text)) = (metrics, run.openmetrics()) {
        if let Err(error) = super::write_file(path, "metrics", &text) {
            eprintln!("error: {error}");
            return exit::BAD_INPUT;
        }
    }
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
    // Asked for only: tens of runs, 64 and 2.8s of one core for the
    // incident, well over the second a verdict line may cost unasked.
    let sensitivity = args.sensitivity.then(|| {
        scenario.sensitivity(&stallsim::explore::SensitivityQuery {
            seed,
            grid_points: stallsim::explore::SENSITIVITY_GRID_POINTS_DEFAULT,
            jobs: stallsim::explore::jobs_default(),
        })
    });
    if args.json {
        match serde_json::to_string_pretty(&run.report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("error: cannot write the report as JSON: {error}");
                return exit::BAD_INPUT;
            }
        }
    } else {
        let text = stallsim::show::run_text(file, config, &drawn.draws, &run);
        match &sensitivity {
            // After the verdict's lines, before the flow's.
            Some(found) => print!("{}", with_sensitivity(&text, &found.summary())),
            None => print!("{text}"),
        }
    }
    match run.report.verdict {
        Verdict::Converges => exit::CONVERGES,
        Verdict::Stall(_) => exit::STALL,
        Verdict::RestartLoop(_) => exit::RESTART_LOOP,
        Verdict::Inconclusive { .. } => exit::INCONCLUSIVE,
    }
}

/// `text` with the sensitivity line after the verdict's lines (before
/// `flow:` or `restarts:`).
fn with_sensitivity(text: &str, summary: &str) -> String {
    let mut out = String::new();
    let mut placed = false;
    for line in text.lines() {
        if !placed && (line.starts_with("flow:") || line.starts_with("restarts:")) {
            out.push_str(&format!("estimates: {summary}\n"));
            placed = true;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
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

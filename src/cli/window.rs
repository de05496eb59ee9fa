//! `stallsim window`: where in a scenario's ranges its runs stall.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use stallsim::explore::{Window, WindowQuery};
use stallsim::format_duration;

use super::exit;

/// Evenly spaced values tried across a range before the edges are refined.
pub const GRID_POINTS_DEFAULT: u32 = 12;

/// Where in its ranges a scenario stalls: for each ranged time, the
/// sub-ranges whose runs stall (every other draw held at the seed's),
/// edges refined to the tick and explained by the first key event that
/// differs across them. Exit 0 when no run stalled, 1 when some did, 2
/// on bad input.
#[derive(clap::Args)]
pub struct Args {
    /// The scenario file; at least one of its times is a range.
    file: PathBuf,
    /// A ranged field (`spec.deletionFlow.deleteAt`); default: every one.
    #[arg(long)]
    field: Vec<String>,
    /// The seed that fixes the other draws (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Values tried across each range before the edges are refined.
    #[arg(long, default_value_t = GRID_POINTS_DEFAULT, value_parser = clap::value_parser!(u32).range(2..=1000))]
    grid: u32,
    /// Print the windows as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `stallsim window`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let (file, fields, grid, json) = (args.file.as_path(), &args.field, args.grid, args.json);
    let Some(scenario) = super::load_scenario(file) else {
        return exit::BAD_INPUT;
    };
    let seed = args.seed.unwrap_or(scenario.seed());
    let ranged: Vec<String> = scenario
        .world(seed)
        .draws
        .into_iter()
        .map(|d| d.field)
        .collect();
    if ranged.is_empty() {
        eprintln!(
            "error: {}: no time of this scenario is a range; expected a range like `deleteAt: 30s..90s`",
            file.display()
        );
        return exit::BAD_INPUT;
    }
    let fields: Vec<String> = if fields.is_empty() {
        ranged.clone()
    } else {
        fields.to_vec()
    };
    if let Some(unknown) = fields.iter().find(|f| !ranged.contains(f)) {
        eprintln!(
            "error: {}: `{unknown}` is not a range of this scenario; expected one of {}",
            file.display(),
            ranged.join(", ")
        );
        return exit::BAD_INPUT;
    }
    let windows: Vec<Window> = fields
        .iter()
        .filter_map(|field| scenario.window(&WindowQuery::new(field, seed, grid)).ok())
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&windows).expect("windows serialize")
        );
    } else {
        print!("{}", render(file, seed, &windows));
    }
    if windows.iter().any(|w| !w.stalling.is_empty()) {
        exit::STALL
    } else {
        exit::CONVERGES
    }
}

fn render(file: &Path, seed: u64, windows: &[Window]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario: {}", file.display());
    let _ = writeln!(
        out,
        "seed:     {seed} (every other draw, and the network's jitter, as this seed has them)"
    );
    out.push_str(&render_windows(windows));
    out
}

/// Each window: where it stalls, and its edges with their explanations.
pub fn render_windows(windows: &[Window]) -> String {
    let mut out = String::new();
    for window in windows {
        let range = format!(
            "{}..{}",
            format_duration(window.range.0),
            format_duration(window.range.1)
        );
        let stalling = if window.stalling.is_empty() {
            "never stalls".to_string()
        } else {
            let parts: Vec<String> = window
                .stalling
                .iter()
                .map(|(a, b)| format!("{}..{}", format_duration(*a), format_duration(*b)))
                .collect();
            format!("stalls in {}", parts.join(", "))
        };
        let _ = writeln!(
            out,
            "\n{} in {range}: {stalling} (edges to {}; {} runs)",
            window.field,
            format_duration(window.resolution),
            window.runs
        );
        for edge in &window.edges {
            let _ = writeln!(
                out,
                "  {} between {} and {}",
                if edge.opens { "opens " } else { "closes" },
                format_duration(edge.below),
                format_duration(edge.above)
            );
            match (&edge.holds_with, &edge.stalls_with) {
                (Some(holds), Some(stalls)) => {
                    let _ = writeln!(out, "    holds:  {holds}");
                    let _ = writeln!(out, "    stalls: {stalls}");
                }
                _ => {
                    let _ = writeln!(out, "    (the runs differ in timing only)");
                }
            }
        }
    }
    out
}

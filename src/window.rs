//! `stallsim window`: where in a scenario's ranges its runs stall.

use std::fmt::Write;
use std::path::Path;

use stallsim_explore::{stall_window, Window, WindowQuery};
use stallsim_harness::format_duration;

use crate::{EXIT_BAD_INPUT, EXIT_CONVERGES, EXIT_STALL};

/// Evenly spaced values tried across a range before the edges are refined.
pub const GRID_POINTS_DEFAULT: u32 = 12;

pub fn window(file: &Path, fields: &[String], seed: Option<u64>, grid: u32, json: bool) -> u8 {
    let Some(scenario) = crate::load_scenario(file) else {
        return EXIT_BAD_INPUT;
    };
    let seed = seed.unwrap_or(scenario.seed());
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
        return EXIT_BAD_INPUT;
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
        return EXIT_BAD_INPUT;
    }
    let windows: Vec<Window> = fields
        .iter()
        .filter_map(|field| {
            let query = WindowQuery {
                field: field.clone(),
                seed,
                grid_points: grid,
            };
            stall_window(&scenario, &query)
        })
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
        EXIT_STALL
    } else {
        EXIT_CONVERGES
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

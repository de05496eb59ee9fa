//! `stallsim explore --systematic`: every order of the key events the
//! scenario's ranges can force, instead of a sample of seeds, and the
//! orders they cannot reach.

use std::fmt::Write;
use std::path::Path;

use stallsim::explore::{Combinations, Systematic, SystematicQuery};
use stallsim::format_duration;

use super::exit;

/// The product of the axes' segments run at most: beyond it a scenario is
/// not small, and sampling (`--runs`) is the tool.
pub const COMBINATIONS_MAX: u64 = 512;

/// Orders listed in the text, most runs first; JSON lists them all.
const ORDERINGS_SHOWN_MAX: usize = 8;

/// What `explore --systematic` is given.
pub struct Args<'a> {
    pub file: &'a Path,
    pub seed: Option<u64>,
    pub grid_points: u32,
    pub jobs: usize,
    pub json: bool,
}

/// Runs `stallsim explore --systematic`; returns the exit code.
pub fn run(args: Args<'_>) -> u8 {
    let Some(scenario) = super::load_scenario(args.file) else {
        return exit::BAD_INPUT;
    };
    let property = scenario.property();
    let query = SystematicQuery {
        seed: args.seed.unwrap_or(scenario.seed()),
        grid_points: args.grid_points,
        combinations_max: COMBINATIONS_MAX,
        jobs: args.jobs,
    };
    let Some(found) = scenario.systematic(&property, &query) else {
        eprintln!(
            "error: {}: no time of this scenario is a range; expected a range like `deleteAt: 30s..90s` to enumerate",
            args.file.display()
        );
        return exit::BAD_INPUT;
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&found).expect("a systematic result serializes")
        );
    } else {
        print!("{}", render(args.file, &found));
    }
    if found.failed == 0 {
        exit::CONVERGES
    } else {
        exit::STALL
    }
}

fn render(file: &Path, found: &Systematic) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "systematic: {}, seed {} (every other draw and the jitter as this seed has them); {} runs, {} did not hold the property",
        file.display(),
        found.seed,
        found.runs,
        found.failed
    );
    for axis in &found.axes {
        let _ = writeln!(
            out,
            "\n{} in {}..{}: {} segments (edges to {})",
            axis.field,
            format_duration(axis.range.0),
            format_duration(axis.range.1),
            axis.segments.len(),
            format_duration(found.resolution)
        );
        for segment in &axis.segments {
            let verdict = match segment.failed {
                0 => "holds".to_string(),
                n if n == segment.runs => "FAILS".to_string(),
                n => format!("fails in {n} of {}", segment.runs),
            };
            let _ = writeln!(
                out,
                "  {:>9} .. {:<9} {verdict}: {}",
                format_duration(segment.from),
                format_duration(segment.to),
                segment.ordering.join(" > ")
            );
        }
    }
    match &found.combinations {
        Combinations::Run { runs } => {
            let _ = writeln!(
                out,
                "\ncombinations: one value of every segment with one of every other, {runs} runs"
            );
        }
        Combinations::TooMany { product, max } => {
            let _ = writeln!(
                out,
                "\ncombinations: not run ({product} would exceed {max}); the orders below come from the axes alone. Narrow the ranges, or sample with --runs"
            );
        }
    }
    let failing = found.orderings.iter().filter(|o| o.failed > 0).count();
    let _ = writeln!(
        out,
        "orders reached: {}; {failing} of them failed in some run",
        found.orderings.len()
    );
    for reached in found.orderings.iter().take(ORDERINGS_SHOWN_MAX) {
        let example: Vec<String> = reached
            .example
            .iter()
            .map(|(field, value)| format!("{}={}", short(field), format_duration(*value)))
            .collect();
        let _ = writeln!(
            out,
            "  {} runs ({} failed; e.g. {}): {}",
            reached.runs,
            reached.failed,
            example.join(" "),
            reached.events.join(" > ")
        );
    }
    if found.orderings.len() > ORDERINGS_SHOWN_MAX {
        let _ = writeln!(
            out,
            "  and {} more (--json lists them all)",
            found.orderings.len() - ORDERINGS_SHOWN_MAX
        );
    }
    let unreached: Vec<String> = found
        .relations
        .iter()
        .filter_map(|r| r.unreached())
        .collect();
    let _ = writeln!(
        out,
        "orders not reached: {} of {} pairs of key events of different actors came in one order only",
        unreached.len(),
        found.relations.len()
    );
    for order in &unreached {
        let _ = writeln!(out, "  never: {order}");
    }
    out
}

/// `deleteAt` for `spec.deletionFlow.deleteAt`, `replicas[1].startAt` for
/// `spec.replicas[1].startAt`: enough to tell the ranges apart.
fn short(field: &str) -> &str {
    let field = field.strip_prefix("spec.").unwrap_or(field);
    match field.split_once('.') {
        Some((head, tail)) if !head.contains('[') => tail,
        _ => field,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_names_keep_what_tells_ranges_apart() {
        assert_eq!(super::short("spec.deletionFlow.deleteAt"), "deleteAt");
        assert_eq!(
            super::short("spec.replicas[1].startAt"),
            "replicas[1].startAt"
        );
        assert_eq!(super::short("spec.faults[0].at"), "faults[0].at");
    }
}

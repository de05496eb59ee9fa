//! What `stallsim explore` prints: counts, rates and spreads over the runs,
//! and the runs that did not hold the property, as text or as JSON.

use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use stallsim::explore::{
    ApiLoad, DeletionToReady, Exploration, Ordering, Property, Restarts, Shrunk, Tally, Verdicts,
    Window,
};
use stallsim::format_duration;
use stallsim::show::replay_command;

/// Failing runs listed in the human summary; JSON lists them all.
const FAILURES_SHOWN_MAX: usize = 10;

/// Orderings listed in the human summary, most runs first; JSON lists them all.
const ORDERINGS_SHOWN_MAX: usize = 5;

/// An exploration as `explore` and `merge` print it (the JSON is what
/// `merge` reads back from shards).
#[derive(Debug, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub file: PathBuf,
    /// The runs covered: seeds `first_seed` to `first_seed + runs - 1`.
    pub runs: u64,
    pub first_seed: u64,
    /// `--runs`, if the exploration was given a count.
    pub planned: Option<u64>,
    /// Stopped by Ctrl-C: the summary covers the runs that finished.
    pub interrupted: bool,
    /// `I/N` when this summary covers one shard of the runs (`merge`
    /// combines the shards into the unsharded summary).
    pub shard: Option<String>,
    /// The estimated constants each run drew from its plausible range
    /// (`--estimates plausible`); empty: as the file writes them.
    pub estimates: Vec<String>,
    pub property: Property,
    pub held: u64,
    pub failed: u64,
    pub verdicts: Verdicts,
    pub deletion_to_ready: DeletionToReady,
    pub restarts_per_run: Restarts,
    pub api_requests: ApiLoad,
    /// Every run that did not hold the property, in seed order.
    pub failures: Vec<Failure>,
    pub saved: Saved,
    /// Coverage: each order of key events the runs came in, most runs first.
    pub orderings: Vec<Ordering>,
    /// The first failure, shrunk (`--shrink`).
    pub shrunk: Option<Shrunk>,
    /// Where in each ranged time the runs stall (`--window`).
    pub windows: Vec<Window>,
    /// What the runs came to, kept flat: what `merge` combines shards from.
    pub tally: Tally,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub seed: u64,
    pub verdict: String,
    /// Why the run did not hold the property.
    pub why: Vec<String>,
    pub replay: String,
}

/// The failing runs written as scenario files.
#[derive(Debug, Default, Serialize)]
pub struct Saved {
    pub dir: PathBuf,
    pub written: Vec<PathBuf>,
    /// Failing runs beyond the bound of files per exploration, or whose
    /// file could not be written.
    pub not_written: u64,
    /// Why files could not be written, one sentence each.
    pub errors: Vec<String>,
}

impl Summary {
    /// The summary of `exploration`, whose failures were saved as `saved`.
    pub fn new(exploration: Exploration, saved: Saved) -> Summary {
        let failures: Vec<Failure> = exploration
            .failures()
            .iter()
            .map(|(seed, failed)| Failure {
                seed: *seed,
                verdict: failed.verdict.clone(),
                why: failed.why.clone(),
                replay: if exploration.estimates.is_empty() {
                    replay_command(&exploration.file, *seed)
                } else {
                    format!(
                        "{} --estimates plausible",
                        replay_command(&exploration.file, *seed)
                    )
                },
            })
            .collect();
        Summary {
            runs: exploration.runs(),
            held: exploration.held(),
            failed: exploration.failed(),
            verdicts: exploration.verdicts(),
            deletion_to_ready: exploration.deletion_to_ready(),
            api_requests: exploration.api_requests(),
            restarts_per_run: exploration.restarts_per_run(),
            orderings: exploration.orderings(),
            failures,
            saved,
            shrunk: None,
            windows: Vec::new(),
            scenario: exploration.scenario,
            file: exploration.file,
            first_seed: exploration.first_seed,
            planned: exploration.planned,
            interrupted: exploration.interrupted,
            shard: exploration.shard.map(|shard| shard.to_string()),
            estimates: exploration.estimates,
            property: exploration.property,
            tally: exploration.tally,
        }
    }

    /// The summary for people.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if self.interrupted {
            let of = self.planned.map(|p| format!(" of {p}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "INTERRUPTED after {}{of} runs: the summary covers the runs that finished",
                self.runs
            );
        }
        let (lowest, highest) = (
            self.tally.seeds.map(|(low, _)| low),
            self.tally.seeds.map(|(_, high)| high),
        );
        let seeds = match (self.runs, lowest, highest) {
            (1, Some(seed), _) => format!("seed {seed}"),
            (_, Some(low), Some(high)) => format!("seeds {low} to {high}"),
            _ => "no seeds".to_string(),
        };
        let seeds = match &self.shard {
            Some(shard) => format!("{seeds}, shard {shard} (stallsim merge combines the shards)"),
            None => seeds,
        };
        let _ = writeln!(
            out,
            "explored: {} ({}), {} runs, {seeds}",
            self.scenario,
            self.file.display(),
            self.runs
        );
        let from = match self.property.from.as_str() {
            "file" => "the file's expect",
            "given" => "given",
            _ => "the default; the file has no expect",
        };
        let _ = writeln!(
            out,
            "property: {} ({from}); held in {} of {} runs",
            self.property.expect, self.held, self.runs
        );
        if !self.estimates.is_empty() {
            let names: Vec<&str> = self
                .estimates
                .iter()
                .map(|f| f.rsplit('.').next().unwrap_or(f))
                .collect();
            let _ = writeln!(
                out,
                "estimates: {} estimated constants drawn per run from their plausible ranges \
                 (docs/model.md): {}; the rates cover the model's own uncertainty",
                names.len(),
                names.join(", ")
            );
        }
        let _ = writeln!(out, "verdicts: (count, rate, 95% Wilson interval)");
        for (verdict, rate) in self.verdicts.each() {
            let _ = writeln!(
                out,
                "  {:<13}{:>6}  {:>6.1}%  [{:.1}%, {:.1}%]",
                verdict,
                rate.count,
                rate.rate * 100.0,
                rate.ci95.0 * 100.0,
                rate.ci95.1 * 100.0
            );
        }
        let d = &self.deletion_to_ready;
        if d.runs > 0 {
            let show = |secs: Option<f64>| {
                secs.map(|s| format_duration(Duration::from_secs_f64(s)))
                    .unwrap_or_else(|| "-".to_string())
            };
            let _ = writeln!(
                out,
                "deletion to ready: median {}, p99 {}, max {}; never ready in {} of {} runs with a deletion",
                show(d.median_secs),
                show(d.p99_secs),
                show(d.max_secs),
                d.never,
                d.runs
            );
        }
        let _ = writeln!(
            out,
            "restarts per run: mean {:.2}, max {}",
            self.restarts_per_run.mean, self.restarts_per_run.max
        );
        let _ = writeln!(
            out,
            "API requests per run: mean {:.0}; the busiest minute of any run: {}",
            self.api_requests.mean_per_run, self.api_requests.peak_per_minute
        );
        if !self.api_requests.list_peak_per_minute.is_empty() {
            let lists: Vec<String> = self
                .api_requests
                .list_peak_per_minute
                .iter()
                .map(|(replica, peak)| format!("{replica} {peak}"))
                .collect();
            let _ = writeln!(
                out,
                "LISTs in a replica's busiest minute of any run: {}",
                lists.join(", ")
            );
        }
        let stalled = self.orderings.iter().filter(|o| o.stalled > 0).count();
        let _ = writeln!(
            out,
            "orderings: {} distinct orders of the key events; {stalled} of them stalled in some run",
            self.orderings.len()
        );
        for ordering in self.orderings.iter().take(ORDERINGS_SHOWN_MAX) {
            let _ = writeln!(
                out,
                "  {} runs ({} stalled, first seed {}): {}",
                ordering.runs,
                ordering.stalled,
                ordering.first_seed,
                ordering.events.join(" > ")
            );
        }
        if self.orderings.len() > ORDERINGS_SHOWN_MAX {
            let _ = writeln!(
                out,
                "  and {} more (--json lists them all)",
                self.orderings.len() - ORDERINGS_SHOWN_MAX
            );
        }
        if self.failures.is_empty() {
            let _ = writeln!(out, "failures: none");
            return out;
        }
        let _ = writeln!(
            out,
            "failures: {} runs did not hold the property",
            self.failures.len()
        );
        for failure in self.failures.iter().take(FAILURES_SHOWN_MAX) {
            let _ = writeln!(
                out,
                "  seed {}: {}; replay: {}",
                failure.seed, failure.verdict, failure.replay
            );
        }
        if self.failures.len() > FAILURES_SHOWN_MAX {
            let _ = writeln!(
                out,
                "  and {} more (--json lists them all)",
                self.failures.len() - FAILURES_SHOWN_MAX
            );
        }
        let s = &self.saved;
        let _ = write!(
            out,
            "saved: {} files in {}",
            s.written.len(),
            s.dir.display()
        );
        if s.not_written > 0 {
            let _ = write!(out, "; {} not written", s.not_written);
        }
        out.push('\n');
        for error in &s.errors {
            let _ = writeln!(out, "  {error}");
        }
        out
    }
}

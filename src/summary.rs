//! What `stallsim explore` prints: counts, rates and spreads over the runs,
//! and the runs that did not hold the property, as text or as JSON.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use stallsim_harness::{format_duration, Verdict};

use crate::output::replay_command;
use crate::runs::Outcome;
use crate::stats::wilson_95;
use crate::tally::{Tally, ORDERING_SEPARATOR};

/// Failing runs listed in the human summary; JSON lists them all.
const FAILURES_SHOWN_MAX: usize = 10;

/// Orderings listed in the human summary, most runs first; JSON lists them all.
const ORDERINGS_SHOWN_MAX: usize = 5;

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
    pub shrunk: Option<stallsim_explore::Shrunk>,
    /// Where in each ranged time the runs stall (`--window`).
    pub windows: Vec<stallsim_explore::Window>,
    /// What the runs came to, kept flat: what `merge` combines shards from.
    pub tally: Tally,
}

/// One order in which the runs' key events first happened.
#[derive(Debug, Serialize)]
pub struct Ordering {
    pub events: Vec<String>,
    pub runs: u64,
    pub stalled: u64,
    /// The first seed that came in this order.
    pub first_seed: u64,
}

fn orderings(tally: &Tally) -> Vec<Ordering> {
    let mut all: Vec<Ordering> = tally
        .orderings
        .iter()
        .map(|(key, o)| Ordering {
            events: key
                .split(ORDERING_SEPARATOR)
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect(),
            runs: o.runs,
            stalled: o.stalled,
            first_seed: o.first_seed,
        })
        .collect();
    all.sort_by_key(|o| (std::cmp::Reverse(o.runs), o.first_seed));
    all
}

/// What one run came to, as the summary needs it and as `merge` reads it
/// back from a shard's JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub seed: u64,
    /// `converges`, `stall` or `inconclusive`.
    pub verdict: String,
    /// The verdict in a few words: `stall of grm-1`.
    pub verdict_words: String,
    /// Why the run did not hold the property; empty when it did.
    pub mismatches: Vec<String>,
    /// Whether the flow deleted the CRDs, and how many milliseconds after
    /// that it first saw the deployment ready (`None`: never).
    pub deleted: bool,
    pub deletion_to_ready_ms: Option<u64>,
    /// Container restarts of all replicas.
    pub restarts: u64,
    /// The order its key events first happened in.
    pub ordering: Vec<String>,
    /// Requests the API server answered, and the most in any minute.
    pub api_requests: u64,
    pub api_peak_per_minute: u64,
    /// Each replica's most LISTs in any minute.
    #[serde(default)]
    pub list_peak_per_minute: BTreeMap<String, u64>,
}

impl RunRecord {
    pub fn of(outcome: &Outcome) -> RunRecord {
        let report = &outcome.report;
        let flow = report.flow.as_ref().filter(|f| f.deleted_at.is_some());
        RunRecord {
            seed: outcome.seed,
            verdict: report.verdict.name().to_string(),
            verdict_words: verdict_words(&report.verdict),
            mismatches: outcome.mismatches.clone(),
            deleted: flow.is_some(),
            deletion_to_ready_ms: flow.and_then(|f| {
                let deleted = f.deleted_at?;
                f.ready_at
                    .map(|r| r.saturating_sub(deleted).as_millis() as u64)
            }),
            restarts: report.restarts.iter().map(|(_, n)| u64::from(*n)).sum(),
            ordering: outcome.ordering.clone(),
            api_requests: report.api_requests.total,
            api_peak_per_minute: report.api_requests.peak_per_minute,
            list_peak_per_minute: report
                .api_by_replica
                .iter()
                .map(|r| (r.replica.clone(), r.list.busiest_minute))
                .collect(),
        }
    }
}

/// The property every run is checked against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Property {
    /// `converges` or `stall` (and the replica, if the file names one).
    pub expect: String,
    /// `file` for the scenario's own `expect`, else `default`.
    pub from: String,
}

/// How many runs came to each verdict.
#[derive(Debug, Serialize)]
pub struct Verdicts {
    pub converges: Rate,
    pub stall: Rate,
    pub inconclusive: Rate,
}

impl Verdicts {
    fn new(tally: &Tally) -> Verdicts {
        let rate = |verdict: &str| {
            let count = tally.count(verdict);
            Rate {
                count,
                rate: if tally.runs == 0 {
                    0.0
                } else {
                    count as f64 / tally.runs as f64
                },
                ci95: wilson_95(count, tally.runs).unwrap_or((0.0, 1.0)),
            }
        };
        Verdicts {
            converges: rate("converges"),
            stall: rate("stall"),
            inconclusive: rate("inconclusive"),
        }
    }

    fn each(&self) -> [(&'static str, &Rate); 3] {
        [
            ("converges", &self.converges),
            ("stall", &self.stall),
            ("inconclusive", &self.inconclusive),
        ]
    }
}

#[derive(Debug, Serialize)]
pub struct Rate {
    pub count: u64,
    pub rate: f64,
    /// The 95% Wilson score interval of the rate.
    pub ci95: (f64, f64),
}

/// For runs whose flow deleted the CRDs: how long until the flow first saw
/// the deployment ready.
#[derive(Debug, Serialize)]
pub struct DeletionToReady {
    /// Runs in which the flow deleted the CRDs.
    pub runs: u64,
    /// Of those, runs in which the deployment was never seen ready.
    pub never: u64,
    pub median_secs: Option<f64>,
    pub p99_secs: Option<f64>,
    pub max_secs: Option<f64>,
}

/// The load on the API server: requests per run, and the busiest minute
/// of any run.
#[derive(Debug, Serialize)]
pub struct ApiLoad {
    pub mean_per_run: f64,
    pub peak_per_minute: u64,
    /// Each replica's most LISTs in any minute of any run.
    pub list_peak_per_minute: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct Restarts {
    /// Container restarts of all replicas in a run, averaged over runs.
    pub mean: f64,
    pub max: u64,
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

/// A verdict in a few words: `stall of grm-1`, `converges`, `inconclusive`.
pub fn verdict_words(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Stall(stall) => format!("stall of {}", stall.replica),
        other => other.name().to_string(),
    }
}

pub struct Context<'a> {
    pub scenario: &'a str,
    pub file: &'a Path,
    pub first_seed: u64,
    pub planned: Option<u64>,
    pub interrupted: bool,
    /// `I/N` when this summary covers one shard of the runs.
    pub shard: Option<String>,
    pub property: Property,
}

impl Summary {
    /// The summary of the runs in `tally`.
    pub fn new(context: Context<'_>, tally: Tally, saved: Saved) -> Summary {
        let runs = tally.runs;
        let failures: Vec<Failure> = tally
            .failures
            .iter()
            .map(|(seed, failed)| Failure {
                seed: *seed,
                verdict: failed.verdict.clone(),
                why: failed.why.clone(),
                replay: replay_command(context.file, *seed),
            })
            .collect();
        let secs = |ms: Option<u64>| ms.map(|ms| ms as f64 / 1000.0);
        let per_run = |total: u64| {
            if runs == 0 {
                0.0
            } else {
                total as f64 / runs as f64
            }
        };
        Summary {
            scenario: context.scenario.to_string(),
            file: context.file.to_path_buf(),
            runs,
            first_seed: context.first_seed,
            planned: context.planned,
            interrupted: context.interrupted,
            shard: context.shard,
            property: context.property,
            held: runs - failures.len() as u64,
            failed: failures.len() as u64,
            verdicts: Verdicts::new(&tally),
            deletion_to_ready: DeletionToReady {
                runs: tally.deletions,
                never: tally.never_ready,
                median_secs: secs(tally.deletion_to_ready_quantile(0.5)),
                p99_secs: secs(tally.deletion_to_ready_quantile(0.99)),
                max_secs: secs(tally.deletion_to_ready_max()),
            },
            api_requests: ApiLoad {
                mean_per_run: per_run(tally.api_requests),
                peak_per_minute: tally.api_peak_per_minute,
                list_peak_per_minute: tally.list_peak_per_minute.clone(),
            },
            restarts_per_run: Restarts {
                mean: per_run(tally.restarts),
                max: tally.restarts_max,
            },
            failures,
            saved,
            orderings: orderings(&tally),
            shrunk: None,
            windows: Vec::new(),
            tally,
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
        let from = if self.property.from == "file" {
            "the file's expect"
        } else {
            "the default; the file has no expect"
        };
        let _ = writeln!(
            out,
            "property: {} ({from}); held in {} of {} runs",
            self.property.expect, self.held, self.runs
        );
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

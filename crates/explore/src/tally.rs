//! What an exploration keeps of its runs: counts, sums, maxima and
//! histograms that grow with the distinct values seen, never with the
//! runs. A run is folded in as it finishes and then forgotten, so memory
//! stays flat over any number of runs; tallies of disjoint runs merge
//! into exactly the tally of all of them, in any order, which is what
//! `--jobs` and `stallsim merge` rely on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stallsim_harness::{Report, Verdict};

/// What one run came to, as a tally needs it: everything an exploration
/// keeps of a run once it has been folded in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's seed.
    pub seed: u64,
    /// `converges`, `stall` or `inconclusive`.
    pub verdict: String,
    /// The verdict in a few words: `stall of grm-1`.
    pub verdict_words: String,
    /// Why the run did not hold the property; empty when it did.
    pub mismatches: Vec<String>,
    /// Whether the flow deleted the CRDs.
    pub deleted: bool,
    /// How many milliseconds after the deletion the flow first saw the
    /// deployment ready (`None`: never, or no deletion).
    pub deletion_to_ready_ms: Option<u64>,
    /// Container restarts of all replicas.
    pub restarts: u64,
    /// The order its key events first happened in.
    pub ordering: Vec<String>,
    /// Requests the API server answered.
    pub api_requests: u64,
    /// The most requests the API server answered in any minute.
    pub api_peak_per_minute: u64,
    /// Each replica's most LISTs in any minute.
    #[serde(default)]
    pub list_peak_per_minute: BTreeMap<String, u64>,
}

impl RunRecord {
    /// The record of the run with `seed` that came to `report`, did not
    /// hold the property for `mismatches` (none: it held), and whose key
    /// events came in `ordering`.
    pub fn new(
        seed: u64,
        report: &Report,
        mismatches: Vec<String>,
        ordering: Vec<String>,
    ) -> RunRecord {
        let flow = report.flow.as_ref().filter(|f| f.deleted_at.is_some());
        RunRecord {
            seed,
            verdict: report.verdict.name().to_string(),
            verdict_words: verdict_words(&report.verdict),
            mismatches,
            deleted: flow.is_some(),
            deletion_to_ready_ms: flow.and_then(|f| {
                let deleted = f.deleted_at?;
                f.ready_at
                    .map(|r| r.saturating_sub(deleted).as_millis() as u64)
            }),
            restarts: report.restarts.iter().map(|(_, n)| u64::from(*n)).sum(),
            ordering,
            api_requests: report.api_requests.total,
            api_peak_per_minute: report.api_requests.peak_per_minute,
            list_peak_per_minute: report
                .api_by_replica
                .iter()
                .map(|r| (r.replica.clone(), r.list.busiest_minute))
                .collect(),
        }
    }

    /// Whether the run held the property.
    pub fn held(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// A verdict in a few words: `stall of grm-1`, `converges`, `inconclusive`.
pub fn verdict_words(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Stall(stall) => format!("stall of {}", stall.replica),
        Verdict::RestartLoop(looping) => format!("restart loop of {}", looping.replica),
        other => other.name().to_string(),
    }
}

/// Runs folded so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Runs folded in.
    pub runs: u64,
    /// The lowest and the highest seed folded in.
    pub seeds: Option<(u64, u64)>,
    /// Runs per verdict name (`converges`, `stall`, `restart-loop`,
    /// `inconclusive`).
    pub verdicts: BTreeMap<String, u64>,
    /// Runs in which the flow deleted the CRDs.
    pub deletions: u64,
    /// Of those, runs in which the deployment was never seen ready.
    pub never_ready: u64,
    /// Milliseconds from the deletion to the deployment first ready, and
    /// how many runs took each.
    pub deletion_to_ready_ms: BTreeMap<u64, u64>,
    /// Container restarts, over all runs.
    pub restarts: u64,
    /// The most container restarts in one run.
    pub restarts_max: u64,
    /// Requests the API server answered over all runs.
    pub api_requests: u64,
    /// The most requests the API server answered in any minute of any run.
    pub api_peak_per_minute: u64,
    /// Each replica's most LISTs in any minute of any run.
    #[serde(default)]
    pub list_peak_per_minute: BTreeMap<String, u64>,
    /// Coverage, by the order of the key events (joined with ` > `).
    pub orderings: BTreeMap<String, OrderingTally>,
    /// The runs that did not hold the property, by seed.
    pub failures: BTreeMap<u64, FailedRun>,
}

/// The runs that came in one order of the key events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderingTally {
    /// Runs in this order.
    pub runs: u64,
    /// Of those, runs that stalled.
    pub stalled: u64,
    /// The lowest seed that came in this order.
    pub first_seed: u64,
}

/// A run that did not hold the property: what a person needs to replay it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedRun {
    /// The verdict in a few words: `stall of grm-1`.
    pub verdict: String,
    /// Why the run did not hold the property.
    pub why: Vec<String>,
}

/// The separator of an ordering's events in its key.
pub const ORDERING_SEPARATOR: &str = " > ";

impl Tally {
    /// Folds one run in.
    pub fn add(&mut self, run: &RunRecord) {
        self.runs += 1;
        self.seeds = Some(match self.seeds {
            None => (run.seed, run.seed),
            Some((low, high)) => (low.min(run.seed), high.max(run.seed)),
        });
        *self.verdicts.entry(run.verdict.clone()).or_default() += 1;
        if run.deleted {
            self.deletions += 1;
            match run.deletion_to_ready_ms {
                Some(ms) => *self.deletion_to_ready_ms.entry(ms).or_default() += 1,
                None => self.never_ready += 1,
            }
        }
        self.restarts += run.restarts;
        self.restarts_max = self.restarts_max.max(run.restarts);
        self.api_requests += run.api_requests;
        self.api_peak_per_minute = self.api_peak_per_minute.max(run.api_peak_per_minute);
        for (replica, peak) in &run.list_peak_per_minute {
            let most = self
                .list_peak_per_minute
                .entry(replica.clone())
                .or_default();
            *most = (*most).max(*peak);
        }
        let ordering = self
            .orderings
            .entry(run.ordering.join(ORDERING_SEPARATOR))
            .or_insert(OrderingTally {
                runs: 0,
                stalled: 0,
                first_seed: run.seed,
            });
        ordering.runs += 1;
        ordering.stalled += u64::from(run.verdict == "stall");
        ordering.first_seed = ordering.first_seed.min(run.seed);
        if !run.mismatches.is_empty() {
            self.failures.insert(
                run.seed,
                FailedRun {
                    verdict: run.verdict_words.clone(),
                    why: run.mismatches.clone(),
                },
            );
        }
    }

    /// Folds in the tally of other runs. `Err` names a seed both tallies
    /// saw as failing (then they were not disjoint).
    pub fn merge(&mut self, other: Tally) -> Result<(), u64> {
        if let Some(seed) = other
            .failures
            .keys()
            .find(|seed| self.failures.contains_key(seed))
        {
            return Err(*seed);
        }
        self.runs += other.runs;
        self.seeds = match (self.seeds, other.seeds) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (one, other) => one.or(other),
        };
        for (verdict, count) in other.verdicts {
            *self.verdicts.entry(verdict).or_default() += count;
        }
        self.deletions += other.deletions;
        self.never_ready += other.never_ready;
        for (ms, count) in other.deletion_to_ready_ms {
            *self.deletion_to_ready_ms.entry(ms).or_default() += count;
        }
        self.restarts += other.restarts;
        self.restarts_max = self.restarts_max.max(other.restarts_max);
        self.api_requests += other.api_requests;
        self.api_peak_per_minute = self.api_peak_per_minute.max(other.api_peak_per_minute);
        for (replica, peak) in other.list_peak_per_minute {
            let most = self.list_peak_per_minute.entry(replica).or_default();
            *most = (*most).max(peak);
        }
        for (key, theirs) in other.orderings {
            self.orderings
                .entry(key)
                .and_modify(|ours| {
                    ours.runs += theirs.runs;
                    ours.stalled += theirs.stalled;
                    ours.first_seed = ours.first_seed.min(theirs.first_seed);
                })
                .or_insert(theirs);
        }
        self.failures.extend(other.failures);
        Ok(())
    }

    /// Runs that came to `verdict`.
    pub fn count(&self, verdict: &str) -> u64 {
        self.verdicts.get(verdict).copied().unwrap_or(0)
    }

    /// The `q`-quantile (0 < q <= 1) of the deletion-to-ready times by the
    /// nearest-rank method, in milliseconds.
    pub fn deletion_to_ready_quantile(&self, q: f64) -> Option<u64> {
        let total: u64 = self.deletion_to_ready_ms.values().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        self.deletion_to_ready_ms.iter().find_map(|(ms, count)| {
            seen += count;
            (seen >= rank).then_some(*ms)
        })
    }

    /// The longest deletion-to-ready time, in milliseconds.
    pub fn deletion_to_ready_max(&self) -> Option<u64> {
        self.deletion_to_ready_ms.keys().next_back().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nearest-rank quantile of sorted values: the smallest value with
    /// at least a `q` share of the values at or below it.
    fn nearest_rank(sorted: &[u64], q: f64) -> Option<u64> {
        let rank = (q * sorted.len() as f64).ceil() as usize;
        (!sorted.is_empty()).then(|| sorted[rank.clamp(1, sorted.len()) - 1])
    }

    fn record(seed: u64, verdict: &str, to_ready_ms: Option<u64>) -> RunRecord {
        RunRecord {
            seed,
            verdict: verdict.to_string(),
            verdict_words: verdict.to_string(),
            mismatches: if verdict == "stall" {
                vec!["stalled".to_string()]
            } else {
                Vec::new()
            },
            deleted: true,
            deletion_to_ready_ms: to_ready_ms,
            restarts: seed % 3,
            ordering: vec![format!("event {}", seed % 4), "CRDs deleted".to_string()],
            api_requests: 100 + seed,
            api_peak_per_minute: seed * 7 % 13,
            list_peak_per_minute: [("grm-0", seed % 5), ("grm-1", seed * 3 % 11)]
                .map(|(replica, peak)| (replica.to_string(), peak))
                .into(),
        }
    }

    fn records() -> Vec<RunRecord> {
        (1..=40)
            .map(|seed| {
                let verdict = if seed % 5 == 0 { "stall" } else { "converges" };
                let ready = (seed % 7 != 0).then_some(1000 + (seed * 37 % 11) * 250);
                record(seed, verdict, ready)
            })
            .collect()
    }

    #[test]
    fn shards_merge_to_the_whole_in_any_order() {
        let mut whole = Tally::default();
        records().iter().for_each(|r| whole.add(r));
        let (mut even, mut odd) = (Tally::default(), Tally::default());
        for r in records().iter().rev() {
            if r.seed % 2 == 0 { &mut even } else { &mut odd }.add(r);
        }
        let mut merged = Tally::default();
        merged.merge(odd.clone()).unwrap();
        merged.merge(even.clone()).unwrap();
        assert_eq!(merged, whole);
        let lists = &whole.list_peak_per_minute;
        assert_eq!(
            (lists["grm-0"], lists["grm-1"]),
            (4, 10),
            "the most of any run"
        );
        let mut other_way = even;
        other_way.merge(odd).unwrap();
        assert_eq!(other_way, whole);
    }

    #[test]
    fn merging_a_tally_with_itself_is_refused() {
        let mut tally = Tally::default();
        records().iter().for_each(|r| tally.add(r));
        assert_eq!(tally.clone().merge(tally), Err(5));
    }

    #[test]
    fn quantiles_match_the_sorted_values() {
        let mut tally = Tally::default();
        records().iter().for_each(|r| tally.add(r));
        let mut sorted: Vec<u64> = records()
            .iter()
            .filter_map(|r| r.deletion_to_ready_ms)
            .collect();
        sorted.sort();
        for q in [0.01, 0.25, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(
                tally.deletion_to_ready_quantile(q),
                nearest_rank(&sorted, q),
                "q = {q}"
            );
        }
        assert_eq!(tally.deletion_to_ready_max(), sorted.last().copied());
        assert_eq!(tally.never_ready, 5);
    }

    #[test]
    fn memory_grows_with_distinct_values_not_with_runs() {
        let mut tally = Tally::default();
        for seed in 0..100_000 {
            let mut run = record(seed, "converges", Some(1000 + seed % 50));
            run.ordering = vec![format!("event {}", seed % 3)];
            tally.add(&run);
        }
        assert_eq!(tally.runs, 100_000);
        assert_eq!(tally.deletion_to_ready_ms.len(), 50);
        assert_eq!(tally.orderings.len(), 3);
        assert!(tally.failures.is_empty());
        assert_eq!(tally.seeds, Some((0, 99_999)));
    }
}

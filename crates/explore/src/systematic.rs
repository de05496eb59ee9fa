//! Systematic coverage: instead of sampling seeds, force the key events
//! through every order the scenario's ranges allow, and say which orders
//! they never reached.
//!
//! Every draw but the ranged times is held at one seed's. Along each ranged
//! time alone (an axis), a grid of values is run and every change of the
//! key events' order between two neighbouring values is bisected down to
//! the world's tick: the axis falls into segments, each with one order.
//! Then one value per segment of every axis is combined with one of every
//! other (the product), which forces the orders that need two times moved
//! at once. The report lists each order reached (and whether it held the
//! property), and every pair of key events of different actors that came
//! in one order only: the orders the ranges could not reach.
//!
//! An order that exists only inside one grid step, with the same order at
//! both of its ends, is not found; `grid_points` makes steps finer.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use stallsim_harness::WorldConfig;
use stallsim_scenario::{Expect, Scenario};

use crate::ordering::ordering;
use crate::pool::{never, run_indexed};

/// What to ask.
#[derive(Clone, Debug)]
pub struct SystematicQuery {
    /// The seed every run uses: it fixes the jitter and the draws that are
    /// not ranged times.
    pub seed: u64,
    /// Evenly spaced values tried along each axis before refining.
    pub grid_points: u32,
    /// The product of the axes' segments is run only up to this many runs.
    pub combinations_max: u64,
    /// Runs at once (threads); the result does not depend on it.
    pub jobs: usize,
}

/// What a systematic exploration found.
#[derive(Clone, Debug, Serialize)]
pub struct Systematic {
    /// The seed every run used.
    pub seed: u64,
    /// Segment boundaries are exact to this (the world's tick).
    pub resolution: Duration,
    /// Each ranged time moved alone, in the order of the file.
    pub axes: Vec<Axis>,
    /// Runs of the product of the axes' segments, or why it was not run.
    pub combinations: Combinations,
    /// Every order of the key events reached, most runs first.
    pub orderings: Vec<Reached>,
    /// Pairs of key events of different actors, each in the orders reached.
    pub relations: Vec<Relation>,
    /// Runs it took.
    pub runs: u64,
    /// Runs that did not hold the property.
    pub failed: u64,
}

/// One ranged time, moved alone.
#[derive(Clone, Debug, Serialize)]
pub struct Axis {
    /// The field, as runs name their draws (`spec.deletionFlow.deleteAt`).
    pub field: String,
    /// The range as written.
    pub range: (Duration, Duration),
    /// Its values in segments of one order each, in value order.
    pub segments: Vec<Segment>,
}

/// Values of one axis whose runs came in one order.
#[derive(Clone, Debug, Serialize)]
pub struct Segment {
    /// The least value run in it.
    pub from: Duration,
    /// The greatest value run in it.
    pub to: Duration,
    /// The order of the key events of its runs.
    pub ordering: Vec<String>,
    /// Runs in it.
    pub runs: u64,
    /// Of those, runs that did not hold the property.
    pub failed: u64,
}

/// Whether the product of the axes' segments was run.
#[derive(Clone, Debug, Serialize)]
pub enum Combinations {
    /// It was: this many runs.
    Run {
        /// One per combination.
        runs: u64,
    },
    /// The product was larger than `combinations_max`.
    TooMany {
        /// The combinations there would have been.
        product: u64,
        /// The most allowed.
        max: u64,
    },
}

/// An order of the key events that some run came in.
#[derive(Clone, Debug, Serialize)]
pub struct Reached {
    /// The key events, in order.
    pub events: Vec<String>,
    /// Runs in this order.
    pub runs: u64,
    /// Of those, runs that did not hold the property.
    pub failed: u64,
    /// The ranged times of the first run in this order (replay them with
    /// `Scenario::world_with`).
    pub example: BTreeMap<String, Duration>,
}

/// Two key events of different actors, and the orders runs had them in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Relation {
    /// One event (the lesser by name).
    pub first: String,
    /// The other.
    pub second: String,
    /// Some run had `first` before `second`.
    pub forward: bool,
    /// Some run had `second` before `first`.
    pub backward: bool,
}

impl Relation {
    /// The order no run reached, in words, if one.
    pub fn unreached(&self) -> Option<String> {
        match (self.forward, self.backward) {
            (true, false) => Some(format!("{} before {}", self.second, self.first)),
            (false, true) => Some(format!("{} before {}", self.first, self.second)),
            _ => None,
        }
    }
}

/// Runs `scenario` systematically (see the module's documentation) and
/// checks each run against `property`. `None` when no time is a range.
pub fn systematic(
    scenario: &Scenario,
    property: &Expect,
    query: &SystematicQuery,
) -> Option<Systematic> {
    let drawn = scenario.world(query.seed);
    if drawn.draws.is_empty() {
        return None;
    }
    let resolution = drawn.config.tick.max(Duration::from_millis(1));
    let held: BTreeMap<String, Duration> = drawn
        .draws
        .iter()
        .map(|d| (d.field.clone(), d.value))
        .collect();
    let mut runner = Runner {
        scenario,
        property,
        seed: query.seed,
        jobs: query.jobs.max(1),
        results: Vec::new(),
    };
    let mut axes = Vec::new();
    for draw in &drawn.draws {
        let (least, greatest) = draw.range;
        let at = |value: Duration| {
            let mut chosen = held.clone();
            chosen.insert(draw.field.clone(), value);
            chosen
        };
        let points = query.grid_points.max(2);
        let mut grid: Vec<Duration> = (0..points)
            .map(|i| least + (greatest - least).mul_f64(f64::from(i) / f64::from(points - 1)))
            .collect();
        grid.dedup();
        let first = runner.results.len();
        runner.run_all(grid.iter().map(|v| at(*v)).collect());
        let mut probes: Vec<(Duration, usize)> = grid
            .iter()
            .enumerate()
            .map(|(i, v)| (*v, first + i))
            .collect();
        // Refine every change of order between neighbours down to the tick.
        let mut pending: Vec<(usize, usize)> = (1..probes.len()).map(|i| (i - 1, i)).collect();
        while let Some((low, high)) = pending.pop() {
            let ((low_at, low_run), (high_at, high_run)) = (probes[low], probes[high]);
            if runner.results[low_run].ordering == runner.results[high_run].ordering
                || high_at - low_at <= resolution
            {
                continue;
            }
            let middle = low_at + (high_at - low_at) / 2;
            let index = runner.results.len();
            runner.run_all(vec![at(middle)]);
            probes.push((middle, index));
            let middle_probe = probes.len() - 1;
            pending.push((low, middle_probe));
            pending.push((middle_probe, high));
        }
        probes.sort_by_key(|(value, _)| *value);
        axes.push(Axis {
            field: draw.field.clone(),
            range: draw.range,
            segments: segments(&probes, &runner.results),
        });
    }
    // One value per segment of each axis, every combination of them.
    let product = axes
        .iter()
        .map(|a| a.segments.len() as u64)
        .try_fold(1u64, |p, n| p.checked_mul(n))
        .unwrap_or(u64::MAX);
    let combinations = if product > query.combinations_max {
        Combinations::TooMany {
            product,
            max: query.combinations_max,
        }
    } else {
        let mut worlds = vec![held.clone()];
        for axis in &axes {
            let values: Vec<Duration> = axis
                .segments
                .iter()
                .map(|s| s.from + (s.to - s.from) / 2)
                .collect();
            worlds = worlds
                .into_iter()
                .flat_map(|chosen| {
                    values.iter().map(move |v| {
                        let mut chosen = chosen.clone();
                        chosen.insert(axis.field.clone(), *v);
                        chosen
                    })
                })
                .collect();
        }
        runner.run_all(worlds);
        Combinations::Run { runs: product }
    };
    Some(Systematic {
        seed: query.seed,
        resolution,
        orderings: reached(&runner.results),
        relations: relations(&runner.results),
        runs: runner.results.len() as u64,
        failed: runner.results.iter().filter(|r| r.failed).count() as u64,
        axes,
        combinations,
    })
}

/// What is kept of one run: its times, its order, whether it failed.
struct Probed {
    chosen: BTreeMap<String, Duration>,
    ordering: Vec<String>,
    failed: bool,
}

/// A run's order of key events, and whether it failed.
type Found = (Vec<String>, bool);

struct Runner<'a> {
    scenario: &'a Scenario,
    property: &'a Expect,
    seed: u64,
    jobs: usize,
    /// Every run so far, in the order they were asked for.
    results: Vec<Probed>,
}

impl Runner<'_> {
    /// Runs the worlds with these times on the pool, and appends them to
    /// `results` in the order given.
    fn run_all(&mut self, worlds: Vec<BTreeMap<String, Duration>>) {
        let configs: Vec<WorldConfig> = worlds
            .iter()
            .map(|chosen| self.scenario.world_with(self.seed, chosen).config)
            .collect();
        let mut done: Vec<Option<Found>> = vec![None; configs.len()];
        let work = |index: u64| {
            let config = configs.get(usize::try_from(index).ok()?)?;
            let run = stallsim_harness::run(config);
            let failed = !self.property.check(&run.report).is_empty();
            Some((index, (ordering(&run), failed)))
        };
        run_indexed(
            self.jobs.min(configs.len()),
            &never,
            &work,
            |(index, found)| {
                done[index as usize] = Some(found);
            },
        );
        for (chosen, found) in worlds.into_iter().zip(done) {
            let (ordering, failed) = found.expect("every world ran");
            self.results.push(Probed {
                chosen,
                ordering,
                failed,
            });
        }
    }
}

/// Consecutive probes (in value order) with one order make a segment.
fn segments(probes: &[(Duration, usize)], results: &[Probed]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for (value, index) in probes {
        let result = &results[*index];
        match out.last_mut() {
            Some(segment) if segment.ordering == result.ordering => {
                segment.to = *value;
                segment.runs += 1;
                segment.failed += u64::from(result.failed);
            }
            _ => out.push(Segment {
                from: *value,
                to: *value,
                ordering: result.ordering.clone(),
                runs: 1,
                failed: u64::from(result.failed),
            }),
        }
    }
    out
}

fn reached(results: &[Probed]) -> Vec<Reached> {
    let mut by_order: BTreeMap<&[String], Reached> = BTreeMap::new();
    for result in results {
        let entry = by_order
            .entry(result.ordering.as_slice())
            .or_insert_with(|| Reached {
                events: result.ordering.clone(),
                runs: 0,
                failed: 0,
                example: result.chosen.clone(),
            });
        entry.runs += 1;
        entry.failed += u64::from(result.failed);
    }
    let mut all: Vec<Reached> = by_order.into_values().collect();
    all.sort_by(|a, b| b.runs.cmp(&a.runs).then_with(|| a.events.cmp(&b.events)));
    all
}

/// `grm-1 lists Prometheus` for `grm-1 lists Prometheus: fails`: an event
/// whatever its outcome.
fn event(milestone: &str) -> &str {
    milestone.split(':').next().unwrap_or(milestone)
}

/// Who an event is of: the replica it names, or the deletion flow.
fn actor(event: &str) -> &str {
    if event.starts_with("CRDs ") {
        "flow"
    } else {
        event.split(' ').next().unwrap_or(event)
    }
}

fn relations(results: &[Probed]) -> Vec<Relation> {
    // (a, b) with a < b by name: whether a came first, whether b did.
    let mut seen: BTreeMap<(String, String), (bool, bool)> = BTreeMap::new();
    for result in results {
        let events: Vec<&str> = result.ordering.iter().map(|m| event(m)).collect();
        for (i, a) in events.iter().enumerate() {
            for b in &events[i + 1..] {
                if actor(a) == actor(b) {
                    continue;
                }
                let (key, a_first) = if a < b {
                    ((a.to_string(), b.to_string()), true)
                } else {
                    ((b.to_string(), a.to_string()), false)
                };
                let entry = seen.entry(key).or_default();
                if a_first {
                    entry.0 = true;
                } else {
                    entry.1 = true;
                }
            }
        }
    }
    seen.into_iter()
        .map(|((first, second), (forward, backward))| Relation {
            first,
            second,
            forward,
            backward,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probed(ordering: &[&str], failed: bool) -> Probed {
        Probed {
            chosen: BTreeMap::new(),
            ordering: ordering.iter().map(|s| s.to_string()).collect(),
            failed,
        }
    }

    #[test]
    fn neighbours_in_one_order_make_one_segment() {
        let results = vec![
            probed(&["a", "b"], false),
            probed(&["b", "a"], true),
            probed(&["a", "b"], false),
        ];
        let ms = Duration::from_millis;
        let probes = [(ms(0), 0), (ms(10), 2), (ms(20), 1), (ms(30), 1)];
        let found = segments(&probes, &results);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].from, found[0].to, found[0].runs),
            (ms(0), ms(10), 2)
        );
        assert_eq!(
            (found[1].from, found[1].to, found[1].failed),
            (ms(20), ms(30), 2)
        );
    }

    #[test]
    fn an_order_seen_one_way_only_is_unreached() {
        let results = vec![
            probed(
                &["grm-0 discovers", "CRDs deleted", "grm-1 lists X: fails"],
                true,
            ),
            probed(
                &["CRDs deleted", "grm-0 discovers", "grm-1 lists X: ok"],
                false,
            ),
            probed(&["grm-0 discovers", "grm-0 leads"], false),
        ];
        let found = relations(&results);
        let unreached: Vec<String> = found.iter().filter_map(Relation::unreached).collect();
        assert_eq!(
            unreached,
            vec![
                "grm-1 lists X before CRDs deleted".to_string(),
                "grm-1 lists X before grm-0 discovers".to_string(),
            ]
        );
        // The same actor's events are never a pair: a replica's own order
        // is its code's, not the race's.
        assert!(!found
            .iter()
            .any(|r| r.first == "grm-0 discovers" && r.second == "grm-0 leads"));
        let both = found
            .iter()
            .find(|r| r.first == "CRDs deleted" && r.second == "grm-0 discovers")
            .unwrap();
        assert!(both.forward && both.backward);
    }
}

//! Sensitivity: whether a verdict holds for every plausible value of the
//! model's estimated constants, or rests on one of them, and where.
//!
//! Each estimated constant (`stallsim_scenario::ESTIMATES`) is moved alone
//! across its plausible range (or the file's own range for it), every other
//! draw and the network's jitter held at one seed's, as [`stall_window`]
//! moves one ranged time: a grid of values, then every change of verdict
//! between neighbours bisected down to the world's tick and explained by
//! the first key event that differs across it. A change of the key
//! events' order between neighbours is bisected too, so that a change of
//! verdict that lives inside one grid step, between two runs of one
//! verdict but different orders, is found. Every step's runs of every
//! constant go to the worker pool at once.
//!
//! [`stall_window`]: crate::stall_window

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use stallsim_harness::{Run, WorldConfig};
use stallsim_scenario::format_duration_text as format_duration;
use stallsim_scenario::{Scenario, ESTIMATES};

use crate::pool::{never, run_indexed};
use crate::window::key_events;

/// What to ask.
#[derive(Clone, Debug)]
pub struct SensitivityQuery {
    /// The seed every run uses: it fixes the other draws and the jitter.
    pub seed: u64,
    /// Evenly spaced values tried across each range before refining.
    pub grid_points: u32,
    /// Runs at once (threads); the result does not depend on it.
    pub jobs: usize,
}

/// How many estimated constants [`sensitivity`] moves: the table's length.
pub fn estimates_count() -> usize {
    ESTIMATES.len()
}

/// Evenly spaced values tried across a plausible range when none is asked for.
pub const SENSITIVITY_GRID_POINTS_DEFAULT: u32 = 6;

/// What moving each estimated constant did to the verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sensitivity {
    /// The seed every run used.
    pub seed: u64,
    /// The verdict of the run with every constant at its value in the file
    /// (or its default).
    pub verdict: String,
    /// Edges are exact to this (the world's tick).
    pub resolution: Duration,
    /// One per estimated constant, in the order of the table of estimates.
    pub constants: Vec<Constant>,
    /// Runs it took.
    pub runs: u64,
}

/// One estimated constant, moved alone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Constant {
    /// Its field (`spec.kubelet.processStart`).
    pub field: String,
    /// Its name (`processStart`).
    pub name: String,
    /// Its value in the run held still: the file's, or the model's default.
    pub value: Duration,
    /// The range it was moved across.
    pub range: (Duration, Duration),
    /// The range is the file's own (`processStart: 1s..4s`), not the
    /// plausible range of the table of estimates.
    pub from_file: bool,
    /// What it did.
    pub moved: Moved,
}

/// What moving one constant did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Moved {
    /// It was moved: the verdict across its range.
    Across {
        /// Sub-ranges of one verdict each, in order.
        segments: Vec<Segment>,
        /// Every change of verdict, in order.
        edges: Vec<Edge>,
    },
    /// It takes no part in this run (a lost node's scheduling delay where
    /// no node is lost): every value ran the very same trace.
    NoPart,
    /// A value of its range breaks a relation with another field of the
    /// file (a `latencyMin` above the file's `latencyMax`); the error.
    Refused {
        /// What the file's check said.
        error: String,
    },
}

/// Values of one constant whose runs came to one verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// The least value run in it.
    pub from: Duration,
    /// The greatest value run in it.
    pub to: Duration,
    /// `converges`, `stall` or `inconclusive`.
    pub verdict: String,
}

/// A change of verdict between two values one resolution apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The last value on the lower side.
    pub below: Duration,
    /// The first value on the upper side.
    pub above: Duration,
    /// The verdict below, and above.
    pub verdicts: (String, String),
    /// The first key event that differs, below and above; `None` where the
    /// runs differ in timing only.
    pub below_with: Option<String>,
    /// The same, above.
    pub above_with: Option<String>,
}

impl Sensitivity {
    /// The constants some value of which changes the verdict.
    pub fn rests_on(&self) -> Vec<&Constant> {
        self.constants
            .iter()
            .filter(|c| matches!(&c.moved, Moved::Across { edges, .. } if !edges.is_empty()))
            .collect()
    }

    /// The constants that were moved across their ranges and changed
    /// the run.
    pub fn moved(&self) -> usize {
        self.constants
            .iter()
            .filter(|c| matches!(c.moved, Moved::Across { .. }))
            .count()
    }

    /// The verdict's last line: `robust to the 11 estimated constants`, or
    /// `rests on processStart (stalls above 1.83s)`.
    pub fn summary(&self) -> String {
        let rests = self.rests_on();
        if rests.is_empty() {
            let unmoved = self.constants.len() - self.moved();
            return match unmoved {
                0 => format!("robust to the {} estimated constants", self.moved()),
                n => format!(
                    "robust to the {} estimated constants that take part in it ({n} take none)",
                    self.moved()
                ),
            };
        }
        let parts: Vec<String> = rests
            .iter()
            .map(|c| format!("{} ({})", c.name, c.where_it_differs(&self.verdict)))
            .collect();
        format!("rests on {}", parts.join(", "))
    }
}

impl Constant {
    /// Where across its range the verdict differs from `verdict`:
    /// `stalls above 1.83s`, `converges below 400ms`, `stalls in 1s..2s`.
    pub fn where_it_differs(&self, verdict: &str) -> String {
        let Moved::Across { segments, .. } = &self.moved else {
            return "unmoved".to_string();
        };
        let (least, greatest) = self.range;
        let parts: Vec<String> = segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.verdict != verdict)
            .map(|(i, s)| {
                let verb = verb(&s.verdict);
                let before = i.checked_sub(1).map(|j| &segments[j]);
                let after = segments.get(i + 1);
                match (s.from == least, s.to == greatest) {
                    (true, true) => format!("{verb} across it"),
                    (true, false) => match after {
                        Some(next) => format!("{verb} below {}", format_duration(next.from)),
                        None => format!("{verb} at or below {}", format_duration(s.to)),
                    },
                    (false, true) => match before {
                        Some(previous) => format!("{verb} above {}", format_duration(previous.to)),
                        None => format!("{verb} at or above {}", format_duration(s.from)),
                    },
                    (false, false) => format!(
                        "{verb} in {}..{}",
                        format_duration(s.from),
                        format_duration(s.to)
                    ),
                }
            })
            .collect();
        parts.join(", ")
    }
}

/// `stalls`, `converges`, `is inconclusive`.
fn verb(verdict: &str) -> &'static str {
    match verdict {
        "stall" => "stalls",
        "converges" => "converges",
        _ => "is inconclusive",
    }
}

/// What is kept of one run.
#[derive(Clone)]
struct Probed {
    verdict: String,
    key_events: Vec<String>,
    /// A digest of the whole trace: equal for runs that did the same.
    trace: u64,
}

impl Probed {
    fn of(run: &Run) -> Probed {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        for event in &run.trace {
            event.to_json_line().hash(&mut hasher);
        }
        Probed {
            verdict: run.report.verdict.name().to_string(),
            key_events: key_events(run),
            trace: hasher.finish(),
        }
    }
}

/// One constant being moved: its grid and bisections so far.
struct Axis {
    field: String,
    /// Values run, and their results, in the order run.
    probes: Vec<(Duration, Probed)>,
}

/// Moves every estimated constant of `scenario` across its range (see the
/// module's documentation).
pub fn sensitivity(scenario: &Scenario, query: &SensitivityQuery) -> Sensitivity {
    let seed = query.seed;
    let base = scenario.world(seed);
    let resolution = base.config.tick.max(Duration::from_millis(1));
    let mut runs = 0;
    let held = stallsim_harness::run(&base.config);
    runs += 1;
    let verdict = held.report.verdict.name().to_string();
    let mut constants: Vec<Constant> = Vec::new();
    let mut axes: Vec<Axis> = Vec::new();
    for estimate in ESTIMATES {
        let file_range = base
            .draws
            .iter()
            .find(|d| d.field == estimate.field)
            .map(|d| (d.range, d.value));
        let (range, value, from_file) = match file_range {
            Some((range, value)) => (range, value, true),
            None => {
                let value = scenario
                    .duration_of(seed, estimate.field)
                    .unwrap_or(estimate.default);
                (estimate.plausible, value, false)
            }
        };
        let world_at = |value: Duration| {
            let chosen = BTreeMap::from([(estimate.field.to_string(), value)]);
            scenario.try_world_with(seed, &chosen).map(|d| d.config)
        };
        let moved = match (world_at(range.0), world_at(range.1)) {
            (Err(error), _) | (_, Err(error)) => Moved::Refused {
                error: error.to_string(),
            },
            (Ok(low), Ok(high)) if low == high => Moved::NoPart,
            _ => {
                axes.push(Axis {
                    field: estimate.field.to_string(),
                    probes: Vec::new(),
                });
                Moved::Across {
                    segments: Vec::new(),
                    edges: Vec::new(),
                }
            }
        };
        constants.push(Constant {
            field: estimate.field.to_string(),
            name: estimate.name().to_string(),
            value,
            range,
            from_file,
            moved,
        });
    }
    let range_of = |field: &str| {
        constants
            .iter()
            .find(|c| c.field == field)
            .expect("every axis is a constant")
            .range
    };
    // The grids of every axis, run together.
    let points = query.grid_points.max(2);
    let mut asked: Vec<(usize, Duration)> = Vec::new();
    for (a, axis) in axes.iter().enumerate() {
        let (least, greatest) = range_of(&axis.field);
        let mut grid: Vec<Duration> = (0..points)
            .map(|i| least + (greatest - least).mul_f64(f64::from(i) / f64::from(points - 1)))
            .map(|v| round_to_millis(v).clamp(least, greatest))
            .collect();
        grid.dedup();
        asked.extend(grid.into_iter().map(|v| (a, v)));
    }
    // Then every change of verdict between neighbours, halved each round
    // until its two sides are one resolution apart.
    while !asked.is_empty() {
        runs += asked.len() as u64;
        let results = run_all(scenario, seed, &axes, &asked, query.jobs);
        for ((a, value), probed) in asked.iter().zip(results) {
            axes[*a].probes.push((*value, probed));
        }
        asked.clear();
        for (a, axis) in axes.iter_mut().enumerate() {
            axis.probes.sort_by_key(|(v, _)| *v);
            for pair in axis.probes.windows(2) {
                let ((low, low_run), (high, high_run)) = (&pair[0], &pair[1]);
                // A change of verdict, or of the order of the key events
                // (where a change of verdict inside one step would hide),
                // is halved until its sides are one resolution apart.
                let differ = low_run.verdict != high_run.verdict
                    || low_run.key_events != high_run.key_events;
                if differ && *high - *low > resolution {
                    let middle = round_to_millis(*low + (*high - *low) / 2);
                    if middle > *low && middle < *high {
                        asked.push((a, middle));
                    }
                }
            }
        }
    }
    for axis in &axes {
        let constant = constants
            .iter_mut()
            .find(|c| c.field == axis.field)
            .expect("every axis is a constant");
        // Every value ran the same run: nothing in this world reads it.
        let same = axis.probes.windows(2).all(|p| p[0].1.trace == p[1].1.trace);
        constant.moved = if same {
            Moved::NoPart
        } else {
            across(&axis.probes)
        };
    }
    Sensitivity {
        seed,
        verdict,
        resolution,
        constants,
        runs,
    }
}

/// Runs the worlds asked for on the pool; results in the order asked.
fn run_all(
    scenario: &Scenario,
    seed: u64,
    axes: &[Axis],
    asked: &[(usize, Duration)],
    jobs: usize,
) -> Vec<Probed> {
    let configs: Vec<WorldConfig> = asked
        .iter()
        .map(|(a, value)| {
            let chosen = BTreeMap::from([(axes[*a].field.clone(), *value)]);
            scenario
                .try_world_with(seed, &chosen)
                .expect("both ends of the range were valid worlds, and so is every value between")
                .config
        })
        .collect();
    let mut done: Vec<Option<Probed>> = vec![None; configs.len()];
    let work = |index: u64| {
        let config = configs.get(usize::try_from(index).ok()?)?;
        Some((index, Probed::of(&stallsim_harness::run(config))))
    };
    run_indexed(
        jobs.max(1).min(configs.len()),
        &never,
        &work,
        |(i, probed)| {
            done[i as usize] = Some(probed);
        },
    );
    done.into_iter()
        .map(|p| p.expect("every world ran"))
        .collect()
}

/// Segments and edges of one constant's probes, in value order.
fn across(probes: &[(Duration, Probed)]) -> Moved {
    let mut segments: Vec<Segment> = Vec::new();
    let mut edges = Vec::new();
    for (i, (value, probed)) in probes.iter().enumerate() {
        match segments.last_mut() {
            Some(segment) if segment.verdict == probed.verdict => segment.to = *value,
            _ => {
                if let Some((below, previous)) = i.checked_sub(1).map(|j| &probes[j]) {
                    let (below_with, above_with) =
                        first_difference(&previous.key_events, &probed.key_events);
                    edges.push(Edge {
                        below: *below,
                        above: *value,
                        verdicts: (previous.verdict.clone(), probed.verdict.clone()),
                        below_with,
                        above_with,
                    });
                }
                segments.push(Segment {
                    from: *value,
                    to: *value,
                    verdict: probed.verdict.clone(),
                });
            }
        }
    }
    Moved::Across { segments, edges }
}

/// The first key event that differs between two runs, counting one that
/// only one of them has.
fn first_difference(a: &[String], b: &[String]) -> (Option<String>, Option<String>) {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())));
    match at {
        Some(i) => (a.get(i).cloned(), b.get(i).cloned()),
        None => (None, None),
    }
}

/// Whole milliseconds, as every drawn value is.
fn round_to_millis(value: Duration) -> Duration {
    Duration::from_millis(value.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(segments: &[(u64, u64, &str)]) -> Constant {
        let ms = Duration::from_millis;
        Constant {
            field: "spec.kubelet.processStart".into(),
            name: "processStart".into(),
            value: ms(2000),
            range: (ms(segments[0].0), ms(segments[segments.len() - 1].1)),
            from_file: false,
            moved: Moved::Across {
                segments: segments
                    .iter()
                    .map(|(from, to, verdict)| Segment {
                        from: ms(*from),
                        to: ms(*to),
                        verdict: verdict.to_string(),
                    })
                    .collect(),
                edges: Vec::new(),
            },
        }
    }

    #[test]
    fn where_the_verdict_differs_is_said_from_the_edges() {
        let c = constant(&[(500, 1830, "converges"), (1840, 5000, "stall")]);
        assert_eq!(c.where_it_differs("converges"), "stalls above 1.83s");
        assert_eq!(c.where_it_differs("stall"), "converges below 1.84s");
        let c = constant(&[
            (500, 900, "stall"),
            (910, 1200, "converges"),
            (1210, 5000, "stall"),
        ]);
        assert_eq!(c.where_it_differs("stall"), "converges in 910ms..1.2s");
    }

    #[test]
    fn a_difference_may_be_an_event_only_one_run_has() {
        let a = vec!["x".to_string(), "y".to_string()];
        let b = vec!["x".to_string()];
        assert_eq!(first_difference(&a, &b), (Some("y".to_string()), None));
        assert_eq!(first_difference(&a, &a), (None, None));
    }
}

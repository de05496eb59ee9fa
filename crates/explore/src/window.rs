//! The stall window: for one ranged time of a scenario, the sub-ranges
//! where runs stall, every other draw held still, their edges refined by
//! bisection down to the tick and explained by the first key event that
//! differs between the runs on either side.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;
use stallsim_harness::manager::ManagerEvent;
use stallsim_harness::{custom_resources, Run, What, WorldEvent};
use stallsim_scenario::Scenario;

/// What to ask: which field, under which seed, how finely.
#[derive(Clone, Debug)]
pub struct WindowQuery {
    /// A ranged field, as runs name their draws (`spec.deletionFlow.deleteAt`).
    pub field: String,
    /// The seed every run uses: it fixes the other draws and the jitter.
    pub seed: u64,
    /// Evenly spaced values tried across the range before refining.
    pub grid_points: u32,
    /// Other ranged fields held at these values instead of the seed's
    /// draws (`Scenario::world_with`); empty: every other as drawn.
    pub held: BTreeMap<String, Duration>,
}

impl WindowQuery {
    /// The window of `field`, every other draw as `seed` has it.
    pub fn new(field: &str, seed: u64, grid_points: u32) -> WindowQuery {
        WindowQuery {
            field: field.to_string(),
            seed,
            grid_points,
            held: BTreeMap::new(),
        }
    }
}

/// Where in one field's range the runs stall.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Window {
    /// The field moved.
    pub field: String,
    /// The seed of every run.
    pub seed: u64,
    /// The field's range as written.
    pub range: (Duration, Duration),
    /// Sub-ranges whose runs stall, in order; both ends stall.
    pub stalling: Vec<(Duration, Duration)>,
    /// Every change between holding and stalling, in order.
    pub edges: Vec<Edge>,
    /// Edges are exact to this (the world's tick).
    pub resolution: Duration,
    /// Runs it took.
    pub runs: u32,
}

/// A change between holding and stalling, between two values one
/// resolution apart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Edge {
    /// The last value on the lower side.
    pub below: Duration,
    /// The first value on the upper side.
    pub above: Duration,
    /// Whether the runs above this edge stall (the window opens here).
    pub opens: bool,
    /// The first key event that differs, on the holding side and on the
    /// stalling side (`grm-1 discovery: 11 resources, no custom resources`);
    /// `None` where the runs differ in timing only.
    pub holds_with: Option<String>,
    /// The same, on the stalling side.
    pub stalls_with: Option<String>,
}

/// Runs `scenario` across the range of `query.field`, every other draw as
/// `query.seed` draws it, and returns where it stalls. `None` when the
/// field is not a range of the scenario.
pub fn stall_window(scenario: &Scenario, query: &WindowQuery) -> Option<Window> {
    let draw = scenario
        .world(query.seed)
        .draws
        .into_iter()
        .find(|d| d.field == query.field)?;
    let (least, greatest) = draw.range;
    let resolution = scenario
        .world(query.seed)
        .config
        .tick
        .max(Duration::from_millis(1));
    let mut probe = Probe {
        scenario,
        query,
        runs: 0,
    };
    let points = query.grid_points.max(2);
    let span = greatest - least;
    let mut grid: Vec<Duration> = (0..points)
        .map(|i| least + span.mul_f64(f64::from(i) / f64::from(points - 1)))
        .collect();
    grid.dedup();
    let samples: Vec<(Duration, Run)> = grid.into_iter().map(|at| (at, probe.run(at))).collect();
    let starts_stalling = stalls(&samples[0].1);
    let mut edges = Vec::new();
    for pair in samples.windows(2) {
        let ((mut low, mut low_run), (mut high, mut high_run)) = (
            (pair[0].0, pair[0].1.clone()),
            (pair[1].0, pair[1].1.clone()),
        );
        let low_stalls = stalls(&low_run);
        if low_stalls == stalls(&high_run) {
            continue;
        }
        while high - low > resolution {
            let middle = low + (high - low) / 2;
            let run = probe.run(middle);
            if stalls(&run) == low_stalls {
                (low, low_run) = (middle, run);
            } else {
                (high, high_run) = (middle, run);
            }
        }
        let (holding, stalling) = if low_stalls {
            (&high_run, &low_run)
        } else {
            (&low_run, &high_run)
        };
        let (holds_with, stalls_with) = first_difference(holding, stalling);
        edges.push(Edge {
            below: low,
            above: high,
            opens: !low_stalls,
            holds_with,
            stalls_with,
        });
    }
    Some(Window {
        field: query.field.clone(),
        seed: query.seed,
        range: (least, greatest),
        stalling: stalling_ranges(least, greatest, starts_stalling, &edges),
        edges,
        resolution,
        runs: probe.runs,
    })
}

/// The sub-ranges that stall, from the edges and whether the range starts stalling.
fn stalling_ranges(
    least: Duration,
    greatest: Duration,
    starts_stalling: bool,
    edges: &[Edge],
) -> Vec<(Duration, Duration)> {
    let mut ranges = Vec::new();
    let mut open = starts_stalling.then_some(least);
    for edge in edges {
        match (open, edge.opens) {
            (None, true) => open = Some(edge.above),
            (Some(from), false) => {
                ranges.push((from, edge.below));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(from) = open {
        ranges.push((from, greatest));
    }
    ranges
}

/// Runs of one query, counted.
struct Probe<'a> {
    scenario: &'a Scenario,
    query: &'a WindowQuery,
    runs: u32,
}

impl Probe<'_> {
    fn run(&mut self, at: Duration) -> Run {
        self.runs += 1;
        let mut chosen = self.query.held.clone();
        chosen.insert(self.query.field.clone(), at);
        let drawn = self.scenario.world_with(self.query.seed, &chosen);
        stallsim_harness::run(&drawn.config)
    }
}

/// The events that decide a race, in order, without their times: CRD
/// deletions, discoveries, elections, each informer's creation and the
/// outcome of its first LIST, container starts and stops.
pub(crate) fn key_events(run: &Run) -> Vec<String> {
    let mut listed: BTreeSet<(String, String)> = BTreeSet::new();
    let mut out = Vec::new();
    for event in &run.trace {
        let source = event.source.as_str();
        let text = match &event.what {
            What::Manager(ManagerEvent::DiscoveryCompleted { resources }) => Some(format!(
                "discovery finds {}",
                list_or_none(&custom_resources(resources))
            )),
            What::Manager(ManagerEvent::MapperNoMatch { kind }) => {
                Some(format!("mapper has no match for {kind}"))
            }
            What::Manager(ManagerEvent::LeaderElected) => Some("becomes leader".to_string()),
            What::Manager(ManagerEvent::InformerCreated { kind, .. }) => {
                Some(format!("creates an informer for {kind}"))
            }
            What::Manager(ManagerEvent::ListSucceeded { kind, items, .. })
                if listed.insert((source.to_string(), kind.clone())) =>
            {
                Some(format!("first LIST of {kind} succeeds ({items} items)"))
            }
            What::Manager(ManagerEvent::ListFailed { kind, error, .. })
                if listed.insert((source.to_string(), kind.clone())) =>
            {
                Some(format!("first LIST of {kind} fails: {error}"))
            }
            What::World(WorldEvent::CrdDeleted { name }) => Some(format!("deletes CRD {name}")),
            What::World(WorldEvent::ContainerStarted { .. }) => {
                Some("container starts".to_string())
            }
            What::World(WorldEvent::ContainerKilled { .. } | WorldEvent::StopRequested { .. }) => {
                Some("container stops".to_string())
            }
            What::World(WorldEvent::NodeLost) => Some("loses its node".to_string()),
            What::World(WorldEvent::ReplacementCreated { replaces }) => {
                Some(format!("is created to replace {replaces}"))
            }
            What::World(WorldEvent::TaskPanicked { message, .. }) => {
                Some(format!("model error: a task panicked: {message}"))
            }
            What::World(WorldEvent::HostFroze { .. }) => Some("model error: froze".to_string()),
            _ => None,
        };
        if let Some(text) = text {
            out.push(format!("{source} {text}"));
        }
    }
    out
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "no custom resources".to_string()
    } else {
        items.join(", ")
    }
}

/// Whether a run does not hold: it stalls, or its model broke (a task
/// panicked, a host froze), which is never a run that holds.
fn stalls(run: &Run) -> bool {
    run.report.verdict.is_stall() || run.report.model_error.is_some()
}

/// The first key event, without its time, that differs between two runs.
pub(crate) fn first_difference(holding: &Run, stalling: &Run) -> (Option<String>, Option<String>) {
    first_difference_of(&key_events(holding), &key_events(stalling))
}

/// The first of two runs' key events (see [`key_events`]) that differs.
pub(crate) fn first_difference_of(a: &[String], b: &[String]) -> (Option<String>, Option<String>) {
    let at = a.iter().zip(b).position(|(x, y)| x != y);
    match at {
        Some(i) => (Some(a[i].clone()), Some(b[i].clone())),
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(below: u64, above: u64, opens: bool) -> Edge {
        Edge {
            below: Duration::from_millis(below),
            above: Duration::from_millis(above),
            opens,
            holds_with: None,
            stalls_with: None,
        }
    }

    #[test]
    fn stalling_ranges_follow_the_edges() {
        let ms = Duration::from_millis;
        assert_eq!(
            stalling_ranges(
                ms(0),
                ms(100),
                false,
                &[edge(20, 30, true), edge(60, 70, false)]
            ),
            vec![(ms(30), ms(60))]
        );
        assert_eq!(
            stalling_ranges(ms(0), ms(100), true, &[edge(20, 30, false)]),
            vec![(ms(0), ms(20))]
        );
        assert_eq!(
            stalling_ranges(ms(0), ms(100), false, &[edge(20, 30, true)]),
            vec![(ms(30), ms(100))]
        );
        assert_eq!(stalling_ranges(ms(0), ms(100), false, &[]), vec![]);
        assert_eq!(
            stalling_ranges(ms(0), ms(100), true, &[]),
            vec![(ms(0), ms(100))]
        );
    }

    #[test]
    fn a_run_whose_model_broke_does_not_hold() {
        let config = stallsim_harness::WorldConfig::default();
        let mut run = Run {
            report: stallsim_harness::judge(&config, &[], Duration::from_secs(1200)),
            trace: Vec::new(),
            segments: Default::default(),
            metrics: None,
        };
        assert!(!stalls(&run), "{:?}", run.report.verdict);
        run.report.model_error = Some("model error at 1.000s: ...".to_string());
        assert!(stalls(&run));
    }
}

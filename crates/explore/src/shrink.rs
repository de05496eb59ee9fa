//! Shrinking: a run that breaks the property, reduced to the fewest and
//! smallest perturbations that still break it. Faults are dropped one at a
//! time while the run still fails; each ranged time is moved toward the
//! least value of its range, by bisection down to the world's tick, while
//! the run still fails; both again until nothing changes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use stallsim_harness::{FaultAction, Run, WorldConfig};
use stallsim_scenario::{Expect, Scenario};

/// Rounds of dropping and moving, at most: each round that changes
/// something makes the world smaller, so few are ever needed.
const ROUNDS_MAX: u32 = 8;

/// A failing run, shrunk.
#[derive(Clone, Debug, Serialize)]
pub struct Shrunk {
    /// The seed of the failing run.
    pub seed: u64,
    /// The faults of the file that the failure needs, as written.
    pub faults_kept: Vec<String>,
    /// The faults it does without.
    pub faults_dropped: Vec<String>,
    /// Each ranged time: its field, the value drawn, and the least value
    /// that still fails.
    pub times: Vec<(String, Duration, Duration)>,
    /// Runs it took.
    pub runs: u32,
    /// The property's complaints about the shrunk run.
    pub mismatches: Vec<String>,
    /// The shrunk run itself, to show its timeline.
    #[serde(skip)]
    pub run: Run,
    /// The shrunk run's world.
    #[serde(skip)]
    pub config: WorldConfig,
}

/// Shrinks the run of `scenario` with `seed`, which must break `property`;
/// `None` when it does not.
pub fn shrink(scenario: &Scenario, seed: u64, property: &Expect) -> Option<Shrunk> {
    let drawn = scenario.world(seed);
    let mut search = Search {
        scenario,
        seed,
        property,
        runs: 0,
        chosen: drawn
            .draws
            .iter()
            .map(|d| (d.field.clone(), d.value))
            .collect(),
        kept: (0..drawn.config.faults.len()).collect(),
    };
    let (mut config, mut run) = search.current();
    if property.check(&run.report).is_empty() {
        return None;
    }
    let ranges: BTreeMap<String, Duration> = drawn
        .draws
        .iter()
        .map(|d| (d.field.clone(), d.range.0))
        .collect();
    let resolution = drawn.config.tick.max(Duration::from_millis(1));
    for _ in 0..ROUNDS_MAX {
        let mut changed = false;
        for fault in search.kept.clone() {
            let without: Vec<usize> = search
                .kept
                .iter()
                .copied()
                .filter(|f| *f != fault)
                .collect();
            if let Some(found) = search.fails_with(&search.chosen.clone(), &without) {
                search.kept = without;
                (config, run) = found;
                changed = true;
            }
        }
        for (field, least) in &ranges {
            if fault_of(field).is_some_and(|f| !search.kept.contains(&f)) {
                continue;
            }
            let mut failing = search.chosen[field];
            let mut holding = *least;
            if failing <= holding {
                continue;
            }
            let mut chosen = search.chosen.clone();
            chosen.insert(field.clone(), holding);
            let kept = search.kept.clone();
            if let Some(found) = search.fails_with(&chosen, &kept) {
                search.chosen = chosen;
                (config, run) = found;
                changed = true;
                continue;
            }
            while failing - holding > resolution {
                let middle = holding + (failing - holding) / 2;
                chosen.insert(field.clone(), middle);
                match search.fails_with(&chosen, &kept) {
                    Some(found) => {
                        failing = middle;
                        (config, run) = found;
                        changed = true;
                    }
                    None => holding = middle,
                }
            }
            search.chosen.insert(field.clone(), failing);
        }
        if !changed {
            break;
        }
    }
    let describe =
        |i: &usize| describe_fault(&drawn.config.faults[*i].action, drawn.config.faults[*i].at);
    let dropped = |field: &str| fault_of(field).is_some_and(|f| !search.kept.contains(&f));
    Some(Shrunk {
        seed,
        faults_kept: search.kept.iter().map(describe).collect(),
        faults_dropped: (0..drawn.config.faults.len())
            .filter(|f| !search.kept.contains(f))
            .map(|f| describe(&f))
            .collect(),
        times: drawn
            .draws
            .iter()
            .filter(|d| !dropped(&d.field))
            .map(|d| (d.field.clone(), d.value, search.chosen[&d.field]))
            .collect(),
        runs: search.runs,
        mismatches: property.check(&run.report),
        run,
        config,
    })
}

/// The index of the fault a field belongs to (`spec.faults[2].at` is 2's).
fn fault_of(field: &str) -> Option<usize> {
    field
        .strip_prefix("spec.faults[")?
        .split_once(']')?
        .0
        .parse()
        .ok()
}

fn describe_fault(action: &FaultAction, at: Duration) -> String {
    format!("{action} at {}", stallsim_harness::format_duration(at))
}

/// The state of a shrink: the values chosen and the faults kept so far.
struct Search<'a> {
    scenario: &'a Scenario,
    seed: u64,
    property: &'a Expect,
    runs: u32,
    chosen: BTreeMap<String, Duration>,
    /// Indices of the file's faults still in the world.
    kept: Vec<usize>,
}

impl Search<'_> {
    fn world(&self, chosen: &BTreeMap<String, Duration>, kept: &[usize]) -> WorldConfig {
        let mut config = self.scenario.world_with(self.seed, chosen).config;
        let mut index = 0;
        config.faults.retain(|_| {
            let keep = kept.contains(&index);
            index += 1;
            keep
        });
        config
    }

    fn current(&mut self) -> (WorldConfig, Run) {
        let config = self.world(&self.chosen.clone(), &self.kept.clone());
        self.runs += 1;
        let run = stallsim_harness::run(&config);
        (config, run)
    }

    /// The world with `chosen` and `kept`, and its run, if it still fails.
    fn fails_with(
        &mut self,
        chosen: &BTreeMap<String, Duration>,
        kept: &[usize],
    ) -> Option<(WorldConfig, Run)> {
        let config = self.world(chosen, kept);
        self.runs += 1;
        let run = stallsim_harness::run(&config);
        (!self.property.check(&run.report).is_empty()).then_some((config, run))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_name_their_fault() {
        assert_eq!(super::fault_of("spec.faults[2].at"), Some(2));
        assert_eq!(super::fault_of("spec.faults[10].down"), Some(10));
        assert_eq!(super::fault_of("spec.deletionFlow.deleteAt"), None);
    }
}

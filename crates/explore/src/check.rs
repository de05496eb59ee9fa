//! Checking a scenario's expectation under a few seeds, as `stallsim test`
//! does for every file.

use stallsim_scenario::{Expect, Scenario};

/// What the runs of [`check_seeds`] came to.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// The verdict name of the last run (`converges`, `stall`, ...).
    pub verdict: &'static str,
    /// Each seed whose run broke the expectation, with why, in seed order.
    pub failures: Vec<(u64, Vec<String>)>,
}

/// Runs `scenario` with `seeds` seeds from its own, one after the other,
/// and checks each run against `expect`.
pub fn check_seeds(scenario: &Scenario, expect: &Expect, seeds: u64) -> Checked {
    let mut checked = Checked {
        verdict: "",
        failures: Vec::new(),
    };
    for seed in scenario.seed()..scenario.seed().saturating_add(seeds) {
        let run = stallsim_harness::run(&scenario.world(seed).config);
        checked.verdict = run.report.verdict.name();
        let mismatches = expect.check(&run.report);
        if !mismatches.is_empty() {
            checked.failures.push((seed, mismatches));
        }
    }
    checked
}

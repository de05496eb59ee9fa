//! proptest over a scenario's ranged times, held to convergence: it finds
//! a stalling draw, and its shrinker (through `stallsim::proptest::times`)
//! moves every time down to where the stall window that `stallsim window`
//! finds for that time, the others held at the shrunk values, opens.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use stallsim::explore::WindowQuery;
use stallsim::Scenario;

/// Draws tried before one stalls; about half do.
const CASES: u32 = 16;
/// Shrinking steps allowed: about 17 bisection steps per time and round.
const SHRINK_STEPS_MAX: u32 = 400;
/// Grid of the windows compared with (their edges are bisected to the tick).
const WINDOW_GRID_POINTS: u32 = 6;

fn bundled(file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(file),
    )
    .expect("a bundled scenario")
}

/// The least stalling times proptest shrinks a stalling draw of `s` to,
/// each checked against its stall window.
fn shrink_and_compare_with_windows(s: &Scenario) -> BTreeMap<String, Duration> {
    let seed = s.seed();
    let config = Config {
        cases: CASES,
        max_shrink_iters: SHRINK_STEPS_MAX,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let found = runner.run(&stallsim::proptest::times(s), |times| {
        let verdict = s.run_with(seed, &times).report.verdict;
        if verdict.is_stall() {
            return Err(TestCaseError::fail(format!("{verdict:?}")));
        }
        Ok(())
    });
    let shrunk = match found {
        Err(TestError::Fail(_, shrunk)) => shrunk,
        other => panic!("some draw stalls: {other:?}"),
    };
    assert!(s.run_with(seed, &shrunk).report.verdict.is_stall());
    for (field, value) in &shrunk {
        let mut query = WindowQuery::new(field, seed, WINDOW_GRID_POINTS);
        query.held = shrunk.clone();
        query.held.remove(field);
        let window = s.window(&query).expect("a ranged field");
        if *value == window.range.0 {
            // It stalls at its least value: the window opens there.
            assert!(
                window
                    .stalling
                    .first()
                    .is_some_and(|w| w.0 == window.range.0),
                "{field} shrunk to {value:?}, but {window:#?}"
            );
            continue;
        }
        assert!(
            window
                .edges
                .iter()
                .any(|edge| edge.opens && edge.below < *value && *value <= edge.above),
            "{field} shrunk to {value:?}, not at an opening edge of {window:#?}"
        );
        // One millisecond lower, the others held, the run holds.
        let mut lower = shrunk.clone();
        lower.insert(field.clone(), *value - Duration::from_millis(1));
        assert!(!s.run_with(seed, &lower).report.verdict.is_stall());
    }
    shrunk
}

#[test]
fn the_deletion_shrinks_to_where_its_stall_window_opens() {
    // The incident with only the deletion ranged: its window opens when
    // grm-1's discovery (about 42s) finds Prometheus still served.
    let text =
        bundled("grm-deletion-stall.yaml").replace("    deleteAt: 60s", "    deleteAt: 30s..2m");
    let s =
        Scenario::parse("incident-deletion-ranged.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    let shrunk = shrink_and_compare_with_windows(&s);
    let deleted = shrunk["spec.deletionFlow.deleteAt"];
    assert!(
        Duration::from_millis(41_400) < deleted && deleted < Duration::from_millis(41_500),
        "{deleted:?}"
    );
}

#[test]
fn the_ranged_incident_shrinks_to_the_least_draw_that_stalls() {
    let s = Scenario::parse(
        "grm-deletion-stall-ranged.yaml",
        &bundled("grm-deletion-stall-ranged.yaml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let shrunk = shrink_and_compare_with_windows(&s);
    assert_eq!(shrunk.len(), 3, "{shrunk:?}");
    // grm-1 starting at 20s discovers before a deletion at 30s, and leads
    // once grm-0 is lost at 40s: every time at the least of its range.
    let secs = Duration::from_secs;
    assert_eq!(
        shrunk,
        BTreeMap::from([
            ("spec.deletionFlow.deleteAt".to_string(), secs(30)),
            ("spec.faults[0].at".to_string(), secs(40)),
            ("spec.replicas[1].startAt".to_string(), secs(20)),
        ])
    );
}

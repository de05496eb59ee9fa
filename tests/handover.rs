//! After a graceful restart of a synced leader, the lease goes to whoever
//! asks first: the restarted process, seconds later, or the other replica
//! on its next retry. With a node's restart timing the other replica wins
//! most of the time, and when its mapper predates the deletion it stalls.

use std::path::Path;

/// Seeds tried, and how many of them must hand the lease to the stale replica.
const SEEDS: u64 = 30;
const STALLS_MIN: usize = 24;

#[test]
fn a_stale_replica_takes_the_released_lease_and_stalls_in_most_seeds() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/graceful-restart-hands-over-to-stale-replica.yaml");
    let scenario = stallsim_scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut outcomes = Vec::new();
    for seed in 1..=SEEDS {
        let report = stallsim_harness::run(&scenario.world(seed).config).report;
        let stalled = match &report.verdict {
            stallsim_harness::Verdict::Stall(stall) => Some(stall.replica.clone()),
            _ => None,
        };
        outcomes.push((seed, report.verdict.name(), stalled));
    }
    let grm1_stalls = outcomes
        .iter()
        .filter(|(_, _, stalled)| stalled.as_deref() == Some("grm-1"))
        .count();
    assert!(
        grm1_stalls >= STALLS_MIN,
        "grm-1 stalled in {grm1_stalls} of {SEEDS} seeds, expected at least {STALLS_MIN}: {outcomes:?}"
    );
    // The others are not another failure: the restarted leader won and converged.
    for (seed, verdict, stalled) in &outcomes {
        assert!(
            stalled.as_deref() == Some("grm-1") || *verdict == "converges",
            "seed {seed}: {verdict} {stalled:?}"
        );
    }
}

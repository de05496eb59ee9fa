//! Shrinking a failing run: faults it does not need are dropped, and a
//! ranged time moves to the least value that still fails.

use std::path::Path;
use std::time::Duration;

use stallsim_explore::{property_of, shrink};

#[test]
fn a_stall_shrinks_to_the_graceful_handover_and_the_earliest_deletion() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/three-faults-ranged.yaml");
    let scenario = stallsim_scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    // No `expect`: held to convergence, as every exploration of it is.
    let (property, from_file) = property_of(&scenario);
    assert!(!from_file);
    // Seed 4 draws the deletion at about 1m2s, inside the stall window.
    let shrunk = shrink(&scenario, 4, &property).expect("seed 4 stalls");
    assert!(!shrunk.mismatches.is_empty());
    assert!(shrunk.run.report.verdict.is_stall(), "{shrunk:#?}");
    // The partition and the kill are not needed: the graceful restart of
    // the leader at 3m hands the lease to grm-1, whose discovery is stale.
    assert_eq!(
        shrunk.faults_kept,
        ["restart grm-0 at 3m0.000s"],
        "{shrunk:#?}"
    );
    assert_eq!(shrunk.faults_dropped.len(), 2, "{shrunk:#?}");
    // The deletion moves down to the window's lower edge: just before
    // grm-1's discovery, less the CRD's removal and the discovery lag.
    let [(field, drawn, least)] = shrunk.times.as_slice() else {
        panic!("one ranged time: {shrunk:#?}")
    };
    assert_eq!(field, "spec.deletionFlow.deleteAt");
    assert!(*drawn > Duration::from_secs(60), "{shrunk:#?}");
    assert!(
        Duration::from_secs(41) < *least && *least < Duration::from_millis(42_500),
        "{shrunk:#?}"
    );
    // The shrunk world is one the seed replays: the same verdict again.
    let again = stallsim_harness::run(&shrunk.config);
    assert_eq!(again.report.verdict, shrunk.run.report.verdict);
    // A run that holds the property has nothing to shrink.
    assert!(shrink(&scenario, 2, &property).is_none());
}

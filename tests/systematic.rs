//! Systematic coverage of the incident: moving the deletion across the
//! stale replica's discovery forces both orders of the two. Runs with the
//! deletion after the discovery stall, and so do those with it just
//! before: the terminating CRD is still discovered.

use std::path::Path;

use stallsim_explore::{systematic, Combinations, SystematicQuery};
use stallsim_scenario::Expect;

#[test]
fn moving_the_deletion_forces_both_orders_around_discovery() {
    let incident = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/grm-deletion-stall.yaml"),
    )
    .unwrap();
    // grm-1 discovers about 2s after its start at 40s.
    let ranged = incident.replace("    deleteAt: 60s", "    deleteAt: 40s..44s");
    assert_ne!(ranged, incident, "the incident names its deletion time");
    let scenario = stallsim_scenario::parse(Path::new("systematic.yaml"), &ranged)
        .unwrap_or_else(|e| panic!("{e}"));
    // Held to convergence, not to the file's expectation of a stall.
    let property = Expect::converges();
    let query = |jobs| SystematicQuery {
        seed: 1,
        grid_points: 3,
        combinations_max: 64,
        jobs,
    };
    let found = systematic(&scenario, &property, &query(2)).expect("deleteAt is a range");
    let [axis] = found.axes.as_slice() else {
        panic!("one ranged time: {found:#?}")
    };
    let before = |events: &[String], a: &str, b: &str| {
        let at = |name: &str| events.iter().position(|e| e.starts_with(name));
        at(a).zip(at(b)).is_some_and(|(a, b)| a < b)
    };
    let first = axis.segments.first().unwrap();
    let last = axis.segments.last().unwrap();
    assert!(
        before(&first.ordering, "CRDs deleted", "grm-1 discovers") && first.failed == 0,
        "{found:#?}"
    );
    assert!(
        before(&last.ordering, "grm-1 discovers", "CRDs deleted") && last.failed == last.runs,
        "{found:#?}"
    );
    // A deletion just before the discovery stalls too: the CRD is still
    // served while it terminates. The edge is found to the tick.
    let edge = axis
        .segments
        .windows(2)
        .find(|pair| pair[0].failed == 0 && pair[1].failed > 0)
        .expect("a holding segment next to a failing one");
    assert!(edge[1].from - edge[0].to <= found.resolution, "{found:#?}");
    assert!(matches!(found.combinations, Combinations::Run { .. }));
    let discovery = found
        .relations
        .iter()
        .find(|r| r.first == "CRDs deleted" && r.second == "grm-1 discovers")
        .expect("the pair is seen");
    assert!(discovery.forward && discovery.backward, "{discovery:?}");
    let unreached: Vec<String> = found
        .relations
        .iter()
        .filter_map(|r| r.unreached())
        .collect();
    assert!(
        unreached.contains(&"CRDs deleted before grm-0 discovers".to_string()),
        "grm-0 discovers at once, long before 40s: {unreached:#?}"
    );
    // Threads change nothing.
    let alone = systematic(&scenario, &property, &query(1)).unwrap();
    assert_eq!(format!("{alone:?}"), format!("{found:?}"));
}

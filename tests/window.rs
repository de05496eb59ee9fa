//! The stall window of the incident: moving only the deletion, the runs
//! stall exactly while the deletion falls between the stale replica's
//! discovery and its garbage collector's first LIST of Prometheus.

use std::path::Path;
use std::time::Duration;

use stallsim_explore::{stall_window, WindowQuery};

#[test]
fn the_incidents_window_is_opened_by_discovery_and_closed_by_the_first_list() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/grm-deletion-window.yaml");
    let scenario = stallsim_scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let incident = stallsim_scenario::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/grm-deletion-stall.yaml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The bundled window file is the incident with only its deletion open.
    let moved = scenario.world(1).config;
    let fixed = incident.world(1).config;
    assert_eq!(moved.replicas, fixed.replicas);
    assert_eq!(moved.faults, fixed.faults);
    let query = WindowQuery::new("spec.deletionFlow.deleteAt", 1, 6);
    let window = stall_window(&scenario, &query).expect("deleteAt is a range");
    let secs = Duration::from_secs_f64;
    assert_eq!(window.stalling.len(), 1, "{window:#?}");
    let (opens, closes) = window.stalling[0];
    // grm-1's container starts at 40s and its process discovers about 2s
    // later; a CRD deleted up to ~0.6s before that is still discovered.
    assert!(secs(41.0) < opens && opens < secs(42.5), "{window:#?}");
    // grm-1 leads about 15s after grm-0's last renewal before the kill at
    // 50s and lists Prometheus at once; a CRD deleted a fraction of a
    // second before is still served (Terminating).
    assert!(secs(64.0) < closes && closes < secs(67.0), "{window:#?}");
    let [open, close] = window.edges.as_slice() else {
        panic!("two edges: {window:#?}")
    };
    assert!(open.opens && !close.opens);
    for edge in &window.edges {
        assert!(edge.above - edge.below <= window.resolution, "{edge:?}");
    }
    let stalls_with = open.stalls_with.as_deref().unwrap_or_default();
    assert!(
        stalls_with.starts_with("grm-1 discovery finds")
            && stalls_with.contains("prometheuses.monitoring.coreos.com"),
        "{window:#?}"
    );
    assert!(
        !open
            .holds_with
            .as_deref()
            .unwrap_or_default()
            .contains("prometheuses"),
        "{window:#?}"
    );
    assert!(
        close
            .holds_with
            .as_deref()
            .unwrap_or_default()
            .contains("first LIST of monitoring.coreos.com/v1, Kind=Prometheus succeeds"),
        "{window:#?}"
    );
    assert!(
        close
            .stalls_with
            .as_deref()
            .unwrap_or_default()
            .contains("first LIST of monitoring.coreos.com/v1, Kind=Prometheus fails: NotFound"),
        "{window:#?}"
    );
}

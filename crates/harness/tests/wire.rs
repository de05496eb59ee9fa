//! On the wire: in a world where no process dies, no TCP segment is ever
//! answered with a reset, even under a latency spread. turmoil-net resets a
//! connection dropped with unread bytes, so this holds only if every part
//! reads its peer's side to the end before closing. Segments are counted
//! by the network as it sends them (`stallsim-net`'s own tests show the
//! count sees resets).

use std::time::Duration;

use stallsim_harness::{CrdSpec, DeletionFlowConfig, Verdict, What, WorldConfig, WorldEvent};

/// The incident's world without its fault: both replicas run throughout,
/// the CRDs are deleted, and every message takes 1ms to 150ms.
fn spread_world(seed: u64) -> WorldConfig {
    let defaults = WorldConfig::default();
    let mut config = WorldConfig {
        name: "latency-spread".to_string(),
        seed,
        flow: Some(DeletionFlowConfig::new(
            Duration::from_secs(60),
            defaults.crds.iter().map(CrdSpec::name).collect(),
        )),
        ..defaults
    };
    config.network.latency_min = Duration::from_millis(1);
    config.network.latency_max = Duration::from_millis(150);
    config
}

#[test]
fn a_world_where_no_process_dies_resets_nothing_on_the_wire() {
    for seed in [1, 2] {
        let run = stallsim_harness::run(&spread_world(seed));
        let timeline = stallsim_harness::render_timeline(&run.trace);
        let died = run.trace.iter().any(|e| {
            matches!(
                e.what,
                What::World(WorldEvent::ContainerExited | WorldEvent::ContainerKilled { .. })
            )
        });
        assert!(!died, "seed {seed}: a process died:\n{timeline}");
        assert_eq!(run.report.verdict, Verdict::Converges, "{timeline}");
        let syns = run.segments.syns;
        assert!(
            syns > 100,
            "seed {seed}: only {syns} SYNs seen; are segments still counted?"
        );
        let resets = run.segments.resets;
        assert_eq!(
            resets, 0,
            "seed {seed}: {resets} RSTs in {syns} connections"
        );
    }
}

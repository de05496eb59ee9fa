//! The controller inside stallsim, through its public API: under the
//! bundled faults it converges; with its CRD deleted and its leader lost
//! the standby's store never syncs (Design::WaitForStore), a stall
//! explored, windowed, shrunk and drawn, which Design::CheckServed avoids;
//! a seed replays byte-identically.

use std::path::Path;
use std::time::Duration;

use stallsim::explore::WindowQuery;
use stallsim::{Scenario, Verdict};
use widget_controller::simulation::{controller, maker};
use widget_controller::Design;

/// A scenario of this crate with the programs it names bound.
fn scenario(file: &str, design: Design) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let mut s = Scenario::from_file(path).and_then(|s| s.program(controller(design)));
    if s.as_ref()
        .is_ok_and(|s| s.unbound_programs().contains(&"widget-maker".to_string()))
    {
        s = s.and_then(|s| s.program(maker(3)));
    }
    s.unwrap_or_else(|e| panic!("{e}"))
}

const RUNS: u64 = 32;

#[test]
fn it_converges_under_the_bundled_faults_in_every_run() {
    let s = scenario("widgets-under-faults.yaml", Design::WaitForStore);
    let e = s.explore().runs(RUNS).run().unwrap();
    let verdicts = e.verdicts();
    eprintln!("under faults: {verdicts:?}");
    assert_eq!(verdicts.converges.count, RUNS, "{:#?}", e.failures());
}

#[test]
fn a_leader_after_the_crd_is_gone_stalls_and_the_check_avoids_it() {
    let stalls = scenario("widgets-crd-deleted.yaml", Design::WaitForStore);
    let fixed = scenario("widgets-crd-deleted.yaml", Design::CheckServed);
    let e = stalls.explore().runs(RUNS).run().unwrap();
    let f = fixed.explore().runs(RUNS).run().unwrap();
    eprintln!("stalls: {:?}\nfixed: {:?}", e.verdicts(), f.verdicts());
    // Both outcomes come: the stall is a race, not a certainty.
    assert!(e.stall_rate().count > 0 && e.verdicts().converges.count > 0);
    assert_eq!(f.verdicts().converges.count, RUNS, "{:#?}", f.failures());

    // A stalling seed: the standby leads and its store never syncs.
    let seed = *e.failures().keys().next().unwrap();
    let run = stalls.run(seed);
    let Verdict::Stall(stall) = &run.report.verdict else {
        panic!("{:?}", run.report.verdict)
    };
    assert_eq!(stall.replica, "wc-1");
    let why = stall.last_probe.as_deref().unwrap_or_default();
    assert!(why.contains("store not synced"), "{why}");
    // The same seed with the check converges.
    assert_eq!(fixed.run(seed).report.verdict, Verdict::Converges);

    // Its edge: moving only the deletion, the runs stall while the CRD is
    // gone before the standby leads.
    let window = stalls
        .window(&WindowQuery::new("spec.deletionFlow.deleteAt", seed, 6))
        .unwrap();
    // One stalling range, from the range's start until the standby takes
    // the lease: the node loss, plus the 15s lease duration after wc-0's
    // last renewal (at most 2s before), plus at most one 2s retry period.
    let [(from, to)] = window.stalling.as_slice() else {
        panic!("one stalling range: {window:#?}")
    };
    assert_eq!(*from, window.range.0, "{window:#?}");
    let node_loss = stalls
        .world(seed)
        .draws
        .iter()
        .find(|d| d.field == "spec.faults[0].at")
        .unwrap()
        .value;
    let secs = Duration::from_secs;
    assert!(
        node_loss + secs(13) < *to && *to < node_loss + secs(17) + secs(2),
        "{window:#?} {node_loss:?}"
    );

    // Shrunk: the node loss is kept, the deletion moved to its least value.
    let shrunk = stalls.shrink(seed, &stalls.property()).unwrap();
    assert!(shrunk.run.report.verdict.is_stall());
    assert_eq!(shrunk.faults_kept.len(), 1, "{shrunk:#?}");
    assert!(
        shrunk.faults_kept[0].starts_with("node loss of wc-0"),
        "{shrunk:#?}"
    );
    for (field, _, least) in &shrunk.times {
        // Every time moves to the least of its range: the stall needs only
        // the order (deletion before the takeover), and it holds there.
        let draws = stalls.world(seed).draws;
        let drawn = draws.iter().find(|d| &d.field == field).unwrap();
        assert_eq!(*least, drawn.range.0, "{shrunk:#?}");
    }

    // Drawn: the timeline names the stalled pod.
    let svg = stallsim::show::svg(stalls.path(), &shrunk.config, &shrunk.run);
    assert!(svg.starts_with("<svg") && svg.contains("wc-1"));
}

#[test]
fn a_seed_replays_byte_identically() {
    let s = scenario("widgets-under-faults.yaml", Design::WaitForStore);
    let trace = |seed| serde_json::to_string(&s.run(seed).trace).unwrap();
    let first = trace(7);
    assert_eq!(first, trace(7));
    assert_ne!(first, trace(8));
}

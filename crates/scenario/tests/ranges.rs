//! Ranges: a time written `least..greatest` is drawn per run under its seed,
//! replays exactly, and a run's file can be written with its draws fixed.

use std::path::Path;
use std::time::Duration;

use stallsim_harness::FaultAction;
use stallsim_scenario::{parse, Scenario};

const RANGED: &str = "\
apiVersion: stallsim/v1alpha1
kind: Scenario
metadata:
  name: ranged
spec:
  replicas:
    - {name: grm-0, startAt: 0s}
    - {name: grm-1, startAt: \"20s..55s\"}   # quoted or not
  deletionFlow:
    deleteAt: 30s..90s
  faults:
    - {at: 40s..60s, kill: grm-0, down: 1m..3m}
  expect:
    verdict: stall
";

fn ranged() -> Scenario {
    parse(Path::new("ranged.yaml"), RANGED).unwrap_or_else(|e| panic!("{e}"))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn each_run_draws_within_the_ranges_and_replays_its_draws() {
    let scenario = ranged();
    let mut delete_ats = std::collections::BTreeSet::new();
    for seed in 1..=50 {
        let drawn = scenario.world(seed);
        assert_eq!(drawn, scenario.world(seed), "seed {seed} replays");
        assert_eq!(drawn.config.seed, seed);
        let fields: Vec<&str> = drawn.draws.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.replicas[1].startAt",
                "spec.deletionFlow.deleteAt",
                "spec.faults[0].at",
                "spec.faults[0].down"
            ]
        );
        for draw in &drawn.draws {
            assert!(
                draw.range.0 <= draw.value && draw.value <= draw.range.1,
                "{draw}"
            );
            assert_eq!(draw.value.subsec_nanos() % 1_000_000, 0, "whole ms: {draw}");
        }
        let config = &drawn.config;
        let delete_at = config.flow.as_ref().unwrap().delete_at;
        assert!((secs(30)..=secs(90)).contains(&delete_at));
        assert!((secs(20)..=secs(55)).contains(&config.replicas[1].start_at));
        let FaultAction::Kill { down, .. } = &config.faults[0].action else {
            panic!("a kill")
        };
        assert!((secs(60)..=secs(180)).contains(down));
        delete_ats.insert(delete_at);
    }
    assert!(
        delete_ats.len() > 40,
        "50 seeds draw {} values",
        delete_ats.len()
    );
}

#[test]
fn a_fields_draw_does_not_depend_on_the_other_ranges() {
    let fixed_start = RANGED.replace("startAt: \"20s..55s\"", "startAt: 40s");
    let other = parse(Path::new("other.yaml"), &fixed_start).unwrap();
    for seed in 1..=10 {
        let delete_at = |s: &Scenario| s.world(seed).config.flow.unwrap().delete_at;
        assert_eq!(delete_at(&ranged()), delete_at(&other), "seed {seed}");
    }
}

#[test]
fn a_file_without_ranges_draws_nothing() {
    let plain = RANGED
        .replace("\"20s..55s\"", "40s")
        .replace("30s..90s", "60s")
        .replace("40s..60s", "50s")
        .replace("1m..3m", "2m");
    let scenario = parse(Path::new("plain.yaml"), &plain).unwrap();
    assert!(scenario.world(7).draws.is_empty());
    assert_eq!(scenario.world(7).config.flow.unwrap().delete_at, secs(60));
}

#[test]
fn a_runs_file_is_self_contained() {
    let scenario = ranged();
    for seed in [1, 2, 77] {
        let text = scenario.fixed_text(seed).unwrap_or_else(|e| panic!("{e}"));
        let fixed = parse(Path::new("fixed.yaml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(fixed.seed(), seed, "{text}");
        assert!(fixed.world(seed).draws.is_empty(), "{text}");
        assert_eq!(fixed.config(), scenario.world(seed).config, "{text}");
        assert!(text.contains("# quoted or not"), "comments stay: {text}");
    }
    // A file that names its seed gets it replaced, not a second one.
    let seeded = RANGED.replace("spec:\n", "spec:\n  seed: 5\n");
    let text = parse(Path::new("s.yaml"), &seeded)
        .unwrap()
        .fixed_text(9)
        .unwrap();
    assert_eq!(text.matches("seed:").count(), 1, "{text}");
    assert!(text.contains("  seed: 9\n"), "{text}");
}

#[test]
fn bad_ranges_are_located() {
    let cases = [
        (
            RANGED.replace("30s..90s", "90s..30s"),
            "ranged.yaml:10:15: field `spec.deletionFlow.deleteAt`: the range `90s..30s` ends before it starts; expected a duration like 15s, 3m, 1m30s or 800ms, or a range like 30s..50s",
        ),
        (
            RANGED.replace("30s..90s", "30s..25m"),
            "ranged.yaml:10:15: field `spec.deletionFlow.deleteAt`: 25m is not within the run of 20m; expected a time before spec.duration",
        ),
        (
            RANGED.replace("30s..90s", "30s..soon"),
            "field `spec.deletionFlow.deleteAt`: the range `30s..soon` ends badly: `soon` is not a duration",
        ),
        (
            RANGED.replace("kill: grm-0, down: 1m..3m", "partition: grm-0, for: 0s..10s"),
            "field `spec.faults[0].for`: `0s` is not accepted here",
        ),
    ];
    for (text, expected) in cases {
        let error = parse(Path::new("ranged.yaml"), &text)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{error}\nlacks\n{expected}");
    }
}

#[test]
fn a_probe_phase_is_a_time_like_any_other() {
    let text = RANGED.replace(
        "    - {name: grm-0, startAt: 0s}",
        "    - {name: grm-0, startAt: 0s, probePhase: 0s..10s}",
    );
    let scenario = parse(Path::new("phase.yaml"), &text).unwrap_or_else(|e| panic!("{e}"));
    let mut phases = std::collections::BTreeSet::new();
    for seed in 1..=20 {
        let drawn = scenario.world(seed);
        let draw = &drawn.draws[0];
        assert_eq!(draw.field, "spec.replicas[0].probePhase");
        assert_eq!(drawn.config.replicas[0].probe_phase, Some(draw.value));
        assert!(draw.value <= secs(10));
        phases.insert(draw.value);
        // A replica without one leaves the phase to the seed.
        assert_eq!(drawn.config.replicas[1].probe_phase, None);
    }
    assert!(phases.len() > 10, "draws vary: {phases:?}");
    let fixed = parse(Path::new("fixed.yaml"), &text.replace("0s..10s", "2500ms"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        fixed.world(1).config.replicas[0].probe_phase,
        Some(Duration::from_millis(2500))
    );
}

/// Every duration field, not only the scheduled times, may be a range:
/// drawn per run under the seed and the field's name, and written back by
/// `fixed_text`.
#[test]
fn any_duration_field_may_be_a_range_drawn_per_run_and_written_back() {
    let text = "\
apiVersion: stallsim/v1alpha1
kind: Scenario
metadata:
  name: ranged-constants
spec:
  kubelet:
    processStart: 1s..4s
  apiServer: {discoveryLag: 100ms..2s}
  manager:
    clientGo: v0.36
    gracefulShutdownTimeout: 1s..10s
";
    let scenario =
        parse(Path::new("ranged-constants.yaml"), text).unwrap_or_else(|e| panic!("{e}"));
    let mut starts = std::collections::BTreeSet::new();
    for seed in 1..=20 {
        let drawn = scenario.world(seed);
        let fields: Vec<&str> = drawn.draws.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.apiServer.discoveryLag",
                "spec.manager.gracefulShutdownTimeout",
                "spec.kubelet.processStart"
            ]
        );
        let config = &drawn.config;
        assert!((secs(1)..=secs(4)).contains(&config.kubelet.process_start));
        assert!((secs(1)..=secs(10)).contains(&config.manager.graceful_shutdown_timeout));
        assert_eq!(
            config.manager.reflector.backoff.reset,
            stallsim_harness::manager::BackoffReset::Periodic,
            "v0.36 resets on a timer"
        );
        starts.insert(config.kubelet.process_start);
        let fixed = scenario.fixed_text(seed).unwrap_or_else(|e| panic!("{e}"));
        let again = parse(Path::new("fixed.yaml"), &fixed).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.world(seed).config, drawn.config, "{fixed}");
        assert!(again.world(seed).draws.is_empty(), "{fixed}");
    }
    assert!(starts.len() > 15, "{starts:?}");
}

/// `--estimates plausible`: every estimated constant the file leaves unset
/// is drawn from its plausible range, and the copy of a run written back
/// names each draw as a field, whatever shape the file's sections have.
#[test]
fn estimated_constants_are_drawn_and_written_back_into_any_shape_of_file() {
    let shapes = [
        // no section of an estimated field
        "spec:\n  duration: 20m\n  deletionFlow: {deleteAt: 1m}\n",
        // block sections, one of them setting an estimate itself
        "spec:\n  kubelet:\n    processStart: 3s\n  network:\n    latencyMax: 10ms\n  deletionFlow:\n    deleteAt: 30s..90s\n",
        // flow sections, one empty
        "spec:\n  apiServer: {}\n  kubelet: {terminationGracePeriod: 20s}\n  deletionFlow: {deleteAt: 1m}\n",
    ];
    for (i, spec) in shapes.iter().enumerate() {
        let text = format!(
            "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata:\n  name: shape\n{spec}"
        );
        let scenario = parse(Path::new("shape.yaml"), &text).unwrap_or_else(|e| panic!("{e}"));
        let unset: Vec<&str> = scenario.estimated().iter().map(|e| e.field).collect();
        if i == 1 {
            assert!(
                !unset.contains(&"spec.kubelet.processStart"),
                "the file chose it"
            );
            assert!(
                !unset.contains(&"spec.network.latencyMax"),
                "the file chose it"
            );
        } else {
            assert_eq!(unset.len(), stallsim_scenario::ESTIMATES.len(), "{unset:?}");
        }
        for seed in [1, 2, 3] {
            let drawn = scenario.world_estimated(seed);
            let estimated: Vec<_> = drawn.draws.iter().filter(|d| d.estimated).collect();
            assert_eq!(estimated.len(), unset.len());
            for draw in &estimated {
                assert!(
                    draw.range.0 <= draw.value && draw.value <= draw.range.1,
                    "{draw}"
                );
            }
            assert_eq!(drawn, scenario.world_estimated(seed), "seed {seed} replays");
            let fixed = scenario
                .fixed_text_estimated(seed)
                .unwrap_or_else(|e| panic!("shape {i}: {e}"));
            let again =
                parse(Path::new("fixed.yaml"), &fixed).unwrap_or_else(|e| panic!("{e}\n{fixed}"));
            assert_eq!(
                again.world(seed).config,
                drawn.config,
                "shape {i}:\n{fixed}"
            );
        }
        assert_ne!(
            scenario.world_estimated(1).config,
            scenario.world(1).config,
            "the draws change the world"
        );
    }
}

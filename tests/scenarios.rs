//! Every bundled scenario file is a test: its `expect` must hold.

use std::path::{Path, PathBuf};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn check(file: &str) {
    let path = scenarios_dir().join(file);
    let scenario = stallsim_scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
    let run = stallsim_harness::run(&scenario.config);
    let expect = scenario
        .expectation()
        .unwrap_or_else(|error| panic!("{error}"));
    let mismatches = expect.check(&run.report);
    assert!(
        mismatches.is_empty(),
        "{file}: {}\nreplay: cargo run --release -- run scenarios/{file} --seed {}",
        mismatches.join("; "),
        run.report.seed
    );
}

macro_rules! scenario_tests {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($file);
            }
        )*
        const TESTED: &[&str] = &[$($file),*];
    };
}

scenario_tests! {
    incident_stalls => "grm-deletion-stall.yaml",
    graceful_restart_hands_over_to_a_stale_replica => "graceful-restart-hands-over-to-stale-replica.yaml",
    liveness_deadline_converges => "grm-deletion-stall-fixed.yaml",
    liveness_deadline_leaders_stall_in_turn => "fixed-leaders-stall-in-turn.yaml",
    deletion_before_start_converges => "crds-deleted-before-start.yaml",
    deletion_after_sync_converges => "crds-deleted-after-sync.yaml",
    ignore_not_found_alone_still_stalls => "mitigation-ignore-not-found.yaml",
    rediscovery_on_leadership_converges => "mitigation-rediscover-on-leadership.yaml",
    not_found_list_as_empty_converges => "mitigation-not-found-list-is-empty.yaml",
    lazy_informer_timeout_alone_still_stalls => "mitigation-lazy-informer-sync-timeout.yaml",
    watch_source_exits_on_cache_sync_timeout => "watch-source-cache-sync-timeout.yaml",
    lazy_discovery_converges => "lazy-discovery.yaml",
}

#[test]
fn every_bundled_scenario_has_a_test() {
    let dir = scenarios_dir();
    let mut found: Vec<String> = stallsim_scenario::discover(&dir)
        .expect("scenarios/ is readable")
        .iter()
        .map(|p| {
            p.strip_prefix(&dir)
                .expect("under scenarios/")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    found.sort();
    let mut tested: Vec<String> = TESTED.iter().map(|s| s.to_string()).collect();
    tested.sort();
    assert_eq!(
        found, tested,
        "add a line to scenario_tests! for each new scenario file"
    );
}

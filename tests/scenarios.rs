//! Every bundled scenario file is a test: its `expect` must hold, as
//! written and under a wide latency spread.

use std::path::{Path, PathBuf};
use std::time::Duration;

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// How `report` differs from the scenario's `expect`, which it must have.
fn mismatches_of(
    scenario: &stallsim_scenario::Scenario,
    report: &stallsim_harness::Report,
) -> Vec<String> {
    scenario
        .expectation()
        .unwrap_or_else(|error| panic!("{error}"))
        .check(report)
}

/// The run's verdict and key-event timeline, snapshotted per file
/// (`tests/snapshots/`), so that a change in behaviour shows in review:
/// `cargo insta review` accepts it, CI (`INSTA_UPDATE=no`) fails on it.
fn snapshot_timeline(file: &str, run: &stallsim_harness::Run) {
    let name = file.trim_end_matches(".yaml");
    let mut text = format!(
        "verdict: {}\n{}",
        run.report.verdict.name(),
        stallsim_harness::render_timeline(&run.trace)
    );
    // A file with a simulated Prometheus: when each alert went pending and
    // fired (none of the others has one, so their snapshots stay as they were).
    for alert in &run.report.alerts {
        let at = |t: Option<std::time::Duration>| {
            t.map_or("never".to_string(), stallsim_harness::format_duration)
        };
        text.push_str(&format!(
            "alert {}: pending {}, firing {}\n",
            alert.alert,
            at(alert.pending_at),
            at(alert.firing_at)
        ));
    }
    insta::assert_snapshot!(name, text);
}

fn check(file: &str) {
    let path = scenarios_dir().join(file);
    let scenario = stallsim_scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
    let run = stallsim_harness::run(&scenario.world(scenario.seed()).config);
    snapshot_timeline(file, &run);
    let mismatches = mismatches_of(&scenario, &run.report);
    assert!(
        mismatches.is_empty(),
        "{file}: {}\nreplay: cargo run --release -- run scenarios/{file} --seed {}",
        mismatches.join("; "),
        run.report.seed
    );
}

/// What a real network does not do to TCP under jitter, as transport
/// errors read in a trace (lowercased).
const RESET_LIKE: &[&str] = &[
    "connection reset",
    "broken pipe",
    "connection closed",
    "not connected",
];

/// Seeds per scenario under the latency spread, from the scenario's own.
const SPREAD_SEEDS: u64 = 3;

/// Every message takes between 1ms and 150ms, so the segments of one
/// connection overtake each other. TCP delivers them late but in order and
/// resets nothing: no request may fail with a reset, and each `expect` holds.
fn check_under_latency_spread(file: &str) {
    let path = scenarios_dir().join(file);
    let scenario = stallsim_scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
    for offset in 0..SPREAD_SEEDS {
        let mut config = scenario.world(scenario.seed().wrapping_add(offset)).config;
        config.network.latency_min = Duration::from_millis(1);
        config.network.latency_max = Duration::from_millis(150);
        let run = stallsim_harness::run(&config);
        let replay = format!(
            "replay: add `network: {{latencyMin: 1ms, latencyMax: 150ms}}` to scenarios/{file}, \
             then cargo run --release -- run <copy> --seed {}",
            config.seed
        );
        let resets: Vec<String> = run
            .trace
            .iter()
            .map(|event| event.to_json_line())
            .filter(|line| {
                let line = line.to_lowercase();
                RESET_LIKE.iter().any(|error| line.contains(error))
            })
            .collect();
        assert!(
            resets.is_empty(),
            "{file} under a latency spread: {} transport errors, the first:\n{}\n{replay}",
            resets.len(),
            resets[..resets.len().min(5)].join("\n")
        );
        let mismatches = mismatches_of(&scenario, &run.report);
        assert!(
            mismatches.is_empty(),
            "{file} under a latency spread: {}\n{replay}",
            mismatches.join("; ")
        );
    }
}

/// Seeds per scenario with the kube-rs client, from the scenario's own.
const KUBE_CLIENT_SEEDS: u64 = 2;

/// The replicas talk through kube-rs's `kube::Client` over the server's HTTP
/// face instead of stallsim's REST client: each `expect` still holds, and the
/// same seed gives the same trace.
fn check_with_kube_client(file: &str) {
    let path = scenarios_dir().join(file);
    let scenario = stallsim_scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
    for offset in 0..KUBE_CLIENT_SEEDS {
        let mut config = scenario.world(scenario.seed().wrapping_add(offset)).config;
        config.client = stallsim_harness::ClientKind::Kube;
        let run = stallsim_harness::run(&config);
        let resets = run
            .trace
            .iter()
            .map(|event| event.to_json_line().to_lowercase())
            .filter(|line| RESET_LIKE.iter().any(|error| line.contains(error)))
            .count();
        assert_eq!(resets, 0, "{file} with the kube client: transport errors");
        let mismatches = mismatches_of(&scenario, &run.report);
        assert!(
            mismatches.is_empty(),
            "{file} with the kube client: {}\nreplay: add `manager: {{client: kube}}` to \
             scenarios/{file}, then cargo run --release -- run <copy> --seed {}",
            mismatches.join("; "),
            config.seed
        );
        if offset == 0 {
            let again = stallsim_harness::run(&config);
            assert!(
                run.trace == again.trace,
                "{file} with the kube client: seed {} gave two traces",
                config.seed
            );
        }
    }
}

/// The same with kube-runtime's informer too: a kube-rs controller in every
/// race the files pose reaches the file's verdict. The file's bounds on API
/// requests are not held to it: they state client-go's retry rate, which
/// kube-runtime's differs from by design (`tests/kube_runtime.rs`). A file
/// whose fix is client-go's own (`notFoundListIsEmpty`) runs without it,
/// since kube-runtime's watcher has no such switch: its race must stall.
fn check_with_kube_runtime(file: &str) {
    let path = scenarios_dir().join(file);
    let scenario = stallsim_scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
    let mut config = scenario.world(scenario.seed()).config;
    config.client = stallsim_harness::ClientKind::Kube;
    config.manager.reflector.library = stallsim_harness::manager::InformerLibrary::KubeRuntime;
    for component in &mut config.components {
        if let Some(manager) = component.process.manager_mut() {
            manager.reflector.library = stallsim_harness::manager::InformerLibrary::KubeRuntime;
        }
    }
    if config.manager.mitigations.not_found_list_is_empty {
        config.manager.mitigations.not_found_list_is_empty = false;
        let run = stallsim_harness::run(&config);
        assert_eq!(
            run.report.verdict.name(),
            "stall",
            "{file} with kube-runtime's informer, which has no notFoundListIsEmpty"
        );
        return;
    }
    let run = stallsim_harness::run(&config);
    let mut expect = scenario
        .expectation()
        .unwrap_or_else(|error| panic!("{error}"))
        .clone();
    expect.api_requests = None;
    let mismatches = expect.check(&run.report);
    assert!(
        mismatches.is_empty(),
        "{file} with kube-runtime's informer: {}\nreplay: add `manager: {{client: kube, \
         informer: kube-runtime}}` to scenarios/{file}, then cargo run --release -- run <copy> --seed {}",
        mismatches.join("; "),
        config.seed
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
        /// The same files with every message taking 1ms to 150ms.
        mod under_latency_spread {
            $(
                #[test]
                fn $test() {
                    super::check_under_latency_spread($file);
                }
            )*
        }
        /// The same files with the replicas on kube-rs's client.
        mod with_kube_client {
            $(
                #[test]
                fn $test() {
                    super::check_with_kube_client($file);
                }
            )*
        }
        /// The same files with the replicas on kube-rs's client and
        /// kube-runtime's informer.
        mod with_kube_runtime {
            $(
                #[test]
                fn $test() {
                    super::check_with_kube_runtime($file);
                }
            )*
        }
        const TESTED: &[&str] = &[$($file),*];
    };
}

scenario_tests! {
    incident_stalls => "grm-deletion-stall.yaml",
    ranged_liveness_deadline_converges => "grm-deletion-stall-fixed-ranged.yaml",
    graceful_restart_hands_over_to_a_stale_replica => "graceful-restart-hands-over-to-stale-replica.yaml",
    graceful_restart_race_rests_on_process_start => "graceful-restart-race-rests-on-process-start.yaml",
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
    kube_rs_controller_stalls => "kube-rs-controller-stalls.yaml",
    component_restart_loops_on_cache_sync_timeout => "component-cache-sync-timeout-restart-loop.yaml",
    component_without_election_stalls_every_replica => "component-without-election-all-replicas-stall.yaml",
    resource_manager_and_operator_in_one_run => "resource-manager-and-operator.yaml",
}

/// Bundled files without an `expect`, for exploring; each has its own test.
const EXPLORED: &[&str] = &[
    "grm-deletion-stall-ranged.yaml",
    "grm-deletion-window.yaml",
    "three-faults-ranged.yaml",
];

/// Files without an `expect` are snapshotted too, at their own seed.
#[test]
fn explored_scenarios_keep_their_timeline() {
    for file in EXPLORED {
        let path = scenarios_dir().join(file);
        let scenario = stallsim_scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
        let run = stallsim_harness::run(&scenario.world(scenario.seed()).config);
        snapshot_timeline(file, &run);
    }
}

/// The ranged incident is a race: among a few draws, some stall and some
/// converge, and the file's fixed twin converges on the same draws.
#[test]
fn the_ranged_incident_is_a_race_the_fix_closes() {
    let load = |file: &str| {
        stallsim_scenario::load(&scenarios_dir().join(file)).unwrap_or_else(|e| panic!("{e}"))
    };
    let ranged = load("grm-deletion-stall-ranged.yaml");
    let fixed = load("grm-deletion-stall-fixed-ranged.yaml");
    assert!(ranged.expectation().is_err(), "explored for convergence");
    let mut verdicts = Vec::new();
    for seed in 1..=6 {
        let drawn = ranged.world(seed);
        assert_eq!(drawn.draws.len(), 3, "three ranged times");
        assert_eq!(drawn.config.faults, fixed.world(seed).config.faults);
        verdicts.push(stallsim_harness::run(&drawn.config).report.verdict.name());
    }
    assert!(verdicts.contains(&"stall"), "{verdicts:?}");
    assert!(verdicts.contains(&"converges"), "{verdicts:?}");
}

/// Where `stallsim explore` saves the failing runs of a bundled scenario.
const REGRESSIONS: &str = "regressions";

#[test]
fn every_bundled_scenario_has_a_test() {
    let dir = scenarios_dir();
    let mut found: Vec<String> = stallsim_scenario::discover(&dir)
        .expect("scenarios/ is readable")
        .iter()
        .filter(|p| !p.starts_with(dir.join(REGRESSIONS)))
        .map(|p| {
            p.strip_prefix(&dir)
                .expect("under scenarios/")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    found.sort();
    let mut tested: Vec<String> = TESTED
        .iter()
        .chain(EXPLORED)
        .map(|s| s.to_string())
        .collect();
    tested.sort();
    assert_eq!(
        found, tested,
        "add a line to scenario_tests! for each new scenario file"
    );
}

/// Every failing run moved from `stallsim explore`'s `scenarios/found/`
/// into `scenarios/regressions/` is a test: its `expect` (explore writes
/// the property the run broke) must hold once the failure is fixed, as
/// `stallsim test scenarios/` checks it too.
#[test]
fn saved_regressions_hold_their_expectation() {
    let dir = scenarios_dir().join(REGRESSIONS);
    if !dir.is_dir() {
        return;
    }
    let mut failures = Vec::new();
    for path in stallsim_scenario::discover(&dir).expect("regressions/ is readable") {
        let scenario = stallsim_scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
        // `explore` writes the property a saved run broke into the file;
        // one without an `expect` would assert nothing.
        let expect = scenario
            .expectation()
            .cloned()
            .unwrap_or_else(|error| panic!("a regression states what it must hold: {error}"));
        let run = stallsim_harness::run(&scenario.config());
        let mismatches = expect.check(&run.report);
        if !mismatches.is_empty() {
            let file = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(&path);
            failures.push(format!(
                "{}: {}\nreplay: cargo run --release -- run {}",
                file.display(),
                mismatches.join("; "),
                file.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

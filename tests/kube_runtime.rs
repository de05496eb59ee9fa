//! kube-runtime's watcher against a LIST that answers 404: it retries every
//! 0.8s to 1.6s for ever, because each retry starts with an `Event::Init`
//! that resets its backoff; client-go's reflector, in the same race, backs
//! off to its 30s cap.

use std::path::Path;

use stallsim_harness::manager::ManagerEvent;
use stallsim_harness::{What, WorldConfig};

/// The stalled replica's failed LISTs: (when, the retry delay it chose), in ms.
fn failed_lists(config: &WorldConfig, replica: &str) -> Vec<(u64, u64)> {
    let run = stallsim_harness::run(config);
    assert_eq!(run.report.verdict.name(), "stall", "{}", config.name);
    run.trace
        .iter()
        .filter(|e| e.source == replica)
        .filter_map(|e| match &e.what {
            What::Manager(ManagerEvent::ListFailed { retry_in_ms, .. }) => {
                Some((e.at_ms, *retry_in_ms))
            }
            _ => None,
        })
        .collect()
}

fn load(file: &str) -> stallsim_scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    stallsim_scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn scenario(file: &str) -> WorldConfig {
    let scenario = load(file);
    scenario.world(scenario.seed()).config
}

#[test]
fn kube_runtime_retries_a_missing_resource_about_once_a_second() {
    let lists = failed_lists(&scenario("kube-rs-controller-stalls.yaml"), "grm-1");
    assert!(lists.len() > 500, "only {} failed LISTs", lists.len());
    // kube-runtime's DefaultBackoff: 800ms stretched by up to 100%, and
    // never a second step, since every retry resets it.
    for (at, delay) in &lists {
        assert!(
            (800..=1600).contains(delay),
            "a retry {delay}ms after the LIST failed at {at}ms"
        );
    }
    let delays: Vec<u64> = lists.iter().map(|(_, d)| *d).collect();
    let spread = delays.iter().max().unwrap() - delays.iter().min().unwrap();
    assert!(spread > 400, "the jitter spreads the delays: {spread}ms");
    // The next LIST goes out when the delay has passed.
    for pair in lists.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap >= pair[0].1 && gap < pair[0].1 + 100,
            "LISTs at {}ms and {}ms, with a delay of {}ms",
            pair[0].0,
            pair[1].0,
            pair[0].1
        );
    }
}

#[test]
fn client_go_backs_off_to_its_cap_in_the_same_race() {
    let mut config = scenario("kube-rs-controller-stalls.yaml");
    config.client = stallsim_harness::ClientKind::Rest;
    config.manager.reflector.library = stallsim_harness::manager::InformerLibrary::ClientGo;
    let client_go = failed_lists(&config, "grm-1");
    let kube_runtime = failed_lists(&scenario("kube-rs-controller-stalls.yaml"), "grm-1");
    let cap_ms = config.manager.reflector.backoff.cap.as_millis() as u64;
    let longest = client_go.iter().map(|(_, d)| *d).max().unwrap();
    assert!(
        longest >= cap_ms,
        "client-go's delays reach the {cap_ms}ms cap: at most {longest}ms"
    );
    assert!(
        kube_runtime.len() > 20 * client_go.len(),
        "kube-runtime {} LISTs, client-go {}",
        kube_runtime.len(),
        client_go.len()
    );
}

/// The incident's expectation, LIST bound included, holds for client-go's
/// run and fails for kube-runtime's on the LIST bound alone.
#[test]
fn the_incidents_list_bound_tells_kube_runtime_from_client_go() {
    let incident = load("grm-deletion-stall.yaml");
    let expect = incident.expectation().expect("the incident has an expect");
    let client_go = stallsim_harness::run(&scenario("grm-deletion-stall.yaml"));
    assert_eq!(expect.check(&client_go.report), Vec::<String>::new());
    let kube_rs = stallsim_harness::run(&scenario("kube-rs-controller-stalls.yaml"));
    // The twin has no simulated Prometheus, so the incident's alert bounds
    // have nothing to check there.
    let mut expect = expect.clone();
    expect.alerts.clear();
    let differences = expect.check(&kube_rs.report);
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert!(
        differences[0].starts_with("grm-1 sent ")
            && differences[0]
                .contains("LIST requests in its busiest minute, above the bound of 20"),
        "{}",
        differences[0]
    );
}

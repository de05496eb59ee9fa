//! No accepted scenario file costs more than `COST_MULTIPLE_MAX` times the
//! incident's run per simulated hour: the most expensive worlds the bounds
//! accept, written as files (so the parser accepts them), run and counted:
//! API requests, segments on the simulated wire, trace events. Counted,
//! never timed.

use std::path::Path;

use stallsim_scenario::COST_MULTIPLE_MAX;

/// What a run cost per simulated hour.
#[derive(Debug)]
struct Cost {
    requests: f64,
    segments: f64,
    events: f64,
    /// Container restarts in the run.
    restarts: u32,
}

fn cost_of(name: &str, text: &str) -> Cost {
    let scenario = stallsim_scenario::parse(Path::new(name), text)
        .unwrap_or_else(|e| panic!("the bounds accept it: {e}"));
    let run = stallsim_harness::run(&scenario.config());
    let hours = run.report.simulated.as_secs_f64() / 3600.0;
    assert!(
        run.report.model_error.is_none(),
        "{name}: {:?}",
        run.report.model_error
    );
    Cost {
        requests: run.report.api_requests.total as f64 / hours,
        segments: run.segments.sent as f64 / hours,
        events: run.trace.len() as f64 / hours,
        restarts: run.report.restarts.iter().map(|(_, n)| n).sum(),
    }
}

/// The largest world at the bounds' extremes: 16 replicas, 64 CRDs
/// deleted at 30s, 32 of their kinds read or watched by the leader's
/// controllers (each informer then retrying its LIST as fast as the bounds
/// allow), every period and wait at its least. `restarts` makes every
/// leader fail at once (cache sync and liveness deadlines of 1ms), so the
/// replicas crash-loop as fast as the kubelet's bounds allow, and discover
/// and list afresh at every start, instead of retrying LISTs.
fn most_expensive(kube_runtime: bool, restarts: bool) -> String {
    let crds: String = (0..64)
        .map(|i| {
            format!("    - {{group: g{i}.example.com, version: v1, kind: K{i}, plural: k{i}s}}\n")
        })
        .collect();
    let kinds = |from: usize| {
        (from..from + 16)
            .map(|i| format!("g{i}.example.com/v1/K{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let replicas = (0..16)
        .map(|i| format!("{{name: r{i}}}"))
        .collect::<Vec<_>>()
        .join(", ");
    let client = if kube_runtime {
        "    client: kube\n    informer: kube-runtime\n"
    } else {
        ""
    };
    let deadline = if restarts { "1ms" } else { "24h" };
    // No latency: the most round trips. With latency, a LIST outlasts the
    // 1ms deadlines, which is what makes the leaders fail.
    let latency = if restarts { "1ms" } else { "0s" };
    format!(
        "apiVersion: stallsim/v1alpha1
kind: Scenario
metadata: {{name: most-expensive}}
spec:
  duration: 10m
  tick: 1ms
  network: {{latencyMin: {latency}, latencyMax: {latency}}}
  apiServer: {{historyEventsMax: 1, watchChannelCapacity: 1, bookmarkInterval: 1s}}
  crds:
{crds}  replicas: [{replicas}]
  manager:
{client}    leaderElection: {{leaseDuration: 1s, renewDeadline: 700ms, retryPeriod: 500ms}}
    reflector:
      backoff: {{initial: 800ms, factor: 1, cap: 800ms, jitter: 0, resetAfter: 1ms}}
      watchTimeoutMin: 1s
    cacheSyncTimeout: {deadline}
    garbageCollector: {{syncPeriod: 1s, extraKinds: [{}]}}
    watchingController: {{kinds: [{}]}}
  mitigations: {{livenessCacheSyncDeadline: {deadline}}}
  kubelet:
    liveness: {{initialDelay: 0s, period: 1s, timeout: 1s, failureThreshold: 1}}
    readiness: {{initialDelay: 0s, period: 1s, timeout: 1s, failureThreshold: 1}}
    crashLoopBackOff: {{initial: 10s, cap: 10s, resetAfter: 10s}}
    terminationGracePeriod: 0s
    containerStart: 0s
    processStart: 0s
  deletionFlow: {{deleteAt: 30s, pollInterval: 1s, waitTimeout: 1s, retryAfter: 1s}}
",
        kinds(0),
        kinds(16)
    )
}

/// A world of components: four components of four replicas each, none
/// electing a leader, so every replica runs its own informers: `watched`
/// kinds (their controllers keep waiting on a timeout) and `read` kinds
/// read at every sync, all deleted at 30s, each informer then retrying its
/// LIST as fast as the bounds allow; a Prometheus scraping every process at
/// its shortest interval. With 1 and 1, the most informers the bounds
/// accept (32).
fn components_world(watched: usize, read: usize) -> String {
    let crds: String = (0..48)
        .map(|i| {
            format!("    - {{group: g{i}.example.com, version: v1, kind: K{i}, plural: k{i}s}}\n")
        })
        .collect();
    let kinds = |from: usize, count: usize, extra: &str| {
        (from..from + count)
            .map(|i| format!("{{kind: g{i}.example.com/v1/K{i}{extra}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let components: String = (0..4)
        .map(|c| {
            let replicas = (0..4)
                .map(|r| format!("{{name: c{c}-{r}}}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "    - name: c{c}
      replicas: [{replicas}]
      leaderElection: {{enabled: false}}
      watches: [{}]
      reads: [{}]
      syncPeriod: 1s
      probes:
        liveness: {{initialDelay: 0s, period: 1s, timeout: 1s, failureThreshold: 1}}
        readiness: {{initialDelay: 0s, period: 1s, timeout: 1s, failureThreshold: 1}}
",
                kinds(
                    0,
                    watched,
                    ", cacheSyncTimeout: 24h, onTimeout: keepWaiting"
                ),
                kinds(24, read, "")
            )
        })
        .collect();
    format!(
        "apiVersion: stallsim/v1alpha1
kind: Scenario
metadata: {{name: most-expensive-components}}
spec:
  duration: 10m
  tick: 1ms
  network: {{latencyMin: 0s, latencyMax: 0s}}
  apiServer: {{historyEventsMax: 1, watchChannelCapacity: 1, bookmarkInterval: 1s}}
  crds:
{crds}  components:
{components}  manager:
    reflector:
      backoff: {{initial: 800ms, factor: 1, cap: 800ms, jitter: 0, resetAfter: 1ms}}
      watchTimeoutMin: 1s
  kubelet:
    crashLoopBackOff: {{initial: 10s, cap: 10s, resetAfter: 10s}}
    terminationGracePeriod: 0s
    containerStart: 0s
    processStart: 0s
  deletionFlow: {{deleteAt: 30s, pollInterval: 1s, waitTimeout: 1s, retryAfter: 1s}}
  prometheus:
    scrapeInterval: 5s
    evaluationInterval: 5s
    rules:
      - {{alert: Unsynced, expr: \"max by (pod, kind) (stallsim_informer_unsynced_seconds) > 1\"}}
"
    )
}

#[test]
fn components_are_bounded_by_the_informers_they_run_together() {
    // Sixteen replicas without election, each with 24 watched and 24 read
    // kinds: 768 informers, refused before anything runs.
    let Err(error) = stallsim_scenario::parse(Path::new("c.yaml"), &components_world(24, 24))
    else {
        panic!("768 informers are refused");
    };
    let error = error.to_string();
    assert!(
        error.contains("field `spec.components`: 768 informers in all; expected at most 32"),
        "{error}"
    );
    // A kind more for every replica than the bound allows.
    assert!(stallsim_scenario::parse(Path::new("c.yaml"), &components_world(2, 1)).is_err());
    assert!(stallsim_scenario::parse(Path::new("c.yaml"), &components_world(1, 1)).is_ok());
}

#[test]
fn the_most_expensive_accepted_worlds_stay_within_the_stated_multiple_of_the_incident() {
    let incident_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/grm-deletion-stall.yaml");
    let incident = cost_of(
        "grm-deletion-stall.yaml",
        &std::fs::read_to_string(incident_path).expect("the incident is bundled"),
    );
    let limit = COST_MULTIPLE_MAX as f64;
    let mut over = Vec::new();
    for (name, kube_runtime, restarts) in [
        ("client-go, failing LISTs", false, false),
        ("kube-runtime, failing LISTs", true, false),
        ("client-go, crash loops", false, true),
        ("components without election, scraped", false, false),
    ] {
        let text = if name.starts_with("components") {
            components_world(1, 1)
        } else {
            most_expensive(kube_runtime, restarts)
        };
        let cost = cost_of(name, &text);
        let ratios = [
            ("requests", cost.requests / incident.requests),
            ("segments", cost.segments / incident.segments),
            ("trace events", cost.events / incident.events),
        ];
        eprintln!("{name}: {ratios:.1?} the incident's per simulated hour");
        // Each shape is expensive in its own way: well above the incident.
        assert!(
            ratios.iter().any(|(_, ratio)| *ratio > limit / 4.0),
            "{name} is no worst case: {ratios:?}"
        );
        assert_eq!(
            restarts,
            cost.restarts > 100,
            "{name}: {} restarts",
            cost.restarts
        );
        over.extend(
            ratios
                .iter()
                .filter(|(_, ratio)| *ratio > limit)
                .map(|(what, ratio)| format!("{name}: {what} {ratio:.1}x")),
        );
    }
    assert!(
        over.is_empty(),
        "past {COST_MULTIPLE_MAX}x the incident: {over:?}"
    );
}

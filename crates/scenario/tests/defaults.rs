//! A minimal file gets exactly the real system's constants (docs/model.md); every field a file can name is read.

use std::path::Path;
use std::time::Duration;

use stallsim_harness::manager::{DiscoveryMode, Gvk};
use stallsim_harness::{FaultAction, WorldConfig};
use stallsim_scenario::{parse, ExpectedVerdict};

const MINIMAL: &str = "\
apiVersion: stallsim/v1alpha1
kind: Scenario
metadata:
  name: minimal
spec:
  expect:
    verdict: converges
";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

fn world(text: &str) -> WorldConfig {
    match parse(Path::new("t.yaml"), text) {
        Ok(scenario) => scenario.config(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_minimal_file_gets_the_reference_constants() {
    let scenario = parse(Path::new("minimal.yaml"), MINIMAL).unwrap_or_else(|e| panic!("{e}"));
    let c = &scenario.config();
    assert_eq!(scenario.path, Path::new("minimal.yaml"));
    assert_eq!(scenario.description, None);
    assert_eq!(c.name, "minimal");
    assert_eq!((c.seed, c.duration, c.tick), (1, secs(20 * 60), ms(10)));

    // Section 5: lease duration / renew deadline / retry period 15s / 10s / 2s.
    let election = &c.manager.leader_election;
    assert_eq!(
        (
            election.lease_duration,
            election.renew_deadline,
            election.retry_period
        ),
        (secs(15), secs(10), secs(2))
    );
    assert!(election.release_on_cancel);
    // Controller CacheSyncTimeout 2m.
    assert_eq!(c.manager.cache_sync_timeout, secs(120));
    // Reflector backoff 800ms x2 to 30s, jitter 1.0, reset after 2m.
    let backoff = &c.manager.reflector.backoff;
    assert_eq!(
        (backoff.initial, backoff.factor, backoff.cap),
        (ms(800), 2.0, secs(30))
    );
    assert_eq!((backoff.jitter, backoff.reset_after), (1.0, secs(120)));
    assert_eq!(c.manager.discovery, DiscoveryMode::Eager);
    // The incident's code: no mitigation.
    let m = &c.manager.mitigations;
    assert_eq!(m.liveness_cache_sync_deadline, None);
    assert_eq!(m.lazy_informer_sync_timeout, None);
    assert!(!m.ignore_not_found && !m.rediscover_on_leadership && !m.not_found_list_is_empty);
    // The leader-only garbage collector reads Prometheus, as in the incident.
    assert_eq!(c.manager.controllers.len(), 1);
    let gc = &c.manager.controllers[0];
    assert_eq!(gc.name, "garbage-collector");
    assert!(gc.leader_only);
    assert!(gc
        .reads
        .iter()
        .any(|r| r.kind == Gvk::new("monitoring.coreos.com", "v1", "Prometheus")));

    // Liveness: delay 30s, period 10s, timeout 5s, threshold 5.
    let liveness = &c.kubelet.liveness;
    assert_eq!(
        (liveness.initial_delay, liveness.period, liveness.timeout),
        (secs(30), secs(10), secs(5))
    );
    assert_eq!(liveness.failure_threshold, 5);
    // Readiness: delay 10s, period 10s, timeout 1s, threshold 3.
    let readiness = &c.kubelet.readiness;
    assert_eq!(
        (readiness.initial_delay, readiness.period, readiness.timeout),
        (secs(10), secs(10), secs(1))
    );
    assert_eq!(readiness.failure_threshold, 3);
    // CrashLoopBackOff 10s x2 to 5m, reset after 10m.
    let crash = &c.kubelet.crash_loop;
    assert_eq!(
        (crash.initial, crash.cap, crash.reset_after),
        (secs(10), secs(300), secs(600))
    );

    // Two replicas from the start; both monitoring CRDs served.
    let replicas: Vec<(&str, Duration)> = c
        .replicas
        .iter()
        .map(|r| (r.name.as_str(), r.start_at))
        .collect();
    assert_eq!(
        replicas,
        [("grm-0", Duration::ZERO), ("grm-1", Duration::ZERO)]
    );
    let crds: Vec<String> = c.crds.iter().map(|c| c.name()).collect();
    assert_eq!(
        crds,
        [
            "prometheuses.monitoring.coreos.com",
            "alertmanagers.monitoring.coreos.com"
        ]
    );
    assert!(c.crds.iter().all(|c| c.namespaced));

    assert_eq!(c.flow, None);
    assert!(c.faults.is_empty());
    assert_eq!(c.checker.stall_bound, secs(300));
    assert_eq!(
        scenario.expectation().unwrap().verdict,
        ExpectedVerdict::Converges
    );
    assert_eq!(scenario.expectation().unwrap().stalled_replica, None);
    assert_eq!(
        scenario
            .expectation()
            .unwrap()
            .deployment_ready_within_flow_timeout,
        None
    );
}

#[test]
fn a_flow_gets_the_reference_wait() {
    let c = world(&format!("{MINIMAL}  deletionFlow: {{deleteAt: 60s}}\n"));
    let flow = c.flow.unwrap_or_else(|| panic!("no flow"));
    // The deletion flow waits 5m for the resource manager, polling every 5s.
    assert_eq!(
        (flow.delete_at, flow.wait_timeout, flow.poll_interval),
        (secs(60), secs(300), secs(5))
    );
    assert_eq!(
        flow.crds,
        [
            "prometheuses.monitoring.coreos.com",
            "alertmanagers.monitoring.coreos.com"
        ]
    );
}

#[test]
fn every_field_is_read() {
    let c = world(
        "\
apiVersion: stallsim/v1alpha1
kind: Scenario
metadata: {name: all.fields, description: every field}
spec:
  seed: 42
  duration: 1h
  tick: 1ms
  network: {latencyMin: 2ms, latencyMax: 3ms, requestTimeout: 10s}
  apiServer:
    historyEventsMax: 7
    discoveryLag: 0s
    watchChannelCapacity: 3
    bookmarkInterval: 1m30s
    crdFinalizerDelay: 1s
    instanceDeletionCost: 2ms
    servingRemovalLag: 3s
    watchTeardownDelay: 4s
  crds:
    - {group: example.com, version: v2, kind: Widget, plural: widgets, namespaced: false}
  replicas:
    - {name: a}
    - {name: b, startAt: 1.5s}
  manager:
    discovery: lazy
    leaderElection: {leaseDuration: 30s, renewDeadline: 20s, retryPeriod: 4s, releaseOnCancel: false}
    reflector: {backoff: {initial: 1s, factor: 3, cap: 1m, jitter: 0.5, resetAfter: 5m}, watchTimeoutMin: 10m}
    cacheSyncTimeout: 1m
    garbageCollector: {syncPeriod: 30m, extraKinds: [example.com/v2/Widget, v1/Service]}
    watchingController: {kinds: [example.com/v2/Widget]}
  mitigations:
    livenessCacheSyncDeadline: 3m
    ignoreNotFound: true
    rediscoverOnLeadership: true
    notFoundListIsEmpty: true
    lazyInformerSyncTimeout: 2m
  kubelet:
    liveness: {initialDelay: 1s, period: 2s, timeout: 3s, failureThreshold: 4}
    readiness: {initialDelay: 5s, period: 6s, timeout: 7s, failureThreshold: 8}
    crashLoopBackOff: {initial: 11s, cap: 12s, resetAfter: 13s}
    terminationGracePeriod: 0s
  deletionFlow: {deleteAt: 2m, crds: [widgets.example.com], waitTimeout: 1m, pollInterval: 1s, retryAfter: 30s}
  faults:
    - {at: 1m, kill: a}
    - {at: 2m, kill: a, down: 5m}
    - {at: 3m, restart: b}
    - {at: 4m, partition: b, for: 30s}
  check: {stallBound: 10m}
  expect: {verdict: stall, stalledReplica: b, deploymentReadyWithinFlowTimeout: true}
",
    );
    assert_eq!(
        (c.name.as_str(), c.seed, c.duration, c.tick),
        ("all.fields", 42, secs(3600), ms(1))
    );
    assert_eq!(
        (
            c.network.latency_min,
            c.network.latency_max,
            c.network.request_timeout
        ),
        (ms(2), ms(3), secs(10))
    );
    let a = &c.apiserver;
    assert_eq!(
        (
            a.history_events_max,
            a.discovery_lag,
            a.watch_channel_capacity,
            a.bookmark_interval
        ),
        (7, Duration::ZERO, 3, secs(90))
    );
    assert_eq!(
        (
            a.crd_finalizer_delay,
            a.instance_deletion_cost,
            a.serving_removal_lag,
            a.watch_teardown_delay
        ),
        (secs(1), ms(2), secs(3), secs(4))
    );
    assert_eq!(c.crds.len(), 1);
    assert_eq!(
        (
            c.crds[0].name(),
            c.crds[0].kind.as_str(),
            c.crds[0].namespaced
        ),
        ("widgets.example.com".to_string(), "Widget", false)
    );
    assert_eq!(
        (c.replicas[1].name.as_str(), c.replicas[1].start_at),
        ("b", ms(1500))
    );

    let m = &c.manager;
    assert_eq!(m.discovery, DiscoveryMode::Lazy);
    let e = &m.leader_election;
    assert_eq!(
        (
            e.lease_duration,
            e.renew_deadline,
            e.retry_period,
            e.release_on_cancel
        ),
        (secs(30), secs(20), secs(4), false)
    );
    let b = &m.reflector.backoff;
    assert_eq!(
        (b.initial, b.factor, b.cap, b.jitter, b.reset_after),
        (secs(1), 3.0, secs(60), 0.5, secs(300))
    );
    assert_eq!(
        (m.reflector.watch_timeout_min, m.cache_sync_timeout),
        (secs(600), secs(60))
    );
    let names: Vec<&str> = m.controllers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["garbage-collector", "watcher"]);
    let gc = &m.controllers[0];
    assert_eq!(gc.sync_period, secs(1800));
    assert!(gc
        .reads
        .iter()
        .any(|r| r.kind == Gvk::new("example.com", "v2", "Widget")));
    assert!(gc
        .reads
        .iter()
        .any(|r| r.kind == Gvk::new("", "v1", "Service")));
    assert!(!gc.reads.iter().any(|r| r.kind.kind == "Prometheus"));
    let watcher = &m.controllers[1];
    assert!(watcher.leader_only && watcher.reads.is_empty());
    assert_eq!(
        (watcher.watches.clone(), watcher.sync_period),
        (vec![Gvk::new("example.com", "v2", "Widget")], secs(3600))
    );
    let fix = &m.mitigations;
    assert_eq!(
        (
            fix.liveness_cache_sync_deadline,
            fix.lazy_informer_sync_timeout
        ),
        (Some(secs(180)), Some(secs(120)))
    );
    assert!(fix.ignore_not_found && fix.rediscover_on_leadership && fix.not_found_list_is_empty);

    let k = &c.kubelet;
    assert_eq!(
        (
            k.liveness.initial_delay,
            k.liveness.period,
            k.liveness.timeout,
            k.liveness.failure_threshold
        ),
        (secs(1), secs(2), secs(3), 4)
    );
    assert_eq!(
        (
            k.readiness.initial_delay,
            k.readiness.period,
            k.readiness.timeout,
            k.readiness.failure_threshold
        ),
        (secs(5), secs(6), secs(7), 8)
    );
    assert_eq!(
        (
            k.crash_loop.initial,
            k.crash_loop.cap,
            k.crash_loop.reset_after
        ),
        (secs(11), secs(12), secs(13))
    );
    assert_eq!(k.termination_grace_period, Duration::ZERO);

    let flow = c.flow.as_ref().unwrap_or_else(|| panic!("no flow"));
    assert_eq!(
        (flow.delete_at, flow.crds.clone()),
        (secs(120), vec!["widgets.example.com".to_string()])
    );
    assert_eq!(
        (flow.wait_timeout, flow.poll_interval, flow.retry_after),
        (secs(60), secs(1), secs(30))
    );

    let faults: Vec<(Duration, FaultAction)> =
        c.faults.iter().map(|f| (f.at, f.action.clone())).collect();
    assert_eq!(
        faults,
        [
            (
                secs(60),
                FaultAction::Kill {
                    replica: "a".into(),
                    down: Duration::ZERO
                }
            ),
            (
                secs(120),
                FaultAction::Kill {
                    replica: "a".into(),
                    down: secs(300)
                }
            ),
            (
                secs(180),
                FaultAction::Restart {
                    replica: "b".into()
                }
            ),
            (
                secs(240),
                FaultAction::Partition {
                    replica: "b".into(),
                    duration: secs(30)
                }
            ),
        ]
    );
    assert_eq!(c.checker.stall_bound, secs(600));
}

#[test]
fn the_seed_is_the_files_and_yaml_anchors_work() {
    let text = format!("{MINIMAL}  seed: 7\n  replicas:\n    - &r {{name: a, startAt: 3s}}\n    - {{<<: *r, name: b}}\n");
    let c = world(&text);
    assert_eq!(c.seed, 7);
    let replicas: Vec<(&str, Duration)> = c
        .replicas
        .iter()
        .map(|r| (r.name.as_str(), r.start_at))
        .collect();
    assert_eq!(replicas, [("a", secs(3)), ("b", secs(3))]);
}

#[test]
fn a_minimal_file_is_the_harness_default_world() {
    let expected = WorldConfig {
        name: "minimal".to_string(),
        ..WorldConfig::default()
    };
    assert_eq!(world(MINIMAL), expected);
}

//! The world built in code, without scenario files: the incident's shape
//! stalls by mechanism, the liveness deadline turns it into convergence,
//! partitions and restarts play out as leader election says they must, and
//! a model that breaks (with values no scenario file accepts: a task that
//! panics, a host that keeps waking itself while time stands still) ends
//! the run there, inconclusive, naming the host, the time and what happened.

use std::time::Duration;

use stallsim_harness::manager::ManagerEvent;
use stallsim_harness::{
    CrdSpec, DeletionFlowConfig, Fault, FaultAction, ReplicaSpec, Run, Verdict, What, WorldConfig,
    WorldEvent,
};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn incident() -> WorldConfig {
    let defaults = WorldConfig::default();
    WorldConfig {
        name: "incident-in-code".to_string(),
        flow: Some(DeletionFlowConfig::new(
            secs(60),
            defaults.crds.iter().map(CrdSpec::name).collect(),
        )),
        replicas: vec![
            ReplicaSpec {
                name: "grm-0".to_string(),
                start_at: secs(0),
                probe_phase: None,
            },
            ReplicaSpec {
                name: "grm-1".to_string(),
                start_at: secs(40),
                probe_phase: None,
            },
        ],
        faults: vec![Fault {
            at: secs(50),
            action: FaultAction::Kill {
                replica: "grm-0".to_string(),
                down: secs(120),
            },
        }],
        ..defaults
    }
}

#[test]
fn the_incident_stalls_the_new_leader() {
    let run = stallsim_harness::run(&incident());
    let timeline = stallsim_harness::render_timeline(&run.trace);
    let Verdict::Stall(stall) = &run.report.verdict else {
        panic!("expected a stall:\n{timeline}");
    };
    assert_eq!(stall.replica, "grm-1", "{timeline}");
    assert_eq!(stall.lease_holder.as_deref(), Some("grm-1"), "{timeline}");
    assert_eq!(
        stall.unsynced_informers,
        vec!["monitoring.coreos.com/v1, Kind=Prometheus".to_string()],
        "{timeline}"
    );
    assert!(
        stall
            .last_list_error
            .as_deref()
            .is_some_and(|e| e.contains("NotFound")),
        "{timeline}"
    );
    let flow = run.report.flow.as_ref().expect("the world has a flow");
    assert!(!flow.ready_within_timeout, "{timeline}");
    let restarts = run.report.restarts_of("grm-1");
    assert_eq!(
        restarts, 0,
        "the stalled pod is never restarted:\n{timeline}"
    );
}

#[test]
fn the_liveness_deadline_restarts_the_stalled_leader() {
    let mut config = incident();
    config.manager.mitigations.liveness_cache_sync_deadline = Some(secs(180));
    let run = stallsim_harness::run(&config);
    let timeline = stallsim_harness::render_timeline(&run.trace);
    assert_eq!(run.report.verdict, Verdict::Converges, "{timeline}");
    let restarts = run.report.restarts_of("grm-1");
    assert!(
        restarts >= 1,
        "the fix works by restarting grm-1:\n{timeline}"
    );
}

#[test]
fn a_non_leader_that_discovered_the_crds_stays_ready() {
    let mut config = incident();
    config.faults.clear();
    let run = stallsim_harness::run(&config);
    let timeline = stallsim_harness::render_timeline(&run.trace);
    assert_eq!(run.report.verdict, Verdict::Converges, "{timeline}");
}

fn first(
    run: &stallsim_harness::Run,
    source: &str,
    pred: impl Fn(&What) -> bool,
) -> Option<Duration> {
    run.trace
        .iter()
        .find(|e| e.source == source && pred(&e.what))
        .map(|e| e.at())
}

#[test]
fn a_partitioned_leader_gives_up_after_the_renew_deadline_and_a_restarted_one_releases() {
    let mut config = incident();
    config.flow = None;
    // Long enough for the bound to run out after the restart at 200s.
    config.duration = secs(9 * 60);
    config.replicas[1].start_at = secs(20);
    config.faults = vec![
        Fault {
            at: secs(60),
            action: FaultAction::Partition {
                replica: "grm-0".to_string(),
                duration: secs(40),
            },
        },
        Fault {
            at: secs(200),
            action: FaultAction::Restart {
                replica: "grm-1".to_string(),
            },
        },
    ];
    let run = stallsim_harness::run(&config);
    let timeline = stallsim_harness::render_timeline(&run.trace);
    let lost = first(&run, "grm-0", |w| {
        matches!(w, What::Manager(ManagerEvent::LeadershipLost))
    })
    .expect(&timeline);
    assert!(
        lost >= secs(68) && lost <= secs(72),
        "renew deadline is 10s:\n{timeline}"
    );
    let taken = first(&run, "grm-1", |w| {
        matches!(w, What::Manager(ManagerEvent::LeaderElected))
    })
    .expect(&timeline);
    // grm-0 renews last before the partition (by 60s); grm-1 sees that
    // renewal up to one jittered retry period (2s up to 2.2 times) late,
    // judges the lease expired 15s after seeing it, and tries again up to
    // one jittered period later: 60 + 4.4 + 15 + 4.4s, and a round trip.
    assert!(
        taken > lost && taken <= secs(84),
        "grm-1 takes over once the lease expires:\n{timeline}"
    );
    let released = first(&run, "grm-1", |w| {
        matches!(w, What::Manager(ManagerEvent::LeaseReleased))
    })
    .expect(&timeline);
    assert!(
        released >= secs(200) && released < secs(201),
        "a graceful stop releases at once:\n{timeline}"
    );
    let healed = first(&run, "grm-0", |w| {
        matches!(w, What::World(WorldEvent::PartitionHealed { .. }))
    });
    assert_eq!(healed, Some(secs(100)), "{timeline}");
    assert_eq!(run.report.verdict, Verdict::Converges, "{timeline}");
}

/// The incident's world with the garbage collector reading Prometheus
/// straight from the API server instead of through the cache.
fn incident_with_uncached_prometheus_read() -> WorldConfig {
    let mut config = incident();
    for read in &mut config.manager.controllers[0].reads {
        if read.kind.kind == "Prometheus" {
            read.cached = false;
        }
    }
    config
}

fn count(run: &stallsim_harness::Run, pred: impl Fn(&ManagerEvent) -> bool) -> usize {
    run.trace
        .iter()
        .filter(|e| matches!(&e.what, What::Manager(m) if pred(m)))
        .count()
}

#[test]
fn ignore_not_found_only_matters_for_reads_that_can_fail_with_not_found() {
    let failed = |m: &ManagerEvent| matches!(m, ManagerEvent::ReconcileFailed { error, .. } if error.contains("NotFound"));
    // Uncached: the stale mapping makes the LIST 404, the reconciler fails,
    // but no informer exists, so readiness holds.
    let run = stallsim_harness::run(&incident_with_uncached_prometheus_read());
    let timeline = stallsim_harness::render_timeline(&run.trace);
    assert_eq!(run.report.verdict, Verdict::Converges, "{timeline}");
    assert!(count(&run, failed) > 0, "{timeline}");
    // With the switch, the reconciler skips the kind.
    let mut config = incident_with_uncached_prometheus_read();
    config.manager.mitigations.ignore_not_found = true;
    let run = stallsim_harness::run(&config);
    let timeline = stallsim_harness::render_timeline(&run.trace);
    assert_eq!(count(&run, failed), 0, "{timeline}");
    assert!(
        count(&run, |m| matches!(
            m,
            ManagerEvent::ReconcileSucceeded { .. }
        )) > 0,
        "{timeline}"
    );
    // Through the cache, the switch changes nothing: the read waits, it never fails with NotFound.
    let mut config = incident();
    config.manager.mitigations.ignore_not_found = true;
    assert!(stallsim_harness::run(&config).report.verdict.is_stall());
}

#[test]
fn probes_tick_at_the_pods_phase_across_restarts() {
    let mut config = incident();
    config.replicas[0].probe_phase = Some(Duration::from_millis(3000));
    config.replicas[1].probe_phase = Some(Duration::from_millis(7500));
    let run = stallsim_harness::run(&config);
    let timeline = stallsim_harness::render_timeline(&run.trace);
    let probes = |replica: &str| -> Vec<u64> {
        run.trace
            .iter()
            .filter(|e| e.source == replica)
            .filter(|e| matches!(e.what, What::World(WorldEvent::ProbeResult { .. })))
            .map(|e| e.at_ms)
            .collect()
    };
    // A result comes back a round trip after its tick (a few milliseconds).
    let round_trip_max_ms = 100;
    for (replica, phase_ms) in [("grm-0", 3000), ("grm-1", 7500)] {
        let times = probes(replica);
        assert!(times.len() > 50, "{replica} was probed: {timeline}");
        for at in &times {
            assert!(
                (at + 10_000 - phase_ms) % 10_000 < round_trip_max_ms,
                "{replica} probed at {at}ms, off its phase of {phase_ms}ms"
            );
        }
    }
    // grm-0 starts at 0s: readiness waits out its 10s delay to the tick at 13s.
    assert!((13_000..13_100).contains(&probes("grm-0")[0]), "{timeline}");
    // grm-0 was restarted after its kill: its probes kept the phase.
    assert!(run
        .report
        .restarts
        .iter()
        .any(|(r, n)| r == "grm-0" && *n > 0));
}

/// The run's one reason, its last trace event, and that event's source.
fn breakdown(run: &Run) -> (&str, &WorldEvent, &str) {
    let timeline = stallsim_harness::render_timeline(&run.trace);
    let Verdict::Inconclusive { reasons } = &run.report.verdict else {
        panic!(
            "expected inconclusive, got {:?}\n{timeline}",
            run.report.verdict
        );
    };
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert_eq!(run.report.model_error.as_ref(), Some(&reasons[0]));
    let last = run.trace.last().expect("a trace");
    let What::World(event) = &last.what else {
        panic!("the trace ends with the failure, not {last:?}");
    };
    assert_eq!(
        last.at(),
        run.report.simulated,
        "the run stops where the model broke"
    );
    assert!(
        timeline.contains("MODEL ERROR, the run stops:"),
        "{timeline}"
    );
    (&reasons[0], event, &last.source)
}

#[test]
fn a_panicking_task_makes_the_run_inconclusive_with_its_message_host_and_time() {
    // client-go's jitter stretches a wait by up to `jitter` times itself:
    // at 1e308 the first backoff after grm-1's failing LIST overflows.
    let mut config = incident();
    config.manager.reflector.backoff.jitter = 1e308;
    let run = stallsim_harness::run(&config);
    let (reason, event, source) = breakdown(&run);
    assert_eq!(source, "grm-1");
    let WorldEvent::TaskPanicked { message, location } = event else {
        panic!("expected a panic, got {event:?}");
    };
    assert!(
        message.contains("cannot convert float seconds to Duration"),
        "{message}"
    );
    assert!(location.is_some(), "{event:?}");
    let at = stallsim_harness::format_duration(run.report.simulated);
    assert!(
        reason.starts_with(&format!(
            "model error at {at}: a task of grm-1 panicked: cannot convert float seconds"
        )),
        "{reason}"
    );
    assert!(
        run.report.simulated > secs(60) && run.report.simulated < secs(120),
        "{reason}"
    );
    // The JSON report carries the reason and the error.
    let json = stallsim_harness::verdict_line(&run.report);
    assert!(json.contains("\"verdict\":\"inconclusive\""), "{json}");
    assert!(json.contains("\"model_error\":\"model error at"), "{json}");
}

#[test]
fn a_panic_in_the_api_server_names_the_server() {
    // The first watch that allows bookmarks schedules its first one past the
    // end of time: the clock's addition panics.
    let mut config = incident();
    config.apiserver.bookmark_interval = Duration::MAX;
    let run = stallsim_harness::run(&config);
    let (reason, event, source) = breakdown(&run);
    assert_eq!(source, "apiserver");
    assert!(
        matches!(event, WorldEvent::TaskPanicked { message, .. } if message.contains("overflow")),
        "{event:?}"
    );
    assert!(reason.contains("a task of apiserver panicked"), "{reason}");
}

#[test]
fn a_host_that_never_lets_time_pass_freezes_and_makes_the_run_inconclusive() {
    // A garbage collector requeued after zero time reconciles again at once,
    // forever, once its informers have synced.
    let mut config = incident();
    config.manager.controllers[0].sync_period = Duration::ZERO;
    let run = stallsim_harness::run(&config);
    let (reason, event, source) = breakdown(&run);
    assert_eq!(source, "grm-0", "the first leader freezes");
    assert_eq!(
        event,
        &WorldEvent::HostFroze {
            polls: stallsim_net::POLLS_PER_INSTANT_MAX + 1
        }
    );
    assert!(
        reason.contains("grm-0 froze: polled 1001 times at one instant"),
        "{reason}"
    );
    assert!(run.report.simulated < secs(60), "{reason}");
}

#[test]
fn a_broken_run_is_the_same_every_time() {
    let mut config = incident();
    config.manager.reflector.backoff.jitter = 1e308;
    let first = stallsim_harness::run(&config);
    let second = stallsim_harness::run(&config);
    assert_eq!(first.trace, second.trace);
    assert_eq!(first.report, second.report);
}

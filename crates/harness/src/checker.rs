//! The convergence checker: reads a finished trace and judges it. It only
//! observes; nothing in the world knows it exists.
//!
//! The property: every replica that is not ready becomes ready, or is
//! restarted, within `stall_bound`; and no replica keeps restarting without
//! being ready in between for longer than `stall_bound` (`restart_loop.rs`).
//!
//! A run shows a stall when some replica broke the first half, a restart
//! loop when one broke the second (whichever was detected first). It shows
//! convergence only when it could have shown a stall: everything the world
//! was told to do happened (every replica started, the flow deleted its
//! CRDs, every fault struck), the run went on for the bound after the last
//! of these, and no replica was left not ready for less than the bound at
//! the end. Otherwise it is inconclusive, with the reasons.
//!
//! A run in which the model broke (a task panicked, a host froze) is
//! inconclusive whatever else it shows: it stopped there, and anything
//! judged over a dead task would be a claim the model cannot back.

use std::collections::BTreeMap;
use std::time::Duration;

use stallsim_manager::ManagerEvent;

use crate::restart_loop::first_restart_loop;
use crate::trace::{TraceEvent, What, WorldEvent};
use crate::{format_duration, FlowOutcome, Report, Stall, Verdict, WorldConfig};

/// Judges the trace of a run of `config` that lasted `ended`.
pub fn judge(config: &WorldConfig, trace: &[TraceEvent], ended: Duration) -> Report {
    let bound = config.checker.stall_bound;
    // The first not-ready interval of each replica that outlived the bound.
    let mut open: BTreeMap<&str, Duration> = BTreeMap::new();
    let mut first_stall: Option<(Duration, String, Duration)> = None;
    let mut note = |replica: &str, since: Duration, until: Duration| {
        if until.saturating_sub(since) > bound {
            let detected = since + bound;
            if first_stall.as_ref().is_none_or(|(at, _, _)| detected < *at) {
                first_stall = Some((detected, replica.to_string(), since));
            }
        }
    };
    // Replicas whose container runs and is not being stopped.
    let mut running: BTreeMap<&str, bool> = BTreeMap::new();
    for event in trace {
        let (replica, at) = (event.source.as_str(), event.at());
        let What::World(world) = &event.what else {
            continue;
        };
        match world {
            WorldEvent::ContainerStarted { .. } => {
                running.insert(replica, true);
                open.entry(replica).or_insert(at);
            }
            WorldEvent::ReadinessChanged { ready: false }
                if running.get(replica) == Some(&true) =>
            {
                open.entry(replica).or_insert(at);
            }
            WorldEvent::ReadinessChanged { ready: true } => {
                if let Some(since) = open.remove(replica) {
                    note(replica, since, at);
                }
            }
            WorldEvent::StopRequested { .. }
            | WorldEvent::ContainerKilled { .. }
            | WorldEvent::ContainerExited
            | WorldEvent::NodeLost => {
                running.insert(replica, false);
                if let Some(since) = open.remove(replica) {
                    note(replica, since, at);
                }
            }
            _ => {}
        }
    }
    for (replica, since) in &open {
        note(replica, *since, ended);
    }
    let model_error = model_error(trace);
    let restart_loop = first_restart_loop(config, trace, ended);
    let loops_first = match (&restart_loop, &first_stall) {
        (Some(looping), Some((stall_at, _, _))) => looping.detected_at < *stall_at,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let verdict = match (&model_error, first_stall) {
        (Some(reason), _) => Verdict::Inconclusive {
            reasons: vec![reason.clone()],
        },
        (None, _) if loops_first => Verdict::RestartLoop(restart_loop.expect("a loop was found")),
        (None, None) => match undecided(config, trace, ended, &open) {
            reasons if reasons.is_empty() => Verdict::Converges,
            reasons => Verdict::Inconclusive { reasons },
        },
        (None, Some((detected_at, replica, not_ready_since))) => {
            let (unsynced_informers, last_list_error) = unsynced_at(trace, &replica, detected_at);
            let last_probe = runs_program(config, &replica)
                .then(|| last_readiness_failure(trace, &replica, detected_at))
                .flatten();
            Verdict::Stall(Stall {
                last_probe,
                lease_holder: lease_holder_at(trace, detected_at),
                replica,
                not_ready_since,
                detected_at,
                unsynced_informers,
                last_list_error,
            })
        }
    };
    let restarts = pods_of(config, trace)
        .into_iter()
        .map(|pod| {
            let starts = trace
                .iter()
                .filter(|e| {
                    e.source == pod
                        && matches!(e.what, What::World(WorldEvent::ContainerStarted { .. }))
                })
                .count() as u32;
            (pod, starts.saturating_sub(1))
        })
        .collect();
    Report {
        scenario: config.name.clone(),
        seed: config.seed,
        verdict,
        flow: config.flow.as_ref().map(|_| flow_outcome(trace)),
        restarts,
        simulated: ended,
        model_error,
        api_requests: Default::default(),
        api_by_replica: Vec::new(),
        api_by_component: Vec::new(),
        alerts: Vec::new(),
    }
}

/// Whether `pod` (a replica, or a replacement named after one) belongs to
/// a component that runs a program.
fn runs_program(config: &WorldConfig, pod: &str) -> bool {
    config.components.iter().any(|c| {
        c.process.program().is_some()
            && c.replicas
                .iter()
                .any(|r| r.name == pod || pod.starts_with(&format!("{}-", r.name)))
    })
}

/// The detail of `pod`'s last failed readiness probe up to `until`.
fn last_readiness_failure(trace: &[TraceEvent], pod: &str, until: Duration) -> Option<String> {
    trace
        .iter()
        .take_while(|e| e.at() <= until)
        .filter(|e| e.source == pod)
        .filter_map(|e| match &e.what {
            What::World(WorldEvent::ProbeResult {
                probe: crate::Probe::Readiness,
                ok: false,
                detail,
            }) => Some(detail.clone()),
            _ => None,
        })
        .last()
}

/// Every pod of the run: the replicas' first pods, then each pod the
/// ReplicaSet created to replace a lost one, in the order created.
pub fn pods_of(config: &WorldConfig, trace: &[TraceEvent]) -> Vec<String> {
    let mut pods: Vec<String> = config
        .all_replicas()
        .iter()
        .map(|r| r.name.clone())
        .collect();
    for event in trace {
        if matches!(
            event.what,
            What::World(WorldEvent::ReplacementCreated { .. })
        ) && !pods.contains(&event.source)
        {
            pods.push(event.source.clone());
        }
    }
    pods
}

/// The sentence for the first host that broke the model, if one did.
fn model_error(trace: &[TraceEvent]) -> Option<String> {
    trace.iter().find_map(|event| {
        let What::World(world) = &event.what else {
            return None;
        };
        let failure = world.failure(&event.source, event.at())?;
        Some(format!(
            "model error at {}: {failure}; the run stopped there, and a verdict over a \
             broken model would claim nothing about a cluster",
            format_duration(failure.at)
        ))
    })
}

/// Why a run without a stall cannot claim convergence; empty when it can.
fn undecided(
    config: &WorldConfig,
    trace: &[TraceEvent],
    ended: Duration,
    open: &BTreeMap<&str, Duration>,
) -> Vec<String> {
    let bound = config.checker.stall_bound;
    let mut reasons = Vec::new();
    for (replica, since) in open {
        reasons.push(format!(
            "{replica} was not ready from {} to the end of the run at {}, shorter than the bound of {}",
            format_duration(*since),
            format_duration(ended),
            format_duration(bound)
        ));
    }
    // The last moment the world changed as it was told to; the bound must
    // run out after it for a stall caused by it to show.
    let mut last_scheduled: Option<(Duration, String)> = None;
    let mut saw = |at: Duration, what: String| {
        if last_scheduled.as_ref().is_none_or(|(t, _)| at >= *t) {
            last_scheduled = Some((at, what));
        }
    };
    for replica in config.all_replicas() {
        let started = trace.iter().find(|e| {
            e.source == replica.name
                && matches!(e.what, What::World(WorldEvent::ContainerStarted { .. }))
        });
        match started {
            Some(event) => saw(event.at(), format!("{} started", replica.name)),
            None => reasons.push(format!(
                "{} never started (scheduled at {})",
                replica.name,
                format_duration(replica.start_at)
            )),
        }
    }
    // A replacement the ReplicaSet created must start too, and the bound
    // run out after it.
    for event in trace {
        if let What::World(WorldEvent::ReplacementCreated { replaces }) = &event.what {
            let started = trace.iter().find(|e| {
                e.source == event.source
                    && matches!(e.what, What::World(WorldEvent::ContainerStarted { .. }))
            });
            match started {
                Some(start) => saw(start.at(), format!("{} started", event.source)),
                None => reasons.push(format!(
                    "{}, created at {} to replace {replaces}, never started before the end of the run at {}",
                    event.source,
                    format_duration(event.at()),
                    format_duration(ended)
                )),
            }
        }
    }
    if let Some(flow) = &config.flow {
        for crd in &flow.crds {
            let deleted = trace.iter().find(
                |e| matches!(&e.what, What::World(WorldEvent::CrdDeleted { name }) if name == crd),
            );
            match deleted {
                Some(event) => saw(event.at(), format!("{crd} deleted")),
                None => reasons.push(format!(
                    "the deletion flow never deleted {crd} (scheduled at {})",
                    format_duration(flow.delete_at)
                )),
            }
        }
    }
    let (mut faults_struck, mut faults_missed) = (0, 0);
    for event in trace {
        match &event.what {
            What::World(WorldEvent::FaultApplied { fault }) => {
                faults_struck += 1;
                saw(event.at(), fault.clone());
            }
            What::World(WorldEvent::PartitionHealed { .. }) => {
                saw(event.at(), format!("{}'s partition healed", event.source));
            }
            What::World(WorldEvent::FaultMissed { fault, why }) => {
                faults_missed += 1;
                reasons.push(format!(
                    "the fault `{fault}` at {} did nothing: {why}",
                    format_duration(event.at())
                ));
            }
            _ => {}
        }
    }
    let never = config
        .faults
        .len()
        .saturating_sub(faults_struck + faults_missed);
    if never > 0 {
        reasons.push(format!(
            "{never} scheduled fault(s) never struck before the end of the run at {}",
            format_duration(ended)
        ));
    }
    if let Some((at, what)) = last_scheduled {
        if ended.saturating_sub(at) < bound {
            reasons.push(format!(
                "the run ended at {}, {} after the last scheduled event ({what} at {}); \
                 a stall shows only once the bound of {} has run out",
                format_duration(ended),
                format_duration(ended.saturating_sub(at)),
                format_duration(at),
                format_duration(bound)
            ));
        }
    }
    reasons
}

/// The informers of `replica`'s running process that had not synced at
/// `at`, and the last LIST error among them.
fn unsynced_at(trace: &[TraceEvent], replica: &str, at: Duration) -> (Vec<String>, Option<String>) {
    let mut unsynced: Vec<String> = Vec::new();
    let mut last_error: BTreeMap<String, String> = BTreeMap::new();
    for event in trace
        .iter()
        .take_while(|e| e.at() <= at)
        .filter(|e| e.source == replica)
    {
        match &event.what {
            What::World(WorldEvent::ContainerStarted { .. }) => {
                unsynced.clear();
                last_error.clear();
            }
            What::Manager(ManagerEvent::InformerCreated { kind, .. }) => {
                unsynced.push(kind.clone())
            }
            What::Manager(
                ManagerEvent::InformerSynced { kind } | ManagerEvent::InformerRemoved { kind },
            ) => unsynced.retain(|k| k != kind),
            What::Manager(ManagerEvent::ListFailed { kind, error, .. }) => {
                last_error.insert(kind.clone(), error.clone());
            }
            _ => {}
        }
    }
    let error = unsynced
        .iter()
        .rev()
        .find_map(|k| last_error.get(k).cloned());
    (unsynced, error)
}

/// Who held the lease at `at`: the last replica elected, until it released.
fn lease_holder_at(trace: &[TraceEvent], at: Duration) -> Option<String> {
    let mut holder = None;
    for event in trace.iter().take_while(|e| e.at() <= at) {
        match &event.what {
            What::Manager(ManagerEvent::LeaderElected) => holder = Some(event.source.clone()),
            What::Manager(ManagerEvent::LeaseReleased)
                if holder.as_deref() == Some(event.source.as_str()) =>
            {
                holder = None
            }
            _ => {}
        }
    }
    holder
}

fn flow_outcome(trace: &[TraceEvent]) -> FlowOutcome {
    let mut outcome = FlowOutcome {
        deleted_at: None,
        ready_within_timeout: false,
        ready_at: None,
        failed_waits: 0,
    };
    for event in trace {
        let What::World(world) = &event.what else {
            continue;
        };
        match world {
            WorldEvent::CrdDeleted { .. } if outcome.deleted_at.is_none() => {
                outcome.deleted_at = Some(event.at())
            }
            WorldEvent::FlowWaitSucceeded { .. } if outcome.ready_at.is_none() => {
                outcome.ready_at = Some(event.at());
                outcome.ready_within_timeout = outcome.failed_waits == 0;
            }
            WorldEvent::FlowWaitTimedOut { .. } => outcome.failed_waits += 1,
            _ => {}
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(seconds, source, event)` rows, as a trace.
    fn trace(rows: &[(u64, &str, What)]) -> Vec<TraceEvent> {
        rows.iter()
            .map(|(at, source, what)| TraceEvent {
                at_ms: at * 1000,
                source: source.to_string(),
                what: what.clone(),
            })
            .collect()
    }

    fn world(event: WorldEvent) -> What {
        What::World(event)
    }

    fn manager(event: ManagerEvent) -> What {
        What::Manager(event)
    }

    fn started() -> What {
        world(WorldEvent::ContainerStarted { restarts: 0 })
    }

    fn ready(ready: bool) -> What {
        world(WorldEvent::ReadinessChanged { ready })
    }

    /// Judges `rows` of a run that ended at `ended` seconds, with a 300s bound.
    fn check(rows: &[(u64, &str, What)], ended: u64) -> Verdict {
        judge(
            &WorldConfig::default(),
            &trace(rows),
            Duration::from_secs(ended),
        )
        .verdict
    }

    fn stall_of(verdict: &Verdict) -> (&str, u64, u64) {
        match verdict {
            Verdict::Stall(s) => (
                s.replica.as_str(),
                s.not_ready_since.as_secs(),
                s.detected_at.as_secs(),
            ),
            other => panic!("expected a stall, got {other:?}"),
        }
    }

    /// Both replicas of the default world start at 0s and are ready at 10s.
    fn both_ready() -> Vec<(u64, &'static str, What)> {
        vec![
            (0, "grm-0", started()),
            (0, "grm-1", started()),
            (10, "grm-0", ready(true)),
            (10, "grm-1", ready(true)),
        ]
    }

    fn reasons_of(verdict: Verdict) -> Vec<String> {
        match verdict {
            Verdict::Inconclusive { reasons } => reasons,
            other => panic!("expected inconclusive, got {other:?}"),
        }
    }

    #[test]
    fn replicas_that_become_ready_converge() {
        assert_eq!(check(&both_ready(), 1200), Verdict::Converges);
    }

    #[test]
    fn never_ready_past_the_bound_is_a_stall_from_the_start() {
        let verdict = check(&[(5, "grm-0", started()), (5, "grm-1", started())], 1200);
        assert_eq!(stall_of(&verdict), ("grm-0", 5, 305));
    }

    #[test]
    fn a_stretch_still_open_and_shorter_than_the_bound_is_inconclusive() {
        let mut rows = both_ready();
        rows.push((900, "grm-1", ready(false)));
        let reasons = reasons_of(check(&rows, 1200));
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(
            reasons[0].starts_with("grm-1 was not ready from 15m0.000s"),
            "{reasons:?}"
        );
        // The same stretch, one second past the bound: a stall.
        assert_eq!(stall_of(&check(&rows, 1201)), ("grm-1", 900, 1200));
    }

    #[test]
    fn a_run_that_ends_within_the_bound_of_its_last_event_is_inconclusive() {
        let reasons = reasons_of(check(&both_ready(), 299));
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("after the last scheduled event")),
            "{reasons:?}"
        );
        assert_eq!(check(&both_ready(), 300), Verdict::Converges);
    }

    #[test]
    fn a_replica_that_never_started_is_inconclusive() {
        let rows = [(0, "grm-0", started()), (10, "grm-0", ready(true))];
        let reasons = reasons_of(check(&rows, 1200));
        assert_eq!(reasons, vec!["grm-1 never started (scheduled at 0.000s)"]);
    }

    #[test]
    fn a_deletion_that_never_happened_is_inconclusive() {
        let config = WorldConfig {
            flow: Some(crate::DeletionFlowConfig::new(
                Duration::from_secs(60),
                vec!["prometheuses.monitoring.coreos.com".into()],
            )),
            ..WorldConfig::default()
        };
        let judged =
            |rows: &[(u64, &str, What)]| judge(&config, &trace(rows), Duration::from_secs(1200));
        let reasons = reasons_of(judged(&both_ready()).verdict);
        assert_eq!(
            reasons,
            vec!["the deletion flow never deleted prometheuses.monitoring.coreos.com (scheduled at 1m0.000s)"]
        );
        let mut rows = both_ready();
        rows.push((
            60,
            "flow",
            world(WorldEvent::CrdDeleted {
                name: "prometheuses.monitoring.coreos.com".into(),
            }),
        ));
        assert_eq!(judged(&rows).verdict, Verdict::Converges);
    }

    #[test]
    fn a_fault_that_never_struck_or_missed_is_inconclusive() {
        let config = WorldConfig {
            faults: vec![crate::Fault {
                at: Duration::from_secs(50),
                action: crate::FaultAction::Restart {
                    replica: "grm-0".into(),
                },
            }],
            ..WorldConfig::default()
        };
        let judged =
            |rows: &[(u64, &str, What)]| judge(&config, &trace(rows), Duration::from_secs(1200));
        let reasons = reasons_of(judged(&both_ready()).verdict);
        assert!(
            reasons[0].starts_with("1 scheduled fault(s) never struck"),
            "{reasons:?}"
        );
        let mut missed = both_ready();
        missed.push((
            50,
            "grm-0",
            world(WorldEvent::FaultMissed {
                fault: "restart grm-0".into(),
                why: "its container was not running".into(),
            }),
        ));
        let reasons = reasons_of(judged(&missed).verdict);
        assert_eq!(
            reasons,
            vec!["the fault `restart grm-0` at 50.000s did nothing: its container was not running"]
        );
        let mut struck = both_ready();
        struck.push((
            50,
            "grm-0",
            world(WorldEvent::FaultApplied {
                fault: "restart grm-0".into(),
            }),
        ));
        assert_eq!(judged(&struck).verdict, Verdict::Converges);
        // Struck, but too late for the bound to run out before the end.
        struck[4].0 = 1000;
        let reasons = reasons_of(judged(&struck).verdict);
        assert!(
            reasons[0].contains("(restart grm-0 at 16m40.000s)"),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_stall_is_a_stall_even_when_the_run_is_otherwise_undecided() {
        // grm-1 never started, but grm-0 is a counterexample already.
        let verdict = check(&[(5, "grm-0", started())], 1200);
        assert_eq!(stall_of(&verdict), ("grm-0", 5, 305));
    }

    #[test]
    fn a_restart_within_the_bound_ends_the_interval() {
        for restart in [
            world(WorldEvent::StopRequested {
                reason: "liveness".into(),
            }),
            world(WorldEvent::ContainerKilled {
                reason: "fault".into(),
            }),
            world(WorldEvent::ContainerExited),
        ] {
            let mut rows = both_ready();
            rows.extend([
                (60, "grm-0", ready(false)),
                (359, "grm-0", restart),
                (360, "grm-0", ready(false)), // the kubelet's view of a stopped container
                (361, "grm-0", started()),
                (371, "grm-0", ready(true)),
            ]);
            assert_eq!(check(&rows, 1200), Verdict::Converges);
        }
    }

    #[test]
    fn a_model_error_makes_any_run_inconclusive() {
        let panicked = world(WorldEvent::TaskPanicked {
            message: "boom".into(),
            location: Some("src/x.rs:1:2".into()),
        });
        // A stall before the panic, and a run that would otherwise converge.
        let stalled = [(5, "grm-0", started()), (400, "grm-1", panicked.clone())];
        let mut converged = both_ready();
        converged.push((61, "apiserver", panicked));
        for rows in [&stalled[..], &converged[..]] {
            let judged = judge(
                &WorldConfig::default(),
                &trace(rows),
                Duration::from_secs(1200),
            );
            let reason = "model error at 1m1.000s: a task of apiserver panicked: boom (at src/x.rs:1:2); \
                          the run stopped there, and a verdict over a broken model would claim nothing about a cluster";
            let reason = if rows.len() == 2 {
                reason
                    .replace("1m1.000s", "6m40.000s")
                    .replace("apiserver", "grm-1")
            } else {
                reason.to_string()
            };
            assert_eq!(reasons_of(judged.verdict), vec![reason.clone()]);
            assert_eq!(judged.model_error, Some(reason));
        }
        let froze = world(WorldEvent::HostFroze { polls: 1001 });
        let reasons = reasons_of(check(&[(3, "world", froze)], 1200));
        assert!(
            reasons[0].starts_with("model error at 3.000s: the runtime froze: polled 1001 times"),
            "{reasons:?}"
        );
    }

    #[test]
    fn one_second_past_the_bound_is_a_stall() {
        let mut rows = both_ready();
        rows.push((60, "grm-0", ready(false)));
        assert_eq!(stall_of(&check(&rows, 361)), ("grm-0", 60, 360));
    }

    #[test]
    fn the_earliest_detection_is_reported() {
        let rows = [
            (0, "grm-0", started()),
            (0, "grm-1", started()),
            (10, "grm-1", ready(true)),
            (20, "grm-1", ready(false)),
        ];
        assert_eq!(stall_of(&check(&rows, 1200)).0, "grm-0");
    }

    #[test]
    fn a_stall_names_its_unsynced_informers_and_the_lease_holder() {
        let prometheus = "monitoring.coreos.com/v1, Kind=Prometheus".to_string();
        let secret = "v1, Kind=Secret".to_string();
        let rows = [
            (0, "grm-0", started()),
            (1, "grm-0", manager(ManagerEvent::LeaderElected)),
            (
                2,
                "grm-0",
                manager(ManagerEvent::InformerCreated {
                    kind: secret.clone(),
                    resource: "secrets".into(),
                }),
            ),
            (
                2,
                "grm-0",
                manager(ManagerEvent::InformerSynced { kind: secret }),
            ),
            (
                3,
                "grm-0",
                manager(ManagerEvent::InformerCreated {
                    kind: prometheus.clone(),
                    resource: "p".into(),
                }),
            ),
            (
                4,
                "grm-0",
                manager(ManagerEvent::ListFailed {
                    kind: prometheus.clone(),
                    error: "NotFound: gone".into(),
                    attempt: 1,
                    retry_in_ms: 800,
                }),
            ),
        ];
        let Verdict::Stall(stall) = check(&rows, 1200) else {
            panic!("expected a stall")
        };
        assert_eq!(stall.unsynced_informers, vec![prometheus]);
        assert_eq!(stall.last_list_error.as_deref(), Some("NotFound: gone"));
        assert_eq!(stall.lease_holder.as_deref(), Some("grm-0"));
    }

    fn exited() -> What {
        world(WorldEvent::ContainerExited)
    }

    fn restarted(n: u32) -> What {
        world(WorldEvent::ContainerStarted { restarts: n })
    }

    /// grm-0 never gets ready and its process exits every 2m: a restart
    /// loop once it has been not ready for the bound with two restarts.
    #[test]
    fn a_replica_that_keeps_restarting_unready_is_a_restart_loop() {
        let mut rows = vec![(0, "grm-1", started()), (10, "grm-1", ready(true))];
        rows.extend([
            (0, "grm-0", started()),
            (
                120,
                "grm-0",
                manager(ManagerEvent::ProcessExited {
                    reason: "failed to start controller: timed out".into(),
                }),
            ),
            (120, "grm-0", exited()),
            (131, "grm-0", restarted(1)),
            (251, "grm-0", exited()),
            (272, "grm-0", restarted(2)),
            (392, "grm-0", exited()),
            (433, "grm-0", restarted(3)),
        ]);
        rows.sort_by_key(|r| r.0);
        let Verdict::RestartLoop(looping) = check(&rows, 1200) else {
            panic!("expected a restart loop")
        };
        assert_eq!(looping.replica, "grm-0");
        assert_eq!(looping.not_ready_since, Duration::from_secs(0));
        assert_eq!(looping.detected_at, Duration::from_secs(300));
        assert_eq!(looping.restarts, 2);
        assert!(looping.cause.contains("timed out"), "{}", looping.cause);
    }

    /// One restart that leads to a ready pod is the remedy working, and
    /// ready pods in between break a loop.
    #[test]
    fn one_restart_or_a_ready_pod_in_between_is_no_loop() {
        let mut one = both_ready();
        one.extend([
            (60, "grm-0", ready(false)),
            (250, "grm-0", exited()),
            (261, "grm-0", restarted(1)),
            (400, "grm-0", ready(true)),
        ]);
        assert_eq!(check(&one, 1200), Verdict::Converges);
        let mut flapping = both_ready();
        flapping.extend([
            (60, "grm-0", ready(false)),
            (120, "grm-0", exited()),
            (131, "grm-0", restarted(1)),
            (150, "grm-0", ready(true)),
            (200, "grm-0", ready(false)),
            (250, "grm-0", exited()),
            (261, "grm-0", restarted(2)),
            (280, "grm-0", ready(true)),
        ]);
        assert_eq!(check(&flapping, 1200), Verdict::Converges);
    }
}

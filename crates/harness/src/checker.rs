//! The convergence checker: reads a finished trace and judges it. It only
//! observes; nothing in the world knows it exists.
//!
//! The property: every replica that is not ready becomes ready, or is
//! restarted, within `stall_bound`.

use std::collections::BTreeMap;
use std::time::Duration;

use stallsim_manager::ManagerEvent;

use crate::trace::{TraceEvent, What, WorldEvent};
use crate::{FlowOutcome, Report, Stall, Verdict, WorldConfig};

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
            | WorldEvent::ContainerExited => {
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
    let verdict = match first_stall {
        None => Verdict::Converges,
        Some((detected_at, replica, not_ready_since)) => {
            let (unsynced_informers, last_list_error) = unsynced_at(trace, &replica, detected_at);
            Verdict::Stall(Stall {
                lease_holder: lease_holder_at(trace, detected_at),
                replica,
                not_ready_since,
                detected_at,
                unsynced_informers,
                last_list_error,
            })
        }
    };
    let restarts = config
        .replicas
        .iter()
        .map(|r| {
            let starts = trace
                .iter()
                .filter(|e| {
                    e.source == r.name
                        && matches!(e.what, What::World(WorldEvent::ContainerStarted { .. }))
                })
                .count() as u32;
            (r.name.clone(), starts.saturating_sub(1))
        })
        .collect();
    Report {
        scenario: config.name.clone(),
        seed: config.seed,
        verdict,
        flow: config.flow.as_ref().map(|_| flow_outcome(trace)),
        restarts,
        simulated: ended,
    }
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
            Verdict::Converges => panic!("expected a stall"),
        }
    }

    #[test]
    fn a_replica_that_becomes_ready_converges() {
        assert_eq!(
            check(&[(0, "grm-0", started()), (10, "grm-0", ready(true))], 1200),
            Verdict::Converges
        );
    }

    #[test]
    fn never_ready_past_the_bound_is_a_stall_from_the_start() {
        let verdict = check(&[(5, "grm-0", started())], 1200);
        assert_eq!(stall_of(&verdict), ("grm-0", 5, 305));
    }

    #[test]
    fn a_run_that_ends_within_the_bound_is_not_a_stall() {
        assert_eq!(check(&[(5, "grm-0", started())], 300), Verdict::Converges);
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
            let rows = [
                (0, "grm-0", started()),
                (10, "grm-0", ready(true)),
                (60, "grm-0", ready(false)),
                (359, "grm-0", restart),
                (360, "grm-0", ready(false)), // the kubelet's view of a stopped container
                (361, "grm-0", started()),
                (371, "grm-0", ready(true)),
            ];
            assert_eq!(check(&rows, 1200), Verdict::Converges);
        }
    }

    #[test]
    fn one_second_past_the_bound_is_a_stall() {
        let rows = [
            (0, "grm-0", started()),
            (10, "grm-0", ready(true)),
            (60, "grm-0", ready(false)),
        ];
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
}

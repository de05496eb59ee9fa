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

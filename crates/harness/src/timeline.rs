//! A readable timeline of a trace: the key events only, repeats folded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use stallsim_manager::ManagerEvent;

use crate::trace::{Probe, TraceEvent, What, WorldEvent};

/// An informer that syncs within this of its creation is not worth a line.
const INFORMER_QUIET_SYNC: Duration = Duration::from_secs(1);

/// `1m27.350s`, `6.000s`, `1h0m0.000s`.
pub fn format_duration(duration: Duration) -> String {
    let total_ms = duration.as_millis();
    let (hours, minutes) = (total_ms / 3_600_000, (total_ms / 60_000) % 60);
    let seconds = (total_ms % 60_000) as f64 / 1000.0;
    match (hours, minutes) {
        (0, 0) => format!("{seconds:.3}s"),
        (0, m) => format!("{m}m{seconds:.3}s"),
        (h, m) => format!("{h}h{m}m{seconds:.3}s"),
    }
}

/// The key events of `trace`, one per line: discovery, lease changes, CRD
/// deletion, informers that did not sync at once, LIST failures (the first
/// of each informer, then a count), syncs, readiness and liveness changes,
/// restarts and the flow's result.
pub fn render_timeline(trace: &[TraceEvent]) -> String {
    let quiet = quietly_synced(trace);
    let mut out = String::new();
    let mut list_failures: BTreeMap<(String, String), (u32, Duration, String)> = BTreeMap::new();
    let mut probe_ok: BTreeMap<(String, &'static str), bool> = BTreeMap::new();
    for event in trace {
        let source = event.source.as_str();
        let line = match &event.what {
            What::Manager(manager) => match manager {
                ManagerEvent::DiscoveryCompleted { resources } => Some(format!(
                    "discovery: {} resources, {}",
                    resources.len(),
                    custom(resources)
                )),
                ManagerEvent::DiscoveryFailed { error } => {
                    Some(format!("discovery failed: {error}"))
                }
                ManagerEvent::MapperNoMatch { kind } => {
                    Some(format!("mapper: no match for {kind}"))
                }
                ManagerEvent::LeaseObserved { holder } => Some(format!(
                    "sees lease holder {}",
                    holder.as_deref().unwrap_or("<none>")
                )),
                ManagerEvent::LeaderElected => Some("became leader".to_string()),
                ManagerEvent::LeadershipLost => Some("lost leadership".to_string()),
                ManagerEvent::LeaseReleased => Some("released the lease".to_string()),
                ManagerEvent::ControllerFailedToStart { controller, error } => {
                    Some(format!("controller {controller} failed to start: {error}"))
                }
                ManagerEvent::ReconcileFailed {
                    controller, error, ..
                } => Some(format!("{controller} reconcile failed: {error}")),
                ManagerEvent::InformerCreated { kind, .. }
                    if !quiet.contains(&(source.to_string(), kind.clone())) =>
                {
                    Some(format!("informer created for {kind}"))
                }
                ManagerEvent::InformerSynced { kind }
                    if !quiet.contains(&(source.to_string(), kind.clone())) =>
                {
                    Some(format!("informer synced: {kind}"))
                }
                ManagerEvent::InformerRemoved { kind } => Some(format!("informer removed: {kind}")),
                ManagerEvent::ListFailed { kind, error, .. } => {
                    let entry = list_failures
                        .entry((source.to_string(), kind.clone()))
                        .or_insert((0, event.at(), String::new()));
                    entry.0 += 1;
                    entry.1 = event.at();
                    entry.2 = error.clone();
                    (entry.0 == 1)
                        .then(|| format!("LIST {kind} failed: {error} (retrying with backoff)"))
                }
                ManagerEvent::ProcessExited { reason } => Some(format!("process exited: {reason}")),
                _ => None,
            },
            What::World(world) => match world {
                WorldEvent::ContainerStarted { restarts: 0 } => {
                    Some("container started".to_string())
                }
                WorldEvent::ContainerStarted { restarts } => {
                    Some(format!("container restarted (restart #{restarts})"))
                }
                WorldEvent::ContainerExited => Some("container exited".to_string()),
                WorldEvent::ContainerKilled { reason } => {
                    Some(format!("container killed: {reason}"))
                }
                WorldEvent::StopRequested { reason } => Some(format!("stop requested: {reason}")),
                WorldEvent::NodeLost => {
                    Some("node lost: the process is gone, its kubelet silent".to_string())
                }
                WorldEvent::NodeNotReady => {
                    Some("node NotReady (node lifecycle controller): pod not Ready".to_string())
                }
                WorldEvent::PodEvicted => {
                    Some("pod evicted: Terminating while its node is unreachable".to_string())
                }
                WorldEvent::ReplacementCreated { replaces } => Some(format!(
                    "pod created by the ReplicaSet to replace {replaces}"
                )),
                WorldEvent::ProbeResult { probe, ok, detail } => {
                    let name = match probe {
                        Probe::Readiness => "readiness",
                        Probe::Liveness => "liveness",
                    };
                    let previous = probe_ok
                        .insert((source.to_string(), name), *ok)
                        .unwrap_or(true);
                    (previous && !*ok).then(|| format!("{name} probe failing: {detail}"))
                }
                WorldEvent::ReadinessChanged { ready } => {
                    Some(if *ready { "pod Ready" } else { "pod not Ready" }.to_string())
                }
                WorldEvent::LivenessFailed { failures } => Some(format!(
                    "liveness failed {failures} times: kubelet restarts the container"
                )),
                WorldEvent::CrdDeleted { name } => Some(format!("deleted CRD {name}")),
                WorldEvent::CrdDeleteFailed { name, error } => {
                    Some(format!("could not delete CRD {name}: {error}"))
                }
                WorldEvent::FlowWaitStarted { timeout_ms } => Some(format!(
                    "waiting for the deployment to be ready (timeout {})",
                    format_duration(Duration::from_millis(*timeout_ms))
                )),
                WorldEvent::FlowWaitSucceeded { ready, replicas } => {
                    Some(format!("deployment ready ({ready}/{replicas})"))
                }
                WorldEvent::FlowWaitTimedOut { ready, replicas } => Some(format!(
                    "wait timed out: {ready}/{replicas} replicas ready (context deadline exceeded)"
                )),
                WorldEvent::PartitionStarted { from } => Some(format!("partitioned from {from}")),
                WorldEvent::PartitionHealed { from } => {
                    Some(format!("partition from {from} healed"))
                }
                WorldEvent::Note { text } => Some(format!("note: {text}")),
                WorldEvent::TaskPanicked { .. }
                | WorldEvent::HostFroze { .. }
                | WorldEvent::ModelError { .. }
                | WorldEvent::HostBlocked { .. } => world
                    .failure(source, event.at())
                    .map(|failure| format!("MODEL ERROR, the run stops: {failure}")),
                _ => None,
            },
        };
        if let Some(line) = line {
            let _ = writeln!(
                out,
                "{:>12}  {:<9} {}",
                format_duration(event.at()),
                source,
                line
            );
        }
    }
    for ((source, kind), (count, last, error)) in
        list_failures.iter().filter(|(_, (count, _, _))| *count > 1)
    {
        let _ = writeln!(
            out,
            "{:>12}  {:<9} LIST {kind} failed {count} times in all, the last at {}: {error}",
            "",
            source,
            format_duration(*last)
        );
    }
    out
}

/// `(source, kind)` of informers that synced within [`INFORMER_QUIET_SYNC`].
fn quietly_synced(trace: &[TraceEvent]) -> Vec<(String, String)> {
    let mut created: BTreeMap<(String, String), Duration> = BTreeMap::new();
    let mut quiet = Vec::new();
    for event in trace {
        match &event.what {
            What::Manager(ManagerEvent::InformerCreated { kind, .. }) => {
                created.insert((event.source.clone(), kind.clone()), event.at());
            }
            What::Manager(ManagerEvent::InformerSynced { kind }) => {
                let key = (event.source.clone(), kind.clone());
                if created
                    .get(&key)
                    .is_some_and(|at| event.at().saturating_sub(*at) <= INFORMER_QUIET_SYNC)
                {
                    quiet.push(key);
                }
            }
            _ => {}
        }
    }
    quiet
}

/// The resources outside the built-in `*.k8s.io` and core groups.
/// The custom resources among a discovery's qualified resource names
/// (`prometheuses.monitoring.coreos.com`): those of no built-in group.
pub fn custom_resources(resources: &[String]) -> Vec<&str> {
    let builtin = |r: &&String| {
        !r.contains('.') || r.ends_with(".k8s.io") || r.ends_with(".apps") || r.ends_with(".batch")
    };
    resources
        .iter()
        .filter(|r| !builtin(r))
        .map(String::as_str)
        .collect()
}

fn custom(resources: &[String]) -> String {
    let custom = custom_resources(resources);
    if custom.is_empty() {
        "no custom resources".to_string()
    } else {
        format!("including {}", custom.join(", "))
    }
}

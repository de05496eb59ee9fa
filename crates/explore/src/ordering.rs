//! The order in which a run's key events first happened: which replica
//! discovered, led, listed the custom kind, turned not ready, failed
//! liveness and restarted, and when the CRDs were deleted. Two runs with
//! the same ordering interleaved the race the same way; counting orderings
//! says how much of the race a set of runs covered.

use std::collections::BTreeSet;

use stallsim_harness::manager::ManagerEvent;
use stallsim_harness::{Run, What, WorldEvent};

/// The key events of `run`, each at its first occurrence, in time order
/// (`grm-1 discovers`, `CRDs deleted`, `grm-1 leads`,
/// `grm-1 lists Prometheus: fails`).
pub fn ordering(run: &Run) -> Vec<String> {
    milestones(run).into_iter().map(|(name, _)| name).collect()
}

/// [`ordering`]'s key events with the simulated time each first happened
/// at, in milliseconds.
pub fn milestones(run: &Run) -> Vec<(String, u64)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for event in &run.trace {
        let source = event.source.as_str();
        let milestone = match &event.what {
            What::Manager(ManagerEvent::DiscoveryCompleted { .. }) => {
                Some(format!("{source} discovers"))
            }
            What::Manager(ManagerEvent::LeaderElected) => Some(format!("{source} leads")),
            What::Manager(ManagerEvent::ListSucceeded { kind, .. }) => {
                custom_kind(kind).map(|k| format!("{source} lists {k}: ok"))
            }
            What::Manager(ManagerEvent::ListFailed { kind, .. }) => {
                custom_kind(kind).map(|k| format!("{source} lists {k}: fails"))
            }
            What::World(WorldEvent::CrdDeleted { .. }) => Some("CRDs deleted".to_string()),
            What::World(WorldEvent::ReadinessChanged { ready: false }) => {
                Some(format!("{source} not ready"))
            }
            What::World(WorldEvent::LivenessFailed { .. }) => {
                Some(format!("{source} fails liveness"))
            }
            What::World(WorldEvent::ContainerStarted { restarts }) if *restarts > 0 => {
                Some(format!("{source} restarts"))
            }
            What::World(WorldEvent::NodeLost) => Some(format!("{source} loses its node")),
            What::World(WorldEvent::ReplacementCreated { replaces }) => {
                Some(format!("{source} replaces {replaces}"))
            }
            _ => None,
        };
        // A LIST is one milestone, whatever its outcome: the first counts.
        let key = milestone
            .as_deref()
            .map(|m| m.split(':').next().unwrap_or(m).to_string());
        if let (Some(milestone), Some(key)) = (milestone, key) {
            if seen.insert(key) {
                out.push((milestone, event.at_ms));
            }
        }
    }
    out
}

/// `Prometheus` for `monitoring.coreos.com/v1, Kind=Prometheus`; `None`
/// for the kinds of built-in groups, whose informers sync at once.
fn custom_kind(kind: &str) -> Option<&str> {
    let (api_version, name) = kind.split_once(", Kind=")?;
    let group = api_version.rsplit_once('/').map(|(g, _)| g)?;
    let builtin =
        !group.contains('.') || group.ends_with(".k8s.io") || group == "apps" || group == "batch";
    (!builtin).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::custom_kind;

    #[test]
    fn only_custom_kinds_are_milestones() {
        assert_eq!(
            custom_kind("monitoring.coreos.com/v1, Kind=Prometheus"),
            Some("Prometheus")
        );
        assert_eq!(custom_kind("v1, Kind=Secret"), None);
        assert_eq!(custom_kind("apps/v1, Kind=Deployment"), None);
        assert_eq!(custom_kind("coordination.k8s.io/v1, Kind=Lease"), None);
    }
}

//! The restart-loop half of the checker: a replica that keeps restarting
//! and is never ready in between, for longer than the stall bound
//! (CrashLoopBackOff without an end). It only reads the trace.
//!
//! A pod's stretch of unreadiness begins when it starts not ready, turns
//! not ready, or its container stops while it was ready, and spans its
//! container's exits and restarts until the kubelet sees it ready again.
//! A stretch longer than the bound that holds at least
//! [`LOOP_RESTARTS_MIN`] restarts is a restart loop; one restart that
//! leads to a ready pod is the kubelet's remedy working, not a loop.

use std::collections::BTreeMap;
use std::time::Duration;

use stallsim_manager::ManagerEvent;

use crate::trace::{TraceEvent, What, WorldEvent};
use crate::{RestartLoop, WorldConfig};

/// Restarts within one stretch of unreadiness that make it a loop: the
/// first restart did not help, and the kubelet restarted it again.
pub const LOOP_RESTARTS_MIN: u32 = 2;

/// One pod's open stretch of unreadiness.
struct Stretch {
    since: Duration,
    /// When each restart within it happened.
    restarts: Vec<Duration>,
    /// Why the container last stopped within it.
    cause: Option<String>,
    /// The controller that last failed to start within it, and its error.
    failed_controller: Option<(String, String)>,
}

/// The first restart loop of the run, by when it was detected.
pub(crate) fn first_restart_loop(
    config: &WorldConfig,
    trace: &[TraceEvent],
    ended: Duration,
) -> Option<RestartLoop> {
    let bound = config.checker.stall_bound;
    let mut open: BTreeMap<&str, Stretch> = BTreeMap::new();
    let mut first: Option<RestartLoop> = None;
    let mut note = |pod: &str, stretch: Stretch, until: Duration| {
        if until.saturating_sub(stretch.since) <= bound {
            return;
        }
        let nth = LOOP_RESTARTS_MIN as usize;
        let Some(&nth_restart) = stretch.restarts.get(nth - 1) else {
            return;
        };
        let detected_at = (stretch.since + bound).max(nth_restart);
        if detected_at > until || first.as_ref().is_some_and(|l| l.detected_at <= detected_at) {
            return;
        }
        let restarts = stretch
            .restarts
            .iter()
            .filter(|at| **at <= detected_at)
            .count() as u32;
        let watched = stretch
            .failed_controller
            .as_ref()
            .map(|(controller, _)| watched_kinds(config, pod, controller))
            .unwrap_or_default();
        let cause = describe(&stretch, &watched);
        first = Some(RestartLoop {
            replica: pod.to_string(),
            not_ready_since: stretch.since,
            detected_at,
            restarts,
            cause,
            watched_kinds: watched,
        });
    };
    for event in trace {
        let (pod, at) = (event.source.as_str(), event.at());
        match &event.what {
            What::World(WorldEvent::ContainerStarted { .. }) => match open.get_mut(pod) {
                Some(stretch) => stretch.restarts.push(at),
                None => start(&mut open, pod, at),
            },
            What::World(WorldEvent::ReadinessChanged { ready: false }) => start(&mut open, pod, at),
            What::World(WorldEvent::ReadinessChanged { ready: true }) => {
                if let Some(stretch) = open.remove(pod) {
                    note(pod, stretch, at);
                }
            }
            What::World(
                WorldEvent::ContainerExited
                | WorldEvent::ContainerKilled { .. }
                | WorldEvent::StopRequested { .. },
            ) => {
                start(&mut open, pod, at);
                let stretch = open.get_mut(pod).expect("opened above");
                if let What::World(WorldEvent::StopRequested { reason }) = &event.what {
                    stretch.cause = Some(format!("the kubelet restarted it: {reason}"));
                }
                if let What::World(WorldEvent::ContainerKilled { reason }) = &event.what {
                    stretch.cause = Some(format!("its container was killed: {reason}"));
                }
            }
            What::World(WorldEvent::NodeLost) => {
                if let Some(stretch) = open.remove(pod) {
                    note(pod, stretch, at);
                }
            }
            What::Manager(ManagerEvent::ProcessExited { reason }) => {
                if let Some(stretch) = open.get_mut(pod) {
                    stretch.cause = Some(format!("its process exited: {reason}"));
                }
            }
            What::Manager(ManagerEvent::ControllerFailedToStart { controller, error }) => {
                if let Some(stretch) = open.get_mut(pod) {
                    stretch.failed_controller = Some((controller.clone(), error.clone()));
                }
            }
            _ => {}
        }
    }
    for (pod, stretch) in open {
        note(pod, stretch, ended);
    }
    first
}

/// Opens `pod`'s stretch at `at`, unless one is open.
fn start<'a>(open: &mut BTreeMap<&'a str, Stretch>, pod: &'a str, at: Duration) {
    open.entry(pod).or_insert(Stretch {
        since: at,
        restarts: Vec::new(),
        cause: None,
        failed_controller: None,
    });
}

/// The sentence for a loop's cause: why the container last stopped, and
/// which kinds the controller that failed to start was waiting for.
fn describe(stretch: &Stretch, watched: &[String]) -> String {
    let mut cause = stretch
        .cause
        .clone()
        .unwrap_or_else(|| "its container kept stopping".to_string());
    if let Some((controller, _)) = &stretch.failed_controller {
        if watched.is_empty() {
            cause.push_str(&format!(" (controller {controller})"));
        } else {
            cause.push_str(&format!(
                " (controller {controller}, watching {})",
                watched.join(", ")
            ));
        }
    }
    cause
}

/// The kinds `controller` of `pod`'s component watches from the start,
/// as `group/version, Kind=K`.
fn watched_kinds(config: &WorldConfig, pod: &str, controller: &str) -> Vec<String> {
    let components = config.all_components();
    // A replacement pod is named after its replica: `<replica>-<suffix>`.
    let component = components
        .iter()
        .find(|c| c.replicas.iter().any(|r| r.name == pod))
        .or_else(|| {
            components.iter().find(|c| {
                c.replicas
                    .iter()
                    .any(|r| pod.starts_with(&format!("{}-", r.name)))
            })
        });
    component
        .and_then(|c| c.process.manager())
        .and_then(|m| m.controllers.iter().find(|k| k.name == controller))
        .map(|k| k.watches.iter().map(|g| g.to_string()).collect())
        .unwrap_or_default()
}

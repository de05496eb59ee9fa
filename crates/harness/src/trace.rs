//! The trace: every event of a run, stamped with simulated time and source.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use serde::Serialize;
use stallsim_manager::{EventSink, ManagerEvent};
use stallsim_net::{FailureKind, HostFailure};

use crate::{Report, WorldConfig};

/// Something the world's parts (kubelet, container runtime, flow, faults) did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum WorldEvent {
    /// The container started (again, when `restarts` > 0).
    ContainerStarted {
        /// Restarts before this start.
        restarts: u32,
    },
    /// The process ended by itself (an exit, or after a stop request).
    ContainerExited,
    /// The process was killed (a fault, or the grace period ran out).
    ContainerKilled {
        /// Why.
        reason: String,
    },
    /// The pod's node was lost: the process died with it, without a word
    /// to anyone; its kubelet no longer probes or reports.
    NodeLost,
    /// The node lifecycle controller found the lost node's kubelet silent
    /// for the grace period: the node is NotReady, and the pod not Ready.
    NodeNotReady,
    /// The pod was evicted after its toleration of the unreachable node:
    /// deleted, and Terminating while its node does not answer.
    PodEvicted,
    /// The ReplicaSet created this pod to replace a lost one.
    ReplacementCreated {
        /// The pod it replaces.
        replaces: String,
    },
    /// The kubelet asked the container to stop (SIGTERM).
    StopRequested {
        /// Why.
        reason: String,
    },
    /// The container runtime will start the container again after a delay.
    RestartScheduled {
        /// The delay (CrashLoopBackOff), in milliseconds.
        delay_ms: u64,
    },
    /// A probe's result.
    ProbeResult {
        /// Which probe.
        probe: Probe,
        /// Whether it passed.
        ok: bool,
        /// What it answered, or why it failed.
        detail: String,
    },
    /// The kubelet's view of the pod's readiness changed.
    ReadinessChanged {
        /// Ready now.
        ready: bool,
    },
    /// Liveness failed its threshold: the container will be restarted.
    LivenessFailed {
        /// Consecutive failed probes.
        failures: u32,
    },
    /// The simulated Prometheus scraped a target (source `prometheus`).
    Scraped {
        /// The target's instance (a pod, or `kube-state-metrics`).
        target: String,
        /// Whether it answered (`up`).
        up: bool,
        /// Samples stored, `up` among them.
        samples: u32,
    },
    /// The flow deleted a CRD.
    CrdDeleted {
        /// The CRD.
        name: String,
    },
    /// The flow's deletion of a CRD failed.
    CrdDeleteFailed {
        /// The CRD.
        name: String,
        /// The API server's error.
        error: String,
    },
    /// The flow began waiting for the deployment.
    FlowWaitStarted {
        /// Its timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// The flow saw the deployment ready.
    FlowWaitSucceeded {
        /// Ready replicas.
        ready: u32,
        /// Replicas.
        replicas: u32,
    },
    /// The flow's wait timed out.
    FlowWaitTimedOut {
        /// Ready replicas.
        ready: u32,
        /// Replicas.
        replicas: u32,
    },
    /// A replica was cut off from the API server.
    PartitionStarted {
        /// The replica.
        from: String,
    },
    /// A partition ended.
    PartitionHealed {
        /// The replica.
        from: String,
    },
    /// The kubelet could not publish a pod's status.
    PodStatusFailed {
        /// The API server's error.
        error: String,
    },
    /// A scheduled fault struck (`kill grm-0`, `partition grm-1 for 30s`).
    FaultApplied {
        /// The fault, in words.
        fault: String,
    },
    /// A scheduled fault found nothing to act on (a kill of a container that
    /// is not running); the run did not do what its scenario asked.
    FaultMissed {
        /// The fault, in words.
        fault: String,
        /// Why it missed.
        why: String,
    },
    /// A task of the host panicked: the model broke, and the run stopped
    /// here.
    TaskPanicked {
        /// The panic's message.
        message: String,
        /// The panic's `file:line:column`, when known.
        location: Option<String>,
    },
    /// The host kept waking itself without simulated time moving: the run
    /// would have spun forever, and stopped here.
    HostFroze {
        /// How often it was polled at that one instant.
        polls: u32,
    },
    /// The world found the model broken by what a host's code did (a
    /// program not bound to its code, a timestamp read from the OS clock
    /// written into an object): the run stopped here.
    ModelError {
        /// What, in a sentence.
        message: String,
    },
    /// One poll of the host took longer than the watchdog's bound in wall
    /// time: its code blocked the thread (and the world); the run stopped
    /// here.
    HostBlocked {
        /// The poll's wall time, in milliseconds (reported, never used).
        wall_ms: u64,
        /// The simulation's count of host polls at that one.
        poll: u64,
    },
    /// A line a program wrote into the trace (`Process::note`).
    Note {
        /// The line.
        text: String,
    },
}

impl WorldEvent {
    /// The event that records `failure`; its source is the failed host,
    /// or `world` for a task outside every host.
    pub(crate) fn of_failure(failure: &HostFailure) -> (String, WorldEvent) {
        let source = failure.host.clone().unwrap_or_else(|| "world".to_string());
        let event = match &failure.kind {
            FailureKind::Panicked { message, location } => WorldEvent::TaskPanicked {
                message: explain_panic(message),
                location: location.clone(),
            },
            FailureKind::Froze { polls } => WorldEvent::HostFroze { polls: *polls },
            FailureKind::Model { message } => WorldEvent::ModelError {
                message: message.clone(),
            },
            FailureKind::Blocked { wall, poll } => WorldEvent::HostBlocked {
                wall_ms: wall.as_millis() as u64,
                poll: *poll,
            },
        };
        (source, event)
    }

    /// The failure this event records, if it records one.
    pub(crate) fn failure(&self, source: &str, at: Duration) -> Option<HostFailure> {
        let kind = match self {
            WorldEvent::TaskPanicked { message, location } => FailureKind::Panicked {
                message: message.clone(),
                location: location.clone(),
            },
            WorldEvent::HostFroze { polls } => FailureKind::Froze { polls: *polls },
            WorldEvent::ModelError { message } => FailureKind::Model {
                message: message.clone(),
            },
            WorldEvent::HostBlocked { wall_ms, poll } => FailureKind::Blocked {
                wall: Duration::from_millis(*wall_ms),
                poll: *poll,
            },
            _ => return None,
        };
        Some(HostFailure {
            host: (source != "world").then(|| source.to_string()),
            at,
            kind,
        })
    }
}

/// tokio's panic on a real socket (its I/O driver is off in the
/// simulation), and what it means for the code that caused it.
const REAL_SOCKET_PANIC: &str = "IO is disabled";

/// A panic's message, with what it means when the model knows its cause.
fn explain_panic(message: &str) -> String {
    if message.contains(REAL_SOCKET_PANIC) {
        format!(
            "used a real socket (tokio::net or std::net), which reaches nothing inside the \
             simulation; use Process::listen for a server and the Process's client for the API \
             server (tokio: {message})"
        )
    } else {
        message.to_string()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
/// A kubelet probe.
pub enum Probe {
    /// `/readyz`.
    Readiness,
    /// `/healthz`.
    Liveness,
}

/// An event of either layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum What {
    /// Something a resource-manager process did.
    Manager(ManagerEvent),
    /// Something the world did.
    World(WorldEvent),
}

/// One line of the trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEvent {
    /// Simulated milliseconds since the start of the run.
    pub at_ms: u64,
    /// The host (replica name, `kubelet`, `flow`, `world`) it happened on or to.
    pub source: String,
    #[serde(flatten)]
    /// What happened.
    pub what: What,
}

impl TraceEvent {
    /// When, as a duration since the run began.
    pub fn at(&self) -> Duration {
        Duration::from_millis(self.at_ms)
    }

    /// One JSON line, without the newline.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("trace events always serialize")
    }
}

/// The first line of a trace file: what ran, so that the file stands alone.
pub fn header_line(config: &WorldConfig) -> String {
    #[derive(Serialize)]
    struct Header<'a> {
        #[serde(rename = "type")]
        type_: &'static str,
        scenario: &'a str,
        seed: u64,
        stallsim_version: &'static str,
        config: &'a WorldConfig,
    }
    serde_json::to_string(&Header {
        type_: "RunStarted",
        scenario: &config.name,
        seed: config.seed,
        stallsim_version: env!("CARGO_PKG_VERSION"),
        config,
    })
    .expect("configs always serialize")
}

/// The last line of a trace file: the verdict and what the checker found.
pub fn verdict_line(report: &Report) -> String {
    #[derive(Serialize)]
    struct Footer<'a> {
        #[serde(rename = "type")]
        type_: &'static str,
        #[serde(flatten)]
        report: &'a Report,
    }
    serde_json::to_string(&Footer {
        type_: "RunJudged",
        report,
    })
    .expect("reports always serialize")
}

/// Collects the trace of a run; shared by every host (they all run on one thread).
#[derive(Clone, Default)]
pub struct Recorder {
    events: Rc<RefCell<Vec<TraceEvent>>>,
}

impl Recorder {
    /// Records at the current simulated time.
    pub fn record(&self, source: &str, what: What) {
        let at_ms = crate::sim_now().unwrap_or_default().as_millis() as u64;
        self.record_at(at_ms, source, what);
    }

    pub fn record_at(&self, at_ms: u64, source: &str, what: What) {
        self.events.borrow_mut().push(TraceEvent {
            at_ms,
            source: source.to_string(),
            what,
        });
    }

    pub fn world(&self, source: &str, event: WorldEvent) {
        // Probes answer every few seconds: only their failures are news.
        match &event {
            WorldEvent::ProbeResult { ok: true, .. } => {
                tracing::trace!(target: "stallsim_harness", source, "{event:?}")
            }
            WorldEvent::ProbeResult { ok: false, .. } => {
                tracing::debug!(target: "stallsim_harness", source, "{event:?}")
            }
            _ => tracing::info!(target: "stallsim_harness", source, "{event:?}"),
        }
        self.record(source, What::World(event));
    }

    pub fn take(&self) -> Vec<TraceEvent> {
        std::mem::take(&mut self.events.borrow_mut())
    }
}

/// A manager's [`EventSink`] that writes into the trace under its replica's name.
pub(crate) struct ReplicaSink {
    pub recorder: Recorder,
    pub replica: String,
}

impl EventSink for ReplicaSink {
    fn record(&self, event: ManagerEvent) {
        self.recorder.record(&self.replica, What::Manager(event));
    }
}

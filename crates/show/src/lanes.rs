//! A finished run read into lanes: one per replica (its container's
//! states, the spans it led, its events), the deletion flow's waits and the
//! CRD deletions, from the trace alone. The SVG picture and the Markdown
//! report draw from it.

use stallsim_harness::manager::ManagerEvent;
use stallsim_harness::{
    custom_resources, format_duration, Probe, Run, TraceEvent, Verdict, What, WorldConfig,
    WorldEvent,
};

/// Room left after the last key event, as a fraction of the time shown.
const VIEW_MARGIN: f64 = 0.08;

/// What a replica's container is doing, as its lane shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Started, its process not yet running.
    Starting,
    /// Running, not ready.
    NotReady,
    /// Running and ready.
    Ready,
}

impl State {
    /// `starting`, `not ready`, `ready`.
    pub fn label(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::NotReady => "not ready",
            State::Ready => "ready",
        }
    }
}

/// What a mark on a lane stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A discovery completed.
    Discovery,
    /// An informer's LIST failed.
    ListFailed,
    /// An informer's LIST succeeded.
    ListSucceeded,
    /// An informer synced.
    Synced,
    /// A readiness probe failed.
    ReadinessFailed,
    /// A liveness probe failed.
    LivenessFailed,
    /// The container was killed or exited.
    Stopped,
    /// The pod's node was lost.
    NodeLost,
    /// The lost node was marked NotReady, and the pod not Ready.
    NodeNotReady,
    /// The pod on the lost node was evicted.
    Evicted,
    /// The container started again.
    Restarted,
    /// A program wrote a line into the trace (`Process::note`).
    Note,
}

/// One event on a lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// When, in simulated milliseconds.
    pub at_ms: u64,
    /// What kind of event.
    pub kind: MarkKind,
    /// The event in words, with its time.
    pub title: String,
}

/// One pod's lane, read from the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The pod.
    pub name: String,
    /// The pod this one replaced, when the ReplicaSet created it for a
    /// pod lost with its node.
    pub replaces: Option<String>,
    /// Its container's states: from, until (milliseconds), which.
    pub states: Vec<(u64, u64, State)>,
    /// The spans it led: from, until (milliseconds).
    pub leading: Vec<(u64, u64)>,
    /// Its events, in time order.
    pub marks: Vec<Mark>,
    /// The state open now, and since when (while the container runs).
    open: Option<(u64, State)>,
    leading_since: Option<u64>,
}

impl Lane {
    fn new(name: &str) -> Lane {
        Lane {
            name: name.to_string(),
            replaces: None,
            states: Vec::new(),
            leading: Vec::new(),
            marks: Vec::new(),
            open: None,
            leading_since: None,
        }
    }

    fn enter(&mut self, at_ms: u64, state: State) {
        self.close(at_ms);
        self.open = Some((at_ms, state));
    }

    fn close(&mut self, at_ms: u64) {
        if let Some((since, state)) = self.open.take() {
            self.states.push((since, at_ms, state));
        }
    }

    fn stop_leading(&mut self, at_ms: u64) {
        if let Some(since) = self.leading_since.take() {
            self.leading.push((since, at_ms));
        }
    }

    fn mark(&mut self, at_ms: u64, kind: MarkKind, title: String) {
        self.marks.push(Mark { at_ms, kind, title });
    }

    fn apply(&mut self, event: &TraceEvent) {
        let at = event.at_ms;
        let time = format_duration(event.at());
        match &event.what {
            What::World(WorldEvent::ContainerStarted { restarts }) => {
                self.enter(at, State::Starting);
                if *restarts > 0 {
                    self.mark(
                        at,
                        MarkKind::Restarted,
                        format!("{time} container restarted (restart #{restarts})"),
                    );
                }
            }
            What::Manager(ManagerEvent::ProcessStarted) => {
                if matches!(self.open, Some((_, State::Starting))) {
                    self.enter(at, State::NotReady);
                }
            }
            What::World(WorldEvent::ReadinessChanged { ready }) if self.open.is_some() => {
                let state = if *ready {
                    State::Ready
                } else {
                    State::NotReady
                };
                self.enter(at, state);
            }
            What::World(WorldEvent::ContainerKilled { reason }) => {
                self.close(at);
                self.stop_leading(at);
                self.mark(
                    at,
                    MarkKind::Stopped,
                    format!("{time} container killed: {reason}"),
                );
            }
            What::World(WorldEvent::ContainerExited) => {
                self.close(at);
                self.stop_leading(at);
                self.mark(at, MarkKind::Stopped, format!("{time} container exited"));
            }
            What::World(WorldEvent::NodeLost) => {
                self.close(at);
                self.stop_leading(at);
                self.mark(
                    at,
                    MarkKind::NodeLost,
                    format!("{time} node lost: the process died without a word"),
                );
            }
            What::World(WorldEvent::NodeNotReady) => self.mark(
                at,
                MarkKind::NodeNotReady,
                format!("{time} node NotReady: pod marked not Ready"),
            ),
            What::World(WorldEvent::PodEvicted) => self.mark(
                at,
                MarkKind::Evicted,
                format!("{time} pod evicted: Terminating, its node unreachable"),
            ),
            What::Manager(ManagerEvent::ProcessExited { .. })
            | What::Manager(ManagerEvent::LeadershipLost)
            | What::Manager(ManagerEvent::LeaseReleased) => self.stop_leading(at),
            What::Manager(ManagerEvent::LeaderElected) if self.leading_since.is_none() => {
                self.leading_since = Some(at);
            }
            What::Manager(ManagerEvent::DiscoveryCompleted { resources }) => {
                let custom = custom_resources(resources);
                let found = if custom.is_empty() {
                    "no custom resources".to_string()
                } else {
                    custom.join(", ")
                };
                self.mark(
                    at,
                    MarkKind::Discovery,
                    format!("{time} discovery: {found}"),
                );
            }
            What::Manager(ManagerEvent::ListFailed { kind, error, .. }) => self.mark(
                at,
                MarkKind::ListFailed,
                format!("{time} LIST {kind} failed: {error}"),
            ),
            What::Manager(ManagerEvent::ListSucceeded { kind, items, .. }) => self.mark(
                at,
                MarkKind::ListSucceeded,
                format!("{time} LIST {kind}: {items} items"),
            ),
            What::Manager(ManagerEvent::InformerSynced { kind }) => self.mark(
                at,
                MarkKind::Synced,
                format!("{time} informer synced: {kind}"),
            ),
            What::World(WorldEvent::ProbeResult {
                probe,
                ok: false,
                detail,
            }) => {
                let (kind, name) = match probe {
                    Probe::Readiness => (MarkKind::ReadinessFailed, "readiness"),
                    Probe::Liveness => (MarkKind::LivenessFailed, "liveness"),
                };
                self.mark(at, kind, format!("{time} {name} probe failed: {detail}"));
            }
            What::World(WorldEvent::Note { text }) => {
                self.mark(at, MarkKind::Note, format!("{time} {text}"))
            }
            _ => {}
        }
    }
}

/// One wait of the deletion flow for the deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    /// When it started, in simulated milliseconds.
    pub start_ms: u64,
    /// When it would time out.
    pub deadline_ms: u64,
    /// When it ended and whether the deployment was ready; `None` while
    /// still waiting at the end of the run.
    pub end: Option<(u64, bool)>,
}

/// A finished run read into lanes: what the picture and the report are
/// drawn from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    /// One lane per pod, in the world's order, a replacement below the pod
    /// it replaces.
    pub lanes: Vec<Lane>,
    /// The deletion flow's waits, in order.
    pub waits: Vec<Wait>,
    /// Each CRD deletion: when (milliseconds), which CRD.
    pub deletions: Vec<(u64, String)>,
    /// The end of the run, in simulated milliseconds.
    pub end_ms: u64,
    /// The last key event: a container or readiness change, an election,
    /// the end of the flow's first wait. Later is repetition (LIST retries,
    /// probe failures, further waits); the picture stops soon after it.
    last_key_ms: u64,
}

impl Picture {
    /// Reads the lanes of `run`, a finished run of the world `config`,
    /// from its trace.
    pub fn of(config: &WorldConfig, run: &Run) -> Picture {
        read(config, run)
    }

    /// Where a picture of `run` stops: a little after the last key event
    /// (or the stall's detection), at most the run's end, in milliseconds.
    pub fn view_end_ms(&self, run: &Run) -> u64 {
        let mut last_key_ms = self.last_key_ms;
        if let Verdict::Stall(stall) = &run.report.verdict {
            last_key_ms = last_key_ms.max(stall.detected_at.as_millis() as u64);
        }
        if let Verdict::RestartLoop(looping) = &run.report.verdict {
            last_key_ms = last_key_ms.max(looping.detected_at.as_millis() as u64);
        }
        ((last_key_ms as f64 * (1.0 + VIEW_MARGIN)) as u64).clamp(1, self.end_ms.max(1))
    }
}

fn read(config: &WorldConfig, run: &Run) -> Picture {
    let mut lanes: Vec<Lane> = config
        .all_replicas()
        .iter()
        .map(|r| Lane::new(&r.name))
        .collect();
    let mut waits: Vec<Wait> = Vec::new();
    let mut deletions = Vec::new();
    let end_ms = run.report.simulated.as_millis() as u64;
    let mut last_key_ms = 0;
    for event in &run.trace {
        let key = matches!(
            &event.what,
            What::World(
                WorldEvent::ContainerStarted { .. }
                    | WorldEvent::ContainerKilled { .. }
                    | WorldEvent::ContainerExited
                    | WorldEvent::NodeLost
                    | WorldEvent::ReadinessChanged { .. }
                    | WorldEvent::CrdDeleted { .. }
            ) | What::Manager(ManagerEvent::LeaderElected)
        ) || matches!(&event.what, What::World(WorldEvent::FlowWaitSucceeded { .. } | WorldEvent::FlowWaitTimedOut { .. }) if waits.len() == 1);
        if key {
            last_key_ms = event.at_ms;
        }
        if let What::World(WorldEvent::ReplacementCreated { replaces }) = &event.what {
            // The replacement's lane right below the pod it replaces.
            if !lanes.iter().any(|l| l.name == event.source) {
                let at = lanes
                    .iter()
                    .position(|l| &l.name == replaces)
                    .map_or(lanes.len(), |i| i + 1);
                let mut lane = Lane::new(&event.source);
                lane.replaces = Some(replaces.clone());
                lanes.insert(at, lane);
            }
            continue;
        }
        if let Some(lane) = lanes.iter_mut().find(|l| l.name == event.source) {
            lane.apply(event);
            continue;
        }
        match &event.what {
            What::World(WorldEvent::CrdDeleted { name }) => {
                deletions.push((event.at_ms, name.clone()));
            }
            What::World(WorldEvent::FlowWaitStarted { timeout_ms }) => waits.push(Wait {
                start_ms: event.at_ms,
                deadline_ms: event.at_ms + timeout_ms,
                end: None,
            }),
            What::World(WorldEvent::FlowWaitSucceeded { .. }) => {
                if let Some(wait) = waits.last_mut().filter(|w| w.end.is_none()) {
                    wait.end = Some((event.at_ms, true));
                }
            }
            What::World(WorldEvent::FlowWaitTimedOut { .. }) => {
                if let Some(wait) = waits.last_mut().filter(|w| w.end.is_none()) {
                    wait.end = Some((event.at_ms, false));
                }
            }
            _ => {}
        }
    }
    for lane in &mut lanes {
        lane.close(end_ms);
        lane.stop_leading(end_ms);
    }
    Picture {
        lanes,
        waits,
        deletions,
        end_ms,
        last_key_ms,
    }
}

/// What the picture shows of `run`, and where it stops: a little after the
/// last key event (or the stall's detection), at most the run's end.
pub(crate) fn view(config: &WorldConfig, run: &Run) -> (Picture, u64) {
    let picture = read(config, run);
    let end_ms = picture.view_end_ms(run);
    (picture, end_ms)
}

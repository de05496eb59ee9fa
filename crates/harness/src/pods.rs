//! The container runtime's state of every pod: what runs, what is asked to
//! stop, when a restart is due, which pod is lost with its node and which
//! replaces it. Shared by the kubelet host (which asks for restarts), the
//! controller-manager host (which schedules replacements) and the world's
//! driver (which crashes and bounces hosts).
//!
//! A pod belongs to a replica of the deployment (`replica`): the replica's
//! first pod carries its name; a pod that replaces a lost one is another
//! pod of the same replica, under a new name.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::watch;

use crate::CrashLoopConfig;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Phase {
    /// A replacement the ReplicaSet has not created yet: no node, no
    /// container, nothing probes it.
    Unscheduled,
    /// Not started yet; starts at the given time.
    Pending {
        start_at: Duration,
    },
    Running,
    /// Asked to stop; killed at the deadline if still running.
    Terminating {
        kill_at: Duration,
    },
    /// Waiting out the crash-loop backoff.
    Waiting {
        restart_at: Duration,
    },
    /// Its node is lost: nothing runs, restarts or reports again.
    Lost,
}

/// What the kubelet follows of a pod's containers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ContainerState {
    /// Incremented at every container start.
    pub generation: u64,
    /// A container of this generation runs.
    pub running: bool,
    /// The pod's node is lost: its kubelet is gone with it.
    pub node_lost: bool,
}

pub(crate) struct Pod {
    /// The replica of the deployment it is a pod of.
    pub replica: String,
    pub phase: Phase,
    /// Incremented at every container start; probes of an older start stop.
    pub generation: u64,
    pub started_at: Duration,
    pub restarts: u32,
    /// The next restart's delay (CrashLoopBackOff); zero before the first.
    pub next_backoff: Duration,
    pub stop: watch::Sender<bool>,
    /// For the kubelet to follow starts, stops and the node's loss.
    pub state: watch::Sender<ContainerState>,
    /// Bound to a node: the kubelet looks after it from then on.
    pub scheduled: watch::Sender<bool>,
    /// A restart was scheduled and not reported yet.
    unannounced_restart: bool,
}

/// Every pod of the deployment, by name.
#[derive(Clone, Default)]
pub(crate) struct Pods {
    inner: Rc<RefCell<BTreeMap<String, Pod>>>,
    /// Pod names in the order they were added.
    order: Rc<RefCell<Vec<String>>>,
    /// Restarts the kubelet asked for, by pod name and reason.
    requests: Rc<RefCell<Vec<(String, String)>>>,
    /// A host scheduled a pod since the driver last looked.
    scheduled_since: Rc<Cell<bool>>,
}

impl Pods {
    /// A replica's pod, bound to a node, starting at `start_at`.
    pub fn add(&self, name: &str, start_at: Duration) {
        self.insert(name, name, Phase::Pending { start_at }, true);
    }

    /// A pod that will replace a lost pod of `replica` once the ReplicaSet
    /// creates it ([`Pods::schedule`]).
    pub fn add_replacement(&self, name: &str, replica: &str) {
        self.insert(name, replica, Phase::Unscheduled, false);
    }

    fn insert(&self, name: &str, replica: &str, phase: Phase, scheduled: bool) {
        let pod = Pod {
            replica: replica.to_string(),
            phase,
            generation: 0,
            started_at: Duration::ZERO,
            restarts: 0,
            next_backoff: Duration::ZERO,
            stop: watch::Sender::new(false),
            state: watch::Sender::new(ContainerState {
                generation: 0,
                running: false,
                node_lost: false,
            }),
            scheduled: watch::Sender::new(scheduled),
            unannounced_restart: false,
        };
        self.inner.borrow_mut().insert(name.to_string(), pod);
        self.order.borrow_mut().push(name.to_string());
    }

    /// The pod that stands for `replica` now: its latest pod that exists
    /// (scheduled), lost or not.
    pub fn current(&self, replica: &str) -> Option<String> {
        let pods = self.inner.borrow();
        self.order
            .borrow()
            .iter()
            .rev()
            .find(|name| {
                pods.get(*name)
                    .is_some_and(|p| p.replica == replica && p.phase != Phase::Unscheduled)
            })
            .cloned()
    }

    /// The next replacement pod of `replica` not created yet.
    pub fn next_replacement(&self, replica: &str) -> Option<String> {
        let pods = self.inner.borrow();
        self.order
            .borrow()
            .iter()
            .find(|name| {
                pods.get(*name)
                    .is_some_and(|p| p.replica == replica && p.phase == Phase::Unscheduled)
            })
            .cloned()
    }

    /// The ReplicaSet created the pod and it is bound to a node: its
    /// container starts at `start_at`.
    pub fn schedule(&self, name: &str, start_at: Duration) {
        self.with(name, |pod| {
            pod.phase = Phase::Pending { start_at };
            pod.scheduled.send_replace(true);
        });
        self.scheduled_since.set(true);
    }

    /// The pod's node is lost: its container is gone, and nothing about it
    /// changes again.
    pub fn lose(&self, name: &str) {
        self.with(name, |pod| {
            pod.phase = Phase::Lost;
            pod.unannounced_restart = false;
            pod.state.send_modify(|state| {
                state.running = false;
                state.node_lost = true;
            });
        });
    }

    pub fn with<R>(&self, name: &str, f: impl FnOnce(&mut Pod) -> R) -> R {
        f(self
            .inner
            .borrow_mut()
            .get_mut(name)
            .expect("pods are added before use"))
    }

    /// Every pod, replacements not created yet among them, in the order added.
    pub fn names(&self) -> Vec<String> {
        self.order.borrow().clone()
    }

    /// Follows the container's starts and stops, and the node's loss.
    pub fn state(&self, name: &str) -> watch::Receiver<ContainerState> {
        self.with(name, |pod| pod.state.subscribe())
    }

    /// Turns true once the pod is bound to a node.
    pub fn scheduled(&self, name: &str) -> watch::Receiver<bool> {
        self.with(name, |pod| pod.scheduled.subscribe())
    }

    /// The stop signal of the current process.
    pub fn stop_signal(&self, name: &str) -> watch::Receiver<bool> {
        self.with(name, |pod| pod.stop.subscribe())
    }

    pub fn restarts(&self, name: &str) -> u32 {
        self.with(name, |pod| pod.restarts)
    }

    /// The kubelet asks for a graceful restart.
    pub fn request_restart(&self, name: &str, reason: &str) {
        self.requests
            .borrow_mut()
            .push((name.to_string(), reason.to_string()));
    }

    /// Whether the kubelet asked for a restart not acted on yet, or a pod
    /// was scheduled since the driver last took the requests.
    pub fn has_requests(&self) -> bool {
        !self.requests.borrow().is_empty() || self.scheduled_since.get()
    }

    /// The earliest time a pod's phase falls due (a start, a restart, a
    /// kill), and whether a scheduled restart is still to be announced.
    pub fn next_due(&self) -> (Option<Duration>, bool) {
        let pods = self.inner.borrow();
        let due = pods
            .values()
            .filter_map(|pod| match pod.phase {
                Phase::Pending { start_at } => Some(start_at),
                Phase::Waiting { restart_at } => Some(restart_at),
                Phase::Terminating { kill_at } => Some(kill_at),
                Phase::Running | Phase::Unscheduled | Phase::Lost => None,
            })
            .min();
        let unannounced = pods.values().any(|pod| pod.unannounced_restart);
        (due, unannounced)
    }

    pub fn take_requests(&self) -> Vec<(String, String)> {
        self.scheduled_since.set(false);
        std::mem::take(&mut self.requests.borrow_mut())
    }
}

impl Pod {
    /// When the scheduled restart is due, once per exit (after faults had
    /// their say on the delay).
    pub fn restart_announced(&mut self) -> Option<Duration> {
        match (&self.phase, std::mem::take(&mut self.unannounced_restart)) {
            (Phase::Waiting { restart_at }, true) => Some(*restart_at),
            _ => None,
        }
    }

    /// Marks a container start at `now`.
    pub fn start(&mut self, now: Duration) {
        self.phase = Phase::Running;
        self.generation += 1;
        self.started_at = now;
        self.stop = watch::Sender::new(false);
        let generation = self.generation;
        self.state.send_modify(|state| {
            state.generation = generation;
            state.running = true;
        });
    }

    /// The container ended at `now` and the kubelet noticed at `noticed`:
    /// the restart is due once the crash-loop backoff since the exit has
    /// passed (none before the first restart), plus the container's start.
    pub fn exited(
        &mut self,
        now: Duration,
        noticed: Duration,
        crash_loop: &CrashLoopConfig,
        container_start: Duration,
    ) {
        if now.saturating_sub(self.started_at) >= crash_loop.reset_after {
            self.next_backoff = Duration::ZERO;
        }
        let delay = self.next_backoff;
        self.next_backoff = if delay.is_zero() {
            crash_loop.initial
        } else {
            (delay * 2).min(crash_loop.cap)
        };
        self.restarts += 1;
        self.phase = Phase::Waiting {
            restart_at: noticed.max(now + delay) + container_start,
        };
        self.state.send_modify(|state| state.running = false);
        self.unannounced_restart = true;
    }
}

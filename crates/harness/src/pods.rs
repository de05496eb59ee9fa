//! The container runtime's state of every replica: what runs, what is asked
//! to stop, when a restart is due. Shared by the kubelet host (which asks for
//! restarts) and the world's driver (which crashes and bounces hosts).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::watch;

use crate::CrashLoopConfig;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Phase {
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
}

pub(crate) struct Pod {
    pub phase: Phase,
    /// Incremented at every container start; probes of an older start stop.
    pub generation: u64,
    pub started_at: Duration,
    pub restarts: u32,
    /// The next restart's delay (CrashLoopBackOff); zero before the first.
    pub next_backoff: Duration,
    pub stop: watch::Sender<bool>,
    /// `(generation, running)`, for the kubelet to follow starts and stops.
    pub state: watch::Sender<(u64, bool)>,
    /// A restart was scheduled and not reported yet.
    unannounced_restart: bool,
}

/// Every pod of the deployment, by name.
#[derive(Clone, Default)]
pub(crate) struct Pods {
    inner: Rc<RefCell<BTreeMap<String, Pod>>>,
    /// Restarts the kubelet asked for, by pod name and reason.
    requests: Rc<RefCell<Vec<(String, String)>>>,
}

impl Pods {
    pub fn add(&self, name: &str, start_at: Duration) {
        let pod = Pod {
            phase: Phase::Pending { start_at },
            generation: 0,
            started_at: Duration::ZERO,
            restarts: 0,
            next_backoff: Duration::ZERO,
            stop: watch::Sender::new(false),
            state: watch::Sender::new((0, false)),
            unannounced_restart: false,
        };
        self.inner.borrow_mut().insert(name.to_string(), pod);
    }

    pub fn with<R>(&self, name: &str, f: impl FnOnce(&mut Pod) -> R) -> R {
        f(self
            .inner
            .borrow_mut()
            .get_mut(name)
            .expect("pods are added before use"))
    }

    pub fn names(&self) -> Vec<String> {
        self.inner.borrow().keys().cloned().collect()
    }

    /// Follows the container's starts and stops.
    pub fn state(&self, name: &str) -> watch::Receiver<(u64, bool)> {
        self.with(name, |pod| pod.state.subscribe())
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

    /// Whether the kubelet asked for a restart not acted on yet.
    pub fn has_requests(&self) -> bool {
        !self.requests.borrow().is_empty()
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
                Phase::Running => None,
            })
            .min();
        let unannounced = pods.values().any(|pod| pod.unannounced_restart);
        (due, unannounced)
    }

    pub fn take_requests(&self) -> Vec<(String, String)> {
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
        self.state.send_replace((self.generation, true));
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
        self.state.send_replace((self.generation, false));
        self.unannounced_restart = true;
    }
}

//! Programs: a component whose replicas run the user's own code (a
//! kube-rs controller, say) instead of the resource-manager core.
//!
//! A [`Program`] is a name and an async function; every start of a
//! replica's container calls the function once with a fresh [`Process`]:
//! its `kube::Client` on the simulated API server, its pod, seed and
//! simulated wall clock, a port to listen on, its health functions, the
//! kubelet's stop signal and a pen for the trace. The function's future is
//! the process: when it returns, the container exits; when the container
//! is killed or its host lost, the future is dropped where it waits.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures::future::LocalBoxFuture;
use k8s_openapi::jiff::Timestamp;
use serde::{Serialize, Serializer};
use stallsim_net::TcpListener;
use tokio::sync::watch;

use crate::trace::{Recorder, WorldEvent};

/// The code of a program: called once per process start.
pub type ProgramCode = Arc<dyn Fn(Process) -> LocalBoxFuture<'static, ()> + Send + Sync>;

/// A component's process as the user's code: a name (what a scenario file's
/// `program:` says) and the async function every process start runs.
///
/// ```
/// use stallsim_harness::Program;
/// let idle = Program::new("idle", |process| async move {
///     process.note("started");
///     process.shutdown().await;
/// });
/// assert_eq!(format!("{idle:?}"), "Program(\"idle\")");
/// ```
#[derive(Clone)]
pub struct Program {
    name: String,
    /// `None` for a program a file names but no code was bound to.
    code: Option<ProgramCode>,
}

impl Program {
    /// The program `name` running `code` in every process start.
    pub fn new<F, Fut>(name: impl Into<String>, code: F) -> Program
    where
        F: Fn(Process) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Program {
            name: name.into(),
            code: Some(Arc::new(move |process| Box::pin(code(process)))),
        }
    }

    /// A program a scenario file names, its code not bound yet: a world
    /// that runs it stops at once with a model error saying so.
    pub fn unbound(name: impl Into<String>) -> Program {
        Program {
            name: name.into(),
            code: None,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether code is bound to it.
    pub fn is_bound(&self) -> bool {
        self.code.is_some()
    }

    pub(crate) fn code(&self) -> Option<&ProgramCode> {
        self.code.as_ref()
    }
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Program").field(&self.name).finish()
    }
}

/// The same name and the same code (the same `Arc`), or both unbound.
impl PartialEq for Program {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && match (&self.code, &other.code) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// Its name: a trace's header names the program, not its code.
impl Serialize for Program {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

/// A health function: `Ok` passes, `Err` fails with its text as the detail.
pub type HealthCheck = Rc<dyn Fn() -> Result<(), String>>;

/// A process's health functions, served on the harness's probe port.
#[derive(Default)]
pub(crate) struct HealthFunctions {
    pub readyz: Option<HealthCheck>,
    pub healthz: Option<HealthCheck>,
}

/// Between tries to bind a port an old connection still holds.
const LISTEN_RETRY: Duration = Duration::from_millis(100);
/// Tries before [`Process::listen`] gives up on a port in use (a minute).
const LISTEN_TRIES_MAX: u32 = 600;

/// One start of a program's container, handed to its code: everything the
/// code may use of the world. Cheap to clone; every clone is the same
/// process.
#[derive(Clone)]
pub struct Process {
    inner: Rc<ProcessInner>,
}

struct ProcessInner {
    pod: String,
    namespace: String,
    seed: u64,
    client: kube::Client,
    stop: watch::Receiver<bool>,
    recorder: Recorder,
    health: Rc<RefCell<HealthFunctions>>,
}

impl Process {
    pub(crate) fn new(
        pod: String,
        namespace: String,
        seed: u64,
        client: kube::Client,
        stop: watch::Receiver<bool>,
        recorder: Recorder,
        health: Rc<RefCell<HealthFunctions>>,
    ) -> Process {
        Process {
            inner: Rc::new(ProcessInner {
                pod,
                namespace,
                seed,
                client,
                stop,
                recorder,
                health,
            }),
        }
    }

    /// A `kube::Client` on the simulated API server (its HTTP/1.1 face),
    /// built for this process: its connections die with it.
    pub fn client(&self) -> kube::Client {
        self.inner.client.clone()
    }

    /// The pod's name, which is also its host's name on the network.
    pub fn pod(&self) -> &str {
        &self.inner.pod
    }

    /// The namespace the pod runs in.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// A seed for this process start, drawn from the run's seed, the pod
    /// and its start count: draw randomness from it, never from the OS.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The simulated wall clock: the run's epoch plus simulated time. Use
    /// it wherever a controller would read `SystemTime` (timestamps it
    /// writes, lease times).
    pub fn now(&self) -> Timestamp {
        let elapsed = crate::sim_now().unwrap_or_default();
        let span = k8s_openapi::jiff::SignedDuration::try_from(elapsed)
            .expect("a run lasts less than 292 years");
        crate::epoch()
            .checked_add(span)
            .expect("the epoch plus a run is a timestamp")
    }

    /// Listens on `port` of the pod's host on the simulated network, where
    /// the kubelet's `httpGet` probes (and any other host) can reach it.
    /// While a previous process's connection still holds the port, tries
    /// again every 100ms for a minute (turmoil-net has no `SO_REUSEADDR`).
    pub async fn listen(&self, port: u16) -> io::Result<TcpListener> {
        assert!(
            stallsim_net::in_host(),
            "{}",
            stallsim_client::OUTSIDE_HOSTS
        );
        let mut tries = 0;
        loop {
            match TcpListener::bind(("0.0.0.0", port)).await {
                Err(error) if error.kind() == io::ErrorKind::AddrInUse => {
                    tries += 1;
                    if tries >= LISTEN_TRIES_MAX {
                        return Err(error);
                    }
                    tokio::time::sleep(LISTEN_RETRY).await;
                }
                other => return other,
            }
        }
    }

    /// Sets the process's readiness and liveness as functions, which the
    /// kubelet's probes without `httpGet` call. Unset, the process is
    /// ready and live while it runs.
    pub fn set_health(
        &self,
        readyz: impl Fn() -> Result<(), String> + 'static,
        healthz: impl Fn() -> Result<(), String> + 'static,
    ) {
        let mut health = self.inner.health.borrow_mut();
        health.readyz = Some(Rc::new(readyz));
        health.healthz = Some(Rc::new(healthz));
    }

    /// Resolves when the kubelet asks the container to stop (SIGTERM): exit
    /// within the pod's termination grace period, or be killed.
    pub fn shutdown(&self) -> impl Future<Output = ()> + 'static {
        let mut stop = self.inner.stop.clone();
        async move {
            // The sender lives as long as the pod: an error never comes
            // before the stop.
            let _ = stop.wait_for(|stopping| *stopping).await;
        }
    }

    /// Writes `text` into the trace, from this pod, at the current
    /// simulated time (shown in the timeline and the report).
    pub fn note(&self, text: impl Into<String>) {
        self.inner
            .recorder
            .world(&self.inner.pod, WorldEvent::Note { text: text.into() });
    }
}

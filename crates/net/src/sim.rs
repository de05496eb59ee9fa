//! [`Sim`]: the hosts, their processes, and the loop that runs them
//! until a deadline.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::net::IpAddr;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tokio::runtime::{RngSeed, Runtime};
use tokio::task::{JoinHandle, LocalSet};
use tokio::time::{Instant, Sleep};
use turmoil_net::{EnterGuard, HostId, KernelConfig, Net};

use crate::fabric::{Fabric, SegmentCounts};
use crate::failure::{FailureKind, HostFailure, POLLS_PER_INSTANT_MAX};
use crate::panics;
use crate::watchdog::Watchdog;

thread_local! {
    /// True while a host's process is polled on this thread.
    static IN_HOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the caller runs inside a simulated host's process: false in a
/// task the runtime runs outside every host (as `tokio::spawn` from a
/// host's task makes one), where no socket may be opened.
pub fn in_host() -> bool {
    IN_HOST.with(|h| h.get())
}

thread_local! {
    /// The running simulation's start, for [`crate::elapsed`].
    static ORIGIN: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The running simulation's hosts by address, for [`crate::host_name`].
    static HOST_NAMES: RefCell<Vec<(IpAddr, Rc<str>)>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn origin() -> Option<Instant> {
    ORIGIN.with(Cell::get)
}

pub(crate) fn host_name(ip: IpAddr) -> Option<Rc<str>> {
    HOST_NAMES.with(|names| {
        names
            .borrow()
            .iter()
            .find(|(at, _)| *at == ip)
            .map(|(_, name)| Rc::clone(name))
    })
}

/// A receive buffer far larger than any message here: the advertised
/// window never closes, since turmoil-net only reopens one after a read
/// that frees half the buffer, which a line reader never does.
const RECV_BUF_BYTES: usize = 64 * 1024 * 1024;

/// Configures a [`Sim`].
#[derive(Clone, Debug)]
pub struct Builder {
    seed: u64,
    latency_min: Duration,
    latency_max: Duration,
    polls_per_instant_max: u32,
    /// The watchdog's bounds, when it watches (`poll_wall_max`, abort).
    watchdog: Option<(Duration, Duration)>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            seed: 0,
            latency_min: Duration::from_millis(1),
            latency_max: Duration::from_millis(1),
            polls_per_instant_max: POLLS_PER_INSTANT_MAX,
            watchdog: None,
        }
    }
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Seeds the latencies and tokio's own choices (`select!`'s branch order).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Every segment takes between `min` and `max`, drawn from the seed.
    pub fn latency(mut self, min: Duration, max: Duration) -> Self {
        self.latency_min = min;
        self.latency_max = max;
        self
    }

    /// A host polled more often than this at one simulated instant is
    /// frozen, and ends the run ([`POLLS_PER_INSTANT_MAX`] by default).
    pub fn polls_per_instant_max(mut self, polls: u32) -> Self {
        self.polls_per_instant_max = polls;
        self
    }

    /// Watches every poll of a host with a watchdog (`watchdog.rs`): a
    /// poll longer than `poll_wall_max` of wall time fails the run
    /// ([`FailureKind::Blocked`]); one that outlasts `poll_wall_abort`
    /// aborts the process with a sentence on stderr. For worlds that run
    /// code the model does not know ([`POLL_WALL_MAX`], [`POLL_WALL_ABORT`]).
    ///
    /// [`POLL_WALL_MAX`]: crate::POLL_WALL_MAX
    /// [`POLL_WALL_ABORT`]: crate::POLL_WALL_ABORT
    pub fn watchdog(mut self, poll_wall_max: Duration, poll_wall_abort: Duration) -> Self {
        self.watchdog = Some((poll_wall_max, poll_wall_abort));
        self
    }

    /// A simulation with no hosts yet, at time zero. At most one exists on
    /// a thread at a time (turmoil-net keeps its network in a thread local).
    pub fn build(&self) -> Sim {
        panics::install_hook();
        let mut runtime = tokio::runtime::Builder::new_current_thread();
        runtime
            .enable_time()
            .start_paused(true)
            .rng_seed(RngSeed::from_bytes(&self.seed.to_le_bytes()));
        // A task spawned outside every host that panics stops the runtime
        // at once, and `run_until` with it.
        #[cfg(tokio_unstable)]
        runtime.unhandled_panic(tokio::runtime::UnhandledPanic::ShutdownRuntime);
        let runtime = runtime.build().expect("a current-thread runtime builds");
        // Retransmission off: the wire loses nothing but what a partition
        // cuts, and a cut connection stays cut, as on turmoil's network.
        let kernel = KernelConfig::default()
            .retx_threshold(u32::MAX)
            .recv_buf_cap(RECV_BUF_BYTES);
        let net = NetState::Building(Box::new(Net::with_config(kernel)));
        let origin = {
            let _runtime = runtime.enter();
            tokio::time::Instant::now()
        };
        ORIGIN.with(|o| o.set(Some(origin)));
        HOST_NAMES.with(|names| names.borrow_mut().clear());
        let timer = {
            let _runtime = runtime.enter();
            Box::pin(tokio::time::sleep_until(origin))
        };
        Sim {
            hosts: Vec::new(),
            fabric: Fabric::new(
                self.seed ^ 0x6e65_7477_6f72_6b00,
                self.latency_min,
                self.latency_max,
            ),
            origin,
            timer,
            net,
            runtime,
            frozen: Vec::new(),
            watch: Watch {
                origin,
                polls_per_instant_max: self.polls_per_instant_max,
                failure: None,
                dog: self.watchdog.map(|(max, abort)| Watchdog::new(max, abort)),
                names: Vec::new(),
            },
        }
    }
}

type Software = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>;

struct Host {
    name: String,
    id: HostId,
    ip: IpAddr,
    software: Software,
    process: Option<Process>,
}

/// A running process: its tasks, the one it began with, and the waker its
/// tasks wake it by.
struct Process {
    tasks: LocalSet,
    main: JoinHandle<()>,
    waker: Arc<ProcessWaker>,
    /// The instant it was last polled at, and how often at that instant.
    polled_at: Option<Instant>,
    polls_at_instant: u32,
}

impl Process {
    /// Polls the tasks once at `now`. An error when one of them panicked
    /// (tokio catches the panic; the hook or, with `tokio_unstable`, the
    /// set's own shutdown tells), or when the process was polled more than
    /// `polls_max` times at `now` already: it wakes itself without time
    /// passing, and would keep the paused clock from ever moving.
    fn poll(&mut self, waker: &Waker, now: Instant, polls_max: u32) -> Result<(), FailureKind> {
        if self.polled_at == Some(now) {
            self.polls_at_instant += 1;
        } else {
            (self.polled_at, self.polls_at_instant) = (Some(now), 1);
        }
        if self.polls_at_instant > polls_max {
            return Err(FailureKind::Froze {
                polls: self.polls_at_instant,
            });
        }
        let tasks = &mut self.tasks;
        IN_HOST.with(|h| h.set(true));
        let polled = panic::catch_unwind(AssertUnwindSafe(|| {
            let _ = Pin::new(tasks).poll(&mut Context::from_waker(waker));
        }));
        IN_HOST.with(|h| h.set(false));
        match (panics::take(), polled) {
            (Some(caught), _) => Err(FailureKind::Panicked {
                message: caught.message,
                location: caught.location,
            }),
            (None, Err(payload)) => Err(FailureKind::Panicked {
                message: panics::payload_text(payload.as_ref()),
                location: None,
            }),
            (None, Ok(())) => Ok(()),
        }
    }
}

/// Marks its process runnable and wakes the loop; the loop polls only the
/// processes marked.
struct ProcessWaker {
    woken: AtomicBool,
    /// Set when the process is frozen ([`Sim::freeze`]): its wake-ups
    /// wake nothing.
    frozen: AtomicBool,
    /// The loop's own waker (its `block_on`).
    parent: Mutex<Option<Waker>>,
}

impl ProcessWaker {
    fn new() -> Arc<Self> {
        Arc::new(ProcessWaker {
            // A new process has its first task to run.
            woken: AtomicBool::new(true),
            frozen: AtomicBool::new(false),
            parent: Mutex::new(None),
        })
    }
}

impl Wake for ProcessWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.frozen.load(Ordering::Relaxed) {
            return;
        }
        self.woken.store(true, Ordering::Relaxed);
        if let Some(parent) = self.parent.lock().expect("never poisoned").as_ref() {
            parent.wake_by_ref();
        }
    }
}

/// Hosts on one paused tokio runtime over turmoil-net. [`Sim::run_until`]
/// advances time event by event; between calls the caller may crash,
/// restart and partition hosts.
pub struct Sim {
    hosts: Vec<Host>,
    fabric: Fabric,
    origin: Instant,
    /// Wakes the loop at the next delivery or the deadline.
    timer: Pin<Box<Sleep>>,
    net: NetState,
    runtime: Runtime,
    watch: Watch,
    /// Processes of frozen hosts ([`Sim::freeze`]), each with its host,
    /// kept unpolled until the simulation is dropped.
    frozen: Vec<(HostId, Process)>,
}

/// What watches the run for a broken model: the bound on polls at one
/// instant, and the first failure, after which the simulation runs no more.
struct Watch {
    origin: Instant,
    polls_per_instant_max: u32,
    failure: Option<HostFailure>,
    /// The watchdog, when the simulation has one.
    dog: Option<Watchdog>,
    /// The hosts' names, in order, for the watchdog's report.
    names: Vec<String>,
}

impl Watch {
    fn fail(&mut self, host: Option<&str>, now: Instant, kind: FailureKind) -> Poll<Stop> {
        self.failure.get_or_insert(HostFailure {
            host: host.map(str::to_string),
            at: now.saturating_duration_since(self.origin),
            kind,
        });
        Poll::Ready(Stop::Failed)
    }

    /// A task spawned on the runtime outside every host panicked since the
    /// last look.
    fn outside_hosts(&mut self, now: Instant) -> Option<Poll<Stop>> {
        let caught = panics::take()?;
        Some(self.fail(
            None,
            now,
            FailureKind::Panicked {
                message: caught.message,
                location: caught.location,
            },
        ))
    }
}

/// turmoil-net's network: hosts are added before it is installed on the
/// thread, which the first run does.
enum NetState {
    Building(Box<Net>),
    Installed(EnterGuard),
    Gone,
}

/// Why [`Sim::run_until`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The deadline was reached.
    Deadline,
    /// A process ended (its first task returned), or the caller's
    /// interrupt said so.
    Attention,
    /// A host broke the model ([`Sim::failure`] says how); the simulation
    /// runs no more.
    Failed,
}

impl Sim {
    /// Adds a host named `name` and starts its process: `software` is
    /// called again at every restart.
    pub fn host<F, Fut>(&mut self, name: &str, software: F)
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        assert!(self.index(name).is_none(), "host {name} is added only once");
        let NetState::Building(net) = &mut self.net else {
            panic!("hosts are added before the first run");
        };
        let id = net.add_host(name);
        let ip = net.lookup(name);
        let software: Software = Rc::new(move || Box::pin(software()));
        HOST_NAMES.with(|names| names.borrow_mut().push((ip, Rc::from(name))));
        self.watch.names.push(name.to_string());
        self.hosts.push(Host {
            name: name.to_string(),
            id,
            ip,
            software,
            process: None,
        });
        self.start(self.hosts.len() - 1);
    }

    /// Adds a host named `name` that runs `future` once, and runs every
    /// host until it returns; `None` if it has not by `limit` (simulated
    /// time since the start).
    ///
    /// # Panics
    ///
    /// When a host fails ([`Sim::failure`]), with the failure: a test's
    /// assertion inside `future` reports as itself.
    pub fn run_client<T, Fut>(&mut self, name: &str, limit: Duration, future: Fut) -> Option<T>
    where
        T: 'static,
        Fut: Future<Output = T> + 'static,
    {
        let output: Rc<RefCell<Option<T>>> = Rc::default();
        let once = RefCell::new(Some(future));
        let slot = Rc::clone(&output);
        self.host(name, move || {
            let future = once.borrow_mut().take();
            let slot = Rc::clone(&slot);
            async move {
                // A restart of the client host runs nothing.
                if let Some(future) = future {
                    let value = future.await;
                    *slot.borrow_mut() = Some(value);
                }
            }
        });
        while output.borrow().is_none() && self.elapsed() < limit {
            if self.run_until(limit, &mut || false) == Stop::Failed {
                let failure = self.failure().expect("a failed run has a failure");
                panic!("at {:?}: {failure}", failure.at);
            }
        }
        output.take()
    }

    /// The host that broke the model, once one has: the run stopped there.
    pub fn failure(&self) -> Option<&HostFailure> {
        self.watch.failure.as_ref()
    }

    /// Ends the run as broken by `host` (`None`: by no one host), now, for
    /// the reason in `message` ([`FailureKind::Model`]); a failure already
    /// recorded is kept. [`Sim::run_until`] returns [`Stop::Failed`] from
    /// then on.
    pub fn fail(&mut self, host: Option<&str>, message: String) -> &HostFailure {
        let now = self.runtime_now();
        let _ = self.watch.fail(host, now, FailureKind::Model { message });
        self.watch.failure.as_ref().expect("just recorded")
    }

    /// Runs `task` on the simulation's runtime outside every host: an
    /// observer that reads shared state on its own timers and touches no
    /// socket (a socket belongs to a host's process). Its wake-ups poll no
    /// host and sweep no kernel, so the hosts run as they would without it.
    /// It lives as long as the simulation; a panic in it ends the run as a
    /// failure with no host.
    pub fn spawn_observer<F>(&mut self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let _runtime = self.runtime.enter();
        drop(tokio::spawn(task));
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        let _runtime = self.runtime.enter();
        tokio::time::Instant::now().saturating_duration_since(self.origin)
    }

    /// Whether `name`'s process runs (was started and has not ended).
    pub fn is_host_running(&self, name: &str) -> bool {
        self.index(name)
            .and_then(|i| self.hosts[i].process.as_ref())
            .is_some_and(|p| !p.main.is_finished())
    }

    /// Kills `name`'s process: every task of it is dropped, and with them
    /// its sockets.
    pub fn crash(&mut self, name: &str) {
        let i = self.index(name).expect("a known host");
        self.stop(i);
    }

    /// `name`'s machine stops dead, as a node that lost its power or its
    /// network does: its process is never polled again and its sockets
    /// stay as they are, sending nothing, not even the FIN a closed socket
    /// would send. Unlike [`Sim::crash`], nothing of the process is
    /// dropped before the simulation is: a dropped socket would go on
    /// waiting in its kernel for the acknowledgement of that FIN, and
    /// every pass over the wire would visit it. The host counts as not
    /// running; a later start runs a new process beside the frozen one's
    /// sockets.
    pub fn freeze(&mut self, name: &str) {
        let i = self.index(name).expect("a known host");
        let host = &mut self.hosts[i];
        if let Some(process) = host.process.take() {
            process.waker.frozen.store(true, Ordering::Relaxed);
            self.frozen.push((host.id, process));
        }
    }

    /// Kills `name`'s process, if one runs, and starts a new one.
    pub fn bounce(&mut self, name: &str) {
        let i = self.index(name).expect("a known host");
        self.stop(i);
        self.start(i);
    }

    /// Drops every segment between `a` and `b`, either way, until repaired.
    pub fn partition(&mut self, a: &str, b: &str) {
        let (a, b) = (self.ip(a), self.ip(b));
        self.fabric.partition(a, b);
    }

    pub fn repair(&mut self, a: &str, b: &str) {
        let (a, b) = (self.ip(a), self.ip(b));
        self.fabric.repair(a, b);
    }

    /// What was put on the wire so far.
    pub fn segments(&self) -> SegmentCounts {
        self.fabric.counts()
    }

    /// Runs every host until simulated time reaches `deadline` (time since
    /// the start), or earlier when a process ends or `interrupt`, asked
    /// after every round of polls, returns true. [`Stop::Failed`] at once
    /// when a task panicked or a host froze, now or before.
    pub fn run_until(&mut self, deadline: Duration, interrupt: &mut dyn FnMut() -> bool) -> Stop {
        if self.watch.failure.is_some() {
            return Stop::Failed;
        }
        let deadline = self.origin + deadline;
        let Sim {
            hosts,
            fabric,
            timer,
            net,
            runtime,
            watch,
            ..
        } = self;
        if let NetState::Building(_) = net {
            let NetState::Building(building) = std::mem::replace(net, NetState::Gone) else {
                unreachable!("matched above");
            };
            *net = NetState::Installed((*building).enter());
        }
        let NetState::Installed(net) = net else {
            panic!("a dropped simulation does not run");
        };
        // Panics of simulated tasks are kept for the watch, not printed.
        let _capture = panics::Capture::start();
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(poll_fn(|cx| {
                poll_hosts(
                    cx,
                    hosts,
                    fabric,
                    net,
                    timer.as_mut(),
                    deadline,
                    interrupt,
                    watch,
                )
            }))
        }));
        match ran {
            Ok(stop) => stop,
            // The runtime stopped on a panic outside every host.
            Err(payload) => {
                let now = self.runtime_now();
                match self.watch.outside_hosts(now) {
                    Some(_) => Stop::Failed,
                    None => {
                        let message = panics::payload_text(payload.as_ref());
                        let kind = FailureKind::Panicked {
                            message,
                            location: None,
                        };
                        let _ = self.watch.fail(None, now, kind);
                        Stop::Failed
                    }
                }
            }
        }
    }

    fn runtime_now(&self) -> Instant {
        let _runtime = self.runtime.enter();
        tokio::time::Instant::now()
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.hosts.iter().position(|h| h.name == name)
    }

    fn ip(&self, name: &str) -> IpAddr {
        self.hosts[self.index(name).expect("a known host")].ip
    }

    fn start(&mut self, i: usize) {
        let _runtime = self.runtime.enter();
        let host = &mut self.hosts[i];
        #[allow(unused_mut)]
        let mut tasks = LocalSet::new();
        // A panicking task stops its whole process at once, and the poll
        // that ran it panics too, so the watch sees it even without the hook.
        #[cfg(tokio_unstable)]
        tasks.unhandled_panic(tokio::runtime::UnhandledPanic::ShutdownRuntime);
        let main = tasks.spawn_local((host.software)());
        host.process = Some(Process {
            tasks,
            main,
            waker: ProcessWaker::new(),
            polled_at: None,
            polls_at_instant: 0,
        });
    }

    fn stop(&mut self, i: usize) {
        let _runtime = self.runtime.enter();
        let host = &mut self.hosts[i];
        // Dropping the tasks drops their sockets, in this host's kernel
        // (a process that never ran has none).
        if let NetState::Installed(_) = self.net {
            turmoil_net::set_current(host.id);
        }
        if let Some(process) = host.process.take() {
            drop(process);
            self.fabric.touch();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        for i in 0..self.hosts.len() {
            self.stop(i);
        }
        let installed = matches!(self.net, NetState::Installed(_));
        for (id, process) in std::mem::take(&mut self.frozen) {
            let _runtime = self.runtime.enter();
            // Its sockets are dropped in its own host's kernel.
            if installed {
                turmoil_net::set_current(id);
            }
            drop(process);
        }
        self.net = NetState::Gone;
        ORIGIN.with(|o| o.set(None));
        HOST_NAMES.with(|names| names.borrow_mut().clear());
    }
}

/// One poll of the world: deliver what is due, poll the processes whose
/// tasks woke, put what they sent on the wire; repeat while a segment is
/// due at once, then sleep until the next delivery or the deadline (tokio
/// moves the paused clock to it, or to an earlier timer of some task).
/// A host that panics or freezes ends it at once ([`Stop::Failed`]).
#[allow(clippy::too_many_arguments)]
fn poll_hosts(
    cx: &mut Context<'_>,
    hosts: &mut [Host],
    fabric: &mut Fabric,
    net: &EnterGuard,
    mut timer: Pin<&mut Sleep>,
    deadline: Instant,
    interrupt: &mut dyn FnMut() -> bool,
    watch: &mut Watch,
) -> Poll<Stop> {
    loop {
        let now = tokio::time::Instant::now();
        if let Some(failed) = watch.outside_hosts(now) {
            return failed;
        }
        fabric.deliver_due(net, now);
        let mut ended = false;
        for (index, host) in hosts.iter_mut().enumerate() {
            let Some(process) = host.process.as_mut() else {
                continue;
            };
            if !process.waker.woken.swap(false, Ordering::Relaxed) {
                continue;
            }
            fabric.touch();
            {
                let mut parent = process.waker.parent.lock().expect("never poisoned");
                if !parent.as_ref().is_some_and(|p| p.will_wake(cx.waker())) {
                    *parent = Some(cx.waker().clone());
                }
            }
            turmoil_net::set_current(host.id);
            let waker = Waker::from(Arc::clone(&process.waker));
            let at_ms = now.saturating_duration_since(watch.origin).as_millis() as u64;
            let polling = match &mut watch.dog {
                Some(dog) => Some(dog.begin(index, at_ms, &watch.names)),
                None => None,
            };
            let polled = process.poll(&waker, now, watch.polls_per_instant_max);
            let blocked = match (&watch.dog, polling) {
                (Some(dog), Some(polling)) => dog.end(polling),
                _ => None,
            };
            if let Err(kind) = polled {
                drop(host.process.take());
                return watch.fail(Some(&host.name), now, kind);
            }
            if let Some(kind) = blocked {
                drop(host.process.take());
                return watch.fail(Some(&host.name), now, kind);
            }
            if process.main.is_finished() {
                // A process whose main returned exits: its other tasks
                // and sockets go with it.
                drop(host.process.take());
                ended = true;
            }
        }
        fabric.take_egress(net, now);
        if ended || interrupt() {
            return Poll::Ready(Stop::Attention);
        }
        if now >= deadline {
            return Poll::Ready(Stop::Deadline);
        }
        // A process woken by this round's deliveries was polled above, and
        // one with more to do has woken this loop's task again; only a
        // segment due already (a zero latency) needs another round now.
        let wake = fabric
            .next_delivery()
            .map_or(deadline, |at| at.min(deadline));
        if wake <= now {
            continue;
        }
        if timer.deadline() != wake {
            timer.as_mut().reset(wake);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
    }
}

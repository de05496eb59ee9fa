//! The world's driver: builds the simulation from a [`WorldConfig`] and
//! runs it from one driver step to the next, playing the container runtime
//! (start, crash, bounce), the faults and the partitions at tick
//! boundaries, as a tick-stepped world would.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use stallsim_apiserver::{ApiServer, HttpFace};
use stallsim_net::{SegmentCounts, Sim, Stop, TcpListener};

use crate::flow::DeletionFlow;
use crate::kubelet::{Kubelet, PodTemplate};
use crate::nodes::{replacement_name, ControllerManager, Loss, Losses, CONTROLLER_MANAGER_HOST};
use crate::pods::{Phase, Pods};
use crate::replica::{self, ReplicaImage};
use crate::requests::{component_requests, replica_requests};
use crate::scrape::{evaluate, Prometheus, PROMETHEUS_SOURCE};
use crate::ticks::{next_tick, phase_of};
use crate::trace::{Recorder, TraceEvent, What, WorldEvent};
use crate::{
    judge, ComponentConfig, FaultAction, Report, WorldConfig, APISERVER_HOST, API_HTTP_PORT,
    API_PORT,
};

pub(crate) const KUBELET_HOST: &str = "kubelet";
pub(crate) const FLOW_HOST: &str = "flow";

/// A finished run.
#[derive(Clone, Debug)]
pub struct Run {
    /// What the checker found.
    pub report: Report,
    /// Every event, in order.
    pub trace: Vec<TraceEvent>,
    /// What crossed the simulated wire.
    pub segments: SegmentCounts,
    /// Every sample the simulated Prometheus scraped (`None` without one).
    pub metrics: Option<stallsim_prometheus::SeriesStore>,
}

impl Run {
    /// The scraped samples in the OpenMetrics text format, each stamped
    /// with the wall-clock time its scrape stands for (the run starts at
    /// the same instant as every object timestamp of the world); `None`
    /// when the world had no Prometheus.
    pub fn openmetrics(&self) -> Option<String> {
        let origin_ms = crate::epoch().as_millisecond();
        self.metrics
            .as_ref()
            .map(|store| stallsim_prometheus::write_openmetrics(store, origin_ms))
    }
}

/// Runs `config` to its end and judges it.
pub fn run(config: &WorldConfig) -> Run {
    let mut world = World::new(config);
    while world.step() {}
    world.finish()
}

/// A world in progress; [`World::step`] advances it to the driver's next
/// step.
pub struct World {
    sim: Sim,
    config: WorldConfig,
    pods: Pods,
    recorder: Recorder,
    /// Faults not applied yet, in time order.
    faults: Vec<(Duration, FaultAction)>,
    /// Partitions to heal: when, and which replica.
    repairs: Vec<(Duration, String)>,
    /// Every pod's name, replacements not created yet among them.
    pod_names: Rc<[String]>,
    /// Lost nodes, for kube-controller-manager to act on.
    losses: Losses,
    /// Where in its period the kubelet's PLEG relists (drawn from the seed).
    pleg_phase: Duration,
    /// The API server, for its request metrics at the end.
    server: Rc<RefCell<ApiServer>>,
    /// The simulated Prometheus, when the scenario has one.
    prometheus: Option<Prometheus>,
}

/// The kubelet started at some unknown moment before the run: its relists
/// fall at a phase of the seed's choosing.
fn pleg_phase(config: &WorldConfig) -> Duration {
    phase_of(config.seed, KUBELET_HOST, config.kubelet.pleg_relist_period)
}

/// The first tick boundary at or after `at`.
fn tick_at_or_after(at: Duration, tick: Duration) -> Duration {
    let tick_ns = tick.as_nanos().max(1);
    Duration::from_nanos((at.as_nanos().div_ceil(tick_ns) * tick_ns) as u64)
}

/// The pods that may replace pods lost with their nodes, and the replica
/// each belongs to: one per node loss fault, named as the ReplicaSet
/// would, in the order of the faults.
fn replacements(config: &WorldConfig) -> Vec<(String, String)> {
    let mut faults: Vec<&crate::Fault> = config.faults.iter().collect();
    faults.sort_by_key(|f| f.at);
    let mut out: Vec<(String, String)> = Vec::new();
    for fault in faults {
        let FaultAction::NodeLoss { replica } = &fault.action else {
            continue;
        };
        let mut n = out.iter().filter(|(_, r)| r == replica).count() as u64 + 1;
        let taken = |name: &str| {
            config.all_replicas().iter().any(|r| r.name == name)
                || out.iter().any(|(p, _)| p == name)
        };
        // A name taken already (astronomically rare) is drawn again.
        while taken(&replacement_name(replica, n)) {
            n += 1;
        }
        out.push((replacement_name(replica, n), replica.clone()));
    }
    out
}

impl World {
    /// Builds the world of `config`, ready to step.
    pub fn new(config: &WorldConfig) -> Self {
        // fastrand's thread-local generator, which backon (kube-runtime's
        // default watcher backoff) forks for its jitter, and which a
        // program may draw from: seeded from the run's seed, so that a
        // run replays (a world runs on one thread from start to end).
        fastrand::seed(crate::mix_seed(config.seed, "fastrand", 0));
        let mut builder = stallsim_net::Builder::new()
            .seed(config.seed)
            .latency(config.network.latency_min, config.network.latency_max);
        // Code the model does not know may block its thread: watched.
        if config
            .components
            .iter()
            .any(|c| c.process.program().is_some())
        {
            builder = builder.watchdog(stallsim_net::POLL_WALL_MAX, stallsim_net::POLL_WALL_ABORT);
        }
        let mut sim = builder.build();
        let recorder = Recorder::default();
        let pods = Pods::default();

        let server = Rc::new(RefCell::new(ApiServer::new(config.apiserver.clone())));
        for crd in &config.crds {
            server.borrow_mut().install_crd(crd, Duration::ZERO);
        }
        let host_server = server.clone();
        sim.host(APISERVER_HOST, move || {
            let server = host_server.clone();
            async move {
                // The first process on a fresh host: its port is free.
                let listener = TcpListener::bind(("0.0.0.0", API_PORT))
                    .await
                    .expect("the API server's port is free");
                let http = TcpListener::bind(("0.0.0.0", API_HTTP_PORT))
                    .await
                    .expect("the API server's HTTP port is free");
                let face = HttpFace::simulated(server.clone());
                tokio::task::spawn_local(stallsim_apiserver::serve_simulated(http, face));
                // Accepting fails only when the network is gone.
                let _ = stallsim_apiserver::serve(listener, server).await;
            }
        });

        let components = config.all_components();
        // Each replica's component, by replica name.
        let component_of: BTreeMap<&str, &ComponentConfig> = components
            .iter()
            .flat_map(|c| c.replicas.iter().map(move |r| (r.name.as_str(), c)))
            .collect();
        let mut prometheus = config.prometheus.as_ref().map(|_| Prometheus::default());
        let mut image = |name: &str, replica: &str| {
            Rc::new(ReplicaImage {
                metrics: prometheus
                    .as_mut()
                    .map(|p| p.target(name, &component_of[replica].name)),
                name: name.to_string(),
                process: component_of[replica].process.clone(),
                namespace: config.manager.namespace.clone(),
                harness_probes: [
                    &component_of[replica].liveness,
                    &component_of[replica].readiness,
                ]
                .iter()
                .any(|probe| probe.http_get.is_none()),
                client: config.client,
                process_start: config.kubelet.process_start,
                request_timeout: config.network.request_timeout,
                world_seed: config.seed,
                pods: pods.clone(),
                recorder: recorder.clone(),
            })
        };
        for replica in config.all_replicas() {
            pods.add(&replica.name, replica.start_at);
            let image = image(&replica.name, &replica.name);
            sim.host(replica.name.as_str(), move || replica::run(image.clone()));
            // Not running until its start time; the driver bounces it then.
            sim.crash(replica.name.as_str());
        }
        // A pod that may replace one lost with its node, one per node loss:
        // hosts exist from the start, and run once the ReplicaSet creates
        // the pod and the runtime starts it.
        for name in replacements(config) {
            let (pod, replica) = (name.0.as_str(), name.1.as_str());
            pods.add_replacement(pod, replica);
            let image = image(pod, replica);
            sim.host(pod, move || replica::run(image.clone()));
            sim.crash(pod);
        }

        if let (Some(prometheus), Some(scrape)) = (&prometheus, &config.prometheus) {
            prometheus.start(
                &mut sim,
                scrape.scrape_interval,
                config.duration,
                &config.manager.namespace,
            );
        }

        let kubelet = Rc::new(Kubelet {
            pods: pods.clone(),
            recorder: recorder.clone(),
            namespace: config.manager.namespace.clone(),
            request_timeout: config.network.request_timeout,
            seed: config.seed,
            probe_phases: config
                .all_replicas()
                .iter()
                .filter_map(|r| Some((r.name.clone(), r.probe_phase?)))
                .collect(),
            templates: components
                .iter()
                .flat_map(|c| {
                    let template = Rc::new(PodTemplate {
                        app: c.name.clone(),
                        liveness: c.liveness.clone(),
                        readiness: c.readiness.clone(),
                    });
                    c.replicas
                        .iter()
                        .map(move |r| (r.name.clone(), template.clone()))
                })
                .collect(),
        });
        sim.host(KUBELET_HOST, move || kubelet.clone().run());

        let losses = Losses::default();
        let controller_manager = Rc::new(ControllerManager {
            losses: losses.clone(),
            pods: pods.clone(),
            recorder: recorder.clone(),
            namespace: config.manager.namespace.clone(),
            request_timeout: config.network.request_timeout,
            config: config.node_lifecycle.clone(),
            container_start: config.kubelet.container_start,
            termination_grace_period: config.kubelet.termination_grace_period,
        });
        sim.host(CONTROLLER_MANAGER_HOST, move || {
            controller_manager.clone().run()
        });

        if let Some(flow) = &config.flow {
            let flow = flow.clone();
            let recorder = recorder.clone();
            let namespace = config.manager.namespace.clone();
            let deployments: Vec<(String, u32)> = components
                .iter()
                .filter(|c| flow.wait_for.is_empty() || flow.wait_for.contains(&c.name))
                .map(|c| (c.name.clone(), c.replicas.len() as u32))
                .collect();
            let replicas = deployments.iter().map(|(_, n)| n).sum();
            let request_timeout = config.network.request_timeout;
            sim.host(FLOW_HOST, move || {
                DeletionFlow {
                    config: flow.clone(),
                    recorder: recorder.clone(),
                    namespace: namespace.clone(),
                    deployments: deployments.clone(),
                    replicas,
                    request_timeout,
                }
                .run()
            });
        }

        let mut faults: Vec<(Duration, FaultAction)> = config
            .faults
            .iter()
            .map(|f| (f.at, f.action.clone()))
            .collect();
        faults.sort_by_key(|(at, _)| *at);
        faults.reverse();
        let pod_names = pods.names().into();
        // A program the file names but no code was bound to: the run
        // cannot stand for anything, and stops before it starts.
        if let Some(name) = config.unbound_programs().first() {
            let message = format!(
                "the program `{name}` is not bound to code: a scenario file names a program, \
                 and its code is bound from Rust (`Scenario::program`; see docs/your-controller.md)"
            );
            let failure = sim.fail(None, message).clone();
            let (source, event) = WorldEvent::of_failure(&failure);
            recorder.record_at(0, &source, What::World(event));
        }
        World {
            sim,
            config: config.clone(),
            pods,
            recorder,
            faults,
            repairs: Vec::new(),
            pod_names,
            losses,
            pleg_phase: pleg_phase(config),
            server,
            prometheus,
        }
    }

    /// Simulated time so far.
    pub fn elapsed(&self) -> Duration {
        self.sim.elapsed()
    }

    /// Plays the runtime's due actions, then runs the hosts to the driver's
    /// next step: the first tick boundary at which something falls due (a
    /// fault, a repair, a pod's start, restart or kill), or after a process
    /// ended or the kubelet asked for a restart. False once the run's
    /// duration is reached, or once a host broke the model (a task panicked,
    /// or a host froze): the trace then ends with that event.
    pub fn step(&mut self) -> bool {
        let now = self.sim.elapsed();
        if now >= self.config.duration || self.sim.failure().is_some() {
            return false;
        }
        self.drive();
        let tick = self.config.tick;
        let next = self.next_due(now);
        let pods = self.pods.clone();
        let mut stop = self.sim.run_until(next, &mut || pods.has_requests());
        if stop == Stop::Attention {
            // Noticed at the next tick boundary, as between ticks.
            let boundary = tick_at_or_after(self.sim.elapsed(), tick).min(next);
            while self.sim.elapsed() < boundary && stop != Stop::Failed {
                stop = self.sim.run_until(boundary, &mut || false);
            }
        }
        if stop == Stop::Failed {
            self.record_failure();
            return false;
        }
        if self.wall_clock_read() {
            self.record_failure();
            return false;
        }
        true
    }

    /// A client wrote a timestamp the simulated wall clock could not have
    /// given (the API server's `wall_clock_reads`): the first ends the run
    /// as a model error naming the host, object, field, value and time.
    fn wall_clock_read(&mut self) -> bool {
        let Some(read) = self.server.borrow().wall_clock_reads().first().cloned() else {
            return false;
        };
        let message = format!(
            "{} wrote {} = {} into {} at simulated {} (the simulated wall clock said {}): \
             a time read from the OS clock (SystemTime, chrono or jiff now()) instead of \
             Process::now()",
            read.client.as_deref().unwrap_or("a client"),
            read.field,
            read.value,
            read.object,
            crate::format_duration(read.at),
            crate::epoch()
                .checked_add(
                    k8s_openapi::jiff::SignedDuration::try_from(read.at)
                        .unwrap_or(k8s_openapi::jiff::SignedDuration::ZERO)
                )
                .unwrap_or(crate::epoch()),
        );
        self.sim.fail(read.client.as_deref(), message);
        true
    }

    /// A host broke the model: the trace says which, when and how, and the
    /// run goes no further (a verdict over a dead task would be false).
    fn record_failure(&self) {
        let Some(failure) = self.sim.failure() else {
            return;
        };
        let (source, event) = WorldEvent::of_failure(failure);
        tracing::error!(target: "stallsim_harness", source, "{event:?}");
        self.recorder
            .record_at(failure.at.as_millis() as u64, &source, What::World(event));
    }

    /// The driver's next step after `now`: a tick boundary.
    fn next_due(&self, now: Duration) -> Duration {
        let tick = self.config.tick;
        let (pod_due, unannounced) = self.pods.next_due();
        let due = [
            self.faults.last().map(|(at, _)| *at),
            self.repairs.iter().map(|(at, _)| *at).min(),
            pod_due,
            unannounced.then_some(now),
            Some(self.config.duration),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.config.duration);
        tick_at_or_after(due, tick).max(now + tick)
    }

    /// The trace so far, judged.
    pub fn finish(self) -> Run {
        let mut trace = self.recorder.take();
        if let Some(prometheus) = &self.prometheus {
            trace.extend(prometheus.records().into_iter().map(|r| TraceEvent {
                at_ms: r.at_ms,
                source: PROMETHEUS_SOURCE.to_string(),
                what: What::World(WorldEvent::Scraped {
                    target: r.target,
                    up: r.up,
                    samples: r.samples,
                }),
            }));
        }
        // Events recorded by the driver and by hosts in the same tick: keep
        // time order, stable otherwise.
        trace.sort_by_key(|e| e.at_ms);
        let mut report = judge(&self.config, &trace, self.sim.elapsed());
        let server = self.server.borrow();
        report.api_requests = server.load().clone();
        let pods: Vec<String> = report.restarts.iter().map(|(pod, _)| pod.clone()).collect();
        report.api_by_replica = replica_requests(
            &server.client_loads(),
            pods.iter().map(String::as_str),
            report.simulated,
        );
        let components: Vec<(String, Vec<String>)> = self
            .config
            .all_components()
            .into_iter()
            .map(|c| (c.name, c.replicas.into_iter().map(|r| r.name).collect()))
            .collect();
        report.api_by_component =
            component_requests(&report.api_by_replica, &components, report.simulated);
        drop(server);
        let metrics = self.prometheus.as_ref().map(Prometheus::store);
        if let (Some(store), Some(config)) = (&metrics, &self.config.prometheus) {
            report.alerts = evaluate(config, store, report.simulated);
        }
        Run {
            metrics,
            report,
            trace,
            segments: self.sim.segments(),
        }
    }

    fn record(&self, source: &str, event: WorldEvent) {
        self.recorder.record_at(
            self.sim.elapsed().as_millis() as u64,
            source,
            What::World(event),
        );
    }

    fn drive(&mut self) {
        let now = self.sim.elapsed();
        while self.faults.last().is_some_and(|(at, _)| *at <= now) {
            let (_, action) = self.faults.pop().expect("checked above");
            self.apply(action, now);
        }
        let (due, pending): (Vec<_>, Vec<_>) = std::mem::take(&mut self.repairs)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.repairs = pending;
        for (_, replica) in due {
            self.sim.repair(replica.as_str(), APISERVER_HOST);
            self.record(
                &replica,
                WorldEvent::PartitionHealed {
                    from: APISERVER_HOST.to_string(),
                },
            );
        }
        for (name, reason) in self.pods.take_requests() {
            self.request_stop(&name, &reason, now);
        }
        // A cheap handle, so the loop can borrow `self` mutably.
        let names = Rc::clone(&self.pod_names);
        for name in names.iter() {
            self.advance_pod(name, now);
        }
    }

    fn apply(&mut self, action: FaultAction, now: Duration) {
        let (replica, fault) = (action.replica().to_string(), action.to_string());
        // A fault strikes the pod that stands for the replica now: its
        // replacement, once one replaced a pod lost with its node.
        let pod = self
            .pods
            .current(&replica)
            .unwrap_or_else(|| replica.clone());
        let not_running = "its container was not running".to_string();
        let applied = match action {
            FaultAction::Kill { down, .. } => {
                let killed = self.kill(&pod, "killed by fault", now);
                if killed {
                    self.pods.with(&pod, |pod| {
                        if let Phase::Waiting { restart_at } = &mut pod.phase {
                            *restart_at = (*restart_at).max(now + down);
                        }
                    });
                }
                killed.then_some(()).ok_or(not_running)
            }
            FaultAction::Restart { .. } => self
                .request_stop(&pod, "restarted by fault", now)
                .then_some(())
                .ok_or(not_running),
            FaultAction::NodeLoss { .. } => self.lose_node(&pod, &replica, now),
            FaultAction::Partition { duration, .. } => {
                self.sim.partition(pod.as_str(), APISERVER_HOST);
                self.record(
                    &pod,
                    WorldEvent::PartitionStarted {
                        from: APISERVER_HOST.to_string(),
                    },
                );
                self.repairs.push((now + duration, pod.clone()));
                Ok(())
            }
        };
        let event = match applied {
            Ok(()) => WorldEvent::FaultApplied { fault },
            Err(why) => WorldEvent::FaultMissed { fault, why },
        };
        self.record(&pod, event);
    }

    /// `pod`'s node is lost: the node drops off the network (so the dying
    /// process's sockets send nothing out) and the process dies with it,
    /// without a stop signal and without releasing its lease. The pod
    /// never runs again; kube-controller-manager takes it from here.
    fn lose_node(&mut self, pod: &str, replica: &str, now: Duration) -> Result<(), String> {
        if self.pods.with(pod, |p| p.phase == Phase::Lost) {
            return Err("its node was lost already".to_string());
        }
        for peer in [APISERVER_HOST, KUBELET_HOST] {
            self.sim.partition(pod, peer);
        }
        // The process stops dead with its node: frozen, not dropped, so
        // its sockets send not even a FIN (the partition would cut it).
        self.sim.freeze(pod);
        if let Some(prometheus) = &self.prometheus {
            prometheus.target_lost(pod);
        }
        self.pods.lose(pod);
        self.record(pod, WorldEvent::NodeLost);
        let replacement = self.pods.next_replacement(replica);
        self.losses.push(Loss::of(
            pod,
            replacement,
            now,
            self.config.seed,
            &self.config.node_lifecycle,
        ));
        Ok(())
    }

    /// SIGTERM: the process is told to stop and killed after the grace
    /// period. False when the container was not running.
    fn request_stop(&mut self, name: &str, reason: &str, now: Duration) -> bool {
        let grace = self.config.kubelet.termination_grace_period;
        let stopping = self.pods.with(name, |pod| {
            if pod.phase != Phase::Running {
                return false;
            }
            pod.stop.send_replace(true);
            pod.phase = Phase::Terminating {
                kill_at: now + grace,
            };
            true
        });
        if stopping {
            self.record(
                name,
                WorldEvent::StopRequested {
                    reason: reason.to_string(),
                },
            );
        }
        stopping
    }

    /// SIGKILL. False when the container was not running.
    fn kill(&mut self, name: &str, reason: &str, now: Duration) -> bool {
        let alive = self.pods.with(name, |pod| {
            matches!(pod.phase, Phase::Running | Phase::Terminating { .. })
        });
        if alive {
            self.sim.crash(name);
            self.record(
                name,
                WorldEvent::ContainerKilled {
                    reason: reason.to_string(),
                },
            );
            self.exited(name, now);
        }
        alive
    }

    fn exited(&mut self, name: &str, now: Duration) {
        let kubelet = &self.config.kubelet;
        let noticed = next_tick(now, self.pleg_phase, kubelet.pleg_relist_period);
        self.pods.with(name, |pod| {
            pod.exited(now, noticed, &kubelet.crash_loop, kubelet.container_start)
        });
    }

    fn advance_pod(&mut self, name: &str, now: Duration) {
        if let Some(restart_at) = self.pods.with(name, |pod| pod.restart_announced()) {
            let delay_ms = restart_at.saturating_sub(now).as_millis() as u64;
            self.record(name, WorldEvent::RestartScheduled { delay_ms });
        }
        let phase = self.pods.with(name, |pod| pod.phase.clone());
        match phase {
            Phase::Pending { start_at } if now >= start_at => self.start(name, now),
            Phase::Waiting { restart_at } if now >= restart_at => self.start(name, now),
            Phase::Running | Phase::Terminating { .. } if !self.sim.is_host_running(name) => {
                self.record(name, WorldEvent::ContainerExited);
                self.exited(name, now);
            }
            Phase::Terminating { kill_at } if now >= kill_at => {
                self.kill(name, "grace period over", now);
            }
            _ => {}
        }
    }

    fn start(&mut self, name: &str, now: Duration) {
        let restarts = self.pods.with(name, |pod| {
            pod.start(now);
            pod.restarts
        });
        self.sim.bounce(name);
        if let Some(prometheus) = &self.prometheus {
            prometheus.container_started(name, restarts);
        }
        self.record(name, WorldEvent::ContainerStarted { restarts });
    }
}

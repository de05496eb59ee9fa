//! What a world is made of: the whole input of one simulated run. A scenario
//! file becomes a [`WorldConfig`]; the harness knows nothing of files.

use std::time::Duration;

use serde::Serialize;

use crate::{format_duration, ComponentConfig};

use stallsim_apiserver::{ApiServerConfig, CrdSpec};
use stallsim_manager::ManagerConfig;

/// One run's complete input; the seed comes with it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorldConfig {
    /// The scenario's name (`metadata.name`).
    pub name: String,
    /// The seed every draw of the run comes from.
    pub seed: u64,
    /// Simulated time the run lasts.
    pub duration: Duration,
    /// The driver's step: the container runtime, faults and partitions act
    /// at tick boundaries (hosts and the network at 1ms timer resolution).
    pub tick: Duration,
    /// The simulated network's latencies.
    pub network: NetworkConfig,
    /// The fake API server's timings and bounds.
    pub apiserver: ApiServerConfig,
    /// Custom resources served from the start.
    pub crds: Vec<CrdSpec>,
    /// The deployment's pods.
    pub replicas: Vec<ReplicaSpec>,
    /// The process every replica runs; `identity` is set per replica.
    pub manager: ManagerConfig,
    /// Components besides the resource manager (`replicas` running
    /// `manager`), each a deployment of its own on the same API server.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentConfig>,
    /// The API client the replicas' processes are built on.
    pub client: ClientKind,
    /// The kubelet's probes and crash-loop backoff.
    pub kubelet: KubeletConfig,
    /// What follows a lost node: NotReady, eviction, a replacement pod.
    pub node_lifecycle: NodeLifecycleConfig,
    /// The deletion flow, if the world has one.
    pub flow: Option<DeletionFlowConfig>,
    /// Faults injected at set times.
    pub faults: Vec<Fault>,
    /// How the checker judges the trace.
    pub checker: CheckerConfig,
    /// The simulated Prometheus, when the scenario asks for one: without
    /// it nothing is scraped and the trace has no scrape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<crate::PrometheusConfig>,
}

impl Default for WorldConfig {
    /// The incident's world without its events: two replicas of the
    /// resource manager starting at once, the monitoring CRDs served, no
    /// flow, no faults, 20 minutes at a 10ms tick.
    fn default() -> Self {
        WorldConfig {
            name: "world".to_string(),
            seed: 1,
            duration: Duration::from_secs(20 * 60),
            tick: Duration::from_millis(10),
            network: NetworkConfig::default(),
            apiserver: ApiServerConfig::default(),
            crds: vec![CrdSpec::prometheus(), CrdSpec::alertmanager()],
            replicas: ["grm-0", "grm-1"]
                .iter()
                .map(|name| ReplicaSpec {
                    name: name.to_string(),
                    start_at: Duration::ZERO,
                    probe_phase: None,
                })
                .collect(),
            manager: ManagerConfig::default(),
            components: Vec::new(),
            client: ClientKind::default(),
            kubelet: KubeletConfig::default(),
            node_lifecycle: NodeLifecycleConfig::default(),
            flow: None,
            faults: Vec::new(),
            checker: CheckerConfig::default(),
            prometheus: None,
        }
    }
}

/// The finest tick: the trace stamps events in whole milliseconds, so a
/// finer step resolves nothing a run reports.
pub const TICK_MIN: Duration = Duration::from_millis(1);

/// The most steps one run may take (`duration / tick`); about two minutes
/// of wall time at today's cost per step.
pub const STEPS_MAX: u128 = 20_000_000;

/// A probe's round trip is four network hops (connect, accept, request,
/// answer), each taking at least one tick; a tick of at most this fraction
/// of the shortest probe timeout keeps them within half of it.
const PROBE_TIMEOUT_TICKS_MIN: u32 = 8;

impl WorldConfig {
    /// The coarsest tick the model tolerates: an eighth of the shortest
    /// probe timeout (125ms with the default 1s readiness timeout).
    pub fn tick_max(&self) -> Duration {
        let shortest = self
            .components
            .iter()
            .flat_map(|c| [c.liveness.timeout, c.readiness.timeout])
            .fold(
                self.kubelet
                    .liveness
                    .timeout
                    .min(self.kubelet.readiness.timeout),
                Duration::min,
            );
        shortest / PROBE_TIMEOUT_TICKS_MIN
    }
}

/// The API client a replica's process talks to the server with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// stallsim's own REST client, over the server's JSON-line face: the
    /// same requests and answers, framed one JSON document per line.
    #[default]
    Rest,
    /// kube-rs's `kube::Client` (kube 5), over the server's HTTP/1.1 face:
    /// every request goes through kube-rs and hyper as in a cluster.
    Kube,
}

/// Latency of every simulated link.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkConfig {
    /// The least latency of a segment on the wire.
    pub latency_min: Duration,
    /// The greatest latency of a segment on the wire.
    pub latency_max: Duration,
    /// A client request not answered within this fails with a timeout.
    pub request_timeout: Duration,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            latency_min: Duration::from_millis(1),
            latency_max: Duration::from_millis(5),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// One pod of the deployment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaSpec {
    /// The replica's (and its host's) name.
    pub name: String,
    /// When its container first starts.
    pub start_at: Duration,
    /// Where in their periods the pod's probe workers tick: at this plus
    /// whole periods. `None`: a phase drawn from the seed (the kubelet
    /// added the pod at some moment before the run).
    pub probe_phase: Option<Duration>,
}

/// A kubelet probe (`httpGet` on `/readyz` or `/healthz`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeConfig {
    /// Time after the container starts before the first probe.
    pub initial_delay: Duration,
    /// Time between probes.
    pub period: Duration,
    /// Time a probe may take before it counts as failed.
    pub timeout: Duration,
    /// Consecutive failures that fail the probe.
    pub failure_threshold: u32,
    /// An HTTP GET of a path on a port of the pod, as the kubelet's HTTP
    /// prober sends it; `None`: the harness's own probe endpoint (the
    /// manager's checks, or a program's health functions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGet>,
}

/// A probe's `httpGet`: the kubelet asks `http://<pod>:<port><path>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HttpGet {
    /// The path, with its query if any (`/readyz`).
    pub path: String,
    /// The port the pod's process listens on.
    pub port: u16,
}

/// Container restarts back off: `initial` doubling to `cap`; the backoff is
/// forgotten after the container ran `reset_after` without a restart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrashLoopConfig {
    /// The first restart delay after a crash.
    pub initial: Duration,
    /// The most a restart is delayed (the delay doubles up to it).
    pub cap: Duration,
    /// Running this long resets the delay.
    pub reset_after: Duration,
}

/// The node of every replica: the kubelet, the container runtime, and how
/// long the container's process takes to come up.
///
/// A restart takes what it takes on a node: the kubelet learns of an exit
/// at its next PLEG relist, waits out CrashLoopBackOff (not before the first
/// restart), the runtime starts the container, and the process starts
/// before it serves probes or talks to the API server.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KubeletConfig {
    /// The liveness probe (`/healthz`); its failure restarts the container.
    pub liveness: ProbeConfig,
    /// The readiness probe (`/readyz`).
    pub readiness: ProbeConfig,
    /// CrashLoopBackOff: the delay before a restart.
    pub crash_loop: CrashLoopConfig,
    /// A container asked to stop (SIGTERM) is killed (SIGKILL) after this
    /// long: the pod's `terminationGracePeriodSeconds`, 30s by default.
    pub termination_grace_period: Duration,
    /// The kubelet notices a container's exit at its next relist, every
    /// this long (kubelet's `genericPlegRelistPeriod`, 1s).
    pub pleg_relist_period: Duration,
    /// From the kubelet's decision to start a container to the container
    /// running: the runtime's create and start, image present. No upstream
    /// constant; about a second on a loaded node.
    pub container_start: Duration,
    /// From the container running to the manager starting: the binary's
    /// initialisation (flags, clients, scheme, webhook certificates). No
    /// upstream constant; about two seconds for the resource manager.
    pub process_start: Duration,
}

impl Default for KubeletConfig {
    fn default() -> Self {
        KubeletConfig {
            liveness: ProbeConfig {
                initial_delay: Duration::from_secs(30),
                period: Duration::from_secs(10),
                timeout: Duration::from_secs(5),
                failure_threshold: 5,
                http_get: None,
            },
            readiness: ProbeConfig {
                initial_delay: Duration::from_secs(10),
                period: Duration::from_secs(10),
                timeout: Duration::from_secs(1),
                failure_threshold: 3,
                http_get: None,
            },
            crash_loop: CrashLoopConfig {
                initial: Duration::from_secs(10),
                cap: Duration::from_secs(300),
                reset_after: Duration::from_secs(600),
            },
            termination_grace_period: Duration::from_secs(30),
            pleg_relist_period: Duration::from_secs(1),
            container_start: Duration::from_secs(1),
            process_start: Duration::from_secs(2),
        }
    }
}

/// What a cluster does about a node that stopped (`FaultAction::NodeLoss`):
/// the node lifecycle controller of kube-controller-manager marks it
/// NotReady once its kubelet has not been heard of for the grace period,
/// and its pods not Ready; after their toleration of the `unreachable`
/// taint the pods are evicted (deleted, and Terminating for as long as the
/// node does not answer); the ReplicaSet replaces each with a new pod,
/// scheduled on another node.
///
/// Kubernetes v1.32 (the line of the client-go Gardener vendored in April
/// 2025) unless said otherwise.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeLifecycleConfig {
    /// `--node-monitor-grace-period` of kube-controller-manager: 50s since
    /// Kubernetes v1.32 (kubernetes PR 126287; 40s before, and 40s in the
    /// clusters Gardener v1.117 sets up, `controllermanager.go`).
    pub node_monitor_grace_period: Duration,
    /// `--node-monitor-period`: how often the controller checks, 5s
    /// (`NodeMonitorPeriod` in kube-controller-manager's defaults).
    pub node_monitor_period: Duration,
    /// How often a kubelet renews its node Lease: a quarter of the lease's
    /// 40s (`nodeLeaseRenewIntervalFraction` in pkg/kubelet/kubelet.go).
    pub node_lease_renew_interval: Duration,
    /// The pod's toleration of `node.kubernetes.io/unreachable:NoExecute`:
    /// 300s, which the DefaultTolerationSeconds admission plugin adds to
    /// every pod that names none.
    pub toleration: Duration,
    /// From a replacement pod's creation to the container runtime starting
    /// its container: the scheduler's binding, the new node's kubelet
    /// syncing the pod and mounting its volumes, the image pull if the
    /// node lacks the image. No upstream constant (estimated).
    pub scheduling_delay: Duration,
}

impl Default for NodeLifecycleConfig {
    fn default() -> Self {
        NodeLifecycleConfig {
            node_monitor_grace_period: Duration::from_secs(50),
            node_monitor_period: Duration::from_secs(5),
            node_lease_renew_interval: Duration::from_secs(10),
            toleration: Duration::from_secs(300),
            scheduling_delay: Duration::from_secs(5),
        }
    }
}

/// Gardener's deletion flow: delete the CRDs, then wait for the resource
/// manager deployment to be ready; a failed wait is retried later.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeletionFlowConfig {
    /// When the flow deletes the CRDs.
    pub delete_at: Duration,
    /// CRD names (`prometheuses.monitoring.coreos.com`).
    pub crds: Vec<String>,
    /// How long the flow waits for the deployment to be ready.
    pub wait_timeout: Duration,
    /// How often it looks while waiting.
    pub poll_interval: Duration,
    /// After a failed wait, the flow tries the task again after this long.
    pub retry_after: Duration,
    /// The components whose deployments the flow waits for, each to have
    /// every replica ready; empty: every component of the world.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wait_for: Vec<String>,
}

impl DeletionFlowConfig {
    /// A flow that deletes `crds` at `delete_at`, with the flow's default wait.
    pub fn new(delete_at: Duration, crds: Vec<String>) -> Self {
        DeletionFlowConfig {
            delete_at,
            crds,
            wait_timeout: Duration::from_secs(300),
            poll_interval: Duration::from_secs(5),
            retry_after: Duration::from_secs(60),
            wait_for: Vec::new(),
        }
    }
}

/// A fault injected at a simulated time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fault {
    /// When it strikes.
    pub at: Duration,
    /// What it does.
    pub action: FaultAction,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
/// What a fault does.
pub enum FaultAction {
    /// The process dies at once (no lease release). The kubelet restarts it
    /// after its crash-loop backoff, but not before `down` has passed (a lost
    /// node; zero for a plain crash).
    Kill {
        /// The replica.
        replica: String,
        /// The least time it stays down.
        down: Duration,
    },
    /// The kubelet restarts the container gracefully (a stopping leader releases).
    Restart {
        /// The replica.
        replica: String,
    },
    /// The replica's node is lost for good: the process dies without
    /// releasing the lease, its probes and pod status stop; the node
    /// lifecycle controller marks the node NotReady and the pod not Ready
    /// ([`NodeLifecycleConfig`]), evicts it after its toleration, and the
    /// ReplicaSet starts a replacement pod under a new name.
    NodeLoss {
        /// The replica.
        replica: String,
    },
    /// The replica cannot reach the API server, or be reached, for `duration`.
    Partition {
        /// The replica.
        replica: String,
        /// How long it is cut off.
        duration: Duration,
    },
}

impl FaultAction {
    /// The replica the fault strikes.
    pub fn replica(&self) -> &str {
        match self {
            FaultAction::Kill { replica, .. }
            | FaultAction::Restart { replica }
            | FaultAction::NodeLoss { replica }
            | FaultAction::Partition { replica, .. } => replica,
        }
    }
}

/// `kill grm-0`, `kill grm-0, down for 2m0.000s`, `restart grm-1`,
/// `node loss of grm-0`, `partition grm-1 for 30.000s`: as traces and
/// verdicts name a fault.
impl std::fmt::Display for FaultAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultAction::Kill { replica, down } if down.is_zero() => write!(f, "kill {replica}"),
            FaultAction::Kill { replica, down } => {
                write!(f, "kill {replica}, down for {}", format_duration(*down))
            }
            FaultAction::Restart { replica } => write!(f, "restart {replica}"),
            FaultAction::NodeLoss { replica } => write!(f, "node loss of {replica}"),
            FaultAction::Partition { replica, duration } => {
                write!(f, "partition {replica} for {}", format_duration(*duration))
            }
        }
    }
}

/// What the convergence checker holds the world to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckerConfig {
    /// A replica that is not ready must become ready or be restarted within this.
    pub stall_bound: Duration,
}

impl Default for CheckerConfig {
    fn default() -> Self {
        CheckerConfig {
            stall_bound: Duration::from_secs(300),
        }
    }
}

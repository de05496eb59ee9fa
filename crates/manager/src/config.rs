//! Configuration of one manager process: every timing and bound is a value
//! here, so a scenario can vary it. Defaults are the resource manager's.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A kind as controllers name it: group, version, kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Gvk {
    /// Empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn new(group: &str, version: &str, kind: &str) -> Self {
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl std::fmt::Display for Gvk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, Kind={}", self.api_version(), self.kind)
    }
}

/// When the REST mapper first asks the server what it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiscoveryMode {
    /// At process start, before anything else (as the incident describes).
    Eager,
    /// On the first lookup.
    Lazy,
}

/// Lease-based leader election (client-go's leaderelection with a Lease lock).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeaderElectionConfig {
    pub lease_name: String,
    /// How long a lease is valid after its last renewal, as observed locally.
    pub lease_duration: Duration,
    /// A leader that could not renew for this long gives up.
    pub renew_deadline: Duration,
    /// Between attempts to acquire or renew.
    pub retry_period: Duration,
    /// A stopping leader releases the lease (`ReleaseOnCancel`).
    pub release_on_cancel: bool,
}

impl Default for LeaderElectionConfig {
    fn default() -> Self {
        LeaderElectionConfig {
            lease_name: "gardener-resource-manager".to_string(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            release_on_cancel: true,
        }
    }
}

/// client-go's exponential backoff manager, as the reflector uses it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BackoffConfig {
    pub initial: Duration,
    pub factor: f64,
    pub cap: Duration,
    /// Each wait is `d + random(0..jitter*d)`.
    pub jitter: f64,
    /// How long until the backoff forgets its growth; what the time is
    /// counted from is `reset`'s.
    pub reset_after: Duration,
    /// When the growth is forgotten: the release line of client-go decides.
    pub reset: BackoffReset,
}

/// When a reflector's backoff forgets its growth and starts again at
/// `initial`: the one thing about it that changed across client-go's
/// release lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackoffReset {
    /// Once `reset_after` passed since the previous wait began: a LIST that
    /// keeps failing (waits of at most 60s) never resets it. client-go up
    /// to v0.35: `wait.NewExponentialBackoffManager(800ms, 30s, 2m, 2.0,
    /// 1.0)` in `tools/cache/reflector.go`, whose `getNextBackoff` (in
    /// apimachinery `pkg/util/wait/backoff.go`) moves `lastBackoffStart`
    /// at every wait.
    #[default]
    AfterQuiet,
    /// Every `reset_after` since the reflector started or last reset,
    /// whatever the errors: a LIST that keeps failing starts at `initial`
    /// again every 2m. client-go from v0.36: `Backoff.DelayWithReset(clock,
    /// 2m)` in `tools/cache/reflector.go`, whose `backoffManager.Step`
    /// moves `lastStart` only when it resets.
    Periodic,
}

/// The release line of client-go a component vendors (`v0.32`): it decides
/// how the reflector's backoff resets ([`BackoffReset`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ClientGoRelease {
    /// The minor version: 32 for `v0.32`.
    pub minor: u32,
}

impl ClientGoRelease {
    /// What Gardener vendored at the time of the incident (April 2025):
    /// `k8s.io/client-go v0.32.3` in the `go.mod` of gardener/gardener
    /// v1.117.0.
    pub const INCIDENT: ClientGoRelease = ClientGoRelease { minor: 32 };
    /// The first release line whose reflector resets its backoff on a
    /// timer (client-go commit b5668cea, "Replace deprecated BackoffManager
    /// with DelayFunc in Reflector", first in v0.36.0).
    pub const PERIODIC_RESET_SINCE: u32 = 36;
    /// The oldest release line modelled: the reflector's backoff has been
    /// `NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0)` since
    /// before it (checked from v0.27.0 on).
    pub const OLDEST: u32 = 27;
    /// The newest release line modelled.
    pub const NEWEST: u32 = 36;

    /// How this release line's reflector resets its backoff.
    pub fn backoff_reset(self) -> BackoffReset {
        if self.minor >= Self::PERIODIC_RESET_SINCE {
            BackoffReset::Periodic
        } else {
            BackoffReset::AfterQuiet
        }
    }
}

impl Default for ClientGoRelease {
    fn default() -> Self {
        ClientGoRelease::INCIDENT
    }
}

impl std::fmt::Display for ClientGoRelease {
    /// `v0.32`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v0.{}", self.minor)
    }
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(800),
            factor: 2.0,
            cap: Duration::from_secs(30),
            jitter: 1.0,
            reset_after: Duration::from_secs(120),
            reset: BackoffReset::AfterQuiet,
        }
    }
}

/// The library an informer comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InformerLibrary {
    /// client-go's reflector (`informer.rs`), as in controller-runtime.
    #[default]
    ClientGo,
    /// kube-runtime's `watcher` feeding a `reflector` store, synced when
    /// `Store::wait_until_ready` resolves: the informer of a kube-rs
    /// controller. It needs a client that offers a `kube::Client`.
    KubeRuntime,
}

/// The informers' reflectors.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReflectorConfig {
    /// Whose informer runs: client-go's reflector, with `backoff` and
    /// `watch_timeout_min`, or kube-runtime's watcher, with its own defaults.
    pub library: InformerLibrary,
    /// The release line of client-go whose reflector runs (with
    /// `library: ClientGo`); `backoff.reset` follows it.
    pub client_go: ClientGoRelease,
    pub backoff: BackoffConfig,
    /// Watches ask the server to end after a random time in
    /// `[watch_timeout_min, 2*watch_timeout_min)` (client-go's minWatchTimeout).
    pub watch_timeout_min: Duration,
}

impl Default for ReflectorConfig {
    fn default() -> Self {
        ReflectorConfig {
            library: InformerLibrary::default(),
            client_go: ClientGoRelease::default(),
            backoff: BackoffConfig {
                reset: ClientGoRelease::default().backoff_reset(),
                ..BackoffConfig::default()
            },
            watch_timeout_min: Duration::from_secs(300),
        }
    }
}

/// One kind a controller lists on every reconcile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindRead {
    pub kind: Gvk,
    /// Skip this kind when the mapper has no match for it (`meta.IsNoMatchError`).
    pub tolerate_no_match: bool,
    /// Through the informer cache (the cached client), or straight from the
    /// API server (controller-runtime's API reader).
    pub cached: bool,
}

/// A controller: what it watches, what it reads, and how often it runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ControllerConfig {
    pub name: String,
    /// Runs only on the elected leader.
    pub leader_only: bool,
    /// Watch sources: informers started with the controller and awaited for
    /// `cache_sync_timeout`; on expiry the controller fails to start and the
    /// manager exits.
    pub watches: Vec<Gvk>,
    /// Listed in this order on each reconcile; the first read of a kind
    /// creates its informer lazily and waits for it to sync.
    pub reads: Vec<KindRead>,
    /// A reconcile is requeued after this long, and its context ends after it.
    pub sync_period: Duration,
    /// A failed reconcile is retried after this delay, doubling up to
    /// controller-runtime's 1000s cap.
    pub error_backoff_initial: Duration,
    /// This controller's own bound on its watch sources' sync
    /// (controller-runtime's per-controller `CacheSyncTimeout` option);
    /// `None`: the manager's `cache_sync_timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_sync_timeout: Option<Duration>,
    /// What the controller does when its watch sources have not synced
    /// within the timeout.
    #[serde(skip_serializing_if = "OnSyncTimeout::is_exit")]
    pub on_sync_timeout: OnSyncTimeout,
}

/// What a controller does when its watch sources have not synced within
/// its cache sync timeout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OnSyncTimeout {
    /// It fails to start and the manager exits: controller-runtime's
    /// behaviour (`pkg/internal/controller/controller.go`, `Start`: the
    /// `WaitForSync` error of a source ends `Start`, and the manager's
    /// `Start` returns it; controller-runtime issue 2456).
    #[default]
    Exit,
    /// It keeps waiting for as long as it takes, as a controller written
    /// without a timeout on its sources does.
    KeepWaiting,
}

impl OnSyncTimeout {
    /// The upstream default: exit.
    pub fn is_exit(&self) -> bool {
        *self == OnSyncTimeout::Exit
    }
}

/// Which informers a health check covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum InformerCoverage {
    /// Every informer the cache holds (Gardener's `NewCacheSyncHealthz`
    /// over controller-runtime's `WaitForCacheSync`): an informer never
    /// created is not covered.
    #[default]
    All,
    /// These kinds: each must have an informer that has synced; a kind
    /// whose informer does not exist yet fails the check.
    Kinds(Vec<Gvk>),
    /// No informer: the check is a ping.
    None,
}

impl InformerCoverage {
    /// The resource manager's coverage: every informer.
    pub fn is_all(&self) -> bool {
        *self == InformerCoverage::All
    }
}

impl ControllerConfig {
    /// The kinds the garbage collector reads besides the built-in ones, as
    /// at the time of the incident: Prometheus.
    pub fn garbage_collector_extra_kinds() -> Vec<Gvk> {
        vec![Gvk::new("monitoring.coreos.com", "v1", "Prometheus")]
    }

    /// The resource manager's leader-only garbage collector.
    pub fn garbage_collector(extra_reads: &[Gvk]) -> Self {
        let strict = |g: &str, v: &str, k: &str| KindRead {
            kind: Gvk::new(g, v, k),
            tolerate_no_match: false,
            cached: true,
        };
        let tolerant = |kind: Gvk| KindRead {
            kind,
            tolerate_no_match: true,
            cached: true,
        };
        let mut reads = vec![strict("", "v1", "Secret"), strict("", "v1", "ConfigMap")];
        reads.extend(
            [
                Gvk::new("apps", "v1", "Deployment"),
                Gvk::new("apps", "v1", "StatefulSet"),
                Gvk::new("apps", "v1", "DaemonSet"),
                Gvk::new("batch", "v1", "Job"),
                Gvk::new("", "v1", "Pod"),
                Gvk::new("batch", "v1", "CronJob"),
            ]
            .into_iter()
            .chain(extra_reads.iter().cloned())
            .map(tolerant),
        );
        ControllerConfig {
            name: "garbage-collector".to_string(),
            leader_only: true,
            watches: Vec::new(),
            reads,
            sync_period: Duration::from_secs(3600),
            error_backoff_initial: Duration::from_millis(5),
            cache_sync_timeout: None,
            on_sync_timeout: OnSyncTimeout::Exit,
        }
    }
}

/// The candidate fixes. Each is off by default (the incident's code).
///
/// To add one: add a field here, read it at the one place whose mechanism it
/// changes, accept it in the scenario file (`stallsim-scenario`), and add a
/// scenario that shows its effect.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Mitigations {
    /// Gardener PR 11966: `/healthz` fails once the caches have been unsynced
    /// for this long, so the kubelet restarts the process.
    pub liveness_cache_sync_deadline: Option<Duration>,
    /// Gardener PR 11705: a controller read that fails with NotFound is
    /// skipped like a missing kind. (A read through the cache waits for its
    /// informer instead of failing with NotFound.)
    pub ignore_not_found: bool,
    /// Re-run discovery (reset the mapper) after winning the election.
    pub rediscover_on_leadership: bool,
    /// Kubernetes PR 121084: a reflector LIST answered 404 counts as an empty,
    /// synced list.
    pub not_found_list_is_empty: bool,
    /// Waiting for a lazily created informer gives up after this long, and
    /// the unsynced informer is removed from the cache.
    pub lazy_informer_sync_timeout: Option<Duration>,
}

/// Everything one manager process needs to know.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ManagerConfig {
    /// This replica's identity (the lease holder name).
    pub identity: String,
    /// Namespace of the lease.
    pub namespace: String,
    pub discovery: DiscoveryMode,
    /// Whether the process elects a leader; without, every controller runs
    /// on every replica from the start (controller-runtime's manager with
    /// `LeaderElection: false` starts its leader-election runnables at once).
    #[serde(skip_serializing_if = "is_true")]
    pub leader_elect: bool,
    pub leader_election: LeaderElectionConfig,
    pub reflector: ReflectorConfig,
    pub controllers: Vec<ControllerConfig>,
    /// How long a controller waits for its watch sources to sync.
    pub cache_sync_timeout: Duration,
    /// A stopping process waits this long at most for its runnables to
    /// stop before it releases the lease and exits (controller-runtime's
    /// `GracefulShutdownTimeout`, which the resource manager sets to 5s).
    pub graceful_shutdown_timeout: Duration,
    /// The process runs a webhook server, and `/readyz` holds its
    /// `webhook-server` check: ready once the server listens, until it
    /// stops (controller-runtime's `StartedChecker`, which the resource
    /// manager registers).
    pub webhook_server: bool,
    /// The informers `/readyz`'s cache-sync check covers.
    #[serde(skip_serializing_if = "InformerCoverage::is_all")]
    pub readyz_informers: InformerCoverage,
    /// The informers `/healthz`'s cache-sync deadline covers (with
    /// `Mitigations::liveness_cache_sync_deadline`).
    #[serde(skip_serializing_if = "InformerCoverage::is_all")]
    pub healthz_informers: InformerCoverage,
    pub mitigations: Mitigations,
}

fn is_true(value: &bool) -> bool {
    *value
}

impl Default for ManagerConfig {
    fn default() -> Self {
        ManagerConfig {
            identity: "grm".to_string(),
            namespace: "garden".to_string(),
            discovery: DiscoveryMode::Eager,
            leader_elect: true,
            leader_election: LeaderElectionConfig::default(),
            reflector: ReflectorConfig::default(),
            controllers: vec![ControllerConfig::garbage_collector(
                &ControllerConfig::garbage_collector_extra_kinds(),
            )],
            cache_sync_timeout: Duration::from_secs(120),
            // gardener/gardener v1.117.0, cmd/gardener-resource-manager/app/app.go:117.
            graceful_shutdown_timeout: Duration::from_secs(5),
            // The same file, line 162: `mgr.AddReadyzCheck("webhook-server", ...)`.
            webhook_server: true,
            readyz_informers: InformerCoverage::All,
            healthz_informers: InformerCoverage::All,
            mitigations: Mitigations::default(),
        }
    }
}

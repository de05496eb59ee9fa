//! A process's metrics, as its `/metrics` endpoint would serve them,
//! through `prometheus-client` (which writes the OpenMetrics text format).
//!
//! [`MetricsSink`] wraps the process's [`EventSink`] and keeps
//! [`ProcessMetrics`] up to date from the events it passes on; the probe
//! endpoint records each health check's answer
//! ([`ProcessMetrics::health_checked`]). Nothing here changes what the
//! process does or records: a run with metrics has the same trace.
//!
//! Where an upstream library exports a metric for the same thing, it has
//! that library's name and labels: `leader_election_master_status{name}`
//! (controller-runtime's `pkg/metrics/leaderelection.go`, adapted from
//! component-base's), `controller_runtime_reconcile_total{controller,result}`
//! and `controller_runtime_reconcile_errors_total{controller}`
//! (controller-runtime's `pkg/internal/controller/metrics/metrics.go`).
//! Neither client-go nor controller-runtime exports whether an informer has
//! synced, nor a health check's result (component-base's
//! `kubernetes_healthcheck{name,type}` is a Kubernetes component's, not a
//! controller-runtime manager's), so those carry a `stallsim_` prefix:
//! `stallsim_informer_synced{kind}`, `stallsim_informer_unsynced_seconds{kind}`,
//! `stallsim_informer_list_failures_total{kind}` and
//! `stallsim_healthcheck{endpoint}` / `stallsim_healthchecks_total{endpoint,status}`.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::time::Instant;

use crate::{EventSink, ManagerEvent};

type LabelSet = Vec<(&'static str, String)>;

/// One process's registry and the state its gauges are computed from.
/// Shared (`Arc`) between the process, which updates it, and whoever
/// scrapes it; it dies with the process's last handle.
#[derive(Debug)]
pub struct ProcessMetrics {
    registry: Registry,
    lease_name: String,
    leader: Family<LabelSet, Gauge>,
    synced: Family<LabelSet, Gauge>,
    unsynced_seconds: Family<LabelSet, Gauge<f64, AtomicU64>>,
    list_failures: Family<LabelSet, Counter>,
    reconciles: Family<LabelSet, Counter>,
    reconcile_errors: Family<LabelSet, Counter>,
    health: Family<LabelSet, Gauge>,
    health_total: Family<LabelSet, Counter>,
    /// Each informer's creation time while it has not synced.
    unsynced_since: Mutex<BTreeMap<String, Instant>>,
}

impl ProcessMetrics {
    /// The metrics of a process whose leader election uses `lease_name`.
    pub fn new(lease_name: &str) -> Self {
        let mut registry = Registry::default();
        let leader = Family::<LabelSet, Gauge>::default();
        registry.register(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
            leader.clone(),
        );
        let synced = Family::<LabelSet, Gauge>::default();
        registry.register(
            "stallsim_informer_synced",
            "Whether the informer of a kind has synced (its first LIST succeeded): 1, or 0 while it has not",
            synced.clone(),
        );
        let unsynced_seconds = Family::<LabelSet, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "stallsim_informer_unsynced_seconds",
            "Seconds since the informer of a kind was created, while it has not synced; 0 once it has",
            unsynced_seconds.clone(),
        );
        let list_failures = Family::<LabelSet, Counter>::default();
        registry.register(
            "stallsim_informer_list_failures",
            "LISTs of the informer of a kind that failed",
            list_failures.clone(),
        );
        let reconciles = Family::<LabelSet, Counter>::default();
        registry.register(
            "controller_runtime_reconcile",
            "Total number of reconciliations per controller",
            reconciles.clone(),
        );
        let reconcile_errors = Family::<LabelSet, Counter>::default();
        registry.register(
            "controller_runtime_reconcile_errors",
            "Total number of reconciliation errors per controller",
            reconcile_errors.clone(),
        );
        let health = Family::<LabelSet, Gauge>::default();
        registry.register(
            "stallsim_healthcheck",
            "The last answer of a health endpoint (readyz, healthz): 1 passed, 0 failed",
            health.clone(),
        );
        let health_total = Family::<LabelSet, Counter>::default();
        registry.register(
            "stallsim_healthchecks",
            "Answers of a health endpoint, by status (success, error)",
            health_total.clone(),
        );
        let metrics = ProcessMetrics {
            registry,
            lease_name: lease_name.to_string(),
            leader,
            synced,
            unsynced_seconds,
            list_failures,
            reconciles,
            reconcile_errors,
            health,
            health_total,
            unsynced_since: Mutex::new(BTreeMap::new()),
        };
        // A candidate that has not won is a backup from the start, as
        // client-go's elector reports before its first try.
        metrics.leader_status(false);
        metrics
    }

    fn leader_status(&self, leading: bool) {
        self.leader
            .get_or_create(&vec![("name", self.lease_name.clone())])
            .set(i64::from(leading));
    }

    /// A health endpoint (`readyz`, `healthz`) answered.
    pub fn health_checked(&self, endpoint: &str, ok: bool) {
        let endpoint = endpoint.trim_start_matches('/').to_string();
        self.health
            .get_or_create(&vec![("endpoint", endpoint.clone())])
            .set(i64::from(ok));
        let status = if ok { "success" } else { "error" };
        self.health_total
            .get_or_create(&vec![
                ("endpoint", endpoint),
                ("status", status.to_string()),
            ])
            .inc();
    }

    /// Takes the event into the metrics.
    pub fn observe(&self, event: &ManagerEvent) {
        use ManagerEvent as E;
        let kind_labels = |kind: &str| vec![("kind", kind.to_string())];
        let mut unsynced = self.unsynced_since.lock().expect("never poisoned");
        match event {
            E::LeaderElected => self.leader_status(true),
            E::LeadershipLost | E::LeaseReleased => self.leader_status(false),
            E::InformerCreated { kind, .. } => {
                unsynced.insert(kind.clone(), Instant::now());
                self.synced.get_or_create(&kind_labels(kind)).set(0);
                self.unsynced_seconds
                    .get_or_create(&kind_labels(kind))
                    .set(0.0);
            }
            E::InformerSynced { kind } => {
                unsynced.remove(kind);
                self.synced.get_or_create(&kind_labels(kind)).set(1);
                self.unsynced_seconds
                    .get_or_create(&kind_labels(kind))
                    .set(0.0);
            }
            E::InformerRemoved { kind } => {
                unsynced.remove(kind);
                self.synced.remove(&kind_labels(kind));
                self.unsynced_seconds.remove(&kind_labels(kind));
            }
            E::ListFailed { kind, .. } => {
                self.list_failures.get_or_create(&kind_labels(kind)).inc();
            }
            E::ReconcileSucceeded { controller } => {
                self.reconciles
                    .get_or_create(&vec![
                        ("controller", controller.clone()),
                        ("result", "success".to_string()),
                    ])
                    .inc();
            }
            E::ReconcileFailed { controller, .. } => {
                self.reconciles
                    .get_or_create(&vec![
                        ("controller", controller.clone()),
                        ("result", "error".to_string()),
                    ])
                    .inc();
                self.reconcile_errors
                    .get_or_create(&vec![("controller", controller.clone())])
                    .inc();
            }
            _ => {}
        }
    }

    /// The exposition a scrape at this moment reads: the unsynced ages
    /// brought up to now, then the registry in the OpenMetrics text format.
    pub fn scrape(&self) -> String {
        let now = Instant::now();
        for (kind, since) in self.unsynced_since.lock().expect("never poisoned").iter() {
            self.unsynced_seconds
                .get_or_create(&vec![("kind", kind.clone())])
                .set(now.duration_since(*since).as_secs_f64());
        }
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String does not fail");
        out
    }
}

/// Keeps a process's metrics from its events, then hands each on.
pub struct MetricsSink {
    pub inner: Rc<dyn EventSink>,
    pub metrics: Arc<ProcessMetrics>,
}

impl EventSink for MetricsSink {
    fn record(&self, event: ManagerEvent) {
        self.metrics.observe(&event);
        self.inner.record(event);
    }
}

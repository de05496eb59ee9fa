//! The simulated Prometheus: scrapes every process's metrics and
//! kube-state-metrics' pod metrics every `scrape_interval` of simulated
//! time, keeps the samples, and evaluates the alert rules over them after
//! the run.
//!
//! A scrape reads a process's registry in-process (the process's
//! [`ProcessMetrics`], through a weak handle the process fills when it
//! starts), not over the simulated network: it sends no segment, so the
//! world runs exactly as it would unscraped. The scrapers are observers
//! on the simulation's runtime outside every host
//! ([`stallsim_net::Sim::spawn_observer`]); a process that is not running
//! (its handle dead) is a target that yields `up 0`, as a refused
//! connection does. A pod that has never started is no target yet, as
//! Kubernetes service discovery finds a pod only once it has an address.
//!
//! Each target is scraped at its own offset within the interval, a hash
//! of its labels, as Prometheus spreads targets (`scrape/target.go`,
//! `Target.offset`); every sample is stamped with its scrape's start.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::Serialize;
use stallsim_manager::ProcessMetrics;
use stallsim_prometheus::{evaluate_rules, AlertOutcome, Labels, Rule, RuleError, SeriesStore};

/// The simulated Prometheus of a run: how often it scrapes and evaluates,
/// and its alerting rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrometheusConfig {
    /// Between two scrapes of one target.
    pub scrape_interval: Duration,
    /// Between two evaluations of the rules.
    pub evaluation_interval: Duration,
    /// The alerting rules, in Prometheus' shape.
    pub rules: Vec<AlertRule>,
}

/// One alerting rule as written: `alert`, `expr`, `for`, `labels`,
/// `annotations`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertRule {
    /// The alert's name.
    pub alert: String,
    /// Its PromQL expression.
    pub expr: String,
    /// How long the expression must hold before the alert fires.
    #[serde(rename = "for")]
    pub for_: Duration,
    /// Labels added to the alert.
    pub labels: BTreeMap<String, String>,
    /// Annotations, for people.
    pub annotations: BTreeMap<String, String>,
}

impl AlertRule {
    /// The rule, parsed and checked.
    pub fn compile(&self) -> Result<Rule, RuleError> {
        Rule::new(
            &self.alert,
            &self.expr,
            self.for_.as_millis() as i64,
            self.labels.clone(),
            self.annotations.clone(),
        )
    }
}

/// When each rule went pending and firing, as the report gives it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertReport {
    /// The alert's name.
    pub alert: String,
    /// The first evaluation it was pending at.
    pub pending_at: Option<Duration>,
    /// The first evaluation it fired at.
    pub firing_at: Option<Duration>,
    /// The labels of the first alert that fired (else went pending).
    pub labels: BTreeMap<String, String>,
    /// The first evaluation error, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A process's metrics as its target sees them: nothing until it first
/// starts, then a weak handle that dies with the process.
pub(crate) type MetricsSlot = Arc<Mutex<Option<Weak<ProcessMetrics>>>>;

/// The job of kube-state-metrics' target.
const KSM_JOB: &str = "kube-state-metrics";
/// The source of scrape events in the trace.
pub(crate) const PROMETHEUS_SOURCE: &str = "prometheus";

/// What a target is scraped from.
enum Source {
    Process(MetricsSlot),
    /// kube-state-metrics: each pod's container restarts, from the
    /// container runtime's state (as the kubelet reports it in the pod's
    /// status).
    KubeStateMetrics {
        restarts: Arc<Mutex<BTreeMap<String, u32>>>,
        namespace: String,
        /// Each pod's container: its component's name.
        containers: BTreeMap<String, String>,
        /// The restart counts the last exposition was written from, and
        /// that exposition: it is written again only when one changed.
        written: Option<(BTreeMap<String, u32>, String)>,
    },
}

/// One scrape, for the trace.
#[derive(Clone, Debug)]
pub(crate) struct ScrapeRecord {
    pub at_ms: u64,
    pub target: String,
    pub up: bool,
    pub samples: u32,
}

/// The targets and what the scrapes collected; shared with the observers.
#[derive(Clone, Default)]
pub(crate) struct Prometheus {
    /// Each target's pod, its job (the component's name) and its slot.
    processes: Vec<(String, String, MetricsSlot)>,
    restarts: Arc<Mutex<BTreeMap<String, u32>>>,
    store: Arc<Mutex<SeriesStore>>,
    records: Arc<Mutex<Vec<ScrapeRecord>>>,
}

impl Prometheus {
    /// The slot a pod's processes fill with their metrics: the pod becomes
    /// a target of `job`, the name of the component it belongs to (also
    /// its container's name).
    pub fn target(&mut self, pod: &str, job: &str) -> MetricsSlot {
        let slot = MetricsSlot::default();
        self.processes
            .push((pod.to_string(), job.to_string(), slot.clone()));
        slot
    }

    /// `pod`'s node is lost: its process no longer answers, so a scrape
    /// of it fails (`up 0`) from now on, as a scrape of a process that
    /// died does. A pod that never started stays no target.
    pub fn target_lost(&self, pod: &str) {
        for (_, _, slot) in self.processes.iter().filter(|(p, _, _)| p == pod) {
            let mut slot = slot.lock().expect("never poisoned");
            if slot.is_some() {
                *slot = Some(Weak::new());
            }
        }
    }

    /// A pod's container started with `restarts` restarts before it.
    pub fn container_started(&self, pod: &str, restarts: u32) {
        self.restarts
            .lock()
            .expect("never poisoned")
            .insert(pod.to_string(), restarts);
    }

    /// Starts one observer per target on `sim`, scraping from offset to
    /// `duration` every `interval`; `namespace` is the pods'.
    pub fn start(
        &self,
        sim: &mut stallsim_net::Sim,
        interval: Duration,
        duration: Duration,
        namespace: &str,
    ) {
        let mut targets: Vec<(Labels, Source)> = self
            .processes
            .iter()
            .map(|(pod, job, slot)| {
                let labels = labels(&[("job", job), ("instance", pod), ("pod", pod)]);
                (labels, Source::Process(slot.clone()))
            })
            .collect();
        let containers: BTreeMap<String, String> = self
            .processes
            .iter()
            .map(|(pod, job, _)| (pod.clone(), job.clone()))
            .collect();
        targets.push((
            labels(&[("job", KSM_JOB), ("instance", KSM_JOB)]),
            Source::KubeStateMetrics {
                restarts: self.restarts.clone(),
                namespace: namespace.to_string(),
                containers,
                written: None,
            },
        ));
        for (labels, mut source) in targets {
            let offset = offset(&labels, interval);
            let store = self.store.clone();
            let records = self.records.clone();
            sim.spawn_observer(async move {
                let origin =
                    tokio::time::Instant::now() - stallsim_net::elapsed().unwrap_or_default();
                let mut at = offset;
                while at < duration {
                    tokio::time::sleep_until(origin + at).await;
                    scrape(&labels, &mut source, at, &store, &records);
                    at += interval;
                }
            });
        }
    }

    /// The scrapes so far, as trace events' parts, in time order.
    pub fn records(&self) -> Vec<ScrapeRecord> {
        let mut records = self.records.lock().expect("never poisoned").clone();
        records.sort_by_key(|r| r.at_ms);
        records
    }

    /// Every sample scraped.
    pub fn store(&self) -> SeriesStore {
        self.store.lock().expect("never poisoned").clone()
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Where in the interval a target is scraped: FNV-1a of its labels,
/// modulo the interval, to the millisecond.
fn offset(labels: &Labels, interval: Duration) -> Duration {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for byte in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let interval_ms = (interval.as_millis() as u64).max(1);
    Duration::from_millis(hash % interval_ms)
}

fn scrape(
    labels: &Labels,
    source: &mut Source,
    at: Duration,
    store: &Mutex<SeriesStore>,
    records: &Mutex<Vec<ScrapeRecord>>,
) {
    // A process's exposition is written for each scrape; kube-state-metrics'
    // is kept in its source.
    let written_now;
    let text = match source {
        Source::Process(slot) => {
            let Some(handle) = slot.lock().expect("never poisoned").clone() else {
                // Not started yet: not discovered yet.
                return;
            };
            written_now = handle.upgrade().map(|metrics| metrics.scrape());
            written_now.as_deref()
        }
        Source::KubeStateMetrics {
            restarts,
            namespace,
            containers,
            written,
        } => {
            let restarts = restarts.lock().expect("never poisoned");
            if written
                .as_ref()
                .is_none_or(|(counts, _)| *counts != *restarts)
            {
                let text = kube_state_metrics(&restarts, namespace, containers);
                *written = Some((restarts.clone(), text));
            }
            written.as_ref().map(|(_, text)| text.as_str())
        }
    };
    let at_ms = at.as_millis() as u64;
    // An exposition that does not read fails the scrape (`up 0`), as in
    // Prometheus; what prometheus-client writes always reads.
    let ingested =
        store
            .lock()
            .expect("never poisoned")
            .ingest_exposition(labels, at_ms as i64, text);
    records.lock().expect("never poisoned").push(ScrapeRecord {
        at_ms,
        target: labels["instance"].clone(),
        up: ingested.up,
        samples: ingested.samples as u32,
    });
}

/// kube-state-metrics' `kube_pod_container_status_restarts_total{namespace,pod,container}`
/// for every pod whose container has started.
fn kube_state_metrics(
    restarts: &BTreeMap<String, u32>,
    namespace: &str,
    containers: &BTreeMap<String, String>,
) -> String {
    let mut registry = Registry::default();
    let family = Family::<Vec<(&'static str, String)>, Counter>::default();
    registry.register(
        "kube_pod_container_status_restarts",
        "The number of container restarts per container",
        family.clone(),
    );
    for (pod, n) in restarts {
        family
            .get_or_create(&vec![
                ("namespace", namespace.to_string()),
                ("pod", pod.clone()),
                (
                    "container",
                    containers.get(pod).cloned().unwrap_or_default(),
                ),
            ])
            .inc_by(u64::from(*n));
    }
    let mut out = String::new();
    encode(&mut out, &registry).expect("writing to a String does not fail");
    out
}

/// Evaluates `config`'s rules every `evaluation_interval` from the start
/// to `end` over `store`; times relative to the run's start.
pub(crate) fn evaluate(
    config: &PrometheusConfig,
    store: &SeriesStore,
    end: Duration,
) -> Vec<AlertReport> {
    let step = (config.evaluation_interval.as_millis() as i64).max(1);
    let evaluations: Vec<i64> = (0..)
        .map(|k| k * step)
        .take_while(|t| *t <= end.as_millis() as i64)
        .collect();
    config
        .rules
        .iter()
        .map(|rule| {
            // A rule that does not compile (a world built in code; a
            // scenario's rules are checked when read) reports why.
            let outcome = match rule.compile() {
                Ok(compiled) => evaluate_rules(&[compiled], store, &evaluations).remove(0),
                Err(error) => AlertOutcome {
                    alert: rule.alert.clone(),
                    pending_at_ms: None,
                    firing_at_ms: None,
                    labels: Labels::new(),
                    error: Some(error.message),
                },
            };
            AlertReport {
                alert: outcome.alert,
                pending_at: outcome
                    .pending_at_ms
                    .map(|t| Duration::from_millis(t as u64)),
                firing_at: outcome
                    .firing_at_ms
                    .map(|t| Duration::from_millis(t as u64)),
                labels: outcome.labels,
                error: outcome.error,
            }
        })
        .collect()
}

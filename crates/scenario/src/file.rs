//! The scenario file as written: a serde model of the YAML, every field optional, unknown fields rejected.
//!
//! Values carry their source location ([`Spanned`]) so that `convert` can
//! point at them; required fields are checked there, not by serde, so that
//! a missing one is reported with a place and a field path like any other.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::Deserialize as DeriveDeserialize;
use serde_saphyr::Spanned;
use stallsim_manager::Gvk;

use crate::duration::Timing;

mod components;
pub(crate) use components::{Component, Coverage, OnTimeout, Probes};

/// A value with the place it was written.
pub(crate) type S<T> = Spanned<T>;

/// An optional duration field: one duration, or a range drawn per run.
pub(crate) type Dur = Option<S<Timing>>;

/// An optional time the file schedules: a duration, or a range drawn per run.
pub(crate) type Tim = Option<S<Timing>>;

/// The whole document.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct File {
    #[schemars(with = "Option<String>")]
    pub api_version: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub kind: Option<S<String>>,
    #[schemars(with = "Option<Metadata>")]
    pub metadata: Option<S<Metadata>>,
    #[schemars(with = "Option<Spec>")]
    pub spec: Option<S<Spec>>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Metadata {
    /// Required; the schema says so, `convert` checks it.
    #[schemars(with = "String")]
    pub name: Option<S<String>>,
    pub description: Option<String>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Spec {
    pub seed: Option<u64>,
    #[schemars(with = "Option<Timing>")]
    pub duration: Dur,
    #[schemars(with = "Option<Timing>")]
    pub tick: Dur,
    pub network: Option<Network>,
    pub api_server: Option<ApiServer>,
    #[schemars(with = "Option<Vec<Crd>>")]
    pub crds: Option<S<Vec<S<Crd>>>>,
    #[schemars(with = "Option<Vec<Replica>>")]
    pub replicas: Option<S<Vec<S<Replica>>>>,
    pub manager: Option<Manager>,
    /// Components to run instead of the resource manager of `replicas` and
    /// `manager`'s controllers.
    #[schemars(with = "Option<Vec<Component>>")]
    pub components: Option<S<Vec<S<Component>>>>,
    pub mitigations: Option<Mitigations>,
    pub kubelet: Option<Kubelet>,
    pub node_lifecycle: Option<NodeLifecycle>,
    #[schemars(with = "Option<DeletionFlow>")]
    pub deletion_flow: Option<S<DeletionFlow>>,
    #[schemars(with = "Option<Vec<Fault>>")]
    pub faults: Option<S<Vec<S<Fault>>>>,
    pub check: Option<Check>,
    /// A simulated Prometheus that scrapes every process and evaluates
    /// alerting rules; without it nothing is scraped (docs/alerts.md).
    #[schemars(with = "Option<Prometheus>")]
    pub prometheus: Option<S<Prometheus>>,
    #[schemars(with = "Option<Expect>")]
    pub expect: Option<S<Expect>>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Prometheus {
    /// Between two scrapes of a target (default 30s, prometheus-operator's).
    #[schemars(with = "Option<Timing>")]
    pub scrape_interval: Dur,
    /// Between two evaluations of the rules (default 30s, prometheus-operator's).
    #[schemars(with = "Option<Timing>")]
    pub evaluation_interval: Dur,
    /// Alerting rules, in Prometheus' rule shape.
    #[schemars(with = "Option<Vec<AlertRule>>")]
    pub rules: Option<S<Vec<S<AlertRule>>>>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AlertRule {
    /// The alert's name. Required.
    #[schemars(with = "String")]
    pub alert: Option<S<String>>,
    /// A PromQL expression of the supported subset (docs/alerts.md). Required.
    #[schemars(with = "String")]
    pub expr: Option<S<String>>,
    /// How long the expression must hold before the alert fires (default 0s).
    #[serde(rename = "for")]
    #[schemars(rename = "for", with = "Option<Timing>")]
    pub for_: Dur,
    /// Labels added to the alert.
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    /// Annotations, for people.
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
}

/// One bound on an alert: `fires: {name, within}` or `silent: name`.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AlertExpect {
    /// The alert must fire, at most `within` after the stall or restart
    /// loop began (its replica turned not ready).
    #[schemars(with = "Option<Fires>")]
    pub fires: Option<S<Fires>>,
    /// The alert must never fire.
    #[schemars(with = "Option<String>")]
    pub silent: Option<S<String>>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Fires {
    /// The alert's name. Required.
    #[schemars(with = "String")]
    pub name: Option<S<String>>,
    /// The latest it may fire, after the stall's (or restart loop's) start. Required.
    #[schemars(with = "Timing")]
    pub within: Dur,
}

#[derive(Default, DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Network {
    #[schemars(with = "Option<Timing>")]
    pub latency_min: Dur,
    #[schemars(with = "Option<Timing>")]
    pub latency_max: Dur,
    #[schemars(with = "Option<Timing>")]
    pub request_timeout: Dur,
}

#[derive(Default, DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ApiServer {
    #[schemars(with = "Option<u64>")]
    pub history_events_max: Option<S<u64>>,
    #[schemars(with = "Option<Timing>")]
    pub discovery_lag: Dur,
    #[schemars(with = "Option<u64>")]
    pub watch_channel_capacity: Option<S<u64>>,
    #[schemars(with = "Option<Timing>")]
    pub bookmark_interval: Dur,
    #[schemars(with = "Option<Timing>")]
    pub crd_finalizer_delay: Dur,
    #[schemars(with = "Option<Timing>")]
    pub instance_deletion_cost: Dur,
    #[schemars(with = "Option<Timing>")]
    pub serving_removal_lag: Dur,
    #[schemars(with = "Option<Timing>")]
    pub watch_teardown_delay: Dur,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Crd {
    #[schemars(with = "Option<String>")]
    pub group: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub version: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub kind: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub plural: Option<S<String>>,
    pub namespaced: Option<bool>,
    /// Whether its version serves the `status` subresource (default false).
    pub status_subresource: Option<bool>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Replica {
    #[schemars(with = "Option<String>")]
    pub name: Option<S<String>>,
    #[schemars(with = "Option<Timing>")]
    pub start_at: Tim,
    #[schemars(with = "Option<Timing>")]
    pub probe_phase: Tim,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Manager {
    /// The API client every replica's process is built on: `rest`
    /// (stallsim's own, over the server's JSON-line face; the default) or
    /// `kube` (kube-rs's `kube::Client`, over the server's HTTP face).
    pub client: Option<Client>,
    /// Whose informers the process runs: `client-go` (the reflector of
    /// controller-runtime; the default) or `kube-runtime` (the watcher and
    /// reflector of a kube-rs controller; needs `client: kube`).
    #[schemars(with = "Option<Informer>")]
    pub informer: Option<S<Informer>>,
    /// The release line of client-go the component vendors (`v0.32`, the
    /// incident's): it decides how the reflector's backoff resets.
    #[schemars(with = "Option<String>")]
    pub client_go: Option<S<String>>,
    /// How long a stopping process waits for its runnables before it
    /// releases the lease (controller-runtime's GracefulShutdownTimeout).
    #[schemars(with = "Option<Timing>")]
    pub graceful_shutdown_timeout: Dur,
    /// Whether the process runs a webhook server whose check `/readyz` holds.
    pub webhook_server: Option<bool>,
    pub discovery: Option<Discovery>,
    pub leader_election: Option<LeaderElection>,
    pub reflector: Option<Reflector>,
    #[schemars(with = "Option<Timing>")]
    pub cache_sync_timeout: Dur,
    pub garbage_collector: Option<GarbageCollector>,
    #[schemars(with = "Option<WatchingController>")]
    pub watching_controller: Option<S<WatchingController>>,
}

#[derive(Clone, Copy, DeriveDeserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Client {
    Rest,
    Kube,
}

#[derive(Clone, Copy, DeriveDeserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Informer {
    ClientGo,
    KubeRuntime,
}

#[derive(Clone, Copy, DeriveDeserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Discovery {
    Eager,
    Lazy,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LeaderElection {
    #[schemars(with = "Option<Timing>")]
    pub lease_duration: Dur,
    #[schemars(with = "Option<Timing>")]
    pub renew_deadline: Dur,
    #[schemars(with = "Option<Timing>")]
    pub retry_period: Dur,
    pub release_on_cancel: Option<bool>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Reflector {
    pub backoff: Option<Backoff>,
    #[schemars(with = "Option<Timing>")]
    pub watch_timeout_min: Dur,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Backoff {
    #[schemars(with = "Option<Timing>")]
    pub initial: Dur,
    #[schemars(with = "Option<f64>")]
    pub factor: Option<S<f64>>,
    #[schemars(with = "Option<Timing>")]
    pub cap: Dur,
    #[schemars(with = "Option<f64>")]
    pub jitter: Option<S<f64>>,
    #[schemars(with = "Option<Timing>")]
    pub reset_after: Dur,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GarbageCollector {
    #[schemars(with = "Option<Timing>")]
    pub sync_period: Dur,
    #[schemars(with = "Option<Vec<KindRef>>")]
    pub extra_kinds: Option<S<Vec<KindRef>>>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct WatchingController {
    #[schemars(with = "Option<Vec<KindRef>>")]
    pub kinds: Option<S<Vec<KindRef>>>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Mitigations {
    #[schemars(with = "Option<Timing>")]
    pub liveness_cache_sync_deadline: Dur,
    pub ignore_not_found: Option<bool>,
    pub rediscover_on_leadership: Option<bool>,
    pub not_found_list_is_empty: Option<bool>,
    #[schemars(with = "Option<Timing>")]
    pub lazy_informer_sync_timeout: Dur,
}

#[derive(Default, DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Kubelet {
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
    pub crash_loop_back_off: Option<CrashLoopBackOff>,
    #[schemars(with = "Option<Timing>")]
    pub termination_grace_period: Dur,
    #[schemars(with = "Option<Timing>")]
    pub pleg_relist_period: Dur,
    #[schemars(with = "Option<Timing>")]
    pub container_start: Dur,
    #[schemars(with = "Option<Timing>")]
    pub process_start: Dur,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Probe {
    #[schemars(with = "Option<Timing>")]
    pub initial_delay: Dur,
    #[schemars(with = "Option<Timing>")]
    pub period: Dur,
    #[schemars(with = "Option<Timing>")]
    pub timeout: Dur,
    #[schemars(with = "Option<u32>")]
    pub failure_threshold: Option<S<u64>>,
    /// A program's probe as an HTTP GET the kubelet sends to the pod
    /// (components that run a program only).
    #[schemars(with = "Option<HttpGet>")]
    pub http_get: Option<S<HttpGet>>,
}

/// The kubelet's HTTP probe: GET `path` on `port` of the pod; a status
/// from 200 to 399 passes.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct HttpGet {
    /// Required: the path, starting with `/` (`/readyz`).
    #[schemars(with = "String")]
    pub path: Option<S<String>>,
    /// Required: the port the program listens on (`Process::listen`).
    #[schemars(with = "u16")]
    pub port: Option<S<u64>>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CrashLoopBackOff {
    #[schemars(with = "Option<Timing>")]
    pub initial: Dur,
    #[schemars(with = "Option<Timing>")]
    pub cap: Dur,
    #[schemars(with = "Option<Timing>")]
    pub reset_after: Dur,
}

/// What happens around a lost node: the node lifecycle controller, the
/// pod's toleration, the ReplicaSet's replacement pod.
#[derive(Default, DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NodeLifecycle {
    /// A node whose kubelet was last heard of this long ago is NotReady.
    #[schemars(with = "Option<Timing>")]
    pub node_monitor_grace_period: Dur,
    /// How often the node lifecycle controller looks.
    #[schemars(with = "Option<Timing>")]
    pub node_monitor_period: Dur,
    /// How often a kubelet renews its node's Lease (its heartbeat).
    #[schemars(with = "Option<Timing>")]
    pub node_lease_renew_interval: Dur,
    /// The pods' toleration of `node.kubernetes.io/unreachable`, in
    /// seconds, as a pod spec writes it.
    #[schemars(with = "Option<u64>")]
    pub toleration_seconds: Option<S<u64>>,
    /// From a replacement pod's creation to the runtime starting its
    /// container on another node.
    #[schemars(with = "Option<Timing>")]
    pub scheduling_delay: Dur,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct DeletionFlow {
    #[schemars(with = "Option<Timing>")]
    pub delete_at: Tim,
    #[schemars(with = "Option<Vec<String>>")]
    pub crds: Option<Vec<S<String>>>,
    #[schemars(with = "Option<Timing>")]
    pub wait_timeout: Dur,
    #[schemars(with = "Option<Timing>")]
    pub poll_interval: Dur,
    #[schemars(with = "Option<Timing>")]
    pub retry_after: Dur,
    /// The components whose deployments the flow waits for (default: all).
    #[schemars(with = "Option<Vec<String>>")]
    pub wait_for: Option<Vec<S<String>>>,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Fault {
    #[schemars(with = "Option<Timing>")]
    pub at: Tim,
    #[schemars(with = "Option<String>")]
    pub kill: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub restart: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub partition: Option<S<String>>,
    /// The replica's node is lost: its process dies without a word, its
    /// pod is marked NotReady, evicted, and replaced by a new pod.
    #[schemars(with = "Option<String>")]
    pub node_loss: Option<S<String>>,
    /// With `partition`: how long it lasts.
    #[serde(rename = "for")]
    #[schemars(with = "Option<Timing>")]
    pub for_: Tim,
    /// With `kill`: how long the replica stays down at least (a lost node).
    #[schemars(with = "Option<Timing>")]
    pub down: Tim,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Check {
    #[schemars(with = "Option<Timing>")]
    pub stall_bound: Dur,
}

#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Expect {
    #[schemars(with = "Option<Verdict>")]
    pub verdict: Option<S<Verdict>>,
    #[schemars(with = "Option<String>")]
    pub stalled_replica: Option<S<String>>,
    #[schemars(with = "Option<bool>")]
    pub deployment_ready_within_flow_timeout: Option<S<bool>>,
    /// Bounds on the requests each replica sends the API server in any
    /// sliding minute, checked against every replica's busiest minute.
    #[schemars(with = "Option<ApiRequests>")]
    pub api_requests: Option<S<ApiRequests>>,
    /// Bounds on the alerts of `spec.prometheus.rules`.
    #[schemars(with = "Option<Vec<AlertExpect>>")]
    pub alerts: Option<S<Vec<S<AlertExpect>>>>,
}

/// The most requests of a class any replica may send in any sliding minute.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ApiRequests {
    /// LISTs (a GET of a collection): an informer's list and its retries.
    #[schemars(with = "Option<u64>")]
    pub list_per_minute_max: Option<S<u64>>,
    /// WATCHes opened.
    #[schemars(with = "Option<u64>")]
    pub watch_per_minute_max: Option<S<u64>>,
    /// Requests on `coordination.k8s.io` leases (leader election).
    #[schemars(with = "Option<u64>")]
    pub lease_per_minute_max: Option<S<u64>>,
}

#[derive(Clone, Copy, PartialEq, Eq, DeriveDeserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Verdict {
    Stall,
    Converges,
    #[serde(rename = "restart-loop")]
    RestartLoop,
}

/// What a kind field accepts, for error messages.
pub(crate) const KIND_ACCEPTED: &str =
    "a kind as group/version/Kind (monitoring.coreos.com/v1/Prometheus) or v1/Kind for the core group";

/// A kind written as `group/version/Kind`, or `version/Kind` for the core group.
pub(crate) struct KindRef(pub Gvk);

impl<'de> Deserialize<'de> for KindRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindRefVisitor)
    }
}

struct KindRefVisitor;

impl<'de> Visitor<'de> for KindRefVisitor {
    type Value = KindRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(KIND_ACCEPTED)
    }

    crate::refuse::refuse_other_shapes!();

    fn visit_str<E: de::Error>(self, text: &str) -> Result<KindRef, E> {
        parse_kind(text)
            .map(KindRef)
            .ok_or_else(|| E::custom(format!("`{text}` is not a kind; expected {KIND_ACCEPTED}")))
    }
}

/// `group/version/Kind` or `version/Kind`; every part non-empty, without
/// spaces, the kind starting with an upper-case letter.
fn parse_kind(text: &str) -> Option<Gvk> {
    let parts: Vec<&str> = text.split('/').collect();
    let (group, version, kind) = match parts.as_slice() {
        [group, version, kind] => (*group, *version, *kind),
        [version, kind] => ("", *version, *kind),
        _ => return None,
    };
    let word = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    let group_ok = group.is_empty() && parts.len() == 2 || word(group);
    let kind_ok = word(kind) && kind.starts_with(|c: char| c.is_ascii_uppercase());
    (group_ok && word(version) && kind_ok).then(|| Gvk::new(group, version, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            parse_kind("monitoring.coreos.com/v1/Prometheus"),
            Some(Gvk::new("monitoring.coreos.com", "v1", "Prometheus"))
        );
        assert_eq!(parse_kind("v1/Pod"), Some(Gvk::new("", "v1", "Pod")));
        for bad in [
            "Pod", "v1/pod", "/v1/Pod", "a//Pod", "a/v1/", "a/b/c/D", "", "v1/Po d",
        ] {
            assert_eq!(parse_kind(bad), None, "`{bad}`");
        }
    }
}

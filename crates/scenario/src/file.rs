//! The scenario file as written: a serde model of the YAML, every field optional, unknown fields rejected.
//!
//! Values carry their source location ([`Spanned`]) so that `convert` can
//! point at them; required fields are checked there, not by serde, so that
//! a missing one is reported with a place and a field path like any other.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::Deserialize as DeriveDeserialize;
use serde_saphyr::Spanned;
use stallsim_manager::Gvk;

use crate::duration::{GoDuration, Timing};

/// A value with the place it was written.
pub(crate) type S<T> = Spanned<T>;

/// An optional duration field.
pub(crate) type Dur = Option<S<GoDuration>>;

/// An optional time the file schedules: a duration, or a range drawn per run.
pub(crate) type Tim = Option<S<Timing>>;

/// The whole document.
#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct File {
    pub api_version: Option<S<String>>,
    pub kind: Option<S<String>>,
    pub metadata: Option<S<Metadata>>,
    pub spec: Option<S<Spec>>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Metadata {
    pub name: Option<S<String>>,
    pub description: Option<String>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Spec {
    pub seed: Option<u64>,
    pub duration: Dur,
    pub tick: Dur,
    pub network: Option<Network>,
    pub api_server: Option<ApiServer>,
    pub crds: Option<S<Vec<S<Crd>>>>,
    pub replicas: Option<S<Vec<S<Replica>>>>,
    pub manager: Option<Manager>,
    pub mitigations: Option<Mitigations>,
    pub kubelet: Option<Kubelet>,
    pub deletion_flow: Option<S<DeletionFlow>>,
    pub faults: Option<S<Vec<S<Fault>>>>,
    pub check: Option<Check>,
    pub expect: Option<S<Expect>>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Network {
    pub latency_min: Dur,
    pub latency_max: Dur,
    pub request_timeout: Dur,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ApiServer {
    pub history_events_max: Option<usize>,
    pub discovery_lag: Dur,
    pub watch_channel_capacity: Option<S<usize>>,
    pub bookmark_interval: Dur,
    pub crd_finalizer_delay: Dur,
    pub instance_deletion_cost: Dur,
    pub serving_removal_lag: Dur,
    pub watch_teardown_delay: Dur,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Crd {
    pub group: Option<S<String>>,
    pub version: Option<S<String>>,
    pub kind: Option<S<String>>,
    pub plural: Option<S<String>>,
    pub namespaced: Option<bool>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Replica {
    pub name: Option<S<String>>,
    pub start_at: Tim,
    pub probe_phase: Tim,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Manager {
    pub discovery: Option<Discovery>,
    pub leader_election: Option<LeaderElection>,
    pub reflector: Option<Reflector>,
    pub cache_sync_timeout: Dur,
    pub garbage_collector: Option<GarbageCollector>,
    pub watching_controller: Option<S<WatchingController>>,
}

#[derive(Clone, Copy, DeriveDeserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Discovery {
    Eager,
    Lazy,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LeaderElection {
    pub lease_duration: Dur,
    pub renew_deadline: Dur,
    pub retry_period: Dur,
    pub release_on_cancel: Option<bool>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Reflector {
    pub backoff: Option<Backoff>,
    pub watch_timeout_min: Dur,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Backoff {
    pub initial: Dur,
    pub factor: Option<S<f64>>,
    pub cap: Dur,
    pub jitter: Option<S<f64>>,
    pub reset_after: Dur,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GarbageCollector {
    pub sync_period: Dur,
    pub extra_kinds: Option<Vec<KindRef>>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct WatchingController {
    pub kinds: Option<Vec<KindRef>>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Mitigations {
    pub liveness_cache_sync_deadline: Dur,
    pub ignore_not_found: Option<bool>,
    pub rediscover_on_leadership: Option<bool>,
    pub not_found_list_is_empty: Option<bool>,
    pub lazy_informer_sync_timeout: Dur,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Kubelet {
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
    pub crash_loop_back_off: Option<CrashLoopBackOff>,
    pub termination_grace_period: Dur,
    pub pleg_relist_period: Dur,
    pub container_start: Dur,
    pub process_start: Dur,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Probe {
    pub initial_delay: Dur,
    pub period: Dur,
    pub timeout: Dur,
    pub failure_threshold: Option<S<u32>>,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CrashLoopBackOff {
    pub initial: Dur,
    pub cap: Dur,
    pub reset_after: Dur,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct DeletionFlow {
    pub delete_at: Tim,
    pub crds: Option<Vec<S<String>>>,
    pub wait_timeout: Dur,
    pub poll_interval: Dur,
    pub retry_after: Dur,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Fault {
    pub at: Tim,
    pub kill: Option<S<String>>,
    pub restart: Option<S<String>>,
    pub partition: Option<S<String>>,
    /// With `partition`: how long it lasts.
    #[serde(rename = "for")]
    pub for_: Tim,
    /// With `kill`: how long the replica stays down at least (a lost node).
    pub down: Tim,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Check {
    pub stall_bound: Dur,
}

#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Expect {
    pub verdict: Option<S<Verdict>>,
    pub stalled_replica: Option<S<String>>,
    pub deployment_ready_within_flow_timeout: Option<S<bool>>,
}

#[derive(Clone, Copy, PartialEq, Eq, DeriveDeserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Verdict {
    Stall,
    Converges,
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

impl Visitor<'_> for KindRefVisitor {
    type Value = KindRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(KIND_ACCEPTED)
    }

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

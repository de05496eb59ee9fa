//! `spec.components` as written: each component a deployment of an
//! informer-based process, described field by field.

use schemars::JsonSchema;
use serde::Deserialize as DeriveDeserialize;

use super::{Discovery, Dur, KindRef, Probe, Replica, S};
use crate::duration::Timing;

/// One component: its pods and the process they run.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Component {
    /// Required: the deployment's name and its pods' `app` label.
    #[schemars(with = "String")]
    pub name: Option<S<String>>,
    /// Required: its pods, named uniquely across the world.
    #[schemars(with = "Vec<Replica>")]
    pub replicas: Option<S<Vec<S<Replica>>>>,
    /// The program its replicas run: code bound from Rust
    /// (`stallsim::Scenario::program`), named here. Without it, the
    /// replicas run an informer-based process described by the fields
    /// below, which are refused beside it.
    #[schemars(with = "Option<String>")]
    pub program: Option<S<String>>,
    #[schemars(with = "Option<Discovery>")]
    pub discovery: Option<S<Discovery>>,
    #[schemars(with = "Option<ComponentElection>")]
    pub leader_election: Option<S<ComponentElection>>,
    /// Whether the process runs a webhook server whose check `/readyz` holds.
    #[schemars(with = "Option<bool>")]
    pub webhook_server: Option<S<bool>>,
    #[schemars(with = "Option<Timing>")]
    pub graceful_shutdown_timeout: Dur,
    /// Kinds its controllers watch from the start.
    #[schemars(with = "Option<Vec<Watch>>")]
    pub watches: Option<S<Vec<S<Watch>>>>,
    /// Kinds its controller reads on every reconcile, each informer created
    /// on the first read.
    #[schemars(with = "Option<Vec<Read>>")]
    pub reads: Option<S<Vec<S<Read>>>>,
    /// The reading controller's requeue period and reconcile timeout.
    #[schemars(with = "Option<Timing>")]
    pub sync_period: Dur,
    #[schemars(with = "Option<Health>")]
    pub health: Option<S<Health>>,
    pub probes: Option<Probes>,
}

/// Leader election of a component.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ComponentElection {
    /// Off: every replica runs every controller from the start.
    pub enabled: Option<bool>,
    #[schemars(with = "Option<String>")]
    pub lease_name: Option<S<String>>,
    #[schemars(with = "Option<Timing>")]
    pub lease_duration: Dur,
    #[schemars(with = "Option<Timing>")]
    pub renew_deadline: Dur,
    #[schemars(with = "Option<Timing>")]
    pub retry_period: Dur,
    pub release_on_cancel: Option<bool>,
}

/// A kind watched from the start: a controller of its own, bounded by its
/// cache sync timeout.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Watch {
    /// Required.
    #[schemars(with = "String")]
    pub kind: Option<S<KindRef>>,
    #[schemars(with = "Option<Timing>")]
    pub cache_sync_timeout: Dur,
    pub on_timeout: Option<OnTimeout>,
}

/// What a timed-out watch does.
#[derive(Clone, Copy, DeriveDeserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) enum OnTimeout {
    Exit,
    KeepWaiting,
}

/// A kind read on every reconcile.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Read {
    /// Required.
    #[schemars(with = "String")]
    pub kind: Option<S<KindRef>>,
    /// A missing kind (no match) is skipped instead of failing the reconcile.
    pub tolerate_no_match: Option<bool>,
    /// Through the informer cache (the default), or straight from the server.
    pub cached: Option<bool>,
}

/// Which informers the checks cover.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Health {
    pub readyz: Option<Coverage>,
    pub healthz: Option<Coverage>,
}

/// The informers a check covers.
#[derive(Clone, Copy, DeriveDeserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Coverage {
    /// Every informer the cache holds.
    All,
    /// The watched kinds: each needs an informer that synced.
    Watched,
    /// None: a ping.
    None,
}

/// The kubelet's probes of the component's pods.
#[derive(DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Probes {
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
}

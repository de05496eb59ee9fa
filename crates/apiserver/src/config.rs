//! [`ApiServerConfig`]: the bounds and timings of the fake server.

use std::time::Duration;

use serde::Serialize;

/// Bounds and timings of the fake server.
///
/// Defaults: `history_events_max` 1000, `watch_channel_capacity` 1024,
/// `bookmark_interval` 60s; for a deleted CRD `crd_finalizer_delay` 100ms,
/// `instance_deletion_cost` 5ms, `serving_removal_lag` 100ms,
/// `watch_teardown_delay` 1s, `discovery_lag` 500ms.
///
/// A deleted CRD goes the way a real API server takes it
/// (kubernetes/apiextensions-apiserver): the DELETE only marks it
/// (deletionTimestamp, the finalizer `customresourcecleanup.apiextensions.k8s.io`,
/// condition `Terminating`); after `crd_finalizer_delay` the finalizer deletes
/// its objects, one every `instance_deletion_cost`, then removes the CRD
/// object. The resource is served until `serving_removal_lag` after that, its
/// open watches end `watch_teardown_delay` later still, and discovery lists it
/// until `discovery_lag` after the CRD object's removal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiServerConfig {
    /// How many change events the watch history keeps, across all resources.
    /// A watch from a version older than the retained history answers an
    /// in-stream `410 Expired`.
    pub history_events_max: usize,
    /// From a CRD's removal until discovery stops listing its resource.
    ///
    /// Upstream has no fixed delay: the removal reaches discovery through
    /// informer and workqueue hops (`DiscoveryController` in
    /// pkg/apiserver/customresource_discovery_controller.go for
    /// `/apis/{group}/{version}`; kube-apiserver's CRD registration and
    /// autoregister controllers and the aggregator's APIService informer for
    /// `/apis`), milliseconds each. 500ms stands for those few hops on a
    /// loaded control plane; it is longer than `serving_removal_lag`, the one
    /// hop that stops serving, so a resource answers 404 while discovery
    /// still lists it.
    pub discovery_lag: Duration,
    /// Frames a watcher may have queued beyond its initial backlog; a watcher
    /// whose queue is full is closed, as a real server closes a slow watcher.
    pub watch_channel_capacity: usize,
    /// Period of `BOOKMARK` events on watches that allow them.
    pub bookmark_interval: Duration,
    /// From a CRD's DELETE until its finalizer starts deleting the instances.
    ///
    /// Upstream (pkg/controller/finalizer/crd_finalizer.go) the finalizer is a
    /// controller on the API server's own CRD informer: the marked CRD reaches
    /// it as an informer event and a workqueue round trip, then one status
    /// update (`InstanceDeletionInProgress`). No fixed delay; 100ms is a
    /// small, realistic figure for that round trip.
    pub crd_finalizer_delay: Duration,
    /// Time the finalizer takes to delete one instance.
    ///
    /// Upstream the finalizer lists the instances and calls DeleteCollection
    /// per namespace straight on storage (crd_finalizer.go `deleteInstances`),
    /// which deletes them one etcd write at a time (kube-apiserver's
    /// `--delete-collection-workers` defaults to 1); its first check that
    /// none remain is immediate. 5ms is one etcd write on a healthy control
    /// plane. The CRD object goes right after the last instance, so a CRD
    /// without instances goes `crd_finalizer_delay` after its DELETE.
    pub instance_deletion_cost: Duration,
    /// From a CRD's removal until its resource answers 404.
    ///
    /// Upstream the handler (pkg/apiserver/customresource_handler.go)
    /// resolves every request through its CRD lister, so it serves the
    /// resource (LIST answers an empty list) until the CRD's DELETED event
    /// reaches that informer: one informer hop, no fixed delay; 100ms, like
    /// `crd_finalizer_delay`.
    pub serving_removal_lag: Duration,
    /// From the end of serving until open watches on the resource end.
    ///
    /// Upstream the handler's `tearDown` (customresource_handler.go) waits
    /// one second (`time.Sleep(time.Second)`) for in-flight requests, then
    /// destroys the storage, which closes its watches: 1s.
    pub watch_teardown_delay: Duration,
}

impl Default for ApiServerConfig {
    fn default() -> Self {
        ApiServerConfig {
            history_events_max: 1000,
            discovery_lag: Duration::from_millis(500),
            watch_channel_capacity: 1024,
            bookmark_interval: Duration::from_secs(60),
            crd_finalizer_delay: Duration::from_millis(100),
            instance_deletion_cost: Duration::from_millis(5),
            serving_removal_lag: Duration::from_millis(100),
            watch_teardown_delay: Duration::from_secs(1),
        }
    }
}

//! What a manager reports about itself, and where it reports it.

use serde::Serialize;

/// Something a manager did or saw. Serialized into traces as
/// `{"type": "InformerCreated", ...}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum ManagerEvent {
    ProcessStarted,
    /// Discovery finished; `resources` are qualified names (`prometheuses.monitoring.coreos.com`).
    DiscoveryCompleted {
        resources: Vec<String>,
    },
    DiscoveryFailed {
        error: String,
    },
    MapperNoMatch {
        kind: String,
    },
    /// The lease holder this replica observes changed.
    LeaseObserved {
        holder: Option<String>,
    },
    LeaderElected,
    LeaseRenewFailed {
        error: String,
    },
    LeadershipLost,
    LeaseReleased,
    ControllerStarted {
        controller: String,
    },
    ControllerFailedToStart {
        controller: String,
        error: String,
    },
    ReconcileStarted {
        controller: String,
    },
    ReconcileSucceeded {
        controller: String,
    },
    ReconcileFailed {
        controller: String,
        error: String,
        retry_in_ms: u64,
    },
    InformerCreated {
        kind: String,
        resource: String,
    },
    InformerRemoved {
        kind: String,
    },
    ListFailed {
        kind: String,
        error: String,
        attempt: u32,
        retry_in_ms: u64,
    },
    ListSucceeded {
        kind: String,
        items: usize,
        resource_version: String,
    },
    InformerSynced {
        kind: String,
    },
    WatchEnded {
        kind: String,
        reason: String,
    },
    /// A stopping process stopped its runnables (controllers, caches, the
    /// webhook server) after `waited_ms`; `timed_out` when they had not
    /// all stopped within the graceful shutdown timeout. The lease is
    /// released after this.
    RunnablesStopped {
        waited_ms: u64,
        timed_out: bool,
    },
    ProcessExited {
        reason: String,
    },
}

/// Receives a manager's events, in the order they happen.
pub trait EventSink {
    fn record(&self, event: ManagerEvent);
}

/// Discards everything (for callers that do not listen).
impl EventSink for () {
    fn record(&self, _event: ManagerEvent) {}
}

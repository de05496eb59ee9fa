//! The manager's events as log lines through `tracing`, for people.
//!
//! Off unless a subscriber listens (the CLI installs one when `RUST_LOG`
//! is set). Each event is logged under the target of the part that did it
//! (`stallsim_manager::election`, `::informer`, `::mapper`, `::controller`,
//! `::manager`), so `RUST_LOG=stallsim_manager::informer=debug` follows
//! the reflectors alone. Each line names the process's identity
//! (the replica); the simulated time is the subscriber's to add. Logging reads nothing and
//! changes nothing: a run's trace is the same with it or without it.

use std::rc::Rc;

use tracing::{debug, info, warn};

use crate::{EventSink, ManagerEvent};

/// Logs every event, then hands it on to the sink it wraps.
pub(crate) struct LoggingSink {
    pub inner: Rc<dyn EventSink>,
    /// The process's identity (`grm-1_23b1e6b9`): which replica logs.
    pub identity: String,
}

impl EventSink for LoggingSink {
    fn record(&self, event: ManagerEvent) {
        log(&self.identity, &event);
        self.inner.record(event);
    }
}

fn log(identity: &str, event: &ManagerEvent) {
    use ManagerEvent as E;
    match event {
        E::ProcessStarted => {
            info!(target: "stallsim_manager::manager", replica = identity, "process started")
        }
        E::ProcessExited { reason } => {
            info!(target: "stallsim_manager::manager", replica = identity, reason, "process exited")
        }
        E::RunnablesStopped {
            waited_ms,
            timed_out,
        } => info!(
            target: "stallsim_manager::manager", replica = identity,
            waited_ms, timed_out,
            "runnables stopped"
        ),
        E::DiscoveryCompleted { resources } => info!(
            target: "stallsim_manager::mapper", replica = identity,
            resources = resources.len(),
            "discovery completed: {}",
            resources.join(", ")
        ),
        E::DiscoveryFailed { error } => {
            warn!(target: "stallsim_manager::mapper", replica = identity, error, "discovery failed")
        }
        E::MapperNoMatch { kind } => {
            warn!(target: "stallsim_manager::mapper", replica = identity, kind, "no REST mapping")
        }
        E::LeaseObserved { holder } => debug!(
            target: "stallsim_manager::election", replica = identity,
            holder = holder.as_deref().unwrap_or("<none>"),
            "lease holder observed"
        ),
        E::LeaderElected => {
            info!(target: "stallsim_manager::election", replica = identity, "became leader")
        }
        E::LeaseRenewFailed { error } => {
            warn!(target: "stallsim_manager::election", replica = identity, error, "lease renewal failed")
        }
        E::LeadershipLost => {
            warn!(target: "stallsim_manager::election", replica = identity, "lost leadership")
        }
        E::LeaseReleased => {
            info!(target: "stallsim_manager::election", replica = identity, "released the lease")
        }
        E::ControllerStarted { controller } => {
            info!(target: "stallsim_manager::controller", replica = identity, controller, "controller started")
        }
        E::ControllerFailedToStart { controller, error } => warn!(
            target: "stallsim_manager::controller", replica = identity,
            controller,
            error,
            "controller failed to start"
        ),
        E::ReconcileStarted { controller } => {
            debug!(target: "stallsim_manager::controller", replica = identity, controller, "reconcile started")
        }
        E::ReconcileSucceeded { controller } => {
            debug!(target: "stallsim_manager::controller", replica = identity, controller, "reconcile succeeded")
        }
        E::ReconcileFailed {
            controller, error, ..
        } => {
            warn!(target: "stallsim_manager::controller", replica = identity, controller, error, "reconcile failed")
        }
        E::InformerCreated { kind, resource } => info!(
            target: "stallsim_manager::informer", replica = identity,
            kind,
            resource,
            "informer created"
        ),
        E::InformerRemoved { kind } => {
            info!(target: "stallsim_manager::informer", replica = identity, kind, "informer removed")
        }
        E::ListFailed {
            kind,
            error,
            attempt,
            retry_in_ms,
        } => warn!(
            target: "stallsim_manager::informer", replica = identity,
            kind,
            error,
            attempt,
            retry_in_ms,
            "LIST failed"
        ),
        E::ListSucceeded {
            kind,
            items,
            resource_version,
        } => debug!(
            target: "stallsim_manager::informer", replica = identity,
            kind,
            items,
            resource_version,
            "LIST succeeded"
        ),
        E::InformerSynced { kind } => {
            info!(target: "stallsim_manager::informer", replica = identity, kind, "informer synced")
        }
        E::WatchEnded { kind, reason } => {
            debug!(target: "stallsim_manager::informer", replica = identity, kind, reason, "watch ended")
        }
    }
}

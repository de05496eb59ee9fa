//! What ends a controller's run with an error.

use std::fmt;

/// Why [`run`](crate::run) ended before its shutdown.
#[derive(Debug)]
pub enum Error {
    /// The leader could not renew its Lease within the renew deadline: it
    /// stops, as client-go's `OnStoppedLeading` does, so that no two
    /// leaders reconcile at once. A supervisor restarts the process.
    LeadershipLost,
    /// A reconcile failed; kept for the error policy's log.
    Reconcile(kube::Error),
    /// The finalizer could not be handled (an object without a name).
    Finalizer(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::LeadershipLost => f.write_str("lost the leader lease"),
            Error::Reconcile(error) => write!(f, "reconcile failed: {error}"),
            Error::Finalizer(error) => write!(f, "finalizer: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::LeadershipLost | Error::Finalizer(_) => None,
            Error::Reconcile(error) => Some(error),
        }
    }
}

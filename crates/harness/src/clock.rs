//! The one place simulated time is read, for whatever stamps an event or a
//! log line with it.

use std::time::Duration;

/// Simulated time since the run started, as the host being polled sees it;
/// `None` outside a run.
pub fn sim_now() -> Option<Duration> {
    stallsim_net::elapsed()
}

//! The one place simulated time is read from turmoil, for whatever stamps
//! an event or a log line with it.

use std::time::Duration;

/// Simulated time since the run started, as the host turmoil is polling
/// sees it; `None` outside a host (between ticks, or outside a run).
pub fn sim_now() -> Option<Duration> {
    turmoil::sim_elapsed()
}

//! [`ApiServerConfig`]: the bounds and timings of the fake server.

use std::time::Duration;

use serde::Serialize;

/// Bounds and timings of the fake server.
///
/// Defaults: `history_events_max` 1000, `discovery_lag` 2s,
/// `watch_channel_capacity` 1024, `bookmark_interval` 60s.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiServerConfig {
    /// How many change events the watch history keeps, across all resources.
    /// A watch from a version older than the retained history answers an
    /// in-stream `410 Expired`.
    pub history_events_max: usize,
    /// How long a deleted CRD's resource stays listed in discovery.
    pub discovery_lag: Duration,
    /// Frames a watcher may have queued beyond its initial backlog; a watcher
    /// whose queue is full is closed, as a real server closes a slow watcher.
    pub watch_channel_capacity: usize,
    /// Period of `BOOKMARK` events on watches that allow them.
    pub bookmark_interval: Duration,
}

impl Default for ApiServerConfig {
    fn default() -> Self {
        ApiServerConfig {
            history_events_max: 1000,
            discovery_lag: Duration::from_secs(2),
            watch_channel_capacity: 1024,
            bookmark_interval: Duration::from_secs(60),
        }
    }
}

//! [`CustomResource`]: a CRD's resource through its life, from established
//! through terminating to removed, and when each step of its deletion falls due.

use std::time::Duration;

use stallsim_core::ResourceRef;

use crate::config::ApiServerConfig;

/// The resource a CRD serves, and where its CRD is in its life.
#[derive(Debug)]
pub(crate) struct CustomResource {
    pub(crate) resource: ResourceRef,
    /// The CRD's `spec.names.shortNames`, as discovery lists them.
    pub(crate) short_names: Vec<String>,
    /// Whether `…/status` is served: writes of the object then keep its
    /// status, and writes of its status keep the rest.
    pub(crate) status_subresource: bool,
    pub(crate) phase: Phase,
}

/// Where a CRD is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Served; discovery lists every verb.
    Established,
    /// Deleted and finalizing: still served, creates refused. The finalizer
    /// takes its next step at `next_step_at`: marking the instance deletion
    /// in progress (`cleaning` false), then deleting one instance at a time
    /// (marking one with finalizers, and looking again every 5s until the
    /// marked ones are gone), then removing the CRD object.
    Terminating {
        next_step_at: Duration,
        cleaning: bool,
    },
    /// The CRD object is gone since `removed_at`. The resource is served
    /// until `serving_removal_lag` after it, its open watches end
    /// `watch_teardown_delay` later, and discovery lists it until
    /// `discovery_lag` after `removed_at`.
    Removed {
        removed_at: Duration,
        watches_ended: bool,
    },
}

impl CustomResource {
    pub(crate) fn established(
        resource: ResourceRef,
        short_names: Vec<String>,
        status_subresource: bool,
    ) -> Self {
        CustomResource {
            resource,
            short_names,
            status_subresource,
            phase: Phase::Established,
        }
    }

    /// Whether requests for the resource are answered (rather than 404).
    pub(crate) fn is_served(&self, now: Duration, config: &ApiServerConfig) -> bool {
        match self.phase {
            Phase::Established | Phase::Terminating { .. } => true,
            Phase::Removed { removed_at, .. } => now < serving_ends(removed_at, config),
        }
    }

    /// Whether discovery lists the resource.
    pub(crate) fn is_listed(&self, now: Duration, config: &ApiServerConfig) -> bool {
        match self.phase {
            Phase::Established | Phase::Terminating { .. } => true,
            Phase::Removed { removed_at, .. } => {
                now < removed_at.saturating_add(config.discovery_lag)
            }
        }
    }

    /// Whether the CRD is being or was deleted: creates are refused and
    /// discovery lists only the verbs that read or delete.
    pub(crate) fn is_terminating(&self) -> bool {
        self.phase != Phase::Established
    }

    /// When this resource's next step falls due: a finalizer step, or the
    /// end of its open watches.
    pub(crate) fn next_due(&self, config: &ApiServerConfig) -> Option<Duration> {
        match self.phase {
            Phase::Established => None,
            Phase::Terminating { next_step_at, .. } => Some(next_step_at),
            Phase::Removed {
                removed_at,
                watches_ended: false,
            } => Some(watches_end(removed_at, config)),
            Phase::Removed { .. } => None,
        }
    }

    /// Whether nothing is left of it: not served, not listed, no watches.
    pub(crate) fn is_gone(&self, now: Duration, config: &ApiServerConfig) -> bool {
        matches!(
            self.phase,
            Phase::Removed {
                watches_ended: true,
                ..
            }
        ) && !self.is_served(now, config)
            && !self.is_listed(now, config)
    }
}

fn serving_ends(removed_at: Duration, config: &ApiServerConfig) -> Duration {
    removed_at.saturating_add(config.serving_removal_lag)
}

fn watches_end(removed_at: Duration, config: &ApiServerConfig) -> Duration {
    serving_ends(removed_at, config).saturating_add(config.watch_teardown_delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed_at(seconds: u64) -> CustomResource {
        CustomResource {
            resource: ResourceRef::new("example.com", "v1", "widgets", "Widget", true),
            short_names: Vec::new(),
            status_subresource: false,
            phase: Phase::Removed {
                removed_at: Duration::from_secs(seconds),
                watches_ended: false,
            },
        }
    }

    #[test]
    fn a_removed_resource_stops_serving_then_its_watches_end() {
        let config = ApiServerConfig {
            serving_removal_lag: Duration::from_secs(1),
            watch_teardown_delay: Duration::from_secs(2),
            discovery_lag: Duration::from_secs(5),
            ..ApiServerConfig::default()
        };
        let removed = removed_at(10);
        let at = Duration::from_millis;
        assert!(removed.is_served(at(10_999), &config));
        assert!(!removed.is_served(at(11_000), &config));
        assert_eq!(removed.next_due(&config), Some(at(13_000)));
        assert!(removed.is_listed(at(14_999), &config));
        assert!(!removed.is_listed(at(15_000), &config));
        assert!(
            !removed.is_gone(at(20_000), &config),
            "its watches are open"
        );
        let ended = CustomResource {
            phase: Phase::Removed {
                removed_at: at(10_000),
                watches_ended: true,
            },
            ..removed
        };
        assert_eq!(ended.next_due(&config), None);
        assert!(!ended.is_gone(at(14_999), &config), "still listed");
        assert!(ended.is_gone(at(15_000), &config));
        assert!(ended.is_terminating());
    }
}

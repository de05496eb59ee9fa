//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's
//! `leaderelection` package does it (k8s.io/client-go/tools/leaderelection/
//! leaderelection.go, `tryAcquireOrRenew`, `renew`, `release`):
//!
//! - a candidate takes the lease when it is free or expired, expired as
//!   judged by its own clock: `leaseDurationSeconds` after the moment it
//!   last saw the lease record change, never from the `renewTime` written
//!   by another host's clock;
//! - it tries every `retry_period`; the leader renews every `retry_period`
//!   and gives up when no renewal succeeded within `renew_deadline`;
//! - on shutdown the leader releases the lease (no holder, a duration of
//!   1s), so a standby takes it without waiting for it to expire.
//!
//! client-go adds a random jitter to the candidate's period; this elector
//! does not, so that a run needs no randomness of its own.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use tokio::time::Instant;

/// The wall clock a Lease's `acquireTime` and `renewTime` are written
/// from: the system's on a cluster, the simulated one in a simulation.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The timings of an election.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timings {
    /// How long a lease holds after its record last changed.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up.
    pub renew_deadline: Duration,
    /// How often a candidate tries to acquire, and the leader to renew.
    pub retry_period: Duration,
}

impl Default for Timings {
    /// controller-runtime's defaults (pkg/manager/manager.go:
    /// `defaultLeaseDuration`, `defaultRenewDeadline`, `defaultRetryPeriod`).
    fn default() -> Self {
        Timings {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// One candidate for a Lease.
pub struct LeaderElector {
    api: Api<Lease>,
    name: String,
    identity: String,
    timings: Timings,
    clock: Clock,
    /// The lease as last seen (with its resourceVersion), and when, by the
    /// local monotonic clock, its record was last seen to change.
    observed: Option<(Lease, Instant)>,
}

impl LeaderElector {
    /// A candidate `identity` for the lease `name` that `api` reads.
    pub fn new(
        api: Api<Lease>,
        name: impl Into<String>,
        identity: impl Into<String>,
        timings: Timings,
        clock: Clock,
    ) -> Self {
        LeaderElector {
            api,
            name: name.into(),
            identity: identity.into(),
            timings,
            clock,
            observed: None,
        }
    }

    /// Returns once this candidate holds the lease.
    pub async fn acquire(&mut self) {
        loop {
            if self.try_acquire_or_renew().await {
                return;
            }
            tokio::time::sleep(self.timings.retry_period).await;
        }
    }

    /// Renews the lease every `retry_period`; returns when a renewal did
    /// not succeed within `renew_deadline`: leadership is lost.
    pub async fn hold(&mut self) {
        loop {
            tokio::time::sleep(self.timings.retry_period).await;
            let deadline = Instant::now() + self.timings.renew_deadline;
            loop {
                let attempt = tokio::time::timeout_at(deadline, self.try_acquire_or_renew());
                match attempt.await {
                    Ok(true) => break,
                    Err(_elapsed) => return,
                    Ok(false) => {}
                }
                let next = Instant::now() + self.timings.retry_period;
                if next >= deadline {
                    return;
                }
                tokio::time::sleep_until(next).await;
            }
        }
    }

    /// Gives the lease up, if this candidate holds it.
    pub async fn release(&mut self) {
        let Some((mut lease, _)) = self.observed.take() else {
            return;
        };
        if !self.is_leader_of(&lease) {
            return;
        }
        let now = MicroTime((self.clock)());
        let transitions = lease.spec.as_ref().and_then(|s| s.lease_transitions);
        lease.spec = Some(LeaseSpec {
            holder_identity: None,
            lease_duration_seconds: Some(1),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: transitions,
            ..LeaseSpec::default()
        });
        // Best effort: a failed release only makes a standby wait out the
        // lease duration.
        let _ = self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await;
    }

    /// Whether the lease as last seen names this candidate.
    pub fn is_leader(&self) -> bool {
        self.observed
            .as_ref()
            .is_some_and(|(lease, _)| self.is_leader_of(lease))
    }

    fn is_leader_of(&self, lease: &Lease) -> bool {
        holder(lease) == Some(self.identity.as_str())
    }

    /// Whether the lease as last seen is held: its duration not yet
    /// elapsed since its record was seen to change.
    fn is_lease_valid(&self) -> bool {
        self.observed.as_ref().is_some_and(|(lease, seen)| {
            let seconds = lease
                .spec
                .as_ref()
                .and_then(|s| s.lease_duration_seconds)
                .unwrap_or(0);
            let duration = Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
            *seen + duration > Instant::now()
        })
    }

    /// One attempt: takes or renews the lease; `false` when another holds
    /// it or a request failed.
    async fn try_acquire_or_renew(&mut self) -> bool {
        let now = MicroTime((self.clock)());
        let record = |acquire_time: MicroTime, transitions: i32| LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(
                i32::try_from(self.timings.lease_duration.as_secs()).unwrap_or(i32::MAX),
            ),
            acquire_time: Some(acquire_time),
            renew_time: Some(now.clone()),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        };
        // The leader's fast path: renew the lease it holds without reading it.
        if self.is_leader() && self.is_lease_valid() {
            if let Some((mut lease, _)) = self.observed.clone() {
                let spec = lease.spec.clone().unwrap_or_default();
                lease.spec = Some(record(
                    spec.acquire_time.unwrap_or_else(|| now.clone()),
                    spec.lease_transitions.unwrap_or(0),
                ));
                if let Ok(renewed) = self
                    .api
                    .replace(&self.name, &PostParams::default(), &lease)
                    .await
                {
                    self.observed = Some((renewed, Instant::now()));
                    return true;
                }
            }
        }
        let current = match self.api.get_opt(&self.name).await {
            Ok(current) => current,
            Err(_) => return false,
        };
        let Some(current) = current else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(record(now.clone(), 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(created) => {
                    self.observed = Some((created, Instant::now()));
                    true
                }
                Err(_) => false,
            };
        };
        let changed = self
            .observed
            .as_ref()
            .is_none_or(|(seen, _)| seen.spec != current.spec);
        if changed {
            self.observed = Some((current.clone(), Instant::now()));
        } else if let Some((seen, _)) = &mut self.observed {
            // The same record: keep when it was first seen, take the new
            // resourceVersion.
            *seen = current.clone();
        }
        let held = holder(&current).is_some_and(|h| !h.is_empty());
        if held && self.is_lease_valid() && !self.is_leader() {
            return false;
        }
        let spec = current.spec.clone().unwrap_or_default();
        let transitions = spec.lease_transitions.unwrap_or(0);
        let mut lease = current;
        lease.spec = Some(if self.is_leader() {
            record(
                spec.acquire_time.unwrap_or_else(|| now.clone()),
                transitions,
            )
        } else {
            record(now.clone(), transitions + 1)
        });
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(updated) => {
                self.observed = Some((updated, Instant::now()));
                true
            }
            Err(_) => false,
        }
    }
}

fn holder(lease: &Lease) -> Option<&str> {
    lease.spec.as_ref()?.holder_identity.as_deref()
}

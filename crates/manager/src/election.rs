//! Leader election through a `coordination.k8s.io/v1` Lease, as client-go's
//! leaderelection package does it with a Lease lock.
//!
//! Expiry is judged by the local clock: a lease held by another replica is
//! taken only after its record has not changed for `lease_duration`, as
//! observed by this replica.

use std::rc::Rc;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use rand::{rngs::SmallRng, SeedableRng};
use stallsim_client::{ApiClient, ApiError, ResourceRef};
use tokio::time::Instant;

use crate::backoff::jitter;
use crate::{EventSink, LeaderElectionConfig, ManagerEvent};

/// client-go's `JitterFactor` for acquisition retries.
const ACQUIRE_JITTER_FACTOR: f64 = 1.2;

pub(crate) fn lease_resource() -> ResourceRef {
    ResourceRef::new("coordination.k8s.io", "v1", "leases", "Lease", true)
}

/// A wall clock for timestamps written into objects: a fixed origin plus
/// tokio's (simulated) time since the process started.
#[derive(Clone, Copy, Debug)]
struct WallClock {
    origin: Timestamp,
    started: Instant,
}

impl WallClock {
    fn now(&self) -> MicroTime {
        let elapsed =
            SignedDuration::try_from(self.started.elapsed()).unwrap_or(SignedDuration::ZERO);
        MicroTime(self.origin.checked_add(elapsed).unwrap_or(self.origin))
    }
}

/// One candidate's view of the election.
pub struct LeaderElector<C> {
    client: C,
    config: LeaderElectionConfig,
    identity: String,
    namespace: String,
    sink: Rc<dyn EventSink>,
    rng: SmallRng,
    clock: WallClock,
    /// The last lease spec seen, and when it was first seen (client-go's observedTime).
    observed: Option<(LeaseSpec, Instant)>,
    is_leader: bool,
}

impl<C: ApiClient> LeaderElector<C> {
    /// A candidate named `identity` for the lease `config.lease_name` in
    /// `namespace`. `seed` drives its retry jitter; `wall_clock_origin` is
    /// the wall time now, for the timestamps written into the lease.
    pub fn new(
        client: C,
        config: LeaderElectionConfig,
        identity: String,
        namespace: String,
        sink: Rc<dyn EventSink>,
        seed: u64,
        wall_clock_origin: Timestamp,
    ) -> Self {
        let clock = WallClock {
            origin: wall_clock_origin,
            started: tokio::time::Instant::now(),
        };
        let rng = SmallRng::seed_from_u64(seed);
        LeaderElector {
            client,
            config,
            identity,
            namespace,
            sink,
            rng,
            clock,
            observed: None,
            is_leader: false,
        }
    }

    pub fn is_leader(&self) -> bool {
        self.is_leader
    }

    /// Tries at once, then every `retry_period` (jittered) until the lease is ours.
    pub async fn acquire(&mut self) {
        loop {
            if self.try_acquire_or_renew().await.is_ok() {
                self.is_leader = true;
                self.sink.record(ManagerEvent::LeaderElected);
                return;
            }
            tokio::time::sleep(jitter(
                self.config.retry_period,
                ACQUIRE_JITTER_FACTOR,
                &mut self.rng,
            ))
            .await;
        }
    }

    /// Renews every `retry_period`; returns when a renewal round could not
    /// succeed within `renew_deadline` (leadership is lost).
    pub async fn hold(&mut self) {
        loop {
            let deadline = tokio::time::Instant::now() + self.config.renew_deadline;
            let renewed = loop {
                match tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await {
                    Ok(Ok(())) => break true,
                    Ok(Err(error)) => self.sink.record(ManagerEvent::LeaseRenewFailed {
                        error: error.to_string(),
                    }),
                    Err(_) => break false,
                }
                if tokio::time::timeout_at(deadline, tokio::time::sleep(self.config.retry_period))
                    .await
                    .is_err()
                {
                    break false;
                }
            };
            if !renewed {
                self.is_leader = false;
                self.sink.record(ManagerEvent::LeadershipLost);
                return;
            }
            tokio::time::sleep(self.config.retry_period).await;
        }
    }

    /// Gives the lease up, if held (`ReleaseOnCancel`).
    pub async fn release(&mut self) {
        if !self.is_leader {
            return;
        }
        self.is_leader = false;
        let Ok(mut lease) = self
            .client
            .get_as::<Lease>(
                &lease_resource(),
                Some(&self.namespace),
                &self.config.lease_name,
            )
            .await
        else {
            return;
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        let now = self.clock.now();
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.acquire_time = Some(now.clone());
        spec.renew_time = Some(now);
        if self.client.update(&lease_resource(), &lease).await.is_ok() {
            self.sink.record(ManagerEvent::LeaseReleased);
        }
    }

    /// client-go's `tryAcquireOrRenew`.
    async fn try_acquire_or_renew(&mut self) -> Result<(), ApiError> {
        let now = self.clock.now();
        let lease_seconds = self.config.lease_duration.as_secs() as i32;
        let fresh = LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(lease_seconds),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: Some(0),
            ..LeaseSpec::default()
        };
        let resource = lease_resource();
        let current = match self
            .client
            .get_as::<Lease>(&resource, Some(&self.namespace), &self.config.lease_name)
            .await
        {
            Ok(lease) => lease,
            Err(ApiError::NotFound(_)) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.config.lease_name.clone()),
                        namespace: Some(self.namespace.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(fresh.clone()),
                };
                self.client.create(&resource, &lease).await?;
                self.observe(fresh);
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        let old = current.spec.clone().unwrap_or_default();
        self.observe(old.clone());
        let holder = old.holder_identity.clone().unwrap_or_default();
        let held_by_other = !holder.is_empty() && holder != self.identity;
        if held_by_other && self.lease_valid() {
            return Err(ApiError::Conflict(format!("lease held by {holder}")));
        }
        let mut spec = fresh;
        if holder == self.identity {
            spec.acquire_time = old.acquire_time.clone();
            spec.lease_transitions = old.lease_transitions;
        } else {
            spec.lease_transitions = Some(old.lease_transitions.unwrap_or(0) + 1);
        }
        let updated = Lease {
            metadata: current.metadata,
            spec: Some(spec.clone()),
        };
        self.client.update(&resource, &updated).await?;
        self.observe(spec);
        Ok(())
    }

    fn lease_valid(&self) -> bool {
        self.observed.as_ref().is_some_and(|(spec, seen)| {
            let seconds = spec.lease_duration_seconds.unwrap_or(0).max(0) as u64;
            seen.elapsed() < std::time::Duration::from_secs(seconds)
        })
    }

    fn observe(&mut self, spec: LeaseSpec) {
        if self
            .observed
            .as_ref()
            .is_some_and(|(seen, _)| *seen == spec)
        {
            return;
        }
        let previous = self
            .observed
            .as_ref()
            .and_then(|(seen, _)| seen.holder_identity.clone());
        if previous != spec.holder_identity || self.observed.is_none() {
            self.sink.record(ManagerEvent::LeaseObserved {
                holder: spec.holder_identity.clone(),
            });
        }
        self.observed = Some((spec, tokio::time::Instant::now()));
    }
}

//! kube-controller-manager's part in a node loss: the node lifecycle
//! controller marks a silent node NotReady and its pod not Ready, evicts
//! the pod once its toleration of the unreachable node has run out, and the
//! ReplicaSet controller creates a pod to replace it, which the container
//! runtime starts on another node after the scheduling delay.
//!
//! When each step falls due follows kubernetes v1.32's code and is computed
//! when the node is lost ([`Loss::of`]): the kubelet renews its node Lease
//! every `node_lease_renew_interval` (`nodeLeaseRenewIntervalFraction` of
//! the 40s lease, `pkg/kubelet/kubelet.go`); the controller looks every
//! `node_monitor_period`, takes the time it first saw the last renewal as
//! the node's probe time, and marks the node `Unknown` (NotReady) and its
//! pods not Ready at the first look strictly after the probe time plus
//! `node_monitor_grace_period` (`monitorNodeHealth` and `MarkPodsNotReady`
//! in `pkg/controller/nodelifecycle/node_lifecycle_controller.go`). The
//! same pass taints the node `node.kubernetes.io/unreachable:NoExecute`,
//! and the taint eviction controller deletes the pod `tolerationSeconds`
//! later (`pkg/controller/tainteviction`). The pod then has a deletion
//! timestamp and stays Terminating, since no kubelet confirms it; the
//! ReplicaSet counts it out and creates a new pod at once.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::SignedDuration;
use stallsim_client::{
    from_dynamic, to_dynamic, ApiClient, ApiError, RestClient, TurmoilTransport,
};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::pods::Pods;
use crate::ticks::{next_tick, phase_of};
use crate::trace::{Recorder, WorldEvent};
use crate::{epoch, mix_seed, NodeLifecycleConfig, APISERVER_HOST, API_PORT};

/// The host that runs kube-controller-manager's controllers.
pub(crate) const CONTROLLER_MANAGER_HOST: &str = "kube-controller-manager";

/// Tries of a read-modify-write of a pod that conflicts with the kubelet's.
const POD_WRITE_TRIES_MAX: u32 = 3;

/// The characters of a generated name (k8s.io/apimachinery
/// `pkg/util/rand`, which `generateName` draws from): no vowels, no
/// look-alike digits.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// A generated name is its base, cut to this many characters, and five
/// more (`names.SimpleNameGenerator` in k8s.io/apiserver: 63 less 5).
const NAME_BASE_CHARS_MAX: usize = 58;
const NAME_RANDOM_CHARS: usize = 5;

/// The name of the `n`th pod (from 1) that replaces a lost pod of
/// `replica`: as a ReplicaSet names its pods (`generateName`, the base and
/// five characters), with the replica's name as the base. The five
/// characters come from the replica's name and `n`, not from the run's
/// seed, so that every run names the replacement alike.
pub(crate) fn replacement_name(replica: &str, n: u64) -> String {
    let mut base = format!("{replica}-");
    base.truncate(NAME_BASE_CHARS_MAX);
    let mut bits = mix_seed(0, &format!("{replica}/replacement"), n);
    let mut name = base;
    for _ in 0..NAME_RANDOM_CHARS {
        name.push(NAME_ALPHABET[(bits % NAME_ALPHABET.len() as u64) as usize] as char);
        bits /= NAME_ALPHABET.len() as u64;
    }
    name
}

/// A lost node's pod, and when kube-controller-manager acts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Loss {
    /// The pod on the lost node.
    pub pod: String,
    /// The pod that replaces it (`None`: no replacement left to start).
    pub replacement: Option<String>,
    /// When the node is marked NotReady, and the pod not Ready.
    pub not_ready_at: Duration,
    /// When the pod is evicted and its replacement created.
    pub evicted_at: Duration,
}

impl Loss {
    /// The steps that follow the loss of `pod`'s node at `lost_at`, in the
    /// world with `seed`: the kubelet's lease renewals and the controller's
    /// looks each tick at a phase of the seed's choosing, as clocks that
    /// started before the run.
    pub fn of(
        pod: &str,
        replacement: Option<String>,
        lost_at: Duration,
        seed: u64,
        config: &NodeLifecycleConfig,
    ) -> Loss {
        let renew = config.node_lease_renew_interval;
        let look = config.node_monitor_period;
        let renew_phase = phase_of(seed, &format!("{pod}/node-lease"), renew);
        let look_phase = phase_of(seed, CONTROLLER_MANAGER_HOST, look);
        let last_renewal = previous_tick(lost_at, renew_phase, renew);
        // The controller notices a renewal at its next look.
        let probed = next_tick(last_renewal + Duration::from_nanos(1), look_phase, look);
        let grace_over = next_tick(
            probed + config.node_monitor_grace_period + Duration::from_nanos(1),
            look_phase,
            look,
        );
        // Not before the node is gone: a grace shorter than the renewal
        // interval would have flapped the node before; that is not modelled.
        let not_ready_at = grace_over.max(next_tick(lost_at, look_phase, look));
        Loss {
            pod: pod.to_string(),
            replacement,
            not_ready_at,
            evicted_at: not_ready_at + config.toleration,
        }
    }
}

/// The last tick at or before `now` of a clock ticking at `phase` plus
/// whole `period`s (a tick before the run counts as the run's start).
fn previous_tick(now: Duration, phase: Duration, period: Duration) -> Duration {
    if period.is_zero() {
        return now;
    }
    let next = next_tick(now, phase, period);
    if next == now {
        now
    } else {
        next.saturating_sub(period)
    }
}

/// Lost nodes handed from the world's driver to kube-controller-manager.
#[derive(Clone, Default)]
pub(crate) struct Losses {
    queue: Rc<RefCell<Vec<Loss>>>,
    notify: Rc<Notify>,
}

impl Losses {
    pub fn push(&self, loss: Loss) {
        self.queue.borrow_mut().push(loss);
        self.notify.notify_one();
    }
}

/// The node lifecycle and ReplicaSet controllers of kube-controller-manager.
pub(crate) struct ControllerManager {
    pub losses: Losses,
    pub pods: Pods,
    pub recorder: Recorder,
    pub namespace: String,
    pub request_timeout: Duration,
    pub config: NodeLifecycleConfig,
    /// The container runtime's start of a container, after the scheduling delay.
    pub container_start: Duration,
    /// The pods' termination grace period, written into an evicted pod.
    pub termination_grace_period: Duration,
}

type Client = RestClient<TurmoilTransport>;

impl ControllerManager {
    pub async fn run(self: Rc<Self>) {
        let client = RestClient::new(
            TurmoilTransport::new(APISERVER_HOST, API_PORT),
            self.request_timeout,
        );
        // The host runs from the start of the run.
        let origin = Instant::now();
        loop {
            self.losses.notify.notified().await;
            let losses = std::mem::take(&mut *self.losses.queue.borrow_mut());
            for loss in losses {
                tokio::task::spawn_local(self.clone().follow(loss, client.clone(), origin));
            }
        }
    }

    /// One lost node's pod, from NotReady to its replacement.
    async fn follow(self: Rc<Self>, loss: Loss, client: Client, origin: Instant) {
        tokio::time::sleep_until(origin + loss.not_ready_at).await;
        self.recorder.world(&loss.pod, WorldEvent::NodeNotReady);
        self.write_pod(&client, &loss.pod, mark_not_ready).await;
        tokio::time::sleep_until(origin + loss.evicted_at).await;
        self.recorder.world(&loss.pod, WorldEvent::PodEvicted);
        let grace = self.termination_grace_period;
        self.write_pod(&client, &loss.pod, |pod, now| mark_deleted(pod, now, grace))
            .await;
        if let Some(replacement) = loss.replacement {
            self.recorder.world(
                &replacement,
                WorldEvent::ReplacementCreated {
                    replaces: loss.pod.clone(),
                },
            );
            let start_at = loss.evicted_at + self.config.scheduling_delay + self.container_start;
            self.pods.schedule(&replacement, start_at);
        }
    }

    /// Reads `name`, changes it with `change` at the current time, writes
    /// it back; again on a conflict with the kubelet's writes. A pod its
    /// kubelet never published is not there to change.
    async fn write_pod(&self, client: &Client, name: &str, change: impl Fn(&mut Pod, Time)) {
        let resource = stallsim_apiserver::pod_resource();
        for _ in 0..POD_WRITE_TRIES_MAX {
            let result = async {
                let object = client.get(&resource, Some(&self.namespace), name).await?;
                let mut pod: Pod = from_dynamic(&object)?;
                change(&mut pod, now());
                client.update(&resource, &to_dynamic(&pod)?).await
            }
            .await;
            match result {
                Err(ApiError::Conflict(_)) => continue,
                Ok(_) | Err(_) => return,
            }
        }
    }
}

/// Wall time now, as written into objects.
fn now() -> Time {
    let elapsed = crate::sim_now().unwrap_or_default();
    let elapsed = SignedDuration::try_from(elapsed).unwrap_or(SignedDuration::ZERO);
    Time(epoch().checked_add(elapsed).unwrap_or(epoch()))
}

/// `MarkPodsNotReady`: the pod's Ready condition and its containers' ready
/// flags false.
fn mark_not_ready(pod: &mut Pod, _now: Time) {
    let Some(status) = pod.status.as_mut() else {
        return;
    };
    for condition in status.conditions.iter_mut().flatten() {
        if condition.type_ == "Ready" {
            condition.status = "False".to_string();
        }
    }
    for container in status.container_statuses.iter_mut().flatten() {
        container.ready = false;
    }
}

/// What a server's graceful DELETE of a pod bound to a node writes: the
/// deletion timestamp and grace period, the object kept until its kubelet
/// confirms (k8s.io/apiserver's `BeforeDelete` with the pod strategy's
/// `CheckGracefulDelete`). The fake server deletes a pod at once, so the
/// eviction writes these marks itself.
fn mark_deleted(pod: &mut Pod, now: Time, grace: Duration) {
    pod.metadata.deletion_timestamp = Some(now);
    pod.metadata.deletion_grace_period_seconds = Some(grace.as_secs() as i64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_is_named_as_a_replica_set_names_pods() {
        let name = replacement_name("grm-0", 1);
        let (base, random) = name.split_at("grm-0-".len());
        assert_eq!(base, "grm-0-");
        assert_eq!(random.len(), NAME_RANDOM_CHARS);
        assert!(random.bytes().all(|c| NAME_ALPHABET.contains(&c)), "{name}");
        assert_eq!(name, replacement_name("grm-0", 1), "the same every time");
        assert_ne!(name, replacement_name("grm-0", 2));
        let long = replacement_name(&"a".repeat(63), 1);
        assert_eq!(long.len(), 63);
    }

    #[test]
    fn a_lost_node_is_not_ready_a_grace_period_after_it_was_last_heard_of() {
        let config = NodeLifecycleConfig::default();
        let lost_at = Duration::from_secs(50);
        for seed in 1..50 {
            let loss = Loss::of("grm-0", None, lost_at, seed, &config);
            // The last renewal is at most one interval before the loss; the
            // controller sees it at its next look, and marks the node one
            // look after the grace.
            let earliest =
                lost_at - config.node_lease_renew_interval + config.node_monitor_grace_period;
            let latest =
                lost_at + config.node_monitor_grace_period + config.node_monitor_period * 2;
            assert!(
                (earliest..=latest).contains(&loss.not_ready_at),
                "seed {seed}: {:?}",
                loss.not_ready_at
            );
            assert_eq!(loss.evicted_at, loss.not_ready_at + config.toleration);
        }
    }

    #[test]
    fn previous_ticks_fall_at_the_phase_plus_whole_periods() {
        let ms = Duration::from_millis;
        assert_eq!(previous_tick(ms(5000), ms(300), ms(1000)), ms(4300));
        assert_eq!(previous_tick(ms(4300), ms(300), ms(1000)), ms(4300));
        assert_eq!(previous_tick(ms(100), ms(300), ms(1000)), ms(0));
    }
}

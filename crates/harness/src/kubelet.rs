//! The kubelet: probes every replica's readiness and liveness on schedule,
//! publishes each pod's Ready condition, and asks for a restart after the
//! liveness failure threshold.
//!
//! The schedule is the kubelet prober's: each probe of a pod has a worker
//! whose ticker starts when the kubelet adds the pod and ticks every
//! `period` from then on, across container restarts. A tick probes once the
//! running container is `initial_delay` old; a tick that comes while a
//! probe is still out waits for it and fires at once, as Go's ticker keeps
//! one tick. The pod was added at an unknown moment before the run, so the
//! ticks fall at a phase of the seed's choosing, the same for both probes
//! (their workers start together).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use stallsim_client::{ApiClient, ApiError, RestClient, TurmoilTransport};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::http_probe::http_probe;
use crate::pods::{ContainerState, Pods};
use crate::replica::probe;
use crate::ticks::next_tick;
use crate::trace::{Probe, Recorder, WorldEvent};
use crate::{mix_seed, ProbeConfig, APISERVER_HOST, API_PORT};

/// The label a deployment selects its pods by: `app=<component>`.
pub(crate) const APP_LABEL_KEY: &str = "app";

/// What the kubelet knows of a pod from its deployment's template: the
/// component (its `app` label and container name) and the probes.
#[derive(Clone, Debug)]
pub(crate) struct PodTemplate {
    pub app: String,
    pub liveness: ProbeConfig,
    pub readiness: ProbeConfig,
}

type Client = RestClient<TurmoilTransport>;

pub(crate) struct Kubelet {
    pub pods: Pods,
    pub recorder: Recorder,
    pub namespace: String,
    pub request_timeout: Duration,
    /// The run's seed: it places each pod's probe tickers, unless
    /// `probe_phases` names the phase.
    pub seed: u64,
    pub probe_phases: BTreeMap<String, Duration>,
    /// Each replica's pod template, by replica name (a replacement pod has
    /// its replica's).
    pub templates: BTreeMap<String, Rc<PodTemplate>>,
}

/// One pod's probe tickers: simulated time, and where in its period each
/// probe ticks.
struct ProbeClock {
    /// The instant of simulated time zero.
    origin: Instant,
    /// A draw in `[0, 2^64)` for the moment the pod's workers started.
    started: u64,
}

impl ProbeClock {
    fn now(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.origin)
    }

    /// The probe's first tick at or after `at`.
    fn tick_at_or_after(&self, at: Duration, period: Duration) -> Duration {
        let phase = if period.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_nanos(self.started % period.as_nanos() as u64)
        };
        next_tick(at, phase, period)
    }

    /// When to probe next, after a probe begun at `begun`: the next tick, or
    /// now if that tick came while the probe was out.
    fn after(&self, begun: Duration, period: Duration) -> Duration {
        let tick = self.tick_at_or_after(begun + Duration::from_nanos(1), period);
        tick.max(self.now())
    }

    async fn sleep_until(&self, at: Duration) {
        tokio::time::sleep_until(self.origin + at).await;
    }
}

impl Kubelet {
    pub async fn run(self: Rc<Self>) {
        let client = RestClient::new(
            TurmoilTransport::new(APISERVER_HOST, API_PORT),
            self.request_timeout,
        );
        // The kubelet runs from the start of the run.
        let origin = tokio::time::Instant::now();
        for name in self.pods.names() {
            let started = match self.probe_phases.get(&name) {
                Some(phase) => phase.as_nanos() as u64,
                None => mix_seed(self.seed, &format!("{name}/probe-workers"), 0),
            };
            let clock = ProbeClock { origin, started };
            tokio::task::spawn_local(self.clone().supervise(name, client.clone(), clock));
        }
        std::future::pending::<()>().await
    }

    /// Follows one pod's containers, from when it is bound to a node:
    /// probes each start until it stops, until the node is lost (its
    /// kubelet with it: nothing is probed or published again).
    async fn supervise(self: Rc<Self>, name: String, client: Client, clock: ProbeClock) {
        if self.pods.scheduled(&name).wait_for(|s| *s).await.is_err() {
            return;
        }
        let mut state = self.pods.state(&name);
        let replica = self.pods.with(&name, |pod| pod.replica.clone());
        let template = self
            .templates
            .get(&replica)
            .expect("every pod's replica has a template")
            .clone();
        let status = PodPublisher {
            client,
            namespace: self.namespace.clone(),
            name: name.clone(),
            app: template.app.clone(),
        };
        let mut ready = false;
        loop {
            let ContainerState {
                generation,
                running,
                node_lost,
            } = *state.borrow_and_update();
            if node_lost {
                return;
            }
            if ready {
                ready = false;
                self.recorder
                    .world(&name, WorldEvent::ReadinessChanged { ready });
            }
            self.publish(&status, false).await;
            if running {
                let started_at = self.pods.with(&name, |pod| pod.started_at);
                let readiness = self.readiness(
                    &name,
                    &status,
                    &mut ready,
                    &clock,
                    started_at,
                    &template.readiness,
                );
                let liveness = self.liveness(&name, &clock, started_at, &template.liveness);
                tokio::select! {
                    biased;
                    _ = wait_change(&mut state, generation) => {}
                    _ = readiness => {}
                    _ = liveness => { wait_change(&mut state, generation).await; }
                }
            } else if state.changed().await.is_err() {
                return;
            }
        }
    }

    async fn readiness(
        &self,
        name: &str,
        status: &PodPublisher,
        ready: &mut bool,
        clock: &ProbeClock,
        started_at: Duration,
        probe_config: &ProbeConfig,
    ) {
        let mut failures = 0;
        let mut due =
            clock.tick_at_or_after(started_at + probe_config.initial_delay, probe_config.period);
        loop {
            clock.sleep_until(due).await;
            let ok = self
                .probe(name, Probe::Readiness, "/readyz", probe_config)
                .await;
            failures = if ok { 0 } else { failures + 1 };
            let now_ready = if ok {
                true
            } else if failures >= probe_config.failure_threshold {
                false
            } else {
                *ready
            };
            if now_ready != *ready {
                *ready = now_ready;
                self.recorder
                    .world(name, WorldEvent::ReadinessChanged { ready: now_ready });
                self.publish(status, now_ready).await;
            }
            due = clock.after(due, probe_config.period);
        }
    }

    /// Returns once the liveness failure threshold is reached (and a restart asked for).
    async fn liveness(
        &self,
        name: &str,
        clock: &ProbeClock,
        started_at: Duration,
        probe_config: &ProbeConfig,
    ) {
        let mut failures = 0;
        let mut due =
            clock.tick_at_or_after(started_at + probe_config.initial_delay, probe_config.period);
        loop {
            clock.sleep_until(due).await;
            let ok = self
                .probe(name, Probe::Liveness, "/healthz", probe_config)
                .await;
            failures = if ok { 0 } else { failures + 1 };
            if failures >= probe_config.failure_threshold {
                self.recorder
                    .world(name, WorldEvent::LivenessFailed { failures });
                self.pods.request_restart(name, "liveness probe failed");
                return;
            }
            due = clock.after(due, probe_config.period);
        }
    }

    async fn probe(&self, name: &str, kind: Probe, path: &str, config: &ProbeConfig) -> bool {
        let result = match &config.http_get {
            Some(get) => http_probe(name, get, config.timeout).await,
            None => probe(name, path, config.timeout).await,
        };
        let ok = result.is_ok();
        self.recorder.world(
            name,
            WorldEvent::ProbeResult {
                probe: kind,
                ok,
                detail: result.err().unwrap_or_default(),
            },
        );
        ok
    }

    async fn publish(&self, status: &PodPublisher, ready: bool) {
        let restarts = self.pods.restarts(&status.name);
        if let Err(error) = status.publish(ready, restarts).await {
            self.recorder.world(
                &status.name,
                WorldEvent::PodStatusFailed {
                    error: error.to_string(),
                },
            );
        }
    }
}

/// Resolves when the container of `generation` stopped or was replaced,
/// or the node was lost.
async fn wait_change(state: &mut watch::Receiver<ContainerState>, generation: u64) {
    let _ = state
        .wait_for(|s| s.generation != generation || !s.running || s.node_lost)
        .await;
}

/// Writes a pod's status to the API server.
struct PodPublisher {
    client: Client,
    namespace: String,
    name: String,
    /// The component: the pod's `app` label and its container's name.
    app: String,
}

impl PodPublisher {
    async fn publish(&self, ready: bool, restarts: u32) -> Result<(), ApiError> {
        let resource = stallsim_apiserver::pod_resource();
        let status = PodStatus {
            phase: Some("Running".to_string()),
            conditions: Some(vec![PodCondition {
                type_: "Ready".to_string(),
                status: if ready { "True" } else { "False" }.to_string(),
                ..PodCondition::default()
            }]),
            container_statuses: Some(vec![ContainerStatus {
                name: self.app.clone(),
                ready,
                restart_count: restarts as i32,
                ..ContainerStatus::default()
            }]),
            ..PodStatus::default()
        };
        // Read, modify, write; one retry on a conflict.
        for _ in 0..2 {
            let result = match self
                .client
                .get_as::<Pod>(&resource, Some(&self.namespace), &self.name)
                .await
            {
                Ok(mut pod) => {
                    pod.status = Some(status.clone());
                    self.client.update(&resource, &pod).await
                }
                Err(ApiError::NotFound(_)) => {
                    let pod = Pod {
                        metadata: ObjectMeta {
                            name: Some(self.name.clone()),
                            namespace: Some(self.namespace.clone()),
                            labels: Some([(APP_LABEL_KEY.to_string(), self.app.clone())].into()),
                            ..ObjectMeta::default()
                        },
                        spec: None,
                        status: Some(status.clone()),
                    };
                    self.client.create(&resource, &pod).await
                }
                Err(error) => Err(error),
            };
            match result {
                Err(ApiError::Conflict(_)) | Err(ApiError::AlreadyExists(_)) => continue,
                other => return other.map(|_| ()),
            }
        }
        Err(ApiError::Conflict(
            "pod status kept conflicting".to_string(),
        ))
    }
}

//! Gardener's deletion flow, reduced to the two tasks that matter: delete
//! the monitoring CRDs, then wait for the resource manager to be ready.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use stallsim_client::{ApiClient, ApiError, ListParams, RestClient, TurmoilTransport};

use crate::kubelet::APP_LABEL_KEY;
use crate::trace::{Recorder, WorldEvent};
use crate::{DeletionFlowConfig, APISERVER_HOST, API_PORT};

/// The flow's source name in traces.
pub(crate) const FLOW: &str = "flow";

/// Between attempts to delete a CRD the server would not delete.
const DELETE_RETRY_INTERVAL: Duration = Duration::from_secs(5);

pub(crate) struct DeletionFlow {
    pub config: DeletionFlowConfig,
    pub recorder: Recorder,
    pub namespace: String,
    /// The deployments waited for: each component's name (its pods' `app`
    /// label) and its replica count.
    pub deployments: Vec<(String, u32)>,
    /// Every replica waited for, of every deployment.
    pub replicas: u32,
    pub request_timeout: Duration,
}

impl DeletionFlow {
    pub async fn run(self) {
        let client = RestClient::new(
            TurmoilTransport::new(APISERVER_HOST, API_PORT),
            self.request_timeout,
        );
        tokio::time::sleep(self.config.delete_at).await;
        let crds = stallsim_apiserver::crd_resource();
        for name in &self.config.crds {
            loop {
                match client.delete(&crds, None, name).await {
                    Ok(()) | Err(ApiError::NotFound(_)) => {
                        self.recorder
                            .world(FLOW, WorldEvent::CrdDeleted { name: name.clone() });
                        break;
                    }
                    Err(error) => {
                        self.recorder.world(
                            FLOW,
                            WorldEvent::CrdDeleteFailed {
                                name: name.clone(),
                                error: error.to_string(),
                            },
                        );
                        tokio::time::sleep(DELETE_RETRY_INTERVAL).await;
                    }
                }
            }
        }
        loop {
            let timeout_ms = self.config.wait_timeout.as_millis() as u64;
            self.recorder
                .world(FLOW, WorldEvent::FlowWaitStarted { timeout_ms });
            match tokio::time::timeout(self.config.wait_timeout, self.wait_ready(&client)).await {
                Ok(ready) => {
                    self.recorder.world(
                        FLOW,
                        WorldEvent::FlowWaitSucceeded {
                            ready,
                            replicas: self.replicas,
                        },
                    );
                    return;
                }
                Err(_) => {
                    let ready = self.ready_pods(&client).await.unwrap_or(0);
                    self.recorder.world(
                        FLOW,
                        WorldEvent::FlowWaitTimedOut {
                            ready,
                            replicas: self.replicas,
                        },
                    );
                    tokio::time::sleep(self.config.retry_after).await;
                }
            }
        }
    }

    /// Polls until every deployment has every replica ready; returns how
    /// many replicas are.
    async fn wait_ready(&self, client: &RestClient<TurmoilTransport>) -> u32 {
        loop {
            if let Ok((ready, all)) = self.ready_deployments(client).await {
                if all {
                    return ready;
                }
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    /// Ready replicas over every deployment waited for, and whether each
    /// deployment has all of its replicas ready.
    async fn ready_deployments(
        &self,
        client: &RestClient<TurmoilTransport>,
    ) -> Result<(u32, bool), ApiError> {
        let (mut ready, mut all) = (0, true);
        for (app, replicas) in &self.deployments {
            let of_app = self.ready_pods_of(client, app).await?;
            ready += of_app;
            all &= of_app >= *replicas;
        }
        Ok((ready, all))
    }

    async fn ready_pods(&self, client: &RestClient<TurmoilTransport>) -> Result<u32, ApiError> {
        Ok(self.ready_deployments(client).await?.0)
    }

    async fn ready_pods_of(
        &self,
        client: &RestClient<TurmoilTransport>,
        app: &str,
    ) -> Result<u32, ApiError> {
        let params = ListParams {
            namespace: Some(self.namespace.clone()),
            label_selector: Some(format!("{APP_LABEL_KEY}={app}")),
        };
        let pods = client
            .list_as::<Pod>(&stallsim_apiserver::pod_resource(), &params)
            .await?;
        let mut ready = 0;
        for pod in pods.items {
            // A pod being deleted (Terminating, as an evicted pod on a lost
            // node stays) is not available to a ReplicaSet, whatever its
            // last Ready condition said.
            let terminating = pod.metadata.deletion_timestamp.is_some();
            let is_ready = !terminating
                && pod
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True");
            ready += u32::from(is_ready);
        }
        Ok(ready)
    }
}

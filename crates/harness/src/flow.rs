//! Gardener's deletion flow, reduced to the two tasks that matter: delete
//! the monitoring CRDs, then wait for the resource manager to be ready.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use stallsim_client::{ApiClient, ApiError, ListParams, RestClient, TurmoilTransport};

use crate::kubelet::APP_LABEL;
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

    /// Polls until every replica is ready; returns how many are.
    async fn wait_ready(&self, client: &RestClient<TurmoilTransport>) -> u32 {
        loop {
            if let Ok(ready) = self.ready_pods(client).await {
                if ready >= self.replicas {
                    return ready;
                }
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    async fn ready_pods(&self, client: &RestClient<TurmoilTransport>) -> Result<u32, ApiError> {
        let params = ListParams {
            namespace: Some(self.namespace.clone()),
            label_selector: Some(format!("{}={}", APP_LABEL.0, APP_LABEL.1)),
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

//! [`KubeClient`]: the [`ApiClient`] that goes through kube-rs's own
//! `kube::Client` and `kube::Api`, so every request is built, sent and
//! decoded by the client kube-rs controllers ship with.

use std::time::Duration;

use futures::stream::LocalBoxStream;
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIResourceList};
use kube::api::{Api, ApiResource, DeleteParams, GetParams, PostParams};
use kube::core::{DynamicObject, GroupVersionKind, ObjectList, WatchEvent};

use crate::{ApiClient, ApiError, ApiObject, ListParams, ResourceRef, WatchParams, WatchStream};

/// An [`ApiClient`] over a `kube::Client`: discovery through the client's
/// discovery calls, watches and deletes through `Api<DynamicObject>`, and
/// objects read and written as the caller's type through the requests
/// `kube::Api<K>` itself builds (`kube::core::Request`) and
/// `kube::Client::request`.
///
/// A request (or a watch's head) not answered within `request_timeout`
/// fails with [`ApiError::Timeout`], as with [`RestClient`](crate::RestClient).
#[derive(Clone)]
pub struct KubeClient {
    client: kube::Client,
    request_timeout: Duration,
}

impl std::fmt::Debug for KubeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeClient")
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl KubeClient {
    pub fn new(client: kube::Client, request_timeout: Duration) -> Self {
        KubeClient {
            client,
            request_timeout,
        }
    }

    fn api(&self, resource: &ResourceRef, namespace: Option<&str>) -> Api<DynamicObject> {
        let gvk = GroupVersionKind::gvk(&resource.group, &resource.version, &resource.kind);
        let api_resource = ApiResource::from_gvk_with_plural(&gvk, &resource.plural);
        match namespace {
            Some(namespace) if resource.namespaced => {
                Api::namespaced_with(self.client.clone(), namespace, &api_resource)
            }
            _ => Api::all_with(self.client.clone(), &api_resource),
        }
    }

    /// The request builder `Api` would use for `resource` in `namespace`:
    /// the same collection path, so the same requests on the wire.
    fn requests(&self, resource: &ResourceRef, namespace: Option<&str>) -> kube::core::Request {
        let namespace = namespace.filter(|_| resource.namespaced);
        kube::core::Request::new(resource.collection_path(namespace))
    }

    /// Sends a built request and reads the answer as `T`, as `Api` does.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
    ) -> Result<T, ApiError> {
        let request = request.map_err(|e| ApiError::Decode(e.to_string()))?;
        self.timed(self.client.request::<T>(request)).await
    }

    async fn timed<T>(
        &self,
        request: impl std::future::Future<Output = kube::Result<T>>,
    ) -> Result<T, ApiError> {
        match tokio::time::timeout(self.request_timeout, request).await {
            Ok(answer) => answer.map_err(api_error),
            Err(_) => Err(ApiError::Timeout),
        }
    }
}

/// The [`ApiError`] a kube-rs error stands for: a `Status` the server
/// answered keeps its meaning, a failed connection is [`ApiError::Unavailable`].
pub fn api_error(error: kube::Error) -> ApiError {
    match error {
        kube::Error::Api(status) => ApiError::from_status(&status),
        kube::Error::SerdeError(e) => ApiError::Decode(e.to_string()),
        kube::Error::FromUtf8(e) => ApiError::Decode(e.to_string()),
        kube::Error::BuildRequest(e) => ApiError::Decode(e.to_string()),
        other => ApiError::Unavailable(other.to_string()),
    }
}

fn list_params(label_selector: &Option<String>) -> kube::api::ListParams {
    let mut params = kube::api::ListParams::default();
    if let Some(selector) = label_selector {
        params = params.labels(selector);
    }
    params
}

impl ApiClient for KubeClient {
    type Watch = KubeWatch;

    fn kube_client(&self) -> Option<kube::Client> {
        Some(self.client.clone())
    }

    async fn server_healthz(&self) -> Result<(), ApiError> {
        let request = http::Request::get("/healthz")
            .body(Vec::new())
            .map_err(|e| ApiError::Decode(e.to_string()))?;
        self.timed(self.client.request_text(request))
            .await
            .map(|_| ())
    }

    async fn server_groups(&self) -> Result<APIGroupList, ApiError> {
        self.timed(self.client.list_api_groups()).await
    }

    async fn server_resources(&self, group_version: &str) -> Result<APIResourceList, ApiError> {
        if group_version.contains('/') {
            self.timed(self.client.list_api_group_resources(group_version))
                .await
        } else {
            self.timed(self.client.list_core_api_resources(group_version))
                .await
        }
    }

    async fn list_as<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        params: &ListParams,
    ) -> Result<ObjectList<K>, ApiError> {
        let requests = self.requests(resource, params.namespace.as_deref());
        self.send(requests.list(&list_params(&params.label_selector)))
            .await
    }

    async fn watch(
        &self,
        resource: &ResourceRef,
        params: &WatchParams,
    ) -> Result<Self::Watch, ApiError> {
        let api = self.api(resource, params.namespace.as_deref());
        let mut watch = kube::api::WatchParams::default();
        if let Some(selector) = &params.label_selector {
            watch = watch.labels(selector);
        }
        if let Some(seconds) = params.timeout_seconds {
            watch = watch.timeout(seconds);
        }
        watch.bookmarks = params.allow_bookmarks;
        let events = self
            .timed(api.watch(&watch, &params.resource_version))
            .await?;
        Ok(KubeWatch {
            events: events.boxed_local(),
        })
    }

    async fn get_as<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<K, ApiError> {
        let requests = self.requests(resource, namespace);
        self.send(requests.get(name, &GetParams::default())).await
    }

    async fn create<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        object: &K,
    ) -> Result<K, ApiError> {
        let requests = self.requests(resource, object.meta().namespace.as_deref());
        let body = serde_json::to_vec(object).map_err(|e| ApiError::Decode(e.to_string()))?;
        self.send(requests.create(&PostParams::default(), body))
            .await
    }

    async fn update<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        object: &K,
    ) -> Result<K, ApiError> {
        let metadata = object.meta();
        let requests = self.requests(resource, metadata.namespace.as_deref());
        let name = metadata.name.as_deref().unwrap_or_default();
        let body = serde_json::to_vec(object).map_err(|e| ApiError::Decode(e.to_string()))?;
        self.send(requests.replace(name, &PostParams::default(), body))
            .await
    }

    async fn delete(
        &self,
        resource: &ResourceRef,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), ApiError> {
        self.timed(
            self.api(resource, namespace)
                .delete(name, &DeleteParams::default()),
        )
        .await
        .map(|_| ())
    }
}

/// The events of a [`KubeClient`] watch, as `kube::Api::watch` decodes them.
pub struct KubeWatch {
    events: LocalBoxStream<'static, kube::Result<WatchEvent<DynamicObject>>>,
}

impl WatchStream for KubeWatch {
    async fn next(&mut self) -> Option<Result<WatchEvent<DynamicObject>, ApiError>> {
        Some(self.events.next().await?.map_err(api_error))
    }
}

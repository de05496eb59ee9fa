//! [`RestClient`]: the [`ApiClient`] that speaks Kubernetes REST over a [`Transport`].

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIResourceList};
use kube::core::{DynamicObject, ObjectList, Status, WatchEvent};
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::{
    ApiClient, ApiError, ApiObject, Body, FrameStream, ListParams, Method, Request, ResourceRef,
    Response, Transport, WatchParams, WatchStream,
};

/// Speaks the Kubernetes REST API over any [`Transport`]: bodies are
/// written from the caller's types and answers read into them, with no
/// `serde_json::Value` between.
#[derive(Clone, Debug)]
pub struct RestClient<T> {
    transport: T,
    /// A request (or a watch's head) not answered within this fails with
    /// [`ApiError::Timeout`].
    request_timeout: Duration,
}

impl<T: Transport> RestClient<T> {
    pub fn new(transport: T, request_timeout: Duration) -> Self {
        RestClient {
            transport,
            request_timeout,
        }
    }

    async fn call<R: DeserializeOwned>(&self, request: Request) -> Result<R, ApiError> {
        let response = tokio::time::timeout(self.request_timeout, self.transport.request(request))
            .await
            .map_err(|_| ApiError::Timeout)??;
        decode(response)
    }
}

fn decode<R: DeserializeOwned>(response: Response) -> Result<R, ApiError> {
    if !response.is_success() {
        return Err(error_from(response));
    }
    response.body.decode()
}

fn error_from(response: Response) -> ApiError {
    match response.body.decode::<Status>() {
        Ok(status) if status.code != 0 => ApiError::from_status(&status),
        _ => ApiError::Status {
            code: response.code,
            reason: String::new(),
            message: String::new(),
        },
    }
}

fn with_selector(request: Request, label_selector: &Option<String>) -> Request {
    match label_selector {
        Some(selector) => request.query("labelSelector", selector.clone()),
        None => request,
    }
}

impl<T: Transport> ApiClient for RestClient<T> {
    type Watch = RestWatch<T::Stream>;

    async fn server_healthz(&self) -> Result<(), ApiError> {
        self.call::<IgnoredAny>(Request::new(Method::Get, "/healthz"))
            .await
            .map(|_| ())
    }

    async fn server_groups(&self) -> Result<APIGroupList, ApiError> {
        self.call(Request::new(Method::Get, "/apis")).await
    }

    async fn server_resources(&self, group_version: &str) -> Result<APIResourceList, ApiError> {
        let path = if group_version.contains('/') {
            format!("/apis/{group_version}")
        } else {
            format!("/api/{group_version}")
        };
        self.call(Request::new(Method::Get, path)).await
    }

    async fn list_as<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        params: &ListParams,
    ) -> Result<ObjectList<K>, ApiError> {
        let request = Request::new(
            Method::Get,
            resource.collection_path(params.namespace.as_deref()),
        );
        self.call(with_selector(request, &params.label_selector))
            .await
    }

    async fn watch(
        &self,
        resource: &ResourceRef,
        params: &WatchParams,
    ) -> Result<Self::Watch, ApiError> {
        let mut request = Request::new(
            Method::Get,
            resource.collection_path(params.namespace.as_deref()),
        )
        .query("watch", "true")
        .query("resourceVersion", params.resource_version.clone());
        if let Some(seconds) = params.timeout_seconds {
            request = request.query("timeoutSeconds", seconds.to_string());
        }
        if params.allow_bookmarks {
            request = request.query("allowWatchBookmarks", "true");
        }
        let request = with_selector(request, &params.label_selector);
        let (head, stream) =
            tokio::time::timeout(self.request_timeout, self.transport.stream(request))
                .await
                .map_err(|_| ApiError::Timeout)??;
        match stream {
            Some(frames) if head.is_success() => Ok(RestWatch { frames }),
            _ => Err(error_from(head)),
        }
    }

    async fn get_as<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<K, ApiError> {
        self.call(Request::new(
            Method::Get,
            resource.object_path(namespace, name),
        ))
        .await
    }

    async fn create<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        object: &K,
    ) -> Result<K, ApiError> {
        let body = Body::of(object)?;
        let path = resource.collection_path(object.meta().namespace.as_deref());
        self.call(Request::new(Method::Post, path).body(body)).await
    }

    async fn update<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        object: &K,
    ) -> Result<K, ApiError> {
        let body = Body::of(object)?;
        let metadata = object.meta();
        let name = metadata.name.as_deref().unwrap_or_default();
        let path = resource.object_path(metadata.namespace.as_deref(), name);
        self.call(Request::new(Method::Put, path).body(body)).await
    }

    async fn delete(
        &self,
        resource: &ResourceRef,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), ApiError> {
        self.call::<IgnoredAny>(Request::new(
            Method::Delete,
            resource.object_path(namespace, name),
        ))
        .await
        .map(|_| ())
    }
}

/// The watch events of a [`RestClient`] watch.
pub struct RestWatch<S> {
    frames: S,
}

impl<S: FrameStream> WatchStream for RestWatch<S> {
    async fn next(&mut self) -> Option<Result<WatchEvent<DynamicObject>, ApiError>> {
        let frame = self.frames.next_frame().await?;
        Some(frame.and_then(|frame| frame.decode()))
    }
}

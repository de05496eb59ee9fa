//! The [`ApiClient`] trait: everything the core asks of a cluster.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIResourceList};
use kube::core::{DynamicObject, ObjectList, WatchEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{ApiError, ResourceRef};

/// An object a client reads and writes: a `k8s-openapi` type (`Lease`,
/// `Pod`, `CustomResourceDefinition`) where the kind is known, or a
/// `DynamicObject` for any kind. It travels as JSON written from its own
/// type and read into it, as `kube::Api<K>` does.
pub trait ApiObject:
    kube::Resource + Clone + std::fmt::Debug + Serialize + DeserializeOwned
{
}

impl<K> ApiObject for K where
    K: kube::Resource + Clone + std::fmt::Debug + Serialize + DeserializeOwned
{
}

/// Parameters of a LIST.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListParams {
    /// Restrict to one namespace; all namespaces when `None`.
    pub namespace: Option<String>,
    /// `key=value[,key=value]` equality selector.
    pub label_selector: Option<String>,
}

/// Parameters of a WATCH.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchParams {
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    /// Deliver every change after this version.
    pub resource_version: String,
    /// The server ends the stream after this many seconds.
    pub timeout_seconds: Option<u32>,
    pub allow_bookmarks: bool,
}

/// A cluster as the core sees it.
///
/// Mirrors the Kubernetes REST API: discovery, then list, watch, get, create,
/// update and delete of any served resource. Every error is an [`ApiError`].
/// Objects are written from the caller's type ([`ApiObject`]) and read
/// into it, as with `kube::Api<K>`: [`get_as`](ApiClient::get_as) and
/// [`list_as`](ApiClient::list_as) read a `Lease` as a `Lease`;
/// [`get`](ApiClient::get) and [`list`](ApiClient::list) read any kind as
/// a `DynamicObject`.
#[allow(async_fn_in_trait)] // every simulated host runs on one thread; no Send bound wanted
pub trait ApiClient {
    type Watch: WatchStream;

    /// The `kube::Client` underneath, for parts that run kube-rs's own
    /// machinery (kube-runtime's watcher); `None` for other clients.
    fn kube_client(&self) -> Option<kube::Client> {
        None
    }

    /// `GET /healthz`: `Ok` when the server answers 200.
    async fn server_healthz(&self) -> Result<(), ApiError>;
    /// `GET /apis`: the named groups (the core group `v1` is not among them).
    async fn server_groups(&self) -> Result<APIGroupList, ApiError>;
    /// `GET /api/v1` or `GET /apis/{group}/{version}`.
    async fn server_resources(&self, group_version: &str) -> Result<APIResourceList, ApiError>;
    /// LIST, each item read as `K`.
    async fn list_as<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        params: &ListParams,
    ) -> Result<ObjectList<K>, ApiError>;
    /// LIST of any kind.
    async fn list(
        &self,
        resource: &ResourceRef,
        params: &ListParams,
    ) -> Result<ObjectList<DynamicObject>, ApiError> {
        self.list_as(resource, params).await
    }
    async fn watch(
        &self,
        resource: &ResourceRef,
        params: &WatchParams,
    ) -> Result<Self::Watch, ApiError>;
    /// GET of one object, read as `K`.
    async fn get_as<K: ApiObject>(
        &self,
        resource: &ResourceRef,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<K, ApiError>;
    /// GET of one object of any kind.
    async fn get(
        &self,
        resource: &ResourceRef,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<DynamicObject, ApiError> {
        self.get_as(resource, namespace, name).await
    }
    /// Creates the object (written from its own type) and answers it as stored.
    async fn create<K: ApiObject>(&self, resource: &ResourceRef, object: &K)
        -> Result<K, ApiError>;
    /// Replaces the object and answers it as stored; fails with
    /// [`ApiError::Conflict`] when its `metadata.resourceVersion` is not
    /// the stored one.
    async fn update<K: ApiObject>(&self, resource: &ResourceRef, object: &K)
        -> Result<K, ApiError>;
    async fn delete(
        &self,
        resource: &ResourceRef,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), ApiError>;
}

/// The events of one watch, in order; `None` when the server ends it.
#[allow(async_fn_in_trait)]
pub trait WatchStream {
    async fn next(&mut self) -> Option<Result<WatchEvent<DynamicObject>, ApiError>>;
}

//! How a component talks to a cluster: the [`ApiClient`] trait and its
//! implementations, and the transports. The wire types it shares with the
//! fake API server (errors, requests, responses, resource references, the
//! [`Transport`] seam) live in `stallsim-core` and are re-exported here.
//!
//! The core (`stallsim-manager`) is written against [`ApiClient`] only, which
//! has two implementations. [`RestClient`] speaks Kubernetes REST paths and
//! JSON bodies over a [`Transport`]; the simulation's transport crosses
//! turmoil-net's network (`TurmoilTransport`, behind the `turmoil` feature),
//! so latency, partitions and a crashed server reach the core as they would
//! in a cluster. [`KubeClient`] goes through kube-rs's own `kube::Client`,
//! which `kube_client_over_net` (same feature) runs over real HTTP/1.1 on the
//! same simulated network.

mod api;
mod kube_api;
#[cfg(feature = "turmoil")]
mod kube_net;
mod rest;
#[cfg(feature = "turmoil")]
mod turmoil_net;
mod typed;

pub use api::{ApiClient, ApiObject, ListParams, WatchParams, WatchStream};
pub use kube_api::{api_error, KubeClient, KubeWatch};
#[cfg(feature = "turmoil")]
pub use kube_net::{kube_client_over_net, OUTSIDE_HOSTS};
pub use rest::RestClient;
#[cfg(feature = "turmoil")]
pub use turmoil_net::TurmoilTransport;
pub use typed::{from_dynamic, to_dynamic};

// The wire types, shared with the fake API server.
pub use stallsim_core::{
    ApiError, Body, FrameStream, Method, Request, ResourceRef, Response, Transport, STREAM_END,
};

pub use kube::core::{DynamicObject, ObjectList, WatchEvent};

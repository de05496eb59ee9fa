//! The types a Kubernetes client and the fake API server share, and nothing
//! else: as `kube-core` is for kube-rs, this crate has no client, no server
//! and no I/O.
//!
//! - [`ResourceRef`]: a served resource (group, version, plural, kind,
//!   scope) and its REST paths;
//! - [`Request`] and [`Response`]: HTTP's shape (method, path, query;
//!   status code and JSON body), framed one JSON document per line on the
//!   simulated network's JSON-line face; a [`Body`] is JSON text, written
//!   from the sender's type and read into the reader's;
//! - [`ApiError`]: what can go wrong, and its mapping to and from a
//!   Kubernetes `Status`;
//! - [`Transport`] and [`FrameStream`]: the seam a request travels through
//!   (the simulated network, or a call straight into the server).
//!
//! `stallsim-client` depends on it and re-exports it; `stallsim-apiserver`
//! depends on it instead of on the client.

mod body;
mod error;
mod resource;
mod transport;
mod wire;

pub use body::Body;
pub use error::ApiError;
pub use resource::ResourceRef;
pub use transport::{FrameStream, Transport};
pub use wire::{Method, Request, Response, STREAM_END};

pub use kube::core::Status;

//! An in-memory fake Kubernetes API server: store, watches, discovery, CRDs and leases.
//!
//! [`ApiServer`] is the whole state of the server, driven one [`Request`] at a
//! time through [`ApiServer::handle`], with simulated time passed in by the
//! caller. It is deterministic: no clock reads, no randomness, no hash-order
//! iteration. Two fronts carry requests to it:
//!
//! - [`serve`] answers the JSON-line wire format of [`stallsim_core`] over turmoil-net's
//!   simulated TCP, on kept-alive connections that carry request after
//!   request, answered in order (a watch holds its connection until it ends);
//! - [`InProcessTransport`] is a [`Transport`] that calls the server directly,
//!   for tests of code written against stallsim-client's `RestClient`.
//!
//! What it models, after the Kubernetes API server: one global, monotonically
//! increasing `resourceVersion`; LIST with equality label selectors; WATCH from
//! a version with a bounded history (a compacted version is an in-stream `410
//! Expired`); optimistic concurrency on update; discovery; and CRDs deleted as
//! a real server deletes them. A DELETE marks the CRD (deletion timestamp,
//! finalizer `customresourcecleanup.apiextensions.k8s.io`, condition
//! `Terminating`); while it terminates its resource is still served and
//! listed, creates are refused (403), and its finalizer deletes the objects;
//! then the CRD object goes, the resource answers 404, its watches end, and
//! discovery drops it, each after its own lag in [`ApiServerConfig`].
//!
//! Objects with finalizers are marked on DELETE and deleted by the write
//! that removes their last finalizer; PATCH takes a merge or a JSON patch;
//! a custom resource whose CRD declares the status subresource serves
//! `…/status` ([`CrdSpec::status_subresource`]).
//!
//! It selects on `metadata.name` and `metadata.namespace` (`fieldSelector`),
//! answers a LIST from a version it has not reached with kube-apiserver's
//! 504 "Too large resource version", and holds its memory within
//! [`MemoryBounds`]: stored objects, history and queued watch frames,
//! counted in bytes (507 for a write past them; the history and the
//! fullest watch queue give way).
//!
//! It counts the requests it answers as a real server's metrics would
//! ([`RequestLoad`], [`ClientLoad`]): overall, and per client (the peer a
//! face sees: a simulated host) and class (LIST, WATCH, lease, other).
//!
//! The server is passive: that work is done when time is handed in
//! ([`ApiServer::handle`], [`ApiServer::advance`]); both fronts wake it at
//! [`ApiServer::next_due`] while they hold a watch open.
//!
//! [`Request`]: stallsim_core::Request
//! [`Transport`]: stallsim_core::Transport

mod bounds;
mod config;
mod continuation;
mod crd;
mod discovery;
mod field_selector;
mod history;
mod http;
mod in_process;
mod json_patch;
mod lifecycle;
mod load;
mod merge_patch;
mod object;
mod openapi;
mod pump;
mod resources;
mod route;
mod selector;
mod serve;
mod server;
mod size;
mod status;
mod wall_clock;
mod watch;

pub use bounds::MemoryBounds;
pub use config::ApiServerConfig;
pub use crd::CrdSpec;
pub use http::{
    serve_simulated, serve_tcp, ConnectionTimeouts, HttpFace, ReplyBody, REQUEST_BODY_BYTES_MAX,
};
pub use in_process::{InProcessFrames, InProcessTransport};
pub use load::{ClientId, ClientLoad, RequestClass, RequestLoad, RATE_WINDOW};
pub use resources::{builtin_resources, crd_resource, lease_resource, pod_resource};
pub use serve::serve;
pub use server::{ApiServer, Reply};
pub use wall_clock::{WallClockRead, WALL_CLOCK_SKEW_MAX};
pub use watch::{Frame, WatchFeed};

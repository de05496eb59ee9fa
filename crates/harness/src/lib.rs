//! The simulated world: an API server host, one host per replica, a kubelet
//! and the deletion flow on `stallsim-net`'s network, run event by event
//! under a seed, with faults at set times and a checker that judges the
//! trace afterwards.
//!
//! [`run`] is the whole of it: a [`WorldConfig`] in, a [`Run`] (the
//! [`Report`] and the full trace) out. Same config, same seed: the same
//! trace, byte for byte.

#![warn(missing_docs)]

mod baseline;
mod checker;
mod clock;
mod component;
mod config;
mod flow;
mod http_probe;
mod kubelet;
mod nodes;
mod pods;
mod program;
mod replica;
mod report;
mod requests;
mod restart_loop;
mod scrape;
mod ticks;
mod timeline;
mod trace;
mod world;

pub use baseline::run_empty;
pub use checker::{judge, pods_of};
pub use clock::sim_now;
pub use component::{ComponentConfig, ComponentProcess, RESERVED_HOSTS, RESOURCE_MANAGER};
pub use config::*;
pub use program::{HealthCheck, Process, Program, ProgramCode};
pub use replica::HEALTH_PORT as HEALTH_PROBE_PORT;
pub use report::*;
pub use requests::{
    component_requests, replica_requests, ClassRequests, ComponentRequests, ReplicaRequests,
};
pub use restart_loop::LOOP_RESTARTS_MIN;
pub use scrape::{AlertReport, AlertRule, PrometheusConfig};
pub use timeline::{custom_resources, format_duration, render_timeline};
pub use trace::{header_line, verdict_line, Probe, TraceEvent, What, WorldEvent};
pub use world::{run, Run, World};

pub use stallsim_apiserver::{ApiServerConfig, CrdSpec, RequestClass, RATE_WINDOW};
pub use stallsim_manager as manager;

use k8s_openapi::jiff::Timestamp;

/// The API server's host name and port.
pub(crate) const APISERVER_HOST: &str = "apiserver";
pub(crate) const API_PORT: u16 = 6443;
/// The server's HTTP/1.1 face (kube-apiserver's old insecure port).
pub(crate) const API_HTTP_PORT: u16 = 8080;

/// Wall time at the start of every run (timestamps written into objects).
pub(crate) fn epoch() -> Timestamp {
    // 2025-04-01T00:00:00Z, the month of the incident.
    Timestamp::from_second(1_743_465_600).expect("a valid timestamp")
}

/// A seed derived from a run's seed for one named thing (a host and its
/// start count, a scenario field): the three mixed (splitmix64 over an
/// FNV-1a hash of the name), so each draws independently of the others.
pub fn mix_seed(world_seed: u64, name: &str, generation: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = world_seed ^ hash ^ generation.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

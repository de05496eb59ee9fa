//! The resource-manager core: REST mapper, leader election, informers and
//! their cache, controllers and health checks, written against
//! [`stallsim_client::ApiClient`] and tokio's clock only.
//!
//! A manager is one configuration ([`ManagerConfig`]) of a general
//! informer-based component: the resource manager's garbage collector is a
//! [`ControllerConfig`] like any other. Candidate fixes are switches in
//! [`Mitigations`]. What happens is reported as [`ManagerEvent`]s to an
//! [`EventSink`]; the core never learns who listens.

mod backoff;
mod cache;
mod config;
mod controller;
mod election;
mod events;
mod health;
mod informer;
mod log;
mod manager;
mod mapper;
mod metrics;
mod runtime_informer;

pub use backoff::Backoff;
pub use cache::{Cache, CacheError};
pub use config::{
    BackoffConfig, BackoffReset, ClientGoRelease, ControllerConfig, DiscoveryMode, Gvk,
    InformerCoverage, InformerLibrary, KindRead, LeaderElectionConfig, ManagerConfig, Mitigations,
    OnSyncTimeout, ReflectorConfig,
};
pub use election::LeaderElector;
pub use events::{EventSink, ManagerEvent};
pub use health::{Health, WebhookServer};
pub use informer::Informer;
pub use manager::{Exit, Manager, ProcessContext};
pub use mapper::{MapperError, RestMapper};
pub use metrics::{MetricsSink, ProcessMetrics};

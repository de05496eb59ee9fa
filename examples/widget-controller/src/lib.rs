//! A kube-rs controller for `Widget`s (`example.com/v1`), written as any
//! kube-rs user writes one, and run either on a cluster (`main.rs`) or
//! inside stallsim's simulated cluster (its tests).
//!
//! - [`Widget`]: the custom resource, with a status subresource;
//! - [`run`]: leader election on a Lease ([`leader`]), then kube-runtime's
//!   `Controller` over widgets, each given a finalizer and its status
//!   (`observedGeneration`, `ready`) written;
//! - [`readiness`]: `/readyz` over any byte stream, ready as a standby, or
//!   as the leader once its controller's store has synced.
//!
//! Nothing in it reads the wall clock: the time written into the Lease
//! comes from the [`Clock`] it is given; its timers are tokio's; every
//! `select!` is `biased`, so that the order in which a stop, a lost lease
//! and the work are noticed is the code's, not a random draw's.

mod error;
mod host;
pub mod leader;
pub mod readiness;
mod reconcile;
mod run;
#[cfg(feature = "simulation")]
pub mod simulation;
mod widget;

pub use error::Error;
pub use host::HostWork;
pub use leader::{Clock, Timings};
pub use readiness::Readiness;
pub use reconcile::FINALIZER;
pub use run::{run, Design, Settings};
pub use widget::{Widget, WidgetSpec, WidgetStatus};

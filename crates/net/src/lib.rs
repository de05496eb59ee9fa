//! Simulated hosts on one thread, over [turmoil-net]'s socket stack, with
//! time that advances by events.
//!
//! Every host runs on one current-thread tokio runtime whose clock is
//! paused: when no task can run, tokio moves the clock to the next timer,
//! so simulated time jumps from one event to the next instead of stepping
//! through idle ticks. Each host's process is a `LocalSet` polled with
//! that host as turmoil-net's current host, so its sockets live in its own
//! kernel. Between polls the [`Sim`] carries segments between kernels
//! after a latency drawn from the seed, never reordering a connection's
//! segments (turmoil-net's TCP drops out-of-order segments and, with
//! retransmission off, would lose them).
//!
//! A task that panics, or a host that keeps waking itself while simulated
//! time stands still, ends the run: [`Sim::failure`] names the host, the
//! time and what happened (the panic's message and place, kept by a panic
//! hook instead of printed), and [`Sim::run_until`] returns
//! [`Stop::Failed`] from then on.
//!
//! [`Sim::crash`] drops a host's process: its sockets close as a dying
//! process's do (a FIN, or a reset where unread bytes remain);
//! [`Sim::freeze`] stops it dead, as a lost node does, sending nothing.
//! [`Sim::partition`] cuts two hosts apart until
//! [`Sim::repair`]. [`TcpStream`] is `AsyncRead + AsyncWrite`, so an
//! HTTP client can run over it unchanged.
//!
//! [turmoil-net]: https://github.com/tokio-rs/turmoil

mod fabric;
mod failure;
mod panics;
mod sim;
mod watchdog;

pub use fabric::SegmentCounts;
pub use failure::{FailureKind, HostFailure, POLLS_PER_INSTANT_MAX};
pub use sim::{in_host, Builder, Sim, Stop};
pub use turmoil_net::shim::tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
pub use turmoil_net::shim::tokio::net::{TcpListener, TcpStream};
pub use watchdog::{POLL_WALL_ABORT, POLL_WALL_MAX};

use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;

/// Simulated time since the running [`Sim`] began, as seen from within one
/// of its hosts; `None` outside a simulation.
pub fn elapsed() -> Option<Duration> {
    sim::origin().map(|origin| tokio::time::Instant::now().saturating_duration_since(origin))
}

/// The name of the running [`Sim`]'s host at `ip`, as a server sees its
/// peer's address; `None` outside a simulation or for an unknown address.
pub fn host_name(ip: IpAddr) -> Option<Rc<str>> {
    sim::host_name(ip)
}

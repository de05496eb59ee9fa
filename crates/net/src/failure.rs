//! [`HostFailure`]: a host whose process broke the model (a task panicked,
//! or it kept waking itself while simulated time stood still). Either ends
//! the run: what the simulation does afterwards would be judged over a
//! dead task or never come.

use std::fmt;
use std::time::Duration;

/// How often one host's process may be polled at one simulated instant
/// before it counts as frozen: a task that wakes itself without awaiting
/// anything that takes time keeps the paused clock from moving, and the run
/// would spin forever. The bundled worlds poll a host at most twice at one
/// instant with their latencies, and under 50 times with none at all (16
/// replicas, segments delivered and answered within the instant): this is
/// twenty times that. A spinning task reaches it within a second of wall
/// time (each poll lets a task run up to tokio's budget of 128 steps).
pub const POLLS_PER_INSTANT_MAX: u32 = 1_000;

/// A host whose process broke the model, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFailure {
    /// The host; `None` for a task spawned on the runtime itself, outside
    /// any host (as `tokio::spawn` from a host's task does).
    pub host: Option<String>,
    /// Simulated time since the start.
    pub at: Duration,
    pub kind: FailureKind,
}

/// What broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// A task panicked: its message, and where (`file:line:column`) when
    /// known.
    Panicked {
        message: String,
        location: Option<String>,
    },
    /// The host was polled `polls` times at one instant: more than its
    /// bound (`polls_per_instant_max`), without simulated time moving.
    Froze { polls: u32 },
    /// The world found the model broken by what a host's code did (a
    /// program not bound to its code, a timestamp read from the OS clock
    /// written into an object): `message` says what, in a sentence.
    Model { message: String },
    /// One poll of the host took `wall` of wall time (more than the
    /// watchdog's `poll_wall_max`): its code blocked the thread, and with
    /// it the world. `poll` counts the simulation's host polls.
    Blocked { wall: Duration, poll: u64 },
}

impl fmt::Display for HostFailure {
    /// `a task of grm-0 panicked: <message> (at <file:line:column>)`, or
    /// `grm-0 froze: polled 10001 times at one instant ...`; the time is the
    /// caller's to format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.host.as_deref();
        match &self.kind {
            FailureKind::Panicked { message, location } => {
                match host {
                    Some(host) => write!(f, "a task of {host} panicked: {message}")?,
                    None => write!(f, "a task outside any host panicked: {message}")?,
                }
                if let Some(location) = location {
                    write!(f, " (at {location})")?;
                }
                Ok(())
            }
            FailureKind::Froze { polls } => write!(
                f,
                "{} froze: polled {polls} times at one instant without simulated time moving \
                 (a task that wakes itself without waiting for time or for another task)",
                host.unwrap_or("the runtime")
            ),
            FailureKind::Model { message } => f.write_str(message),
            FailureKind::Blocked { wall, poll, .. } => write!(
                f,
                "{} blocked its thread for {:.1} s of wall time in one poll (poll #{poll}): its code \
                 ran without reaching an .await (std::thread::sleep, a blocking lock, a loop without \
                 .await), which freezes the single-threaded world",
                host.unwrap_or("a task"),
                wall.as_secs_f64()
            ),
        }
    }
}

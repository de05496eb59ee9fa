//! The watchdog: a host whose code blocks its thread (`std::thread::sleep`,
//! a blocking lock, a loop that never reaches an `.await`) freezes the
//! whole single-threaded world, simulated time with it. The [`Sim`]
//! publishes which host it polls, and since which poll, before each poll
//! of a host and clears it after; a poll that took longer than
//! `poll_wall_max` of wall time is a [`FailureKind::Blocked`] when it
//! returns; one that never returns within `poll_wall_abort` makes the
//! watchdog thread say so on stderr and abort the process: reported,
//! never a hang.
//!
//! Wall time here only reports a model error; it never shapes a run: a
//! run that blocks no thread is the same whatever the watchdog reads.
//!
//! [`Sim`]: crate::Sim

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::failure::FailureKind;

/// One poll of a host longer than this, in wall time, is a blocked host:
/// the bundled worlds' longest polls take milliseconds.
pub const POLL_WALL_MAX: Duration = Duration::from_secs(2);

/// A poll of a host that has not returned after this long, in wall time,
/// never will: the watchdog reports it and aborts the process.
pub const POLL_WALL_ABORT: Duration = Duration::from_secs(30);

/// How often the watchdog thread looks.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// What the simulation publishes for the watchdog thread.
#[derive(Default)]
struct Published {
    /// The host being polled, as its index plus one; 0 between polls.
    host: AtomicU64,
    /// How many host polls have begun.
    polls: AtomicU64,
    /// Simulated milliseconds at the poll's start.
    at_ms: AtomicU64,
    stop: AtomicBool,
}

/// The watchdog of one simulation, and its thread (started on the first
/// poll, ended with the simulation).
pub(crate) struct Watchdog {
    published: Arc<Published>,
    poll_wall_max: Duration,
    poll_wall_abort: Duration,
    thread: Option<JoinHandle<()>>,
}

/// A poll in progress: what [`Watchdog::end`] needs.
pub(crate) struct Polling {
    started: Instant,
    poll: u64,
}

impl Watchdog {
    pub fn new(poll_wall_max: Duration, poll_wall_abort: Duration) -> Watchdog {
        Watchdog {
            published: Arc::default(),
            poll_wall_max,
            poll_wall_abort,
            thread: None,
        }
    }

    /// Publishes that host `index` (named `names[index]`) is polled from
    /// now, at simulated `at_ms`.
    pub fn begin(&mut self, index: usize, at_ms: u64, names: &[String]) -> Polling {
        if self.thread.is_none() {
            self.thread = Some(spawn(
                Arc::clone(&self.published),
                names.to_vec(),
                self.poll_wall_abort,
            ));
        }
        let poll = self.published.polls.fetch_add(1, Ordering::AcqRel) + 1;
        self.published.at_ms.store(at_ms, Ordering::Release);
        self.published
            .host
            .store(index as u64 + 1, Ordering::Release);
        Polling {
            started: Instant::now(),
            poll,
        }
    }

    /// The poll ended: a failure when it took longer than the bound.
    pub fn end(&self, polling: Polling) -> Option<FailureKind> {
        self.published.host.store(0, Ordering::Release);
        let wall = polling.started.elapsed();
        (wall > self.poll_wall_max).then_some(FailureKind::Blocked {
            wall,
            poll: polling.poll,
        })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.published.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// The watchdog thread: aborts the process when one poll outlasts `abort`.
fn spawn(published: Arc<Published>, names: Vec<String>, abort: Duration) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("stallsim-watchdog".to_string())
        .spawn(move || {
            // The poll seen in progress, and since when.
            let mut seen: Option<(u64, Instant)> = None;
            while !published.stop.load(Ordering::Acquire) {
                std::thread::park_timeout(SAMPLE_EVERY);
                let host = published.host.load(Ordering::Acquire);
                let poll = published.polls.load(Ordering::Acquire);
                if host == 0 {
                    seen = None;
                    continue;
                }
                match seen {
                    Some((p, since)) if p == poll => {
                        if since.elapsed() >= abort {
                            let name = names
                                .get(host as usize - 1)
                                .map_or("a host", String::as_str);
                            let at = Duration::from_millis(published.at_ms.load(Ordering::Acquire));
                            eprintln!(
                                "stallsim: model error: host {name} blocked its thread for {:.1} s of wall time \
                                 in one poll (poll #{poll}) at simulated {:.3}s and never returned: its code \
                                 runs without reaching an .await (std::thread::sleep, a blocking lock, a loop \
                                 without .await), which freezes the single-threaded world; aborting",
                                since.elapsed().as_secs_f64(),
                                at.as_secs_f64()
                            );
                            std::process::abort();
                        }
                    }
                    _ => seen = Some((poll, Instant::now())),
                }
            }
        })
        .expect("the watchdog thread starts")
}

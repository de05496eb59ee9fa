//! [`FramePump`]: a watch feed with its front-side timings, `timeoutSeconds`
//! and bookmarks, and the [`Clock`] by which it wakes the server when work falls due.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::Notify;
use tokio::time::{sleep_until, Instant};

use crate::server::ApiServer;
use crate::watch::{Frame, WatchFeed};

/// The server's clock as a front reads it: the `now` it hands the server.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Clock {
    /// Simulated time since the simulation began ([`stallsim_net::elapsed`]).
    Simulation,
    /// tokio time since an instant (the in-process transport's start).
    Since(Instant),
}

impl Clock {
    pub(crate) fn now(self) -> Duration {
        match self {
            Clock::Simulation => stallsim_net::elapsed().unwrap_or_default(),
            Clock::Since(start) => start.elapsed(),
        }
    }
}

/// Reads a [`WatchFeed`] as a front sends it: ends it after its
/// `timeoutSeconds`, and slips in a `BOOKMARK` with the server's current
/// version every `bookmark_interval` when the watch allows them.
///
/// While it waits it also wakes the server when work falls due
/// ([`ApiServer::next_due`]): the server is passive, and without a request
/// its watchers would otherwise see that work only at the next one.
pub(crate) struct FramePump {
    /// `None` once the watch ended, so the server sees its reader gone.
    feed: Option<WatchFeed>,
    server: Rc<RefCell<ApiServer>>,
    clock: Clock,
    /// Signalled when the server's next due time changes.
    due_changed: Rc<Notify>,
    deadline: Option<Instant>,
    next_bookmark: Option<Instant>,
    bookmark_interval: Duration,
}

impl FramePump {
    /// Starts the watch's clocks now (tokio time).
    pub(crate) fn new(feed: WatchFeed, server: Rc<RefCell<ApiServer>>, clock: Clock) -> Self {
        let start = tokio::time::Instant::now();
        let bookmark_interval = server.borrow().config().bookmark_interval;
        let deadline = feed
            .timeout_seconds()
            .map(|seconds| start + Duration::from_secs(seconds));
        let next_bookmark = (feed.allows_bookmarks() && !bookmark_interval.is_zero())
            .then(|| start + bookmark_interval);
        let due_changed = server.borrow().due_changed();
        FramePump {
            feed: Some(feed),
            server,
            clock,
            due_changed,
            deadline,
            next_bookmark,
            bookmark_interval,
        }
    }

    /// The next frame to send; `None` when the watch is over.
    pub(crate) async fn next_frame(&mut self) -> Option<Frame> {
        let frame = self.next_or_end().await;
        if frame.is_none() {
            self.feed = None;
        }
        frame
    }

    async fn next_or_end(&mut self) -> Option<Frame> {
        loop {
            let feed = self.feed.as_mut()?;
            let now = tokio::time::Instant::now();
            if self.deadline.is_some_and(|deadline| now >= deadline) {
                return None;
            }
            if self.next_bookmark.is_some_and(|at| now >= at) {
                // Queued frames go first: a bookmark promises every change
                // up to its version has been sent.
                return match feed.try_recv() {
                    Ok(frame) => Some(frame),
                    Err(TryRecvError::Disconnected) => None,
                    Err(TryRecvError::Empty) => {
                        self.next_bookmark = Some(now + self.bookmark_interval);
                        let resource_version = self.server.borrow().resource_version();
                        if resource_version < feed.since() {
                            // A watch from ahead of the store gets nothing
                            // before its version, bookmarks neither
                            // (k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go).
                            continue;
                        }
                        Some(feed.bookmark(resource_version))
                    }
                };
            }
            let server_due = self.server.borrow().next_due().map(|due| {
                let server_now = self.clock.now();
                if due <= server_now {
                    now
                } else {
                    now + (due - server_now)
                }
            });
            if server_due.is_some_and(|at| at <= now) {
                // Work is due: doing it may queue frames for this watch, or end it.
                self.server.borrow_mut().advance(self.clock.now());
                continue;
            }
            let wake = [self.deadline, self.next_bookmark, server_due]
                .into_iter()
                .flatten()
                .min();
            let sleep = async {
                match wake {
                    Some(wake) => sleep_until(wake).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                frame = feed.recv() => return frame,
                () = sleep => {}
                // A request made work fall due sooner: look again.
                () = self.due_changed.notified() => {}
            }
        }
    }
}

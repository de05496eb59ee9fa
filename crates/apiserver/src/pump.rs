//! [`FramePump`]: a watch feed with its front-side timings, `timeoutSeconds` and bookmarks.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::{sleep_until, Instant};

use crate::server::ApiServer;
use crate::watch::WatchFeed;

/// Reads a [`WatchFeed`] as a front sends it: ends it after its
/// `timeoutSeconds`, and slips in a `BOOKMARK` with the server's current
/// version every `bookmark_interval` when the watch allows them.
pub(crate) struct FramePump {
    /// `None` once the watch ended, so the server sees its reader gone.
    feed: Option<WatchFeed>,
    server: Rc<RefCell<ApiServer>>,
    deadline: Option<Instant>,
    next_bookmark: Option<Instant>,
    bookmark_interval: Duration,
}

impl FramePump {
    /// Starts the watch's clocks now (tokio time).
    pub(crate) fn new(feed: WatchFeed, server: Rc<RefCell<ApiServer>>) -> Self {
        let start = tokio::time::Instant::now();
        let bookmark_interval = server.borrow().config().bookmark_interval;
        let deadline = feed
            .timeout_seconds()
            .map(|seconds| start + Duration::from_secs(seconds));
        let next_bookmark = (feed.allows_bookmarks() && !bookmark_interval.is_zero())
            .then(|| start + bookmark_interval);
        FramePump {
            feed: Some(feed),
            server,
            deadline,
            next_bookmark,
            bookmark_interval,
        }
    }

    /// The next frame to send; `None` when the watch is over.
    pub(crate) async fn next_frame(&mut self) -> Option<Value> {
        let frame = self.next_or_end().await;
        if frame.is_none() {
            self.feed = None;
        }
        frame
    }

    async fn next_or_end(&mut self) -> Option<Value> {
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
                        Some(feed.bookmark(resource_version))
                    }
                };
            }
            let wake = match (self.deadline, self.next_bookmark) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let Some(wake) = wake else {
                return feed.recv().await;
            };
            tokio::select! {
                biased;
                frame = feed.recv() => return frame,
                () = sleep_until(wake) => {}
            }
        }
    }
}

//! Watches: the [`WatchFeed`] a client reads, and the server's side of it.

use serde_json::{json, Value};
use stallsim_core::{ApiError, ResourceRef};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::{TryRecvError, TrySendError};

use crate::history::{Change, ChangeKind};
use crate::object::{labels, meta_str, ResourceKey};
use crate::selector::LabelSelector;
use crate::status::status_body;

/// The live side of one watch: the frames to send after the `200` head,
/// each `{"type": "ADDED", "object": {...}}` and so on.
///
/// The server ends the watch by dropping its sender (the resource's CRD was
/// deleted, or the watcher fell `watch_channel_capacity` frames behind);
/// [`WatchFeed::recv`] then answers `None` once the queued frames are read.
/// `timeoutSeconds` and bookmarks are the front's business: it reads them
/// here ([`WatchFeed::timeout_seconds`], [`WatchFeed::allows_bookmarks`],
/// [`WatchFeed::bookmark`]).
#[derive(Debug)]
pub struct WatchFeed {
    receiver: mpsc::Receiver<Value>,
    timeout_seconds: Option<u64>,
    allows_bookmarks: bool,
    api_version: String,
    kind: String,
}

impl WatchFeed {
    /// The next frame; `None` when the server ended the watch.
    pub async fn recv(&mut self) -> Option<Value> {
        self.receiver.recv().await
    }

    /// The next frame if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Result<Value, TryRecvError> {
        self.receiver.try_recv()
    }

    /// The request's `timeoutSeconds`: the front ends the watch after it.
    pub fn timeout_seconds(&self) -> Option<u64> {
        self.timeout_seconds
    }

    /// Whether the request set `allowWatchBookmarks=true`.
    pub fn allows_bookmarks(&self) -> bool {
        self.allows_bookmarks
    }

    /// A `BOOKMARK` frame for this watch's resource at `resource_version`.
    ///
    /// Send it only once the queue is empty (see [`WatchFeed::try_recv`]):
    /// every change up to the server's current version is queued the moment
    /// it happens, so an empty queue means the watcher has seen them all.
    pub fn bookmark(&self, resource_version: u64) -> Value {
        json!({
            "type": "BOOKMARK",
            "object": {
                "apiVersion": self.api_version,
                "kind": self.kind,
                "metadata": {"resourceVersion": resource_version.to_string()},
            },
        })
    }
}

/// Which objects of a resource a watch sees.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WatchFilter {
    pub(crate) namespace: Option<String>,
    pub(crate) selector: LabelSelector,
}

impl WatchFilter {
    pub(crate) fn matches(&self, object: &Value) -> bool {
        let in_namespace = match &self.namespace {
            Some(namespace) => meta_str(object, "namespace") == Some(namespace.as_str()),
            None => true,
        };
        in_namespace && self.selector.matches(labels(object))
    }

    /// The frame this watch gets for a change, if any: an update that moves
    /// an object into the selection is `ADDED`, out of it `DELETED`.
    pub(crate) fn frame_for(&self, change: &Change) -> Option<Value> {
        let now = self.matches(&change.object);
        let event = match change.kind {
            ChangeKind::Added if now => "ADDED",
            ChangeKind::Deleted if now => "DELETED",
            ChangeKind::Modified => {
                let before = change.previous.as_ref().is_some_and(|p| self.matches(p));
                match (before, now) {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    (false, false) => return None,
                }
            }
            _ => return None,
        };
        Some(frame(event, change.object.clone()))
    }
}

/// A watch frame: `{"type": event, "object": object}`.
pub(crate) fn frame(event: &str, object: Value) -> Value {
    json!({"type": event, "object": object})
}

/// The in-stream `ERROR` frame carrying a failure `Status`.
pub(crate) fn error_frame(error: &ApiError) -> Value {
    frame("ERROR", status_body(error))
}

/// The server's end of one watch.
#[derive(Debug)]
pub(crate) struct Watcher {
    pub(crate) resource: ResourceKey,
    pub(crate) filter: WatchFilter,
    sender: mpsc::Sender<Value>,
}

impl Watcher {
    /// Queues this change's frame, if the watch sees it; `false` when the
    /// watch must end (its reader is gone, or it fell too far behind).
    pub(crate) fn offer(&self, change: &Change) -> bool {
        if change.resource != self.resource {
            return true;
        }
        match self.filter.frame_for(change) {
            Some(frame) => self.push(frame),
            None => true,
        }
    }

    fn push(&self, frame: Value) -> bool {
        match self.sender.try_send(frame) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Closed(_)) => false,
        }
    }
}

/// What a new watch is made of.
pub(crate) struct WatchRequest {
    pub(crate) resource: ResourceRef,
    pub(crate) filter: WatchFilter,
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) allows_bookmarks: bool,
}

/// Opens a watch: `backlog` is queued at once and `capacity` frames of room
/// are left after it. Returns the feed and, unless `live` is false, the
/// watcher that keeps feeding it.
pub(crate) fn open(
    request: WatchRequest,
    backlog: Vec<Value>,
    capacity: usize,
    live: bool,
) -> (WatchFeed, Option<Watcher>) {
    let (sender, receiver) = mpsc::channel(backlog.len().saturating_add(capacity).max(1));
    for frame in backlog {
        // Cannot fail: the channel was sized for the backlog and the receiver is held.
        let _ = sender.try_send(frame);
    }
    let feed = WatchFeed {
        receiver,
        timeout_seconds: request.timeout_seconds,
        allows_bookmarks: request.allows_bookmarks,
        api_version: request.resource.api_version(),
        kind: request.resource.kind.clone(),
    };
    let watcher = live.then(|| Watcher {
        resource: ResourceKey::of(&request.resource),
        filter: request.filter,
        sender,
    });
    (feed, watcher)
}

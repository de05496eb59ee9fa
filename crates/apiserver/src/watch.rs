//! Watches: the [`WatchFeed`] a client reads, and the server's side of it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::Value;
use stallsim_core::{ApiError, Body, ResourceRef};
use tokio::sync::mpsc::error::TryRecvError;

use crate::field_selector::FieldSelector;
use crate::history::{Change, ChangeKind};
use crate::object::{ResourceKey, Stored};
use crate::selector::LabelSelector;
use crate::status::status_body;

/// One frame of a watch: `{"object": {...}, "type": "ADDED"}` and so on.
///
/// An event carries the object as the store holds it, shared, and writes
/// the JSON it was stored with; a bookmark or an in-stream error is a
/// document the server wrote. Serialized, a frame is its JSON line's text.
#[derive(Clone, Debug)]
pub struct Frame(FrameKind);

#[derive(Clone, Debug)]
enum FrameKind {
    /// `ADDED`, `MODIFIED` or `DELETED`.
    Event {
        event: &'static str,
        object: Rc<Stored>,
    },
    /// `BOOKMARK` or `ERROR`: the object, written by the server.
    Document { event: &'static str, object: Body },
}

impl Frame {
    /// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.
    pub fn event_type(&self) -> &str {
        match &self.0 {
            FrameKind::Event { event, .. } | FrameKind::Document { event, .. } => event,
        }
    }

    /// The frame as one JSON document.
    pub fn body(&self) -> Body {
        // An object's JSON and the frame's type always serialize.
        Body::of(self).unwrap_or_else(|_| Body::null())
    }

    /// The frame as a `serde_json::Value`: for tests that look into it.
    pub fn to_value(&self) -> Value {
        self.body().to_value()
    }

    fn object(&self) -> &Body {
        match &self.0 {
            FrameKind::Event { object, .. } => &object.json,
            FrameKind::Document { object, .. } => object,
        }
    }
}

impl Serialize for Frame {
    /// `object` before `type`: the keys in order, as a `serde_json::Value`
    /// of the frame would write them.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut frame = serializer.serialize_struct("WatchEvent", 2)?;
        frame.serialize_field("object", self.object())?;
        frame.serialize_field("type", self.event_type())?;
        frame.end()
    }
}

/// The live side of one watch: the [`Frame`]s to send after the `200` head.
///
/// The server ends the watch by dropping its end (the resource's CRD was
/// deleted, or the watcher fell `watch_channel_capacity` frames behind);
/// [`WatchFeed::recv`] then answers `None` once the queued frames are read.
/// A watcher whose queued frames hold too many bytes is dropped with them
/// (see [`MemoryBounds`](crate::MemoryBounds)): its feed ends at once.
/// `timeoutSeconds` and bookmarks are the front's business: it reads them
/// here ([`WatchFeed::timeout_seconds`], [`WatchFeed::allows_bookmarks`],
/// [`WatchFeed::bookmark`]).
#[derive(Debug)]
pub struct WatchFeed {
    queue: Rc<Queue>,
    timeout_seconds: Option<u64>,
    allows_bookmarks: bool,
    api_version: String,
    kind: String,
    /// The version the watch started from: it sees changes after it only.
    since: u64,
}

impl WatchFeed {
    /// The next frame; `None` when the server ended the watch.
    pub async fn recv(&mut self) -> Option<Frame> {
        std::future::poll_fn(|cx| self.queue.poll_recv(cx)).await
    }

    /// The next frame if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Result<Frame, TryRecvError> {
        match self.queue.pop() {
            Some(frame) => Ok(frame),
            None if self.queue.ended.get() => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// The request's `timeoutSeconds`: the front ends the watch after it.
    pub fn timeout_seconds(&self) -> Option<u64> {
        self.timeout_seconds
    }

    /// Whether the request set `allowWatchBookmarks=true`.
    pub fn allows_bookmarks(&self) -> bool {
        self.allows_bookmarks
    }

    /// The version the watch started from; a bookmark before it says
    /// nothing the watcher can use.
    pub fn since(&self) -> u64 {
        self.since
    }

    /// A `BOOKMARK` frame for this watch's resource at `resource_version`.
    ///
    /// Send it only once the queue is empty (see [`WatchFeed::try_recv`]):
    /// every change up to the server's current version is queued the moment
    /// it happens, so an empty queue means the watcher has seen them all.
    pub fn bookmark(&self, resource_version: u64) -> Frame {
        let object = Bookmark {
            api_version: &self.api_version,
            kind: &self.kind,
            metadata: BookmarkMetadata {
                resource_version: resource_version.to_string(),
            },
        };
        Frame(FrameKind::Document {
            event: "BOOKMARK",
            // Strings only: it always serializes.
            object: Body::of(&object).unwrap_or_else(|_| Body::null()),
        })
    }
}

/// A bookmark's object: the watch's type and the version reached.
#[derive(serde::Serialize)]
struct Bookmark<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    metadata: BookmarkMetadata,
}

#[derive(serde::Serialize)]
struct BookmarkMetadata {
    #[serde(rename = "resourceVersion")]
    resource_version: String,
}

impl Drop for WatchFeed {
    fn drop(&mut self) {
        // The reader left: the server forgets the watch at the next change,
        // and what was queued for it is freed now.
        self.queue.reader_gone.set(true);
        self.queue.clear();
    }
}

/// The frames queued for one watch, shared by the server's end, which
/// pushes and can empty it, and the reader's, which pops.
#[derive(Debug)]
struct Queue {
    frames: RefCell<VecDeque<(Frame, u64)>>,
    /// The bytes of the queued frames.
    bytes: Cell<u64>,
    /// The queued bytes of every watch of the server.
    total_bytes: Rc<Cell<u64>>,
    /// The server dropped its end: nothing more comes.
    ended: Cell<bool>,
    reader_gone: Cell<bool>,
    /// The reader waiting for a frame.
    waker: RefCell<Option<Waker>>,
}

impl Queue {
    fn push(&self, frame: Frame, bytes: u64) {
        self.frames.borrow_mut().push_back((frame, bytes));
        self.add_bytes(bytes);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    fn pop(&self) -> Option<Frame> {
        let (frame, bytes) = self.frames.borrow_mut().pop_front()?;
        self.remove_bytes(bytes);
        Some(frame)
    }

    /// Frees every queued frame.
    fn clear(&self) {
        self.frames.borrow_mut().clear();
        self.remove_bytes(self.bytes.get());
    }

    fn end(&self) {
        self.ended.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    fn add_bytes(&self, bytes: u64) {
        self.bytes.set(self.bytes.get().saturating_add(bytes));
        self.total_bytes
            .set(self.total_bytes.get().saturating_add(bytes));
    }

    fn remove_bytes(&self, bytes: u64) {
        self.bytes.set(self.bytes.get().saturating_sub(bytes));
        self.total_bytes
            .set(self.total_bytes.get().saturating_sub(bytes));
    }

    /// As a tokio channel's receiver: takes from the task's budget, so a
    /// reader of a long queue yields to the others now and then.
    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Frame>> {
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        if let Some(frame) = self.pop() {
            coop.made_progress();
            return Poll::Ready(Some(frame));
        }
        if self.ended.get() {
            coop.made_progress();
            return Poll::Ready(None);
        }
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Which objects of a resource a watch sees.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WatchFilter {
    pub(crate) namespace: Option<String>,
    pub(crate) selector: LabelSelector,
    pub(crate) fields: FieldSelector,
}

impl WatchFilter {
    pub(crate) fn matches(&self, meta: &ObjectMeta) -> bool {
        let in_namespace = match &self.namespace {
            Some(namespace) => meta.namespace.as_deref() == Some(namespace.as_str()),
            None => true,
        };
        in_namespace && self.selector.matches(meta.labels.as_ref()) && self.fields.matches(meta)
    }

    /// The frame this watch gets for a change, if any: an update that moves
    /// an object into the selection is `ADDED`, out of it `DELETED`.
    pub(crate) fn frame_for(&self, change: &Change) -> Option<Frame> {
        let now = self.matches(change.object.meta());
        let event = match change.kind {
            ChangeKind::Added if now => "ADDED",
            ChangeKind::Deleted if now => "DELETED",
            ChangeKind::Modified => {
                let before = change
                    .previous
                    .as_ref()
                    .is_some_and(|p| self.matches(p.meta()));
                match (before, now) {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    (false, false) => return None,
                }
            }
            _ => return None,
        };
        Some(frame(event, &change.object))
    }
}

/// A watch event carrying a stored object.
pub(crate) fn frame(event: &'static str, object: &Rc<Stored>) -> Frame {
    Frame(FrameKind::Event {
        event,
        object: Rc::clone(object),
    })
}

/// An in-stream `ERROR` frame carrying a `Status` document.
pub(crate) fn status_frame(status: Body) -> Frame {
    Frame(FrameKind::Document {
        event: "ERROR",
        object: status,
    })
}

/// The in-stream `ERROR` frame carrying a failure `Status`.
pub(crate) fn error_frame(error: &ApiError) -> Frame {
    status_frame(status_body(error))
}

/// The server's end of one watch.
#[derive(Debug)]
pub(crate) struct Watcher {
    pub(crate) resource: ResourceKey,
    pub(crate) filter: WatchFilter,
    queue: Rc<Queue>,
    /// The most frames the queue may hold; past it the watch ends.
    frames_max: usize,
    since: u64,
}

impl Watcher {
    /// Queues this change's frame, if the watch sees it; `false` when the
    /// watch must end (its reader is gone, or it fell too far behind).
    pub(crate) fn offer(&self, change: &Change) -> bool {
        if change.resource != self.resource || change.resource_version <= self.since {
            return true;
        }
        match self.filter.frame_for(change) {
            Some(frame) => self.push(frame, change.object.bytes),
            None => true,
        }
    }

    fn push(&self, frame: Frame, bytes: u64) -> bool {
        if self.queue.reader_gone.get() || self.queue.frames.borrow().len() >= self.frames_max {
            return false;
        }
        self.queue.push(frame, bytes);
        true
    }

    /// The bytes of the frames queued for this watch.
    pub(crate) fn queued_bytes(&self) -> u64 {
        self.queue.bytes.get()
    }

    /// Ends the watch now, dropping what is queued for it: the reader
    /// gets no more frames, and the memory is freed at once.
    pub(crate) fn abandon(self) {
        self.queue.clear();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.queue.end();
    }
}

/// What a new watch is made of.
pub(crate) struct WatchRequest {
    pub(crate) resource: ResourceRef,
    pub(crate) filter: WatchFilter,
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) allows_bookmarks: bool,
    /// The version it starts from: only later changes reach it.
    pub(crate) since: u64,
}

/// Opens a watch: `backlog` (each frame with its bytes) is queued at once
/// and `capacity` frames of room are left after it. `total_bytes` counts
/// the queued bytes of every watch. Returns the feed and, unless `live` is
/// false, the watcher that keeps feeding it.
pub(crate) fn open(
    request: WatchRequest,
    backlog: Vec<(Frame, u64)>,
    capacity: usize,
    live: bool,
    total_bytes: &Rc<Cell<u64>>,
) -> (WatchFeed, Option<Watcher>) {
    let frames_max = backlog.len().saturating_add(capacity).max(1);
    let queue = Rc::new(Queue {
        frames: RefCell::new(VecDeque::new()),
        bytes: Cell::new(0),
        total_bytes: Rc::clone(total_bytes),
        ended: Cell::new(false),
        reader_gone: Cell::new(false),
        waker: RefCell::new(None),
    });
    for (frame, bytes) in backlog {
        queue.push(frame, bytes);
    }
    let feed = WatchFeed {
        queue: Rc::clone(&queue),
        timeout_seconds: request.timeout_seconds,
        allows_bookmarks: request.allows_bookmarks,
        api_version: request.resource.api_version(),
        kind: request.resource.kind.clone(),
        since: request.since,
    };
    let watcher = Watcher {
        resource: ResourceKey::of(&request.resource),
        filter: request.filter,
        queue,
        frames_max,
        since: request.since,
    };
    // A watch that is not live ends once its backlog is read.
    (feed, live.then_some(watcher))
}

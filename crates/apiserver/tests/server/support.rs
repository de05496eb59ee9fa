//! Helpers shared by the tests: runtimes, clients, objects and watch readers.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use serde_json::{json, Value};
use stallsim_apiserver::{ApiServer, ApiServerConfig, InProcessTransport, Reply, WatchFeed};
use stallsim_client::{
    ApiError, DynamicObject, Request, ResourceRef, Response, RestClient, WatchEvent, WatchStream,
};
use tokio::sync::mpsc::error::TryRecvError;

/// Runs a test body on a current-thread runtime inside a `LocalSet`.
pub fn run<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

/// Runs a test body like [`run`], on a paused clock: time moves only when
/// every task waits on a timer.
pub fn run_paused<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

pub fn shared(config: ApiServerConfig) -> Rc<RefCell<ApiServer>> {
    Rc::new(RefCell::new(ApiServer::new(config)))
}

pub fn client(server: &Rc<RefCell<ApiServer>>) -> RestClient<InProcessTransport> {
    RestClient::new(
        InProcessTransport::new(Rc::clone(server)),
        Duration::from_secs(30),
    )
}

/// `apps/v1` deployments: a built-in kind the server keeps as JSON fields
/// (it types only the kinds a run writes), so a test's spec can be anything.
pub fn deployments() -> ResourceRef {
    ResourceRef::new("apps", "v1", "deployments", "Deployment", true)
}

/// An object of `resource` with labels and a small spec.
pub fn object(
    resource: &ResourceRef,
    namespace: Option<&str>,
    name: &str,
    labels: &[(&str, &str)],
) -> DynamicObject {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut metadata = json!({"name": name, "labels": labels});
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    serde_json::from_value(json!({
        "apiVersion": resource.api_version(),
        "kind": resource.kind,
        "metadata": metadata,
        "spec": {"n": 0},
    }))
    .expect("object")
}

/// An object's resourceVersion as a number.
pub fn rv(object: &DynamicObject) -> u64 {
    object
        .metadata
        .resource_version
        .as_deref()
        .expect("resourceVersion")
        .parse()
        .expect("numeric resourceVersion")
}

/// A watch event as (type, namespace/name, resourceVersion).
pub type Seen = (String, String, u64);

pub fn seen(event: &WatchEvent<DynamicObject>) -> Seen {
    let (kind, object) = match event {
        WatchEvent::Added(o) => ("ADDED", o),
        WatchEvent::Modified(o) => ("MODIFIED", o),
        WatchEvent::Deleted(o) => ("DELETED", o),
        WatchEvent::Bookmark(b) => {
            return (
                "BOOKMARK".to_string(),
                String::new(),
                b.metadata.resource_version.parse().expect("bookmark rv"),
            )
        }
        WatchEvent::Error(status) => return ("ERROR".to_string(), status.reason.clone(), 0),
    };
    (kind.to_string(), path_of(object), rv(object))
}

pub fn path_of(object: &DynamicObject) -> String {
    format!(
        "{}/{}",
        object.metadata.namespace.as_deref().unwrap_or_default(),
        object.metadata.name.as_deref().unwrap_or_default()
    )
}

/// The next event if one is ready now: `Err(())` if none is, `Ok(None)` if the watch ended.
#[allow(clippy::result_unit_err)]
pub async fn next_now<W: WatchStream>(
    watch: &mut W,
) -> Result<Option<Result<WatchEvent<DynamicObject>, ApiError>>, ()> {
    tokio::time::timeout(Duration::ZERO, watch.next())
        .await
        .map_err(|_| ())
}

/// Every event ready now, and whether the watch ended.
pub async fn drain_watch<W: WatchStream>(watch: &mut W) -> (Vec<Seen>, bool) {
    let mut events = Vec::new();
    loop {
        match next_now(watch).await {
            Ok(Some(event)) => events.push(seen(&event.expect("event decodes"))),
            Ok(None) => return (events, true),
            Err(()) => return (events, false),
        }
    }
}

/// Asks the server directly; the answer must not be a watch.
pub fn call(server: &mut ApiServer, request: Request, now: Duration) -> Response {
    match server.handle(request, now) {
        Reply::Response(response) => response,
        Reply::Watch(_) => panic!("expected a single answer, got a watch"),
    }
}

/// Opens a watch directly; the answer must be a watch.
pub fn open_watch(server: &mut ApiServer, request: Request, now: Duration) -> WatchFeed {
    match server.handle(request, now) {
        Reply::Watch(feed) => feed,
        Reply::Response(response) => panic!("expected a watch, got {response:?}"),
    }
}

/// Every frame queued on a feed, and whether it ended.
pub fn drain_feed(feed: &mut WatchFeed) -> (Vec<Value>, bool) {
    let mut frames = Vec::new();
    loop {
        match feed.try_recv() {
            Ok(frame) => frames.push(frame.to_value()),
            Err(TryRecvError::Empty) => return (frames, false),
            Err(TryRecvError::Disconnected) => return (frames, true),
        }
    }
}

/// The reason of a failure answer's `Status` body.
pub fn reason(response: &Response) -> String {
    response.body.to_value()["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A tiny deterministic generator for op sequences.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

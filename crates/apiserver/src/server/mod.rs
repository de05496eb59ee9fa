//! [`ApiServer`]: the store, its versions and watchers, and how one request is answered.
//!
//! The state and its clock live here; the rest of the server is split by
//! what it holds, each file another `impl ApiServer` block: `routes.rs`
//! (which handler a path goes to, and which resources are served),
//! `verbs.rs` (LIST, GET, POST, PUT, PATCH, DELETE), `crd_lifecycle.rs`
//! (a CRD served, deleted and finalized), `watches.rs` (opening watches
//! and feeding them) and `commit.rs`, the one path every write takes.

mod commit;
mod crd_lifecycle;
mod deletion;
mod routes;
mod verbs;
mod watches;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use stallsim_core::{Request, ResourceRef, Response};
use tokio::sync::Notify;

use crate::bounds::MemoryBounds;
use crate::config::ApiServerConfig;
use crate::crd::CrdSpec;
use crate::history::History;
use crate::lifecycle::CustomResource;
use crate::load::{ClientId, ClientLoad, RequestLoad, ServerLoad};
use crate::object::{Object, ObjectKey, ResourceKey, Stored};
use crate::resources::{builtin_resources, crd_resource};
use crate::status::failure;
use crate::wall_clock::WallClockRead;
use crate::watch::{WatchFeed, Watcher};

/// The answer to one request.
#[derive(Debug)]
pub enum Reply {
    /// A single answer: status code and JSON body.
    Response(Response),
    /// A watch: answer with a `200` head (`body: null`), then the feed's frames.
    Watch(WatchFeed),
}

/// The fake API server's whole state.
///
/// Deterministic: ordered maps and vectors only, no clock reads (the caller
/// passes simulated time to every call), no randomness. Every create, update
/// and delete bumps one global `resourceVersion`; watchers are served in the
/// order they were opened.
///
/// Passive: work that falls due with time (a deleted CRD's finalizer, the
/// end of its serving and of its watches) is done when time is handed in,
/// by [`ApiServer::handle`] or [`ApiServer::advance`], stamped with the
/// instant it fell due. A front that holds watches open wakes the server at
/// [`ApiServer::next_due`], so watchers see that work when it happens.
#[derive(Debug)]
pub struct ApiServer {
    config: ApiServerConfig,
    /// The latest time handed in.
    now: Duration,
    resource_version: u64,
    uids_issued: u64,
    builtins: Vec<ResourceRef>,
    /// Custom resources by CRD name, from the CRD's creation until nothing
    /// is left of them (not served, not listed, no watches).
    custom: BTreeMap<String, CustomResource>,
    /// Every stored object, shared with the history and the watch frames.
    objects: BTreeMap<ResourceKey, BTreeMap<ObjectKey, Rc<Stored>>>,
    history: History,
    watchers: Vec<Watcher>,
    bounds: MemoryBounds,
    /// The memory the stored objects hold.
    objects_bytes: u64,
    /// The memory the frames queued for every watch hold.
    queued_bytes: Rc<Cell<u64>>,
    /// The due time the fronts were last told of, and how they are told.
    announced_due: Option<Duration>,
    due_changed: Rc<Notify>,
    /// The requests answered through [`ApiServer::handle`] and
    /// [`ApiServer::handle_from`].
    load: ServerLoad,
    /// The client whose request is being answered, when named.
    answering: Option<ClientId>,
    /// Timestamps written by clients that the simulated wall clock could
    /// not have given (`wall_clock.rs`), in the order committed.
    wall_clock_reads: Vec<WallClockRead>,
}

impl ApiServer {
    /// An empty server serving the [built-in resources](builtin_resources),
    /// within the default [`MemoryBounds`].
    pub fn new(config: ApiServerConfig) -> Self {
        Self::bounded(config, MemoryBounds::default())
    }

    /// An empty server that holds no more memory than `bounds` allow.
    pub fn bounded(config: ApiServerConfig, bounds: MemoryBounds) -> Self {
        ApiServer {
            history: History::new(config.history_events_max, bounds.history_bytes_max()),
            bounds,
            objects_bytes: 0,
            queued_bytes: Rc::new(Cell::new(0)),
            config,
            now: Duration::ZERO,
            resource_version: 0,
            uids_issued: 0,
            builtins: builtin_resources(),
            custom: BTreeMap::new(),
            objects: BTreeMap::new(),
            watchers: Vec::new(),
            announced_due: None,
            due_changed: Rc::new(Notify::new()),
            load: ServerLoad::default(),
            answering: None,
            wall_clock_reads: Vec::new(),
        }
    }

    /// Every timestamp a client wrote that the simulated wall clock could
    /// not have given (more than `WALL_CLOCK_SKEW_MAX` from it): read from
    /// the OS clock. Empty in a run whose clients use the simulated one.
    pub fn wall_clock_reads(&self) -> &[WallClockRead] {
        &self.wall_clock_reads
    }

    /// The requests answered so far, and their busiest minute.
    pub fn load(&self) -> &RequestLoad {
        &self.load.overall
    }

    /// The requests of each client named by [`ApiServer::client`], by
    /// class, sorted by the client's name.
    pub fn client_loads(&self) -> Vec<ClientLoad> {
        self.load.clients()
    }

    /// The id under which [`ApiServer::handle_from`] counts the requests of
    /// the peer named `name`: the same for every connection it makes. A
    /// face calls it once per connection, with the name of what it sees
    /// at the other end (a simulated host's name), never with what the
    /// client says it is.
    pub fn client(&mut self, name: &str) -> ClientId {
        self.load.client(name)
    }

    /// The watches the server still feeds. A watch whose reader left is
    /// counted until the next change offered to it finds it gone.
    pub fn watch_count(&self) -> usize {
        self.watchers.len()
    }

    /// The configuration the server was built with.
    pub fn config(&self) -> &ApiServerConfig {
        &self.config
    }

    /// The memory the server holds in stored objects, watch history and
    /// frames queued for watchers, in bytes, within its [`MemoryBounds`].
    pub fn memory_bytes(&self) -> u64 {
        self.objects_bytes
            .saturating_add(self.history.bytes())
            .saturating_add(self.queued_bytes.get())
    }

    /// The bounds the server holds its memory within.
    pub fn bounds(&self) -> MemoryBounds {
        self.bounds
    }

    /// The current global resourceVersion: that of the latest change, 0 before any.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Serves the custom resource: creates its CRD object as a `POST` would
    /// (with the events and version bump that go with it). Nothing changes
    /// when a CRD of that name exists already.
    pub fn install_crd(&mut self, crd: &CrdSpec, now: Duration) {
        self.advance(now);
        let object = Object::Crd(crd.to_crd());
        // Refused only when the name is taken: then nothing changes.
        let _ = self.create(&crd_resource(), None, object, now);
        self.announce_due();
    }

    /// Answers one request. `now` is simulated time since the start of the
    /// run, the only clock the server has; the work due by then is done
    /// first ([`ApiServer::advance`]).
    ///
    /// The request counts in the overall load only; a face that knows its
    /// peer calls [`ApiServer::handle_from`].
    pub fn handle(&mut self, request: Request, now: Duration) -> Reply {
        self.handle_from(None, request, now)
    }

    /// Answers one request from `client` (`None`: a peer the face cannot
    /// name), counted in the overall load and in the client's, by class.
    pub fn handle_from(
        &mut self,
        client: Option<ClientId>,
        request: Request,
        now: Duration,
    ) -> Reply {
        self.load.count(client, &request, now);
        self.answering = client;
        let reply = self.answer(request, now);
        self.answering = None;
        reply
    }

    fn answer(&mut self, request: Request, now: Duration) -> Reply {
        self.advance(now);
        let reply = match self.route(request) {
            Ok(reply) => reply,
            Err(error) => Reply::Response(failure(&error)),
        };
        self.announce_due();
        reply
    }

    /// Does the work due by `now`, in the order it fell due: the finalizer
    /// steps of deleted CRDs and the end of their resources' watches. Time
    /// never goes back: an earlier `now` than one handed in before changes
    /// nothing.
    pub fn advance(&mut self, now: Duration) {
        self.now = self.now.max(now);
        while let Some((at, name)) = self.next_step() {
            if at > self.now {
                break;
            }
            self.step(&name, at);
        }
        let (now, config) = (self.now, &self.config);
        self.custom.retain(|_, custom| !custom.is_gone(now, config));
        self.announce_due();
    }

    /// When work next falls due, if any is pending. A front holding watches
    /// open calls [`ApiServer::advance`] then, so its watchers see the work
    /// without waiting for another request.
    pub fn next_due(&self) -> Option<Duration> {
        self.next_step().map(|(at, _)| at)
    }

    /// Signalled whenever [`ApiServer::next_due`] changes, so a front
    /// waiting on a watch can wake the server in time.
    pub(crate) fn due_changed(&self) -> Rc<Notify> {
        Rc::clone(&self.due_changed)
    }

    fn announce_due(&mut self) {
        let due = self.next_due();
        if due != self.announced_due {
            self.announced_due = due;
            self.due_changed.notify_waiters();
        }
    }

    /// The earliest pending step: when, and the CRD it belongs to.
    fn next_step(&self) -> Option<(Duration, String)> {
        self.custom
            .iter()
            .filter_map(|(name, custom)| Some((custom.next_due(&self.config)?, name)))
            .min()
            .map(|(at, name)| (at, name.clone()))
    }
}

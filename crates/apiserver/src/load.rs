//! [`RequestLoad`] and [`ClientLoad`]: how many requests the server answered,
//! and how densely, overall and per client and class, as a real server's
//! request metrics would tell.
//!
//! A client is what the server observes, not what it claims: the peer a
//! connection comes from (in the simulation, the host's name), interned
//! into a [`ClientId`] once per connection, so that counting a request
//! allocates nothing.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::Serialize;
use stallsim_core::{Method, Request};

/// The window the peak rate is measured over: the busiest sliding minute.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

/// The API group whose requests are counted as [`RequestClass::Lease`].
const LEASE_GROUP: &str = "coordination.k8s.io";

/// The requests a server answered: the total, and the most in any
/// [`RATE_WINDOW`] (a sliding minute).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestLoad {
    pub total: u64,
    pub peak_per_minute: u64,
    /// Arrival times within the last window, oldest first.
    #[serde(skip)]
    recent: VecDeque<Duration>,
}

impl RequestLoad {
    /// Counts one request that arrived at `now` (never earlier than the last).
    pub(crate) fn count(&mut self, now: Duration) {
        self.total += 1;
        self.recent.push_back(now);
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= RATE_WINDOW)
        {
            self.recent.pop_front();
        }
        self.peak_per_minute = self.peak_per_minute.max(self.recent.len() as u64);
    }

    /// Requests per second over `over` (0 for no time at all).
    pub fn per_second(&self, over: Duration) -> f64 {
        if over.is_zero() {
            return 0.0;
        }
        self.total as f64 / over.as_secs_f64()
    }
}

/// What a request does, as the load is broken down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestClass {
    /// A GET of a collection that is not a watch.
    List,
    /// A GET of a collection with `watch=true`.
    Watch,
    /// Any request on a resource of `coordination.k8s.io` (leader
    /// election's Lease), whatever its verb.
    Lease,
    /// Discovery, `/healthz`, a GET of one object, writes.
    Other,
}

impl RequestClass {
    /// Every class, in the order reports list them.
    pub const ALL: [RequestClass; 4] = [
        RequestClass::List,
        RequestClass::Watch,
        RequestClass::Lease,
        RequestClass::Other,
    ];

    /// `LIST`, `WATCH`, `lease`, `other`: as people name them.
    pub fn label(self) -> &'static str {
        match self {
            RequestClass::List => "LIST",
            RequestClass::Watch => "WATCH",
            RequestClass::Lease => "lease",
            RequestClass::Other => "other",
        }
    }

    /// The class of `request`, read from its method, path and query alone
    /// (whether the resource exists plays no part: a LIST answered 404 is
    /// a LIST). Allocates nothing.
    pub fn of(request: &Request) -> RequestClass {
        let path = request.path.split('?').next().unwrap_or_default();
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        match segments.next() {
            Some("api") => {
                segments.next();
            }
            Some("apis") => {
                let group = segments.next();
                segments.next();
                if group == Some(LEASE_GROUP) && segments.clone().next().is_some() {
                    return RequestClass::Lease;
                }
            }
            _ => return RequestClass::Other,
        }
        if request.method != Method::Get {
            return RequestClass::Other;
        }
        let first = segments.next();
        let rest = segments.count();
        // `…/{plural}` or `…/namespaces/{namespace}/{plural}`.
        let collection = matches!((first, rest), (Some("namespaces"), 2) | (Some(_), 0));
        match (collection, request.is_watch()) {
            (true, true) => RequestClass::Watch,
            (true, false) => RequestClass::List,
            (false, _) => RequestClass::Other,
        }
    }
}

/// The requests of one client, by class.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClientLoad {
    /// The peer's name, as the server sees it (a simulated host's name).
    pub client: String,
    pub list: RequestLoad,
    pub watch: RequestLoad,
    pub lease: RequestLoad,
    pub other: RequestLoad,
}

impl ClientLoad {
    fn new(client: &str) -> Self {
        ClientLoad {
            client: client.to_string(),
            ..ClientLoad::default()
        }
    }

    /// The load of one class.
    pub fn class(&self, class: RequestClass) -> &RequestLoad {
        match class {
            RequestClass::List => &self.list,
            RequestClass::Watch => &self.watch,
            RequestClass::Lease => &self.lease,
            RequestClass::Other => &self.other,
        }
    }

    fn class_mut(&mut self, class: RequestClass) -> &mut RequestLoad {
        match class {
            RequestClass::List => &mut self.list,
            RequestClass::Watch => &mut self.watch,
            RequestClass::Lease => &mut self.lease,
            RequestClass::Other => &mut self.other,
        }
    }
}

/// A client of the server, interned by `ServerLoad::client`: an index,
/// so that counting a request costs no string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(u32);

/// Everything the server counts: all requests, and those of each
/// identified client by class.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServerLoad {
    pub(crate) overall: RequestLoad,
    /// In the order the clients were first seen; a [`ClientId`] indexes it.
    clients: Vec<ClientLoad>,
    ids: BTreeMap<String, ClientId>,
}

impl ServerLoad {
    /// The id of the client named `name`, the same for every connection
    /// it makes.
    pub(crate) fn client(&mut self, name: &str) -> ClientId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = ClientId(self.clients.len() as u32);
        self.clients.push(ClientLoad::new(name));
        self.ids.insert(name.to_string(), id);
        id
    }

    /// Counts `request`, arrived at `now`, from `client` (`None`: a caller
    /// that cannot tell, counted in the overall figures alone).
    pub(crate) fn count(&mut self, client: Option<ClientId>, request: &Request, now: Duration) {
        self.overall.count(now);
        if let Some(load) = client.and_then(|ClientId(i)| self.clients.get_mut(i as usize)) {
            load.class_mut(RequestClass::of(request)).count(now);
        }
    }

    /// The name of the client `id`.
    pub(crate) fn name(&self, ClientId(i): ClientId) -> Option<&str> {
        self.clients.get(i as usize).map(|c| c.client.as_str())
    }

    /// Every client's load, by name.
    pub(crate) fn clients(&self) -> Vec<ClientLoad> {
        self.ids
            .values()
            .map(|ClientId(i)| self.clients[*i as usize].clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_busiest_sliding_minute() {
        let mut load = RequestLoad::default();
        let s = Duration::from_secs;
        for at in [0, 10, 20, 59, 60, 61, 62, 200] {
            load.count(s(at));
        }
        assert_eq!(load.total, 8);
        // 10s, 20s, 59s, 60s, 61s, 62s fall within one minute.
        assert_eq!(load.peak_per_minute, 6);
        assert_eq!(load.per_second(s(400)), 0.02);
        assert_eq!(load.per_second(Duration::ZERO), 0.0);
    }

    fn request(method: Method, path: &str, watch: bool) -> Request {
        let mut query = BTreeMap::new();
        if watch {
            query.insert("watch".to_string(), "true".to_string());
        }
        Request {
            method,
            path: path.to_string(),
            query,
            body: None,
        }
    }

    #[test]
    fn requests_are_classed_by_method_path_and_watch() {
        use Method::{Delete, Get, Post, Put};
        use RequestClass::{Lease, List, Other, Watch};
        let leases = "/apis/coordination.k8s.io/v1/namespaces/garden/leases";
        for (method, path, watch, class) in [
            (Get, "/api/v1/pods", false, List),
            (Get, "/api/v1/namespaces/garden/pods", false, List),
            (Get, "/api/v1/namespaces/garden/pods?limit=500", false, List),
            (
                Get,
                "/apis/monitoring.coreos.com/v1/prometheuses",
                false,
                List,
            ),
            (
                Get,
                "/apis/monitoring.coreos.com/v1/prometheuses",
                true,
                Watch,
            ),
            (Get, "/api/v1/namespaces/garden/pods", true, Watch),
            (Get, leases, false, Lease),
            (Get, &format!("{leases}/grm"), false, Lease),
            (Put, &format!("{leases}/grm"), false, Lease),
            (Post, leases, false, Lease),
            (Get, "/apis/coordination.k8s.io/v1", false, Other),
            (Get, "/api/v1/namespaces/garden/pods/grm-0", false, Other),
            (Get, "/api/v1/namespaces", false, List),
            (Get, "/api/v1/namespaces/garden", false, Other),
            (Post, "/api/v1/namespaces/garden/pods", false, Other),
            (
                Delete,
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x",
                false,
                Other,
            ),
            (Get, "/api", false, Other),
            (Get, "/apis", false, Other),
            (Get, "/api/v1", false, Other),
            (Get, "/apis/monitoring.coreos.com/v1", false, Other),
            (Get, "/healthz", false, Other),
            (Get, "/version", false, Other),
        ] {
            assert_eq!(
                RequestClass::of(&request(method, path, watch)),
                class,
                "{method:?} {path} watch={watch}"
            );
        }
    }

    #[test]
    fn each_client_is_counted_apart_by_class() {
        let mut load = ServerLoad::default();
        let a = load.client("grm-1");
        let b = load.client("grm-0");
        assert_eq!(load.client("grm-1"), a, "one id per name");
        let s = Duration::from_secs;
        let list = request(Method::Get, "/api/v1/pods", false);
        let watch = request(Method::Get, "/api/v1/pods", true);
        for at in 0..90 {
            load.count(Some(a), &list, s(at));
        }
        load.count(Some(b), &watch, s(1));
        load.count(None, &list, s(2));
        assert_eq!(load.overall.total, 92);
        let clients = load.clients();
        let names: Vec<&str> = clients.iter().map(|c| c.client.as_str()).collect();
        assert_eq!(names, ["grm-0", "grm-1"], "by name");
        assert_eq!((clients[0].watch.total, clients[0].list.total), (1, 0));
        assert_eq!(clients[1].list.total, 90);
        assert_eq!(clients[1].list.peak_per_minute, 60);
        assert_eq!(clients[1].class(RequestClass::Watch).total, 0);
    }
}

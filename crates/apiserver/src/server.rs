//! [`ApiServer`]: the store, its versions and watchers, and how one request is answered.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::rc::Rc;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::Serialize;
use serde_json::{json, Map, Value};
use stallsim_core::{ApiError, Method, Request, ResourceRef, Response};
use tokio::sync::Notify;

use crate::config::ApiServerConfig;
use crate::continuation::ContinueToken;
use crate::crd::{
    established_status, is_marked_for_deletion, mark_for_deletion,
    mark_instance_deletion_in_progress, parse_crd, CrdSpec, ParsedCrd,
};
use crate::discovery::{self, Listed};
use crate::history::{Change, ChangeKind, History};
use crate::lifecycle::{CustomResource, Phase};
use crate::load::{ClientId, ClientLoad, RequestLoad, ServerLoad};
use crate::merge_patch::merge_patch;
use crate::object::{
    desired_state, meta_str, metadata_mut, set_resource_version, set_type, time_at, ObjectKey,
    ResourceKey,
};
use crate::openapi;
use crate::resources::{builtin_resources, crd_resource};
use crate::route::{Route, Target};
use crate::selector::LabelSelector;
use crate::status::{
    bad_request, create_forbidden_while_terminating, failure, invalid, method_not_allowed,
    no_route, object_not_found,
};
use crate::watch::{self, error_frame, frame, WatchFeed, WatchFilter, WatchRequest, Watcher};

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
    objects: BTreeMap<ResourceKey, BTreeMap<ObjectKey, Value>>,
    history: History,
    watchers: Vec<Watcher>,
    /// The due time the fronts were last told of, and how they are told.
    announced_due: Option<Duration>,
    due_changed: Rc<Notify>,
    /// The requests answered through [`ApiServer::handle`] and
    /// [`ApiServer::handle_from`].
    load: ServerLoad,
}

impl ApiServer {
    /// An empty server serving the [built-in resources](builtin_resources).
    pub fn new(config: ApiServerConfig) -> Self {
        ApiServer {
            history: History::new(config.history_events_max),
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
        }
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

    /// The current global resourceVersion: that of the latest change, 0 before any.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Serves the custom resource: creates its CRD object as a `POST` would
    /// (with the events and version bump that go with it). Nothing changes
    /// when a CRD of that name exists already.
    pub fn install_crd(&mut self, crd: &CrdSpec, now: Duration) {
        let body = serde_json::to_value(crd.to_crd()).ok();
        let request = Request {
            method: Method::Post,
            path: crd_resource().collection_path(None),
            query: BTreeMap::new(),
            body,
        };
        let _ = self.answer(request, now);
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
        self.answer(request, now)
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

    fn route(&mut self, request: Request) -> Result<Reply, ApiError> {
        let now = self.now;
        let route = Route::parse(&request.path).ok_or_else(no_route)?;
        let method = request.method;
        let get_only = || match method {
            Method::Get => Ok(()),
            _ => Err(method_not_allowed()),
        };
        match route {
            Route::CoreVersions => get_only().and_then(|()| document(discovery::api_versions())),
            Route::Groups => {
                get_only()?;
                document(discovery::group_list(&self.discoverable()))
            }
            Route::Version => get_only().and_then(|()| document(discovery::version_info())),
            Route::Healthz => get_only().and_then(|()| document(Value::String("ok".into()))),
            Route::Resources { group, version } => {
                get_only()?;
                let list = discovery::resource_list(&self.discoverable(), &group, &version)
                    .ok_or_else(no_route)?;
                document(list)
            }
            Route::OpenApiRoot => {
                get_only()?;
                document(openapi::root(&self.discoverable()))
            }
            Route::OpenApi { group, version } => {
                get_only()?;
                let spec = openapi::group_version(&self.discoverable(), &group, &version)
                    .ok_or_else(no_route)?;
                document(spec)
            }
            Route::Collection { target, namespace } => {
                let resource = self.lookup(&target, namespace.as_deref())?;
                let ns = namespace.as_deref();
                let response = match method {
                    Method::Get if request.is_watch() => {
                        return self.watch(&resource, namespace, &request.query);
                    }
                    Method::Get => self.list(&resource, namespace, &request.query)?,
                    Method::Post => self.create(&resource, ns, request.body, now)?,
                    Method::Put | Method::Delete | Method::Patch => {
                        return Err(method_not_allowed())
                    }
                };
                Ok(Reply::Response(response))
            }
            Route::Object {
                target,
                namespace,
                name,
            } => {
                let resource = self.lookup(&target, namespace.as_deref())?;
                if resource.namespaced && namespace.is_none() {
                    return Err(no_route());
                }
                let at: ObjectKey = (namespace.unwrap_or_default(), name);
                let response = match method {
                    Method::Get => self.get(&resource, &at)?,
                    Method::Put => self.update(&resource, at, request.body, now)?,
                    Method::Delete => self.delete(&resource, &at, now)?,
                    Method::Patch => self.patch(&resource, at, request.body, now)?,
                    Method::Post => return Err(method_not_allowed()),
                };
                Ok(Reply::Response(response))
            }
        }
    }

    /// Every resource discovery lists: built-ins in their fixed order, then
    /// custom ones (established, terminating, or removed less than
    /// `discovery_lag` ago) sorted by group, version and plural.
    fn discoverable(&self) -> Vec<Listed> {
        let mut custom: Vec<Listed> = self
            .custom
            .values()
            .filter(|custom| custom.is_listed(self.now, &self.config))
            .map(|custom| Listed {
                resource: custom.resource.clone(),
                short_names: custom.short_names.clone(),
                terminating: custom.is_terminating(),
            })
            .collect();
        custom.sort_by(|a, b| {
            let (a, b) = (&a.resource, &b.resource);
            (&a.group, &a.version, &a.plural).cmp(&(&b.group, &b.version, &b.plural))
        });
        let builtins = self.builtins.iter().map(|resource| Listed {
            resource: resource.clone(),
            short_names: discovery::builtin_short_names(resource),
            terminating: false,
        });
        builtins.chain(custom).collect()
    }

    /// The custom resources still served (their CRD established,
    /// terminating, or removed less than `serving_removal_lag` ago).
    fn served_custom(&self) -> impl Iterator<Item = &CustomResource> {
        self.custom
            .values()
            .filter(|custom| custom.is_served(self.now, &self.config))
    }

    /// The served custom resource `resource` is, if it is one.
    fn served_custom_of(&self, resource: &ResourceRef) -> Option<&CustomResource> {
        let key = ResourceKey::of(resource);
        self.served_custom()
            .find(|custom| ResourceKey::of(&custom.resource) == key)
    }

    /// The served resource a path names; 404 when none is (or when a
    /// cluster-scoped resource is asked for within a namespace).
    fn lookup(&self, target: &Target, namespace: Option<&str>) -> Result<ResourceRef, ApiError> {
        let resource = self
            .builtins
            .iter()
            .chain(self.served_custom().map(|custom| &custom.resource))
            .find(|r| {
                r.group == target.group && r.version == target.version && r.plural == target.plural
            })
            .ok_or_else(no_route)?;
        if namespace.is_some() && !resource.namespaced {
            return Err(no_route());
        }
        Ok(resource.clone())
    }

    fn bump(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    /// Delivers a change to every watcher that sees it (closing those that
    /// cannot take it), then records it for later watches.
    fn publish(&mut self, change: Change) {
        self.watchers.retain(|watcher| watcher.offer(&change));
        self.history.record(change);
    }

    fn stored(&self, resource: &ResourceRef, at: &ObjectKey) -> Option<&Value> {
        self.objects.get(&ResourceKey::of(resource))?.get(at)
    }

    /// LIST, a page at a time when the query sets `limit`: each page ends
    /// with a `continue` token (the list's version and the last key), and a
    /// continued list reads the objects as they were at that version, as
    /// the history replays them (410 Expired once it no longer reaches back
    /// that far).
    fn list(
        &self,
        resource: &ResourceRef,
        namespace: Option<String>,
        query: &BTreeMap<String, String>,
    ) -> Result<Response, ApiError> {
        let filter = WatchFilter {
            namespace,
            selector: selector(query)?,
        };
        let limit = match query.get("limit").map(String::as_str) {
            None | Some("" | "0") => None,
            Some(text) => Some(
                text.parse::<usize>()
                    .ok()
                    .filter(|&limit| limit > 0)
                    .ok_or_else(|| bad_request(format!("invalid limit {text:?}")))?,
            ),
        };
        let key = ResourceKey::of(resource);
        let (list_version, after, snapshot) = match query.get("continue").map(String::as_str) {
            None | Some("") => (self.resource_version, None, None),
            Some(token) => {
                let (version, after) = ContinueToken::parse(token, self.resource_version)?;
                let snapshot = self.objects_at(&key, version)?;
                (version, Some(after), Some(snapshot))
            }
        };
        let objects = match &snapshot {
            Some(snapshot) => Some(snapshot),
            None => self.objects.get(&key),
        };
        let range = objects.into_iter().flat_map(|objects| match &after {
            Some(after) => {
                objects.range::<ObjectKey, _>((Bound::Excluded(after), Bound::Unbounded))
            }
            None => objects.range::<ObjectKey, _>(..),
        });
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        for (at, object) in range.filter(|(_, object)| filter.matches(object)) {
            if limit.is_some_and(|limit| items.len() == limit) {
                more = true;
                break;
            }
            items.push(object.clone());
            last = Some(at);
        }
        let mut metadata = json!({"resourceVersion": list_version.to_string()});
        if let (true, Some(last)) = (more, last) {
            metadata["continue"] = Value::String(ContinueToken::write(list_version, last));
        }
        Ok(Response::ok(json!({
            "apiVersion": resource.api_version(),
            "kind": format!("{}List", resource.kind),
            "metadata": metadata,
            "items": items,
        })))
    }

    /// A resource's objects as they were at `resource_version`: today's,
    /// with the changes since undone, newest first. 410 Expired when the
    /// history no longer holds every change since.
    fn objects_at(
        &self,
        resource: &ResourceKey,
        resource_version: u64,
    ) -> Result<BTreeMap<ObjectKey, Value>, ApiError> {
        let mut objects = self.objects.get(resource).cloned().unwrap_or_default();
        let changes: Vec<&Change> = self
            .history
            .since(resource_version)
            .map_err(|_| {
                ApiError::Expired(
                    "The provided continue parameter is too old to display a consistent list \
                     result. You can start a new list without the continue parameter."
                        .to_string(),
                )
            })?
            .filter(|change| &change.resource == resource)
            .collect();
        for change in changes.into_iter().rev() {
            let at: ObjectKey = (
                meta_str(&change.object, "namespace")
                    .unwrap_or_default()
                    .to_string(),
                meta_str(&change.object, "name")
                    .unwrap_or_default()
                    .to_string(),
            );
            match (&change.kind, &change.previous) {
                (ChangeKind::Added, _) => {
                    objects.remove(&at);
                }
                (ChangeKind::Modified | ChangeKind::Deleted, Some(previous)) => {
                    objects.insert(at, previous.clone());
                }
                (ChangeKind::Modified | ChangeKind::Deleted, None) => {}
            }
        }
        Ok(objects)
    }

    fn get(&self, resource: &ResourceRef, at: &ObjectKey) -> Result<Response, ApiError> {
        let object = self
            .stored(resource, at)
            .ok_or_else(|| object_not_found(resource, &at.1))?;
        Ok(Response::ok(object.clone()))
    }

    fn create(
        &mut self,
        resource: &ResourceRef,
        path_namespace: Option<&str>,
        body: Option<Value>,
        now: Duration,
    ) -> Result<Response, ApiError> {
        let mut object = body_object(body)?;
        let namespace = resolve_namespace(resource, path_namespace, &object)?;
        let uid_number = self.uids_issued + 1;
        let name = match field(&object, "name") {
            Some(name) => name.to_string(),
            None => match field(&object, "generateName") {
                Some(prefix) => format!("{prefix}{uid_number:05}"),
                None => {
                    return Err(invalid(
                        "metadata.name or metadata.generateName is required",
                    ))
                }
            },
        };
        if self
            .served_custom_of(resource)
            .is_some_and(CustomResource::is_terminating)
        {
            return Err(create_forbidden_while_terminating(resource, &name));
        }
        let at: ObjectKey = (namespace.clone().unwrap_or_default(), name.clone());
        if self.stored(resource, &at).is_some() {
            return Err(ApiError::AlreadyExists(format!(
                "{} {name:?} already exists",
                resource.qualified_name()
            )));
        }
        let metadata = metadata_mut(&mut object);
        metadata.insert("name".to_string(), Value::String(name.clone()));
        match &namespace {
            Some(ns) => metadata.insert("namespace".to_string(), Value::String(ns.clone())),
            None => metadata.remove("namespace"),
        };
        let crd = self.check_crd(resource, &object)?;

        let resource_version = self.bump();
        self.uids_issued = uid_number;
        let metadata = metadata_mut(&mut object);
        metadata.insert(
            "uid".to_string(),
            Value::String(format!("uid-{uid_number}")),
        );
        metadata.insert("creationTimestamp".to_string(), json!(time_at(now)));
        metadata.insert("generation".to_string(), json!(1));
        set_type(&mut object, resource);
        if let Some(parsed) = crd {
            self.serve_crd(&name, &parsed, &mut object, now);
        }
        let mut object = Value::Object(object);
        set_resource_version(&mut object, resource_version);
        self.store(resource, at, object.clone());
        self.publish(Change {
            resource_version,
            resource: ResourceKey::of(resource),
            kind: ChangeKind::Added,
            object: object.clone(),
            previous: None,
        });
        Ok(Response {
            code: 201,
            body: object,
        })
    }

    fn update(
        &mut self,
        resource: &ResourceRef,
        at: ObjectKey,
        body: Option<Value>,
        now: Duration,
    ) -> Result<Response, ApiError> {
        let mut object = body_object(body)?;
        let name = at.1.clone();
        if let Some(body_name) = field(&object, "name") {
            if body_name != name {
                return Err(bad_request(format!(
                    "the name of the object ({body_name}) does not match the name on the URL ({name})"
                )));
            }
        }
        let path_namespace = resource.namespaced.then_some(at.0.as_str());
        resolve_namespace(resource, path_namespace, &object)?;
        let previous = self
            .stored(resource, &at)
            .ok_or_else(|| object_not_found(resource, &name))?
            .clone();
        let expected = field(&object, "resourceVersion").unwrap_or_default();
        if !expected.is_empty() && Some(expected) != meta_str(&previous, "resourceVersion") {
            return Err(conflict(resource, &name));
        }
        let metadata = metadata_mut(&mut object);
        metadata.insert("name".to_string(), Value::String(name.clone()));
        match path_namespace {
            Some(ns) => metadata.insert("namespace".to_string(), Value::String(ns.to_string())),
            None => metadata.remove("namespace"),
        };
        let crd = self.check_crd(resource, &object)?;

        let resource_version = self.bump();
        let previous_object = previous.as_object().cloned().unwrap_or_default();
        let generation = previous
            .get("metadata")
            .and_then(|m| m.get("generation"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let spec_changed = desired_state(&previous_object) != desired_state(&object);
        let metadata = metadata_mut(&mut object);
        for kept in ["uid", "creationTimestamp"] {
            match previous.get("metadata").and_then(|m| m.get(kept)) {
                Some(value) => metadata.insert(kept.to_string(), value.clone()),
                None => metadata.remove(kept),
            };
        }
        metadata.insert(
            "generation".to_string(),
            json!(generation + i64::from(spec_changed)),
        );
        set_type(&mut object, resource);
        if let Some(parsed) = crd {
            if previous_object
                .get("metadata")
                .is_some_and(|m| m.get("deletionTimestamp").is_some())
            {
                keep_deletion_marks(&previous_object, &mut object);
            } else {
                self.serve_crd(&name, &parsed, &mut object, now);
            }
        }
        let mut object = Value::Object(object);
        set_resource_version(&mut object, resource_version);
        self.store(resource, at, object.clone());
        self.publish(Change {
            resource_version,
            resource: ResourceKey::of(resource),
            kind: ChangeKind::Modified,
            object: object.clone(),
            previous: Some(previous),
        });
        Ok(Response::ok(object))
    }

    /// PATCH: the stored object with the merge patch applied, written as
    /// an update; a `metadata.resourceVersion` in the patch must match
    /// (409 otherwise), as on a real server.
    fn patch(
        &mut self,
        resource: &ResourceRef,
        at: ObjectKey,
        body: Option<Value>,
        now: Duration,
    ) -> Result<Response, ApiError> {
        let patch = Value::Object(body_object(body)?);
        let mut object = self
            .stored(resource, &at)
            .ok_or_else(|| object_not_found(resource, &at.1))?
            .clone();
        let stored_version = meta_str(&object, "resourceVersion").map(str::to_string);
        merge_patch(&mut object, &patch);
        let asked_version = meta_str(&object, "resourceVersion").map(str::to_string);
        if asked_version != stored_version {
            return Err(conflict(resource, &at.1));
        }
        self.update(resource, at, Some(object), now)
    }

    fn delete(
        &mut self,
        resource: &ResourceRef,
        at: &ObjectKey,
        now: Duration,
    ) -> Result<Response, ApiError> {
        if self.stored(resource, at).is_none() {
            return Err(object_not_found(resource, &at.1));
        }
        if is_crd_resource(resource) && self.custom.contains_key(&at.1) {
            return self.delete_crd(&at.1, now);
        }
        let key = ResourceKey::of(resource);
        let mut object = self
            .objects
            .get_mut(&key)
            .and_then(|objects| objects.remove(at))
            .ok_or_else(|| object_not_found(resource, &at.1))?;
        let previous = object.clone();
        let resource_version = self.bump();
        set_resource_version(&mut object, resource_version);
        self.publish(Change {
            resource_version,
            resource: key,
            kind: ChangeKind::Deleted,
            object: object.clone(),
            previous: Some(previous),
        });
        Ok(Response::ok(object))
    }

    fn store(&mut self, resource: &ResourceRef, at: ObjectKey, object: Value) {
        self.objects
            .entry(ResourceKey::of(resource))
            .or_default()
            .insert(at, object);
    }

    /// For a CRD object: reads it, and refuses one that would shadow a
    /// built-in resource.
    fn check_crd(
        &self,
        resource: &ResourceRef,
        object: &Map<String, Value>,
    ) -> Result<Option<ParsedCrd>, ApiError> {
        if !is_crd_resource(resource) {
            return Ok(None);
        }
        let parsed = parse_crd(&Value::Object(object.clone()))?;
        let key = ResourceKey::of(&parsed.resource);
        if self.builtins.iter().any(|b| ResourceKey::of(b) == key) {
            return Err(invalid(format!(
                "CustomResourceDefinition {:?} is invalid: it would shadow a built-in resource",
                parsed.resource.qualified_name()
            )));
        }
        Ok(Some(parsed))
    }

    /// Serves a created or updated CRD's resource at once and marks it
    /// established. A CRD created anew gets new storage: the watches of its
    /// removed namesake end now.
    fn serve_crd(
        &mut self,
        name: &str,
        parsed: &ParsedCrd,
        object: &mut Map<String, Value>,
        now: Duration,
    ) {
        let status = established_status(&parsed.crd, time_at(now));
        object.insert("status".to_string(), json!(status));
        if let Some(old) = self.custom.remove(name) {
            if matches!(old.phase, Phase::Removed { .. }) {
                let key = ResourceKey::of(&old.resource);
                self.watchers.retain(|watcher| watcher.resource != key);
            }
        }
        self.custom.insert(
            name.to_string(),
            CustomResource::established(
                parsed.resource.clone(),
                parsed
                    .crd
                    .spec
                    .names
                    .short_names
                    .clone()
                    .unwrap_or_default(),
            ),
        );
    }

    /// The DELETE of a CRD, as the CRD registry answers it: the first marks
    /// it for deletion (deletion timestamp, cleanup finalizer, `Terminating`)
    /// and leaves the rest to the finalizer, `crd_finalizer_delay` later;
    /// later ones change nothing. Either answers the CRD as it now is.
    fn delete_crd(&mut self, name: &str, now: Duration) -> Result<Response, ApiError> {
        let at: ObjectKey = (String::new(), name.to_string());
        let stored = self
            .stored(&crd_resource(), &at)
            .ok_or_else(|| object_not_found(&crd_resource(), name))?;
        if is_marked_for_deletion(&decode_crd(stored)?) {
            return Ok(Response::ok(stored.clone()));
        }
        let object = self.rewrite_crd(name, |crd| mark_for_deletion(crd, time_at(now)))?;
        let next_step_at = now.saturating_add(self.config.crd_finalizer_delay);
        if let Some(custom) = self.custom.get_mut(name) {
            custom.phase = Phase::Terminating {
                next_step_at,
                cleaning: false,
            };
        }
        Ok(Response::ok(object))
    }

    /// One step of a deleted CRD's life, due at `at`.
    ///
    /// The finalizer (upstream pkg/controller/finalizer/crd_finalizer.go)
    /// first says on the CRD that instance deletion is in progress, then
    /// deletes the instances in LIST order, one every
    /// `instance_deletion_cost`, and removes the CRD object (its finalizer
    /// done) as soon as none is left. After the resource stopped being
    /// served, its storage is torn down and its watches end.
    fn step(&mut self, name: &str, at: Duration) {
        let Some(custom) = self.custom.get(name) else {
            return;
        };
        let key = ResourceKey::of(&custom.resource);
        match custom.phase {
            Phase::Established => {}
            Phase::Terminating {
                cleaning: false, ..
            } => {
                // A CRD object that does not decode is removed all the same.
                let _ = self.rewrite_crd(name, |crd| {
                    mark_instance_deletion_in_progress(crd, time_at(at));
                });
                self.clean_or_remove(name, &key, at);
            }
            Phase::Terminating { cleaning: true, .. } => {
                self.delete_first_instance(&key);
                self.clean_or_remove(name, &key, at);
            }
            Phase::Removed { removed_at, .. } => {
                self.watchers.retain(|watcher| watcher.resource != key);
                if let Some(custom) = self.custom.get_mut(name) {
                    custom.phase = Phase::Removed {
                        removed_at,
                        watches_ended: true,
                    };
                }
            }
        }
    }

    /// After a finalizer step at `at`: the next instance deletion if any
    /// instance is left, else the CRD object's removal, now.
    fn clean_or_remove(&mut self, name: &str, key: &ResourceKey, at: Duration) {
        let phase = if self.objects.get(key).is_some_and(|o| !o.is_empty()) {
            Phase::Terminating {
                next_step_at: at.saturating_add(self.config.instance_deletion_cost),
                cleaning: true,
            }
        } else {
            self.remove_crd_object(name);
            Phase::Removed {
                removed_at: at,
                watches_ended: false,
            }
        };
        if let Some(custom) = self.custom.get_mut(name) {
            custom.phase = phase;
        }
    }

    /// Deletes the first instance of a resource in LIST order (namespace,
    /// then name): a `DELETED` event.
    fn delete_first_instance(&mut self, key: &ResourceKey) {
        let Some(objects) = self.objects.get_mut(key) else {
            return;
        };
        let Some((_, object)) = objects.pop_first() else {
            return;
        };
        if objects.is_empty() {
            self.objects.remove(key);
        }
        self.publish_deletion(key.clone(), object);
    }

    /// Removes a CRD object whose finalizer is done: a `DELETED` event
    /// carrying the CRD as it was last stored, as etcd reports a deletion.
    fn remove_crd_object(&mut self, name: &str) {
        let key = ResourceKey::of(&crd_resource());
        let removed = self
            .objects
            .get_mut(&key)
            .and_then(|objects| objects.remove(&(String::new(), name.to_string())));
        if let Some(object) = removed {
            self.publish_deletion(key, object);
        }
    }

    fn publish_deletion(&mut self, resource: ResourceKey, mut object: Value) {
        let previous = object.clone();
        let resource_version = self.bump();
        set_resource_version(&mut object, resource_version);
        self.publish(Change {
            resource_version,
            resource,
            kind: ChangeKind::Deleted,
            object,
            previous: Some(previous),
        });
    }

    /// Edits a stored CRD object as its typed self and stores it back: a
    /// `MODIFIED` event. Answers the object as stored.
    fn rewrite_crd(
        &mut self,
        name: &str,
        edit: impl FnOnce(&mut CustomResourceDefinition),
    ) -> Result<Value, ApiError> {
        let resource = crd_resource();
        let at: ObjectKey = (String::new(), name.to_string());
        let previous = self
            .stored(&resource, &at)
            .ok_or_else(|| object_not_found(&resource, name))?
            .clone();
        let mut crd = decode_crd(&previous)?;
        edit(&mut crd);
        let mut object = serde_json::to_value(&crd).map_err(|e| ApiError::Decode(e.to_string()))?;
        let resource_version = self.bump();
        set_resource_version(&mut object, resource_version);
        self.store(&resource, at, object.clone());
        self.publish(Change {
            resource_version,
            resource: ResourceKey::of(&resource),
            kind: ChangeKind::Modified,
            object: object.clone(),
            previous: Some(previous),
        });
        Ok(object)
    }

    fn watch(
        &mut self,
        resource: &ResourceRef,
        namespace: Option<String>,
        query: &BTreeMap<String, String>,
    ) -> Result<Reply, ApiError> {
        let filter = WatchFilter {
            namespace,
            selector: selector(query)?,
        };
        let timeout_seconds = query
            .get("timeoutSeconds")
            .map(|text| {
                text.parse::<u64>()
                    .map_err(|_| bad_request(format!("invalid timeoutSeconds {text:?}")))
            })
            .transpose()?;
        let allows_bookmarks = query
            .get("allowWatchBookmarks")
            .is_some_and(|v| v == "true" || v == "1");
        let key = ResourceKey::of(resource);
        let backlog = match query.get("resourceVersion").map_or("", String::as_str) {
            "" | "0" => Ok(self
                .objects
                .get(&key)
                .into_iter()
                .flat_map(BTreeMap::values)
                .filter(|object| filter.matches(object))
                .map(|object| frame("ADDED", object.clone()))
                .collect::<Vec<Value>>()),
            text => {
                let since = text
                    .parse::<u64>()
                    .map_err(|_| bad_request(format!("invalid resourceVersion {text:?}")))?;
                match self.history.since(since) {
                    Ok(changes) => Ok(changes
                        .filter(|change| change.resource == key)
                        .filter_map(|change| filter.frame_for(change))
                        .collect()),
                    Err(oldest) => Err(ApiError::Expired(format!(
                        "too old resource version: {since} ({oldest})"
                    ))),
                }
            }
        };
        let request = WatchRequest {
            resource: resource.clone(),
            filter,
            timeout_seconds,
            allows_bookmarks,
        };
        let (feed, watcher) = match backlog {
            Ok(frames) => watch::open(request, frames, self.config.watch_channel_capacity, true),
            Err(expired) => watch::open(request, vec![error_frame(&expired)], 0, false),
        };
        self.watchers.extend(watcher);
        Ok(Reply::Watch(feed))
    }
}

/// 409 for a write from a stale resourceVersion.
fn conflict(resource: &ResourceRef, name: &str) -> ApiError {
    ApiError::Conflict(format!(
        "Operation cannot be fulfilled on {} {name:?}: the object has been modified; \
         please apply your changes to the latest version and try again",
        resource.qualified_name()
    ))
}

fn decode_crd(object: &Value) -> Result<CustomResourceDefinition, ApiError> {
    serde_json::from_value(object.clone()).map_err(|e| ApiError::Decode(e.to_string()))
}

/// An update of a CRD marked for deletion keeps what the deletion set: the
/// server owns the deletion timestamp, status is a subresource, and the fake
/// keeps the finalizer to its own finalizer.
fn keep_deletion_marks(previous: &Map<String, Value>, object: &mut Map<String, Value>) {
    let previous_metadata = previous.get("metadata");
    let metadata = metadata_mut(object);
    for kept in ["deletionTimestamp", "finalizers"] {
        match previous_metadata.and_then(|m| m.get(kept)) {
            Some(value) => metadata.insert(kept.to_string(), value.clone()),
            None => metadata.remove(kept),
        };
    }
    match previous.get("status") {
        Some(status) => object.insert("status".to_string(), status.clone()),
        None => object.remove("status"),
    };
}

fn is_crd_resource(resource: &ResourceRef) -> bool {
    ResourceKey::of(resource) == ResourceKey::of(&crd_resource())
}

/// A discovery document as a `200` answer.
fn document(body: impl Serialize) -> Result<Reply, ApiError> {
    let body = serde_json::to_value(body).map_err(|e| ApiError::Decode(e.to_string()))?;
    Ok(Reply::Response(Response::ok(body)))
}

fn selector(query: &BTreeMap<String, String>) -> Result<LabelSelector, ApiError> {
    LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str)).map_err(bad_request)
}

fn body_object(body: Option<Value>) -> Result<Map<String, Value>, ApiError> {
    match body {
        Some(Value::Object(object)) => Ok(object),
        _ => Err(bad_request("the request body must be a JSON object")),
    }
}

/// A non-empty string field of the body's `metadata`.
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    object
        .get("metadata")?
        .get(name)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// The namespace an object is written to: the path's, else the body's; none
/// for a cluster-scoped resource.
fn resolve_namespace(
    resource: &ResourceRef,
    path_namespace: Option<&str>,
    object: &Map<String, Value>,
) -> Result<Option<String>, ApiError> {
    if !resource.namespaced {
        return Ok(None);
    }
    match (path_namespace, field(object, "namespace")) {
        (Some(path), Some(body)) if path != body => Err(bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        (Some(namespace), _) | (None, Some(namespace)) => Ok(Some(namespace.to_string())),
        (None, None) => Err(bad_request(format!(
            "{} is namespaced: a namespace is required",
            resource.qualified_name()
        ))),
    }
}

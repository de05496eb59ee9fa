//! The verbs on collections and objects: LIST (paged, and continued from
//! the history), GET, POST, PUT, PATCH and DELETE.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::rc::Rc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;
use stallsim_core::{ApiError, Body, ResourceRef, Response};

use super::commit::Write;
use super::crd_lifecycle::{is_crd_resource, keep_deletion_marks};
use super::deletion::{is_finalized, mark_as_deleting};
use super::ApiServer;
use crate::continuation::ContinueToken;
use crate::crd::established_status;
use crate::field_selector::FieldSelector;
use crate::history::{Change, ChangeKind};
use crate::json_patch::apply_json_patch;
use crate::lifecycle::CustomResource;
use crate::merge_patch::merge_patch;
use crate::object::{time_at, Object, ObjectKey, ResourceKey, Stored};
use crate::route::Part;
use crate::selector::LabelSelector;
use crate::status::{
    bad_request, create_forbidden_while_terminating, invalid, object_not_found,
    too_large_resource_version,
};
use crate::watch::WatchFilter;

/// A LIST's answer, `{Kind}List`, its fields in key order: each item the
/// JSON its object was stored with.
#[derive(Serialize)]
struct ListDocument<'a> {
    #[serde(rename = "apiVersion")]
    api_version: String,
    items: Vec<&'a Body>,
    kind: String,
    metadata: ListMetadata,
}

#[derive(Serialize)]
struct ListMetadata {
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    continue_token: Option<String>,
    #[serde(rename = "resourceVersion")]
    resource_version: String,
}

impl ApiServer {
    /// LIST, a page at a time when the query sets `limit`: each page ends
    /// with a `continue` token (the list's version and the last key), and a
    /// continued list reads the objects as they were at that version, as
    /// the history replays them (410 Expired once it no longer reaches back
    /// that far).
    pub(super) fn list(
        &self,
        resource: &ResourceRef,
        namespace: Option<String>,
        query: &BTreeMap<String, String>,
    ) -> Result<Response, ApiError> {
        let filter = self.filter(resource, namespace, query)?;
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
            None | Some("") => {
                if let Some(ahead) = self.ahead_of_store(query)? {
                    return Ok(ahead);
                }
                (self.resource_version, None, None)
            }
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
        for (at, object) in range.filter(|(_, object)| filter.matches(object.meta())) {
            if limit.is_some_and(|limit| items.len() == limit) {
                more = true;
                break;
            }
            items.push(&object.json);
            last = Some(at);
        }
        let continue_token = match (more, last) {
            (true, Some(last)) => Some(ContinueToken::write(list_version, last)),
            _ => None,
        };
        let list = ListDocument {
            api_version: resource.api_version(),
            items,
            kind: format!("{}List", resource.kind),
            metadata: ListMetadata {
                continue_token,
                resource_version: list_version.to_string(),
            },
        };
        Ok(Response::ok(Body::of(&list)?))
    }

    /// A resource's objects as they were at `resource_version`: today's,
    /// with the changes since undone, newest first. 410 Expired when the
    /// history no longer holds every change since.
    pub(super) fn objects_at(
        &self,
        resource: &ResourceKey,
        resource_version: u64,
    ) -> Result<BTreeMap<ObjectKey, Rc<Stored>>, ApiError> {
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
            let at = change.object.key();
            match (&change.kind, &change.previous) {
                (ChangeKind::Added, _) => {
                    objects.remove(&at);
                }
                (ChangeKind::Modified | ChangeKind::Deleted, Some(previous)) => {
                    objects.insert(at, Rc::clone(previous));
                }
                (ChangeKind::Modified | ChangeKind::Deleted, None) => {}
            }
        }
        Ok(objects)
    }

    pub(super) fn get(&self, resource: &ResourceRef, at: &ObjectKey) -> Result<Response, ApiError> {
        let object = self
            .stored(resource, at)
            .ok_or_else(|| object_not_found(resource, &at.1))?;
        Ok(Response::ok(object.json.clone()))
    }

    /// POST: stores a new object under the name it carries (or one made
    /// from its `generateName`), with a uid, a creation time and
    /// generation 1. A CRD is served at once. A custom resource whose CRD
    /// serves the status subresource is stored without a status.
    pub(super) fn create(
        &mut self,
        resource: &ResourceRef,
        path_namespace: Option<&str>,
        mut object: Object,
        now: Duration,
    ) -> Result<Response, ApiError> {
        let namespace = resolve_namespace(resource, path_namespace, object.meta())?;
        let uid_number = self.uids_issued + 1;
        let name = match non_empty(&object.meta().name) {
            Some(name) => name.to_string(),
            None => match non_empty(&object.meta().generate_name) {
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
        let metadata = object.meta_mut();
        metadata.name = Some(name.clone());
        metadata.namespace = namespace;
        let crd = self.check_crd(resource, &object)?;

        let metadata = object.meta_mut();
        metadata.uid = Some(format!("uid-{uid_number}"));
        metadata.creation_timestamp = Some(time_at(now));
        metadata.generation = Some(1);
        object.set_type(resource);
        if self.status_subresource(resource) {
            // The status is written through `/status` only (customresource/
            // strategy.go, `PrepareForCreate`).
            object.set_status(None);
        }
        if let Object::Crd(definition) = &mut object {
            definition.status = Some(established_status(definition, time_at(now)));
        }
        let object = self.stamp(object)?;
        self.check_room(None, &object)?;
        self.uids_issued = uid_number;
        if let Some(parsed) = crd {
            self.serve_crd(&name, parsed);
        }
        let object = self.commit(&ResourceKey::of(resource), at, Write::Create(object))?;
        Ok(Response {
            code: 201,
            body: object.json.clone(),
        })
    }

    /// PUT: replaces the object, if the `resourceVersion` it carries (if
    /// any) is the stored one (409 otherwise); the uid, creation time and
    /// deletion marks stay, the generation grows when the desired state
    /// changed.
    ///
    /// `part` is what the write may change, as kube-apiserver's strategies
    /// for a custom resource with a status subresource decide it
    /// (apiextensions-apiserver pkg/registry/customresource/strategy.go
    /// and status_strategy.go, `PrepareForUpdate`): a write of the object
    /// keeps the stored status; a write of `/status` keeps everything but
    /// the status. An object marked for deletion whose last finalizer the
    /// write removes is deleted (k8s.io/apiserver/pkg/registry/generic/
    /// registry/store.go, `Update` and `ShouldDeleteDuringUpdate`).
    pub(super) fn update(
        &mut self,
        resource: &ResourceRef,
        at: ObjectKey,
        mut object: Object,
        part: Part,
        now: Duration,
    ) -> Result<Response, ApiError> {
        let name = at.1.clone();
        if let Some(body_name) = non_empty(&object.meta().name) {
            if body_name != name {
                return Err(bad_request(format!(
                    "the name of the object ({body_name}) does not match the name on the URL ({name})"
                )));
            }
        }
        let path_namespace = resource.namespaced.then_some(at.0.as_str());
        resolve_namespace(resource, path_namespace, object.meta())?;
        let previous = Rc::clone(
            self.stored(resource, &at)
                .ok_or_else(|| object_not_found(resource, &name))?,
        );
        let expected = non_empty(&object.meta().resource_version);
        if expected
            .is_some_and(|expected| Some(expected) != previous.meta().resource_version.as_deref())
        {
            return Err(conflict(resource, &name));
        }
        let status_subresource = self.status_subresource(resource);
        match part {
            Part::Status => {
                let status = object.status().cloned();
                object = previous.object()?.into_owned();
                object.set_status(status);
            }
            Part::Main if status_subresource => {
                object.set_status(previous.object()?.status().cloned());
            }
            Part::Main => {}
        }
        let metadata = object.meta_mut();
        metadata.name = Some(name.clone());
        metadata.namespace = path_namespace.map(str::to_string);
        let crd = self.check_crd(resource, &object)?;

        let kept = previous.meta();
        let generation = kept.generation.unwrap_or(1);
        let status_is_desired = self.served_custom_of(resource).is_some() && !status_subresource;
        let spec_changed = !previous
            .object()?
            .same_desired_state(&object, status_is_desired);
        let metadata = object.meta_mut();
        metadata.uid = kept.uid.clone();
        metadata.creation_timestamp = kept.creation_timestamp.clone();
        metadata.generation = Some(generation + i64::from(spec_changed));
        // The server owns the deletion marks (k8s.io/apiserver/pkg/
        // registry/rest/update.go, `BeforeUpdate`).
        metadata.deletion_timestamp = kept.deletion_timestamp.clone();
        metadata.deletion_grace_period_seconds = kept.deletion_grace_period_seconds;
        object.set_type(resource);
        let mut serve = None;
        if let (Some(parsed), Object::Crd(definition)) = (crd, &mut object) {
            match previous.typed() {
                Some(Object::Crd(before)) if before.metadata.deletion_timestamp.is_some() => {
                    keep_deletion_marks(before, definition);
                }
                _ => {
                    definition.status = Some(established_status(definition, time_at(now)));
                    serve = Some(parsed);
                }
            }
        }
        let finalized = is_finalized(object.meta());
        let object = self.stamp(object)?;
        self.check_room(Some(&previous), &object)?;
        if let Some(parsed) = serve {
            self.serve_crd(&name, parsed);
        }
        let write = if finalized {
            Write::Finalize { object, previous }
        } else {
            Write::Update { object, previous }
        };
        let object = self.commit(&ResourceKey::of(resource), at, write)?;
        Ok(Response::ok(object.json.clone()))
    }

    /// PATCH: the stored object with the patch applied, written as an
    /// update of `part`. A body that is a JSON object is a JSON merge
    /// patch (RFC 7386), one that is an array a JSON patch (RFC 6902); the
    /// HTTP front checks that the media type names the one it is. A
    /// `metadata.resourceVersion` the patch sets must match (409
    /// otherwise), as on a real server.
    pub(super) fn patch(
        &mut self,
        resource: &ResourceRef,
        at: ObjectKey,
        part: Part,
        body: Option<Body>,
        now: Duration,
    ) -> Result<Response, ApiError> {
        let patch = match &body {
            Some(body) if body.text().starts_with(['{', '[']) => body.decode::<Value>()?,
            _ => return Err(bad_request("the request body must be a JSON object")),
        };
        let stored = self
            .stored(resource, &at)
            .ok_or_else(|| object_not_found(resource, &at.1))?;
        let stored_version = stored.meta().resource_version.clone();
        let mut object = stored.json.to_value();
        if patch.is_array() {
            apply_json_patch(&mut object, &patch)?;
        } else {
            merge_patch(&mut object, &patch);
        }
        let asked_version = object
            .get("metadata")
            .and_then(|metadata| metadata.get("resourceVersion"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if asked_version != stored_version {
            return Err(conflict(resource, &at.1));
        }
        let object = Object::from_value(resource, object)?;
        self.update(resource, at, object, part, now)
    }

    /// DELETE. An object without finalizers goes at once (`DELETED`). One
    /// with finalizers is marked, as kube-apiserver's store marks it
    /// (k8s.io/apiserver/pkg/registry/generic/registry/store.go,
    /// `markAsDeleting`): a deletion timestamp, a grace period of 0, and
    /// its generation bumped; it stays until a write removes its last
    /// finalizer ([`ApiServer::update`]). Deleting it again changes
    /// nothing. A CRD goes through its own registry ([`ApiServer::delete_crd`]).
    pub(super) fn delete(
        &mut self,
        resource: &ResourceRef,
        at: &ObjectKey,
        now: Duration,
    ) -> Result<Response, ApiError> {
        let Some(stored) = self.stored(resource, at) else {
            return Err(object_not_found(resource, &at.1));
        };
        if is_crd_resource(resource) && self.custom.contains_key(&at.1) {
            return self.delete_crd(&at.1, now);
        }
        let key = ResourceKey::of(resource);
        if stored
            .meta()
            .finalizers
            .as_ref()
            .is_some_and(|f| !f.is_empty())
        {
            if stored.meta().deletion_timestamp.is_some() {
                return Ok(Response::ok(stored.json.clone()));
            }
            let previous = Rc::clone(stored);
            let mut object = previous.object()?.into_owned();
            mark_as_deleting(object.meta_mut(), now);
            let object = self.stamp(object)?;
            self.check_room(Some(&previous), &object)?;
            let object = self.commit(&key, at.clone(), Write::Update { object, previous })?;
            return Ok(Response::ok(object.json.clone()));
        }
        let object = self
            .objects
            .get_mut(&key)
            .and_then(|objects| objects.remove(at))
            .ok_or_else(|| object_not_found(resource, &at.1))?;
        let object = self.commit(&key, at.clone(), Write::Delete(object))?;
        Ok(Response::ok(object.json.clone()))
    }

    /// Whether `resource` is a custom resource whose CRD serves the status
    /// subresource.
    pub(super) fn status_subresource(&self, resource: &ResourceRef) -> bool {
        self.served_custom_of(resource)
            .is_some_and(|custom| custom.status_subresource)
    }

    /// Which objects a LIST or WATCH selects: the path's namespace, the
    /// `labelSelector` and the `fieldSelector` (400 for one it cannot read
    /// or a field it does not select on).
    pub(super) fn filter(
        &self,
        resource: &ResourceRef,
        namespace: Option<String>,
        query: &BTreeMap<String, String>,
    ) -> Result<WatchFilter, ApiError> {
        let text = |name: &str| query.get(name).map_or("", String::as_str);
        let custom = self.served_custom_of(resource).is_some();
        Ok(WatchFilter {
            namespace,
            selector: LabelSelector::parse(text("labelSelector")).map_err(bad_request)?,
            fields: FieldSelector::parse(text("fieldSelector"), resource, custom)
                .map_err(bad_request)?,
        })
    }

    /// The answer to a LIST from a `resourceVersion` the store has not
    /// reached: kube-apiserver's watch cache waits 3s for it, then answers
    /// 504 "Too large resource version" (k8s.io/apiserver/pkg/storage/
    /// cacher/watch_cache.go, waitUntilFreshAndBlock). This store is its
    /// own cache and never behind, so it answers at once. `None` for a
    /// version it has reached (the LIST then answers the latest objects).
    fn ahead_of_store(
        &self,
        query: &BTreeMap<String, String>,
    ) -> Result<Option<Response>, ApiError> {
        let requested = requested_version(query)?;
        if requested <= self.resource_version {
            return Ok(None);
        }
        Ok(Some(Response {
            code: 504,
            body: too_large_resource_version(requested, self.resource_version),
        }))
    }
}

/// The query's `resourceVersion`; 0 when it names none. 400 for one that
/// is not a number.
pub(super) fn requested_version(query: &BTreeMap<String, String>) -> Result<u64, ApiError> {
    match query.get("resourceVersion").map_or("", String::as_str) {
        "" => Ok(0),
        text => text
            .parse::<u64>()
            .map_err(|_| bad_request(format!("invalid resourceVersion {text:?}"))),
    }
}

/// 409 for a write from a stale resourceVersion.
pub(super) fn conflict(resource: &ResourceRef, name: &str) -> ApiError {
    ApiError::Conflict(format!(
        "Operation cannot be fulfilled on {} {name:?}: the object has been modified; \
         please apply your changes to the latest version and try again",
        resource.qualified_name()
    ))
}

/// A set, non-empty string field of metadata.
fn non_empty(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|s| !s.is_empty())
}

/// The namespace an object is written to: the path's, else the body's; none
/// for a cluster-scoped resource.
pub(super) fn resolve_namespace(
    resource: &ResourceRef,
    path_namespace: Option<&str>,
    metadata: &ObjectMeta,
) -> Result<Option<String>, ApiError> {
    if !resource.namespaced {
        return Ok(None);
    }
    match (path_namespace, non_empty(&metadata.namespace)) {
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

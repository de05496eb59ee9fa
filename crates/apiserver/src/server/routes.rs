//! Routing: which handler a request's path and method go to, and which
//! resources are served and discovered.

use serde::Serialize;
use stallsim_core::{ApiError, Body, Method, Request, ResourceRef, Response};

use super::{ApiServer, Reply};
use crate::discovery::{self, Listed};
use crate::lifecycle::CustomResource;
use crate::object::{Object, ObjectKey, ResourceKey};
use crate::openapi;
use crate::route::{Part, Route, Target};
use crate::status::{bad_request, method_not_allowed, no_route};

impl ApiServer {
    pub(super) fn route(&mut self, request: Request) -> Result<Reply, ApiError> {
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
            Route::Healthz => get_only().and_then(|()| document("ok")),
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
                    Method::Post => {
                        let object = read_object(&resource, request.body.as_ref())?;
                        self.create(&resource, ns, object, now)?
                    }
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
                part,
            } => {
                let resource = self.lookup(&target, namespace.as_deref())?;
                if resource.namespaced && namespace.is_none() {
                    return Err(no_route());
                }
                if part == Part::Status && !self.status_subresource(&resource) {
                    return Err(no_route());
                }
                let at: ObjectKey = (namespace.unwrap_or_default(), name);
                let response = match method {
                    Method::Get => self.get(&resource, &at)?,
                    Method::Put => {
                        let object = read_object(&resource, request.body.as_ref())?;
                        self.update(&resource, at, object, part, now)?
                    }
                    Method::Delete if part == Part::Main => self.delete(&resource, &at, now)?,
                    Method::Patch => self.patch(&resource, at, part, request.body, now)?,
                    Method::Post | Method::Delete => return Err(method_not_allowed()),
                };
                Ok(Reply::Response(response))
            }
        }
    }

    /// Every resource discovery lists: built-ins in their fixed order, then
    /// custom ones (established, terminating, or removed less than
    /// `discovery_lag` ago) sorted by group, version and plural.
    pub(super) fn discoverable(&self) -> Vec<Listed> {
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
    pub(super) fn served_custom(&self) -> impl Iterator<Item = &CustomResource> {
        self.custom
            .values()
            .filter(|custom| custom.is_served(self.now, &self.config))
    }

    /// The served custom resource `resource` is, if it is one.
    pub(super) fn served_custom_of(&self, resource: &ResourceRef) -> Option<&CustomResource> {
        let key = ResourceKey::of(resource);
        self.served_custom()
            .find(|custom| ResourceKey::of(&custom.resource) == key)
    }

    /// The served resource a path names; 404 when none is (or when a
    /// cluster-scoped resource is asked for within a namespace).
    pub(super) fn lookup(
        &self,
        target: &Target,
        namespace: Option<&str>,
    ) -> Result<ResourceRef, ApiError> {
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
}

/// A document (discovery, OpenAPI, health) as a `200` answer, written
/// straight from its type.
fn document(body: impl Serialize) -> Result<Reply, ApiError> {
    Ok(Reply::Response(Response::ok(Body::of(&body)?)))
}

/// The object a create or a replace carries; 400 without one.
fn read_object(resource: &ResourceRef, body: Option<&Body>) -> Result<Object, ApiError> {
    let body = body.ok_or_else(|| bad_request("the request body must be a JSON object"))?;
    Object::read(resource, body)
}

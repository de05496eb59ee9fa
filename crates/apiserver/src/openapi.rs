//! OpenAPI v3 documents, `/openapi/v3` and one per group version: just
//! enough for kubectl to know which operations each resource takes and
//! that the server validates fields itself (the `fieldValidation` query
//! parameter), so `kubectl apply` sends objects without validating them
//! against a schema first. Each kind's schema accepts any object.

use serde_json::{json, Map, Value};
use stallsim_core::ResourceRef;

use crate::discovery::Listed;

/// The query parameters a write takes; the fake accepts and ignores them.
const WRITE_PARAMETERS: &[&str] = &["dryRun", "fieldManager", "fieldValidation"];

/// The path of a group version's document, relative to `/openapi/v3/`.
fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `GET /openapi/v3`: where each served group version's document is.
pub(crate) fn root(resources: &[Listed]) -> Value {
    let mut paths = Map::new();
    for Listed { resource, .. } in resources {
        let path = group_version_path(&resource.group, &resource.version);
        let url = format!("/openapi/v3/{path}");
        paths.insert(path, json!({"serverRelativeURL": url}));
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`; `None`
/// when nothing is served there.
pub(crate) fn group_version(resources: &[Listed], group: &str, version: &str) -> Option<Value> {
    let here: Vec<&ResourceRef> = resources
        .iter()
        .map(|listed| &listed.resource)
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if here.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for resource in here {
        let gvk =
            json!({"group": resource.group, "version": resource.version, "kind": resource.kind});
        let operation = |action: &str, parameters: &[&str]| {
            let parameters: Vec<Value> = parameters
                .iter()
                .map(|name| json!({"name": name, "in": "query", "schema": {"type": "string"}}))
                .collect();
            json!({
                "operationId": format!("{action}{}", resource.kind),
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": parameters,
                "responses": {"200": {"description": "OK"}},
            })
        };
        let namespace = resource.namespaced.then_some("{namespace}");
        let mut collection = Map::new();
        collection.insert("get".into(), operation("list", &[]));
        collection.insert("post".into(), operation("post", WRITE_PARAMETERS));
        paths.insert(
            resource.collection_path(namespace),
            Value::Object(collection),
        );
        let mut object = Map::new();
        object.insert("get".into(), operation("get", &[]));
        object.insert("put".into(), operation("put", WRITE_PARAMETERS));
        object.insert("patch".into(), operation("patch", WRITE_PARAMETERS));
        object.insert("delete".into(), operation("delete", &["dryRun"]));
        paths.insert(
            resource.object_path(namespace, "{name}"),
            Value::Object(object),
        );
        let schema_name = format!(
            "{}.{}.{}",
            reversed(&resource.group),
            resource.version,
            resource.kind
        );
        schemas.insert(
            schema_name,
            json!({
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "x-kubernetes-group-version-kind": [gvk],
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// A group's name reversed, as Kubernetes names schemas
/// (`io.k8s.api.apps`); `core` for the core group.
fn reversed(group: &str) -> String {
    if group.is_empty() {
        return "core".to_string();
    }
    group.split('.').rev().collect::<Vec<_>>().join(".")
}

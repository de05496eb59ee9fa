//! Finalizers, JSON patches, and the status subresource of a custom
//! resource whose CRD declares it: what a kube-runtime controller with
//! `finalizer()` and a status update writes.

use std::time::Duration;

use serde_json::{json, Value};
use stallsim_apiserver::{ApiServer, ApiServerConfig, CrdSpec, WatchFeed};
use stallsim_client::{Method, Request, ResourceRef};

use crate::support::{call, deployments, drain_feed, open_watch};

fn widgets(status_subresource: bool) -> CrdSpec {
    CrdSpec {
        group: "example.com".to_string(),
        version: "v1".to_string(),
        kind: "Widget".to_string(),
        plural: "widgets".to_string(),
        namespaced: true,
        status_subresource,
    }
}

fn s(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// A server serving widgets, with widget `w` in namespace `ns`.
fn with_widget(status_subresource: bool) -> (ApiServer, ResourceRef) {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let crd = widgets(status_subresource);
    server.install_crd(&crd, Duration::ZERO);
    let resource = crd.resource();
    let created = call(
        &mut server,
        Request::new(Method::Post, resource.collection_path(Some("ns"))).body(json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": 1},
            "status": {"ready": true},
        })),
        s(1),
    );
    assert_eq!(created.code, 201, "{created:?}");
    (server, resource)
}

fn path(resource: &ResourceRef) -> String {
    format!("{}/w", resource.collection_path(Some("ns")))
}

fn status_path(resource: &ResourceRef) -> String {
    format!("{}/status", path(resource))
}

/// Sends a request and answers its code and body.
fn send(server: &mut ApiServer, request: Request, now: Duration) -> (u16, Value) {
    let response = call(server, request, now);
    (response.code, response.body.to_value())
}

fn get(server: &mut ApiServer, path: String) -> (u16, Value) {
    send(server, Request::new(Method::Get, path), s(50))
}

fn watch_all(server: &mut ApiServer, resource: &ResourceRef) -> WatchFeed {
    let request = Request::new(Method::Get, resource.collection_path(None))
        .query("watch", "true")
        .query("resourceVersion", server.resource_version().to_string());
    open_watch(server, request, s(2))
}

/// The type and finalizers of each event a feed has queued.
fn events(feed: &mut WatchFeed) -> Vec<(String, Value)> {
    drain_feed(feed)
        .0
        .into_iter()
        .map(|frame| {
            (
                frame["type"].as_str().unwrap_or_default().to_string(),
                frame["object"]["metadata"]["finalizers"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_finalizer_patches_of_kube_runtime_add_and_remove_a_finalizer() {
    let (mut server, resource) = with_widget(true);
    let add = json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/metadata/finalizers", "value": ["widgets.example.com/cleanup"]},
    ]);
    let patch = |body: Value| Request::new(Method::Patch, path(&resource)).body(body);
    let (code, added) = send(&mut server, patch(add.clone()), s(3));
    assert_eq!(code, 200, "{added}");
    assert_eq!(
        added["metadata"]["finalizers"],
        json!(["widgets.example.com/cleanup"])
    );
    // A finalizer is metadata: the generation stays.
    assert_eq!(added["metadata"]["generation"], 1);
    // Sent again, its test fails: 422, and nothing changes.
    let (code, body) = send(&mut server, patch(add), s(4));
    assert_eq!((code, body["reason"].as_str()), (422, Some("Invalid")));
    let (_, now) = get(&mut server, path(&resource));
    assert_eq!(
        now["metadata"]["resourceVersion"],
        added["metadata"]["resourceVersion"]
    );
    // An operation that is none is a bad request.
    let (code, _) = send(&mut server, patch(json!([{"op": "fly"}])), s(5));
    assert_eq!(code, 400);
}

#[test]
fn a_delete_marks_an_object_with_finalizers_and_the_last_removal_deletes_it() {
    let (mut server, resource) = with_widget(true);
    let patch = |body: Value| Request::new(Method::Patch, path(&resource)).body(body);
    let two = json!({"metadata": {"finalizers": ["a", "b"]}});
    assert_eq!(send(&mut server, patch(two), s(3)).0, 200);
    let mut feed = watch_all(&mut server, &resource);

    let (code, marked) = send(
        &mut server,
        Request::new(Method::Delete, path(&resource)),
        s(10),
    );
    assert_eq!(code, 200);
    assert_eq!(
        marked["metadata"]["deletionTimestamp"],
        "2025-04-01T00:00:10Z"
    );
    assert_eq!(marked["metadata"]["deletionGracePeriodSeconds"], 0);
    assert_eq!(
        marked["metadata"]["generation"], 2,
        "markAsDeleting bumps it"
    );
    // Deleting it again changes nothing.
    let (code, again) = send(
        &mut server,
        Request::new(Method::Delete, path(&resource)),
        s(11),
    );
    assert_eq!((code, &again), (200, &marked));
    // A write cannot move the deletion marks.
    let clear = json!({"metadata": {"deletionTimestamp": null, "finalizers": ["b"]}});
    let (code, one_left) = send(&mut server, patch(clear), s(12));
    assert_eq!(code, 200);
    assert_eq!(
        one_left["metadata"]["deletionTimestamp"],
        "2025-04-01T00:00:10Z"
    );
    // The write that removes the last finalizer deletes it.
    let remove = json!([
        {"op": "test", "path": "/metadata/finalizers/0", "value": "b"},
        {"op": "remove", "path": "/metadata/finalizers/0"},
    ]);
    let (code, last) = send(&mut server, patch(remove), s(13));
    assert_eq!(code, 200);
    assert_eq!(last["metadata"]["finalizers"], json!([]));
    assert_eq!(get(&mut server, path(&resource)).0, 404);
    assert_eq!(
        events(&mut feed),
        vec![
            ("MODIFIED".to_string(), json!(["a", "b"])),
            ("MODIFIED".to_string(), json!(["b"])),
            ("DELETED".to_string(), json!([])),
        ]
    );
}

#[test]
fn finalizers_hold_a_built_in_object_too() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let resource = deployments();
    let collection = resource.collection_path(Some("ns"));
    let body = json!({"metadata": {"name": "d", "finalizers": ["f"]}, "spec": {}});
    assert_eq!(
        send(
            &mut server,
            Request::new(Method::Post, collection.clone()).body(body),
            s(1)
        )
        .0,
        201
    );
    let at = format!("{collection}/d");
    let (code, marked) = send(&mut server, Request::new(Method::Delete, at.clone()), s(2));
    assert_eq!(code, 200);
    assert!(marked["metadata"]["deletionTimestamp"].is_string());
    let mut update = marked.clone();
    update["metadata"]["finalizers"] = json!(null);
    assert_eq!(
        send(
            &mut server,
            Request::new(Method::Put, at.clone()).body(update),
            s(3)
        )
        .0,
        200
    );
    assert_eq!(get(&mut server, at).0, 404);
}

#[test]
fn the_status_subresource_writes_only_the_status() {
    let (mut server, resource) = with_widget(true);
    let (_, created) = get(&mut server, path(&resource));
    assert_eq!(created["status"], Value::Null, "a create drops the status");
    assert_eq!(created["metadata"]["generation"], 1);

    // A status write changes the status only, and not the generation.
    let write_status =
        json!({"spec": {"size": 9}, "status": {"ready": true, "observedGeneration": 1}});
    let (code, written) = send(
        &mut server,
        Request::new(Method::Patch, status_path(&resource)).body(write_status),
        s(3),
    );
    assert_eq!(code, 200, "{written}");
    assert_eq!(written["spec"], json!({"size": 1}));
    assert_eq!(
        written["status"],
        json!({"ready": true, "observedGeneration": 1})
    );
    assert_eq!(written["metadata"]["generation"], 1);
    assert_eq!(get(&mut server, status_path(&resource)).1, written);

    // A write of the object keeps the status, and bumps the generation
    // when the spec changed.
    let mut replace = written.clone();
    replace["spec"] = json!({"size": 2});
    replace["status"] = json!({"ready": false});
    let (code, replaced) = send(
        &mut server,
        Request::new(Method::Put, path(&resource)).body(replace),
        s(4),
    );
    assert_eq!(code, 200);
    assert_eq!(replaced["spec"], json!({"size": 2}));
    assert_eq!(replaced["status"], written["status"]);
    assert_eq!(replaced["metadata"]["generation"], 2);
    // A status write from a stale version is a conflict.
    let (code, _) = send(
        &mut server,
        Request::new(Method::Put, status_path(&resource)).body(written),
        s(5),
    );
    assert_eq!(code, 409);
    // No DELETE or POST on `/status`.
    let (code, _) = send(
        &mut server,
        Request::new(Method::Delete, status_path(&resource)),
        s(6),
    );
    assert_eq!(code, 405);
}

#[test]
fn without_the_subresource_status_is_part_of_the_object() {
    let (mut server, resource) = with_widget(false);
    let (_, created) = get(&mut server, path(&resource));
    assert_eq!(created["status"], json!({"ready": true}));
    assert_eq!(get(&mut server, status_path(&resource)).0, 404);
    let patch = json!({"status": {"ready": false}});
    let (code, patched) = send(
        &mut server,
        Request::new(Method::Patch, path(&resource)).body(patch),
        s(3),
    );
    assert_eq!(code, 200);
    assert_eq!(patched["status"], json!({"ready": false}));
    // The status is desired state here: its change bumps the generation.
    assert_eq!(patched["metadata"]["generation"], 2);
}

#[test]
fn the_crd_object_declares_its_status_subresource() {
    let crd = widgets(true).to_crd();
    let subresources = crd.spec.versions[0]
        .subresources
        .as_ref()
        .expect("subresources");
    assert!(subresources.status.is_some());
    assert!(widgets(false).to_crd().spec.versions[0]
        .subresources
        .is_none());
}

#[test]
fn a_deleted_crd_waits_for_the_finalizers_of_its_instances() {
    let (mut server, resource) = with_widget(true);
    let patch = |body: Value| Request::new(Method::Patch, path(&resource)).body(body);
    let held = json!({"metadata": {"finalizers": ["widgets.example.com/cleanup"]}});
    assert_eq!(send(&mut server, patch(held), s(2)).0, 200);
    let crd = format!(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{}",
        widgets(true).name()
    );
    assert_eq!(
        send(
            &mut server,
            Request::new(Method::Delete, crd.clone()),
            s(10)
        )
        .0,
        200
    );
    // The finalizer marks the instance instead of deleting it, and waits.
    let (code, marked) = send(
        &mut server,
        Request::new(Method::Get, path(&resource)),
        s(40),
    );
    assert_eq!(code, 200, "the resource is still served");
    assert!(
        marked["metadata"]["deletionTimestamp"].is_string(),
        "{marked}"
    );
    let (code, _) = send(&mut server, Request::new(Method::Get, crd.clone()), s(40));
    assert_eq!(code, 200, "the CRD still terminates");
    // Its controller removes the finalizer: the instance goes, and the
    // CRD at the finalizer's next look (every 5s).
    let remove = json!([
        {"op": "test", "path": "/metadata/finalizers/0", "value": "widgets.example.com/cleanup"},
        {"op": "remove", "path": "/metadata/finalizers/0"},
    ]);
    assert_eq!(send(&mut server, patch(remove), s(41)).0, 200);
    server.advance(s(46));
    let (code, body) = send(&mut server, Request::new(Method::Get, crd), s(46));
    assert_eq!(code, 404, "{body}");
}

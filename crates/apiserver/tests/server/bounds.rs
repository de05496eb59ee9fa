//! What kube-apiserver answers that a client relies on: field selectors, a
//! version ahead of the store; and the server's memory bounds in bytes.

use std::time::Duration;

use serde_json::{json, Value};
use stallsim_apiserver::{ApiServer, ApiServerConfig, MemoryBounds};
use stallsim_client::{Method, Request};

use crate::support::{call, drain_feed, open_watch, reason};

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";
const NOW: Duration = Duration::ZERO;

fn config_map(name: &str, value: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"value": value},
    })
}

fn create(server: &mut ApiServer, namespace: &str, name: &str, value: &str) -> u16 {
    let path = format!("/api/v1/namespaces/{namespace}/configmaps");
    let request = Request::new(Method::Post, path).body(config_map(name, value));
    call(server, request, NOW).code
}

fn list(server: &mut ApiServer, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let mut request = Request::new(Method::Get, path);
    for (key, value) in query {
        request = request.query(key, *value);
    }
    let response = call(server, request, NOW);
    (response.code, response.body.to_value())
}

fn names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn field_selectors_select_by_name_and_namespace_on_list_and_watch() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let watch = Request::new(Method::Get, "/api/v1/configmaps")
        .query("watch", "true")
        .query(
            "fieldSelector",
            "metadata.name=a,metadata.namespace!=kube-system",
        );
    let mut feed = open_watch(&mut server, watch, NOW);
    for (namespace, name) in [("default", "a"), ("default", "b"), ("kube-system", "a")] {
        assert_eq!(create(&mut server, namespace, name, "1"), 201);
    }
    let all = "/api/v1/configmaps";
    for (selector, expected) in [
        ("metadata.name=a", vec!["a", "a"]),
        ("metadata.name==b", vec!["b"]),
        ("metadata.name!=a", vec!["b"]),
        ("metadata.namespace=kube-system", vec!["a"]),
        ("metadata.name=a,metadata.namespace=default", vec!["a"]),
        ("", vec!["a", "b", "a"]),
    ] {
        let (code, body) = list(&mut server, all, &[("fieldSelector", selector)]);
        assert_eq!(code, 200, "{selector}: {body}");
        assert_eq!(names(&body), expected, "{selector}");
    }
    let (frames, ended) = drain_feed(&mut feed);
    assert!(!ended);
    let seen: Vec<(&str, &str)> = frames
        .iter()
        .map(|f| {
            let meta = &f["object"]["metadata"];
            (
                meta["namespace"].as_str().unwrap(),
                meta["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [("default", "a")]);
}

#[test]
fn a_field_kube_apiserver_does_not_select_on_is_a_400() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    for (selector, message) in [
        (
            "data.value=1",
            "\"data.value\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
        ),
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    ] {
        let (code, body) = list(&mut server, CONFIG_MAPS, &[("fieldSelector", selector)]);
        assert_eq!(code, 400, "{body}");
        assert_eq!(body["reason"], "BadRequest");
        assert_eq!(body["message"], message);
        let watch = Request::new(Method::Get, CONFIG_MAPS)
            .query("watch", "true")
            .query("fieldSelector", selector);
        let response = call(&mut server, watch, NOW);
        assert_eq!(response.code, 400, "a watch too: {response:?}");
    }
}

#[test]
fn a_list_from_ahead_of_the_store_is_too_large() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    assert_eq!(create(&mut server, "default", "a", "1"), 201);
    let (code, body) = list(&mut server, CONFIG_MAPS, &[("resourceVersion", "1")]);
    assert_eq!((code, names(&body)), (200, vec!["a".to_string()]));
    let (code, body) = list(&mut server, CONFIG_MAPS, &[("resourceVersion", "7")]);
    assert_eq!(code, 504, "{body}");
    assert_eq!(
        body,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Timeout: Too large resource version: 7, current: 1",
            "reason": "Timeout",
            "details": {
                "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1,
            },
            "code": 504,
        })
    );
}

#[test]
fn a_watch_from_ahead_sees_only_what_comes_after_its_version() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let watch = Request::new(Method::Get, CONFIG_MAPS)
        .query("watch", "true")
        .query("resourceVersion", "2");
    let mut feed = open_watch(&mut server, watch, NOW);
    for name in ["a", "b", "c"] {
        assert_eq!(create(&mut server, "default", name, "1"), 201);
    }
    let (frames, ended) = drain_feed(&mut feed);
    assert!(!ended);
    let versions: Vec<&str> = frames
        .iter()
        .map(|f| f["object"]["metadata"]["resourceVersion"].as_str().unwrap())
        .collect();
    assert_eq!(
        versions,
        ["3"],
        "changes 1 and 2 are before the watch's version"
    );

    // Asking for the initial events, it is kube-apiserver's 504, in the stream.
    let watch = Request::new(Method::Get, CONFIG_MAPS)
        .query("watch", "true")
        .query("sendInitialEvents", "true")
        .query("resourceVersion", "9");
    let mut feed = open_watch(&mut server, watch, NOW);
    let (frames, ended) = drain_feed(&mut feed);
    assert!(ended);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["type"], "ERROR");
    assert_eq!(frames[0]["object"]["code"], 504);
    assert_eq!(
        frames[0]["object"]["message"],
        "Timeout: Too large resource version: 9, current: 3"
    );
}

/// A server whose stored objects may hold `objects_bytes_max` bytes.
fn bounded(bytes_max: u64) -> ApiServer {
    ApiServer::bounded(ApiServerConfig::default(), MemoryBounds { bytes_max })
}

#[test]
fn a_write_past_the_byte_bound_is_507_and_a_delete_makes_room() {
    let bytes_max = MemoryBounds::BYTES_MAX_MIN;
    let bounds = MemoryBounds { bytes_max };
    let mut server = bounded(bytes_max);
    let big = "x".repeat(1 << 20);
    let mut stored = 0;
    let refused = loop {
        let code = create(&mut server, "default", &format!("big-{stored}"), &big);
        if code != 201 {
            break code;
        }
        stored += 1;
        assert!(stored < 100, "the bound never bit");
    };
    assert_eq!(refused, 507);
    // Half the bound for objects: 8 MiB, each object a little over 1 MiB.
    assert_eq!(bounds.objects_bytes_max(), 8 << 20);
    assert_eq!(stored, 7);
    let full = Request::new(Method::Post, CONFIG_MAPS).body(config_map("one-more", &big));
    let response = call(&mut server, full, NOW);
    assert_eq!(reason(&response), "InsufficientStorage");
    assert!(
        response.body.to_value()["message"]
            .as_str()
            .unwrap()
            .starts_with("etcdserver: mvcc: database space exceeded"),
        "{response:?}"
    );
    assert!(
        server.memory_bytes() <= bytes_max,
        "{}",
        server.memory_bytes()
    );
    // Reads still work, and a delete always goes through and makes room.
    let (code, _) = list(&mut server, CONFIG_MAPS, &[]);
    assert_eq!(code, 200);
    let delete = Request::new(Method::Delete, format!("{CONFIG_MAPS}/big-0"));
    assert_eq!(call(&mut server, delete, NOW).code, 200);
    assert_eq!(create(&mut server, "default", "one-more", &big), 201);
    assert!(
        server.memory_bytes() <= bytes_max,
        "{}",
        server.memory_bytes()
    );
}

#[test]
fn the_history_is_bounded_in_bytes_and_a_watch_from_before_it_expires() {
    let bytes_max = MemoryBounds::BYTES_MAX_MIN;
    let mut server = bounded(bytes_max);
    let big = "x".repeat(1 << 20);
    assert_eq!(create(&mut server, "default", "a", &big), 201);
    // Each update keeps the object before and after it in the history.
    for round in 0..20 {
        let update = Request::new(Method::Put, format!("{CONFIG_MAPS}/a"))
            .body(config_map("a", &format!("{round}{big}")));
        assert_eq!(call(&mut server, update, NOW).code, 200);
        assert!(
            server.memory_bytes() <= bytes_max,
            "{}",
            server.memory_bytes()
        );
    }
    let watch = Request::new(Method::Get, CONFIG_MAPS)
        .query("watch", "true")
        .query("resourceVersion", "1");
    let mut feed = open_watch(&mut server, watch, NOW);
    let (frames, ended) = drain_feed(&mut feed);
    assert!(ended);
    assert_eq!(frames[0]["object"]["reason"], "Expired", "{:?}", frames[0]);
}

#[test]
fn a_watcher_that_never_reads_is_ended_and_the_others_go_on() {
    let bytes_max = MemoryBounds::BYTES_MAX_MIN;
    let bounds = MemoryBounds { bytes_max };
    let mut server = bounded(bytes_max);
    let watch = || Request::new(Method::Get, CONFIG_MAPS).query("watch", "true");
    let mut stuck = open_watch(&mut server, watch(), NOW);
    let mut reader = open_watch(&mut server, watch(), NOW);
    let big = "x".repeat(1 << 19);
    let mut read = 0;
    for round in 0..40 {
        let name = format!("c-{round}");
        assert_eq!(create(&mut server, "default", &name, &big), 201);
        let delete = Request::new(Method::Delete, format!("{CONFIG_MAPS}/{name}"));
        assert_eq!(call(&mut server, delete, NOW).code, 200);
        let (frames, ended) = drain_feed(&mut reader);
        assert!(!ended, "the reader keeps its watch");
        read += frames.len();
        assert!(
            server.memory_bytes() <= bytes_max,
            "{}",
            server.memory_bytes()
        );
    }
    assert_eq!(read, 80, "the reader saw every change");
    let (frames, ended) = drain_feed(&mut stuck);
    assert!(ended, "the watcher that never read was ended");
    let queued_max = bounds.watch_queues_bytes_max() >> 19;
    assert!(
        (frames.len() as u64) < queued_max,
        "its queue was dropped, not kept: {} frames",
        frames.len()
    );
    assert_eq!(server.watch_count(), 1);
}

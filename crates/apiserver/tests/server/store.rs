//! Create, get, list, update and delete: versions, metadata, conflicts, errors.

use std::time::Duration;

use serde_json::json;
use stallsim_apiserver::{pod_resource, ApiServer, ApiServerConfig, InProcessTransport};
use stallsim_client::{ApiClient, ApiError, ListParams, Method, Request, ResourceRef, RestClient};

use crate::support::{call, client, deployments, object, path_of, reason, run, rv, shared};

#[test]
fn resource_versions_strictly_increase_and_list_carries_the_current_one() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        let pods = pod_resource();
        let mut last = server.borrow().resource_version();
        assert_eq!(last, 0);
        for (ns, name) in [("b", "p2"), ("a", "p9"), ("a", "p1"), ("b", "p0")] {
            let created = api
                .create(&pods, &object(&pods, Some(ns), name, &[]))
                .await
                .unwrap();
            assert!(rv(&created) > last, "create must bump the version");
            last = rv(&created);
        }
        let mut fetched = api.get(&pods, Some("a"), "p1").await.unwrap();
        fetched.data["spec"]["n"] = json!(1);
        let updated = api.update(&pods, &fetched).await.unwrap();
        assert!(rv(&updated) > last);
        last = rv(&updated);
        api.delete(&pods, Some("b"), "p0").await.unwrap();
        assert!(server.borrow().resource_version() > last);

        let list = api.list(&pods, &ListParams::default()).await.unwrap();
        let current = server.borrow().resource_version();
        assert_eq!(list.metadata.resource_version, Some(current.to_string()));
        let names: Vec<String> = list.items.iter().map(path_of).collect();
        assert_eq!(
            names,
            ["a/p1", "a/p9", "b/p2"],
            "sorted by namespace, then name"
        );
        for item in &list.items {
            let types = item.types.as_ref().expect("apiVersion and kind");
            assert_eq!(
                (types.api_version.as_str(), types.kind.as_str()),
                ("v1", "Pod")
            );
        }
        let in_a = ListParams {
            namespace: Some("a".to_string()),
            ..ListParams::default()
        };
        assert_eq!(api.list(&pods, &in_a).await.unwrap().items.len(), 2);
    });
}

#[test]
fn a_list_is_a_kind_list_document() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let pods = pod_resource();
    let body = serde_json::to_value(object(&pods, Some("a"), "p", &[])).unwrap();
    let created = call(
        &mut server,
        Request::new(Method::Post, pods.collection_path(Some("a"))).body(body),
        Duration::ZERO,
    );
    assert_eq!(created.code, 201);
    let list = call(
        &mut server,
        Request::new(Method::Get, "/api/v1/pods"),
        Duration::ZERO,
    );
    assert_eq!(list.code, 200);
    assert_eq!(list.body.to_value()["kind"], "PodList");
    assert_eq!(list.body.to_value()["apiVersion"], "v1");
    assert_eq!(list.body.to_value()["metadata"]["resourceVersion"], "1");
    assert_eq!(
        list.body.to_value()["items"][0]["metadata"]["resourceVersion"],
        "1"
    );
}

#[test]
fn create_sets_uid_timestamp_and_generation_and_updates_keep_them() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let pods = deployments();
    let post = |name: &str| {
        let body = serde_json::to_value(object(&pods, Some("a"), name, &[])).unwrap();
        Request::new(Method::Post, pods.collection_path(Some("a"))).body(body)
    };
    call(&mut server, post("first"), Duration::from_secs(1));
    let created = call(&mut server, post("second"), Duration::from_millis(90_700))
        .body
        .to_value();
    let metadata = &created["metadata"];
    assert_eq!(metadata["uid"], "uid-2");
    assert_eq!(metadata["creationTimestamp"], "2025-04-01T00:01:30Z");
    assert_eq!(metadata["generation"], 1);

    let put = |body: serde_json::Value| {
        Request::new(Method::Put, pods.object_path(Some("a"), "second")).body(body)
    };
    let mut relabelled = created.clone();
    relabelled["metadata"]["labels"] = json!({"tier": "x"});
    relabelled["metadata"]["uid"] = json!("forged");
    let after_labels = call(&mut server, put(relabelled), Duration::from_secs(100))
        .body
        .to_value();
    assert_eq!(after_labels["metadata"]["generation"], 1, "metadata only");
    assert_eq!(after_labels["metadata"]["uid"], "uid-2");
    assert_eq!(
        after_labels["metadata"]["creationTimestamp"],
        "2025-04-01T00:01:30Z"
    );

    let mut respecced = after_labels.clone();
    respecced["spec"]["n"] = json!(7);
    let after_spec = call(&mut server, put(respecced), Duration::from_secs(101))
        .body
        .to_value();
    assert_eq!(after_spec["metadata"]["generation"], 2);
}

#[test]
fn duplicate_create_is_already_exists() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        let pods = pod_resource();
        let pod = object(&pods, Some("a"), "p", &[]);
        api.create(&pods, &pod).await.unwrap();
        let version = server.borrow().resource_version();
        let error = api.create(&pods, &pod).await.unwrap_err();
        assert!(matches!(error, ApiError::AlreadyExists(_)), "{error:?}");
        assert_eq!(
            server.borrow().resource_version(),
            version,
            "no bump on failure"
        );
        // The same name in another namespace is another object.
        api.create(&pods, &object(&pods, Some("b"), "p", &[]))
            .await
            .unwrap();
    });
    let mut server = ApiServer::new(ApiServerConfig::default());
    let pods = pod_resource();
    let body = serde_json::to_value(object(&pods, Some("a"), "p", &[])).unwrap();
    let post = Request::new(Method::Post, pods.collection_path(Some("a"))).body(body);
    call(&mut server, post.clone(), Duration::ZERO);
    let answer = call(&mut server, post, Duration::ZERO);
    assert_eq!(
        (answer.code, reason(&answer).as_str()),
        (409, "AlreadyExists")
    );
    assert_eq!(answer.body.to_value()["kind"], "Status");
}

#[test]
fn stale_update_is_conflict_and_an_empty_version_is_unconditional() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        let pods = deployments();
        let created = api
            .create(&pods, &object(&pods, Some("a"), "p", &[]))
            .await
            .unwrap();
        let mut first = created.clone();
        first.data["spec"]["n"] = json!(1);
        api.update(&pods, &first).await.unwrap();

        let mut stale = created.clone();
        stale.data["spec"]["n"] = json!(2);
        let error = api.update(&pods, &stale).await.unwrap_err();
        assert!(matches!(error, ApiError::Conflict(_)), "{error:?}");

        let mut blind = created.clone();
        blind.metadata.resource_version = None;
        blind.data["spec"]["n"] = json!(3);
        let forced = api.update(&pods, &blind).await.unwrap();
        assert_eq!(forced.data["spec"]["n"], 3);
        assert_eq!(rv(&forced), server.borrow().resource_version());
    });
    let mut server = ApiServer::new(ApiServerConfig::default());
    let pods = pod_resource();
    let body = serde_json::to_value(object(&pods, Some("a"), "p", &[])).unwrap();
    call(
        &mut server,
        Request::new(Method::Post, pods.collection_path(Some("a"))).body(body.clone()),
        Duration::ZERO,
    );
    let mut stale = body;
    stale["metadata"]["resourceVersion"] = json!("999");
    let answer = call(
        &mut server,
        Request::new(Method::Put, pods.object_path(Some("a"), "p")).body(stale),
        Duration::ZERO,
    );
    assert_eq!((answer.code, reason(&answer).as_str()), (409, "Conflict"));
}

#[test]
fn missing_objects_are_not_found() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        let pods = pod_resource();
        let ghost = object(&pods, Some("a"), "ghost", &[]);
        for error in [
            api.get(&pods, Some("a"), "ghost").await.unwrap_err(),
            api.update(&pods, &ghost).await.unwrap_err(),
            api.delete(&pods, Some("a"), "ghost").await.unwrap_err(),
        ] {
            assert!(error.is_not_found(), "{error:?}");
        }
        api.create(&pods, &ghost).await.unwrap();
        api.delete(&pods, Some("a"), "ghost").await.unwrap();
        assert!(api
            .get(&pods, Some("a"), "ghost")
            .await
            .unwrap_err()
            .is_not_found());
        assert_eq!(server.borrow().resource_version(), 2);
    });
}

#[test]
fn label_selectors_filter_lists() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        let pods = pod_resource();
        for (name, labels) in [
            ("a", &[("app", "grm"), ("tier", "x")][..]),
            ("b", &[("app", "grm")][..]),
            ("c", &[("app", "other"), ("tier", "x")][..]),
        ] {
            api.create(&pods, &object(&pods, Some("ns"), name, labels))
                .await
                .unwrap();
        }
        assert_eq!(selected(&api, "app=grm").await, ["ns/a", "ns/b"]);
        assert_eq!(selected(&api, "app=grm,tier=x").await, ["ns/a"]);
        assert_eq!(selected(&api, "tier").await, ["ns/a", "ns/c"]);
        assert_eq!(selected(&api, "app!=grm").await, ["ns/c"]);
        assert_eq!(selected(&api, "").await, ["ns/a", "ns/b", "ns/c"]);
        let bad = ListParams {
            namespace: None,
            label_selector: Some("app in (grm)".to_string()),
        };
        let error = api.list(&pods, &bad).await.unwrap_err();
        assert!(
            matches!(error, ApiError::Status { code: 400, .. }),
            "{error:?}"
        );
    });
}

async fn selected(api: &RestClient<InProcessTransport>, selector: &str) -> Vec<String> {
    let params = ListParams {
        namespace: None,
        label_selector: Some(selector.to_string()),
    };
    let list = api.list(&pod_resource(), &params).await.unwrap();
    list.items.iter().map(path_of).collect()
}

#[test]
fn namespaces_come_from_the_path_or_the_body() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let pods = pod_resource();
    let in_a = serde_json::to_value(object(&pods, Some("a"), "p", &[])).unwrap();
    let from_body = call(
        &mut server,
        Request::new(Method::Post, pods.collection_path(None)).body(in_a.clone()),
        Duration::ZERO,
    );
    assert_eq!(from_body.code, 201);
    assert_eq!(from_body.body.to_value()["metadata"]["namespace"], "a");

    let no_namespace = serde_json::to_value(object(&pods, None, "q", &[])).unwrap();
    let from_path = call(
        &mut server,
        Request::new(Method::Post, pods.collection_path(Some("b"))).body(no_namespace.clone()),
        Duration::ZERO,
    );
    assert_eq!(from_path.body.to_value()["metadata"]["namespace"], "b");

    let mismatch = call(
        &mut server,
        Request::new(Method::Post, pods.collection_path(Some("b"))).body(in_a),
        Duration::ZERO,
    );
    assert_eq!(mismatch.code, 400);
    let nowhere = call(
        &mut server,
        Request::new(Method::Post, pods.collection_path(None)).body(no_namespace),
        Duration::ZERO,
    );
    assert_eq!(nowhere.code, 400);

    let namespaces = ResourceRef::new("", "v1", "namespaces", "Namespace", false);
    let garden = serde_json::to_value(object(&namespaces, Some("ignored"), "garden", &[])).unwrap();
    let created = call(
        &mut server,
        Request::new(Method::Post, "/api/v1/namespaces").body(garden),
        Duration::ZERO,
    );
    assert_eq!(created.code, 201);
    assert!(created.body.to_value()["metadata"]
        .get("namespace")
        .is_none());
    let fetched = call(
        &mut server,
        Request::new(Method::Get, "/api/v1/namespaces/garden"),
        Duration::ZERO,
    );
    assert_eq!(fetched.body.to_value()["metadata"]["name"], "garden");
}

#[test]
fn unknown_paths_and_methods_fail_with_a_status() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let cases = [
        (Method::Get, "/apis/example.com/v1/widgets", 404, "NotFound"),
        (Method::Get, "/apis/example.com/v1", 404, "NotFound"),
        (Method::Get, "/metrics", 404, "NotFound"),
        (Method::Get, "/api/v1/pods/no-namespace", 404, "NotFound"),
        (
            Method::Get,
            "/api/v1/namespaces/a/namespaces",
            404,
            "NotFound",
        ),
        (Method::Delete, "/api/v1/pods", 405, "MethodNotAllowed"),
        (Method::Post, "/apis", 405, "MethodNotAllowed"),
        (Method::Post, "/api/v1/pods", 400, "BadRequest"),
    ];
    for (method, path, code, expected) in cases {
        let answer = call(&mut server, Request::new(method, path), Duration::ZERO);
        assert_eq!(
            (answer.code, reason(&answer).as_str()),
            (code, expected),
            "{method:?} {path}"
        );
        assert_eq!(answer.body.to_value()["kind"], "Status");
        assert_eq!(answer.body.to_value()["status"], "Failure");
    }
}

#[test]
fn a_pod_is_stored_as_its_type_and_fields_it_does_not_have_are_dropped() {
    // As kube-apiserver prunes unknown fields of a built-in kind; the
    // kinds kept as JSON (custom resources among them) keep every field.
    let mut server = ApiServer::new(ApiServerConfig::default());
    let pods = pod_resource();
    let pod = json!({
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i"}], "n": 1},
        "status": {"phase": "Running"},
    });
    let post = Request::new(Method::Post, pods.collection_path(Some("a"))).body(pod);
    let created = call(&mut server, post, Duration::ZERO);
    assert_eq!(created.code, 201);
    let created = created.body.to_value();
    assert_eq!(
        created["spec"],
        json!({"containers": [{"name": "c", "image": "i"}]})
    );
    assert_eq!(created["status"]["phase"], "Running");
    assert_eq!(created["kind"], "Pod");

    let wrong = json!({"metadata": {"name": "q"}, "spec": {"containers": "none"}});
    let post = Request::new(Method::Post, pods.collection_path(Some("a"))).body(wrong);
    let refused = call(&mut server, post, Duration::ZERO);
    assert_eq!(
        (refused.code, reason(&refused).as_str()),
        (400, "BadRequest")
    );
    let message = refused.body.to_value()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("Pod in version \"v1\" cannot be handled as a Pod: "),
        "{message}"
    );

    let deployments = deployments();
    let kept = json!({"metadata": {"name": "d"}, "spec": {"n": 1}, "extra": [true]});
    let post = Request::new(Method::Post, deployments.collection_path(Some("a"))).body(kept);
    let created = call(&mut server, post, Duration::ZERO).body.to_value();
    assert_eq!(
        (created["spec"].clone(), created["extra"].clone()),
        (json!({"n": 1}), json!([true]))
    );
}

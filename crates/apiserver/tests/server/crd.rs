//! CRDs: serving on create, the cascade on delete, lagging discovery, re-creation.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;
use stallsim_apiserver::{crd_resource, ApiServer, ApiServerConfig, CrdSpec};
use stallsim_client::{
    from_dynamic, to_dynamic, ApiClient, ListParams, Method, Request, WatchParams,
};

use crate::support::{call, client, drain_watch, object, reason, run, rv, shared};

#[test]
fn crd_spec_names_its_crd_and_resource() {
    let prometheus = CrdSpec::prometheus();
    assert_eq!(prometheus.name(), "prometheuses.monitoring.coreos.com");
    let resource = prometheus.resource();
    assert_eq!(
        (
            resource.api_version(),
            resource.kind.as_str(),
            resource.plural.as_str(),
            resource.namespaced
        ),
        (
            "monitoring.coreos.com/v1".to_string(),
            "Prometheus",
            "prometheuses",
            true
        )
    );
    assert_eq!(
        CrdSpec::alertmanager().name(),
        "alertmanagers.monitoring.coreos.com"
    );
    let crd = prometheus.to_crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("prometheuses.monitoring.coreos.com")
    );
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.versions.len(), 1);
    assert!(crd.spec.versions[0].served && crd.spec.versions[0].storage);
}

#[test]
fn a_created_crd_is_served_at_once_and_established() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        let prometheus = CrdSpec::prometheus();
        let resource = prometheus.resource();
        assert!(api
            .list(&resource, &ListParams::default())
            .await
            .unwrap_err()
            .is_not_found());
        let created = api
            .create(&crd_resource(), &to_dynamic(&prometheus.to_crd()).unwrap())
            .await
            .unwrap();
        let crd: CustomResourceDefinition = from_dynamic(&created).unwrap();
        let status = crd.status.expect("status");
        let conditions = status.conditions.unwrap_or_default();
        assert!(conditions
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True"));
        assert_eq!(status.stored_versions, Some(vec!["v1".to_string()]));

        let list = api.list(&resource, &ListParams::default()).await.unwrap();
        assert!(list.items.is_empty());
        assert_eq!(list.types.kind, "PrometheusList");
        let made = api
            .create(&resource, &object(&resource, Some("garden"), "p", &[]))
            .await
            .unwrap();
        assert_eq!(rv(&made), server.borrow().resource_version());
    });
}

#[test]
fn an_invalid_crd_is_refused() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let mut misnamed = CrdSpec::prometheus().to_crd();
    misnamed.metadata.name = Some("wrong.example.com".to_string());
    let shadowing = CrdSpec {
        group: "coordination.k8s.io".to_string(),
        version: "v2".to_string(),
        kind: "Lease".to_string(),
        plural: "leases".to_string(),
        namespaced: true,
    }
    .to_crd();
    let mut unserved = CrdSpec::alertmanager().to_crd();
    unserved.spec.versions[0].served = false;
    for crd in [misnamed, shadowing, unserved] {
        let body = serde_json::to_value(&crd).unwrap();
        let answer = call(
            &mut server,
            Request::new(Method::Post, crd_resource().collection_path(None)).body(body),
            Duration::ZERO,
        );
        assert_eq!(
            (answer.code, reason(&answer)),
            (422, "Invalid"),
            "{:?}",
            crd.metadata.name
        );
    }
    assert_eq!(server.resource_version(), 0);
}

#[test]
fn install_crd_serves_once() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    server.install_crd(&CrdSpec::prometheus(), Duration::from_secs(5));
    assert_eq!(server.resource_version(), 1);
    server.install_crd(&CrdSpec::prometheus(), Duration::from_secs(6));
    assert_eq!(
        server.resource_version(),
        1,
        "a second install changes nothing"
    );
    let crd = call(
        &mut server,
        Request::new(
            Method::Get,
            crd_resource().object_path(None, "prometheuses.monitoring.coreos.com"),
        ),
        Duration::from_secs(7),
    );
    assert_eq!(crd.code, 200);
    assert_eq!(
        crd.body["metadata"]["creationTimestamp"],
        "2025-04-01T00:00:05Z"
    );
    assert_eq!(crd.body["kind"], "CustomResourceDefinition");
}

#[test]
fn deleting_a_crd_removes_its_objects_ends_its_watches_and_answers_not_found() {
    run(async {
        let server = shared(ApiServerConfig::default());
        server
            .borrow_mut()
            .install_crd(&CrdSpec::prometheus(), Duration::ZERO);
        let api = client(&server);
        let prometheus = CrdSpec::prometheus().resource();
        for name in ["b", "a"] {
            api.create(&prometheus, &object(&prometheus, Some("shoot"), name, &[]))
                .await
                .unwrap();
        }
        let since = server.borrow().resource_version().to_string();
        let from_now = WatchParams {
            resource_version: since,
            ..WatchParams::default()
        };
        let mut custom_watch = api.watch(&prometheus, &from_now).await.unwrap();
        let mut crd_watch = api.watch(&crd_resource(), &from_now).await.unwrap();

        api.delete(&crd_resource(), None, "prometheuses.monitoring.coreos.com")
            .await
            .unwrap();

        let (events, ended) = drain_watch(&mut custom_watch).await;
        assert!(ended, "a watch on a deleted CRD's resource ends");
        assert_eq!(
            events,
            [
                ("DELETED".to_string(), "shoot/a".to_string(), 4),
                ("DELETED".to_string(), "shoot/b".to_string(), 5),
            ]
        );
        let (events, ended) = drain_watch(&mut crd_watch).await;
        assert_eq!(
            (events, ended),
            (
                vec![(
                    "DELETED".to_string(),
                    "/prometheuses.monitoring.coreos.com".to_string(),
                    6
                )],
                false
            )
        );
        assert_eq!(server.borrow().resource_version(), 6);

        let errors = [
            api.list(&prometheus, &ListParams::default())
                .await
                .unwrap_err(),
            api.watch(&prometheus, &WatchParams::default())
                .await
                .err()
                .unwrap(),
            api.get(&prometheus, Some("shoot"), "a").await.unwrap_err(),
            api.create(&prometheus, &object(&prometheus, Some("shoot"), "c", &[]))
                .await
                .unwrap_err(),
            api.get(&crd_resource(), None, "prometheuses.monitoring.coreos.com")
                .await
                .unwrap_err(),
        ];
        for error in errors {
            assert!(error.is_not_found(), "{error:?}");
        }
    });
    let mut server = ApiServer::new(ApiServerConfig::default());
    server.install_crd(&CrdSpec::prometheus(), Duration::ZERO);
    call(
        &mut server,
        Request::new(
            Method::Delete,
            crd_resource().object_path(None, "prometheuses.monitoring.coreos.com"),
        ),
        Duration::ZERO,
    );
    let answer = call(
        &mut server,
        Request::new(Method::Get, "/apis/monitoring.coreos.com/v1/prometheuses"),
        Duration::ZERO,
    );
    assert_eq!(answer.code, 404);
    assert_eq!(answer.body["kind"], "Status");
    assert_eq!(reason(&answer), "NotFound");
}

/// The resource names `/apis/{group_version}` lists at `now`, or `None` on a 404.
fn listed(server: &mut ApiServer, group_version: &str, now: Duration) -> Option<Vec<String>> {
    let answer = call(
        server,
        Request::new(Method::Get, format!("/apis/{group_version}")),
        now,
    );
    if answer.code == 404 {
        return None;
    }
    let names = answer.body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    Some(names)
}

fn groups(server: &mut ApiServer, now: Duration) -> Vec<String> {
    let answer = call(server, Request::new(Method::Get, "/apis"), now);
    answer.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn discovery_drops_a_deleted_resource_only_after_the_lag() {
    let mut server = ApiServer::new(ApiServerConfig {
        discovery_lag: Duration::from_secs(2),
        ..ApiServerConfig::default()
    });
    let at = Duration::from_secs;
    server.install_crd(&CrdSpec::prometheus(), at(0));
    server.install_crd(&CrdSpec::alertmanager(), at(0));
    let gv = "monitoring.coreos.com/v1";
    let both = Some(vec![
        "alertmanagers".to_string(),
        "prometheuses".to_string(),
    ]);
    assert_eq!(listed(&mut server, gv, at(1)), both);

    let delete = |name: &str| Request::new(Method::Delete, crd_resource().object_path(None, name));
    call(
        &mut server,
        delete("prometheuses.monitoring.coreos.com"),
        at(10),
    );
    assert_eq!(
        listed(&mut server, gv, at(10)),
        both,
        "still listed at once"
    );
    assert_eq!(
        listed(&mut server, gv, Duration::from_millis(11_999)),
        both,
        "still listed just before the lag"
    );
    assert_eq!(
        listed(&mut server, gv, at(12)),
        Some(vec!["alertmanagers".to_string()]),
        "dropped at deletion + lag"
    );

    call(
        &mut server,
        delete("alertmanagers.monitoring.coreos.com"),
        at(20),
    );
    assert!(groups(&mut server, at(21)).contains(&"monitoring.coreos.com".to_string()));
    assert!(listed(&mut server, gv, at(21)).is_some());
    assert_eq!(
        listed(&mut server, gv, at(22)),
        None,
        "nothing served there any more"
    );
    assert!(!groups(&mut server, at(22)).contains(&"monitoring.coreos.com".to_string()));
}

#[test]
fn a_recreated_crd_is_served_again() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        let spec = CrdSpec::prometheus();
        let resource = spec.resource();
        let crd = to_dynamic(&spec.to_crd()).unwrap();
        api.create(&crd_resource(), &crd).await.unwrap();
        api.create(&resource, &object(&resource, Some("shoot"), "old", &[]))
            .await
            .unwrap();
        api.delete(&crd_resource(), None, &spec.name())
            .await
            .unwrap();
        assert!(api
            .list(&resource, &ListParams::default())
            .await
            .unwrap_err()
            .is_not_found());

        let recreated = api.create(&crd_resource(), &crd).await.unwrap();
        assert_eq!(
            recreated.metadata.uid.as_deref(),
            Some("uid-3"),
            "a new object"
        );
        let list = api.list(&resource, &ListParams::default()).await.unwrap();
        assert!(list.items.is_empty(), "the old objects stay deleted");
        let mut watch = api.watch(&resource, &WatchParams::default()).await.unwrap();
        let made = api
            .create(&resource, &object(&resource, Some("shoot"), "new", &[]))
            .await
            .unwrap();
        let (events, _) = drain_watch(&mut watch).await;
        assert_eq!(
            events,
            [("ADDED".to_string(), "shoot/new".to_string(), rv(&made))]
        );
        let resources = api
            .server_resources("monitoring.coreos.com/v1")
            .await
            .unwrap();
        assert_eq!(resources.resources[0].name, "prometheuses");
    });
}

#[test]
fn a_crd_deletion_is_visible_to_watchers_in_version_order() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    server.install_crd(&CrdSpec::prometheus(), Duration::ZERO);
    let resource = CrdSpec::prometheus().resource();
    let body = serde_json::to_value(object(&resource, Some("s"), "p", &[])).unwrap();
    call(
        &mut server,
        Request::new(Method::Post, resource.collection_path(Some("s"))).body(body),
        Duration::ZERO,
    );
    let deleted = call(
        &mut server,
        Request::new(
            Method::Delete,
            crd_resource().object_path(None, &CrdSpec::prometheus().name()),
        ),
        Duration::ZERO,
    );
    assert_eq!(deleted.code, 200);
    assert_eq!(deleted.body["metadata"]["resourceVersion"], "4");
    // A watch from before the deletion, opened after it, replays it from history.
    let crds = call(
        &mut server,
        Request::new(Method::Get, crd_resource().collection_path(None)),
        Duration::ZERO,
    );
    assert_eq!(crds.body["items"], Value::Array(Vec::new()));
    let mut feed = crate::support::open_watch(
        &mut server,
        Request::new(Method::Get, crd_resource().collection_path(None))
            .query("watch", "true")
            .query("resourceVersion", "1"),
        Duration::ZERO,
    );
    let (frames, _) = crate::support::drain_feed(&mut feed);
    let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["DELETED"]);
}

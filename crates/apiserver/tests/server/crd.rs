//! CRDs: serving on create; deletion through Terminating, instance cleanup,
//! removal from serving and lagging discovery; re-creation.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;
use stallsim_apiserver::{crd_resource, ApiServer, ApiServerConfig, CrdSpec, Reply, WatchFeed};
use stallsim_client::{
    from_dynamic, to_dynamic, ApiClient, ListParams, Method, Request, ResourceRef, WatchParams,
    WatchStream,
};
use tokio::time::Instant;

use crate::support::{
    call, client, drain_feed, drain_watch, object, open_watch, reason, run, run_paused, rv, seen,
    shared,
};

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
        status_subresource: false,
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
            (answer.code, reason(&answer).as_str()),
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
        crd.body.to_value()["metadata"]["creationTimestamp"],
        "2025-04-01T00:00:05Z"
    );
    assert_eq!(crd.body.to_value()["kind"], "CustomResourceDefinition");
}

// The deletion of a CRD, as a real API server takes it: marked and
// Terminating while its finalizer deletes the instances, then removed, then
// no longer served, its watches ended, and dropped from discovery.

const PROMETHEUSES: &str = "prometheuses.monitoring.coreos.com";

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Lags far enough apart that each step of a deletion has its own instant:
/// with a DELETE at 10s and three instances, the finalizer starts at 11s,
/// deletes one instance at 11.1s, 11.2s and 11.3s and the CRD with the
/// last; serving ends at 13.3s, watches at 16.3s, discovery at 15.3s.
fn staged() -> ApiServerConfig {
    ApiServerConfig {
        crd_finalizer_delay: ms(1000),
        instance_deletion_cost: ms(100),
        serving_removal_lag: ms(2000),
        watch_teardown_delay: ms(3000),
        discovery_lag: ms(4000),
        ..ApiServerConfig::default()
    }
}

/// Every lag of a deletion zero: the CRD is gone by the next request.
fn instant() -> ApiServerConfig {
    ApiServerConfig {
        crd_finalizer_delay: Duration::ZERO,
        instance_deletion_cost: Duration::ZERO,
        serving_removal_lag: Duration::ZERO,
        watch_teardown_delay: Duration::ZERO,
        discovery_lag: Duration::ZERO,
        ..ApiServerConfig::default()
    }
}

fn get(path: impl Into<String>) -> Request {
    Request::new(Method::Get, path)
}

fn delete_crd(name: &str) -> Request {
    Request::new(Method::Delete, crd_resource().object_path(None, name))
}

fn get_crd(name: &str) -> Request {
    get(crd_resource().object_path(None, name))
}

fn create(resource: &ResourceRef, namespace: &str, name: &str) -> Request {
    let body = serde_json::to_value(object(resource, Some(namespace), name, &[])).unwrap();
    Request::new(Method::Post, resource.collection_path(Some(namespace))).body(body)
}

fn watch_from(resource: &ResourceRef, resource_version: u64) -> Request {
    get(resource.collection_path(None))
        .query("watch", "true")
        .query("resourceVersion", resource_version.to_string())
}

/// The names of the items a LIST answers, or its failing code.
fn list_names(
    server: &mut ApiServer,
    resource: &ResourceRef,
    now: Duration,
) -> Result<Vec<String>, u16> {
    let answer = call(server, get(resource.collection_path(None)), now);
    if answer.code != 200 {
        return Err(answer.code);
    }
    Ok(answer.body.to_value()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let meta = &item["metadata"];
            format!(
                "{}/{}",
                meta["namespace"].as_str().unwrap_or_default(),
                meta["name"].as_str().unwrap()
            )
        })
        .collect())
}

/// Frames as (type, namespace/name, resourceVersion).
fn frames_of(frames: &[Value]) -> Vec<(String, String, u64)> {
    frames
        .iter()
        .map(|f| {
            let meta = &f["object"]["metadata"];
            (
                f["type"].as_str().unwrap().to_string(),
                format!(
                    "{}/{}",
                    meta["namespace"].as_str().unwrap_or_default(),
                    meta["name"].as_str().unwrap_or_default()
                ),
                meta["resourceVersion"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn frame(kind: &str, path: &str, version: u64) -> (String, String, u64) {
    (kind.to_string(), path.to_string(), version)
}

/// A server serving Prometheus with three instances (versions 2 to 4),
/// and watches on Prometheus and on CRDs from version 4.
fn prometheus_with_instances(config: ApiServerConfig) -> (ApiServer, WatchFeed, WatchFeed) {
    let mut server = ApiServer::new(config);
    server.install_crd(&CrdSpec::prometheus(), Duration::ZERO);
    let resource = CrdSpec::prometheus().resource();
    for (namespace, name) in [("shoot", "c"), ("shoot", "a"), ("garden", "b")] {
        let answer = call(
            &mut server,
            create(&resource, namespace, name),
            Duration::ZERO,
        );
        assert_eq!(answer.code, 201);
    }
    assert_eq!(server.resource_version(), 4);
    let instances = open_watch(&mut server, watch_from(&resource, 4), Duration::ZERO);
    let crds = open_watch(&mut server, watch_from(&crd_resource(), 4), Duration::ZERO);
    (server, instances, crds)
}

/// The `Terminating` condition of a CRD object: (status, reason, lastTransitionTime).
fn terminating(crd: &CustomResourceDefinition) -> Option<(String, String, String)> {
    let conditions = crd.status.as_ref()?.conditions.as_ref()?;
    let condition = conditions.iter().find(|c| c.type_ == "Terminating")?;
    Some((
        condition.status.clone(),
        condition.reason.clone().unwrap_or_default(),
        condition
            .last_transition_time
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_default(),
    ))
}

fn crd_of(body: &Value) -> CustomResourceDefinition {
    serde_json::from_value(body.clone()).unwrap()
}

#[test]
fn a_deleted_crd_is_marked_terminating_and_still_served() {
    let (mut server, _instances, _crds) = prometheus_with_instances(staged());
    let resource = CrdSpec::prometheus().resource();

    let deleted = call(&mut server, delete_crd(PROMETHEUSES), ms(10_000));
    assert_eq!(deleted.code, 200, "the DELETE answers the marked CRD");
    assert_eq!(deleted.body.to_value()["metadata"]["resourceVersion"], "5");
    for answer in [
        deleted,
        call(&mut server, get_crd(PROMETHEUSES), ms(10_500)),
    ] {
        let crd = crd_of(&answer.body.to_value());
        assert_eq!(
            crd.metadata
                .deletion_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
            Some("2025-04-01T00:00:10Z".to_string())
        );
        assert_eq!(
            crd.metadata.finalizers,
            Some(vec![
                "customresourcecleanup.apiextensions.k8s.io".to_string()
            ])
        );
        assert_eq!(
            terminating(&crd),
            Some((
                "True".to_string(),
                "InstanceDeletionPending".to_string(),
                "2025-04-01T00:00:10Z".to_string()
            ))
        );
        let established = crd.status.unwrap().conditions.unwrap();
        assert!(established
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True"));
    }

    assert_eq!(
        list_names(&mut server, &resource, ms(10_500)),
        Ok(vec![
            "garden/b".to_string(),
            "shoot/a".to_string(),
            "shoot/c".to_string()
        ]),
        "LIST is still served while the CRD terminates"
    );
    let one = call(
        &mut server,
        get(resource.object_path(Some("shoot"), "a")),
        ms(10_500),
    );
    assert_eq!(one.code, 200);
    let watch = server.handle(watch_from(&resource, 0), ms(10_500));
    assert!(matches!(watch, Reply::Watch(_)), "WATCH is still served");

    let monitoring = call(
        &mut server,
        get("/apis/monitoring.coreos.com/v1"),
        ms(10_500),
    );
    let listed: Vec<(String, Vec<String>)> = monitoring.body.to_value()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let verbs = r["verbs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string());
            (r["name"].as_str().unwrap().to_string(), verbs.collect())
        })
        .collect();
    assert_eq!(
        listed,
        [(
            "prometheuses".to_string(),
            ["delete", "get", "list", "watch"]
                .map(String::from)
                .to_vec()
        )],
        "discovery lists it, without the verbs that write"
    );

    let again = call(&mut server, delete_crd(PROMETHEUSES), ms(10_600));
    assert_eq!(
        (
            again.code,
            &again.body.to_value()["metadata"]["resourceVersion"]
        ),
        (200, &Value::from("5")),
        "a second DELETE changes nothing"
    );
}

#[test]
fn the_finalizer_deletes_the_instances_then_the_crd() {
    let (mut server, mut instances, mut crds) = prometheus_with_instances(staged());
    let resource = CrdSpec::prometheus().resource();
    call(&mut server, delete_crd(PROMETHEUSES), ms(10_000));

    server.advance(ms(10_999));
    assert_eq!(
        drain_feed(&mut instances),
        (vec![], false),
        "nothing before the finalizer starts"
    );
    server.advance(ms(11_000));
    let in_progress = call(&mut server, get_crd(PROMETHEUSES), ms(11_050));
    assert_eq!(
        terminating(&crd_of(&in_progress.body.to_value())),
        Some((
            "True".to_string(),
            "InstanceDeletionInProgress".to_string(),
            "2025-04-01T00:00:10Z".to_string()
        )),
        "the finalizer says so; the condition's status did not change"
    );
    assert_eq!(
        list_names(&mut server, &resource, ms(11_050)).map(|n| n.len()),
        Ok(3)
    );

    // One instance every instance_deletion_cost, in LIST order.
    assert_eq!(
        list_names(&mut server, &resource, ms(11_100)),
        Ok(vec!["shoot/a".to_string(), "shoot/c".to_string()])
    );
    assert_eq!(
        list_names(&mut server, &resource, ms(11_299)),
        Ok(vec!["shoot/c".to_string()])
    );
    assert_eq!(
        call(&mut server, get_crd(PROMETHEUSES), ms(11_299)).code,
        200
    );

    // The last instance and the CRD object go together.
    assert_eq!(
        list_names(&mut server, &resource, ms(11_300)),
        Ok(vec![]),
        "still served, empty"
    );
    assert_eq!(
        call(&mut server, get_crd(PROMETHEUSES), ms(11_300)).code,
        404
    );

    let (frames, ended) = drain_feed(&mut instances);
    assert_eq!(
        frames_of(&frames),
        [
            frame("DELETED", "garden/b", 7),
            frame("DELETED", "shoot/a", 8),
            frame("DELETED", "shoot/c", 9)
        ]
    );
    assert!(!ended, "the watch lasts until the storage is torn down");
    let (frames, _) = drain_feed(&mut crds);
    assert_eq!(
        frames_of(&frames),
        [
            frame("MODIFIED", "/prometheuses.monitoring.coreos.com", 5),
            frame("MODIFIED", "/prometheuses.monitoring.coreos.com", 6),
            frame("DELETED", "/prometheuses.monitoring.coreos.com", 10),
        ]
    );
    let gone = crd_of(&frames[2]["object"]);
    assert_eq!(
        terminating(&gone).map(|t| t.1),
        Some("InstanceDeletionInProgress".to_string()),
        "the DELETED event carries the CRD as last stored"
    );
}

#[test]
fn creates_are_refused_while_a_crd_terminates() {
    let (mut server, _instances, _crds) = prometheus_with_instances(staged());
    let resource = CrdSpec::prometheus().resource();
    call(&mut server, delete_crd(PROMETHEUSES), ms(10_000));

    let refused = call(&mut server, create(&resource, "shoot", "new"), ms(10_500));
    assert_eq!(
        (refused.code, reason(&refused).as_str()),
        (403, "Forbidden")
    );
    assert_eq!(
        refused.body.to_value()["message"],
        "prometheuses.monitoring.coreos.com \"new\" is forbidden: \
         create not allowed while custom resource definition is terminating"
    );
    // As upstream, only creates are refused: an update goes through.
    let mut a = call(
        &mut server,
        get(resource.object_path(Some("shoot"), "a")),
        ms(10_500),
    )
    .body
    .to_value();
    a["spec"]["n"] = Value::from(1);
    let put = Request::new(Method::Put, resource.object_path(Some("shoot"), "a")).body(a);
    assert_eq!(call(&mut server, put, ms(10_500)).code, 200);

    let again = serde_json::to_value(CrdSpec::prometheus().to_crd()).unwrap();
    let recreate = Request::new(Method::Post, crd_resource().collection_path(None)).body(again);
    let answer = call(&mut server, recreate, ms(10_500));
    assert_eq!(
        (answer.code, reason(&answer).as_str()),
        (409, "AlreadyExists"),
        "the CRD object is still there"
    );

    // Removed at 11.3s but served until 13.3s: still terminating.
    let refused = call(&mut server, create(&resource, "shoot", "new"), ms(12_000));
    assert_eq!(refused.code, 403);
    assert_eq!(server.resource_version(), 11, "refusals change nothing");
}

#[test]
fn a_removed_crd_answers_not_found_and_its_watches_end_after_teardown() {
    let (mut server, mut instances, _crds) = prometheus_with_instances(staged());
    let resource = CrdSpec::prometheus().resource();
    call(&mut server, delete_crd(PROMETHEUSES), ms(10_000));

    assert_eq!(list_names(&mut server, &resource, ms(13_299)), Ok(vec![]));
    let requests = [
        get(resource.collection_path(None)),
        watch_from(&resource, 0),
        get(resource.object_path(Some("shoot"), "a")),
        create(&resource, "shoot", "new"),
    ];
    for request in requests {
        let answer = call(&mut server, request, ms(13_300));
        assert_eq!((answer.code, reason(&answer).as_str()), (404, "NotFound"));
    }

    server.advance(ms(16_299));
    let (frames, ended) = drain_feed(&mut instances);
    assert_eq!((frames.len(), ended), (3, false), "open until teardown");
    server.advance(ms(16_300));
    assert_eq!(
        drain_feed(&mut instances),
        (vec![], true),
        "ended by the teardown"
    );
    assert_eq!(server.next_due(), None);
}

#[test]
fn a_crd_without_instances_goes_quickly() {
    let config = ApiServerConfig::default();
    let mut server = ApiServer::new(config.clone());
    server.install_crd(&CrdSpec::prometheus(), Duration::ZERO);
    let resource = CrdSpec::prometheus().resource();
    let deleted_at = ms(60_000);
    call(&mut server, delete_crd(PROMETHEUSES), deleted_at);
    assert_eq!(
        server.next_due(),
        Some(deleted_at + config.crd_finalizer_delay)
    );

    let removed_at = deleted_at + config.crd_finalizer_delay;
    let just_before = |at: Duration| at - ms(1);
    assert_eq!(
        call(&mut server, get_crd(PROMETHEUSES), just_before(removed_at)).code,
        200
    );
    assert_eq!(
        call(&mut server, get_crd(PROMETHEUSES), removed_at).code,
        404,
        "no instance to wait for"
    );

    let unserved_at = removed_at + config.serving_removal_lag;
    assert_eq!(
        list_names(&mut server, &resource, just_before(unserved_at)),
        Ok(vec![])
    );
    assert_eq!(list_names(&mut server, &resource, unserved_at), Err(404));
    assert!(
        unserved_at - deleted_at <= ms(250),
        "404 a few hundred milliseconds after the DELETE, not {:?}",
        unserved_at - deleted_at
    );
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
    let names = answer.body.to_value()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    Some(names)
}

fn groups(server: &mut ApiServer, now: Duration) -> Vec<String> {
    let answer = call(server, Request::new(Method::Get, "/apis"), now);
    answer.body.to_value()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn discovery_lists_a_deleted_resource_until_its_removal_and_the_lag() {
    let (mut server, _instances, _crds) = prometheus_with_instances(staged());
    server.install_crd(&CrdSpec::alertmanager(), Duration::ZERO);
    let gv = "monitoring.coreos.com/v1";
    let both = Some(vec![
        "alertmanagers".to_string(),
        "prometheuses".to_string(),
    ]);
    assert_eq!(listed(&mut server, gv, ms(1_000)), both);

    call(&mut server, delete_crd(PROMETHEUSES), ms(10_000));
    assert_eq!(
        listed(&mut server, gv, ms(10_000)),
        both,
        "listed while terminating"
    );
    assert_eq!(
        listed(&mut server, gv, ms(13_300)),
        both,
        "listed after it stopped being served"
    );
    assert_eq!(
        listed(&mut server, gv, ms(15_299)),
        both,
        "listed until removal (11.3s) + lag (4s)"
    );
    assert_eq!(
        listed(&mut server, gv, ms(15_300)),
        Some(vec!["alertmanagers".to_string()]),
        "dropped at removal + lag"
    );

    call(
        &mut server,
        delete_crd("alertmanagers.monitoring.coreos.com"),
        ms(20_000),
    );
    // No instances: removed at 21s, dropped from discovery at 25s.
    assert!(groups(&mut server, ms(24_999)).contains(&"monitoring.coreos.com".to_string()));
    assert!(listed(&mut server, gv, ms(24_999)).is_some());
    assert_eq!(
        listed(&mut server, gv, ms(25_000)),
        None,
        "nothing served there any more"
    );
    assert!(!groups(&mut server, ms(25_000)).contains(&"monitoring.coreos.com".to_string()));
}

/// Serves Prometheus and creates one object of it, `shoot/old`.
async fn prometheus_with_one_object(
    api: &stallsim_client::RestClient<stallsim_apiserver::InProcessTransport>,
) -> (CrdSpec, ResourceRef) {
    let spec = CrdSpec::prometheus();
    let resource = spec.resource();
    let crd = to_dynamic(&spec.to_crd()).unwrap();
    api.create(&crd_resource(), &crd).await.unwrap();
    api.create(&resource, &object(&resource, Some("shoot"), "old", &[]))
        .await
        .unwrap();
    (spec, resource)
}

#[test]
fn without_lags_a_deleted_crd_is_gone_by_the_next_request() {
    run(async {
        let server = shared(instant());
        let api = client(&server);
        let (spec, resource) = prometheus_with_one_object(&api).await;
        let mut watch = api.watch(&resource, &WatchParams::default()).await.unwrap();
        api.delete(&crd_resource(), None, &spec.name())
            .await
            .unwrap();
        let errors = [
            api.list(&resource, &ListParams::default())
                .await
                .unwrap_err(),
            api.get(&crd_resource(), None, &spec.name())
                .await
                .unwrap_err(),
        ];
        for error in errors {
            assert!(error.is_not_found(), "{error:?}");
        }
        let (events, ended) = drain_watch(&mut watch).await;
        assert_eq!(events.len(), 2, "ADDED, then DELETED: {events:?}");
        assert!(ended);
    });
}

#[test]
fn a_recreated_crd_is_served_again() {
    run(async {
        let server = shared(instant());
        let api = client(&server);
        let (spec, resource) = prometheus_with_one_object(&api).await;
        api.delete(&crd_resource(), None, &spec.name())
            .await
            .unwrap();
        assert!(api
            .list(&resource, &ListParams::default())
            .await
            .unwrap_err()
            .is_not_found());

        let crd = to_dynamic(&spec.to_crd()).unwrap();
        let recreated = api.create(&crd_resource(), &crd).await.unwrap();
        assert_eq!(
            recreated.metadata.uid.as_deref(),
            Some("uid-3"),
            "a new object"
        );
        assert_eq!(recreated.metadata.deletion_timestamp, None);
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
        assert!(resources.resources[0].verbs.iter().any(|v| v == "create"));
    });
}

#[test]
fn a_crd_recreated_before_its_namesake_is_torn_down_ends_the_old_watches() {
    let (mut server, mut old_watch, _crds) = prometheus_with_instances(staged());
    call(&mut server, delete_crd(PROMETHEUSES), ms(10_000));
    server.advance(ms(12_000));
    let body = serde_json::to_value(CrdSpec::prometheus().to_crd()).unwrap();
    let recreate = Request::new(Method::Post, crd_resource().collection_path(None)).body(body);
    assert_eq!(call(&mut server, recreate, ms(12_000)).code, 201);
    let (frames, ended) = drain_feed(&mut old_watch);
    assert_eq!(
        (frames.len(), ended),
        (3, true),
        "the old storage's watches end"
    );
    let resource = CrdSpec::prometheus().resource();
    assert_eq!(
        call(&mut server, create(&resource, "shoot", "new"), ms(12_000)).code,
        201
    );
    assert_eq!(server.next_due(), None, "nothing left of the old CRD");
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
        delete_crd(&CrdSpec::prometheus().name()),
        Duration::ZERO,
    );
    assert_eq!(deleted.code, 200);
    assert_eq!(deleted.body.to_value()["metadata"]["resourceVersion"], "3");
    let mut instances = open_watch(&mut server, watch_from(&resource, 3), Duration::ZERO);
    let crds = call(
        &mut server,
        Request::new(Method::Get, crd_resource().collection_path(None)),
        Duration::from_secs(1),
    );
    assert_eq!(crds.body.to_value()["items"], Value::Array(Vec::new()));
    assert_eq!(crds.body.to_value()["metadata"]["resourceVersion"], "6");
    // A watch from before the deletion, opened after it, replays it from history.
    let mut feed = open_watch(
        &mut server,
        watch_from(&crd_resource(), 1),
        Duration::from_secs(1),
    );
    let (frames, _) = drain_feed(&mut feed);
    assert_eq!(
        frames_of(&frames),
        [
            frame("MODIFIED", "/prometheuses.monitoring.coreos.com", 3),
            frame("MODIFIED", "/prometheuses.monitoring.coreos.com", 4),
            frame("DELETED", "/prometheuses.monitoring.coreos.com", 6),
        ]
    );
    let (frames, _) = drain_feed(&mut instances);
    assert_eq!(frames_of(&frames), [frame("DELETED", "s/p", 5)]);
}

#[test]
fn an_open_watch_sees_the_cleanup_without_further_requests() {
    run_paused(async {
        let config = ApiServerConfig::default();
        let server = shared(config.clone());
        server
            .borrow_mut()
            .install_crd(&CrdSpec::prometheus(), Duration::ZERO);
        let api = client(&server);
        let resource = CrdSpec::prometheus().resource();
        for name in ["a", "b"] {
            api.create(&resource, &object(&resource, Some("shoot"), name, &[]))
                .await
                .unwrap();
        }
        let from_now = WatchParams {
            resource_version: server.borrow().resource_version().to_string(),
            ..WatchParams::default()
        };
        let mut watch = api.watch(&resource, &from_now).await.unwrap();
        let start = Instant::now();
        api.delete(&crd_resource(), None, PROMETHEUSES)
            .await
            .unwrap();
        let mut seen_at = Vec::new();
        while let Some(event) = watch.next().await {
            seen_at.push((seen(&event.unwrap()), start.elapsed()));
        }
        let ended_at = start.elapsed();
        let first = config.crd_finalizer_delay + config.instance_deletion_cost;
        let removed = first + config.instance_deletion_cost;
        assert_eq!(
            seen_at,
            [
                (frame("DELETED", "shoot/a", 6), first),
                (frame("DELETED", "shoot/b", 7), removed),
            ]
        );
        assert_eq!(
            ended_at,
            removed + config.serving_removal_lag + config.watch_teardown_delay
        );
    });
}

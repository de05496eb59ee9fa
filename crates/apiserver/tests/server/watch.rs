//! Watches: replay from a version, live changes, selectors, expiry and slow watchers.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use stallsim_apiserver::{pod_resource, ApiServer, ApiServerConfig, Reply};
use stallsim_client::{
    ApiClient, ApiError, ListParams, Method, Request, ResourceRef, WatchEvent, WatchParams,
    WatchStream,
};

use crate::support::{
    call, client, drain_feed, drain_watch, object, open_watch, path_of, run, rv, shared, Lcg, Seen,
};

/// One change the test made, as the model of what watchers must see.
struct Made {
    kind: &'static str,
    namespace: String,
    path: String,
    resource_version: u64,
    tier_before: Option<String>,
    tier_after: Option<String>,
}

/// What a watch from `since`, in `namespace`, selecting `tier=`, must see.
fn expected(made: &[Made], since: u64, namespace: Option<&str>, tier: Option<&str>) -> Vec<Seen> {
    let selected = |t: &Option<String>| match tier {
        Some(wanted) => t.as_deref() == Some(wanted),
        None => t.is_some(),
    };
    made.iter()
        .filter(|m| m.resource_version > since)
        .filter(|m| namespace.is_none_or(|ns| m.namespace == ns))
        .filter_map(|m| {
            let kind = match m.kind {
                "ADDED" if selected(&m.tier_after) => "ADDED",
                "DELETED" if selected(&m.tier_before) => "DELETED",
                "MODIFIED" => match (selected(&m.tier_before), selected(&m.tier_after)) {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    (false, false) => return None,
                },
                _ => return None,
            };
            Some((kind.to_string(), m.path.clone(), m.resource_version))
        })
        .collect()
}

#[test]
fn a_watch_from_a_list_version_sees_every_later_change_once_and_in_order() {
    for seed in 0..8 {
        run(check_op_sequence(seed));
    }
}

async fn check_op_sequence(seed: u64) {
    let server = shared(ApiServerConfig::default());
    let api = client(&server);
    let pods = pod_resource();
    let mut rng = Lcg(seed);
    let steps = 60;
    let list_at = 10 + rng.below(15);
    let open_at = list_at + rng.below(15);
    let mut tiers: BTreeMap<String, String> = BTreeMap::new();
    let mut made = Vec::new();
    let mut since = 0;
    let mut watches = Vec::new();
    for step in 0..steps {
        if step == list_at {
            let list = api.list(&pods, &ListParams::default()).await.unwrap();
            since = list.metadata.resource_version.unwrap().parse().unwrap();
            assert_eq!(since, server.borrow().resource_version());
        }
        if step == open_at {
            for (namespace, selector) in [(None, None), (Some("a"), None), (None, Some("tier=x"))] {
                let params = WatchParams {
                    namespace: namespace.map(str::to_string),
                    label_selector: selector.map(str::to_string),
                    resource_version: since.to_string(),
                    ..WatchParams::default()
                };
                let watch = api.watch(&pods, &params).await.unwrap();
                watches.push((namespace, selector.map(|_| "x"), watch));
            }
        }
        let index = rng.below(6);
        let namespace = if index.is_multiple_of(2) { "a" } else { "b" };
        let name = format!("p{index}");
        let path = format!("{namespace}/{name}");
        let tier = ["x", "y"][rng.below(2) as usize].to_string();
        let before = tiers.get(&path).cloned();
        let (kind, resource_version) = match (&before, rng.below(3)) {
            (None, _) => {
                let pod = object(&pods, Some(namespace), &name, &[("tier", &tier)]);
                let created = api.create(&pods, &pod).await.unwrap();
                ("ADDED", rv(&created))
            }
            (Some(_), 0) => {
                api.delete(&pods, Some(namespace), &name).await.unwrap();
                ("DELETED", server.borrow().resource_version())
            }
            (Some(_), _) => {
                let current = api.get(&pods, Some(namespace), &name).await.unwrap();
                let mut changed = current.clone();
                changed
                    .metadata
                    .labels
                    .get_or_insert_with(Default::default)
                    .insert("tier".to_string(), tier.clone());
                changed.data["spec"]["n"] = json!(step);
                let updated = api.update(&pods, &changed).await.unwrap();
                let stale = api.update(&pods, &current).await.unwrap_err();
                assert!(matches!(stale, ApiError::Conflict(_)));
                ("MODIFIED", rv(&updated))
            }
        };
        let after = (kind != "DELETED").then(|| tier.clone());
        match &after {
            Some(t) => tiers.insert(path.clone(), t.clone()),
            None => tiers.remove(&path),
        };
        made.push(Made {
            kind,
            namespace: namespace.to_string(),
            path,
            resource_version,
            tier_before: before,
            tier_after: after,
        });
    }
    let versions: Vec<u64> = made.iter().map(|m| m.resource_version).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "seed {seed}");
    assert_eq!(watches.len(), 3, "seed {seed}");
    for (namespace, tier, mut watch) in watches {
        let (events, ended) = drain_watch(&mut watch).await;
        assert!(!ended, "seed {seed}");
        let wanted = expected(&made, since, namespace, tier);
        assert!(!wanted.is_empty(), "seed {seed}: a vacuous check");
        assert_eq!(
            events, wanted,
            "seed {seed}, namespace {namespace:?}, tier {tier:?}"
        );
    }
}

#[test]
fn a_watch_from_no_version_starts_with_every_current_object() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        let pods = pod_resource();
        let b = api
            .create(&pods, &object(&pods, Some("n"), "b", &[]))
            .await
            .unwrap();
        let a = api
            .create(&pods, &object(&pods, Some("n"), "a", &[]))
            .await
            .unwrap();
        let mut expected = vec![
            ("ADDED".to_string(), "n/a".to_string(), rv(&a)),
            ("ADDED".to_string(), "n/b".to_string(), rv(&b)),
        ];
        for (start, name) in [("", "c"), ("0", "d")] {
            let params = WatchParams {
                resource_version: start.to_string(),
                ..WatchParams::default()
            };
            let mut watch = api.watch(&pods, &params).await.unwrap();
            let (initial, _) = drain_watch(&mut watch).await;
            assert_eq!(initial, expected, "synthetic ADDED, sorted, for {start:?}");
            let made = api
                .create(&pods, &object(&pods, Some("n"), name, &[]))
                .await
                .unwrap();
            let added = ("ADDED".to_string(), path_of(&made), rv(&made));
            let (live, ended) = drain_watch(&mut watch).await;
            assert_eq!(live, std::slice::from_ref(&added));
            assert!(!ended);
            expected.push(added);
        }
    });
}

#[test]
fn a_compacted_version_is_expired_in_stream() {
    let config = ApiServerConfig {
        history_events_max: 3,
        ..ApiServerConfig::default()
    };
    let mut server = ApiServer::new(config.clone());
    let pods = pod_resource();
    for i in 0..6 {
        let body = serde_json::to_value(object(&pods, Some("a"), &format!("p{i}"), &[])).unwrap();
        call(
            &mut server,
            Request::new(Method::Post, pods.collection_path(Some("a"))).body(body),
            Duration::ZERO,
        );
    }
    // Versions 4..=6 are retained: a watch from 3 misses nothing.
    let from = |version: u64| {
        Request::new(Method::Get, pods.collection_path(None))
            .query("watch", "true")
            .query("resourceVersion", version.to_string())
    };
    let mut feed = open_watch(&mut server, from(3), Duration::ZERO);
    let (frames, ended) = drain_feed(&mut feed);
    let versions: Vec<&str> = frames
        .iter()
        .map(|f| f["object"]["metadata"]["resourceVersion"].as_str().unwrap())
        .collect();
    assert_eq!((versions, ended), (vec!["4", "5", "6"], false));

    let mut feed = open_watch(&mut server, from(2), Duration::ZERO);
    let (frames, ended) = drain_feed(&mut feed);
    assert!(ended, "an expired watch ends after its error");
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["type"], "ERROR");
    let status = &frames[0]["object"];
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["code"], 410);
    assert_eq!(status["reason"], "Expired");

    run(async {
        let server = shared(config);
        let api = client(&server);
        for i in 0..6 {
            api.create(&pods, &object(&pods, Some("a"), &format!("p{i}"), &[]))
                .await
                .unwrap();
        }
        let params = WatchParams {
            resource_version: "1".to_string(),
            ..WatchParams::default()
        };
        let mut watch = api.watch(&pods, &params).await.expect("the head is 200");
        match watch.next().await {
            Some(Ok(WatchEvent::Error(status))) => {
                assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
                assert_eq!(ApiError::from_status(&status).reason(), "Expired");
            }
            other => panic!("expected an in-stream 410, got {other:?}"),
        }
        assert!(watch.next().await.is_none());
    });
}

#[test]
fn a_watcher_that_falls_behind_is_closed() {
    let mut server = ApiServer::new(ApiServerConfig {
        watch_channel_capacity: 2,
        ..ApiServerConfig::default()
    });
    let pods = pod_resource();
    let watch = Request::new(Method::Get, pods.collection_path(None)).query("watch", "true");
    let mut slow = open_watch(&mut server, watch.clone(), Duration::ZERO);
    let mut other = open_watch(
        &mut server,
        watch.clone().query("labelSelector", "app=none"),
        Duration::ZERO,
    );
    for i in 0..3 {
        let body = serde_json::to_value(object(&pods, Some("a"), &format!("p{i}"), &[])).unwrap();
        call(
            &mut server,
            Request::new(Method::Post, pods.collection_path(Some("a"))).body(body),
            Duration::ZERO,
        );
    }
    let (frames, ended) = drain_feed(&mut slow);
    assert_eq!((frames.len(), ended), (2, true));
    let (frames, ended) = drain_feed(&mut other);
    assert_eq!(
        (frames.len(), ended),
        (0, false),
        "a watcher that sees nothing stays"
    );
}

#[test]
fn watch_request_errors_are_plain_answers() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let widgets = ResourceRef::new("example.com", "v1", "widgets", "Widget", true);
    let watch = |resource: &ResourceRef| {
        Request::new(Method::Get, resource.collection_path(None)).query("watch", "true")
    };
    let cases = [
        (watch(&widgets), 404),
        (watch(&pod_resource()).query("resourceVersion", "abc"), 400),
        (watch(&pod_resource()).query("timeoutSeconds", "-1"), 400),
        (
            watch(&pod_resource()).query("labelSelector", "a in (b)"),
            400,
        ),
    ];
    for (request, code) in cases {
        match server.handle(request.clone(), Duration::ZERO) {
            Reply::Response(response) => assert_eq!(response.code, code, "{request:?}"),
            Reply::Watch(_) => panic!("{request:?} opened a watch"),
        }
    }
    run(async {
        let server = shared(ApiServerConfig::default());
        let error = client(&server)
            .watch(&widgets, &WatchParams::default())
            .await
            .err()
            .expect("no watch on an unknown resource");
        assert!(error.is_not_found(), "{error:?}");
    });
}

#[test]
fn a_feed_reports_its_parameters() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let request = Request::new(Method::Get, "/api/v1/namespaces/a/pods")
        .query("watch", "true")
        .query("timeoutSeconds", "290")
        .query("allowWatchBookmarks", "true");
    let feed = open_watch(&mut server, request, Duration::ZERO);
    assert_eq!(feed.timeout_seconds(), Some(290));
    assert!(feed.allows_bookmarks());
    assert_eq!(
        feed.bookmark(7).to_value(),
        json!({"type": "BOOKMARK", "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"resourceVersion": "7"}}})
    );
    let plain = open_watch(
        &mut server,
        Request::new(Method::Get, "/api/v1/pods").query("watch", "1"),
        Duration::ZERO,
    );
    assert_eq!(
        (plain.timeout_seconds(), plain.allows_bookmarks()),
        (None, false)
    );
}

//! The server inside a turmoil simulation: over TCP with `serve`, and in-process on a paused clock.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use stallsim_apiserver::{
    crd_resource, serve, ApiServer, ApiServerConfig, CrdSpec, InProcessTransport,
};
use stallsim_client::{
    to_dynamic, ApiClient, ApiError, ListParams, RestClient, TurmoilTransport, WatchParams,
    WatchStream,
};
use tokio::time::{sleep, Instant};

use crate::support::{object, seen, Seen};

const PORT: u16 = 6443;

fn simulation<'a>(config: ApiServerConfig) -> turmoil::Sim<'a> {
    let mut builder = turmoil::Builder::new();
    builder
        .simulation_duration(Duration::from_secs(120))
        .tick_duration(Duration::from_millis(10))
        .rng_seed(7);
    let mut sim = builder.build();
    sim.host("apiserver", move || {
        let config = config.clone();
        async move {
            let listener =
                turmoil::net::TcpListener::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT)).await?;
            let server = Rc::new(RefCell::new(ApiServer::new(config)));
            serve(listener, server).await?;
            Ok(())
        }
    });
    sim
}

/// Every event until the watch ends, and how long it lasted.
async fn read_to_end<W: WatchStream>(watch: &mut W) -> (Vec<Seen>, Duration) {
    let started = Instant::now();
    let mut events = Vec::new();
    while let Some(event) = watch.next().await {
        events.push(seen(&event.expect("event decodes")));
    }
    (events, started.elapsed())
}

fn split_bookmarks(events: &[Seen]) -> (Vec<Seen>, Vec<u64>) {
    let changes = events
        .iter()
        .filter(|e| e.0 != "BOOKMARK")
        .cloned()
        .collect();
    let bookmarks = events
        .iter()
        .filter(|e| e.0 == "BOOKMARK")
        .map(|e| e.2)
        .collect();
    (changes, bookmarks)
}

/// Every bookmark promises that all changes up to its version came before it.
fn assert_bookmarks_follow_changes(events: &[Seen]) {
    let mut newest_change = 0;
    for (kind, _, version) in events {
        if kind == "BOOKMARK" {
            assert!(*version >= newest_change, "{events:?}");
        } else {
            newest_change = newest_change.max(*version);
        }
    }
}

#[test]
fn serves_creates_lists_and_watches_over_turmoil() {
    let mut sim = simulation(ApiServerConfig {
        bookmark_interval: Duration::from_secs(1),
        ..ApiServerConfig::default()
    });
    sim.client("manager", async {
        let api = RestClient::new(
            TurmoilTransport::new("apiserver", PORT),
            Duration::from_secs(5),
        );
        let spec = CrdSpec::prometheus();
        let prometheus = spec.resource();
        let unknown = api
            .list(&prometheus, &ListParams::default())
            .await
            .unwrap_err();
        assert!(unknown.is_not_found(), "{unknown:?}");

        api.create(&crd_resource(), &to_dynamic(&spec.to_crd())?)
            .await?;
        api.create(&prometheus, &object(&prometheus, Some("shoot"), "a", &[]))
            .await?;
        let list = api.list(&prometheus, &ListParams::default()).await?;
        assert_eq!(list.items.len(), 1);
        let since = list.metadata.resource_version.clone().unwrap_or_default();
        assert_eq!(since, "2");

        let writer = api.clone();
        let writes = tokio::task::spawn_local(async move {
            let prometheus = CrdSpec::prometheus().resource();
            sleep(Duration::from_millis(1500)).await;
            let mut b = writer
                .create(&prometheus, &object(&prometheus, Some("shoot"), "b", &[]))
                .await?;
            sleep(Duration::from_millis(1000)).await;
            b.data["spec"]["n"] = json!(1);
            writer.update(&prometheus, &b).await?;
            writer.delete(&prometheus, Some("shoot"), "a").await?;
            Ok::<(), ApiError>(())
        });
        let params = WatchParams {
            resource_version: since,
            timeout_seconds: Some(5),
            allow_bookmarks: true,
            ..WatchParams::default()
        };
        let mut watch = api.watch(&prometheus, &params).await?;
        let (events, lasted) = read_to_end(&mut watch).await;
        writes.await.expect("writer task")?;
        assert!(
            lasted >= Duration::from_millis(4900) && lasted < Duration::from_millis(5500),
            "the watch lasts its timeoutSeconds, not {lasted:?}"
        );
        let (changes, bookmarks) = split_bookmarks(&events);
        let change =
            |kind: &str, path: &str, version| (kind.to_string(), path.to_string(), version);
        assert_eq!(
            changes,
            [
                change("ADDED", "shoot/b", 3),
                change("MODIFIED", "shoot/b", 4),
                change("DELETED", "shoot/a", 5),
            ]
        );
        assert!(bookmarks.len() >= 3, "a bookmark a second: {events:?}");
        assert_eq!(bookmarks.last(), Some(&5));
        assert_bookmarks_follow_changes(&events);

        // A watch without a timeout sees the CRD's finalizer delete the
        // objects (version 6 marks the CRD, 7 starts the cleanup), then ends
        // when the resource's storage is torn down.
        let config = ApiServerConfig::default();
        let mut open = api.watch(&prometheus, &WatchParams::default()).await?;
        let deleting = Instant::now();
        api.delete(&crd_resource(), None, &spec.name()).await?;
        let (events, _) = read_to_end(&mut open).await;
        let lasted = deleting.elapsed();
        assert_eq!(
            events,
            [
                change("ADDED", "shoot/b", 4),
                change("DELETED", "shoot/b", 8)
            ]
        );
        let teardown = config.crd_finalizer_delay
            + config.instance_deletion_cost
            + config.serving_removal_lag
            + config.watch_teardown_delay;
        assert!(
            lasted >= teardown && lasted < teardown + Duration::from_millis(100),
            "the watch ends at the teardown, not {lasted:?} after the DELETE"
        );
        let gone = api
            .list(&prometheus, &ListParams::default())
            .await
            .unwrap_err();
        assert!(gone.is_not_found(), "{gone:?}");
        Ok(())
    });
    sim.run().expect("simulation");
}

#[test]
fn in_process_watches_time_out_and_put_queued_changes_before_bookmarks() {
    let mut builder = turmoil::Builder::new();
    builder
        .simulation_duration(Duration::from_secs(60))
        .tick_duration(Duration::from_millis(10));
    let mut sim = builder.build();
    sim.client("test", async {
        let server = Rc::new(RefCell::new(ApiServer::new(ApiServerConfig {
            bookmark_interval: Duration::from_secs(1),
            ..ApiServerConfig::default()
        })));
        let api = RestClient::new(
            InProcessTransport::new(Rc::clone(&server)),
            Duration::from_secs(5),
        );
        let pods = stallsim_apiserver::pod_resource();
        let params = WatchParams {
            timeout_seconds: Some(3),
            allow_bookmarks: true,
            ..WatchParams::default()
        };
        let mut watch = api.watch(&pods, &params).await?;
        sleep(Duration::from_millis(500)).await;
        api.create(&pods, &object(&pods, Some("a"), "p", &[]))
            .await?;
        // The reader wakes only after the first bookmark fell due.
        sleep(Duration::from_millis(2000)).await;
        let (events, lasted) = read_to_end(&mut watch).await;
        assert_eq!(
            events,
            [
                ("ADDED".to_string(), "a/p".to_string(), 1),
                ("BOOKMARK".to_string(), String::new(), 1),
            ],
            "the queued change first, then one bookmark, then the end at 3s"
        );
        assert!(lasted >= Duration::from_millis(400) && lasted <= Duration::from_millis(600));
        let stamped = api.get(&pods, Some("a"), "p").await?;
        assert_eq!(
            stamped.metadata.creation_timestamp.map(|t| t.0.to_string()),
            Some("2025-04-01T00:00:00Z".to_string()),
            "the in-process clock started with the transport"
        );
        Ok(())
    });
    sim.run().expect("simulation");
}

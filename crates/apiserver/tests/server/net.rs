//! The server inside a simulation: over simulated TCP with `serve`, and in-process on a paused clock.

use std::cell::RefCell;
use std::error::Error;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::Duration;

use serde_json::{json, Value};
use stallsim_apiserver::{
    crd_resource, serve, ApiServer, ApiServerConfig, CrdSpec, InProcessTransport,
};
use stallsim_client::{
    to_dynamic, ApiClient, ApiError, ListParams, RestClient, TurmoilTransport, WatchParams,
    WatchStream, STREAM_END,
};
use stallsim_net::{OwnedReadHalf, Sim, TcpListener, TcpStream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::time::{sleep, Instant};

use crate::support::{object, seen, Seen};

const PORT: u16 = 6443;

/// How long a test's client may take, in simulated time.
const CLIENT_LIMIT: Duration = Duration::from_secs(120);

type TestResult = Result<(), Box<dyn Error>>;

fn simulation(config: ApiServerConfig) -> Sim {
    simulation_with(config, stallsim_net::Builder::new())
}

/// A simulation in which every message takes exactly `latency`.
fn simulation_at_latency(config: ApiServerConfig, latency: Duration) -> Sim {
    simulation_with(
        config,
        stallsim_net::Builder::new().latency(latency, latency),
    )
}

fn simulation_with(config: ApiServerConfig, builder: stallsim_net::Builder) -> Sim {
    let mut sim = builder.seed(7).build();
    sim.host("apiserver", move || {
        let config = config.clone();
        async move {
            let listener = TcpListener::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT))
                .await
                .expect("the port is free");
            let server = Rc::new(RefCell::new(ApiServer::new(config)));
            serve(listener, server).await.expect("serves");
        }
    });
    sim
}

/// Runs `client` on a host named `name` to its end; it must succeed.
fn run_client(sim: &mut Sim, name: &str, client: impl Future<Output = TestResult> + 'static) {
    sim.run_client(name, CLIENT_LIMIT, client)
        .expect("the client ends within its limit")
        .expect("the client succeeds");
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
fn serves_creates_lists_and_watches_over_simulated_tcp() {
    let mut sim = simulation(ApiServerConfig {
        bookmark_interval: Duration::from_secs(1),
        ..ApiServerConfig::default()
    });
    run_client(&mut sim, "manager", async {
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
        // Beyond the lags: the DELETE's trip on a new connection (the watch
        // holds the pooled one), each lag's wake rounded up to the 10ms
        // tick, and the stream's end travelling back.
        assert!(
            lasted >= teardown && lasted < teardown + Duration::from_millis(150),
            "the watch ends at the teardown, not {lasted:?} after the DELETE"
        );
        let gone = api
            .list(&prometheus, &ListParams::default())
            .await
            .unwrap_err();
        assert!(gone.is_not_found(), "{gone:?}");
        Ok(())
    });
}

#[test]
fn in_process_watches_time_out_and_put_queued_changes_before_bookmarks() {
    let mut sim = stallsim_net::Builder::new().build();
    run_client(&mut sim, "test", async {
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
}

/// The next line the server sent, as JSON.
async fn next_line(read: &mut BufReader<OwnedReadHalf>) -> Value {
    let mut line = String::new();
    let bytes = read.read_line(&mut line).await.expect("the server answers");
    assert!(bytes > 0, "the server closed the connection");
    serde_json::from_str(&line).expect("a JSON line")
}

#[test]
fn a_connection_carries_requests_answered_in_order_and_watches_that_end_with_a_line() {
    let mut sim = simulation(ApiServerConfig::default());
    run_client(&mut sim, "client", async {
        let stream = TcpStream::connect(("apiserver", PORT)).await?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        // Three requests at once, answered one after the other, in order.
        write
            .write_all(
                concat!(
                    r#"{"method":"GET","path":"/apis"}"#,
                    "\n",
                    r#"{"method":"GET","path":"/api/v1"}"#,
                    "\n",
                    "not a request\n",
                )
                .as_bytes(),
            )
            .await?;
        let groups = next_line(&mut read).await;
        assert_eq!(groups["code"], 200, "{groups}");
        assert!(groups["body"]["groups"].is_array(), "{groups}");
        let core = next_line(&mut read).await;
        assert_eq!(core["body"]["groupVersion"], "v1", "{core}");
        let bad = next_line(&mut read).await;
        assert_eq!(bad["code"], 400, "{bad}");

        // A watch: its head, its end line after timeoutSeconds, and the
        // connection carries the next request.
        let watch = r#"{"method":"GET","path":"/api/v1/pods","query":{"watch":"true","timeoutSeconds":"1"}}"#;
        write.write_all(format!("{watch}\n").as_bytes()).await?;
        let started = Instant::now();
        let head = next_line(&mut read).await;
        assert_eq!(head, json!({"code": 200, "body": null}));
        assert_eq!(next_line(&mut read).await.to_string(), STREAM_END);
        assert!(started.elapsed() >= Duration::from_millis(900));
        write
            .write_all(concat!(r#"{"method":"GET","path":"/apis"}"#, "\n").as_bytes())
            .await?;
        assert_eq!(next_line(&mut read).await["code"], 200);

        // A client that leaves a watch closes its side: the server ends the
        // watch and closes its own side, nothing more written.
        let watch = r#"{"method":"GET","path":"/api/v1/pods","query":{"watch":"true"}}"#;
        write.write_all(format!("{watch}\n").as_bytes()).await?;
        assert_eq!(next_line(&mut read).await["code"], 200);
        write.shutdown().await?;
        let mut rest = String::new();
        read.read_to_string(&mut rest).await?;
        assert_eq!(rest, "", "the server closes without another line");
        Ok(())
    });
}

#[test]
fn the_transport_keeps_its_connection_for_the_next_request() {
    // One way takes 50ms: a new connection costs a SYN before the request
    // and its answer, a kept one only the request and its answer.
    let one_way = Duration::from_millis(50);
    let mut sim = simulation_at_latency(ApiServerConfig::default(), one_way);
    run_client(&mut sim, "manager", async move {
        let api = RestClient::new(
            TurmoilTransport::new("apiserver", PORT),
            Duration::from_secs(5),
        );
        let timed = |api: RestClient<TurmoilTransport>| async move {
            let started = Instant::now();
            api.server_groups().await.expect("groups");
            started.elapsed()
        };
        let first = timed(api.clone()).await;
        assert!(first >= 3 * one_way, "connect, ask, answer: {first:?}");
        let again = timed(api.clone()).await;
        assert!(
            again >= 2 * one_way && again < 3 * one_way,
            "ask and answer on the kept connection: {again:?}"
        );

        // A watch holds the connection; a request meanwhile opens another.
        let pods = stallsim_apiserver::pod_resource();
        let params = WatchParams {
            timeout_seconds: Some(1),
            ..WatchParams::default()
        };
        let mut watch = api.watch(&pods, &params).await?;
        let meanwhile = timed(api.clone()).await;
        assert!(meanwhile >= 3 * one_way, "{meanwhile:?}");
        // Once the server ends the watch, its connection is free again: both
        // connections are kept, and two requests at once need no new one.
        let (events, _) = read_to_end(&mut watch).await;
        assert!(events.is_empty(), "{events:?}");
        let (a, b) = tokio::join!(timed(api.clone()), timed(api.clone()));
        assert!(a < 3 * one_way && b < 3 * one_way, "{a:?} {b:?}");
        Ok(())
    });
}

//! The core against the in-process fake server, on tokio's paused clock:
//! mapper, reflector, cache, election and health, one mechanism at a time.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use stallsim_apiserver::{crd_resource, ApiServer, ApiServerConfig, CrdSpec, InProcessTransport};
use stallsim_client::{
    ApiClient, ApiError, FrameStream, ListParams, Request, Response, RestClient, Transport,
};
use stallsim_manager::{
    Cache, CacheError, EventSink, Gvk, LeaderElectionConfig, ManagerEvent, MapperError,
    ReflectorConfig, RestMapper,
};
use tokio::task::LocalSet;
use tokio::time::Instant;

type Client = RestClient<InProcessTransport>;

#[derive(Default)]
struct Events(RefCell<Vec<ManagerEvent>>);

impl EventSink for Events {
    fn record(&self, event: ManagerEvent) {
        self.0.borrow_mut().push(event);
    }
}

impl Events {
    fn count(&self, pred: impl Fn(&ManagerEvent) -> bool) -> usize {
        self.0.borrow().iter().filter(|e| pred(e)).count()
    }
}

fn server_with_prometheus() -> Rc<RefCell<ApiServer>> {
    let server = Rc::new(RefCell::new(ApiServer::new(ApiServerConfig::default())));
    server
        .borrow_mut()
        .install_crd(&CrdSpec::prometheus(), Duration::ZERO);
    server
}

fn client(server: &Rc<RefCell<ApiServer>>) -> Client {
    RestClient::new(
        InProcessTransport::new(server.clone()),
        Duration::from_secs(30),
    )
}

fn prometheus() -> Gvk {
    Gvk::new("monitoring.coreos.com", "v1", "Prometheus")
}

/// Deletes the Prometheus CRD and waits until its resource is no longer
/// served: the server first lets the CRD terminate while its finalizer runs.
async fn delete_prometheus_crd(client: &Client) {
    client
        .delete(&crd_resource(), None, &CrdSpec::prometheus().name())
        .await
        .expect("the CRD exists");
    let resource = CrdSpec::prometheus().resource();
    for _ in 0..100 {
        match client.list(&resource, &ListParams::default()).await {
            Err(error) if error.is_not_found() => return,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("the Prometheus resource is still served 5s after its CRD's deletion");
}

/// A client and a mapper that discovered Prometheus before its CRD was deleted.
async fn stale_mapper() -> (Client, Rc<RestMapper>) {
    let client = client(&server_with_prometheus());
    let mapper = Rc::new(RestMapper::new());
    mapper.discover(&client, &()).await.unwrap();
    delete_prometheus_crd(&client).await;
    (client, mapper)
}

/// Runs a test body on a paused clock inside a LocalSet (the core spawns local tasks).
fn paused(body: impl std::future::Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    LocalSet::new().block_on(&runtime, body);
}

#[test]
fn a_positive_mapping_survives_crd_deletion() {
    paused(async {
        let server = server_with_prometheus();
        let client = client(&server);
        let mapper = RestMapper::new();
        mapper.discover(&client, &()).await.unwrap();
        delete_prometheus_crd(&client).await;
        tokio::time::sleep(Duration::from_secs(60)).await; // past the discovery lag
        let mapping = mapper
            .mapping(&client, &prometheus(), &())
            .await
            .expect("still mapped");
        assert_eq!(
            mapping.qualified_name(),
            "prometheuses.monitoring.coreos.com"
        );
        // A fresh mapper sees the truth.
        let fresh = RestMapper::new();
        assert_eq!(
            fresh.mapping(&client, &prometheus(), &()).await,
            Err(MapperError::NoMatch(prometheus()))
        );
    });
}

#[test]
fn a_no_match_reloads_and_finds_a_new_crd() {
    paused(async {
        let server = Rc::new(RefCell::new(ApiServer::new(ApiServerConfig::default())));
        let client = client(&server);
        let events = Events::default();
        let mapper = RestMapper::new();
        assert!(
            mapper
                .mapping(&client, &prometheus(), &events)
                .await
                .is_err(),
            "lazy discovery, no CRD yet"
        );
        server
            .borrow_mut()
            .install_crd(&CrdSpec::prometheus(), Duration::ZERO);
        assert!(mapper.known(&prometheus()).is_none());
        assert!(
            mapper
                .mapping(&client, &prometheus(), &events)
                .await
                .is_ok(),
            "reloaded after the no match"
        );
        assert_eq!(
            events.count(|e| matches!(e, ManagerEvent::DiscoveryCompleted { .. })),
            2
        );
    });
}

fn cache(
    client: &Client,
    mapper: Rc<RestMapper>,
    events: Rc<Events>,
    not_found_is_empty: bool,
) -> Cache<Client> {
    Cache::new(
        client.clone(),
        mapper,
        ReflectorConfig::default(),
        not_found_is_empty,
        events,
        42,
    )
}

#[test]
fn an_informer_for_a_deleted_crd_never_syncs_and_keeps_listing_with_backoff() {
    paused(async {
        let (client, mapper) = stale_mapper().await;
        let events = Rc::new(Events::default());
        let cache = cache(&client, mapper, events.clone(), false);
        let deadline = Instant::now() + Duration::from_secs(600);
        let result = cache.list(&prometheus(), deadline).await;
        assert_eq!(result, Err(CacheError::SyncTimeout(prometheus())));
        assert_eq!(cache.unsynced().len(), 1);
        let lists = events.count(|e| matches!(e, ManagerEvent::ListFailed { .. }));
        // 800ms doubling to 30s with jitter 1.0: 6 growing waits (< 102s in
        // all), then one per 30..60s for the rest of the 600s.
        assert!((14..=25).contains(&lists), "{lists} LISTs in 600s");
        assert!(result
            .unwrap_err()
            .to_string()
            .contains("Timeout: failed waiting for *v1.PartialObjectMetadata Informer to sync"));
    });
}

#[test]
fn a_synced_informer_stays_synced_after_its_crd_is_deleted() {
    paused(async {
        let server = server_with_prometheus();
        let client = client(&server);
        let events = Rc::new(Events::default());
        let cache = cache(&client, Rc::new(RestMapper::new()), events.clone(), false);
        let far = Instant::now() + Duration::from_secs(3600);
        assert_eq!(cache.list(&prometheus(), far).await, Ok(vec![]));
        delete_prometheus_crd(&client).await;
        tokio::time::sleep(Duration::from_secs(300)).await;
        assert!(cache.unsynced().is_empty(), "HasSynced never turns false");
        assert!(
            events.count(|e| matches!(e, ManagerEvent::ListFailed { .. })) > 0,
            "the relists do fail"
        );
    });
}

#[test]
fn a_watch_keeps_the_store_current() {
    paused(async {
        let server = server_with_prometheus();
        let client = client(&server);
        let cache = cache(
            &client,
            Rc::new(RestMapper::new()),
            Rc::new(Events::default()),
            false,
        );
        let far = Instant::now() + Duration::from_secs(3600);
        let secret = Gvk::new("", "v1", "Secret");
        assert!(cache.list(&secret, far).await.unwrap().is_empty());
        let object: stallsim_client::DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1", "namespace": "garden"}
        }))
        .unwrap();
        let secrets = stallsim_client::ResourceRef::new("", "v1", "secrets", "Secret", true);
        client.create(&secrets, &object).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let listed = cache.list(&secret, far).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].metadata.name.as_deref(), Some("s1"));
    });
}

#[test]
fn a_not_found_list_as_empty_syncs_the_informer() {
    paused(async {
        let (client, mapper) = stale_mapper().await;
        let cache = cache(&client, mapper, Rc::new(Events::default()), true);
        let deadline = Instant::now() + Duration::from_secs(10);
        assert_eq!(cache.list(&prometheus(), deadline).await, Ok(vec![]));
    });
}

fn elector(
    client: &Client,
    identity: &str,
    events: Rc<Events>,
) -> stallsim_manager::LeaderElector<Client> {
    stallsim_manager::LeaderElector::new(
        client.clone(),
        LeaderElectionConfig::default(),
        identity.to_string(),
        "garden".to_string(),
        events,
        identity.len() as u64,
        k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
    )
}

#[test]
fn a_lease_is_taken_over_only_after_it_expires_or_is_released() {
    paused(async {
        let server = server_with_prometheus();
        let client = client(&server);
        let mut a = elector(&client, "a", Rc::new(Events::default()));
        let mut b = elector(&client, "bb", Rc::new(Events::default()));
        a.acquire().await;
        assert!(a.is_leader());
        // While `a` renews, `b` never gets the lease.
        let start = Instant::now();
        tokio::select! {
            _ = a.hold() => panic!("a lost its lease while renewing"),
            _ = b.acquire() => panic!("b took a lease that was being renewed"),
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
        // `a` stops renewing (it died): `b` takes over once 15s passed without a change.
        let died = Instant::now();
        b.acquire().await;
        let waited = died.elapsed();
        assert!(
            waited >= Duration::from_secs(13) && waited <= Duration::from_secs(20),
            "took over after {waited:?}"
        );
        assert!(start.elapsed() > Duration::from_secs(60));
        // `b` releases: a new candidate gets it within a retry period or so.
        let mut c = elector(&client, "ccc", Rc::new(Events::default()));
        tokio::select! {
            _ = b.hold() => panic!("b lost its lease"),
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        b.release().await;
        let released = Instant::now();
        c.acquire().await;
        assert!(
            released.elapsed() <= Duration::from_secs(5),
            "took {:?} after a release",
            released.elapsed()
        );
    });
}

#[test]
fn the_liveness_deadline_counts_from_the_first_check_that_saw_the_caches_unsynced() {
    paused(async {
        let (client, mapper) = stale_mapper().await;
        let cache = Rc::new(cache(&client, mapper, Rc::new(Events::default()), false));
        let deadline = Duration::from_secs(180);
        let with_deadline =
            stallsim_manager::Health::new(cache.clone(), client.clone(), Some(deadline), false);
        let without = stallsim_manager::Health::new(cache.clone(), client.clone(), None, false);
        assert_eq!(with_deadline.healthz().await, Ok(()));
        cache.informer(&prometheus()).await.unwrap();
        // Unsynced for ten minutes, but nobody checked: the clock has not started.
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert!(
            with_deadline.readyz().is_err(),
            "an unsynced informer fails /readyz"
        );
        assert_eq!(
            with_deadline.healthz().await,
            Ok(()),
            "the first unsynced check starts the clock"
        );
        let first = Instant::now();
        while first.elapsed() + Duration::from_secs(10) < deadline {
            tokio::time::sleep(Duration::from_secs(10)).await;
            assert_eq!(with_deadline.healthz().await, Ok(()), "within the deadline");
        }
        tokio::time::sleep(deadline - first.elapsed()).await;
        let failure = with_deadline
            .healthz()
            .await
            .expect_err("unsynced for 180s");
        assert!(
            failure.contains("source-informer-sync")
                && failure.contains("monitoring.coreos.com/v1, Kind=Prometheus"),
            "{failure}"
        );
        assert_eq!(
            without.healthz().await,
            Ok(()),
            "without the fix, cache sync is no liveness check"
        );
        // A check that sees every informer synced resets the clock.
        cache.remove(&prometheus());
        assert_eq!(
            (with_deadline.readyz(), with_deadline.healthz().await),
            (Ok(()), Ok(()))
        );
        cache.informer(&prometheus()).await.unwrap();
        assert_eq!(
            with_deadline.healthz().await,
            Ok(()),
            "a new stretch starts a new clock"
        );
        tokio::time::sleep(deadline - Duration::from_secs(1)).await;
        assert_eq!(with_deadline.healthz().await, Ok(()));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(with_deadline.healthz().await.is_err());
    });
}

/// A transport whose every request fails as a cut-off network would.
#[derive(Clone, Debug)]
struct Unreachable;

impl Transport for Unreachable {
    type Stream = NoFrames;

    async fn request(&self, _: Request) -> Result<Response, ApiError> {
        Err(ApiError::Unavailable("no route to host".into()))
    }

    async fn stream(&self, _: Request) -> Result<(Response, Option<NoFrames>), ApiError> {
        Err(ApiError::Unavailable("no route to host".into()))
    }
}

struct NoFrames;

impl FrameStream for NoFrames {
    async fn next_frame(&mut self) -> Option<Result<stallsim_client::Body, ApiError>> {
        None
    }
}

#[test]
fn liveness_asks_the_api_server() {
    paused(async {
        let server = server_with_prometheus();
        let healthy = client(&server);
        let cache = Rc::new(cache(
            &healthy,
            Rc::new(RestMapper::new()),
            Rc::new(Events::default()),
            false,
        ));
        let health = stallsim_manager::Health::new(cache.clone(), healthy, None, false);
        assert_eq!(health.healthz().await, Ok(()));
        let cut_off = RestClient::new(Unreachable, Duration::from_secs(30));
        let cache = Rc::new(Cache::new(
            cut_off.clone(),
            Rc::new(RestMapper::new()),
            ReflectorConfig::default(),
            false,
            Rc::new(Events::default()),
            42,
        ));
        let health = stallsim_manager::Health::new(cache, cut_off, None, false);
        let failure = health
            .healthz()
            .await
            .expect_err("no answer from the API server");
        assert!(failure.starts_with("apiserver-healthz: "), "{failure}");
    });
}

#[test]
fn readiness_holds_the_webhook_servers_check_from_its_start_to_its_stop() {
    paused(async {
        let server = server_with_prometheus();
        let client = client(&server);
        let cache = Rc::new(cache(
            &client,
            Rc::new(RestMapper::new()),
            Rc::new(Events::default()),
            false,
        ));
        let health = stallsim_manager::Health::new(cache.clone(), client.clone(), None, true);
        let not_started = health.readyz().expect_err("not started yet");
        assert_eq!(
            not_started,
            "webhook-server: webhook server has not been started yet"
        );
        health.set_webhook(stallsim_manager::WebhookServer::Listening);
        assert_eq!(health.readyz(), Ok(()));
        health.set_webhook(stallsim_manager::WebhookServer::Stopped);
        assert!(health.readyz().is_err());
        let without = stallsim_manager::Health::new(cache, client, None, false);
        assert_eq!(without.readyz(), Ok(()), "no webhook server, no check");
    });
}

#[test]
fn an_uncached_read_of_a_deleted_kind_fails_with_not_found_and_creates_no_informer() {
    paused(async {
        let (client, mapper) = stale_mapper().await;
        let cache = cache(&client, mapper, Rc::new(Events::default()), false);
        let error = cache.list_uncached(&prometheus()).await.unwrap_err();
        assert!(error.is_not_found(), "{error:?}");
        assert!(!error.is_no_match(), "the stale mapper still matches");
        assert!(cache.unsynced().is_empty());
    });
}

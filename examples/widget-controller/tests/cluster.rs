//! The controller against stallsim's fake API server on a loopback
//! socket, in real time (seconds): two processes elect a leader, the
//! leader reconciles widgets (finalizer, status), a released lease passes
//! at once, and a leader that takes over after the Widget CRD was deleted
//! stalls with `Design::WaitForStore` and is ready with
//! `Design::CheckServed`.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, PostParams};
use kube::{Client, CustomResourceExt};
use stallsim_apiserver::{ApiServer, ApiServerConfig, HttpFace};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use widget_controller::readiness::State;
use widget_controller::{
    run, Design, Error, HostWork, Readiness, Settings, Timings, Widget, WidgetSpec, FINALIZER,
};

/// Starts a fake API server on a loopback port, on a thread of its own.
fn spawn_server() -> SocketAddr {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        tokio::task::LocalSet::new().block_on(&runtime, async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send(listener.local_addr().unwrap()).unwrap();
            let server = Rc::new(RefCell::new(ApiServer::new(ApiServerConfig::default())));
            let face = HttpFace::since(server, tokio::time::Instant::now());
            let _ = stallsim_apiserver::serve_tcp(listener, face).await;
        });
    });
    receiver.recv().expect("the server's address")
}

fn client(address: SocketAddr) -> Client {
    let mut config = kube::Config::new(format!("http://{address}").parse().unwrap());
    config.default_namespace = "default".to_string();
    Client::try_from(config).unwrap()
}

/// Short timings, so that a takeover takes a second or two.
const TIMINGS: Timings = Timings {
    lease_duration: Duration::from_millis(1500),
    renew_deadline: Duration::from_millis(1000),
    retry_period: Duration::from_millis(200),
};

/// One controller process: its readiness, a way to stop it gracefully,
/// and its task (abort it to kill it).
struct Process {
    readiness: Readiness,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), Error>>,
}

fn start(address: SocketAddr, identity: &str, design: Design) -> Process {
    let readiness = Readiness::default();
    let (stop, stopped) = oneshot::channel::<()>();
    let settings = Settings {
        lease_namespace: "default".to_string(),
        lease_name: "widget-controller".to_string(),
        identity: identity.to_string(),
        timings: TIMINGS,
        clock: Arc::new(k8s_openapi::jiff::Timestamp::now),
        design,
        host: HostWork::inline(),
    };
    let shutdown = async {
        let _ = stopped.await;
    };
    let task = tokio::spawn(run(client(address), settings, readiness.clone(), shutdown));
    Process {
        readiness,
        stop: Some(stop),
        task,
    }
}

async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn until_state(process: &Process, state: State, within: Duration) {
    eventually(&format!("{state:?}"), within, || async {
        (process.readiness.get() == state).then_some(())
    })
    .await;
}

async fn install_crd(address: SocketAddr) {
    let crds: Api<CustomResourceDefinition> = Api::all(client(address));
    crds.create(&PostParams::default(), &Widget::crd())
        .await
        .unwrap();
}

async fn holder(address: SocketAddr) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(client(address), "default");
    leases
        .get("widget-controller")
        .await
        .ok()?
        .spec?
        .holder_identity
}

fn widget(name: &str, size: u32) -> Widget {
    Widget::new(name, WidgetSpec { size })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_reconciles_and_a_released_lease_passes_at_once() {
    let address = spawn_server();
    install_crd(address).await;
    let mut a = start(address, "a", Design::CheckServed);
    until_state(&a, State::Leading, Duration::from_secs(5)).await;
    let b = start(address, "b", Design::CheckServed);
    until_state(&b, State::Standby, Duration::from_secs(5)).await;
    assert_eq!(holder(address).await.as_deref(), Some("a"));

    let widgets: Api<Widget> = Api::namespaced(client(address), "default");
    widgets
        .create(&PostParams::default(), &widget("w", 1))
        .await
        .unwrap();
    let reconciled = eventually("w reconciled", Duration::from_secs(5), || async {
        let w = widgets.get("w").await.ok()?;
        let status = w.status.clone()?;
        (status.observed_generation == w.metadata.generation).then_some(w)
    })
    .await;
    assert_eq!(
        reconciled.metadata.finalizers,
        Some(vec![FINALIZER.to_string()])
    );
    assert!(reconciled.status.unwrap().ready);

    // a stops: it releases the lease, and b leads well within a lease duration.
    let released = tokio::time::Instant::now();
    a.stop.take().unwrap().send(()).unwrap();
    assert!(a.task.await.unwrap().is_ok());
    until_state(&b, State::Leading, Duration::from_secs(5)).await;
    assert!(
        released.elapsed() < TIMINGS.lease_duration,
        "{:?}",
        released.elapsed()
    );
    assert_eq!(holder(address).await.as_deref(), Some("b"));

    // b reconciles: a spec change, then the deletion through the finalizer.
    let mut changed = widgets.get("w").await.unwrap();
    changed.spec.size = 2;
    widgets
        .replace("w", &PostParams::default(), &changed)
        .await
        .unwrap();
    eventually("generation 2 observed", Duration::from_secs(5), || async {
        let w = widgets.get("w").await.ok()?;
        (w.status?.observed_generation == Some(2)).then_some(())
    })
    .await;
    widgets.delete("w", &DeleteParams::default()).await.unwrap();
    eventually("w deleted", Duration::from_secs(5), || async {
        widgets.get_opt("w").await.ok()?.is_none().then_some(())
    })
    .await;
    b.task.abort();
}

/// The Widget CRD is deleted under a running leader, then the leader dies
/// without releasing: the standby takes over after the lease expires.
async fn takeover_after_the_crd_is_gone(design: Design) -> Process {
    let address = spawn_server();
    install_crd(address).await;
    let a = start(address, "a", design);
    until_state(&a, State::Leading, Duration::from_secs(5)).await;
    let b = start(address, "b", design);
    until_state(&b, State::Standby, Duration::from_secs(5)).await;
    let crds: Api<CustomResourceDefinition> = Api::all(client(address));
    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the CRD gone", Duration::from_secs(5), || async {
        crds.get_opt("widgets.example.com")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    // The running leader stays ready: its store synced before.
    assert_eq!(a.readiness.get(), State::Leading);
    a.task.abort();
    eventually("b holds the lease", Duration::from_secs(5), || async {
        (holder(address).await.as_deref() == Some("b")).then_some(())
    })
    .await;
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_after_the_crd_is_gone_waits_for_its_store_for_ever() {
    let b = takeover_after_the_crd_is_gone(Design::WaitForStore).await;
    // Its watcher's LIST answers 404, retried for ever: never ready.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(b.readiness.get(), State::Syncing);
    b.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_checks_discovery_first_is_ready() {
    let b = takeover_after_the_crd_is_gone(Design::CheckServed).await;
    until_state(&b, State::Unserved, Duration::from_secs(2)).await;
    assert!(b.readiness.get().is_ready());
    b.task.abort();
}

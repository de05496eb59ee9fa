//! A replica's container: one manager process and its probe endpoint.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use stallsim_client::{kube_client_over_net, ApiClient, KubeClient, RestClient, TurmoilTransport};
use stallsim_manager::{
    EventSink, Health, Manager, ManagerConfig, MetricsSink, ProcessContext, ProcessMetrics,
};
use stallsim_net::{OwnedReadHalf, TcpListener, TcpStream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::pods::Pods;
use crate::program::{HealthFunctions, Process};
use crate::scrape::MetricsSlot;
use crate::trace::{Recorder, ReplicaSink};
use crate::{
    epoch, mix_seed, ClientKind, ComponentProcess, Program, APISERVER_HOST, API_HTTP_PORT, API_PORT,
};

/// The port of the harness's probe endpoint (`/readyz` and `/healthz`):
/// a manager's checks, or a program's health functions.
pub const HEALTH_PORT: u16 = 8081;
/// Between tries to bind the probe port while an old connection holds it.
const HEALTH_BIND_RETRY: Duration = Duration::from_millis(100);
const HEALTH_BIND_TRIES_MAX: u32 = 600;

/// What every start of a replica's container needs.
#[derive(Clone)]
pub(crate) struct ReplicaImage {
    pub name: String,
    pub process: ComponentProcess,
    /// The namespace its pod runs in.
    pub namespace: String,
    /// Whether the kubelet probes it on the harness's probe endpoint (a
    /// probe without `httpGet`): a program's health functions are served
    /// there only then.
    pub harness_probes: bool,
    pub client: ClientKind,
    /// From the container running to the manager starting; nothing listens
    /// or talks meanwhile.
    pub process_start: Duration,
    pub request_timeout: Duration,
    pub world_seed: u64,
    pub pods: Pods,
    pub recorder: Recorder,
    /// Where the process publishes its metrics, when a Prometheus scrapes.
    pub metrics: Option<MetricsSlot>,
}

/// One run of the container's process, from start to exit.
pub(crate) async fn run(image: Rc<ReplicaImage>) {
    tokio::time::sleep(image.process_start).await;
    let config = match &image.process {
        ComponentProcess::Manager(config) => config.clone(),
        ComponentProcess::Program(program) => {
            let program = program.clone();
            return Box::pin(run_program(image, program)).await;
        }
    };
    // The client is built afresh in every process, within its host: its
    // connections and their tasks belong to this process.
    match image.client {
        ClientKind::Rest => {
            let transport = TurmoilTransport::new(APISERVER_HOST, API_PORT);
            let client = RestClient::new(transport, image.request_timeout);
            Box::pin(run_with(image, config, client)).await;
        }
        ClientKind::Kube => {
            let kube = kube_client_over_net(APISERVER_HOST, API_HTTP_PORT);
            let client = KubeClient::new(kube, image.request_timeout);
            Box::pin(run_with(image, config, client)).await;
        }
    }
}

/// One run of a program's process: its code, called with a fresh
/// [`Process`], and the harness's probe endpoint serving its health
/// functions while any probe of the pod goes there.
async fn run_program(image: Rc<ReplicaImage>, program: Program) {
    let Some(code) = program.code() else {
        // World::new refuses an unbound program before anything runs.
        return;
    };
    let generation = image.pods.with(&image.name, |pod| pod.generation);
    let seed = mix_seed(image.world_seed, &image.name, generation);
    let health = Rc::new(RefCell::new(HealthFunctions::default()));
    if image.harness_probes {
        let Some(listener) = bind_health().await else {
            return;
        };
        tokio::task::spawn_local(serve_program_probes(listener, health.clone()));
    }
    let process = Process::new(
        image.name.clone(),
        image.namespace.clone(),
        seed,
        kube_client_over_net(APISERVER_HOST, API_HTTP_PORT),
        image.pods.stop_signal(&image.name),
        image.recorder.clone(),
        health,
    );
    code(process).await;
}

async fn run_with<C: ApiClient + Clone + 'static>(
    image: Rc<ReplicaImage>,
    mut config: ManagerConfig,
    client: C,
) {
    let generation = image.pods.with(&image.name, |pod| pod.generation);
    let seed = mix_seed(image.world_seed, &image.name, generation);
    // Like controller-runtime's `hostname_uuid`: every process is a new candidate.
    config.identity = format!("{}_{:08x}", image.name, seed as u32);
    let mut sink: Rc<dyn EventSink> = Rc::new(ReplicaSink {
        recorder: image.recorder.clone(),
        replica: image.name.clone(),
    });
    // Metrics only when scraped: the process keeps them from its events.
    let metrics = image.metrics.as_ref().map(|slot| {
        let metrics = Arc::new(ProcessMetrics::new(&config.leader_election.lease_name));
        *slot.lock().expect("never poisoned") = Some(Arc::downgrade(&metrics));
        metrics
    });
    if let Some(metrics) = &metrics {
        sink = Rc::new(MetricsSink {
            inner: sink,
            metrics: metrics.clone(),
        });
    }
    let context = ProcessContext {
        client,
        sink,
        seed,
        wall_clock_origin: epoch(),
    };
    let manager = Manager::new(config, context);
    let Some(listener) = bind_health().await else {
        // The process cannot serve its probes: it exits, as a real one would.
        return;
    };
    tokio::task::spawn_local(serve_probes(listener, manager.health(), metrics));
    manager.run(image.pods.stop_signal(&image.name)).await;
}

/// Tries to bind the probe port, at most `HEALTH_BIND_TRIES_MAX` times,
/// `HEALTH_BIND_RETRY` apart. A previous process's connection that is
/// still closing keeps the port (turmoil-net has no `SO_REUSEADDR`, which
/// real servers set), until its peer's last segment arrives.
async fn bind_health() -> Option<TcpListener> {
    for _ in 0..HEALTH_BIND_TRIES_MAX {
        match TcpListener::bind(("0.0.0.0", HEALTH_PORT)).await {
            Ok(listener) => return Some(listener),
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
                tokio::time::sleep(HEALTH_BIND_RETRY).await;
            }
            Err(_) => return None,
        }
    }
    None
}

/// Answers one line (`/readyz` or `/healthz`) per connection with
/// `200 ok` or `500 <why>`, then closes its side and reads the kubelet's
/// side to its end before dropping the connection (dropping it with unread
/// bytes or an open write side resets it).
async fn serve_probes<C: ApiClient + Clone + 'static>(
    listener: TcpListener,
    health: Rc<Health<C>>,
    metrics: Option<Arc<ProcessMetrics>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let health = health.clone();
        let metrics = metrics.clone();
        tokio::task::spawn_local(answer_probe(stream, move |path| async move {
            let result = match path.as_str() {
                "/readyz" => health.readyz(),
                "/healthz" => health.healthz().await,
                other => Err(format!("no such endpoint {other}")),
            };
            if let (Some(metrics), "/readyz" | "/healthz") = (&metrics, path.as_str()) {
                metrics.health_checked(&path, result.is_ok());
            }
            result
        }));
    }
}

/// A program's health functions on the probe endpoint, answered as
/// [`serve_probes`] answers the manager's checks.
async fn serve_program_probes(listener: TcpListener, health: Rc<RefCell<HealthFunctions>>) {
    while let Ok((stream, _)) = listener.accept().await {
        let health = health.clone();
        tokio::task::spawn_local(answer_probe(stream, move |path| async move {
            // Cloned out, so a check may itself set the health functions.
            let check = {
                let health = health.borrow();
                match path.as_str() {
                    "/readyz" => Ok(health.readyz.clone()),
                    "/healthz" => Ok(health.healthz.clone()),
                    other => Err(format!("no such endpoint {other}")),
                }
            };
            match check {
                Ok(Some(check)) => check(),
                Ok(None) => Ok(()),
                Err(why) => Err(why),
            }
        }));
    }
}

/// The read buffer of each side of a probe: a path or an answer is a line
/// of a few dozen bytes, and a longer one is read in pieces. tokio's
/// default of 8 KiB, zeroed twice per probe, was 2% of the incident.
const PROBE_BUFFER_BYTES: usize = 512;

/// Reads one line (the path) from the kubelet, answers it with `200 ok` or
/// `500 <why>` as `check` says, then closes its side and reads the
/// kubelet's side to its end before dropping the connection (dropping it
/// with unread bytes or an open write side resets it).
async fn answer_probe<F, Fut>(stream: TcpStream, check: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::with_capacity(PROBE_BUFFER_BYTES, read);
    let mut path = String::new();
    if !matches!(read.read_line(&mut path).await, Ok(1..)) {
        return;
    }
    let path = path.trim_end_matches('\n').to_string();
    let answer = match check(path).await {
        Ok(()) => "200 ok\n".to_string(),
        Err(why) => format!("500 {why}\n"),
    };
    // A failure means the kubelet is gone: nothing is left to do.
    let _ = async {
        write.write_all(answer.as_bytes()).await?;
        write.shutdown().await?;
        read_to_end(&mut read).await
    }
    .await;
}

/// The kubelet's side: asks `path` of `replica`, within `timeout`, on a new
/// connection, as the kubelet's HTTP prober does (no keep-alive). The request
/// is the kubelet's last word (it closes its side after it); the answer is
/// read up to the replica's close, so neither side drops a connection the
/// other still sends on.
pub(crate) async fn probe(replica: &str, path: &str, timeout: Duration) -> Result<(), String> {
    let ask = async {
        let stream = TcpStream::connect((replica, HEALTH_PORT))
            .await
            .map_err(|e| e.to_string())?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::with_capacity(PROBE_BUFFER_BYTES, read);
        async {
            write.write_all(format!("{path}\n").as_bytes()).await?;
            write.shutdown().await
        }
        .await
        .map_err(|e| e.to_string())?;
        let mut line = String::new();
        let answer = match read.read_line(&mut line).await {
            Ok(0) => Err("connection closed".to_string()),
            Ok(_) if line.starts_with("200") => Ok(()),
            Ok(_) => Err(line
                .trim_end_matches('\n')
                .trim_start_matches("500 ")
                .to_string()),
            Err(e) => return Err(e.to_string()),
        };
        read_to_end(&mut read).await.map_err(|e| e.to_string())?;
        answer
    };
    match tokio::time::timeout(timeout, ask).await {
        Ok(result) => result,
        Err(_) => Err(format!("timeout after {}s", timeout.as_secs_f64())),
    }
}

/// Reads and discards until the peer closes its side.
async fn read_to_end(read: &mut BufReader<OwnedReadHalf>) -> std::io::Result<()> {
    let mut sink = [0u8; 256];
    while read.read(&mut sink).await? > 0 {}
    Ok(())
}

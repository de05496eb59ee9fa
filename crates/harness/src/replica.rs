//! A replica's container: one manager process and its probe endpoint.

use std::rc::Rc;
use std::time::Duration;

use stallsim_client::{RestClient, TurmoilTransport};
use stallsim_manager::{Health, Manager, ManagerConfig, ProcessContext};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use turmoil::net::{TcpListener, TcpStream};

use crate::pods::Pods;
use crate::trace::{Recorder, ReplicaSink};
use crate::{epoch, mix_seed, APISERVER_HOST, API_PORT};

/// The port of `/readyz` and `/healthz`.
pub(crate) const HEALTH_PORT: u16 = 8081;

type Client = RestClient<TurmoilTransport>;

/// What every start of a replica's container needs.
#[derive(Clone)]
pub(crate) struct ReplicaImage {
    pub name: String,
    pub config: ManagerConfig,
    /// From the container running to the manager starting; nothing listens
    /// or talks meanwhile.
    pub process_start: Duration,
    pub request_timeout: Duration,
    pub world_seed: u64,
    pub pods: Pods,
    pub recorder: Recorder,
}

/// One run of the container's process, from start to exit.
pub(crate) async fn run(image: Rc<ReplicaImage>) -> turmoil::Result {
    tokio::time::sleep(image.process_start).await;
    let generation = image.pods.with(&image.name, |pod| pod.generation);
    let client = RestClient::new(
        TurmoilTransport::new(APISERVER_HOST, API_PORT),
        image.request_timeout,
    );
    let seed = mix_seed(image.world_seed, &image.name, generation);
    let mut config = image.config.clone();
    // Like controller-runtime's `hostname_uuid`: every process is a new candidate.
    config.identity = format!("{}_{:08x}", image.name, seed as u32);
    let context = ProcessContext {
        client,
        sink: Rc::new(ReplicaSink {
            recorder: image.recorder.clone(),
            replica: image.name.clone(),
        }),
        seed,
        wall_clock_origin: epoch(),
    };
    let manager = Manager::new(config, context);
    let listener = TcpListener::bind(("0.0.0.0", HEALTH_PORT)).await?;
    tokio::task::spawn_local(serve_probes(listener, manager.health()));
    manager.run(image.pods.stop_signal(&image.name)).await;
    Ok(())
}

/// Answers one line (`/readyz` or `/healthz`) per connection with
/// `200 ok` or `500 <why>`.
async fn serve_probes(listener: TcpListener, health: Rc<Health<Client>>) {
    while let Ok((stream, _)) = listener.accept().await {
        let health = health.clone();
        tokio::task::spawn_local(async move {
            let (read, mut write) = stream.into_split();
            let Ok(Some(path)) = BufReader::new(read).lines().next_line().await else {
                return;
            };
            let result = match path.as_str() {
                "/readyz" => health.readyz(),
                "/healthz" => health.healthz().await,
                other => Err(format!("no such endpoint {other}")),
            };
            let answer = match result {
                Ok(()) => "200 ok\n".to_string(),
                Err(why) => format!("500 {why}\n"),
            };
            let _ = write.write_all(answer.as_bytes()).await;
        });
    }
}

/// The kubelet's side: asks `path` of `replica`, within `timeout`.
pub(crate) async fn probe(replica: &str, path: &str, timeout: Duration) -> Result<(), String> {
    let ask = async {
        let stream = TcpStream::connect((replica, HEALTH_PORT))
            .await
            .map_err(|e| e.to_string())?;
        let (read, mut write) = stream.into_split();
        write
            .write_all(format!("{path}\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        match BufReader::new(read).lines().next_line().await {
            Ok(Some(line)) if line.starts_with("200") => Ok(()),
            Ok(Some(line)) => Err(line.trim_start_matches("500 ").to_string()),
            Ok(None) => Err("connection closed".to_string()),
            Err(e) => Err(e.to_string()),
        }
    };
    match tokio::time::timeout(timeout, ask).await {
        Ok(result) => result,
        Err(_) => Err(format!("timeout after {}s", timeout.as_secs_f64())),
    }
}

//! The server's load per client and class, as both faces count it: each
//! connection under the simulated host it comes from.

use std::cell::RefCell;
use std::error::Error;
use std::rc::Rc;
use std::time::Duration;

use stallsim_apiserver::{
    lease_resource, pod_resource, serve, serve_simulated, ApiServer, ApiServerConfig, ClientLoad,
    HttpFace, RequestClass,
};
use stallsim_client::{
    ApiClient, ListParams, RestClient, TurmoilTransport, WatchParams, WatchStream,
};
use stallsim_net::{Sim, TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const JSON_PORT: u16 = 6443;
const HTTP_PORT: u16 = 6444;
const CLIENT_LIMIT: Duration = Duration::from_secs(120);

type TestResult = Result<(), Box<dyn Error>>;

/// A simulation whose host `apiserver` serves one server on both faces;
/// the server is returned so the test can read its load afterwards.
fn both_faces() -> (Sim, Rc<RefCell<ApiServer>>) {
    let mut sim = stallsim_net::Builder::new().seed(5).build();
    let server = Rc::new(RefCell::new(ApiServer::new(ApiServerConfig::default())));
    let shared = Rc::clone(&server);
    sim.host("apiserver", move || {
        let server = Rc::clone(&shared);
        async move {
            let json = TcpListener::bind(("0.0.0.0", JSON_PORT))
                .await
                .expect("free");
            let http = TcpListener::bind(("0.0.0.0", HTTP_PORT))
                .await
                .expect("free");
            let face = HttpFace::simulated(Rc::clone(&server));
            tokio::task::spawn_local(serve_simulated(http, face));
            serve(json, server).await.expect("serves");
        }
    });
    (sim, server)
}

/// One HTTP/1.1 request on a connection of its own; the status line.
async fn http_get(path: &str) -> Result<String, Box<dyn Error>> {
    let mut stream = TcpStream::connect(("apiserver", HTTP_PORT)).await?;
    let head = format!("GET {path} HTTP/1.1\r\nhost: apiserver\r\nconnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let answer = String::from_utf8(answer)?;
    Ok(answer.lines().next().unwrap_or_default().to_string())
}

fn totals(load: &ClientLoad) -> [u64; 4] {
    RequestClass::ALL.map(|class| load.class(class).total)
}

#[test]
fn each_face_counts_requests_under_the_host_they_come_from() {
    let (mut sim, server) = both_faces();
    // grm-1 speaks HTTP, on two connections: one client all the same.
    sim.host("grm-1", || async {
        let pods = "/api/v1/namespaces/garden/pods";
        for path in [
            pods,
            pods,
            "/apis",
            "/apis/coordination.k8s.io/v1/namespaces/garden/leases/grm",
        ] {
            let status = http_get(path).await.expect("answered");
            assert!(status.starts_with("HTTP/1.1 "), "{status}");
        }
        http_get(&format!("{pods}?watch=true&timeoutSeconds=1"))
            .await
            .expect("the watch ends");
    });
    // grm-0 speaks JSON lines through the client stallsim's replicas use.
    sim.run_client("grm-0", CLIENT_LIMIT, async {
        let api = RestClient::new(
            TurmoilTransport::new("apiserver", JSON_PORT),
            Duration::from_secs(5),
        );
        for _ in 0..3 {
            api.list(&pod_resource(), &ListParams::default()).await?;
        }
        let params = WatchParams {
            timeout_seconds: Some(1),
            ..WatchParams::default()
        };
        let mut watch = api.watch(&pod_resource(), &params).await?;
        while watch.next().await.is_some() {}
        let missing = api.get(&lease_resource(), Some("garden"), "grm").await;
        assert!(missing.is_err_and(|e| e.is_not_found()));
        // Outlive grm-1's requests.
        tokio::time::sleep(Duration::from_secs(5)).await;
        TestResult::Ok(())
    })
    .expect("the client ends within its limit")
    .expect("the client succeeds");

    let server = server.borrow();
    let loads = server.client_loads();
    let names: Vec<&str> = loads.iter().map(|l| l.client.as_str()).collect();
    assert_eq!(names, ["grm-0", "grm-1"]);
    // LIST, WATCH, lease, other.
    assert_eq!(totals(&loads[0]), [3, 1, 1, 0], "{:?}", loads[0]);
    assert_eq!(totals(&loads[1]), [2, 1, 1, 1], "{:?}", loads[1]);
    assert_eq!(loads[0].list.peak_per_minute, 3);
    let per_client: u64 = loads.iter().flat_map(totals).sum();
    assert_eq!(
        server.load().total,
        per_client,
        "every request has its client"
    );
}

//! A server on a loopback socket, served from its own thread.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;

use stallsim_apiserver::{ApiServer, ApiServerConfig, CrdSpec, HttpFace};

/// Starts a server with `crds` on `127.0.0.1`, a free port, served by a
/// thread of its own until the test process ends; returns its address.
pub fn spawn_server(config: ApiServerConfig, crds: Vec<CrdSpec>) -> SocketAddr {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            sender
                .send(listener.local_addr().expect("an address"))
                .expect("the test waits for the address");
            let mut server = ApiServer::new(config);
            for crd in &crds {
                server.install_crd(crd, std::time::Duration::ZERO);
            }
            let server = Rc::new(RefCell::new(server));
            let face = HttpFace::since(server, tokio::time::Instant::now());
            let _ = stallsim_apiserver::serve_tcp(listener, face).await;
        });
    });
    receiver
        .recv()
        .expect("the server thread sends its address")
}

/// A `kube::Client` for the server at `address`, over plain HTTP.
pub fn kube_client(address: SocketAddr) -> kube::Client {
    let url: hyper::Uri = format!("http://{address}").parse().expect("a URL");
    let mut config = kube::Config::new(url);
    config.default_namespace = "default".to_string();
    kube::Client::try_from(config).expect("a client without TLS")
}

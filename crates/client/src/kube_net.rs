//! A `kube::Client` whose requests cross turmoil-net's simulated TCP:
//! hyper-util's pooling HTTP/1.1 client on a connector that dials
//! `stallsim-net` sockets, under kube-rs's own request handling.
//!
//! Build the client inside the simulated host that uses it, and build it
//! again in every new process: its connections, and the tasks that drive
//! them, belong to the host that opened them and go with its process.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use kube::client::middleware::BaseUriLayer;
use stallsim_net::TcpStream;
use tower::Layer;

/// A `kube::Client` that talks HTTP/1.1 to `server:port` across the
/// simulated network, keeping connections alive in hyper-util's pool as a
/// kube-rs client in a cluster does.
///
/// Call this within a simulated host (a `LocalSet`): the tasks that drive
/// its connections are spawned there.
pub fn kube_client_over_net(server: &str, port: u16) -> kube::Client {
    let connector = NetConnector {
        server: server.to_string(),
        port,
    };
    let http = hyper_util::client::legacy::Client::builder(LocalExecutor).build(connector);
    let base: Uri = format!("http://{server}:{port}")
        .parse()
        .expect("a host name and a port make a URI");
    kube::Client::new(BaseUriLayer::new(base).layer(http), "default")
}

/// Why a connection may not be opened outside every host.
pub const OUTSIDE_HOSTS: &str =
    "a connection was used by a task outside every simulated host: a task spawned with \
     tokio::spawn (or Handle::spawn, as kube-runtime's Controller::run spawns each reconcile) \
     runs on the runtime itself, where no host's network is; spawn a program's tasks with \
     tokio::task::spawn_local, which keeps them in its host, and hand a reconcile's requests \
     to a future the process polls (docs/your-controller.md, the worked example's HostWork)";

/// Spawns hyper's connection tasks on the current host's `LocalSet`, so
/// they run with its sockets and die with its process.
#[derive(Clone, Copy, Debug)]
struct LocalExecutor;

impl<F> hyper::rt::Executor<F> for LocalExecutor
where
    F: Future<Output = ()> + 'static,
{
    fn execute(&self, future: F) {
        assert!(stallsim_net::in_host(), "{OUTSIDE_HOSTS}");
        tokio::task::spawn_local(future);
    }
}

/// Dials the API server whatever the URI says: there is one server.
#[derive(Clone, Debug)]
struct NetConnector {
    server: String,
    port: u16,
}

impl tower::Service<Uri> for NetConnector {
    type Response = NetStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<NetStream>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let (server, port) = (self.server.clone(), self.port);
        Box::pin(async move {
            assert!(stallsim_net::in_host(), "{OUTSIDE_HOSTS}");
            let stream = TcpStream::connect((server.as_str(), port)).await?;
            Ok(NetStream(TokioIo::new(stream)))
        })
    }
}

/// A simulated TCP stream as hyper reads and writes it.
struct NetStream(TokioIo<TcpStream>);

impl Connection for NetStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl Read for NetStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl Write for NetStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

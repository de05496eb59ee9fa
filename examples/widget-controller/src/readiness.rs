//! Readiness: what the process reports at `/readyz`, served with hyper
//! over any byte stream (a TCP connection on a cluster, a simulated one
//! in stallsim).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// Where the process is: what its readiness reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Starting, before it first tried the lease: not ready.
    Starting,
    /// A standby, waiting for the lease: ready (it serves what a standby
    /// serves: nothing that needs the lease).
    Standby,
    /// The leader, its controller's store not yet synced: not ready.
    Syncing,
    /// The leader, its store synced: ready.
    Leading,
    /// The leader of a cluster that does not serve widgets: ready, with
    /// nothing to reconcile ([`Design::CheckServed`](crate::Design)).
    Unserved,
}

impl State {
    /// Whether `/readyz` answers 200.
    pub fn is_ready(self) -> bool {
        matches!(self, State::Standby | State::Leading | State::Unserved)
    }

    fn word(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Standby => "standby",
            State::Syncing => "leader, store not synced",
            State::Leading => "leader, store synced",
            State::Unserved => "leader, widgets not served",
        }
    }
}

/// The shared readiness of one process; cloned into every connection.
#[derive(Clone, Debug)]
pub struct Readiness(Arc<Mutex<State>>);

impl Default for Readiness {
    fn default() -> Self {
        Readiness(Arc::new(Mutex::new(State::Starting)))
    }
}

impl Readiness {
    pub fn set(&self, state: State) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = state;
    }

    pub fn get(&self) -> State {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Serves HTTP/1.1 on one connection until the peer closes it:
    /// `/readyz` answers 200 when ready, 503 when not; any other path 404.
    pub async fn serve<S>(self, stream: S) -> Result<(), hyper::Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let service = service_fn(move |request: Request<Incoming>| {
            let state = self.get();
            async move { Ok::<_, Infallible>(answer(request.uri().path(), state)) }
        });
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await
    }
}

fn answer(path: &str, state: State) -> Response<Full<Bytes>> {
    let (status, body) = match path {
        "/readyz" if state.is_ready() => (StatusCode::OK, format!("ok: {}\n", state.word())),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", state.word()),
        ),
        _ => (StatusCode::NOT_FOUND, "not found\n".to_string()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(readiness: &Readiness, path: &str) -> String {
        let (client, server) = tokio::io::duplex(4096);
        let serving = tokio::spawn(readiness.clone().serve(server));
        let (mut read, mut write) = tokio::io::split(client);
        let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        write.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        read.read_to_string(&mut answer).await.unwrap();
        serving.await.unwrap().unwrap();
        answer
    }

    #[tokio::test]
    async fn readyz_follows_the_state() {
        let readiness = Readiness::default();
        let cases = [
            (State::Starting, "503", "starting"),
            (State::Standby, "200", "standby"),
            (State::Syncing, "503", "not synced"),
            (State::Leading, "200", "store synced"),
            (State::Unserved, "200", "not served"),
        ];
        for (state, code, word) in cases {
            readiness.set(state);
            let answer = get(&readiness, "/readyz").await;
            assert!(answer.starts_with(&format!("HTTP/1.1 {code}")), "{answer}");
            assert!(answer.contains(word), "{answer}");
        }
        assert!(get(&readiness, "/metrics")
            .await
            .starts_with("HTTP/1.1 404"));
    }
}

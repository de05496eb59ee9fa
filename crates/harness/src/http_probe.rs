//! The kubelet's HTTP prober: a probe with `httpGet` is a real HTTP/1.1
//! GET over the simulated network to the pod's port, judged as the
//! kubelet judges it.
//!
//! Upstream (kubernetes v1.33): `pkg/probe/http/request.go` builds the
//! request (`NewProbeRequest`: `User-Agent: kube-probe/<major>.<minor>`,
//! `Accept: */*`), and `pkg/probe/http/http.go` sends it on a client that
//! keeps no connection alive (`DisableKeepAlives`) and judges the answer
//! (`DoHTTPProbe`): a status from 200 to 399 succeeds, any other fails
//! (`HTTP probe failed with statuscode: <code>`), as do a refused
//! connection and a timeout; it reads at most 10 KiB of the body
//! (`maxRespBodyLength`). Here the failure's detail is the body's first
//! line, when it has one, and redirects are not followed (a 3xx passes,
//! as the kubelet passes a redirect to another host).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use stallsim_net::TcpStream;

use crate::HttpGet;

/// The kubelet reads at most this much of a probe's answer
/// (`maxRespBodyLength` in `pkg/probe/http/http.go`).
const BODY_BYTES_MAX: usize = 10 * 1024;

/// The prober's `User-Agent` (`kube-probe/<major>.<minor>`).
const USER_AGENT: &str = "kube-probe/1.33";

/// Asks `http://<pod>:<port><path>` once, on a new connection, within
/// `timeout`: `Ok` for a status from 200 to 399, else why not.
pub(crate) async fn http_probe(pod: &str, get: &HttpGet, timeout: Duration) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let stream = match tokio::time::timeout_at(deadline, TcpStream::connect((pod, get.port))).await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            return Err(format!(
                "Get \"http://{pod}:{}{}\": {error}",
                get.port, get.path
            ))
        }
        Err(_) => return Err(timed_out(timeout)),
    };
    let handshake = hyper::client::conn::http1::handshake(TokioIo::new(stream));
    let (mut sender, connection) = match tokio::time::timeout_at(deadline, handshake).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(error)) => return Err(error.to_string()),
        Err(_) => return Err(timed_out(timeout)),
    };
    // The connection runs beside the exchange, in the kubelet's host, and
    // goes when the probe is done (the socket with it).
    let mut connection = AbortOnDrop(tokio::task::spawn_local(async move {
        let _ = connection.await;
    }));
    let request = http::Request::get(get.path.as_str())
        .header(http::header::HOST, format!("{pod}:{}", get.port))
        .header(http::header::USER_AGENT, USER_AGENT)
        .header(http::header::ACCEPT, "*/*")
        .header(http::header::CONNECTION, "close")
        .body(Empty::<Bytes>::new());
    let Ok(request) = request else {
        return Err(format!("`{}` is not a path a request can carry", get.path));
    };
    let exchange = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = Limited::new(response.into_body(), BODY_BYTES_MAX)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Ok::<_, String>((status, body))
    };
    let answered = tokio::time::timeout_at(deadline, exchange).await;
    // The request said `Connection: close`: the connection ends once
    // answered; let it close cleanly, within what is left of the timeout.
    if answered.is_ok() {
        let _ = tokio::time::timeout_at(deadline, &mut connection.0).await;
    }
    let (status, body) = match answered {
        Ok(result) => result?,
        Err(_) => return Err(timed_out(timeout)),
    };
    if (200..400).contains(&status.as_u16()) {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&body);
    match text.lines().next().map(str::trim).filter(|l| !l.is_empty()) {
        Some(line) => Err(line.to_string()),
        None => Err(format!(
            "HTTP probe failed with statuscode: {}",
            status.as_u16()
        )),
    }
}

fn timed_out(timeout: Duration) -> String {
    format!("timeout after {}s", timeout.as_secs_f64())
}

/// A task aborted when its handle goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

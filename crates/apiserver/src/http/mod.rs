//! [`HttpFace`]: the server's face in Kubernetes' own protocol, HTTP/1.1
//! with JSON bodies, served by hyper over any byte stream.
//!
//! Each request is read into a [`stallsim_core::Request`] (`request.rs`)
//! and answered by [`ApiServer::handle`], so the HTTP face and the JSON-line
//! face share one store, one version counter and one set of watches. A
//! watch answers `200` with a chunked body of newline-delimited
//! `{"type": ..., "object": ...}` events (`body.rs`), ended after the
//! request's `timeoutSeconds` or when the server ends the feed. A request
//! the face cannot read (an unknown method, a body that is not JSON, too
//! large, or of another media type, a malformed query value) is answered
//! with a 4xx `Status` and never reaches the store.
//!
//! The face reads time only through its [`Clock`]: tokio time since a given
//! instant ([`HttpFace::since`], for a real socket), or turmoil's simulated
//! time ([`HttpFace::simulated`]), so it can serve simulated TCP as well.

mod body;
mod idle;
mod request;

use std::cell::RefCell;
use std::convert::Infallible;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::StatusCode;
use hyper_util::rt::TokioIo;
use stallsim_core::Response;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::time::Instant;

use self::idle::{Activity, Watched};
use crate::load::ClientId;
use crate::pump::{Clock, FramePump};
use crate::serve::peer_client;
use crate::server::{ApiServer, Reply};
use crate::status::{failure, unauthorized};

pub use body::ReplyBody;
pub use idle::ConnectionTimeouts;
pub use request::REQUEST_BODY_BYTES_MAX;

/// Pause after a failed `accept` (too many open files, a connection reset
/// before it was accepted) before the next one.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);

/// The server behind its HTTP face: answers hyper requests through
/// [`ApiServer::handle`] with the `now` its clock gives.
///
/// Clones share the server. Not `Send`: serve its connections on one
/// thread (a `LocalSet`, or a turmoil host).
#[derive(Clone)]
pub struct HttpFace {
    server: Rc<RefCell<ApiServer>>,
    clock: Clock,
    /// Whose requests this face answers, for the server's per-client load.
    client: Option<ClientId>,
    /// The bearer token every request must carry, if any.
    token: Option<Rc<str>>,
    /// How long a connection may wait on its client; none in a simulation.
    timeouts: Option<ConnectionTimeouts>,
}

impl HttpFace {
    /// A face whose server time is the tokio time elapsed since `start`.
    pub fn since(server: Rc<RefCell<ApiServer>>, start: Instant) -> Self {
        HttpFace {
            server,
            clock: Clock::Since(start),
            client: None,
            token: None,
            timeouts: None,
        }
    }

    /// A face whose server time is the simulation's
    /// ([`stallsim_net::elapsed`]); for a simulated host.
    pub fn simulated(server: Rc<RefCell<ApiServer>>) -> Self {
        HttpFace {
            server,
            clock: Clock::Simulation,
            client: None,
            token: None,
            timeouts: None,
        }
    }

    /// This face for the requests of the peer named `name` (what the
    /// server sees at the other end of the connection: a simulated host's
    /// name), counted under it in [`ApiServer::client_loads`]. Without it,
    /// requests count in the overall load only.
    pub fn for_client(&self, name: &str) -> HttpFace {
        HttpFace {
            client: Some(self.server.borrow_mut().client(name)),
            ..self.clone()
        }
    }

    /// This face answering only requests that carry `token` as a bearer
    /// token (`Authorization: Bearer TOKEN`); others get a `401` Status.
    pub fn with_token(self, token: &str) -> HttpFace {
        HttpFace {
            token: Some(Rc::from(token)),
            ..self
        }
    }

    /// This face closing connections that overstay `timeouts`, and
    /// answering `504` to a body not read within them. For real sockets:
    /// the bounds are read on tokio's clock.
    pub fn with_timeouts(self, timeouts: ConnectionTimeouts) -> HttpFace {
        HttpFace {
            timeouts: Some(timeouts),
            ..self
        }
    }

    /// The server this face answers for.
    pub fn server(&self) -> &Rc<RefCell<ApiServer>> {
        &self.server
    }

    /// Serves HTTP/1.1 on one connection until the client closes it, or
    /// until hyper gives up on it (a malformed request head, a write to a
    /// client that left). Requests on it are answered one after the other;
    /// a watch holds it until the watch ends or the client leaves.
    ///
    /// With [timeouts](HttpFace::with_timeouts), a connection that sends no
    /// request within them, or too slowly, is closed.
    pub async fn serve_connection<S>(&self, stream: S) -> Result<(), hyper::Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let Some(timeouts) = self.timeouts else {
            return self.serve_requests(stream, None).await;
        };
        let activity = Activity::new();
        let stream = Watched::new(stream, Rc::clone(&activity));
        tokio::select! {
            served = self.serve_requests(stream, Some(&activity)) => served,
            // Dropping the connection closes it.
            () = activity.expired(&timeouts) => Ok(()),
        }
    }

    async fn serve_requests<S>(
        &self,
        stream: S,
        activity: Option<&Rc<Activity>>,
    ) -> Result<(), hyper::Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let face = self.clone();
        let activity = activity.cloned();
        let service = service_fn(move |request| {
            let face = face.clone();
            let in_flight = activity.as_ref().map(Activity::request_started);
            async move {
                let mut answer = face.answer(request).await;
                answer.body_mut().hold(in_flight);
                Ok::<_, Infallible>(answer)
            }
        });
        http1::Builder::new()
            // hyper stamps answers from the wall clock; a simulated run reads none.
            .auto_date_header(!matches!(self.clock, Clock::Simulation))
            .serve_connection(TokioIo::new(stream), service)
            .await
    }

    /// Answers one HTTP request.
    pub async fn answer(&self, request: hyper::Request<Incoming>) -> hyper::Response<ReplyBody> {
        if !self.authorized(&request) {
            return respond(failure(&unauthorized()));
        }
        let body_read = self.timeouts.map(|timeouts| timeouts.body_read);
        let request = match request::read(request, body_read).await {
            Ok(request) => request,
            Err(error) => return respond(failure(&error)),
        };
        let now = self.clock.now();
        let reply = self
            .server
            .borrow_mut()
            .handle_from(self.client, request, now);
        match reply {
            Reply::Response(response) => respond(response),
            Reply::Watch(feed) => {
                let pump = FramePump::new(feed, Rc::clone(&self.server), self.clock);
                let mut answer = hyper::Response::new(ReplyBody::watch(pump));
                answer
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                answer
            }
        }
    }
}

impl HttpFace {
    /// Whether the request carries the face's bearer token, if it has one.
    fn authorized(&self, request: &hyper::Request<Incoming>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let given = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, given)| given.trim());
        given.is_some_and(|given| same_bytes(given.as_bytes(), token.as_bytes()))
    }
}

/// Compares in time that depends on the lengths only, so a token cannot
/// be guessed a byte at a time from how long a refusal takes.
fn same_bytes(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

impl std::fmt::Debug for HttpFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpFace")
            .field("clock", &self.clock)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

/// A whole answer: its code and its JSON body.
fn respond(response: Response) -> hyper::Response<ReplyBody> {
    let body = response.body.text().as_bytes().to_vec();
    let mut answer = hyper::Response::new(ReplyBody::full(body));
    *answer.status_mut() =
        StatusCode::from_u16(response.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    answer
}

/// Serves `face` on a simulated listener, each connection in its own task
/// and counted under its peer's host name ([`stallsim_net::host_name`]),
/// until accepting fails.
///
/// Connections are spawned with [`tokio::task::spawn_local`]: call this
/// within a simulated host.
pub async fn serve_simulated(
    listener: stallsim_net::TcpListener,
    face: HttpFace,
) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let face = HttpFace {
            client: peer_client(&face.server, peer),
            ..face.clone()
        };
        tokio::task::spawn_local(async move {
            // An error means the client is gone or spoke no HTTP.
            let _ = face.serve_connection(stream).await;
        });
    }
}

/// Serves `face` on a TCP listener, each connection in its own task, until
/// the task is dropped. A failed accept is retried after a short pause.
///
/// Connections are spawned with [`tokio::task::spawn_local`]: call this
/// within a `LocalSet`.
pub async fn serve_tcp(listener: TcpListener, face: HttpFace) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                // Small requests and answers: send each at once.
                let _ = stream.set_nodelay(true);
                let face = face.clone();
                tokio::task::spawn_local(async move {
                    // An error means the client is gone or spoke no HTTP;
                    // the connection is closed either way.
                    let _ = face.serve_connection(stream).await;
                });
            }
            Err(_) => tokio::time::sleep(ACCEPT_RETRY_DELAY).await,
        }
    }
}

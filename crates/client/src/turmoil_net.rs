//! [`TurmoilTransport`]: requests over turmoil-net's simulated TCP on kept-alive
//! connections. Kubernetes clients keep their connection to the API server
//! (client-go multiplexes one HTTP/2 connection, kube-rs pools HTTP/1.1 ones
//! through hyper), so a request seldom pays for a handshake; this
//! transport pools connections as hyper does.

use std::cell::RefCell;
use std::rc::Rc;

use stallsim_net::TcpStream;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{ApiError, Body, FrameStream, Request, Response, Transport, STREAM_END};

/// Reaches the API server host `server` on `port` across the simulated network.
///
/// Clones share one pool of idle connections, like clones of a kube-rs
/// `Client`. A request takes the most recently used idle connection (or
/// opens one: a SYN on the wire) and puts it back once its answer has been
/// read in full; concurrent requests use one connection each. A watch holds
/// its connection for the whole stream and gives it back when the server
/// ends the stream. A connection that failed, or whose exchange was cut
/// short (a timeout dropped the request), is dropped, not reused: the next
/// request connects afresh.
#[derive(Clone, Debug)]
pub struct TurmoilTransport {
    server: String,
    port: u16,
    idle: Rc<RefCell<Vec<Connection>>>,
}

/// One connection to the server; between exchanges nothing is unread on it.
type Connection = BufReader<TcpStream>;

impl TurmoilTransport {
    pub fn new(server: impl Into<String>, port: u16) -> Self {
        TurmoilTransport {
            server: server.into(),
            port,
            idle: Rc::default(),
        }
    }

    /// The most recently used idle connection, or a new one.
    async fn checkout(&self) -> Result<Connection, ApiError> {
        let reused = self.idle.borrow_mut().pop();
        match reused {
            Some(connection) => Ok(connection),
            None => TcpStream::connect((self.server.as_str(), self.port))
                .await
                .map(BufReader::new)
                .map_err(unavailable),
        }
    }

    /// Sends `request` and reads its answer's head line.
    async fn exchange(&self, request: &Request) -> Result<(Connection, Response), ApiError> {
        let mut line = serde_json::to_vec(request).map_err(|e| ApiError::Decode(e.to_string()))?;
        line.push(b'\n');
        let mut connection = self.checkout().await?;
        connection.write_all(&line).await.map_err(unavailable)?;
        // Straight from the line into the head, its body kept as text for
        // the caller to read into its own type.
        let mut line = String::new();
        match connection.read_line(&mut line).await {
            Ok(0) => Err(ApiError::Unavailable(
                "connection closed before an answer".into(),
            )),
            Ok(_) => {
                let head =
                    serde_json::from_str(&line).map_err(|e| ApiError::Decode(e.to_string()))?;
                Ok((connection, head))
            }
            Err(error) => Err(unavailable(error)),
        }
    }
}

fn unavailable(error: std::io::Error) -> ApiError {
    ApiError::Unavailable(error.to_string())
}

/// The next line, as read; `None` once the server closed the connection.
async fn read_frame_line(connection: &mut Connection) -> Option<Result<String, ApiError>> {
    let mut line = String::new();
    match connection.read_line(&mut line).await {
        Ok(0) => None,
        Ok(_) => Some(Ok(line)),
        Err(error) => Some(Err(unavailable(error))),
    }
}

/// Gives a connection back to `idle` once its exchange is complete.
fn check_in(idle: &RefCell<Vec<Connection>>, connection: Connection) {
    idle.borrow_mut().push(connection);
}

impl Transport for TurmoilTransport {
    type Stream = TurmoilFrames;

    async fn request(&self, request: Request) -> Result<Response, ApiError> {
        let (connection, head) = self.exchange(&request).await?;
        check_in(&self.idle, connection);
        Ok(head)
    }

    async fn stream(&self, request: Request) -> Result<(Response, Option<Self::Stream>), ApiError> {
        let (connection, head) = self.exchange(&request).await?;
        if !head.is_success() {
            // A refused watch is a single answer: the connection is free again.
            check_in(&self.idle, connection);
            return Ok((head, None));
        }
        let frames = TurmoilFrames {
            connection: Some(connection),
            idle: Rc::clone(&self.idle),
        };
        Ok((head, Some(frames)))
    }
}

/// The frames of a streaming answer on a turmoil connection.
///
/// Dropped before the stream's end, it closes its connection: the server
/// sees the client leave and ends the watch, as with an HTTP/1.1 client.
pub struct TurmoilFrames {
    /// `None` once the stream ended.
    connection: Option<Connection>,
    idle: Rc<RefCell<Vec<Connection>>>,
}

impl FrameStream for TurmoilFrames {
    async fn next_frame(&mut self) -> Option<Result<Body, ApiError>> {
        let connection = self.connection.as_mut()?;
        match read_frame_line(connection).await {
            Some(Ok(line)) if line.trim_end() == STREAM_END => {
                if let Some(connection) = self.connection.take() {
                    check_in(&self.idle, connection);
                }
                None
            }
            Some(Ok(line)) => match Body::parse(&line) {
                Ok(frame) => Some(Ok(frame)),
                // Not a frame: the stream cannot be read on, and goes.
                Err(error) => {
                    self.connection = None;
                    Some(Err(ApiError::Decode(error.to_string())))
                }
            },
            // Closed or broken: the connection goes with the stream.
            Some(Err(error)) => {
                self.connection = None;
                Some(Err(error))
            }
            None => {
                self.connection = None;
                None
            }
        }
    }
}

//! [`TurmoilTransport`]: requests over turmoil's simulated TCP, one
//! connection per request (a watch keeps its connection for its stream).

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use turmoil::net::{tcp::OwnedReadHalf, TcpStream};

use crate::{ApiError, FrameStream, Request, Response, Transport};

/// Reaches the API server host `server` on `port` across turmoil's network.
#[derive(Clone, Debug)]
pub struct TurmoilTransport {
    server: String,
    port: u16,
}

impl TurmoilTransport {
    pub fn new(server: impl Into<String>, port: u16) -> Self {
        TurmoilTransport {
            server: server.into(),
            port,
        }
    }

    async fn send(&self, request: &Request) -> Result<Lines<BufReader<OwnedReadHalf>>, ApiError> {
        let stream = TcpStream::connect((self.server.as_str(), self.port))
            .await
            .map_err(unavailable)?;
        let (read, mut write) = stream.into_split();
        let mut line = serde_json::to_vec(request).map_err(|e| ApiError::Decode(e.to_string()))?;
        line.push(b'\n');
        write.write_all(&line).await.map_err(unavailable)?;
        Ok(BufReader::new(read).lines())
    }
}

fn unavailable(error: std::io::Error) -> ApiError {
    ApiError::Unavailable(error.to_string())
}

async fn read_value(
    lines: &mut Lines<BufReader<OwnedReadHalf>>,
) -> Option<Result<Value, ApiError>> {
    match lines.next_line().await {
        Ok(Some(line)) => {
            Some(serde_json::from_str(&line).map_err(|e| ApiError::Decode(e.to_string())))
        }
        Ok(None) => None,
        Err(error) => Some(Err(unavailable(error))),
    }
}

async fn read_head(lines: &mut Lines<BufReader<OwnedReadHalf>>) -> Result<Response, ApiError> {
    let value = read_value(lines).await.unwrap_or_else(|| {
        Err(ApiError::Unavailable(
            "connection closed before an answer".into(),
        ))
    })?;
    serde_json::from_value(value).map_err(|e| ApiError::Decode(e.to_string()))
}

impl Transport for TurmoilTransport {
    type Stream = TurmoilFrames;

    async fn request(&self, request: Request) -> Result<Response, ApiError> {
        let mut lines = self.send(&request).await?;
        read_head(&mut lines).await
    }

    async fn stream(&self, request: Request) -> Result<(Response, Option<Self::Stream>), ApiError> {
        let mut lines = self.send(&request).await?;
        let head = read_head(&mut lines).await?;
        let frames = head.is_success().then_some(TurmoilFrames { lines });
        Ok((head, frames))
    }
}

/// The frames of a streaming answer on a turmoil connection.
pub struct TurmoilFrames {
    lines: Lines<BufReader<OwnedReadHalf>>,
}

impl FrameStream for TurmoilFrames {
    async fn next_frame(&mut self) -> Option<Result<Value, ApiError>> {
        read_value(&mut self.lines).await
    }
}

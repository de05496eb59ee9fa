//! [`serve`]: the server's face on turmoil's network, one JSON-line request per connection.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use serde::Serialize;
use serde_json::Value;
use stallsim_client::{Request, Response};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use turmoil::net::tcp::OwnedWriteHalf;
use turmoil::net::{TcpListener, TcpStream};

use crate::pump::{Clock, FramePump};
use crate::server::{ApiServer, Reply};
use crate::status::{bad_request, failure};

/// The longest request line read; a longer one is answered 400.
const REQUEST_LINE_BYTES_MAX: u64 = 4 * 1024 * 1024;

/// Serves `server` on a turmoil listener until accepting fails.
///
/// Each connection carries one JSON-line [`Request`] and gets one JSON-line
/// [`Response`]. A watch gets a `Response { code: 200, body: null }` head
/// line, then one JSON line per frame; it ends after `timeoutSeconds`, when
/// the server ends the feed, or when a write fails. Watches that allow
/// bookmarks get a `BOOKMARK` frame with the server's current version every
/// `bookmark_interval`. The server's clock is [`turmoil::sim_elapsed`]; while
/// a watch is open, its connection also wakes the server when work falls due
/// ([`ApiServer::next_due`]).
///
/// Connections are served by tasks spawned with
/// [`tokio::task::spawn_local`]: call this within a turmoil host (which runs
/// in a `LocalSet`).
pub async fn serve(listener: TcpListener, server: Rc<RefCell<ApiServer>>) -> io::Result<()> {
    loop {
        let (stream, _peer) = listener.accept().await?;
        let server = Rc::clone(&server);
        tokio::task::spawn_local(async move {
            // A failed write means the client is gone; nothing is left to do.
            let _ = connection(stream, server).await;
        });
    }
}

async fn connection(stream: TcpStream, server: Rc<RefCell<ApiServer>>) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let read_bytes = BufReader::new(read)
        .take(REQUEST_LINE_BYTES_MAX)
        .read_line(&mut line)
        .await?;
    if read_bytes == 0 {
        return Ok(());
    }
    let reply = match serde_json::from_str::<Request>(&line) {
        Ok(request) => {
            let now = Clock::Simulation.now();
            let reply = server.borrow_mut().handle(request, now);
            reply
        }
        Err(error) => Reply::Response(failure(&bad_request(format!(
            "the request is not a JSON-line request: {error}"
        )))),
    };
    match reply {
        Reply::Response(response) => write_line(&mut write, &response).await,
        Reply::Watch(feed) => {
            write_line(&mut write, &Response::ok(Value::Null)).await?;
            let mut pump = FramePump::new(feed, server, Clock::Simulation);
            while let Some(frame) = pump.next_frame().await {
                write_line(&mut write, &frame).await?;
            }
            Ok(())
        }
    }
}

async fn write_line(write: &mut OwnedWriteHalf, value: &impl Serialize) -> io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    write.write_all(&line).await
}

//! [`serve`]: the server's face on the simulated network, JSON-line requests on
//! kept-alive connections, answered in order.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use serde::Serialize;
use stallsim_core::{Request, Response, STREAM_END};
use stallsim_net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::load::ClientId;
use crate::pump::{Clock, FramePump};
use crate::server::{ApiServer, Reply};
use crate::status::{bad_request, failure};

/// The longest request line read; a longer one is answered 400 and ends
/// the connection.
const REQUEST_LINE_BYTES_MAX: u64 = 4 * 1024 * 1024;

/// Serves `server` on a simulated listener until accepting fails.
///
/// A connection carries JSON-line [`Request`]s one after the other, each
/// answered in order by one JSON-line [`Response`], until the client closes
/// it. A watch gets a `Response { code: 200, body: null }` head line, then
/// one JSON line per frame, then a [`STREAM_END`] line when it ends: after
/// `timeoutSeconds`, or when the server ends the feed. A client that closes
/// the connection during a watch ends it. Watches that allow bookmarks get a
/// `BOOKMARK` frame with the server's current version every
/// `bookmark_interval`. The server's clock is [`stallsim_net::elapsed`]; while
/// a watch is open, its connection also wakes the server when work falls due
/// ([`ApiServer::next_due`]).
///
/// The server reads a connection to its end before dropping it, so the
/// client's last segments never meet a closed socket (the network answers
/// those with a reset).
///
/// Each connection's requests are counted under its peer's host name
/// ([`stallsim_net::host_name`]; [`ApiServer::client_loads`]), as a real
/// server's request metrics would see the client.
///
/// Connections are served by tasks spawned with
/// [`tokio::task::spawn_local`]: call this within a simulated host (which
/// runs in a `LocalSet`).
pub async fn serve(listener: TcpListener, server: Rc<RefCell<ApiServer>>) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let client = peer_client(&server, peer);
        let server = Rc::clone(&server);
        tokio::task::spawn_local(async move {
            // A failed read or write means the client is gone; nothing is left to do.
            let _ = connection(stream, server, client).await;
        });
    }
}

/// The client a connection from `peer` counts under: its simulated host,
/// or none when the network cannot name it.
pub(crate) fn peer_client(
    server: &RefCell<ApiServer>,
    peer: std::net::SocketAddr,
) -> Option<ClientId> {
    let name = stallsim_net::host_name(peer.ip())?;
    Some(server.borrow_mut().client(&name))
}

async fn connection(
    stream: TcpStream,
    server: Rc<RefCell<ApiServer>>,
    client: Option<ClientId>,
) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut line = String::new();
        let read_bytes = (&mut read)
            .take(REQUEST_LINE_BYTES_MAX)
            .read_line(&mut line)
            .await?;
        if read_bytes == 0 {
            // The client closed the connection; everything it sent was read.
            return Ok(());
        }
        let cut_short = read_bytes as u64 == REQUEST_LINE_BYTES_MAX && !line.ends_with('\n');
        let reply = if cut_short {
            Reply::Response(failure(&bad_request(format!(
                "the request line is longer than {REQUEST_LINE_BYTES_MAX} bytes"
            ))))
        } else {
            match serde_json::from_str::<Request>(&line) {
                Ok(request) => {
                    let now = Clock::Simulation.now();
                    let reply = server.borrow_mut().handle_from(client, request, now);
                    reply
                }
                Err(error) => Reply::Response(failure(&bad_request(format!(
                    "the request is not a JSON-line request: {error}"
                )))),
            }
        };
        match reply {
            Reply::Response(response) => write_line(&mut write, &response).await?,
            Reply::Watch(feed) => {
                write_line(&mut write, &Response::watch_head()).await?;
                let pump = FramePump::new(feed, Rc::clone(&server), Clock::Simulation);
                if !stream_watch(pump, &mut read, &mut write).await? {
                    // The client left the watch and closed the connection.
                    return Ok(());
                }
            }
        }
        if cut_short {
            // The rest of the line cannot be told from a request: close, and
            // read on to the client's end so that nothing it sends is reset.
            write.shutdown().await?;
            return drain(&mut read).await;
        }
    }
}

/// Writes the watch's frames and its end line. False when the client closed
/// the connection first: the watch ends with nothing more written.
async fn stream_watch(
    mut pump: FramePump,
    read: &mut BufReader<OwnedReadHalf>,
    write: &mut OwnedWriteHalf,
) -> io::Result<bool> {
    // Bytes sent during a watch (a pipelined request) wait their turn; only
    // the connection's end is looked for, and only while nothing is pending.
    let mut watching_read = true;
    loop {
        tokio::select! {
            biased;
            pending = read.fill_buf(), if watching_read => {
                if pending?.is_empty() {
                    return Ok(false);
                }
                watching_read = false;
            }
            frame = pump.next_frame() => match frame {
                Some(frame) => write_line(write, &frame).await?,
                None => break,
            },
        }
    }
    write.write_all(STREAM_END.as_bytes()).await?;
    write.write_all(b"\n").await?;
    Ok(true)
}

/// Reads and discards until the client closes its side.
async fn drain(read: &mut BufReader<OwnedReadHalf>) -> io::Result<()> {
    let mut sink = [0u8; 4096];
    while read.read(&mut sink).await? > 0 {}
    Ok(())
}

async fn write_line(write: &mut OwnedWriteHalf, value: &impl Serialize) -> io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    write.write_all(&line).await
}

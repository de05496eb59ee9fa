//! [`ConnectionTimeouts`]: how long a connection on a real socket may sit
//! idle, or take to send a request, before the face closes it.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::{sleep_until, Instant};

/// How long a connection may wait on its client, as kube-apiserver bounds
/// it (k8s.io/apiserver/pkg/server/secure_serving.go, the `http.Server` it
/// builds; its default `--request-timeout` for the body).
///
/// For real sockets only: inside a simulation time is simulated, and the
/// simulated faces set none of these, so a run's behaviour does not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionTimeouts {
    /// From the first byte of a request until the end of its header
    /// (Go's `ReadHeaderTimeout`, 32s upstream).
    pub header_read: Duration,
    /// How long a kept-alive connection waits for its next request once
    /// its last answer was sent, or a new one for its first (Go's
    /// `IdleTimeout`, 90s upstream, matching client-go's idle timeout).
    pub idle: Duration,
    /// How long reading a request's body may take (kube-apiserver's
    /// default `--request-timeout`, 60s); past it the answer is `504`.
    pub body_read: Duration,
}

impl ConnectionTimeouts {
    /// kube-apiserver's own bounds.
    pub const KUBE_APISERVER: ConnectionTimeouts = ConnectionTimeouts {
        header_read: Duration::from_secs(32),
        idle: Duration::from_secs(90),
        body_read: Duration::from_secs(60),
    };
}

/// What one connection is doing, as its watchdog needs to know.
#[derive(Debug)]
pub(crate) struct Activity {
    /// Requests being answered (a watch counts until it ends).
    in_flight: Cell<u32>,
    /// When the connection last fell idle: opened, or its last answer ended.
    idle_since: Cell<Instant>,
    /// When the first byte of the next request arrived, while idle.
    header_started: Cell<Option<Instant>>,
    changed: Notify,
}

impl Activity {
    pub(crate) fn new() -> Rc<Activity> {
        Rc::new(Activity {
            in_flight: Cell::new(0),
            idle_since: Cell::new(Instant::now()),
            header_started: Cell::new(None),
            changed: Notify::new(),
        })
    }

    /// A request's header was read: it is being answered until the
    /// returned guard drops (with the answer's body).
    pub(crate) fn request_started(self: &Rc<Self>) -> InFlight {
        self.in_flight.set(self.in_flight.get() + 1);
        self.header_started.set(None);
        self.changed.notify_waiters();
        InFlight(Rc::clone(self))
    }

    fn bytes_arrived(&self) {
        if self.in_flight.get() == 0 && self.header_started.get().is_none() {
            self.header_started.set(Some(Instant::now()));
            self.changed.notify_waiters();
        }
    }

    /// When the connection is to be closed if nothing changes; `None`
    /// while a request is being answered.
    fn deadline(&self, timeouts: &ConnectionTimeouts) -> Option<Instant> {
        if self.in_flight.get() > 0 {
            return None;
        }
        Some(match self.header_started.get() {
            Some(started) => started + timeouts.header_read,
            None => self.idle_since.get() + timeouts.idle,
        })
    }

    /// Resolves once the connection overstayed a timeout.
    pub(crate) async fn expired(&self, timeouts: &ConnectionTimeouts) {
        loop {
            let changed = self.changed.notified();
            match self.deadline(timeouts) {
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => {
                    tokio::select! {
                        () = sleep_until(deadline) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// A request being answered; dropped with its answer's body.
#[derive(Debug)]
pub(crate) struct InFlight(Rc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        activity
            .in_flight
            .set(activity.in_flight.get().saturating_sub(1));
        activity.idle_since.set(Instant::now());
        activity.changed.notify_waiters();
    }
}

/// A stream that tells its connection's [`Activity`] when bytes arrive.
pub(crate) struct Watched<S> {
    stream: S,
    activity: Rc<Activity>,
}

impl<S> Watched<S> {
    pub(crate) fn new(stream: S, activity: Rc<Activity>) -> Self {
        Watched { stream, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

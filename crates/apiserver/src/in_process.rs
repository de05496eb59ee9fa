//! [`InProcessTransport`]: a [`Transport`] that calls an [`ApiServer`] directly, no network.

use std::cell::RefCell;
use std::rc::Rc;

use stallsim_core::{ApiError, Body, FrameStream, Request, Response, Transport};
use tokio::time::Instant;

use crate::pump::{Clock, FramePump};
use crate::server::{ApiServer, Reply};

/// Carries requests straight to an [`ApiServer`] in the same task, for
/// tests of code written against stallsim-client's `RestClient`.
///
/// The server's `now` is the tokio time elapsed since the transport was
/// created. Watches end after their `timeoutSeconds`, carry bookmarks and
/// wake the server when work falls due, as over the network.
#[derive(Clone)]
pub struct InProcessTransport {
    server: Rc<RefCell<ApiServer>>,
    start: Instant,
}

impl InProcessTransport {
    /// A transport to `server`; its clock starts now.
    pub fn new(server: Rc<RefCell<ApiServer>>) -> Self {
        InProcessTransport {
            server,
            start: tokio::time::Instant::now(),
        }
    }

    fn clock(&self) -> Clock {
        Clock::Since(self.start)
    }

    fn handle(&self, request: Request) -> Reply {
        let now = self.clock().now();
        self.server.borrow_mut().handle(request, now)
    }
}

impl std::fmt::Debug for InProcessTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessTransport")
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}

impl Transport for InProcessTransport {
    type Stream = InProcessFrames;

    /// One answer. A watch request gets only its head (the feed is dropped).
    async fn request(&self, request: Request) -> Result<Response, ApiError> {
        match self.handle(request) {
            Reply::Response(response) => Ok(response),
            Reply::Watch(_) => Ok(Response::watch_head()),
        }
    }

    async fn stream(&self, request: Request) -> Result<(Response, Option<Self::Stream>), ApiError> {
        match self.handle(request) {
            Reply::Response(response) => Ok((response, None)),
            Reply::Watch(feed) => {
                let pump = FramePump::new(feed, Rc::clone(&self.server), self.clock());
                Ok((Response::watch_head(), Some(InProcessFrames { pump })))
            }
        }
    }
}

/// The frames of a watch through an [`InProcessTransport`].
pub struct InProcessFrames {
    pump: FramePump,
}

impl FrameStream for InProcessFrames {
    async fn next_frame(&mut self) -> Option<Result<Body, ApiError>> {
        let frame = self.pump.next_frame().await?;
        Some(Body::of(&frame))
    }
}

//! [`ReplyBody`]: an answer's body, whole or a watch's stream of events.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use super::idle::InFlight;
use crate::pump::FramePump;
use crate::watch;

type NextFrame = Pin<Box<dyn Future<Output = (FramePump, Option<watch::Frame>)>>>;

/// The body of an answer: a JSON document, or a watch's events, one JSON
/// document per line, until the watch ends.
pub struct ReplyBody {
    kind: Kind,
    /// The request being answered, done when the body is dropped.
    _in_flight: Option<InFlight>,
}

enum Kind {
    /// Taken once sent.
    Full(Option<Bytes>),
    /// The pump waiting for its next frame; `None` once the watch ended.
    Watch(Option<NextFrame>),
}

impl ReplyBody {
    pub(crate) fn full(bytes: Vec<u8>) -> Self {
        ReplyBody {
            kind: Kind::Full(Some(Bytes::from(bytes))),
            _in_flight: None,
        }
    }

    pub(crate) fn watch(pump: FramePump) -> Self {
        ReplyBody {
            kind: Kind::Watch(Some(next_frame(pump))),
            _in_flight: None,
        }
    }

    /// Holds the request's in-flight mark until the body is dropped.
    pub(crate) fn hold(&mut self, in_flight: Option<InFlight>) {
        self._in_flight = in_flight;
    }
}

/// The pump's next frame, with the pump given back for the one after.
fn next_frame(mut pump: FramePump) -> NextFrame {
    Box::pin(async move {
        let frame = pump.next_frame().await;
        (pump, frame)
    })
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match &mut self.kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Watch(pending) => {
                let Some(future) = pending.as_mut() else {
                    return Poll::Ready(None);
                };
                let (pump, frame) = std::task::ready!(future.as_mut().poll(cx));
                match frame {
                    Some(frame) => {
                        *pending = Some(next_frame(pump));
                        let mut line = serde_json::to_vec(&frame).unwrap_or_default();
                        line.push(b'\n');
                        Poll::Ready(Some(Ok(Frame::data(Bytes::from(line)))))
                    }
                    None => {
                        // Dropping the pump drops the feed: the server sees the watch gone.
                        *pending = None;
                        Poll::Ready(None)
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Watch(pending) => pending.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Watch(_) => SizeHint::default(),
        }
    }
}

//! How requests travel: the seam where the simulated network or an
//! in-process call plugs in under stallsim-client's `RestClient`.

use crate::{ApiError, Body, Request, Response};

/// Carries requests to an API server and brings answers back.
///
/// Transport failures (refused, reset, unreachable) are [`ApiError::Unavailable`];
/// a status code from the server is not a transport failure.
#[allow(async_fn_in_trait)] // every simulated host runs on one thread; no Send bound wanted
pub trait Transport {
    type Stream: FrameStream;

    /// Sends one request and waits for its single answer.
    async fn request(&self, request: Request) -> Result<Response, ApiError>;

    /// Sends a streaming request (a watch). On success the head is returned
    /// with the stream of frames that follow it; on failure only the head.
    async fn stream(&self, request: Request) -> Result<(Response, Option<Self::Stream>), ApiError>;
}

/// The frames after a streaming answer's head, each one JSON document;
/// `None` once the stream ends.
#[allow(async_fn_in_trait)]
pub trait FrameStream {
    async fn next_frame(&mut self) -> Option<Result<Body, ApiError>>;
}

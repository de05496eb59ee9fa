//! The wire format: HTTP's shape (method, path, query, status code, JSON
//! body) framed as one JSON document per line, so a request can cross any
//! byte stream and an HTTP front can be mapped onto it one to one.
//!
//! A connection carries any number of requests, one after the other, each
//! answered in order (HTTP/1.1's keep-alive). A watch answers with one
//! [`Response`] line (code 200, a `null` body) followed by one
//! `{"object": ..., "type": ...}` line per event, and a [`STREAM_END`] line
//! when the server ends the stream; the connection then carries the next
//! request. A client that leaves a watch early closes the connection.
//!
//! Bodies are [`Body`]s: JSON text written from the sender's type and read
//! into the reader's, never a `serde_json::Value` between them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Body;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    /// The body is a JSON merge patch (RFC 7386) of the object when it is
    /// a JSON object, a JSON patch (RFC 6902) when it is a list.
    Patch,
}

/// The line (`null`) that ends a watch's stream, as HTTP/1.1's last chunk
/// ends a chunked body; no event is `null`.
pub const STREAM_END: &str = "null";

/// One request, as HTTP would carry it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub method: Method,
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

impl Request {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
            query: BTreeMap::new(),
            body: None,
        }
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.insert(key.to_string(), value.into());
        self
    }

    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// True for `?watch=true`.
    pub fn is_watch(&self) -> bool {
        self.query
            .get("watch")
            .is_some_and(|v| v == "true" || v == "1")
    }
}

/// One answer: an HTTP status code and a JSON body (`null` for a watch head).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub code: u16,
    #[serde(default = "Body::null")]
    pub body: Body,
}

impl Response {
    pub fn ok(body: impl Into<Body>) -> Self {
        Response {
            code: 200,
            body: body.into(),
        }
    }

    /// The `200` head of a watch: a `null` body, the frames follow.
    pub fn watch_head() -> Self {
        Response::ok(Body::null())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

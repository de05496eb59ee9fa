//! Reading an HTTP request into the server's [`Request`]: method, path,
//! query, and a JSON body of bounded size.

use std::collections::BTreeMap;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use stallsim_core::{ApiError, Body, Method, Request};

use crate::status::{
    bad_request, method_not_allowed, request_entity_too_large, unsupported_media_type,
};

/// The largest request body read, as the Kubernetes API server bounds it
/// (3 MiB, `MaxRequestBodyBytes`); a larger one is answered 413.
pub const REQUEST_BODY_BYTES_MAX: usize = 3 * 1024 * 1024;

/// The media type of a created or replaced object.
const JSON: &str = "application/json";

/// The media type of a JSON patch (RFC 6902): a list of operations.
const JSON_PATCH: &str = "application/json-patch+json";

/// The media types a PATCH may name: a JSON merge patch (RFC 7386), a
/// strategic merge patch, read as one (on the objects the fake serves, it
/// differs only for lists with merge keys, which it replaces), and a JSON
/// patch.
const PATCHES: &[&str] = &[
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    JSON_PATCH,
];

/// Query parameters whose value is a boolean.
const BOOLEAN_PARAMETERS: &[&str] = &["watch", "allowWatchBookmarks"];

/// Reads a request; the error is the answer to give instead.
///
/// A body not read within `body_read` (when given) is answered `504`.
pub(crate) async fn read(
    request: hyper::Request<Incoming>,
    body_read: Option<Duration>,
) -> Result<Request, ApiError> {
    let (head, body) = request.into_parts();
    let method = match head.method {
        hyper::Method::GET => Method::Get,
        hyper::Method::POST => Method::Post,
        hyper::Method::PUT => Method::Put,
        hyper::Method::DELETE => Method::Delete,
        hyper::Method::PATCH => Method::Patch,
        _ => return Err(method_not_allowed()),
    };
    let query = query(head.uri.query().unwrap_or_default())?;
    let declared = head
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > REQUEST_BODY_BYTES_MAX as u64) {
        return Err(too_large());
    }
    // Read every body, also those ignored (a DELETE's options), so the
    // connection can carry the next request.
    let collect = Limited::new(body, REQUEST_BODY_BYTES_MAX).collect();
    let collected = match body_read {
        Some(limit) => tokio::time::timeout(limit, collect)
            .await
            .map_err(|_| body_read_timeout())?,
        None => collect.await,
    };
    let bytes = collected
        .map_err(|error| {
            if error.is::<http_body_util::LengthLimitError>() {
                too_large()
            } else {
                bad_request(format!("the request body could not be read: {error}"))
            }
        })?
        .to_bytes();
    let accepted: &[&str] = match method {
        Method::Post | Method::Put => &[JSON],
        Method::Patch => PATCHES,
        Method::Get | Method::Delete => &[],
    };
    let body = match method {
        Method::Post | Method::Put | Method::Patch => {
            let media_type = head
                .headers
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| text.split(';').next())
                .map(str::trim)
                .unwrap_or_default();
            // kube-apiserver reads a create or replace without a media type
            // as its first, JSON (k8s.io/apiserver/pkg/endpoints/handlers/
            // negotiation/negotiate.go, NegotiateInputSerializerForMediaType);
            // a PATCH must name its patch type (handlers/patch.go).
            let media_type = match (media_type, method) {
                ("", Method::Post | Method::Put) => JSON,
                (given, _) => given,
            };
            if !accepted.iter().any(|a| media_type.eq_ignore_ascii_case(a)) {
                return Err(unsupported_media_type(media_type, &accepted.join(", ")));
            }
            let body: Body = serde_json::from_slice(&bytes).map_err(|error| {
                bad_request(format!("the request body is not valid JSON: {error}"))
            })?;
            // The server tells the patches apart by their body: a JSON
            // patch is a list, a merge patch an object.
            if method == Method::Patch {
                let is_list = body.text().starts_with('[');
                if media_type.eq_ignore_ascii_case(JSON_PATCH) != is_list {
                    return Err(bad_request(format!(
                        "the body of a {media_type} patch must be a JSON {}",
                        if is_list {
                            "object"
                        } else {
                            "list of operations"
                        }
                    )));
                }
            }
            Some(body)
        }
        Method::Get | Method::Delete => None,
    };
    Ok(Request {
        method,
        path: head.uri.path().to_string(),
        query,
        body,
    })
}

/// As kube-apiserver's timeout filter answers a request that overran
/// its `--request-timeout` (k8s.io/apiserver/pkg/server/filters/timeout.go).
fn body_read_timeout() -> ApiError {
    ApiError::Status {
        code: 504,
        reason: "Timeout".to_string(),
        message:
            "Timeout: request did not complete within requested timeout - context deadline exceeded"
                .to_string(),
    }
}

fn too_large() -> ApiError {
    request_entity_too_large(REQUEST_BODY_BYTES_MAX)
}

/// The query's parameters, percent-decoded; the last of a repeated one
/// counts. A boolean parameter must be `true`, `false`, `1` or `0`.
fn query(text: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let query: BTreeMap<String, String> = form_urlencoded::parse(text.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    for name in BOOLEAN_PARAMETERS {
        if let Some(value) = query.get(*name) {
            if !matches!(value.as_str(), "true" | "false" | "1" | "0") {
                return Err(bad_request(format!(
                    "invalid value for {name}: {value:?} is not a boolean"
                )));
            }
        }
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded_and_booleans_checked() {
        let parsed = query("labelSelector=app%3Dgrm&watch=1&continue=5%2Fa%2Fb").unwrap();
        assert_eq!(parsed["labelSelector"], "app=grm");
        assert_eq!(parsed["watch"], "1");
        assert_eq!(parsed["continue"], "5/a/b");
        let error = query("watch=yes").unwrap_err();
        assert_eq!(error.to_status().code, 400);
    }
}

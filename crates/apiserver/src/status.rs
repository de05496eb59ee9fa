//! Failure answers: an HTTP code with a `Status` body, and the errors the server gives.

use serde::Serialize;
use stallsim_core::{ApiError, Body, ResourceRef, Response};

/// A failure `Status` as the server writes it, `kind` and `apiVersion`
/// set and the fields in key order, as a `serde_json::Value` of it would
/// be written.
#[derive(Serialize)]
struct StatusDocument<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    #[serde(skip_serializing_if = "is_zero")]
    code: u16,
    kind: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    status: &'static str,
}

fn is_zero(code: &u16) -> bool {
    *code == 0
}

/// The `Status` body of an error.
pub(crate) fn status_body(error: &ApiError) -> Body {
    let status = error.to_status();
    let document = StatusDocument {
        api_version: "v1",
        code: status.code,
        kind: "Status",
        message: &status.message,
        reason: &status.reason,
        status: "Failure",
    };
    // A struct of strings and a number always serializes.
    Body::of(&document).unwrap_or_else(|_| Body::null())
}

/// The answer to a failed request.
pub(crate) fn failure(error: &ApiError) -> Response {
    Response {
        code: error.to_status().code,
        body: status_body(error),
    }
}

/// 404 for a path nothing is served at.
pub(crate) fn no_route() -> ApiError {
    ApiError::NotFound("the server could not find the requested resource".to_string())
}

/// 404 for a missing object.
pub(crate) fn object_not_found(resource: &ResourceRef, name: &str) -> ApiError {
    ApiError::NotFound(format!("{} {name:?} not found", resource.qualified_name()))
}

/// 400 for a malformed request.
pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::Status {
        code: 400,
        reason: "BadRequest".to_string(),
        message: message.into(),
    }
}

/// 422 for an object the server refuses.
pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::Status {
        code: 422,
        reason: "Invalid".to_string(),
        message: message.into(),
    }
}

/// 403 for a create of a custom object while its CRD is terminating, as
/// upstream's `forbidCreateAdmission` answers it
/// (pkg/apiserver/customresource_handler.go).
pub(crate) fn create_forbidden_while_terminating(resource: &ResourceRef, name: &str) -> ApiError {
    ApiError::Status {
        code: 403,
        reason: "Forbidden".to_string(),
        message: format!(
            "{} {name:?} is forbidden: create not allowed while custom resource definition is terminating",
            resource.qualified_name()
        ),
    }
}

/// 405 for a method the path does not take.
pub(crate) fn method_not_allowed() -> ApiError {
    ApiError::Status {
        code: 405,
        reason: "MethodNotAllowed".to_string(),
        message: "the server does not allow this method on the requested resource".to_string(),
    }
}

/// 415 for a request body of a media type the server does not read.
pub(crate) fn unsupported_media_type(given: &str, accepted: &str) -> ApiError {
    ApiError::Status {
        code: 415,
        reason: "UnsupportedMediaType".to_string(),
        message: format!(
            "the body of the request was in an unknown format ({given:?}); accepted media types include: {accepted}"
        ),
    }
}

/// 413 for a request body larger than the server reads.
pub(crate) fn request_entity_too_large(bytes_max: usize) -> ApiError {
    ApiError::Status {
        code: 413,
        reason: "RequestEntityTooLarge".to_string(),
        message: format!("the request body is larger than {bytes_max} bytes"),
    }
}

/// 507 for a write that would take the stored objects past their bound.
///
/// An etcd past its quota refuses writes with "etcdserver: mvcc: database
/// space exceeded" (etcd server/etcdserver/api/v3rpc/rpctypes/error.go,
/// `ErrGRPCNoSpace`), which kube-apiserver passes on as a 500 (kubernetes
/// issue 94029); the fake says what happened with HTTP's own code for it,
/// 507 Insufficient Storage, and etcd's words.
pub(crate) fn insufficient_storage(bytes: u64, bytes_max: u64) -> ApiError {
    ApiError::Status {
        code: 507,
        reason: "InsufficientStorage".to_string(),
        message: format!(
            "etcdserver: mvcc: database space exceeded: the stored objects would hold \
             {bytes} bytes, more than the {bytes_max} the server's memory bound \
             (--max-bytes) leaves them; delete objects to make room"
        ),
    }
}

/// The `Status` body kube-apiserver answers when asked to read from a
/// resourceVersion the store has not reached: 504 `Timeout` with a cause
/// `ResourceVersionTooLarge` and a retry after 1 second
/// (k8s.io/apiserver/pkg/storage/errors.go, `NewTooLargeResourceVersionError`;
/// the watch cache's `resourceVersionTooHighRetrySeconds`).
pub(crate) fn too_large_resource_version(requested: u64, current: u64) -> Body {
    Body::from(serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("Timeout: Too large resource version: {requested}, current: {current}"),
        "reason": "Timeout",
        "details": {
            "causes": [{
                "reason": "ResourceVersionTooLarge",
                "message": "Too large resource version",
            }],
            "retryAfterSeconds": 1,
        },
        "code": 504,
    }))
}

/// 401 for a request without the bearer token the server was given, as
/// kube-apiserver answers one its authenticators all reject.
pub(crate) fn unauthorized() -> ApiError {
    ApiError::Status {
        code: 401,
        reason: "Unauthorized".to_string(),
        message: "Unauthorized".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_not_found_answer_is_a_full_status() {
        let response = failure(&no_route());
        assert_eq!(response.code, 404);
        assert_eq!(
            response.body.text(),
            r#"{"apiVersion":"v1","code":404,"kind":"Status","message":"the server could not find the requested resource","reason":"NotFound","status":"Failure"}"#
        );
        assert_eq!(
            response.body.to_value(),
            json!({
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": "NotFound",
                "code": 404,
                "message": "the server could not find the requested resource",
            })
        );
    }
}

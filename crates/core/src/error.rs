//! Typed API errors, and their mapping to and from a Kubernetes `Status`.

use kube::core::Status;

/// What can go wrong talking to the API server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// 404: the object, or the whole resource, does not exist.
    NotFound(String),
    /// 409 reason `Conflict`: a stale `resourceVersion` on update.
    Conflict(String),
    /// 409 reason `AlreadyExists`: create of an existing name.
    AlreadyExists(String),
    /// 410 `Expired`: the requested resourceVersion was compacted away.
    Expired(String),
    /// The server could not be reached or hung up (refused, reset, partitioned).
    Unavailable(String),
    /// No answer within the client's request timeout.
    Timeout,
    /// Any other failure status.
    Status {
        code: u16,
        reason: String,
        message: String,
    },
    /// The answer could not be decoded.
    Decode(String),
}

impl ApiError {
    /// The error a `Status` body describes.
    pub fn from_status(status: &Status) -> Self {
        let message = status.message.clone();
        match (status.code, status.reason.as_str()) {
            (404, _) => ApiError::NotFound(message),
            (409, "AlreadyExists") => ApiError::AlreadyExists(message),
            (409, _) => ApiError::Conflict(message),
            (410, _) => ApiError::Expired(message),
            (code, reason) => ApiError::Status {
                code,
                reason: reason.to_string(),
                message,
            },
        }
    }

    /// The `Status` body a server answers this error with.
    pub fn to_status(&self) -> Status {
        let (code, reason, message) = match self {
            ApiError::NotFound(m) => (404, "NotFound", m.clone()),
            ApiError::Conflict(m) => (409, "Conflict", m.clone()),
            ApiError::AlreadyExists(m) => (409, "AlreadyExists", m.clone()),
            ApiError::Expired(m) => (410, "Expired", m.clone()),
            ApiError::Unavailable(m) => (503, "ServiceUnavailable", m.clone()),
            ApiError::Timeout => (504, "Timeout", "request timed out".to_string()),
            ApiError::Status {
                code,
                reason,
                message,
            } => (*code, reason.as_str(), message.clone()),
            ApiError::Decode(m) => (500, "InternalError", m.clone()),
        };
        let mut status = Status::failure(&message, reason);
        status.code = code;
        status
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound(_))
    }

    /// A short machine-friendly name, as recorded in traces.
    pub fn reason(&self) -> &str {
        match self {
            ApiError::NotFound(_) => "NotFound",
            ApiError::Conflict(_) => "Conflict",
            ApiError::AlreadyExists(_) => "AlreadyExists",
            ApiError::Expired(_) => "Expired",
            ApiError::Unavailable(_) => "Unavailable",
            ApiError::Timeout => "Timeout",
            ApiError::Status { reason, .. } => reason,
            ApiError::Decode(_) => "Decode",
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Timeout => write!(f, "Timeout: request timed out"),
            ApiError::Status {
                code,
                reason,
                message,
            } => write!(f, "{code} {reason}: {message}"),
            other => {
                let message = match other {
                    ApiError::NotFound(m)
                    | ApiError::Conflict(m)
                    | ApiError::AlreadyExists(m)
                    | ApiError::Expired(m)
                    | ApiError::Unavailable(m)
                    | ApiError::Decode(m) => m,
                    _ => "",
                };
                write!(f, "{}: {}", other.reason(), message)
            }
        }
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips() {
        for error in [
            ApiError::NotFound("prometheuses.monitoring.coreos.com not found".into()),
            ApiError::Conflict("stale".into()),
            ApiError::AlreadyExists("exists".into()),
            ApiError::Expired("too old resource version".into()),
            ApiError::Status {
                code: 500,
                reason: "InternalError".into(),
                message: "boom".into(),
            },
        ] {
            assert_eq!(ApiError::from_status(&error.to_status()), error);
        }
        let status = ApiError::NotFound("x".into()).to_status();
        assert_eq!(status.code, 404);
        assert_eq!(status.reason, "NotFound");
    }
}

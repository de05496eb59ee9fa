//! [`ContinueToken`]: where a paged LIST stopped, and at which version.

use stallsim_core::ApiError;

use crate::object::ObjectKey;
use crate::status::bad_request;

/// The `continue` token of a paged LIST: the list's resourceVersion and the
/// key (namespace, name) of its last item, written `{version}/{namespace}/{name}`
/// (names and namespaces hold no `/`). Clients treat it as opaque.
pub(crate) struct ContinueToken;

impl ContinueToken {
    pub(crate) fn write(resource_version: u64, last: &ObjectKey) -> String {
        format!("{resource_version}/{}/{}", last.0, last.1)
    }

    /// The version and last key of a token; 400 for one this server did
    /// not write (malformed, or from a version it has not reached).
    pub(crate) fn parse(token: &str, current: u64) -> Result<(u64, ObjectKey), ApiError> {
        let invalid = || bad_request(format!("continue key is not valid: {token:?}"));
        let mut parts = token.splitn(3, '/');
        let (Some(version), Some(namespace), Some(name)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let version = version
            .parse::<u64>()
            .ok()
            .filter(|&v| v <= current)
            .ok_or_else(invalid)?;
        if name.is_empty() || name.contains('/') {
            return Err(invalid());
        }
        Ok((version, (namespace.to_string(), name.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_what_was_written() {
        let key = ("garden".to_string(), "grm".to_string());
        let token = ContinueToken::write(7, &key);
        assert_eq!(ContinueToken::parse(&token, 9).unwrap(), (7, key));
        let cluster = (String::new(), "crd".to_string());
        let token = ContinueToken::write(3, &cluster);
        assert_eq!(ContinueToken::parse(&token, 3).unwrap(), (3, cluster));
    }

    #[test]
    fn foreign_tokens_are_refused() {
        for token in ["", "x", "7/a", "x/a/b", "10/a/b", "7/a/", "7/a/b/c"] {
            let error = ContinueToken::parse(token, 9).unwrap_err();
            assert_eq!(error.to_status().code, 400, "{token}");
        }
    }
}

//! JSON patch (RFC 6902): a PATCH as a list of operations, as kube-rs's
//! `finalizer()` sends to add and remove its finalizer (`test`, then
//! `add` or `remove`).

use json_patch::{Patch, PatchOperation};
use serde_json::Value;
use stallsim_core::ApiError;

use crate::status::{bad_request, invalid};

/// Applies the operations in `patch` to `target`, all or none.
///
/// One rule is kube-apiserver's own: a `test` that a missing member is
/// `null` passes, as its JSON patch library tests it (github.com/
/// evanphx/json-patch, patch.go, `test`: a missing value equals a `null`
/// one). kube-runtime's `finalizer()` tests `/metadata/finalizers` for
/// `null` before it adds the first finalizer, on an object that has none.
///
/// 400 for a body that is not a list of operations; 422 for one that
/// does not apply (a failed `test`, a path that is not there), as
/// kube-apiserver answers them (handlers/patch.go, `jsonPatcher`).
pub(crate) fn apply_json_patch(target: &mut Value, patch: &Value) -> Result<(), ApiError> {
    let patch: Patch = serde_json::from_value(patch.clone())
        .map_err(|error| bad_request(format!("the request body is not a JSON patch: {error}")))?;
    let mut operations = Vec::with_capacity(patch.0.len());
    for operation in patch.0 {
        match &operation {
            PatchOperation::Test(test)
                if test.value.is_null() && target.pointer(test.path.as_str()).is_none() => {}
            _ => operations.push(operation),
        }
    }
    json_patch::patch(target, &operations)
        .map_err(|error| invalid(format!("the JSON patch does not apply: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn applied(target: Value, patch: Value) -> Result<Value, u16> {
        let mut target = target;
        apply_json_patch(&mut target, &patch)
            .map(|()| target)
            .map_err(|error| error.to_status().code)
    }

    /// The two patches kube-runtime's `finalizer()` sends to add its
    /// finalizer, and the one that removes it.
    #[test]
    fn the_finalizer_patches_apply() {
        let bare = json!({"metadata": {"name": "w"}});
        let first = json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["a"]},
        ]);
        let with_a = applied(bare, first.clone()).unwrap();
        assert_eq!(with_a["metadata"]["finalizers"], json!(["a"]));
        // The same patch on an object that now has one fails its test.
        assert_eq!(applied(with_a.clone(), first), Err(422));
        let second = json!([
            {"op": "test", "path": "/metadata/finalizers", "value": ["a"]},
            {"op": "add", "path": "/metadata/finalizers/-", "value": "b"},
        ]);
        let with_ab = applied(with_a, second).unwrap();
        assert_eq!(with_ab["metadata"]["finalizers"], json!(["a", "b"]));
        let remove = json!([
            {"op": "test", "path": "/metadata/finalizers/0", "value": "a"},
            {"op": "remove", "path": "/metadata/finalizers/0"},
        ]);
        let with_b = applied(with_ab.clone(), remove.clone()).unwrap();
        assert_eq!(with_b["metadata"]["finalizers"], json!(["b"]));
        // Removing someone else's finalizer fails its test and changes nothing.
        assert_eq!(applied(with_b, remove), Err(422));
    }

    #[test]
    fn a_body_that_is_no_patch_is_a_bad_request() {
        assert_eq!(applied(json!({}), json!([{"op": "jump"}])), Err(400));
        assert_eq!(applied(json!({}), json!({"op": "add"})), Err(400));
        // A failed operation leaves the object as it was.
        let mut target = json!({"a": 1});
        let patch =
            json!([{"op": "add", "path": "/b", "value": 2}, {"op": "remove", "path": "/c"}]);
        assert!(apply_json_patch(&mut target, &patch).is_err());
        assert_eq!(target, json!({"a": 1}));
    }
}

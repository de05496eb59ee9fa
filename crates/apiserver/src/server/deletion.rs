//! An object's deletion marks, for every kind alike: a DELETE of an
//! object that holds finalizers marks it (kube-apiserver's
//! `markAsDeleting`, staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go),
//! and the write that empties its finalizers deletes it
//! (`ShouldDeleteDuringUpdate`). The verbs and a CRD's finalizer share them.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::object::time_at;

/// Marks an object with finalizers as deleted: its generation bumped on
/// the first mark, the deletion timestamp `now`, no grace period.
pub(super) fn mark_as_deleting(metadata: &mut ObjectMeta, now: Duration) {
    if metadata.deletion_timestamp.is_none() {
        if let Some(generation) = metadata.generation.filter(|&g| g > 0) {
            metadata.generation = Some(generation + 1);
        }
        metadata.deletion_timestamp = Some(time_at(now));
    }
    metadata.deletion_grace_period_seconds = Some(0);
}

/// Whether an object marked for deletion has no finalizer left: its
/// write is its deletion.
pub(super) fn is_finalized(metadata: &ObjectMeta) -> bool {
    metadata.deletion_timestamp.is_some() && metadata.finalizers.as_ref().is_none_or(Vec::is_empty)
}

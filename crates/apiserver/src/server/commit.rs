//! The one path every write takes: a new resourceVersion, the store, and
//! the change published to watches and history.

use serde_json::{Map, Value};
use stallsim_core::{ApiError, ResourceRef};

use super::ApiServer;
use crate::history::{Change, ChangeKind};
use crate::object::{map_bytes, set_resource_version, value_bytes, ObjectKey, ResourceKey};
use crate::status::insufficient_storage;

/// What a write does to one object.
pub(super) enum Write {
    /// Stores a new object.
    Create(Value),
    /// Replaces `previous` with `object`.
    Update { object: Value, previous: Value },
    /// Removes the object (taken out of the store already, or still in it).
    Delete(Value),
}

impl ApiServer {
    /// Commits one write at the next resourceVersion: stamps the object
    /// with it, stores it (or removes it), and publishes the change to the
    /// watches that see it and to the history. Answers the object as
    /// committed (a deleted one carries the deletion's version).
    pub(super) fn commit(&mut self, resource: &ResourceKey, at: ObjectKey, write: Write) -> Value {
        self.resource_version += 1;
        let resource_version = self.resource_version;
        let (kind, mut object, previous) = match write {
            Write::Create(object) => (ChangeKind::Added, object, None),
            Write::Update { object, previous } => (ChangeKind::Modified, object, Some(previous)),
            Write::Delete(object) => {
                let previous = object.clone();
                (ChangeKind::Deleted, object, Some(previous))
            }
        };
        set_resource_version(&mut object, resource_version);
        let object_bytes = value_bytes(&object);
        let previous_bytes = previous.as_ref().map_or(0, value_bytes);
        let stored_bytes = match kind {
            ChangeKind::Added | ChangeKind::Modified => object_bytes,
            ChangeKind::Deleted => 0,
        };
        self.objects_bytes = (self.objects_bytes + stored_bytes).saturating_sub(previous_bytes);
        match kind {
            ChangeKind::Added | ChangeKind::Modified => {
                self.objects
                    .entry(resource.clone())
                    .or_default()
                    .insert(at, object.clone());
            }
            ChangeKind::Deleted => {
                if let Some(objects) = self.objects.get_mut(resource) {
                    objects.remove(&at);
                    if objects.is_empty() {
                        self.objects.remove(resource);
                    }
                }
            }
        }
        self.publish(Change {
            resource_version,
            resource: resource.clone(),
            kind,
            object: object.clone(),
            previous,
            object_bytes,
            bytes: object_bytes + previous_bytes,
        });
        object
    }

    /// Whether the store has room for `object` in place of `previous`;
    /// 507 when the stored objects would hold more than their share of
    /// the [`MemoryBounds`](crate::MemoryBounds).
    pub(super) fn check_room(
        &self,
        previous: Option<&Value>,
        object: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        let after = (self.objects_bytes + map_bytes(object))
            .saturating_sub(previous.map_or(0, value_bytes));
        let objects_bytes_max = self.bounds.objects_bytes_max();
        if after > objects_bytes_max {
            return Err(insufficient_storage(after, objects_bytes_max));
        }
        Ok(())
    }

    /// The stored object at `at`, if any.
    pub(super) fn stored(&self, resource: &ResourceRef, at: &ObjectKey) -> Option<&Value> {
        self.objects.get(&ResourceKey::of(resource))?.get(at)
    }
}

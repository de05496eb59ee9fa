//! The one path every write takes: a new resourceVersion, the store, and
//! the change published to watches and history.

use std::rc::Rc;

use stallsim_core::{ApiError, ResourceRef};

use super::ApiServer;
use crate::history::{Change, ChangeKind};
use crate::load::ClientId;
use crate::object::{Object, ObjectKey, ResourceKey, Stored};
use crate::status::insufficient_storage;
use crate::wall_clock::{far_timestamp, WallClockRead};

/// What a write does to one object.
pub(super) enum Write {
    /// Stores a new object, stamped by [`ApiServer::stamp`].
    Create(Rc<Stored>),
    /// Replaces `previous` with `object`, stamped by [`ApiServer::stamp`].
    Update {
        object: Rc<Stored>,
        previous: Rc<Stored>,
    },
    /// Removes the object (taken out of the store already, or still in it).
    Delete(Rc<Stored>),
    /// Removes `previous`, an object marked for deletion, by the write of
    /// `object` (stamped) that removed its last finalizer: the `DELETED`
    /// event carries `object`.
    Finalize {
        object: Rc<Stored>,
        previous: Rc<Stored>,
    },
}

impl ApiServer {
    /// `object` stamped with the resourceVersion the next commit makes,
    /// and written as JSON: what a create or an update stores, once its
    /// room is checked ([`ApiServer::check_room`]).
    pub(super) fn stamp(&self, mut object: Object) -> Result<Rc<Stored>, ApiError> {
        object.meta_mut().resource_version = Some((self.resource_version + 1).to_string());
        Stored::new(object)
    }

    /// Commits one write at the next resourceVersion: stores the object
    /// (or removes it), and publishes the change to the watches that see
    /// it and to the history. Answers the object as committed (a deleted
    /// one carries the deletion's version).
    pub(super) fn commit(
        &mut self,
        resource: &ResourceKey,
        at: ObjectKey,
        write: Write,
    ) -> Result<Rc<Stored>, ApiError> {
        let (kind, object, previous) = match write {
            Write::Create(object) => (ChangeKind::Added, object, None),
            Write::Update { object, previous } => (ChangeKind::Modified, object, Some(previous)),
            Write::Delete(object) => {
                let deleted = self.stamp(object.object()?.into_owned())?;
                (ChangeKind::Deleted, deleted, Some(object))
            }
            Write::Finalize { object, previous } => (ChangeKind::Deleted, object, Some(previous)),
        };
        if let (Some(client), ChangeKind::Added | ChangeKind::Modified) = (self.answering, &kind) {
            self.check_wall_clock(client, resource, &object);
        }
        self.resource_version += 1;
        let resource_version = self.resource_version;
        debug_assert_eq!(
            object.meta().resource_version.as_deref(),
            Some(resource_version.to_string().as_str()),
            "an object is stamped for the commit that stores it"
        );
        let previous_bytes = previous.as_ref().map_or(0, |p| p.bytes);
        let stored_bytes = match kind {
            ChangeKind::Added | ChangeKind::Modified => object.bytes,
            ChangeKind::Deleted => 0,
        };
        self.objects_bytes = (self.objects_bytes + stored_bytes).saturating_sub(previous_bytes);
        match kind {
            ChangeKind::Added | ChangeKind::Modified => {
                self.objects
                    .entry(resource.clone())
                    .or_default()
                    .insert(at, Rc::clone(&object));
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
            bytes: object.bytes + previous_bytes,
            object: Rc::clone(&object),
            previous,
        });
        Ok(object)
    }

    /// Notes a timestamp in `object`, written by `client`, that the
    /// simulated wall clock could not have given (`wall_clock.rs`).
    fn check_wall_clock(&mut self, client: ClientId, resource: &ResourceKey, object: &Stored) {
        let Some((field, value)) = far_timestamp(object, self.now) else {
            return;
        };
        let meta = object.meta();
        let name = meta.name.as_deref().unwrap_or("");
        let object = match meta.namespace.as_deref() {
            Some(namespace) => format!("{} {namespace}/{name}", resource.plural),
            None => format!("{} {name}", resource.plural),
        };
        self.wall_clock_reads.push(WallClockRead {
            client: self.load.name(client).map(str::to_string),
            object,
            field,
            value,
            at: self.now,
        });
    }

    /// Whether the store has room for `object` in place of `previous`;
    /// 507 when the stored objects would hold more than their share of
    /// the [`MemoryBounds`](crate::MemoryBounds).
    pub(super) fn check_room(
        &self,
        previous: Option<&Stored>,
        object: &Stored,
    ) -> Result<(), ApiError> {
        let after =
            (self.objects_bytes + object.bytes).saturating_sub(previous.map_or(0, |p| p.bytes));
        let objects_bytes_max = self.bounds.objects_bytes_max();
        if after > objects_bytes_max {
            return Err(insufficient_storage(after, objects_bytes_max));
        }
        Ok(())
    }

    /// The stored object at `at`, if any.
    pub(super) fn stored(&self, resource: &ResourceRef, at: &ObjectKey) -> Option<&Rc<Stored>> {
        self.objects.get(&ResourceKey::of(resource))?.get(at)
    }
}

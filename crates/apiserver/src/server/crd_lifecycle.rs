//! A CRD's life on the server: served when created, marked when deleted,
//! then finalized step by step as time is handed in.

use std::time::Duration;

use std::rc::Rc;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use stallsim_core::{ApiError, ResourceRef, Response};

use super::commit::Write;
use super::deletion::mark_as_deleting;
use super::ApiServer;
use crate::crd::{
    is_marked_for_deletion, mark_for_deletion, mark_instance_deletion_in_progress, parse_crd,
    ParsedCrd,
};
use crate::lifecycle::{CustomResource, Phase};
use crate::object::{time_at, Object, ObjectKey, ResourceKey, Stored};
use crate::resources::crd_resource;
use crate::status::{invalid, object_not_found};

/// How often the CRD finalizer looks again whether the instances it
/// deleted are gone, while finalizers hold some (apiextensions-apiserver
/// pkg/controller/finalizer/crd_finalizer.go, `deleteInstances`: it polls
/// the list every 5 seconds).
const INSTANCES_GONE_POLL: Duration = Duration::from_secs(5);

impl ApiServer {
    /// For a CRD object: reads it, and refuses one that would shadow a
    /// built-in resource.
    pub(super) fn check_crd(
        &self,
        resource: &ResourceRef,
        object: &Object,
    ) -> Result<Option<ParsedCrd>, ApiError> {
        let Object::Crd(crd) = object else {
            return Ok(None);
        };
        debug_assert!(
            is_crd_resource(resource),
            "only the CRD resource holds CRDs"
        );
        let parsed = parse_crd(crd)?;
        let key = ResourceKey::of(&parsed.resource);
        if self.builtins.iter().any(|b| ResourceKey::of(b) == key) {
            return Err(invalid(format!(
                "CustomResourceDefinition {:?} is invalid: it would shadow a built-in resource",
                parsed.resource.qualified_name()
            )));
        }
        Ok(Some(parsed))
    }

    /// Serves a created or updated CRD's resource at once (its object is
    /// stored established). A CRD created anew gets new storage: the
    /// watches of its removed namesake end now.
    pub(super) fn serve_crd(&mut self, name: &str, parsed: ParsedCrd) {
        if let Some(old) = self.custom.remove(name) {
            if matches!(old.phase, Phase::Removed { .. }) {
                let key = ResourceKey::of(&old.resource);
                self.end_watches(&key);
            }
        }
        self.custom.insert(
            name.to_string(),
            CustomResource::established(
                parsed.resource,
                parsed.short_names,
                parsed.status_subresource,
            ),
        );
    }

    /// The DELETE of a CRD, as the CRD registry answers it: the first marks
    /// it for deletion (deletion timestamp, cleanup finalizer, `Terminating`)
    /// and leaves the rest to the finalizer, `crd_finalizer_delay` later;
    /// later ones change nothing. Either answers the CRD as it now is.
    pub(super) fn delete_crd(&mut self, name: &str, now: Duration) -> Result<Response, ApiError> {
        let at: ObjectKey = (String::new(), name.to_string());
        let stored = self
            .stored(&crd_resource(), &at)
            .ok_or_else(|| object_not_found(&crd_resource(), name))?;
        if is_marked_for_deletion(crd_of(stored)?) {
            return Ok(Response::ok(stored.json.clone()));
        }
        let object = self.rewrite_crd(name, |crd| mark_for_deletion(crd, time_at(now)))?;
        let next_step_at = now.saturating_add(self.config.crd_finalizer_delay);
        if let Some(custom) = self.custom.get_mut(name) {
            custom.phase = Phase::Terminating {
                next_step_at,
                cleaning: false,
            };
        }
        Ok(Response::ok(object.json.clone()))
    }

    /// One step of a deleted CRD's life, due at `at`.
    ///
    /// The finalizer (upstream pkg/controller/finalizer/crd_finalizer.go)
    /// first says on the CRD that instance deletion is in progress, then
    /// deletes the instances in LIST order, one every
    /// `instance_deletion_cost`, and removes the CRD object (its finalizer
    /// done) as soon as none is left. After the resource stopped being
    /// served, its storage is torn down and its watches end.
    pub(super) fn step(&mut self, name: &str, at: Duration) {
        let Some(custom) = self.custom.get(name) else {
            return;
        };
        let key = ResourceKey::of(&custom.resource);
        match custom.phase {
            Phase::Established => {}
            Phase::Terminating {
                cleaning: false, ..
            } => {
                // A CRD object that does not decode is removed all the same.
                let _ = self.rewrite_crd(name, |crd| {
                    mark_instance_deletion_in_progress(crd, time_at(at));
                });
                self.clean_or_remove(name, &key, at);
            }
            Phase::Terminating { cleaning: true, .. } => {
                self.delete_next_instance(&key, at);
                self.clean_or_remove(name, &key, at);
            }
            Phase::Removed { removed_at, .. } => {
                self.end_watches(&key);
                if let Some(custom) = self.custom.get_mut(name) {
                    custom.phase = Phase::Removed {
                        removed_at,
                        watches_ended: true,
                    };
                }
            }
        }
    }

    /// After a finalizer step at `at`: the next instance deletion if an
    /// instance is left unmarked; a look again `INSTANCES_GONE_POLL` later
    /// if only instances marked for deletion are left (their finalizers
    /// hold them); else the CRD object's removal, now.
    pub(super) fn clean_or_remove(&mut self, name: &str, key: &ResourceKey, at: Duration) {
        let left = self.objects.get(key);
        let phase =
            if left.is_some_and(|o| o.values().any(|i| i.meta().deletion_timestamp.is_none())) {
                Phase::Terminating {
                    next_step_at: at.saturating_add(self.config.instance_deletion_cost),
                    cleaning: true,
                }
            } else if left.is_some_and(|o| !o.is_empty()) {
                Phase::Terminating {
                    next_step_at: at.saturating_add(INSTANCES_GONE_POLL),
                    cleaning: true,
                }
            } else {
                self.remove_crd_object(name);
                Phase::Removed {
                    removed_at: at,
                    watches_ended: false,
                }
            };
        if let Some(custom) = self.custom.get_mut(name) {
            custom.phase = phase;
        }
    }

    /// Deletes the first instance of a resource in LIST order (namespace,
    /// then name) not yet marked for deletion, as the finalizer's
    /// DeleteCollection does: a `DELETED` event, or, for an instance with
    /// finalizers, its deletion marks (`MODIFIED`); it then stays until a
    /// write removes its last finalizer.
    pub(super) fn delete_next_instance(&mut self, key: &ResourceKey, now: Duration) {
        let Some(objects) = self.objects.get_mut(key) else {
            return;
        };
        let Some(at) = objects
            .iter()
            .find(|(_, object)| object.meta().deletion_timestamp.is_none())
            .map(|(at, _)| at.clone())
        else {
            return;
        };
        let has_finalizers = objects[&at]
            .meta()
            .finalizers
            .as_ref()
            .is_some_and(|f| !f.is_empty());
        if has_finalizers {
            let previous = Rc::clone(&objects[&at]);
            // A stored object always reads back and serializes.
            let Ok(mut object) = previous.object().map(std::borrow::Cow::into_owned) else {
                return;
            };
            mark_as_deleting(object.meta_mut(), now);
            if let Ok(object) = self.stamp(object) {
                let _ = self.commit(key, at, Write::Update { object, previous });
            }
            return;
        }
        let Some(object) = objects.remove(&at) else {
            return;
        };
        // A deletion is written from the stored object, which always serializes.
        let _ = self.commit(key, at, Write::Delete(object));
    }

    /// Removes a CRD object whose finalizer is done: a `DELETED` event
    /// carrying the CRD as it was last stored, as etcd reports a deletion.
    pub(super) fn remove_crd_object(&mut self, name: &str) {
        let key = ResourceKey::of(&crd_resource());
        let at: ObjectKey = (String::new(), name.to_string());
        let removed = self
            .objects
            .get_mut(&key)
            .and_then(|objects| objects.remove(&at));
        if let Some(object) = removed {
            // A deletion is written from the stored object, which always serializes.
            let _ = self.commit(&key, at, Write::Delete(object));
        }
    }

    /// Edits a stored CRD object as its typed self and stores it back: a
    /// `MODIFIED` event. Answers the object as stored.
    pub(super) fn rewrite_crd(
        &mut self,
        name: &str,
        edit: impl FnOnce(&mut CustomResourceDefinition),
    ) -> Result<Rc<Stored>, ApiError> {
        let resource = crd_resource();
        let at: ObjectKey = (String::new(), name.to_string());
        let previous = Rc::clone(
            self.stored(&resource, &at)
                .ok_or_else(|| object_not_found(&resource, name))?,
        );
        let mut crd = crd_of(&previous)?.clone();
        edit(&mut crd);
        let object = self.stamp(Object::Crd(crd))?;
        self.commit(
            &ResourceKey::of(&resource),
            at,
            Write::Update { object, previous },
        )
    }
}

/// The CRD a stored object of the CRD resource is.
fn crd_of(stored: &Stored) -> Result<&CustomResourceDefinition, ApiError> {
    match stored.typed() {
        Some(Object::Crd(crd)) => Ok(crd),
        _ => Err(ApiError::Decode(
            "a stored CustomResourceDefinition is not one".to_string(),
        )),
    }
}

/// An update of a CRD marked for deletion keeps what the deletion set: the
/// server owns the deletion timestamp, status is a subresource, and the fake
/// keeps the finalizer to its own finalizer.
pub(super) fn keep_deletion_marks(
    previous: &CustomResourceDefinition,
    object: &mut CustomResourceDefinition,
) {
    object.metadata.deletion_timestamp = previous.metadata.deletion_timestamp.clone();
    object.metadata.finalizers = previous.metadata.finalizers.clone();
    object.status = previous.status.clone();
}

pub(super) fn is_crd_resource(resource: &ResourceRef) -> bool {
    ResourceKey::of(resource) == ResourceKey::of(&crd_resource())
}

//! Watch bookkeeping: opening a watch (its backlog from the store or the
//! history), feeding every change to the watches that see it, and ending
//! the watches of a resource.

use std::collections::BTreeMap;

use stallsim_core::{ApiError, ResourceRef};

use super::verbs::requested_version;
use super::{ApiServer, Reply};
use crate::history::Change;
use crate::object::ResourceKey;
use crate::status::{bad_request, too_large_resource_version};
use crate::watch::{self, error_frame, frame, status_frame, Frame, WatchRequest};

impl ApiServer {
    /// WATCH: a feed that first carries the backlog (every object, from
    /// no version or `0`; the history's changes after a given version, or
    /// an in-stream 410 Expired once the history no longer reaches back),
    /// then every change the watch sees as it happens.
    pub(super) fn watch(
        &mut self,
        resource: &ResourceRef,
        namespace: Option<String>,
        query: &BTreeMap<String, String>,
    ) -> Result<Reply, ApiError> {
        let filter = self.filter(resource, namespace, query)?;
        let timeout_seconds = query
            .get("timeoutSeconds")
            .map(|text| {
                text.parse::<u64>()
                    .map_err(|_| bad_request(format!("invalid timeoutSeconds {text:?}")))
            })
            .transpose()?;
        let allows_bookmarks = query
            .get("allowWatchBookmarks")
            .is_some_and(|v| v == "true" || v == "1");
        let key = ResourceKey::of(resource);
        let since = requested_version(query)?;
        let initial_events = query
            .get("sendInitialEvents")
            .is_some_and(|v| v == "true" || v == "1");
        let backlog = if since == 0 {
            Ok(self
                .objects
                .get(&key)
                .into_iter()
                .flat_map(BTreeMap::values)
                .filter(|object| filter.matches(object.meta()))
                .map(|object| (frame("ADDED", object), object.bytes))
                .collect::<Vec<(Frame, u64)>>())
        } else if since > self.resource_version && initial_events {
            // Only a watch that asks for initial events waits for the
            // store to reach its version, and fails when it does not
            // (k8s.io/apiserver/pkg/storage/cacher/cacher.go,
            // waitUntilWatchCacheFreshAndForceAllEvents; upstream waits
            // 3s for its cache to catch up with etcd, this store is its own
            // cache). A plain watch from ahead waits for changes past it.
            Err(status_frame(too_large_resource_version(
                since,
                self.resource_version,
            )))
        } else {
            match self.history.since(since) {
                Ok(changes) => Ok(changes
                    .filter(|change| change.resource == key)
                    .filter_map(|change| Some((filter.frame_for(change)?, change.object.bytes)))
                    .collect()),
                Err(oldest) => Err(error_frame(&ApiError::Expired(format!(
                    "too old resource version: {since} ({oldest})"
                )))),
            }
        };
        let request = WatchRequest {
            resource: resource.clone(),
            filter,
            timeout_seconds,
            allows_bookmarks,
            since,
        };
        let capacity = self.config.watch_channel_capacity;
        let (feed, watcher) = match backlog {
            Ok(frames) => watch::open(request, frames, capacity, true, &self.queued_bytes),
            Err(error) => watch::open(request, vec![(error, 0)], 0, false, &self.queued_bytes),
        };
        self.watchers.extend(watcher);
        Ok(Reply::Watch(feed))
    }

    /// Delivers a change to every watcher that sees it (closing those that
    /// cannot take it), then records it for later watches.
    pub(super) fn publish(&mut self, change: Change) {
        self.watchers.retain(|watcher| watcher.offer(&change));
        self.bound_watch_queues();
        self.history.record(change);
    }

    /// Ends every open watch on a resource (its storage was torn down).
    pub(super) fn end_watches(&mut self, resource: &ResourceKey) {
        self.watchers
            .retain(|watcher| &watcher.resource != resource);
    }

    /// Ends the watch with the most bytes queued, and so on, while the
    /// queues of all watches hold more than their share of the
    /// [`MemoryBounds`](crate::MemoryBounds): a watcher that does not
    /// read cannot make the server grow.
    fn bound_watch_queues(&mut self) {
        let queues_bytes_max = self.bounds.watch_queues_bytes_max();
        while self.queued_bytes.get() > queues_bytes_max {
            let fullest = self
                .watchers
                .iter()
                .enumerate()
                .filter(|(_, watcher)| watcher.queued_bytes() > 0)
                .max_by_key(|(at, watcher)| (watcher.queued_bytes(), std::cmp::Reverse(*at)))
                .map(|(at, _)| at);
            // What is left is queued for watches already ended: their
            // readers take it.
            let Some(at) = fullest else {
                return;
            };
            self.watchers.remove(at).abandon();
        }
    }
}

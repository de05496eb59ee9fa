//! Watch bookkeeping: opening a watch (its backlog from the store or the
//! history), feeding every change to the watches that see it, and ending
//! the watches of a resource.

use std::collections::BTreeMap;

use serde_json::Value;
use stallsim_core::{ApiError, ResourceRef};

use super::verbs::selector;
use super::{ApiServer, Reply};
use crate::history::Change;
use crate::object::ResourceKey;
use crate::status::bad_request;
use crate::watch::{self, error_frame, frame, WatchFilter, WatchRequest};

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
        let filter = WatchFilter {
            namespace,
            selector: selector(query)?,
        };
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
        let backlog = match query.get("resourceVersion").map_or("", String::as_str) {
            "" | "0" => Ok(self
                .objects
                .get(&key)
                .into_iter()
                .flat_map(BTreeMap::values)
                .filter(|object| filter.matches(object))
                .map(|object| frame("ADDED", object.clone()))
                .collect::<Vec<Value>>()),
            text => {
                let since = text
                    .parse::<u64>()
                    .map_err(|_| bad_request(format!("invalid resourceVersion {text:?}")))?;
                match self.history.since(since) {
                    Ok(changes) => Ok(changes
                        .filter(|change| change.resource == key)
                        .filter_map(|change| filter.frame_for(change))
                        .collect()),
                    Err(oldest) => Err(ApiError::Expired(format!(
                        "too old resource version: {since} ({oldest})"
                    ))),
                }
            }
        };
        let request = WatchRequest {
            resource: resource.clone(),
            filter,
            timeout_seconds,
            allows_bookmarks,
        };
        let (feed, watcher) = match backlog {
            Ok(frames) => watch::open(request, frames, self.config.watch_channel_capacity, true),
            Err(expired) => watch::open(request, vec![error_frame(&expired)], 0, false),
        };
        self.watchers.extend(watcher);
        Ok(Reply::Watch(feed))
    }

    /// Delivers a change to every watcher that sees it (closing those that
    /// cannot take it), then records it for later watches.
    pub(super) fn publish(&mut self, change: Change) {
        self.watchers.retain(|watcher| watcher.offer(&change));
        self.history.record(change);
    }

    /// Ends every open watch on a resource (its storage was torn down).
    pub(super) fn end_watches(&mut self, resource: &ResourceKey) {
        self.watchers
            .retain(|watcher| &watcher.resource != resource);
    }
}

//! An informer: a reflector (client-go's ListAndWatch loop) feeding a store.
//!
//! `synced` turns true after the first successful LIST and never turns false
//! again; a LIST that keeps failing is retried with backoff forever.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use rand::{rngs::SmallRng, Rng};
use stallsim_client::{
    ApiClient, ApiError, DynamicObject, ListParams, ResourceRef, WatchEvent, WatchParams,
    WatchStream,
};
use tokio::sync::watch;
use tokio::time::Duration;

use crate::{Backoff, EventSink, Gvk, ManagerEvent, ReflectorConfig};

type ObjectKey = (String, String);

/// How long past its requested timeout a watch stream may stay silent.
const WATCH_GRACE: Duration = Duration::from_secs(30);

/// The shared state of one informer; its reflector runs as a separate task.
#[derive(Debug)]
pub struct Informer {
    pub kind: Gvk,
    pub resource: ResourceRef,
    items: RefCell<BTreeMap<ObjectKey, DynamicObject>>,
    synced: watch::Sender<bool>,
    last_error: RefCell<Option<String>>,
    list_attempts: Cell<u32>,
}

impl Informer {
    pub fn new(kind: Gvk, resource: ResourceRef) -> Rc<Self> {
        Rc::new(Informer {
            kind,
            resource,
            items: RefCell::default(),
            synced: watch::Sender::new(false),
            last_error: RefCell::default(),
            list_attempts: Cell::new(0),
        })
    }

    /// client-go's `HasSynced`.
    pub fn has_synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// Resolves once synced.
    pub async fn wait_for_sync(&self) {
        let mut synced = self.synced.subscribe();
        // The sender lives as long as `self`, so this only ends when synced.
        let _ = synced.wait_for(|s| *s).await;
    }

    pub fn items(&self) -> Vec<DynamicObject> {
        self.items.borrow().values().cloned().collect()
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error.borrow().clone()
    }

    /// Marks the informer synced, for good.
    pub(crate) fn mark_synced(&self) {
        self.synced.send_replace(true);
    }

    pub(crate) fn count_list_attempt(&self) {
        self.list_attempts.set(self.list_attempts.get() + 1);
    }

    pub(crate) fn list_attempts(&self) -> u32 {
        self.list_attempts.get()
    }

    pub(crate) fn set_last_error(&self, error: &str) {
        *self.last_error.borrow_mut() = Some(error.to_string());
    }

    pub(crate) fn replace(&self, objects: Vec<DynamicObject>) {
        let mut items = self.items.borrow_mut();
        items.clear();
        for object in objects {
            items.insert(key(&object), object);
        }
    }

    fn apply(&self, event: WatchEvent<DynamicObject>) -> Result<Option<String>, ApiError> {
        match event {
            WatchEvent::Added(object) | WatchEvent::Modified(object) => {
                let version = object.metadata.resource_version.clone();
                self.items.borrow_mut().insert(key(&object), object);
                Ok(version)
            }
            WatchEvent::Deleted(object) => {
                let version = object.metadata.resource_version.clone();
                self.items.borrow_mut().remove(&key(&object));
                Ok(version)
            }
            WatchEvent::Bookmark(bookmark) => Ok(Some(bookmark.metadata.resource_version)),
            WatchEvent::Error(status) => Err(ApiError::from_status(&status)),
        }
    }
}

fn key(object: &DynamicObject) -> ObjectKey {
    (
        object.metadata.namespace.clone().unwrap_or_default(),
        object.metadata.name.clone().unwrap_or_default(),
    )
}

/// What a reflector needs besides its informer.
pub(crate) struct Reflector<C> {
    pub client: C,
    pub config: ReflectorConfig,
    pub sink: Rc<dyn EventSink>,
    pub rng: SmallRng,
    /// A 404 LIST counts as an empty, synced list (a candidate fix).
    pub not_found_list_is_empty: bool,
}

impl<C: ApiClient> Reflector<C> {
    /// client-go's `BackoffUntil(ListAndWatch, backoff, sliding=true)`: never returns.
    pub async fn run(mut self, informer: Rc<Informer>) {
        let mut backoff = Backoff::new(self.config.backoff.clone());
        loop {
            let error = self.list_and_watch(&informer).await;
            let wait = backoff.next(&mut self.rng);
            if let Some(error) = error {
                let attempt = informer.list_attempts.get();
                self.sink.record(ManagerEvent::ListFailed {
                    kind: informer.kind.to_string(),
                    error: error.to_string(),
                    attempt,
                    retry_in_ms: wait.as_millis() as u64,
                });
                *informer.last_error.borrow_mut() = Some(error.to_string());
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// One LIST, then WATCHes from its version until one fails. Returns the
    /// LIST's error, or `None` when the list succeeded and a watch later ended.
    async fn list_and_watch(&mut self, informer: &Informer) -> Option<ApiError> {
        informer.list_attempts.set(informer.list_attempts.get() + 1);
        let kind = informer.kind.to_string();
        let (items, mut version) = match self
            .client
            .list(&informer.resource, &ListParams::default())
            .await
        {
            Ok(list) => (
                list.items,
                list.metadata.resource_version.unwrap_or_default(),
            ),
            Err(ApiError::NotFound(_)) if self.not_found_list_is_empty => {
                (Vec::new(), String::new())
            }
            Err(error) => return Some(error),
        };
        self.sink.record(ManagerEvent::ListSucceeded {
            kind: kind.clone(),
            items: items.len(),
            resource_version: version.clone(),
        });
        informer.replace(items);
        if !informer.has_synced() {
            informer.synced.send_replace(true);
            self.sink
                .record(ManagerEvent::InformerSynced { kind: kind.clone() });
        }
        loop {
            let timeout = self
                .config
                .watch_timeout_min
                .mul_f64(1.0 + self.rng.random::<f64>());
            let params = WatchParams {
                resource_version: version.clone(),
                timeout_seconds: Some(timeout.as_secs().max(1) as u32),
                allow_bookmarks: true,
                ..WatchParams::default()
            };
            let mut stream = match self.client.watch(&informer.resource, &params).await {
                Ok(stream) => stream,
                Err(error) => {
                    self.watch_ended(&kind, &error.to_string());
                    return None;
                }
            };
            let started = tokio::time::Instant::now();
            // A stream cut by a partition may never end on its own: give up
            // on it a little after the server should have closed it.
            let give_up = started + timeout + WATCH_GRACE;
            loop {
                let Ok(next) = tokio::time::timeout_at(give_up, stream.next()).await else {
                    self.watch_ended(&kind, "watch stream silent past its timeout");
                    break;
                };
                match next {
                    Some(Ok(event)) => match informer.apply(event) {
                        Ok(Some(v)) if !v.is_empty() => version = v,
                        Ok(_) => {}
                        Err(error) => {
                            // 410 Expired and other in-stream errors: relist.
                            self.watch_ended(&kind, &error.to_string());
                            return None;
                        }
                    },
                    Some(Err(error)) => {
                        self.watch_ended(&kind, &error.to_string());
                        return None;
                    }
                    None => break,
                }
            }
            // A stream that ends at once is a failed watch, not a timeout:
            // back off and relist rather than spin.
            if started.elapsed() < Duration::from_secs(1) {
                self.watch_ended(&kind, "watch closed immediately");
                return None;
            }
        }
    }

    fn watch_ended(&self, kind: &str, reason: &str) {
        self.sink.record(ManagerEvent::WatchEnded {
            kind: kind.to_string(),
            reason: reason.to_string(),
        });
    }
}

//! `/readyz` and `/healthz`: what the kubelet's probes ask.

use std::cell::Cell;
use std::rc::Rc;

use stallsim_client::ApiClient;
use tokio::time::{Duration, Instant};

use crate::Cache;

/// The health checks of one process, evaluated when probed.
pub struct Health<C> {
    cache: Rc<Cache<C>>,
    /// `/healthz` fails once the caches have been unsynced this long (the
    /// liveness fix); `None` is ping only.
    sync_deadline: Option<Duration>,
    /// The last time a check found every informer synced.
    last_synced: Cell<Instant>,
}

impl<C: ApiClient + Clone + 'static> Health<C> {
    pub fn new(cache: Rc<Cache<C>>, sync_deadline: Option<Duration>) -> Self {
        Health {
            cache,
            sync_deadline,
            last_synced: Cell::new(tokio::time::Instant::now()),
        }
    }

    /// Ready when every informer has synced.
    pub fn readyz(&self) -> Result<(), String> {
        match self.unsynced_message() {
            None => Ok(()),
            Some(message) => Err(message),
        }
    }

    /// Ping; with the fix, also fails after `sync_deadline` unsynced.
    pub fn healthz(&self) -> Result<(), String> {
        let Some(deadline) = self.sync_deadline else {
            return Ok(());
        };
        let now = tokio::time::Instant::now();
        match self.unsynced_message() {
            None => {
                self.last_synced.set(now);
                Ok(())
            }
            Some(message) if now.duration_since(self.last_synced.get()) >= deadline => {
                Err(format!("{message} for at least {}s", deadline.as_secs()))
            }
            Some(_) => Ok(()),
        }
    }

    fn unsynced_message(&self) -> Option<String> {
        let unsynced = self.cache.unsynced();
        if unsynced.is_empty() {
            return None;
        }
        let kinds: Vec<String> = unsynced
            .iter()
            .map(|i| match i.last_error() {
                Some(error) => format!("{} (last LIST: {error})", i.kind),
                None => i.kind.to_string(),
            })
            .collect();
        Some(format!("informers not synced: {}", kinds.join("; ")))
    }
}

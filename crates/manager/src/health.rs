//! `/readyz` and `/healthz`: what the kubelet's probes ask.
//!
//! The checks are the resource manager's: readiness is `source-informer-sync`
//! (every informer synced); liveness is `ping`, `apiserver-healthz` (the API
//! server answers its `/healthz`) and, with the fix, `source-informer-sync`
//! with a deadline (Gardener's `pkg/healthz`).

use std::cell::Cell;
use std::rc::Rc;

use stallsim_client::ApiClient;
use tokio::time::{Duration, Instant};

use crate::Cache;

/// The health checks of one process, evaluated when probed.
pub struct Health<C> {
    cache: Rc<Cache<C>>,
    client: C,
    /// `/healthz` fails once the caches have been unsynced this long (the
    /// liveness fix); `None` leaves cache sync out of liveness.
    sync_deadline: Option<Duration>,
    /// When a liveness check first saw the caches unsynced; cleared by one
    /// that saw them synced. The deadline counts from here, not from the
    /// process start, as Gardener's `NewCacheSyncHealthzWithDeadline` does.
    unsynced_since: Cell<Option<Instant>>,
}

impl<C: ApiClient + Clone + 'static> Health<C> {
    pub fn new(cache: Rc<Cache<C>>, client: C, sync_deadline: Option<Duration>) -> Self {
        Health {
            cache,
            client,
            sync_deadline,
            unsynced_since: Cell::new(None),
        }
    }

    /// Ready when every informer has synced.
    pub fn readyz(&self) -> Result<(), String> {
        match self.unsynced_message() {
            None => Ok(()),
            Some(message) => Err(message),
        }
    }

    /// Every liveness check, each evaluated; fails with the failures joined.
    pub async fn healthz(&self) -> Result<(), String> {
        let mut failures = Vec::new();
        if let Err(why) = self.cache_sync_deadline() {
            failures.push(format!("source-informer-sync: {why}"));
        }
        if let Err(error) = self.client.server_healthz().await {
            failures.push(format!("apiserver-healthz: {error}"));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }

    /// The liveness fix: fails once a check has seen the caches unsynced
    /// for `sync_deadline` without a check in between that saw them synced.
    fn cache_sync_deadline(&self) -> Result<(), String> {
        let Some(deadline) = self.sync_deadline else {
            return Ok(());
        };
        let Some(message) = self.unsynced_message() else {
            self.unsynced_since.set(None);
            return Ok(());
        };
        let now = tokio::time::Instant::now();
        let since = *self.unsynced_since.get().get_or_insert(now);
        self.unsynced_since.set(Some(since));
        if now.duration_since(since) >= deadline {
            Err(format!(
                "{message} for at least {}s",
                deadline.as_secs_f64()
            ))
        } else {
            Ok(())
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

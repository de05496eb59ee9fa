//! `/readyz` and `/healthz`: what the kubelet's probes ask.
//!
//! The checks are the resource manager's: readiness is `source-informer-sync`
//! (every informer synced) and `webhook-server` (the webhook server was
//! started and listens); liveness is `ping`, `apiserver-healthz` (the API
//! server answers its `/healthz`) and, with the fix, `source-informer-sync`
//! with a deadline (Gardener's `pkg/healthz`).

use std::cell::Cell;
use std::rc::Rc;

use stallsim_client::ApiClient;
use tokio::time::{Duration, Instant};

use crate::{Cache, Gvk, InformerCoverage};

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
    /// The webhook server's state, when the process runs one.
    webhook: Option<Cell<WebhookServer>>,
    /// The informers `/readyz`'s cache-sync check covers.
    readyz_informers: InformerCoverage,
    /// The informers the liveness deadline covers.
    healthz_informers: InformerCoverage,
}

/// Where the process's webhook server is, as its readiness check sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookServer {
    /// Not started yet: the check fails ("has not been started yet").
    NotStarted,
    /// Listening: a TLS dial to its port succeeds.
    Listening,
    /// Stopped while the process shuts down: the dial fails.
    Stopped,
}

impl<C: ApiClient + Clone + 'static> Health<C> {
    /// The checks of a process whose caches are `cache`; with
    /// `webhook_server`, `/readyz` also holds the webhook server's check,
    /// failing until [`Health::set_webhook`] says it listens.
    pub fn new(
        cache: Rc<Cache<C>>,
        client: C,
        sync_deadline: Option<Duration>,
        webhook_server: bool,
    ) -> Self {
        Health {
            cache,
            client,
            sync_deadline,
            unsynced_since: Cell::new(None),
            webhook: webhook_server.then_some(Cell::new(WebhookServer::NotStarted)),
            readyz_informers: InformerCoverage::All,
            healthz_informers: InformerCoverage::All,
        }
    }

    /// The same checks, their cache-sync checks covering `readyz` and
    /// `healthz` (every informer, as the resource manager's, by default).
    pub fn covering(self, readyz: InformerCoverage, healthz: InformerCoverage) -> Self {
        Health {
            readyz_informers: readyz,
            healthz_informers: healthz,
            ..self
        }
    }

    /// The webhook server started or stopped (ignored without one).
    pub fn set_webhook(&self, state: WebhookServer) {
        if let Some(webhook) = &self.webhook {
            webhook.set(state);
        }
    }

    /// Ready when every informer has synced and the webhook server, if
    /// any, listens (controller-runtime's `StartedChecker`: started, and a
    /// dial to its port succeeds); fails with each failing check, joined.
    pub fn readyz(&self) -> Result<(), String> {
        let webhook = match self.webhook.as_ref().map(Cell::get) {
            Some(WebhookServer::NotStarted) => {
                Some("webhook-server: webhook server has not been started yet")
            }
            Some(WebhookServer::Stopped) => Some("webhook-server: webhook server is not reachable"),
            Some(WebhookServer::Listening) | None => None,
        };
        let failures: Vec<String> = self
            .unsynced_message(&self.readyz_informers)
            .into_iter()
            .chain(webhook.map(str::to_string))
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
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
        let Some(message) = self.unsynced_message(&self.healthz_informers) else {
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

    /// What the covered informers lack, if anything: those not synced, and
    /// (for named kinds) those that do not exist yet.
    fn unsynced_message(&self, coverage: &InformerCoverage) -> Option<String> {
        let (unsynced, missing): (_, Vec<&Gvk>) = match coverage {
            InformerCoverage::None => return None,
            InformerCoverage::All => (self.cache.unsynced(), Vec::new()),
            InformerCoverage::Kinds(kinds) => {
                let unsynced = self
                    .cache
                    .unsynced()
                    .into_iter()
                    .filter(|i| kinds.contains(&i.kind))
                    .collect();
                let missing = kinds.iter().filter(|k| !self.cache.has(k)).collect();
                (unsynced, missing)
            }
        };
        let kinds: Vec<String> = unsynced
            .iter()
            .map(|i| match i.last_error() {
                Some(error) => format!("{} (last LIST: {error})", i.kind),
                None => i.kind.to_string(),
            })
            .collect();
        let missing: Vec<String> = missing.iter().map(|k| k.to_string()).collect();
        match (kinds.is_empty(), missing.is_empty()) {
            (true, true) => None,
            (false, true) => Some(format!("informers not synced: {}", kinds.join("; "))),
            (true, false) => Some(format!("no informer yet for {}", missing.join("; "))),
            (false, false) => Some(format!(
                "informers not synced: {}; no informer yet for {}",
                kinds.join("; "),
                missing.join("; ")
            )),
        }
    }
}

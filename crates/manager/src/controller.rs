//! A controller: start its watch sources, then reconcile by reading kinds
//! through the cache, on a period, retrying failures with backoff.

use std::cell::Cell;
use std::rc::Rc;

use stallsim_client::ApiClient;
use tokio::time::{Duration, Instant};

use crate::{
    Cache, CacheError, ControllerConfig, EventSink, ManagerEvent, Mitigations, OnSyncTimeout,
};

/// controller-runtime's per-item failure backoff cap.
const ERROR_BACKOFF_CAP: Duration = Duration::from_secs(1000);

/// Between attempts to resolve a watch source's kind.
const SOURCE_RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// A controller could not start: the manager exits.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StartFailed(pub String);

pub(crate) struct Controller<C> {
    pub config: ControllerConfig,
    pub cache: Rc<Cache<C>>,
    pub sink: Rc<dyn EventSink>,
    pub mitigations: Mitigations,
    pub cache_sync_timeout: Duration,
}

impl<C: ApiClient + Clone + 'static> Controller<C> {
    /// Starts the watch sources (failing after the controller's cache sync
    /// timeout, or the manager's, unless it keeps waiting), then
    /// reconciles forever.
    pub async fn run(self) -> StartFailed {
        let name = self.config.name.clone();
        if let Err(error) = self.start_sources().await {
            self.sink.record(ManagerEvent::ControllerFailedToStart {
                controller: name,
                error: error.clone(),
            });
            return StartFailed(error);
        }
        self.sink.record(ManagerEvent::ControllerStarted {
            controller: name.clone(),
        });
        let mut error_backoff = self.config.error_backoff_initial;
        loop {
            self.sink.record(ManagerEvent::ReconcileStarted {
                controller: name.clone(),
            });
            let deadline = tokio::time::Instant::now() + self.config.sync_period;
            match self.reconcile(deadline).await {
                Ok(()) => {
                    error_backoff = self.config.error_backoff_initial;
                    self.sink.record(ManagerEvent::ReconcileSucceeded {
                        controller: name.clone(),
                    });
                    tokio::time::sleep(self.config.sync_period).await;
                }
                Err(error) => {
                    let wait = error_backoff;
                    error_backoff = (error_backoff * 2).min(ERROR_BACKOFF_CAP);
                    self.sink.record(ManagerEvent::ReconcileFailed {
                        controller: name.clone(),
                        error: error.to_string(),
                        retry_in_ms: wait.as_millis() as u64,
                    });
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One `cache_sync_timeout` for resolving the watch sources' kinds and
    /// waiting for their informers to sync, as controller-runtime's
    /// controller applies one context to both.
    async fn start_sources(&self) -> Result<(), String> {
        // Like controller-runtime's Kind source: a kind without a match is
        // retried until the cache sync timeout ends the wait.
        let resolving = Cell::new(true);
        let started = async {
            let mut informers = Vec::new();
            for kind in &self.config.watches {
                loop {
                    match self.cache.informer(kind).await {
                        Ok(informer) => break informers.push(informer),
                        Err(_) => tokio::time::sleep(SOURCE_RETRY_INTERVAL).await,
                    }
                }
            }
            resolving.set(false);
            for informer in &informers {
                informer.wait_for_sync().await;
            }
        };
        let timeout = self
            .config
            .cache_sync_timeout
            .unwrap_or(self.cache_sync_timeout);
        if self.config.on_sync_timeout == OnSyncTimeout::KeepWaiting {
            started.await;
            return Ok(());
        }
        match tokio::time::timeout(timeout, started).await {
            Ok(()) => Ok(()),
            Err(_) if resolving.get() => Err(
                "timed out waiting for cache to be synced (no match for a watched kind)"
                    .to_string(),
            ),
            Err(_) => Err("timed out waiting for cache to be synced".to_string()),
        }
    }

    async fn reconcile(&self, deadline: Instant) -> Result<(), CacheError> {
        for read in &self.config.reads {
            let wait_until = match self.mitigations.lazy_informer_sync_timeout {
                Some(timeout) => deadline.min(tokio::time::Instant::now() + timeout),
                None => deadline,
            };
            let listed = if read.cached {
                self.cache.list(&read.kind, wait_until).await
            } else {
                self.cache.list_uncached(&read.kind).await
            };
            match listed {
                Ok(_) => {}
                Err(error) if read.tolerate_no_match && error.is_no_match() => {}
                Err(error)
                    if read.tolerate_no_match
                        && self.mitigations.ignore_not_found
                        && error.is_not_found() => {}
                Err(CacheError::SyncTimeout(kind)) => {
                    if self.mitigations.lazy_informer_sync_timeout.is_some() {
                        self.cache.remove(&kind);
                    }
                    return Err(CacheError::SyncTimeout(kind));
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use stallsim_apiserver::{
        crd_resource, ApiServer, ApiServerConfig, CrdSpec, InProcessTransport,
    };
    use stallsim_client::RestClient;

    use super::*;
    use crate::{Gvk, ReflectorConfig, RestMapper};

    /// One `cache_sync_timeout` covers resolving the sources' kinds and
    /// waiting for their informers: a kind that resolves late leaves less
    /// time to sync, not another full timeout.
    #[test]
    fn one_timeout_covers_resolving_and_syncing_the_watch_sources() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&runtime, async {
            let server = Rc::new(RefCell::new(ApiServer::new(ApiServerConfig::default())));
            server
                .borrow_mut()
                .install_crd(&CrdSpec::prometheus(), Duration::ZERO);
            let client = RestClient::new(
                InProcessTransport::new(server.clone()),
                Duration::from_secs(30),
            );
            let mapper = Rc::new(RestMapper::new());
            mapper.discover(&client, &()).await.unwrap();
            // Prometheus is known but gone: its informer never syncs.
            client
                .delete(&crd_resource(), None, &CrdSpec::prometheus().name())
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            // Alertmanager has no match until its CRD appears at 100s.
            let creator = client.clone();
            tokio::task::spawn_local(async move {
                tokio::time::sleep(Duration::from_secs(100)).await;
                let crd = CrdSpec::alertmanager().to_crd();
                creator.create(&crd_resource(), &crd).await.unwrap();
            });
            let cache = Rc::new(Cache::new(
                client.clone(),
                mapper,
                ReflectorConfig::default(),
                false,
                Rc::new(()),
                7,
            ));
            let controller = Controller {
                config: ControllerConfig {
                    name: "watcher".to_string(),
                    leader_only: true,
                    watches: vec![
                        Gvk::new("monitoring.coreos.com", "v1", "Alertmanager"),
                        Gvk::new("monitoring.coreos.com", "v1", "Prometheus"),
                    ],
                    reads: Vec::new(),
                    sync_period: Duration::from_secs(3600),
                    error_backoff_initial: Duration::from_millis(5),
                    cache_sync_timeout: None,
                    on_sync_timeout: OnSyncTimeout::Exit,
                },
                cache,
                sink: Rc::new(()),
                mitigations: Mitigations::default(),
                cache_sync_timeout: Duration::from_secs(120),
            };
            let start = tokio::time::Instant::now();
            let StartFailed(error) = controller.run().await;
            let failed_after = start.elapsed();
            assert_eq!(error, "timed out waiting for cache to be synced");
            assert!(
                failed_after >= Duration::from_secs(120) && failed_after < Duration::from_secs(121),
                "failed after {failed_after:?}, not at the one 2m timeout"
            );
        });
    }
}

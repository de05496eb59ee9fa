//! One manager process: discovery, cache, leader election, controllers,
//! from start to exit.

use std::rc::Rc;

use k8s_openapi::jiff::Timestamp;
use rand::{rngs::SmallRng, Rng, SeedableRng};
use stallsim_client::ApiClient;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::controller::{Controller, StartFailed};
use crate::{
    Cache, ControllerConfig, DiscoveryMode, EventSink, Health, LeaderElector, ManagerConfig,
    ManagerEvent, RestMapper, WebhookServer,
};

/// What a process gets from where it runs.
pub struct ProcessContext<C> {
    pub client: C,
    pub sink: Rc<dyn EventSink>,
    /// Seeds every random choice of the process (jitter, watch timeouts).
    pub seed: u64,
    /// Wall time at process start, for timestamps written into objects.
    pub wall_clock_origin: Timestamp,
}

/// Why a process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Asked to stop; the lease was released if held and configured so.
    Stopped,
    /// Exited with an error (the container's process dies with it).
    Failed(String),
}

/// A manager, built and ready to run.
pub struct Manager<C> {
    config: ManagerConfig,
    client: C,
    sink: Rc<dyn EventSink>,
    mapper: Rc<RestMapper>,
    cache: Rc<Cache<C>>,
    health: Rc<Health<C>>,
    elector: LeaderElector<C>,
    /// The controllers running: a runnable group of controller-runtime's
    /// manager, stopped and awaited when the process stops.
    controllers: JoinSet<StartFailed>,
}

impl<C: ApiClient + Clone + 'static> Manager<C> {
    pub fn new(config: ManagerConfig, context: ProcessContext<C>) -> Self {
        let ProcessContext {
            client,
            sink,
            seed,
            wall_clock_origin,
        } = context;
        let sink: Rc<dyn EventSink> = Rc::new(crate::log::LoggingSink {
            inner: sink,
            identity: config.identity.clone(),
        });
        let mut rng = SmallRng::seed_from_u64(seed);
        let mapper = Rc::new(RestMapper::new());
        let cache = Rc::new(Cache::new(
            client.clone(),
            mapper.clone(),
            config.reflector.clone(),
            config.mitigations.not_found_list_is_empty,
            sink.clone(),
            rng.random(),
        ));
        let health = Rc::new(
            Health::new(
                cache.clone(),
                client.clone(),
                config.mitigations.liveness_cache_sync_deadline,
                config.webhook_server,
            )
            .covering(
                config.readyz_informers.clone(),
                config.healthz_informers.clone(),
            ),
        );
        let elector = LeaderElector::new(
            client.clone(),
            config.leader_election.clone(),
            config.identity.clone(),
            config.namespace.clone(),
            sink.clone(),
            rng.random(),
            wall_clock_origin,
        );
        Manager {
            config,
            client,
            sink,
            mapper,
            cache,
            health,
            elector,
            controllers: JoinSet::new(),
        }
    }

    /// The health checks, for whoever serves the probe endpoints.
    pub fn health(&self) -> Rc<Health<C>> {
        self.health.clone()
    }

    /// Runs until `stop` turns true or something fatal happens, then stops
    /// as controller-runtime's manager does (`engageStopProcedure` in
    /// `pkg/manager/internal.go`, v0.20.4): its runnables stop in order,
    /// controllers, then caches, then the webhook server, all within
    /// `graceful_shutdown_timeout`; only then is leader election cancelled,
    /// which releases the lease when `release_on_cancel` is set.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> Exit {
        self.sink.record(ManagerEvent::ProcessStarted);
        // controller-runtime's `Start` starts the HTTP servers (the probes,
        // served by whoever runs this process) and then the webhook server,
        // which listens at once, before the caches and controllers.
        self.health.set_webhook(WebhookServer::Listening);
        let exit = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => Exit::Stopped,
            exit = self.lead() => exit,
        };
        let began = Instant::now();
        let timeout = self.config.graceful_shutdown_timeout;
        let stopped = tokio::time::timeout(timeout, self.stop_runnables()).await;
        self.sink.record(ManagerEvent::RunnablesStopped {
            waited_ms: began.elapsed().as_millis() as u64,
            timed_out: stopped.is_err(),
        });
        if self.config.leader_election.release_on_cancel {
            self.elector.release().await;
        }
        let reason = match &exit {
            Exit::Stopped => "stopped".to_string(),
            Exit::Failed(error) => error.clone(),
        };
        self.sink.record(ManagerEvent::ProcessExited { reason });
        exit
    }

    /// Stops the runnables and waits for them, in controller-runtime's
    /// order: the controllers (their reconciles' reads and requests end
    /// with their context, as client-go's do), the caches, the webhook
    /// server.
    async fn stop_runnables(&mut self) {
        self.controllers.shutdown().await;
        self.cache.stop();
        self.health.set_webhook(WebhookServer::Stopped);
    }

    /// Discovery, then controllers; leader-only ones once elected. Returns
    /// only on a fatal error.
    async fn lead(&mut self) -> Exit {
        if self.config.discovery == DiscoveryMode::Eager {
            if let Err(error) = self.mapper.discover(&self.client, &*self.sink).await {
                return Exit::Failed(format!("discovery failed: {error}"));
            }
        }
        let configs = self.config.controllers.clone();
        if !self.config.leader_elect {
            // controller-runtime's manager without leader election starts
            // its leader-election runnables with the others, on every replica.
            for config in &configs {
                let controller = self.controller(config);
                self.controllers.spawn_local(controller.run());
            }
            return match self.controllers.join_next().await {
                Some(failed) => fatal(failed),
                // No controller at all: the process runs until stopped.
                None => std::future::pending().await,
            };
        }
        for config in configs.iter().filter(|c| !c.leader_only) {
            let controller = self.controller(config);
            self.controllers.spawn_local(controller.run());
        }
        tokio::select! {
            biased;
            Some(failed) = self.controllers.join_next() => return fatal(failed),
            _ = self.elector.acquire() => {}
        }
        if self.config.mitigations.rediscover_on_leadership {
            self.mapper.reset();
            // A failure here leaves the mapper to discover on first lookup.
            let _ = self.mapper.discover(&self.client, &*self.sink).await;
        }
        for config in configs.iter().filter(|c| c.leader_only) {
            let controller = self.controller(config);
            self.controllers.spawn_local(controller.run());
        }
        tokio::select! {
            biased;
            Some(failed) = self.controllers.join_next() => fatal(failed),
            _ = self.elector.hold() => Exit::Failed("leader election lost".to_string()),
        }
    }

    fn controller(&self, config: &ControllerConfig) -> Controller<C> {
        Controller {
            config: config.clone(),
            cache: self.cache.clone(),
            sink: self.sink.clone(),
            mitigations: self.config.mitigations.clone(),
            cache_sync_timeout: self.config.cache_sync_timeout,
        }
    }
}

fn fatal(joined: Result<StartFailed, tokio::task::JoinError>) -> Exit {
    match joined {
        Ok(StartFailed(error)) => Exit::Failed(format!("failed to start controller: {error}")),
        Err(error) => Exit::Failed(format!("controller task ended: {error}")),
    }
}

//! The manager section and the mitigations: one [`ManagerConfig`] for every replica.

use std::time::Duration;

use stallsim_manager::{
    BackoffConfig, ClientGoRelease, ControllerConfig, DiscoveryMode, Gvk, InformerLibrary,
    LeaderElectionConfig, ManagerConfig, Mitigations as ManagerMitigations, ReflectorConfig,
};

use super::{where_given, Ctx, Result};
use crate::bounds;
use crate::duration;
use crate::file::{self, Dur, S};

/// client-go's `leaderelection.JitterFactor`: the renew deadline must exceed
/// the retry period times this.
const ELECTION_JITTER_FACTOR: f64 = 1.2;
/// Sync period of the optional watching controller.
const WATCHER_SYNC_PERIOD: Duration = Duration::from_secs(3600);
const WATCHER_NAME: &str = "watcher";
const GARBAGE_COLLECTOR_NAME: &str = "garbage-collector";

pub(super) fn manager(
    ctx: &Ctx<'_>,
    manager: Option<&file::Manager>,
    mitigations: Option<&file::Mitigations>,
) -> Result<ManagerConfig> {
    let defaults = ManagerConfig::default();
    let mitigations = self::mitigations(ctx, mitigations)?;
    let Some(m) = manager else {
        return Ok(ManagerConfig {
            mitigations,
            ..defaults
        });
    };

    let discovery = match m.discovery {
        None => defaults.discovery,
        Some(file::Discovery::Eager) => DiscoveryMode::Eager,
        Some(file::Discovery::Lazy) => DiscoveryMode::Lazy,
    };
    let leader_election = leader_election(
        ctx,
        m.leader_election.as_ref(),
        defaults.leader_election.clone(),
        "spec.manager.leaderElection",
    )?;
    let mut reflector = reflector(ctx, m.reflector.as_ref())?;
    if let Some(informer) = &m.informer {
        reflector.library = match informer.value {
            file::Informer::ClientGo => InformerLibrary::ClientGo,
            file::Informer::KubeRuntime => {
                if !matches!(m.client, Some(file::Client::Kube)) {
                    return Err(ctx.error(
                        &informer.referenced,
                        "spec.manager.informer",
                        "kube-runtime's informer runs on kube-rs's client; expected `client: kube` beside it",
                    ));
                }
                if mitigations.not_found_list_is_empty {
                    return Err(ctx.error(
                        &informer.referenced,
                        "spec.manager.informer",
                        "the notFoundListIsEmpty mitigation changes client-go's reflector, and \
                         kube-runtime's watcher has no such switch; expected `informer: client-go` \
                         with it, or no notFoundListIsEmpty",
                    ));
                }
                InformerLibrary::KubeRuntime
            }
        };
    }
    if let Some(release) = &m.client_go {
        reflector.client_go = client_go(ctx, release)?;
        reflector.backoff.reset = reflector.client_go.backoff_reset();
    }
    let cache_sync_timeout = ctx.duration_in(
        &m.cache_sync_timeout,
        defaults.cache_sync_timeout,
        "spec.manager.cacheSyncTimeout",
        bounds::TIMEOUT,
    )?;
    let graceful_shutdown_timeout = ctx.duration_in(
        &m.graceful_shutdown_timeout,
        defaults.graceful_shutdown_timeout,
        "spec.manager.gracefulShutdownTimeout",
        bounds::DELAY,
    )?;

    let mut controllers = defaults.controllers.clone();
    if let Some(gc) = &m.garbage_collector {
        let extra_kinds: Vec<Gvk> = match &gc.extra_kinds {
            Some(kinds) => {
                ctx.items_in(
                    kinds,
                    "spec.manager.garbageCollector.extraKinds",
                    "extra kinds",
                    bounds::EXTRA_KINDS,
                )?;
                kinds.value.iter().map(|k| k.0.clone()).collect()
            }
            None => ControllerConfig::garbage_collector_extra_kinds(),
        };
        let mut controller = ControllerConfig::garbage_collector(&extra_kinds);
        controller.sync_period = ctx.duration_in(
            &gc.sync_period,
            controller.sync_period,
            "spec.manager.garbageCollector.syncPeriod",
            bounds::SYNC_PERIOD,
        )?;
        match controllers
            .iter_mut()
            .find(|c| c.name == GARBAGE_COLLECTOR_NAME)
        {
            Some(existing) => *existing = controller,
            None => controllers.insert(0, controller),
        }
    }
    if let Some(watching) = &m.watching_controller {
        let kinds: Vec<Gvk> = watching
            .value
            .kinds
            .iter()
            .flat_map(|kinds| kinds.value.iter())
            .map(|k| k.0.clone())
            .collect();
        if let Some(list) = watching.value.kinds.as_ref().filter(|_| !kinds.is_empty()) {
            ctx.items_in(
                list,
                "spec.manager.watchingController.kinds",
                "kinds",
                bounds::WATCHED_KINDS,
            )?;
        }
        if kinds.is_empty() {
            return Err(ctx.error(
                &watching.referenced,
                "spec.manager.watchingController.kinds",
                "no kinds to watch; expected at least one kind, like monitoring.coreos.com/v1/Prometheus",
            ));
        }
        controllers.push(ControllerConfig {
            name: WATCHER_NAME.to_string(),
            leader_only: true,
            watches: kinds,
            reads: Vec::new(),
            sync_period: WATCHER_SYNC_PERIOD,
            ..ControllerConfig::garbage_collector(&[])
        });
    }

    Ok(ManagerConfig {
        discovery,
        leader_election,
        reflector,
        controllers,
        cache_sync_timeout,
        graceful_shutdown_timeout,
        webhook_server: m.webhook_server.unwrap_or(defaults.webhook_server),
        mitigations,
        ..defaults
    })
}

/// What `spec.manager.clientGo` accepts, for errors.
fn client_go_accepted() -> String {
    format!(
        "a client-go release line from v0.{} to v0.{}, like v0.32 (the incident's)",
        ClientGoRelease::OLDEST,
        ClientGoRelease::NEWEST
    )
}

/// `v0.32` (or `v0.32.3`: the patch release does not matter) as a release line.
fn client_go(ctx: &Ctx<'_>, release: &S<String>) -> Result<ClientGoRelease> {
    let text = release.value.as_str();
    let minor = text
        .strip_prefix("v0.")
        .map(|rest| rest.split_once('.').map_or(rest, |(minor, _patch)| minor))
        .and_then(|minor| minor.parse::<u32>().ok())
        .filter(|minor| (ClientGoRelease::OLDEST..=ClientGoRelease::NEWEST).contains(minor));
    match minor {
        Some(minor) => Ok(ClientGoRelease { minor }),
        None => Err(ctx.error(
            &release.referenced,
            "spec.manager.clientGo",
            format!(
                "`{text}` is not accepted; expected {}",
                client_go_accepted()
            ),
        )),
    }
}

pub(super) fn leader_election(
    ctx: &Ctx<'_>,
    election: Option<&file::LeaderElection>,
    defaults: LeaderElectionConfig,
    section: &str,
) -> Result<LeaderElectionConfig> {
    let Some(e) = election else {
        return Ok(defaults);
    };
    let lease_duration = ctx.duration_in(
        &e.lease_duration,
        defaults.lease_duration,
        &format!("{section}.leaseDuration"),
        bounds::TIMEOUT,
    )?;
    let renew_deadline = ctx.duration_in(
        &e.renew_deadline,
        defaults.renew_deadline,
        &format!("{section}.renewDeadline"),
        bounds::TIMEOUT,
    )?;
    let retry_period = ctx.duration_in(
        &e.retry_period,
        defaults.retry_period,
        &format!("{section}.retryPeriod"),
        bounds::RETRY_PERIOD,
    )?;
    // Compared at the ends of their ranges, so that every draw is valid.
    let ends = |value: &Dur, default: Duration, name: &str| {
        ctx.ends(value, default, &format!("{section}.{name}"))
    };
    let lease = ends(&e.lease_duration, defaults.lease_duration, "leaseDuration");
    let renew = ends(&e.renew_deadline, defaults.renew_deadline, "renewDeadline");
    let retry = ends(&e.retry_period, defaults.retry_period, "retryPeriod");
    if renew.1 >= lease.0 {
        let (location, field) = if e.renew_deadline.is_some() {
            (where_given(&[&e.renew_deadline]), "renewDeadline")
        } else {
            (where_given(&[&e.lease_duration]), "leaseDuration")
        };
        return Err(ctx.error(
            &location,
            format!("{section}.{field}"),
            format!(
                "renewDeadline {} is not below leaseDuration {}; expected renewDeadline < leaseDuration",
                duration::format(renew.1),
                duration::format(lease.0)
            ),
        ));
    }
    if renew.0.as_secs_f64() <= ELECTION_JITTER_FACTOR * retry.1.as_secs_f64() {
        let (location, field) = if e.retry_period.is_some() {
            (where_given(&[&e.retry_period]), "retryPeriod")
        } else {
            (where_given(&[&e.renew_deadline]), "renewDeadline")
        };
        return Err(ctx.error(
            &location,
            format!("{section}.{field}"),
            format!(
                "renewDeadline {} is not above {ELECTION_JITTER_FACTOR} x retryPeriod {}; \
                 expected renewDeadline > {ELECTION_JITTER_FACTOR} x retryPeriod (as client-go requires)",
                duration::format(renew.0),
                duration::format(retry.1)
            ),
        ));
    }
    Ok(LeaderElectionConfig {
        lease_duration,
        renew_deadline,
        retry_period,
        release_on_cancel: e.release_on_cancel.unwrap_or(defaults.release_on_cancel),
        ..defaults
    })
}

fn reflector(ctx: &Ctx<'_>, reflector: Option<&file::Reflector>) -> Result<ReflectorConfig> {
    let defaults = ReflectorConfig::default();
    let Some(r) = reflector else {
        return Ok(defaults);
    };
    Ok(ReflectorConfig {
        backoff: backoff(ctx, r.backoff.as_ref(), defaults.backoff)?,
        watch_timeout_min: ctx.duration_in(
            &r.watch_timeout_min,
            defaults.watch_timeout_min,
            "spec.manager.reflector.watchTimeoutMin",
            bounds::WATCH_TIMEOUT_MIN,
        )?,
        ..defaults
    })
}

fn backoff(
    ctx: &Ctx<'_>,
    backoff: Option<&file::Backoff>,
    defaults: BackoffConfig,
) -> Result<BackoffConfig> {
    let Some(b) = backoff else {
        return Ok(defaults);
    };
    const FIELD: &str = "spec.manager.reflector.backoff";
    let (initial, cap) = ctx.initial_and_cap(
        &b.initial,
        &b.cap,
        (defaults.initial, defaults.cap),
        FIELD,
        bounds::BACKOFF_WAIT,
    )?;
    Ok(BackoffConfig {
        initial,
        factor: ctx.number_in(
            &b.factor,
            defaults.factor,
            &format!("{FIELD}.factor"),
            bounds::BACKOFF_FACTOR,
        )?,
        cap,
        jitter: ctx.number_in(
            &b.jitter,
            defaults.jitter,
            &format!("{FIELD}.jitter"),
            bounds::BACKOFF_JITTER,
        )?,
        reset_after: ctx.duration_in(
            &b.reset_after,
            defaults.reset_after,
            &format!("{FIELD}.resetAfter"),
            bounds::TIMEOUT,
        )?,
        reset: defaults.reset,
    })
}

fn mitigations(
    ctx: &Ctx<'_>,
    mitigations: Option<&file::Mitigations>,
) -> Result<ManagerMitigations> {
    let defaults = ManagerMitigations::default();
    let Some(m) = mitigations else {
        return Ok(defaults);
    };
    let optional = |value: &Dur, field: &str| -> Result<Option<Duration>> {
        value
            .as_ref()
            .map(|_| ctx.duration_in(value, Duration::ZERO, field, bounds::TIMEOUT))
            .transpose()
    };
    Ok(ManagerMitigations {
        liveness_cache_sync_deadline: optional(
            &m.liveness_cache_sync_deadline,
            "spec.mitigations.livenessCacheSyncDeadline",
        )?,
        ignore_not_found: m.ignore_not_found.unwrap_or(defaults.ignore_not_found),
        rediscover_on_leadership: m
            .rediscover_on_leadership
            .unwrap_or(defaults.rediscover_on_leadership),
        not_found_list_is_empty: m
            .not_found_list_is_empty
            .unwrap_or(defaults.not_found_list_is_empty),
        lazy_informer_sync_timeout: optional(
            &m.lazy_informer_sync_timeout,
            "spec.mitigations.lazyInformerSyncTimeout",
        )?,
    })
}

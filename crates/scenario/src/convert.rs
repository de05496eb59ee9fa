//! Checks a parsed file and turns it into a [`WorldConfig`] and an [`Expect`]; defaults fill every gap.
//!
//! Defaults come from the `Default` impls of the config types (the timing
//! constants of the incident), so a file names only what differs.

mod components;
mod ctx;
mod kubelet;
mod manager;
mod prometheus;
mod run;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use stallsim_apiserver::{ApiServerConfig, CrdSpec};
use stallsim_harness::{
    CheckerConfig, ClientKind, NetworkConfig, NodeLifecycleConfig, ReplicaSpec, WorldConfig,
    RESERVED_HOSTS, STEPS_MAX, TICK_MIN,
};

use crate::bounds::{self, CountRange};
use crate::duration;
use crate::error::ScenarioError;
use crate::expect::Expect;
use crate::file::{self, Dur, File, Tim, S};
use crate::Draw;

use ctx::{where_given, Ctx};

/// The only `apiVersion` this crate reads.
pub const API_VERSION: &str = "stallsim/v1alpha1";
/// The only `kind` this crate reads.
pub const KIND: &str = "Scenario";

/// Kubernetes' limit on a DNS-1123 label (a replica's name).
const LABEL_CHARS_MAX: usize = 63;
/// Kubernetes' limit on a DNS-1123 subdomain (a scenario's name).
const SUBDOMAIN_CHARS_MAX: usize = 253;

const SIM_DURATION_DEFAULT: Duration = Duration::from_secs(20 * 60);
const TICK_DEFAULT: Duration = Duration::from_millis(10);
const SEED_DEFAULT: u64 = 1;

/// A checked scenario file.
pub(crate) struct Converted {
    pub config: WorldConfig,
    /// The values drawn from the file's ranges for this world.
    pub draws: Vec<Draw>,
    /// Every duration field the file writes.
    pub written: Vec<String>,
    /// Every duration field with a range of its own, and its value.
    pub values: BTreeMap<String, Duration>,
    pub expect: std::result::Result<Expect, ScenarioError>,
    pub description: Option<String>,
}

type Result<T> = std::result::Result<T, ScenarioError>;

fn is_dns_label(name: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    !name.is_empty()
        && name.len() <= LABEL_CHARS_MAX
        && name.chars().all(ok_char)
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= SUBDOMAIN_CHARS_MAX && name.split('.').all(is_dns_label)
}

/// Checks `file` (read from `path`) and builds its world and expectation,
/// for the run with `seed` (the file's own when `None`), with the `chosen`
/// values for those ranged fields instead of draws.
pub(crate) fn convert(
    path: &Path,
    file: &S<File>,
    seed: Option<u64>,
    chosen: &BTreeMap<String, Duration>,
) -> Result<Converted> {
    let file_seed = file
        .value
        .spec
        .as_ref()
        .and_then(|s| s.value.seed)
        .unwrap_or(SEED_DEFAULT);
    let ctx = Ctx {
        path,
        seed: seed.unwrap_or(file_seed),
        chosen,
        draws: RefCell::new(Vec::new()),
        written: RefCell::new(Vec::new()),
        values: RefCell::new(BTreeMap::new()),
    };
    let root = &file.referenced;
    let file = &file.value;

    match &file.api_version {
        None => {
            return Err(ctx.missing(root, "apiVersion", &format!("`apiVersion: {API_VERSION}`")))
        }
        Some(v) if v.value != API_VERSION => {
            return Err(ctx.error(
                &v.referenced,
                "apiVersion",
                format!("`{}` is not supported; expected `{API_VERSION}`", v.value),
            ))
        }
        Some(_) => {}
    }
    match &file.kind {
        None => return Err(ctx.missing(root, "kind", &format!("`kind: {KIND}`"))),
        Some(k) if k.value != KIND => {
            return Err(ctx.error(
                &k.referenced,
                "kind",
                format!("`{}` is not supported; expected `{KIND}`", k.value),
            ))
        }
        Some(_) => {}
    }
    const NAME_ACCEPTED: &str =
        "a name of lower-case letters, digits, `-` and `.`, like grm-deletion-stall";
    let metadata = file
        .metadata
        .as_ref()
        .ok_or_else(|| ctx.missing(root, "metadata.name", NAME_ACCEPTED))?;
    let name = metadata
        .value
        .name
        .as_ref()
        .ok_or_else(|| ctx.missing(&metadata.referenced, "metadata.name", NAME_ACCEPTED))?;
    if !is_dns_subdomain(&name.value) {
        return Err(ctx.error(
            &name.referenced,
            "metadata.name",
            format!(
                "`{}` is not a valid name; expected {NAME_ACCEPTED}",
                name.value
            ),
        ));
    }
    let spec = file.spec.as_ref().ok_or_else(|| {
        ctx.missing(
            root,
            "spec",
            "a spec, with `expect: {verdict: stall}` or `expect: {verdict: converges}` for `stallsim test`",
        )
    })?;
    let (config, expect) = spec_to_world(&ctx, &name.value, spec)?;
    Ok(Converted {
        config,
        draws: ctx.draws.into_inner(),
        written: ctx.written.into_inner(),
        values: ctx.values.into_inner(),
        expect,
        description: metadata.value.description.clone(),
    })
}

fn spec_to_world(
    ctx: &Ctx<'_>,
    name: &str,
    spec: &S<file::Spec>,
) -> Result<(WorldConfig, std::result::Result<Expect, ScenarioError>)> {
    let spec_location = &spec.referenced;
    let spec = &spec.value;

    let duration = ctx.duration_in(
        &spec.duration,
        SIM_DURATION_DEFAULT,
        "spec.duration",
        bounds::RUN,
    )?;
    let tick = ctx.positive(&spec.tick, TICK_DEFAULT, "spec.tick")?;
    // In the order of the file format, so that the first error reported is
    // the first one a reader meets.
    let network = network(ctx, spec.network.as_ref())?;
    let apiserver = api_server(ctx, spec.api_server.as_ref())?;
    let crds = crds(ctx, spec.crds.as_ref())?;
    if let Some(list) = &spec.components {
        components_alone(ctx, spec, list)?;
    }
    let replicas = match &spec.components {
        Some(_) => Vec::new(),
        None => replicas(ctx, spec.replicas.as_ref())?,
    };
    let manager = manager::manager(ctx, spec.manager.as_ref(), spec.mitigations.as_ref())?;
    let client = match spec.manager.as_ref().and_then(|m| m.client) {
        None | Some(file::Client::Rest) => ClientKind::Rest,
        Some(file::Client::Kube) => ClientKind::Kube,
    };
    let kubelet = kubelet::kubelet(ctx, spec.kubelet.as_ref())?;
    let components = match &spec.components {
        Some(list) => components::components(ctx, list, &manager, &kubelet)?,
        None => Vec::new(),
    };
    let component_names: Vec<String> = if components.is_empty() {
        vec![stallsim_harness::RESOURCE_MANAGER.to_string()]
    } else {
        components.iter().map(|c| c.name.clone()).collect()
    };
    let replica_names: BTreeSet<&str> = replicas
        .iter()
        .chain(components.iter().flat_map(|c| c.replicas.iter()))
        .map(|r| r.name.as_str())
        .collect();
    let node_lifecycle = node_lifecycle(ctx, spec.node_lifecycle.as_ref())?;
    let flow = spec
        .deletion_flow
        .as_ref()
        .map(|f| run::deletion_flow(ctx, f, &crds, &component_names))
        .transpose()?;
    let faults = run::faults(ctx, spec.faults.as_ref(), &replica_names)?;
    let stall_bound_field = spec.check.as_ref().and_then(|c| c.stall_bound.clone());
    let stall_bound = ctx.duration_in(
        &stall_bound_field,
        CheckerConfig::default().stall_bound,
        "spec.check.stallBound",
        bounds::TIMEOUT,
    )?;
    // Compared at the ends of their ranges, so that every draw is a valid world.
    let duration_least = ctx
        .ends(&spec.duration, SIM_DURATION_DEFAULT, "spec.duration")
        .0;
    let stall_bound_greatest = ctx
        .ends(
            &stall_bound_field,
            CheckerConfig::default().stall_bound,
            "spec.check.stallBound",
        )
        .1;
    if duration_least <= stall_bound_greatest {
        let (at, field) = match &spec.duration {
            Some(d) => (d.referenced, "spec.duration"),
            None => (where_given(&[&stall_bound_field]), "spec.check.stallBound"),
        };
        return Err(ctx.error(
            &at,
            field,
            format!(
                "a run of {} cannot outlast the stall bound of {}; expected a duration longer than the bound, \
                 with room after the last scheduled event for the bound to run out",
                duration::format(duration_least),
                duration::format(stall_bound_greatest)
            ),
        ));
    }
    within_run(ctx, spec, duration_least)?;
    let prometheus = prometheus::prometheus(ctx, spec.prometheus.as_ref())?;
    let expect = run::expect(
        ctx,
        spec_location,
        spec.expect.as_ref(),
        &replica_names,
        flow.is_some(),
    )?;
    let alerts = prometheus::expect_alerts(
        ctx,
        spec.expect.as_ref().and_then(|e| e.value.alerts.as_ref()),
        prometheus.as_ref(),
    )?;
    let expect = expect.map(|mut e| {
        e.alerts = alerts;
        e
    });

    let config = WorldConfig {
        name: name.to_string(),
        seed: ctx.seed,
        duration,
        tick,
        network,
        apiserver,
        crds,
        replicas,
        manager,
        components,
        client,
        kubelet,
        node_lifecycle,
        flow,
        faults,
        checker: CheckerConfig { stall_bound },
        prometheus,
    };
    check_tick(ctx, spec, &config)?;
    Ok((config, expect))
}

/// Every time the file schedules falls before the end of the run: before
/// `duration`, the least the run lasts.
fn within_run(ctx: &Ctx<'_>, spec: &file::Spec, duration: Duration) -> Result<()> {
    let check = |value: &Tim, field: String| match value {
        Some(at) if at.value.greatest >= duration => Err(ctx.error(
            &at.referenced,
            field,
            format!(
                "{} is not within the run of {}; expected a time before spec.duration",
                duration::format(at.value.greatest),
                duration::format(duration)
            ),
        )),
        _ => Ok(()),
    };
    for (i, replica) in spec
        .replicas
        .iter()
        .flat_map(|l| l.value.iter())
        .enumerate()
    {
        check(
            &replica.value.start_at,
            format!("spec.replicas[{i}].startAt"),
        )?;
        check(
            &replica.value.probe_phase,
            format!("spec.replicas[{i}].probePhase"),
        )?;
    }
    for (i, component) in spec
        .components
        .iter()
        .flat_map(|l| l.value.iter())
        .enumerate()
    {
        for (j, replica) in component
            .value
            .replicas
            .iter()
            .flat_map(|l| l.value.iter())
            .enumerate()
        {
            let field = format!("spec.components[{i}].replicas[{j}]");
            check(&replica.value.start_at, format!("{field}.startAt"))?;
            check(&replica.value.probe_phase, format!("{field}.probePhase"))?;
        }
    }
    if let Some(flow) = &spec.deletion_flow {
        check(
            &flow.value.delete_at,
            "spec.deletionFlow.deleteAt".to_string(),
        )?;
    }
    for (i, fault) in spec.faults.iter().flat_map(|l| l.value.iter()).enumerate() {
        check(&fault.value.at, format!("spec.faults[{i}].at"))?;
    }
    Ok(())
}

/// The tick lies in the range the model tolerates: not finer than
/// [`TICK_MIN`], not coarser than the probes allow, and not so fine that
/// the run takes more than [`STEPS_MAX`] steps.
fn check_tick(ctx: &Ctx<'_>, spec: &file::Spec, config: &WorldConfig) -> Result<()> {
    let (tick_least, tick_greatest) = ctx.ends(&spec.tick, config.tick, "spec.tick");
    let duration_greatest = ctx.ends(&spec.duration, config.duration, "spec.duration").1;
    let at = where_given(&[&spec.tick]);
    let tick_max = tick_max_of_every_draw(ctx, spec, config);
    let problem = if tick_least < TICK_MIN {
        Some(format!(
            "{} is finer than the trace resolves; expected a tick of at least {}, like 10ms",
            duration::format(tick_least),
            duration::format(TICK_MIN)
        ))
    } else if tick_greatest > tick_max {
        Some(format!(
            "{} is too coarse for the probes (a probe's four network hops take a tick each, \
             within half of the shortest probe timeout); expected a tick of at most {}, like 10ms",
            duration::format(tick_greatest),
            duration::format(tick_max)
        ))
    } else if duration_greatest.as_nanos() / tick_least.as_nanos() > STEPS_MAX {
        Some(format!(
            "{} steps of {} make a run of {} too long to finish; expected at most {STEPS_MAX} steps, \
             a tick of at least {}",
            duration_greatest.as_nanos() / tick_least.as_nanos(),
            duration::format(tick_least),
            duration::format(duration_greatest),
            duration::format(Duration::from_nanos(
                duration_greatest.as_nanos().div_ceil(STEPS_MAX) as u64
            ))
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(ctx.error(&at, "spec.tick", message)),
        None => Ok(()),
    }
}

/// [`WorldConfig::tick_max`] of the world whose probe timeouts are the
/// least any draw gives them.
fn tick_max_of_every_draw(ctx: &Ctx<'_>, spec: &file::Spec, config: &WorldConfig) -> Duration {
    let kubelet = spec.kubelet.as_ref();
    let least = |probe: Option<&file::Probe>, default: Duration, field: &str| {
        let timeout = probe.and_then(|p| p.timeout.clone());
        ctx.ends(&timeout, default, field).0
    };
    let mut world = WorldConfig {
        kubelet: config.kubelet.clone(),
        components: config.components.clone(),
        ..WorldConfig::default()
    };
    world.kubelet.liveness.timeout = least(
        kubelet.and_then(|k| k.liveness.as_ref()),
        config.kubelet.liveness.timeout,
        "spec.kubelet.liveness.timeout",
    );
    world.kubelet.readiness.timeout = least(
        kubelet.and_then(|k| k.readiness.as_ref()),
        config.kubelet.readiness.timeout,
        "spec.kubelet.readiness.timeout",
    );
    world.tick_max()
}

/// `spec.components` describes every process of the run: the resource
/// manager's own pods and controllers (`spec.replicas`,
/// `spec.manager.garbageCollector`, `spec.manager.watchingController`)
/// have no place beside it.
fn components_alone(
    ctx: &Ctx<'_>,
    spec: &file::Spec,
    list: &S<Vec<S<file::Component>>>,
) -> Result<()> {
    let why = "with spec.components, every process of the run is a component; \
               expected the resource manager, if it runs, as one of spec.components";
    if let Some(replicas) = &spec.replicas {
        return Err(ctx.error(&replicas.referenced, "spec.replicas", why));
    }
    if let Some(manager) = &spec.manager {
        if let Some(watching) = &manager.watching_controller {
            return Err(ctx.error(&watching.referenced, "spec.manager.watchingController", why));
        }
        if manager.garbage_collector.is_some() {
            return Err(ctx.error(&list.referenced, "spec.manager.garbageCollector", why));
        }
    }
    Ok(())
}

fn network(ctx: &Ctx<'_>, network: Option<&file::Network>) -> Result<NetworkConfig> {
    let defaults = NetworkConfig::default();
    // Converted when absent too, so that a value chosen for a field applies.
    let absent = file::Network::default();
    let n = network.unwrap_or(&absent);
    let latency_min = ctx.duration_in(
        &n.latency_min,
        defaults.latency_min,
        "spec.network.latencyMin",
        bounds::LATENCY,
    )?;
    let latency_max = ctx.duration_in(
        &n.latency_max,
        defaults.latency_max,
        "spec.network.latencyMax",
        bounds::LATENCY,
    )?;
    let min_greatest = ctx
        .ends(
            &n.latency_min,
            defaults.latency_min,
            "spec.network.latencyMin",
        )
        .1;
    let max_least = ctx
        .ends(
            &n.latency_max,
            defaults.latency_max,
            "spec.network.latencyMax",
        )
        .0;
    if min_greatest > max_least {
        return Err(ctx.error(
            &where_given(&[&n.latency_min, &n.latency_max]),
            if n.latency_min.is_some() {
                "spec.network.latencyMin"
            } else {
                "spec.network.latencyMax"
            },
            format!(
                "latencyMin {} is above latencyMax {}; expected latencyMin <= latencyMax",
                duration::format(min_greatest),
                duration::format(max_least)
            ),
        ));
    }
    Ok(NetworkConfig {
        latency_min,
        latency_max,
        request_timeout: ctx.duration_in(
            &n.request_timeout,
            defaults.request_timeout,
            "spec.network.requestTimeout",
            bounds::TIMEOUT,
        )?,
    })
}

fn api_server(ctx: &Ctx<'_>, api_server: Option<&file::ApiServer>) -> Result<ApiServerConfig> {
    let defaults = ApiServerConfig::default();
    // Converted when absent too, so that a value chosen for a field applies.
    let absent = file::ApiServer::default();
    let a = api_server.unwrap_or(&absent);
    const FIELD: &str = "spec.apiServer";
    let field = |name: &str| format!("{FIELD}.{name}");
    let delay = |value: &Dur, default: Duration, name: &str| {
        ctx.duration_in(value, default, &field(name), bounds::DELAY)
    };
    let count = |value: &Option<S<u64>>, default: usize, name: &str, range: CountRange| {
        ctx.count_in(value, default as u64, &field(name), range)
            .map(|n| usize::try_from(n).expect("the bounds fit a usize"))
    };
    Ok(ApiServerConfig {
        history_events_max: count(
            &a.history_events_max,
            defaults.history_events_max,
            "historyEventsMax",
            bounds::HISTORY_EVENTS,
        )?,
        discovery_lag: delay(&a.discovery_lag, defaults.discovery_lag, "discoveryLag")?,
        watch_channel_capacity: count(
            &a.watch_channel_capacity,
            defaults.watch_channel_capacity,
            "watchChannelCapacity",
            bounds::WATCH_CHANNEL_CAPACITY,
        )?,
        bookmark_interval: ctx.duration_in(
            &a.bookmark_interval,
            defaults.bookmark_interval,
            &field("bookmarkInterval"),
            bounds::BOOKMARK_INTERVAL,
        )?,
        crd_finalizer_delay: delay(
            &a.crd_finalizer_delay,
            defaults.crd_finalizer_delay,
            "crdFinalizerDelay",
        )?,
        instance_deletion_cost: delay(
            &a.instance_deletion_cost,
            defaults.instance_deletion_cost,
            "instanceDeletionCost",
        )?,
        serving_removal_lag: delay(
            &a.serving_removal_lag,
            defaults.serving_removal_lag,
            "servingRemovalLag",
        )?,
        watch_teardown_delay: delay(
            &a.watch_teardown_delay,
            defaults.watch_teardown_delay,
            "watchTeardownDelay",
        )?,
    })
}

fn node_lifecycle(
    ctx: &Ctx<'_>,
    nodes: Option<&file::NodeLifecycle>,
) -> Result<NodeLifecycleConfig> {
    let defaults = NodeLifecycleConfig::default();
    // Converted when absent too, so that a value chosen for a field applies.
    let absent = file::NodeLifecycle::default();
    let n = nodes.unwrap_or(&absent);
    const FIELD: &str = "spec.nodeLifecycle";
    let field = |name: &str| format!("{FIELD}.{name}");
    let toleration_seconds = ctx.count_in(
        &n.toleration_seconds,
        defaults.toleration.as_secs(),
        &field("tolerationSeconds"),
        bounds::TOLERATION_SECONDS,
    )?;
    Ok(NodeLifecycleConfig {
        node_monitor_grace_period: ctx.duration_in(
            &n.node_monitor_grace_period,
            defaults.node_monitor_grace_period,
            &field("nodeMonitorGracePeriod"),
            bounds::TIMEOUT,
        )?,
        node_monitor_period: ctx.duration_in(
            &n.node_monitor_period,
            defaults.node_monitor_period,
            &field("nodeMonitorPeriod"),
            bounds::TIMEOUT,
        )?,
        node_lease_renew_interval: ctx.duration_in(
            &n.node_lease_renew_interval,
            defaults.node_lease_renew_interval,
            &field("nodeLeaseRenewInterval"),
            bounds::TIMEOUT,
        )?,
        toleration: Duration::from_secs(toleration_seconds),
        scheduling_delay: ctx.duration_in(
            &n.scheduling_delay,
            defaults.scheduling_delay,
            &field("schedulingDelay"),
            bounds::DELAY,
        )?,
    })
}

fn crds(ctx: &Ctx<'_>, crds: Option<&S<Vec<S<file::Crd>>>>) -> Result<Vec<CrdSpec>> {
    let Some(list) = crds else {
        return Ok(vec![CrdSpec::prometheus(), CrdSpec::alertmanager()]);
    };
    ctx.items_in(list, "spec.crds", "CRDs", bounds::CRDS)?;
    let mut out: Vec<CrdSpec> = Vec::new();
    for (i, crd) in list.value.iter().enumerate() {
        let field = |name: &str| format!("spec.crds[{i}].{name}");
        let required = |value: &Option<S<String>>, name: &str, example: &str| -> Result<String> {
            match value {
                None => Err(ctx.missing(&crd.referenced, &field(name), example)),
                Some(v) if v.value.is_empty() || v.value.contains(char::is_whitespace) => Err(ctx
                    .error(
                        &v.referenced,
                        field(name),
                        format!("`{}` is not accepted; expected {example}", v.value),
                    )),
                Some(v) => Ok(v.value.clone()),
            }
        };
        let c = &crd.value;
        let spec = CrdSpec {
            group: required(
                &c.group,
                "group",
                "an API group, like monitoring.coreos.com",
            )?,
            version: required(&c.version, "version", "a version, like v1")?,
            kind: required(&c.kind, "kind", "a kind, like Prometheus")?,
            plural: required(
                &c.plural,
                "plural",
                "a plural resource name, like prometheuses",
            )?,
            namespaced: c.namespaced.unwrap_or(true),
            status_subresource: c.status_subresource.unwrap_or(false),
        };
        if out.iter().any(|o| o.name() == spec.name()) {
            return Err(ctx.error(
                &crd.referenced,
                format!("spec.crds[{i}]"),
                format!(
                    "the CRD {} is listed twice; expected each CRD once",
                    spec.name()
                ),
            ));
        }
        out.push(spec);
    }
    Ok(out)
}

fn replicas(
    ctx: &Ctx<'_>,
    replicas: Option<&S<Vec<S<file::Replica>>>>,
) -> Result<Vec<ReplicaSpec>> {
    let Some(list) = replicas else {
        return Ok(["grm-0", "grm-1"]
            .into_iter()
            .map(|name| ReplicaSpec {
                name: name.to_string(),
                start_at: Duration::ZERO,
                probe_phase: None,
            })
            .collect());
    };
    replica_list(ctx, list, "spec.replicas", &[])
}

/// The replicas of `list` (at `prefix`), their names unique among them,
/// among `taken` and the world's own hosts.
fn replica_list(
    ctx: &Ctx<'_>,
    list: &S<Vec<S<file::Replica>>>,
    prefix: &str,
    taken: &[String],
) -> Result<Vec<ReplicaSpec>> {
    ctx.items_in(list, prefix, "replicas", bounds::REPLICAS)?;
    const NAME_ACCEPTED: &str = "a name of lower-case letters, digits and `-`, like grm-0";
    let mut out: Vec<ReplicaSpec> = Vec::new();
    for (i, replica) in list.value.iter().enumerate() {
        let field = format!("{prefix}[{i}].name");
        let name = replica
            .value
            .name
            .as_ref()
            .ok_or_else(|| ctx.missing(&replica.referenced, &field, NAME_ACCEPTED))?;
        if !is_dns_label(&name.value) {
            return Err(ctx.error(
                &name.referenced,
                field,
                format!(
                    "`{}` is not a valid name; expected {NAME_ACCEPTED}",
                    name.value
                ),
            ));
        }
        if out.iter().any(|r| r.name == name.value) || taken.contains(&name.value) {
            return Err(ctx.error(
                &name.referenced,
                field,
                format!(
                    "the replica name `{}` is used twice; expected unique replica names",
                    name.value
                ),
            ));
        }
        if RESERVED_HOSTS.contains(&name.value.as_str()) {
            return Err(ctx.error(
                &name.referenced,
                field,
                format!(
                    "`{}` is the name of a host the world runs itself ({}); expected another name",
                    name.value,
                    quoted(&RESERVED_HOSTS)
                ),
            ));
        }
        out.push(ReplicaSpec {
            name: name.value.clone(),
            start_at: ctx.time_or(
                &replica.value.start_at,
                Duration::ZERO,
                &format!("{prefix}[{i}].startAt"),
            ),
            probe_phase: replica
                .value
                .probe_phase
                .as_ref()
                .map(|phase| ctx.time(phase, &format!("{prefix}[{i}].probePhase"))),
        });
    }
    Ok(out)
}

/// `a`, `b` as "`a`, `b`", or "none" when empty.
fn quoted<T: AsRef<str>>(names: &[T]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

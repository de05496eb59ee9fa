//! `spec.components`: each component a deployment of its own, its process
//! built from the manager section's settings (client-go line, reflector,
//! cache sync timeout, mitigations) and its own description.

use std::time::Duration;

use serde_saphyr::Location;
use stallsim_harness::{
    ComponentConfig, ComponentProcess, KubeletConfig, ProbeConfig, Program, HEALTH_PROBE_PORT,
};
use stallsim_manager::{
    ControllerConfig, DiscoveryMode, Gvk, InformerCoverage, KindRead, ManagerConfig, OnSyncTimeout,
};

use super::{is_dns_label, replica_list, Ctx, Result};
use crate::bounds;
use crate::file::{self, S};

/// A component's reading controller's default period: the resource
/// manager's garbage collector's (1h).
const READER_SYNC_PERIOD: Duration = Duration::from_secs(3600);

/// Every component of `list`, in order; `base` is the process the manager
/// section describes, `kubelet` the probes every component starts from.
pub(super) fn components(
    ctx: &Ctx<'_>,
    list: &S<Vec<S<file::Component>>>,
    base: &ManagerConfig,
    kubelet: &KubeletConfig,
) -> Result<Vec<ComponentConfig>> {
    ctx.items_in(list, "spec.components", "components", bounds::COMPONENTS)?;
    let mut out: Vec<ComponentConfig> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for (i, component) in list.value.iter().enumerate() {
        let converted = self::component(ctx, i, component, base, kubelet, &taken, &out)?;
        taken.extend(converted.replicas.iter().map(|r| r.name.clone()));
        out.push(converted);
    }
    if taken.len() as u64 > bounds::REPLICAS.greatest {
        return Err(ctx.error(
            &list.referenced,
            "spec.components",
            format!(
                "{} replicas in all; expected at most {} over every component (each costs a process, \
                 an elector and two probes)",
                taken.len(),
                bounds::REPLICAS.greatest
            ),
        ));
    }
    let informers: u64 = out.iter().map(informers_of).sum();
    if informers > bounds::COMPONENT_INFORMERS_MAX {
        return Err(ctx.error(
            &list.referenced,
            "spec.components",
            format!(
                "{informers} informers in all; expected at most {} over every component \
                 (a component's watched and read kinds, once if it elects a leader, \
                 else once per replica)",
                bounds::COMPONENT_INFORMERS_MAX
            ),
        ));
    }
    Ok(out)
}

/// The informers `component` runs at once: its kinds, in its leader only
/// when it elects one, else in every replica.
fn informers_of(component: &ComponentConfig) -> u64 {
    // A program's informers are its own affair: its code is not the file's.
    let Some(manager) = component.process.manager() else {
        return 0;
    };
    let kinds: usize = manager
        .controllers
        .iter()
        .map(|c| c.watches.len() + c.reads.len())
        .sum();
    let processes = if manager.leader_elect {
        1
    } else {
        component.replicas.len()
    };
    (kinds * processes) as u64
}

fn component(
    ctx: &Ctx<'_>,
    i: usize,
    component: &S<file::Component>,
    base: &ManagerConfig,
    kubelet: &KubeletConfig,
    taken: &[String],
    before: &[ComponentConfig],
) -> Result<ComponentConfig> {
    let prefix = format!("spec.components[{i}]");
    let c = &component.value;
    const NAME_ACCEPTED: &str =
        "a name of lower-case letters, digits and `-`, like prometheus-operator";
    let name = c.name.as_ref().ok_or_else(|| {
        ctx.missing(
            &component.referenced,
            &format!("{prefix}.name"),
            NAME_ACCEPTED,
        )
    })?;
    if !is_dns_label(&name.value) {
        return Err(ctx.error(
            &name.referenced,
            format!("{prefix}.name"),
            format!(
                "`{}` is not a valid name; expected {NAME_ACCEPTED}",
                name.value
            ),
        ));
    }
    if before.iter().any(|b| b.name == name.value) {
        return Err(ctx.error(
            &name.referenced,
            format!("{prefix}.name"),
            format!(
                "the component name `{}` is used twice; expected unique component names",
                name.value
            ),
        ));
    }
    let replicas = c.replicas.as_ref().ok_or_else(|| {
        ctx.missing(
            &component.referenced,
            &format!("{prefix}.replicas"),
            "a list of its pods, like [{name: op-0, startAt: 0s}]",
        )
    })?;
    let replicas = replica_list(ctx, replicas, &format!("{prefix}.replicas"), taken)?;
    let program = match &c.program {
        Some(program) => Some(program_of(ctx, &prefix, c, program)?),
        None => None,
    };
    let probes = c.probes.as_ref();
    let liveness = super::kubelet::probe(
        ctx,
        probes.and_then(|p| p.liveness.as_ref()),
        kubelet.liveness.clone(),
        &format!("{prefix}.probes.liveness"),
        program.is_some(),
    )?;
    let readiness = super::kubelet::probe(
        ctx,
        probes.and_then(|p| p.readiness.as_ref()),
        kubelet.readiness.clone(),
        &format!("{prefix}.probes.readiness"),
        program.is_some(),
    )?;
    if let Some(program) = program {
        probe_ports_apart(ctx, &prefix, probes, &liveness, &readiness)?;
        return Ok(ComponentConfig {
            name: name.value.clone(),
            replicas,
            process: ComponentProcess::Program(program),
            liveness,
            readiness,
        });
    }

    let mut manager = base.clone();
    manager.discovery = match c.discovery.as_ref().map(|d| d.value) {
        None => base.discovery,
        Some(file::Discovery::Eager) => DiscoveryMode::Eager,
        Some(file::Discovery::Lazy) => DiscoveryMode::Lazy,
    };
    manager.webhook_server = c.webhook_server.as_ref().is_some_and(|w| w.value);
    manager.graceful_shutdown_timeout = ctx.duration_in(
        &c.graceful_shutdown_timeout,
        base.graceful_shutdown_timeout,
        &format!("{prefix}.gracefulShutdownTimeout"),
        bounds::DELAY,
    )?;
    // A component's lease is named after it unless the file says otherwise.
    let mut election_defaults = base.leader_election.clone();
    election_defaults.lease_name = name.value.clone();
    manager.leader_elect = true;
    manager.leader_election = election_defaults.clone();
    if let Some(election) = &c.leader_election {
        let e = &election.value;
        manager.leader_elect = e.enabled.unwrap_or(true);
        let timings = file::LeaderElection {
            lease_duration: e.lease_duration.clone(),
            renew_deadline: e.renew_deadline.clone(),
            retry_period: e.retry_period.clone(),
            release_on_cancel: e.release_on_cancel,
        };
        manager.leader_election = super::manager::leader_election(
            ctx,
            Some(&timings),
            election_defaults,
            &format!("{prefix}.leaderElection"),
        )?;
        if let Some(lease) = &e.lease_name {
            if !super::is_dns_subdomain(&lease.value) {
                return Err(ctx.error(
                    &lease.referenced,
                    format!("{prefix}.leaderElection.leaseName"),
                    format!(
                        "`{}` is not a valid Lease name; expected a DNS subdomain, like {}",
                        lease.value, name.value
                    ),
                ));
            }
            manager.leader_election.lease_name = lease.value.clone();
        }
    }

    let mut controllers = Vec::new();
    let mut watched: Vec<Gvk> = Vec::new();
    if let Some(watches) = &c.watches {
        let field = format!("{prefix}.watches");
        ctx.items_in(watches, &field, "watched kinds", bounds::COMPONENT_KINDS)?;
        for (j, watch) in watches.value.iter().enumerate() {
            let w = &watch.value;
            let kind = w.kind.as_ref().ok_or_else(|| {
                ctx.missing(
                    &watch.referenced,
                    &format!("{field}[{j}].kind"),
                    crate::file::KIND_ACCEPTED,
                )
            })?;
            let kind = kind.value.0.clone();
            let timeout = ctx.duration_in(
                &w.cache_sync_timeout,
                base.cache_sync_timeout,
                &format!("{field}[{j}].cacheSyncTimeout"),
                bounds::TIMEOUT,
            )?;
            let on_sync_timeout = match w.on_timeout {
                None | Some(file::OnTimeout::Exit) => OnSyncTimeout::Exit,
                Some(file::OnTimeout::KeepWaiting) => OnSyncTimeout::KeepWaiting,
            };
            controllers.push(ControllerConfig {
                name: format!("{}-{}", kind.kind.to_lowercase(), j),
                leader_only: true,
                watches: vec![kind.clone()],
                reads: Vec::new(),
                sync_period: READER_SYNC_PERIOD,
                cache_sync_timeout: Some(timeout),
                on_sync_timeout,
                ..ControllerConfig::garbage_collector(&[])
            });
            watched.push(kind);
        }
    }
    // Checked whether or not the component reads anything.
    let sync_period = ctx.duration_in(
        &c.sync_period,
        READER_SYNC_PERIOD,
        &format!("{prefix}.syncPeriod"),
        bounds::SYNC_PERIOD,
    )?;
    if let Some(reads) = &c.reads {
        let field = format!("{prefix}.reads");
        ctx.items_in(reads, &field, "read kinds", bounds::COMPONENT_KINDS)?;
        let mut kinds = Vec::new();
        for (j, read) in reads.value.iter().enumerate() {
            let r = &read.value;
            let kind = r.kind.as_ref().ok_or_else(|| {
                ctx.missing(
                    &read.referenced,
                    &format!("{field}[{j}].kind"),
                    crate::file::KIND_ACCEPTED,
                )
            })?;
            kinds.push(KindRead {
                kind: kind.value.0.clone(),
                tolerate_no_match: r.tolerate_no_match.unwrap_or(false),
                cached: r.cached.unwrap_or(true),
            });
        }
        if !kinds.is_empty() {
            controllers.push(ControllerConfig {
                name: "reader".to_string(),
                leader_only: true,
                watches: Vec::new(),
                reads: kinds,
                sync_period,
                ..ControllerConfig::garbage_collector(&[])
            });
        }
    }
    manager.controllers = controllers;
    let coverage = |given: Option<file::Coverage>| match given {
        None | Some(file::Coverage::All) => InformerCoverage::All,
        Some(file::Coverage::Watched) => InformerCoverage::Kinds(watched.clone()),
        Some(file::Coverage::None) => InformerCoverage::None,
    };
    let health = c.health.as_ref().map(|h| &h.value);
    manager.readyz_informers = coverage(health.and_then(|h| h.readyz));
    manager.healthz_informers = coverage(health.and_then(|h| h.healthz));
    Ok(ComponentConfig {
        name: name.value.clone(),
        replicas,
        process: ComponentProcess::Manager(manager),
        liveness,
        readiness,
    })
}

/// What `program:` accepts, for errors.
const PROGRAM_ACCEPTED: &str =
    "a program's name, of lower-case letters, digits and `-`, like widget-controller";

/// The program a component names, its code not bound yet; every field
/// that describes a manager's process is refused beside it.
fn program_of(
    ctx: &Ctx<'_>,
    prefix: &str,
    c: &file::Component,
    program: &S<String>,
) -> Result<Program> {
    if !is_dns_label(&program.value) {
        return Err(ctx.error(
            &program.referenced,
            format!("{prefix}.program"),
            format!(
                "`{}` is not a valid program name; expected {PROGRAM_ACCEPTED}",
                program.value
            ),
        ));
    }
    let beside: [(&str, Option<&Location>); 8] = [
        ("discovery", c.discovery.as_ref().map(|f| &f.referenced)),
        (
            "leaderElection",
            c.leader_election.as_ref().map(|f| &f.referenced),
        ),
        (
            "webhookServer",
            c.webhook_server.as_ref().map(|f| &f.referenced),
        ),
        (
            "gracefulShutdownTimeout",
            c.graceful_shutdown_timeout.as_ref().map(|f| &f.referenced),
        ),
        ("watches", c.watches.as_ref().map(|f| &f.referenced)),
        ("reads", c.reads.as_ref().map(|f| &f.referenced)),
        ("syncPeriod", c.sync_period.as_ref().map(|f| &f.referenced)),
        ("health", c.health.as_ref().map(|f| &f.referenced)),
    ];
    if let Some((field, location)) = beside
        .iter()
        .find_map(|(field, location)| location.map(|l| (field, l)))
    {
        return Err(ctx.error(
            location,
            format!("{prefix}.{field}"),
            format!(
                "`{field}` describes a manager's process, and this component runs the program `{}`; \
                 expected either `program` or the manager's fields, not both",
                program.value
            ),
        ));
    }
    Ok(Program::unbound(program.value.clone()))
}

/// A program's probes that go to the harness's probe endpoint (no
/// `httpGet`) take its port: an `httpGet` of the other probe may not.
fn probe_ports_apart(
    ctx: &Ctx<'_>,
    prefix: &str,
    probes: Option<&file::Probes>,
    liveness: &ProbeConfig,
    readiness: &ProbeConfig,
) -> Result<()> {
    let harness_port = [liveness, readiness].iter().any(|p| p.http_get.is_none());
    for (name, probe, written) in [
        (
            "liveness",
            liveness,
            probes.and_then(|p| p.liveness.as_ref()),
        ),
        (
            "readiness",
            readiness,
            probes.and_then(|p| p.readiness.as_ref()),
        ),
    ] {
        let (Some(get), Some(written)) =
            (&probe.http_get, written.and_then(|w| w.http_get.as_ref()))
        else {
            continue;
        };
        if harness_port && get.port == HEALTH_PROBE_PORT {
            return Err(ctx.error(
                &written.referenced,
                format!("{prefix}.probes.{name}.httpGet.port"),
                format!(
                    "port {HEALTH_PROBE_PORT} serves the program's health functions, which the other \
                     probe (without `httpGet`) asks; expected another port, or `httpGet` on both probes"
                ),
            ));
        }
    }
    Ok(())
}

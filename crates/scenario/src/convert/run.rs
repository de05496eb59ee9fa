//! What happens during a run: the deletion flow, the faults, and what the run must come to.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_saphyr::Location;
use stallsim_apiserver::CrdSpec;
use stallsim_harness::{DeletionFlowConfig, Fault as WorldFault, FaultAction};

use super::{quoted, Ctx, Result};
use crate::bounds;
use crate::duration::TIMING_ACCEPTED;
use crate::expect::{ApiRequestBounds, Expect, ExpectedVerdict};
use crate::file::{self, Tim, S};
use crate::ScenarioError;

pub(super) fn deletion_flow(
    ctx: &Ctx<'_>,
    flow: &S<file::DeletionFlow>,
    crds: &[CrdSpec],
    components: &[String],
) -> Result<DeletionFlowConfig> {
    const FIELD: &str = "spec.deletionFlow";
    let f = &flow.value;
    let delete_at = f.delete_at.as_ref().ok_or_else(|| {
        ctx.missing(
            &flow.referenced,
            &format!("{FIELD}.deleteAt"),
            &format!("{TIMING_ACCEPTED}: when the flow deletes the CRDs"),
        )
    })?;
    let delete_at = ctx.time(delete_at, &format!("{FIELD}.deleteAt"));
    let served: Vec<String> = crds.iter().map(CrdSpec::name).collect();
    let names = match &f.crds {
        None => served.clone(),
        Some(names) => {
            let mut out: Vec<String> = Vec::new();
            for (i, name) in names.iter().enumerate() {
                let field = format!("{FIELD}.crds[{i}]");
                if !served.contains(&name.value) {
                    return Err(ctx.error(
                        &name.referenced,
                        field,
                        format!(
                            "`{}` is not a CRD of spec.crds; expected one of {}",
                            name.value,
                            quoted(&served)
                        ),
                    ));
                }
                if out.contains(&name.value) {
                    return Err(ctx.error(
                        &name.referenced,
                        field,
                        format!("`{}` is listed twice; expected each CRD once", name.value),
                    ));
                }
                out.push(name.value.clone());
            }
            out
        }
    };
    let mut wait_for: Vec<String> = Vec::new();
    for (i, name) in f.wait_for.iter().flatten().enumerate() {
        let field = format!("{FIELD}.waitFor[{i}]");
        if !components.contains(&name.value) {
            return Err(ctx.error(
                &name.referenced,
                field,
                format!(
                    "`{}` is not a component of the run; expected one of {}",
                    name.value,
                    quoted(components)
                ),
            ));
        }
        if wait_for.contains(&name.value) {
            return Err(ctx.error(
                &name.referenced,
                field,
                format!(
                    "`{}` is listed twice; expected each component once",
                    name.value
                ),
            ));
        }
        wait_for.push(name.value.clone());
    }
    if f.wait_for.as_ref().is_some_and(|w| w.is_empty()) {
        return Err(ctx.error(
            &flow.referenced,
            format!("{FIELD}.waitFor"),
            format!(
                "an empty list waits for nothing; expected one or more of {}, or no waitFor to wait for all",
                quoted(components)
            ),
        ));
    }
    let defaults = DeletionFlowConfig {
        wait_for,
        ..DeletionFlowConfig::new(delete_at, names)
    };
    Ok(DeletionFlowConfig {
        wait_timeout: ctx.duration_in(
            &f.wait_timeout,
            defaults.wait_timeout,
            &format!("{FIELD}.waitTimeout"),
            bounds::FLOW_WAIT,
        )?,
        poll_interval: ctx.duration_in(
            &f.poll_interval,
            defaults.poll_interval,
            &format!("{FIELD}.pollInterval"),
            bounds::POLL_INTERVAL,
        )?,
        retry_after: ctx.duration_in(
            &f.retry_after,
            defaults.retry_after,
            &format!("{FIELD}.retryAfter"),
            bounds::FLOW_WAIT,
        )?,
        ..defaults
    })
}

pub(super) fn faults(
    ctx: &Ctx<'_>,
    faults: Option<&S<Vec<S<file::Fault>>>>,
    replicas: &BTreeSet<&str>,
) -> Result<Vec<WorldFault>> {
    let Some(list) = faults else {
        return Ok(Vec::new());
    };
    ctx.items_in(list, "spec.faults", "faults", bounds::FAULTS)?;
    let replica_list = quoted(&replicas.iter().collect::<Vec<_>>());
    let mut out = Vec::new();
    for (i, fault) in list.value.iter().enumerate() {
        let field = |name: &str| format!("spec.faults[{i}].{name}");
        let f = &fault.value;
        let at = f.at.as_ref().ok_or_else(|| {
            ctx.missing(
                &fault.referenced,
                &field("at"),
                &format!("{TIMING_ACCEPTED}: when the fault strikes"),
            )
        })?;
        let at = ctx.time(at, &field("at"));
        let actions: Vec<(&str, &S<String>)> = [
            ("kill", &f.kill),
            ("restart", &f.restart),
            ("partition", &f.partition),
            ("nodeLoss", &f.node_loss),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| (name, v)))
        .collect();
        let (action, replica) = match actions.as_slice() {
            [one] => *one,
            [] => {
                return Err(ctx.error(
                    &fault.referenced,
                    format!("spec.faults[{i}]"),
                    "no action; expected one of `kill: <replica>`, `restart: <replica>`, `nodeLoss: <replica>`, `partition: <replica>` (with `for`)",
                ))
            }
            [_, (second, value), ..] => {
                return Err(ctx.error(
                    &value.referenced,
                    field(second),
                    "a fault has one action; expected only one of `kill`, `restart`, `nodeLoss`, `partition`",
                ))
            }
        };
        if !replicas.contains(replica.value.as_str()) {
            return Err(ctx.error(
                &replica.referenced,
                field(action),
                format!(
                    "`{}` is not a replica; expected one of {replica_list}",
                    replica.value
                ),
            ));
        }
        let name = replica.value.clone();
        let only_with = |value: &Tim, name: &str, action: &str| match value {
            Some(extra) => Err(ctx.error(
                &extra.referenced,
                field(name),
                format!("`{name}` belongs to a {action} fault; expected it only with `{action}`"),
            )),
            None => Ok(()),
        };
        if action != "partition" {
            only_with(&f.for_, "for", "partition")?;
        }
        if action != "kill" {
            only_with(&f.down, "down", "kill")?;
        }
        let action = match action {
            "kill" => {
                if let Some(down) = &f.down {
                    ctx.timing_in(down, &field("down"), bounds::DELAY)?;
                }
                FaultAction::Kill {
                    replica: name,
                    down: ctx.time_or(&f.down, Duration::ZERO, &field("down")),
                }
            }
            "restart" => FaultAction::Restart { replica: name },
            "nodeLoss" => FaultAction::NodeLoss { replica: name },
            _ => {
                let duration = f.for_.as_ref().ok_or_else(|| {
                    ctx.missing(
                        &fault.referenced,
                        &field("for"),
                        &format!("{TIMING_ACCEPTED}: how long the partition lasts"),
                    )
                })?;
                ctx.timing_in(duration, &field("for"), bounds::PARTITION)?;
                FaultAction::Partition {
                    replica: name,
                    duration: ctx.time(duration, &field("for")),
                }
            }
        };
        out.push(WorldFault { at, action });
    }
    Ok(out)
}

/// The expectation, checked; a missing one is not an error of the file
/// (`run` needs none) but the error `test` reports, as the inner `Err`.
pub(super) fn expect(
    ctx: &Ctx<'_>,
    spec: &Location,
    expect: Option<&S<file::Expect>>,
    replicas: &BTreeSet<&str>,
    has_flow: bool,
) -> Result<std::result::Result<Expect, ScenarioError>> {
    const VERDICT_ACCEPTED: &str = "`stall`, `converges` or `restart-loop`";
    let Some(expect) = expect else {
        return Ok(Err(ctx.missing(
            spec,
            "spec.expect",
            &format!(
                "`expect: {{verdict: ...}}` with verdict {VERDICT_ACCEPTED}, which `stallsim test` checks"
            ),
        )));
    };
    let e = &expect.value;
    let verdict = e
        .verdict
        .as_ref()
        .ok_or_else(|| ctx.missing(&expect.referenced, "spec.expect.verdict", VERDICT_ACCEPTED))?;
    let verdict = match verdict.value {
        file::Verdict::Stall => ExpectedVerdict::Stall,
        file::Verdict::Converges => ExpectedVerdict::Converges,
        file::Verdict::RestartLoop => ExpectedVerdict::RestartLoop,
    };
    if let Some(r) = &e.stalled_replica {
        if verdict == ExpectedVerdict::Converges {
            return Err(ctx.error(
                &r.referenced,
                "spec.expect.stalledReplica",
                "a stalled replica with verdict `converges`; expected it only with `verdict: stall` \
                 (or `restart-loop`, for the replica that loops)",
            ));
        }
        if !replicas.contains(r.value.as_str()) {
            return Err(ctx.error(
                &r.referenced,
                "spec.expect.stalledReplica",
                format!(
                    "`{}` is not a replica; expected one of {}",
                    r.value,
                    quoted(&replicas.iter().collect::<Vec<_>>())
                ),
            ));
        }
    }
    if let Some(ready) = &e.deployment_ready_within_flow_timeout {
        if !has_flow {
            return Err(ctx.error(
                &ready.referenced,
                "spec.expect.deploymentReadyWithinFlowTimeout",
                "there is no deletion flow to time; expected it only with a `spec.deletionFlow`",
            ));
        }
    }
    let api_requests = match &e.api_requests {
        None => None,
        Some(requests) => {
            let b = &requests.value;
            let value = |given: &Option<S<u64>>, name: &str| -> Result<Option<u64>> {
                let field = format!("spec.expect.apiRequests.{name}");
                given
                    .as_ref()
                    .map(|_| ctx.count_in(given, 0, &field, bounds::REQUESTS_PER_MINUTE))
                    .transpose()
            };
            let bounds_read = ApiRequestBounds {
                list_per_minute_max: value(&b.list_per_minute_max, "listPerMinuteMax")?,
                watch_per_minute_max: value(&b.watch_per_minute_max, "watchPerMinuteMax")?,
                lease_per_minute_max: value(&b.lease_per_minute_max, "leasePerMinuteMax")?,
            };
            if bounds_read.is_empty() {
                return Err(ctx.error(
                    &requests.referenced,
                    "spec.expect.apiRequests",
                    "no bound given; expected at least one of listPerMinuteMax, \
                     watchPerMinuteMax, leasePerMinuteMax",
                ));
            }
            Some(bounds_read)
        }
    };
    Ok(Ok(Expect {
        verdict,
        api_requests,
        stalled_replica: e.stalled_replica.as_ref().map(|r| r.value.clone()),
        deployment_ready_within_flow_timeout: e
            .deployment_ready_within_flow_timeout
            .as_ref()
            .map(|r| r.value),
        alerts: Vec::new(),
    }))
}

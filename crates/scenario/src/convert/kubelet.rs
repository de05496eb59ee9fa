//! The kubelet section: probes, crash-loop backoff, grace period.

use stallsim_harness::{CrashLoopConfig, HttpGet, KubeletConfig, ProbeConfig};

use super::{Ctx, Result};
use crate::bounds;
use crate::file;

pub(super) fn kubelet(ctx: &Ctx<'_>, kubelet: Option<&file::Kubelet>) -> Result<KubeletConfig> {
    let defaults = KubeletConfig::default();
    // Converted when absent too, so that a value chosen for a field applies.
    let absent = file::Kubelet::default();
    let k = kubelet.unwrap_or(&absent);
    Ok(KubeletConfig {
        liveness: probe(
            ctx,
            k.liveness.as_ref(),
            defaults.liveness,
            "spec.kubelet.liveness",
            false,
        )?,
        readiness: probe(
            ctx,
            k.readiness.as_ref(),
            defaults.readiness,
            "spec.kubelet.readiness",
            false,
        )?,
        crash_loop: crash_loop(ctx, k.crash_loop_back_off.as_ref(), defaults.crash_loop)?,
        termination_grace_period: ctx.duration_in(
            &k.termination_grace_period,
            defaults.termination_grace_period,
            "spec.kubelet.terminationGracePeriod",
            bounds::DELAY,
        )?,
        pleg_relist_period: ctx.duration_in(
            &k.pleg_relist_period,
            defaults.pleg_relist_period,
            "spec.kubelet.plegRelistPeriod",
            bounds::TIMEOUT,
        )?,
        container_start: ctx.duration_in(
            &k.container_start,
            defaults.container_start,
            "spec.kubelet.containerStart",
            bounds::DELAY,
        )?,
        process_start: ctx.duration_in(
            &k.process_start,
            defaults.process_start,
            "spec.kubelet.processStart",
            bounds::DELAY,
        )?,
    })
}

pub(super) fn probe(
    ctx: &Ctx<'_>,
    probe: Option<&file::Probe>,
    defaults: ProbeConfig,
    field: &str,
    program: bool,
) -> Result<ProbeConfig> {
    let Some(p) = probe else { return Ok(defaults) };
    let http_get = match &p.http_get {
        None => None,
        Some(get) => Some(http_get(ctx, get, &format!("{field}.httpGet"), program)?),
    };
    let failure_threshold = ctx.count_in(
        &p.failure_threshold,
        u64::from(defaults.failure_threshold),
        &format!("{field}.failureThreshold"),
        bounds::FAILURE_THRESHOLD,
    )?;
    Ok(ProbeConfig {
        initial_delay: ctx.duration_in(
            &p.initial_delay,
            defaults.initial_delay,
            &format!("{field}.initialDelay"),
            bounds::DELAY,
        )?,
        period: ctx.duration_in(
            &p.period,
            defaults.period,
            &format!("{field}.period"),
            bounds::PROBE_PERIOD,
        )?,
        timeout: ctx.duration_in(
            &p.timeout,
            defaults.timeout,
            &format!("{field}.timeout"),
            bounds::PROBE_TIMEOUT,
        )?,
        failure_threshold: u32::try_from(failure_threshold).expect("the bound fits a u32"),
        http_get,
    })
}

/// A probe's `httpGet`, on a program's pods only: the resource manager and
/// the manager-style components answer on the harness's probe endpoint.
fn http_get(
    ctx: &Ctx<'_>,
    get: &file::S<file::HttpGet>,
    field: &str,
    program: bool,
) -> Result<HttpGet> {
    let port = get.value.port.as_ref().ok_or_else(|| {
        ctx.missing(
            &get.referenced,
            &format!("{field}.port"),
            "a port, like 8080",
        )
    })?;
    let port = ctx.count_in(
        &Some(port.clone()),
        0,
        &format!("{field}.port"),
        bounds::PORT,
    )?;
    let path = get.value.path.as_ref().ok_or_else(|| {
        ctx.missing(
            &get.referenced,
            &format!("{field}.path"),
            "a path, like /readyz",
        )
    })?;
    if !path.value.starts_with('/')
        || path
            .value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ctx.error(
            &path.referenced,
            format!("{field}.path"),
            format!(
                "`{}` is not a request path; expected a path starting with `/`, like /readyz",
                path.value
            ),
        ));
    }
    if !program {
        return Err(ctx.error(
            &get.referenced,
            field.to_string(),
            "an HTTP probe asks a program's own server; this pod runs a manager, which answers \
             on the harness's probe endpoint; expected `httpGet` only on a component with `program`",
        ));
    }
    Ok(HttpGet {
        path: path.value.clone(),
        port: u16::try_from(port).expect("the bound fits a u16"),
    })
}

fn crash_loop(
    ctx: &Ctx<'_>,
    crash_loop: Option<&file::CrashLoopBackOff>,
    defaults: CrashLoopConfig,
) -> Result<CrashLoopConfig> {
    let Some(c) = crash_loop else {
        return Ok(defaults);
    };
    const FIELD: &str = "spec.kubelet.crashLoopBackOff";
    let (initial, cap) = ctx.initial_and_cap(
        &c.initial,
        &c.cap,
        (defaults.initial, defaults.cap),
        FIELD,
        bounds::CRASH_LOOP_WAIT,
    )?;
    Ok(CrashLoopConfig {
        initial,
        cap,
        reset_after: ctx.duration_in(
            &c.reset_after,
            defaults.reset_after,
            &format!("{FIELD}.resetAfter"),
            bounds::CRASH_LOOP_RESET,
        )?,
    })
}

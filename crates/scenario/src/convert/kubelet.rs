//! The kubelet section: probes, crash-loop backoff, grace period.

use stallsim_harness::{CrashLoopConfig, KubeletConfig, ProbeConfig};

use super::{dur, Ctx, Result};
use crate::file;

pub(super) fn kubelet(ctx: &Ctx<'_>, kubelet: Option<&file::Kubelet>) -> Result<KubeletConfig> {
    let defaults = KubeletConfig::default();
    let Some(k) = kubelet else {
        return Ok(defaults);
    };
    Ok(KubeletConfig {
        liveness: probe(
            ctx,
            k.liveness.as_ref(),
            defaults.liveness,
            "spec.kubelet.liveness",
        )?,
        readiness: probe(
            ctx,
            k.readiness.as_ref(),
            defaults.readiness,
            "spec.kubelet.readiness",
        )?,
        crash_loop: crash_loop(ctx, k.crash_loop_back_off.as_ref(), defaults.crash_loop)?,
        termination_grace_period: dur(
            &k.termination_grace_period,
            defaults.termination_grace_period,
        ),
        pleg_relist_period: ctx.positive(
            &k.pleg_relist_period,
            defaults.pleg_relist_period,
            "spec.kubelet.plegRelistPeriod",
        )?,
        container_start: dur(&k.container_start, defaults.container_start),
        process_start: dur(&k.process_start, defaults.process_start),
    })
}

fn probe(
    ctx: &Ctx<'_>,
    probe: Option<&file::Probe>,
    defaults: ProbeConfig,
    field: &str,
) -> Result<ProbeConfig> {
    let Some(p) = probe else { return Ok(defaults) };
    let failure_threshold = match &p.failure_threshold {
        Some(t) if t.value == 0 => {
            return Err(ctx.error(
                &t.referenced,
                format!("{field}.failureThreshold"),
                "0 is not accepted; expected 1 or more",
            ))
        }
        Some(t) => t.value,
        None => defaults.failure_threshold,
    };
    Ok(ProbeConfig {
        initial_delay: dur(&p.initial_delay, defaults.initial_delay),
        period: ctx.positive(&p.period, defaults.period, &format!("{field}.period"))?,
        timeout: ctx.positive(&p.timeout, defaults.timeout, &format!("{field}.timeout"))?,
        failure_threshold,
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
    let (initial, cap) =
        ctx.initial_and_cap(&c.initial, &c.cap, (defaults.initial, defaults.cap), FIELD)?;
    Ok(CrashLoopConfig {
        initial,
        cap,
        reset_after: ctx.positive(
            &c.reset_after,
            defaults.reset_after,
            &format!("{FIELD}.resetAfter"),
        )?,
    })
}

//! `spec.prometheus`: the simulated Prometheus, its rules checked (each
//! expression parsed and held to the supported PromQL subset), and
//! `spec.expect.alerts` against the rules' names.

use std::collections::BTreeSet;
use std::time::Duration;

use stallsim_harness::{AlertRule, PrometheusConfig};

use super::{quoted, Ctx, Result};
use crate::bounds;
use crate::duration::TIMING_ACCEPTED;
use crate::expect::AlertExpectation;
use crate::file::{self, S};

/// Between two scrapes, and two evaluations, when the file says nothing:
/// 30s, the default prometheus-operator gives a `Prometheus`'s
/// `scrapeInterval` and `evaluationInterval` (`pkg/apis/monitoring/v1/prometheus_types.go`,
/// the `kubebuilder:default` of both), which kube-prometheus and most
/// cluster monitoring stacks run with. Prometheus' own global defaults
/// are 1m (`config/config.go`, `DefaultGlobalConfig`).
pub(crate) const PROMETHEUS_INTERVAL_DEFAULT: Duration = Duration::from_secs(30);

pub(super) fn prometheus(
    ctx: &Ctx<'_>,
    prometheus: Option<&S<file::Prometheus>>,
) -> Result<Option<PrometheusConfig>> {
    const FIELD: &str = "spec.prometheus";
    let Some(p) = prometheus else {
        return Ok(None);
    };
    let scrape_interval = ctx.duration_in(
        &p.value.scrape_interval,
        PROMETHEUS_INTERVAL_DEFAULT,
        &format!("{FIELD}.scrapeInterval"),
        bounds::PROMETHEUS_INTERVAL,
    )?;
    let evaluation_interval = ctx.duration_in(
        &p.value.evaluation_interval,
        PROMETHEUS_INTERVAL_DEFAULT,
        &format!("{FIELD}.evaluationInterval"),
        bounds::PROMETHEUS_INTERVAL,
    )?;
    let mut rules = Vec::new();
    if let Some(list) = &p.value.rules {
        ctx.items_in(
            list,
            &format!("{FIELD}.rules"),
            "rules",
            bounds::ALERT_RULES,
        )?;
        for (i, rule) in list.value.iter().enumerate() {
            let field = |name: &str| format!("{FIELD}.rules[{i}].{name}");
            let r = &rule.value;
            let alert = r.alert.as_ref().ok_or_else(|| {
                ctx.missing(&rule.referenced, &field("alert"), "the alert's name")
            })?;
            if alert.value.is_empty()
                || !alert
                    .value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            {
                return Err(ctx.error(
                    &alert.referenced,
                    field("alert"),
                    format!(
                        "`{}` is not an alert name; expected letters, digits, `_` and `:`",
                        alert.value
                    ),
                ));
            }
            if rules.iter().any(|r: &AlertRule| r.alert == alert.value) {
                return Err(ctx.error(
                    &alert.referenced,
                    field("alert"),
                    format!(
                        "`{}` names two rules; expected each alert once",
                        alert.value
                    ),
                ));
            }
            let expr = r.expr.as_ref().ok_or_else(|| {
                ctx.missing(
                    &rule.referenced,
                    &field("expr"),
                    "a PromQL expression (docs/alerts.md)",
                )
            })?;
            let for_ = ctx.duration_in(&r.for_, Duration::ZERO, &field("for"), bounds::DELAY)?;
            let written = AlertRule {
                alert: alert.value.clone(),
                expr: expr.value.clone(),
                for_,
                labels: r.labels.clone().unwrap_or_default(),
                annotations: r.annotations.clone().unwrap_or_default(),
            };
            if let Err(error) = written.compile() {
                return Err(ctx.error(
                    &expr.referenced,
                    field("expr"),
                    format!(
                        "{error}; expected a PromQL expression of the supported subset (docs/alerts.md)"
                    ),
                ));
            }
            rules.push(written);
        }
    }
    Ok(Some(PrometheusConfig {
        scrape_interval,
        evaluation_interval,
        rules,
    }))
}

/// `spec.expect.alerts`: each names a rule of `spec.prometheus.rules`.
pub(super) fn expect_alerts(
    ctx: &Ctx<'_>,
    alerts: Option<&S<Vec<S<file::AlertExpect>>>>,
    prometheus: Option<&PrometheusConfig>,
) -> Result<Vec<AlertExpectation>> {
    let Some(list) = alerts else {
        return Ok(Vec::new());
    };
    let names: BTreeSet<&str> = prometheus
        .iter()
        .flat_map(|p| p.rules.iter().map(|r| r.alert.as_str()))
        .collect();
    let known = |name: &S<String>, field: String| {
        if names.contains(name.value.as_str()) {
            Ok(())
        } else if names.is_empty() {
            Err(ctx.error(
                &name.referenced,
                field,
                "no alerting rule to bound; expected `spec.prometheus.rules` to name it",
            ))
        } else {
            Err(ctx.error(
                &name.referenced,
                field,
                format!(
                    "`{}` is not an alert of spec.prometheus.rules; expected one of {}",
                    name.value,
                    quoted(&names.iter().collect::<Vec<_>>())
                ),
            ))
        }
    };
    let mut out = Vec::new();
    for (i, item) in list.value.iter().enumerate() {
        let field = format!("spec.expect.alerts[{i}]");
        match (&item.value.fires, &item.value.silent) {
            (Some(fires), None) => {
                let name = fires.value.name.as_ref().ok_or_else(|| {
                    ctx.missing(
                        &fires.referenced,
                        &format!("{field}.fires.name"),
                        "the alert's name",
                    )
                })?;
                known(name, format!("{field}.fires.name"))?;
                if fires.value.within.is_none() {
                    return Err(ctx.missing(
                        &fires.referenced,
                        &format!("{field}.fires.within"),
                        &format!("{TIMING_ACCEPTED}: the latest it may fire after the stall or restart loop began"),
                    ));
                }
                let within = ctx.duration_in(
                    &fires.value.within,
                    Duration::ZERO,
                    &format!("{field}.fires.within"),
                    bounds::DELAY,
                )?;
                out.push(AlertExpectation::Fires {
                    name: name.value.clone(),
                    within,
                });
            }
            (None, Some(name)) => {
                known(name, format!("{field}.silent"))?;
                out.push(AlertExpectation::Silent {
                    name: name.value.clone(),
                });
            }
            _ => {
                return Err(ctx.error(
                    &item.referenced,
                    field,
                    "expected exactly one of `fires: {name, within}` and `silent: <name>`",
                ))
            }
        }
    }
    Ok(out)
}

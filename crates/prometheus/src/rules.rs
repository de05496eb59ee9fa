//! Alerting rules in Prometheus' shape, and their evaluation over time
//! with Prometheus' pending/firing semantics (`rules/alerting.go`,
//! `AlertingRule.Eval`, v3.x): an expression's result series becomes a
//! pending alert at the first evaluation that returns it, fires at the
//! first evaluation at least `for` after that, and is dropped (pending) or
//! resolved (firing) at the first evaluation that no longer returns it.

use std::collections::BTreeMap;
use std::fmt;

use promql_parser::parser::value::ValueType;
use promql_parser::parser::Expr;
use serde::Serialize;

use crate::eval::{check_supported, evaluate, Evaluated};
use crate::index::SeriesIndex;
use crate::labels::Labels;
use crate::store::SeriesStore;

/// One alerting rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `alert`: the alert's name.
    pub alert: String,
    /// `expr`, as written.
    pub expr: String,
    parsed: Expr,
    /// `for`, in milliseconds: how long the expression must hold before
    /// the alert fires.
    pub for_ms: i64,
    /// `labels` added to each alert.
    pub labels: BTreeMap<String, String>,
    /// `annotations`, kept for the report.
    pub annotations: BTreeMap<String, String>,
}

/// A rule that cannot be evaluated: its expression does not parse, or
/// uses what this evaluator does not implement, or is not a vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

impl Rule {
    /// Parses and checks a rule.
    pub fn new(
        alert: &str,
        expr: &str,
        for_ms: i64,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    ) -> Result<Self, RuleError> {
        let parsed = promql_parser::parser::parse(expr).map_err(|e| RuleError {
            message: format!("PromQL does not parse: {}", e.trim()),
        })?;
        check_supported(&parsed).map_err(|message| RuleError { message })?;
        if parsed.value_type() != ValueType::Vector {
            return Err(RuleError {
                message: format!(
                    "an alert's expression must be an instant vector, this one is a {}",
                    parsed.value_type()
                ),
            });
        }
        Ok(Rule {
            alert: alert.to_string(),
            expr: expr.to_string(),
            parsed,
            for_ms,
            labels,
            annotations,
        })
    }
}

/// What became of one rule over a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertOutcome {
    /// The rule's alert name.
    pub alert: String,
    /// The first evaluation at which an alert of the rule was pending
    /// (milliseconds since the run's start).
    pub pending_at_ms: Option<i64>,
    /// The first evaluation at which one fired.
    pub firing_at_ms: Option<i64>,
    /// The labels of the first alert that fired (else of the first that
    /// went pending), `alertname` and the rule's labels among them.
    pub labels: Labels,
    /// The first evaluation error, if any (Prometheus logs it and goes on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Copy)]
struct Active {
    since_ms: i64,
    firing: bool,
}

/// Evaluates every rule at each time of `evaluations` (ascending,
/// milliseconds since the start) over `store`, each seeing the samples
/// stamped at or before it.
pub fn evaluate_rules(
    rules: &[Rule],
    store: &SeriesStore,
    evaluations: &[i64],
) -> Vec<AlertOutcome> {
    let index = SeriesIndex::new(store);
    rules
        .iter()
        .map(|rule| {
            let mut outcome = AlertOutcome {
                alert: rule.alert.clone(),
                pending_at_ms: None,
                firing_at_ms: None,
                labels: Labels::new(),
                error: None,
            };
            let mut active: BTreeMap<Labels, Active> = BTreeMap::new();
            for &t_ms in evaluations {
                let result = match evaluate(&rule.parsed, &index, t_ms) {
                    Ok(Evaluated::Vector(v)) => v,
                    Ok(_) => Vec::new(),
                    Err(error) => {
                        outcome.error.get_or_insert(format!("at {t_ms}ms: {error}"));
                        continue;
                    }
                };
                let mut now: BTreeMap<Labels, Active> = BTreeMap::new();
                for (labels, _) in result {
                    let mut labels = labels.without_name().to_labels();
                    labels.extend(rule.labels.clone());
                    labels.insert("alertname".to_string(), rule.alert.clone());
                    let mut alert = active.get(&labels).copied().unwrap_or(Active {
                        since_ms: t_ms,
                        firing: false,
                    });
                    if outcome.pending_at_ms.is_none() {
                        outcome.pending_at_ms = Some(t_ms);
                        outcome.labels = labels.clone();
                    }
                    if !alert.firing && t_ms - alert.since_ms >= rule.for_ms {
                        alert.firing = true;
                        if outcome.firing_at_ms.is_none() {
                            outcome.firing_at_ms = Some(t_ms);
                            outcome.labels = labels.clone();
                        }
                    }
                    now.insert(labels, alert);
                }
                active = now;
            }
            outcome
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{evaluate_instant, Value};
    use crate::labels::labels_of;

    fn target() -> Labels {
        labels_of(&[("job", "j"), ("instance", "i")])
    }

    #[test]
    fn pending_then_firing_after_for() {
        let mut store = SeriesStore::new();
        for (t, v) in [
            (0, 0.0),
            (30_000, 1.0),
            (60_000, 1.0),
            (90_000, 1.0),
            (120_000, 1.0),
        ] {
            let text = format!("# TYPE g gauge\ng {v}\n");
            store.ingest_exposition(&target(), t, Some(&text));
        }
        let rule = Rule::new("G", "g > 0", 60_000, BTreeMap::new(), BTreeMap::new()).unwrap();
        let evals: Vec<i64> = (0..5).map(|i| i * 30_000).collect();
        let outcome = &evaluate_rules(&[rule], &store, &evals)[0];
        assert_eq!(outcome.pending_at_ms, Some(30_000));
        assert_eq!(outcome.firing_at_ms, Some(90_000));
        assert_eq!(outcome.labels["alertname"], "G");
    }

    #[test]
    fn a_target_down_makes_its_series_stale() {
        let mut store = SeriesStore::new();
        store.ingest_exposition(&target(), 0, Some("# TYPE g gauge\ng 1\n"));
        store.ingest_exposition(&target(), 30_000, None);
        let rule = Rule::new("G", "g > 0", 0, BTreeMap::new(), BTreeMap::new()).unwrap();
        let outcome = &evaluate_rules(&[rule], &store, &[0, 30_000])[0];
        assert_eq!(outcome.firing_at_ms, Some(0));
        let down = Rule::new("Down", "up == 0", 0, BTreeMap::new(), BTreeMap::new()).unwrap();
        let outcome = &evaluate_rules(&[down], &store, &[0, 30_000])[0];
        assert_eq!(outcome.firing_at_ms, Some(30_000));
    }

    #[test]
    fn increase_extrapolates_as_prometheus_does() {
        let mut store = SeriesStore::new();
        for (t, v) in [(0, 0.0), (30_000, 1.0), (60_000, 2.0)] {
            let text = format!("# TYPE c counter\nc_total {v}\n");
            store.ingest_exposition(&target(), t, Some(&text));
        }
        let expr = promql_parser::parser::parse("increase(c_total[2m])").unwrap();
        let Value::Vector(v) = evaluate_instant(&expr, &store, 60_000).unwrap() else {
            panic!("a vector")
        };
        // Two increments over 60s of samples; the start extrapolates to
        // zero (the counter began at 0), the end is at the last sample.
        assert_eq!(v[0].1, 2.0);
    }

    #[test]
    fn unsupported_and_malformed_are_refused_by_name() {
        let refuse = |expr: &str| {
            Rule::new("A", expr, 0, BTreeMap::new(), BTreeMap::new())
                .unwrap_err()
                .message
        };
        assert!(refuse("histogram_quantile(0.9, x)").contains("histogram_quantile"));
        assert!(refuse("x offset 5m").contains("offset"));
        assert!(refuse("sum(rate(x[5m])").contains("does not parse"));
        assert!(refuse("1 + 1").contains("instant vector"));
        assert!(refuse("topk(3, x)").contains("topk"));
    }
}
